/* SPDX-License-Identifier: MIT */
/*
 * test_store.c - stores (ttlog_store_*): the segments and snapshots of a
 * directory read as one, in time order; a record in a snapshot and in a
 * segment shown once; the service filter; a time range that leaves files
 * and blocks unread; a damaged file among good ones; and following a
 * growing segment and a rotation. Files come from tests/support/mkseg.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define NS0 1767225600000000000LL
#define SEC 1000000000LL

static void mkseg(const char *dir, const char *name, const char *args)
{
	char cmd[8192];
	const char *src = getenv("TTLOG_SRC");
	snprintf(cmd, sizeof cmd, "python3 '%s/tests/support/mkseg.py' %s '%s/%s'",
		 src ? src : ".", args, dir, name);
	if (system(cmd) != 0)
		fail_msg("mkseg failed: %s", cmd);
}

static ttlog_store *open_dir(const char *dir, const struct ttlog_store_options *o, int want)
{
	ttlog_store *s = NULL;
	int rc = ttlog_store_open(&dir, 1, o, &s);
	assert_non_null(s);
	if (rc != want)
		fail_msg("store status %d, expected %d: %s", rc, want, ttlog_store_error(s));
	return s;
}

/* Events of the store; checks time order. */
static size_t drain(ttlog_store *s, size_t *promoted)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	int64_t last = INT64_MIN;
	size_t n = 0;
	if (promoted)
		*promoted = 0;
	while (ttlog_store_next(s, &ev, &from)) {
		assert_true(ev.time_ns >= last);
		last = ev.time_ns;
		assert_non_null(from->reader);
		n++;
		if (promoted && (ev.flags & TTLOG_EVENT_PROMOTED))
			(*promoted)++;
	}
	return n;
}

static void test_dedup(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-dedup");
	/* Two segments of one stream, and a snapshot of the same process that
	 * holds the last 3 events of each thread of the first segment. */
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg", "seg --promote");
	mkseg(dir, "svc-4242-20260101T000010.000000000Z-000002.ttseg",
	      "seg --seq 2 --base 10000000000");
	mkseg(dir, "ttlog-4242-20260101T000001.000000000Z-manual.ttlog", "snap --skip 1 --promote");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	size_t promoted;
	assert_int_equal(drain(s, &promoted), 12 + 8);
	assert_int_equal(promoted, 4);
	struct ttlog_store_counters c = ttlog_store_counters(s);
	assert_int_equal(c.files, 3);
	assert_int_equal(c.duplicates, 6);
	/* Again, from the start. */
	ttlog_store_rewind(s);
	assert_int_equal(drain(s, NULL), 20);
	ttlog_store_close(s);
	free(dir);
}

/* Records of the same process, thread, time and site whose arguments
 * differ are different records: all are shown. */
static void test_dedup_compares_contents(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-dedup-args");
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg", "seg");
	mkseg(dir, "ttlog-4242-20260101T000001.000000000Z-manual.ttlog", "snap --skip 1");
	mkseg(dir, "ttlog-4242-20260101T000002.000000000Z-other.ttlog", "snap --arg-add 100");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	/* 8 in the segment; the first snapshot's 6 are in it; the second
	 * snapshot's 8 are other records at the same times. */
	assert_int_equal(drain(s, NULL), 8 + 8);
	assert_int_equal(ttlog_store_counters(s).duplicates, 6);
	ttlog_store_close(s);
	free(dir);
}

/* The files of one process take the calibration with the widest span, also
 * when that file is opened after the others (a segment started after the
 * crash snapshot was written): the snapshot's copies of its records then
 * have the same times and are shown once. Here the snapshot's own rate is
 * 1.001 ns a tick, the later segment's exactly 1 over twice the span. */
static void test_later_file_gives_its_clock(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-clock");
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg", "seg");
	mkseg(dir, "ttlog-4242-20260101T000010.000000000Z-SIGSEGV.ttlog",
	      "snap --base 10000000000 --cal-ns 1001000000");
	mkseg(dir, "svc-4242-20260101T000010.000000000Z-000002.ttseg",
	      "seg --seq 2 --base 10000000000 --cal-ticks 2000000000");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 3);
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	size_t n = 0;
	int64_t last = INT64_MIN;
	while (ttlog_store_next(s, &ev, &from)) {
		assert_true(ev.time_ns >= last);
		last = ev.time_ns;
		/* One tick a nanosecond: the segment's clock. */
		assert_true(ev.time_ns == NS0 + (int64_t)ev.ticks);
		n++;
	}
	assert_int_equal(n, 8 + 8);
	assert_int_equal(ttlog_store_counters(s).duplicates, 8);
	ttlog_store_close(s);
	free(dir);
}

/* A process's clock is the widest of all its files in the store, also of
 * those the range leaves unread: an event has the same time whatever range
 * is asked for. Here the first segment's own rate is 1.001 ns a tick and
 * the second's, which a range before it never opens, exactly 1 over twice
 * the span. */
static void test_clock_of_unread_files(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-clock-unread");
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg", "seg --cal-ns 1001000000");
	mkseg(dir, "svc-4242-20260101T000040.000000000Z-000002.ttseg",
	      "seg --seq 2 --base 40000000000 --cal-ticks 2000000000");
	for (int ranged = 0; ranged < 2; ranged++) {
		struct ttlog_store_options o;
		ttlog_store_options_init(&o);
		if (ranged)
			o.until_ns = NS0 + 5 * SEC;
		ttlog_store *s = open_dir(dir, &o, TTLOG_OK);
		struct ttlog_event ev;
		size_t n = 0;
		while (ttlog_store_next(s, &ev, NULL)) {
			if (ev.time_ns != NS0 + (int64_t)ev.ticks)
				fail_msg("range %d: ticks %llu at %lld ns, want the second segment's clock",
					 ranged, (unsigned long long)ev.ticks, (long long)ev.time_ns);
			n++;
		}
		assert_int_equal(n, ranged ? 8 : 16);
		const struct ttlog_store_file *const *files;
		assert_int_equal(ttlog_store_files(s, &files), 2);
		if (ranged) /* never opened, its HEAD read */
			assert_true(files[1]->skipped && !files[1]->reader);
		ttlog_store_close(s);
	}
	free(dir);
}

/* What an event is, to compare two reads of a store. */
struct seen_event {
	int64_t time_ns;
	uint64_t ticks;
	uint32_t pid, tid;
	int64_t a0, a1;
};

static size_t collect(ttlog_store *s, struct seen_event *out, size_t cap)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	size_t n = 0;
	while (ttlog_store_next(s, &ev, &from)) {
		assert_true(n < cap);
		out[n++] = (struct seen_event){
			ev.time_ns,
			ev.ticks,
			ttlog_reader_info(from->reader)->pid,
			ev.thread ? ev.thread->tid : 0,
			ev.nargs > 0 ? ev.args[0].v.i : -1,
			ev.nargs > 1 ? ev.args[1].v.i : -1,
		};
	}
	return n;
}

/* A store cut into parts (ttlog_store_cut_times()), each part read through
 * a store of its own: the parts, one after the other, are the whole store
 * event for event, duplicates left out as there; also with a range. */
static void test_parts(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-parts");
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg",
	      "seg --events 40 --per-block 4 --promote");
	mkseg(dir, "svc-4242-20260101T000010.000000000Z-000002.ttseg",
	      "seg --seq 2 --events 40 --per-block 4 --base 10000000000 --cal-ticks 2000000000");
	mkseg(dir, "ttlog-4242-20260101T000001.000000000Z-manual.ttlog",
	      "snap --events 40 --per-block 4 --skip 30");
	mkseg(dir, "svc-7-20260101T000000.000000000Z-000001.ttseg",
	      "seg --pid 7 --threads 3 --events 30 --per-block 5 --base 500000");
	enum { CAP = 1024 };
	static struct seen_event whole[CAP], parted[CAP];
	for (int ranged = 0; ranged < 2; ranged++) {
		struct ttlog_store_options o;
		ttlog_store_options_init(&o);
		if (ranged) {
			o.since_ns = NS0 + 30000;
			o.until_ns = NS0 + 10 * SEC + 50000;
		}
		ttlog_store *s = open_dir(dir, &o, TTLOG_OK);
		size_t nw = collect(s, whole, CAP);
		uint64_t dups = ttlog_store_counters(s).duplicates;
		assert_true(nw > 0 && dups > 0);
		ttlog_store_close(s);

		s = open_dir(dir, &o, TTLOG_OK);
		int64_t cuts[7];
		size_t m = ttlog_store_cut_times(s, 8, cuts);
		assert_true(m >= 2);
		for (size_t k = 1; k < m; k++)
			assert_true(cuts[k] > cuts[k - 1]);
		/* Every file of the range was opened for the cuts. */
		const struct ttlog_store_file *const *files;
		size_t nf = ttlog_store_files(s, &files);
		assert_int_equal(nf, 4);
		for (size_t i = 0; i < nf; i++)
			assert_true(files[i]->reader || files[i]->skipped);
		size_t np = 0;
		uint64_t pdups = 0;
		for (size_t k = 0; k <= m; k++) {
			ttlog_store *p = NULL;
			int64_t since = k ? cuts[k - 1] : INT64_MIN, until = k < m ? cuts[k] - 1 : INT64_MAX;
			assert_int_equal(ttlog_store_open_part(s, since, until, &p), TTLOG_OK);
			np += collect(p, parted + np, CAP - np);
			pdups += ttlog_store_counters(p).duplicates;
			assert_true(ttlog_store_follow(p, 0) < 0);
			ttlog_store_close(p);
		}
		assert_int_equal(np, nw);
		/* The whole store read afterwards starts from the beginning. */
		static struct seen_event again[CAP];
		assert_int_equal(collect(s, again, CAP), nw);
		assert_memory_equal(again, whole, nw * sizeof *whole);
		ttlog_store_close(s);
		assert_int_equal(pdups, dups);
		for (size_t i = 0; i < nw; i++)
			if (memcmp(&whole[i], &parted[i], sizeof whole[i]) != 0)
				fail_msg("range %d: event %zu differs: ticks %llu / %llu", ranged, i,
					 (unsigned long long)whole[i].ticks,
					 (unsigned long long)parted[i].ticks);
	}
	free(dir);
}

/* The file hook (ttlog_store_options.file_hook) is called once for each
 * file the store opens, before its events are read; a thread set there
 * leaves the other threads' blocks unread, in the whole store and in its
 * parts, and the events are exactly the whole read's of that thread. */
static unsigned hook_calls;
static void hook_tid(void *ctx, ttlog_reader *r)
{
	__atomic_fetch_add(&hook_calls, 1, __ATOMIC_RELAXED);
	ttlog_reader_set_tid(r, *(const uint32_t *)ctx);
}

static void test_file_hook(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-hook");
	mkseg(dir, "svc-4242-20260101T000000.000000000Z-000001.ttseg",
	      "seg --threads 3 --events 40 --per-block 4 --promote");
	mkseg(dir, "svc-4242-20260101T000010.000000000Z-000002.ttseg",
	      "seg --seq 2 --threads 3 --events 40 --per-block 4 --base 10000000000");
	mkseg(dir, "ttlog-4242-20260101T000001.000000000Z-manual.ttlog",
	      "snap --threads 3 --events 40 --per-block 4 --skip 30");
	enum { CAP = 1024 };
	static struct seen_event all[CAP], one[CAP], parted[CAP];
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	assert_null(o.file_hook.fn);
	assert_null(o.file_hook_ctx.ptr);
	ttlog_store *s = open_dir(dir, &o, TTLOG_OK);
	size_t na = collect(s, all, CAP);
	assert_int_equal(ttlog_store_counters(s).blocks_skipped, 0);
	ttlog_store_close(s);

	uint32_t tid = 1001;
	o.file_hook.fn = hook_tid;
	o.file_hook_ctx.ptr = &tid;
	hook_calls = 0;
	s = open_dir(dir, &o, TTLOG_OK);
	size_t n1 = collect(s, one, CAP);
	assert_int_equal(hook_calls, 3);
	struct ttlog_store_counters c = ttlog_store_counters(s);
	assert_true(c.blocks_skipped >= c.blocks / 2); /* two threads of three */
	assert_true(c.duplicates > 0);
	size_t k = 0;
	for (size_t i = 0; i < na; i++) {
		if (all[i].tid != tid)
			continue;
		assert_true(k < n1);
		assert_memory_equal(&one[k], &all[i], sizeof all[i]);
		k++;
	}
	assert_true(k > 0);
	assert_int_equal(k, n1);

	ttlog_store_close(s);

	/* The parts call it too, and read what the whole did. */
	s = open_dir(dir, &o, TTLOG_OK);
	int64_t cuts[3];
	size_t m = ttlog_store_cut_times(s, 4, cuts);
	assert_true(m >= 1);
	size_t np = 0;
	for (size_t j = 0; j <= m; j++) {
		ttlog_store *p = NULL;
		int64_t since = j ? cuts[j - 1] : INT64_MIN, until = j < m ? cuts[j] - 1 : INT64_MAX;
		hook_calls = 0;
		assert_int_equal(ttlog_store_open_part(s, since, until, &p), TTLOG_OK);
		np += collect(p, parted + np, CAP - np);
		assert_true(hook_calls > 0);
		assert_true(ttlog_store_counters(p).blocks_skipped > 0);
		ttlog_store_close(p);
	}
	assert_int_equal(np, n1);
	assert_memory_equal(parted, one, n1 * sizeof *one);
	ttlog_store_close(s);
	free(dir);
}

/* Segments of one stream hold no record twice and are not compared; two
 * processes that log the same values at the same ticks are not merged. */
static void test_no_dedup_between_streams(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-dedup-streams");
	mkseg(dir, "svc-1-20260101T000000.000000000Z-000001.ttseg", "seg --pid 1");
	mkseg(dir, "svc-2-20260101T000000.000000000Z-000001.ttseg", "seg --pid 2");
	mkseg(dir, "ttlog-3-20260101T000001.000000000Z-manual.ttlog", "snap --pid 3");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	assert_int_equal(drain(s, NULL), 3 * 8);
	assert_int_equal(ttlog_store_counters(s).duplicates, 0);
	ttlog_store_close(s);
	free(dir);
}

/* The end of a store comes from the newest segment with events of each
 * stream and from the snapshots; older segments are not read (here the
 * first segment's events are later than the second's, which a writer
 * never does: its times do not move the end). */
static void test_store_end(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-end");
	mkseg(dir, "svc-7-20260101T000000.000000000Z-000001.ttseg", "seg --pid 7 --base 100000000000");
	mkseg(dir, "svc-7-20260101T000010.000000000Z-000002.ttseg",
	      "seg --pid 7 --seq 2 --base 10000000000");
	int64_t end = 0;
	assert_int_equal(ttlog_store_end((const char *const *)&dir, 1, NULL, &end), TTLOG_OK);
	assert_true(end == NS0 + 10 * SEC + 7000); /* 4 events of 2 threads, 1 us apart */
	/* A snapshot of another service, later: counts unless a service is asked. */
	mkseg(dir, "ttlog-8-20260101T000030.000000000Z-manual.ttlog",
	      "snap --pid 8 --service other --base 30000000000");
	assert_int_equal(ttlog_store_end((const char *const *)&dir, 1, NULL, &end), TTLOG_OK);
	assert_true(end == NS0 + 30 * SEC + 7000);
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.service = "svc";
	assert_int_equal(ttlog_store_end((const char *const *)&dir, 1, &o, &end), TTLOG_OK);
	assert_true(end == NS0 + 10 * SEC + 7000);
	const char *none = "/nonexistent-dir-of-ttlog/*.ttseg";
	assert_int_equal(ttlog_store_end(&none, 1, NULL, &end), TTLOG_E_OPEN);
	assert_true(end == 0);
	free(dir);
}

/* A stream of many segments: only the first is opened with the store; the
 * others are opened as the merge reaches their names' times, and every
 * event comes out once, in order, also after a rewind. */
static void test_many_segments_lazily(void **state)
{
	(void)state;
	enum { NSEG = 60 };
	char *dir = tu_tmpdir("store-many");
	char name[128], args[128];
	for (int k = 1; k <= NSEG; k++) {
		snprintf(name, sizeof name, "svc-11-20260101T%02d%02d%02d.000000000Z-%06d.ttseg",
			 (k * 60) / 3600, (k * 60) / 60 % 60, (k * 60) % 60, k);
		snprintf(args, sizeof args, "seg --pid 11 --seq %d --base %lld", k,
			 (long long)k * 60 * SEC + 1000000);
		mkseg(dir, name, args);
	}
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), NSEG);
	size_t opened = 0;
	for (size_t i = 0; i < NSEG; i++)
		opened += files[i]->reader != NULL;
	assert_int_equal(opened, 1);
	struct ttlog_event ev;
	assert_true(ttlog_store_next(s, &ev, NULL));
	opened = 0;
	for (size_t i = 0; i < NSEG; i++)
		opened += files[i]->reader != NULL;
	assert_true(opened <= 2);
	assert_int_equal(1 + drain(s, NULL), NSEG * 8);
	ttlog_store_rewind(s);
	assert_int_equal(drain(s, NULL), NSEG * 8);
	/* A range: the segments before it are skipped by name, those after
	 * it by their names' times too. */
	ttlog_store_close(s);
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.since_ns = NS0 + 1200 * SEC;
	o.until_ns = NS0 + 1800 * SEC;
	s = open_dir(dir, &o, TTLOG_OK);
	assert_int_equal(drain(s, NULL), 10 * 8); /* segments 20 to 29 */
	assert_int_equal(ttlog_store_counters(s).files_skipped, NSEG - 12);
	ttlog_store_close(s);
	free(dir);
}

static void test_service(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-service");
	mkseg(dir, "api-1-20260101T000000.000000000Z-000001.ttseg", "seg --pid 1 --service api");
	mkseg(dir, "web-2-20260101T000000.000000000Z-000001.ttseg", "seg --pid 2 --service web");
	mkseg(dir, "ttlog-3-20260101T000001.000000000Z-manual.ttlog",
	      "snap --pid 3 --service web");
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.service = "web";
	ttlog_store *s = open_dir(dir, &o, TTLOG_OK);
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	size_t n = 0;
	while (ttlog_store_next(s, &ev, &from)) {
		assert_string_equal(ttlog_reader_info(from->reader)->service, "web");
		n++;
	}
	assert_int_equal(n, 16);
	assert_int_equal(ttlog_store_counters(s).files_skipped, 1);
	ttlog_store_close(s);
	free(dir);
}

static void test_range_skips(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-range");
	mkseg(dir, "svc-9-20260101T000000.000000000Z-000001.ttseg", "seg --pid 9 --events 8");
	mkseg(dir, "svc-9-20260101T000010.000000000Z-000002.ttseg",
	      "seg --pid 9 --seq 2 --events 8 --base 10000000000");
	mkseg(dir, "svc-9-20260101T000020.000000000Z-000003.ttseg",
	      "seg --pid 9 --seq 3 --events 8 --base 20000000000");
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.since_ns = NS0 + 15 * SEC;
	ttlog_store *s = open_dir(dir, &o, TTLOG_OK);
	assert_int_equal(drain(s, NULL), 16);
	struct ttlog_store_counters c = ttlog_store_counters(s);
	assert_int_equal(c.files_skipped, 1); /* segment 1, by the name of segment 2 */
	assert_true(c.blocks_skipped >= 8);   /* segment 2's blocks, through its index */
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 3);
	assert_true(files[0]->skipped);
	assert_true(ttlog_reader_info(files[1]->reader)->indexed);
	ttlog_store_close(s);
	free(dir);
}

static void test_damaged_file(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-damage");
	mkseg(dir, "svc-1-20260101T000000.000000000Z-000001.ttseg", "seg --pid 1");
	mkseg(dir, "svc-2-20260101T000000.000000000Z-000001.ttseg",
	      "seg --pid 2 --promote --damage end-promoted");
	FILE *f = fopen("junk.ttlog", "w"); /* not a ttlog file at all */
	assert_non_null(f);
	fputs("junk", f);
	fclose(f);
	const char *paths[] = {dir, "junk.ttlog"};
	ttlog_store *s = NULL;
	assert_int_equal(ttlog_store_open(paths, 2, NULL, &s), TTLOG_E_CORRUPT);
	assert_non_null(strstr(ttlog_store_error(s), "END promoted count"));
	assert_int_equal(drain(s, NULL), 8 + 12);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 3);
	assert_int_equal(files[2]->status, TTLOG_E_NOT_TTLOG);
	ttlog_store_close(s);
	free(dir);
}

/* A sound file of a store is read once: lazily, each block decoded only
 * as its events are returned. A damaged one is opened as a whole check
 * opens it (its blocks decoded at the open, then again for the events),
 * and reported as that check finds it. */
static void test_files_read_once(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-once");
	mkseg(dir, "svc-1-20260101T000000.000000000Z-000001.ttseg", "seg --pid 1");
	mkseg(dir, "svc-1-20260101T000010.000000000Z-000002.ttseg",
	      "seg --pid 1 --seq 2 --base 10000000000");
	mkseg(dir, "svc-2-20260101T000000.000000000Z-000001.ttseg",
	      "seg --pid 2 --promote --damage thrd-events");
	ttlog_store *s = NULL;
	assert_int_equal(ttlog_store_open((const char *const *)&dir, 1, NULL, &s), TTLOG_E_CORRUPT);
	assert_non_null(s);
	assert_true(drain(s, NULL) > 0);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct ttlog_reader_counters *c = ttlog_reader_counters(files[i]->reader);
		assert_non_null(c);
		assert_true(c->blocks > 0);
		if (i < 2) { /* svc-1's segments, sound */
			assert_int_equal(files[i]->status, TTLOG_OK);
			assert_int_equal(c->blocks_decoded, c->blocks);
		} else {
			assert_int_equal(files[i]->status, TTLOG_E_CORRUPT);
			assert_int_equal(c->blocks_decoded, 2 * c->blocks);
		}
	}
	ttlog_store_close(s);
	free(dir);
}

/* A file read lazily (complete, its checksums right) whose block does not
 * decode: the problem is found while its events are read, and it is the
 * file's status and the store's then, as one found at the open is. The
 * other blocks' events are all returned. */
static void test_problem_found_reading(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-late");
	mkseg(dir, "svc-7-20260101T000000.000000000Z-000001.ttseg",
	      "seg --pid 7 --events 6 --damage record-size");
	mkseg(dir, "svc-8-20260101T000000.000000000Z-000001.ttseg", "seg --pid 8 --events 6");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 2);
	assert_int_equal(files[0]->status, TTLOG_OK); /* not found yet */
	size_t n = drain(s, NULL);
	/* 12 events each; the damaged block of svc-7 held 2 of thread 0's. */
	assert_true(n >= 12 + 12 - 2 && n < 24);
	assert_int_equal(ttlog_store_status(s), TTLOG_E_CORRUPT);
	assert_non_null(ttlog_store_error(s));
	assert_non_null(strstr(ttlog_store_error(s), "svc-7-"));
	assert_int_equal(ttlog_store_files(s, &files), 2);
	assert_int_equal(files[0]->status, TTLOG_E_CORRUPT);
	assert_non_null(files[0]->error);
	assert_int_equal(files[1]->status, TTLOG_OK);
	ttlog_store_close(s);
	free(dir);
}

static void test_follow(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-follow");
	const char *seg1 = "svc-5-20260101T000000.000000000Z-000001.ttseg";
	mkseg(dir, seg1, "seg --pid 5 --open");
	ttlog_store *s = open_dir(dir, NULL, TTLOG_OK);
	/* Following before the end loses and repeats nothing. */
	struct ttlog_event ev;
	assert_true(ttlog_store_next(s, &ev, NULL));
	assert_true(ttlog_store_follow(s, 0) >= 0);
	assert_int_equal(drain(s, NULL), 7);
	assert_int_equal(ttlog_store_follow(s, 0), 0); /* nothing new */
	/* The segment grows. */
	mkseg(dir, seg1, "append --pid 5 --events 2 --per-block 2 --base 5000000");
	assert_int_equal(ttlog_store_follow(s, 30000), 1);
	assert_int_equal(drain(s, NULL), 4);
	/* Rotation: the next segment. */
	mkseg(dir, "svc-5-20260101T000001.000000000Z-000002.ttseg",
	      "seg --pid 5 --seq 2 --open --base 9000000");
	assert_int_equal(ttlog_store_follow(s, 30000), 1);
	assert_int_equal(drain(s, NULL), 8);
	ttlog_store_close(s);
	free(dir);
}

/* Names that are not what a writer makes, and files that are not ttlog
 * files: each is a file of the store with its own error, none stops it. */
static void test_odd_names(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("store-names");
	static const char *const names[] = {
		"-.ttseg", "--.ttseg", "a--1-.ttseg", "x-1-20261399T250000.000000000Z-1.ttseg",
		"s-1-2026010XT000000.000000000Z-000001.ttseg", "ttlog-.ttlog", "ttlog-12-.ttlog",
		".hidden.ttseg", "ttlog-1-20260101T000000.000000000Z.ttlog",
	};
	char path[4096];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(i % 2 ? "\x89TTLOG\r\n" : "", f);
		fclose(f);
	}
	mkseg(dir, "ok-1-20260101T000000.000000000Z-000001.ttseg", "seg --pid 1");
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.since_ns = NS0;
	ttlog_store *s = NULL;
	const char *src = dir;
	int rc = ttlog_store_open(&src, 1, &o, &s);
	assert_non_null(s);
	assert_int_not_equal(rc, TTLOG_OK);
	assert_int_equal(drain(s, NULL), 8);
	const struct ttlog_store_file *const *files;
	assert_int_equal(ttlog_store_files(s, &files), 9); /* the hidden one is left out */
	ttlog_store_close(s);
	/* A pattern that matches nothing, and a file that does not exist. */
	const char *none[] = {"/nonexistent-dir-of-ttlog/*.ttseg", "no-such-file.ttseg"};
	assert_int_equal(ttlog_store_open(none, 2, NULL, &s), TTLOG_E_OPEN);
	assert_int_equal(drain(s, NULL), 0);
	ttlog_store_close(s);
	assert_int_equal(ttlog_store_open(NULL, 0, NULL, &s), TTLOG_E_INVALID);
	assert_null(s);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup),        cmocka_unit_test(test_dedup_compares_contents),
		cmocka_unit_test(test_later_file_gives_its_clock),
		cmocka_unit_test(test_no_dedup_between_streams),
		cmocka_unit_test(test_store_end),    cmocka_unit_test(test_many_segments_lazily),    cmocka_unit_test(test_service),
		cmocka_unit_test(test_range_skips),  cmocka_unit_test(test_damaged_file),
		cmocka_unit_test(test_files_read_once),
		cmocka_unit_test(test_clock_of_unread_files),
		cmocka_unit_test(test_parts),
		cmocka_unit_test(test_file_hook),
		cmocka_unit_test(test_problem_found_reading),
		cmocka_unit_test(test_follow),       cmocka_unit_test(test_odd_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
