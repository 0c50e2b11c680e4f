/* SPDX-License-Identifier: MIT */
/*
 * spdlog_async.hpp - the part shared by the two asynchronous spdlog
 * adapters, which differ only in what happens when the queue is full
 * (BENCH_SPDLOG_POLICY, defined by the including file).
 *
 * The logger is spdlog's async_logger over a basic_file_sink_mt, with
 * spdlog's default queue (8192 messages), one worker thread and the default
 * pattern (date, time, logger name, level). The calling thread formats the
 * message text with fmt and copies it into a queue slot; the worker adds
 * the pattern's prefix and writes.
 *
 * The format strings use plain "{}" placeholders, as spdlog code is
 * written: the double then prints in its shortest exact form ("0.5") rather
 * than %f's six decimals. Asking fmt for "{:f}" instead would add some
 * thousands of instructions per call (fmt's fixed-precision path).
 *
 * The thread pool is owned here rather than through spdlog's registry so
 * that bench_drain() can wait for it: spdlog's flush() on an async logger
 * only queues a flush request, but destroying the pool makes its worker
 * process every queued message (the flush included) before it exits.
 */
#ifndef BENCH_SPDLOG_ASYNC_HPP
#define BENCH_SPDLOG_ASYNC_HPP

#include <memory>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#define BENCH_HAS_REPORT 1

static std::shared_ptr<spdlog::details::thread_pool> bench_pool;
static std::shared_ptr<spdlog::async_logger> bench_logger;
#define BENCH_SPDLOG_LOGGER_TYPE spdlog::async_logger
#include "spdlog_calls.hpp"
static const char *bench_dir;
static size_t bench_overruns;

static int bench_setup(const struct bench_env *env)
{
	char path[4096];
	if (bench_path(path, sizeof path, env, "spdlog.log") != 0)
		return 1;
	bench_dir = env->dir;
	try {
		bench_pool = std::make_shared<spdlog::details::thread_pool>(spdlog::details::default_async_q_size, 1U);
		auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
		bench_logger = std::make_shared<spdlog::async_logger>("bench", sink, bench_pool, BENCH_SPDLOG_POLICY);
	} catch (const spdlog::spdlog_ex &e) {
		fprintf(stderr, "spdlog: %s\n", e.what());
		return 1;
	}
	bench_logger->set_level(spdlog::level::info);
	bench_spdlog = bench_logger.get();
	return 0;
}

static int bench_drain(void)
{
	bench_spdlog->flush();
	bench_overruns = bench_pool->overrun_counter();
	bench_pool.reset(); /* joins the worker once the queue is empty */
	return bench_fsync_dir(bench_dir) == 0 ? 0 : -1;
}

/* Messages the overrun_oldest policy threw away to make room (always 0
 * with the block policy). Read before the pool is destroyed. */
static void bench_report(char *buf, size_t size)
{
	snprintf(buf, size, "\"dropped\":%zu", bench_overruns);
}

static void bench_teardown(void)
{
	bench_spdlog = nullptr;
	bench_logger.reset();
	bench_pool.reset();
}

#endif /* BENCH_SPDLOG_ASYNC_HPP */
