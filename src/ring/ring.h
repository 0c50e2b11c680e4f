/*
 * ring.h - per-thread rings: ownership, life cycle, and the reader side.
 *
 * The writer's fast path is inline in ttlog.h (ttlog__reserve,
 * ttlog__commit), its slow path is ttlog__reserve_slow() in ring.c; the
 * protocol writers and readers follow is described at the top of ring.c.
 */
#ifndef TTLOG_RING_RING_H
#define TTLOG_RING_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

enum ttlog__ring_state {
	TTLOG_RING_LIVE = 1,    /* owned by a running thread */
	TTLOG_RING_EXITED = 2,  /* its thread exited; kept for snapshots, reusable */
	TTLOG_RING_CLAIMED = 3, /* being handed to a new thread */
	TTLOG_RING_FREE = 4     /* holds nothing worth showing (after fork); reusable */
};

#define TTLOG_THREAD_NAME_MAX 16
#define TTLOG_RING_MAX_SEGMENTS 64u
#define TTLOG_RING_MIN_SEGMENTS 2u
#define TTLOG_RING_SEGMENT_GOAL 4096u  /* smallest segment worth its slow-path call */

/*
 * The thread's open scopes, contexts and spans, in the order they were
 * opened, each with a copy of the record that opened it, so that the slow
 * path can re-state them at the start of every segment (see
 * src/context/context.c). Only the owning thread reads or writes it.
 *
 * Invariants: entry[0..n) are the n <= TTLOG_SCOPE_MAX outermost open
 * scopes, outermost first; their copies sit back to back in buf in the same
 * order (entry[i].off is the sum of the lengths before it). Scopes
 * opened while n == TTLOG_SCOPE_MAX are not kept: over_contexts and
 * over_spans count them, and they are all inside the kept ones.
 */
#define TTLOG_SCOPE_MAX ((uint32_t)TTLOG_SCOPES_MAX)
#define TTLOG_SCOPE_BYTES 8192u
struct ttlog__scope {
	uint64_t span_id;                /* spans: its id, for SPAN_END and traceparent */
	uint64_t trace_hi, trace_lo;     /* spans: its trace */
	uint32_t off, len;               /* its copy in buf; len 0: no copy (buf was full) */
	uint32_t kind;                   /* TTLOG__KIND_CONTEXT_PUSH or TTLOG__KIND_SPAN_BEGIN */
};
struct ttlog__scope_stack {
	uint32_t n;                      /* entries kept */
	uint32_t used;                   /* bytes of buf holding copies */
	uint32_t contexts, spans;        /* kept entries of each kind */
	uint32_t over_contexts, over_spans; /* opened beyond TTLOG_SCOPE_MAX, not kept */
	struct ttlog__scope entry[TTLOG_SCOPE_MAX];
	_Alignas(8) unsigned char buf[TTLOG_SCOPE_BYTES];
};

struct ttlog__ring {
	struct ttlog__writer w;          /* first: the hot path's view */

	/* The bytes and their division into segments (see ring.c). data and
	 * size and the division into segments never change; seg_end is used
	 * only by the ring's owner. */
	unsigned char *data;
	uint32_t size;                   /* nseg * seg_size; a multiple of 8 */
	uint32_t seg_size;               /* a multiple of 8 */
	uint32_t nseg;
	uint64_t seg_end;                /* logical end of the segment being filled */

	/* Published for readers, written by the owner. */
	_Alignas(64) _Atomic uint64_t pub_tail;     /* logical offset of the oldest record */
	_Atomic uint64_t seg_first[TTLOG_RING_MAX_SEGMENTS]; /* w.records when segment k was last entered */

	/* Identity and life cycle; written by the owner or by whoever claims
	 * the ring, read by snapshots under the `gen` sequence count. */
	_Alignas(64) _Atomic uint32_t state;
	_Atomic uint32_t gen;            /* odd while the ring is being reset */
	_Atomic uint32_t tid;
	uint32_t index;                  /* stable; the thread index in snapshots */
	_Atomic uint64_t exit_order;     /* for reusing the oldest exited ring first */
	char name[TTLOG_THREAD_NAME_MAX];
	void *altstack;                  /* the owner's signal stack, if ttlog made it */
	size_t altstack_size;
	struct ttlog__ring *next;        /* immutable once the ring is published */
	/* The ring's metric shard (src/metrics/shard.c), NULL until its first
	 * metric update; it stays with the ring, whoever owns it. */
	_Atomic(unsigned char *) metrics_shard;

	struct ttlog__scope_stack scopes; /* the owner's only */
};

/* Sets up the calling thread's ring (its first event). NULL: the event is
 * dropped (counted). Not signal-safe. */
struct ttlog__writer *ttlog__thread_attach(void);

/* First ring of the process-wide list; rings are never freed. Runs in
 * signal context. */
struct ttlog__ring *ttlog__ring_first(void);

/* The calling thread's ring, or NULL. Runs in signal context. */
struct ttlog__ring *ttlog__ring_self(void);

/* Applies ttlog_init's ring size and string limit to the rings given out
 * from now on. Called by ttlog_init before it enables logging. */
void ttlog__rings_configure(void);

/* Installs the fork and thread-exit hooks. Called once by ttlog_init. */
int ttlog__rings_init(void);

/* Sets up or removes an alternate signal stack for the calling thread. */
void ttlog__altstack_enable(struct ttlog__ring *ring);
int ttlog__altstack_enable_main(void);

/* Sum of every ring's overwritten count; number of rings. */
uint64_t ttlog__rings_overwritten(void);
uint32_t ttlog__rings_count(void);
/* Records written into the rings, those of reused rings included. Runs in
 * signal context. */
uint64_t ttlog__rings_records(void);

/*
 * Reading a ring while its owner writes (snapshots, crash handler).
 * begin() fixes the range to read, [tail, head) as published; read() then
 * returns pieces of it, each a run of whole records (padding included) that
 * were verified not to have been overwritten while being copied.
 */
struct ttlog__ring_cursor {
	struct ttlog__ring *ring;
	uint32_t gen;
	uint64_t pos, end;               /* logical offsets */
	uint64_t overwritten_begin;
	uint64_t records_seen;           /* records returned or skipped so far */
	uint64_t torn, torn_bytes;       /* lost while copying */
	int aborted;                     /* the ring changed owner while being read */
	/* The ring's bytes and geometry as the reader knows them: the ring's
	 * own for a ring of this process, the mapping's (validated) for one
	 * read from another process's shared memory (src/shm/read.c), whose
	 * pointers mean nothing here. Set by begin, never re-read. */
	const unsigned char *data;
	uint32_t size, seg_size, nseg;
};

/* Returns 0 if the ring has nothing to read (free, or being reset). Runs in
 * signal context. */
int ttlog__ring_read_begin(struct ttlog__ring *ring, struct ttlog__ring_cursor *cur);

/* The same for a ring whose bytes are at data in this process and whose
 * geometry is given (size == nseg * seg_size, nseg 2..64, seg_size a
 * non-zero multiple of 8: the caller has checked). Runs in signal context. */
int ttlog__ring_read_begin_at(struct ttlog__ring *ring, const unsigned char *data, uint32_t size,
			      uint32_t seg_size, uint32_t nseg, struct ttlog__ring_cursor *cur);

/* Copies the next piece into buf (cap >= 64 KiB + 8) and returns its length
 * (0 at the end). Every record in the piece starts with a valid u32 size
 * and u32 site id (0 = padding). Runs in signal context. */
size_t ttlog__ring_read(struct ttlog__ring_cursor *cur, unsigned char *buf, size_t cap);

/* The overwritten count to report once reading is done. Runs in signal context. */
uint64_t ttlog__ring_read_overwritten(const struct ttlog__ring_cursor *cur);

#endif
