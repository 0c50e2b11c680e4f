/* SPDX-License-Identifier: MIT */
/*
 * stream_load.c - logs from several threads at full speed into a stream
 * (TTLOG_STREAM and the other variables come from the environment), for
 * tests/test_stream.c.
 *
 *   stream_load THREADS MILLISECONDS [--fsize BYTES] [--term]
 *
 * Thread t logs "load t=%u i=%lu" with i counting 0, 1, 2, ... (the
 * self-checking events), and every 8th time a DEBUG record too ("debug
 * t=%u"), until the time is up. Then it prints one line per thread,
 * "thread T INDEX N D" (its ring's thread index, how many INFO events it
 * logged) and D (the DEBUG records it logged), and after ttlog_shutdown() the stream counters, "stats
 * STREAMED LOST FILTERED ERRORS SEGMENTS DELETED DEBUG" (DEBUG: debug
 * records logged). --fsize sets RLIMIT_FSIZE first (a disk that fills),
 * and the threads run until the stream has counted a write error
 * (MILLISECONDS then only bounds it), whatever the machine's speed.
 * --churn ROUNDS: the threads run ROUNDS times, each time new threads that
 * log 20000 events and exit (with a small TTLOG_MEMORY_CAP, each round's
 * threads reuse the rings of the last); prints "churn LOGGED" (all records).
 * --segments N: the threads run until the stream has closed N segments
 * (MILLISECONDS then only bounds it), whatever the machine's speed.
 * --rate N: each thread logs at most N INFO events a second (paced).
 * --spans: each thread's events in a span of its own for the whole run,
 * and each batch of them (16, or 256 unpaced) in a context "batch" and a
 * span inside it (segments then re-state the open ones).
 * --cpu: prints "drainer_cpu_s S" (the ttlog-stream thread's CPU time,
 * from /proc) before shutting down, for measurements.
 * --term: after the threads, prints "ready" and waits for a signal
 * without shutting down (SIGTERM's handler must close the segment).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ring/ring.h"
#include "thread/thread.h"
#include "ttlog.h"

#define MAX_THREADS 16

static _Atomic uint64_t deadline_ns;
static uint64_t start_ns;
static unsigned long counts[MAX_THREADS];
static unsigned long debugs[MAX_THREADS];
static unsigned indexes[MAX_THREADS];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int churn, spans;
static unsigned long rate;

/* CPU seconds of this process's thread named ttlog-stream, from /proc. */
static double drainer_cpu(void)
{
	char path[128], comm[64];
	for (int tid = 1; tid < (1 << 22); tid++) {
		snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int is = fgets(comm, sizeof comm, f) && strncmp(comm, "ttlog-stream", 12) == 0;
		fclose(f);
		if (!is)
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
		f = fopen(path, "r");
		if (!f)
			return -1;
		char buf[1024];
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		char *p = strrchr(buf, ')');
		unsigned long ut = 0, st = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		return -1;
	}
	return -1;
}

static void *worker(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	unsigned long i = 0, d = 0;
	if (spans)
		TTLOG_SPAN_BEGIN("load");
	while (churn ? i < 20000 : now_ns() < deadline_ns) {
		if (rate) { /* paced: event i is due at i / rate seconds */
			while ((now_ns() - start_ns) * rate < (uint64_t)i * 1000000000ull)
				;
		}
		if (spans) {
			TTLOG_CONTEXT_PUSH("batch", i);
			TTLOG_SPAN_BEGIN("batch");
		}
		for (int k = 0; k < (rate ? 16 : 256); k++, i++) {
			TTLOG_INFO("load t=%u i=%lu", t, i);
			if ((i & 7) == 0) {
				TTLOG_DEBUG("debug t=%u", t);
				d++;
			}
		}
		if (spans) {
			TTLOG_SPAN_END();
			ttlog_context_pop();
		}
	}
	if (spans)
		TTLOG_SPAN_END();
	struct ttlog__ring *r = ttlog__ring_self();
	indexes[t] = r ? r->index : 0xffffffffu;
	counts[t] = i;
	debugs[t] = d;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	unsigned threads = (unsigned)atoi(argv[1]);
	long ms = atol(argv[2]);
	int term = 0, cpu = 0;
	unsigned long long segments = 0;
	int until_error = 0;
	for (int a = 3; a < argc; a++) {
		if (strcmp(argv[a], "--term") == 0) {
			term = 1;
		} else if (strcmp(argv[a], "--segments") == 0 && a + 1 < argc) {
			segments = strtoull(argv[++a], NULL, 10);
		} else if (strcmp(argv[a], "--rate") == 0 && a + 1 < argc) {
			rate = strtoul(argv[++a], NULL, 10);
		} else if (strcmp(argv[a], "--spans") == 0) {
			spans = 1;
		} else if (strcmp(argv[a], "--cpu") == 0) {
			cpu = 1;
		} else if (strcmp(argv[a], "--churn") == 0 && a + 1 < argc) {
			churn = atoi(argv[++a]);
		} else if (strcmp(argv[a], "--fsize") == 0 && a + 1 < argc) {
			struct rlimit rl;
			rl.rlim_cur = rl.rlim_max = (rlim_t)atoll(argv[++a]);
			if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
				return 3;
			until_error = 1;
		}
	}
	if (threads < 1 || threads > MAX_THREADS)
		return 2;
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s\n", ttlog_init_error());
		return 1;
	}
	start_ns = now_ns();
	deadline_ns = start_ns + (uint64_t)ms * 1000000ull;
	pthread_t th[MAX_THREADS];
	if (churn) {
		unsigned long logged = 0;
		for (int round = 0; round < churn; round++) {
			for (unsigned t = 0; t < threads; t++)
				pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
			for (unsigned t = 0; t < threads; t++) {
				pthread_join(th[t], NULL);
				logged += counts[t] + debugs[t];
			}
		}
		printf("churn %lu\n", logged);
		for (unsigned t = 0; t < threads; t++)
			counts[t] = debugs[t] = 0;
		threads = 0;
	}
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
	if ((segments || until_error) && threads) {
		struct ttlog_stats st;
		struct timespec step = {0, 5 * 1000000};
		do {
			nanosleep(&step, NULL);
			ttlog_get_stats(&st);
		} while ((segments ? st.stream_segments < segments : st.stream_errors == 0) &&
			 now_ns() < deadline_ns);
		deadline_ns = now_ns(); /* the threads stop */
	}
	unsigned long debug_total = 0;
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		printf("thread %u %u %lu %lu\n", t, indexes[t], counts[t], debugs[t]);
		debug_total += debugs[t];
	}
	if (term) {
		TTLOG_WARN("last words before the signal");
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (cpu) {
		struct timespec settle = {0, 100 * 1000000}; /* the last cycles */
		nanosleep(&settle, NULL);
		printf("drainer_cpu_s %.3f\n", drainer_cpu());
	}
	ttlog_shutdown();
	struct ttlog_stats s;
	ttlog_get_stats(&s);
	printf("stats %llu %llu %llu %llu %llu %llu %lu\n", (unsigned long long)s.stream_events,
	       (unsigned long long)s.stream_lost, (unsigned long long)s.stream_filtered,
	       (unsigned long long)s.stream_errors, (unsigned long long)s.stream_segments,
	       (unsigned long long)s.stream_segments_deleted, debug_total);
	return 0;
}
