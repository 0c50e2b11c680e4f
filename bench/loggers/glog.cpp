/* SPDX-License-Identifier: MIT */
/*
 * glog.cpp - benchmark adapter for Google's glog writing to a file:
 * LOG(INFO) << the same fields, streamed as glog code is written (the
 * double with the stream's default six significant digits, not %f).
 *
 * glog's defaults are kept apart from the directory: each line gets glog's
 * prefix (severity, date, time with microseconds, thread id, file:line), is
 * formatted in the calling thread and written under a global mutex to a
 * stdio buffer, which glog flushes at most every FLAGS_logbufsecs (30 s) or
 * when the buffer fills. There is no background thread.
 */
#include "harness_env.h"

#include <glog/logging.h>

#define BENCH_LOGGER "glog"

static const char *bench_dir;

static int bench_setup(const struct bench_env *env)
{
	char prefix[4096];
	if (bench_path(prefix, sizeof prefix, env, "glog-") != 0)
		return 1;
	bench_dir = env->dir;
	FLAGS_logtostderr = false;
	FLAGS_alsologtostderr = false;
	FLAGS_log_dir = env->dir;
	google::InitGoogleLogging("ttlog-bench-glog");
	/* One file with a known prefix instead of glog's host and user name
	 * and symbolic links in the directory. */
	google::SetLogDestination(google::GLOG_INFO, prefix);
	return 0;
}

static void bench_thread_setup(void)
{
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	LOG(INFO) << "request id=" << i << " latency=" << d << " path=" << s;
}

BENCH_INLINE void bench_log_noargs(void)
{
	LOG(INFO) << "request done";
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	LOG(INFO) << "payload=" << s;
}

static int bench_drain(void)
{
	google::FlushLogFiles(google::GLOG_INFO);
	return bench_fsync_dir(bench_dir) == 0 ? 0 : -1;
}

static void bench_teardown(void)
{
	google::ShutdownGoogleLogging();
}

#include "harness.h"
