/* SPDX-License-Identifier: MIT */
/*
 * snap_trace.h - `ttlog snap --trace ID --all` (snap_trace.c): one
 * request's events out of every shared-memory process, into one bundle.
 */
#ifndef TTLOG_CLI_SNAP_TRACE_H
#define TTLOG_CLI_SNAP_TRACE_H

#include <stdint.h>

/* Exit status when no process holds an event of the trace. */
#define CLI_EXIT_NONE 3

struct cli_snap_trace {
	uint64_t trace_hi, trace_lo;
	const char *base;      /* the mappings' base directory; NULL: the default */
	const char *dir;       /* where the bundle goes; NULL: ttlog_default_dir() */
	int all_users;         /* every user's mappings, not only ours */
	int verbose;           /* a line per process on stderr */
};

/* A trace id, 32 hex digits (either case) or a whole traceparent, into
 * *hi and *lo. 0, or -1 if it is neither (or all zeros). */
int cli_parse_trace_id(const char *text, uint64_t *hi, uint64_t *lo);

/* Writes the bundle and prints its path. An exit status. */
int cli_snap_trace(const struct cli_snap_trace *t);

#endif
