/* SPDX-License-Identifier: MIT */
/*
 * shm_logger.c - a process for the tests of `ttlog snap` and `ttlog recover`
 * (tests/cli_snap.sh, tests/cli_recover.sh): it logs a known number of events
 * in several threads, says so, then waits to be snapshotted, killed or
 * told to end.
 *
 * Usage: shm_logger THREADS EVENTS [busy]
 *
 * The configuration comes from the environment alone (TTLOG_DIR,
 * TTLOG_SNAPSHOT_SIGNAL, TTLOG_SHARED_MEMORY, TTLOG_SHARED_DIR, ...), so
 * that `ttlog snap` can find it in /proc/PID/environ as it would for any
 * program configured by its operator.
 *
 * Each of THREADS workers (named worker-1, ...) logs "worker W event N" for
 * N = 1..EVENTS; once all have, the main thread logs "main event N" for
 * N = 1..EVENTS and writes "ready PID EVENTS" to stdout. From then on the
 * last event each thread finished logging is known exactly, and nothing
 * more is logged until stdin is closed (in busy mode the workers go on
 * logging "worker W busy N" meanwhile, N = 1 being in before "ready", so
 * that a snapshot is taken while the rings are being written). At end of input: "main done", the workers
 * are stopped and joined, and the program ends normally through
 * ttlog_shutdown() and exit, exit status 0.
 *
 * The test synchronises on the "ready" line (read from a fifo), never on
 * time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

#define MAX_THREADS 64

static int events;
static int busy;
static _Atomic int stop;
static pthread_barrier_t logged; /* every worker and main: the workers' events are in */
static pthread_barrier_t busy_started; /* busy mode: every worker has logged "busy 1" */

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char name[16];

	snprintf(name, sizeof name, "worker-%d", id);
	pthread_setname_np(pthread_self(), name);
	for (int n = 1; n <= events; n++)
		TTLOG_INFO("worker %d event %d", id, n);
	pthread_barrier_wait(&logged);
	if (!busy)
		return NULL;
	/* The first busy event is in before "ready" is written, so that a
	 * snapshot taken after it holds busy events of every worker however
	 * the threads were scheduled. */
	for (uint64_t n = 1; n == 1 || !atomic_load(&stop); n++) {
		TTLOG_DEBUG("worker %d busy %llu", id, (unsigned long long)n);
		if (n == 1)
			pthread_barrier_wait(&busy_started);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_THREADS];
	char buf[256];

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "busy") != 0)) {
		fprintf(stderr, "usage: shm_logger THREADS EVENTS [busy]\n");
		return 2;
	}
	int nthreads = atoi(argv[1]);
	events = atoi(argv[2]);
	busy = argc == 4;
	if (nthreads < 0 || nthreads > MAX_THREADS || events < 1) {
		fprintf(stderr, "shm_logger: THREADS 0..%d, EVENTS 1 or more\n", MAX_THREADS);
		return 2;
	}
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shm_logger: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 1;
	}
	if (pthread_barrier_init(&logged, NULL, (unsigned)nthreads + 1) != 0 ||
	    pthread_barrier_init(&busy_started, NULL, (unsigned)nthreads + 1) != 0)
		return 1;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)(i + 1)) != 0)
			return 1;
	pthread_barrier_wait(&logged);
	for (int n = 1; n <= events; n++)
		TTLOG_INFO("main event %d", n);
	if (busy)
		pthread_barrier_wait(&busy_started);
	printf("ready %d %d\n", (int)getpid(), events);
	if (fflush(stdout) != 0)
		return 1;

	/* Wait for the end of input; a signal's handler (the snapshot signal)
	 * interrupting read() is no reason to stop. */
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	TTLOG_INFO("main done");
	atomic_store(&stop, 1);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&logged);
	pthread_barrier_destroy(&busy_started);
	rc = ttlog_shutdown();
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shm_logger: ttlog_shutdown: %s\n", ttlog_strerror(rc));
		return 1;
	}
	return 0;
}
