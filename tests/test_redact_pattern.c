/* SPDX-License-Identifier: MIT */
/*
 * test_redact_pattern.c - the re: patterns of TTLOG_REDACT
 * (snapshot/redact.h) on strings alone: what each construct matches and
 * replaces with '*', the runs counted, commas inside {m,n} and [...], the
 * errors naming the position, and a string built to make a backtracking
 * matcher take exponential time, scrubbed in one pass. The files
 * (tests/redact_re.sh) test the same rules through the writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "snapshot/redact.h"

static struct ttlog__redact rules;

/* Scrubs text with spec; the result in out, the runs returned. */
static uint32_t scrub(const char *spec, const char *text, char *out, size_t size)
{
	char err[256];
	int rc = ttlog__redact_parse(spec, &rules, err, sizeof err);
	if (rc != 0)
		fail_msg("'%s' refused: %s", spec, err);
	snprintf(out, size, "%s", text);
	return ttlog__redact_scrub(&rules, (unsigned char *)out, (uint32_t)strlen(out));
}

#define EXPECT(spec, text, want, runs)                                                         \
	do {                                                                                    \
		char out_[512];                                                                 \
		uint32_t n_ = scrub(spec, text, out_, sizeof out_);                             \
		assert_string_equal(out_, want);                                                \
		assert_int_equal(n_, runs);                                                     \
	} while (0)

static void test_constructs(void **state)
{
	(void)state;
	EXPECT("re:[0-9]{13,19}", "card 4111111111111111, ok", "card ****************, ok", 1);
	EXPECT("re:[0-9]{13,19}", "short 123456789012 kept", "short 123456789012 kept", 0);
	EXPECT("re:AKIA[A-Z0-9]{16}", "k=AKIAIOSFODNN7EXAMPLE;", "k=********************;", 1);
	EXPECT("re:a+b", "xaaabx ab b", "x****x ** b", 2);
	EXPECT("re:colou?r", "color colour colouur", "***** ****** colouur", 2);
	EXPECT("re:x.z", "xyz x\nz xz", "*** *** xz", 2);
	EXPECT("re:[^ ]+@[^ ]+", "mail bob@example.org now", "mail *************** now", 1);
	EXPECT("re:\\.\\*", "a.*b a.b", "a**b a.b", 1);
	EXPECT("re:ab*c", "ac abbbc abd", "** ***** abd", 2);
	EXPECT("re:[a-c]{2,}", "abcabc d ab a", "****** d ** a", 2);
	EXPECT("re:[-a]{3}", "x-a-y", "x***y", 1);
	/* Overlapping and adjacent matches: the whole span, one run each. */
	EXPECT("re:aba", "ababa", "*****", 1);
	/* Two patterns, and rules of the other kinds beside them. */
	EXPECT("password,re:[0-9]{4},arg:1@x.c:3,re:[a-z]+X", "pin 1234 abcX", "pin **** ****", 2);
}

static void test_adversarial(void **state)
{
	(void)state;
	/* (a?){25}a{25} against a's: exponential for a backtracking matcher. */
	char spec[128] = "re:", text[100001];
	for (int i = 0; i < 25; i++)
		strcat(spec, "a?");
	strcat(spec, "a{25}");
	memset(text, 'a', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	text[50000] = 'b';
	char err[256];
	assert_int_equal(ttlog__redact_parse(spec, &rules, err, sizeof err), 0);
	assert_int_equal(ttlog__redact_scrub(&rules, (unsigned char *)text, sizeof text - 1), 2);
	for (size_t i = 0; i < sizeof text - 1; i++)
		assert_int_equal(text[i], i == 50000 ? 'b' : '*');
}

static void refused(const char *spec, const char *want)
{
	char err[256];
	assert_int_equal(ttlog__redact_parse(spec, &rules, err, sizeof err), -1);
	if (!strstr(err, want))
		fail_msg("'%s': got '%s', expected '%s' in it", spec, err, want);
}

static void test_errors(void **state)
{
	(void)state;
	refused("re:[0-9", "expected ']' to close this class at position 4");
	refused("re:ab{2,1}", "{m,n} with n below m at position 6");
	refused("re:+", "quantifier without an atom before it at position 4");
	refused("re:x?", "matches the empty string at position 4");
	refused("re:a{65}", "count above 64 at position 5");
	refused("re:a{0}", "count of 0 at position 5");
	refused("re:a{2", "expected {m}, {m,n} or {m,} at position 5");
	refused("re:a\\", "expected a byte after '\\' at position 5");
	refused("re:[]", "empty class at position 5");
	refused("re:a]", "unmatched bracket at position 5");
	refused("re:a{40}b{40}", "more than 64 states");
	refused("re:a,re:b,re:c,re:d,re:e,re:f,re:g,re:h,re:i", "at most 8 re: patterns");
	/* The comma inside {13,19} did not end the rule: one pattern, no other rule. */
	char err[256];
	assert_int_equal(ttlog__redact_parse("re:[0-9]{13,19},re:[,;]x", &rules, err, sizeof err), 0);
	assert_int_equal(rules.npat, 2);
	assert_int_equal(rules.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constructs),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
