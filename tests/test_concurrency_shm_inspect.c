/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency_shm_inspect.c - ttlog__shm_inspect() on several threads
 * at once, as `ttlog serve` calls it from its connections' threads: each
 * call reads a mapping's header into memory of its own. This process's own
 * mapping (shared-memory mode) and a file that is no mapping are inspected
 * in turn on two threads; every answer must be the one its file gives. CI
 * runs it under ThreadSanitizer (label concurrency), which would see two
 * calls write the same header.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#define TTLOG_TOOLS_UNSTABLE 1
#include "ttlog_tools.h"

#define ROUNDS 2000

static char good[4096], bad[4096], snaps[4096];

struct result {
	int good_ok, good_wrong, bad_refused, bad_taken;
};

static void *inspector(void *arg)
{
	struct result *res = arg;
	struct ttlog__shm_info info;
	char err[512];
	for (int i = 0; i < ROUNDS; i++) {
		if (ttlog__shm_inspect(good, &info, err, sizeof err) == 0 && info.pid == (int)getpid() &&
		    strcmp(info.snapshot_dir, snaps) == 0)
			res->good_ok++;
		else
			res->good_wrong++;
		if (ttlog__shm_inspect(bad, &info, err, sizeof err) != 0)
			res->bad_refused++;
		else
			res->bad_taken++;
	}
	return NULL;
}

static void test_inspect_on_two_threads(void **state)
{
	(void)state;
	char *base = tu_tmpdir("inspect-base");
	char *dir = tu_tmpdir("inspect-snaps");
	assert_non_null(base);
	assert_non_null(dir);
	snprintf(snaps, sizeof snaps, "%s", dir);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	cfg.crash_signals = -1;
	cfg.ring_size = 64u << 10;
	cfg.shared_memory = 1;
	cfg.shared_dir = base;
	assert_int_equal(ttlog_init(&cfg), TTLOG_OK);
	TTLOG_INFO("a mapping with a ring");
	assert_int_equal(ttlog__shm_path(base, (int)getpid(), good, sizeof good), 0);

	/* Not a mapping: a header of the right size, all 'x'. */
	snprintf(bad, sizeof bad, "%s/bad.ttshm", base);
	FILE *f = fopen(bad, "wb");
	assert_non_null(f);
	for (int i = 0; i < 16384; i++)
		fputc('x', f);
	assert_int_equal(fclose(f), 0);

	struct result res[2] = {{0}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, inspector, &res[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(res[i].good_ok, ROUNDS);
		assert_int_equal(res[i].good_wrong, 0);
		assert_int_equal(res[i].bad_refused, ROUNDS);
		assert_int_equal(res[i].bad_taken, 0);
	}
	ttlog_shutdown();
	unlink(bad);
	free(base);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_on_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
