/* SPDX-License-Identifier: MIT */
/*
 * test_decimal.c - the eight-at-a-time digits of src/common/decimal.h
 * against snprintf: every value below 10^6 and a fixed pseudo-random
 * sequence of values below 10^8 for the eight-digit word; for the writers,
 * every power of ten and its neighbours, the largest values, and random
 * values of every bit length, with and without leading zeros. The bytes a
 * writer may touch past the digits are checked to stay inside the bound
 * the header gives (max(digits, 8)), by guard bytes.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/decimal.h"
#include "support/testutil.h"

#define GUARD 0x5a

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t next_random(void)
{
	return tu_random(&rng_state);
}

static void check_word(uint32_t v)
{
	char want[16], got[9];
	snprintf(want, sizeof want, "%08" PRIu32, v);
	uint64_t z = ttlog__decimal8(v);
	memcpy(got, &z, 8);
	got[8] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("ttlog__decimal8(%" PRIu32 ") = \"%s\", want \"%s\"", v, got, want);
}

static void test_eight_digit_word(void **state)
{
	(void)state;
	for (uint32_t v = 0; v < 1000000u; v++)
		check_word(v);
	for (int i = 0; i < 2000000; i++)
		check_word((uint32_t)(next_random() % 100000000u));
	check_word(99999999u);
	check_word(10000000u);
	check_word(9999999u);
}

/* Runs the writer on a buffer full of guard bytes and checks the text and
 * that nothing past max(len, 8) was touched. */
static void check_write(uint64_t v)
{
	char want[32], buf[40];
	int len = snprintf(want, sizeof want, "%" PRIu64, v);
	memset(buf, GUARD, sizeof buf);
	char *end = ttlog__decimal_write(buf, v);
	assert_int_equal(end - buf, len);
	assert_int_equal((int)ttlog__decimal_len(v), len);
	if (memcmp(buf, want, (size_t)len) != 0)
		fail_msg("ttlog__decimal_write(%" PRIu64 ") = \"%.*s\", want \"%s\"", v, len, buf,
			 want);
	size_t touched = len > 8 ? (size_t)len : 8;
	assert_true(touched <= TTLOG__DECIMAL_ROOM);
	for (size_t i = touched; i < sizeof buf; i++)
		assert_int_equal((unsigned char)buf[i], GUARD);
}

static void check_fixed(uint64_t v, unsigned width)
{
	char want[32], buf[40];
	snprintf(want, sizeof want, "%0*" PRIu64, (int)width, v);
	memset(buf, GUARD, sizeof buf);
	char *end = ttlog__decimal_fixed(buf, v, width);
	assert_int_equal(end - buf, (int)width);
	if (memcmp(buf, want, width) != 0)
		fail_msg("ttlog__decimal_fixed(%" PRIu64 ", %u) = \"%.*s\", want \"%s\"", v, width,
			 (int)width, buf, want);
	size_t touched = width > 8 ? width : 8;
	for (size_t i = touched; i < sizeof buf; i++)
		assert_int_equal((unsigned char)buf[i], GUARD);
}

static void test_write_edges(void **state)
{
	(void)state;
	uint64_t p = 1;
	for (int k = 0; k < 20; k++, p *= 10) {
		check_write(p);
		check_write(p - 1);
		check_write(p + 1);
		check_write(2 * p);
		if (p <= UINT64_MAX / 9)
			check_write(9 * p);
	}
	check_write(UINT64_MAX);
	check_write(UINT64_MAX - 1);
	check_write((uint64_t)INT64_MAX);
	check_write((uint64_t)INT64_MAX + 1);
}

static void test_write_random(void **state)
{
	(void)state;
	for (int i = 0; i < 1000000; i++) {
		uint64_t v = next_random() >> (next_random() % 64);
		check_write(v);
	}
}

static void test_fixed(void **state)
{
	(void)state;
	for (unsigned width = 1; width <= 20; width++) {
		uint64_t limit = 1;
		for (unsigned k = 0; k < width && k < 19; k++)
			limit *= 10;
		check_fixed(0, width);
		check_fixed(1, width);
		if (width < 20) {
			check_fixed(limit - 1, width);
			check_fixed(limit / 10, width);
		} else {
			check_fixed(UINT64_MAX, width);
		}
		for (int i = 0; i < 50000; i++) {
			uint64_t v = next_random();
			check_fixed(width < 20 ? v % limit : v, width);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eight_digit_word),
		cmocka_unit_test(test_write_edges),
		cmocka_unit_test(test_write_random),
		cmocka_unit_test(test_fixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
