/* SPDX-License-Identifier: MIT */
/*
 * overflow_thread.c - a stack overflow in a thread that never logs, for
 * tests/test_crash_cases.c. Such a thread attaches no ring, so only the
 * wrapped thread creation (src/thread/start.c) gives it the alternate
 * signal stack the crash handler needs to run at all.
 *
 *   overflow_thread DIR [MODE]
 *
 * The main thread logs "last %d" = 7 and starts the thread, which recurses
 * until its guard page. MODE "budget" sets a memory cap so small that the
 * thread gets no signal stack: that thread takes a snapshot ("budget"),
 * whose self metrics must count it, instead of overflowing; exit 0. Built twice by tests/CMakeLists.txt: against libttlog.so
 * (overflow_thread_shared) and against libttlog.a with
 * -Wl,--wrap=pthread_create (overflow_thread_wrap). It does not use the
 * reader. Exit status 2 is a set-up error, 1 "survived the overflow".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog.h"

#define KEEP_FRAME() __asm__ volatile("" ::: "memory")
#define CRASHER __attribute__((noinline, no_sanitize("undefined")))

static volatile int depth_seen;

static CRASHER int overflow_recurse(int depth)
{
	volatile char frame[256];
	frame[0] = (char)depth;
	depth_seen = depth;
	if (depth < 0)
		return 0; /* never: depth only grows, but the compiler cannot know */
	int r = overflow_recurse(depth + 1);
	KEEP_FRAME();
	return r + frame[0];
}

static void *never_logs(void *arg)
{
	if (arg) /* budget */
		return (void *)(long)ttlog_snapshot("budget");
	overflow_recurse(0);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "budget") != 0)) {
		fprintf(stderr, "usage: overflow_thread DIR [budget]\n");
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	if (argc == 3) {
		cfg.memory_cap = 64u << 10; /* a quarter of it holds no signal stack */
		cfg.ring_size = 64u << 10;
	}
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "overflow_thread: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 2;
	}
	TTLOG_INFO("last %d", 7);
	pthread_t t;
	void *ret = NULL;
	if (pthread_create(&t, NULL, never_logs, argc == 3 ? "budget" : NULL) != 0)
		return 2;
	pthread_join(t, &ret);
	if (argc == 3)
		return ret == (void *)(long)TTLOG_OK ? 0 : 2;
	return 1;
}
