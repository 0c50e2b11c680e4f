/* SPDX-License-Identifier: MIT */
/*
 * logger_plugin.c - a shared object that logs through ttlog, loaded with
 * dlopen() and unloaded with dlclose() by tests/progs/crash_cases.c: the
 * snapshots written after the unload must still describe its call sites
 * (format, file, function, target, field names), which lived in its own
 * memory.
 *
 * Built by tests/CMakeLists.txt as build/tests/progs/logger_plugin.so. It
 * does not link ttlog itself: the program that loads it exports ttlog's
 * functions.
 */
#include "ttlog.h"

#define EXPORTED __attribute__((visibility("default")))

/* Logs n events from three call sites of this module, one with a field. */
EXPORTED void plugin_log(int n)
{
	for (int i = 0; i < n; i++) {
		TTLOG_INFO("plugin event %d", i);
		TTLOG_WARN("plugin field %d", TTLOG_F("plugin_count", i));
	}
	TTLOG_ERROR("plugin done after %d", n);
}
