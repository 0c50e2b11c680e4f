/* SPDX-License-Identifier: MIT */
/*
 * clock_gettime.c - the floor of a logger that timestamps with
 * clock_gettime(CLOCK_REALTIME), as most text loggers do: one vDSO call
 * whose result is stored into a sink, nothing else.
 */
#include "harness_env.h"

#include <stdint.h>
#include <time.h>

#define BENCH_LOGGER "clock_gettime (floor)"

static __thread volatile int64_t bench_sink;

static inline void bench_floor_read(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	bench_sink = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#include "floor.h"
#include "harness.h"
