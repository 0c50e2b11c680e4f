/* SPDX-License-Identifier: MIT */
/*
 * test_double_text.c - render_double_text_fast() (src/render/double_text.c)
 * against the printf loop it replaces: snprintf "%.15g", "%.16g", "%.17g",
 * the first that strtod() reads back as the same double.
 *
 * Whenever the fast method gives a text it must be byte for byte the
 * loop's; when it declines (returns 0) the command falls back on the loop,
 * so declining is never wrong, but it must stay rare, or the fast path
 * would be dead code: the test counts the declines and bounds them.
 *
 * Inputs: edge cases (smallest subnormal, largest subnormal, smallest
 * normal, largest double, powers of two and of ten and their neighbours,
 * integers around 2^53, values that tie when rounded to 15 or 16 digits),
 * doubles nearest to short decimals (what programs mostly log), and random
 * bit patterns. TTLOG_TEST_DOUBLES=N sets how many random ones (default
 * 1 million, plus as many decimals); the sequence is fixed, so a failure
 * repeats.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render/double_text.h"

/* The method the command used before, and still uses as the fallback. */
static void printf_text(double d, char *text, size_t size)
{
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(text, size, "%.*g", precision, d);
		if (strtod(text, NULL) == d)
			break;
	}
}

struct tally {
	uint64_t checked; /* values the fast method formatted */
	uint64_t declined;
};

/* Checks d and -d; fails with the value's bits on a difference. */
static void check(double d, struct tally *t)
{
	for (int sign = 0; sign < 2; sign++, d = -d) {
		char want[64], got[64];
		printf_text(d, want, sizeof want);
		memset(got, 'x', sizeof got);
		size_t n = render_double_text_fast(d, got);
		if (n == 0) {
			t->declined++;
			continue;
		}
		t->checked++;
		if (strcmp(got, want) != 0 || n != strlen(want)) {
			uint64_t bits;
			memcpy(&bits, &d, sizeof bits);
			fail_msg("double %a (bits %016llx): fast \"%s\" (%zu), printf \"%s\"", d,
				 (unsigned long long)bits, got, n, want);
		}
	}
}

static double from_bits(uint64_t bits)
{
	double d;
	memcpy(&d, &bits, sizeof d);
	return d;
}

/* xorshift64*: a fixed sequence, the same on every run. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static uint64_t random_count(void)
{
	const char *e = getenv("TTLOG_TEST_DOUBLES");
	return e && *e ? strtoull(e, NULL, 10) : 1000000u;
}

static void test_not_for_the_fast_path(void **state)
{
	(void)state;
	char text[64];
	assert_int_equal(render_double_text_fast(0.0, text), 0);
	assert_int_equal(render_double_text_fast(-0.0, text), 0);
	assert_int_equal(render_double_text_fast(NAN, text), 0);
	assert_int_equal(render_double_text_fast(INFINITY, text), 0);
	assert_int_equal(render_double_text_fast(-INFINITY, text), 0);
}

/* Texts known by heart, so that the test does not only trust snprintf. */
static void test_known_texts(void **state)
{
	(void)state;
	static const struct {
		double d;
		const char *text;
	} cases[] = {
		{0.1, "0.1"},
		{0.3, "0.3"},
		{1.0 / 3, "0.3333333333333333"},
		{2.0 / 3, "0.6666666666666666"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1.5, "1.5"},
		{1e15, "1e+15"},
		{1e16, "1e+16"},
		{123456789012345680.0, "1.2345678901234568e+17"},
		{1e-5, "1e-05"},
		{0.0001, "0.0001"},
		{1e100, "1e+100"},
		{DBL_MAX, "1.7976931348623157e+308"},
		{DBL_MIN, "2.2250738585072014e-308"},
		{4.9406564584124654e-324, "4.94065645841247e-324"},
		{-2.5, "-2.5"},
		{100000000000000.5, "100000000000000.5"},
		{5e-324 * 3, "1.48219693752374e-323"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[64];
		if (render_double_text_fast(cases[i].d, text) == 0)
			printf_text(cases[i].d, text, sizeof text); /* declined: the fallback */
		assert_string_equal(text, cases[i].text);
	}
}

static void test_edges(void **state)
{
	(void)state;
	struct tally t = {0};

	/* Every power of two, and its neighbours on both sides. */
	for (int e = -1074; e <= 1023; e++) {
		double p = ldexp(1.0, e);
		check(p, &t);
		check(nextafter(p, 0), &t);
		check(nextafter(p, INFINITY), &t);
	}
	/* Every power of ten a double comes near, and its neighbours. */
	for (int e = -323; e <= 308; e++) {
		char text[32];
		snprintf(text, sizeof text, "1e%d", e);
		double p = strtod(text, NULL);
		check(p, &t);
		check(nextafter(p, 0), &t);
		check(nextafter(p, INFINITY), &t);
	}
	/* Subnormals: the first and last thousand, and the normal boundary. */
	for (uint64_t b = 1; b <= 1000; b++) {
		check(from_bits(b), &t);
		check(from_bits((UINT64_C(1) << 52) - b), &t);
		check(from_bits((UINT64_C(1) << 52) + b - 1), &t);
	}
	check(DBL_MAX, &t);
	check(nextafter(DBL_MAX, 0), &t);
	/* Integers: small ones and around 2^53, where doubles stop holding
	 * every integer, and their halves. */
	for (int64_t i = 1; i <= 100000; i++) {
		check((double)i, &t);
		check((double)i + 0.5, &t);
		check((double)i / 1024, &t);
	}
	for (int64_t i = -5000; i <= 5000; i++) {
		check((double)((INT64_C(1) << 53) + i), &t);
		check((double)(INT64_C(100000000000000000) + i * 8), &t);
	}
	/* Binary fractions with exactly 16 or 17 significant digits: rounding
	 * them to 15 or 16 digits is an exact tie, which the fast method must
	 * leave to printf or get right. */
	for (uint64_t k = 0; k < 20000; k++) {
		check((double)(INT64_C(12345678901) + (int64_t)k) + 0.21875, &t);
		check((double)(INT64_C(123456789012) + (int64_t)k) + 0.5625, &t);
		check((double)(INT64_C(1234567890123) + (int64_t)k) + 0.125, &t);
	}
	print_message("edges: %llu formatted, %llu left to printf\n",
		      (unsigned long long)t.checked, (unsigned long long)t.declined);
	assert_true(t.checked > 0);
}

/* The doubles nearest to decimals of 1 to 17 digits, exponents -30..30
 * mostly and the whole range sometimes: values as programs log them. */
static void test_short_decimals(void **state)
{
	(void)state;
	struct tally t = {0};
	uint64_t s = UINT64_C(0x9e3779b97f4a7c15);
	uint64_t n = random_count();

	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = next_random(&s);
		int digits = 1 + (int)(r % 17);
		uint64_t mant = next_random(&s) % 100000000000000000u;
		while (digits < 17 && mant >= 10) /* keep `digits` significant digits */
			mant /= 10, digits++;
		int exp = (r >> 8) % 8 == 0 ? (int)((r >> 16) % 640) - 330 : (int)((r >> 16) % 61) - 30;
		char text[48];
		snprintf(text, sizeof text, "%llue%d", (unsigned long long)mant, exp);
		double d = strtod(text, NULL);
		if (d != 0 && isfinite(d))
			check(d, &t);
	}
	print_message("short decimals: %llu formatted, %llu left to printf\n",
		      (unsigned long long)t.checked, (unsigned long long)t.declined);
	/* Declines are left for exact ties and bounds out of the exact
	 * method's reach: rare. */
	assert_true(t.declined * 10000 < t.checked);
}

/* Decimals with one to five digits after the point (the shortcut for up
 * to four and its neighbours), as strtod reads them: every numerator up to
 * 30 000, random ones up to 10^16 (around the shortcut's bound of 10^11),
 * and the doubles next to each, all against printf. */
static void test_few_decimals(void **state)
{
	(void)state;
	struct tally t = {0};
	uint64_t s = UINT64_C(0x5851f42d4c957f2d);
	uint64_t n = random_count() / 20;

	for (int j = 1; j <= 5; j++) {
		for (uint64_t i = 0; i < 30000 + n; i++) {
			uint64_t k = i < 30000 ? i + 1 : next_random(&s) % (UINT64_C(1) << (10 + i % 44));
			char text[48];
			snprintf(text, sizeof text, "%llue-%d", (unsigned long long)k, j);
			double d = strtod(text, NULL);
			if (d == 0)
				continue;
			check(d, &t);
			if (i % 16 == 0) {
				check(nextafter(d, 0), &t);
				check(nextafter(d, INFINITY), &t);
			}
		}
	}
	print_message("few decimals: %llu formatted, %llu left to printf\n",
		      (unsigned long long)t.checked, (unsigned long long)t.declined);
	assert_true(t.declined * 10000 < t.checked);
}

static void test_random_bits(void **state)
{
	(void)state;
	struct tally t = {0};
	uint64_t s = UINT64_C(0x2545f4914f6cdd1d);
	uint64_t n = random_count();

	for (uint64_t i = 0; i < n; i++) {
		double d = from_bits(next_random(&s));
		if (d != 0 && isfinite(d))
			check(d, &t);
	}
	print_message("random bits: %llu formatted, %llu left to printf\n",
		      (unsigned long long)t.checked, (unsigned long long)t.declined);
	assert_true(t.declined * 100000 < t.checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_for_the_fast_path),
		cmocka_unit_test(test_known_texts),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_short_decimals),
		cmocka_unit_test(test_few_decimals),
		cmocka_unit_test(test_random_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
