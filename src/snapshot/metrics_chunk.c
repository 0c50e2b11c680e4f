/* SPDX-License-Identifier: MIT */
/*
 * metrics_chunk.c - writes the MTRC chunks of a snapshot (docs/FORMAT.md
 * 7.4): each registered metric summed over every thread's shard, then
 * ttlog's own metrics.
 *
 * A chunk holds whole entries; when the next entry does not fit in the
 * payload buffer, the chunk is written and a new one begun, so any number
 * of metrics fits (a histogram with every bucket used is about 49 KiB).
 * Only the buckets that are not empty are written.
 *
 * Everything in this file runs in signal context: the snapshot writer
 * calls it with buffers from its workspace, and it allocates nothing.
 */
#include <stdatomic.h>

#include "common/histogram.h"
#include "common/internal.h"
#include "format/format.h"
#include "metrics/metrics.h"
#include "sites/desc.h"
#include "snapshot/metrics_chunk.h"

#define FILE_NAME_MAX 1024u

struct builder {
	const struct ttlog__mtrc_scratch *s;
	size_t len;
	uint32_t count;
};

/* Starts a chunk in the payload buffer. Runs in signal context. */
static void chunk_begin(struct builder *b)
{
	unsigned char *p = b->s->payload;
	memset(p, 0, TTLOG__FMT_MTRC_HEADER_SIZE);
	p[TTLOG__FMT_MTRC_SUB_BITS_OFF] = TTLOG__HIST_SUB_BITS;
	ttlog__put_u16(p + TTLOG__FMT_MTRC_MIN_EXP_OFF, (uint16_t)(int16_t)TTLOG__HIST_MIN_EXP);
	ttlog__put_u16(p + TTLOG__FMT_MTRC_MAX_EXP_OFF, (uint16_t)(int16_t)TTLOG__HIST_MAX_EXP);
	b->len = TTLOG__FMT_MTRC_HEADER_SIZE;
	b->count = 0;
}

/* Emits the chunk if it holds entries, and starts the next. Runs in
 * signal context. */
static void chunk_flush(struct builder *b)
{
	if (b->count) {
		ttlog__put_u32(b->s->payload + TTLOG__FMT_MTRC_COUNT_OFF, b->count);
		b->s->emit(b->s->ctx, b->s->payload, b->len);
	}
	chunk_begin(b);
}

/* Starts an entry of `value_size` value bytes; returns where the value
 * goes, or NULL if the entry can never fit (not with the registry's
 * limits). Runs in signal context. */
static unsigned char *entry_begin(struct builder *b, uint8_t type, uint8_t flags, uint32_t line,
				  const char *name, const char *labels, size_t labels_len,
				  const char *file, size_t value_size)
{
	size_t name_len = TTLOG__MIN(strlen(name), (size_t)TTLOG__METRIC_NAME_MAX);
	size_t file_len = file ? TTLOG__MIN(strlen(file), (size_t)FILE_NAME_MAX) : 0;
	labels_len = TTLOG__MIN(labels_len, (size_t)TTLOG__METRIC_LABELS_MAX);
	size_t need = TTLOG__FMT_METRIC_FIXED_SIZE + 12 + name_len + labels_len + file_len + value_size;
	if (need > b->s->payload_cap - TTLOG__FMT_MTRC_HEADER_SIZE)
		return NULL;
	if (b->len + need > b->s->payload_cap)
		chunk_flush(b);
	unsigned char *p = b->s->payload + b->len;
	p[TTLOG__FMT_METRIC_TYPE_OFF] = type;
	p[TTLOG__FMT_METRIC_FLAGS_OFF] = flags;
	ttlog__put_u16(p + TTLOG__FMT_METRIC_RESERVED_OFF, 0);
	ttlog__put_u32(p + TTLOG__FMT_METRIC_LINE_OFF, line);
	p += TTLOG__FMT_METRIC_FIXED_SIZE;
	const char *strs[3] = {name, labels, file};
	size_t lens[3] = {name_len, labels_len, file_len};
	for (int i = 0; i < 3; i++) {
		ttlog__put_u32(p, (uint32_t)lens[i]);
		if (lens[i])
			memcpy(p + 4, strs[i], lens[i]);
		p += 4 + lens[i];
	}
	b->len += need;
	b->count++;
	return p;
}

/* Runs in signal context. */
static void put_double(unsigned char *p, double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	ttlog__put_u64(p, v);
}

typedef void (*metric_reader)(void *ctx, const struct ttlog__metric_entry *e,
			      struct ttlog__metric_sum *out, unsigned char *buckets);

/* This process's shards. Runs in signal context. */
static void read_local(void *ctx, const struct ttlog__metric_entry *e, struct ttlog__metric_sum *out,
		       unsigned char *buckets)
{
	(void)ctx;
	ttlog__metric_read(e, out, buckets, NULL);
}

/* One registered metric, summed over the shards. Runs in signal context. */
static void write_entry(struct builder *b, const struct ttlog__metric_entry *e, metric_reader read,
			void *ctx)
{
	struct ttlog__metric_sum sum;
	unsigned char *acc = b->s->buckets;
	int hist = e->type == TTLOG__METRIC_HISTOGRAM;
	read(ctx, e, &sum, hist ? acc : NULL);
	size_t value_size = 8;
	uint32_t used = 0;
	if (e->type == TTLOG__METRIC_GAUGE) {
		value_size = 16;
	} else if (hist) {
		for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++)
			used += ttlog__get_u64(acc + 8 * i) != 0;
		value_size = TTLOG__FMT_HIST_FIXED_SIZE + (size_t)used * TTLOG__FMT_HIST_PAIR_SIZE;
	}
	unsigned char *p = entry_begin(b, e->type, 0, e->line, e->name, e->labels, e->labels_len,
				       e->file, value_size);
	if (!p)
		return;
	switch (e->type) {
	case TTLOG__METRIC_COUNTER:
		ttlog__put_u64(p, sum.counter);
		break;
	case TTLOG__METRIC_GAUGE:
		put_double(p, sum.gauge);
		ttlog__put_u64(p + 8, sum.gauge_ticks);
		break;
	default:
		ttlog__put_u64(p, sum.count);
		put_double(p + 8, sum.sum);
		put_double(p + 16, sum.min);
		put_double(p + 24, sum.max);
		ttlog__put_u32(p + 32, used);
		p += TTLOG__FMT_HIST_FIXED_SIZE;
		for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++) {
			uint64_t c = ttlog__get_u64(acc + 8 * i);
			if (!c)
				continue;
			ttlog__put_u32(p, i);
			ttlog__put_u64(p + 4, c);
			p += TTLOG__FMT_HIST_PAIR_SIZE;
		}
		break;
	}
}

/* One of ttlog's own metrics (the ttlog__self_metrics callback). Runs in
 * signal context. */
static void write_self(void *ctx, const struct ttlog__self_metric *m)
{
	struct builder *b = ctx;
	size_t value_size = m->type == TTLOG__METRIC_GAUGE ? 16 : 8;
	unsigned char *p = entry_begin(b, m->type, TTLOG__FMT_METRIC_FLAG_SELF, 0, m->name, m->labels,
				       m->labels_len, "", value_size);
	if (!p)
		return;
	if (m->type == TTLOG__METRIC_GAUGE) {
		put_double(p, m->gauge);
		ttlog__put_u64(p + 8, m->gauge_ticks);
	} else {
		ttlog__put_u64(p, m->counter);
	}
}

/* Runs in signal context. */
void ttlog__metrics_snapshot(const struct ttlog__mtrc_scratch *s, uint64_t strings_truncated,
			     uint64_t redacted)
{
	struct builder b = {s, 0, 0};
	chunk_begin(&b);
	uint32_t n = ttlog__metrics_count();
	for (uint32_t i = 0; i < n; i++)
		write_entry(&b, ttlog__metrics_entry(i), read_local, NULL);
	ttlog__self_metrics(write_self, &b, strings_truncated, redacted);
	chunk_flush(&b);
}

void ttlog__metrics_snapshot_of(const struct ttlog__mtrc_scratch *s,
				const struct ttlog__metric_entry *entries, uint32_t n,
				void (*read)(void *ctx, const struct ttlog__metric_entry *e,
					     struct ttlog__metric_sum *out, unsigned char *buckets),
				void *ctx, uint64_t shards_private)
{
	struct builder b = {s, 0, 0};
	chunk_begin(&b);
	for (uint32_t i = 0; i < n; i++)
		write_entry(&b, &entries[i], read, ctx);
	if (shards_private != UINT64_MAX) {
		const struct ttlog__self_metric m = {
			.name = "ttlog_metric_shards_private_total",
			.help = "Threads whose metric updates are in private memory, not in the sums "
				"read from the process's mapping",
			.labels = "",
			.type = TTLOG__METRIC_COUNTER,
			.counter = shards_private,
		};
		write_self(&b, &m);
	}
	chunk_flush(&b);
}

/* Bytes of an argument of type t that is not a string. Runs in signal
 * context. */
static uint32_t fixed_size(uint8_t type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: return 1;
	case TTLOG_ARG_I16: case TTLOG_ARG_U16: return 2;
	case TTLOG_ARG_I32: case TTLOG_ARG_U32: return 4;
	default: return 8;
	}
}

/* Runs in signal context. */
uint32_t ttlog__record_truncated_strings(const unsigned char *rec, uint32_t size,
					 const struct ttlog__site_desc *site)
{
	uint32_t cut = 0, off = 16;
	if (!site)
		return 0;
	for (unsigned i = 0; i < site->nargs && off <= size; i++) {
		uint8_t t = site->arg_types[i];
		if (t != TTLOG_ARG_STR) {
			off += fixed_size(t);
			continue;
		}
		if (size - off < 4)
			break;
		uint32_t word = ttlog__get_u32(rec + off);
		cut += (word & TTLOG__STR_TRUNCATED) != 0;
		off += 4 + (word & TTLOG__STR_LEN_MASK);
	}
	return cut;
}
