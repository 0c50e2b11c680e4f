/* SPDX-License-Identifier: MIT */
/*
 * emit.c - the shim's call sites. Every captured line is one event whose
 * message is the line itself ("%s", so the viewer prints it unchanged) and
 * whose field "source" says where it came from: stdout, stderr, syslog or
 * err (err(3)/warn(3) and their variants). A log call's level is a
 * constant of its site, so there is one site per level; the target of all
 * of them is "run". Lines longer than the snapshot's string limit
 * (TTLOG_MAX_STRING, default 256 bytes) are truncated by the library,
 * which marks them so.
 */
#define TTLOG_TARGET "run"
#include "ttlog.h"

#include "shim.h"

static const char *const source_names[] = {
	[RUN_SOURCE_STDOUT] = "stdout",
	[RUN_SOURCE_STDERR] = "stderr",
	[RUN_SOURCE_SYSLOG] = "syslog",
	[RUN_SOURCE_ERR] = "err",
};

void run_emit(enum run_source source, int level, const char *line)
{
	const char *src = source_names[source];

	switch (level) {
	case TTLOG_LEVEL_TRACE:
		TTLOG_TRACE("%s", line, TTLOG_F("source", src));
		break;
	case TTLOG_LEVEL_DEBUG:
		TTLOG_DEBUG("%s", line, TTLOG_F("source", src));
		break;
	case TTLOG_LEVEL_INFO:
		TTLOG_INFO("%s", line, TTLOG_F("source", src));
		break;
	case TTLOG_LEVEL_WARN:
		TTLOG_WARN("%s", line, TTLOG_F("source", src));
		break;
	case TTLOG_LEVEL_ERROR:
		TTLOG_ERROR("%s", line, TTLOG_F("source", src));
		break;
	default:
		TTLOG_FATAL("%s", line, TTLOG_F("source", src));
		break;
	}
}
