/* SPDX-License-Identifier: MIT */
/*
 * ring.h - one ring: its layout, its writer's segment step, and the reader
 * side.
 *
 * The writer's fast path is inline in ttlog.h (ttlog__reserve,
 * ttlog__commit); its slow path, which gives a thread its ring and calls
 * ttlog__ring_advance() at each segment end, is in src/thread/thread.c. The
 * protocol writers and readers follow is described at the top of ring.c.
 * The struct also carries what the layers above keep per ring (the thread's
 * identity, its signal stack, its open scopes, its metric shard), because
 * in shared-memory mode the whole struct lives in the mapping at offsets
 * docs/SHM-FORMAT.md fixes (asserted at the end of this file).
 */
#ifndef TTLOG__RING_RING_H
#define TTLOG__RING_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/shm_layout.h"
#include "ttlog.h"

enum ttlog__ring_state {
	TTLOG__RING_LIVE = 1,    /* owned by a running thread */
	TTLOG__RING_EXITED = 2,  /* its thread exited; kept for snapshots, reusable */
	TTLOG__RING_CLAIMED = 3, /* being handed to a new thread */
	TTLOG__RING_FREE = 4     /* holds nothing worth showing (after fork); reusable */
};

#define TTLOG__THREAD_NAME_MAX 16
#define TTLOG__RING_MAX_SEGMENTS 64u
#define TTLOG__RING_MIN_SEGMENTS 2u
#define TTLOG__RING_SEGMENT_GOAL 4096u  /* smallest segment worth its slow-path call */

/*
 * The thread's open scopes, contexts and spans, in the order they were
 * opened, each with a copy of the record that opened it, so that the slow
 * path can re-state them at the start of every segment (see
 * src/thread/scopes.c). Only the owning thread reads or writes it.
 *
 * Invariants: entry[0..n) are the n <= TTLOG__SCOPE_MAX outermost open
 * scopes, outermost first; their copies sit back to back in buf in the same
 * order (entry[i].off is the sum of the lengths before it). Scopes
 * opened while n == TTLOG__SCOPE_MAX are not kept: over_contexts and
 * over_spans count them, and they are all inside the kept ones.
 */
#define TTLOG__SCOPE_MAX ((uint32_t)TTLOG_SCOPES_MAX)
#define TTLOG__SCOPE_BYTES 8192u
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
	uint32_t over_contexts, over_spans; /* opened beyond TTLOG__SCOPE_MAX, not kept */
	struct ttlog__scope entry[TTLOG__SCOPE_MAX];
	_Alignas(8) unsigned char buf[TTLOG__SCOPE_BYTES];
};

struct ttlog__ring {
	struct ttlog__writer w;          /* first: the hot path's view */

	/* The bytes and their division into segments (see ring.c). data and
	 * size and the division into segments never change; seg_k and
	 * seg_end are used only by the ring's owner. This line is all the
	 * segment switch reads of the ring (ttlog__ring_advance). */
	unsigned char *data;
	uint32_t size;                   /* nseg * seg_size; a multiple of 8 */
	uint32_t seg_size;               /* a multiple of 8 */
	uint32_t nseg;
	uint32_t seg_k;                  /* the segment being filled; nseg - 1 before the first */
	uint64_t seg_end;                /* logical end of the segment being filled */
	uint32_t config;                 /* ttlog__g.ring_config when w.max_string was set */

	/* Published for readers, written by the owner. */
	_Alignas(64) _Atomic uint64_t pub_tail;     /* logical offset of the oldest record */
	_Atomic uint64_t seg_first[TTLOG__RING_MAX_SEGMENTS]; /* w.records when segment k was last entered */

	/* Identity and life cycle; written by the owner or by whoever claims
	 * the ring, read by snapshots under the `gen` sequence count. */
	_Alignas(64) _Atomic uint32_t state;
	_Atomic uint32_t gen;            /* odd while the ring is being reset */
	_Atomic uint32_t tid;
	uint32_t index;                  /* stable; the thread index in snapshots */
	_Atomic uint64_t exit_order;     /* for reusing the oldest exited ring first */
	char name[TTLOG__THREAD_NAME_MAX];
	void *altstack;                  /* the owner's signal stack, if ttlog made it */
	size_t altstack_size;
	struct ttlog__ring *next;        /* immutable once the ring is published */
	/* The ring's metric shard (src/metrics/shard.c), NULL until its first
	 * metric update; it stays with the ring, whoever owns it. */
	_Atomic(unsigned char *) metrics_shard;

	struct ttlog__scope_stack scopes; /* the owner's only */
};

/* Divides `bytes` into segments (see ring.c). */
void ttlog__ring_divide(size_t bytes, uint32_t *nseg, uint32_t *seg_size);

/* The longest string argument a ring with segments of seg_size takes, so
 * that the largest record still fits a segment. */
uint32_t ttlog__ring_max_string(uint32_t seg_size);

/* Sets the writer's string limit (and its inline copy's bound) from the
 * current settings and the ring's segment size, and notes which settings
 * those were (ttlog__g.ring_config). Its owner only: the log call reads
 * both without synchronisation. */
void ttlog__ring_take_settings(struct ttlog__ring *r);

/* Empties the ring and makes it LIVE for the thread tid named name (16
 * bytes). The ring is not LIVE or EXITED while this runs, or is the
 * caller's own. Not signal-safe: its owner only. */
void ttlog__ring_reset(struct ttlog__ring *r, uint32_t tid, const char *name);

/*
 * The writer's step at a segment end (the slow path, owner only): pads the
 * rest of the current segment, enters the next one, dropping what it held
 * in the previous lap, and returns the new head. Inline, like the log
 * call's own reserve and commit in ttlog.h: the slow path runs once per
 * segment, and a call here would cost every log call a share of it. The
 * orders it keeps are described at the top of ring.c.
 *
 * The switch is the log call's tail (see "The segment switch" in ring.c),
 * so it is kept short: it reads only the ring's geometry line, and seg_k
 * counts segments, so that no division finds the next one.
 */
static inline uint64_t ttlog__ring_advance(struct ttlog__ring *r, uint64_t h)
{
	if (TTLOG__LIKELY(h < r->seg_end)) {
		uint64_t pad = r->seg_end - h; /* site id 0: padding */
		memcpy((unsigned char *)(r->w.base + h), &pad, sizeof pad);
		h = r->seg_end;
		/* LMM(commit:A), as in ttlog__commit(). */
		atomic_store_explicit(&r->w.head, h, memory_order_release);
	}
	/* h is the end of the segment just filled, seg_end (or 0 in a ring
	 * just reset), so the segment it starts is the one after seg_k. */
	uint32_t k = TTLOG__LIKELY(r->seg_k + 1 != r->nseg) ? r->seg_k + 1 : 0;
	r->seg_k = k;
	if (TTLOG__LIKELY(h >= r->size)) {
		/* Segment k holds the previous lap's records: drop them. The
		 * oldest record left is the first of segment k+1 of that lap. */
		atomic_store_explicit(&r->pub_tail, h - r->size + r->seg_size, memory_order_relaxed);
		/* LMM(reserve:A) Orders the tail store above before the bytes
		 * written into the segment next, and before the seg_first store
		 * below. Pairs with LMM(copy:B): a reader that saw any overwritten
		 * byte also sees the new tail (Req3); and with LMM(seg:B): a reader
		 * that sees the new seg_first[k] also sees the new tail. */
		TTLOG__FENCE_RELEASE();
	}
	atomic_store_explicit(&r->seg_first[k], r->w.records, memory_order_relaxed);
	if (TTLOG__UNLIKELY(k == 0))
		r->w.base = (uintptr_t)r->data - h;
	r->seg_end = h + r->seg_size;
	return h;
}

/*
 * Reserve n, commit: the records that re-state a thread's open scopes at
 * the start of a segment (src/thread/scopes.c) are written in one go.
 * ttlog__ring_at() gives where the bytes at head h go; the caller has
 * checked that they fit the segment. ttlog__ring_commit_n() counts
 * `records` records and publishes head h + bytes, which it returns. Owner
 * only.
 */
static inline unsigned char *ttlog__ring_at(struct ttlog__ring *r, uint64_t h)
{
	return (unsigned char *)(r->w.base + h);
}
uint64_t ttlog__ring_commit_n(struct ttlog__ring *r, uint64_t h, uint32_t bytes, uint32_t records);

/* Records dropped from the ring so far (see ring.c). Runs in signal context. */
uint64_t ttlog__ring_overwritten(const struct ttlog__ring *r);

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
	int aborted;                     /* the ring changed owner while being read, or
					    (damaged) its bytes are not records */
	int damaged;                     /* a record's size no writer makes: the rest
					    of the read is counted lost (torn) */
	int handed_over;                 /* aborted because the ring changed owner; the
					    rest of the read is counted lost (torn) */
	int confirmed;                   /* a piece passed the owner check after begin:
					    tid, name and records_end below are the
					    owner's whose records were read */
	/* The owner as begin found it, loaded before any piece is checked, so
	 * that the first check confirms them too. records_end is the owner's
	 * count of records written: exact for a thread that had exited, at
	 * least those before `end` for a live one. */
	uint32_t tid;
	char name[TTLOG__THREAD_NAME_MAX];
	uint64_t records_end;
	uint64_t overwritten_last;       /* the owner's overwritten count, as last read */
	uint32_t thread;                 /* the ring's thread index, read once when the
					    read began (a mapping's may change later) */
	int copied;                      /* data is a private copy (ttlog__ring_read_copy) */
	uint64_t overwritten_copied;     /* with copied: the records before pos */
	int exact;                       /* a consumer's read (ttlog__ring_read_from) */
	uint64_t index_base;             /* with exact: the records written before the
					    first position read; the record at pos is
					    number index_base + records_seen */
	/* The ring's bytes and geometry as the reader knows them: the ring's
	 * own for a ring of this process, the mapping's (validated) for one
	 * read from another process's shared memory (src/shm/map_snapshot.c), whose
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

/*
 * For a reader that cannot stop the owner and reads slower than it writes
 * (`ttlog snap` of a busy shared-memory process): after a successful
 * begin, copies the ring into buf (cur->size bytes, the caller's) newest
 * segment first, keeping every segment that was not overwritten while it
 * was copied, and points the cursor at the copy; read() then returns the
 * kept records without looking at the ring again. Records lost during the
 * copy count as overwritten, as if the copy had been taken at one moment
 * with the oldest kept segment as its tail. If even the newest segment was
 * lost (the reader was descheduled while a full lap was written), it begins
 * again, up to 8 times; lapped every time, it gives up with nothing to read
 * and every record before the tail counted as overwritten, and returns 1 all
 * the same: the thread is still to be told, with what it lost. Returns 0
 * if there is nothing to tell (an empty ring, or one that changed owner:
 * cur->aborted). Runs in signal context.
 */
int ttlog__ring_read_copy(struct ttlog__ring_cursor *cur, unsigned char *buf);

/*
 * A consumer that reads a ring again and again from where it stopped (the
 * stream, src/stream/): its place, as a logical offset and as the count of
 * records written before it, for one owner of the ring (gen). Owned by the
 * consumer; the ring never waits for it.
 */
struct ttlog__ring_consumer {
	uint64_t pos;                    /* logical offset of the next record to read */
	uint64_t index;                  /* records the ring's owner wrote before pos */
	uint32_t gen;                    /* the owner (ring's gen) pos belongs to */
	int valid;                       /* 0: nothing read yet */
};

/*
 * Begins reading [c->pos, head) of ring r. A consumer of another owner
 * (gen) starts at the new owner's first record. Records the ring dropped
 * before the consumer read them (it fell a whole lap behind) are counted
 * exactly into *lost (from seg_first, never estimated), and reading starts
 * at the tail; records overwritten while being copied are counted exactly
 * too, into cur->torn. Read with ttlog__ring_read(); then
 * ttlog__ring_read_end() moves the consumer. Returns 0 if there is nothing
 * to read (free, being reset, or no new record). Runs in signal context.
 */
int ttlog__ring_read_from(struct ttlog__ring *r, const struct ttlog__ring_consumer *c,
			  struct ttlog__ring_cursor *cur, uint64_t *lost);
/* The consumer's place after a read that began with ttlog__ring_read_from
 * (an aborted read leaves it as it was). Runs in signal context. */
void ttlog__ring_read_end(const struct ttlog__ring_cursor *cur, struct ttlog__ring_consumer *c);

/* The overwritten count to report once reading is done. Runs in signal context. */
uint64_t ttlog__ring_read_overwritten(const struct ttlog__ring_cursor *cur);

/* The fields a mapping reader uses stay where docs/SHM-FORMAT.md puts them. */
_Static_assert(offsetof(struct ttlog__ring, w.head) == TTLOG__SHM_RING_HEAD, "ring: head");
_Static_assert(offsetof(struct ttlog__ring, w.records) == TTLOG__SHM_RING_RECORDS, "ring: records");
_Static_assert(offsetof(struct ttlog__ring, size) == TTLOG__SHM_RING_SIZE, "ring: size");
_Static_assert(offsetof(struct ttlog__ring, seg_size) == TTLOG__SHM_RING_SEG_SIZE, "ring: seg_size");
_Static_assert(offsetof(struct ttlog__ring, nseg) == TTLOG__SHM_RING_NSEG, "ring: nseg");
_Static_assert(offsetof(struct ttlog__ring, pub_tail) == TTLOG__SHM_RING_PUB_TAIL, "ring: pub_tail");
_Static_assert(offsetof(struct ttlog__ring, seg_first) == TTLOG__SHM_RING_SEG_FIRST, "ring: seg_first");
_Static_assert(offsetof(struct ttlog__ring, state) == TTLOG__SHM_RING_STATE, "ring: state");
_Static_assert(offsetof(struct ttlog__ring, gen) == TTLOG__SHM_RING_GEN, "ring: gen");
_Static_assert(offsetof(struct ttlog__ring, tid) == TTLOG__SHM_RING_TID, "ring: tid");
_Static_assert(offsetof(struct ttlog__ring, index) == TTLOG__SHM_RING_INDEX, "ring: index");
_Static_assert(offsetof(struct ttlog__ring, name) == TTLOG__SHM_RING_NAME, "ring: name");

#endif
