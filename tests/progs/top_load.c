/* SPDX-License-Identifier: MIT */
/*
 * top_load.c - a running process for the tests of `ttlog top` and `ttlog
 * query --pid` (tests/cli_top.sh): steady logging in three threads until
 * stdin is closed, so that a live view has rates, errors and spans to show.
 *
 * Usage: top_load
 *
 * Configured by the environment alone (TTLOG_SHARED_MEMORY=1, ...).
 *   pacer   logs "paced tick N" (INFO), then sleeps 1 ms: the busiest
 *           site, at most 1000 events/s
 *   failer  logs "request failed code=N" (ERROR) every 20 ms
 *   spanner a span "handle_request" of about 2 ms every 10 ms
 * Writes "ready PID" on stdout once every thread has logged; ends, status
 * 0, at the end of input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ttlog.h"

static _Atomic int stop;
static pthread_barrier_t started;

static void sleep_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void *pacer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "pacer");
	for (int n = 1; !atomic_load(&stop); n++) {
		TTLOG_INFO("paced tick %d", n);
		if (n == 1)
			pthread_barrier_wait(&started);
		sleep_ms(1);
	}
	return NULL;
}

static void *failer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "failer");
	for (int n = 1; !atomic_load(&stop); n++) {
		TTLOG_ERROR("request failed code=%d", 500 + n % 4);
		if (n == 1)
			pthread_barrier_wait(&started);
		sleep_ms(20);
	}
	return NULL;
}

static void *spanner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "spanner");
	for (int n = 1; !atomic_load(&stop); n++) {
		{
			TTLOG_SPAN("handle_request");
			sleep_ms(2);
		}
		if (n == 1)
			pthread_barrier_wait(&started);
		sleep_ms(8);
	}
	return NULL;
}

int main(void)
{
	void *(*bodies[])(void *) = {pacer, failer, spanner};
	pthread_t threads[3];
	char buf[64];

	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "top_load: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 1;
	}
	if (pthread_barrier_init(&started, NULL, 4) != 0)
		return 1;
	for (int i = 0; i < 3; i++)
		if (pthread_create(&threads[i], NULL, bodies[i], NULL) != 0)
			return 1;
	pthread_barrier_wait(&started);
	printf("ready %d\n", (int)getpid());
	if (fflush(stdout) != 0)
		return 1;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&started);
	return ttlog_shutdown() == TTLOG_OK ? 0 : 1;
}
