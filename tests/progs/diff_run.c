/* SPDX-License-Identifier: MIT */
/*
 * diff_run.c - writes the snapshots that tests/cli_diff.sh compares with
 * `ttlog diff` and `ttlog explain`, and prints the path.
 *
 * Usage: diff_run DIR a|b|explain [REQUESTS]
 *
 * A service handling one request a millisecond (fake clock): each request
 * logs "GET /users ... latency_ms=%f", "GET /items ... latency_ms=%f
 * bytes=%d", a queued line with the request's number (a value that only
 * grows) and a "db.query" span of 200 us. Latencies vary by +-10 % around
 * 10 ms (/users) and 20 ms (/items), drawn from a fixed pseudo-random
 * sequence, so every run writes the same values.
 *   a        3000 requests; a "cache warmed" line first (gone in b)
 *   b        3000 requests, /users 5 times slower (50 ms); a "retrying"
 *            warning every 600th request (new in b)
 *   explain  5000 requests; the last 1000 (the last second) have /users 5
 *            times slower
 * REQUESTS replaces the number of requests (the last fifth are the slow
 * ones of explain), for the figures of docs/PERFORMANCE.md: 200000
 * requests are 1 M events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock/clock.h"
#include "ttlog.h"

#define REQUEST_NS 1000000u
#define SPAN_NS 200000u

static const char *const config_env[] = {
	"TTLOG_DIR", "TTLOG_RING_SIZE", "TTLOG_MEMORY_CAP", "TTLOG_MAX_STRING", "TTLOG_WINDOW",
	"TTLOG_LEVEL", "TTLOG_SIGNALS", "TTLOG_SNAPSHOT_SIGNAL", "TTLOG_SAMPLE",
};

static uint32_t lcg = 12345;

/* A factor in [0.9, 1.1). */
static double noise(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return 0.9 + 0.2 * (double)(lcg >> 8) / (double)(1u << 24);
}

int main(int argc, char **argv)
{
	struct ttlog_config config;
	char path[4096];

	if ((argc != 3 && argc != 4) ||
	    (strcmp(argv[2], "a") && strcmp(argv[2], "b") && strcmp(argv[2], "explain"))) {
		fprintf(stderr, "usage: diff_run DIR a|b|explain [REQUESTS]\n");
		return 2;
	}
	long given = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
	if (argc == 4 && (given < 1 || given > 10000000)) {
		fprintf(stderr, "diff_run: REQUESTS must be 1 to 10000000\n");
		return 2;
	}
	const char *mode = argv[2];
	for (size_t i = 0; i < sizeof config_env / sizeof config_env[0]; i++)
		unsetenv(config_env[i]);
	setenv("TTLOG_CLOCK", "fake", 1);
	setenv("TTLOG_LEVEL", "debug", 1);

	ttlog_config_init(&config);
	config.dir = argv[1];
	config.crash_signals = -1;
	/* Room for every request's records (about 200 bytes). */
	config.ring_size = given > 50000 ? 256u << 20 : 16u << 20;
	config.memory_cap = config.ring_size;
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "diff_run: ttlog_init: %s\n", ttlog_strerror(rc));
		return 1;
	}
	int explain = strcmp(mode, "explain") == 0, b = strcmp(mode, "b") == 0;
	unsigned requests = given ? (unsigned)given : explain ? 5000 : 3000;
	if (strcmp(mode, "a") == 0)
		TTLOG_INFO("cache warmed in %d ms", 42);
	for (unsigned i = 0; i < requests; i++) {
		int slow = b || (explain && i >= requests - requests / 5);
		TTLOG_DEBUG("request %u queued depth=%d", i, (int)(i % 7));
		TTLOG_INFO("GET /users done latency_ms=%f status=%d", (slow ? 50.0 : 10.0) * noise(), 200);
		TTLOG_INFO("GET /items done latency_ms=%f bytes=%d", 20.0 * noise(), (int)(1000 * noise()));
		if (b && i % 600 == 599)
			TTLOG_WARN("retrying connection to %s attempt=%d", "db1", 1);
		{
			TTLOG_SPAN("db.query");
			ttlog__clock_advance_fake(SPAN_NS);
		}
		ttlog__clock_advance_fake(REQUEST_NS - SPAN_NS);
	}
	rc = ttlog_snapshot_path(mode, path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "diff_run: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	return fflush(stdout) == 0 ? 0 : 1;
}
