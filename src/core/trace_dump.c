/* SPDX-License-Identifier: MIT */
/*
 * trace_dump.c - ttlog_trace_dump(): a snapshot of this process with only
 * one trace's events (and the scopes that enclose them), for a caller that
 * learnt from a `tracestate` of `ttlog=dump` that a request failed further
 * down (ttlog.h, "One request out of every process"). The records are
 * chosen by the snapshot writer's trace filter (snapshot/trace_filter.h);
 * the reason names the trace, so the file is found by it: `ttlog ls`,
 * `ttlog view --trace ID`.
 */
#include <stdio.h>
#include <string.h>

#include "context/context.h"
#include "snapshot/trace_filter.h"
#include "snapshot/writer.h"
#include "ttlog.h"

TTLOG_API int ttlog_trace_dump(const char *trace, char *path, size_t path_size)
{
	struct ttlog__trace_want want;
	memset(&want, 0, sizeof want);
	if (path && path_size)
		path[0] = '\0';
	if (trace) {
		if (!ttlog__trace_id_parse(trace, &want.trace_hi, &want.trace_lo))
			return TTLOG_E_INVALID;
	} else {
		char tp[TTLOG_TRACEPARENT_SIZE];
		int rc = ttlog_traceparent(tp, sizeof tp);
		if (rc != TTLOG_OK)
			return rc;
		if (!ttlog__trace_id_parse(tp, &want.trace_hi, &want.trace_lo))
			return TTLOG_E_INVALID;
	}
	char reason[64];
	snprintf(reason, sizeof reason, "trace-%016llx%016llx", (unsigned long long)want.trace_hi,
		 (unsigned long long)want.trace_lo);
	return ttlog__snapshot_write_trace(&want, reason, path, path_size);
}
