/* SPDX-License-Identifier: MIT */
/*
 * shm_stream_kill.c - logs self-checking events from several threads, paced,
 * in whatever mode the environment sets (the test: shared memory and a
 * stream), until it is killed, for tests/cli_shm_stream.sh.
 *
 *   shm_stream_kill THREADS READY RATE [ERROR_AT]
 *
 * Thread t logs "kill t=%u i=%lu" with i counting 0, 1, 2, ... at RATE
 * events a second, and after every 8th (i a multiple of 8) a DEBUG record
 * "debug t=%u d=%lu" with d = i. With ERROR_AT, thread 0 logs an ERROR
 * "fail t=%u i=%lu" after its event ERROR_AT (a promotion's trigger in a
 * stream). Thread t is named "killed-wT". Once every thread
 * has logged READY events, prints "ready PID READY" (as
 * tests/support/logger_lib.sh expects), then goes on logging until it is
 * killed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ttlog.h"

#define MAX_THREADS 8

static _Atomic unsigned long counts[MAX_THREADS];
static unsigned long rate;
static unsigned long error_at = (unsigned long)-1;
static uint64_t start_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	char name[16];
	snprintf(name, sizeof name, "killed-w%u", t);
	pthread_setname_np(pthread_self(), name);
	for (unsigned long i = 0;; i++) {
		/* paced: event i is due at i / rate seconds */
		while ((now_ns() - start_ns) * rate < (uint64_t)i * 1000000000ull)
			;
		TTLOG_INFO("kill t=%u i=%lu", t, i);
		if ((i & 7) == 0)
			TTLOG_DEBUG("debug t=%u d=%lu", t, i);
		if (t == 0 && i == error_at)
			TTLOG_ERROR("fail t=%u i=%lu", t, i);
		atomic_store_explicit(&counts[t], i + 1, memory_order_relaxed);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 2;
	if (argc == 5)
		error_at = strtoul(argv[4], NULL, 10);
	unsigned threads = (unsigned)atoi(argv[1]);
	unsigned long ready = strtoul(argv[2], NULL, 10);
	rate = strtoul(argv[3], NULL, 10);
	if (threads < 1 || threads > MAX_THREADS || rate == 0)
		return 2;
	if (ttlog_init(NULL) != TTLOG_OK)
		return 3;
	start_ns = now_ns();
	pthread_t th[MAX_THREADS];
	for (unsigned t = 0; t < threads; t++)
		if (pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t) != 0)
			return 4;
	for (;;) {
		unsigned done = 0;
		for (unsigned t = 0; t < threads; t++)
			done += atomic_load_explicit(&counts[t], memory_order_relaxed) >= ready;
		if (done == threads)
			break;
		usleep(1000);
	}
	printf("ready %d %lu\n", (int)getpid(), ready);
	fflush(stdout);
	for (;;)
		pause();
}
