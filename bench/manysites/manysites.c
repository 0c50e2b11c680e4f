/* SPDX-License-Identifier: MIT */
/*
 * manysites.c - the many-sites benchmark's driver: calls the functions of a
 * generated file (gen_sites.py; one log site each, or none for the "empty"
 * kind) in shuffled order and prints the time per call as one JSON line.
 *
 *   ttlog-bench-manysites-KIND-N [--calls N] [--seed S] --dir DIR
 *
 * The program starts ttlog (snapshot directory DIR, defaults otherwise),
 * calls every site twice (registration, and the first lap of the ring's
 * pages), then makes --calls calls (default 1000000), each timed on its own
 * with the TSC (lfence;rdtsc before, rdtscp;lfence after), through the
 * table in an order that is a fresh random permutation of all sites in
 * every pass. The time of an empty interval (the two TSC reads alone) is
 * measured the same way and subtracted; the TSC's rate is measured against
 * CLOCK_MONOTONIC_RAW. What a sample holds is therefore the indirect call,
 * the function and its log call: the "empty" kind gives the floor of the
 * first two.
 *
 * Output: {"bench":"manysites","kind":...,"sites":N,"calls":...,
 * "p50_ns":...,"p90_ns":...,"p99_ns":...,"timer_ns":...,"registered":...,
 * "dropped_sites":...}. Timings only; the tests never run this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ttlog.h>

#include "manysites.h"
#include "tsc.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void shuffle(uint32_t *a, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)(rng_next() % i);
		uint32_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t quantile(const uint64_t *sorted, size_t n, double q)
{
	size_t k = (size_t)(q * (double)(n - 1) + 0.5);
	return sorted[k < n ? k : n - 1];
}

/* The string argument: writable, so that its length is not a constant. */
static char path_arg[] = "GET /api/v1/users"; /* 17 characters, as bench/harness */

static void usage(FILE *out, const char *argv0)
{
	fprintf(out, "usage: %s [--calls N] [--seed S] --dir DIR\n"
		     "Calls %u generated functions (kind %s) in shuffled order, each timed, and\n"
		     "prints one JSON line with the percentiles (bench/manysites/manysites.c).\n",
		argv0, ms_nsites, ms_kind);
}

int main(int argc, char **argv)
{
	long calls = 1000000;
	unsigned long seed = 12345;
	const char *dir = NULL;
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout, argv[0]);
			return 0;
		}
		if (a + 1 >= argc) {
			fprintf(stderr, "%s: %s needs a value\n", argv[0], argv[a]);
			return 2;
		}
		char *end;
		if (!strcmp(argv[a], "--dir")) {
			dir = argv[++a];
		} else if (!strcmp(argv[a], "--calls")) {
			errno = 0;
			calls = strtol(argv[++a], &end, 10);
			if (errno || *end || calls < 1 || calls > 100000000) {
				fprintf(stderr, "%s: --calls must be 1 to 100000000\n", argv[0]);
				return 2;
			}
		} else if (!strcmp(argv[a], "--seed")) {
			errno = 0;
			seed = strtoul(argv[++a], &end, 10);
			if (errno || *end) {
				fprintf(stderr, "%s: --seed must be a number\n", argv[0]);
				return 2;
			}
		} else {
			fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[a]);
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "%s: --dir DIR is required\n", argv[0]);
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	int r = ttlog_init(&cfg);
	if (r != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s (%s)\n", ttlog_strerror(r), ttlog_init_error());
		return 1;
	}

	uint32_t n = ms_nsites;
	uint32_t *order = malloc(n * sizeof *order);
	uint64_t *samples = malloc((size_t)calls * sizeof *samples);
	uint64_t *timer = malloc((size_t)calls * sizeof *timer);
	if (!order || !samples || !timer) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}
	for (uint32_t k = 0; k < n; k++)
		order[k] = k;
	rng_state = seed * 2654435761u + 1;
	const char *s = path_arg;
	__asm__("" : "+r"(s));

	/* Warm-up: two passes over every site. */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t k = 0; k < n; k++)
			ms_sites[k]((int)k, k * 0.5, s);

	uint64_t t0 = bench_tsc_begin(), ns0 = now_ns();
	uint32_t pos = n;
	for (long c = 0; c < calls; c++) {
		if (pos == n) {
			shuffle(order, n);
			pos = 0;
		}
		ms_site_fn fn = ms_sites[order[pos++]];
		uint64_t a = bench_tsc_begin();
		fn((int)c, (double)c * 0.25, s);
		uint64_t b = bench_tsc_end();
		samples[c] = b - a;
	}
	for (long c = 0; c < calls; c++) {
		uint64_t a = bench_tsc_begin();
		uint64_t b = bench_tsc_end();
		timer[c] = b - a;
	}
	uint64_t t1 = bench_tsc_end(), ns1 = now_ns();
	double ghz = (double)(t1 - t0) / (double)(ns1 - ns0);

	qsort(samples, (size_t)calls, sizeof *samples, cmp_u64);
	qsort(timer, (size_t)calls, sizeof *timer, cmp_u64);
	double empty = (double)quantile(timer, (size_t)calls, 0.5);
	double p[3];
	const double qs[3] = {0.5, 0.9, 0.99};
	for (int i = 0; i < 3; i++) {
		double v = (double)quantile(samples, (size_t)calls, qs[i]) - empty;
		p[i] = (v < 0 ? 0 : v) / ghz;
	}
	struct ttlog_stats st;
	memset(&st, 0, sizeof st);
	ttlog_get_stats(&st);
	printf("{\"bench\":\"manysites\",\"kind\":\"%s\",\"sites\":%u,\"calls\":%ld,"
	       "\"p50_ns\":%.2f,\"p90_ns\":%.2f,\"p99_ns\":%.2f,\"timer_ns\":%.2f,\"tsc_ghz\":%.4f,"
	       "\"registered\":%u,\"dropped_sites\":%llu}\n",
	       ms_kind, n, calls, p[0], p[1], p[2], empty / ghz, ghz,
	       st.sites, (unsigned long long)st.dropped_sites);
	ttlog_shutdown();
	free(order);
	free(samples);
	free(timer);
	return 0;
}
