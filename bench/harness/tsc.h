/* SPDX-License-Identifier: MIT */
/*
 * tsc.h - reading the time-stamp counter around a measured interval, for
 * the benchmark harness (harness.h) and the programs that time calls
 * without it (manysites/). x86-64 only.
 */
#ifndef BENCH_TSC_H
#define BENCH_TSC_H

#include <stdint.h>

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Start of an interval: earlier instructions complete before the read. */
static inline uint64_t bench_tsc_begin(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* End of an interval: rdtscp waits for earlier instructions, the lfence
 * keeps later ones from starting before the read. */
static inline uint64_t bench_tsc_end(void)
{
	uint32_t lo, hi, aux;
	__asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	(void)aux;
	return (uint64_t)hi << 32 | lo;
}

#endif
