/* SPDX-License-Identifier: MIT */
/*
 * metric_ops.c - the metric update path under callgrind: N updates of one
 * kind (counter add, gauge set, histogram record) after a warm-up that
 * registers the metric and attaches the thread's shard, counted between
 * CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT("ops"), so that the
 * dump holds the loop alone. Run by bench/metrics/callgrind.sh, in private
 * and in shared-memory mode (TTLOG_SHARED_MEMORY=1: the shards in the
 * mapping, layout 1.3).
 *
 * Usage: metric_ops counter|gauge|histogram N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "ttlog.h"

#define WARMUP 1000

static __attribute__((noinline)) void op_counter(unsigned i)
{
	TTLOG_COUNTER_ADD("bench.ops", 1, "kind=counter");
	(void)i;
}

static __attribute__((noinline)) void op_gauge(unsigned i)
{
	TTLOG_GAUGE_SET("bench.level", (double)i);
}

static __attribute__((noinline)) void op_histogram(unsigned i)
{
	TTLOG_HISTOGRAM_RECORD("bench.latency", 0.001 * (double)(i % 1000));
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: metric_ops counter|gauge|histogram N\n");
		return 2;
	}
	void (*op)(unsigned) = strcmp(argv[1], "counter") == 0     ? op_counter
			       : strcmp(argv[1], "gauge") == 0     ? op_gauge
			       : strcmp(argv[1], "histogram") == 0 ? op_histogram
								   : NULL;
	unsigned n = (unsigned)strtoul(argv[2], NULL, 10);
	if (!op || !n) {
		fprintf(stderr, "metric_ops: unknown kind or N\n");
		return 2;
	}
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "metric_ops: ttlog_init: %s\n", ttlog_init_error());
		return 1;
	}
	for (unsigned i = 0; i < WARMUP; i++)
		op(i);
	CALLGRIND_ZERO_STATS;
	for (unsigned i = 0; i < n; i++)
		op(i);
	CALLGRIND_DUMP_STATS_AT("ops");
	ttlog_shutdown();
	return 0;
}
