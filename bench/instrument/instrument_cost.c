/* SPDX-License-Identifier: MIT */
/*
 * instrument_cost.c - what an instrumented function call costs with
 * libttlog-instrument (docs/PERFORMANCE.md, "Auto-instrumentation").
 *
 *   instrument_cost N   starts ttlog, calls leaf() N times (after one
 *                       warm-up call that resolves its address), prints
 *                       the nanoseconds per call
 *
 * Built once with -finstrument-functions and linked with the library, and
 * once without (the baseline); TTLOG_INSTRUMENT_EXCLUDE=leaf gives the
 * cost of an excluded function. The commands are in PERFORMANCE.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ttlog.h"

volatile int sink;

__attribute__((noinline)) void leaf(int x);
__attribute__((noinline)) void leaf(int x)
{
	sink += x;
}

__attribute__((no_instrument_function)) static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

__attribute__((no_instrument_function)) int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	if (n <= 0 || ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "usage: instrument_cost N (N > 0; ttlog_init must succeed)\n");
		return 2;
	}
	leaf(0);
	double t0 = now_ns();
	for (long i = 0; i < n; i++)
		leaf((int)i);
	double t1 = now_ns();
	printf("%.2f ns per call\n", (t1 - t0) / (double)n);
	return 0;
}
