/* SPDX-License-Identifier: MIT */
/*
 * names.c - base names of paths and names of clock sources (see names.h).
 */
#include <string.h>

#include "render/names.h"
#include "ttlog_reader.h"

const char *render_base_name(const char *path)
{
	if (!path)
		return "?";
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

const char *render_clock_name(int clock)
{
	static const char *const names[] = {
		[TTLOG_FILE_CLOCK_TSC] = "tsc",
		[TTLOG_FILE_CLOCK_CNTVCT] = "cntvct",
		[TTLOG_FILE_CLOCK_MONOTONIC] = "monotonic",
		[TTLOG_FILE_CLOCK_FAKE] = "fake",
	};
	if (clock < 0 || (size_t)clock >= sizeof names / sizeof names[0])
		return NULL;
	return names[clock];
}
