/* SPDX-License-Identifier: MIT */
/*
 * spdlog_calls.hpp - the workload as spdlog code writes it, shared by every
 * spdlog adapter: the three messages with "{}" placeholders, logged at INFO
 * through `bench_spdlog`, a plain pointer to the adapter's logger (copying
 * a shared_ptr per call would add an atomic increment no application pays).
 *
 * The including adapter defines BENCH_SPDLOG_LOGGER_TYPE (the logger class)
 * before including this file and sets bench_spdlog in bench_setup().
 */
#ifndef BENCH_SPDLOG_CALLS_HPP
#define BENCH_SPDLOG_CALLS_HPP

static BENCH_SPDLOG_LOGGER_TYPE *bench_spdlog;

static void bench_thread_setup(void)
{
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	bench_spdlog->info("request id={} latency={} path={}", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	bench_spdlog->info("request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	bench_spdlog->info("payload={}", s);
}

#endif /* BENCH_SPDLOG_CALLS_HPP */
