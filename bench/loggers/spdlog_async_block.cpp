/* SPDX-License-Identifier: MIT */
/*
 * spdlog_async_block.cpp - benchmark adapter for spdlog's asynchronous file
 * logger with the block policy: when the queue is full, the logging thread
 * waits for the worker, so nothing is lost. See spdlog_async.hpp.
 */
#include "harness_env.h"

#define BENCH_LOGGER "spdlog async (block)"
#define BENCH_SPDLOG_POLICY spdlog::async_overflow_policy::block

#include "spdlog_async.hpp"

#include "harness.h"
