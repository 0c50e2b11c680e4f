/* SPDX-License-Identifier: MIT */
/*
 * test_reader_range.c - reading part of a large snapshot: a lazy open
 * (TTLOG_READER_LAZY) and a time and level range (ttlog_reader_set_range);
 * the cuts of a file into parts (ttlog_reader_cut_times) and readers that
 * share a file's bytes (ttlog_reader_open_same).
 *
 * The library writes real snapshots with the fake clock, 20 seconds of
 * events spread over many 64 KiB blocks. Every ranged read is compared with
 * a full read of the same file filtered by hand: the same events, in the
 * same order, with the same contexts and spans; and the reader's counters
 * show that blocks outside the range were not decoded.
 *
 * Each test logs its history on a thread of its own, after the histories of
 * the tests before it (the fake clock only goes forward), so its ranges
 * hold only its own events. Tests without scopes run first: once a context
 * or span site exists, every later snapshot has scopes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock/clock.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

#define SECONDS 20
#define PER_SECOND 2000
#define STEP_NS (1000000000u / PER_SECOND)
#define WARN_EVERY 97  /* one event in this many is a warning */
#define SCOPE_EVERY 50 /* with scopes: a context and a span per this many events */

/* An event reduced to what a ranged read must reproduce. */
struct seen {
	int64_t time_ns;
	int level;
	int kind;
	int64_t value;       /* the first argument of a log event */
	uint64_t span_id;    /* its span, 0 if none */
	int64_t context;     /* the "batch" context field, -1 if none */
};

static struct seen *seen_alloc(size_t n)
{
	struct seen *s = calloc(n ? n : 1, sizeof *s);
	assert_non_null(s);
	return s;
}

static void seen_fill(struct seen *s, const struct ttlog_event *ev)
{
	memset(s, 0, sizeof *s);
	s->time_ns = ev->time_ns;
	s->level = ev->site->level;
	s->kind = ev->kind;
	s->value = ev->kind == TTLOG_EVENT_LOG && ev->nargs ? ev->args[0].v.i : 0;
	s->span_id = ev->span ? ev->span->id : 0;
	s->context = -1;
	for (unsigned i = 0; i < ev->nfields; i++)
		if (ev->fields[i].source == TTLOG_FIELD_CONTEXT && strcmp(ev->fields[i].key, "batch") == 0)
			s->context = ev->fields[i].value->v.i;
}

/* Logs SECONDS seconds of events, PER_SECOND a second, on this thread;
 * with scopes, each SCOPE_EVERY events share a context and a span. */
static void log_history(int scopes)
{
	for (int i = 0; i < SECONDS * PER_SECOND; i++) {
		if (scopes && i % SCOPE_EVERY == 0) {
			if (i) {
				TTLOG_SPAN_END();
				ttlog_context_pop();
			}
			TTLOG_CONTEXT_PUSH("batch", i / SCOPE_EVERY);
			TTLOG_SPAN_BEGIN("batch.work");
		}
		if (i % WARN_EVERY == 0)
			TTLOG_WARN("slow event i=%d pad=%s", i, "abcdefghijkl");
		else
			TTLOG_INFO("event i=%d pad=%s", i, "abcdefghijkl");
		ttlog__clock_advance_fake(STEP_NS);
	}
	if (scopes) {
		TTLOG_SPAN_END();
		ttlog_context_pop();
	}
}

struct history {
	int scopes;
	uint32_t tid;
};

static void *history_thread(void *arg)
{
	struct history *h = arg;
	h->tid = (uint32_t)syscall(SYS_gettid);
	log_history(h->scopes);
	return NULL;
}

/* Logs a history on a new thread and writes a snapshot; returns its path
 * (static storage) and the thread's id. */
static const char *history_snapshot(const char *reason, int scopes, uint32_t *tid)
{
	static char path[4096];
	struct history h = {scopes, 0};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, history_thread, &h), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	*tid = h.tid;
	assert_int_equal(ttlog_snapshot_path(reason, path, sizeof path), TTLOG_OK);
	return path;
}

/* Every event of thread tid in a full, eager read that passes the filter;
 * *first_ns is the time of the thread's first event. */
static size_t full_read(const char *path, uint32_t tid, int64_t since, int64_t until,
			unsigned levels, struct seen **out, int64_t *first_ns)
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	*first_ns = INT64_MAX;
	/* The eager open decoded every block once. */
	const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
	assert_true(c->blocks >= 20);
	assert_int_equal(c->blocks_decoded, c->blocks);
	assert_true(info->raw_bytes > info->stored_bytes); /* LZ4 did something */
	assert_true(info->blocks >= c->blocks);

	struct seen *s = seen_alloc(info->events);
	size_t n = 0;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(ev.size >= 16 && ev.size % 8 == 0);
		if (ev.thread->tid != tid)
			continue;
		if (*first_ns == INT64_MAX)
			*first_ns = ev.time_ns;
		if (ev.time_ns < since || ev.time_ns > until)
			continue;
		if (ev.kind == TTLOG_EVENT_LOG && !((levels >> ev.site->level) & 1u))
			continue;
		assert_true(n < info->events);
		seen_fill(&s[n++], &ev);
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
	*out = s;
	return n;
}

/* Checks an event read through a range or a filter against the one the
 * full read saw. */
static void seen_matches(const struct ttlog_event *ev, const struct seen *want)
{
	struct seen got;
	seen_fill(&got, ev);
	assert_int_equal(got.time_ns, want->time_ns);
	assert_int_equal(got.kind, want->kind);
	assert_int_equal(got.level, want->level);
	assert_int_equal(got.value, want->value);
	assert_int_equal(got.span_id, want->span_id);
	assert_int_equal(got.context, want->context);
}

/* The same through a lazy open and a range; checks it against `want`. */
static void ranged_read(const char *path, int64_t since, int64_t until, unsigned levels,
			const struct seen *want, size_t nwant, struct ttlog_reader_counters *counters)
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &r), TTLOG_OK);
	const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
	assert_int_equal(c->blocks_decoded, 0); /* nothing decoded at open */
	ttlog_reader_set_range(r, since, until, levels);
	ttlog_reader_rewind(r);
	struct ttlog_event ev;
	size_t n = 0;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(n < nwant);
		seen_matches(&ev, &want[n]);
		n++;
	}
	assert_int_equal(n, nwant);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	*counters = *c;
	/* Every block is accounted for once per pass. */
	assert_int_equal(c->blocks_decoded + c->blocks_scanned + c->blocks_skipped, c->blocks);

	/* A rewind without a range reads everything again. */
	ttlog_reader_set_range(r, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r);
	size_t all = 0;
	while (ttlog_reader_next(r, &ev))
		all++;
	assert_true(all >= nwant);
	assert_true(all >= SECONDS * PER_SECOND);
	assert_int_equal(c->blocks_decoded + c->blocks_scanned + c->blocks_skipped,
			 counters->blocks_decoded + counters->blocks_scanned +
				 counters->blocks_skipped + c->blocks);
	ttlog_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	setenv("TTLOG_CLOCK", "fake", 1);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 8u << 20; /* the whole history fits: nothing is overwritten */
	return tu_start(&cfg);
}

/* One second out of twenty, no scopes: only the blocks that hold it are
 * decoded, the rest are passed over unread. */
static void test_one_second(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("plain", 0, &tid);
	struct seen *all;
	int64_t t0;
	size_t n = full_read(path, tid, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS, &all, &t0);
	assert_int_equal(n, SECONDS * PER_SECOND);
	free(all);

	int64_t since = t0 + 7 * (int64_t)1000000000, until = since + 999999999;
	struct seen *want;
	n = full_read(path, tid, since, until, TTLOG_READER_ALL_LEVELS, &want, &t0);
	/* The fake clock also moves a little at every event. */
	assert_true(n > PER_SECOND - PER_SECOND / 100 && n <= PER_SECOND);
	struct ttlog_reader_counters c;
	ranged_read(path, since, until, TTLOG_READER_ALL_LEVELS, want, n, &c);
	print_message("one second of %d: %llu blocks, %llu decoded, %llu skipped\n", SECONDS,
		      (unsigned long long)c.blocks, (unsigned long long)c.blocks_decoded,
		      (unsigned long long)c.blocks_skipped);
	/* A second is about a twentieth of the blocks: at most two more
	 * (the ones it begins and ends in) are decoded. */
	assert_true(c.blocks_decoded <= c.blocks / SECONDS + 2);
	assert_int_equal(c.blocks_scanned, 0);
	assert_true(c.records_decoded < (uint64_t)3 * PER_SECOND);
	free(want);
	unlink(path);
}

/* Levels: only warnings, over the whole file; and a range with a level. */
static void test_levels(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("levels", 0, &tid);
	unsigned warn_up = TTLOG_READER_ALL_LEVELS & ~((1u << TTLOG_LEVEL_WARN) - 1);
	struct seen *want;
	int64_t t0;
	size_t n = full_read(path, tid, INT64_MIN, INT64_MAX, warn_up, &want, &t0);
	/* ceil(40000 / 97) of this history's events are warnings. */
	assert_int_equal(n, (SECONDS * PER_SECOND + WARN_EVERY - 1) / WARN_EVERY);
	struct ttlog_reader_counters c;
	ranged_read(path, t0, INT64_MAX, warn_up, want, n, &c);
	free(want);

	int64_t since = t0 + 3 * (int64_t)1000000000 + 250000000, until = since + 1500000000;
	n = full_read(path, tid, since, until, 1u << TTLOG_LEVEL_INFO, &want, &t0);
	assert_true(n > PER_SECOND);
	ranged_read(path, since, until, 1u << TTLOG_LEVEL_INFO, want, n, &c);
	assert_true(c.blocks_decoded < c.blocks / 4);
	free(want);
	unlink(path);
}

/* TTLOG_READER_ONCE: a sound, complete file is opened lazily (nothing
 * decoded at the open, each block once as its events are read); a cut
 * copy is checked whole at the open, on the bytes read, and gives what an
 * eager open gives. Refused by ttlog_reader_open_same(). */
static void test_once(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("once", 0, &tid);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_ONCE, &r), TTLOG_OK);
	const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
	assert_true(c->blocks >= 20);
	assert_int_equal(c->blocks_decoded, 0);
	struct ttlog_event ev;
	size_t n = 0;
	while (ttlog_reader_next(r, &ev))
		n++;
	assert_int_equal(c->blocks_decoded, c->blocks);
	ttlog_reader *same = (ttlog_reader *)1;
	assert_int_equal(ttlog_reader_open_same(r, TTLOG_READER_ONCE, &same), TTLOG_E_INVALID);
	ttlog_reader_close(r);

	/* Cut in the middle of a block: not complete. */
	char cut[4200];
	snprintf(cut, sizeof cut, "%s.cut", path);
	FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(fseek(in, 0, SEEK_END), 0);
	long size = ftell(in);
	rewind(in);
	for (long i = 0; i < size / 2; i++)
		fputc(fgetc(in), out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	ttlog_reader *eager = NULL;
	int want = ttlog_reader_open(cut, &eager);
	assert_int_equal(ttlog_reader_open_ex(cut, TTLOG_READER_ONCE, &r), want);
	assert_true(ttlog_reader_counters(r)->blocks_decoded > 0); /* checked whole */
	assert_string_equal(ttlog_reader_error(r), ttlog_reader_error(eager));
	size_t a = 0, b = 0;
	while (ttlog_reader_next(r, &ev))
		a++;
	while (ttlog_reader_next(eager, &ev))
		b++;
	assert_int_equal(a, b);
	assert_true(a > 0 && a < n);
	ttlog_reader_close(eager);
	ttlog_reader_close(r);
	unlink(cut);
	unlink(path);
}

/* One thread by its id (ttlog_reader_set_tid()): exactly its events, in
 * their order, and none of the other threads' blocks read (the history of
 * an earlier test's thread is in the same rings); with a time range too;
 * and 0 gives every thread back. With scopes, so that the thread's
 * contexts and spans are followed as usual. Then one site of the thread
 * (ttlog_reader_set_site()). */
static void test_one_thread(void **state)
{
	(void)state;
	uint32_t other, tid;
	const char *path = history_snapshot("thread-a", 1, &other);
	unlink(path);
	path = history_snapshot("thread-b", 1, &tid);
	assert_true(tid != other);
	struct seen *want;
	int64_t t0;
	size_t n = full_read(path, tid, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS, &want, &t0);
	assert_true(n >= SECONDS * PER_SECOND);

	for (int ranged = 0; ranged < 2; ranged++) {
		int64_t since = ranged ? t0 + 5 * (int64_t)1000000000 : INT64_MIN;
		ttlog_reader *r = NULL;
		assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &r), TTLOG_OK);
		ttlog_reader_set_range(r, since, INT64_MAX, TTLOG_READER_ALL_LEVELS);
		ttlog_reader_set_tid(r, tid);
		ttlog_reader_rewind(r);
		size_t k = 0;
		while (k < n && want[k].time_ns < since)
			k++;
		struct ttlog_event ev;
		while (ttlog_reader_next(r, &ev)) {
			assert_int_equal(ev.thread->tid, tid);
			assert_true(k < n);
			seen_matches(&ev, &want[k]);
			k++;
		}
		assert_int_equal(k, n);
		assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
		const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
		/* The other thread's blocks (about half) were not read. */
		assert_true(c->blocks_skipped >= c->blocks / 3);
		assert_true(c->blocks_decoded + c->blocks_scanned <= c->blocks - c->blocks / 3);

		/* 0: every thread again. */
		ttlog_reader_set_range(r, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS);
		ttlog_reader_set_tid(r, 0);
		ttlog_reader_rewind(r);
		size_t all = 0, mine = 0;
		while (ttlog_reader_next(r, &ev)) {
			all++;
			mine += ev.thread->tid == tid;
		}
		assert_int_equal(mine, n);
		assert_true(all >= 2 * n);

		/* One site (ttlog_reader_set_site()): its log events only, all
		 * of them; span events as before. With the thread. */
		uint32_t warn_site = 0;
		size_t warns = 0, logs = 0, spans = 0, spans_then = 0;
		ttlog_reader_set_tid(r, tid);
		ttlog_reader_rewind(r);
		while (ttlog_reader_next(r, &ev)) {
			spans += ev.kind != TTLOG_EVENT_LOG;
			if (ev.kind == TTLOG_EVENT_LOG && ev.site->level == TTLOG_LEVEL_WARN) {
				warn_site = ev.site->id;
				warns++;
			}
		}
		assert_true(warns > 0 && warn_site != 0);
		ttlog_reader_set_site(r, warn_site);
		ttlog_reader_rewind(r);
		while (ttlog_reader_next(r, &ev)) {
			if (ev.kind != TTLOG_EVENT_LOG) {
				spans_then++;
				continue;
			}
			assert_int_equal(ev.site->id, warn_site);
			logs++;
		}
		assert_int_equal(logs, warns);
		assert_int_equal(spans_then, spans);
		ttlog_reader_set_site(r, 0);
		ttlog_reader_close(r);
	}
	free(want);
	unlink(path);
}

/* ttlog_reader_cut_times(): the parts of a file without scopes, read one
 * after the other through ranges, are the whole iteration, event for event
 * and in its order; the cuts are the same for a lazy and an eager open and
 * spread the records over the parts. Two threads log at once, so blocks of
 * both straddle the cuts. */
struct cut_event {
	uint64_t key;
	int64_t time_ns;
	uint32_t tid;
};

/* The events of r from its current range, appended to ev[*n]. */
static void cut_read(ttlog_reader *r, struct cut_event *ev, size_t cap, size_t *n)
{
	struct ttlog_event e;
	while (ttlog_reader_next(r, &e)) {
		assert_true(*n < cap);
		ev[*n].key = ttlog_reader_event_key(r);
		ev[*n].time_ns = e.time_ns;
		ev[*n].tid = e.thread->tid;
		(*n)++;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
}

static void test_cut_times(void **state)
{
	(void)state;
	struct history h[2] = {{0, 0}, {0, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, history_thread, &h[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("cuts", path, sizeof path), TTLOG_OK);

	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	size_t cap = ttlog_reader_info(r)->events, n = 0;
	assert_true(cap >= 2 * SECONDS * PER_SECOND);
	struct cut_event *all = calloc(cap, sizeof *all), *parts = calloc(cap, sizeof *parts);
	assert_true(all && parts);
	cut_read(r, all, cap, &n);
	assert_int_equal(n, cap);
	enum { NPARTS = 8 };
	int64_t eager[NPARTS], cuts[NPARTS];
	size_t m = ttlog_reader_cut_times(r, NPARTS, eager);
	ttlog_reader_close(r);

	assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &r), TTLOG_OK);
	assert_int_equal(ttlog_reader_cut_times(r, NPARTS, cuts), m);
	assert_int_equal(ttlog_reader_counters(r)->blocks_decoded, 0); /* headers only */
	assert_int_equal(m, NPARTS - 1);
	for (size_t k = 0; k < m; k++) {
		assert_true(cuts[k] == eager[k]);
		assert_true(k == 0 || cuts[k] > cuts[k - 1]);
	}
	/* Each part on a reader of its own, the parts in order: the whole. */
	size_t got = 0, size[NPARTS];
	for (size_t k = 0; k <= m; k++) {
		ttlog_reader *p = NULL;
		assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &p), TTLOG_OK);
		ttlog_reader_set_range(p, k ? cuts[k - 1] : INT64_MIN, k < m ? cuts[k] - 1 : INT64_MAX,
				       TTLOG_READER_ALL_LEVELS);
		ttlog_reader_rewind(p);
		size_t before = got;
		cut_read(p, parts, cap, &got);
		size[k] = got - before;
		ttlog_reader_close(p);
	}
	assert_int_equal(got, n);
	for (size_t i = 0; i < n; i++) {
		assert_true(parts[i].key == all[i].key);
		assert_true(parts[i].time_ns == all[i].time_ns);
		assert_int_equal(parts[i].tid, all[i].tid);
	}
	/* About equal parts: each within half and twice an eighth. */
	for (size_t k = 0; k <= m; k++) {
		print_message("part %zu: %zu events\n", k, size[k]);
		assert_true(size[k] >= n / NPARTS / 2 && size[k] <= 2 * n / NPARTS);
	}
	/* One reader moved from part to part, out of order: the same parts. */
	static const size_t order[NPARTS] = {5, 0, 7, 1, 6, 2, 4, 3};
	for (size_t i = 0; i < NPARTS; i++) {
		size_t k = order[i], at = 0, len = 0;
		for (size_t j = 0; j < k; j++)
			at += size[j];
		ttlog_reader_set_range(r, k ? cuts[k - 1] : INT64_MIN, k < m ? cuts[k] - 1 : INT64_MAX,
				       TTLOG_READER_ALL_LEVELS);
		ttlog_reader_rewind(r);
		cut_read(r, parts + at, cap - at, &len);
		assert_int_equal(len, size[k]);
		for (size_t j = at; j < at + len; j++)
			assert_true(parts[j].key == all[j].key);
	}
	/* One reader going on from part to part (ttlog_reader_resume()): the
	 * same parts; a range that does not come after the last is refused. */
	for (size_t k = 0, at = 0; k <= m; k++) {
		const int64_t since = k ? cuts[k - 1] : INT64_MIN, until = k < m ? cuts[k] - 1 : INT64_MAX;
		if (k == 0) {
			ttlog_reader_set_range(r, since, until, TTLOG_READER_ALL_LEVELS);
			ttlog_reader_rewind(r);
		} else {
			assert_int_equal(ttlog_reader_resume(r, cuts[k - 1] - 1, until,
							     TTLOG_READER_ALL_LEVELS), 0);
			assert_int_equal(ttlog_reader_resume(r, since, until, TTLOG_READER_ALL_LEVELS), 1);
		}
		size_t len = 0;
		cut_read(r, parts + at, cap - at, &len);
		assert_int_equal(len, size[k]);
		for (size_t j = at; j < at + len; j++)
			assert_true(parts[j].key == all[j].key);
		at += len;
	}
	/* After the last part (until INT64_MAX) there is nothing to go on to. */
	assert_int_equal(ttlog_reader_resume(r, INT64_MAX, INT64_MAX, TTLOG_READER_ALL_LEVELS), 0);
	/* Fewer parts, and the limits of n. */
	assert_int_equal(ttlog_reader_cut_times(r, 2, cuts), 1);
	assert_true(cuts[0] == eager[NPARTS / 2 - 1]);
	assert_int_equal(ttlog_reader_cut_times(r, 1, cuts), 0);
	assert_int_equal(ttlog_reader_cut_times(r, 0, cuts), 0);
	assert_int_equal(ttlog_reader_cut_times(r, NPARTS, NULL), 0);
	assert_int_equal(ttlog_reader_cut_times(NULL, NPARTS, cuts), 0);
	ttlog_reader_release(r);
	assert_int_equal(ttlog_reader_cut_times(r, NPARTS, cuts), 0);
	ttlog_reader_close(r);
	free(all);
	free(parts);
	unlink(path);
}

/* With contexts and spans: blocks before the range are read for their
 * scopes only, so events in the range carry the same context and span as
 * in a full read; blocks after the range are still passed over. */
static void test_scopes_kept(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("scopes", 1, &tid);
	struct seen *want;
	int64_t t0;
	size_t n = full_read(path, tid, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS, &want, &t0);
	free(want);
	int64_t since = t0 + 12 * (int64_t)1000000000 + 3000, until = since + 999999999;
	n = full_read(path, tid, since, until, TTLOG_READER_ALL_LEVELS, &want, &t0);
	assert_true(n >= PER_SECOND);
	size_t logs = 0, with_context = 0;
	for (size_t i = 0; i < n; i++) {
		logs += want[i].kind == TTLOG_EVENT_LOG;
		with_context += want[i].kind == TTLOG_EVENT_LOG && want[i].context >= 0 &&
				want[i].span_id != 0;
	}
	assert_true(logs > PER_SECOND - PER_SECOND / 100);
	assert_int_equal(with_context, logs); /* every log event is in both */
	struct ttlog_reader_counters c;
	ranged_read(path, since, until, TTLOG_READER_ALL_LEVELS, want, n, &c);
	print_message("scopes: %llu blocks, %llu decoded, %llu scanned, %llu skipped\n",
		      (unsigned long long)c.blocks, (unsigned long long)c.blocks_decoded,
		      (unsigned long long)c.blocks_scanned, (unsigned long long)c.blocks_skipped);
	assert_true(c.blocks_scanned > 0);
	assert_true(c.blocks_skipped > 0); /* the seconds after the range */
	assert_true(c.blocks_decoded <= c.blocks / SECONDS + 2);
	free(want);
	unlink(path);
}

/* Every event of r's current range, as seen, appended to s[*n]. */
static void seen_read(ttlog_reader *r, struct seen *s, size_t cap, size_t *n)
{
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(*n < cap);
		seen_fill(&s[(*n)++], &ev);
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
}

static void seen_same(const struct seen *got, const struct seen *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (memcmp(&got[i], &want[i], sizeof *got) != 0)
			fail_msg("event %zu of %zu: time %lld kind %d span %llx context %lld, want time "
				 "%lld kind %d span %llx context %lld",
				 i, n, (long long)got[i].time_ns, got[i].kind,
				 (unsigned long long)got[i].span_id, (long long)got[i].context,
				 (long long)want[i].time_ns, want[i].kind,
				 (unsigned long long)want[i].span_id, (long long)want[i].context);
	}
}

/* A file with contexts and spans cut into parts: the parts, read in order
 * by one reader that goes on from each to the next
 * (ttlog_reader_resume()), or by two that take them in turn as the
 * command's workers do, are the whole iteration, every event with the
 * context and the span a full read gives it. A range left before its end
 * still goes on to exactly the next part, and a rewind after a resume
 * reads the new range again. */
static void test_scopes_cut(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("scopes-cut", 1, &tid);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	const size_t cap = ttlog_reader_info(r)->events;
	struct seen *all = seen_alloc(cap), *parts = seen_alloc(cap);
	size_t n = 0;
	seen_read(r, all, cap, &n);
	ttlog_reader_close(r);
	size_t in_span = 0;
	for (size_t i = 0; i < n; i++)
		in_span += all[i].kind == TTLOG_EVENT_LOG && all[i].span_id != 0;
	assert_true(in_span >= SECONDS * PER_SECOND - 2);

	enum { NPARTS = 16 };
	int64_t cuts[NPARTS];
	assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &r), TTLOG_OK);
	size_t m = ttlog_reader_cut_times(r, NPARTS, cuts);
	assert_true(m >= NPARTS / 2);
	size_t size[NPARTS + 1], got = 0;
	for (size_t k = 0; k <= m; k++) {
		const int64_t since = k ? cuts[k - 1] : INT64_MIN, until = k < m ? cuts[k] - 1 : INT64_MAX;
		if (k == 0) {
			ttlog_reader_set_range(r, since, until, TTLOG_READER_ALL_LEVELS);
			ttlog_reader_rewind(r);
		} else {
			assert_int_equal(ttlog_reader_resume(r, since, until, TTLOG_READER_ALL_LEVELS), 1);
		}
		size_t before = got;
		seen_read(r, parts, cap, &got);
		size[k] = got - before;
		assert_true(size[k] > 0);
	}
	assert_int_equal(got, n);
	seen_same(parts, all, n);

	/* Two readers of the same bytes, the parts in turn. */
	ttlog_reader *two[2] = {r, NULL};
	assert_int_equal(ttlog_reader_open_same(r, TTLOG_READER_LAZY, &two[1]), TTLOG_OK);
	memset(parts, 0, cap * sizeof *parts);
	got = 0;
	for (size_t k = 0; k <= m; k++) {
		ttlog_reader *w = two[k % 2];
		const int64_t since = k ? cuts[k - 1] : INT64_MIN, until = k < m ? cuts[k] - 1 : INT64_MAX;
		if (k < 2 || !ttlog_reader_resume(w, since, until, TTLOG_READER_ALL_LEVELS)) {
			assert_true(k < 2);
			ttlog_reader_set_range(w, since, until, TTLOG_READER_ALL_LEVELS);
			ttlog_reader_rewind(w);
		}
		seen_read(w, parts, cap, &got);
	}
	assert_int_equal(got, n);
	seen_same(parts, all, n);

	/* Cuts at the times of span begins and ends, so that a range ends
	 * just before a record that opens or closes a scope: that record's
	 * change goes with the next range, once. */
	int64_t at_scope[64];
	size_t ns_cuts = 0;
	for (size_t i = 1; i < n && ns_cuts < 64; i++)
		if (all[i].kind != TTLOG_EVENT_LOG && all[i].time_ns > all[i - 1].time_ns &&
		    (ns_cuts == 0 || all[i].time_ns > at_scope[ns_cuts - 1]) && i % 3 == 0)
			at_scope[ns_cuts++] = all[i].time_ns;
	assert_true(ns_cuts >= 32);
	got = 0;
	for (size_t k = 0; k <= ns_cuts; k++) {
		const int64_t since = k ? at_scope[k - 1] : INT64_MIN,
			      until = k < ns_cuts ? at_scope[k] - 1 : INT64_MAX;
		if (k == 0) {
			ttlog_reader_set_range(r, since, until, TTLOG_READER_ALL_LEVELS);
			ttlog_reader_rewind(r);
		} else {
			assert_int_equal(ttlog_reader_resume(r, since, until, TTLOG_READER_ALL_LEVELS), 1);
		}
		seen_read(r, parts, cap, &got);
	}
	assert_int_equal(got, n);
	seen_same(parts, all, n);

	/* Part 3 read half-way, then part 4: exactly part 4. A rewind then
	 * reads part 4 again. */
	size_t at3 = size[0] + size[1] + size[2], at4 = at3 + size[3];
	ttlog_reader_set_range(r, cuts[2], cuts[3] - 1, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r);
	struct ttlog_event ev;
	for (size_t i = 0; i < size[3] / 2; i++)
		assert_int_equal(ttlog_reader_next(r, &ev), 1);
	for (int again = 0; again < 2; again++) {
		if (again)
			ttlog_reader_rewind(r);
		else
			assert_int_equal(ttlog_reader_resume(r, cuts[3], cuts[4] - 1,
							     TTLOG_READER_ALL_LEVELS), 1);
		got = 0;
		seen_read(r, parts, cap, &got);
		assert_int_equal(got, size[4]);
		seen_same(parts, all + at4, got);
	}
	ttlog_reader_close(two[1]);
	ttlog_reader_close(r);
	free(all);
	free(parts);
	unlink(path);
}

/* An empty range, and one before the file: nothing, and nothing decoded. */
static void test_empty_ranges(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("empty", 0, &tid);
	struct seen *all;
	int64_t t0;
	full_read(path, tid, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS, &all, &t0);
	free(all);
	struct ttlog_reader_counters c;
	ranged_read(path, INT64_MIN, INT64_MIN + 1, TTLOG_READER_ALL_LEVELS, NULL, 0, &c);
	assert_int_equal(c.blocks_decoded, 0);
	ranged_read(path, t0 + 5, t0 + 4, TTLOG_READER_ALL_LEVELS, NULL, 0, &c);
	assert_true(c.blocks_decoded <= 1);
	ranged_read(path, INT64_MIN, INT64_MAX, 0, NULL, 0, &c);
	unlink(path);
}

/* ttlog_reader_event_key(): distinct for the events of a file, and the same
 * for an event whether the file is read whole, lazily with a range and a
 * level mask, or without arguments. */
struct keyed {
	uint64_t key;
	int64_t time_ns;
	int64_t value;
};

static int keyed_order(const void *a, const void *b)
{
	uint64_t x = ((const struct keyed *)a)->key, y = ((const struct keyed *)b)->key;
	return x < y ? -1 : x > y;
}

static const struct keyed *keyed_find(const struct keyed *all, size_t n, uint64_t key)
{
	struct keyed k = {key, 0, 0};
	return bsearch(&k, all, n, sizeof k, keyed_order);
}

static void test_event_keys(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("keys", 1, &tid);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	assert_int_equal(ttlog_reader_event_key(r), 0); /* before the first event */
	size_t cap = ttlog_reader_info(r)->events, n = 0;
	struct keyed *all = calloc(cap ? cap : 1, sizeof *all);
	assert_non_null(all);
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(n < cap);
		all[n].key = ttlog_reader_event_key(r);
		all[n].time_ns = ev.time_ns;
		all[n].value = ev.kind == TTLOG_EVENT_LOG && ev.nargs ? ev.args[0].v.i : 0;
		assert_true(all[n].key != 0);
		n++;
	}
	assert_int_equal(n, cap);
	ttlog_reader_rewind(r);
	assert_int_equal(ttlog_reader_event_key(r), 0);
	ttlog_reader_close(r);
	assert_int_equal(ttlog_reader_event_key(NULL), 0);
	qsort(all, n, sizeof *all, keyed_order);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1].key < all[i].key); /* no two events share a key */

	static const unsigned flags[] = {TTLOG_READER_LAZY, TTLOG_READER_LAZY | TTLOG_READER_NO_ARGS,
					 TTLOG_READER_JOBS(2)};
	for (size_t k = 0; k < sizeof flags / sizeof *flags; k++) {
		assert_int_equal(ttlog_reader_open_ex(path, flags[k], &r), TTLOG_OK);
		int64_t t0 = ttlog_reader_info(r)->first_ns;
		ttlog_reader_set_range(r, t0 + 5 * (int64_t)1000000000, t0 + 9 * (int64_t)1000000000,
				       TTLOG_READER_ALL_LEVELS & ~(1u << TTLOG_LEVEL_INFO));
		ttlog_reader_rewind(r);
		size_t got = 0;
		while (ttlog_reader_next(r, &ev)) {
			const struct keyed *e = keyed_find(all, n, ttlog_reader_event_key(r));
			assert_non_null(e);
			assert_true(e->time_ns == ev.time_ns);
			if (!(flags[k] & TTLOG_READER_NO_ARGS) && ev.kind == TTLOG_EVENT_LOG && ev.nargs)
				assert_true(e->value == ev.args[0].v.i);
			got++;
		}
		assert_true(got > 0 && got < n);
		ttlog_reader_close(r);
	}
	free(all);
	unlink(path);
}

/* ttlog_reader_open_same(): a second reader of the bytes the first read,
 * with flags of its own, gives the same events; the bytes stay while any
 * reader of them is open, in whatever order they are closed or released. */
static void test_open_same(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("same", 0, &tid);
	ttlog_reader *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(ttlog_reader_open(path, &a), TTLOG_OK);
	assert_int_equal(ttlog_reader_open_same(a, TTLOG_READER_LAZY, &b), TTLOG_OK);
	assert_int_equal(ttlog_reader_counters(b)->blocks_decoded, 0); /* lazy, as asked */
	assert_int_equal(ttlog_reader_open_same(b, 0, &c), TTLOG_OK);
	assert_int_equal(ttlog_reader_info(c)->events, ttlog_reader_info(a)->events);
	assert_string_equal(ttlog_reader_info(c)->path, path);
	unlink(path); /* not read again */
	size_t n = ttlog_reader_info(a)->events;
	uint64_t *keys = calloc(n, sizeof *keys);
	assert_non_null(keys);
	struct ttlog_event ev;
	size_t i = 0;
	while (ttlog_reader_next(a, &ev))
		keys[i++] = ttlog_reader_event_key(a);
	assert_int_equal(i, n);
	ttlog_reader_close(a); /* the others still read the bytes */
	ttlog_reader_release(c);
	assert_int_equal(ttlog_reader_next(c, &ev), 0);
	ttlog_reader *d = NULL;
	assert_int_equal(ttlog_reader_open_same(c, 0, &d), TTLOG_E_INVALID); /* released */
	assert_null(d);
	for (i = 0; ttlog_reader_next(b, &ev); i++) {
		assert_true(i < n);
		assert_true(ttlog_reader_event_key(b) == keys[i]);
	}
	assert_int_equal(i, n);
	assert_int_equal(ttlog_reader_status(b), TTLOG_OK);
	ttlog_reader_close(c);
	ttlog_reader_close(b);
	assert_int_equal(ttlog_reader_open_same(NULL, 0, &d), TTLOG_E_INVALID);
	assert_int_equal(ttlog_reader_open_same(b, 0, NULL), TTLOG_E_INVALID);
	free(keys);
}

/* A reader of the same bytes trusts the chunk CRCs its source found right,
 * and only those: with a byte flipped inside a chunk (a wrong CRC), it
 * finds the same problem and gives the same events as the source. */
static void test_open_same_damaged(void **state)
{
	(void)state;
	uint32_t tid;
	const char *path = history_snapshot("same_damaged", 0, &tid);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size > 4096);
	assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, size / 2, SEEK_SET), 0);
	fputc(c ^ 0x5a, f);
	assert_int_equal(fclose(f), 0);
	for (int lazy = 0; lazy <= 1; lazy++) {
		ttlog_reader *a = NULL, *b = NULL;
		unsigned flags = lazy ? TTLOG_READER_LAZY : 0;
		assert_int_equal(ttlog_reader_open_ex(path, flags, &a), TTLOG_E_CORRUPT);
		assert_non_null(strstr(ttlog_reader_error(a), "CRC"));
		assert_int_equal(ttlog_reader_open_same(a, flags, &b), TTLOG_E_CORRUPT);
		assert_string_equal(ttlog_reader_error(b), ttlog_reader_error(a));
		struct ttlog_event ev;
		size_t na = 0, nb = 0;
		while (ttlog_reader_next(a, &ev))
			na++;
		while (ttlog_reader_next(b, &ev))
			nb++;
		assert_true(na > 0);
		assert_int_equal(nb, na);
		ttlog_reader_close(b);
		ttlog_reader_close(a);
	}
	unlink(path);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	ttlog_reader *r = (ttlog_reader *)1;
	assert_int_equal(ttlog_reader_open_ex("x", 0x80, &r), TTLOG_E_INVALID);
	assert_null(r);
	assert_int_equal(ttlog_reader_open_ex(NULL, TTLOG_READER_LAZY, &r), TTLOG_E_INVALID);
	assert_int_equal(ttlog_reader_open_ex("x", TTLOG_READER_LAZY, NULL), TTLOG_E_INVALID);
	assert_null(ttlog_reader_counters(NULL));
	ttlog_reader_set_range(NULL, 0, 0, 0); /* ignored */
	assert_int_equal(ttlog_reader_resume(NULL, 0, 1, TTLOG_READER_ALL_LEVELS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_second),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_empty_ranges),
		cmocka_unit_test(test_cut_times),
		cmocka_unit_test(test_scopes_kept),
		cmocka_unit_test(test_scopes_cut),
		cmocka_unit_test(test_event_keys),
		cmocka_unit_test(test_open_same),
		cmocka_unit_test(test_open_same_damaged),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_one_thread), /* last: its threads stay in the rings */
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
