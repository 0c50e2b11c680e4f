/* SPDX-License-Identifier: MIT */
/*
 * test_reader_no_args.c - TTLOG_READER_NO_ARGS: the same events as a full
 * read, without their arguments and fields.
 *
 * The library writes a snapshot of two threads whose events sit inside
 * nested spans and contexts, in a ring small enough to be overwritten (so
 * that the file has the re-stated scopes a segment starts with). Every
 * read with the flag (lazy, eager, on several threads, with a range and
 * levels) is compared event by event with a read without it: the same
 * time, site, thread, kind, span, depth and flags, in the same order, but
 * no arguments and no fields. A cut file gives the same events and the same
 * problem either way; flags the reader does not know, and a store asked
 * for the flag, are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define EVENTS 30000

static char snap[4096];

static void log_history(void)
{
	TTLOG_SPAN_BEGIN("outer");
	for (int i = 0; i < EVENTS; i++) {
		if (i % 40 == 0)
			TTLOG_CONTEXT_PUSH("batch", i / 40);
		if (i % 40 == 10)
			TTLOG_SPAN_BEGIN("inner");
		if (i % 13 == 0)
			TTLOG_WARN("slow event i=%d pad=%s", i, "abcdefghijklmnop");
		else
			TTLOG_INFO("event i=%d pad=%s", i, "abcdefghijklmnop");
		if (i % 40 == 30)
			TTLOG_SPAN_END();
		if (i % 40 == 39)
			ttlog_context_pop();
	}
	TTLOG_SPAN_END();
}

static void *history_thread(void *arg)
{
	(void)arg;
	log_history();
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 256u << 10; /* overwritten: the oldest scopes are re-stated */
	if (tu_start(&cfg) != 0)
		return -1;
	pthread_t th;
	if (pthread_create(&th, NULL, history_thread, NULL) != 0)
		return -1;
	log_history();
	pthread_join(th, NULL);
	return ttlog_snapshot_path("noargs", snap, sizeof snap) == TTLOG_OK ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(snap);
	return tu_stop(state);
}

/* Reads path with and without the flag (flags added to both, the range
 * set on both) and compares; returns the number of events. */
static size_t compare_reads(const char *path, unsigned flags, int64_t since, int64_t until,
			    unsigned levels, int want_status)
{
	ttlog_reader *full = NULL, *bare = NULL;
	assert_int_equal(ttlog_reader_open_ex(path, flags, &full), want_status);
	assert_int_equal(ttlog_reader_open_ex(path, flags | TTLOG_READER_NO_ARGS, &bare),
			 want_status);
	assert_non_null(full);
	assert_non_null(bare);
	ttlog_reader_set_range(full, since, until, levels);
	ttlog_reader_set_range(bare, since, until, levels);
	ttlog_reader_rewind(full);
	ttlog_reader_rewind(bare);
	struct ttlog_event a, b;
	size_t n = 0, spans = 0, with_args = 0, with_fields = 0;
	for (;;) {
		int more = ttlog_reader_next(full, &a);
		assert_int_equal(ttlog_reader_next(bare, &b), more);
		if (!more)
			break;
		n++;
		assert_int_equal(b.time_ns, a.time_ns);
		assert_int_equal(b.ticks, a.ticks);
		assert_int_equal(b.site->id, a.site->id);
		assert_int_equal(b.thread->tid, a.thread->tid);
		assert_int_equal(b.kind, a.kind);
		assert_int_equal(b.depth, a.depth);
		assert_int_equal(b.flags, a.flags);
		assert_int_equal(b.size, a.size);
		assert_int_equal(b.span != NULL, a.span != NULL);
		if (a.span) {
			spans++;
			assert_int_equal(b.span->id, a.span->id);
			assert_string_equal(b.span->name, a.span->name);
			assert_int_equal(b.span->site != NULL, a.span->site != NULL);
			if (a.span->site)
				assert_int_equal(b.span->site->id, a.span->site->id);
		}
		assert_int_equal(b.nargs, 0);
		assert_int_equal(b.nfields, 0);
		with_args += a.nargs > 0;
		with_fields += a.nfields > 0;
	}
	assert_int_equal(ttlog_reader_status(bare), ttlog_reader_status(full));
	const char *ea = ttlog_reader_error(full), *eb = ttlog_reader_error(bare);
	assert_int_equal(ea != NULL, eb != NULL);
	if (ea)
		assert_string_equal(eb, ea);
	const struct ttlog_reader_counters *ca = ttlog_reader_counters(full);
	const struct ttlog_reader_counters *cb = ttlog_reader_counters(bare);
	assert_int_equal(cb->blocks_decoded, ca->blocks_decoded);
	assert_int_equal(cb->records_decoded, ca->records_decoded);
	if (n > 100) {
		/* The full read had what the bare one left out. */
		assert_true(spans > 0);
		assert_true(with_args > 0);
		assert_true(with_fields > 0);
	}
	ttlog_reader_close(full);
	ttlog_reader_close(bare);
	return n;
}

static void test_same_events(void **state)
{
	(void)state;
	size_t all = compare_reads(snap, TTLOG_READER_LAZY, INT64_MIN, INT64_MAX,
				   TTLOG_READER_ALL_LEVELS, TTLOG_OK);
	assert_true(all > 1000);
	assert_int_equal(compare_reads(snap, 0, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS,
				       TTLOG_OK),
			 all);
	assert_int_equal(compare_reads(snap, TTLOG_READER_JOBS(3), INT64_MIN, INT64_MAX,
				       TTLOG_READER_ALL_LEVELS, TTLOG_OK),
			 all);
	/* The file overwrote its oldest records: scopes were re-stated. */
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_NO_ARGS, &r), TTLOG_OK);
	assert_true(ttlog_reader_info(r)->overwritten > 0);
	ttlog_reader_close(r);
}

/* A range and levels apply as without the flag. */
static void test_range_and_levels(void **state)
{
	(void)state;
	size_t all = compare_reads(snap, TTLOG_READER_LAZY, INT64_MIN, INT64_MAX,
				   TTLOG_READER_ALL_LEVELS, TTLOG_OK);
	/* The times of the events a third and two thirds in. */
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_LAZY, &r), TTLOG_OK);
	struct ttlog_event ev;
	int64_t from = 0, to = 0;
	for (size_t i = 0; ttlog_reader_next(r, &ev); i++) {
		if (i == all / 3)
			from = ev.time_ns;
		if (i == 2 * all / 3)
			to = ev.time_ns;
	}
	ttlog_reader_close(r);
	size_t middle = compare_reads(snap, TTLOG_READER_LAZY, from, to, TTLOG_READER_ALL_LEVELS,
				      TTLOG_OK);
	assert_true(middle > all / 4 && middle < all / 2);
	size_t warn = compare_reads(snap, TTLOG_READER_LAZY, INT64_MIN, INT64_MAX,
				    1u << TTLOG_LEVEL_WARN, TTLOG_OK);
	assert_true(warn > 0 && warn < all);
}

/* A cut file: the same events, the same problem. */
static void test_cut_file(void **state)
{
	(void)state;
	FILE *in = fopen(snap, "rb");
	assert_non_null(in);
	char cut[4200];
	snprintf(cut, sizeof cut, "%s.cut", snap);
	FILE *out = fopen(cut, "wb");
	assert_non_null(out);
	static char buf[1 << 20];
	size_t got = fread(buf, 1, sizeof buf, in);
	assert_true(got > 50000 && got < sizeof buf);
	assert_int_equal(fwrite(buf, 1, got / 2, out), got / 2); /* a block cut */
	fclose(in);
	fclose(out);
	assert_true(compare_reads(cut, TTLOG_READER_LAZY, INT64_MIN, INT64_MAX,
				  TTLOG_READER_ALL_LEVELS, TTLOG_E_TRUNCATED) > 0);
	assert_true(compare_reads(cut, 0, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS,
				  TTLOG_E_TRUNCATED) > 0);
	unlink(cut);
}

static void test_refused(void **state)
{
	(void)state;
	ttlog_reader *r = (ttlog_reader *)1;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_NO_ARGS | 8u, &r),
			 TTLOG_E_INVALID);
	assert_null(r);
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	opt.flags = TTLOG_READER_NO_ARGS;
	const char *paths[] = {snap};
	ttlog_store *s = (ttlog_store *)1;
	assert_int_equal(ttlog_store_open(paths, 1, &opt, &s), TTLOG_E_INVALID);
	assert_null(s);
	opt.flags = TTLOG_READER_LAZY;
	assert_int_equal(ttlog_store_open(paths, 1, &opt, &s), TTLOG_OK);
	ttlog_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_events),
		cmocka_unit_test(test_range_and_levels),
		cmocka_unit_test(test_cut_file),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
