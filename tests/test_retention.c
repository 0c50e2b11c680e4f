/* SPDX-License-Identifier: MIT */
/*
 * test_retention.c - snapshot retention (src/snapshot/retention.c): a
 * directory is pruned to max_snapshots files and max_snapshot_bytes bytes,
 * oldest first, crash snapshots last, never the file just written, and
 * nothing but the writer's own regular files is counted or touched; the
 * limits' environment variables are checked by ttlog_init().
 *
 * Most cases make fake snapshot files (a file header and the start of a
 * HEAD chunk, which is all pruning reads) with chosen names, sizes and
 * crash flags, and call the pruning function directly; the last ones go
 * through ttlog_init() and ttlog_snapshot().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "snapshot/retention.h"
#include "support/testutil.h"

#define NO_FILES TTLOG__NO_MAX_SNAPSHOTS
#define NO_BYTES TTLOG__NO_MAX_SNAPSHOT_BYTES

/* The name of fake snapshot `i`: second i of 2020-01-01, so that a larger
 * i is newer. */
static void fake_name(char *out, size_t cap, int i, const char *reason)
{
	snprintf(out, cap, "ttlog-%d-20200101T%02d%02d%02d.000000000Z-%s.ttlog", 1000 + i, i / 3600,
		 i / 60 % 60, i % 60, reason);
}

/* Writes a fake snapshot of `size` bytes (at least 48) into dir. */
static void make_fake(const char *dir, const char *name, size_t size, int crash)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unsigned char *buf = calloc(1, size);
	assert_non_null(buf);
	assert_true(size >= 48);
	memcpy(buf, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN);
	unsigned char *head = buf + TTLOG__FMT_FILE_HEADER_SIZE;
	ttlog__put_u32(head + TTLOG__FMT_CH_TYPE_OFF, TTLOG__FMT_CHUNK_HEAD);
	ttlog__put_u32(head + TTLOG__FMT_CH_LENGTH_OFF, TTLOG__FMT_HEAD_FIXED_SIZE);
	ttlog__put_u32(head + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_HEAD_FLAGS_OFF,
		       crash ? TTLOG__FMT_HEAD_FLAG_CRASH : 0);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* Entries in dir other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	return ttlog__retention_init() == TTLOG_OK ? 0 : -1;
}

static void test_names(void **state)
{
	(void)state;
	const char *stamp = NULL;
	assert_true(ttlog__retention_is_snapshot_name(
		"ttlog-42-20260102T030405.123456789Z-SIGSEGV.ttlog", &stamp));
	assert_memory_equal(stamp, "20260102T030405.123456789Z", TTLOG__STAMP_LEN);
	assert_true(ttlog__retention_is_snapshot_name(
		"ttlog-1-20260102T030405.123456789Z-manual-3.ttlog", NULL));
	assert_true(ttlog__retention_is_snapshot_name(
		"ttlog-1-20260102T030405.123456789Z-a.b_c-d.ttlog", NULL));
	const char *not_ours[] = {
		".ttlog-42-42-0.tmp",
		"ttlog-42-20260102T030405.123456789Z-.ttlog",          /* no reason */
		"ttlog--20260102T030405.123456789Z-manual.ttlog",       /* no pid */
		"ttlog-x-20260102T030405.123456789Z-manual.ttlog",
		"ttlog-42-20260102T030405.123456789-manual.ttlog",      /* no Z */
		"ttlog-42-2026010T030405.123456789Z-manual.ttlog",      /* short date */
		"ttlog-42-20260102T030405.123456789Z-manual.ttlog.bak",
		"ttlog-42-20260102T030405.123456789Z-man ual.ttlog",    /* space */
		"ttlog-42-20260102T030405.123456789Z-manual.TTLOG",
		"ttlog-12345678901-20260102T030405.123456789Z-m.ttlog", /* 11-digit pid */
		"notes.txt",
		"ttlog-",
		"",
	};
	for (size_t i = 0; i < sizeof not_ours / sizeof not_ours[0]; i++) {
		if (ttlog__retention_is_snapshot_name(not_ours[i], NULL))
			fail_msg("'%s' taken for a snapshot name", not_ours[i]);
	}
	char longname[256];
	snprintf(longname, sizeof longname, "ttlog-1-20260102T030405.123456789Z-%0150d.ttlog", 0);
	assert_false(ttlog__retention_is_snapshot_name(longname, NULL));
}

static void test_count_oldest_first(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-count");
	char name[10][128];
	for (int i = 0; i < 10; i++) {
		fake_name(name[i], sizeof name[i], i, "manual");
		make_fake(dir, name[i], 100, 0);
	}
	/* Within the limits: nothing happens. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[9], 10, NO_BYTES), 0);
	assert_int_equal(entries(dir), 10);

	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[9], 4, NO_BYTES), 6);
	for (int i = 0; i < 10; i++)
		assert_int_equal(exists(dir, name[i]), i >= 6);
	free(dir);
}

static void test_bytes_oldest_first(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-bytes");
	char name[6][128];
	size_t sizes[6] = {1000, 3000, 2000, 500, 4000, 1500}; /* 12000 in all */
	for (int i = 0; i < 6; i++) {
		fake_name(name[i], sizeof name[i], i, "manual");
		make_fake(dir, name[i], sizes[i], 0);
	}
	/* 12000 bytes, at most 7000: removing the oldest two leaves 8000,
	 * the oldest three 6000; so three go, although the third is not the
	 * largest. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[5], NO_FILES, 7000), 3);
	for (int i = 0; i < 6; i++)
		assert_int_equal(exists(dir, name[i]), i >= 3);
	/* Exactly at the limit is within it. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[5], NO_FILES, 6000), 0);
	free(dir);
}

static void test_just_written_is_kept(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-keep");
	char name[5][128];
	for (int i = 0; i < 5; i++) {
		fake_name(name[i], sizeof name[i], i, "manual");
		make_fake(dir, name[i], i == 0 ? 5000 : 100, i == 3);
	}
	/* The file to keep is the oldest and alone exceeds the byte limit:
	 * everything else goes, crash snapshot included, and it stays. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[0], 1, 1000), 4);
	assert_true(exists(dir, name[0]));
	assert_int_equal(entries(dir), 1);
	free(dir);
}

static void test_crash_snapshots_last(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-crash");
	char name[8][128];
	/* Crash snapshots are the oldest ones: 0, 1, 2 and 5. */
	for (int i = 0; i < 8; i++) {
		int crash = i <= 2 || i == 5;
		fake_name(name[i], sizeof name[i], i, crash ? "SIGSEGV" : "manual");
		make_fake(dir, name[i], 100, crash);
	}
	/* 8 -> 5: the three oldest non-crash files (3, 4, 6) go first. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[7], 5, NO_BYTES), 3);
	for (int i = 0; i < 8; i++)
		assert_int_equal(exists(dir, name[i]), !(i == 3 || i == 4 || i == 6));
	/* 5 -> 2: no non-crash file is left but the one kept, so the oldest
	 * crash snapshots go, 0, 1 and 2, and 5 stays. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[7], 2, NO_BYTES), 3);
	assert_true(exists(dir, name[5]));
	assert_true(exists(dir, name[7]));
	assert_int_equal(entries(dir), 2);

	/* The flag decides, not the name: a file named after a signal that
	 * is not a crash snapshot goes before an older crash snapshot. */
	char fake_crash[128];
	fake_name(fake_crash, sizeof fake_crash, 6, "SIGABRT");
	make_fake(dir, fake_crash, 100, 0);
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[7], 2, NO_BYTES), 1);
	assert_false(exists(dir, fake_crash));
	assert_true(exists(dir, name[5]));
	free(dir);
}

static void test_foreign_files_untouched(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-foreign");
	char *outside = tu_tmpdir("ret-outside");
	char path[4096], target[4096];
	char name[3][128];
	for (int i = 0; i < 3; i++) {
		fake_name(name[i], sizeof name[i], 10 + i, "manual");
		make_fake(dir, name[i], 100, 0);
	}
	/* Older than every snapshot, and named like one, but not a regular
	 * file: a directory and a symbolic link (to a snapshot elsewhere). */
	char subdir[128], link[128], big[128];
	fake_name(subdir, sizeof subdir, 1, "manual");
	fake_name(link, sizeof link, 2, "manual");
	snprintf(path, sizeof path, "%s/%s", dir, subdir);
	assert_int_equal(mkdir(path, 0700), 0);
	fake_name(big, sizeof big, 3, "manual");
	make_fake(outside, big, 100000, 0);
	snprintf(target, sizeof target, "%s/%s", outside, big);
	snprintf(path, sizeof path, "%s/%s", dir, link);
	assert_int_equal(symlink(target, path), 0);
	/* Other names, a writer's temporary among them. */
	const char *others[] = {"notes.txt", ".ttlog-1-1-0.tmp", "ttlog-7-old-manual.ttlog",
				"ttlog-5-20200101T000000.000000000Z-manual.ttlog.gz"};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		make_fake(dir, others[i], 100000, 0);

	/* The symlink's 100000-byte target does not count toward the bytes:
	 * 300 bytes of snapshots are within 300. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[2], NO_FILES, 300), 0);
	/* Down to one file: only the two older snapshots go. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[2], 1, NO_BYTES), 2);
	assert_true(exists(dir, name[2]));
	assert_true(exists(dir, subdir));
	assert_true(exists(dir, link));
	assert_true(exists(outside, big));
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		assert_true(exists(dir, others[i]));
	assert_int_equal(entries(dir), 7);
	free(outside);
	free(dir);
}

/* Files of another user, named like snapshots, newer than ours (dated in
 * the future) and many: neither counted nor removed, and our own stay
 * within the limits as if they were not there. Needs root, to give the
 * files away (chown); fails without it, saying so. */
static void test_other_users_files(void **state)
{
	(void)state;
	if (geteuid() != 0)
		fail_msg("test_other_users_files must run as root: it makes files of another user");
	char *dir = tu_tmpdir("ret-planted");
	char mine[3][128], planted[20][128], path[4096];
	for (int i = 0; i < 3; i++) {
		fake_name(mine[i], sizeof mine[i], 10 + i, "manual");
		make_fake(dir, mine[i], 100, 0);
	}
	for (int i = 0; i < 20; i++) {
		/* 2099: every one sorts after (is newer than) ours. */
		snprintf(planted[i], sizeof planted[i],
			 "ttlog-%d-20990101T0000%02d.000000000Z-manual.ttlog", 2000 + i, i);
		make_fake(dir, planted[i], 100, 0);
		snprintf(path, sizeof path, "%s/%s", dir, planted[i]);
		assert_int_equal(chown(path, 65534, 65534), 0);
	}
	/* Three of ours within three files and 300 bytes: nothing goes. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, mine[2], 3, NO_BYTES), 0);
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, mine[2], NO_FILES, 300), 0);
	/* Down to two: our oldest goes, none of theirs. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, mine[2], 2, NO_BYTES), 1);
	assert_false(exists(dir, mine[0]));
	assert_true(exists(dir, mine[1]) && exists(dir, mine[2]));
	for (int i = 0; i < 20; i++)
		assert_true(exists(dir, planted[i]));
	free(dir);
}

/* More files to remove than one pass's table holds: several passes. */
static void test_many_passes(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-many");
	char name[200][128];
	for (int i = 0; i < 200; i++) {
		fake_name(name[i], sizeof name[i], i, i % 7 == 0 ? "SIGBUS" : "manual");
		make_fake(dir, name[i], 64, i % 7 == 0);
	}
	/* Keep 10: 29 crash snapshots (0, 7, ..., 196) outrank 171 others, so
	 * the 10 left are the 9 newest crash snapshots and the file kept. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, name[199], 10, NO_BYTES), 190);
	assert_int_equal(entries(dir), 10);
	assert_true(exists(dir, name[199]));
	for (int i = 140; i <= 196; i += 7)
		assert_true(exists(dir, name[i]));
	free(dir);
}

/* Both limits "none": the directory is not even read. */
static void test_unlimited(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-unlimited");
	char name[3][128];
	for (int i = 0; i < 3; i++) {
		fake_name(name[i], sizeof name[i], i, "manual");
		make_fake(dir, name[i], 100, 0);
	}
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, NULL, NO_FILES, NO_BYTES), 0);
	assert_int_equal(entries(dir), 3);
	/* No file to keep (as at ttlog_init): every file may go. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, dir, NULL, 1, NO_BYTES), 2);
	assert_true(exists(dir, name[2]));
	/* A directory that cannot be read: nothing, no crash. */
	assert_int_equal(ttlog__retention_prune(TTLOG__WS_NORMAL, "/nonexistent/ttlog-dir", NULL, 1, 1),
			 0);
	free(dir);
}

static int init_with_env(const char *var, const char *value, const char *dir)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	cfg.crash_signals = -1;
	setenv(var, value, 1);
	int rc = ttlog_init(&cfg);
	unsetenv(var);
	if (rc == TTLOG_OK)
		ttlog_shutdown();
	return rc;
}

static void test_env_errors(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-env");
	const char *bad_counts[] = {"abc", "0", "-1", "+5", "4294967296", "10k", "1.5"};
	for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
		assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOTS", bad_counts[i], dir), TTLOG_E_CONFIG);
		char want[160];
		snprintf(want, sizeof want,
			 "TTLOG_MAX_SNAPSHOTS: expected a number of files such as 100 (at least 1) or "
			 "'unlimited', got '%s'",
			 bad_counts[i]);
		assert_string_equal(ttlog_init_error(), want);
	}
	const char *bad_sizes[] = {"abc", "0", "0M", "-1", "12Q", "1T", "unlimitedx"};
	for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
		assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOT_BYTES", bad_sizes[i], dir),
				 TTLOG_E_CONFIG);
		char want[160];
		snprintf(want, sizeof want,
			 "TTLOG_MAX_SNAPSHOT_BYTES: expected a size such as 512M (at least 1 byte) or "
			 "'unlimited', got '%s'",
			 bad_sizes[i]);
		assert_string_equal(ttlog_init_error(), want);
	}
	assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOTS", "unlimited", dir), TTLOG_OK);
	assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOTS", "7", dir), TTLOG_OK);
	assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOT_BYTES", "512M", dir), TTLOG_OK);
	assert_int_equal(init_with_env("TTLOG_MAX_SNAPSHOT_BYTES", "Unlimited", dir), TTLOG_OK);
	free(dir);
}

/* Through the library: ttlog_init() prunes what earlier runs left, each
 * ttlog_snapshot() prunes after itself, and the stats count it; the
 * environment wins over the struct. */
static void test_through_the_library(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ret-lib");
	char name[5][128];
	for (int i = 0; i < 5; i++) {
		fake_name(name[i], sizeof name[i], i, i == 0 ? "SIGSEGV" : "manual");
		make_fake(dir, name[i], 100, i == 0);
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	cfg.crash_signals = -1;
	cfg.max_snapshots = 2;
	/* The counter is the process's: earlier cases added to it. */
	struct ttlog_stats s;
	assert_int_equal(ttlog_get_stats(&s), TTLOG_OK);
	uint64_t pruned_before = s.snapshots_pruned;
	assert_int_equal(ttlog_init(&cfg), TTLOG_OK);
	/* At init: 5 -> 2, the crash snapshot and the newest other one stay. */
	assert_int_equal(entries(dir), 2);
	assert_true(exists(dir, name[0]));
	assert_true(exists(dir, name[4]));
	assert_int_equal(ttlog_get_stats(&s), TTLOG_OK);
	assert_int_equal(s.snapshots_pruned - pruned_before, 3);

	char path[4096];
	TTLOG_INFO("one event");
	assert_int_equal(ttlog_snapshot_path("first", path, sizeof path), TTLOG_OK);
	assert_int_equal(entries(dir), 2);
	assert_int_equal(access(path, F_OK), 0);
	assert_true(exists(dir, name[0]));
	assert_false(exists(dir, name[4]));
	assert_int_equal(ttlog_snapshot_path("second", path, sizeof path), TTLOG_OK);
	assert_int_equal(access(path, F_OK), 0);
	/* The newest non-crash file was "first": it goes, the crash stays. */
	assert_int_equal(entries(dir), 2);
	assert_true(exists(dir, name[0]));
	assert_int_equal(ttlog_get_stats(&s), TTLOG_OK);
	assert_int_equal(s.snapshots_pruned - pruned_before, 5);
	ttlog_shutdown();

	/* The environment wins: 1 file, and it is the crash snapshot, though
	 * older than "second". */
	setenv("TTLOG_MAX_SNAPSHOTS", "1", 1);
	assert_int_equal(ttlog_init(&cfg), TTLOG_OK);
	unsetenv("TTLOG_MAX_SNAPSHOTS");
	assert_int_equal(entries(dir), 1);
	assert_true(exists(dir, name[0]));
	assert_int_not_equal(access(path, F_OK), 0);
	ttlog_shutdown();
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_count_oldest_first),
		cmocka_unit_test(test_bytes_oldest_first),
		cmocka_unit_test(test_just_written_is_kept),
		cmocka_unit_test(test_crash_snapshots_last),
		cmocka_unit_test(test_foreign_files_untouched),
		cmocka_unit_test(test_other_users_files),
		cmocka_unit_test(test_many_passes),
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_through_the_library),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
