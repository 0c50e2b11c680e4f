/* SPDX-License-Identifier: MIT */
/*
 * publish.h - how the layers below shm/ hand their rings, their call sites
 * and their clock to shared-memory mode without knowing it exists.
 *
 * Shared-memory mode (src/shm/owner.c) sits above the rings, the threads,
 * the sites, the snapshot writer and the crash handler, yet each of them
 * has something to give it: ring memory, a site's copy, a calibration, the
 * news of a crash. Instead of including shm/, they call through this table,
 * which core/ sets once (ttlog__publisher_set) before ttlog_init publishes
 * the state. Every operation is a no-op (or "not here") while the mode is
 * off, and while no table is set (before the first ttlog_init), the
 * wrappers below do nothing, so callers need no test of their own.
 *
 * The stream (src/stream/), which sits beside shm/ rather than above it,
 * tells it through the same table how far it has written each ring
 * (stream_state, stream_done: docs/SHM-FORMAT.md 6.5).
 *
 * The table is read in signal context (crashed, refresh, note_calibration),
 * so it is a pointer to constant data, stored with release before the
 * state is published and loaded with acquire.
 */
#ifndef TTLOG__COMMON_PUBLISH_H
#define TTLOG__COMMON_PUBLISH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ttlog__ring;
struct ttlog__site_desc;
struct ttlog__calibration;
struct ttlog__metric_entry;

struct ttlog__publisher {
	/* 1 while rings are allocated in a mapping. Runs in signal context. */
	int (*active)(void);
	/* size bytes aligned to align from the mapping, backed now; NULL when
	 * full. Not signal-safe. */
	void *(*alloc)(size_t size, size_t align);
	/* A ring from alloc, its geometry set, enters the ring table; -1: the
	 * table is full (the ring is not used). Not signal-safe. */
	int (*ring_publish)(struct ttlog__ring *r);
	/* A ring taken over for reuse: its memory is backed. -1: do not use it. */
	int (*ring_claimed)(struct ttlog__ring *r);
	/* A call site got an id; d is its resolved description (sites/desc.h),
	 * which stays valid. Runs in signal context. */
	void (*site_added)(const struct ttlog__site_desc *d);
	/* At most once a second, from the slow path (see
	 * ttlog__publish_maybe_refresh). Runs in signal context. */
	void (*refresh)(uint64_t ticks);
	/* A snapshot took a calibration. Runs in signal context. */
	void (*note_calibration)(const struct ttlog__calibration *cal);
	/* The crash snapshot was written. Runs in signal context. */
	void (*crashed)(void);
	/* The stream started (1) or stopped (0). Not signal-safe. */
	void (*stream_state)(int on);
	/* The stream has written to its segment, as whole chunks, every record
	 * of ring r's owner gen before logical offset pos (index records
	 * written before it). Runs in signal context (the crash path closes
	 * the stream). */
	void (*stream_done)(struct ttlog__ring *r, uint32_t gen, uint64_t pos, uint64_t index);
	/* A metric shard in the mapping, backed for every slot given out so
	 * far (and for later ones by metric_added); NULL when the mode is off
	 * or the mapping has no room (the shard is then private). Not
	 * signal-safe. */
	unsigned char *(*metrics_shard)(void);
	/* Metric i of the registry (src/metrics/registry.c), whose slots end at
	 * byte `end` of every shard, enters the mapping's metric table; every
	 * shard handed out is backed up to end first. -1: no memory to back
	 * them (the metric is refused). Called under the registry's lock,
	 * before the metric is used. Not signal-safe. */
	int (*metric_added)(uint32_t i, const struct ttlog__metric_entry *e, uint32_t end);
};

extern const struct ttlog__publisher *_Atomic ttlog__publisher;

/* The ticks at or after which the slow path calls refresh; UINT64_MAX
 * while nothing is due (the mode is off). Written by the publisher. */
extern _Atomic uint64_t ttlog__publish_next_refresh;

/* Sets the table (core/, before the state is published). */
static inline void ttlog__publisher_set(const struct ttlog__publisher *p)
{
	/* LMM(publisher:A) pairs with LMM(publisher:B): a thread that sees the
	 * table sees the data it points to. */
	atomic_store_explicit(&ttlog__publisher, p, memory_order_release);
}

/* The table, or NULL before it is set. Runs in signal context. */
static inline const struct ttlog__publisher *ttlog__publisher_get(void)
{
	/* LMM(publisher:B) */
	return atomic_load_explicit(&ttlog__publisher, memory_order_acquire);
}

/* Runs in signal context. */
static inline void ttlog__publish_site(const struct ttlog__site_desc *d)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p)
		p->site_added(d);
}

/* One compare unless a refresh is due. Runs in signal context. */
static inline void ttlog__publish_maybe_refresh(uint64_t ticks)
{
	if (ticks >= atomic_load_explicit(&ttlog__publish_next_refresh, memory_order_relaxed)) {
		const struct ttlog__publisher *p = ttlog__publisher_get();
		if (p)
			p->refresh(ticks);
	}
}

/* Runs in signal context. */
static inline void ttlog__publish_calibration(const struct ttlog__calibration *cal)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p)
		p->note_calibration(cal);
}

/* Runs in signal context. */
static inline void ttlog__publish_crashed(void)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p)
		p->crashed();
}

/* Not signal-safe. */
static inline void ttlog__publish_stream_state(int on)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p && p->stream_state)
		p->stream_state(on);
}

/* Runs in signal context. */
static inline void ttlog__publish_stream_done(struct ttlog__ring *r, uint32_t gen, uint64_t pos,
					      uint64_t index)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p && p->stream_done)
		p->stream_done(r, gen, pos, index);
}

#endif
