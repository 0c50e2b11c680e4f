/* SPDX-License-Identifier: MIT */
/*
 * open_ahead.h - the next file of a list opened on a thread of its own
 * while the current one is printed, for `ttlog view` and `ttlog export`
 * (--jobs N > 1).
 *
 * Opening a file (reading it, checking every chunk and block) is about a
 * third of the time of printing it; with the next file opened meanwhile,
 * that time is off the reading thread for every file but the first. The
 * opened reader and its status are handed over as ttlog_reader_open_ex()
 * returned them, and whatever the open found is reported by the caller at
 * its turn, so the output is the same as opening each file when it comes.
 */
#ifndef TTLOG__CLI_OPEN_AHEAD_H
#define TTLOG__CLI_OPEN_AHEAD_H

#include <pthread.h>

#include "ttlog_reader.h"

struct cli_open_ahead {
	pthread_t thread;
	int running;          /* a thread is opening `path` */
	const char *path;
	unsigned flags;
	ttlog_reader *reader; /* what the open gave */
	int rc;
	int given;            /* reader was opened elsewhere (cli_open_ahead_give()) */
};

/** Starts opening path with ttlog_reader_open_ex(path, flags). If no
 *  thread can be had, the file is opened by cli_open_ahead_take(). */
void cli_open_ahead_start(struct cli_open_ahead *a, const char *path, unsigned flags);

/** The reader of the file started last (opened now if it was not), with
 *  the status of its open in *rc. path must be the one started; if it is
 *  not (or nothing was started) path is opened here. */
ttlog_reader *cli_open_ahead_take(struct cli_open_ahead *a, const char *path, unsigned flags,
				  int *rc);

/** Hands over a reader of path opened elsewhere (and the status of its
 *  open), for cli_open_ahead_take() to return. */
void cli_open_ahead_give(struct cli_open_ahead *a, const char *path, ttlog_reader *r, int rc);

/** Waits for a file being opened and closes it (a list left early). */
void cli_open_ahead_cancel(struct cli_open_ahead *a);

#endif /* TTLOG__CLI_OPEN_AHEAD_H */
