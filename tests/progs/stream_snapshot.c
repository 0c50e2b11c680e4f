/* SPDX-License-Identifier: MIT */
/*
 * stream_snapshot.c - streams and then takes a snapshot, so that the same
 * records are in a segment and in a snapshot, for tests/stream_store.sh.
 *
 *   stream_snapshot EVENTS
 *
 * Logs "event i=%d" at INFO for i = 0 .. EVENTS-1, one a millisecond, then
 * calls ttlog_snapshot("both") and ttlog_shutdown(). TTLOG_STREAM and
 * TTLOG_DIR come from the environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: stream_snapshot EVENTS\n");
		return 2;
	}
	int events = atoi(argv[1]);
	if (ttlog_init(NULL) != TTLOG_OK)
		return 1;
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < events; i++) {
		TTLOG_INFO("event i=%d", i);
		nanosleep(&ms, NULL);
	}
	int rc = ttlog_snapshot("both");
	ttlog_shutdown();
	return rc == TTLOG_OK ? 0 : 1;
}
