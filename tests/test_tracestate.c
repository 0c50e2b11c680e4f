/* SPDX-License-Identifier: MIT */
/*
 * test_tracestate.c - the tracestate member ttlog=dump: recognised only in
 * a well-formed W3C list, and hostile lists (too long, too many members,
 * bad keys and values, duplicate keys, control bytes, no terminating NUL
 * within the limit) are malformed as a whole; ttlog_tracestate_dump()
 * puts the member first, drops an earlier one, keeps at most 32 members and
 * never writes past its buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttlog.h"

static void test_wants_dump(void **state)
{
	(void)state;
	assert_int_equal(ttlog_tracestate_wants_dump("ttlog=dump"), 1);
	assert_int_equal(ttlog_tracestate_wants_dump("congo=t61rcWkgMzE, ttlog=dump"), 1);
	assert_int_equal(ttlog_tracestate_wants_dump(" ttlog=dump\t,rojo=00f067aa0ba902b7 "), 1);
	assert_int_equal(ttlog_tracestate_wants_dump("a=1,,ttlog=dump,"), 1); /* empty members */
	assert_int_equal(ttlog_tracestate_wants_dump("ttlog=nodump"), 0);
	assert_int_equal(ttlog_tracestate_wants_dump("ttlog=dum"), 0);
	assert_int_equal(ttlog_tracestate_wants_dump("xttlog=dump"), 0);
	assert_int_equal(ttlog_tracestate_wants_dump("t@ttlog=dump"), 0);
	assert_int_equal(ttlog_tracestate_wants_dump(NULL), 0);
	assert_int_equal(ttlog_tracestate_wants_dump(""), 0);
}

static void test_hostile_lists_are_malformed(void **state)
{
	(void)state;
	static const char *bad[] = {
		"TTLOG=dump,ttlog=dump",          /* upper-case key */
		"ttlog=dump,ttlog=dump",          /* a key twice */
		"ttlog=dump,a",                   /* no '=' */
		"ttlog=dump,=x",                  /* empty key */
		"ttlog=dump,a=",                  /* empty value */
		"ttlog=dump,a=b=c",               /* '=' in a value */
		"ttlog=dump,a=\x01",              /* control byte */
		"ttlog=dump,a=\x7f",
		"ttlog=dump,a=\xc3\xa9",          /* not ASCII */
		"ttlog=dump,1a=b",                /* a simple key starts with a letter */
		"ttlog=dump,a@=b",                /* empty system */
		"ttlog=dump,@a=b",                /* empty tenant */
		"ttlog=dump,a@B=b",               /* system starts with a lower-case letter */
		"ttlog=dump,a@b@c=d",
		"ttlog=dump,a@bcdefghijklmnop=x", /* system of 15 characters */
		"ttlog=dump,a;b=c",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(ttlog_tracestate_wants_dump(bad[i]), 0);
		char buf[64];
		assert_int_equal(ttlog_tracestate_dump(buf, sizeof buf, bad[i]), TTLOG_E_INVALID);
		assert_string_equal(buf, "ttlog=dump"); /* discarded as a whole */
	}
	/* Keys and values at and past their limits. */
	char list[TTLOG_TRACESTATE_MAX + 64];
	memset(list, 'k', 256);
	strcpy(list + 256, "=v,ttlog=dump");
	assert_int_equal(ttlog_tracestate_wants_dump(list), 1);
	memset(list, 'k', 257);
	strcpy(list + 257, "=v,ttlog=dump");
	assert_int_equal(ttlog_tracestate_wants_dump(list), 0);
	strcpy(list, "ttlog=dump,a=");
	memset(list + 13, 'v', 256);
	list[13 + 256] = '\0';
	assert_int_equal(ttlog_tracestate_wants_dump(list), 1);
	strcpy(list, "ttlog=dump,a=");
	memset(list + 13, 'v', 257);
	list[13 + 257] = '\0';
	assert_int_equal(ttlog_tracestate_wants_dump(list), 0);
	/* 32 members, then 33. */
	size_t n = (size_t)sprintf(list, "ttlog=dump");
	for (int i = 1; i < 32; i++)
		n += (size_t)sprintf(list + n, ",k%d=v", i);
	assert_int_equal(ttlog_tracestate_wants_dump(list), 1);
	sprintf(list + n, ",k32=v");
	assert_int_equal(ttlog_tracestate_wants_dump(list), 0);
	/* Longer than TTLOG_TRACESTATE_MAX, made only of empty members:
	 * refused by its length, and never read past the limit (the buffer
	 * has no NUL within it). */
	char *huge = malloc(TTLOG_TRACESTATE_MAX + 1);
	assert_non_null(huge);
	memcpy(huge, "ttlog=dump", 10);
	memset(huge + 10, ',', TTLOG_TRACESTATE_MAX + 1 - 10);
	huge[TTLOG_TRACESTATE_MAX] = '\0';
	assert_int_equal(ttlog_tracestate_wants_dump(huge), 1); /* exactly the limit */
	huge[TTLOG_TRACESTATE_MAX] = ',';
	assert_int_equal(ttlog_tracestate_wants_dump(huge), 0); /* no NUL: past the limit */
	free(huge);
}

static void test_dump_member(void **state)
{
	(void)state;
	char buf[256];
	assert_int_equal(ttlog_tracestate_dump(buf, sizeof buf, NULL), TTLOG_OK);
	assert_string_equal(buf, "ttlog=dump");
	assert_int_equal(ttlog_tracestate_dump(buf, sizeof buf, "rojo=00f0, ttlog=old ,congo=t61"),
			 TTLOG_OK);
	assert_string_equal(buf, "ttlog=dump,rojo=00f0,congo=t61");
	assert_int_equal(ttlog_tracestate_wants_dump(buf), 1);
	/* 32 members in: the rightmost goes to make room. */
	char list[1024];
	size_t n = 0;
	for (int i = 0; i < 32; i++)
		n += (size_t)sprintf(list + n, "%sk%d=v", i ? "," : "", i);
	char out[1024];
	assert_int_equal(ttlog_tracestate_dump(out, sizeof out, list), TTLOG_OK);
	assert_non_null(strstr(out, ",k30=v"));
	assert_null(strstr(out, "k31=v"));
	/* A small buffer: what fits, NUL-terminated, never more. */
	char small[20];
	memset(small, 'X', sizeof small);
	assert_int_equal(ttlog_tracestate_dump(small, 16, "abc=defgh"), TTLOG_E_RANGE);
	assert_string_equal(small, "ttlog=dump");
	assert_int_equal(small[16], 'X');
	assert_int_equal(ttlog_tracestate_dump(small, 10, NULL), TTLOG_E_RANGE);
	assert_string_equal(small, "");
	assert_int_equal(ttlog_tracestate_dump(NULL, 10, NULL), TTLOG_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wants_dump),
		cmocka_unit_test(test_hostile_lists_are_malformed),
		cmocka_unit_test(test_dump_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
