/* SPDX-License-Identifier: MIT */
/*
 * stack_crash.c - dies of SIGSEGV two known functions deep, for the
 * backtrace tests of `ttlog view` (tests/cli_stack.sh).
 *
 *   stack_crash DIR [snapshot]
 *
 * main() calls caller(), which calls crash_here(), which stores through a
 * null pointer. With "snapshot", caller() calls snapshot_here() instead,
 * which writes a snapshot with its stack (ttlog_snapshot_with_stack) and
 * returns, and the program exits normally. Both are noinline and do work after their call, so each
 * keeps a frame of its own and the return address stays inside caller().
 * The lines the test expects are marked with "line:crash", "line:call" and
 * "line:snapshot" comments, which the test finds with grep: no line number
 * is written twice. Thread name "stacker", so the backtrace header can be checked.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ttlog.h"

#define DELIBERATE_UB __attribute__((noinline, no_sanitize("undefined")))

static volatile int after;

static DELIBERATE_UB void crash_here(int value)
{
	volatile int *volatile p = NULL;
	*p = value; /* line:crash */
	after = value;
}

static __attribute__((noinline)) void snapshot_here(int value)
{
	int rc = ttlog_snapshot_with_stack("on-demand"); /* line:snapshot */
	if (rc != TTLOG_OK)
		fprintf(stderr, "stack_crash: ttlog_snapshot_with_stack: %s\n", ttlog_strerror(rc));
	after = value;
}

static volatile int snapshot_only;

static __attribute__((noinline)) void caller(int value)
{
	if (snapshot_only)
		snapshot_here(value);
	else
		crash_here(value + 1); /* line:call */
	after = value; /* not a tail call */
}

int main(int argc, char **argv)
{
	struct ttlog_config cfg;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "snapshot") != 0)) {
		fprintf(stderr, "usage: stack_crash DIR [snapshot]\n");
		return 2;
	}
	snapshot_only = argc == 3;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "stack_crash: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 2;
	}
	pthread_setname_np(pthread_self(), "stacker");
	TTLOG_INFO("about to crash");
	caller(41);
	ttlog_shutdown();
	return 0;
}
