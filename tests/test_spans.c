/* SPDX-License-Identifier: MIT */
/*
 * test_spans.c - spans: nesting and parent ids, the scoped form's end (also
 * on an early return), durations, fields, W3C traceparent out and in, a
 * trace followed across threads and across fork()+exec(), unique ids (also
 * in a forked child), spans that outlive a ring wrap, and nesting deeper
 * than the library keeps.
 *
 * Each test takes its own snapshot and checks what the reader rebuilds:
 * span begin and end events with their ttlog_span, and the span every log
 * event inside them carries.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* An event, copied out of the reader (its pointers do not last). */
struct seen {
	int kind;
	char text[96];   /* the span's name for span events, else the format */
	int has_span;
	uint64_t id, parent, trace_hi, trace_lo;
	unsigned depth;
	int64_t time_ns, duration_ns;
	uint32_t tid;
	unsigned nfields;
	char field_keys[4][32];
	int64_t field_values[4]; /* integer fields only */
};

#define MAX_SEEN 256

/* Takes a snapshot and copies its events whose text starts with prefix
 * (span events: their span's name). Returns the count. */
static int collect(const char *reason, const char *prefix, struct seen *out, int max)
{
	ttlog_reader *r = tu_snapshot_open(reason);
	assert_non_null(r);
	struct ttlog_event ev;
	int n = 0;
	while (ttlog_reader_next(r, &ev)) {
		const char *text = ev.kind == TTLOG_EVENT_LOG ? ev.site->format
				   : ev.span              ? ev.span->name
							  : "";
		if (strncmp(text, prefix, strlen(prefix)) != 0)
			continue;
		assert_true(n < max);
		struct seen *s = &out[n++];
		memset(s, 0, sizeof *s);
		s->kind = ev.kind;
		snprintf(s->text, sizeof s->text, "%s", text);
		s->time_ns = ev.time_ns;
		s->depth = ev.depth;
		s->tid = ev.thread->tid;
		if (ev.span) {
			s->has_span = 1;
			s->id = ev.span->id;
			s->parent = ev.span->parent;
			s->trace_hi = ev.span->trace_hi;
			s->trace_lo = ev.span->trace_lo;
			s->duration_ns = ev.span->duration_ns;
		}
		for (unsigned i = 0; i < ev.nfields && s->nfields < 4; i++) {
			const struct ttlog_arg *a = ev.fields[i].value;
			if (a->type == TTLOG_ARG_STR || a->type == TTLOG_ARG_F64)
				continue;
			snprintf(s->field_keys[s->nfields], 32, "%s", ev.fields[i].key);
			s->field_values[s->nfields++] = a->v.i;
		}
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
	return n;
}

static const struct seen *find(const struct seen *s, int n, int kind, const char *text, int nth)
{
	for (int i = 0; i < n; i++)
		if (s[i].kind == kind && strcmp(s[i].text, text) == 0 && nth-- == 0)
			return &s[i];
	fail_msg("no event %d '%s' #%d", kind, text, nth);
	return NULL;
}

static int64_t field(const struct seen *s, const char *key)
{
	for (unsigned i = 0; i < s->nfields; i++)
		if (strcmp(s->field_keys[i], key) == 0)
			return s->field_values[i];
	fail_msg("no field '%s' on '%s'", key, s->text);
	return 0;
}

/* ---- Nesting, scopes, durations ------------------------------------------ */

static int step(int n)
{
	TTLOG_SPAN("nest.step", TTLOG_F("n", n));
	TTLOG_INFO("nest.in step n=%d", n);
	if (n == 2)
		return -1; /* the early return ends the span too */
	TTLOG_INFO("nest.after n=%d", n);
	return 0;
}

static void test_nesting_and_scoped_end(void **state)
{
	(void)state;
	assert_int_equal(ttlog_span_depth(), 0);
	TTLOG_SPAN_BEGIN("nest.request");
	assert_int_equal(ttlog_span_depth(), 1);
	step(1);
	step(2);
	assert_int_equal(ttlog_span_depth(), 1);
	TTLOG_INFO("nest.between");
	TTLOG_SPAN_END();
	TTLOG_SPAN_END(); /* one too many: ignored */
	assert_int_equal(ttlog_span_depth(), 0);
	TTLOG_INFO("nest.outside");

	struct seen s[MAX_SEEN];
	int n = collect("span-nesting", "nest.", s, MAX_SEEN);
	/* begin request, (begin step, in, [after], end step) x 2, between,
	 * end request, outside */
	assert_int_equal(n, 11);
	const struct seen *rb = find(s, n, TTLOG_EVENT_SPAN_BEGIN, "nest.request", 0);
	const struct seen *re = find(s, n, TTLOG_EVENT_SPAN_END, "nest.request", 0);
	assert_int_equal(rb->parent, 0);
	assert_true(rb->trace_hi | rb->trace_lo);
	assert_int_equal(rb->depth, 0);
	assert_int_equal(re->id, rb->id);
	assert_true(re->duration_ns >= 0);
	assert_int_equal(re->duration_ns, re->time_ns - rb->time_ns);
	for (int k = 0; k < 2; k++) {
		const struct seen *b = find(s, n, TTLOG_EVENT_SPAN_BEGIN, "nest.step", k);
		const struct seen *e = find(s, n, TTLOG_EVENT_SPAN_END, "nest.step", k);
		const struct seen *in = find(s, n, TTLOG_EVENT_LOG, "nest.in step n=%d", k);
		assert_int_equal(b->parent, rb->id);
		assert_int_equal(b->trace_hi, rb->trace_hi);
		assert_int_equal(b->trace_lo, rb->trace_lo);
		assert_int_not_equal(b->id, rb->id);
		assert_int_equal(b->depth, 1);
		assert_int_equal(field(b, "n"), k + 1);
		assert_int_equal(e->id, b->id);
		assert_int_equal(e->depth, 1);
		assert_true(e->duration_ns >= 0);
		assert_true(e->time_ns >= in->time_ns);
		/* The log event inside carries the step, one level deeper. */
		assert_true(in->has_span);
		assert_int_equal(in->id, b->id);
		assert_int_equal(in->depth, 2);
	}
	/* The second step returned early: its end comes right after its log. */
	const struct seen *e2 = find(s, n, TTLOG_EVENT_SPAN_END, "nest.step", 1);
	assert_string_equal(e2[-1].text, "nest.in step n=%d");
	const struct seen *between = find(s, n, TTLOG_EVENT_LOG, "nest.between", 0);
	assert_int_equal(between->id, rb->id);
	assert_int_equal(between->depth, 1);
	const struct seen *outside = find(s, n, TTLOG_EVENT_LOG, "nest.outside", 0);
	assert_false(outside->has_span);
	assert_int_equal(outside->depth, 0);
}

/* Fields given at the begin, and recorded while the span runs (the last
 * value of a key wins), shown on the end. */
static void test_span_fields(void **state)
{
	(void)state;
	TTLOG_SPAN_FIELD("fld.nowhere", 1); /* no span open: recorded nowhere */
	{
		TTLOG_SPAN("fld.query", TTLOG_F("table", 7), TTLOG_F("limit", 100));
		TTLOG_SPAN_FIELD("rows", 3);
		TTLOG_SPAN_FIELD("rows", 42);
		TTLOG_SPAN_FIELD("cached", 0);
	}
	struct seen s[MAX_SEEN];
	int n = collect("span-fields", "fld.", s, MAX_SEEN);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].kind, TTLOG_EVENT_SPAN_BEGIN);
	assert_int_equal(s[0].nfields, 2);
	assert_int_equal(field(&s[0], "table"), 7);
	assert_int_equal(field(&s[0], "limit"), 100);
	assert_int_equal(s[1].kind, TTLOG_EVENT_SPAN_END);
	assert_int_equal(s[1].nfields, 2);
	assert_int_equal(field(&s[1], "rows"), 42);
	assert_int_equal(field(&s[1], "cached"), 0);
}

/* ---- traceparent ------------------------------------------------------------- */

static void expect_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_non_null(strchr("0123456789abcdef", s[i]));
}

static void test_traceparent_out_and_in(void **state)
{
	(void)state;
	char tp[TTLOG_TRACEPARENT_SIZE];
	assert_int_equal(ttlog_trace_continue(NULL), TTLOG_OK);
	assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_E_NO_TRACE);
	assert_int_equal(ttlog_traceparent(NULL, 0), TTLOG_E_INVALID);
	{
		TTLOG_SPAN("tp.span");
		assert_int_equal(ttlog_traceparent(tp, sizeof tp - 1), TTLOG_E_RANGE);
		assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_OK);
	}
	assert_int_equal(strlen(tp), 55);
	assert_memory_equal(tp, "00-", 3);
	expect_hex(tp + 3, 32);
	assert_int_equal(tp[35], '-');
	expect_hex(tp + 36, 16);
	assert_string_equal(tp + 52, "-01");

	struct seen s[MAX_SEEN];
	int n = collect("span-traceparent", "tp.", s, MAX_SEEN);
	assert_int_equal(n, 2);
	char want[TTLOG_TRACEPARENT_SIZE];
	snprintf(want, sizeof want, "00-%016" PRIx64 "%016" PRIx64 "-%016" PRIx64 "-01",
		 s[0].trace_hi, s[0].trace_lo, s[0].id);
	assert_string_equal(tp, want);

	/* Continuing: the next root span joins the trace as a child. */
	const char *in = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
	assert_int_equal(ttlog_trace_continue(in), TTLOG_OK);
	assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_OK);
	assert_string_equal(tp, in); /* with no span open, the continued one */
	{
		TTLOG_SPAN("tc.continued");
		TTLOG_SPAN("tc.child");
	}
	n = collect("span-continued", "tc.", s, MAX_SEEN);
	assert_int_equal(n, 4);
	assert_int_equal(s[0].trace_hi, 0x0af7651916cd43ddu);
	assert_int_equal(s[0].trace_lo, 0x8448eb211c80319cu);
	assert_int_equal(s[0].parent, 0xb7ad6b7169203331u);
	assert_int_equal(s[0].depth, 0);
	assert_int_equal(s[1].parent, s[0].id);
	assert_int_equal(s[1].trace_lo, s[0].trace_lo);

	/* Malformed values are refused and change nothing. */
	static const char *const bad[] = {
		"",                                                           /* clears, see below */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",       /* no flags */
		"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",    /* upper case */
		"00-00000000000000000000000000000000-b7ad6b7169203331-01",    /* zero trace */
		"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",    /* zero span */
		"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",    /* version ff */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",  /* 00 is 55 chars */
		"00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",    /* separator */
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033g1-01",    /* not hex */
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",   /* later: '-' next */
	};
	for (size_t i = 1; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ttlog_trace_continue(bad[i]), TTLOG_E_INVALID);
		assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_OK);
		assert_string_equal(tp, in);
	}
	/* A later version may add fields; the first four are used. */
	const char *v1 = "01-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203332-00-what-ever";
	assert_int_equal(ttlog_trace_continue(v1), TTLOG_OK);
	assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_OK);
	assert_string_equal(tp, "00-0af7651916cd43dd8448eb211c80319d-b7ad6b7169203332-01");
	assert_int_equal(ttlog_trace_continue(bad[0]), TTLOG_OK);
	assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_E_NO_TRACE);
}

/* ---- Across threads and processes ---------------------------------------------- */

struct handoff {
	char traceparent[TTLOG_TRACEPARENT_SIZE];
	int rc;
};

static void *continue_on_thread(void *arg)
{
	struct handoff *h = arg;
	h->rc = ttlog_trace_continue(h->traceparent);
	TTLOG_SPAN("thr.worker");
	TTLOG_INFO("thr.working");
	return NULL;
}

static void test_trace_across_threads(void **state)
{
	(void)state;
	struct handoff h;
	pthread_t t;
	{
		TTLOG_SPAN("thr.request");
		assert_int_equal(ttlog_traceparent(h.traceparent, sizeof h.traceparent), TTLOG_OK);
		assert_int_equal(pthread_create(&t, NULL, continue_on_thread, &h), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
	assert_int_equal(h.rc, TTLOG_OK);
	struct seen s[MAX_SEEN];
	int n = collect("span-threads", "thr.", s, MAX_SEEN);
	assert_int_equal(n, 5);
	const struct seen *req = find(s, n, TTLOG_EVENT_SPAN_BEGIN, "thr.request", 0);
	const struct seen *w = find(s, n, TTLOG_EVENT_SPAN_BEGIN, "thr.worker", 0);
	const struct seen *log = find(s, n, TTLOG_EVENT_LOG, "thr.working", 0);
	assert_int_not_equal(w->tid, req->tid);
	assert_int_equal(w->trace_hi, req->trace_hi);
	assert_int_equal(w->trace_lo, req->trace_lo);
	assert_int_equal(w->parent, req->id);
	assert_int_equal(w->depth, 0); /* the first span of its thread */
	assert_int_equal(log->id, w->id);
}

static void test_trace_across_exec(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("span-exec");
	char tp[TTLOG_TRACEPARENT_SIZE];
	char out[512];
	int status = -1, rc;
	{
		TTLOG_SPAN("exec.parent");
		assert_int_equal(ttlog_traceparent(tp, sizeof tp), TTLOG_OK);
		setenv("TRACEPARENT", tp, 1);
		char *argv[] = {(char *)tu_prog("span_child"), dir, NULL};
		rc = tu_run(argv, 60, &status, out, sizeof out);
		unsetenv("TRACEPARENT");
	}
	assert_int_equal(rc, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("span_child failed (status %d): %s", status, out);
	struct seen s[MAX_SEEN];
	int n = collect("span-exec", "exec.", s, MAX_SEEN);
	assert_int_equal(n, 2);
	const struct seen *parent = &s[0];

	char **paths;
	assert_int_equal(tu_list_snapshots(dir, &paths), 1);
	ttlog_reader *r;
	assert_int_equal(ttlog_reader_open(paths[0], &r), TTLOG_OK);
	struct ttlog_event ev;
	int begins = 0;
	uint64_t child_id = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (ev.kind != TTLOG_EVENT_SPAN_BEGIN)
			continue;
		begins++;
		assert_string_equal(ev.span->name, "child.work");
		assert_int_equal(ev.span->trace_hi, parent->trace_hi);
		assert_int_equal(ev.span->trace_lo, parent->trace_lo);
		assert_int_equal(ev.span->parent, parent->id);
		assert_true(ttlog_reader_info(r)->pid != (uint32_t)getpid());
		child_id = ev.span->id;
	}
	assert_int_equal(begins, 1);
	ttlog_reader_close(r);
	tu_free_list(paths, 1);
	/* What the child printed: its own span in the same trace. */
	char want[TTLOG_TRACEPARENT_SIZE];
	snprintf(want, sizeof want, "00-%016" PRIx64 "%016" PRIx64 "-%016" PRIx64 "-01",
		 parent->trace_hi, parent->trace_lo, child_id);
	assert_memory_equal(out, want, 55);
	free(dir);
}

/* ---- Ids ----------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Span ids of one thread are all different, and a forked child does not
 * draw the ids its parent draws next. */
static void test_ids_unique_also_after_fork(void **state)
{
	(void)state;
	enum { N = 512 };
	uint64_t ids[2 * N];
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	{
		TTLOG_SPAN("ids.warm"); /* the thread's id sequence is seeded */
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	for (int i = 0; i < N; i++) {
		char tp[TTLOG_TRACEPARENT_SIZE];
		TTLOG_SPAN_BEGIN("ids.span");
		ttlog_traceparent(tp, sizeof tp);
		TTLOG_SPAN_END();
		ids[i] = strtoull(tp + 36, NULL, 16);
	}
	if (pid == 0) {
		ssize_t w = write(pipefd[1], ids, N * sizeof ids[0]);
		_exit(w == (ssize_t)(N * sizeof ids[0]) ? 0 : 1);
	}
	size_t got = 0;
	while (got < N * sizeof ids[0]) {
		ssize_t k = read(pipefd[0], (char *)(ids + N) + got, N * sizeof ids[0] - got);
		assert_true(k > 0);
		got += (size_t)k;
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pipefd[0]);
	close(pipefd[1]);
	qsort(ids, 2 * N, sizeof ids[0], cmp_u64);
	assert_true(ids[0] != 0);
	for (int i = 1; i < 2 * N; i++)
		assert_true(ids[i] != ids[i - 1]);
}

/* ---- Ring wrap and depth ------------------------------------------------- */

/* The begin is overwritten long before the snapshot: the span is re-stated
 * at each segment start, so its events and its end still know it, with
 * its true begin time. */
static void test_span_survives_a_ring_wrap(void **state)
{
	(void)state;
	int64_t before = 0;
	TTLOG_SPAN_BEGIN("wrap.outer");
	TTLOG_SPAN_BEGIN("wrap.inner");
	for (int i = 0; i < 200000; i++)
		TTLOG_DEBUG("wrap.fill %d", i);
	TTLOG_SPAN_END(); /* inner */
	TTLOG_INFO("wrap.last");
	TTLOG_SPAN_END(); /* outer */

	ttlog_reader *r = tu_snapshot_open("span-wrap");
	assert_non_null(r);
	assert_true(ttlog_reader_info(r)->overwritten > 100000);
	struct ttlog_event ev;
	unsigned fills = 0, ends = 0;
	uint64_t inner = 0, outer = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (ev.kind != TTLOG_EVENT_LOG && (!ev.span || strncmp(ev.span->name, "wrap.", 5) != 0))
			continue; /* spans of other tests' threads */
		assert_int_not_equal(ev.kind, TTLOG_EVENT_SPAN_BEGIN); /* both overwritten */
		if (ev.kind == TTLOG_EVENT_LOG && strcmp(ev.site->format, "wrap.fill %d") == 0) {
			fills++;
			assert_non_null(ev.span);
			assert_string_equal(ev.span->name, "wrap.inner");
			assert_int_equal(ev.depth, 2);
			inner = ev.span->id;
			outer = ev.span->parent;
			if (!before)
				before = ev.time_ns;
		} else if (ev.kind == TTLOG_EVENT_LOG && strcmp(ev.site->format, "wrap.last") == 0) {
			assert_string_equal(ev.span->name, "wrap.outer");
			assert_int_equal(ev.span->id, outer);
			assert_int_equal(ev.depth, 1);
		} else if (ev.kind == TTLOG_EVENT_SPAN_END) {
			ends++;
			assert_int_equal(ev.span->id, ends == 1 ? inner : outer);
			assert_true(ev.span->begin_ns > 0 && ev.span->begin_ns < before);
			assert_true(ev.span->duration_ns > 0);
		}
	}
	assert_true(fills > 1000);
	assert_int_equal(ends, 2);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

/* Deeper than the library keeps: the extra spans are not recorded, every
 * begin and end still balances, and events belong to the deepest kept. */
static void test_deep_spans_balance(void **state)
{
	(void)state;
	for (int i = 0; i < TTLOG_SCOPES_MAX + 4; i++)
		TTLOG_SPAN_BEGIN("deep.span", TTLOG_F("i", i));
	assert_int_equal(ttlog_span_depth(), TTLOG_SCOPES_MAX + 4);
	TTLOG_INFO("deep.event");
	for (int i = 0; i < TTLOG_SCOPES_MAX + 4; i++)
		TTLOG_SPAN_END();
	assert_int_equal(ttlog_span_depth(), 0);
	TTLOG_INFO("deep.after");

	struct seen s[MAX_SEEN];
	int n = collect("span-deep", "deep.", s, MAX_SEEN);
	assert_int_equal(n, 2 * TTLOG_SCOPES_MAX + 2);
	const struct seen *ev = find(s, n, TTLOG_EVENT_LOG, "deep.event", 0);
	assert_int_equal(ev->depth, TTLOG_SCOPES_MAX);
	const struct seen *last = find(s, n, TTLOG_EVENT_SPAN_BEGIN, "deep.span", TTLOG_SCOPES_MAX - 1);
	assert_int_equal(ev->id, last->id);
	const struct seen *after = find(s, n, TTLOG_EVENT_LOG, "deep.after", 0);
	assert_false(after->has_span);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("TRACEPARENT");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 256 << 10; /* small, so that the wrap test wraps soon */
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_scoped_end),
		cmocka_unit_test(test_span_fields),
		cmocka_unit_test(test_traceparent_out_and_in),
		cmocka_unit_test(test_trace_across_threads),
		cmocka_unit_test(test_trace_across_exec),
		cmocka_unit_test(test_ids_unique_also_after_fork),
		cmocka_unit_test(test_span_survives_a_ring_wrap),
		cmocka_unit_test(test_deep_spans_balance),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
