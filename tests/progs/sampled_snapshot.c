/* SPDX-License-Identifier: MIT */
/*
 * sampled_snapshot.c - writes a snapshot of sampled call sites for the
 * tests of `ttlog view` (tests/cli.sh) and prints its path.
 *
 * Usage: sampled_snapshot DIR
 * One site keeps 1 call in 10 of 100 (90 dropped), another at most 5 a
 * second of 100 (95 dropped: the fake clock moves 1 us per event, so the
 * burst stays in one window). The rules are set by TTLOG_SAMPLE, the way an
 * operator would.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "ttlog.h"

static const char *const config_env[] = {
	"TTLOG_DIR", "TTLOG_RING_SIZE", "TTLOG_MEMORY_CAP", "TTLOG_MAX_STRING", "TTLOG_WINDOW",
	"TTLOG_LEVEL", "TTLOG_SIGNALS", "TTLOG_SNAPSHOT_SIGNAL",
};

/* The lines of the two log calls below, for TTLOG_SAMPLE. */
enum { TENTH_LINE = __LINE__ + 5, RATE_LINE = __LINE__ + 6 };

static void calls(void)
{
	for (int i = 0; i < 100; i++) {
		TTLOG_INFO("one in ten %d", i);
		TTLOG_INFO("five a second %d", i);
	}
}

int main(int argc, char **argv)
{
	char sample[128], path[4096];
	struct ttlog_config config;

	if (argc != 2) {
		fprintf(stderr, "usage: sampled_snapshot DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof config_env / sizeof config_env[0]; i++)
		unsetenv(config_env[i]);
	setenv("TTLOG_CLOCK", "fake", 1);
	snprintf(sample, sizeof sample, "sampled_snapshot.c:%d=1/10,sampled_snapshot.c:%d=5/s",
		 TENTH_LINE, RATE_LINE);
	setenv("TTLOG_SAMPLE", sample, 1);
	ttlog_config_init(&config);
	config.dir = argv[1];
	config.crash_signals = -1;
	if (ttlog_init(&config) != TTLOG_OK) {
		fprintf(stderr, "sampled_snapshot: ttlog_init: %s\n", ttlog_init_error());
		return 1;
	}
	calls();
	int rc = ttlog_snapshot_path("sampled", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "sampled_snapshot: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	return fflush(stdout) == 0 ? 0 : 1;
}
