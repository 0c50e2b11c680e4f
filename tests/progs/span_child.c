/* SPDX-License-Identifier: MIT */
/*
 * span_child.c - a process started with a TRACEPARENT environment
 * variable, as a service would be by its caller: it opens one span, which
 * must join the caller's trace, takes a snapshot and prints its own
 * traceparent.
 *
 * Usage: span_child DIR   (snapshots go to DIR; exit status 0 on success)
 */
#include <stdio.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: span_child DIR\n");
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	cfg.crash_signals = -1;
	if (ttlog_init(&cfg) != TTLOG_OK) {
		fprintf(stderr, "span_child: %s\n", ttlog_init_error());
		return 1;
	}
	char tp[TTLOG_TRACEPARENT_SIZE];
	{
		TTLOG_SPAN("child.work");
		TTLOG_INFO("child: working");
		if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK)
			return 1;
	}
	if (ttlog_snapshot("span-child") != TTLOG_OK)
		return 1;
	printf("%s\n", tp);
	return 0;
}
