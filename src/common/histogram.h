/* SPDX-License-Identifier: MIT */
/*
 * histogram.h - what a histogram bucket index means, for everyone who reads
 * buckets: the snapshot writer, the Prometheus writer and the reader.
 *
 * The index is computed on the hot path (ttlog__histogram_record() in
 * ttlog.h) from the bits of the double just below the value: bucket i in
 * 1..TTLOG__HIST_RANGE holds (L(i), U(i)], where L(i) is the double whose
 * bits are (i - 1 + BIAS) << 46, i.e. 2^e * (1 + s/64) with
 * e = -24 + (i - 1) / 64 and s = (i - 1) % 64, and U(i) = L(i + 1). Bucket 0
 * holds everything at or below 2^-24 (zero, negative values, NaN), bucket
 * TTLOG__HIST_RANGE + 1 everything above 2^40. The format (docs/FORMAT.md,
 * MTRC) fixes this meaning.
 *
 * Error bound: a quantile is reported as R = 2LU / (L + U) of the bucket
 * holding its rank, clamped to [min, max]. For any x in (L, U],
 * |R - x| / x <= (U - L) / (U + L) <= 1/129, since U - L <= L / 64.
 * Clamping only moves R towards x, which lies in [min, max] too.
 *
 * Everything here runs in signal context (pure arithmetic).
 */
#ifndef TTLOG__COMMON_HISTOGRAM_H
#define TTLOG__COMMON_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#include "ttlog.h"

#define TTLOG__HIST_UNDERFLOW 0u
#define TTLOG__HIST_OVERFLOW (TTLOG__HIST_RANGE + 1u)
/* Buckets per power of two, and powers of two covered. */
#define TTLOG__HIST_SUB (1u << TTLOG__HIST_SUB_BITS)
#define TTLOG__HIST_OCTAVES (TTLOG__HIST_MAX_EXP - TTLOG__HIST_MIN_EXP)

/* The double whose bits are b. Runs in signal context. */
static inline double ttlog__hist_from_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, 8);
	return d;
}

/* The lower bound (exclusive) of bucket i; -inf for the underflow bucket. */
static inline double ttlog__hist_lower(uint32_t i)
{
	if (i == TTLOG__HIST_UNDERFLOW)
		return -__builtin_inf();
	return ttlog__hist_from_bits(((uint64_t)(i - 1u) + TTLOG__HIST_BIAS) << TTLOG__HIST_SHIFT);
}

/* The upper bound (inclusive) of bucket i; +inf for the overflow bucket. */
static inline double ttlog__hist_upper(uint32_t i)
{
	if (i >= TTLOG__HIST_OVERFLOW)
		return __builtin_inf();
	return ttlog__hist_from_bits(((uint64_t)i + TTLOG__HIST_BIAS) << TTLOG__HIST_SHIFT);
}

/* 2^e as a double, for e in the normal range. */
static inline double ttlog__hist_pow2(int e)
{
	return ttlog__hist_from_bits((uint64_t)(e + 1023) << 52);
}

/*
 * The value reported for a rank that falls in bucket i: 2LU/(L+U) inside
 * the range, min for the underflow bucket and max for the overflow bucket
 * (no bound holds there), always clamped to [min, max].
 */
static inline double ttlog__hist_point(uint32_t i, double min, double max)
{
	double r;
	if (i == TTLOG__HIST_UNDERFLOW) {
		r = min;
	} else if (i >= TTLOG__HIST_OVERFLOW) {
		r = max;
	} else {
		double l = ttlog__hist_lower(i), u = ttlog__hist_upper(i);
		r = 2.0 * l * u / (l + u);
	}
	if (r < min)
		r = min;
	if (r > max)
		r = max;
	return r;
}

/* The rank of quantile num/den among count values: ceil(count * num / den),
 * at least 1 (count > 0, num <= den). */
static inline uint64_t ttlog__hist_rank(uint64_t count, uint64_t num, uint64_t den)
{
	__extension__ unsigned __int128 p = (unsigned __int128)count * num;
	uint64_t k = (uint64_t)((p + den - 1) / den);
	return k ? k : 1;
}

#endif
