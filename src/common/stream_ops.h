/* SPDX-License-Identifier: MIT */
/*
 * stream_ops.h - how the layers below stream/ reach the stream (the
 * background drainer of src/stream/) without knowing it exists.
 *
 * The crash handler closes the stream's open segment after its snapshot,
 * and the log call's slow path waits for the drainer under the `block`
 * policy; both sit below the stream in the layer table, so they call
 * through this table, which core/ sets before ttlog_init publishes the
 * state and clears at shutdown. While no table is set, the wrappers do
 * nothing. The table is read in signal context, so it is a pointer to
 * constant data, stored with release and loaded with acquire.
 */
#ifndef TTLOG__COMMON_STREAM_OPS_H
#define TTLOG__COMMON_STREAM_OPS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ttlog__ring;

struct ttlog__stream_ops {
	/* Drains what it can and closes the open segment with its END, using
	 * only memory reserved when the stream started (the crash handler).
	 * Runs in signal context. */
	void (*close_now)(void);
	/* The owner of ring r is about to drop its records before logical
	 * offset `upto` (entering a segment of the next lap): under the block
	 * policy, waits until the drainer has read them. Runs in the log
	 * call's slow path, so in signal context too. */
	void (*before_drop)(struct ttlog__ring *r, uint64_t upto);
	/* An exited thread's ring r was claimed for reuse (ring_reuse, src/
	 * thread/thread.c) and is about to be reset: the records of its old
	 * owner that the stream has not read are counted as lost. Not
	 * signal-safe (a thread's attach). */
	void (*ring_retired)(struct ttlog__ring *r);
};

extern const struct ttlog__stream_ops *_Atomic ttlog__stream_ops;

/* Sets (or, with NULL, clears) the table. core/ only. */
static inline void ttlog__stream_ops_set(const struct ttlog__stream_ops *ops)
{
	/* LMM(streamops:A) pairs with LMM(streamops:B): a thread that sees
	 * the table sees the data it points to. */
	atomic_store_explicit(&ttlog__stream_ops, ops, memory_order_release);
}

/* Runs in signal context. */
static inline const struct ttlog__stream_ops *ttlog__stream_ops_get(void)
{
	/* LMM(streamops:B) */
	return atomic_load_explicit(&ttlog__stream_ops, memory_order_acquire);
}

/* Runs in signal context. */
static inline void ttlog__stream_close_now(void)
{
	const struct ttlog__stream_ops *ops = ttlog__stream_ops_get();
	if (ops)
		ops->close_now();
}

/* Runs in signal context. */
static inline void ttlog__stream_before_drop(struct ttlog__ring *r, uint64_t upto)
{
	const struct ttlog__stream_ops *ops = ttlog__stream_ops_get();
	if (ops && ops->before_drop)
		ops->before_drop(r, upto);
}

/* Not signal-safe. */
static inline void ttlog__stream_ring_retired(struct ttlog__ring *r)
{
	const struct ttlog__stream_ops *ops = ttlog__stream_ops_get();
	if (ops && ops->ring_retired)
		ops->ring_retired(r);
}

#endif
