/* SPDX-License-Identifier: MIT */
/*
 * shard.c - per-thread metric shards: where a thread's metric updates go.
 *
 * A shard is TTLOG__METRICS_SHARD_BYTES of anonymous memory mapped with
 * MAP_NORESERVE: address space only, so a histogram costs real memory only
 * for the pages of buckets its thread writes. The registry (registry.c)
 * gives every metric the same offset in every shard. Only the shard's
 * thread writes it; readers sum all shards (sum.c).
 *
 * A shard belongs to a ring, not to a thread: when a thread exits, its ring
 * (and shard) waits for the next thread, which keeps adding to the same
 * slots. So the values of exited threads are never lost and sums stay sums.
 * Rings are never freed, and neither are shards.
 *
 * In shared-memory mode a shard is a slot of the mapping's shard part
 * instead (src/shm/owner.c), backed for the slots given out so far: the
 * same memory for the same stores, which another process can read
 * (`ttlog metrics PID`, the MTRC chunk of `ttlog snap` and `recover`).
 *
 * The hot path finds the shard through the thread's writer (w->metrics in
 * ttlog.h). NULL there sends the next update to ttlog__metrics_attach(),
 * the same trick as a writer's limit of 0 for log calls: ttlog_init and
 * ttlog_shutdown set every writer's pointer to NULL, so that updates after
 * shutdown are dropped (and counted) and the clock is looked at again after
 * a new ttlog_init. An owner in the middle of attaching while that happens
 * may keep its pointer until the next ttlog_init or ttlog_shutdown; its
 * updates still land in its own shard.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <sys/mman.h>

#include "clock/clock.h"
#include "common/publish.h"
#include "common/internal.h"
#include "common/state.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "thread/thread.h"

TTLOG_API _Atomic int ttlog__metrics_inline_clock;

/* A shard in the shared mapping when there is one (readable from outside,
 * docs/SHM-FORMAT.md 6.6), else private memory. */
static unsigned char *shard_new(void)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	unsigned char *in_map = p && p->metrics_shard ? p->metrics_shard() : NULL;
	if (in_map)
		return in_map;
	void *m = mmap(NULL, TTLOG__METRICS_SHARD_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

/* The slow path of a metric update (declared in ttlog.h). */
TTLOG_API unsigned char *ttlog__metrics_attach(void)
{
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(). */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_uninitialized, 1, memory_order_relaxed);
		return NULL;
	}
	struct ttlog__ring *r = ttlog__ring_self();
	if (!r) {
		if (!ttlog__thread_attach())
			return NULL; /* counted in dropped_no_ring */
		r = ttlog__ring_self();
	}
	unsigned char *shard = atomic_load_explicit(&r->metrics_shard, memory_order_relaxed);
	if (!shard) {
		shard = shard_new();
		if (!shard) {
			atomic_fetch_add_explicit(&ttlog__g.dropped_no_ring, 1, memory_order_relaxed);
			return NULL;
		}
		/* LMM(shard:A) pairs with LMM(shard:B) in sum.c: a reader
		 * that finds the pointer finds the mapping in place, reading as
		 * zeros until this thread stores into it. */
		atomic_store_explicit(&r->metrics_shard, shard, memory_order_release);
	}
	atomic_store_explicit(&ttlog__metrics_inline_clock, ttlog__clock_inline_ok(), memory_order_relaxed);
	TTLOG__STORE(r->w.metrics, shard, relaxed);
	return shard;
}

TTLOG_API uint64_t ttlog__metric_ticks(void)
{
	return ttlog__clock_ticks();
}

void ttlog__metrics_detach_all(void)
{
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next)
		TTLOG__STORE(r->w.metrics, (ttlog__bytes)NULL, relaxed);
}
