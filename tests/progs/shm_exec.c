/* SPDX-License-Identifier: MIT */
/*
 * shm_exec.c - a process that calls exec while in shared-memory mode, for
 * the tests of `ttlog recover` (tests/cli_recover.sh): exec keeps the pid
 * and the start time but drops every mapping, so the mapping made before it
 * is left behind while the process runs on, and must not look alive.
 *
 * Usage: shm_exec MODE EVENTS
 *
 * It initialises ttlog from the environment alone (the test gives
 * TTLOG_SHARED_MEMORY=1 and TTLOG_SHARED_DIR), logs "main event N" for
 * N = 1..EVENTS, and execs itself (/proc/self/exe) with a third argument,
 * "after". The new program then, by MODE:
 *   plain    does not use ttlog at all;
 *   private  initialises ttlog in private mode (TTLOG_SHARED_MEMORY=0 set
 *            before ttlog_init) and logs "after exec event N";
 *   shared   initialises ttlog in shared-memory mode again, which takes the
 *            path over with a new file, and logs "after exec event N";
 * writes "ready PID EVENTS" to stdout and waits for the end of its input,
 * then logs "main done" (if it uses ttlog), shuts ttlog down and exits 0.
 *
 * The test synchronises on the "ready" line, never on time. Nothing is
 * written to stdout before the exec, so no buffered output is lost in it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

static int usage(void)
{
	fprintf(stderr, "usage: shm_exec plain|private|shared EVENTS\n");
	return 2;
}

static int init_or_say(const char *when)
{
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK)
		fprintf(stderr, "shm_exec: ttlog_init %s: %s: %s\n", when, ttlog_strerror(rc),
			ttlog_init_error());
	return rc;
}

/* The program after exec. */
static int after(const char *mode, int events)
{
	int logging = strcmp(mode, "plain") != 0;
	if (strcmp(mode, "private") == 0)
		setenv("TTLOG_SHARED_MEMORY", "0", 1);
	if (logging && init_or_say("after exec") != TTLOG_OK)
		return 1;
	for (int n = 1; logging && n <= events; n++)
		TTLOG_INFO("after exec event %d", n);
	printf("ready %d %d\n", (int)getpid(), events);
	if (fflush(stdout) != 0)
		return 1;

	char buf[256];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	if (logging) {
		TTLOG_INFO("main done");
		if (ttlog_shutdown() != TTLOG_OK)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4)
		return usage();
	const char *mode = argv[1];
	int events = atoi(argv[2]);
	if ((strcmp(mode, "plain") != 0 && strcmp(mode, "private") != 0 &&
	     strcmp(mode, "shared") != 0) || events < 1)
		return usage();
	if (argc == 4)
		return strcmp(argv[3], "after") == 0 ? after(mode, events) : usage();

	if (init_or_say("before exec") != TTLOG_OK)
		return 1;
	for (int n = 1; n <= events; n++)
		TTLOG_INFO("main event %d", n);
	char *args[] = {argv[0], argv[1], argv[2], (char *)"after", NULL};
	execv("/proc/self/exe", args);
	fprintf(stderr, "shm_exec: exec: %s\n", strerror(errno));
	return 1;
}
