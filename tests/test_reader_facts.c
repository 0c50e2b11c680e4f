/* SPDX-License-Identifier: MIT */
/*
 * test_reader_facts.c - what the reader says beyond the file's bytes:
 * ttlog_site_target() (a site's target, its file's base name by default),
 * ttlog_event_display_site() (a span end is shown where its span began),
 * ttlog_event_kind_name(), and the public enums of site kinds and clocks
 * against what a real snapshot holds.
 *
 * Real snapshots for what the writer produces (this file defines no
 * TTLOG_TARGET: its sites' target is its base name); hand-made sites and
 * events for what only another writer or a damaged file gives (no target or
 * an empty one, a span end whose begin is not in the file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

static int setup(void **state)
{
	(void)state;
	setenv("TTLOG_CLOCK", "fake", 1); /* to check the clock enum */
	return tu_start(NULL);
}

/* The first event in r whose site format (or span name) is text. */
static int find(ttlog_reader *r, int kind, const char *text, struct ttlog_event *ev)
{
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, ev)) {
		if (ev->kind != kind)
			continue;
		const char *t = kind == TTLOG_EVENT_LOG ? ev->site->format : ev->span ? ev->span->name : "";
		if (strcmp(t, text) == 0)
			return 1;
	}
	return 0;
}

static void test_site_target_in_a_snapshot(void **state)
{
	(void)state;
	TTLOG_INFO("facts untargeted");
	ttlog_reader *r = tu_snapshot_open("facts-target");
	assert_non_null(r);
	struct ttlog_event ev;

	assert_true(find(r, TTLOG_EVENT_LOG, "facts untargeted", &ev));
	assert_string_equal(ttlog_site_target(ev.site), "test_reader_facts.c");
	assert_int_equal(ev.site->kind, TTLOG_SITE_KIND_LOG);
	assert_int_equal(ttlog_reader_info(r)->clock, TTLOG_FILE_CLOCK_FAKE);
	ttlog_reader_close(r);
}

static void test_site_target_default(void **state)
{
	(void)state;
	struct ttlog_site_info site = {0};

	assert_null(ttlog_site_target(NULL));
	site.file = "src/net/conn.c";
	assert_string_equal(ttlog_site_target(&site), "conn.c"); /* no target at all */
	site.target = "";
	assert_string_equal(ttlog_site_target(&site), "conn.c"); /* an empty one */
	site.file = "conn.c";
	assert_string_equal(ttlog_site_target(&site), "conn.c"); /* no directory */
	site.file = "src/net/";
	assert_string_equal(ttlog_site_target(&site), "");
	site.target = "db";
	assert_string_equal(ttlog_site_target(&site), "db");
	site.target = NULL;
	site.file = NULL;
	assert_null(ttlog_site_target(&site));
}

static void test_display_site_of_spans(void **state)
{
	(void)state;
	const int begin_line = __LINE__; TTLOG_SPAN_BEGIN("facts.span");
	TTLOG_INFO("facts inside");
	TTLOG_SPAN_END();
	ttlog_reader *r = tu_snapshot_open("facts-spans");
	assert_non_null(r);
	struct ttlog_event ev;

	/* The begin is shown at its own site, the call. */
	assert_true(find(r, TTLOG_EVENT_SPAN_BEGIN, "facts.span", &ev));
	assert_int_equal(ev.site->kind, TTLOG_SITE_KIND_SPAN_BEGIN);
	assert_ptr_equal(ttlog_event_display_site(&ev), ev.site);
	assert_int_equal(ev.site->line, begin_line);
	const struct ttlog_site_info *begin_site = ev.site;

	/* A log event inside it, at its own site. */
	assert_true(find(r, TTLOG_EVENT_LOG, "facts inside", &ev));
	assert_ptr_equal(ttlog_event_display_site(&ev), ev.site);

	/* The end's own site is ttlog's; it is shown at the begin's. */
	assert_true(find(r, TTLOG_EVENT_SPAN_END, "facts.span", &ev));
	assert_int_equal(ev.site->kind, TTLOG_SITE_KIND_SPAN_END);
	assert_ptr_not_equal(ev.site, begin_site);
	assert_ptr_equal(ttlog_event_display_site(&ev), begin_site);
	assert_int_equal(ttlog_event_display_site(&ev)->line, begin_line);
	assert_string_equal(ttlog_site_target(ttlog_event_display_site(&ev)), "test_reader_facts.c");
	ttlog_reader_close(r);
}

static void test_display_site_without_begin(void **state)
{
	(void)state;
	struct ttlog_site_info own = {.id = 1, .kind = TTLOG_SITE_KIND_SPAN_END};
	struct ttlog_span span = {.id = 42, .name = "", .duration_ns = -1};
	struct ttlog_event ev = {.site = &own, .kind = TTLOG_EVENT_SPAN_END, .span = &span};

	/* The begin is not in the file: the end's own site is all there is. */
	assert_ptr_equal(ttlog_event_display_site(&ev), &own);
	ev.span = NULL;
	assert_ptr_equal(ttlog_event_display_site(&ev), &own);
	ev.site = NULL;
	assert_null(ttlog_event_display_site(&ev));
	assert_null(ttlog_event_display_site(NULL));
}

static void test_event_kind_names(void **state)
{
	(void)state;
	assert_string_equal(ttlog_event_kind_name(TTLOG_EVENT_LOG), "log");
	assert_string_equal(ttlog_event_kind_name(TTLOG_EVENT_SPAN_BEGIN), "span_begin");
	assert_string_equal(ttlog_event_kind_name(TTLOG_EVENT_SPAN_END), "span_end");
	assert_string_equal(ttlog_event_kind_name(-1), "?");
	assert_string_equal(ttlog_event_kind_name(TTLOG_EVENT_SPAN_END + 1), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_target_in_a_snapshot),
		cmocka_unit_test(test_site_target_default),
		cmocka_unit_test(test_display_site_of_spans),
		cmocka_unit_test(test_display_site_without_begin),
		cmocka_unit_test(test_event_kind_names),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
