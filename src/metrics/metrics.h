/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - counters, gauges and histograms inside the library: the
 * registry of metrics, the per-thread shards their values live in, the
 * sums readers make of them, and ttlog's own metrics.
 *
 * The update path is inline in ttlog.h (TTLOG_COUNTER_ADD & co.); its slow
 * paths, ttlog__metric_register() and ttlog__metrics_attach(), are in
 * registry.c and shard.c. Snapshots (src/snapshot/metrics_chunk.c) and
 * ttlog_metrics_write_prometheus() (prometheus.c) read through sum.c and
 * self.c, which run in signal context.
 */
#ifndef TTLOG__METRICS_METRICS_H
#define TTLOG__METRICS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

/* Bytes of address space per shard (see "Room" in ttlog.h). */
#define TTLOG__METRICS_SHARD_BYTES ((size_t)4 << 20)
#define TTLOG__METRIC_NAME_MAX 128u
#define TTLOG__METRIC_LABELS_MAX 1024u   /* bytes of the label list */
#define TTLOG__METRIC_GIVEN_UP ((uint64_t)2)

/* A registered metric. Immutable once published (see registry.c). */
struct ttlog__metric_entry {
	const char *name;
	const char *labels;         /* "k=v\0k=v\0"... ended by an empty string */
	size_t labels_len;          /* bytes before that empty string */
	const char *file;
	uint32_t line;
	uint8_t type;               /* TTLOG__METRIC_* */
	uint32_t offset;            /* byte offset of its slots in every shard */
};

/* ---- Registry (registry.c) ------------------------------------------------ */

/* The number of metrics published so far; entries below it never change.
 * Runs in signal context. */
uint32_t ttlog__metrics_count(void);
/* Metric i < ttlog__metrics_count(). Runs in signal context. */
const struct ttlog__metric_entry *ttlog__metrics_entry(uint32_t i);
/* Metrics refused for lack of room, and uses rejected (bad name, labels or
 * type). Run in signal context. */
uint32_t ttlog__metrics_refused(void);
uint64_t ttlog__metrics_rejected(void);
/* Tells the publisher (shared-memory mode) every metric registered so far.
 * Not signal-safe. */
void ttlog__metrics_republish(void);

/* ---- Shards (shard.c) ----------------------------------------------------- */

/* Sends every thread's next update to ttlog__metrics_attach(), which
 * refuses while ttlog is off and picks the clock up again after
 * ttlog_init. Called by ttlog_init and ttlog_shutdown. */
void ttlog__metrics_detach_all(void);

/* ---- Reading (sum.c; all of it runs in signal context) ------------------- */

/* A metric summed over every shard. */
struct ttlog__metric_sum {
	uint64_t counter;           /* counters */
	double gauge;               /* gauges: the value set last ... */
	uint64_t gauge_ticks;       /* ... and its time; 0: never set */
	uint64_t count;             /* histograms: the sum of the buckets */
	double sum, min, max;       /* min and max are 0 when count is 0 */
};

/*
 * Sums metric e over the shards of every ring. For a histogram, buckets
 * (if not NULL) receives TTLOG__HIST_BUCKETS little-endian u64 counts (8
 * bytes each, no alignment needed) and octaves (if not NULL) the counts per
 * power of two: [0] the underflow bucket, [1 + k] the 64 buckets of
 * (2^(k-24), 2^(k-23)], [TTLOG__HIST_OCTAVES + 1] the overflow bucket.
 */
void ttlog__metric_read(const struct ttlog__metric_entry *e, struct ttlog__metric_sum *out,
			unsigned char *buckets, uint64_t *octaves);

/* Adds metric e's slots in one shard to out (and to buckets, octaves), as
 * ttlog__metric_read does for each shard; out, buckets and octaves must
 * start zeroed. The shard may be another process's (a mapping's: the
 * caller has checked that e's slots lie within it). Exported for the
 * mapping reader of libttlog-read. Runs in signal context. */
TTLOG_API void ttlog__metric_add_shard(const unsigned char *shard, const struct ttlog__metric_entry *e,
				       struct ttlog__metric_sum *out, unsigned char *buckets,
				       uint64_t *octaves);

/* ---- ttlog's own metrics (self.c) ----------------------------------------- */

struct ttlog__self_metric {
	const char *name;           /* "ttlog_events_written_total" */
	const char *help;
	const char *labels;         /* as in an entry; "" if none */
	size_t labels_len;
	uint8_t type;               /* TTLOG__METRIC_COUNTER or _GAUGE */
	uint64_t counter;
	double gauge;
	uint64_t gauge_ticks;
};

/*
 * Calls fn once per self-metric, in a fixed order (all the metrics of one
 * name one after the other). strings_truncated is the count the caller
 * found (the snapshot writer counts the cut strings of the records it
 * writes), or UINT64_MAX to leave that metric out; redacted likewise, the
 * values the writer's redaction rules replaced (UINT64_MAX without rules).
 * Runs in signal context.
 */
void ttlog__self_metrics(void (*fn)(void *ctx, const struct ttlog__self_metric *m), void *ctx,
			 uint64_t strings_truncated, uint64_t redacted);

#endif
