/* SPDX-License-Identifier: MIT */
/*
 * test_scopes.c - the reader's rebuilding of a thread's contexts and spans
 * (src/reader/scope_track.c), fed record sequences directly, including ones a
 * correct writer never makes: ends of unknown spans, inner spans never
 * ended, fields of spans that are not open, RESTATE groups, nesting deeper
 * than the reader keeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reader/scope_track.h"
#include "format/format.h"
#include "ttlog_reader.h"

static const struct ttlog_site_info log_site = {.kind = TTLOG__FMT_KIND_LOG, .format = "log"};
static const struct ttlog_site_info begin_a = {.kind = TTLOG__FMT_KIND_SPAN_BEGIN, .format = "a",
						.nargs = 4};
static const struct ttlog_site_info begin_b = {.kind = TTLOG__FMT_KIND_SPAN_BEGIN, .format = "b",
						.nargs = 4};
static const struct ttlog_site_info end_site = {.kind = TTLOG__FMT_KIND_SPAN_END, .format = "",
						 .nargs = 1};
static const struct ttlog_site_info field_rows = {.kind = TTLOG__FMT_KIND_SPAN_FIELD,
						   .format = "rows", .nargs = 2};
static const struct ttlog_site_info push_user = {.kind = TTLOG__FMT_KIND_CONTEXT_PUSH,
						  .format = "user", .nargs = 1};
static const struct ttlog_site_info restate = {.kind = TTLOG__FMT_KIND_RESTATE, .nargs = 1};

struct result {
	int what;
	const struct ttlog_span *span;
	unsigned depth;
};

static struct result feed(struct reader_scopes *s, const struct ttlog_site_info *site, uint64_t a0,
			  uint64_t a1, int64_t ns)
{
	struct ttlog_arg args[4];
	memset(args, 0, sizeof args);
	for (int i = 0; i < 4; i++)
		args[i].type = TTLOG_ARG_U64;
	args[0].v.u = a0;
	args[1].v.u = a1;
	args[2].v.u = 0xaaaa; /* trace id, for begins */
	args[3].v.u = 0xbbbb;
	struct result r = {0, NULL, 0};
	r.what = reader_scopes_record(s, site, args, ns, &r.span, &r.depth);
	return r;
}

static void test_restate_keeps_fields_and_begin_time(void **state)
{
	(void)state;
	struct reader_scopes s = {0};
	struct result r = feed(&s, &begin_a, 1, 0, 100);
	assert_int_equal(r.what, READER_SCOPES_EVENT);
	assert_int_equal(r.span->id, 1);
	assert_int_equal(r.span->trace_hi, 0xaaaa);
	assert_int_equal(r.depth, 0);
	assert_int_equal(feed(&s, &field_rows, 1, 3, 150).what, READER_SCOPES_STATE);
	assert_int_equal(feed(&s, &field_rows, 77, 4, 160).what, READER_SCOPES_STATE); /* not open */

	/* A segment starts: RESTATE(2), a context and span 1's copy (with its
	 * original time). Neither copy is an event. */
	assert_int_equal(feed(&s, &restate, 2, 0, 200).what, READER_SCOPES_STATE);
	assert_int_equal(feed(&s, &push_user, 9, 0, 50).what, READER_SCOPES_STATE);
	assert_int_equal(feed(&s, &begin_a, 1, 0, 100).what, READER_SCOPES_STATE);
	r = feed(&s, &log_site, 0, 0, 250);
	assert_int_equal(r.what, READER_SCOPES_EVENT);
	assert_int_equal(r.span->id, 1);
	assert_int_equal(r.depth, 1);

	r = feed(&s, &end_site, 1, 0, 400);
	assert_int_equal(r.what, READER_SCOPES_EVENT);
	assert_int_equal(r.span->duration_ns, 300);
	assert_string_equal(r.span->name, "a");
	struct ttlog_field f[READER_MAX_SPAN_FIELDS + READER_MAX_CONTEXTS];
	unsigned n = reader_scopes_fields(&s, TTLOG__FMT_KIND_SPAN_END, f, 0);
	assert_int_equal(n, 2);
	assert_string_equal(f[0].key, "rows");
	assert_int_equal(f[0].value->v.u, 3);
	assert_int_equal(f[0].source, TTLOG_FIELD_SPAN);
	assert_string_equal(f[1].key, "user");
	assert_int_equal(f[1].source, TTLOG_FIELD_CONTEXT);
	reader_scopes_free(&s);
}

static void test_restate_drops_what_it_does_not_name(void **state)
{
	(void)state;
	struct reader_scopes s = {0};
	feed(&s, &begin_a, 1, 0, 100);
	feed(&s, &begin_b, 2, 1, 110);
	/* Only span 1 is re-stated: span 2 ended in the dropped records. */
	feed(&s, &restate, 1, 0, 200);
	feed(&s, &begin_a, 1, 0, 100);
	struct result r = feed(&s, &log_site, 0, 0, 210);
	assert_int_equal(r.span->id, 1);
	assert_int_equal(r.depth, 1);
	reader_scopes_free(&s);
}

static void test_unknown_and_unbalanced_ends(void **state)
{
	(void)state;
	struct reader_scopes s = {0};
	/* The end of a span that began before the file's history. */
	struct result r = feed(&s, &end_site, 99, 0, 100);
	assert_int_equal(r.what, READER_SCOPES_EVENT);
	assert_int_equal(r.span->id, 99);
	assert_string_equal(r.span->name, "");
	assert_int_equal(r.span->duration_ns, -1);
	assert_int_equal(r.span->trace_hi | r.span->trace_lo, 0);

	/* An outer end closes the inner span whose end is lost. */
	feed(&s, &begin_a, 1, 0, 100);
	feed(&s, &begin_b, 2, 1, 110);
	r = feed(&s, &end_site, 1, 0, 130);
	assert_int_equal(r.span->id, 1);
	assert_int_equal(r.depth, 0);
	r = feed(&s, &log_site, 0, 0, 140);
	assert_null(r.span);
	assert_int_equal(r.depth, 0);
	r = feed(&s, &end_site, 2, 0, 150); /* its end, late: unknown now */
	assert_int_equal(r.span->duration_ns, -1);
	reader_scopes_free(&s);
}

static void test_deeper_than_kept(void **state)
{
	(void)state;
	struct reader_scopes s = {0};
	for (uint64_t i = 1; i <= READER_MAX_SPANS + 6; i++) {
		struct result r = feed(&s, &begin_a, i, i - 1, (int64_t)i);
		assert_int_equal(r.what, READER_SCOPES_EVENT);
		if (i <= READER_MAX_SPANS)
			assert_int_equal(r.span->id, i);
		else
			assert_null(r.span);
	}
	struct result r = feed(&s, &log_site, 0, 0, 1000);
	assert_int_equal(r.depth, READER_MAX_SPANS + 6);
	assert_int_equal(r.span->id, READER_MAX_SPANS);
	for (uint64_t i = READER_MAX_SPANS + 6; i >= 1; i--) {
		r = feed(&s, &end_site, i, 0, 2000);
		if (i <= READER_MAX_SPANS) {
			assert_int_equal(r.span->id, i);
			assert_int_equal(r.span->duration_ns, 2000 - (int64_t)i);
		}
	}
	r = feed(&s, &log_site, 0, 0, 3000);
	assert_null(r.span);
	assert_int_equal(r.depth, 0);
	reader_scopes_free(&s);
}

/* A second pass starts from nothing. */
static void test_reset(void **state)
{
	(void)state;
	struct reader_scopes s = {0};
	feed(&s, &push_user, 9, 0, 10);
	feed(&s, &begin_a, 1, 0, 20);
	reader_scopes_reset(&s);
	struct result r = feed(&s, &log_site, 0, 0, 30);
	assert_null(r.span);
	struct ttlog_field f[READER_MAX_SPAN_FIELDS + READER_MAX_CONTEXTS];
	assert_int_equal(reader_scopes_fields(&s, TTLOG__FMT_KIND_LOG, f, 0), 0);
	reader_scopes_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restate_keeps_fields_and_begin_time),
		cmocka_unit_test(test_restate_drops_what_it_does_not_name),
		cmocka_unit_test(test_unknown_and_unbalanced_ends),
		cmocka_unit_test(test_deeper_than_kept),
		cmocka_unit_test(test_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
