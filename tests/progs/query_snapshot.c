/* SPDX-License-Identifier: MIT */
/*
 * query_snapshot.c - writes a snapshot of many event blocks over a long
 * time, for the push-down tests of `ttlog query` (tests/cli_query_pushdown.sh),
 * and prints its path.
 *
 * Usage: query_snapshot DIR
 *
 * With the fake clock every event is exactly 2 ms after the one before
 * (the clock's own 1000 ns per event plus an advance of the rest): event i
 * is at 2026-01-01T00:00:00Z + i * 2 ms, so each of the 100 seconds holds
 * 500 events, and every tenth event is a warning. One thread, a ring large
 * enough to keep everything: about 3 MB of records, many 64 KiB blocks.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clock/clock.h"
#include "ttlog.h"

#define SECONDS 100
#define PER_SECOND 500
#define STEP_NS 2000000u     /* between two events */
#define FAKE_EVENT_NS 1000u  /* what the fake clock adds by itself */

static const char *const config_env[] = {
	"TTLOG_DIR", "TTLOG_RING_SIZE", "TTLOG_MEMORY_CAP", "TTLOG_MAX_STRING", "TTLOG_WINDOW",
	"TTLOG_LEVEL", "TTLOG_SIGNALS", "TTLOG_SNAPSHOT_SIGNAL", "TTLOG_SAMPLE",
};

int main(int argc, char **argv)
{
	struct ttlog_config config;
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: query_snapshot DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof config_env / sizeof config_env[0]; i++)
		unsetenv(config_env[i]);
	setenv("TTLOG_CLOCK", "fake", 1);

	ttlog_config_init(&config);
	config.dir = argv[1];
	config.crash_signals = -1;
	config.ring_size = 16u << 20;
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "query_snapshot: ttlog_init: %s\n", ttlog_strerror(rc));
		return 1;
	}
	for (int i = 0; i < SECONDS * PER_SECOND; i++) {
		if (i % 10 == 0)
			TTLOG_WARN("tick %d of %d: queue=%u %s", i, SECONDS * PER_SECOND, (unsigned)(i % 97), "0123456789abcdef");
		else
			TTLOG_INFO("tick %d of %d: queue=%u %s", i, SECONDS * PER_SECOND, (unsigned)(i % 97), "0123456789abcdef");
		ttlog__clock_advance_fake(STEP_NS - FAKE_EVENT_NS);
	}
	rc = ttlog_snapshot_path("query", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "query_snapshot: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	return fflush(stdout) == 0 ? 0 : 1;
}
