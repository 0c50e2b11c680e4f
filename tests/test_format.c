/* SPDX-License-Identifier: MIT */
/*
 * test_format.c - ttlog_format() against the C library's snprintf.
 *
 * Every case of format_cases.inc is formatted twice: by snprintf with the
 * real C arguments, and by ttlog_format() with the same arguments turned
 * into struct ttlog_arg the way ttlog.h records them (char pointers as
 * strings, float and long double as binary64, long and long long as I64,
 * every other pointer as PTR). The texts and lengths must be equal, and
 * each case is formatted again into exactly sized heap buffers of every
 * size from 0 to its length + 1, so an overflow by one byte shows up under
 * AddressSanitizer.
 *
 * The rest are expected-text cases for what snprintf cannot tell: "<?>"
 * for a missing or mismatched argument, %n, %m, truncated strings, %p of a
 * string, hostile widths, incomplete conversions and the buffer contract.
 *
 * Every format of both kinds is also formatted through a plan, the form a
 * reader compiles each site's format into at open, which
 * ttlog_event_format() runs (check_plan()): the bytes and the length must
 * be those of ttlog_format(), with and without TTLOG_F() fields among the
 * arguments, and for an event whose site is no longer the plan's.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include <cmocka.h>

#include "reader/reader_internal.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

/* ------------------------------------------------------------------ */
/* C values to decoded arguments, as ttlog.h records each type         */
/* ------------------------------------------------------------------ */

static struct ttlog_arg arg_signed(int type, int64_t v)
{
	struct ttlog_arg a = {.type = type};
	a.v.i = v;
	return a;
}

static struct ttlog_arg arg_unsigned(int type, uint64_t v)
{
	struct ttlog_arg a = {.type = type};
	a.v.u = v;
	return a;
}

static struct ttlog_arg arg_real(int type, double v)
{
	struct ttlog_arg a = {.type = type};
	a.v.d = v;
	return a;
}

static struct ttlog_arg arg_text(const void *p)
{
	struct ttlog_arg a = {.type = TTLOG_ARG_STR};
	a.str = p;
	a.str_len = p ? (uint32_t)strlen(p) : 0;
	a.str_null = p == NULL;
	return a;
}

static struct ttlog_arg fa_bool(_Bool v) { return arg_signed(TTLOG_ARG_BOOL, v); }
static struct ttlog_arg fa_char(char v) { return arg_signed(TTLOG_ARG_CHAR, v); }
static struct ttlog_arg fa_schar(signed char v) { return arg_signed(TTLOG_ARG_I8, v); }
static struct ttlog_arg fa_uchar(unsigned char v) { return arg_unsigned(TTLOG_ARG_U8, v); }
static struct ttlog_arg fa_short(short v) { return arg_signed(TTLOG_ARG_I16, v); }
static struct ttlog_arg fa_ushort(unsigned short v) { return arg_unsigned(TTLOG_ARG_U16, v); }
static struct ttlog_arg fa_int(int v) { return arg_signed(TTLOG_ARG_I32, v); }
static struct ttlog_arg fa_uint(unsigned v) { return arg_unsigned(TTLOG_ARG_U32, v); }
static struct ttlog_arg fa_long(long v) { return arg_signed(TTLOG_ARG_I64, v); }
static struct ttlog_arg fa_ulong(unsigned long v) { return arg_unsigned(TTLOG_ARG_U64, v); }
static struct ttlog_arg fa_llong(long long v) { return arg_signed(TTLOG_ARG_I64, v); }
static struct ttlog_arg fa_ullong(unsigned long long v) { return arg_unsigned(TTLOG_ARG_U64, v); }
static struct ttlog_arg fa_float(float v) { return arg_real(TTLOG_ARG_F64, v); }
static struct ttlog_arg fa_double(double v) { return arg_real(TTLOG_ARG_F64, v); }
static struct ttlog_arg fa_ldouble(long double v) { return arg_real(TTLOG_ARG_LDBL, (double)v); }
static struct ttlog_arg fa_str(const void *p) { return arg_text(p); }
static struct ttlog_arg fa_ptr(const volatile void *p)
{
	return arg_unsigned(TTLOG_ARG_PTR, (uint64_t)(uintptr_t)p);
}

#define FA(x)                                          \
	_Generic((x),                                  \
		_Bool: fa_bool,                        \
		char: fa_char,                         \
		signed char: fa_schar,                 \
		unsigned char: fa_uchar,               \
		short: fa_short,                       \
		unsigned short: fa_ushort,             \
		int: fa_int,                           \
		unsigned int: fa_uint,                 \
		long: fa_long,                         \
		unsigned long: fa_ulong,               \
		long long: fa_llong,                   \
		unsigned long long: fa_ullong,         \
		float: fa_float,                       \
		double: fa_double,                     \
		long double: fa_ldouble,               \
		char *: fa_str,                        \
		const char *: fa_str,                  \
		signed char *: fa_str,                 \
		const signed char *: fa_str,           \
		unsigned char *: fa_str,               \
		const unsigned char *: fa_str,         \
		const volatile char *: fa_str,         \
		default: fa_ptr)(x)

/* Applies m to each of up to 16 arguments. */
#define FMT_COUNT(...) FMT_COUNT_(_, ##__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define FMT_COUNT_(z, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, n, ...) n
#define FMT_JOIN_(a, b) a##b
#define FMT_JOIN(a, b) FMT_JOIN_(a, b)
#define FMT_EACH(m, ...) FMT_JOIN(FMT_EACH_, FMT_COUNT(__VA_ARGS__))(m, ##__VA_ARGS__)
#define FMT_EACH_0(m)
#define FMT_EACH_1(m, x) m(x)
#define FMT_EACH_2(m, x, ...) m(x) FMT_EACH_1(m, __VA_ARGS__)
#define FMT_EACH_3(m, x, ...) m(x) FMT_EACH_2(m, __VA_ARGS__)
#define FMT_EACH_4(m, x, ...) m(x) FMT_EACH_3(m, __VA_ARGS__)
#define FMT_EACH_5(m, x, ...) m(x) FMT_EACH_4(m, __VA_ARGS__)
#define FMT_EACH_6(m, x, ...) m(x) FMT_EACH_5(m, __VA_ARGS__)
#define FMT_EACH_7(m, x, ...) m(x) FMT_EACH_6(m, __VA_ARGS__)
#define FMT_EACH_8(m, x, ...) m(x) FMT_EACH_7(m, __VA_ARGS__)
#define FMT_EACH_9(m, x, ...) m(x) FMT_EACH_8(m, __VA_ARGS__)
#define FMT_EACH_10(m, x, ...) m(x) FMT_EACH_9(m, __VA_ARGS__)
#define FMT_EACH_11(m, x, ...) m(x) FMT_EACH_10(m, __VA_ARGS__)
#define FMT_EACH_12(m, x, ...) m(x) FMT_EACH_11(m, __VA_ARGS__)
#define FMT_EACH_13(m, x, ...) m(x) FMT_EACH_12(m, __VA_ARGS__)
#define FMT_EACH_14(m, x, ...) m(x) FMT_EACH_13(m, __VA_ARGS__)
#define FMT_EACH_15(m, x, ...) m(x) FMT_EACH_14(m, __VA_ARGS__)
#define FMT_EACH_16(m, x, ...) m(x) FMT_EACH_15(m, __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* Checking one case                                                   */
/* ------------------------------------------------------------------ */

/* Large enough for every case: the longest is a few KiB. */
#define FMT_BUF 16384

/* NULL, hidden from the compiler's format checks. */
static const char *volatile fmt_null_str;
#define FMT_NULL_STR fmt_null_str


/* ------------------------------------------------------------------ */
/* The plan path                                                       */
/* ------------------------------------------------------------------ */

/* Room for the largest plan: 33 steps of a few words. */
#define PLAN_MEM 4096

/*
 * Formats ev into buffers of size 0, 1, a few bytes, about half the text,
 * the text exactly, one more, and FMT_BUF, and compares each with want
 * (want_len bytes, from ttlog_format()): the returned length, the bytes
 * that fit, the NUL after them, and the byte after the buffer untouched.
 * Returns 0, or 1 after printing what differed.
 */
static int compare_event(const char *where, int line, const char *what,
			 const struct ttlog_event *ev, const char *want, size_t want_len)
{
	static char got[FMT_BUF + 1];
	const size_t sizes[] = {0, 1, 3, want_len / 2, want_len, want_len + 1, FMT_BUF};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t size = sizes[i] < FMT_BUF ? sizes[i] : FMT_BUF;
		memset(got, 'x', size + 1);
		size_t n = ttlog_event_format(ev, got, size);
		int bad = n != want_len || got[size] != 'x';
		if (size > 0) {
			size_t keep = want_len < size - 1 ? want_len : size - 1;
			bad |= memcmp(got, want, keep) != 0 || got[keep] != '\0';
		}
		if (bad) {
			print_error("%s:%d: format \"%s\" (%s), %zu-byte buffer: length %zu, "
				    "ttlog_format() gives %zu\n",
				    where, line, ev->site->format, what, size, n, want_len);
			want_len = want_len < FMT_BUF ? want_len : FMT_BUF - 1;
			tu_show_bytes("ttlog_format", want, want_len < FMT_BUF ? want_len : FMT_BUF - 1);
			tu_show_bytes("event", got, size ? strnlen(got, size) : 0);
			return 1;
		}
	}
	return 0;
}

/*
 * The plan path against ttlog_format() for one format and its arguments.
 * Three layouts of the event's arguments: the format's alone; a TTLOG_F()
 * field before each of them (when they fit in the 32 bits of
 * explicit_args); a field first and one last. In each, the fields are
 * strings that no conversion of the format may print, the site's
 * explicit_args says where they are, and the plan is made from the site as
 * a reader makes it. The event must format as ttlog_format() formats the
 * format's arguments: with the plan; with the plan but the site replaced
 * by a copy of it (the plan is then not the site's and is left alone); and
 * without a plan. has_plan says whether the format is short enough for a
 * plan (-1: either way). Returns the number of failures.
 */
static int check_plan(const char *where, int line, const char *fmt, const struct ttlog_arg *args,
		      unsigned nargs, int has_plan)
{
	static char want[FMT_BUF];
	static _Alignas(8) unsigned char mem[PLAN_MEM];
	size_t want_len = ttlog_format(fmt, args, nargs, want, sizeof want);
	int failures = 0;

	for (int layout = 0; layout < 3; layout++) {
		struct ttlog_arg all[64];
		uint32_t mask = 0;
		unsigned n = 0;
		if (nargs > 64 || (layout == 1 && 2 * nargs + 1 > 32) ||
		    (layout == 2 && nargs + 2 > 32))
			continue; /* fields are in the 32 bits of explicit_args */
		for (unsigned i = 0; i < nargs; i++) {
			if (layout == 1 || (layout == 2 && i == 0)) {
				mask |= UINT32_C(1) << n;
				all[n++] = arg_text("FIELD");
			}
			all[n++] = args ? args[i] : arg_text("?");
		}
		if (layout == 1 || layout == 2) {
			mask |= UINT32_C(1) << n;
			all[n++] = arg_text("FIELD");
		}
		struct ttlog_site_info site = {.id = 1, .format = fmt, .nargs = n, .explicit_args = mask};
		struct ttlog_site_info other = site;
		size_t bytes = ttlog__format_plan_make(&site, mem, sizeof mem);
		if (bytes > sizeof mem || (has_plan >= 0 && (bytes > 0) != has_plan)) {
			print_error("%s:%d: format \"%s\": a plan of %zu bytes, expected %s\n", where,
				    line, fmt, bytes, has_plan ? "one" : "none");
			return failures + 1;
		}
		struct ttlog_event ev = {.site = &site, .nargs = n, .args = n ? all : NULL};
		ev.format_plan = bytes ? (const struct ttlog__format_plan *)mem : NULL;
		static const char *const what[] = {"plan", "plan, fields among the arguments",
						   "plan, fields around the arguments"};
		failures += compare_event(where, line, what[layout], &ev, want, want_len);
		ev.site = &other; /* a site of the program's own, with the same format */
		failures += compare_event(where, line, "plan of another site", &ev, want, want_len);
		ev.site = &site;
		ev.format_plan = NULL;
		failures += compare_event(where, line, "no plan", &ev, want, want_len);
		if (failures)
			break;
	}
	return failures;
}

/*
 * Compares ttlog_format() with the expected text (want bytes; a negative
 * want, snprintf's failure, expects "<?>"), then checks the buffer contract
 * at every size. Returns the number of failures (0 or 1).
 */
static int check_case(const char *where, int line, const char *fmt, const struct ttlog_arg *args,
		      unsigned nargs, const char *expected, int want)
{
	char got[FMT_BUF];
	size_t want_len;

	if (want < 0) {
		expected = "<?>";
		want_len = 3;
	} else {
		want_len = (size_t)want;
	}
	if (want_len >= sizeof got) {
		print_error("%s:%d: expected text too long for the test buffer\n", where, line);
		return 1;
	}
	size_t n = ttlog_format(fmt, args, nargs, got, sizeof got);
	if (n != want_len || memcmp(got, expected, want_len) != 0 || got[n] != '\0') {
		print_error("%s:%d: format \"%s\"\n", where, line, fmt);
		tu_show_bytes("expected", expected, want_len);
		tu_show_bytes("got", got, n < sizeof got ? n : sizeof got - 1);
		return 1;
	}
	for (size_t size = 0; size <= want_len + 1; size++) {
		char *buf = size ? malloc(size) : NULL;
		if (size)
			assert_non_null(buf);
		size_t r = ttlog_format(fmt, args, nargs, buf, size);
		int bad = r != want_len;
		if (size > 0) {
			size_t keep = want_len < size - 1 ? want_len : size - 1;
			bad |= memcmp(buf, expected, keep) != 0 || buf[keep] != '\0';
		}
		free(buf);
		if (bad) {
			print_error("%s:%d: format \"%s\" is wrong with a %zu-byte buffer\n", where, line,
				    fmt, size);
			return 1;
		}
	}
	return check_plan(where, line, fmt, args, nargs, 1) ? 1 : 0;
}

/*
 * Each case of the table becomes a small function (one big function with
 * every case in it takes clang minutes to optimise): format_cases.inc is
 * included once to define fmt_case_LINE() for each line, and once more to
 * list them.
 */
#define FMT_ADD_ARG(x) args[nargs++] = FA(x);
#define FMT_CASE(fmt, ...)                                                          \
	static int FMT_JOIN(fmt_case_, __LINE__)(const char *where)                 \
	{                                                                           \
		struct ttlog_arg args[16] = {0};                                    \
		unsigned nargs = 0;                                                 \
		char expected[FMT_BUF];                                             \
		FMT_EACH(FMT_ADD_ARG, ##__VA_ARGS__)                                \
		int want = snprintf(expected, sizeof expected, fmt, ##__VA_ARGS__); \
		return check_case(where, __LINE__, fmt, args, nargs, expected, want); \
	}
#include "format_cases.inc"
#undef FMT_CASE

#define FMT_CASE(fmt, ...) FMT_JOIN(fmt_case_, __LINE__),
static int (*const fmt_table[])(const char *where) = {
#include "format_cases.inc"
};
#undef FMT_CASE

static void test_table_matches_snprintf(void **state)
{
	(void)state;
	size_t failures = 0;

	for (size_t i = 0; i < sizeof fmt_table / sizeof fmt_table[0]; i++)
		failures += (size_t)fmt_table[i]("format_cases.inc");
	print_message("%zu cases from format_cases.inc, %zu failed\n",
		      sizeof fmt_table / sizeof fmt_table[0], failures);
	assert_true(sizeof fmt_table / sizeof fmt_table[0] >= 300);
	assert_int_equal(failures, 0);
}

/*
 * Cases outside the shared table that snprintf can still judge: hh and h
 * narrowing an int (clang warns about an int argument for them), and the
 * '0' flag with a '*' precision that may be negative (gcc warns that '0' is
 * ignored with a precision, which is only true for a precision >= 0).
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wformat"
#define FMT_CASE(fmt, ...)                                                          \
	do {                                                                        \
		struct ttlog_arg args[16] = {0};                                    \
		unsigned nargs = 0;                                                 \
		FMT_EACH(FMT_ADD_ARG, ##__VA_ARGS__)                                \
		int want = snprintf(expected, sizeof expected, fmt, ##__VA_ARGS__); \
		failures += check_case(__FILE__, __LINE__, fmt, args, nargs, expected, want); \
	} while (0)

static void test_more_snprintf_cases(void **state)
{
	(void)state;
	static char expected[FMT_BUF];
	int failures = 0;
	int v300 = 300, vneg = -129, v70000 = 70000;

	FMT_CASE("[%hhd] [%hhd] [%hhu] [%hhx]", v300, vneg, v300, vneg);
	FMT_CASE("[%hd] [%hu] [%hx] [%hd]", v70000, v70000, vneg, vneg);
	FMT_CASE("[%0.*d] [%0*.*d] [%0*.*d]", -1, 5, 8, 3, -5, 8, -3, -5);
	FMT_CASE("[%0.*x] [%0.*u]", -1, 255u, 4, 7u);
	assert_int_equal(failures, 0);
}
#undef FMT_CASE
#pragma GCC diagnostic pop

/* ------------------------------------------------------------------ */
/* Expected-text cases                                                 */
/* ------------------------------------------------------------------ */

static size_t fmt(char *buf, size_t size, const char *format, unsigned nargs,
		  const struct ttlog_arg *args)
{
	return ttlog_format(format, args, nargs, buf, size);
}

/* Formats with args and checks the text and the returned length. */
static void expect_text(const char *format, const struct ttlog_arg *args, unsigned nargs,
			const char *want)
{
	char buf[512];
	size_t n = fmt(buf, sizeof buf, format, nargs, args);
	if (strcmp(buf, want) != 0 || n != strlen(want))
		print_error("format \"%s\": expected \"%s\", got \"%s\" (%zu)\n", format, want, buf, n);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(check_plan(__FILE__, 0, format, args, nargs, -1), 0);
}

#define ARGS(...) ((const struct ttlog_arg[]){__VA_ARGS__})
#define NARGS(...) (unsigned)(sizeof ARGS(__VA_ARGS__) / sizeof(struct ttlog_arg))
#define EXPECT(format, want, ...) expect_text(format, ARGS(__VA_ARGS__), NARGS(__VA_ARGS__), want)
#define EXPECT0(format, want) expect_text(format, NULL, 0, want)

static struct ttlog_arg cut_str(const char *bytes)
{
	struct ttlog_arg a = arg_text(bytes);
	a.str_truncated = 1;
	return a;
}

static void test_mismatched_kinds(void **state)
{
	(void)state;
	EXPECT("%s", "<?>", fa_int(5));
	EXPECT("%d", "<?>", fa_str("five"));
	EXPECT("%u|%x", "<?>|<?>", fa_double(1.0), fa_str("x"));
	EXPECT("%f", "<?>", fa_int(1));
	EXPECT("%e|%a", "<?>|<?>", fa_ptr((void *)8), fa_str("x"));
	EXPECT("%c", "<?>", fa_str("c"));
	EXPECT("%c", "<?>", fa_double(65.0));
	EXPECT("%p", "<?>", fa_double(1.0));
	EXPECT("%s", "<?>", fa_ptr((void *)0x10));
	/* The mismatched argument is consumed: the next conversion gets the next one. */
	EXPECT("%s %d", "<?> 6", fa_int(5), fa_int(6));
	EXPECT("%d %s", "<?> x", fa_str("a"), fa_str("x"));
	EXPECT("%*d", "<?>", fa_str("w"), fa_int(1));
	EXPECT("%.*d|%d", "<?>|2", fa_double(1.0), fa_int(1), fa_int(2));
	/* An unknown type code (a damaged file) is never formatted. */
	struct ttlog_arg odd = arg_unsigned(99, 1);
	EXPECT("%d %u %f %c %s %p", "<?> <?> <?> <?> <?> <?>", odd, odd, odd, odd, odd, odd);
}

static void test_accepted_kinds(void **state)
{
	(void)state;
	/* Integer conversions take every integer kind and pointers. */
	EXPECT("%d %d %d %u", "1 -1 -5 65535", fa_bool(1), fa_char((char)-1), fa_schar(-5),
	       fa_ushort(65535));
	EXPECT("%lu %#lx", "4096 0x1000", fa_ptr((void *)4096), fa_ptr((void *)4096));
	/* %p takes integers; %c takes any integer kind. */
	EXPECT("%p %p", "0x2a (nil)", fa_int(42), fa_ulong(0));
	EXPECT("%c%c", "AB", fa_uchar('A'), fa_ullong('B'));
	char buf[8];
	assert_int_equal(fmt(buf, sizeof buf, "%c%c%c", 3,
			     ARGS(fa_uchar('A'), fa_bool(0), fa_char('C'))),
			 3);
	assert_memory_equal(buf, "A\0C", 4);
	/* Floating conversions take F64 and LDBL whatever the length modifier. */
	EXPECT("%f %Lf %.1Le %.2f", "0.500000 0.500000 2.5e+00 2.50", fa_ldouble(0.5L), fa_double(0.5),
	       fa_double(2.5), fa_ldouble(2.5L));
}

static void test_missing_arguments(void **state)
{
	(void)state;
	EXPECT0("%d", "<?>");
	EXPECT0("a %s b %f c", "a <?> b <?> c");
	EXPECT("%d %d %d", "5 <?> <?>", fa_int(5));
	EXPECT("%*d", "<?>", fa_int(5)); /* the width took the only argument */
	EXPECT("%*.*f", "<?>", fa_int(5), fa_int(2));
	EXPECT("%3$d %1$d", "<?> 1", fa_int(1), fa_int(2));
	EXPECT("%0$d|%d", "%0$d|7", fa_int(7)); /* no argument 0: not a position */
	/* NULL args are no arguments, whatever nargs says. */
	char buf[16];
	assert_int_equal(ttlog_format("%d!", NULL, 3, buf, sizeof buf), 4);
	assert_string_equal(buf, "<?>!");
}

static void test_percent_n_and_m(void **state)
{
	(void)state;
	int where = 0;
	EXPECT("ab%ncd", "abcd", fa_ptr(&where));
	EXPECT("%n%d", "7", fa_ptr(&where), fa_int(7));
	EXPECT("%hhn%hn%ln%lln%jn%zn%tn|%d", "|8", fa_ptr(&where), fa_ptr(&where), fa_ptr(&where),
	       fa_ptr(&where), fa_ptr(&where), fa_ptr(&where), fa_ptr(&where), fa_int(8));
	EXPECT0("x%ny", "xy"); /* %n never prints, with or without an argument */
	assert_int_equal(where, 0);
	/* %m takes no argument: errno was not recorded. */
	EXPECT("%m %d", "<?> 5", fa_int(5));
	EXPECT0("%-20m|", "<?>|");
}

/* A truncated string prints as its recorded bytes plus "...", with width
 * and precision applied to the whole: check against snprintf of that. */
#define CUT_CASE(format)                                                         \
	do {                                                                     \
		struct ttlog_arg a_ = cut_str("abcdef");                         \
		char want_[64], got_[64];                                        \
		int n_ = snprintf(want_, sizeof want_, format, "abcdef...");     \
		size_t r_ = ttlog_format(format, &a_, 1, got_, sizeof got_);     \
		if (strcmp(want_, got_) != 0)                                    \
			print_error("format \"%s\": expected \"%s\", got \"%s\"\n", format, want_, got_); \
		assert_string_equal(got_, want_);                                \
		assert_int_equal(r_, (size_t)n_);                                \
		assert_int_equal(check_plan(__FILE__, __LINE__, format, &a_, 1, 1), 0); \
	} while (0)

static void test_truncated_strings(void **state)
{
	(void)state;
	CUT_CASE("%s");
	CUT_CASE("[%s]");
	CUT_CASE("[%12s]");
	CUT_CASE("[%-12s]");
	CUT_CASE("[%9s]");
	CUT_CASE("[%3s]");
	CUT_CASE("[%.0s]");
	CUT_CASE("[%.4s]");
	CUT_CASE("[%.6s]");
	CUT_CASE("[%.7s]");
	CUT_CASE("[%.8s]");
	CUT_CASE("[%.9s]");
	CUT_CASE("[%.10s]");
	CUT_CASE("[%12.7s]");
	CUT_CASE("[%-12.7s]");
	CUT_CASE("[%-3.2s]");

	/* '*' widths and precisions, an empty recorded prefix, and a cut buffer. */
	EXPECT("[%*.*s]", "[     abcde]", fa_int(10), fa_int(5), cut_str("abcdef"));
	EXPECT("[%*.*s]", "[    abcdef..]", fa_int(12), fa_int(8), cut_str("abcdef"));
	EXPECT("[%-*s]", "[...  ]", fa_int(5), cut_str(""));
	EXPECT("[%.*s]", "[abcdef...]", fa_int(-1), cut_str("abcdef"));
	char small[5];
	struct ttlog_arg a = cut_str("abcdef");
	assert_int_equal(ttlog_format("%s", &a, 1, small, sizeof small), 9);
	assert_string_equal(small, "abcd");
	/* Bytes after an embedded NUL are not printed. */
	struct ttlog_arg odd = cut_str("ab");
	odd.str_len = 5;
	odd.str = "ab\0cd";
	EXPECT("%s", "ab...", odd);
}

static void test_pointer_of_string(void **state)
{
	(void)state;
	/* ttlog records every char pointer as a string, so %p prints it. */
	EXPECT("%p", "text", fa_str("text"));
	EXPECT("[%8p] [%-8p]", "[    text] [text    ]", fa_str("text"), fa_str("text"));
	EXPECT("%p", "abc...", cut_str("abc"));
	/* A NULL char pointer still prints as a null pointer. */
	EXPECT("%p|%10p", "(nil)|     (nil)", fa_str(NULL), fa_str(NULL));
}

static void test_wide_and_glibc_extras(void **state)
{
	(void)state;
	/* Wide strings are recorded as bare pointers. */
	EXPECT("%ls|%S", "<?>|<?>", fa_ptr((void *)0x10), fa_ptr((void *)0x10));
	EXPECT("%ls", "<?>", fa_str("narrow"));
	/* %C is %lc; a character with no multibyte form in the C locale fails. */
	EXPECT("%C%lc", "AB", fa_uint('A'), fa_int('B'));
	EXPECT("[%lc]", "[<?>]", fa_uint(0x263a));
	/* Z is glibc's old z; I (locale digits) is accepted and dropped. */
	EXPECT("%Zu %Zd %Id %'Id", "18446744073709551615 -1 42 7", fa_ulong(ULONG_MAX), fa_long(-1),
	       fa_int(42), fa_int(7));
	/* q and ll as well as L read long double for floating conversions in glibc. */
	EXPECT("%qf %llf", "1.500000 2.500000", fa_double(1.5), fa_double(2.5));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
	EXPECT("%b %#B %08b", "101 0B101 00000101", fa_uint(5), fa_uint(5), fa_uint(5));
#endif
}

static void test_literal_and_incomplete(void **state)
{
	(void)state;
	EXPECT0("", "");
	EXPECT0("no conversions", "no conversions");
	EXPECT0("%%|%5%|%-5%", "%|%|%");
	/* A conversion cut by the end of the format is copied. */
	EXPECT0("abc %", "abc %");
	EXPECT("%d %", "1 %", fa_int(1));
	EXPECT0("%-08.3l", "%-08.3l");
	EXPECT0("%.*", "%.*");
	EXPECT0("%1$", "%1$");
	EXPECT0("%hh", "%hh");
	/* An unknown conversion is copied and takes no argument. */
	EXPECT("%y %d %5k %d", "%y 1 %5k 2", fa_int(1), fa_int(2));
	EXPECT("%w|%d", "%w|3", fa_int(3));
	/* A NULL format is an empty one. */
	char buf[4] = "xyz";
	assert_int_equal(ttlog_format(NULL, NULL, 0, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

static void test_hostile_widths(void **state)
{
	(void)state;
	/* Widths and precisions that would make the C library write (and
	 * discard) up to 2 GiB are refused. */
	EXPECT("[%100000d]", "[<?>]", fa_int(1));
	EXPECT("[%.100000f]", "[<?>]", fa_double(1.0));
	EXPECT("[%99999999999999999999d]", "[<?>]", fa_int(1));
	EXPECT("[%*d]", "[<?>]", fa_int(INT_MIN), fa_int(1));
	EXPECT("[%*d]", "[<?>]", fa_int(INT_MAX), fa_int(1));
	EXPECT("[%.*d]", "[<?>]", fa_int(INT_MAX), fa_int(1));
	EXPECT("[%*s]|%d", "[<?>]|9", fa_int(-100000), fa_str("s"), fa_int(9));
	/* A string precision only limits: any value is fine. */
	EXPECT("[%.100000s] [%.*s]", "[abc] [abc]", fa_str("abc"), fa_int(INT_MAX), fa_str("abc"));
	/* The largest honoured width. */
	static char big[65540];
	assert_int_equal(ttlog_format("%65536d", ARGS(fa_int(7)), 1, big, sizeof big), 65536);
	assert_int_equal(big[65535], '7');
	assert_int_equal(big[0], ' ');
}

static void test_buffer_contract(void **state)
{
	(void)state;
	const struct ttlog_arg args[] = {fa_int(12345), fa_str("world")};
	char buf[32];

	assert_int_equal(ttlog_format("%d hello %s", args, 2, NULL, 0), 17);
	memset(buf, 'x', sizeof buf);
	assert_int_equal(ttlog_format("%d hello %s", args, 2, buf, 0), 17);
	assert_int_equal(buf[0], 'x'); /* size 0: nothing written */
	assert_int_equal(ttlog_format("%d hello %s", args, 2, buf, 1), 17);
	assert_string_equal(buf, "");
	assert_int_equal(ttlog_format("%d hello %s", args, 2, buf, 3), 17);
	assert_string_equal(buf, "12");
	assert_int_equal(ttlog_format("%d hello %s", args, 2, buf, 12), 17);
	assert_string_equal(buf, "12345 hello");
	assert_int_equal(buf[12], 'x'); /* nothing past the buffer's end */
	assert_int_equal(ttlog_format("%d hello %s", args, 2, buf, 18), 17);
	assert_string_equal(buf, "12345 hello world");
	/* A NULL buffer with a size is treated as size 0. */
	assert_int_equal(ttlog_format("%d", args, 1, NULL, 10), 5);
}

static void test_event_format(void **state)
{
	(void)state;
	const uint8_t types[] = {TTLOG_ARG_I32, TTLOG_ARG_STR};
	const struct ttlog_site_info site = {
		.id = 1, .level = TTLOG_LEVEL_INFO, .line = 10, .nargs = 2, .arg_types = types,
		.format = "id=%d path=%s", .file = "x.c", .function = "f", .target = NULL};
	const struct ttlog_arg args[] = {fa_int(7), fa_str("/a")};
	const struct ttlog_event ev = {.site = &site, .nargs = 2, .args = args};
	char buf[64];

	assert_int_equal(ttlog_event_format(&ev, buf, sizeof buf), 12);
	assert_string_equal(buf, "id=7 path=/a");
	assert_int_equal(ttlog_event_format(&ev, buf, 5), 12);
	assert_string_equal(buf, "id=7");
	const struct ttlog_event empty = {0};
	assert_int_equal(ttlog_event_format(&empty, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
}

/* A format of count copies of piece. */
static char *repeat(char *out, size_t size, const char *piece, unsigned count)
{
	out[0] = '\0';
	for (unsigned i = 0; i < count; i++)
		strncat(out, piece, size - strlen(out) - 1);
	return out;
}

static size_t plan_size(const char *format, uint32_t explicit_args)
{
	struct ttlog_site_info site = {.format = format, .explicit_args = explicit_args};
	return ttlog__format_plan_make(&site, NULL, 0);
}

static void test_plan_cap(void **state)
{
	(void)state;
	char f[512];
	/* 16 directives make a plan; the 17th is one too many. */
	assert_true(plan_size(repeat(f, sizeof f, "v=%d ", 16), 0) > 0);
	assert_int_equal(plan_size(repeat(f, sizeof f, "v=%d ", 17), 0), 0);
	assert_true(plan_size(repeat(f, sizeof f, "%d", 16), 0) > 0);
	assert_int_equal(plan_size(repeat(f, sizeof f, "%d", 17), 0), 0);
	/* Every '%' counts: "%%", unknown conversions, one cut by the end. */
	assert_true(plan_size(repeat(f, sizeof f, "100%% ", 16), 0) > 0);
	assert_int_equal(plan_size(repeat(f, sizeof f, "100%% ", 17), 0), 0);
	assert_int_equal(plan_size(repeat(f, sizeof f, "%y", 17), 0), 0);
	strcat(repeat(f, sizeof f, "%d ", 16), "%");
	assert_int_equal(plan_size(f, 0), 0);
	/* Text without '%' is one step; an empty or NULL format, none. */
	assert_int_equal(plan_size("no conversions at all", 0), plan_size("%d", 0));
	assert_true(plan_size("%d", 0) > plan_size("", 0));
	assert_true(plan_size("", 0) > 0);
	assert_int_equal(plan_size(NULL, 0), plan_size("", 0));
	/* A hostile length: 64 KiB of text and conversions, no plan past the cap. */
	static char big[65536];
	memset(big, 'a', sizeof big - 1);
	for (size_t i = 0; i + 2 < sizeof big - 1; i += 2048)
		memcpy(big + i, "%s", 2);
	assert_int_equal(plan_size(big, 0), 0);
	memset(big, 'a', sizeof big - 1);
	memcpy(big + 30000, "%d", 2);
	assert_true(plan_size(big, 0) > 0);
}

/*
 * Formats with more directives than a plan holds are compiled and run in
 * pieces: arguments taken in order across the pieces, positions and '*'
 * in later pieces, fields among the arguments. snprintf, or the text
 * piece by piece, tells what each must print.
 */
static void test_plan_pieces(void **state)
{
	(void)state;
	char f[1024], want[2048], piece[64];
	struct ttlog_arg args[34];

	/* 20 sequential conversions. */
	want[0] = '\0';
	for (int i = 0; i < 20; i++) {
		args[i] = fa_int(i * 7 - 30);
		snprintf(piece, sizeof piece, "[%d]", i * 7 - 30);
		strcat(want, piece);
	}
	expect_text(repeat(f, sizeof f, "[%d]", 20), args, 20, want);
	assert_int_equal(check_plan(__FILE__, __LINE__, f, args, 20, 0), 0);

	/* 17 '*' widths: two arguments each, across the piece boundary. */
	want[0] = '\0';
	for (int i = 0; i < 17; i++) {
		args[2 * i] = fa_int(i % 5 - 2);
		args[2 * i + 1] = fa_uint((unsigned)i);
		snprintf(piece, sizeof piece, "%*u,", i % 5 - 2, (unsigned)i);
		strcat(want, piece);
	}
	expect_text(repeat(f, sizeof f, "%*u,", 17), args, 34, want);
	assert_int_equal(check_plan(__FILE__, __LINE__, f, args, 34, 0), 0);

	/* Positions after the boundary, "%%" and unknown conversions in it,
	 * a '%' at the very end. */
	args[0] = fa_int(5);
	args[1] = fa_str("five");
	strcat(repeat(f, sizeof f, "%% %y ", 9), "%2$s=%1$d %*1$d|%");
	expect_text(f, args, 2, "% %y % %y % %y % %y % %y % %y % %y % %y % %y five=5     5|%");
	assert_int_equal(check_plan(__FILE__, __LINE__, f, args, 2, 0), 0);
	expect_text(repeat(f, sizeof f, "%1$d", 18), args, 2, "555555555555555555");
	assert_int_equal(check_plan(__FILE__, __LINE__, f, args, 2, 0), 0);

	/* Too few arguments for the later pieces. */
	expect_text(repeat(f, sizeof f, "%s.", 18), args + 1, 1,
		    "five.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.<?>.");
	assert_int_equal(check_plan(__FILE__, __LINE__, f, args + 1, 1, 0), 0);
}

/* Formats with positions, '*' and fields mixed in, through their plans. */
static void test_plan_positions_and_stars(void **state)
{
	(void)state;
	EXPECT("%2$s %1$d %2$s", "b 1 b", fa_int(1), fa_str("b"));
	EXPECT("%*d|%-*s|%.*f", "   42|ab   |3.14", fa_int(5), fa_int(42), fa_int(5), fa_str("ab"),
	       fa_int(2), fa_double(3.14159));
	EXPECT("%*2$d|%1$d", "    7|7", fa_int(7), fa_int(5));
	EXPECT("%.*2$f|%3$s", "1.50|z", fa_double(1.5), fa_int(2), fa_str("z"));
	EXPECT("%d %2$d %d", "1 2 2", fa_int(1), fa_int(2));
	EXPECT("%.*d|%.*f", "7|2.500000", fa_int(-1), fa_int(7), fa_int(-3), fa_double(2.5));
	EXPECT("%5%|%-5%|%%%d", "%|%|%3", fa_int(3));
	EXPECT("%lld %lx %zu %jd %td %hd %hhu", "-1 ff 7 -2 3 -1 255", fa_llong(-1), fa_ulong(255),
	       fa_ulong(7), fa_llong(-2), fa_long(3), fa_int(-1), fa_int(-1));
	EXPECT("%s|%f|%d", "<?>|<?>|<?>", fa_int(1), fa_str("x"), fa_double(1.0));
	EXPECT("%.0f %.9f %F %f", "2 0.333333333 INF nan", fa_double(2.5), fa_double(1.0 / 3),
	       fa_double(INFINITY), fa_double(NAN));
	EXPECT("%f", "18446744073709551616.000000", fa_double(18446744073709551616.0));
	EXPECT("%s%s", "abc...(null)", cut_str("abc"), fa_str(NULL));
}

/*
 * An event keeps its plan, but its site is the program's own: a copy with
 * another format, or the same site whose format pointer was changed. The
 * plan is not used, and the text is the site's.
 */
static void test_plan_of_replaced_site(void **state)
{
	(void)state;
	static _Alignas(8) unsigned char mem[PLAN_MEM];
	struct ttlog_site_info site = {.id = 3, .format = "a=%d b=%s", .nargs = 3,
				       .explicit_args = 0x1};
	const struct ttlog_arg args[] = {fa_str("field"), fa_int(7), fa_str("x")};
	assert_true(ttlog__format_plan_make(&site, mem, sizeof mem) > 0);
	struct ttlog_event ev = {.site = &site, .nargs = 3, .args = args};
	ev.format_plan = (const struct ttlog__format_plan *)mem;
	char buf[64];

	assert_int_equal(ttlog_event_format(&ev, buf, sizeof buf), 7);
	assert_string_equal(buf, "a=7 b=x");
	/* The program's own site: another format, no explicit fields. */
	struct ttlog_site_info own = {.id = 3, .format = "own %s|%d|%s", .nargs = 3};
	ev.site = &own;
	assert_int_equal(ttlog_event_format(&ev, buf, sizeof buf), 13);
	assert_string_equal(buf, "own field|7|x");
	/* A copy of the plan's site, with the same format text elsewhere. */
	struct ttlog_site_info copy = site;
	char text[] = "a=%d b=%s";
	copy.format = text;
	ev.site = &copy;
	assert_int_equal(ttlog_event_format(&ev, buf, sizeof buf), 7);
	assert_string_equal(buf, "a=7 b=x");
	/* The plan's own site, its format replaced. */
	ev.site = &site;
	site.format = "now %2$s %1$d";
	assert_int_equal(ttlog_event_format(&ev, buf, 6), 7);
	assert_string_equal(buf, "now x");
	site.explicit_args = 0;
	assert_int_equal(ttlog_event_format(&ev, buf, sizeof buf), 11);
	assert_string_equal(buf, "now <?> <?>");
}

/*
 * %f with precisions 0 to 9 is formatted without the C library (exactly,
 * by integer arithmetic); compare it with snprintf on values that stress
 * the rounding: random bit patterns over the whole range, values near the
 * decimal boundaries of each precision (where ties to even decide), small
 * and subnormal values, negative zero and the 2^63 cut-over.
 */
static uint64_t fixed_rng = 0x9e3779b97f4a7c15u;

static uint64_t fixed_next(void)
{
	return tu_random(&fixed_rng);
}

static size_t fixed_check(double d)
{
	static const char *const formats[] = {"%f", "%.0f", "%.1f", "%.3f", "%.9f", "%F"};
	enum { NFORMATS = sizeof formats / sizeof formats[0] };
	/* Each format's plan too, made once: the plan runs the same code. */
	static struct ttlog_site_info sites[NFORMATS];
	static _Alignas(8) unsigned char plans[NFORMATS][PLAN_MEM];
	char got[512], want[512], planned[512];
	size_t failures = 0;
	for (size_t f = 0; f < NFORMATS; f++) {
		struct ttlog_arg a = fa_double(d);
		if (!sites[f].format) {
			sites[f].format = formats[f];
			sites[f].nargs = 1;
			assert_true(ttlog__format_plan_make(&sites[f], plans[f], PLAN_MEM) > 0);
		}
		struct ttlog_event ev = {.site = &sites[f], .nargs = 1, .args = &a};
		ev.format_plan = (const struct ttlog__format_plan *)plans[f];
		ttlog_event_format(&ev, planned, sizeof planned);
		ttlog_format(formats[f], &a, 1, got, sizeof got);
		if (strcmp(planned, got) != 0 && failures++ < 5)
			print_message("%s of %a: '%s' through its plan, '%s' from ttlog_format()\n",
				      formats[f], d, planned, got);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(want, sizeof want, formats[f], d);
#pragma GCC diagnostic pop
		if (strcmp(got, want) != 0 && failures++ < 5)
			print_message("%s of %a: got '%s', snprintf gives '%s'\n", formats[f], d, got, want);
	}
	return failures;
}

static void test_fixed_point_matches_snprintf(void **state)
{
	(void)state;
	size_t failures = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t bits = fixed_next();
		double d;
		memcpy(&d, &bits, sizeof d);
		failures += fixed_check(d);
	}
	for (int i = 0; i < 100000; i++) {
		/* k / 10^p + tiny, around every kind of decimal boundary */
		double scale = (double)(1u << (fixed_next() % 30));
		double d = (double)(int64_t)(fixed_next() % 2000000u - 1000000) / scale;
		failures += fixed_check(d);
		failures += fixed_check(d * 1e-6);
		failures += fixed_check(d + 0.0000005);
	}
	const double edges[] = {0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.0000005, 0.00000049999999999999,
				1e-300, -1e-300, 4.9e-324, 9.2233720368547748e18, 9.2233720368547758e18,
				1.8e19, 123456789.123456789, 0.05, 0.15, 0.25, 0.35, 1e15 + 0.5};
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		failures += fixed_check(edges[i]);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_snprintf),
		cmocka_unit_test(test_more_snprintf_cases),
		cmocka_unit_test(test_fixed_point_matches_snprintf),
		cmocka_unit_test(test_mismatched_kinds),
		cmocka_unit_test(test_accepted_kinds),
		cmocka_unit_test(test_missing_arguments),
		cmocka_unit_test(test_percent_n_and_m),
		cmocka_unit_test(test_truncated_strings),
		cmocka_unit_test(test_pointer_of_string),
		cmocka_unit_test(test_wide_and_glibc_extras),
		cmocka_unit_test(test_literal_and_incomplete),
		cmocka_unit_test(test_hostile_widths),
		cmocka_unit_test(test_buffer_contract),
		cmocka_unit_test(test_event_format),
		cmocka_unit_test(test_plan_cap),
		cmocka_unit_test(test_plan_pieces),
		cmocka_unit_test(test_plan_positions_and_stars),
		cmocka_unit_test(test_plan_of_replaced_site),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
