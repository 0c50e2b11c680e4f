/* SPDX-License-Identifier: MIT */
/*
 * ttlog.c - benchmark adapter for ttlog itself: TTLOG_INFO into the calling
 * thread's in-memory ring, with the library's defaults except the snapshot
 * directory, which is the run's scratch directory.
 *
 * ttlog writes no file while the program runs (only snapshots do), so
 * bench_drain() has nothing to wait for and says so.
 *
 * Streaming mode (the driver's "ttlog-stream" entry, sustain mode only):
 * with TTLOG_STREAM=DIR in the environment, ttlog_init() starts the stream,
 * whose background thread writes the rings' records into segment files
 * (*.ttseg) in DIR. bench_drain() then calls ttlog_shutdown(), which writes
 * what is left and closes the stream, and says the logger has a file only if
 * a segment file appeared: a library without streaming ignores the variable,
 * and the run is then reported as not run. The stream's counters are read
 * after ttlog_shutdown(), when they are final: stream_events (records in the
 * segments) and stream_lost (records the drainer never wrote, under
 * TTLOG_STREAM_POLICY=drop). The drainer's CPU time (the thread named
 * ttlog-stream, /proc/self/task/TID/stat) is read just before the shutdown.
 */
#include "harness_env.h"

#include <ttlog.h>

#include <stdlib.h>
#include <unistd.h>

#ifndef BENCH_LOGGER
#define BENCH_LOGGER "ttlog"
#endif
#define BENCH_HAS_REPORT 1

static const char *bench_stream_dir; /* TTLOG_STREAM, or NULL */
static struct ttlog_stats bench_stats;
static int bench_have_stats;
static double bench_drainer_cpu_s = -1; /* streaming: the drainer's CPU seconds */

/* utime + stime of this process's thread named `name`, in seconds; -1 when
 * there is none. */
static double bench_thread_cpu_s(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	double found = -1;
	struct dirent *e;
	while (found < 0 && (e = readdir(d)) != NULL) {
		char path[300], buf[1024];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *open = strchr(buf, '('), *close = strrchr(buf, ')');
		if (!open || !close || close < open)
			continue;
		*close = '\0';
		if (strcmp(open + 1, name) != 0)
			continue;
		/* After the name: field 3 (state) onwards; utime is 14, stime 15. */
		unsigned long long ut = 0, st = 0;
		if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
			found = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	closedir(d);
	return found;
}

static int bench_setup(const struct bench_env *env)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = env->dir;
	const char *stream = getenv("TTLOG_STREAM");
	bench_stream_dir = stream && *stream ? stream : NULL;
	int r = ttlog_init(&cfg);
	if (r != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s (%s)\n", ttlog_strerror(r), ttlog_init_error());
		return 1;
	}
	return 0;
}

static void bench_thread_setup(void)
{
}

#ifdef BENCH_TTLOG_RUNTIME
/* ttlog_runtime.c: the same messages through ttlog_log(), their formats
 * read from variables, as a wrapper would pass them. */
BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	ttlog_log(TTLOG_LEVEL_INFO, bench_rt_args3, i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	ttlog_log(TTLOG_LEVEL_INFO, bench_rt_noargs);
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	ttlog_log(TTLOG_LEVEL_INFO, bench_rt_str200, s);
}
#else
BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	TTLOG_INFO("request id=%d latency=%f path=%s", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	TTLOG_INFO("request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	TTLOG_INFO("payload=%s", s);
}
#endif

/* 1 when dir holds a segment file (NAME.ttseg), directly or one level down. */
static int bench_has_segment(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char path[4096];
		struct stat st;
		if (n > 6 && !strcmp(e->d_name + n - 6, ".ttseg"))
			found = 1;
		else if (depth > 0 && e->d_name[0] != '.' &&
			 snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
			 lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			found = bench_has_segment(path, depth - 1);
	}
	closedir(d);
	return found;
}

static int bench_drain(void)
{
	if (!bench_stream_dir)
		return 1;
	bench_drainer_cpu_s = bench_thread_cpu_s("ttlog-stream");
	/* The stream's counters are final once it is closed. */
	ttlog_shutdown();
	bench_have_stats = ttlog_get_stats(&bench_stats) == TTLOG_OK;
	if (!bench_has_segment(bench_stream_dir, 1)) {
		fprintf(stderr, "not run: this ttlog has no streaming mode (no .ttseg file appeared in TTLOG_STREAM)\n");
		return 1;
	}
	return bench_fsync_dir(bench_stream_dir) == 0 ? 0 : -1;
}

/* Overwritten records are the ring doing its job, not a loss, but the
 * count tells how much history a ring of the default size holds. In
 * streaming mode a record overwritten before the stream read it is lost:
 * "stream_lost" counts those, "stream_events" the records in the segments. */
static void bench_report(char *buf, size_t size)
{
	struct ttlog_stats st;
	if (bench_have_stats)
		st = bench_stats;
	else if (ttlog_get_stats(&st) != TTLOG_OK)
		return;
	int n = snprintf(buf, size, "\"overwritten\":%llu,\"dropped\":%llu",
			 (unsigned long long)st.events_overwritten,
			 (unsigned long long)(st.dropped_no_ring + st.dropped_uninitialized));
	if (!bench_stream_dir || n < 0 || (size_t)n >= size)
		return;
	const char *policy = getenv("TTLOG_STREAM_POLICY");
	snprintf(buf + n, size - (size_t)n,
		 ",\"stream\":true,\"stream_policy\":\"%s\",\"stream_events\":%llu,\"stream_lost\":%llu,"
		 "\"stream_segments\":%llu,\"stream_bytes\":%llu,\"stream_errors\":%llu,\"drainer_cpu_s\":%.3f",
		 policy && !strcmp(policy, "block") ? "block" : "drop", (unsigned long long)st.stream_events,
		 (unsigned long long)st.stream_lost, (unsigned long long)st.stream_segments,
		 (unsigned long long)st.stream_bytes, (unsigned long long)st.stream_errors, bench_drainer_cpu_s);
}

static void bench_teardown(void)
{
	ttlog_shutdown();
}

#include "harness.h"
