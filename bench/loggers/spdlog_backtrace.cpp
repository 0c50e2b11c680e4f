/* SPDX-License-Identifier: MIT */
/*
 * spdlog_backtrace.cpp - benchmark adapter for spdlog's in-memory
 * backtrace ring, the closest thing spdlog has to a flight recorder.
 *
 * spdlog documents it (README, "Backtrace support"; logger.h): after
 * enable_backtrace(n), messages below the logger's level are not logged but
 * kept in a ring of the last n messages, which dump_backtrace() writes out
 * on demand. So the logger here has level WARN: the INFO calls of the
 * workload never reach the sink and only go to the ring. Each call reads the
 * clock, formats the message text with fmt and copies it into the ring under
 * a mutex, all in the calling thread; there is no background thread and
 * nothing is written to disk while the program runs.
 *
 * Ring: 16384 messages, about as many args3 events as ttlog's default
 * 1 MiB per-thread ring holds (its records of that message take 56 bytes);
 * a spdlog slot is larger (a log_msg plus a 250-byte inline text buffer).
 */
#include "harness_env.h"

#include <memory>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#define BENCH_LOGGER "spdlog backtrace"
#define BENCH_SPDLOG_RING 16384

static std::shared_ptr<spdlog::logger> bench_logger;
#define BENCH_SPDLOG_LOGGER_TYPE spdlog::logger
#include "spdlog_calls.hpp"

static int bench_setup(const struct bench_env *env)
{
	char path[4096];
	if (bench_path(path, sizeof path, env, "spdlog-backtrace.log") != 0)
		return 1;
	try {
		auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
		bench_logger = std::make_shared<spdlog::logger>("bench", sink);
	} catch (const spdlog::spdlog_ex &e) {
		fprintf(stderr, "spdlog: %s\n", e.what());
		return 1;
	}
	bench_logger->set_level(spdlog::level::warn);
	bench_logger->enable_backtrace(BENCH_SPDLOG_RING);
	bench_spdlog = bench_logger.get();
	return 0;
}

/* The ring is memory only: nothing to drain. */
static int bench_drain(void)
{
	return 1;
}

static void bench_teardown(void)
{
	bench_spdlog = nullptr;
	bench_logger.reset();
}

#include "harness.h"
