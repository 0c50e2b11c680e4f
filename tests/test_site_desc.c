/* SPDX-License-Identifier: MIT */
/*
 * test_site_desc.c - the resolved description of a call site
 * (src/sites/desc.h), which the library fills once when a site registers
 * and the snapshot writer copies into SITE and SITX entries:
 *
 *   1. real log calls: TTLOG_F() fields (names that stand in the source
 *      text, joined literals, escapes, an empty name, a name cut at 64
 *      bytes), "key=%d" names in the format (not in the description: the
 *      reader finds them), the default target (the file's base name), 16
 *      arguments, context and span sites;
 *   2. ttlog__site_desc_fill() on sites made by hand: no argument texts, a
 *      target given or not, more arguments than a file names, where names
 *      point, and a full name area.
 *
 * That a snapshot from a shared-memory mapping has the same SITE and SITX
 * entries as one written in-process is checked in test_shm.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sites/desc.h"
#include "sites/sites.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define LONG_NAME "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij"

/* The description of the registered site whose format is `format`. */
static const struct ttlog__site_desc *find(const char *format)
{
	size_t n = strlen(format);
	for (uint32_t id = 1; id < ttlog__site_id_limit(); id++) {
		const struct ttlog__site_desc *d = ttlog__site_desc_lookup(id);
		if (d && d->format_len == n && memcmp(d->format, format, n) == 0)
			return d;
	}
	fail_msg("no registered site has the format \"%s\"", format);
	return NULL;
}

/* Field i of d is named `want`. */
static void expect_name(const struct ttlog__site_desc *d, unsigned i, const char *want)
{
	if (!(d->fields & (1u << i)))
		fail_msg("site \"%.*s\": argument %u is not a field", (int)d->format_len, d->format, i);
	size_t n;
	const char *name = ttlog__site_desc_name(d, i, &n);
	if (n != strlen(want) || memcmp(name, want, n) != 0)
		fail_msg("site \"%.*s\": field %u is \"%.*s\", expected \"%s\"", (int)d->format_len,
			 d->format, i, (int)n, name, want);
}

static void expect_text(const char *text, uint32_t len, const char *want)
{
	if (len != strlen(want) || memcmp(text, want, len) != 0)
		fail_msg("\"%.*s\", expected \"%s\"", (int)len, text, want);
}

/* ---- 1. Real call sites --------------------------------------------------- */

static int log_line; /* the line of the "login" call */

static void log_sites(void)
{
	log_line = __LINE__ + 1;
	TTLOG_INFO("login", TTLOG_F("user_id", 42u), TTLOG_F("ip", "10.0.0.2"));
	TTLOG_INFO("req n=%d ms=%u", 1, 2u);
	TTLOG_WARN("k=%d", 1, TTLOG_F("a" "b", 2), TTLOG_F("q\"x\\y", 3), TTLOG_F("", 4));
	TTLOG_ERROR("long", TTLOG_F(LONG_NAME, 5));
	TTLOG_DEBUG("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		    11, 12, 13, 14, 15, TTLOG_F("last", 16));
	TTLOG_TRACE("all", TTLOG_F("f0", 0), TTLOG_F("f1", 1), TTLOG_F("f2", 2), TTLOG_F("f3", 3),
		    TTLOG_F("f4", 4), TTLOG_F("f5", 5), TTLOG_F("f6", 6), TTLOG_F("f7", 7),
		    TTLOG_F("f8", 8), TTLOG_F("f9", 9), TTLOG_F("f10", 10), TTLOG_F("f11", 11),
		    TTLOG_F("f12", 12), TTLOG_F("f13", 13), TTLOG_F("f14", 14), TTLOG_F("f15", 15));
	TTLOG_CONTEXT("request_id", 7);
	TTLOG_SPAN("job", TTLOG_F("step", 3));
}

static void test_log_sites(void **state)
{
	(void)state;
	log_sites();

	const struct ttlog__site_desc *d = find("login");
	assert_ptr_equal(ttlog__site_desc_lookup(d->id), d);
	assert_int_equal(d->line, log_line);
	assert_int_equal(d->level, TTLOG_LEVEL_INFO);
	assert_int_equal(d->kind, TTLOG__KIND_LOG);
	assert_int_equal(d->nargs, 2);
	assert_int_equal(d->arg_types[0], TTLOG_ARG_U32);
	assert_int_equal(d->arg_types[1], TTLOG_ARG_STR);
	assert_int_equal(d->fields, 0x3);
	expect_name(d, 0, "user_id");
	expect_name(d, 1, "ip");
	expect_text(d->file, d->file_len, __FILE__);
	expect_text(d->function, d->function_len, "log_sites");
	/* No TTLOG_TARGET: the file's base name. */
	expect_text(d->target, d->target_len, "test_site_desc.c");

	/* "key=%d" names come from the format, in the reader: the
	 * description has no field bit for them. */
	d = find("req n=%d ms=%u");
	assert_int_equal(d->nargs, 2);
	assert_int_equal(d->fields, 0);
	assert_int_equal(d->arg_types[0], TTLOG_ARG_I32);
	assert_int_equal(d->arg_types[1], TTLOG_ARG_U32);

	/* Joined literals and escapes are undone as the compiler would; an
	 * empty name is "_". */
	d = find("k=%d");
	assert_int_equal(d->level, TTLOG_LEVEL_WARN);
	assert_int_equal(d->nargs, 4);
	assert_int_equal(d->fields, 0xe);
	expect_name(d, 1, "ab");
	expect_name(d, 2, "q\"x\\y");
	expect_name(d, 3, "_");

	d = find("long");
	expect_name(d, 0, "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcd");

	/* Sixteen arguments: the last one a field (bit 15). */
	d = find("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d");
	assert_int_equal(d->nargs, 16);
	assert_int_equal(d->fields, 1u << 15);
	expect_name(d, 15, "last");
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(d->arg_types[i], TTLOG_ARG_I32);

	d = find("all");
	assert_int_equal(d->nargs, 16);
	assert_int_equal(d->fields, 0xffff);
	for (unsigned i = 0; i < 16; i++) {
		char want[8];
		snprintf(want, sizeof want, "f%u", i);
		expect_name(d, i, want);
	}

	d = find("request_id");
	assert_int_equal(d->kind, TTLOG__KIND_CONTEXT_PUSH);
	assert_int_equal(d->nargs, 1);
	assert_int_equal(d->fields, 0);

	d = find("job");
	assert_int_equal(d->kind, TTLOG__KIND_SPAN_BEGIN);
	assert_int_equal(d->nargs, 5);
	assert_int_equal(d->fields, 1u << 4);
	expect_name(d, 4, "step");
}

/* The snapshot carries what the descriptions say: explicit names, and the
 * format's names found by the reader. */
static void test_snapshot_fields(void **state)
{
	(void)state;
	log_sites();
	ttlog_reader *r = tu_snapshot_open("site-desc");
	assert_non_null(r);
	struct ttlog_event e;
	int seen_k = 0, seen_req = 0;
	while (ttlog_reader_next(r, &e) == 1) {
		const struct ttlog_site_info *s = e.site;
		if (strcmp(s->format, "k=%d") == 0 && !seen_k++) {
			assert_int_equal(s->explicit_args, 0xe);
			assert_int_equal(s->nfields, 4);
			assert_string_equal(s->fields[0].key, "k");
			assert_int_equal(s->fields[0].source, TTLOG_FIELD_FORMAT);
			assert_string_equal(s->fields[1].key, "ab");
			assert_string_equal(s->fields[2].key, "q\"x\\y");
			assert_string_equal(s->fields[3].key, "_");
			assert_int_equal(s->fields[3].source, TTLOG_FIELD_EXPLICIT);
			assert_string_equal(s->target, "test_site_desc.c");
		} else if (strcmp(s->format, "req n=%d ms=%u") == 0 && !seen_req++) {
			assert_int_equal(s->explicit_args, 0);
			assert_int_equal(s->nfields, 2);
			assert_string_equal(s->fields[0].key, "n");
			assert_string_equal(s->fields[1].key, "ms");
			assert_int_equal(s->fields[1].source, TTLOG_FIELD_FORMAT);
		}
	}
	assert_true(seen_k && seen_req);
	ttlog_reader_close(r);
}

/* ---- 2. Sites made by hand ---------------------------------------------- */

static const uint8_t two_i32[] = {TTLOG_ARG_I32, TTLOG_ARG_I32};

/* The argument texts of fields named by the literals lits[0..n-1] (source
 * text, quotes included), as the log macro stores them, into buf. */
static const char *field_texts(char *buf, size_t cap, const char *const lits[], unsigned n)
{
	size_t at = 0;
	for (unsigned i = 0; i < n; i++) {
		int k = snprintf(buf + at, cap - at, "((void)\"ttlog:field\" %s, (v))", lits[i]);
		assert_true(k > 0 && (size_t)k + 2 < cap - at);
		at += (size_t)k + 1; /* keeps the NUL */
	}
	buf[at] = '\0';
	return buf;
}

static void test_fill_by_hand(void **state)
{
	(void)state;
	struct ttlog__site_desc d;

	/* A site of an older header: no argument texts, no fields; the
	 * target is the base name of its file. */
	struct ttlog_site old = {.level = TTLOG_LEVEL_INFO, .nargs = 2, .line = 7,
				 .arg_types = two_i32, .format = "%d %d", .file = "a/b/c.c",
				 .function = "f"};
	ttlog__site_desc_fill(&d, 9, &old);
	assert_int_equal(d.id, 9);
	assert_int_equal(d.line, 7);
	assert_int_equal(d.fields, 0);
	expect_text(d.target, d.target_len, "c.c");
	old.file = "plain.c";
	ttlog__site_desc_fill(&d, 9, &old);
	expect_text(d.target, d.target_len, "plain.c");
	assert_string_equal(ttlog__site_target(&old), "plain.c");
	old.target = "given";
	ttlog__site_desc_fill(&d, 9, &old);
	expect_text(d.target, d.target_len, "given");

	/* Names are copied out of the site's text, as are its strings: the
	 * site may be in a library unloaded later (dlclose). */
	char buf[512];
	static const char *const plain[] = {"\"plain\"", "\"" LONG_NAME "\""};
	struct ttlog_site s = {.nargs = 2, .arg_types = two_i32, .format = "", .file = "x.c",
			       .function = "f"};
	s.arg_text = field_texts(buf, sizeof buf, plain, 2);
	ttlog__site_desc_fill(&d, 10, &s);
	assert_int_equal(d.fields, 0x3);
	size_t n;
	for (unsigned i = 0; i < 2; i++) {
		const char *name = ttlog__site_desc_name(&d, i, &n);
		assert_true(name + n <= buf || name >= buf + sizeof buf);
	}
	expect_name(&d, 0, "plain");
	assert_int_equal(n, 64); /* cut */
	assert_ptr_not_equal(d.file, s.file);
	assert_ptr_not_equal(d.function, s.function);
	assert_ptr_not_equal((const void *)d.arg_types, (const void *)s.arg_types);
	expect_text(d.file, d.file_len, "x.c");
	expect_text(d.function, d.function_len, "f");

	static const char *const escaped[] = {"\"plain\"", "\"t\\tab\""};
	s.arg_text = field_texts(buf, sizeof buf, escaped, 2);
	ttlog__site_desc_fill(&d, 10, &s);
	assert_int_equal(d.fields, 0x3);
	for (unsigned i = 0; i < 2; i++) {
		const char *name = ttlog__site_desc_name(&d, i, &n);
		assert_true(name + n <= buf || name >= buf + sizeof buf);
	}
	expect_name(&d, 0, "plain");
	expect_name(&d, 1, "t\tab");

	/* More arguments than a file can name: no field at all. */
	static const uint8_t seventeen[17] = {0};
	struct ttlog_site many = s;
	many.nargs = 17;
	many.arg_types = seventeen;
	ttlog__site_desc_fill(&d, 11, &many);
	assert_int_equal(d.fields, 0);
	assert_int_equal(d.nargs, 17);
}

/*
 * Names and strings are copied into a text area of fixed size. Once it is
 * full, a site points at its own strings, keeps the names that stand in
 * its text and loses the others (their arguments are no fields any more).
 * This test fills the area, so it runs last.
 */
static void test_name_area_full(void **state)
{
	(void)state;
	/* Sixteen names of 64 bytes each that start with an escape: 1 KiB of
	 * the area per site. */
	char lit[80];
	lit[0] = '"';
	lit[1] = '\\';
	lit[2] = 't';
	memset(lit + 3, 'x', 63);
	lit[66] = '"';
	lit[67] = '\0';
	const char *lits[16];
	for (unsigned i = 0; i < 16; i++)
		lits[i] = lit;
	static char buf[16 * 128];
	static const uint8_t types[16] = {0};
	struct ttlog_site s = {.nargs = 16, .arg_types = types, .format = "", .file = "x.c",
			       .function = "f"};
	s.arg_text = field_texts(buf, sizeof buf, lits, 16);
	struct ttlog__site_desc d;
	unsigned fills = 0;
	do {
		ttlog__site_desc_fill(&d, 12, &s);
		fills++;
	} while (d.fields == 0xffff && fills < 40000);
	assert_int_equal(d.fields, 0); /* all 16 names lost */
	assert_true(fills >= 10000);   /* after some 16 MiB */
	assert_ptr_equal(d.file, s.file); /* its own strings */

	/* Full: a name in the text keeps working, the other is dropped. */
	static const char *const mixed[] = {"\"plain\"", "\"t\\tab\""};
	char buf2[256];
	struct ttlog_site m = {.nargs = 2, .arg_types = two_i32, .format = "", .file = "x.c",
			       .function = "f"};
	m.arg_text = field_texts(buf2, sizeof buf2, mixed, 2);
	ttlog__site_desc_fill(&d, 13, &m);
	assert_int_equal(d.fields, 0x1);
	expect_name(&d, 0, "plain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_sites),
		cmocka_unit_test(test_snapshot_fields),
		cmocka_unit_test(test_fill_by_hand),
		cmocka_unit_test(test_name_area_full),
	};
	if (tu_start(NULL) != 0)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	ttlog_shutdown();
	return rc;
}
