/* SPDX-License-Identifier: MIT */
/*
 * hello.c - the smallest useful ttlog program: start the recorder, log a
 * few events, and ask for a snapshot.
 *
 *   TTLOG_DIR=./snapshots ./hello && ttlog view snapshots/ *.ttlog
 */
#include <stdio.h>

#include "ttlog.h"

int main(void)
{
	struct ttlog_config config;
	ttlog_config_init(&config);
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "hello: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 1;
	}

	TTLOG_INFO("hello from ttlog %s", ttlog_version_string());
	for (int i = 0; i < 5; i++)
		TTLOG_DEBUG("step %d of %d: %.2f done", i + 1, 5, (i + 1) / 5.0);
	TTLOG_WARN("disk %s is %u%% full", "/var", 91u);

	char path[4096];
	rc = ttlog_snapshot_path("hello", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "hello: ttlog_snapshot: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("snapshot written to %s\n", path);
	return 0;
}
