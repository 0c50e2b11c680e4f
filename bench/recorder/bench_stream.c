/* SPDX-License-Identifier: MIT */
/*
 * bench_stream.c - ttlog's streaming mode (issue 15 section 4), two modes,
 * both run with TTLOG_STREAM=DIR (and any other TTLOG_STREAM_* variable) in
 * the environment:
 *
 *   ttlog-bench-stream cpu [--rate R] [--seconds S]
 *       One thread logs the benchmark message (args3) at R events/s
 *       (default 1000000), paced in bursts of 1000, for S seconds (default
 *       5). Prints one JSON line: the rate reached, the CPU time of the
 *       drainer thread (the thread named ttlog-stream, from
 *       /proc/self/task/TID/stat) over the run in cores, and the stream's
 *       counters from ttlog_get_stats() after ttlog_shutdown().
 *
 *   ttlog-bench-stream fill --bytes B [--tail-seconds T] [--tail-rate R]
 *       Builds a large store: one thread logs 200-byte payloads at full
 *       speed until DIR holds B bytes, then logs args3 at R events/s
 *       (default 10000) for T seconds (default 75), so that the last minute
 *       of the store is a small part of it, as in a store that spans a day.
 *       Prints one JSON line with the counters.
 */
#define _GNU_SOURCE
#include <ttlog.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* utime + stime of the thread named `name` in this process, in clock
 * ticks; -1 when there is none. */
static long long thread_ticks(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	long long found = -1;
	struct dirent *e;
	while (found < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], buf[1024];
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
		/* Fields after the name: state is field 3; utime 14, stime 15. */
		char *p = close + 2;
		unsigned long long ut = 0, st = 0;
		int field = 3;
		for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
			if (field == 14)
				ut = strtoull(tok, NULL, 10);
			else if (field == 15) {
				st = strtoull(tok, NULL, 10);
				break;
			}
		}
		found = (long long)(ut + st);
	}
	closedir(d);
	return found;
}

static long long dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	long long total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (long long)st.st_size;
	}
	closedir(d);
	return total;
}

static void print_stats(void)
{
	struct ttlog_stats s;
	if (ttlog_get_stats(&s) != TTLOG_OK)
		return;
	printf(",\"stream_events\":%llu,\"stream_lost\":%llu,\"stream_segments\":%llu,"
	       "\"stream_bytes\":%llu,\"stream_errors\":%llu,\"overwritten\":%llu",
	       (unsigned long long)s.stream_events, (unsigned long long)s.stream_lost,
	       (unsigned long long)s.stream_segments, (unsigned long long)s.stream_bytes,
	       (unsigned long long)s.stream_errors, (unsigned long long)s.events_overwritten);
}

static const char *path_arg = "/api/v1/orders";

/* Logs `n` args3 events numbered from `first`. */
static void log_args3(long first, long n)
{
	for (long k = first; k < first + n; k++)
		TTLOG_INFO("request id=%d latency=%f path=%s", (int)k, (double)k * 0.5, path_arg);
}

/* Logs at `rate` events/s for `seconds`, in bursts of 1000; returns the
 * number logged and sets *elapsed. */
static long paced(double rate, double seconds, uint64_t *elapsed)
{
	const long burst = 1000;
	uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
	long n = 0;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= end)
			break;
		uint64_t due = start + (uint64_t)((double)n / rate * 1e9);
		if (now < due) {
			uint64_t wait = due - now;
			struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
			nanosleep(&ts, NULL);
			continue;
		}
		log_args3(n, burst);
		n += burst;
	}
	*elapsed = now_ns() - start;
	return n;
}

static int usage(void)
{
	fprintf(stderr, "usage: ttlog-bench-stream cpu [--rate R] [--seconds S]\n"
			"       ttlog-bench-stream fill --bytes B [--tail-seconds T] [--tail-rate R]\n"
			"       (with TTLOG_STREAM=DIR in the environment)\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *mode = argv[1];
	double rate = 1e6, seconds = 5, tail_seconds = 75, tail_rate = 1e4;
	long long bytes = 0;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rate"))
			rate = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--bytes"))
			bytes = atoll(argv[i + 1]);
		else if (!strcmp(argv[i], "--tail-seconds"))
			tail_seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--tail-rate"))
			tail_rate = atof(argv[i + 1]);
		else
			return usage();
	}
	const char *dir = getenv("TTLOG_STREAM");
	if (!dir || !*dir) {
		fprintf(stderr, "ttlog-bench-stream: TTLOG_STREAM must name the stream's directory\n");
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	int r = ttlog_init(&cfg);
	if (r != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s (%s)\n", ttlog_strerror(r), ttlog_init_error());
		return 1;
	}
	long hz = sysconf(_SC_CLK_TCK);

	if (!strcmp(mode, "cpu")) {
		log_args3(0, 1000); /* the thread's ring exists before the clock starts */
		long long t0 = thread_ticks("ttlog-stream");
		uint64_t elapsed = 0;
		long n = paced(rate, seconds, &elapsed);
		long long t1 = thread_ticks("ttlog-stream");
		ttlog_shutdown();
		double secs = (double)elapsed / 1e9;
		printf("{\"mode\":\"cpu\",\"target_rate\":%.0f,\"logged\":%ld,\"seconds\":%.3f,\"rate\":%.0f", rate, n, secs,
		       (double)n / secs);
		if (t0 >= 0 && t1 >= t0)
			printf(",\"drainer_cpu_s\":%.3f,\"drainer_cores\":%.3f", (double)(t1 - t0) / (double)hz,
			       (double)(t1 - t0) / (double)hz / secs);
		else
			printf(",\"drainer_cpu_s\":null");
		print_stats();
		printf(",\"disk_bytes\":%lld}\n", dir_bytes(dir));
		return 0;
	}
	if (!strcmp(mode, "fill") && bytes > 0) {
		/* 4096 different pseudo-random payloads (a fixed seed), so that the
		 * segments' compression cannot shrink them much. */
		enum { NPAY = 4096, PAYLEN = 200 };
		char *pay = malloc((size_t)NPAY * (PAYLEN + 1));
		if (!pay)
			return 1;
		uint64_t x = 0x9e3779b97f4a7c15u;
		for (int k = 0; k < NPAY * (PAYLEN + 1); k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			pay[k] = (k % (PAYLEN + 1) == PAYLEN) ? '\0' : (char)(33 + (x >> 32) % 94);
		}
		uint64_t start = now_ns();
		long n = 0;
		while (dir_bytes(dir) < bytes) {
			for (int k = 0; k < 20000; k++)
				TTLOG_INFO("payload=%s", pay + (size_t)((n + k) % NPAY) * (PAYLEN + 1));
			n += 20000;
		}
		free(pay);
		uint64_t bulk = now_ns() - start;
		uint64_t elapsed = 0;
		long tail = paced(tail_rate, tail_seconds, &elapsed);
		ttlog_shutdown();
		printf("{\"mode\":\"fill\",\"bulk_events\":%ld,\"bulk_seconds\":%.3f,\"tail_events\":%ld,"
		       "\"tail_seconds\":%.3f",
		       n, (double)bulk / 1e9, tail, (double)elapsed / 1e9);
		print_stats();
		printf(",\"disk_bytes\":%lld}\n", dir_bytes(dir));
		return 0;
	}
	return usage();
}
