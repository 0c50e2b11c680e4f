/* SPDX-License-Identifier: MIT */
/*
 * test_stream.c - the service identity in every file, and the stream
 * (TTLOG_STREAM): segments written by the background drainer, their chunk
 * order and counters, the stream level, rotation, retention, losses and
 * shutdown. Segments are checked through their raw chunks (the layout of
 * docs/FORMAT.md section 17) and, for their events, with the public reader.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* Whether this build runs under ThreadSanitizer (CI runs this test with
 * the concurrency tests there). */
static int under_tsan(void)
{
#if defined(__SANITIZE_THREAD__)
	return 1;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return 1;
#endif
#endif
	return 0;
}

/* ---- Raw files ----------------------------------------------------------- */

struct raw {
	unsigned char *p;
	size_t n;
};

static struct raw raw_load(const char *path)
{
	struct raw r = {NULL, 0};
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	r.p = malloc((size_t)n + 1);
	assert_non_null(r.p);
	r.n = fread(r.p, 1, (size_t)n, f);
	fclose(f);
	return r;
}

/* The chunk at *off (validated: CRC and bounds); 0 at the end of the
 * file. The payload goes in *payload, its length in *len. */
static uint32_t raw_chunk(const struct raw *r, size_t *off, const unsigned char **payload,
			  uint32_t *len, uint32_t *flags)
{
	if (*off + TTLOG__FMT_CHUNK_HEADER_SIZE > r->n)
		return 0;
	const unsigned char *h = r->p + *off;
	uint32_t type = ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF);
	*len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
	if (flags)
		*flags = ttlog__get_u32(h + TTLOG__FMT_CH_FLAGS_OFF);
	if (*len > r->n - *off - TTLOG__FMT_CHUNK_HEADER_SIZE)
		return 0;
	*payload = h + TTLOG__FMT_CHUNK_HEADER_SIZE;
	assert_int_equal(ttlog__get_u32(h + TTLOG__FMT_CH_CRC_OFF), ttlog__chunk_crc(h, *payload, *len));
	*off += TTLOG__FMT_CHUNK_HEADER_SIZE + *len;
	return type;
}

/* The HEAD of a file: its appended revision 5 fields. */
struct head5 {
	uint32_t flags;
	char service[80];
	uint64_t segment;
	int64_t stream_start;
};

static void raw_head(const struct raw *r, struct head5 *h)
{
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	const unsigned char *p;
	uint32_t len;
	assert_int_equal(raw_chunk(r, &off, &p, &len, NULL), TTLOG__FMT_CHUNK_HEAD);
	h->flags = ttlog__get_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF);
	size_t at = TTLOG__FMT_HEAD_FIXED_SIZE;
	for (int i = 0; i < 3; i++) /* executable, hostname, reason */
		at += 4 + ttlog__get_u32(p + at);
	uint32_t n = ttlog__get_u32(p + at);
	assert_true(n < sizeof h->service);
	assert_true(at + 4 + n + 16 == len);
	memcpy(h->service, p + at + 4, n);
	h->service[n] = '\0';
	at += 4 + n;
	h->segment = ttlog__get_u64(p + at);
	h->stream_start = (int64_t)ttlog__get_u64(p + at + 8);
}

/* ---- Service identity ------------------------------------------------------ */

static void head_of_new_snapshot(struct head5 *h)
{
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("service", path, sizeof path), TTLOG_OK);
	struct raw r = raw_load(path);
	raw_head(&r, h);
	free(r.p);
	unlink(path);
}

static void test_service_in_snapshot_head(void **state)
{
	(void)state;
	struct head5 h;
	unsetenv("TTLOG_SERVICE");
	assert_int_equal(tu_start(NULL), 0);
	TTLOG_INFO("one event");
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "test_stream"); /* the executable's base name */
	assert_int_equal(h.segment, 0);
	assert_int_equal(h.stream_start, 0);
	assert_int_equal(h.flags & TTLOG__FMT_HEAD_FLAG_SEGMENT, 0);
	ttlog_shutdown();

	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.service = "billing";
	assert_int_equal(tu_start(&cfg), 0);
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "billing");
	ttlog_shutdown();

	setenv("TTLOG_SERVICE", "billing-eu", 1); /* the environment wins */
	assert_int_equal(tu_start(&cfg), 0);
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "billing-eu");
	ttlog_shutdown();
	unsetenv("TTLOG_SERVICE");
}


/* ---- Segments ---------------------------------------------------------------- */

/* The *.ttseg files of dir, sorted by name (for one process: by time). */
static int list_segments(const char *dir, char ***paths)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0, cap = 16;
	char **v = malloc((size_t)cap * sizeof *v);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 6, ".ttseg") != 0)
			continue;
		if (n == cap)
			v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
		if (asprintf(&v[n], "%s/%s", dir, e->d_name) < 0)
			fail();
		n++;
	}
	closedir(d);
	for (int i = 1; i < n; i++) /* insertion sort */
		for (int j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*paths = v;
	return n;
}

#define MAX_INDEX 64

/* What a segment's raw chunks say. */
struct seg_facts {
	struct head5 head;
	int has_end, has_index;
	uint64_t end_events, end_lost, end_filtered, index_off, end_off;
	uint64_t evts_records;
	uint32_t end_threads, thrd_count, blocks;
	uint64_t lost[MAX_INDEX], filtered[MAX_INDEX], events[MAX_INDEX];
	uint64_t size;
	/* PRMT and the blocks after them */
	uint32_t prmt, prmt_scopes; /* prmt_scopes: bit n, a PRMT of scope n */
	uint64_t promoted, prom_first, prom_last, trigger_ticks, end_promoted;
};

static void seg_facts(const char *path, struct seg_facts *f)
{
	memset(f, 0, sizeof *f);
	struct raw r = raw_load(path);
	f->size = r.n;
	raw_head(&r, &f->head);
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	const unsigned char *p;
	uint32_t len, type, prev = 0, prmt_thread = 0, flags;
	f->prom_first = UINT64_MAX;
	for (;;) {
		size_t at = off;
		type = raw_chunk(&r, &off, &p, &len, &flags);
		if (!type)
			break;
		if (prev == TTLOG__FMT_CHUNK_PRMT)
			assert_int_equal(type, TTLOG__FMT_CHUNK_EVTS); /* 17.2: an EVTS follows */
		prev = type;
		if (type == TTLOG__FMT_CHUNK_PRMT) {
			assert_int_equal(len, TTLOG__FMT_PRMT_SIZE);
			assert_int_equal(flags, TTLOG__FMT_CHUNK_REQUIRED);
			f->prmt++;
			f->prmt_scopes |= 1u << (ttlog__get_u32(p + TTLOG__FMT_PRMT_SCOPE_OFF) & 31);
			prmt_thread = ttlog__get_u32(p + TTLOG__FMT_PRMT_THREAD_OFF);
			f->trigger_ticks = ttlog__get_u64(p + TTLOG__FMT_PRMT_TRIGGER_TICKS_OFF);
			continue;
		}
		if (type == TTLOG__FMT_CHUNK_EVTS) {
			f->blocks++;
			uint32_t count = ttlog__get_u32(p + TTLOG__FMT_EVTS_COUNT_OFF);
			f->evts_records += count;
			if (at >= TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_PRMT_SIZE && f->prmt &&
			    ttlog__get_u32(r.p + at - TTLOG__FMT_PRMT_SIZE - TTLOG__FMT_CHUNK_HEADER_SIZE) ==
				    TTLOG__FMT_CHUNK_PRMT) {
				assert_int_equal(ttlog__get_u32(p + TTLOG__FMT_EVTS_THREAD_OFF), prmt_thread);
				f->promoted += count;
				uint64_t first = ttlog__get_u64(p + TTLOG__FMT_EVTS_FIRST_OFF);
				uint64_t last = ttlog__get_u64(p + TTLOG__FMT_EVTS_LAST_OFF);
				if (first < f->prom_first)
					f->prom_first = first;
				if (last > f->prom_last)
					f->prom_last = last;
			}
		} else if (type == TTLOG__FMT_CHUNK_THRD) {
			uint32_t idx = ttlog__get_u32(p + TTLOG__FMT_THRD_INDEX_OFF);
			assert_true(idx < MAX_INDEX);
			size_t n = ttlog__get_u32(p + TTLOG__FMT_THRD_FIXED_SIZE);
			size_t tail = TTLOG__FMT_THRD_FIXED_SIZE + 4 + n;
			assert_int_equal(len, tail + 16); /* revision 5: stream_lost, filtered */
			f->events[idx] += ttlog__get_u64(p + TTLOG__FMT_THRD_EVENTS_OFF);
			f->lost[idx] += ttlog__get_u64(p + tail);
			f->filtered[idx] += ttlog__get_u64(p + tail + 8);
			f->thrd_count++;
		} else if (type == TTLOG__FMT_CHUNK_INDX) {
			f->has_index = 1;
			f->index_off = at;
		} else if (type == TTLOG__FMT_CHUNK_END) {
			assert_int_equal(len, TTLOG__FMT_END_FULL_SIZE);
			f->has_end = 1;
			f->end_off = at;
			f->end_events = ttlog__get_u64(p + TTLOG__FMT_END_EVENTS_OFF);
			f->end_threads = ttlog__get_u32(p + TTLOG__FMT_END_THREADS_OFF);
			assert_int_equal(ttlog__get_u64(p + TTLOG__FMT_END_INDEX_OFF), f->index_off);
			f->end_lost = ttlog__get_u64(p + TTLOG__FMT_END_STREAM_LOST_OFF);
			f->end_filtered = ttlog__get_u64(p + TTLOG__FMT_END_FILTERED_OFF);
			f->end_promoted = ttlog__get_u64(p + TTLOG__FMT_END_PROMOTED_OFF);
		}
	}
	free(r.p);
}

/* ---- The load program ---------------------------------------------------------- */

#define THREADS 4

struct load {
	unsigned index[THREADS];
	unsigned long count[THREADS], debug[THREADS];
	unsigned long long streamed, lost, filtered, errors, segments, deleted, debug_total, churn;
	int status;
	char out[8192];
};

/* Runs tests/progs/stream_load with the stream in dir (and the variables
 * the caller set), parses what it printed. */
static void run_load(const char *dir, long ms, const char *extra1, const char *extra2, int timeout,
		     struct load *L)
{
	memset(L, 0, sizeof *L);
	char threads[8], msec[16];
	snprintf(threads, sizeof threads, "%d", THREADS);
	snprintf(msec, sizeof msec, "%ld", ms);
	char *argv[] = {(char *)tu_prog("stream_load"), threads, msec, (char *)extra1, (char *)extra2, NULL};
	setenv("TTLOG_STREAM", dir, 1);
	assert_int_equal(tu_run(argv, timeout, &L->status, L->out, sizeof L->out), 0);
	unsetenv("TTLOG_STREAM");
	for (char *line = L->out; line && *line;) {
		unsigned t, idx;
		unsigned long n, d;
		if (sscanf(line, "thread %u %u %lu %lu", &t, &idx, &n, &d) == 4 && t < THREADS) {
			L->index[t] = idx;
			L->count[t] = n;
			L->debug[t] = d;
		}
		sscanf(line, "churn %llu", &L->churn);
		sscanf(line, "stats %llu %llu %llu %llu %llu %llu %llu", &L->streamed, &L->lost,
		       &L->filtered, &L->errors, &L->segments, &L->deleted, &L->debug_total);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

/* Every event of the store once, in per-thread order: returns how many of
 * thread t's events the segments hold, checking that their numbers only
 * grow (no event twice, none out of order) across all segments. */
static void check_events(char **paths, int n, const struct load *L, unsigned long *found)
{
	long long last[THREADS];
	for (int t = 0; t < THREADS; t++) {
		last[t] = -1;
		found[t] = 0;
	}
	for (int k = 0; k < n; k++) {
		ttlog_reader *r = NULL;
		int rc = ttlog_reader_open(paths[k], &r);
		assert_non_null(r);
		if (rc != TTLOG_OK && rc != TTLOG_E_TRUNCATED)
			fail_msg("%s: %s", paths[k], ttlog_reader_error(r));
		struct ttlog_event ev;
		while (ttlog_reader_next(r, &ev) == 1) {
			if (strcmp(ev.site->format, "load t=%u i=%lu") != 0)
				continue;
			unsigned t = (unsigned)ev.args[0].v.u;
			long long i = (long long)ev.args[1].v.u;
			assert_true(t < THREADS);
			assert_int_equal(ev.thread->index, L->index[t]);
			if (i <= last[t])
				fail_msg("thread %u: event %lld after %lld in %s", t, i, last[t], paths[k]);
			last[t] = i;
			found[t]++;
		}
		ttlog_reader_close(r);
	}
}

static char *stream_dir(const char *tag)
{
	char *d = tu_tmpdir(tag);
	assert_non_null(d);
	return d;
}

/* The records "info|debug|error t=%u i=%lu" of tests/progs/stream_crash,
 * counted by kind (0 info, 1 debug, 2 error), thread and i; and the
 * events whose "req" context was not 7 + t exactly once. */
#define CRASH_N 20000
struct crash_counts {
	unsigned char seen[3][2][CRASH_N];
	unsigned long bad_context, other;
};

static void crash_count(const struct ttlog_event *ev, struct crash_counts *c)
{
	if (ev->kind != TTLOG_EVENT_LOG)
		return;
	const char *f = ev->site->format;
	int k = strncmp(f, "info ", 5) == 0 ? 0 : strncmp(f, "debug ", 6) == 0 ? 1
		: strncmp(f, "error ", 6) == 0 ? 2 : -1;
	if (k < 0 || ev->nargs != 2 || ev->args[0].v.u > 1 || ev->args[1].v.u >= CRASH_N) {
		c->other++;
		return;
	}
	unsigned t = (unsigned)ev->args[0].v.u;
	unsigned long i = (unsigned long)ev->args[1].v.u;
	if (c->seen[k][t][i] < 255)
		c->seen[k][t][i]++;
	int req = 0;
	for (unsigned j = 0; j < ev->nfields; j++)
		if (strcmp(ev->fields[j].key, "req") == 0)
			req += ev->fields[j].value->v.u == 7 + t ? 1 : 100;
	c->bad_context += req != 1;
}

/* A crash of a process that streams with promotion, small segments and
 * small rings: the crash snapshot (the whole rings) and the segments (all
 * INFO records, promoted DEBUG ones, what the crash handler drained) read
 * as one store hold every INFO record once, every DEBUG record that was
 * still in the rings once (those pending a promotion decision at the
 * crash included), the ERROR once, each with its context, in every
 * segment (re-stated at each segment's start). */
static void test_crash_snapshot_and_segments_hold_every_record_once(void **state)
{
	(void)state;
	if (under_tsan())
		skip(); /* ThreadSanitizer reports the crash instead of dying of it */
	char *dir = stream_dir("stream-crash-all");
	char snaps[4096], prog[4096], count[32];
	snprintf(snaps, sizeof snaps, "%s/snapshots", dir);
	snprintf(prog, sizeof prog, "%s", tu_prog("stream_crash"));
	snprintf(count, sizeof count, "%d", CRASH_N);
	assert_int_equal(mkdir(snaps, 0700), 0);
	setenv("TTLOG_STREAM", dir, 1);
	setenv("TTLOG_DIR", snaps, 1);
	setenv("TTLOG_RING_SIZE", "64K", 1);
	setenv("TTLOG_SEGMENT_SIZE", "64K", 1);
	setenv("TTLOG_STREAM_POLICY", "block", 1);
	setenv("TTLOG_PROMOTE_BEFORE", "1ms", 1);
	setenv("TTLOG_PROMOTE_AFTER", "1ms", 1);
	char *argv[] = {prog, count, NULL};
	int status;
	char out[4096];
	assert_int_equal(tu_run(argv, 60, &status, out, sizeof out), 0);
	unsetenv("TTLOG_STREAM");
	unsetenv("TTLOG_DIR");
	unsetenv("TTLOG_RING_SIZE");
	unsetenv("TTLOG_SEGMENT_SIZE");
	unsetenv("TTLOG_STREAM_POLICY");
	unsetenv("TTLOG_PROMOTE_BEFORE");
	unsetenv("TTLOG_PROMOTE_AFTER");
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	char **paths;
	int n = list_segments(dir, &paths);
	assert_true(n >= 3); /* rotations before the crash */
	char **snap;
	assert_int_equal(tu_list_snapshots(snaps, &snap), 1);
	paths = realloc(paths, (size_t)(n + 1) * sizeof *paths);
	paths[n] = strdup(snap[0]);

	struct crash_counts *in_snap = calloc(1, sizeof *in_snap), *in_segs = calloc(1, sizeof *in_segs),
			    *all = calloc(1, sizeof *all);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(snap[0], &r), TTLOG_OK);
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1)
		crash_count(&ev, in_snap);
	ttlog_reader_close(r);
	for (int k = 0; k < n; k++) {
		assert_int_equal(ttlog_reader_open(paths[k], &r), TTLOG_OK);
		while (ttlog_reader_next(r, &ev) == 1)
			crash_count(&ev, in_segs);
		ttlog_reader_close(r);
	}
	ttlog_store *st = NULL;
	assert_int_equal(ttlog_store_open((const char *const *)paths, (size_t)n + 1, NULL, &st), TTLOG_OK);
	while (ttlog_store_next(st, &ev, NULL) == 1)
		crash_count(&ev, all);
	ttlog_store_close(st);

	assert_int_equal(all->other, 0);
	assert_int_equal(in_snap->bad_context + in_segs->bad_context + all->bad_context, 0);
	unsigned long debug_snap = 0, debug_pending = 0, promoted = 0;
	for (unsigned t = 0; t < 2; t++) {
		unsigned long lo = CRASH_N;
		for (unsigned long i = 0; i < CRASH_N; i++) {
			if (all->seen[0][t][i] != 1)
				fail_msg("info t=%u i=%lu: %u times in the store", t, i, all->seen[0][t][i]);
			if (all->seen[1][t][i] > 1 || (in_snap->seen[1][t][i] && !all->seen[1][t][i]))
				fail_msg("debug t=%u i=%lu: %u times in the store, %u in the snapshot", t, i,
					 all->seen[1][t][i], in_snap->seen[1][t][i]);
			if (in_snap->seen[1][t][i] && lo == CRASH_N)
				lo = i;
			debug_snap += in_snap->seen[1][t][i];
			promoted += in_segs->seen[1][t][i];
			debug_pending += t == 0 && in_snap->seen[1][t][i] && !in_segs->seen[1][t][i];
		}
		/* The ring's tail is whole: every DEBUG record from its oldest on. */
		for (unsigned long i = lo; i < CRASH_N; i++)
			if (!all->seen[1][t][i])
				fail_msg("debug t=%u i=%lu: missing after the ring's oldest, %lu", t, i, lo);
	}
	assert_int_equal(all->seen[2][0][CRASH_N / 2], 1);
	assert_true(debug_snap > 0);
	assert_true(promoted > 0);      /* the ERROR's window */
	assert_true(debug_pending > 0); /* in the rings only */
	free(in_snap);
	free(in_segs);
	free(all);
	tu_free_list(snap, 1);
	tu_free_list(paths, n + 1);
	free(dir);
}

/* Four threads at full speed into 1 MiB segments and small rings, so that
 * the drainer falls behind: every event is in the store exactly once and in
 * order, or counted as lost in its thread's THRD chunks; with the filtered
 * DEBUG records, nothing is unaccounted for. */
static void test_four_threads_every_event_once_or_counted(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-load");
	setenv("TTLOG_RING_SIZE", "64K", 1);
	setenv("TTLOG_SEGMENT_SIZE", "1M", 1);
	setenv("TTLOG_STREAM_MAX_BYTES", "unlimited", 1);
	struct load L;
	run_load(dir, 1500, NULL, NULL, 60, &L);
	unsetenv("TTLOG_RING_SIZE");
	unsetenv("TTLOG_SEGMENT_SIZE");
	unsetenv("TTLOG_STREAM_MAX_BYTES");
	if (!WIFEXITED(L.status) || WEXITSTATUS(L.status) != 0)
		fail_msg("stream_load: status %d: %s", L.status, L.out);

	char **paths;
	int n = list_segments(dir, &paths);
	assert_true(n >= 1);
	unsigned long found[THREADS];
	check_events(paths, n, &L, found);
	uint64_t lost[MAX_INDEX] = {0}, filtered[MAX_INDEX] = {0}, events[MAX_INDEX] = {0};
	unsigned long long all_found = 0;
	for (int k = 0; k < n; k++) {
		struct seg_facts f;
		seg_facts(paths[k], &f);
		/* Closed, numbered from 1 with no gap, one stream. */
		assert_true(f.has_end && f.has_index);
		assert_true(f.head.flags & TTLOG__FMT_HEAD_FLAG_SEGMENT);
		assert_int_equal(f.head.segment, (uint64_t)k + 1);
		assert_string_equal(f.head.service, "stream_load");
		assert_int_equal(f.end_events, f.evts_records);
		assert_int_equal(f.end_threads, f.thrd_count);
		/* Rotation by size: only the last cycle before it passes 1 MiB. */
		if (k < n - 1)
			assert_true(f.size >= (1u << 20));
		for (int i = 0; i < MAX_INDEX; i++) {
			lost[i] += f.lost[i];
			filtered[i] += f.filtered[i];
			events[i] += f.events[i];
		}
		all_found += f.evts_records;
	}
	unsigned long long all_lost = 0, all_filtered = 0;
	for (int t = 0; t < THREADS; t++) {
		unsigned idx = L.index[t];
		assert_true(idx < MAX_INDEX);
		/* Every record the thread made: streamed, lost or filtered. */
		assert_int_equal(found[t] + lost[idx] + filtered[idx], L.count[t] + L.debug[t]);
		assert_int_equal(events[idx], found[t]);
		all_lost += lost[idx];
		all_filtered += filtered[idx];
	}
	/* The statistics say the same. */
	assert_int_equal(L.streamed, all_found);
	assert_int_equal(L.lost, all_lost);
	assert_int_equal(L.filtered, all_filtered);
	assert_int_equal(L.errors, 0);
	assert_int_equal(L.segments, (unsigned long long)n);
	fprintf(stderr, "    %d segments; streamed %llu, lost %llu, filtered %llu\n", n, L.streamed,
		L.lost, L.filtered);
	tu_free_list(paths, n);
	free(dir);
}

/* Retention: with at most 3 segments of 1 MiB kept, the oldest go, counted;
 * what is left is the newest segments, each whole. */
static void test_retention_by_files_and_bytes(void **state)
{
	(void)state;
	for (int mode = 0; mode < 2; mode++) {
		char *dir = stream_dir(mode ? "stream-ret-bytes" : "stream-ret-files");
		/* A file that is not a segment is never touched. */
		char other[4096];
		snprintf(other, sizeof other, "%s/stream_load-1-notes.txt", dir);
		FILE *f = fopen(other, "w");
		assert_non_null(f);
		fclose(f);
		setenv("TTLOG_RING_SIZE", "64K", 1);
		setenv("TTLOG_SEGMENT_SIZE", "1M", 1);
		setenv(mode ? "TTLOG_STREAM_MAX_BYTES" : "TTLOG_STREAM_MAX_FILES", mode ? "3M" : "3", 1);
		if (mode)
			setenv("TTLOG_STREAM_LEVEL", "debug", 1); /* more bytes */
		struct load L;
		/* Until 6 segments are closed, however long that takes. */
		run_load(dir, 120000, "--segments", "6", 200, &L);
		unsetenv("TTLOG_RING_SIZE");
		unsetenv("TTLOG_SEGMENT_SIZE");
		unsetenv("TTLOG_STREAM_MAX_BYTES");
		unsetenv("TTLOG_STREAM_MAX_FILES");
		unsetenv("TTLOG_STREAM_LEVEL");
		assert_true(WIFEXITED(L.status) && WEXITSTATUS(L.status) == 0);
		char **paths;
		int n = list_segments(dir, &paths);
		uint64_t total = 0, first = 0;
		for (int k = 0; k < n; k++) {
			struct seg_facts sf;
			seg_facts(paths[k], &sf);
			assert_true(sf.has_end);
			if (k == 0)
				first = sf.head.segment;
			assert_int_equal(sf.head.segment, first + (uint64_t)k); /* the newest, no gap */
			total += sf.size;
		}
		if (L.deleted == 0)
			fail_msg("nothing deleted: %d segments, %llu written", n, L.segments);
		assert_int_equal((unsigned long long)n + L.deleted, L.segments);
		assert_int_equal(first, L.deleted + 1); /* the oldest went first */
		if (mode == 0)
			assert_true(n <= 3);
		else /* checked when a segment is opened: the open one may add up to one segment */
			assert_true(total <= (3u << 20) + (2u << 20));
		assert_int_equal(access(other, F_OK), 0);
		tu_free_list(paths, n);
		free(dir);
	}
}

/* A disk that fills (a file-size limit): the program goes on, the stream
 * says why once, and everything it could not write is counted: what the
 * segments hold plus what was lost or filtered is everything logged. */
static void test_full_disk_loses_only_counted_events(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-full");
	setenv("TTLOG_RING_SIZE", "64K", 1);
	setenv("TTLOG_SEGMENT_SIZE", "1M", 1);
	struct load L;
	/* Until the stream's first write error, however long that takes (a
	 * slow build or a loaded machine writes less in a second). */
	run_load(dir, 40000, "--fsize", "300000", 60, &L);
	unsetenv("TTLOG_RING_SIZE");
	unsetenv("TTLOG_SEGMENT_SIZE");
	if (!WIFEXITED(L.status) || WEXITSTATUS(L.status) != 0)
		fail_msg("stream_load: status %d: %s", L.status, L.out);
	assert_true(L.errors > 0);
	const char *said = strstr(L.out, "ttlog: stream stopped:");
	assert_non_null(said);
	assert_null(strstr(said + 1, "ttlog: stream stopped:")); /* once */
	char **paths;
	int n = list_segments(dir, &paths);
	unsigned long found[THREADS];
	check_events(paths, n, &L, found);
	unsigned long long all_found = 0, logged = 0;
	for (int t = 0; t < THREADS; t++) {
		all_found += found[t];
		logged += L.count[t] + L.debug[t];
	}
	int closed = 0;
	for (int k = 0; k < n; k++) {
		struct seg_facts f;
		seg_facts(paths[k], &f);
		assert_true(f.size <= 300000);
		if (!f.has_end)
			continue; /* cut short by the limit: open for ever */
		closed++;
		/* A closed segment's THRD chunks count its own events only, not
		 * those of the segment that failed before it. */
		uint64_t thrd_events = 0;
		for (int i = 0; i < MAX_INDEX; i++)
			thrd_events += f.events[i];
		assert_int_equal(thrd_events, f.evts_records);
		assert_int_equal(f.end_events, f.evts_records);
	}
	assert_true(closed >= 1); /* the last one, at shutdown */
	assert_int_equal(all_found, L.streamed);
	assert_int_equal(L.streamed + L.lost + L.filtered, logged);
	tu_free_list(paths, n);
	free(dir);
}

/* SIGTERM: the handler drains, closes the segment with its END, and the
 * signal then does what it would have done (here: end the process). */
static void test_sigterm_closes_the_segment(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-term");
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		setenv("TTLOG_STREAM", dir, 1);
		setenv("TTLOG_SIGNALS", "none", 1);
		execl(tu_prog("stream_load"), "stream_load", "1", "100", "--term", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[4096];
	size_t got = 0;
	while (got < sizeof buf - 1) {
		ssize_t k = read(fds[0], buf + got, sizeof buf - 1 - got);
		if (k <= 0)
			break;
		got += (size_t)k;
		buf[got] = '\0';
		if (strstr(buf, "ready\n"))
			break;
	}
	close(fds[0]);
	assert_non_null(strstr(buf, "ready\n"));
	kill(pid, SIGTERM);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	char **paths;
	int n = list_segments(dir, &paths);
	assert_int_equal(n, 1);
	struct seg_facts f;
	seg_facts(paths[0], &f);
	assert_true(f.has_end);
	assert_int_equal(f.end_off + TTLOG__FMT_SEGMENT_TRAILER_SIZE, f.size); /* END is last */
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(paths[0], &r), TTLOG_OK);
	assert_int_equal(tu_count_format(r, "last words before the signal"), 1);
	ttlog_reader_close(r);
	tu_free_list(paths, n);
	free(dir);
}

/* In process: the stream level per target, records that are not log calls
 * always streamed, rotation by age, and the stream's thread. */
static void test_level_contexts_and_age(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-level");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.stream = dir;
	cfg.stream_level = "warn,stream-net=debug";
	cfg.segment_age_ns = 100ull * 1000000ull;
	cfg.promote_level = TTLOG_LEVEL_OFF; /* the reader stops at PRMT for now */
	assert_int_equal(tu_start(&cfg), 0);
	TTLOG_INFO("info, filtered");
	TTLOG_WARN("warn, kept");
	{
		TTLOG_CONTEXT("request", 42);
		TTLOG_ERROR("error in a context");
	}
	TTLOG_DEBUG("debug, filtered");
	struct timespec ts = {0, 350 * 1000000};
	nanosleep(&ts, NULL);
	TTLOG_WARN("after the rotation");
	ttlog_shutdown();
	struct ttlog_stats st;
	ttlog_get_stats(&st);
	char **paths;
	int n = list_segments(dir, &paths);
	assert_true(n >= 2); /* 100 ms segments over 350 ms */
	int warn = 0, err = 0, info = 0, late = 0, ctx = 0;
	for (int k = 0; k < n; k++) {
		ttlog_reader *r = NULL;
		assert_int_equal(ttlog_reader_open(paths[k], &r), TTLOG_OK);
		struct ttlog_event ev;
		while (ttlog_reader_next(r, &ev) == 1) {
			warn += strcmp(ev.site->format, "warn, kept") == 0;
			info += strstr(ev.site->format, "filtered") != NULL;
			late += strcmp(ev.site->format, "after the rotation") == 0;
			if (strcmp(ev.site->format, "error in a context") == 0) {
				err++;
				for (unsigned i = 0; i < ev.nfields; i++)
					ctx += strcmp(ev.fields[i].key, "request") == 0;
			}
		}
		ttlog_reader_close(r);
	}
	assert_int_equal(warn, 1);
	assert_int_equal(err, 1);
	assert_int_equal(ctx, 1); /* the context push was streamed though below the level */
	assert_int_equal(info, 0);
	assert_int_equal(late, 1);
	assert_true(st.stream_filtered >= 2);
	tu_free_list(paths, n);
	free(dir);
}

/* What an event of format fmt in a file or store says of its scopes:
 * how many there were, and of the last one its "request" and "user"
 * fields (how many times each, value of request) and its span. */
struct scoped {
	int events, request, user, depth;
	uint64_t request_value;
	char span[32];
};

static void note_scoped(const struct ttlog_event *ev, const char *fmt, struct scoped *o)
{
	if (ev->kind != TTLOG_EVENT_LOG || strcmp(ev->site->format, fmt) != 0)
		return;
	o->events++;
	o->request = o->user = 0;
	for (unsigned i = 0; i < ev->nfields; i++) {
		if (strcmp(ev->fields[i].key, "request") == 0) {
			o->request++;
			o->request_value = ev->fields[i].value->v.u;
		}
		o->user += strcmp(ev->fields[i].key, "user") == 0;
	}
	o->depth = (int)ev->depth;
	snprintf(o->span, sizeof o->span, "%s", ev->span && ev->span->name ? ev->span->name : "");
}

static void scoped_in_file(const char *path, const char *fmt, struct scoped *o)
{
	memset(o, 0, sizeof *o);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1)
		note_scoped(&ev, fmt, o);
	ttlog_reader_close(r);
}

static void scoped_in_store(char **paths, int n, const char *fmt, struct scoped *o)
{
	memset(o, 0, sizeof *o);
	ttlog_store *st = NULL;
	assert_int_equal(ttlog_store_open((const char *const *)paths, (size_t)n, NULL, &st), TTLOG_OK);
	struct ttlog_event ev;
	while (ttlog_store_next(st, &ev, NULL) == 1)
		note_scoped(&ev, fmt, o);
	ttlog_store_close(st);
}

/* Contexts and a span opened in one segment and still open in a later one:
 * each segment re-states them at its start (FORMAT.md 17.1), so an event of
 * the later segment has them when that segment is read alone (the earlier
 * ones deleted), and once each when all are read as one store. */
static void test_segments_restate_open_scopes(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-restate");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.stream = dir;
	cfg.segment_age_ns = 100ull * 1000000ull;
	cfg.promote_level = TTLOG_LEVEL_OFF;
	assert_int_equal(tu_start(&cfg), 0);
	{
		TTLOG_CONTEXT("request", 42);
		TTLOG_CONTEXT("user", 7);
		TTLOG_SPAN("checkout");
		TTLOG_INFO("scopes opened");
		struct timespec ts = {0, 350 * 1000000};
		nanosleep(&ts, NULL); /* three rotations or more */
		TTLOG_INFO("inside, segments later");
	}
	TTLOG_INFO("outside");
	ttlog_shutdown();
	char **paths;
	int n = list_segments(dir, &paths);
	assert_true(n >= 3);
	int first = -1, later = -1;
	struct scoped o;
	for (int k = 0; k < n; k++) {
		scoped_in_file(paths[k], "scopes opened", &o);
		if (o.events)
			first = k;
		scoped_in_file(paths[k], "inside, segments later", &o);
		if (o.events)
			later = k;
	}
	assert_true(first >= 0 && later > first);
	/* The later segment alone. */
	scoped_in_file(paths[later], "inside, segments later", &o);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.request, 1);
	assert_int_equal(o.request_value, 42);
	assert_int_equal(o.user, 1);
	assert_int_equal(o.depth, 1);
	assert_string_equal(o.span, "checkout");
	scoped_in_file(paths[later], "outside", &o);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.request + o.user + o.depth, 0);
	/* Every segment as one store: the event once, each context once. */
	scoped_in_store(paths, n, "inside, segments later", &o);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.request, 1);
	assert_int_equal(o.user, 1);
	assert_int_equal(o.depth, 1);
	assert_string_equal(o.span, "checkout");
	/* The earlier segments deleted: the store of the rest. */
	for (int k = 0; k < later; k++)
		assert_int_equal(unlink(paths[k]), 0);
	scoped_in_store(paths + later, n - later, "inside, segments later", &o);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.request, 1);
	assert_int_equal(o.user, 1);
	assert_string_equal(o.span, "checkout");
	tu_free_list(paths, n);
	free(dir);
}

/* Log events at or above INFO in a file. */
static int info_events(const char *path, int *status)
{
	ttlog_reader *r = NULL;
	*status = ttlog_reader_open(path, &r);
	assert_non_null(r);
	int n = 0;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1)
		n += ev.kind == TTLOG_EVENT_LOG && ev.site->level >= TTLOG_LEVEL_INFO;
	ttlog_reader_close(r);
	return n;
}

/* A crash: the crash snapshot is written as always, and the open segment
 * gets the rest of the rings and its END from the crash handler, so the
 * segment holds every INFO event the snapshot has. */
static void test_crash_closes_the_segment(void **state)
{
	(void)state;
	if (under_tsan())
		skip(); /* ThreadSanitizer reports the example's crash instead of dying of it */
	char *dir = stream_dir("stream-crash");
	char snaps[4096], prog[4096];
	snprintf(snaps, sizeof snaps, "%s/snapshots", dir);
	/* tests/progs/crasher: its NULL store reaches the CPU under UBSan
	 * too (the example's would be reported and exit 1 instead). */
	snprintf(prog, sizeof prog, "%s", tu_prog("crasher"));
	assert_int_equal(mkdir(snaps, 0700), 0);
	setenv("TTLOG_STREAM", dir, 1);
	setenv("TTLOG_DIR", snaps, 1);
	char *argv[] = {prog, snaps, "segv", NULL};
	int status;
	char out[4096];
	assert_int_equal(tu_run(argv, 60, &status, out, sizeof out), 0);
	unsetenv("TTLOG_STREAM");
	unsetenv("TTLOG_DIR");
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	char **paths;
	int n = list_segments(dir, &paths);
	assert_int_equal(n, 1);
	struct seg_facts f;
	seg_facts(paths[0], &f);
	assert_true(f.has_end);
	assert_false(f.has_index); /* the crash handler writes none */
	char **snap;
	assert_int_equal(tu_list_snapshots(snaps, &snap), 1);
	int st_seg, st_snap;
	int in_seg = info_events(paths[0], &st_seg), in_snap = info_events(snap[0], &st_snap);
	assert_int_equal(st_seg, TTLOG_OK);
	assert_true(in_snap > 0);
	assert_int_equal(in_seg, in_snap);
	tu_free_list(snap, 1);
	tu_free_list(paths, n);
	free(dir);
}

/* Threads that come and go under a memory cap reuse the rings of exited
 * ones: what the stream had not read of an exited thread's ring when it
 * was reset is counted as lost, so every record is still accounted for. */
static void test_reused_rings_lose_only_counted_events(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-churn");
	setenv("TTLOG_RING_SIZE", "64K", 1);
	setenv("TTLOG_MEMORY_CAP", "256K", 1);
	struct load L;
	run_load(dir, 0, "--churn", "20", 60, &L);
	unsetenv("TTLOG_RING_SIZE");
	unsetenv("TTLOG_MEMORY_CAP");
	if (!WIFEXITED(L.status) || WEXITSTATUS(L.status) != 0)
		fail_msg("stream_load: status %d: %s", L.status, L.out);
	assert_true(L.churn > 0);
	assert_int_equal(L.streamed + L.lost + L.filtered, L.churn);
	char **paths;
	int n = list_segments(dir, &paths);
	unsigned long long in_files = 0;
	for (int k = 0; k < n; k++) {
		struct seg_facts f;
		seg_facts(paths[k], &f);
		in_files += f.evts_records;
	}
	assert_int_equal(in_files, L.streamed);
	tu_free_list(paths, n);
	free(dir);
}

/* The block policy: a thread about to overwrite records the stream has not
 * read waits for it (in its slow path), so nothing is lost: every INFO
 * event is in the store, once and in order, and every DEBUG one filtered. */
static void test_block_policy_loses_nothing(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-block");
	setenv("TTLOG_RING_SIZE", "64K", 1);
	setenv("TTLOG_STREAM_POLICY", "block", 1);
	struct load L;
	run_load(dir, 500, NULL, NULL, 60, &L);
	unsetenv("TTLOG_RING_SIZE");
	unsetenv("TTLOG_STREAM_POLICY");
	if (!WIFEXITED(L.status) || WEXITSTATUS(L.status) != 0)
		fail_msg("stream_load: status %d: %s", L.status, L.out);
	char **paths;
	int n = list_segments(dir, &paths);
	unsigned long found[THREADS];
	check_events(paths, n, &L, found);
	unsigned long long debug = 0;
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(found[t], L.count[t]);
		debug += L.debug[t];
	}
	assert_int_equal(L.lost, 0);
	assert_int_equal(L.filtered, debug);
	tu_free_list(paths, n);
	free(dir);
}

/* Promotion (FORMAT.md 17.2), with the fake clock (1 us per event): an
 * ERROR after 200 DEBUG records and before 100 more streams exactly the
 * DEBUG records from 50 us before it to 20 us after it, in blocks of their
 * own after a PRMT chunk, once; the other DEBUG records are filtered. */
static void test_promotion_window(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-promote");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	/* A stream before, with the real clock and a promotion: nothing of it
	 * may carry over to the next stream's promotions. */
	char *first = stream_dir("stream-promote-first");
	cfg.stream = first;
	assert_int_equal(tu_start(&cfg), 0);
	TTLOG_DEBUG("a debug record");
	TTLOG_ERROR("an earlier error");
	ttlog_shutdown();
	free(first);
	setenv("TTLOG_CLOCK", "fake", 1);
	cfg.stream = dir;
	cfg.promote_before_ns = 50000;
	cfg.promote_after_ns = 20000;
	struct ttlog_stats before;
	ttlog_get_stats(&before);
	assert_int_equal(tu_start(&cfg), 0);
	for (int i = 0; i < 200; i++)
		TTLOG_DEBUG("before i=%d", i);
	TTLOG_ERROR("boom");
	for (int j = 0; j < 100; j++)
		TTLOG_DEBUG("after j=%d", j);
	ttlog_shutdown();
	unsetenv("TTLOG_CLOCK");
	struct ttlog_stats after;
	ttlog_get_stats(&after);
	char **paths;
	int n = list_segments(dir, &paths);
	assert_int_equal(n, 1);
	struct seg_facts f;
	seg_facts(paths[0], &f);
	assert_true(f.has_end);
	assert_true(f.prmt >= 1);
	assert_int_equal(f.promoted, 70); /* 50 before, 20 after */
	assert_int_equal(f.end_promoted, 70);
	assert_true(f.prom_first >= f.trigger_ticks - 50000);
	assert_true(f.prom_last <= f.trigger_ticks + 20000);
	assert_int_equal(f.end_filtered, 300 - 70);
	assert_int_equal(f.evts_records, 70 + 1); /* and the ERROR itself */
	assert_int_equal(after.stream_promoted - before.stream_promoted, 70);
	tu_free_list(paths, n);
	free(dir);
}

static char trace_parent[TTLOG_TRACEPARENT_SIZE];

/* A thread that works for the request's trace, then outside it. */
static void *trace_worker(void *arg)
{
	(void)arg;
	assert_int_equal(ttlog_trace_continue(trace_parent), TTLOG_OK);
	TTLOG_SPAN_BEGIN("work");
	for (int i = 0; i < 10; i++)
		TTLOG_DEBUG("in the trace %d", i);
	TTLOG_SPAN_END();
	for (int i = 0; i < 10; i++)
		TTLOG_DEBUG("outside it %d", i);
	return NULL;
}

/* A thread that has nothing to do with the request. */
static void *other_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++)
		TTLOG_DEBUG("another request %d", i);
	return NULL;
}

/* Trace scope (the default): an error in a span promotes the DEBUG records
 * of other threads made in the same trace, and no others. */
static void test_promotion_follows_the_trace(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-trace");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.stream = dir;
	assert_int_equal(tu_start(&cfg), 0);
	TTLOG_SPAN_BEGIN("request");
	assert_int_equal(ttlog_traceparent(trace_parent, sizeof trace_parent), TTLOG_OK);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, trace_worker, NULL), 0);
	pthread_join(t, NULL);
	assert_int_equal(pthread_create(&t, NULL, other_worker, NULL), 0);
	pthread_join(t, NULL);
	TTLOG_ERROR("the request failed");
	TTLOG_SPAN_END();
	ttlog_shutdown();
	char **paths;
	int n = list_segments(dir, &paths);
	assert_int_equal(n, 1);
	struct seg_facts f;
	seg_facts(paths[0], &f);
	assert_true(f.has_end);
	assert_int_equal(f.promoted, 10);
	assert_int_equal(f.end_promoted, 10);
	assert_true(f.prmt_scopes & (1u << TTLOG__FMT_PROMOTE_TRACE));
	assert_int_equal(f.end_filtered, 20);
	tu_free_list(paths, n);
	free(dir);
}

/* Events a reader gets from the file image at path; its status in *rc and
 * its message in why. */
static long count_events(const char *path, int *rc, char *why, size_t why_size)
{
	ttlog_reader *r = NULL;
	*rc = ttlog_reader_open(path, &r);
	assert_non_null(r);
	long n = 0;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1)
		n++;
	if (ttlog_reader_status(r) != TTLOG_OK)
		*rc = ttlog_reader_status(r);
	snprintf(why, why_size, "%s", ttlog_reader_error(r) ? ttlog_reader_error(r) : "");
	ttlog_reader_close(r);
	return n;
}

/* A segment's blocks are packed (codec 2) and its header says so; a packed
 * block whose records do not fit its raw_size keeps the records before the
 * one that does not fit, with a precise error, and the other blocks whole. */
static void test_packed_block_damage(void **state)
{
	(void)state;
	char *dir = stream_dir("stream-packed");
	struct load L;
	run_load(dir, 200, NULL, NULL, 60, &L);
	if (!WIFEXITED(L.status) || WEXITSTATUS(L.status) != 0)
		fail_msg("stream_load: status %d: %s", L.status, L.out);
	char **paths;
	int nseg = list_segments(dir, &paths);
	assert_true(nseg >= 1);
	int rc;
	char why[512];
	long all = count_events(paths[0], &rc, why, sizeof why);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", paths[0], why);

	FILE *f = fopen(paths[0], "r+b");
	assert_non_null(f);
	static unsigned char img[64 << 20];
	size_t size = fread(img, 1, sizeof img, f);
	assert_true(size > 24 && size < sizeof img);
	assert_int_equal(ttlog__get_u32(img + TTLOG__FMT_FH_INCOMPAT_OFF), TTLOG__FMT_INCOMPAT_PACKED);
	/* The first packed block of 8 records or more: half its raw size. */
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE, hit = 0;
	uint32_t count = 0;
	while (off + TTLOG__FMT_CHUNK_HEADER_SIZE <= size) {
		unsigned char *h = img + off, *p = h + TTLOG__FMT_CHUNK_HEADER_SIZE;
		uint32_t len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
		if (ttlog__get_u32(h) == TTLOG__FMT_CHUNK_EVTS &&
		    p[TTLOG__FMT_EVTS_CODEC_OFF] == TTLOG__FMT_CODEC_PACKED &&
		    ttlog__get_u32(p + TTLOG__FMT_EVTS_COUNT_OFF) >= 8) {
			hit = off;
			count = ttlog__get_u32(p + TTLOG__FMT_EVTS_COUNT_OFF);
			uint32_t raw = ttlog__get_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF);
			ttlog__put_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF, raw / 2 & ~7u);
			ttlog__put_u32(h + TTLOG__FMT_CH_CRC_OFF, ttlog__chunk_crc(h, p, len));
			break;
		}
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + len;
	}
	assert_true(hit != 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	assert_int_equal(fwrite(img, 1, size, f), size);
	fclose(f);
	long kept = count_events(paths[0], &rc, why, sizeof why);
	assert_int_equal(rc, TTLOG_E_CORRUPT);
	if (!strstr(why, "codec 2 record") || !strstr(why, "raw_size"))
		fail_msg("unexpected error: %s", why);
	/* Some of the block's records, not all, and every other block's. */
	assert_true(kept < all);
	assert_true(kept > all - (long)count);
	tu_free_list(paths, nseg);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packed_block_damage),
		cmocka_unit_test(test_service_in_snapshot_head),
		cmocka_unit_test(test_level_contexts_and_age),
		cmocka_unit_test(test_segments_restate_open_scopes),
		cmocka_unit_test(test_four_threads_every_event_once_or_counted),
		cmocka_unit_test(test_retention_by_files_and_bytes),
		cmocka_unit_test(test_full_disk_loses_only_counted_events),
		cmocka_unit_test(test_sigterm_closes_the_segment),
		cmocka_unit_test(test_crash_closes_the_segment),
		cmocka_unit_test(test_crash_snapshot_and_segments_hold_every_record_once),
		cmocka_unit_test(test_reused_rings_lose_only_counted_events),
		cmocka_unit_test(test_block_policy_loses_nothing),
		cmocka_unit_test(test_promotion_window),
		cmocka_unit_test(test_promotion_follows_the_trace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
