/* SPDX-License-Identifier: MIT */
/*
 * test_default_dir.c - ttlog_default_dir(): the directory tools look in for
 * snapshots follows the library's own rule (TTLOG_DIR, else
 * $XDG_RUNTIME_DIR/ttlog, else /tmp/ttlog-UID), made absolute, without a
 * trailing '/', and refuses buffers that are too small.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ttlog.h"

static void test_ttlog_dir_wins(void **state)
{
	char dir[PATH_MAX];
	(void)state;
	setenv("XDG_RUNTIME_DIR", "/run/user/1", 1);
	setenv("TTLOG_DIR", "/var/snapshots//", 1);
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_OK);
	assert_string_equal(dir, "/var/snapshots");
}

static void test_relative_ttlog_dir(void **state)
{
	char dir[PATH_MAX], cwd[PATH_MAX], want[2 * PATH_MAX];
	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	setenv("TTLOG_DIR", "snaps/", 1);
	snprintf(want, sizeof want, "%s/snaps", cwd);
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_OK);
	assert_string_equal(dir, want);
}

static void test_xdg_then_tmp(void **state)
{
	char dir[PATH_MAX], want[64];
	(void)state;
	setenv("TTLOG_DIR", "", 1); /* empty: as if unset */
	setenv("XDG_RUNTIME_DIR", "/run/user/1", 1);
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_OK);
	assert_string_equal(dir, "/run/user/1/ttlog");

	/* Only an absolute XDG_RUNTIME_DIR counts. */
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	snprintf(want, sizeof want, "/tmp/ttlog-%u", (unsigned)geteuid());
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_OK);
	assert_string_equal(dir, want);
	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_OK);
	assert_string_equal(dir, want);
}

static void test_small_buffers(void **state)
{
	char dir[8];
	(void)state;
	setenv("TTLOG_DIR", "/var/snapshots", 1);
	memset(dir, 'x', sizeof dir);
	assert_int_equal(ttlog_default_dir(dir, sizeof dir), TTLOG_E_RANGE);
	assert_string_equal(dir, "");
	assert_int_equal(ttlog_default_dir(dir, 0), TTLOG_E_INVALID);
	assert_int_equal(ttlog_default_dir(NULL, 16), TTLOG_E_INVALID);
	/* Exactly enough room: the path and its NUL. */
	char exact[sizeof "/var/snapshots"];
	assert_int_equal(ttlog_default_dir(exact, sizeof exact), TTLOG_OK);
	assert_string_equal(exact, "/var/snapshots");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttlog_dir_wins),
		cmocka_unit_test(test_relative_ttlog_dir),
		cmocka_unit_test(test_xdg_then_tmp),
		cmocka_unit_test(test_small_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
