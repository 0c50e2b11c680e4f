/* SPDX-License-Identifier: MIT */
/*
 * test_fields.c - fields, in three layers:
 *
 *   1. the keys a format gives its conversions ("user=%u"), found by
 *      ttlog__format_keys() in the reader;
 *   2. the names of TTLOG_F() fields, found by ttlog__field_name() in the
 *      source text of an argument, as the log macro really stringizes it;
 *   3. both end to end: real log calls, a snapshot, and the reader's
 *      fields, values and messages.
 *
 * The library runs with the fake clock, so events come back in call order,
 * and with max_string 8, so that a string field can be cut.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reader/reader_internal.h"
#include "sites/fields.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The type code the C header records for a plain char on this target. */
#define CHAR_TYPE (CHAR_MIN < 0 ? TTLOG_ARG_CHAR : TTLOG_ARG_U8)

/* The string limit of this test's rings: short, so that a field is cut. */
#define MAX_STRING 8

/* ---- 1. Keys in formats -------------------------------------------------- */

struct want_key {
	const char *key;
	unsigned arg;
};

struct key_case {
	const char *format;
	unsigned used;       /* arguments the format takes */
	unsigned nkeys;
	struct want_key keys[4];
};

/*
 * What fmt_key_before() in src/reader/printf.c does, case by case. The key
 * is looked for only in the literal text since the previous conversion,
 * and "%%" is a conversion there: "a%%b=%d" prints "a%b=..." and its key is
 * "b", the run of key characters after the '%', while in "100%%=%d" the
 * text before '=' is empty, so there is no key.
 */
static const struct key_case key_cases[] = {
	{"user=%u ip=%s ms=%d", 3, 3, {{"user", 0}, {"ip", 1}, {"ms", 2}}},
	{"100%%=%d", 1, 0, {{0}}},
	{"50%%=%d", 1, 0, {{0}}},
	{"a%%b=%d", 1, 1, {{"b", 0}}},
	{"cpu=%d%% load=%u", 2, 2, {{"cpu", 0}, {"load", 1}}},
	/* "key=" followed by text, not a conversion, names nothing. */
	{"key= x=%d", 1, 1, {{"x", 0}}},
	{"k=[%d]", 1, 0, {{0}}},
	/* Repeats are kept here; the reader renames them (a_2). */
	{"a=%d a=%d", 2, 2, {{"a", 0}, {"a", 1}}},
	/* '*' takes an argument before the value. */
	{"w=%*d", 2, 1, {{"w", 1}}},
	{"p=%.*f", 2, 1, {{"p", 1}}},
	{"q=%*.*f r=%d", 4, 2, {{"q", 2}, {"r", 3}}},
	/* Positions. */
	{"%2$d a=%1$d", 2, 1, {{"a", 0}}},
	{"w=%2$*1$d", 2, 1, {{"w", 1}}},
	{"far=%5$d", 5, 1, {{"far", 4}}},
	/* %n consumes an argument but prints none; %m takes none. */
	{"n=%n", 1, 0, {{0}}},
	{"e=%m", 0, 0, {{0}}},
	{"n=%n x=%d", 2, 1, {{"x", 1}}},
	{"e=%m x=%d", 1, 1, {{"x", 0}}},
	/* "%*m" takes a width and prints no argument (as printf does). */
	{"err=%*m x=%d", 2, 1, {{"x", 1}}},
	{"%%=%*d", 2, 0, {{0}}},
	/* Dots and dashes belong to keys. */
	{"http.status=%d x-id=%s", 2, 2, {{"http.status", 0}, {"x-id", 1}}},
	/* A key starts at its first letter or '_'. */
	{"%d=%d", 2, 0, {{0}}},
	{"9a=%d", 1, 1, {{"a", 0}}},
	{"-=%d", 1, 0, {{0}}},
	{"1.5=%d", 1, 0, {{0}}},
	{"_x=%d", 1, 1, {{"_x", 0}}},
	/* The text since the previous conversion, nothing before it. */
	{"%dx=%d", 2, 1, {{"x", 1}}},
	/* Only the conversion right after '=' is named. */
	{"level=%ld/%lld v=%hhu", 3, 2, {{"level", 0}, {"v", 2}}},
	/* An unknown conversion is printed as text by ttlog_format() and
	 * takes no argument there; here neither. */
	{"a=%d b=%y c=%d", 2, 2, {{"a", 0}, {"c", 1}}},
	/* A format cut after '%'. */
	{"x=%", 0, 0, {{0}}},
	{"", 0, 0, {{0}}},
	{"no conversions", 0, 0, {{0}}},
};

static void check_key_case(const struct key_case *c)
{
	struct ttlog__format_key got[16];
	unsigned used = 999;
	unsigned n = ttlog__format_keys(c->format, got, COUNT_OF(got), &used);
	if (n != c->nkeys || used != c->used)
		fail_msg("format \"%s\": %u keys, %u arguments; expected %u keys, %u arguments",
			 c->format, n, used, c->nkeys, c->used);
	size_t flen = strlen(c->format);
	for (unsigned i = 0; i < n; i++) {
		const struct ttlog__format_key *k = &got[i];
		/* The key points into the format. */
		if (k->key < c->format || k->key + k->len > c->format + flen)
			fail_msg("format \"%s\": key %u does not point into the format", c->format, i);
		if (k->len != strlen(c->keys[i].key) || memcmp(k->key, c->keys[i].key, k->len) != 0 ||
		    k->arg != c->keys[i].arg)
			fail_msg("format \"%s\": key %u is \"%.*s\" for argument %u; expected \"%s\" for %u",
				 c->format, i, (int)k->len, k->key, k->arg, c->keys[i].key,
				 c->keys[i].arg);
	}
}

static void test_format_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < COUNT_OF(key_cases); i++)
		check_key_case(&key_cases[i]);

	/* A NULL format is an empty one. */
	struct ttlog__format_key got[4];
	unsigned used = 999;
	assert_int_equal(ttlog__format_keys(NULL, got, COUNT_OF(got), &used), 0);
	assert_int_equal(used, 0);
}

static void test_format_keys_max(void **state)
{
	(void)state;
	/* Only max keys are stored; the arguments are still all counted. */
	struct ttlog__format_key got[3];
	memset(got, 0, sizeof got);
	unsigned used = 0;
	assert_int_equal(ttlog__format_keys("a=%d b=%d c=%d", got, 2, &used), 2);
	assert_int_equal(used, 3);
	assert_int_equal(got[1].len, 1);
	assert_memory_equal(got[1].key, "b", 1);
	assert_null(got[2].key); /* not written past max */

	used = 0;
	assert_int_equal(ttlog__format_keys("a=%d b=%d c=%d", got, 0, &used), 0);
	assert_int_equal(used, 3);
}

/* ---- 2. Names of TTLOG_F() fields ---------------------------------------- */

struct name_case {
	const char *text;
	const char *name; /* NULL: not a field */
};

static const struct name_case name_cases[] = {
	/* What the log macro stores: the text after expansion. */
	{"((void)\"ttlog:field\" \"user_id\", (uid))", "user_id"},
	{"((void)\"ttlog:field\" \"a\" \"b\", (x))", "ab"},
	/* What a macro that stringizes before expansion would store. */
	{"TTLOG_F(\"user_id\", uid)", "user_id"},
	{"TTLOG_F ( \"a\" \"b\" , x )", "ab"},
	{"  TTLOG_F(\"lead\", x)", "lead"},
	/* Simple escapes are undone like the compiler would; an octal escape
	 * stays as written. */
	{"TTLOG_F(\"q\\\"x\", v)", "q\"x"},
	{"TTLOG_F(\"back\\\\slash\", v)", "back\\slash"},
	{"TTLOG_F(\"tab\\there\", v)", "tab\there"},
	{"TTLOG_F(\"oct\\101\", v)", "oct\\101"},
	/* An empty name is "_". */
	{"TTLOG_F(\"\", v)", "_"},
	{"((void)\"ttlog:field\" \"\", (v))", "_"},
	{"((void)\"ttlog:field\" \"\" \"\", (v))", "_"},
	/* Not fields. */
	{"(x)", NULL},
	{"\"str\"", NULL},
	{"\"TTLOG_F(\\\"a\\\", b)\"", NULL},
	{"TTLOG_Fx(\"a\", b)", NULL},
	{"TTLOG_F", NULL},
	{"TTLOG_F(x, y)", NULL},
	{"TTLOG_F(\"unterminated, y)", NULL},
	{"((void)\"ttlog:fieldx\" \"a\", (v))", NULL},
	{"((void)\"ttlog:field\" name, (v))", NULL},
	{"f(TTLOG_F(\"a\", b))", NULL},
	{"", NULL},
};

/* Calls ttlog__field_name() with guard bytes after its 65-byte buffer. */
static size_t field_name(const char *text, char out[TTLOG__FIELD_NAME_MAX + 1])
{
	char buf[TTLOG__FIELD_NAME_MAX + 1 + 16];
	memset(buf, 0x7f, sizeof buf);
	size_t n = ttlog__field_name(text, buf);
	for (size_t i = TTLOG__FIELD_NAME_MAX + 1; i < sizeof buf; i++)
		if (buf[i] != 0x7f)
			fail_msg("text \"%s\": byte %zu written past the name buffer", text, i);
	memcpy(out, buf, TTLOG__FIELD_NAME_MAX + 1);
	return n;
}

static void test_field_names(void **state)
{
	(void)state;
	char out[TTLOG__FIELD_NAME_MAX + 1];
	for (size_t i = 0; i < COUNT_OF(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		size_t n = field_name(c->text, out);
		if (!c->name) {
			if (n != 0)
				fail_msg("text \"%s\": a field named \"%s\", expected none", c->text, out);
			continue;
		}
		if (n != strlen(c->name) || strcmp(out, c->name) != 0)
			fail_msg("text \"%s\": %zu, \"%.*s\"; expected \"%s\"", c->text, n,
				 (int)TTLOG__FIELD_NAME_MAX, n ? out : "", c->name);
	}
	assert_int_equal(ttlog__field_name(NULL, out), 0);
}

static void test_long_field_names_are_cut(void **state)
{
	(void)state;
	char name[101];
	for (int i = 0; i < 100; i++)
		name[i] = (char)('0' + i % 10);
	name[100] = '\0';
	char text[300], out[TTLOG__FIELD_NAME_MAX + 1];

	snprintf(text, sizeof text, "TTLOG_F(\"%s\", v)", name);
	assert_int_equal(field_name(text, out), TTLOG__FIELD_NAME_MAX);
	assert_int_equal(strlen(out), TTLOG__FIELD_NAME_MAX);
	assert_memory_equal(out, name, TTLOG__FIELD_NAME_MAX);

	/* Cut across adjacent literals too: 50 + 50 bytes keep the first 64. */
	snprintf(text, sizeof text, "((void)\"ttlog:field\" \"%.50s\" \"%s\", (v))", name, name + 50);
	assert_int_equal(field_name(text, out), TTLOG__FIELD_NAME_MAX);
	assert_memory_equal(out, name, TTLOG__FIELD_NAME_MAX);

	/* Exactly 64 bytes are kept whole. */
	snprintf(text, sizeof text, "TTLOG_F(\"%.64s\", v)", name);
	assert_int_equal(field_name(text, out), TTLOG__FIELD_NAME_MAX);
	assert_memory_equal(out, name, TTLOG__FIELD_NAME_MAX);
}

/*
 * The text the headers really produce. TEXT_OF expands its argument before
 * stringizing it, as the log macro's per-argument expansion does; the site
 * below is built with the log macro's own TTLOG__ARG_TEXT. If TTLOG_F()'s
 * expansion changes so that fields.c no longer recognises it, this fails.
 * (Nothing here is evaluated: uid, v and z need not exist.)
 */
#define TEXT_OF_(x) #x
#define TEXT_OF(x) TEXT_OF_(x)
#define USER_FIELD(u) TTLOG_F("user", u)

static const char expanded_field[] = TEXT_OF(TTLOG_F("n", v));
static const char expanded_wrapped[] = TEXT_OF(USER_FIELD(v));
static const char site_text[] =
	TTLOG__EACH(TTLOG__ARG_TEXT, "fmt", count, TTLOG_F("user_id", uid), "str", USER_FIELD(z)) "";

static void test_macro_text(void **state)
{
	(void)state;
	char out[TTLOG__FIELD_NAME_MAX + 1];
	assert_int_equal(field_name(expanded_field, out), 1);
	assert_string_equal(out, "n");
	assert_int_equal(field_name(expanded_wrapped, out), 4);
	assert_string_equal(out, "user");

	struct ttlog_site site = {.nargs = 4, .arg_text = site_text};
	assert_string_equal(ttlog__site_arg_text(&site, 0), "count");
	assert_int_equal(field_name(ttlog__site_arg_text(&site, 1), out), 7);
	assert_string_equal(out, "user_id");
	assert_string_equal(ttlog__site_arg_text(&site, 2), "\"str\"");
	assert_int_equal(field_name(ttlog__site_arg_text(&site, 3), out), 4);
	assert_string_equal(out, "user");
	assert_null(ttlog__site_arg_text(&site, 4));
	assert_int_equal(ttlog__site_field_mask(&site), 0xa);

	/* Sites of older headers have no texts, hence no fields. */
	struct ttlog_site old = {.nargs = 2, .arg_text = NULL};
	assert_int_equal(ttlog__site_field_mask(&old), 0);
	assert_null(ttlog__site_arg_text(&old, 0));

	/* No arguments: the list is just its terminator. */
	static const char none[] = TTLOG__EACH(TTLOG__ARG_TEXT, "fmt") "";
	struct ttlog_site bare = {.nargs = 0, .arg_text = none};
	assert_int_equal(ttlog__site_field_mask(&bare), 0);
	assert_null(ttlog__site_arg_text(&bare, 0));
}

/* ---- 3. End to end ------------------------------------------------------- */

/* Forwards to the log macro, as applications wrap it. */
#define FWD(...) TTLOG_INFO(__VA_ARGS__)
#define FWD_FMT(fmt, ...) FWD(fmt, ##__VA_ARGS__)

/* NULL, hidden from the compiler. */
static const char *volatile null_string;

/* The next event, from the reader's current position, whose site format is
 * `format`; the events of earlier tests come first in every snapshot. */
static void find_event(ttlog_reader *r, const char *format, struct ttlog_event *ev)
{
	while (ttlog_reader_next(r, ev) == 1)
		if (strcmp(ev->site->format, format) == 0)
			return;
	fail_msg("no (further) event with format \"%s\"", format);
}

/* Field i of ev is argument arg, named key, from source, of type type; the
 * site's field table says the same. */
static void want_field(const struct ttlog_event *ev, unsigned i, const char *key, unsigned arg,
			 int source, int type)
{
	if (i >= ev->nfields)
		fail_msg("\"%s\": field %u (%s) missing, %u fields", ev->site->format, i, key,
			 ev->nfields);
	const struct ttlog_field *f = &ev->fields[i];
	if (strcmp(f->key, key) != 0)
		fail_msg("\"%s\": field %u is \"%s\", expected \"%s\"", ev->site->format, i, f->key,
			 key);
	assert_int_equal(f->source, source);
	assert_ptr_equal(f->value, &ev->args[arg]);
	assert_int_equal(f->value->type, type);
	assert_int_equal(ev->site->nfields, ev->nfields);
	assert_string_equal(ev->site->fields[i].key, key);
	assert_int_equal(ev->site->fields[i].arg, arg);
	assert_int_equal(ev->site->fields[i].source, source);
}

static void want_message(const struct ttlog_event *ev, const char *text)
{
	char buf[256];
	size_t n = ttlog_event_format(ev, buf, sizeof buf);
	assert_string_equal(buf, text);
	assert_int_equal(n, strlen(text));
}

static void want_str(const struct ttlog_arg *a, const char *text, int truncated)
{
	assert_int_equal(a->type, TTLOG_ARG_STR);
	assert_false(a->str_null);
	assert_int_equal(a->str_truncated, truncated);
	assert_int_equal(a->str_len, strlen(text));
	assert_string_equal(a->str, text);
}

static void want_double(const struct ttlog_arg *a, double d)
{
	assert_memory_equal(&a->v.d, &d, sizeof d);
}

static void test_every_type_as_a_field(void **state)
{
	(void)state;
	bool b = true;
	char c = (char)-3;
	signed char sc = SCHAR_MIN;
	unsigned char uc = UCHAR_MAX;
	short s = SHRT_MIN;
	unsigned short us = USHRT_MAX;
	int i = INT_MIN;
	unsigned u = UINT_MAX;
	long l = LONG_MIN;
	unsigned long ul = ULONG_MAX;
	long long ll = -1;
	unsigned long long ull = 0x8000000000000001ull;
	float f = 0.1f;
	double d = -2.5e-300;
	long double ld = 1.0L / 3;
	int local = 0;
	TTLOG_INFO("typed fields", TTLOG_F("b", b), TTLOG_F("c", c), TTLOG_F("sc", sc),
		   TTLOG_F("uc", uc), TTLOG_F("s", s), TTLOG_F("us", us), TTLOG_F("i", i),
		   TTLOG_F("u", u), TTLOG_F("l", l), TTLOG_F("ul", ul), TTLOG_F("ll", ll),
		   TTLOG_F("ull", ull), TTLOG_F("f", f), TTLOG_F("d", d), TTLOG_F("ld", ld),
		   TTLOG_F("p", (void *)&local));
	TTLOG_INFO("string fields", TTLOG_F("s", "hello"), TTLOG_F("null", null_string),
		   TTLOG_F("long", "0123456789abcdef"), TTLOG_F("exact", "12345678"),
		   TTLOG_F("empty", ""));

	ttlog_reader *r = tu_snapshot_open("types");
	assert_non_null(r);
	struct ttlog_event ev;
	find_event(r, "typed fields", &ev);
	static const struct {
		const char *key;
		int type;
	} typed[16] = {{"b", TTLOG_ARG_BOOL}, {"c", CHAR_TYPE},   {"sc", TTLOG_ARG_I8},
		       {"uc", TTLOG_ARG_U8},  {"s", TTLOG_ARG_I16}, {"us", TTLOG_ARG_U16},
		       {"i", TTLOG_ARG_I32},  {"u", TTLOG_ARG_U32}, {"l", TTLOG_ARG_I64},
		       {"ul", TTLOG_ARG_U64}, {"ll", TTLOG_ARG_I64}, {"ull", TTLOG_ARG_U64},
		       {"f", TTLOG_ARG_F64},  {"d", TTLOG_ARG_F64}, {"ld", TTLOG__LDBL_TYPE},
		       {"p", TTLOG_ARG_PTR}};
	assert_int_equal(ev.nargs, 16);
	assert_int_equal(ev.nfields, 16);
	assert_int_equal(ev.site->explicit_args, 0xffff);
	for (unsigned k = 0; k < 16; k++) {
		want_field(&ev, k, typed[k].key, k, TTLOG_FIELD_EXPLICIT, typed[k].type);
		assert_int_equal(ev.site->arg_types[k], typed[k].type);
	}
	const struct ttlog_arg *a = ev.args;
	assert_true(a[0].v.i == 1);
	assert_true(a[1].v.i == (CHAR_MIN < 0 ? -3 : 253));
	assert_true(a[2].v.i == SCHAR_MIN);
	assert_true(a[3].v.u == UCHAR_MAX);
	assert_true(a[4].v.i == SHRT_MIN);
	assert_true(a[5].v.u == USHRT_MAX);
	assert_true(a[6].v.i == INT_MIN);
	assert_true(a[7].v.u == UINT_MAX);
	assert_true(a[8].v.i == LONG_MIN);
	assert_true(a[9].v.u == ULONG_MAX);
	assert_true(a[10].v.i == -1);
	assert_true(a[11].v.u == 0x8000000000000001ull);
	want_double(&a[12], (double)0.1f);
	want_double(&a[13], -2.5e-300);
	want_double(&a[14], (double)(1.0L / 3));
	assert_true(a[15].v.u == (uint64_t)(uintptr_t)&local);
	want_message(&ev, "typed fields");

	find_event(r, "string fields", &ev);
	assert_int_equal(ev.nfields, 5);
	assert_int_equal(ev.site->explicit_args, 0x1f);
	static const char *const string_keys[] = {"s", "null", "long", "exact", "empty"};
	for (unsigned k = 0; k < 5; k++)
		want_field(&ev, k, string_keys[k], k, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_STR);
	want_str(&ev.args[0], "hello", 0);
	assert_true(ev.args[1].str_null);
	assert_null(ev.args[1].str);
	assert_int_equal(ev.args[1].str_len, 0);
	want_str(&ev.args[2], "01234567", 1); /* cut at max_string */
	want_str(&ev.args[3], "12345678", 0); /* exactly max_string */
	want_str(&ev.args[4], "", 0);
	want_message(&ev, "string fields");

	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

static void test_format_and_explicit_fields(void **state)
{
	(void)state;
	unsigned uid = 42;
	const char *ip = "10.0.0.1";
	bool ok = true;
	TTLOG_INFO("login user=%u ip=%s ms=%.1f", uid, ip, 12.5, TTLOG_F("user", 7),
		   TTLOG_F("ok", ok));
	TTLOG_INFO("pair a=%d a=%d", 1, 2, TTLOG_F("a", 3));
	TTLOG_INFO("cpu=%d%% load=%u", 50, 3u);
	TTLOG_INFO("only %d", 1, 2, TTLOG_F("x", 3));
	TTLOG_INFO("clash %d", 1, 2, TTLOG_F("arg2", 3));
	TTLOG_INFO("late v=%d", TTLOG_F("first", 1), 10, 20);
	TTLOG_INFO("plain %d", 3);
	TTLOG_INFO("bare");

	ttlog_reader *r = tu_snapshot_open("mixed");
	assert_non_null(r);
	struct ttlog_event ev;

	/* Format fields first, then explicit ones; a taken key gets "_2". */
	find_event(r, "login user=%u ip=%s ms=%.1f", &ev);
	assert_int_equal(ev.nfields, 5);
	assert_int_equal(ev.site->explicit_args, 0x18);
	want_field(&ev, 0, "user", 0, TTLOG_FIELD_FORMAT, TTLOG_ARG_U32);
	want_field(&ev, 1, "ip", 1, TTLOG_FIELD_FORMAT, TTLOG_ARG_STR);
	want_field(&ev, 2, "ms", 2, TTLOG_FIELD_FORMAT, TTLOG_ARG_F64);
	want_field(&ev, 3, "user_2", 3, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	want_field(&ev, 4, "ok", 4, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_BOOL);
	assert_true(ev.args[0].v.u == 42);
	want_str(&ev.args[1], "10.0.0.1", 0);
	want_double(&ev.args[2], 12.5);
	assert_true(ev.args[3].v.i == 7);
	assert_true(ev.args[4].v.i == 1);
	want_message(&ev, "login user=42 ip=10.0.0.1 ms=12.5");

	find_event(r, "pair a=%d a=%d", &ev);
	assert_int_equal(ev.nfields, 3);
	assert_int_equal(ev.site->explicit_args, 0x4);
	want_field(&ev, 0, "a", 0, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
	want_field(&ev, 1, "a_2", 1, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
	want_field(&ev, 2, "a_3", 2, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	assert_true(ev.args[2].v.i == 3);
	want_message(&ev, "pair a=1 a=2");

	find_event(r, "cpu=%d%% load=%u", &ev);
	assert_int_equal(ev.nfields, 2);
	assert_int_equal(ev.site->explicit_args, 0);
	want_field(&ev, 0, "cpu", 0, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
	want_field(&ev, 1, "load", 1, TTLOG_FIELD_FORMAT, TTLOG_ARG_U32);
	want_message(&ev, "cpu=50% load=3");

	/* An argument the format does not print is field argN (1-based among
	 * all arguments), after the explicit ones. */
	find_event(r, "only %d", &ev);
	assert_int_equal(ev.nfields, 2);
	assert_int_equal(ev.site->explicit_args, 0x4);
	want_field(&ev, 0, "x", 2, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	want_field(&ev, 1, "arg2", 1, TTLOG_FIELD_UNUSED, TTLOG_ARG_I32);
	assert_true(ev.args[1].v.i == 2);
	assert_true(ev.args[2].v.i == 3);
	want_message(&ev, "only 1");

	find_event(r, "clash %d", &ev);
	assert_int_equal(ev.nfields, 2);
	want_field(&ev, 0, "arg2", 2, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	want_field(&ev, 1, "arg2_2", 1, TTLOG_FIELD_UNUSED, TTLOG_ARG_I32);
	want_message(&ev, "clash 1");

	/* A field before the format's arguments: format argument k is the
	 * k-th argument that is not a field. */
	find_event(r, "late v=%d", &ev);
	assert_int_equal(ev.nfields, 3);
	assert_int_equal(ev.site->explicit_args, 0x1);
	want_field(&ev, 0, "v", 1, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
	want_field(&ev, 1, "first", 0, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	want_field(&ev, 2, "arg3", 2, TTLOG_FIELD_UNUSED, TTLOG_ARG_I32);
	assert_true(ev.args[1].v.i == 10);
	want_message(&ev, "late v=10");

	find_event(r, "plain %d", &ev);
	assert_int_equal(ev.nfields, 0);
	assert_int_equal(ev.site->nfields, 0);
	assert_int_equal(ev.site->explicit_args, 0);
	want_message(&ev, "plain 3");

	find_event(r, "bare", &ev);
	assert_int_equal(ev.nargs, 0);
	assert_int_equal(ev.nfields, 0);
	want_message(&ev, "bare");

	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

static void test_fields_through_macros_and_calls(void **state)
{
	(void)state;
	FWD("fwd n=%d", 5, TTLOG_F("tag", "t1"));
	FWD_FMT("fwd2 %s", "x", USER_FIELD(9));
	for (int i = 0; i < 3; i++)
		TTLOG_INFO("loop i=%d", i, TTLOG_F("sq", i * i));

	ttlog_reader *r = tu_snapshot_open("forward");
	assert_non_null(r);
	struct ttlog_event ev;

	find_event(r, "fwd n=%d", &ev);
	assert_int_equal(ev.nfields, 2);
	assert_int_equal(ev.site->explicit_args, 0x2);
	want_field(&ev, 0, "n", 0, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
	want_field(&ev, 1, "tag", 1, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_STR);
	want_str(&ev.args[1], "t1", 0);
	want_message(&ev, "fwd n=5");

	find_event(r, "fwd2 %s", &ev);
	assert_int_equal(ev.nfields, 1);
	want_field(&ev, 0, "user", 1, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
	assert_true(ev.args[1].v.i == 9);
	want_message(&ev, "fwd2 x");

	/* One site, several events: each event's fields are its own values. */
	for (int i = 0; i < 3; i++) {
		find_event(r, "loop i=%d", &ev);
		assert_int_equal(ev.nfields, 2);
		want_field(&ev, 0, "i", 0, TTLOG_FIELD_FORMAT, TTLOG_ARG_I32);
		want_field(&ev, 1, "sq", 1, TTLOG_FIELD_EXPLICIT, TTLOG_ARG_I32);
		assert_true(ev.fields[0].value->v.i == i);
		assert_true(ev.fields[1].value->v.i == i * i);
		char want[32];
		snprintf(want, sizeof want, "loop i=%d", i);
		want_message(&ev, want);
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

#define NAME_100                                                                   \
	"0123456789012345678901234567890123456789012345678901234567890123456789" \
	"012345678901234567890123456789"

static void test_sixteen_fields(void **state)
{
	(void)state;
	const char *text = "sixteen";
	TTLOG_WARN("sixteen fields", TTLOG_F("f0", 0), TTLOG_F("f1", 10u), TTLOG_F("f2", -20L),
		   TTLOG_F("f3", 30ull), TTLOG_F("f4", (short)40), TTLOG_F("f5", 5.5),
		   TTLOG_F("f6", text), TTLOG_F("f7", (char)'7'), TTLOG_F("f8", 80),
		   TTLOG_F("f9", 90), TTLOG_F("f10", 100), TTLOG_F("f11", 110),
		   TTLOG_F("f12", 120), TTLOG_F(NAME_100, 130), TTLOG_F("f0", 140),
		   TTLOG_F("f" "15", 150));

	ttlog_reader *r = tu_snapshot_open("sixteen");
	assert_non_null(r);
	struct ttlog_event ev;
	find_event(r, "sixteen fields", &ev);
	assert_int_equal(ev.site->level, TTLOG_LEVEL_WARN);
	assert_int_equal(ev.nargs, 16);
	assert_int_equal(ev.nfields, 16);
	assert_int_equal(ev.site->explicit_args, 0xffff);
	static const int types[16] = {TTLOG_ARG_I32, TTLOG_ARG_U32, TTLOG_ARG_I64, TTLOG_ARG_U64,
				      TTLOG_ARG_I16, TTLOG_ARG_F64, TTLOG_ARG_STR, CHAR_TYPE,
				      TTLOG_ARG_I32, TTLOG_ARG_I32, TTLOG_ARG_I32, TTLOG_ARG_I32,
				      TTLOG_ARG_I32, TTLOG_ARG_I32, TTLOG_ARG_I32, TTLOG_ARG_I32};
	for (unsigned k = 0; k < 16; k++) {
		char key[TTLOG__FIELD_NAME_MAX + 1];
		if (k == 13) /* cut at 64 bytes */
			snprintf(key, sizeof key, "%.64s", NAME_100);
		else if (k == 14) /* "f0" again */
			snprintf(key, sizeof key, "f0_2");
		else
			snprintf(key, sizeof key, "f%u", k);
		want_field(&ev, k, key, k, TTLOG_FIELD_EXPLICIT, types[k]);
	}
	assert_int_equal(strlen(ev.fields[13].key), TTLOG__FIELD_NAME_MAX);
	assert_true(ev.args[0].v.i == 0);
	assert_true(ev.args[1].v.u == 10);
	assert_true(ev.args[2].v.i == -20);
	assert_true(ev.args[3].v.u == 30);
	assert_true(ev.args[4].v.i == 40);
	want_double(&ev.args[5], 5.5);
	want_str(&ev.args[6], "sixteen", 0);
	assert_true(ev.args[7].v.i == '7');
	for (unsigned k = 8; k < 16; k++)
		assert_true(ev.args[k].v.i == (int64_t)(10 * k));
	want_message(&ev, "sixteen fields");
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

/*
 * One argument named 16 times by the format, and one the format does not
 * print: 17 fields for 2 arguments. The reader once wrote the 17th past its
 * per-site array, which lost the next site's event.
 */
static void test_more_fields_than_arguments(void **state)
{
	(void)state;
	TTLOG_INFO("a=%1$d b=%1$d c=%1$d d=%1$d e=%1$d f=%1$d g=%1$d h=%1$d "
		   "i=%1$d j=%1$d k=%1$d l=%1$d m=%1$d n=%1$d o=%1$d p=%1$d",
		   1, 2);
	TTLOG_INFO("after the many keys");

	ttlog_reader *r = tu_snapshot_open("many-keys");
	assert_non_null(r);
	struct ttlog_event ev;
	find_event(r, "a=%1$d b=%1$d c=%1$d d=%1$d e=%1$d f=%1$d g=%1$d h=%1$d "
		      "i=%1$d j=%1$d k=%1$d l=%1$d m=%1$d n=%1$d o=%1$d p=%1$d",
		   &ev);
	assert_int_equal(ev.nfields, 17);
	assert_string_equal(ev.fields[0].key, "a");
	assert_string_equal(ev.fields[15].key, "p");
	assert_int_equal(ev.fields[15].value->v.i, 1);
	assert_string_equal(ev.fields[16].key, "arg2");
	assert_int_equal(ev.fields[16].source, TTLOG_FIELD_UNUSED);
	find_event(r, "after the many keys", &ev);
	assert_int_equal(ev.nfields, 0);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

/* ---- Setup --------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	setenv("TTLOG_CLOCK", "fake", 1);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.max_string = MAX_STRING;
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_keys),
		cmocka_unit_test(test_format_keys_max),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_long_field_names_are_cut),
		cmocka_unit_test(test_macro_text),
		cmocka_unit_test(test_every_type_as_a_field),
		cmocka_unit_test(test_format_and_explicit_fields),
		cmocka_unit_test(test_fields_through_macros_and_calls),
		cmocka_unit_test(test_sixteen_fields),
		cmocka_unit_test(test_more_fields_than_arguments),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
