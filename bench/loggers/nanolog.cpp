/* SPDX-License-Identifier: MIT */
/*
 * nanolog.cpp - benchmark adapter for NanoLog, its C++17 variant (the
 * runtime library and NanoLogCpp17.h; no preprocessor pass).
 *
 * Built only when NANOLOG_DIR names a NanoLog source tree (see
 * bench/README.md); bench/CMakeLists.txt builds the runtime library from
 * that tree's runtime/ folder. Nothing of NanoLog is in this repository.
 *
 * A call is NANO_LOG(NOTICE, ...): NanoLog has no INFO level, and NOTICE
 * is its level between DEBUG and WARNING, the one its documentation uses for
 * ordinary messages. The calling thread copies the arguments (strings in
 * full) into its staging buffer; NanoLog's background thread compresses
 * them and writes a binary log, which its decompressor turns into text
 * later. When a staging buffer is full the caller waits: nothing is lost.
 *
 * NanoLog opens a default log file in the working directory when the
 * program starts (bench/run.py runs every measurement inside its scratch
 * directory); setLogFile() then points it at a file in the scratch
 * directory. bench_drain() calls NanoLog::sync(), which returns once every
 * message logged before it is written (NanoLog writes with O_DSYNC), and
 * fsyncs the directory's files for good measure.
 */
#include "harness_env.h"

/* NanoLogCpp17.h uses std::array without including <array>, which newer
 * C++ libraries no longer pull in through other headers. */
#include <array>
#include <exception>

#include <NanoLogCpp17.h>

#define BENCH_LOGGER "NanoLog"
#define BENCH_HAS_SETTLE 1

using namespace NanoLog::LogLevels;

static const char *bench_dir;

static int bench_setup(const struct bench_env *env)
{
	char path[4096];
	if (bench_path(path, sizeof path, env, "nanolog.bin") != 0)
		return 1;
	bench_dir = env->dir;
	try {
		NanoLog::setLogFile(path);
	} catch (const std::exception &e) {
		fprintf(stderr, "NanoLog::setLogFile: %s\n", e.what());
		return 1;
	}
	NanoLog::setLogLevel(NOTICE);
	return 0;
}

/* Allocates the thread's staging buffer before the first timed call, as
 * NanoLog's documentation recommends for latency-sensitive threads. */
static void bench_thread_setup(void)
{
	NanoLog::preallocate();
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	NANO_LOG(NOTICE, "request id=%d latency=%f path=%s", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	NANO_LOG(NOTICE, "request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	NANO_LOG(NOTICE, "payload=%s", s);
}

/* Instruction counts: the caller spins while its staging buffer is full,
 * and under callgrind the background thread that would empty it runs only
 * when the caller is descheduled. So the counted loop starts with the
 * buffer emptied, and the driver keeps it short enough to fit in the
 * buffer (1 MiB; bench/run.py, INSTR_CALLS_CAP). */
static void bench_settle(void)
{
	NanoLog::sync();
}

static int bench_drain(void)
{
	NanoLog::sync();
	return bench_fsync_dir(bench_dir) == 0 ? 0 : -1;
}

static void bench_teardown(void)
{
}

#include "harness.h"
