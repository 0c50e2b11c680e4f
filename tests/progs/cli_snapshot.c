/* SPDX-License-Identifier: MIT */
/*
 * cli_snapshot.c - writes a deterministic snapshot for the tests of the
 * `ttlog` command (tests/cli.sh) and prints its path.
 *
 * Usage: cli_snapshot DIR [MODE]
 *   golden  (the default) events of every level and argument type from the
 *           main thread and two named threads, then a snapshot "golden"
 *   lost    a 1 KiB ring overflowing (and one call before ttlog_init), so
 *           that the snapshot reports overwritten and dropped events
 *   spans   nested spans with fields in a trace continued from a fixed
 *           traceparent, a worker thread joining it, then a second trace
 *   crash   a few events, then a write through a null pointer: the crash
 *           handler writes the snapshot and the program dies of SIGSEGV
 *
 * The fake clock (TTLOG_CLOCK=fake) makes every event time fixed: ticks are
 * nanoseconds from 2026-01-01T00:00:00Z, 1000 ns per event. The threads run
 * one after the other, so the order of the events is fixed too; only the
 * thread ids and the file name change between runs.
 *
 * The golden files in tests/cli/golden/ contain the line numbers of the log
 * calls below: after editing this file, regenerate them with
 * UPDATE_GOLDEN=1 (see tests/cli.sh) and review the difference. Keep each
 * log call on one line: compilers disagree on the __LINE__ of a macro call
 * that spans several.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog.h"

/* Variables that would override the configuration below. */
static const char *const config_env[] = {
	"TTLOG_DIR", "TTLOG_RING_SIZE", "TTLOG_MEMORY_CAP", "TTLOG_MAX_STRING", "TTLOG_WINDOW",
	"TTLOG_LEVEL", "TTLOG_SIGNALS", "TTLOG_SNAPSHOT_SIGNAL",
};

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char name[16];

	/* Named before the first event: the ring takes the name when it is made. */
	snprintf(name, sizeof name, "worker-%d", id);
	pthread_setname_np(pthread_self(), name);

	TTLOG_TRACE("worker %d: trace", id);
	TTLOG_INFO("worker %d starting", id);
	for (int step = 1; step <= 3; step++)
		TTLOG_DEBUG("worker %d: step %d of %d", id, step, 3);
	TTLOG_WARN("worker %d: queue depth %zu", id, (size_t)17 * (size_t)id);
	TTLOG_ERROR("worker %d failed: %s", id, id == 1 ? "timeout" : "refused");
	return NULL;
}

static int start(const char *dir, size_t ring_size, int crash_signals)
{
	struct ttlog_config config;

	ttlog_config_init(&config);
	config.dir = dir;
	config.crash_signals = crash_signals;
	config.max_string = 32;
	config.ring_size = ring_size;
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK)
		fprintf(stderr, "cli_snapshot: ttlog_init: %s\n", ttlog_strerror(rc));
	return rc;
}

static int finish(const char *reason)
{
	char path[4096];
	int rc = ttlog_snapshot_path(reason, path, sizeof path);

	if (rc != TTLOG_OK) {
		fprintf(stderr, "cli_snapshot: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int lost_mode(const char *dir)
{
	TTLOG_INFO("before ttlog_init: dropped");
	if (start(dir, 1024, -1) != TTLOG_OK)
		return 1;
	for (int i = 0; i < 100; i++)
		TTLOG_INFO("filler %d of %d", i, 100);
	return finish("lost");
}

/* Fields: named in the format, explicit (TTLOG_F), through a forwarding
 * macro, repeated keys, and an argument the format does not print. */
#define FORWARD_INFO(...) TTLOG_INFO(__VA_ARGS__)
static int fields_mode(const char *dir)
{
	if (start(dir, 0, -1) != TTLOG_OK)
		return 1;
	for (unsigned user = 41; user <= 43; user++)
		TTLOG_INFO("auth.login ok user=%u ip=%s ms=%d", user, "10.0.0.1", (int)user * 2);
	/* One line: gcc and clang give a call spread over lines different __LINE__s. */
	/* clang-format off */
	TTLOG_INFO("login", TTLOG_F("user_id", 42u), TTLOG_F("ip", "10.0.0.2"), TTLOG_F("ok", (_Bool)1), TTLOG_F("ratio", 0.25), TTLOG_F("delta", (short)-3), TTLOG_F("big", 18446744073709551615ULL), TTLOG_F("p", (void *)0x1234), TTLOG_F("note", "two words"), TTLOG_F("none", (const char *)NULL));
	/* clang-format on */
	FORWARD_INFO("forwarded n=%d", 5, TTLOG_F("tag", "x-1"));
	TTLOG_WARN("a=%d a=%d 100%%=%d w=%*d", 1, 2, 3, 4, 5, TTLOG_F("a", 6));
	TTLOG_DEBUG("unused %d", 1, 2);
	return finish("fields");
}

/* Spans: the trace ids are fixed (continued from a traceparent), so the
 * text output is too; span ids are random, and only the JSON shows them. */
#define TRACE_A "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACE_B "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
static void *span_worker(void *arg)
{
	pthread_setname_np(pthread_self(), "worker");
	ttlog_trace_continue(arg);
	TTLOG_SPAN("worker.job", TTLOG_F("job", 7));
	TTLOG_INFO("job running");
	return NULL;
}

static int spans_mode(const char *dir)
{
	char tp[TTLOG_TRACEPARENT_SIZE];
	pthread_t thread;
	if (start(dir, 0, -1) != TTLOG_OK || ttlog_trace_continue(TRACE_A) != TTLOG_OK)
		return 1;
	TTLOG_INFO("before any span");
	{
		TTLOG_SPAN("http.request", TTLOG_F("path", "/api/users"));
		TTLOG_INFO("handling request id=%d", 17);
		{
			TTLOG_SPAN("db.query");
			TTLOG_SPAN_FIELD("rows", 3);
			TTLOG_DEBUG("query done");
		}
		if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK ||
		    pthread_create(&thread, NULL, span_worker, tp) != 0 || pthread_join(thread, NULL) != 0)
			return 1;
		TTLOG_WARN("slow response");
	}
	ttlog_trace_continue(TRACE_B);
	{
		TTLOG_SPAN("other.request");
		TTLOG_INFO("another trace");
	}
	return finish("spans");
}

/* The crash is deliberate: UBSan must let it reach the CPU. */
static __attribute__((noinline, no_sanitize("undefined"))) void write_nowhere(void)
{
	/* Both volatile: the compiler may neither assume the pointer is NULL
	 * nor drop the store as one that nothing reads. */
	volatile int *volatile nowhere = NULL;
	*nowhere = 1;
}

static int crash_mode(const char *dir)
{
	if (start(dir, 0, 1) != TTLOG_OK)
		return 1;
	TTLOG_INFO("about to crash, %d", 3);
	TTLOG_WARN("about to crash, %d", 2);
	TTLOG_ERROR("about to crash, %d", 1);
	write_nowhere();
	fprintf(stderr, "cli_snapshot: still alive after the crash\n");
	return 1;
}

int main(int argc, char **argv)
{
	pthread_t thread;
	const char *mode = argc > 2 ? argv[2] : "golden";

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: cli_snapshot DIR [golden|lost|fields|spans|crash]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof config_env / sizeof config_env[0]; i++)
		unsetenv(config_env[i]);
	setenv("TTLOG_CLOCK", "fake", 1);
	pthread_setname_np(pthread_self(), "main");

	if (strcmp(mode, "lost") == 0)
		return lost_mode(argv[1]);
	if (strcmp(mode, "fields") == 0)
		return fields_mode(argv[1]);
	if (strcmp(mode, "crash") == 0)
		return crash_mode(argv[1]);
	if (strcmp(mode, "spans") == 0)
		return spans_mode(argv[1]);
	if (strcmp(mode, "golden") != 0) {
		fprintf(stderr, "cli_snapshot: unknown mode '%s'\n", mode);
		return 2;
	}
	if (start(argv[1], 0, -1) != TTLOG_OK)
		return 1;

	TTLOG_TRACE("trace from main, %d workers to come", 2);
	TTLOG_DEBUG("small: c=%c b=%d h=%hd u=%u", (char)'x', (_Bool)1, (short)-7, (unsigned char)200);
	TTLOG_INFO("ints: %d %u %ld %lu %lld", -42, 42u, LONG_MIN, ULONG_MAX, 123456789012345LL);
	TTLOG_INFO("doubles: %f %.3f %g %e", 3.14159, -0.5, 1e300, 0.1f);
	TTLOG_WARN("special doubles: %f %f %f %g", NAN, INFINITY, -INFINITY, -0.0);
	TTLOG_ERROR("strings: [%s] [%s]", "line1\nline2 \"quoted\" caf\xc3\xa9", (const char *)NULL);
	TTLOG_FATAL("long: %s", "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEF");
	TTLOG_INFO("pointer: %p", (void *)0x1234);
	TTLOG_INFO("bytes: [%s]", "tab\there \x01 del\x7f bad\xff\xfe end\\");
	TTLOG_DEBUG("widths: [%5d] [%-6s] [%*d] [%08.3f]", 42, "ab", 4, 7, 3.14159);
	TTLOG_INFO("percent: 100%% done");

	for (int id = 1; id <= 2; id++) {
		/* One after the other, so that the order of events is fixed. */
		if (pthread_create(&thread, NULL, worker, (void *)(intptr_t)id) != 0 ||
		    pthread_join(thread, NULL) != 0) {
			fprintf(stderr, "cli_snapshot: cannot run worker %d\n", id);
			return 1;
		}
	}
	TTLOG_INFO("all %d workers done", 2);
	return finish("golden");
}
