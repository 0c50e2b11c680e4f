/* SPDX-License-Identifier: MIT */
/*
 * test_segment.c - the reader on segment files (docs/FORMAT.md revision 5,
 * section 17): HEAD's service and segment, THRD's and END's stream counts,
 * promoted blocks (PRMT) placed among their thread's events with its
 * contexts, open and torn segments, the index (INDX) of a ranged open, and
 * every damage case. The files come from tests/support/mkseg.py, written
 * from the format document alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reader/reader_internal.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

#define NS0 1767225600000000000LL

static char *dir;

/* Runs mkseg.py with the arguments; the file is DIR/name. */
static const char *mkseg(const char *name, const char *args)
{
	static char path[4096];
	char cmd[8192];
	const char *src = getenv("TTLOG_SRC");
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(cmd, sizeof cmd, "python3 '%s/tests/support/mkseg.py' %s '%s'",
		 src ? src : ".", args, path);
	if (system(cmd) != 0)
		fail_msg("mkseg failed: %s", cmd);
	return path;
}

static ttlog_reader *open_ok(const char *path, int want)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	assert_non_null(r);
	if (rc != want)
		fail_msg("status %d, expected %d: %s", rc, want,
			 ttlog_reader_error(r) ? ttlog_reader_error(r) : "(no message)");
	return r;
}

static size_t count_events(ttlog_reader *r, size_t *promoted)
{
	struct ttlog_event ev;
	size_t n = 0, p = 0;
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, &ev)) {
		n++;
		if (ev.flags & TTLOG_EVENT_PROMOTED)
			p++;
	}
	if (promoted)
		*promoted = p;
	return n;
}

static void test_closed_segment(void **state)
{
	(void)state;
	const char *p = mkseg("closed.ttseg", "seg --promote --contexts --lost 3 --filtered 5 "
					      "--seq 7 --service api --stream-start 123");
	ttlog_reader *r = open_ok(p, TTLOG_OK);
	const struct ttlog_file_info *fi = ttlog_reader_info(r);
	assert_true(fi->is_segment);
	assert_string_equal(fi->service, "api");
	assert_int_equal(fi->segment, 7);
	assert_int_equal(fi->stream_start_ns, 123);
	assert_true(fi->complete);
	assert_false(fi->open);
	assert_int_equal(fi->events, 12); /* 16 records: a context push and pop per thread */
	assert_int_equal(fi->promoted, 4);
	assert_int_equal(fi->stream_lost, 6);
	assert_int_equal(fi->filtered, 10);
	assert_int_equal(ttlog_reader_thread_count(r), 2);
	assert_int_equal(ttlog_reader_thread(r, 0)->stream_lost, 3);
	assert_int_equal(ttlog_reader_thread(r, 1)->filtered, 5);
	assert_int_equal(ttlog_reader_thread(r, 0)->events, 8); /* and a context push and pop */

	/* In time order; the promoted debug events between thread 0's own,
	 * with the context thread 0 had open at their time. */
	struct ttlog_event ev;
	uint64_t last = 0;
	size_t n = 0, promoted = 0, with_ctx = 0;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(ev.ticks >= last);
		last = ev.ticks;
		n++;
		int is_debug = strncmp(ev.site->format, "debug", 5) == 0;
		assert_int_equal(is_debug, (ev.flags & TTLOG_EVENT_PROMOTED) != 0);
		if (!is_debug)
			continue;
		promoted++;
		assert_int_equal(ev.thread->index, 0);
		for (unsigned i = 0; i < ev.nfields; i++)
			if (ev.fields[i].source == TTLOG_FIELD_CONTEXT &&
			    strcmp(ev.fields[i].key, "req") == 0 && ev.fields[i].value->v.u == 77)
				with_ctx++;
	}
	assert_int_equal(n, 12);
	assert_int_equal(promoted, 4);
	/* The last promoted event comes after thread 0 closed its context. */
	assert_int_equal(with_ctx, 3);
	ttlog_reader_close(r);
}

static void test_open_and_torn(void **state)
{
	(void)state;
	const char *p = mkseg("open.ttseg", "seg --promote --open");
	ttlog_reader *r = open_ok(p, TTLOG_OK);
	const struct ttlog_file_info *fi = ttlog_reader_info(r);
	assert_true(fi->open);
	assert_false(fi->complete);
	assert_int_equal(count_events(r, NULL), 12);
	ttlog_reader_close(r);

	/* Every cut of a closed segment opens with no error and with every
	 * complete block. */
	FILE *f = fopen(mkseg("full.ttseg", "seg --promote --per-block 1"), "rb");
	assert_non_null(f);
	static unsigned char buf[1 << 16];
	size_t size = fread(buf, 1, sizeof buf, f);
	fclose(f);
	size_t prev = 0;
	/* From the end of HEAD on: before it, nothing says it is a segment. */
	size_t head_end = 24 + 16 + ((size_t)buf[32] | (size_t)buf[33] << 8);
	for (size_t cut = head_end; cut <= size; cut++) {
		ttlog_reader *c = NULL;
		int rc = ttlog__reader_open_memory(buf, cut, "cut", &c);
		assert_non_null(c);
		if (rc != TTLOG_OK)
			fail_msg("cut at %zu: %s", cut, ttlog_reader_error(c));
		size_t n = count_events(c, NULL);
		assert_true(n >= prev); /* complete blocks only grow */
		prev = n;
		assert_int_equal(ttlog_reader_info(c)->open, cut < size);
		ttlog_reader_close(c);
	}
	assert_int_equal(prev, 12);
}

static void test_snapshot_rev5(void **state)
{
	(void)state;
	ttlog_reader *r = open_ok(mkseg("snap.ttlog", "snap --service web"), TTLOG_OK);
	assert_false(ttlog_reader_info(r)->is_segment);
	assert_string_equal(ttlog_reader_info(r)->service, "web");
	assert_int_equal(ttlog_reader_info(r)->segment, 0);
	ttlog_reader_close(r);
}

static void expect_damage(const char *damage, int status, const char *words, size_t events)
{
	char args[256];
	snprintf(args, sizeof args, "seg --promote --damage %s", damage);
	ttlog_reader *r = open_ok(mkseg("bad.ttseg", args), status);
	const char *msg = ttlog_reader_error(r);
	assert_non_null(msg);
	if (!strstr(msg, words))
		fail_msg("%s: message \"%s\" lacks \"%s\"", damage, msg, words);
	if (events != (size_t)-1)
		assert_int_equal(count_events(r, NULL), events);
	ttlog_reader_close(r);
}

static void test_damage(void **state)
{
	(void)state;
	expect_damage("prmt-thread", TTLOG_E_CORRUPT,
		      "followed by an EVTS chunk of thread 1, found one of thread 0", 12);
	expect_damage("prmt-then-thrd", TTLOG_E_CORRUPT,
		      "followed by an EVTS chunk of thread 0, found PRMT", 8);
	expect_damage("end-promoted", TTLOG_E_CORRUPT, "END promoted count to be 4", 12);
	expect_damage("thrd-partial", TTLOG_E_CORRUPT, "stream_lost and filtered counts", 12);
	expect_damage("thrd-events", TTLOG_E_CORRUPT, "event count of thread 0", 12);
	expect_damage("head-old", TTLOG_E_CORRUPT, "service, segment and stream start", 12);
	expect_damage("crc", TTLOG_E_CORRUPT, "expected chunk CRC", (size_t)-1);
}

/* Each event's thread name is "<prefix><t>" (t its first argument), or ""
 * without a prefix and for thread `nameless`; its tid 1000 + t. Returns
 * the events. */
static size_t check_names(ttlog_reader *r, const char *prefix, int nameless)
{
	struct ttlog_event ev;
	size_t n = 0;
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, &ev)) {
		char want[16] = "";
		unsigned t = (unsigned)ev.args[0].v.u;
		if (prefix && (int)t != nameless)
			snprintf(want, sizeof want, "%s%u", prefix, t);
		assert_non_null(ev.thread);
		assert_string_equal(ev.thread->name, want);
		assert_int_equal(ev.thread->tid, 1000 + t);
		n++;
	}
	return n;
}

static void check_range(const char *path, int64_t since, int64_t until, int want_indexed);

/* Revision 6: TNAM names the threads of a segment that has no THRD (its
 * writer was killed); a THRD has the last word; a damaged TNAM costs its
 * name only. */
static void test_thread_names(void **state)
{
	(void)state;
	ttlog_reader *r = open_ok(mkseg("names-open.ttseg", "seg --open --names"), TTLOG_OK);
	assert_int_equal(check_names(r, "n", -1), 8);
	ttlog_reader_close(r);
	r = open_ok(mkseg("names-closed.ttseg", "seg --names"), TTLOG_OK);
	assert_int_equal(check_names(r, "w", -1), 8);
	ttlog_reader_close(r);
	/* Through the index, which lists the TNAM chunks too. */
	check_range(mkseg("names-indexed.ttseg", "seg --names --per-block 1 --events 8"),
		    NS0 + 1000000 + 8000, NS0 + 1000000 + 12000, 1);
	/* Without them, an open segment's threads have no names. */
	r = open_ok(mkseg("nameless.ttseg", "seg --open"), TTLOG_OK);
	assert_int_equal(check_names(r, NULL, -1), 8);
	ttlog_reader_close(r);
	r = open_ok(mkseg("names-bad.ttseg", "seg --open --names --damage tnam-short"), TTLOG_E_CORRUPT);
	if (!strstr(ttlog_reader_error(r), "thread name string"))
		fail_msg("message \"%s\"", ttlog_reader_error(r));
	assert_int_equal(check_names(r, "n", 0), 8);
	ttlog_reader_close(r);
}

/* Events of a full read within [since, until], against a ranged open. */
static void check_range(const char *path, int64_t since, int64_t until, int want_indexed)
{
	ttlog_reader *all = open_ok(path, TTLOG_OK), *part = NULL;
	assert_int_equal(ttlog_reader_open_range(path, 0, since, until, &part), TTLOG_OK);
	assert_int_equal(ttlog_reader_info(part)->indexed, want_indexed);
	struct ttlog_event a, b;
	size_t n = 0;
	ttlog_reader_set_range(all, since, until, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(all);
	while (ttlog_reader_next(all, &a)) {
		assert_true(ttlog_reader_next(part, &b));
		assert_int_equal(a.ticks, b.ticks);
		assert_int_equal(a.flags, b.flags);
		assert_int_equal(a.nfields, b.nfields);
		n++;
	}
	assert_false(ttlog_reader_next(part, &b));
	assert_true(n > 0);
	if (want_indexed) /* the blocks outside the range were not even read */
		assert_true(ttlog_reader_info(part)->blocks < ttlog_reader_info(all)->blocks);
	ttlog_reader_close(all);
	ttlog_reader_close(part);
}

static void test_index(void **state)
{
	(void)state;
	const char *base = "seg --promote --events 40 --per-block 4";
	/* Ticks run from 1000000 to about 1080000: the middle, then the end. */
	check_range(mkseg("ix.ttseg", base), NS0 + 1030000, NS0 + 1040000, 1);
	check_range(mkseg("ix.ttseg", base), NS0 + 1070000, INT64_MAX, 1);
	check_range(mkseg("ix2.ttseg", "seg --promote --events 40 --per-block 4 --contexts"),
		    NS0 + 1030000, NS0 + 1040000, 1);
	/* An index that points anywhere wrong is not used. */
	check_range(mkseg("ix3.ttseg", "seg --promote --events 40 --per-block 4 "
				       "--damage index-offset"),
		    NS0 + 1030000, NS0 + 1040000, 0);
	check_range(mkseg("ix4.ttseg", "seg --promote --events 40 --per-block 4 "
				       "--damage index-type"),
		    NS0 + 1030000, NS0 + 1040000, 0);
	check_range(mkseg("ix7.ttseg", "seg --promote --events 40 --per-block 4 "
				       "--damage index-ticks"),
		    NS0 + 1030000, NS0 + 1040000, 0);
	check_range(mkseg("ix5.ttseg", "seg --promote --events 40 --per-block 4 --no-index"),
		    NS0 + 1030000, NS0 + 1040000, 0);
	check_range(mkseg("ix6.ttseg", "seg --promote --events 40 --per-block 4 --open"),
		    NS0 + 1030000, NS0 + 1040000, 0);
}

/* Every byte of a small segment flipped: never a crash, every open gives
 * a reader. */
static void test_flips(void **state)
{
	(void)state;
	FILE *f = fopen(mkseg("flip.ttseg", "seg --promote --contexts"), "rb");
	assert_non_null(f);
	static unsigned char buf[1 << 16];
	size_t size = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = 0; i < size; i++) {
		buf[i] ^= 0x55;
		ttlog_reader *r = NULL;
		ttlog__reader_open_memory(buf, size, "flip", &r);
		assert_non_null(r);
		count_events(r, NULL);
		ttlog_reader_close(r);
		buf[i] ^= 0x55;
	}
}

int main(void)
{
	dir = tu_tmpdir("segment");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_segment), cmocka_unit_test(test_open_and_torn),
		cmocka_unit_test(test_snapshot_rev5),  cmocka_unit_test(test_damage),
		cmocka_unit_test(test_index),          cmocka_unit_test(test_flips),
		cmocka_unit_test(test_thread_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
