/* SPDX-License-Identifier: MIT */
/*
 * shm_echo.c - a running process for the live tail of `ttlog serve`
 * (tests/serve_live.sh): it logs what its input asks, when it asks, so
 * that the test knows which events are new.
 *
 * Usage: shm_echo 0 EVENTS
 *   (the arguments of tests/progs/shm_logger, so that
 *   tests/support/logger_lib.sh runs it: THREADS must be 0)
 *
 * The configuration comes from the environment (TTLOG_SHARED_MEMORY,
 * TTLOG_SHARED_DIR, TTLOG_RING_SIZE, ...). It logs "echo start N" for
 * N = 1..EVENTS, writes "ready PID EVENTS", then for each line of input:
 *   log TEXT       INFO "TEXT" from the main thread
 *   warn TEXT      WARN "TEXT" from the main thread
 *   thread TEXT    INFO "TEXT" from a new thread named echo-thread
 *   burst N TAG    INFO "TAG I" for I = 1..N from the main thread (a ring
 *                  smaller than N events overwrites some of them)
 * At the end of input it ends normally, exit status 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

static void *thread_main(void *arg)
{
	pthread_setname_np(pthread_self(), "echo-thread");
	TTLOG_INFO("%s", (const char *)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "0") != 0 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: shm_echo 0 EVENTS\n");
		return 2;
	}
	int events = atoi(argv[2]);
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shm_echo: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 1;
	}
	for (int n = 1; n <= events; n++)
		TTLOG_INFO("echo start %d", n);
	printf("ready %d %d\n", (int)getpid(), events);
	if (fflush(stdout) != 0)
		return 1;

	char line[1024];
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		char tag[256];
		long count;
		if (strncmp(line, "log ", 4) == 0) {
			TTLOG_INFO("%s", line + 4);
		} else if (strncmp(line, "warn ", 5) == 0) {
			TTLOG_WARN("%s", line + 5);
		} else if (strncmp(line, "thread ", 7) == 0) {
			pthread_t t;
			if (pthread_create(&t, NULL, thread_main, line + 7) != 0 ||
			    pthread_join(t, NULL) != 0)
				return 1;
		} else if (sscanf(line, "burst %ld %255s", &count, tag) == 2) {
			for (long i = 1; i <= count; i++)
				TTLOG_INFO("%s %ld", tag, i);
		} else {
			fprintf(stderr, "shm_echo: unknown command '%s'\n", line);
		}
	}
	rc = ttlog_shutdown();
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shm_echo: ttlog_shutdown: %s\n", ttlog_strerror(rc));
		return 1;
	}
	return 0;
}
