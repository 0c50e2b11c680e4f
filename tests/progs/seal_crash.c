/* SPDX-License-Identifier: MIT */
/*
 * seal_crash.c - a program whose files the encryption test reads
 * (tests/seal.sh): it logs "secret-message i=%d word=%s" for i = 0..N-1
 * with the word "hunter2-%d", then ends as MODE says.
 *
 *   seal_crash N MODE
 *
 * MODE: crash (a write through a NULL pointer: the crash handler writes
 * the snapshot and closes the stream's segment), snapshot (ttlog_snapshot,
 * then a normal exit, which closes the stream), hang (prints "ready" and
 * waits to be killed, for `ttlog recover`). The settings come from
 * the environment (TTLOG_DIR, TTLOG_ENCRYPT_KEY, TTLOG_STREAM, ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

/* The crash is deliberate: UBSan must let it reach the CPU. */
static __attribute__((noinline, no_sanitize("undefined"))) void null_deref(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int n = atoi(argv[1]);
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "seal_crash: %s\n", ttlog_init_error());
		return 3;
	}
	char word[32];
	for (int i = 0; i < n; i++) {
		snprintf(word, sizeof word, "hunter2-%d", i);
		TTLOG_INFO("secret-message i=%d word=%s", i, word);
	}
	if (strcmp(argv[2], "crash") == 0)
		null_deref();
	if (strcmp(argv[2], "hang") == 0) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (ttlog_snapshot("sealed") != TTLOG_OK)
		return 4;
	return 0;
}
