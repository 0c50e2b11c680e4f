/* SPDX-License-Identifier: MIT */
/*
 * nanolog_set.cpp - ttlog-bench-nanolog-set: writes the reader benchmark's
 * events as a NanoLog log, so that NanoLog's decompressor can be timed on
 * the same events `ttlog view` formats.
 *
 * Usage: ttlog-bench-nanolog-set FILE EVENTS THREADS
 *
 * THREADS threads (named worker-0, ... as in bench_common.c's pool) each
 * log EVENTS / THREADS (the first ones one more) of the reader benchmark's
 * event, "request id=%d latency=%f path=%s" with the same argument values
 * (bench_log_event), through NanoLog's C++17 API into FILE. NanoLog::sync()
 * returns once all of them are written. Prints one JSON line: the events
 * and the file's size.
 *
 * Built only when NANOLOG_DIR names a NanoLog source tree (see
 * bench/README.md); nothing of NanoLog is in this repository.
 */
#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/stat.h>

#include <NanoLogCpp17.h>

using namespace NanoLog::LogLevels;

static void worker(unsigned index, uint64_t first, uint64_t count)
{
	char name[16];
	snprintf(name, sizeof name, "worker-%u", index);
	pthread_setname_np(pthread_self(), name);
	NanoLog::preallocate();
	for (uint64_t k = first; k < first + count; k++) {
		int i = (int)(k & 0x7fffffff);
		NANO_LOG(NOTICE, "request id=%d latency=%f path=%s", i, i * 0.5, "GET /api/v1/users");
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE EVENTS THREADS\n", argv[0]);
		return 2;
	}
	char *end;
	unsigned long long events = strtoull(argv[2], &end, 10);
	unsigned long threads = strtoul(argv[3], &end, 10);
	if (events == 0 || threads == 0 || threads > 256) {
		fprintf(stderr, "%s: EVENTS must be at least 1 and THREADS 1 to 256\n", argv[0]);
		return 2;
	}
	try {
		NanoLog::setLogFile(argv[1]);
	} catch (const std::exception &e) {
		fprintf(stderr, "NanoLog::setLogFile(%s): %s\n", argv[1], e.what());
		return 1;
	}
	NanoLog::setLogLevel(NOTICE);
	std::vector<std::thread> pool;
	uint64_t next = 0;
	for (unsigned t = 0; t < threads; t++) {
		uint64_t count = events / threads + (t < events % threads ? 1 : 0);
		pool.emplace_back(worker, t, next, count);
		next += count;
	}
	for (auto &th : pool)
		th.join();
	NanoLog::sync();
	struct stat st;
	if (stat(argv[1], &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	printf("{\"events\":%llu,\"bytes\":%lld}\n", events, (long long)st.st_size);
	return 0;
}
