/* SPDX-License-Identifier: MIT */
/*
 * metrics_snapshot.c - writes a snapshot with metrics of every type for the
 * tests of `ttlog view --metrics` (tests/cli.sh) and prints its path.
 *
 * Usage: metrics_snapshot DIR
 * The values are fixed: a counter with labels (two label sets), a gauge, a
 * histogram of 1..1000 and one that is empty of values in range.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: metrics_snapshot DIR\n");
		return 2;
	}
	struct ttlog_config config;
	ttlog_config_init(&config);
	config.dir = argv[1];
	config.crash_signals = -1;
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "metrics_snapshot: ttlog_init: %s\n", ttlog_strerror(rc));
		return 1;
	}
	for (int i = 1; i <= 1000; i++) {
		TTLOG_COUNTER_ADD("http.requests", 1, "method=GET");
		TTLOG_HISTOGRAM_RECORD("http.latency_ms", i);
	}
	TTLOG_COUNTER_ADD("http.requests", 5, "method=POST");
	TTLOG_GAUGE_SET("queue.depth", 17.5);
	TTLOG_HISTOGRAM_RECORD("odd.values", -1.0);
	TTLOG_INFO("one event");
	char path[4096];
	rc = ttlog_snapshot_path("metrics", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "metrics_snapshot: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	puts(path);
	return 0;
}
