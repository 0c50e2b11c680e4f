/* SPDX-License-Identifier: MIT */
/*
 * test_reader_release.c - ttlog_reader_release(): a reader whose events
 * were read gives up the file's bytes and keeps everything else.
 *
 * The library writes a snapshot of two threads with spans, contexts and
 * enough events for many blocks. After a release the file's info, threads,
 * sites, spans, counters, status and error read as before (under
 * AddressSanitizer a freed one would be caught), the last event returned
 * still points at valid memory, and the reader has no events: not after a
 * rewind either, not after a new range. Opening the file again reads every
 * event. Released in the middle, eagerly opened, damaged, and the bad uses
 * (NULL, twice) are checked too.
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

#define EVENTS 20000      /* per thread: many 64 KiB blocks */
#define SCOPE_EVERY 100   /* a context and a span per this many events */

static char snap[4096];

static void log_history(void)
{
	for (int i = 0; i < EVENTS; i++) {
		if (i % SCOPE_EVERY == 0) {
			if (i) {
				TTLOG_SPAN_END();
				ttlog_context_pop();
			}
			TTLOG_CONTEXT_PUSH("batch", i / SCOPE_EVERY);
			TTLOG_SPAN_BEGIN("batch.work");
		}
		if (i % 7 == 0)
			TTLOG_WARN("slow event i=%d pad=%s", i, "abcdefghijklmnop");
		else
			TTLOG_INFO("event i=%d pad=%s", i, "abcdefghijklmnop");
	}
	TTLOG_SPAN_END();
	ttlog_context_pop();
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
	cfg.ring_size = 8u << 20; /* the whole history fits */
	if (tu_start(&cfg) != 0)
		return -1;
	pthread_t th;
	if (pthread_create(&th, NULL, history_thread, NULL) != 0)
		return -1;
	log_history();
	pthread_join(th, NULL);
	return ttlog_snapshot_path("release", snap, sizeof snap) == TTLOG_OK ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(snap);
	return tu_stop(state);
}

/* What a released reader must still give: copied before the release. */
struct kept {
	struct ttlog_file_info info;
	char service[256], executable[4096];
	size_t nthreads;
	uint32_t tid0;
	char thread0[64];
	struct ttlog_reader_counters counters;
	int status;
};

static void keep(ttlog_reader *r, struct kept *k)
{
	memset(k, 0, sizeof *k);
	k->info = *ttlog_reader_info(r);
	snprintf(k->service, sizeof k->service, "%s", k->info.service);
	snprintf(k->executable, sizeof k->executable, "%s", k->info.executable);
	k->nthreads = ttlog_reader_thread_count(r);
	const struct ttlog_thread_info *t = ttlog_reader_thread(r, 0);
	assert_non_null(t);
	k->tid0 = t->tid;
	snprintf(k->thread0, sizeof k->thread0, "%s", t->name);
	k->counters = *ttlog_reader_counters(r);
	k->status = ttlog_reader_status(r);
}

static void same_as_kept(ttlog_reader *r, const struct kept *k)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	assert_int_equal(info->events, k->info.events);
	assert_int_equal(info->pid, k->info.pid);
	assert_int_equal(info->blocks, k->info.blocks);
	assert_string_equal(info->service, k->service);
	assert_string_equal(info->executable, k->executable);
	assert_int_equal(ttlog_reader_thread_count(r), k->nthreads);
	assert_int_equal(ttlog_reader_thread(r, 0)->tid, k->tid0);
	assert_string_equal(ttlog_reader_thread(r, 0)->name, k->thread0);
	const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
	assert_int_equal(c->blocks, k->counters.blocks);
	assert_int_equal(c->blocks_decoded, k->counters.blocks_decoded);
	assert_int_equal(c->records_decoded, k->counters.records_decoded);
	assert_int_equal(ttlog_reader_status(r), k->status);
}

/* Events of a new reader of the file, read to the end. */
static size_t count_reopened(unsigned flags)
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, flags, &r), TTLOG_OK);
	assert_int_equal(ttlog_reader_released(r), 0);
	struct ttlog_event ev;
	size_t n = 0;
	while (ttlog_reader_next(r, &ev))
		n++;
	ttlog_reader_close(r);
	return n;
}

/* After every event was read: no events, everything else as before. */
static void test_release_after_reading(void **state)
{
	(void)state;
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_LAZY, &r), TTLOG_OK);
	struct ttlog_event ev, last;
	size_t n = 0, spans = 0;
	while (ttlog_reader_next(r, &ev)) {
		last = ev;
		n++;
		spans += ev.kind == TTLOG_EVENT_SPAN_END;
	}
	assert_true(n >= 2 * EVENTS);
	assert_int_equal(spans, 2 * (EVENTS / SCOPE_EVERY));
	assert_true(ttlog_reader_counters(r)->blocks >= 10);
	struct kept k;
	keep(r, &k);
	const struct ttlog_site_info *site = last.site;
	uint32_t last_tid = last.thread->tid;
	char format[256];
	snprintf(format, sizeof format, "%s", site->format ? site->format : "");

	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_released(r), 1);
	same_as_kept(r, &k);
	/* The last event and what it points to are still there. */
	assert_ptr_equal(last.site, site);
	assert_string_equal(site->format ? site->format : "", format);
	assert_non_null(last.thread);
	assert_int_equal(last.thread->tid, last_tid);
	if (last.span)
		assert_string_equal(last.span->name, "batch.work");
	for (unsigned i = 0; i < last.nfields; i++)
		assert_non_null(last.fields[i].key);

	/* No events any more: not after a rewind, not with a new range. */
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	ttlog_reader_rewind(r);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	ttlog_reader_set_range(r, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	/* ... and no problem is made of it: the file is as good as before. */
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	assert_null(ttlog_reader_error(r));
	same_as_kept(r, &k);

	/* Twice does nothing more. */
	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_released(r), 1);
	same_as_kept(r, &k);
	ttlog_reader_close(r);

	/* The file read again: every event. */
	assert_int_equal(count_reopened(TTLOG_READER_LAZY), n);
}

/* In the middle of the iteration: the rest is given up. */
static void test_release_midway(void **state)
{
	(void)state;
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_LAZY, &r), TTLOG_OK);
	struct ttlog_event ev;
	for (int i = 0; i < EVENTS / 2; i++)
		assert_int_equal(ttlog_reader_next(r, &ev), 1);
	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	ttlog_reader_rewind(r);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
	assert_true(count_reopened(TTLOG_READER_LAZY) >= 2 * EVENTS);
}

/* Eager opens (one thread, several), before any event was read. */
static void test_release_eager(void **state)
{
	(void)state;
	size_t want = count_reopened(TTLOG_READER_LAZY);
	unsigned flags[] = {0, TTLOG_READER_JOBS(3)};
	for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
		ttlog_reader *r = NULL;
		assert_int_equal(ttlog_reader_open_ex(snap, flags[f], &r), TTLOG_OK);
		struct kept k;
		keep(r, &k);
		assert_int_equal(k.info.events, want); /* counted at open */
		ttlog_reader_release(r);
		same_as_kept(r, &k);
		struct ttlog_event ev;
		assert_int_equal(ttlog_reader_next(r, &ev), 0);
		ttlog_reader_close(r);
		assert_int_equal(count_reopened(flags[f]), want);
	}
}

/* A cut file: its status and message survive the release. */
static void test_release_damaged(void **state)
{
	(void)state;
	FILE *in = fopen(snap, "rb");
	assert_non_null(in);
	char cut[4200];
	snprintf(cut, sizeof cut, "%s.cut", snap);
	FILE *out = fopen(cut, "wb");
	assert_non_null(out);
	char buf[65536];
	size_t got = fread(buf, 1, sizeof buf, in);
	assert_int_equal(got, sizeof buf); /* the file is bigger than this */
	assert_int_equal(fwrite(buf, 1, got, out), got);
	fclose(in);
	fclose(out);

	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(cut, TTLOG_READER_LAZY, &r), TTLOG_E_TRUNCATED);
	assert_non_null(r);
	struct ttlog_event ev;
	size_t n = 0;
	while (ttlog_reader_next(r, &ev))
		n++;
	char error[1024];
	snprintf(error, sizeof error, "%s", ttlog_reader_error(r));
	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_TRUNCATED);
	assert_string_equal(ttlog_reader_error(r), error);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	ttlog_reader_close(r);
	unlink(cut);
}

/* NULL, and a reader never released. */
static void test_bad_use(void **state)
{
	(void)state;
	ttlog_reader_release(NULL); /* ignored */
	assert_int_equal(ttlog_reader_released(NULL), 0);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(snap, TTLOG_READER_LAZY, &r), TTLOG_OK);
	assert_int_equal(ttlog_reader_released(r), 0);
	struct ttlog_event ev;
	assert_int_equal(ttlog_reader_next(r, &ev), 1);
	assert_int_equal(ttlog_reader_released(r), 0);
	ttlog_reader_close(r);
	/* A reader of a file that cannot be read has nothing to release. */
	assert_int_equal(ttlog_reader_open_ex("/nonexistent/file.ttlog", 0, &r), TTLOG_E_OPEN);
	assert_non_null(r);
	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_released(r), 1);
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_OPEN);
	assert_int_equal(ttlog_reader_next(r, &ev), 0);
	ttlog_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_after_reading),
		cmocka_unit_test(test_release_midway),
		cmocka_unit_test(test_release_eager),
		cmocka_unit_test(test_release_damaged),
		cmocka_unit_test(test_bad_use),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
