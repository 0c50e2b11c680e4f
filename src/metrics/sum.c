/* SPDX-License-Identifier: MIT */
/*
 * sum.c - the value of a metric: its slots summed over every shard.
 *
 * Readers run in any thread, in signal context too, while the shards'
 * owners keep updating: every slot is read with a relaxed atomic load (the
 * owner stores with relaxed atomic stores), so a reader sees each slot
 * whole, at some recent value. Sums over slots read one after the other
 * are not one instant: a histogram may show a value in its bucket and not
 * yet in its sum. Counts are derived from the buckets, so that count and
 * buckets always agree.
 *
 * Gauges: each shard has the value set last by its thread and the ticks of
 * that set; the value with the newest ticks wins.
 *
 * Everything in this file runs in signal context.
 */
#include <stdatomic.h>

#include "common/histogram.h"
#include "common/internal.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "thread/thread.h"

typedef _Atomic uint64_t slot_t;

/* Slot k of the metric at offset in a shard. Runs in signal context. */
static uint64_t slot_load(const unsigned char *shard, uint32_t offset, uint32_t k)
{
	const slot_t *s = (const slot_t *)(const void *)(shard + offset);
	return atomic_load_explicit(&s[k], memory_order_relaxed);
}

/* Runs in signal context. */
static double slot_double(const unsigned char *shard, uint32_t offset, uint32_t k)
{
	return ttlog__hist_from_bits(slot_load(shard, offset, k));
}

/* Keeps the shard's gauge if it was set last. Runs in signal context. */
static void read_gauge(const unsigned char *shard, uint32_t off, struct ttlog__metric_sum *out)
{
	const slot_t *s = (const slot_t *)(const void *)(shard + off);
	/* LMM(gauge:B) pairs with LMM(gauge:A) in ttlog.h: the value loaded
	 * after this time is the one stored with it, or a newer one. */
	uint64_t t = atomic_load_explicit(&s[1], memory_order_acquire);
	if (t == 0 || t < out->gauge_ticks)
		return;
	out->gauge_ticks = t;
	out->gauge = ttlog__hist_from_bits(atomic_load_explicit(&s[0], memory_order_relaxed));
}

/* Adds the shard's histogram to out (and to buckets and octaves).
 * Runs in signal context. */
static void read_histogram(const unsigned char *shard, uint32_t off, struct ttlog__metric_sum *out,
			   unsigned char *buckets, uint64_t *octaves)
{
	if (slot_load(shard, off, 0) == 0)
		return; /* this thread never recorded a value */
	double sum = slot_double(shard, off, 1), mn = slot_double(shard, off, 2),
	       mx = slot_double(shard, off, 3);
	uint64_t n = 0;
	for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++) {
		uint64_t c = slot_load(shard, off, 4 + i);
		if (!c)
			continue;
		n += c;
		if (buckets)
			ttlog__put_u64(buckets + 8 * i, ttlog__get_u64(buckets + 8 * i) + c);
		if (octaves)
			octaves[i == 0 ? 0 : i > TTLOG__HIST_RANGE ? TTLOG__HIST_OCTAVES + 1
								   : 1 + (i - 1) / TTLOG__HIST_SUB] += c;
	}
	if (!n)
		return; /* its first value is on its way to a bucket */
	out->min = out->count == 0 || mn < out->min ? mn : out->min;
	out->max = out->count == 0 || mx > out->max ? mx : out->max;
	out->sum += sum;
	out->count += n;
}

/* See metrics.h. Runs in signal context. */
void ttlog__metric_read(const struct ttlog__metric_entry *e, struct ttlog__metric_sum *out,
			unsigned char *buckets, uint64_t *octaves)
{
	memset(out, 0, sizeof *out);
	if (buckets)
		memset(buckets, 0, 8 * (size_t)TTLOG__HIST_BUCKETS);
	if (octaves)
		memset(octaves, 0, sizeof(uint64_t) * (TTLOG__HIST_OCTAVES + 2));
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		/* LMM(shard:B) pairs with LMM(shard:A) in shard.c. */
		const unsigned char *shard = atomic_load_explicit(&r->metrics_shard, memory_order_acquire);
		if (shard)
			ttlog__metric_add_shard(shard, e, out, buckets, octaves);
	}
}

/* See metrics.h. Runs in signal context. */
TTLOG_API void ttlog__metric_add_shard(const unsigned char *shard, const struct ttlog__metric_entry *e,
				       struct ttlog__metric_sum *out, unsigned char *buckets,
				       uint64_t *octaves)
{
	switch (e->type) {
	case TTLOG__METRIC_COUNTER:
		out->counter += slot_load(shard, e->offset, 0);
		break;
	case TTLOG__METRIC_GAUGE:
		read_gauge(shard, e->offset, out);
		break;
	case TTLOG__METRIC_HISTOGRAM:
		read_histogram(shard, e->offset, out, buckets, octaves);
		break;
	}
}
