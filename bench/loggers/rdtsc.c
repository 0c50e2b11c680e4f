/* SPDX-License-Identifier: MIT */
/*
 * rdtsc.c - the floor under any logger that timestamps its events: one
 * read of the TSC stored into a sink, nothing else. A log call cannot cost
 * less than taking its time, so this is what ttlog's hot path is compared
 * against.
 */
#include "harness_env.h"

#include <stdint.h>

#define BENCH_LOGGER "rdtsc (floor)"

/* Per thread, so that the throughput run measures the read, not threads
 * fighting over one cache line. volatile keeps the store. */
static __thread volatile uint64_t bench_sink;

static inline void bench_floor_read(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	bench_sink = (uint64_t)hi << 32 | lo;
}

#include "floor.h"
#include "harness.h"
