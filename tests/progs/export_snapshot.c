/* SPDX-License-Identifier: MIT */
/*
 * export_snapshot.c - writes a deterministic snapshot for the tests of
 * `ttlog export` (tests/cli_export.sh) and prints its path.
 *
 * Usage: export_snapshot DIR
 *
 * The snapshot holds what an export must survive: messages and string
 * fields with a NUL byte, control characters, bytes that are not UTF-8,
 * quotes, commas, backslashes, '=' and line breaks; fields of every type
 * (NaN, infinities, the largest unsigned 64-bit value, a NULL string, a
 * string cut at the limit) and fields whose keys are the names of columns;
 * nested spans on two threads, one of them still open when the snapshot is
 * taken; and a counter, a gauge and a histogram.
 *
 * As in cli_snapshot.c, the fake clock (TTLOG_CLOCK=fake) fixes every event
 * time: 1000 ns per event from 2026-01-01T00:00:00Z. Keep each log call on
 * one line: golden files hold their line numbers.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ttlog.h"

#define TRACE_A "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

/* Variables that would override the configuration below. */
static const char *const config_env[] = {
	"TTLOG_DIR", "TTLOG_RING_SIZE", "TTLOG_MEMORY_CAP", "TTLOG_MAX_STRING", "TTLOG_WINDOW",
	"TTLOG_LEVEL", "TTLOG_SIGNALS", "TTLOG_SNAPSHOT_SIGNAL",
};

static void *worker(void *arg)
{
	pthread_setname_np(pthread_self(), "export \"w\"");
	ttlog_trace_continue(arg);
	TTLOG_SPAN("worker.step", TTLOG_F("step", 1));
	TTLOG_INFO("worker, in a span");
	return NULL;
}

static void messages(void)
{
	TTLOG_INFO("nul [%c] end", 0);
	TTLOG_INFO("controls: [%s]", "\x01\x02\x1b[31m\x7f tab\t cr\r lf\n end");
	TTLOG_WARN("not utf-8: [%s]", "\xff\xfe \xc0\xaf \xed\xa0\x80 \xe2\x82 caf\xc3\xa9 \xf0\x9f\x98\x80");
	TTLOG_ERROR("quotes \"%s\", commas, %s", "a\"b", "x,y");
	TTLOG_INFO("backslash \\ and a=b key=%s", "v=1 \\ \"q\"");
	/* clang-format off */
	TTLOG_INFO("types", TTLOG_F("empty", ""), TTLOG_F("none", (const char *)NULL), TTLOG_F("nan", NAN), TTLOG_F("inf", -INFINITY), TTLOG_F("neg", -5), TTLOG_F("huge", UINT64_MAX), TTLOG_F("yes", (_Bool)1), TTLOG_F("ptr", (void *)0xbeef), TTLOG_F("long", "0123456789abcdefghijklmnopqrstuvwxyz"));
	TTLOG_INFO("column names", TTLOG_F("time", "t"), TTLOG_F("msg", "m"), TTLOG_F("message", "mm"), TTLOG_F("level", 3), TTLOG_F("trace_id", "x"));
	TTLOG_DEBUG("odd key", TTLOG_F("odd key=\"\\", "\n,\""));
	/* clang-format on */
}

int main(int argc, char **argv)
{
	struct ttlog_config config;
	char tp[TTLOG_TRACEPARENT_SIZE], path[4096];
	pthread_t thread;

	if (argc != 2) {
		fprintf(stderr, "usage: export_snapshot DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof config_env / sizeof config_env[0]; i++)
		unsetenv(config_env[i]);
	setenv("TTLOG_CLOCK", "fake", 1);
	pthread_setname_np(pthread_self(), "main");
	ttlog_config_init(&config);
	config.dir = argv[1];
	config.crash_signals = -1;
	config.max_string = 32;
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK || ttlog_trace_continue(TRACE_A) != TTLOG_OK) {
		fprintf(stderr, "export_snapshot: ttlog_init: %s\n", ttlog_strerror(rc));
		return 1;
	}

	messages();
	TTLOG_COUNTER_ADD("requests", 3, "method=GET");
	TTLOG_GAUGE_SET("queue.depth", 2.5);
	for (int ms = 1; ms <= 4; ms++)
		TTLOG_HISTOGRAM_RECORD("latency_ms", (double)ms);
	TTLOG_SPAN_BEGIN("outer", TTLOG_F("path", "/a,b"));
	{
		TTLOG_SPAN("inner");
		TTLOG_SPAN_FIELD("rows", 2);
		TTLOG_INFO("in inner");
	}
	if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK || pthread_create(&thread, NULL, worker, tp) != 0 ||
	    pthread_join(thread, NULL) != 0)
		return 1;
	TTLOG_SPAN_BEGIN("never.ends");
	TTLOG_INFO("last event, two spans open");

	/* Taken with "outer" and "never.ends" still open. */
	rc = ttlog_snapshot_path("export", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "export_snapshot: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	return fflush(stdout) == 0 ? 0 : 1;
}
