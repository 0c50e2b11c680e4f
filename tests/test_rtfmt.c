/* SPDX-License-Identifier: MIT */
/*
 * test_rtfmt.c - runtime formats: ttlog_log() and ttlog_vlog() through a
 * printf-style wrapper with formats in buffers the caller reuses, the
 * conversions the walk must get right beyond those of printf_random.sh
 * ("n$" positions, '*', %%, every length modifier), refused formats,
 * levels, formats of more than 16 arguments, the syslog drop-in header
 * <ttlog_compat.h>, and the table's bound (the
 * last test: it fills the table).
 *
 * Each test takes a snapshot and compares the events' texts, as the
 * reader formats them, with what snprintf makes of the same call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/testutil.h"
#include <syslog.h>

#include "ttlog.h"
#define TTLOG_COMPAT_SYSLOG 1
#include "ttlog_compat.h"
#include "ttlog_reader.h"

#define MAX_TEXTS 64

/* What a snapshot holds: the texts of the events whose text starts with
 * prefix, in order, and the file of each one's site. */
struct texts {
	int n;
	char text[MAX_TEXTS][512];
	char file[MAX_TEXTS][32];
	int level[MAX_TEXTS];
};

static void collect(const char *prefix, struct texts *t)
{
	ttlog_reader *r = tu_snapshot_open("rtfmt");
	assert_non_null(r);
	struct ttlog_event ev;
	t->n = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (ev.kind != TTLOG_EVENT_LOG)
			continue;
		char buf[512];
		ttlog_event_format(&ev, buf, sizeof buf);
		if (strncmp(buf, prefix, strlen(prefix)) != 0)
			continue;
		assert_true(t->n < MAX_TEXTS);
		snprintf(t->text[t->n], sizeof t->text[0], "%s", buf);
		snprintf(t->file[t->n], sizeof t->file[0], "%s", ev.site->file);
		t->level[t->n] = ev.site->level;
		t->n++;
	}
	ttlog_reader_close(r);
}

/* A logging wrapper as applications have them. */
static __attribute__((format(printf, 2, 3))) void app_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	assert_int_equal(ttlog_vlog(level, fmt, ap), TTLOG_OK);
	va_end(ap);
}

/* Formats built at run time in one buffer, changed after each call: each
 * event keeps its own format, and the same text later finds its site. */
static void test_wrapper_with_reused_buffer(void **state)
{
	(void)state;
	char fmt[64];
	char want[3][128];
	for (int i = 0; i < 3; i++) {
		snprintf(fmt, sizeof fmt, "wrap.%d a=%%d s=%%s d=%%.3f", i);
		app_log(TTLOG_LEVEL_INFO, fmt, i * 7, "str", 1.5 * i);
		snprintf(want[i], sizeof want[i], fmt, i * 7, "str", 1.5 * i);
		memset(fmt, 'x', sizeof fmt - 1); /* the library must have copied it */
	}
	snprintf(fmt, sizeof fmt, "wrap.%d a=%%d s=%%s d=%%.3f", 0);
	app_log(TTLOG_LEVEL_INFO, fmt, 99, "again", 2.0);
	struct ttlog_runtime_stats st;
	assert_int_equal(ttlog_get_runtime_stats(&st), TTLOG_OK);
	assert_int_equal(st.formats_max, TTLOG_RUNTIME_FORMATS_MAX);
	assert_true(st.formats >= 3);

	struct texts t;
	collect("wrap.", &t);
	assert_int_equal(t.n, 4);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(t.text[i], want[i]);
		assert_string_equal(t.file[i], "<runtime>");
	}
	assert_string_equal(t.text[3], "wrap.0 a=99 s=again d=2.000");
}

/* Conversions of every argument kind in one call, with "n$" positions,
 * '*' widths, %% and a long double. */
static void test_conversions(void **state)
{
	(void)state;
	static const char *const fmts[] = {
		"conv.a %d %i %u %x %X %o %c %s %p %%",
		"conv.b %hhd %hd %ld %lld %jd %zd %td %hhu %lu %zx",
		"conv.c %f %e %g %a %Lf %Lg %.3Lf",
		"conv.d %*d|%-*.*f|%.*s|",
		"conv.e %2$s %1$d %3$*4$d",
		"conv.f %s %s",
	};
	char want[6][256];
	ttlog_log(TTLOG_LEVEL_INFO, fmts[0], -5, 6, 7u, 255u, 255u, 8u, 'Z', "text", (void *)0x1234);
	snprintf(want[0], 256, fmts[0], -5, 6, 7u, 255u, 255u, 8u, 'Z', "text", (void *)0x1234);
	ttlog_log(TTLOG_LEVEL_INFO, fmts[1], (signed char)-3, (short)-300, -4000000000L,
		  -5000000000LL, (intmax_t)-6, (ssize_t)-7, (ptrdiff_t)-8, (unsigned char)250,
		  4000000000UL, (size_t)0xabc);
	snprintf(want[1], 256, fmts[1], (signed char)-3, (short)-300, -4000000000L, -5000000000LL,
		 (intmax_t)-6, (ssize_t)-7, (ptrdiff_t)-8, (unsigned char)250, 4000000000UL,
		 (size_t)0xabc);
	ttlog_log(TTLOG_LEVEL_INFO, fmts[2], 1.25, -3e100, 0.1, 2.0, 1.0L / 3, 1e4000L, 2.5L);
	snprintf(want[2], 256, fmts[2], 1.25, -3e100, 0.1, 2.0, 1.0L / 3, 1e4000L, 2.5L);
	ttlog_log(TTLOG_LEVEL_INFO, fmts[3], 6, 42, 9, 2, 3.14159, 3, "abcdef");
	snprintf(want[3], 256, fmts[3], 6, 42, 9, 2, 3.14159, 3, "abcdef");
	ttlog_log(TTLOG_LEVEL_INFO, fmts[4], 17, "pos", 5, 4);
	snprintf(want[4], 256, fmts[4], 17, "pos", 5, 4);
	ttlog_log(TTLOG_LEVEL_INFO, fmts[5], (const char *)NULL, "");
	snprintf(want[5], 256, fmts[5], "(null)", "");

	struct texts t;
	collect("conv.", &t);
	assert_int_equal(t.n, 6);
	for (int i = 0; i < 6; i++) {
		if (strcmp(t.text[i], want[i]) != 0)
			fail_msg("format '%s':\n  snprintf: '%s'\n  ttlog:    '%s'", fmts[i], want[i],
				 t.text[i]);
		assert_string_equal(t.file[i], "<runtime>");
	}
}

static int vlog_null_format(int x, ...)
{
	va_list ap;
	va_start(ap, x);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-extra-args"
	int rc = ttlog_vlog(TTLOG_LEVEL_INFO, NULL, ap); /* gcc: "too many arguments" */
#pragma GCC diagnostic pop
	va_end(ap);
	return rc;
}

/* %n, wide strings and bad positions are refused: the event is the
 * format's text and the reason, no argument is read, and it is counted. */
static void test_refused(void **state)
{
	(void)state;
	struct ttlog_runtime_stats before, after;
	ttlog_get_runtime_stats(&before);
	int n;
	char fmt[32];
	strcpy(fmt, "refused.n %d%n");
	assert_int_equal(ttlog_log(TTLOG_LEVEL_WARN, fmt, 1, &n), TTLOG_E_INVALID);
	strcpy(fmt, "refused.ls %ls");
	assert_int_equal(ttlog_log(TTLOG_LEVEL_WARN, fmt, L"wide"), TTLOG_E_INVALID);
	strcpy(fmt, "refused.mix %1$d %d");
	assert_int_equal(ttlog_log(TTLOG_LEVEL_WARN, fmt, 1, 2), TTLOG_E_INVALID);
	strcpy(fmt, "refused.gap %2$d");
	assert_int_equal(ttlog_log(TTLOG_LEVEL_WARN, fmt, 1, 2), TTLOG_E_INVALID);
	assert_int_equal(ttlog_log(TTLOG_LEVEL_FATAL + 1, "x"), TTLOG_E_INVALID);
	assert_int_equal(vlog_null_format(0), TTLOG_E_INVALID);
	ttlog_get_runtime_stats(&after);
	assert_int_equal(after.refused - before.refused, 4);

	struct texts t;
	collect("ttlog_log: format refused", &t);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.text[0], "ttlog_log: format refused (%n is refused): refused.n %d%n");
	assert_non_null(strstr(t.text[1], "wide strings"));
	assert_non_null(strstr(t.text[1], "refused.ls %ls"));
	assert_non_null(strstr(t.text[2], "refused.mix %1$d %d"));
	assert_non_null(strstr(t.text[3], "refused.gap %2$d"));
	assert_int_equal(t.level[0], TTLOG_LEVEL_WARN);
}

/* Levels apply to runtime sites: one site per (level, format). */
static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_WARN), TTLOG_OK);
	ttlog_log(TTLOG_LEVEL_INFO, "lvl.same %d", 1);
	ttlog_log(TTLOG_LEVEL_ERROR, "lvl.same %d", 2);
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_TRACE), TTLOG_OK);
	ttlog_log(TTLOG_LEVEL_INFO, "lvl.same %d", 3);
	assert_int_equal(ttlog_set_target_level("runtime", TTLOG_LEVEL_ERROR), TTLOG_OK);
	ttlog_log(TTLOG_LEVEL_WARN, "lvl.same %d", 4);
	assert_int_equal(ttlog_set_target_level("runtime", -1), TTLOG_OK);
	struct texts t;
	collect("lvl.", &t);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.text[0], "lvl.same 2");
	assert_int_equal(t.level[0], TTLOG_LEVEL_ERROR);
	assert_string_equal(t.text[1], "lvl.same 3");
	assert_int_equal(t.level[1], TTLOG_LEVEL_INFO);
}

/* More than 16 arguments: formatted in the call, recorded as its text. */
static void test_many_arguments(void **state)
{
	(void)state;
	struct ttlog_runtime_stats before, after;
	ttlog_get_runtime_stats(&before);
	char fmt[128] = "many";
	for (int i = 0; i < 17; i++)
		strcat(fmt, " %d");
	ttlog_log(TTLOG_LEVEL_INFO, fmt, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
	ttlog_get_runtime_stats(&after);
	assert_int_equal(after.overflowed - before.overflowed, 1);
	struct texts t;
	collect("many", &t);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.text[0], "many 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17");
}

/* The drop-in header: syslog() calls become runtime log calls, with the
 * priority's severity as the level. */
static void vsyslog_wrapper(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

static void test_compat(void **state)
{
	(void)state;
	syslog(LOG_ERR | LOG_DAEMON, "compat.err %s=%d", "code", 7);
	syslog(LOG_CRIT, "compat.crit");
	syslog(LOG_DEBUG, "compat.debug %u", 3u);
	syslog(LOG_NOTICE, "compat.notice");
	vsyslog_wrapper(LOG_WARNING, "compat.warn %.2f", 0.5);
	ttlog_printf("compat.printf %x", 255u);
	struct texts t;
	collect("compat.", &t);
	assert_int_equal(t.n, 6);
	static const char *const want[] = {"compat.err code=7", "compat.crit", "compat.debug 3",
					   "compat.notice", "compat.warn 0.50", "compat.printf ff"};
	static const int level[] = {TTLOG_LEVEL_ERROR, TTLOG_LEVEL_FATAL, TTLOG_LEVEL_DEBUG,
				    TTLOG_LEVEL_INFO, TTLOG_LEVEL_WARN, TTLOG_LEVEL_INFO};
	for (int i = 0; i < 6; i++) {
		assert_string_equal(t.text[i], want[i]);
		assert_int_equal(t.level[i], level[i]);
		assert_string_equal(t.file[i], "<runtime>");
	}
}

/* The bound: once TTLOG_RUNTIME_FORMATS_MAX sites are made, new formats
 * are recorded as text (counted), and formats made before still have
 * their sites. */
static void test_table_bound(void **state)
{
	(void)state;
	struct ttlog_runtime_stats st;
	ttlog_get_runtime_stats(&st);
	char fmt[64];
	uint32_t fill = TTLOG_RUNTIME_FORMATS_MAX - st.formats;
	for (uint32_t i = 0; i < fill; i++) {
		snprintf(fmt, sizeof fmt, "fill.%u %%d", i);
		ttlog_log(TTLOG_LEVEL_TRACE, fmt, (int)i);
	}
	ttlog_get_runtime_stats(&st);
	assert_int_equal(st.formats, TTLOG_RUNTIME_FORMATS_MAX);
	uint64_t overflowed = st.overflowed;
	for (int i = 0; i < 3; i++) {
		snprintf(fmt, sizeof fmt, "bound.new%d x=%%d s=%%s", i);
		ttlog_log(TTLOG_LEVEL_ERROR, fmt, i, "v");
	}
	ttlog_log(TTLOG_LEVEL_ERROR, "bound.old %d", 5); /* made below: still its own site */
	ttlog_get_runtime_stats(&st);
	assert_int_equal(st.formats, TTLOG_RUNTIME_FORMATS_MAX);
	assert_int_equal(st.overflowed - overflowed, 3);
	struct texts t;
	collect("bound.", &t);
	assert_int_equal(t.n, 5);
	assert_string_equal(t.text[0], "bound.old 1");
	assert_string_equal(t.text[1], "bound.new0 x=0 s=v");
	assert_string_equal(t.text[3], "bound.new2 x=2 s=v");
	assert_int_equal(t.level[1], TTLOG_LEVEL_ERROR);
	assert_string_not_equal(t.file[1], "<runtime>");
	assert_string_equal(t.text[4], "bound.old 5");
	assert_string_equal(t.file[4], "<runtime>");
}


static int setup(void **state)
{
	(void)state;
	if (tu_start(NULL) != 0)
		return -1;
	ttlog_log(TTLOG_LEVEL_ERROR, "bound.old %d", 1); /* a site made before the table fills */
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrapper_with_reused_buffer),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_many_arguments),
		cmocka_unit_test(test_compat),
		cmocka_unit_test(test_table_bound), /* last: it fills the table */
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
