/* SPDX-License-Identifier: MIT */
/*
 * ttlog_instrument.h - libttlog-instrument, spans for code built with
 * -finstrument-functions.
 *
 * Build the code with -finstrument-functions, link it with
 * -lttlog-instrument -lttlog (and -rdynamic, so that dladdr() names the
 * program's own functions), and every instrumented function call is a span
 * named after the function once ttlog is on (ttlog_init(), or `ttlog run`).
 * TTLOG_INSTRUMENT_INCLUDE / TTLOG_INSTRUMENT_EXCLUDE: comma-separated
 * globs over symbol names and module paths. See README "Auto-instrumentation".
 */
#ifndef TTLOG_INSTRUMENT_H
#define TTLOG_INSTRUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ttlog_instrument_stats {
	uint64_t resolved;  /* addresses resolved to a name (dladdr) */
	uint64_t excluded;  /* cached functions excluded by the lists */
	uint64_t uncached;  /* calls recorded as "ttlog.function" (table full) */
	uint64_t too_deep;  /* calls not recorded: deeper than 256 instrumented calls */
	size_t text_used;   /* bytes of the name area in use */
};

/* What the hooks have done so far in this process. */
__attribute__((no_instrument_function)) void
ttlog_instrument_stats(struct ttlog_instrument_stats *stats);

#ifdef __cplusplus
}
#endif

#endif
