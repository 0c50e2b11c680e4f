/* SPDX-License-Identifier: MIT */
/*
 * open_ahead.c - the next file opened on a thread while the current one is
 * printed (see cli/open_ahead.h).
 */
#include <string.h>

#include "open_ahead.h"

static void *open_thread(void *arg)
{
	struct cli_open_ahead *a = arg;
	a->reader = NULL;
	a->rc = ttlog_reader_open_ex(a->path, a->flags, &a->reader);
	return NULL;
}

void cli_open_ahead_start(struct cli_open_ahead *a, const char *path, unsigned flags)
{
	cli_open_ahead_cancel(a);
	a->path = path;
	a->flags = flags;
	a->reader = NULL;
	a->running = pthread_create(&a->thread, NULL, open_thread, a) == 0;
	if (!a->running)
		a->path = NULL;
}

ttlog_reader *cli_open_ahead_take(struct cli_open_ahead *a, const char *path, unsigned flags,
				  int *rc)
{
	if ((a->running || a->given) && a->path == path) {
		if (a->running)
			pthread_join(a->thread, NULL);
		a->running = a->given = 0;
		a->path = NULL;
		*rc = a->rc;
		ttlog_reader *r = a->reader;
		a->reader = NULL;
		return r;
	}
	cli_open_ahead_cancel(a);
	ttlog_reader *r = NULL;
	*rc = ttlog_reader_open_ex(path, flags, &r);
	return r;
}

void cli_open_ahead_give(struct cli_open_ahead *a, const char *path, ttlog_reader *r, int rc)
{
	cli_open_ahead_cancel(a);
	a->given = 1;
	a->path = path;
	a->reader = r;
	a->rc = rc;
}

void cli_open_ahead_cancel(struct cli_open_ahead *a)
{
	if (!a->running && !a->given)
		return;
	if (a->running)
		pthread_join(a->thread, NULL);
	ttlog_reader_close(a->reader);
	a->reader = NULL;
	a->running = a->given = 0;
	a->path = NULL;
}
