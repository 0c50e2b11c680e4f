/* SPDX-License-Identifier: MIT */
/*
 * test_levels.c - filtering and configuration: the compile-time minimum
 * level, the runtime level, per-target levels, the snapshot window, events
 * before ttlog_init(), and clear errors for bad settings.
 */
#define TTLOG_COMPILE_MIN_LEVEL TTLOG_LEVEL_DEBUG
#define TTLOG_TARGET "levels"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

static int evaluations;

static int counted(int v)
{
	evaluations++;
	return v;
}

static int init_with(uint64_t window_ns)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = tu_snapshot_dir();
	cfg.crash_signals = -1;
	cfg.window_ns = window_ns;
	return ttlog_init(&cfg);
}

/* Takes a snapshot and counts the events whose format is `format`. */
static int count_events(const char *format)
{
	ttlog_reader *r = tu_snapshot_open("levels");
	assert_non_null(r);
	int n = tu_count_format(r, format);
	ttlog_reader_close(r);
	return n;
}

static void expect_config_error(const char *var, const char *value, int code)
{
	setenv(var, value, 1);
	int rc = init_with(0);
	unsetenv(var);
	assert_int_equal(rc, code);
	/* A bad value names the variable; a bad directory names the directory. */
	if ((code == TTLOG_E_CONFIG && !strstr(ttlog_init_error(), var)) ||
	    !strstr(ttlog_init_error(), value))
		fail_msg("error message does not name %s and '%s': %s", var, value, ttlog_init_error());
}

static void test_bad_settings_are_refused_with_a_reason(void **state)
{
	(void)state;
	TTLOG_INFO("before init %d", 1); /* dropped and counted */
	expect_config_error("TTLOG_RING_SIZE", "abc", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_MEMORY_CAP", "12Q", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_WINDOW", "5parsecs", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_LEVEL", "info,net=loud", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_SIGNALS", "SEGV,NOSUCH", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_SNAPSHOT_SIGNAL", "SIGNOPE", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_CLOCK", "sundial", TTLOG_E_CONFIG);
	expect_config_error("TTLOG_DIR", "/proc/ttlog-cannot-be-here", TTLOG_E_DIR);

	struct ttlog_stats st;
	assert_int_equal(ttlog_get_stats(&st), TTLOG_OK);
	assert_int_equal(st.dropped_uninitialized, 1);
	assert_int_equal(ttlog_snapshot("too-early"), TTLOG_E_NOT_INITIALIZED);
	assert_int_equal(ttlog_get_stats(NULL), TTLOG_E_INVALID);
}

/* Path of a snapshot temporary in the snapshot directory. */
static void temporary(char *path, size_t size, long pid, const char *suffix)
{
	snprintf(path, size, "%s/.ttlog-%ld-%ld-0%s", tu_snapshot_dir(), pid, pid, suffix);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void test_init_twice_and_stale_temporaries(void **state)
{
	(void)state;
	/* A process that no longer exists left two temporaries, one long ago;
	 * this process has one of its own. Only the old dead one goes. */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	char old[4096], fresh[4096], mine[4096];
	temporary(old, sizeof old, (long)dead, ".tmp");
	temporary(fresh, sizeof fresh, (long)dead, "1.tmp");
	temporary(mine, sizeof mine, (long)getpid(), ".tmp");
	struct timespec long_ago[2] = {{1000000000, 0}, {1000000000, 0}};
	assert_int_equal(utimensat(AT_FDCWD, old, long_ago, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, mine, long_ago, 0), 0);

	assert_int_equal(init_with(0), TTLOG_OK);
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(fresh, F_OK), 0);
	assert_int_equal(access(mine, F_OK), 0);
	unlink(fresh);
	unlink(mine);

	assert_int_equal(init_with(0), TTLOG_E_ALREADY_INITIALIZED);
	assert_string_equal(ttlog_init_error(), "ttlog_init: already initialized");
}

static void test_compile_time_minimum_removes_calls(void **state)
{
	(void)state;
	struct ttlog_stats before, after;
	ttlog_get_stats(&before);
	evaluations = 0;
	TTLOG_TRACE("removed %d", counted(1));
	assert_int_equal(evaluations, 0);
	ttlog_get_stats(&after);
	assert_int_equal(after.sites, before.sites); /* never registered */
	assert_int_equal(count_events("removed %d"), 0);
}

static void test_runtime_level(void **state)
{
	(void)state;
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_WARN), TTLOG_OK);
	assert_int_equal(ttlog_get_level(), TTLOG_LEVEL_WARN);
	evaluations = 0;
	for (int i = 0; i < 3; i++) {
		TTLOG_INFO("info %d", counted(i));
		TTLOG_WARN("warn %d", counted(i));
	}
	assert_int_equal(evaluations, 3); /* disabled calls evaluate nothing */
	assert_int_equal(count_events("info %d"), 0);
	assert_int_equal(count_events("warn %d"), 3);

	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_INFO), TTLOG_OK);
	TTLOG_INFO("info %d", 9);
	assert_int_equal(count_events("info %d"), 1);
	assert_int_equal(ttlog_set_level(42), TTLOG_E_INVALID);
}

static void test_target_level(void **state)
{
	(void)state;
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_ERROR), TTLOG_OK);
	TTLOG_DEBUG("target debug %d", 1);
	assert_int_equal(count_events("target debug %d"), 0);

	assert_int_equal(ttlog_set_target_level("levels", TTLOG_LEVEL_DEBUG), TTLOG_OK);
	TTLOG_DEBUG("target debug %d", 2);
	assert_int_equal(count_events("target debug %d"), 2 - 1);

	assert_int_equal(ttlog_set_target_level("levels", -1), TTLOG_OK); /* back to the global level */
	TTLOG_DEBUG("target debug %d", 3);
	assert_int_equal(count_events("target debug %d"), 1);

	assert_int_equal(ttlog_set_target_level("", TTLOG_LEVEL_DEBUG), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_target_level(NULL, TTLOG_LEVEL_DEBUG), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_TRACE), TTLOG_OK);
}

static void test_window_keeps_only_recent_events(void **state)
{
	(void)state;
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	assert_int_equal(ttlog_shutdown(), TTLOG_E_NOT_INITIALIZED);
	assert_int_equal(init_with(200 * 1000 * 1000ull), TTLOG_OK); /* 200 ms */
	TTLOG_INFO("old %d", 1);
	usleep(500 * 1000);
	TTLOG_INFO("new %d", 2);
	assert_int_equal(count_events("old %d"), 0);
	assert_int_equal(count_events("new %d"), 1);
}

static void test_names_and_errors(void **state)
{
	(void)state;
	assert_string_equal(ttlog_level_name(TTLOG_LEVEL_WARN), "WARN");
	assert_string_equal(ttlog_level_name(99), "?");
	assert_int_equal(ttlog_level_parse("Warning"), TTLOG_LEVEL_WARN);
	assert_int_equal(ttlog_level_parse("fatal"), TTLOG_LEVEL_FATAL);
	assert_int_equal(ttlog_level_parse("loud"), -1);
	for (int code = 0; code <= TTLOG_E_RANGE; code++)
		assert_string_not_equal(ttlog_strerror(code), "unknown ttlog error");
	assert_string_equal(ttlog_strerror(1000), "unknown ttlog error");
	assert_int_equal(ttlog_version_number(), TTLOG_VERSION_NUMBER);
	assert_string_equal(ttlog_version_string(), TTLOG_VERSION_STRING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_settings_are_refused_with_a_reason),
		cmocka_unit_test(test_init_twice_and_stale_temporaries),
		cmocka_unit_test(test_compile_time_minimum_removes_calls),
		cmocka_unit_test(test_runtime_level),
		cmocka_unit_test(test_target_level),
		cmocka_unit_test(test_window_keeps_only_recent_events),
		cmocka_unit_test(test_names_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, tu_stop);
}
