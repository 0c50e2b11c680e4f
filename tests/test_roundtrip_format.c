/* SPDX-License-Identifier: MIT */
/*
 * test_roundtrip_format.c - every case of format_cases.inc, end to end.
 *
 * Each case is logged with a real TTLOG_INFO() call, so the arguments are
 * recorded by the macros exactly as an application's would be, and its
 * expected text is made by snprintf with the same format and arguments.
 * Then a snapshot is written, read back with the reader API, and the text
 * ttlog_event_format() gives for event i must equal the expected text of
 * case i, byte for byte. The ring is large enough that nothing is
 * overwritten, and max_string is above the longest string of the table,
 * so no string is truncated.
 *
 * Each event carries its site's format as the reader compiled it at open
 * (format_plan); the same event without it, and with its site replaced by
 * a copy (so that the plan is not used), must give the same bytes and the
 * same length at every buffer size tried. Three more events follow the
 * table: a format with more directives than a plan holds (no plan), one
 * with TTLOG_F() fields among its arguments, and one with no conversion.
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
#include <unistd.h>
#include <wchar.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* Large enough for the longest expected text of the table. */
#define RT_BUF 16384

/* NULL, hidden from the compiler's format checks. */
static const char *volatile rt_null_str;
#define FMT_NULL_STR rt_null_str

/* What case i must print. */
struct rt_expect {
	const char *format;
	int line;     /* in format_cases.inc */
	char *text;   /* may contain NUL bytes (%c of 0) */
	size_t len;
};

static void rt_keep(struct rt_expect *e, const char *format, int line, const char *text, int n)
{
	e->format = format;
	e->line = line;
	if (n < 0) {
		/* snprintf failed (no multibyte form): ttlog prints "<?>". */
		text = "<?>";
		n = 3;
	}
	assert_true((size_t)n < RT_BUF);
	e->len = (size_t)n;
	e->text = malloc(e->len + 1);
	assert_non_null(e->text);
	memcpy(e->text, text, e->len + 1);
}

/*
 * format_cases.inc is included twice: once to define rt_case_LINE() for
 * each case, which logs it and keeps its expected text, and once to list
 * those functions in table order. (One function per case also keeps every
 * function small enough for the optimisers.)
 */
#define RT_JOIN_(a, b) a##b
#define RT_JOIN(a, b) RT_JOIN_(a, b)

#define FMT_CASE(fmt, ...)                                                 \
	static void RT_JOIN(rt_case_, __LINE__)(struct rt_expect *e)       \
	{                                                                  \
		char text[RT_BUF];                                         \
		TTLOG_INFO(fmt, ##__VA_ARGS__);                            \
		int n = snprintf(text, sizeof text, fmt, ##__VA_ARGS__);   \
		rt_keep(e, fmt, __LINE__, text, n);                        \
	}
#include "format_cases.inc"
#undef FMT_CASE

#define FMT_CASE(fmt, ...) RT_JOIN(rt_case_, __LINE__),
static void (*const rt_cases[])(struct rt_expect *e) = {
#include "format_cases.inc"
};
#undef FMT_CASE

#define RT_COUNT (sizeof rt_cases / sizeof rt_cases[0])

/* The events logged after the table, and whether each has a plan. */
static void rt_extra(struct rt_expect *e)
{
	char text[RT_BUF];
	int n;
#define RT_SIXTEEN "%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d 100%%"
	TTLOG_INFO(RT_SIXTEEN, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	n = snprintf(text, sizeof text, RT_SIXTEEN, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
		     14, 15);
	rt_keep(&e[0], RT_SIXTEEN, __LINE__, text, n);
#undef RT_SIXTEEN
	/* (The compiler's format check takes the fields for arguments: ints
	 * all, so that it finds nothing wrong.) */
	TTLOG_INFO("a=%d b=%d", TTLOG_F("first", 1), 5, TTLOG_F("mid", 2), 6, TTLOG_F("last", 3));
	rt_keep(&e[1], "a=%d b=%d", __LINE__, "a=5 b=6", 7);
	TTLOG_INFO("no conversions here");
	rt_keep(&e[2], "no conversions here", __LINE__, "no conversions here", 19);
}
#define RT_EXTRA 3
static const int rt_extra_planned[RT_EXTRA] = {0, 1, 1};

/*
 * ev, formatted with its plan, without it, and with its site replaced by a
 * copy, into buffers of several sizes: each must give want (len bytes)
 * and len. Returns the number of failures.
 */
static size_t rt_compare_paths(const struct ttlog_event *ev, const char *want, size_t len)
{
	static char got[RT_BUF + 1];
	struct ttlog_site_info own = *ev->site;
	struct ttlog_event plain = *ev, replaced = *ev;
	plain.format_plan = NULL;
	replaced.site = &own;
	const struct ttlog_event *const ways[] = {ev, &plain, &replaced};
	const char *const names[] = {"its plan", "no plan", "a replaced site"};
	const size_t sizes[] = {0, 1, 3, len / 2, len, len + 1, RT_BUF};
	for (size_t w = 0; w < 3; w++) {
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			size_t size = sizes[i] < RT_BUF ? sizes[i] : RT_BUF;
			memset(got, 'x', size + 1);
			size_t n = ttlog_event_format(ways[w], got, size);
			int bad = n != len || got[size] != 'x';
			if (size > 0) {
				size_t keep = len < size - 1 ? len : size - 1;
				bad |= memcmp(got, want, keep) != 0 || got[keep] != '\0';
			}
			if (bad) {
				print_error("format \"%s\" with %s, %zu-byte buffer: length %zu, "
					    "expected %zu\n",
					    ev->site->format, names[w], size, n, len);
				return 1;
			}
		}
	}
	return 0;
}


static void test_every_case_survives_a_snapshot(void **state)
{
	(void)state;
	static struct rt_expect expect[RT_COUNT + RT_EXTRA];
	static char got[RT_BUF];
	char path[4096];
	char *dir = tu_tmpdir("formats");
	assert_non_null(dir);

	struct ttlog_config config;
	ttlog_config_init(&config);
	config.dir = dir;
	config.crash_signals = -1;
	config.ring_size = 8u << 20;
	config.max_string = 1024; /* the longest string of the table is 300 bytes */
	config.min_level = TTLOG_LEVEL_TRACE;
	assert_int_equal(ttlog_init(&config), TTLOG_OK);

	for (size_t i = 0; i < RT_COUNT; i++)
		rt_cases[i](&expect[i]);
	rt_extra(&expect[RT_COUNT]);

	struct ttlog_stats stats;
	assert_int_equal(ttlog_get_stats(&stats), TTLOG_OK);
	assert_int_equal(stats.events_overwritten, 0);
	assert_int_equal(stats.dropped_no_ring, 0);
	assert_int_equal(stats.dropped_sites, 0);

	assert_int_equal(ttlog_snapshot_path("formats", path, sizeof path), TTLOG_OK);

	ttlog_reader *reader = NULL;
	int rc = ttlog_reader_open(path, &reader);
	if (rc != TTLOG_OK)
		print_error("%s: %s\n", ttlog_strerror(rc),
			    reader && ttlog_reader_error(reader) ? ttlog_reader_error(reader) : "");
	assert_int_equal(rc, TTLOG_OK);
	assert_non_null(reader);

	struct ttlog_event ev;
	size_t events = 0, failures = 0;
	memset(&ev, 0xa5, sizeof ev); /* what the reader must overwrite */
	while (ttlog_reader_next(reader, &ev)) {
		/* The word of the plan holds the pointer and nothing else (its
		 * high half on 32-bit), and the reserved words are zero. */
		assert_true(ev.reserved0 == (uint64_t)(uintptr_t)ev.format_plan);
		assert_true(ev.reserved[0] == 0 && ev.reserved[1] == 0);
		if (events >= RT_COUNT + RT_EXTRA) {
			events++;
			continue;
		}
		const struct rt_expect *e = &expect[events];
		size_t n = ttlog_event_format(&ev, got, sizeof got);
		const char *site_format = ev.site ? ev.site->format : "(no site)";
		if (strcmp(site_format, e->format) != 0) {
			print_error("event %zu: site format \"%s\", expected case format_cases.inc:%d \"%s\"\n",
				    events, site_format, e->line, e->format);
			failures++;
		} else if (n != e->len || memcmp(got, e->text, e->len) != 0) {
			print_error("format_cases.inc:%d: format \"%s\"\n", e->line, e->format);
			tu_show_bytes("expected", e->text, e->len);
			tu_show_bytes("got", got, n < sizeof got ? n : sizeof got - 1);
			failures++;
		} else {
			int planned = events < RT_COUNT || rt_extra_planned[events - RT_COUNT];
			if (!ev.format_plan != !planned) {
				print_error("format_cases.inc:%d: format \"%s\": %s\n", e->line,
					    e->format, planned ? "no plan" : "a plan, over the cap");
				failures++;
			}
			failures += rt_compare_paths(&ev, e->text, e->len);
		}
		events++;
	}
	int status = ttlog_reader_status(reader);
	if (status != TTLOG_OK)
		print_error("reader status %s: %s\n", ttlog_strerror(status),
			    ttlog_reader_error(reader) ? ttlog_reader_error(reader) : "");
	print_message("%zu cases, %zu events, %zu failed\n", (size_t)(RT_COUNT + RT_EXTRA), events,
		      failures);

	assert_int_equal(status, TTLOG_OK);
	assert_int_equal(events, RT_COUNT + RT_EXTRA);
	assert_int_equal(failures, 0);

	ttlog_reader_close(reader);
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	for (size_t i = 0; i < RT_COUNT + RT_EXTRA; i++)
		free(expect[i].text);
	unlink(path);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_case_survives_a_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
