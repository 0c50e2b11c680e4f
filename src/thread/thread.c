/* SPDX-License-Identifier: MIT */
/*
 * thread.c - which ring each thread writes: the process's list of rings,
 * giving a thread its ring at its first event and taking it back at its
 * exit, the log call's slow path, and totals over every ring.
 *
 * A ring outlives its thread, so snapshots show what exited threads did. A
 * new thread takes a new ring while the memory cap allows, else the ring of
 * the thread that exited first (ring_reuse). A thread without a ring writes
 * into idle_writer, whose limit 0 sends its first call to
 * ttlog__reserve_slow(), which attaches one. The list only grows: rings are
 * never freed, and `next` is immutable once a ring is published.
 *
 * In shared-memory mode the rings come from the mapping, through the
 * publisher table (src/common/publish.h) that core/ wires to src/shm/.
 *
 * Memory ordering
 * ---------------
 * The list and each ring's life cycle (LIVE, EXITED, CLAIMED, FREE: see
 * ring.h) are published with these pairs; the ring's contents have their
 * own protocol, at the top of src/ring/ring.c.
 *
 *   writer                                   reader
 *   ring_new: the ring's fields, CLAIMED,    ttlog__ring_first: load
 *     next; CAS ring_list   LMM(list:A)        ring_list     LMM(list:B)
 *   thread_exit_hook: name, exit_order;      ring_reuse: CAS EXITED/FREE
 *     store EXITED          LMM(exit:A)        to CLAIMED    LMM(claim:B)
 *   ttlog__thread_attach, a claimed ring     snapshots, totals, ring_reuse's
 *     given back: store FREE LMM(free:A)       scan: load state LMM(state:B)
 *   ttlog__ring_reset (ring.c): store LIVE
 *                           LMM(live:A)
 *   ttlog__rings_freeze: store frozen,       ttlog__reserve_slow, sent by a
 *     fence LMM(freeze:A), store limits 0      limit of 0: fence LMM(freeze:B),
 *                                              load frozen
 *
 *   LMM(list:A) pairs with LMM(list:B): whoever loads the head sees every
 *       ring it can reach whole: each ring's fields and `next` are stored
 *       before the CAS that pushes it, and every change of ring_list is a
 *       read-modify-write, so all the pushes form one release sequence and
 *       the load synchronises with each push before the one it reads.
 *   LMM(exit:A) pairs with LMM(claim:B): the claimer sees everything the
 *       exited thread stored, its records and w.records included, so that
 *       ring_retire() counts them and no store of the old owner races with
 *       the reset. It pairs with LMM(state:B) too: a snapshot that sees
 *       EXITED sees the name and exit_order stored before it.
 *   LMM(free:A) pairs with LMM(claim:B): a ring claimed and given back
 *       passes on what its claimer acquired, so the chain from the last
 *       owner to the next one is unbroken.
 *   LMM(live:A) pairs with LMM(state:B): a reader that sees LIVE sees the
 *       reset that preceded it (the reader relies on `gen` for that too,
 *       ring.c's LMM(gen:C)).
 *   LMM(claim:B) is acquire only: CLAIMED publishes nothing (readers skip
 *       such a ring), and a failed CAS only means trying again.
 *   LMM(freeze:A) pairs with LMM(freeze:B): an owner whose limit check
 *       read a 0 stored by the freeze sees the flag in the slow path.
 *
 * Everything else here is relaxed: ring_bytes, ring_count and exit_counter
 * are counters whose values matter, not what comes with them; exit_order
 * travels with LMM(exit:A); a writer's limit is set by its owner, and to 0
 * from outside by ttlog__rings_freeze and ttlog__rings_configure, and a
 * stale value only sends a call to the slow path once more, or once later
 * (the freeze's ordering is LMM(freeze:A/B)).
 */
#define _GNU_SOURCE
#include "thread/thread.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "common/publish.h"
#include "common/state.h"
#include "common/stream_ops.h"
#include "format/format.h"
#include "ring/ring.h"
#include "thread/altstack.h"
#include "thread/scopes.h"

/* The writer of threads without a ring: limit 0 sends every call to
 * ttlog__reserve_slow(), which attaches one. max_string is set by
 * ttlog__rings_configure(); only this thread-independent copy is read. */
static struct ttlog__writer idle_writer;

TTLOG_API __thread struct ttlog__writer *ttlog__tls_writer
	__attribute__((tls_model("initial-exec"))) = &idle_writer;
static __thread int tls_exited; /* the thread's exit hook ran: never attach again */

static _Atomic(struct ttlog__ring *) ring_list;
static _Atomic size_t ring_bytes;
static _Atomic uint32_t ring_count;
static _Atomic uint64_t exit_counter;
static pthread_key_t exit_key;

static uint32_t current_tid(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

/* The ring whose writer w is. Runs in signal context. */
static struct ttlog__ring *ring_of(struct ttlog__writer *w)
{
	return (struct ttlog__ring *)((char *)w - offsetof(struct ttlog__ring, w));
}

/* Runs in signal context. */
const void *ttlog__ring_list_address(void)
{
	return &ring_list;
}

struct ttlog__ring *ttlog__ring_first(void)
{
	/* LMM(list:B) pairs with LMM(list:A) in ring_new(). */
	return atomic_load_explicit(&ring_list, memory_order_acquire);
}

/* Runs in signal context: one TLS read. */
struct ttlog__ring *ttlog__ring_self(void)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	return w != &idle_writer ? ring_of(w) : NULL;
}

void ttlog__rings_configure(void)
{
	uint32_t nseg, seg_size;
	ttlog__ring_divide(ttlog__g.ring_size, &nseg, &seg_size);
	idle_writer.max_string = ttlog__ring_max_string(seg_size);
	idle_writer.str_fast = ttlog__str_fast(idle_writer.max_string);
	/* Rings keep their size across ttlog_shutdown() and ttlog_init(), and
	 * their owners take the new string limit in their next slow path,
	 * where the limit of 0 below sends them. */
	atomic_fetch_add_explicit(&ttlog__g.ring_config, 1, memory_order_relaxed);
	/* The tick source may have changed: send every ring's next call to the
	 * slow path, which sets its limit for the new source. A ring whose
	 * owner is in the slow path right now may keep the old limit until
	 * its segment ends. */
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next)
		atomic_store_explicit(&r->w.limit, 0, memory_order_relaxed);
}

/* Makes the ring empty and gives it to the calling thread. The ring is not
 * LIVE or EXITED while this runs, or is the caller's own. */
static void ring_reset_for_self(struct ttlog__ring *r)
{
	char name[TTLOG__THREAD_NAME_MAX] = {0};
	pthread_getname_np(pthread_self(), name, sizeof name);
	memset(&r->scopes, 0, offsetof(struct ttlog__scope_stack, entry));
	ttlog__ring_reset(r, current_tid(), name);
}

static struct ttlog__ring *ring_new(void)
{
	size_t size = ttlog__g.ring_size;
	size_t used = atomic_load_explicit(&ring_bytes, memory_order_relaxed);
	do {
		if (used + size > ttlog__g.memory_cap)
			return NULL;
	} while (!atomic_compare_exchange_weak_explicit(&ring_bytes, &used, used + size,
							memory_order_relaxed, memory_order_relaxed));

	struct ttlog__ring *r;
	void *data;
	const struct ttlog__publisher *pub = ttlog__publisher_get();
	if (pub && pub->active()) {
		/* Shared-memory mode (src/shm/owner.c): both from the mapping,
		 * which is never given back; full counts like the cap. */
		r = pub->alloc(sizeof *r, 64);
		data = r ? pub->alloc(size, 4096) : NULL;
		if (!data) {
			atomic_fetch_sub_explicit(&ring_bytes, size, memory_order_relaxed);
			return NULL;
		}
	} else {
		r = aligned_alloc(64, sizeof *r);
		data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!r || data == MAP_FAILED) {
			free(r);
			if (data != MAP_FAILED)
				munmap(data, size);
			atomic_fetch_sub_explicit(&ring_bytes, size, memory_order_relaxed);
			return NULL;
		}
	}
	memset(r, 0, sizeof *r);
	r->data = data;
	ttlog__ring_divide(size, &r->nseg, &r->seg_size);
	r->size = r->nseg * r->seg_size;
	if (pub && pub->ring_publish(r) != 0) {
		/* The ring table is full: a ring no other process could find
		 * is not handed out (its memory stays unused). */
		atomic_fetch_sub_explicit(&ring_bytes, size, memory_order_relaxed);
		return NULL;
	}
	/* Relaxed, like every field above: LMM(list:A) publishes them. */
	atomic_store_explicit(&r->state, TTLOG__RING_CLAIMED, memory_order_relaxed);
	r->index = atomic_fetch_add_explicit(&ring_count, 1, memory_order_relaxed);
	struct ttlog__ring *head = atomic_load_explicit(&ring_list, memory_order_relaxed);
	do {
		r->next = head;
		/* LMM(list:A) pairs with LMM(list:B) in ttlog__ring_first(): the
		 * ring is whole before it can be reached. A failed attempt
		 * publishes nothing: relaxed. */
	} while (!atomic_compare_exchange_weak_explicit(&ring_list, &head, r, memory_order_release,
							memory_order_relaxed));
	return r;
}

/* Keeps the totals of an exited thread's ring that is about to be reused,
 * so that the events_written and events_overwritten metrics never go back
 * (src/metrics/self.c). Its thread's writes are visible: the ring was
 * claimed from EXITED. */
static void ring_retire(struct ttlog__ring *r)
{
	atomic_fetch_add_explicit(&ttlog__g.records_retired, r->w.records, memory_order_relaxed);
	atomic_fetch_add_explicit(&ttlog__g.overwritten_retired, ttlog__ring_overwritten(r),
				  memory_order_relaxed);
}

/* Claims a FREE ring, else the ring whose thread exited first. */
static struct ttlog__ring *ring_reuse(void)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		struct ttlog__ring *best = NULL;
		uint32_t best_state = 0;
		uint64_t best_order = UINT64_MAX;
		for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
			/* LMM(state:B) pairs with LMM(exit:A): the order read
			 * next is the one this exit stored. */
			uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
			uint64_t order = atomic_load_explicit(&r->exit_order, memory_order_relaxed);
			if (st == TTLOG__RING_FREE) {
				best = r, best_state = st;
				break;
			}
			if (st == TTLOG__RING_EXITED && order < best_order)
				best = r, best_state = st, best_order = order;
		}
		if (!best)
			return NULL;
		/* LMM(claim:B) pairs with LMM(exit:A) and LMM(free:A): the old
		 * owner's stores are visible before ring_retire() reads them and
		 * before the reset writes over them. */
		if (atomic_compare_exchange_strong_explicit(&best->state, &best_state,
							    TTLOG__RING_CLAIMED, memory_order_acquire,
							    memory_order_relaxed)) {
			if (best_state == TTLOG__RING_EXITED) {
				ring_retire(best);
				/* What the stream had not read of it is lost. */
				ttlog__stream_ring_retired(best);
			}
			return best;
		}
	}
	return NULL;
}

/*
 * Starts, all at once, the cache misses a segment switch takes when it runs
 * cold (a thread that logs now and then switches every few milliseconds,
 * and whatever ran in between has had the caches): the ring's geometry
 * line, its scope stack's count, the globals the slow path reads, and the
 * first line of the segment the switch enters (base + limit, the end of the
 * current segment; at a lap's end, an address past the data, harmless: a
 * prefetch never faults). Issued before the first of them is waited for,
 * the misses overlap instead of following one another.
 */
static inline void prefetch_switch(const struct ttlog__writer *w)
{
	const struct ttlog__ring *r = ring_of((struct ttlog__writer *)w);
	__builtin_prefetch(&r->seg_end, 0, 3);
	__builtin_prefetch(&r->scopes.n, 0, 3);
	__builtin_prefetch(&ttlog__g.state, 0, 3);
	__builtin_prefetch(&ttlog__stream_ops, 0, 3);
	__builtin_prefetch(&ttlog__clock_kind, 0, 3);
	__builtin_prefetch(&ttlog__publish_next_refresh, 0, 3);
	__builtin_prefetch((const void *)(w->base + atomic_load_explicit(&w->limit, memory_order_relaxed)), 1, 3);
}

/* Ring r takes ttlog_init()'s string limit if it has not yet: the one
 * check of both ttlog__writer_settings() and the slow path. */
static inline void ring_settings_current(struct ttlog__ring *r)
{
	if (TTLOG__UNLIKELY(r->config !=
			    atomic_load_explicit(&ttlog__g.ring_config, memory_order_relaxed)))
		ttlog__ring_take_settings(r);
}

void ttlog__writer_settings(struct ttlog__writer *w)
{
	if (w != &idle_writer) /* whose limit ttlog__rings_configure() sets itself */
		ring_settings_current(ring_of(w));
}

/* A log call the slow path refuses, counted in *counter. Out of line and
 * cold, so that the segment switch's code stays in few cache lines. */
static __attribute__((noinline, cold)) unsigned char *refuse(_Atomic uint64_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
	return NULL;
}

/*
 * The slow path of a log call (declared in ttlog.h): the thread's first
 * event, the end of a segment, or a tick source that is not read inline.
 * The end of a segment is the common case and the log call's tail: its
 * path through here is straight (prefetch_switch, two flag checks,
 * ttlog__ring_advance, the inline tick read), and the rest is out of its way.
 */
TTLOG_API unsigned char *ttlog__reserve_slow(uint64_t hdr)
{
	uint32_t len = (uint32_t)hdr;
	struct ttlog__writer *w = ttlog__tls_writer;
	if (TTLOG__LIKELY(w != &idle_writer))
		prefetch_switch(w);
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(): the settings. */
	if (TTLOG__UNLIKELY(atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON))
		return refuse(&ttlog__g.dropped_uninitialized);
	/* LMM(freeze:B) pairs with LMM(freeze:A) in ttlog__rings_freeze(): the
	 * inline load of the limit that sent this call here comes before the
	 * load of the flag, so a limit of 0 stored by the freeze comes with
	 * the flag. A fence here rather than an acquire load there keeps the
	 * log call's own code as it is. */
	TTLOG__FENCE_ACQUIRE();
	if (TTLOG__UNLIKELY(atomic_load_explicit(&ttlog__g.frozen, memory_order_relaxed)))
		return refuse(&ttlog__g.dropped_frozen);
	if (TTLOG__UNLIKELY(w == &idle_writer) && !(w = ttlog__thread_attach()))
		return NULL;
	struct ttlog__ring *r = ring_of(w);
	/* LMM(init:B) above orders its load after ttlog_init()'s increment. */
	ring_settings_current(r);
	if (TTLOG__UNLIKELY(len > r->seg_size)) {
		/* Only a ring left from an earlier ttlog_init() with a smaller
		 * size can meet a record sized for the current settings that
		 * does not fit one of its segments. */
		return refuse(&ttlog__g.dropped_no_ring);
	}
	uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
	if (TTLOG__LIKELY(h + len > r->seg_end)) {
		/* Entering a segment of the next lap drops what the previous lap
		 * left there; under the stream's block policy, not before the
		 * stream has read it (common/stream_ops.h). */
		uint64_t next = h < r->seg_end ? r->seg_end : h;
		if (TTLOG__LIKELY(next >= r->size))
			ttlog__stream_before_drop(r, next - r->size + r->seg_size);
		h = ttlog__ring_advance(r, h);
		/* The records that drop out with this segment's old contents
		 * may open contexts or spans: the open ones are re-stated at
		 * the start of every segment, leaving room for this record. */
		if (TTLOG__UNLIKELY(r->scopes.n))
			h = ttlog__scopes_restate(r, h, r->seg_size - len);
	}
	unsigned char *p = (unsigned char *)(w->base + h);
	uint64_t ticks;
	if (TTLOG__LIKELY(ttlog__clock_inline_ok())) {
		atomic_store_explicit(&w->limit, r->seg_end, memory_order_relaxed);
		TTLOG__STORE_TICKS((unsigned char *)&ticks);
	} else {
		/* With another tick source the limit stays 0: every call comes here. */
		atomic_store_explicit(&w->limit, 0, memory_order_relaxed);
		ticks = ttlog__clock_ticks();
	}
	memcpy(p, &hdr, 8);
	memcpy(p + 8, &ticks, 8);
	ttlog__publish_maybe_refresh(ticks); /* one compare unless shared memory is due */
	return p;
}

/* The slow path of a record without arguments (declared in ttlog.h):
 * reserves it as above, and publishes it. */
TTLOG_API void ttlog__write_slow(uint64_t hdr)
{
	if (!ttlog__reserve_slow(hdr))
		return;
	/* reserve_slow may have given the thread its ring: the writer and
	 * head are read again, as the inline ttlog__reserve() does. */
	struct ttlog__writer *w = ttlog__tls_writer;
	ttlog__commit(w, atomic_load_explicit(&w->head, memory_order_relaxed), (uint32_t)hdr);
}

/*
 * Stops (on = 1) or resumes (on = 0) logging into the rings. The crash
 * handler freezes them while it copies them: a thread logging at full speed
 * laps a 1 MiB ring in well under a millisecond, faster than the snapshot
 * reads it, so without this the history of busy threads would be overwritten
 * (counted as torn) exactly when it matters. Every ring's limit goes to 0,
 * which sends its owner's next call to ttlog__reserve_slow(); that sees the
 * flag and refuses the call (counted in dropped_frozen). A call already past
 * its limit check finishes its one record; the ring reader copes with that
 * as with any concurrent write. An owner already in the slow path, past its
 * look at the flag, sets its limit again and may fill the rest of its
 * segment. Resuming needs nothing more: the next slow path that sees the
 * flag cleared sets the limit again. Runs in signal context.
 */
void ttlog__rings_freeze(int on)
{
	atomic_store_explicit(&ttlog__g.frozen, on, memory_order_relaxed);
	if (!on)
		return;
	/* LMM(freeze:A) The flag before the limits. Pairs with LMM(freeze:B)
	 * in ttlog__reserve_slow(): an owner sent there by one of these 0s
	 * sees the flag and does not set its limit again. */
	TTLOG__FENCE_RELEASE();
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next)
		atomic_store_explicit(&r->w.limit, 0, memory_order_relaxed);
}

static void thread_exit_hook(void *arg)
{
	struct ttlog__ring *r = arg;
	ttlog__tls_writer = &idle_writer;
	tls_exited = 1;
	pthread_getname_np(pthread_self(), r->name, sizeof r->name);
	atomic_store_explicit(&r->exit_order,
			      atomic_fetch_add_explicit(&exit_counter, 1, memory_order_relaxed),
			      memory_order_relaxed);
	/* LMM(exit:A) pairs with LMM(claim:B) and LMM(state:B): the thread's
	 * last records, the name and the order above come with EXITED. */
	atomic_store_explicit(&r->state, TTLOG__RING_EXITED, memory_order_release);
	ttlog__altstack_release(r);
}

struct ttlog__writer *ttlog__thread_attach(void)
{
	if (tls_exited) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_no_ring, 1, memory_order_relaxed);
		return NULL;
	}
	struct ttlog__ring *r = ring_new();
	if (!r) {
		r = ring_reuse();
		const struct ttlog__publisher *pub = ttlog__publisher_get();
		if (r && pub && pub->ring_claimed(r) != 0) {
			/* Its memory cannot be backed (shared memory full): give
			 * it back unused. LMM(free:A) pairs with LMM(claim:B):
			 * the next claimer gets what this one acquired. */
			atomic_store_explicit(&r->state, TTLOG__RING_FREE, memory_order_release);
			r = NULL;
		}
	}
	if (!r) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_no_ring, 1, memory_order_relaxed);
		return NULL;
	}
	ring_reset_for_self(r);
	pthread_setspecific(exit_key, r);
	if (ttlog__altstack_wanted())
		ttlog__altstack_enable(r);
	ttlog__tls_writer = &r->w;
	return &r->w;
}

/* The child of fork() has one thread: the one that called fork. It keeps
 * its ring, emptied; every other ring becomes free for reuse, so the child's
 * snapshots show only its own history. Called by core's fork handler
 * (src/core/fork.c), after shared-memory mode gave the child its mapping. */
void ttlog__threads_after_fork(void)
{
	/* Relaxed: the child has one thread, and pthread_create orders what
	 * it does here before any thread it starts. */
	struct ttlog__ring *self = ttlog__ring_self();
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		if (r != self)
			atomic_store_explicit(&r->state, TTLOG__RING_FREE, memory_order_relaxed);
	}
	if (self) {
		atomic_store_explicit(&self->state, TTLOG__RING_CLAIMED, memory_order_relaxed);
		ring_reset_for_self(self);
	}
}

int ttlog__rings_init(void)
{
	static int done;
	if (done)
		return 0;
	if (pthread_key_create(&exit_key, thread_exit_hook) != 0)
		return -1;
	done = 1;
	return 0;
}

/* Records dropped so far from the rings that hold a thread's history.
 * Runs in signal context. */
uint64_t ttlog__rings_overwritten(void)
{
	uint64_t sum = 0;
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		/* LMM(state:B) pairs with LMM(live:A) and LMM(exit:A). */
		uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
		if (st == TTLOG__RING_LIVE || st == TTLOG__RING_EXITED)
			sum += ttlog__ring_overwritten(r);
	}
	return sum;
}

/* Records written into rings that hold a thread's history, and into rings
 * reused since. `records` is the owner's plain counter: the read races with
 * its increments by design and is hidden from ThreadSanitizer like the
 * ring copy; a count one behind is all it can cost. Runs in signal context. */
uint64_t ttlog__rings_records(void)
{
	uint64_t sum = atomic_load_explicit(&ttlog__g.records_retired, memory_order_relaxed);
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		/* LMM(state:B) pairs with LMM(live:A) and LMM(exit:A). */
		uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
		if (st != TTLOG__RING_LIVE && st != TTLOG__RING_EXITED)
			continue;
		TTLOG__TSAN_IGNORE_READS_BEGIN();
		sum += *(volatile const uint64_t *)&r->w.records;
		TTLOG__TSAN_IGNORE_READS_END();
	}
	return sum;
}

uint32_t ttlog__rings_count(void)
{
	return atomic_load_explicit(&ring_count, memory_order_relaxed);
}

