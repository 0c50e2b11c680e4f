/* SPDX-License-Identifier: MIT */
/*
 * ttlog_runtime.c - benchmark adapter for ttlog's runtime formats: the
 * ttlog adapter (ttlog.c) with each message logged by ttlog_log() and its
 * format in a variable, as a printf-style wrapper forwards it; what a
 * call costs over TTLOG_INFO() is the hash of the format, the probe, and
 * reading the arguments from a va_list.
 */
#define BENCH_LOGGER "ttlog-runtime"
#define BENCH_TTLOG_RUNTIME 1

/* volatile: the compiler may not see the formats' text. */
static const char *volatile bench_rt_args3 = "request id=%d latency=%f path=%s";
static const char *volatile bench_rt_noargs = "request done";
static const char *volatile bench_rt_str200 = "payload=%s";

#include "ttlog.c"
