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


static void test_every_case_survives_a_snapshot(void **state)
{
	(void)state;
	static struct rt_expect expect[RT_COUNT];
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
	while (ttlog_reader_next(reader, &ev)) {
		if (events >= RT_COUNT) {
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
		}
		events++;
	}
	int status = ttlog_reader_status(reader);
	if (status != TTLOG_OK)
		print_error("reader status %s: %s\n", ttlog_strerror(status),
			    ttlog_reader_error(reader) ? ttlog_reader_error(reader) : "");
	print_message("%zu cases, %zu events, %zu failed\n", (size_t)RT_COUNT, events, failures);

	assert_int_equal(status, TTLOG_OK);
	assert_int_equal(events, RT_COUNT);
	assert_int_equal(failures, 0);

	ttlog_reader_close(reader);
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	for (size_t i = 0; i < RT_COUNT; i++)
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
