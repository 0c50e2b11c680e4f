/* SPDX-License-Identifier: MIT */
/*
 * stream_crash.c - a streaming process that dies of SIGSEGV with records
 * of every kind in its rings, for tests/test_stream.c.
 *
 *   stream_crash N
 *
 * Two threads (t=0 the main thread, t=1 a worker) each log "info t=%u
 * i=%lu" at INFO and "debug t=%u i=%lu" at DEBUG for i = 0..N-1, inside a
 * context "req" = 7 + t; thread 0 logs one ERROR "error
 * t=%u i=%lu" at i = N/2 (a promotion's trigger), pausing 200 us every 64
 * records. The worker ends, then
 * the main thread writes through a NULL pointer: the crash handler writes
 * the crash snapshot and closes the open segment with what the stream had
 * not read.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ttlog.h"

static unsigned long n;

/* The worker's context closes when it ends; the main thread's stays open
 * through the crash (TTLOG_CONTEXT_PUSH without its pop). */
static void run(unsigned t)
{
	TTLOG_CONTEXT_PUSH("req", 7 + t);
	for (unsigned long i = 0; i < n; i++) {
		TTLOG_INFO("info t=%u i=%lu", t, i);
		TTLOG_DEBUG("debug t=%u i=%lu", t, i);
		if (t == 0 && i == n / 2)
			TTLOG_ERROR("error t=%u i=%lu", t, i);
		if (i % 64 == 63)
			usleep(200); /* the drainer reads mid-segment, not only when the ring is full */
	}
	if (t)
		ttlog_context_pop();
}

static void *worker(void *arg)
{
	(void)arg;
	run(1);
	return NULL;
}

/* The crash is deliberate: UBSan must let it reach the CPU. */
static __attribute__((noinline, no_sanitize("undefined"))) void null_deref(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
}

int main(int argc, char **argv)
{
	if (argc != 2 || (n = strtoul(argv[1], NULL, 10)) == 0)
		return 2;
	if (ttlog_init(NULL) != TTLOG_OK)
		return 3;
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL) != 0)
		return 4;
	pthread_join(th, NULL);
	run(0);
	null_deref();
	return 0;
}
