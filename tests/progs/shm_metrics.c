/* SPDX-License-Identifier: MIT */
/*
 * shm_metrics.c - a process whose metrics tests/live_metrics.sh reads from
 * outside: it sets a counter, a gauge and a histogram to known values, in
 * two threads (so that the reader has two shards to sum), says so, then
 * waits to be read, killed, or told to end.
 *
 * Usage: shm_metrics 1 1   (the arguments of tests/support/logger_lib.sh's
 *                          start_logger, which runs it as LOGGER_PROG)
 *
 * The configuration comes from the environment (TTLOG_SHARED_MEMORY=1,
 * TTLOG_SHARED_DIR, TTLOG_DIR, TTLOG_SERVICE). Values once "ready PID 1" is
 * on stdout:
 *   jobs.done                      counter   42 (40 from main, 2 from a worker)
 *   http.requests{method="GET"}    counter   7 (the worker)
 *   queue.depth                    gauge     17.5 (set last by main, after 3 from the worker)
 *   latency.seconds                histogram 0.25 three times (main), 4 once (the worker):
 *                                            count 4, sum 4.75
 * At end of input it ends through ttlog_shutdown() and exit, status 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "ttlog.h"

static void *worker(void *arg)
{
	(void)arg;
	TTLOG_COUNTER_ADD("jobs.done", 2);
	TTLOG_COUNTER_ADD("http.requests", 7, "method=GET");
	TTLOG_GAUGE_SET("queue.depth", 3.0);
	TTLOG_HISTOGRAM_RECORD("latency.seconds", 4.0);
	TTLOG_INFO("worker done");
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shm_metrics: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 1;
	for (int i = 0; i < 40; i++)
		TTLOG_COUNTER_ADD("jobs.done", 1);
	TTLOG_GAUGE_SET("queue.depth", 17.5);
	for (int i = 0; i < 3; i++)
		TTLOG_HISTOGRAM_RECORD("latency.seconds", 0.25);
	TTLOG_INFO("main done");
	printf("ready %d 1\n", (int)getpid());
	if (fflush(stdout) != 0)
		return 1;
	char buf[64];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	rc = ttlog_shutdown();
	return rc == TTLOG_OK ? 0 : 1;
}
