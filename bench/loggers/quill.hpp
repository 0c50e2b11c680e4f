/* SPDX-License-Identifier: MIT */
/*
 * quill.hpp - the part shared by the two Quill adapters (quill.cpp, the
 * file logger, and quill_backtrace.cpp, its backtrace ring).
 *
 * Quill is used as its README shows: quill::Backend::start() with the
 * default BackendOptions (one backend thread), a logger from
 * quill::Frontend::create_or_get_logger() over a FileSink in the scratch
 * directory (opened for writing, Quill's default pattern), the default
 * frontend options (an unbounded queue per thread that blocks, never drops,
 * when it reaches its maximum size). Messages use "{}" placeholders, as
 * Quill code is written; the calling thread encodes the arguments into its
 * queue (strings copied) and the backend thread formats and writes them.
 *
 * Built only when QUILL_DIR names a Quill source tree (its include/ folder
 * is used; Quill is header-only); see bench/README.md.
 */
#ifndef BENCH_QUILL_HPP
#define BENCH_QUILL_HPP

#include <exception>
#include <string>
#include <utility>

#include <quill/Backend.h>
#include <quill/Frontend.h>
#include <quill/LogMacros.h>
#include <quill/Logger.h>
#include <quill/sinks/FileSink.h>

static quill::Logger *bench_quill;
static const char *bench_dir;

/* Starts the backend and creates the logger "bench" writing to FILE in the
 * scratch directory. Returns 0 or 1. */
static int bench_quill_setup(const struct bench_env *env, const char *file)
{
	char path[4096];
	if (bench_path(path, sizeof path, env, file) != 0)
		return 1;
	bench_dir = env->dir;
	try {
		quill::Backend::start();
		quill::FileSinkConfig cfg;
		cfg.set_open_mode('w');
		auto sink = quill::Frontend::create_or_get_sink<quill::FileSink>(std::string(path), cfg);
		bench_quill = quill::Frontend::create_or_get_logger("bench", std::move(sink));
	} catch (const std::exception &e) {
		fprintf(stderr, "quill: %s\n", e.what());
		return 1;
	}
	return 0;
}

/* Allocates the thread's queue before the first timed call (Quill's
 * documented Frontend::preallocate()). */
static void bench_thread_setup(void)
{
	quill::Frontend::preallocate();
}

/* flush_log() returns once the backend thread has processed (and, for a
 * file sink, written and flushed) every message logged before it. */
static void bench_quill_flush(void)
{
	bench_quill->flush_log();
}

static void bench_teardown(void)
{
	quill::Backend::stop();
	bench_quill = nullptr;
}

#endif /* BENCH_QUILL_HPP */
