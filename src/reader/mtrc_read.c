/* SPDX-License-Identifier: MIT */
/*
 * mtrc_read.c - reads MTRC chunks (docs/FORMAT.md, MTRC) into the metrics that
 * ttlog_reader_metrics() returns, and computes histogram quantiles.
 *
 * Trust: as in reader/open.c, every count and length is compared with the
 * bytes that remain before it is used, and nothing is allocated by a count
 * read from the file, only by bytes that exist (an entry's allocation is
 * bounded by the entry's own bytes). Histograms are checked whole: bucket
 * indexes in range and strictly increasing, no empty bucket, and bucket counts
 * adding up to the count, so that quantiles computed from them mean what they
 * say. The first problem ends the chunk; the entries before it stay.
 *
 * Names: files before revision 7 named ttlog's own counters without the
 * "_total" suffix and the ring use ttlog_ring_utilisation; such a SELF
 * entry is given its revision 7 name, so that one name finds the metric in
 * old and new files alike (queries, views, exports).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/histogram.h"
#include "common/internal.h"
#include "format/format.h"
#include "reader/mtrc_read.h"

struct mcur {
	const unsigned char *p;
	size_t left;
	size_t off;                 /* file offset of p */
	struct ttlog__mtrc_problem *pb;
};

__attribute__((format(printf, 4, 5)))
static int problem(struct mcur *c, int status, size_t off, const char *fmt, ...)
{
	va_list ap;
	if (c->pb->status != TTLOG_OK)
		return -1; /* the first problem is the one reported */
	c->pb->status = status;
	c->pb->off = off;
	va_start(ap, fmt);
	vsnprintf(c->pb->what, sizeof c->pb->what, fmt, ap);
	va_end(ap);
	return -1;
}

/* The revision 7 name of a SELF metric named as before it, else NULL. */
static const char *self_name_now(const unsigned char *name, size_t len)
{
	static const char *const renamed[][2] = {
		{"ttlog_events_written", "ttlog_events_written_total"},
		{"ttlog_events_overwritten", "ttlog_events_overwritten_total"},
		{"ttlog_events_dropped", "ttlog_events_dropped_total"},
		{"ttlog_torn_records", "ttlog_torn_records_total"},
		{"ttlog_snapshots_written", "ttlog_snapshots_written_total"},
		{"ttlog_snapshots_failed", "ttlog_snapshots_failed_total"},
		{"ttlog_snapshots_busy", "ttlog_snapshots_busy_total"},
		{"ttlog_metrics_refused", "ttlog_metrics_refused_total"},
		{"ttlog_metrics_rejected", "ttlog_metrics_rejected_total"},
		{"ttlog_stream_promotions_suppressed", "ttlog_stream_promotions_suppressed_total"},
		{"ttlog_ring_utilisation", "ttlog_ring_used_ratio"},
	};
	for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
		if (strlen(renamed[i][0]) == len && memcmp(renamed[i][0], name, len) == 0)
			return renamed[i][1];
	return NULL;
}

static int need(struct mcur *c, size_t n, const char *what)
{
	if (n <= c->left)
		return 0;
	return problem(c, TTLOG_E_CORRUPT, c->off,
		       "expected %zu bytes of %s, found %zu left in the MTRC chunk", n, what, c->left);
}

static void skip(struct mcur *c, size_t n)
{
	c->p += n;
	c->left -= n;
	c->off += n;
}

static int str(struct mcur *c, const char *what, const unsigned char **s, size_t *n)
{
	if (need(c, 4, what) != 0)
		return -1;
	uint32_t len = ttlog__get_u32(c->p);
	if (len > c->left - 4)
		return problem(c, TTLOG_E_CORRUPT, c->off,
			       "expected a %s string of %u bytes, found %zu bytes left in the MTRC chunk",
			       what, (unsigned)len, c->left - 4);
	*s = c->p + 4;
	*n = len;
	skip(c, 4 + (size_t)len);
	return 0;
}

static double get_f64(const unsigned char *p)
{
	return ttlog__hist_from_bits(ttlog__get_u64(p));
}

/* What a mapped file changed under the reader looks like: something
 * checked a moment before, found otherwise when it was kept (reader/map.c).
 * Returns -1. */
static int changed(struct mcur *c, size_t at, const char *what)
{
	return problem(c, TTLOG_E_CORRUPT, at,
		       "expected the %s checked a moment before, found it changed (the file "
		       "changed while it was read)",
		       what);
}

/* Labels: "k=v\0" per label. Returns how many, or -1. */
static long count_labels(struct mcur *c, size_t at, const unsigned char *s, size_t n)
{
	long count = 0;
	if (n && s[n - 1] != '\0')
		return problem(c, TTLOG_E_CORRUPT, at + n - 1,
			       "expected the label list to end with a NUL byte, found 0x%02x",
			       (unsigned)s[n - 1]);
	for (size_t i = 0; i < n;) {
		/* Bounded: the NUL found above may be gone (a mapped file's
		 * bytes can change while they are read). */
		size_t len = strnlen((const char *)s + i, n - i);
		const void *eq = memchr(s + i, '=', len);
		if (!eq || eq == s + i)
			return problem(c, TTLOG_E_CORRUPT, at + i,
				       "expected a label \"key=value\", found \"%.*s\"",
				       (int)TTLOG__MIN(len, (size_t)64), (const char *)s + i);
		count++;
		i += len + 1;
	}
	return count;
}

static double quantile(const struct ttlog_metric_value *m, uint64_t rank)
{
	uint64_t cum = 0;
	for (size_t i = 0; i < m->hist.nbuckets; i++) {
		cum += m->hist.buckets[i].count;
		if (cum >= rank)
			return ttlog__hist_point(m->hist.buckets[i].index, m->hist.min, m->hist.max);
	}
	return m->hist.max; /* not reached: the buckets add up to the count */
}

TTLOG_API double ttlog_metric_quantile(const struct ttlog_metric_value *m, double q)
{
	if (!m || m->type != TTLOG_METRIC_HISTOGRAM || m->hist.count == 0 || !(q >= 0.0 && q <= 1.0))
		return __builtin_nan("");
	long double x = (long double)q * (long double)m->hist.count;
	uint64_t rank = (uint64_t)x;
	if ((long double)rank < x)
		rank++;
	return quantile(m, rank ? rank : 1);
}

static int grow(struct ttlog__rmetrics *m)
{
	if (m->n < m->cap)
		return 0;
	size_t cap = m->cap ? 2 * m->cap : 32;
	struct ttlog_metric_value *items = realloc(m->items, cap * sizeof *items);
	if (items)
		m->items = items;
	uint64_t *ticks = realloc(m->ticks, cap * sizeof *ticks);
	if (ticks)
		m->ticks = ticks;
	void **blocks = realloc(m->blocks, cap * sizeof *blocks);
	if (blocks)
		m->blocks = blocks;
	if (!items || !ticks || !blocks)
		return -1;
	m->cap = cap;
	return 0;
}

/* The histogram value at c: count, sum, min, max, n, then n pairs. Checks
 * everything; *nb gets n. */
static int check_histogram(struct mcur *c, uint32_t *nb)
{
	if (need(c, TTLOG__FMT_HIST_FIXED_SIZE, "histogram fields") != 0)
		return -1;
	uint64_t count = ttlog__get_u64(c->p);
	uint32_t n = ttlog__get_u32(c->p + 32);
	size_t n_off = c->off + 32;
	if (n > TTLOG__HIST_BUCKETS)
		return problem(c, TTLOG_E_CORRUPT, n_off,
			       "expected at most %u histogram buckets, found %u",
			       (unsigned)TTLOG__HIST_BUCKETS, (unsigned)n);
	if ((size_t)n * TTLOG__FMT_HIST_PAIR_SIZE > c->left - TTLOG__FMT_HIST_FIXED_SIZE)
		return problem(c, TTLOG_E_CORRUPT, n_off,
			       "expected %u histogram buckets (%zu bytes), found %zu bytes left in the "
			       "MTRC chunk",
			       (unsigned)n, (size_t)n * TTLOG__FMT_HIST_PAIR_SIZE,
			       c->left - TTLOG__FMT_HIST_FIXED_SIZE);
	const unsigned char *pairs = c->p + TTLOG__FMT_HIST_FIXED_SIZE;
	size_t pairs_off = c->off + TTLOG__FMT_HIST_FIXED_SIZE;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		const unsigned char *q = pairs + (size_t)i * TTLOG__FMT_HIST_PAIR_SIZE;
		size_t at = pairs_off + (size_t)i * TTLOG__FMT_HIST_PAIR_SIZE;
		uint32_t index = ttlog__get_u32(q);
		uint64_t k = ttlog__get_u64(q + 4);
		if (index >= TTLOG__HIST_BUCKETS)
			return problem(c, TTLOG_E_CORRUPT, at,
				       "expected a bucket index below %u, found %u",
				       (unsigned)TTLOG__HIST_BUCKETS, (unsigned)index);
		if (i > 0 && index <= ttlog__get_u32(q - TTLOG__FMT_HIST_PAIR_SIZE))
			return problem(c, TTLOG_E_CORRUPT, at,
				       "expected bucket indexes in increasing order, found %u after %u",
				       (unsigned)index,
				       (unsigned)ttlog__get_u32(q - TTLOG__FMT_HIST_PAIR_SIZE));
		if (k == 0 || k > UINT64_MAX - total)
			return problem(c, TTLOG_E_CORRUPT, at + 4,
				       "expected a bucket count above 0 whose sum with the others "
				       "fits 64 bits, found %llu",
				       (unsigned long long)k);
		total += k;
	}
	if (total != count)
		return problem(c, TTLOG_E_CORRUPT, c->off,
			       "expected a histogram count equal to the sum of its buckets (%llu), "
			       "found %llu",
			       (unsigned long long)total, (unsigned long long)count);
	*nb = n;
	return 0;
}

/* One entry at c. Returns 0 (entry appended), or -1. */
static int parse_entry(struct ttlog__rmetrics *m, struct mcur *c)
{
	size_t entry_off = c->off;
	if (need(c, TTLOG__FMT_METRIC_FIXED_SIZE, "a metric entry") != 0)
		return -1;
	uint8_t type = c->p[TTLOG__FMT_METRIC_TYPE_OFF];
	uint8_t flags = c->p[TTLOG__FMT_METRIC_FLAGS_OFF];
	uint16_t reserved = ttlog__get_u16(c->p + TTLOG__FMT_METRIC_RESERVED_OFF);
	uint32_t line = ttlog__get_u32(c->p + TTLOG__FMT_METRIC_LINE_OFF);
	if (type < TTLOG__FMT_METRIC_COUNTER || type > TTLOG__FMT_METRIC_HISTOGRAM)
		return problem(c, TTLOG_E_VERSION, entry_off + TTLOG__FMT_METRIC_TYPE_OFF,
			       "expected a metric type this reader knows (1..3), found %u",
			       (unsigned)type);
	if (flags & ~TTLOG__FMT_METRIC_FLAGS_KNOWN)
		return problem(c, TTLOG_E_CORRUPT, entry_off + TTLOG__FMT_METRIC_FLAGS_OFF,
			       "expected metric flags 0x%02x at most, found 0x%02x",
			       TTLOG__FMT_METRIC_FLAGS_KNOWN, (unsigned)flags);
	skip(c, TTLOG__FMT_METRIC_FIXED_SIZE);
	const unsigned char *name, *labels, *file;
	size_t name_len, labels_len, file_len;
	if (str(c, "metric name", &name, &name_len) != 0)
		return -1;
	if (name_len == 0 || memchr(name, '\0', name_len))
		return problem(c, TTLOG_E_CORRUPT, c->off - name_len - 4,
			       "expected a metric name of 1 or more bytes without NUL, found %zu bytes",
			       name_len);
	size_t labels_off = c->off + 4;
	if (str(c, "label list", &labels, &labels_len) != 0)
		return -1;
	long nlabels = count_labels(c, labels_off, labels, labels_len);
	if (nlabels < 0 || str(c, "file name", &file, &file_len) != 0)
		return -1;

	size_t value_size = type == TTLOG__FMT_METRIC_COUNTER ? 8 : 16;
	uint32_t nb = 0;
	if (type == TTLOG__FMT_METRIC_HISTOGRAM) {
		if (check_histogram(c, &nb) != 0)
			return -1;
		value_size = TTLOG__FMT_HIST_FIXED_SIZE + (size_t)nb * TTLOG__FMT_HIST_PAIR_SIZE;
	} else if (need(c, value_size, type == TTLOG__FMT_METRIC_COUNTER ? "a counter value"
									 : "a gauge value and time") != 0) {
		return -1;
	}

	/* One block: buckets, labels, then the strings. Its size is bounded by
	 * the entry's bytes (32 per 12-byte pair, 16 per 4-byte label). */
	size_t size = (size_t)nb * sizeof(struct ttlog_metric_bucket) +
		      (size_t)nlabels * sizeof(struct ttlog_metric_label) + name_len + 1 +
		      labels_len + file_len + 1;
	char *block = malloc(size ? size : 1);
	if (!block || grow(m) != 0) {
		free(block);
		return problem(c, TTLOG_E_NOMEM, entry_off, "out of memory reading metrics");
	}
	struct ttlog_metric_bucket *buckets = (struct ttlog_metric_bucket *)(void *)block;
	struct ttlog_metric_label *lab = (struct ttlog_metric_label *)(void *)(buckets + nb);
	char *text = (char *)(lab + nlabels);
	struct ttlog_metric_value *v = &m->items[m->n];
	memset(v, 0, sizeof *v);
	v->type = type;
	v->self = (flags & TTLOG__FMT_METRIC_FLAG_SELF) != 0;
	v->line = line;
	memcpy(text, name, name_len);
	text[name_len] = '\0';
	v->name = text;
	if (memchr(text, '\0', name_len)) { /* checked above, in the file's bytes */
		free(block);
		return changed(c, entry_off, "metric name");
	}
	if (v->self) {
		const char *now = self_name_now((const unsigned char *)text, name_len);
		if (now)
			v->name = now; /* a string of this program: lives as long */
	}
	text += name_len + 1;
	memcpy(text, file, file_len);
	text[file_len] = '\0';
	v->file = text;
	text += file_len + 1;
	if (labels_len)
		memcpy(text, labels, labels_len);
	/* The copy is taken apart within its own bounds: a mapped file cut
	 * while it is read turns the bytes count_labels() saw into zeros. */
	const char *const labels_end = text + labels_len;
	for (long i = 0; i < nlabels; i++) {
		char *nul = memchr(text, '\0', (size_t)(labels_end - text));
		char *eq = nul ? memchr(text, '=', (size_t)(nul - text)) : NULL;
		if (!eq) {
			free(block);
			return changed(c, labels_off, "label list");
		}
		*eq = '\0';
		lab[i].key = text;
		lab[i].value = eq + 1;
		text = nul + 1;
	}
	v->nlabels = (unsigned)nlabels;
	v->labels = lab;
	m->ticks[m->n] = 0;
	if (type == TTLOG__FMT_METRIC_COUNTER) {
		v->counter = ttlog__get_u64(c->p);
	} else if (type == TTLOG__FMT_METRIC_GAUGE) {
		v->gauge = get_f64(c->p);
		m->ticks[m->n] = ttlog__get_u64(c->p + 8);
		v->gauge_set = m->ticks[m->n] != 0;
	} else {
		v->hist.count = ttlog__get_u64(c->p);
		v->hist.sum = get_f64(c->p + 8);
		v->hist.min = get_f64(c->p + 16);
		v->hist.max = get_f64(c->p + 24);
		const unsigned char *q = c->p + TTLOG__FMT_HIST_FIXED_SIZE;
		uint64_t total = 0;
		for (uint32_t i = 0; i < nb; i++, q += TTLOG__FMT_HIST_PAIR_SIZE) {
			buckets[i].index = ttlog__get_u32(q);
			buckets[i].count = ttlog__get_u64(q + 4);
			/* check_histogram()'s rules again, on what is kept. */
			if (buckets[i].index >= TTLOG__HIST_BUCKETS ||
			    (i > 0 && buckets[i].index <= buckets[i - 1].index) ||
			    buckets[i].count > UINT64_MAX - total) {
				free(block);
				return changed(c, entry_off, "histogram");
			}
			total += buckets[i].count;
			buckets[i].lower = ttlog__hist_lower(buckets[i].index);
			buckets[i].upper = ttlog__hist_upper(buckets[i].index);
		}
		if (total != v->hist.count) {
			free(block);
			return changed(c, entry_off, "histogram");
		}
		v->hist.nbuckets = nb;
		v->hist.buckets = buckets;
		if (v->hist.count) {
			v->hist.p50 = quantile(v, ttlog__hist_rank(v->hist.count, 500, 1000));
			v->hist.p90 = quantile(v, ttlog__hist_rank(v->hist.count, 900, 1000));
			v->hist.p99 = quantile(v, ttlog__hist_rank(v->hist.count, 990, 1000));
			v->hist.p999 = quantile(v, ttlog__hist_rank(v->hist.count, 999, 1000));
		} else {
			v->hist.p50 = v->hist.p90 = v->hist.p99 = v->hist.p999 = __builtin_nan("");
		}
	}
	m->blocks[m->n] = block;
	m->n++;
	skip(c, value_size);
	if (reserved) /* reported, and the entry kept */
		problem(c, TTLOG_E_CORRUPT, entry_off + TTLOG__FMT_METRIC_RESERVED_OFF,
			"expected a zero reserved field, found 0x%04x", (unsigned)reserved);
	return 0;
}

int ttlog__mtrc_parse(struct ttlog__rmetrics *m, const unsigned char *p, size_t len,
		      size_t file_off, struct ttlog__mtrc_problem *pb)
{
	struct mcur c = {p, len, file_off, pb};
	pb->status = TTLOG_OK;
	if (need(&c, TTLOG__FMT_MTRC_HEADER_SIZE, "the MTRC header") != 0)
		return -1;
	uint32_t count = ttlog__get_u32(p + TTLOG__FMT_MTRC_COUNT_OFF);
	unsigned sub = p[TTLOG__FMT_MTRC_SUB_BITS_OFF];
	int min_exp = (int16_t)ttlog__get_u16(p + TTLOG__FMT_MTRC_MIN_EXP_OFF);
	int max_exp = (int16_t)ttlog__get_u16(p + TTLOG__FMT_MTRC_MAX_EXP_OFF);
	if (sub != TTLOG__HIST_SUB_BITS || min_exp != TTLOG__HIST_MIN_EXP ||
	    max_exp != TTLOG__HIST_MAX_EXP)
		return problem(&c, TTLOG_E_VERSION, file_off + TTLOG__FMT_MTRC_SUB_BITS_OFF,
			       "expected histogram buckets of %d bits from 2^%d to 2^%d, found %u bits "
			       "from 2^%d to 2^%d",
			       TTLOG__HIST_SUB_BITS, TTLOG__HIST_MIN_EXP, TTLOG__HIST_MAX_EXP, sub,
			       min_exp, max_exp);
	if (p[TTLOG__FMT_MTRC_RESERVED_OFF] || ttlog__get_u16(p + TTLOG__FMT_MTRC_RESERVED2_OFF))
		return problem(&c, TTLOG_E_CORRUPT, file_off + TTLOG__FMT_MTRC_RESERVED_OFF,
			       "expected zero reserved fields in the MTRC header");
	skip(&c, TTLOG__FMT_MTRC_HEADER_SIZE);
	for (uint32_t i = 0; i < count; i++)
		if (parse_entry(m, &c) != 0)
			return -1; /* the rest of the chunk cannot be trusted */
	if (c.left)
		problem(&c, TTLOG_E_CORRUPT, c.off,
			"expected the end of the MTRC chunk after %u metrics, found %zu more bytes",
			(unsigned)count, c.left);
	return pb->status == TTLOG_OK ? 0 : -1;
}

void ttlog__rmetrics_free(struct ttlog__rmetrics *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->blocks[i]);
	free(m->items);
	free(m->ticks);
	free(m->blocks);
	memset(m, 0, sizeof *m);
}
