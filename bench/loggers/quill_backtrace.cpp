/* SPDX-License-Identifier: MIT */
/*
 * quill_backtrace.cpp - benchmark adapter for Quill's backtrace, the
 * closest thing Quill has to a flight recorder.
 *
 * Quill documents it (Logger::init_backtrace, LOG_BACKTRACE): messages
 * logged with LOG_BACKTRACE are kept in a ring of the last N messages and
 * written to the logger's sinks only when flush_backtrace() is called or a
 * message at the chosen flush level is logged. Unlike ttlog's ring, the
 * ring is kept by Quill's backend thread: the calling thread still encodes
 * every message into its queue, and the backend takes it from there into
 * the ring. Nothing is written to disk while the program runs.
 *
 * Ring: 16384 messages, as for spdlog's backtrace adapter (about as many
 * args3 events as ttlog's default 1 MiB ring holds); no flush level, so the
 * ring is only ever written on request (never, here).
 */
#include "harness_env.h"

#define BENCH_LOGGER "Quill backtrace"
#define BENCH_QUILL_RING 16384

#include "quill.hpp"

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	LOG_BACKTRACE(bench_quill, "request id={} latency={} path={}", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	LOG_BACKTRACE(bench_quill, "request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	LOG_BACKTRACE(bench_quill, "payload={}", s);
}

static int bench_setup(const struct bench_env *env)
{
	if (bench_quill_setup(env, "quill-backtrace.log") != 0)
		return 1;
	bench_quill->init_backtrace(BENCH_QUILL_RING);
	return 0;
}

/* The ring is memory only: nothing to drain to disk, but waiting for the
 * backend thread to take every message into its ring makes its work
 * complete for the instruction counts. */
static int bench_drain(void)
{
	bench_quill_flush();
	return 1;
}

#include "harness.h"
