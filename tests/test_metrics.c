/* SPDX-License-Identifier: MIT */
/*
 * test_metrics.c - counters, gauges and histograms (TTLOG_COUNTER_ADD & co.).
 *
 * What is checked, against values the test computes itself:
 *   - counter sums from 4 threads updating at once, and from threads that
 *     exited before the read (their shards stay with their rings), while
 *     snapshots are taken (run under ThreadSanitizer in CI);
 *   - gauges: the value set last wins, across threads;
 *   - histograms: count, sum, min and max exact, and quantiles within
 *     1/129 of the ceil(q * n)-th smallest value on 1,000,000 values of
 *     three distributions; values outside 2^-24 .. 2^40 in their buckets;
 *   - registration rules (names, labels, a name with two types);
 *   - a snapshot round trip through the reader API, ttlog's own metrics;
 *   - the Prometheus text format, parsed back by a checker of the format's
 *     rules (see prom_parse);
 *   - damaged MTRC chunks: a precise error, the other metrics and the
 *     events still read;
 *   - updates after ttlog_shutdown dropped and counted; metrics refused
 *     when the shards are full (the last test: it fills the registry).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/histogram.h"
#include "reader/reader_internal.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define BOUND (1.0 / 129.0)

/* ---- Helpers -------------------------------------------------------------- */

static const struct ttlog_metric_value *find(ttlog_reader *r, const char *name, const char *key,
					     const char *value)
{
	size_t n;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].name, name) != 0)
			continue;
		if (!key)
			return &m[i];
		for (unsigned k = 0; k < m[i].nlabels; k++)
			if (strcmp(m[i].labels[k].key, key) == 0 && strcmp(m[i].labels[k].value, value) == 0)
				return &m[i];
	}
	return NULL;
}

static const struct ttlog_metric_value *must_find(ttlog_reader *r, const char *name, const char *key,
						  const char *value)
{
	const struct ttlog_metric_value *m = find(r, name, key, value);
	if (!m)
		fail_msg("metric %s{%s=%s} not in the snapshot", name, key ? key : "", value ? value : "");
	return m;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	uint64_t x = (rng_state += 0x9e3779b97f4a7c15ull);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}
static double uniform01(void)
{
	return (double)(rng() >> 11) * 0x1p-53;
}

/* ---- Counters under 4 threads ------------------------------------------- */

#define ADDS 200000
static pthread_barrier_t start_line;

static void *early_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < ADDS / 2; i++)
		TTLOG_COUNTER_ADD("test.hits", 1, "kind=shared");
	return NULL;
}

static void *busy_thread(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < ADDS; i++) {
		TTLOG_COUNTER_ADD("test.hits", 3, "kind=shared");
		if (id == 0)
			TTLOG_COUNTER_ADD("test.hits", 1, "kind=first");
		if (i % 1000 == 0)
			TTLOG_INFO("thread %u at %d", id, i);
	}
	return NULL;
}

/* Another use of the same name and labels: the same metric. */
static void add_elsewhere(uint64_t n)
{
	TTLOG_COUNTER_ADD("test.hits", n, "kind=shared");
}

static void test_counters_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	for (uintptr_t i = 0; i < 2; i++) { /* these exit before anything is read */
		assert_int_equal(pthread_create(&t[i], NULL, early_thread, NULL), 0);
		pthread_join(t[i], NULL);
	}
	pthread_barrier_init(&start_line, NULL, 5);
	for (uintptr_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, busy_thread, (void *)i), 0);
	pthread_barrier_wait(&start_line);
	/* Snapshots while they add: the total only grows. */
	uint64_t last = 0;
	for (int s = 0; s < 5; s++) {
		ttlog_reader *r = tu_snapshot_open("during");
		assert_non_null(r);
		const struct ttlog_metric_value *m = must_find(r, "test.hits", "kind", "shared");
		assert_int_equal(m->type, TTLOG_METRIC_COUNTER);
		assert_true(m->counter >= last);
		assert_true(m->counter <= (uint64_t)ADDS + 4ull * 3 * ADDS);
		last = m->counter;
		ttlog_reader_close(r);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start_line);
	add_elsewhere(7);

	ttlog_reader *r = tu_snapshot_open("after");
	assert_non_null(r);
	const struct ttlog_metric_value *m = must_find(r, "test.hits", "kind", "shared");
	assert_int_equal(m->counter, 2ull * (ADDS / 2) + 4ull * 3 * ADDS + 7);
	m = must_find(r, "test.hits", "kind", "first");
	assert_int_equal(m->counter, ADDS);
	assert_int_equal(m->nlabels, 1);
	ttlog_reader_close(r);
}

/* ---- Gauges --------------------------------------------------------------- */

static void *set_gauge(void *arg)
{
	TTLOG_GAUGE_SET("test.level", *(double *)arg);
	return NULL;
}

static double gauge_now(void)
{
	ttlog_reader *r = tu_snapshot_open("gauge");
	assert_non_null(r);
	const struct ttlog_metric_value *m = must_find(r, "test.level", NULL, NULL);
	assert_int_equal(m->type, TTLOG_METRIC_GAUGE);
	assert_true(m->gauge_set);
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	/* Set during this test, before the snapshot. */
	assert_true(m->gauge_time_ns <= info->created_ns);
	assert_true(m->gauge_time_ns > info->created_ns - 60ll * 1000000000);
	double v = m->gauge;
	ttlog_reader_close(r);
	return v;
}

static void test_gauge_last_write_wins(void **state)
{
	(void)state;
	double values[] = {1.5, 2.5, -1.0};
	pthread_t t;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t, NULL, set_gauge, &values[i]), 0);
		pthread_join(t, NULL);
	}
	assert_true(gauge_now() == 2.5);
	TTLOG_GAUGE_SET("test.level", 4);
	assert_true(gauge_now() == 4.0);
	assert_int_equal(pthread_create(&t, NULL, set_gauge, &values[2]), 0);
	pthread_join(t, NULL);
	assert_true(gauge_now() == -1.0);
	TTLOG_GAUGE_SET("test.level", 8.25);
	TTLOG_GAUGE_SET("test.level", 9.75);
	assert_true(gauge_now() == 9.75);
}

/* ---- Histograms ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define NVALUES 1000000

static void record_uniform(double v) { TTLOG_HISTOGRAM_RECORD("test.dist", v, "d=uniform"); }
static void record_logu(double v) { TTLOG_HISTOGRAM_RECORD("test.dist", v, "d=log-uniform"); }
static void record_spiky(double v) { TTLOG_HISTOGRAM_RECORD("test.dist", v, "d=spiky"); }

static void check_quantile(const char *what, double got, const double *sorted, size_t n, uint64_t num,
			   uint64_t den)
{
	uint64_t k = (n * num + den - 1) / den; /* ceil(n * q) */
	if (k == 0)
		k = 1;
	double want = sorted[k - 1];
	double err = fabs(got - want) / want;
	if (!(err <= BOUND * (1 + 1e-9)))
		fail_msg("%s: quantile %llu/%llu: got %.17g, the %llu-th smallest is %.17g (error %g > 1/129)",
			 what, (unsigned long long)num, (unsigned long long)den, got,
			 (unsigned long long)k, want, err);
}

static void test_histogram_quantiles(void **state)
{
	(void)state;
	static const char *const names[] = {"uniform", "log-uniform", "spiky"};
	double *v = malloc(NVALUES * sizeof *v);
	double sums[3], mins[3], maxs[3];
	double *sorted[3];
	for (int d = 0; d < 3; d++) {
		double sum = 0;
		for (size_t i = 0; i < NVALUES; i++) {
			double x;
			if (d == 0) {
				x = 1.0 + 999.0 * uniform01();
				record_uniform(x);
			} else if (d == 1) {
				x = pow(10.0, -6.0 + 15.0 * uniform01()); /* 1e-6 .. 1e9 */
				record_logu(x);
			} else {
				/* Spikes at a few values, a little noise, rare outliers. */
				uint64_t u = rng() % 1000;
				x = u < 700 ? 5.0 : u < 950 ? 100.0 + uniform01() : u < 999 ? 2048.0 : 1e7 * (1 + uniform01());
				record_spiky(x);
			}
			v[i] = x;
			sum += x;
		}
		sums[d] = sum;
		qsort(v, NVALUES, sizeof *v, cmp_double);
		mins[d] = v[0];
		maxs[d] = v[NVALUES - 1];
		sorted[d] = malloc(NVALUES * sizeof *v);
		memcpy(sorted[d], v, NVALUES * sizeof *v);
	}
	free(v);

	ttlog_reader *r = tu_snapshot_open("quantiles");
	assert_non_null(r);
	for (int d = 0; d < 3; d++) {
		const struct ttlog_metric_value *m = must_find(r, "test.dist", "d", names[d]);
		assert_int_equal(m->type, TTLOG_METRIC_HISTOGRAM);
		assert_int_equal(m->hist.count, NVALUES);
		assert_true(m->hist.sum == sums[d]); /* one thread: the same additions in the same order */
		assert_true(m->hist.min == mins[d]);
		assert_true(m->hist.max == maxs[d]);
		check_quantile(names[d], m->hist.p50, sorted[d], NVALUES, 500, 1000);
		check_quantile(names[d], m->hist.p90, sorted[d], NVALUES, 900, 1000);
		check_quantile(names[d], m->hist.p99, sorted[d], NVALUES, 990, 1000);
		check_quantile(names[d], m->hist.p999, sorted[d], NVALUES, 999, 1000);
		static const uint64_t qs[] = {0, 1, 10, 250, 333, 750, 999999, 1000000};
		for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++)
			check_quantile(names[d], ttlog_metric_quantile(m, (double)qs[q] / 1e6), sorted[d],
				       NVALUES, qs[q], 1000000);
		/* Buckets: increasing, each holding values in (lower, upper]. */
		uint64_t total = 0;
		for (size_t b = 0; b < m->hist.nbuckets; b++) {
			const struct ttlog_metric_bucket *k = &m->hist.buckets[b];
			assert_true(k->count > 0);
			assert_true(b == 0 || k->index > m->hist.buckets[b - 1].index);
			assert_true(k->lower < k->upper);
			assert_true(k->upper <= k->lower * (1 + 1.0 / 64) * (1 + 1e-15));
			total += k->count;
		}
		assert_int_equal(total, NVALUES);
		free(sorted[d]);
	}
	ttlog_reader_close(r);
}

static void record_edge(double v) { TTLOG_HISTOGRAM_RECORD("test.edges", v); }

static const struct ttlog_metric_bucket *bucket_of(const struct ttlog_metric_value *m, uint32_t index)
{
	for (size_t b = 0; b < m->hist.nbuckets; b++)
		if (m->hist.buckets[b].index == index)
			return &m->hist.buckets[b];
	return NULL;
}

static void test_histogram_out_of_range(void **state)
{
	(void)state;
	/* At or below 2^-24: the lowest bucket. */
	double low[] = {0.0, -3.0, 1e-30, 0x1p-24, -INFINITY};
	/* Above 2^40: the highest. */
	double high[] = {0x1p40 * (1 + 0x1p-52), 1e300, INFINITY};
	for (size_t i = 0; i < 5; i++)
		record_edge(low[i]);
	for (size_t i = 0; i < 3; i++)
		record_edge(high[i]);
	record_edge(0x1p40);          /* the last regular bucket, (2^40 - 2^33, 2^40] */
	record_edge(1.0);             /* bucket edges: 1.0 is an upper bound */
	record_edge(1.0 + 1.0 / 64);  /* the upper bound of 1.0's next bucket */
	ttlog_reader *r = tu_snapshot_open("edges");
	assert_non_null(r);
	const struct ttlog_metric_value *m = must_find(r, "test.edges", NULL, NULL);
	assert_int_equal(m->hist.count, 11);
	assert_true(m->hist.min == -INFINITY);
	assert_true(m->hist.max == INFINITY);
	const struct ttlog_metric_bucket *b = bucket_of(m, 0);
	assert_non_null(b);
	assert_int_equal(b->count, 5);
	assert_true(b->upper == 0x1p-24 && isinf(b->lower));
	b = bucket_of(m, TTLOG__HIST_BUCKETS - 1);
	assert_non_null(b);
	assert_int_equal(b->count, 3);
	assert_true(b->lower == 0x1p40 && isinf(b->upper));
	b = bucket_of(m, TTLOG__HIST_BUCKETS - 2);
	assert_non_null(b);
	assert_int_equal(b->count, 1);
	assert_true(b->upper == 0x1p40);
	int ones = 0;
	for (size_t i = 0; i < m->hist.nbuckets; i++) {
		b = &m->hist.buckets[i];
		if (b->upper == 1.0 || b->upper == 1.0 + 1.0 / 64) {
			assert_int_equal(b->count, 1);
			ones++;
		}
	}
	assert_int_equal(ones, 2);
	/* Quantiles outside the range are min and max. */
	assert_true(ttlog_metric_quantile(m, 0.0) == -INFINITY);
	assert_true(ttlog_metric_quantile(m, 1.0) == INFINITY);
	assert_true(isnan(ttlog_metric_quantile(m, 1.5)));
	ttlog_reader_close(r);
}

/* ---- Registration rules ----------------------------------------------------- */

static void test_registration_rules(void **state)
{
	(void)state;
	struct ttlog_stats before, after;
	assert_int_equal(ttlog_get_stats(&before), TTLOG_OK);
	TTLOG_COUNTER_ADD("9starts.with.digit", 1);
	TTLOG_COUNTER_ADD("has space", 1);
	TTLOG_COUNTER_ADD("ttlog_mine", 1);
	TTLOG_COUNTER_ADD("rules.ok", 1, "novalue");
	TTLOG_COUNTER_ADD("rules.ok", 1, "__reserved=1");
	TTLOG_COUNTER_ADD("rules.ok", 1, "a=1", "a=2");
	TTLOG_HISTOGRAM_RECORD("rules.hist", 1, "le=1");
	TTLOG_COUNTER_ADD("rules.conflict", 2);
	TTLOG_COUNTER_ADD("rules_conflict", 2); /* the same Prometheus name */
	for (int i = 0; i < 3; i++) /* rejected once, however often it runs */
		TTLOG_GAUGE_SET("rules.conflict", 1);
	TTLOG_COUNTER_ADD("rules.ok", 5, "a=1");
	TTLOG_COUNTER_ADD("rules.ok", 6, "a=2");
	assert_int_equal(ttlog_get_stats(&after), TTLOG_OK);
	assert_int_equal(after.metrics_rejected - before.metrics_rejected, 9);

	ttlog_reader *r = tu_snapshot_open("rules");
	assert_non_null(r);
	assert_null(find(r, "has space", NULL, NULL));
	assert_null(find(r, "ttlog_mine", NULL, NULL));
	assert_null(find(r, "rules.hist", NULL, NULL));
	assert_null(find(r, "rules_conflict", NULL, NULL));
	const struct ttlog_metric_value *m = must_find(r, "rules.conflict", NULL, NULL);
	assert_int_equal(m->type, TTLOG_METRIC_COUNTER);
	assert_int_equal(m->counter, 2);
	assert_int_equal(must_find(r, "rules.ok", "a", "1")->counter, 5);
	assert_int_equal(must_find(r, "rules.ok", "a", "2")->counter, 6);
	m = must_find(r, "ttlog_metrics_rejected_total", NULL, NULL);
	assert_true(m->self);
	assert_int_equal(m->counter, after.metrics_rejected);
	ttlog_reader_close(r);
}

/* ---- Snapshot round trip ---------------------------------------------------- */

static void test_snapshot_roundtrip(void **state)
{
	(void)state;
	TTLOG_COUNTER_ADD("rt.count", 41, "a=x y", "b=\"q\"\\");
	TTLOG_COUNTER_ADD("rt.count", 1, "a=x y", "b=\"q\"\\");
	TTLOG_GAUGE_SET("rt.gauge", 0.1);
	for (int i = 1; i <= 100; i++)
		TTLOG_HISTOGRAM_RECORD("rt.hist", i * 0.25);
	char longer[600];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	TTLOG_INFO("cut %s and %s", longer, longer); /* max_string is 256 */
	struct ttlog_stats st;
	assert_int_equal(ttlog_get_stats(&st), TTLOG_OK);

	ttlog_reader *r = tu_snapshot_open("roundtrip");
	assert_non_null(r);
	const struct ttlog_metric_value *m = must_find(r, "rt.count", "a", "x y");
	assert_int_equal(m->counter, 42);
	assert_int_equal(m->nlabels, 2);
	assert_string_equal(m->labels[1].key, "b");
	assert_string_equal(m->labels[1].value, "\"q\"\\");
	assert_non_null(strstr(m->file, "test_metrics.c"));
	assert_true(m->line > 0);
	assert_false(m->self);
	assert_true(must_find(r, "rt.gauge", NULL, NULL)->gauge == 0.1);
	m = must_find(r, "rt.hist", NULL, NULL);
	assert_int_equal(m->hist.count, 100);
	assert_true(m->hist.sum == 1262.5);
	assert_true(m->hist.min == 0.25 && m->hist.max == 25.0);
	assert_true(fabs(m->hist.p50 - 12.5) <= 12.5 * BOUND);

	/* ttlog's own metrics. */
	m = must_find(r, "ttlog_strings_truncated", NULL, NULL);
	assert_true(m->self);
	assert_true(m->gauge >= 2);
	m = must_find(r, "ttlog_events_written_total", NULL, NULL);
	assert_true(m->self && m->type == TTLOG_METRIC_COUNTER);
	assert_true(m->counter >= ttlog_reader_info(r)->events);
	assert_int_equal(must_find(r, "ttlog_snapshots_written_total", NULL, NULL)->counter,
			 st.snapshots_written);
	assert_int_equal(must_find(r, "ttlog_events_dropped_total", "reason", "no_ring")->counter,
			 st.dropped_no_ring);
	assert_non_null(must_find(r, "ttlog_events_overwritten_total", NULL, NULL));
	assert_non_null(must_find(r, "ttlog_snapshots_failed_total", NULL, NULL));
	/* One utilisation gauge per thread of the file, between 0 and 1. */
	size_t threads = ttlog_reader_thread_count(r);
	assert_true(threads > 0);
	for (size_t i = 0; i < threads; i++) {
		char index[16];
		snprintf(index, sizeof index, "%u", (unsigned)ttlog_reader_thread(r, i)->index);
		m = must_find(r, "ttlog_ring_used_ratio", "thread", index);
		assert_true(m->gauge > 0 && m->gauge <= 1);
	}
	ttlog_reader_close(r);
}

/* ---- Prometheus ------------------------------------------------------------ */

struct prom_sample {
	char name[160];
	char labels[512];  /* canonical: k="v" pairs as written, without le */
	char le[256];      /* "" if none */
	double value;
};

struct prom_family {
	char name[160];
	char type[16];
	int help, samples_done;
};

struct prom {
	struct prom_sample s[4096];
	size_t ns;
	struct prom_family f[256];
	size_t nf;
	char error[512];
};

static int prom_fail(struct prom *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int prom_fail(struct prom *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->error, sizeof p->error, "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(p->error + n, sizeof p->error - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int name_char(char c, int first, int metric)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':'))
		return 1;
	return !first && c >= '0' && c <= '9';
}

static size_t scan_name(const char *s, int metric)
{
	size_t n = 0;
	while (s[n] && name_char(s[n], n == 0, metric))
		n++;
	return n;
}

static struct prom_family *family(struct prom *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nf; i++)
		if (strlen(p->f[i].name) == len && memcmp(p->f[i].name, name, len) == 0)
			return &p->f[i];
	return NULL;
}

/* The family a sample name belongs to: itself, or a histogram's. */
static struct prom_family *sample_family(struct prom *p, const char *name)
{
	size_t len = strlen(name);
	struct prom_family *f = family(p, name, len);
	if (f)
		return f;
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	for (int i = 0; i < 3; i++) {
		size_t k = strlen(suffixes[i]);
		if (len > k && strcmp(name + len - k, suffixes[i]) == 0) {
			f = family(p, name, len - k);
			if (f && strcmp(f->type, "histogram") == 0)
				return f;
		}
	}
	return NULL;
}

static int parse_value(const char *s, double *v, const char **end)
{
	if (strncmp(s, "+Inf", 4) == 0) {
		*v = INFINITY, *end = s + 4;
		return 0;
	}
	if (strncmp(s, "-Inf", 4) == 0) {
		*v = -INFINITY, *end = s + 4;
		return 0;
	}
	if (strncmp(s, "NaN", 3) == 0) {
		*v = NAN, *end = s + 3;
		return 0;
	}
	char *e;
	for (const char *c = s; *c && *c != ' ' && *c != '\n'; c++)
		if (!strchr("0123456789.eE+-", *c))
			return -1; /* Go's ParseFloat also reads hex, but ttlog never writes it */
	*v = strtod(s, &e);
	*end = e;
	return e == s ? -1 : 0;
}

/*
 * Parses text exposition format 0.0.4 and checks: every line is a HELP,
 * TYPE, other comment or sample line of the grammar; label values use only
 * the \\, \" and \n escapes; HELP and TYPE come at most once per family and
 * before its samples; a family's samples are all together; every sample
 * belongs to a TYPEd family; histograms have, per label set, buckets with
 * increasing le and non-decreasing counts ending at +Inf, equal to _count,
 * and a _sum.
 */
static int prom_parse(struct prom *p, char *text)
{
	memset(p, 0, sizeof *p);
	struct prom_family *current = NULL;
	int line = 0;
	for (char *l = text; *l; ) {
		char *nl = strchr(l, '\n');
		line++;
		if (!nl)
			return prom_fail(p, line, "no newline at the end");
		*nl = '\0';
		if (l[0] == '#') {
			if (strncmp(l, "# HELP ", 7) == 0 || strncmp(l, "# TYPE ", 7) == 0) {
				int help = l[2] == 'H';
				const char *n = l + 7;
				size_t len = scan_name(n, 1);
				if (len == 0 || n[len] != ' ')
					return prom_fail(p, line, "bad metric name in \"%s\"", l);
				struct prom_family *f = family(p, n, len);
				if (!f) {
					if (p->nf == 256)
						return prom_fail(p, line, "too many families");
					f = &p->f[p->nf++];
					memcpy(f->name, n, len);
				}
				if (f->samples_done || (current == f))
					return prom_fail(p, line, "%s after samples of %s", help ? "HELP" : "TYPE", f->name);
				const char *rest = n + len + 1;
				if (help) {
					if (f->help++)
						return prom_fail(p, line, "second HELP for %s", f->name);
					for (const char *c = rest; *c; c++)
						if (*c == '\\' && c[1] != '\\' && c[1] != 'n')
							return prom_fail(p, line, "bad escape in HELP");
						else if (*c == '\\')
							c++;
				} else {
					if (f->type[0])
						return prom_fail(p, line, "second TYPE for %s", f->name);
					if (strcmp(rest, "counter") && strcmp(rest, "gauge") &&
					    strcmp(rest, "histogram") && strcmp(rest, "summary") &&
					    strcmp(rest, "untyped"))
						return prom_fail(p, line, "bad type \"%s\"", rest);
					snprintf(f->type, sizeof f->type, "%s", rest);
				}
			}
			l = nl + 1;
			continue;
		}
		if (p->ns == 4096)
			return prom_fail(p, line, "too many samples");
		struct prom_sample *s = &p->s[p->ns++];
		size_t len = scan_name(l, 1);
		if (len == 0 || len >= sizeof s->name)
			return prom_fail(p, line, "bad sample name in \"%s\"", l);
		memcpy(s->name, l, len);
		const char *c = l + len;
		size_t lp = 0;
		if (*c == '{') {
			c++;
			while (*c != '}') {
				size_t k = scan_name(c, 0);
				if (k == 0 || c[k] != '=' || c[k + 1] != '"')
					return prom_fail(p, line, "bad label at \"%s\"", c);
				char key[64] = "";
				memcpy(key, c, k < 63 ? k : 63);
				const char *val = c + k + 2, *v = val;
				char unescaped[256];
				size_t u = 0;
				for (; *v != '"'; v++) {
					if (!*v)
						return prom_fail(p, line, "unterminated label value");
					if (*v == '\\') {
						v++;
						if (*v != '\\' && *v != '"' && *v != 'n')
							return prom_fail(p, line, "bad escape \\%c", *v);
					}
					if (u < sizeof unescaped - 1)
						unescaped[u++] = *v == 'n' && v[-1] == '\\' ? '\n' : *v;
				}
				unescaped[u] = '\0';
				if (strcmp(key, "le") == 0)
					snprintf(s->le, sizeof s->le, "%s", unescaped);
				else
					lp += (size_t)snprintf(s->labels + lp, sizeof s->labels - lp, "%s%s=%s",
							       lp ? "," : "", key, unescaped);
				c = v + 1;
				if (*c == ',')
					c++;
				else if (*c != '}')
					return prom_fail(p, line, "expected , or } after a label");
			}
			c++;
		}
		if (*c != ' ')
			return prom_fail(p, line, "expected a space before the value");
		const char *end;
		if (parse_value(c + 1, &s->value, &end) != 0)
			return prom_fail(p, line, "bad value \"%s\"", c + 1);
		if (*end == ' ') { /* an optional timestamp: an integer */
			for (end++; *end >= '0' && *end <= '9'; end++)
				;
		}
		if (*end)
			return prom_fail(p, line, "trailing text \"%s\"", end);
		struct prom_family *f = sample_family(p, s->name);
		if (!f || !f->type[0])
			return prom_fail(p, line, "sample %s before its TYPE", s->name);
		if (f != current) {
			if (f->samples_done)
				return prom_fail(p, line, "samples of %s are not together", f->name);
			if (current)
				current->samples_done = 1;
			current = f;
		}
		l = nl + 1;
	}
	/* Histograms. */
	for (size_t i = 0; i < p->nf; i++) {
		struct prom_family *f = &p->f[i];
		if (strcmp(f->type, "histogram") != 0)
			continue;
		char bucket[200], count[200], sum[200];
		snprintf(bucket, sizeof bucket, "%s_bucket", f->name);
		snprintf(count, sizeof count, "%s_count", f->name);
		snprintf(sum, sizeof sum, "%s_sum", f->name);
		for (size_t a = 0; a < p->ns; a++) {
			if (strcmp(p->s[a].name, count) != 0)
				continue;
			double prev_le = -INFINITY, prev = 0, inf = -1;
			int have_sum = 0;
			for (size_t b = 0; b < p->ns; b++) {
				struct prom_sample *s = &p->s[b];
				if (strcmp(s->labels, p->s[a].labels) != 0)
					continue;
				if (strcmp(s->name, sum) == 0)
					have_sum = 1;
				if (strcmp(s->name, bucket) != 0)
					continue;
				double le;
				const char *e;
				if (parse_value(s->le, &le, &e) != 0 || *e)
					return prom_fail(p, 0, "%s{%s}: bad le \"%s\"", f->name, s->labels, s->le);
				if (!(le > prev_le) || s->value < prev || inf >= 0)
					return prom_fail(p, 0, "%s{%s}: buckets not cumulative at le=%s", f->name,
							 s->labels, s->le);
				prev_le = le;
				prev = s->value;
				if (isinf(le))
					inf = s->value;
			}
			if (inf != p->s[a].value || !have_sum)
				return prom_fail(p, 0, "%s{%s}: +Inf bucket %g, count %g, sum %s", f->name,
						 p->s[a].labels, inf, p->s[a].value, have_sum ? "present" : "missing");
		}
	}
	return 0;
}

static const struct prom_sample *prom_get(const struct prom *p, const char *name, const char *labels,
					  const char *le)
{
	for (size_t i = 0; i < p->ns; i++)
		if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels) == 0 &&
		    strcmp(p->s[i].le, le) == 0)
			return &p->s[i];
	fail_msg("no sample %s{%s%sle=%s} in the Prometheus output", name, labels, *labels ? "," : "", le);
	return NULL;
}

static void test_prometheus(void **state)
{
	(void)state;
	TTLOG_COUNTER_ADD("prom.requests", 3, "path=/a\"b\\c\nd");
	TTLOG_COUNTER_ADD("prom.requests", 4, "path=/x");
	TTLOG_GAUGE_SET("prom.temp", -12.375);
	TTLOG_GAUGE_SET("prom:ratio", 1.0 / 3.0);
	double sum = 0;
	for (int i = 0; i < 1000; i++) {
		double x = 0.001 * (i + 1) * (i + 1);
		sum += x;
		TTLOG_HISTOGRAM_RECORD("prom.latency", x, "route=r");
	}
	TTLOG_HISTOGRAM_RECORD("prom.latency", 3e12, "route=big");
	TTLOG_HISTOGRAM_RECORD("prom.latency", -1, "route=big");

	char path[256];
	snprintf(path, sizeof path, "%s/prom.txt", tu_snapshot_dir());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ttlog_metrics_write_prometheus(fd), TTLOG_OK);
	off_t size = lseek(fd, 0, SEEK_END);
	char *text = malloc((size_t)size + 1);
	assert_int_equal(pread(fd, text, (size_t)size, 0), size);
	text[size] = '\0';
	close(fd);
	unlink(path);

	static struct prom p;
	char *copy = strdup(text);
	if (prom_parse(&p, copy) != 0) {
		tu_show_bytes("output", text, strlen(text) > 3000 ? 3000 : strlen(text));
		fail_msg("Prometheus output: %s", p.error);
	}
	free(copy);
	assert_true(prom_get(&p, "prom_requests_total", "path=/a\"b\\c\nd", "")->value == 3);
	assert_true(prom_get(&p, "prom_requests_total", "path=/x", "")->value == 4);
	assert_true(prom_get(&p, "prom_temp", "", "")->value == -12.375);
	double third = prom_get(&p, "prom:ratio", "", "")->value;
	assert_true(fabs(third - 1.0 / 3.0) <= 1e-16);
	assert_true(prom_get(&p, "prom_latency_count", "route=r", "")->value == 1000);
	double s = prom_get(&p, "prom_latency_sum", "route=r", "")->value;
	assert_true(fabs(s - sum) <= fabs(sum) * 1e-15);
	/* The coarse bounds are powers of two: values <= 1 are those i + 1 <= 31. */
	assert_true(prom_get(&p, "prom_latency_bucket", "route=r", "1")->value == 31);
	assert_true(prom_get(&p, "prom_latency_bucket", "route=r", "+Inf")->value == 1000);
	assert_true(prom_get(&p, "prom_latency_bucket", "route=big", "0.000000059604644775390625")->value == 1);
	assert_true(prom_get(&p, "prom_latency_bucket", "route=big", "+Inf")->value == 2);
	assert_true(prom_get(&p, "ttlog_events_dropped_total", "reason=no_ring", "")->value >= 0);
	assert_non_null(strstr(text, "# TYPE prom_latency histogram\n"));
	assert_non_null(strstr(text, "# TYPE ttlog_ring_used_ratio gauge\n"));
	free(text);

	/* A write error is reported. */
	assert_int_equal(ttlog_metrics_write_prometheus(-1), TTLOG_E_IO);
}

/* ---- Damaged MTRC chunks ------------------------------------------------------ */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}
static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct buf *b, uint16_t v) { put(b, &v, 2); }
static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void putstr(struct buf *b, const char *s, size_t n)
{
	put32(b, (uint32_t)n);
	put(b, s, n);
}

enum damage { D_NONE, D_INDEX, D_ORDER, D_SUM, D_NAME_LEN, D_TYPE, D_SHORT_COUNT, D_SCHEME, D_LABEL };

/* An MTRC payload: a valid counter "hand.ok", then a histogram damaged as
 * asked. *bad gets the payload offset of the damaged field. */
static void mtrc_payload(struct buf *b, enum damage d, size_t *bad)
{
	put32(b, d == D_SHORT_COUNT ? 3 : 2);
	put8(b, d == D_SCHEME ? 7 : 6);
	put8(b, 0);
	put16(b, (uint16_t)-24);
	put16(b, 40);
	put16(b, 0);
	*bad = d == D_SCHEME ? TTLOG__FMT_MTRC_SUB_BITS_OFF : 0;
	put8(b, TTLOG__FMT_METRIC_COUNTER);
	put8(b, 0);
	put16(b, 0);
	put32(b, 12);
	putstr(b, "hand.ok", 7);
	putstr(b, "k=v\0", 4);
	putstr(b, "hand.c", 6);
	put64(b, 99);
	if (d == D_TYPE)
		*bad = b->len;
	put8(b, d == D_TYPE ? 9 : TTLOG__FMT_METRIC_HISTOGRAM);
	put8(b, 0);
	put16(b, 0);
	put32(b, 13);
	if (d == D_NAME_LEN)
		*bad = b->len;
	if (d == D_NAME_LEN) { /* a length running past the payload */
		put32(b, 1000);
		put(b, "hand.hist", 9);
		return;
	}
	putstr(b, "hand.hist", 9);
	if (d == D_LABEL)
		*bad = b->len + 4;
	putstr(b, d == D_LABEL ? "novalue\0" : "", d == D_LABEL ? 8 : 0);
	putstr(b, "hand.c", 6);
	if (d == D_SUM)
		*bad = b->len;
	put64(b, d == D_SUM ? 6 : 5);
	double sum = 7.5, mn = 1, mx = 2;
	put(b, &sum, 8);
	put(b, &mn, 8);
	put(b, &mx, 8);
	put32(b, 2);
	put32(b, 100);
	put64(b, 2);
	if (d == D_INDEX || d == D_ORDER)
		*bad = b->len;
	put32(b, d == D_INDEX ? 5000 : d == D_ORDER ? 100 : 200);
	put64(b, 3);
	if (d == D_SHORT_COUNT)
		*bad = b->len; /* where the third entry should be */
}

/* The bytes of a real snapshot with an MTRC chunk (payload pl) inserted
 * before END; *payload_off gets the file offset of the payload. */
static void spliced(const unsigned char *file, size_t size, const struct buf *pl, struct buf *out,
		    size_t *payload_off)
{
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	while (off + 16 <= size) {
		uint32_t type, len;
		memcpy(&type, file + off, 4);
		memcpy(&len, file + off + 8, 4);
		if (type == TTLOG__FMT_CHUNK_END)
			break;
		off += 16 + len;
	}
	assert_true(off + 16 <= size);
	out->len = 0;
	put(out, file, off);
	unsigned char h[16];
	uint32_t type = TTLOG__FMT_CHUNK_MTRC, flags = 0, len = (uint32_t)pl->len;
	memcpy(h, &type, 4);
	memcpy(h + 4, &flags, 4);
	memcpy(h + 8, &len, 4);
	uint32_t crc = ttlog__chunk_crc(h, pl->p, pl->len);
	memcpy(h + 12, &crc, 4);
	put(out, h, 16);
	*payload_off = out->len;
	put(out, pl->p, pl->len);
	put(out, file + off, size - off);
}

static size_t count_events(ttlog_reader *r)
{
	struct ttlog_event e;
	size_t n = 0;
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, &e))
		n++;
	return n;
}

static void test_mtrc_damaged(void **state)
{
	(void)state;
	TTLOG_INFO("an event that must survive");
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("damage", path, sizeof path), TTLOG_OK);
	struct stat stt;
	assert_int_equal(stat(path, &stt), 0);
	unsigned char *file = malloc((size_t)stt.st_size);
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, file, (size_t)stt.st_size), stt.st_size);
	close(fd);
	unlink(path);
	size_t size = (size_t)stt.st_size;

	ttlog_reader *r;
	assert_int_equal(ttlog__reader_open_memory(file, size, "base", &r), TTLOG_OK);
	size_t events = count_events(r), base_metrics;
	assert_true(events > 0);
	ttlog_reader_metrics(r, &base_metrics);
	assert_true(base_metrics > 0);
	ttlog_reader_close(r);

	static const struct {
		enum damage d;
		int status;
		const char *what;
		int hist_kept;
	} cases[] = {
		{D_NONE, TTLOG_OK, NULL, 1},
		{D_INDEX, TTLOG_E_CORRUPT, "expected a bucket index below 4098, found 5000", 0},
		{D_ORDER, TTLOG_E_CORRUPT, "expected bucket indexes in increasing order, found 100 after 100", 0},
		{D_SUM, TTLOG_E_CORRUPT,
		 "expected a histogram count equal to the sum of its buckets (5), found 6", 0},
		{D_NAME_LEN, TTLOG_E_CORRUPT, "expected a metric name string of 1000 bytes, found", 0},
		{D_TYPE, TTLOG_E_VERSION, "expected a metric type this reader knows (1..3), found 9", 0},
		{D_SHORT_COUNT, TTLOG_E_CORRUPT,
		 "expected 8 bytes of a metric entry, found 0 left in the MTRC chunk", 1},
		{D_SCHEME, TTLOG_E_VERSION,
		 "expected histogram buckets of 6 bits from 2^-24 to 2^40, found 7 bits", -1},
		{D_LABEL, TTLOG_E_CORRUPT, "expected a label \"key=value\", found \"novalue\"", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf pl = {0}, out = {0};
		size_t bad, payload_off;
		mtrc_payload(&pl, cases[i].d, &bad);
		spliced(file, size, &pl, &out, &payload_off);
		int st = ttlog__reader_open_memory(out.p, out.len, "damaged", &r);
		assert_non_null(r);
		if (st != cases[i].status)
			fail_msg("case %zu: status %d, expected %d (%s)", i, st, cases[i].status,
				 ttlog_reader_error(r) ? ttlog_reader_error(r) : "no error");
		if (cases[i].what) {
			char want[300];
			snprintf(want, sizeof want, "offset %zu: %s", payload_off + bad, cases[i].what);
			if (!strstr(ttlog_reader_error(r), want))
				fail_msg("case %zu: error \"%s\", expected one containing \"%s\"", i,
					 ttlog_reader_error(r), want);
		}
		/* The events and the other chunks' metrics are all there. */
		assert_int_equal(count_events(r), events);
		size_t n;
		ttlog_reader_metrics(r, &n);
		const struct ttlog_metric_value *ok = find(r, "hand.ok", "k", "v");
		if (cases[i].hist_kept < 0) {
			assert_null(ok);
			assert_int_equal(n, base_metrics);
		} else {
			assert_non_null(ok);
			assert_int_equal(ok->counter, 99);
			assert_int_equal(n, base_metrics + 1 + (size_t)cases[i].hist_kept);
		}
		if (cases[i].hist_kept > 0) {
			const struct ttlog_metric_value *h = must_find(r, "hand.hist", NULL, NULL);
			assert_int_equal(h->hist.count, 5);
			assert_int_equal(h->hist.nbuckets, 2);
			assert_true(h->hist.p50 >= 1 && h->hist.p50 <= 2);
		}
		ttlog_reader_close(r);
		free(pl.p);
		free(out.p);
	}
	free(file);
}

/* Files before revision 7 named ttlog's own counters without _total and the
 * ring use ttlog_ring_utilisation: a reader gives such SELF entries their
 * revision 7 names, and leaves a program's metrics as they are. */
static void test_mtrc_old_self_names(void **state)
{
	(void)state;
	TTLOG_INFO("an event");
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("oldnames", path, sizeof path), TTLOG_OK);
	struct stat stt;
	assert_int_equal(stat(path, &stt), 0);
	unsigned char *file = malloc((size_t)stt.st_size);
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, file, (size_t)stt.st_size), stt.st_size);
	close(fd);
	unlink(path);

	struct buf pl = {0}, out = {0};
	put32(&pl, 3);
	put8(&pl, 6);
	put8(&pl, 0);
	put16(&pl, (uint16_t)-24);
	put16(&pl, 40);
	put16(&pl, 0);
	/* SELF counter, revision 6 name. */
	put8(&pl, TTLOG__FMT_METRIC_COUNTER);
	put8(&pl, TTLOG__FMT_METRIC_FLAG_SELF);
	put16(&pl, 0);
	put32(&pl, 0);
	putstr(&pl, "ttlog_events_written", 20);
	putstr(&pl, "", 0);
	putstr(&pl, "", 0);
	put64(&pl, 41);
	/* SELF gauge, revision 6 name. */
	put8(&pl, TTLOG__FMT_METRIC_GAUGE);
	put8(&pl, TTLOG__FMT_METRIC_FLAG_SELF);
	put16(&pl, 0);
	put32(&pl, 0);
	putstr(&pl, "ttlog_ring_utilisation", 22);
	putstr(&pl, "thread=0\0", 9);
	putstr(&pl, "", 0);
	double use = 0.25;
	put(&pl, &use, 8);
	put64(&pl, 1);
	/* The same name without SELF is not renamed. */
	put8(&pl, TTLOG__FMT_METRIC_COUNTER);
	put8(&pl, 0);
	put16(&pl, 0);
	put32(&pl, 7);
	putstr(&pl, "ttlog_torn_records", 18);
	putstr(&pl, "", 0);
	putstr(&pl, "x.c", 3);
	put64(&pl, 5);
	size_t payload_off;
	spliced(file, (size_t)stt.st_size, &pl, &out, &payload_off);
	ttlog_reader *r;
	assert_int_equal(ttlog__reader_open_memory(out.p, out.len, "old names", &r), TTLOG_OK);
	const struct ttlog_metric_value *m = NULL;
	size_t n;
	const struct ttlog_metric_value *all = ttlog_reader_metrics(r, &n);
	for (size_t i = 0; i < n; i++)
		if (all[i].counter == 41 && all[i].type == TTLOG_METRIC_COUNTER)
			m = &all[i];
	assert_non_null(m);
	assert_string_equal(m->name, "ttlog_events_written_total");
	assert_true(m->self);
	m = NULL;
	for (size_t i = 0; i < n; i++)
		if (all[i].type == TTLOG_METRIC_GAUGE && all[i].gauge == 0.25)
			m = &all[i];
	assert_non_null(m);
	assert_string_equal(m->name, "ttlog_ring_used_ratio");
	assert_null(find(r, "ttlog_ring_utilisation", "thread", "0"));
	assert_int_equal(must_find(r, "ttlog_torn_records", NULL, NULL)->counter, 5);
	ttlog_reader_close(r);
	free(pl.p);
	free(out.p);
	free(file);
}

/* Files written before metrics have none, and their MTRC-less chunks read as before. */
static void test_old_file_has_no_metrics(void **state)
{
	(void)state;
	const char *src = getenv("TTLOG_SRC");
	if (!src)
		skip();
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/data/ttlog-0.2-golden.ttlog", src);
	ttlog_reader *r;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	size_t n = 5;
	assert_null(ttlog_reader_metrics(r, &n));
	assert_int_equal(n, 0);
	ttlog_reader_close(r);
}

/* ---- Life cycle and capacity -------------------------------------------------- */

static void count_after_shutdown(uint64_t n)
{
	TTLOG_COUNTER_ADD("life.count", n);
}

static void test_updates_after_shutdown(void **state)
{
	(void)state;
	count_after_shutdown(1);
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	struct ttlog_stats before, after;
	assert_int_equal(ttlog_get_stats(&before), TTLOG_OK);
	count_after_shutdown(10);
	count_after_shutdown(10);
	TTLOG_GAUGE_SET("life.never_set", 1); /* registers, but the value is dropped */
	assert_int_equal(ttlog_get_stats(&after), TTLOG_OK);
	assert_int_equal(after.dropped_uninitialized - before.dropped_uninitialized, 3);
	assert_int_equal(tu_start(NULL), 0);
	count_after_shutdown(100);
	ttlog_reader *r = tu_snapshot_open("life");
	assert_non_null(r);
	assert_int_equal(must_find(r, "life.count", NULL, NULL)->counter, 101);
	const struct ttlog_metric_value *m = must_find(r, "life.never_set", NULL, NULL);
	assert_false(m->gauge_set);
	assert_int_equal(must_find(r, "ttlog_events_dropped_total", "reason", "uninitialized")->counter,
			 after.dropped_uninitialized);
	ttlog_reader_close(r);
}

/* 150 histogram uses with distinct names: more than the 127 that fit. */
#define H1(n) case n: TTLOG_HISTOGRAM_RECORD("cap.h" #n, 1); break;
#define H10(n) H1(n##0) H1(n##1) H1(n##2) H1(n##3) H1(n##4) H1(n##5) H1(n##6) H1(n##7) H1(n##8) H1(n##9)
static void record_many(int i)
{
	switch (i) {
		H10(1) H10(2) H10(3) H10(4) H10(5) H10(6) H10(7) H10(8) H10(9) H10(10) H10(11) H10(12)
		H10(13) H10(14) H10(15)
	}
}

static void test_capacity(void **state)
{
	(void)state;
	struct ttlog_stats before, after;
	assert_int_equal(ttlog_get_stats(&before), TTLOG_OK);
	for (int i = 10; i < 160; i++)
		record_many(i);
	TTLOG_COUNTER_ADD("cap.counter_after", 1); /* counters may still fit */
	assert_int_equal(ttlog_get_stats(&after), TTLOG_OK);
	/* Each use either got its slots or was refused; the counter fits in
	 * what the histograms left. */
	uint32_t added = after.metrics - before.metrics;
	uint32_t refused = after.metrics_refused - before.metrics_refused;
	assert_true(refused > 0);
	assert_int_equal(added + refused, 150 + 1);
	assert_true(after.metrics <= TTLOG_METRICS_MAX);
	ttlog_reader *r = tu_snapshot_open("capacity");
	assert_non_null(r);
	assert_int_equal(must_find(r, "ttlog_metrics_refused_total", NULL, NULL)->counter, after.metrics_refused);
	assert_int_equal(must_find(r, "cap.counter_after", NULL, NULL)->counter, 1);
	ttlog_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	return tu_start(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_threads),
		cmocka_unit_test(test_gauge_last_write_wins),
		cmocka_unit_test(test_histogram_quantiles),
		cmocka_unit_test(test_histogram_out_of_range),
		cmocka_unit_test(test_registration_rules),
		cmocka_unit_test(test_snapshot_roundtrip),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_mtrc_old_self_names),
		cmocka_unit_test(test_mtrc_damaged),
		cmocka_unit_test(test_old_file_has_no_metrics),
		cmocka_unit_test(test_updates_after_shutdown),
		cmocka_unit_test(test_capacity), /* last: it fills the registry */
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
