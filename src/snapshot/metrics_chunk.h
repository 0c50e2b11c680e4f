/* SPDX-License-Identifier: MIT */
/*
 * metrics_chunk.h - the MTRC chunks of a snapshot: the value of every
 * metric, ttlog's own included (docs/FORMAT.md, MTRC).
 */
#ifndef TTLOG__SNAPSHOT_METRICS_CHUNK_H
#define TTLOG__SNAPSHOT_METRICS_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

/* Where the chunks are built: the snapshot writer lends buffers it no
 * longer needs once the threads are written. */
struct ttlog__mtrc_scratch {
	unsigned char *payload;     /* a chunk's payload is built here */
	size_t payload_cap;         /* at least 64 KiB */
	unsigned char *buckets;     /* 8 * TTLOG__HIST_BUCKETS bytes, any alignment */
	/* Writes one finished chunk of type MTRC. */
	void (*emit)(void *ctx, const unsigned char *payload, size_t len);
	void *ctx;
};

/*
 * Writes every registered metric and every self-metric as MTRC chunks of at
 * most payload_cap bytes each (whole entries: several chunks when they do
 * not fit in one). redacted: the values the redaction rules replaced
 * (UINT64_MAX: no rules). strings_truncated: the cut strings the writer counted in
 * the records it wrote. Runs in signal context.
 */
void ttlog__metrics_snapshot(const struct ttlog__mtrc_scratch *s, uint64_t strings_truncated,
			     uint64_t redacted);

struct ttlog__metric_entry; /* metrics/metrics.h */
struct ttlog__metric_sum;

/*
 * Writes the n metrics of entries, each summed by read (another process's,
 * read from its mapping), as MTRC chunks; of the self-metrics (this
 * process's) only ttlog_metric_shards_private_total, the other process's
 * threads whose shards are not in its mapping, unless shards_private is
 * UINT64_MAX. read fills out and, for a histogram, buckets
 * (TTLOG__HIST_BUCKETS little-endian u64) from zero.
 */
void ttlog__metrics_snapshot_of(const struct ttlog__mtrc_scratch *s,
				const struct ttlog__metric_entry *entries, uint32_t n,
				void (*read)(void *ctx, const struct ttlog__metric_entry *e,
					     struct ttlog__metric_sum *out, unsigned char *buckets),
				void *ctx, uint64_t shards_private);

struct ttlog__site_desc; /* sites/desc.h */

/* How many string arguments of a record were cut (TTLOG__STR_TRUNCATED),
 * given its site's description; the record was validated by the ring
 * reader. Runs in signal context. */
uint32_t ttlog__record_truncated_strings(const unsigned char *rec, uint32_t size,
					 const struct ttlog__site_desc *site);

#endif
