/* SPDX-License-Identifier: MIT */
/*
 * core_dumper.c - a process in private mode whose core dump
 * tests/core_recover.sh recovers with `ttlog recover --core`.
 *
 *   core_dumper MODE
 *
 * Three threads ("core-w0" .. "core-w2") each log "w%u seq=%u" with seq
 * 0 .. 2999 (thread 2's ring of 16 KiB wraps many times), then wait. The
 * main thread then logs "main last=%d" with 42 and:
 *   abort   raises SIGABRT with core dumps allowed (RLIMIT_CORE raised to
 *           its maximum) and no crash handler of ttlog's: the kernel dumps
 *           core as /proc/sys/kernel/core_pattern says.
 *   wait    prints "ready PID" on stdout and sleeps until killed (the test
 *           dumps it with gcore).
 *   noinit  (no ttlog_init) prints "ready PID" and sleeps: a process whose
 *           anchor was never filled.
 *   noinit-abort  the same, aborting as in abort mode instead.
 * Exit status 2 is a set-up error.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ttlog.h"

#define EVENTS 3000u

static pthread_barrier_t logged, never;

static void *worker(void *arg)
{
	unsigned w = (unsigned)(uintptr_t)arg;
	char name[16];
	snprintf(name, sizeof name, "core-w%u", w);
	pthread_setname_np(pthread_self(), name);
	for (unsigned seq = 0; seq < EVENTS; seq++)
		TTLOG_INFO("w%u seq=%u", w, seq);
	pthread_barrier_wait(&logged);
	pthread_barrier_wait(&never); /* until the process ends */
	return NULL;
}

static void dump_core(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_CORE, &rl);
	}
	signal(SIGABRT, SIG_DFL);
	abort();
}

static void ready_and_sleep(void)
{
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: core_dumper abort|wait|noinit|noinit-abort\n");
		return 2;
	}
	if (strcmp(argv[1], "noinit") == 0)
		ready_and_sleep();
	if (strcmp(argv[1], "noinit-abort") == 0)
		dump_core();
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.crash_signals = -1;
	cfg.ring_size = 16 * 1024;
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "core_dumper: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 2;
	}
	pthread_barrier_init(&logged, NULL, 4);
	pthread_barrier_init(&never, NULL, 5);
	pthread_t t[3];
	for (uintptr_t i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 2;
	pthread_barrier_wait(&logged);
	TTLOG_INFO("main last=%d", 42);
	if (strcmp(argv[1], "abort") == 0)
		dump_core();
	ready_and_sleep();
}
