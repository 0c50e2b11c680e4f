/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - helpers shared by the tests: scratch directories, snapshot
 * discovery, and running a program in a child process with a time limit.
 */
#ifndef TTLOG_TESTS_TESTUTIL_H
#define TTLOG_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A new empty directory under $TTLOG_TEST_TMP (or /tmp); malloc'd path. */
char *tu_tmpdir(const char *tag);

/* The *.ttlog files in dir, sorted by name; returns the count (-1 on error)
 * and a malloc'd array of malloc'd paths in *paths. */
int tu_list_snapshots(const char *dir, char ***paths);
void tu_free_list(char **paths, int n);

/* Path of a helper program built from tests/progs (static buffer). */
const char *tu_prog(const char *name);

/*
 * Runs argv in a child process with no core dumps, stdout and stderr
 * captured into out (NUL-terminated, cut at cap). Kills it after timeout_s
 * seconds. Returns 0 and the wait status in *status, or -1 on timeout or if
 * it could not run.
 */
int tu_run(char *const argv[], int timeout_s, int *status, char *out, size_t cap);

/* This test program's snapshot directory, made on first use. */
const char *tu_snapshot_dir(void);

/*
 * ttlog_init() with cfg (NULL: the defaults), its snapshots going to
 * tu_snapshot_dir() and no crash handlers (the test runner owns the process).
 * Prints ttlog_init_error() on failure. Returns 0 or -1, so that it can end a
 * cmocka group set-up.
 */
int tu_start(struct ttlog_config *cfg);

/* A cmocka group tear-down: ttlog_shutdown(). */
int tu_stop(void **state);

/* Takes a snapshot, opens it and removes the file (the reader holds its
 * bytes). NULL, with a message on stderr, if either step fails. */
ttlog_reader *tu_snapshot_open(const char *reason);

/* Under AddressSanitizer, lets a crash reach ttlog and then the default
 * action, as in a normal build (ASan's own fatal-signal handlers would
 * report and exit(1) instead of dying of the signal). Call first in main(). */
void tu_let_crashes_through(void);

/* Prints len bytes of text on stderr, control bytes escaped, for failure
 * messages: `    LABEL (N bytes): "..."`. */
void tu_show_bytes(const char *label, const char *text, size_t len);

/* Events in r whose site format is `format` (iterates r from the start). */
int tu_count_format(ttlog_reader *r, const char *format);

/* The next of a fixed pseudo-random sequence (xorshift64) kept in *state,
 * which must not start at 0: the same numbers at every run, so that a
 * failure repeats. */
static inline uint64_t tu_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

#ifdef __cplusplus
}
#endif

#endif
