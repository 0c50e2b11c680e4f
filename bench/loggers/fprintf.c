/* SPDX-License-Identifier: MIT */
/*
 * fprintf.c - benchmark adapter for the simplest file logger: fprintf() of
 * the message (no timestamp, no level) to a FILE with a 1 MiB buffer.
 *
 * stdio locks the FILE in every call, so several threads may share it; the
 * buffer makes most calls a format into memory, with a write(2) every
 * megabyte.
 */
#include "harness_env.h"

#include <stdlib.h>

#define BENCH_LOGGER "fprintf"

static FILE *bench_file;
static char *bench_buffer;

static int bench_setup(const struct bench_env *env)
{
	char path[4096];
	if (bench_path(path, sizeof path, env, "fprintf.log") != 0)
		return 1;
	bench_file = fopen(path, "w");
	bench_buffer = (char *)malloc(1 << 20);
	if (!bench_file || !bench_buffer || setvbuf(bench_file, bench_buffer, _IOFBF, 1 << 20) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static void bench_thread_setup(void)
{
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	fprintf(bench_file, "request id=%d latency=%f path=%s\n", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	/* fprintf, not fputs: the point is the cost of a printf-style call,
	 * even when the format has no conversion. */
	fprintf(bench_file, "request done\n");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	fprintf(bench_file, "payload=%s\n", s);
}

static int bench_drain(void)
{
	if (fflush(bench_file) != 0 || fsync(fileno(bench_file)) != 0) {
		perror("fprintf.log");
		return -1;
	}
	return 0;
}

static void bench_teardown(void)
{
	fclose(bench_file);
	free(bench_buffer);
}

#include "harness.h"
