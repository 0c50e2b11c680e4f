/* SPDX-License-Identifier: MIT */
/*
 * instrumented.c - a program built with -finstrument-functions and linked
 * with libttlog-instrument (tests/instrument.sh).
 *
 * main() starts ttlog, then calls outer() -> middle() -> inner() twice,
 * secret_step() (which the test excludes with TTLOG_INSTRUMENT_EXCLUDE)
 * from middle(), and each of 300 generated functions gen_00..gen_299 once
 * (argv[1] = "many"), then writes a snapshot and prints its path and the
 * hooks' statistics ("resolved=N excluded=N uncached=N too_deep=N").
 */
#include <stdio.h>
#include <string.h>

#include "ttlog.h"
#include "ttlog_instrument.h"

volatile unsigned sink; /* unsigned: its arithmetic wraps, as UBSan wants */

__attribute__((noinline)) void inner(int x)
{
	sink += x;
}

__attribute__((noinline)) void secret_step(int x)
{
	sink ^= x;
	inner(x + 100); /* a recorded child of an excluded function */
}

__attribute__((noinline)) void middle(int x)
{
	inner(x);
	secret_step(x);
}

__attribute__((noinline)) void outer(int x)
{
	middle(x);
}

#define GEN(n)                                                                        \
	__attribute__((noinline)) void gen_##n(void);                                 \
	__attribute__((noinline)) void gen_##n(void) { sink = sink * 31 + 1##n; }
#define GEN10(p)                                                                     \
	GEN(p##0) GEN(p##1) GEN(p##2) GEN(p##3) GEN(p##4) GEN(p##5) GEN(p##6) GEN(p##7) \
	GEN(p##8) GEN(p##9)
#define GEN100(p)                                                                    \
	GEN10(p##0) GEN10(p##1) GEN10(p##2) GEN10(p##3) GEN10(p##4) GEN10(p##5)          \
	GEN10(p##6) GEN10(p##7) GEN10(p##8) GEN10(p##9)
GEN100() GEN100(1) GEN100(2)
#define REF(n) gen_##n,
#define REF10(p) REF(p##0) REF(p##1) REF(p##2) REF(p##3) REF(p##4) REF(p##5) REF(p##6) REF(p##7) REF(p##8) REF(p##9)
#define REF100(p) REF10(p##0) REF10(p##1) REF10(p##2) REF10(p##3) REF10(p##4) REF10(p##5) REF10(p##6) REF10(p##7) REF10(p##8) REF10(p##9)
/* gen_00..gen_99, gen_100..gen_299: 300 functions */
static void (*const gens[])(void) = {REF100() REF100(1) REF100(2)};

int main(int argc, char **argv)
{
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "instrumented: ttlog_init failed\n");
		return 1;
	}
	outer(1);
	outer(2);
	if (argc > 1 && strcmp(argv[1], "many") == 0)
		for (size_t i = 0; i < sizeof gens / sizeof gens[0]; i++)
			gens[i]();
	char path[4096];
	if (ttlog_snapshot_path("instrumented", path, sizeof path) != TTLOG_OK) {
		fprintf(stderr, "instrumented: no snapshot\n");
		return 1;
	}
	struct ttlog_instrument_stats st;
	ttlog_instrument_stats(&st);
	printf("%s\nresolved=%llu excluded=%llu uncached=%llu too_deep=%llu\n", path,
	       (unsigned long long)st.resolved, (unsigned long long)st.excluded,
	       (unsigned long long)st.uncached, (unsigned long long)st.too_deep);
	return 0;
}
