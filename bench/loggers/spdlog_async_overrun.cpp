/* SPDX-License-Identifier: MIT */
/*
 * spdlog_async_overrun.cpp - benchmark adapter for spdlog's asynchronous
 * file logger with the overrun_oldest policy: when the queue is full, the
 * logging thread replaces the oldest queued message instead of waiting, so
 * it never blocks but messages are lost (reported as "dropped"). See
 * spdlog_async.hpp.
 */
#include "harness_env.h"

#define BENCH_LOGGER "spdlog async (overrun)"
#define BENCH_SPDLOG_POLICY spdlog::async_overflow_policy::overrun_oldest

#include "spdlog_async.hpp"

#include "harness.h"
