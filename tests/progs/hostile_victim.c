/* SPDX-License-Identifier: MIT */
/*
 * hostile_victim.c - a process for tests/hostile_users.sh, run as a second
 * user whose directories another user has tampered with: it initialises
 * ttlog from the environment alone, logs a few events and writes one
 * snapshot, reporting what happened on stdout:
 *   init failed: <ttlog_init_error()>          (then exit status 3)
 *   refused <ttlog_refused_dirs()>
 *   ready <pid>                                (wait mode, then one line of stdin)
 *   snapshot <path>  or  snapshot failed: <ttlog_strerror()>
 *
 * Usage: hostile_victim [wait]
 * In wait mode the program says "ready" and reads one line before the
 * snapshot, so that the test can act on the directory in between (plant
 * files named after the pid). Exit status 0 once the snapshot is written,
 * 4 if it was not.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	int wait = argc > 1 && strcmp(argv[1], "wait") == 0;
	if (ttlog_init(NULL) != TTLOG_OK) {
		printf("init failed: %s\n", ttlog_init_error());
		return 3;
	}
	printf("refused %u\n", ttlog_refused_dirs());
	for (int i = 1; i <= 5; i++)
		TTLOG_INFO("victim event %d", i);
	if (wait) {
		char line[64];
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		if (!fgets(line, sizeof line, stdin))
			return 5;
	}
	char path[PATH_MAX];
	int rc = ttlog_snapshot_path("victim", path, sizeof path);
	if (rc == TTLOG_OK)
		printf("snapshot %s\n", path);
	else
		printf("snapshot failed: %s\n", ttlog_strerror(rc));
	ttlog_shutdown();
	return rc == TTLOG_OK ? 0 : 4;
}
