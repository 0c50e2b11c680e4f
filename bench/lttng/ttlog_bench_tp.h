/* SPDX-License-Identifier: MIT */
/*
 * ttlog_bench_tp.h - LTTng-UST tracepoint provider "ttlog_bench" for the
 * LTTng peer of the ttlog benchmark suite.
 *
 * The three events carry exactly what the benchmark's three workloads log
 * through every logger, so that all peers record the same payload:
 *   args3   id (int), latency (double), path (string "GET /api/v1/users")
 *   noargs  no field at all
 *   str200  one string field (a 200-character string)
 *
 * This header is read twice per translation unit, as LTTng-UST's provider
 * scheme requires: once normally (declarations), and again through
 * <lttng/tracepoint-event.h>, which re-includes it by the name given in
 * LTTNG_UST_TRACEPOINT_INCLUDE to generate the probe code in the one file
 * that defines LTTNG_UST_TRACEPOINT_CREATE_PROBES (ttlog_bench_tp.c). That
 * is why the include guard below is skipped when
 * LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ is set.
 */

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER ttlog_bench

/* Found through the include path (CMake adds this directory), so that the
 * re-include does not depend on where the including file lives. */
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "ttlog_bench_tp.h"

#if !defined(TTLOG_BENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define TTLOG_BENCH_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(
	ttlog_bench,
	args3,
	LTTNG_UST_TP_ARGS(int, id, double, latency, const char *, path),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_float(double, latency, latency)
		lttng_ust_field_string(path, path)
	)
)

LTTNG_UST_TRACEPOINT_EVENT(
	ttlog_bench,
	noargs,
	LTTNG_UST_TP_ARGS(),
	LTTNG_UST_TP_FIELDS()
)

LTTNG_UST_TRACEPOINT_EVENT(
	ttlog_bench,
	str200,
	LTTNG_UST_TP_ARGS(const char *, msg),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(msg, msg)
	)
)

#endif /* TTLOG_BENCH_TP_H */

#include <lttng/tracepoint-event.h>
