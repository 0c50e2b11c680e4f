/* SPDX-License-Identifier: MIT */
/*
 * prom_write.c - writes ttlog_metrics_write_prometheus()'s text to stdout
 * for tests/prometheus.sh, which hands it to promtool; with DIR, also a
 * snapshot of the same metrics there (for `ttlog serve`'s /metrics).
 *
 * Usage: prom_write [DIR]
 * The program's metrics cover every type and the names a program may
 * choose: a counter with two label sets (one value needing escapes), a
 * counter already named with _total, a gauge, a histogram of 1..1000, one
 * holding only values out of range, and a name with dots.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: prom_write [DIR]\n");
		return 2;
	}
	struct ttlog_config config;
	ttlog_config_init(&config);
	config.crash_signals = -1;
	if (argc == 2)
		config.dir = argv[1];
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "prom_write: ttlog_init: %s\n", ttlog_strerror(rc));
		return 1;
	}
	for (int i = 1; i <= 1000; i++) {
		TTLOG_COUNTER_ADD("http.requests", 1, "method=GET");
		TTLOG_HISTOGRAM_RECORD("http.latency_seconds", i / 1000.0);
	}
	TTLOG_COUNTER_ADD("http.requests", 5, "method=POST", "path=/a\"b\\c");
	TTLOG_COUNTER_ADD("jobs_done_total", 7);
	TTLOG_GAUGE_SET("queue.depth", 17.5);
	TTLOG_HISTOGRAM_RECORD("odd.values", -1.0);
	TTLOG_INFO("one event");
	rc = ttlog_metrics_write_prometheus(1);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "prom_write: ttlog_metrics_write_prometheus: %s\n", ttlog_strerror(rc));
		return 1;
	}
	if (argc == 2 && (rc = ttlog_snapshot("prom")) != TTLOG_OK) {
		fprintf(stderr, "prom_write: ttlog_snapshot: %s\n", ttlog_strerror(rc));
		return 1;
	}
	ttlog_shutdown();
	return 0;
}
