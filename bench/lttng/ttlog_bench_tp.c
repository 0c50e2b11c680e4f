/* SPDX-License-Identifier: MIT */
/*
 * ttlog_bench_tp.c - the probe code of the "ttlog_bench" tracepoint provider
 * (ttlog_bench_tp.h), linked statically into ttlog-bench-lttng.
 *
 * LTTNG_UST_TRACEPOINT_CREATE_PROBES makes the provider header expand into
 * the event descriptions and the probe callbacks, and registers them with
 * liblttng-ust from a constructor. LTTNG_UST_TRACEPOINT_DEFINE emits the
 * tracepoint definitions (the per-event state that lttng.c's fast path
 * tests); exactly one file of the program may define it, and keeping both
 * here leaves lttng.c a plain user of the header.
 */

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "ttlog_bench_tp.h"
