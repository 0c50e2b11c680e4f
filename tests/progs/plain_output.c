/* SPDX-License-Identifier: MIT */
/*
 * plain_output.c - a program that knows nothing of ttlog, for the tests of
 * `ttlog run` (tests/run.sh): built without the library.
 *
 *   plain_output MODE
 *
 * Writes lines to stdout and stderr in a fixed interleaving (stdout through
 * printf, puts, fwrite and write(2); stderr through fprintf, write(2),
 * dprintf and perror), calls syslog(3), warn(3) and warnx(3), then: MODE
 * "exit" exits with status 3, "segv" dies of SIGSEGV in crash_here(),
 * "err" ends through err(3) with status 4, "exec" runs
 * `sh -c 'echo child-out; echo child-err >&2'` and exits with its status.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* The crash is deliberate: in a sanitizer build UBSan must let it reach
 * the CPU. */
__attribute__((noinline, no_sanitize("undefined"))) void crash_here(volatile int *p);
__attribute__((noinline, no_sanitize("undefined"))) void crash_here(volatile int *p)
{
	*p = 42;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";

	for (int i = 0; i < 3; i++) {
		printf("out printf %d\n", i);
		fflush(stdout);
		fprintf(stderr, "err fprintf %d\n", i);
	}
	puts("out puts");
	fflush(stdout);
	if (write(2, "ERROR: raw write to stderr\n", 27) != 27)
		return 10;
	fwrite("out fwrite\n", 1, 11, stdout);
	fflush(stdout);
	dprintf(2, "WARN dprintf %d\n", 5);
	if (write(1, "out write\n", 10) != 10)
		return 10;
	fprintf(stderr, "partial ");
	fprintf(stderr, "line joined\n");
	errno = ENOENT;
	perror("perror says");

	openlog("plain_output", LOG_PID, LOG_USER);
	syslog(LOG_ERR, "syslog error %d", 7);
	syslog(LOG_INFO, "syslog info %s", "here");
	syslog(LOG_CRIT, "syslog crit");
	errno = EACCES;
	warn("warn call %d", 1);
	warnx("warnx call %d", 2);
	printf("out last\n");
	fflush(stdout);

	if (strcmp(mode, "segv") == 0) {
		fprintf(stderr, "about to crash\n");
		crash_here((volatile int *)(argc > 100 ? (int *)argv : NULL));
	} else if (strcmp(mode, "err") == 0) {
		errno = EPERM;
		err(4, "err call %d", 3);
	} else if (strcmp(mode, "exec") == 0) {
		execl("/bin/sh", "sh", "-c", "echo child-out; echo child-err >&2; exit 6", (char *)NULL);
		return 11;
	}
	printf("out unflushed at exit");
	return 3;
}
