/* SPDX-License-Identifier: MIT */
/*
 * span_attrs.c - writes a snapshot for the agreement tests of the exports
 * (tests/export_agree.sh) and prints its path.
 *
 * Usage: span_attrs DIR [crash]
 *
 * On the main thread, inside the context request_id=17: the span "op",
 * begun with the field user=5, that learns rows=3 and user=6 before it
 * ends; then the span "still.open" with one event, open when the snapshot
 * is taken. With "crash", the process then crashes (SIGSEGV) inside
 * "still.open" instead, and the crash handler writes the snapshot.
 * The real clock: the snapshot is written after the last event, so that an
 * output that ended the open span at the snapshot's time instead of the
 * last event's would be seen.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "crash") != 0)) {
		fprintf(stderr, "usage: span_attrs DIR [crash]\n");
		return 2;
	}
	int crash = argc == 3;
	unsetenv("TTLOG_SIGNALS");
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	if (!crash)
		cfg.crash_signals = -1;
	if (ttlog_init(&cfg) != TTLOG_OK) {
		fprintf(stderr, "span_attrs: %s\n", ttlog_init_error());
		return 1;
	}
	TTLOG_CONTEXT("request_id", 17);
	TTLOG_SPAN_BEGIN("op", TTLOG_F("user", 5));
	TTLOG_INFO("in op");
	TTLOG_SPAN_FIELD("rows", 3);
	TTLOG_SPAN_FIELD("user", 6);
	TTLOG_SPAN_END();
	TTLOG_SPAN_BEGIN("still.open");
	TTLOG_INFO("last event");
	if (crash) {
		fflush(stdout);
		raise(SIGSEGV);
		return 1;
	}
	char path[4096];
	if (ttlog_snapshot_path("agree", path, sizeof path) != TTLOG_OK)
		return 1;
	puts(path);
	return 0;
}
