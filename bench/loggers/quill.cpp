/* SPDX-License-Identifier: MIT */
/*
 * quill.cpp - benchmark adapter for Quill's asynchronous file logger:
 * LOG_INFO into the calling thread's queue, Quill's backend thread formats
 * each message with Quill's default pattern and writes it to a FileSink.
 * See quill.hpp.
 */
#include "harness_env.h"

#define BENCH_LOGGER "Quill"

#include "quill.hpp"

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	LOG_INFO(bench_quill, "request id={} latency={} path={}", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	LOG_INFO(bench_quill, "request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	LOG_INFO(bench_quill, "payload={}", s);
}

static int bench_setup(const struct bench_env *env)
{
	return bench_quill_setup(env, "quill.log");
}

static int bench_drain(void)
{
	bench_quill_flush();
	return bench_fsync_dir(bench_dir) == 0 ? 0 : -1;
}

#include "harness.h"
