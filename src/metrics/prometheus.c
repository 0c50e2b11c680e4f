/* SPDX-License-Identifier: MIT */
/*
 * prometheus.c - ttlog_metrics_write_prometheus(): the metrics of the
 * running process in the Prometheus text exposition format, version 0.0.4.
 *
 * The format, line by line:
 *   # HELP <name> <text, with \ and newline escaped>
 *   # TYPE <name> counter|gauge|histogram
 *   <name>{<label>="<value, with \, " and newline escaped>",...} <value>
 * Every family (one name) has its HELP and TYPE lines before its samples,
 * and all its samples together. A histogram family has, per label set,
 * cumulative <name>_bucket{...,le="<bound>"} lines with non-decreasing
 * counts ending in le="+Inf" (equal to the count), then <name>_sum and
 * <name>_count. Values are Go ParseFloat numbers: integers, decimal or
 * exponent notation, NaN, +Inf, -Inf.
 *
 * Names: '.' (allowed in ttlog names) becomes '_', and a counter whose
 * name does not end in "_total" gets that suffix (Prometheus' naming rule,
 * which promtool checks): TTLOG_COUNTER_ADD("http.requests", ...) is the
 * family http_requests_total, and "jobs_total" stays as it is. Bucket
 * bounds: the
 * powers of two from the lowest to the highest occupied one of the
 * histogram's 64 ranges (2^-24 .. 2^40), then +Inf. ttlog's buckets hold
 * (L, U] and the bounds are bucket edges, so every cumulative count is
 * exact for Prometheus' "less than or equal".
 *
 * Signal safety: output is built in a buffer on the stack and written with
 * write() (short writes and EINTR retried); numbers are formatted here,
 * without stdio; nothing is allocated and no lock is taken. Everything in
 * this file runs in signal context.
 */
#include <stdatomic.h>
#include <string.h>

#include "common/histogram.h"
#include "common/internal.h"
#include "common/sigsafe.h"
#include "metrics/metrics.h"

#define OUT_BUF 4096u

struct out {
	struct ttlog__fdbuf f;       /* through buf */
	char buf[OUT_BUF];
	const char *family;          /* the self-metric family written last */
};

static void out_mem(struct out *o, const char *s, size_t n)
{
	ttlog__fdbuf_put(&o->f, s, n);
}

static void out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_char(struct out *o, char c)
{
	out_mem(o, &c, 1);
}

static void out_u64(struct out *o, uint64_t v)
{
	char d[24];
	int n = 0;
	do {
		d[sizeof d - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(o, d + sizeof d - n, (size_t)n);
}

/* 10^k for k in [0, 4951], by squaring: exact up to 10^27, then within a
 * few units of the last of long double's 64 bits. */
static long double pow10l_(int k)
{
	long double r = 1.0L, p = 10.0L;
	while (k) {
		if (k & 1)
			r *= p;
		p *= p;
		k >>= 1;
	}
	return r;
}

/*
 * A double as Go's ParseFloat reads it: NaN, +Inf, -Inf, an integer when
 * the value is one below 2^53, else 17 significant digits in exponent
 * notation, computed in long double (64-bit mantissa): they read back as
 * the same double except, rarely, in the last bit.
 */
static void out_double(struct out *o, double v)
{
	if (v != v) {
		out_str(o, "NaN");
		return;
	}
	if (v == __builtin_inf() || v == -__builtin_inf()) {
		out_str(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (__builtin_signbit(v)) {
		out_char(o, '-');
		v = -v;
	}
	if (v < 9007199254740992.0 && v == (double)(uint64_t)v) {
		out_u64(o, (uint64_t)v);
		return;
	}
	uint64_t bits;
	memcpy(&bits, &v, 8);
	int e2 = (int)(bits >> 52) - 1023; /* v's power of two (subnormals: about) */
	int e10 = (int)(e2 * 0.30102999566398120) - (e2 < 0); /* about floor(log10 v) */
	long double x = v;
	int k = 16 - e10;
	x = k >= 0 ? x * pow10l_(k) : x / pow10l_(-k);
	while (x >= 1e17L) {
		x /= 10.0L;
		e10++;
	}
	while (x < 1e16L) {
		x *= 10.0L;
		e10--;
	}
	uint64_t m = (uint64_t)(x + 0.5L);
	if (m >= 100000000000000000ull) {
		m /= 10;
		e10++;
	}
	char d[17];
	for (int i = 16; i >= 0; i--) {
		d[i] = (char)('0' + m % 10);
		m /= 10;
	}
	int last = 16;
	while (last > 0 && d[last] == '0')
		last--;
	out_char(o, d[0]);
	if (last > 0) {
		out_char(o, '.');
		out_mem(o, d + 1, (size_t)last);
	}
	out_char(o, 'e');
	out_char(o, e10 < 0 ? '-' : '+');
	out_u64(o, (uint64_t)(e10 < 0 ? -e10 : e10));
}

/* 2^e exactly, e in [-24, 40]: an integer, or "0." and the digits of 5^-e. */
static void out_pow2(struct out *o, int e)
{
	if (e >= 0) {
		out_u64(o, (uint64_t)1 << e);
		return;
	}
	uint64_t five = 1;
	for (int i = 0; i < -e; i++)
		five *= 5;
	char d[32];
	for (int i = -e - 1; i >= 0; i--) {
		d[i] = (char)('0' + five % 10);
		five /= 10;
	}
	out_str(o, "0.");
	out_mem(o, d, (size_t)-e);
}

static void out_name(struct out *o, const char *name, const char *suffix)
{
	for (const char *p = name; *p; p++)
		out_char(o, *p == '.' ? '_' : *p);
	out_str(o, suffix);
}

/* "_total" for a counter whose name (with '.' read as '_') does not end
 * in it, else "". */
static const char *total_suffix(const char *name, uint8_t type)
{
	static const char total[] = "_total";
	size_t n = strlen(name), k = sizeof total - 1;
	if (type != TTLOG__METRIC_COUNTER)
		return "";
	if (n < k)
		return total;
	for (size_t i = 0; i < k; i++) {
		char c = name[n - k + i] == '.' ? '_' : name[n - k + i];
		if (c != total[i])
			return total;
	}
	return "";
}

/* HELP text escapes backslash and newline. */
static void out_help_text(struct out *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			out_str(o, "\\\\");
		else if (*s == '\n')
			out_str(o, "\\n");
		else
			out_char(o, *s);
	}
}

static void out_family(struct out *o, const char *name, const char *suffix, const char *type,
		       const char *help, const char *file, uint32_t line)
{
	out_str(o, "# HELP ");
	out_name(o, name, suffix);
	out_char(o, ' ');
	out_help_text(o, help);
	if (file) {
		const char *slash = strrchr(file, '/');
		out_str(o, " (");
		out_help_text(o, slash ? slash + 1 : file);
		out_char(o, ':');
		out_u64(o, line);
		out_char(o, ')');
	}
	out_str(o, "\n# TYPE ");
	out_name(o, name, suffix);
	out_char(o, ' ');
	out_str(o, type);
	out_char(o, '\n');
}

/* {k="v",...[,le="bound"]}: label values escape \, " and newline. le is
 * written by the caller after this when le_follows. */
static void out_labels(struct out *o, const char *labels, size_t len, int le_follows)
{
	if (!len && !le_follows)
		return;
	out_char(o, '{');
	int first = 1;
	for (size_t at = 0; at < len;) {
		const char *l = labels + at;
		size_t n = strnlen(l, len - at);
		const char *eq = memchr(l, '=', n);
		if (eq) {
			if (!first)
				out_char(o, ',');
			first = 0;
			out_mem(o, l, (size_t)(eq - l));
			out_str(o, "=\"");
			for (const char *p = eq + 1; p < l + n; p++) {
				if (*p == '\\')
					out_str(o, "\\\\");
				else if (*p == '"')
					out_str(o, "\\\"");
				else if (*p == '\n')
					out_str(o, "\\n");
				else
					out_char(o, *p);
			}
			out_char(o, '"');
		}
		at += n + 1;
	}
	if (le_follows)
		out_str(o, first ? "le=\"" : ",le=\"");
	else
		out_char(o, '}');
}

static void out_bucket(struct out *o, const struct ttlog__metric_entry *e, int pow2, int inf,
		       uint64_t count)
{
	out_name(o, e->name, "_bucket");
	out_labels(o, e->labels, e->labels_len, 1);
	if (inf)
		out_str(o, "+Inf");
	else
		out_pow2(o, pow2);
	out_str(o, "\"} ");
	out_u64(o, count);
	out_char(o, '\n');
}

static void out_histogram(struct out *o, const struct ttlog__metric_entry *e)
{
	struct ttlog__metric_sum s;
	uint64_t oct[TTLOG__HIST_OCTAVES + 2];
	ttlog__metric_read(e, &s, NULL, oct);
	/* oct[j] for j <= TTLOG__HIST_OCTAVES ends at 2^(j - 24). */
	int lo = -1, hi = -1;
	for (int j = 0; j <= TTLOG__HIST_OCTAVES; j++) {
		if (oct[j]) {
			if (lo < 0)
				lo = j;
			hi = j;
		}
	}
	uint64_t cum = 0;
	for (int j = 0; j < lo; j++)
		cum += oct[j];
	for (int j = lo; lo >= 0 && j <= hi; j++) {
		cum += oct[j];
		out_bucket(o, e, TTLOG__HIST_MIN_EXP + j, 0, cum);
	}
	out_bucket(o, e, 0, 1, s.count);
	out_name(o, e->name, "_sum");
	out_labels(o, e->labels, e->labels_len, 0);
	out_char(o, ' ');
	out_double(o, s.sum);
	out_char(o, '\n');
	out_name(o, e->name, "_count");
	out_labels(o, e->labels, e->labels_len, 0);
	out_char(o, ' ');
	out_u64(o, s.count);
	out_char(o, '\n');
}

static void out_sample(struct out *o, const struct ttlog__metric_entry *e)
{
	if (e->type == TTLOG__METRIC_HISTOGRAM) {
		out_histogram(o, e);
		return;
	}
	struct ttlog__metric_sum s;
	ttlog__metric_read(e, &s, NULL, NULL);
	out_name(o, e->name, total_suffix(e->name, e->type));
	out_labels(o, e->labels, e->labels_len, 0);
	out_char(o, ' ');
	if (e->type == TTLOG__METRIC_COUNTER)
		out_u64(o, s.counter);
	else
		out_double(o, s.gauge);
	out_char(o, '\n');
}

static const char *type_name(uint8_t type)
{
	return type == TTLOG__METRIC_COUNTER ? "counter"
	       : type == TTLOG__METRIC_GAUGE ? "gauge"
					     : "histogram";
}

static void out_self(void *ctx, const struct ttlog__self_metric *m)
{
	struct out *o = ctx;
	if (!o->family || strcmp(o->family, m->name) != 0)
		out_family(o, m->name, total_suffix(m->name, m->type), type_name(m->type), m->help,
			   NULL, 0);
	o->family = m->name;
	out_name(o, m->name, total_suffix(m->name, m->type));
	out_labels(o, m->labels, m->labels_len, 0);
	out_char(o, ' ');
	if (m->type == TTLOG__METRIC_COUNTER)
		out_u64(o, m->counter);
	else
		out_double(o, m->gauge);
	out_char(o, '\n');
}

/* Runs in signal context. */
TTLOG_API int ttlog_metrics_write_prometheus(int fd)
{
	struct out o;
	o.f.fd = fd;
	o.f.failed = 0;
	o.f.buf = (unsigned char *)o.buf;
	o.f.len = 0;
	o.f.cap = sizeof o.buf;
	o.f.sink = NULL;
	o.family = NULL;
	uint32_t n = ttlog__metrics_count();
	for (uint32_t i = 0; i < n && !o.f.failed; i++) {
		const struct ttlog__metric_entry *e = ttlog__metrics_entry(i);
		int seen = 0;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = strcmp(ttlog__metrics_entry(j)->name, e->name) == 0;
		if (seen)
			continue; /* its family was written with its first metric */
		out_family(&o, e->name, total_suffix(e->name, e->type), type_name(e->type),
			   "ttlog metric", e->file, e->line);
		for (uint32_t j = i; j < n; j++)
			if (strcmp(ttlog__metrics_entry(j)->name, e->name) == 0)
				out_sample(&o, ttlog__metrics_entry(j));
	}
	ttlog__self_metrics(out_self, &o, UINT64_MAX, UINT64_MAX);
	ttlog__fdbuf_flush(&o.f);
	return o.f.failed ? TTLOG_E_IO : TTLOG_OK;
}
