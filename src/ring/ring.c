/* SPDX-License-Identifier: MIT */
/*
 * ring.c - a flight-recorder ring: its segments, the writer's step from one
 * segment to the next, and the lock-free reader.
 *
 * Layout
 * ------
 * A ring is `size` bytes (a multiple of 8, fixed for the ring's life),
 * divided into nseg equal segments (2 to 64). Its owner appends records at
 * the head. Positions are logical byte offsets that only grow (64 bits: they
 * never wrap); the byte at logical offset x lives at data[x % size].
 *
 *   record:  u32 size | u32 site id | u64 ticks | arguments | pad to 8
 *   padding: u32 size | u32 0       (8 bytes or more; nothing else is read)
 *
 *   data:  | seg 0          | seg 1          | ...  | seg nseg-1     |
 *          | rec rec rec pad| rec rec rec rec| ...  |                |
 *                    tail ^ (a segment start)   head ^ (w.limit = end of its segment)
 *
 * A record never straddles a segment boundary: when the next one does not
 * fit in the current segment, the rest of it becomes a padding record and
 * the writer enters the next segment. Entering a segment that still holds
 * records of the previous lap drops all of them at once: the tail jumps to
 * the start of the following segment. So the hot path (ttlog.h) only
 * compares the end of its record with `w.limit`, the end of the current
 * segment, and everything else happens in ttlog__reserve_slow() once per
 * segment. The price is history: a ring shows between (nseg-1)/nseg of its
 * bytes and all of them. Dropped records are counted without walking them:
 * seg_first[k] holds how many records had been written when segment k was
 * last entered. The tail is always the start of some segment j, so the
 * records before it, the ones dropped, number seg_first[j]; readers work
 * that out (ring_overwritten()), and the writer never reads the array, whose
 * lines are cold by the time a segment comes round again. Every record fits
 * in a segment: segment_max_string() bounds string arguments so that even
 * 16 of them do.
 *
 * The segment switch
 * ------------------
 * The switch is the one log call in a segment that takes the slow path, so
 * its cost is the log call's tail (one call in about 290 for a 56-byte
 * record in 16 KiB segments). A thread that logs now and then reaches it
 * with cold caches, so it is built to touch little and to wait once:
 * the writer keeps the index of the segment being filled (seg_k) next to
 * seg_end, in the one line of the ring the switch reads, instead of
 * dividing the head by the geometry; ttlog__reserve_slow() prefetches
 * every line it will read (that one, the scope stack's count, the globals
 * it checks) and the new segment's first line at its start, so that their
 * misses overlap; and what is not the switch (refusals, the first call of a
 * thread, re-stating open scopes, a tick source other than the CPU's
 * counter) is out of its straight line. The padding record is one 8-byte
 * store into a line the last record usually shares. Nothing about the
 * protocol below changes: the same stores, in the same order.
 *
 * Requirements the writer keeps and readers rely on:
 *   Req1  tail <= head, head - tail <= size, and both are record boundaries.
 *   Req2  Every byte in [pub_tail, head) belongs to a complete record.
 *   Req3  Before the writer stores a byte at logical offset x, pub_tail has
 *         been moved past x - size: the record that byte overwrites has left
 *         the published range.
 *   Req4  A record's size field is written before head moves past it and
 *         does not change until the record is overwritten.
 *
 * Memory ordering
 * ---------------
 * Only the owning thread writes a ring's data, its head (w.head, the
 * published head), pub_tail and seg_first. Readers copy data without any
 * lock and then check whether what they copied was overwritten meanwhile,
 * like a sequence lock whose count is the tail:
 *
 *   writer (ttlog.h, ttlog__ring_advance)     reader (this file)
 *   store pub_tail          (new segment)     load head             LMM(copy:A)
 *   fence release           LMM(reserve:A)    load pub_tail
 *   store seg_first[k]                        copy bytes [pos, pos+n)
 *   store record bytes                        fence acquire         LMM(copy:B)
 *   store head release      LMM(commit:A)     load pub_tail -> t2
 *
 *   LMM(reserve:A) also pairs with LMM(seg:B) in ring_overwritten(): a
 *       reader that loads the seg_first[k] stored after a tail move (with
 *       acquire) sees that move when it loads pub_tail again, and retries.
 *
 *   LMM(commit:A) pairs with LMM(copy:A): a reader that loads a head value
 *       sees every byte of the records before it (Req2).
 *   LMM(reserve:A) pairs with LMM(copy:B): if any byte the reader copied
 *       was stored after the writer moved the tail to t, the reader's load
 *       of pub_tail after the fence returns t or newer. So each copied byte
 *       at an offset >= t2 is a byte of the record the reader meant to copy
 *       (Req3), and t2 is a record boundary to resume from (Req1).
 *
 * A reader that cannot stop the owner and reads slower than it writes (the
 * `ttlog snap` of a busy shared-memory process) would be lapped from the
 * oldest end for as long as it reads. ttlog__ring_read_copy() copies the
 * ring into the reader's memory first, whole segments, newest first, with
 * the same check after each: the first segment the tail passed ends the
 * copy, and read() then walks the copy without looking at the ring.
 *
 * The copy itself is a plain memcpy that races with the writer's plain
 * stores by design; it is hidden from ThreadSanitizer (TSAN_IGNORE_READS),
 * because the check after it, not the copy, is what makes it correct.
 *
 * Ownership: a ring outlives its thread, so snapshots show what exited
 * threads did; which thread gets which ring is src/thread/thread.c's job.
 * Handing a ring over is guarded by `gen`, a sequence count: the claimer
 * makes it odd, resets the ring (ttlog__ring_reset), and makes it even
 * (LMM(gen:A)); a reader that finds it odd, or changed after its copy
 * (LMM(gen:B)), discards what it read:
 *
 *   claimer (ttlog__ring_reset)               reader
 *   store gen odd                             load state      LMM(state:B)
 *   fence release           LMM(gen:A)        load gen (even) LMM(gen:D)
 *   store head, tail, seg_first... = 0        load head, tail, copy...
 *   store gen even, release LMM(gen:C)        fence acquire   LMM(copy:B)
 *   store state LIVE, release LMM(live:A)     load gen again  LMM(gen:B)
 *
 *   LMM(gen:A) pairs with LMM(copy:B): a reader that copied any byte the
 *       reset (or the new owner) stored sees the odd count or a later
 *       one at LMM(gen:B), so the count differs and the piece is dropped.
 *   LMM(gen:C) pairs with LMM(gen:D): a reader that finds the count even
 *       after a reset sees the reset's stores, so the head and tail it
 *       loads next are the new owner's or newer, never the old owner's
 *       with the new count.
 *   LMM(live:A) pairs with LMM(state:B) (src/thread/thread.c has the
 *       other transitions of `state`).
 */
#include "ring/ring.h"

#include <string.h>

#include "common/internal.h"
#include "common/state.h"
#include "format/format.h"

/* The largest record that string arguments limited to max_string bytes
 * allow: 16 arguments, each a string. */
static uint32_t max_record_size(uint32_t max_string)
{
	return (TTLOG__FMT_RECORD_HEADER_SIZE + TTLOG__FMT_MAX_ARGS * (4u + max_string) + 7u) & ~7u;
}

/* Largest string a segment can take so that the largest record (16 string
 * arguments) still fits in it. */
uint32_t ttlog__ring_max_string(uint32_t seg_size)
{
	uint32_t fit = (seg_size - TTLOG__FMT_RECORD_HEADER_SIZE - 7u) / TTLOG__FMT_MAX_ARGS - 4u;
	return TTLOG__MIN(ttlog__g.max_string, fit);
}

/* Divides `bytes` into segments: as many as 64, none smaller than the
 * larger of 4 KiB and the largest record, but at least 2. More segments keep
 * more history (a ring shows at least (nseg-1)/nseg of itself); larger ones
 * make the slow path rarer, but measured with calls 5 us apart, 64 KiB
 * segments made each of its calls slower (about 230 ns against 75 ns for
 * 16 KiB), so the tail did not improve. The division is fixed for the
 * ring's life, so readers may use size without synchronisation. */
void ttlog__ring_divide(size_t bytes, uint32_t *nseg, uint32_t *seg_size)
{
	uint32_t want = TTLOG__MAX(TTLOG__RING_SEGMENT_GOAL, max_record_size(ttlog__g.max_string));
	size_t n = bytes / want;
	n = TTLOG__MIN(TTLOG__MAX(n, TTLOG__RING_MIN_SEGMENTS), TTLOG__RING_MAX_SEGMENTS);
	*nseg = (uint32_t)n;
	*seg_size = (uint32_t)(bytes / n) & ~7u;
}

void ttlog__ring_take_settings(struct ttlog__ring *r)
{
	r->config = atomic_load_explicit(&ttlog__g.ring_config, memory_order_relaxed);
	r->w.max_string = ttlog__ring_max_string(r->seg_size);
	r->w.str_fast = ttlog__str_fast(r->w.max_string);
}

void ttlog__ring_reset(struct ttlog__ring *r, uint32_t tid, const char *name)
{
	uint32_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
	atomic_store_explicit(&r->gen, g + 1, memory_order_relaxed);
	/* LMM(gen:A) The odd count is visible before any reset store; pairs
	 * with the reader's fence and re-check in ttlog__ring_read (LMM(gen:B)). */
	TTLOG__FENCE_RELEASE();
	ttlog__ring_take_settings(r);
	r->w.base = (uintptr_t)r->data;
	r->w.records = 0;
	r->seg_end = 0;
	r->seg_k = r->nseg - 1; /* the first switch enters segment 0 */
	for (uint32_t k = 0; k < TTLOG__RING_MAX_SEGMENTS; k++)
		atomic_store_explicit(&r->seg_first[k], 0, memory_order_relaxed);
	atomic_store_explicit(&r->w.limit, 0, memory_order_relaxed); /* first call: slow path */
	atomic_store_explicit(&r->w.head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->pub_tail, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tid, tid, memory_order_relaxed);
	memcpy(r->name, name, sizeof r->name);
	/* LMM(gen:C) pairs with LMM(gen:D) in ttlog__ring_read_begin_at():
	 * the reset's stores come with the even count. */
	atomic_store_explicit(&r->gen, g + 2, memory_order_release);
	/* LMM(live:A) pairs with LMM(state:B) (ttlog__ring_read_begin_at(),
	 * and the readers of src/thread/thread.c). */
	atomic_store_explicit(&r->state, TTLOG__RING_LIVE, memory_order_release);
}

/* See ring.h. Owner only. */
uint64_t ttlog__ring_commit_n(struct ttlog__ring *r, uint64_t h, uint32_t bytes, uint32_t records)
{
	r->w.records += records;
	h += bytes;
	/* LMM(commit:A), as in ttlog__commit(): readers that see this head
	 * see the records before it. */
	atomic_store_explicit(&r->w.head, h, memory_order_release);
	return h;
}

/*
 * Records dropped from a ring so far: those before its tail, which is the
 * start of a segment j, so seg_first[j]. If the tail moves while this
 * reads, seg_first[j] may already count the records of the segment just
 * dropped; reading the tail again tells, and it tries again. Runs in signal
 * context.
 */
static uint64_t overwritten_in(const struct ttlog__ring *r, uint32_t seg_size, uint32_t nseg)
{
	uint64_t n = 0;
	for (int attempt = 0; attempt < 8; attempt++) {
		uint64_t t = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
		uint32_t j = (uint32_t)(t / seg_size % nseg);
		/* LMM(seg:B) pairs with LMM(reserve:A): a seg_first value stored
		 * after a tail move comes with that move. */
		n = atomic_load_explicit(&r->seg_first[j], memory_order_acquire);
		if (atomic_load_explicit(&r->pub_tail, memory_order_relaxed) == t)
			break;
	}
	return n;
}

/*
 * A tail and the number of records written before it, as one consistent
 * pair: the count of the tail's segment is loaded between two loads of the
 * tail that agree. LMM(seg:B), as in overwritten_in(). Returns 0 if the
 * tail kept moving (the caller tries again later). Runs in signal context.
 */
static int tail_pair(const struct ttlog__ring *r, uint32_t seg_size, uint32_t nseg, uint64_t *tail,
		     uint64_t *before)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		uint64_t t = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
		uint32_t j = (uint32_t)(t / seg_size % nseg);
		/* LMM(seg:B) pairs with LMM(reserve:A). */
		uint64_t n = atomic_load_explicit(&r->seg_first[j], memory_order_acquire);
		if (atomic_load_explicit(&r->pub_tail, memory_order_relaxed) == t) {
			*tail = t;
			*before = t ? n : 0;
			return 1;
		}
	}
	return 0;
}

/* See ring.h. Runs in signal context. */
uint64_t ttlog__ring_overwritten(const struct ttlog__ring *r)
{
	return overwritten_in(r, r->seg_size, r->nseg);
}

/* ---- Reader side. Everything below runs in signal context. ------------- */

/* See ring.h. Runs in signal context. */
int ttlog__ring_read_begin(struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	return ttlog__ring_read_begin_at(r, r->data, r->size, r->seg_size, r->nseg, cur);
}

/* See ring.h. Runs in signal context. Exported for libttlog-read: the
 * mapping reader (src/shm/map_snapshot.c) reads another process's rings with it. */
TTLOG_API int ttlog__ring_read_begin_at(struct ttlog__ring *r, const unsigned char *data,
					uint32_t size, uint32_t seg_size, uint32_t nseg,
					struct ttlog__ring_cursor *cur)
{
	memset(cur, 0, sizeof *cur);
	cur->thread = r->index;
	cur->data = data;
	cur->size = size;
	cur->seg_size = seg_size;
	cur->nseg = nseg;
	/* LMM(state:B) pairs with LMM(live:A) and LMM(exit:A) (thread.c). */
	uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
	if (st != TTLOG__RING_LIVE && st != TTLOG__RING_EXITED)
		return 0;
	cur->ring = r;
	/* LMM(gen:D) pairs with LMM(gen:C): the head and tail below are this
	 * count's owner's or newer. */
	cur->gen = atomic_load_explicit(&r->gen, memory_order_acquire);
	if (cur->gen & 1u)
		return 0;
	/* LMM(copy:A) pairs with LMM(commit:A): records before head are whole. */
	cur->end = atomic_load_explicit(&r->w.head, memory_order_acquire);
	/* Relaxed: the writer stores pub_tail relaxed, so an acquire here
	 * would pair with nothing. The load stays after the head's (copy:A is
	 * an acquire); any value is a segment start, a record boundary (Req1);
	 * whether the bytes from it were overwritten is checked after the copy
	 * (LMM(copy:B)), not here. */
	cur->pos = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
	cur->overwritten_begin = overwritten_in(r, seg_size, nseg);
	cur->overwritten_last = cur->overwritten_begin;
	/* Relaxed, and the name and record count plain reads that race with a
	 * live owner (its count) or a claimer (all three) by design: the first
	 * piece's check (LMM(copy:B), LMM(gen:B)) comes after them and
	 * confirms them with the records. */
	cur->tid = atomic_load_explicit(&r->tid, memory_order_relaxed);
	TTLOG__TSAN_IGNORE_READS_BEGIN();
	memcpy(cur->name, r->name, sizeof cur->name);
	cur->records_end = *(volatile const uint64_t *)&r->w.records;
	TTLOG__TSAN_IGNORE_READS_END();
	if (cur->pos > cur->end || cur->end - cur->pos > size)
		return 0; /* head and tail from different owners; gen check would fail */
	return cur->pos < cur->end;
}

/*
 * One pass of ttlog__ring_read_copy(): segments [lo, hi) of the live ring
 * at `ring_data`, newest first, into buf at the same physical offsets. Each
 * segment is checked after its copy as ttlog__ring_read() checks a piece
 * (LMM(copy:B)); the first one the tail moved past ends the pass, since
 * every older one was overwritten before it. Its records-before count is
 * loaded ahead of the copy: LMM(seg:B) pairs with LMM(reserve:A), so a
 * count stored for a later lap comes with a tail that fails the check.
 * Returns the start of the oldest kept segment (hi: none) and its count in
 * *before; -1 if the ring changed owner. Runs in signal context.
 */
static int copy_pass(struct ttlog__ring_cursor *cur, const unsigned char *ring_data,
		     unsigned char *buf, uint64_t lo, uint64_t hi, uint64_t *kept, uint64_t *before)
{
	struct ttlog__ring *r = cur->ring;
	uint64_t seg = cur->seg_size;
	uint64_t s = (hi - 1) / seg * seg, e = hi;
	*kept = hi;
	if (s < lo)
		s = lo; /* lo is a segment start (Req1); never trusted to be */
	for (;;) {
		uint32_t slot = (uint32_t)(s / seg % cur->nseg);
		uint64_t first = atomic_load_explicit(&r->seg_first[slot], memory_order_acquire);
		size_t phys = (size_t)(s % cur->size), n = (size_t)(e - s);
		if (n > cur->size - phys)
			n = cur->size - phys; /* only a damaged mapping's geometry gets here */
		TTLOG__TSAN_IGNORE_READS_BEGIN();
		memcpy(buf + phys, ring_data + phys, n);
		TTLOG__TSAN_IGNORE_READS_END();
		/* LMM(copy:B), as in ttlog__ring_read(). */
		TTLOG__FENCE_ACQUIRE();
		uint64_t t2 = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
		/* LMM(gen:B), as in ttlog__ring_read(). */
		if (atomic_load_explicit(&r->gen, memory_order_relaxed) != cur->gen)
			return -1;
		if (t2 > s || n != e - s)
			return 0;
		*kept = s;
		*before = first;
		if (s <= lo)
			return 0;
		e = s;
		s = s - seg < lo ? lo : s - seg;
	}
}

/* See ring.h. Runs in signal context. Exported for libttlog-read. */
TTLOG_API int ttlog__ring_read_copy(struct ttlog__ring_cursor *cur, unsigned char *buf)
{
	struct ttlog__ring *r = cur->ring;
	const unsigned char *ring_data = cur->data;
	uint32_t size = cur->size, seg_size = cur->seg_size, nseg = cur->nseg;
	const uint32_t thread = cur->thread; /* what the caller was told */
	for (int attempt = 0; attempt < 8; attempt++) {
		if (attempt > 0 && !ttlog__ring_read_begin_at(r, ring_data, size, seg_size, nseg, cur))
			return 0;
		cur->thread = thread;
		if (cur->pos >= cur->end)
			return 0;
		uint64_t kept, before = 0;
		if (copy_pass(cur, ring_data, buf, cur->pos, cur->end, &kept, &before) < 0) {
			cur->aborted = 1;
			cur->pos = cur->end;
			return 0;
		}
		if (kept < cur->end) {
			cur->pos = kept;
			cur->data = buf;
			cur->copied = 1;
			cur->confirmed = 1;
			cur->overwritten_copied = before;
			return 1;
		}
	}
	/* Lapped on every attempt: the records are gone, every one before
	 * the tail now (which is past the last attempt's head: the newest
	 * segment was lost) counted as overwritten. Nothing to read, but the
	 * thread and that count are still to be written (a THRD). */
	cur->overwritten_copied = overwritten_in(r, seg_size, nseg);
	cur->copied = 1;
	cur->pos = cur->end;
	return 1;
}

/* Copies logical bytes [pos, pos + n) out of the ring. The reads race with
 * the owner's writes on purpose; see the top of this file.
 * Runs in signal context. */
static void ring_copy(const struct ttlog__ring_cursor *cur, uint64_t pos, size_t n,
		      unsigned char *buf)
{
	uint32_t size = cur->size;
	size_t phys = (size_t)(pos % size);
	size_t first = TTLOG__MIN(n, size - phys);
	TTLOG__TSAN_IGNORE_READS_BEGIN();
	memcpy(buf, cur->data + phys, first);
	if (n > first)
		memcpy(buf + first, cur->data, n - first);
	TTLOG__TSAN_IGNORE_READS_END();
}

/*
 * Counts what was lost between the cursor and the new tail. The bytes are
 * exact. The records cannot be counted (they are gone), so they are
 * estimated from the writer's overwritten count, which may already include
 * records beyond the range being read; no more than bytes / 16 (the
 * smallest record) are counted. Runs in signal context.
 */
static void count_lost(struct ttlog__ring_cursor *cur, uint64_t bytes)
{
	uint64_t now = overwritten_in(cur->ring, cur->seg_size, cur->nseg);
	/* A count below the first is a new owner's (the ring was handed
	 * over after the last check): nothing can be told from it. */
	uint64_t gone = now > cur->overwritten_begin ? now - cur->overwritten_begin : 0;
	if (now >= cur->overwritten_begin)
		cur->overwritten_last = now;
	uint64_t lost = gone > cur->records_seen ? gone - cur->records_seen : 0;
	if (lost > bytes / TTLOG__FMT_RECORD_HEADER_SIZE)
		lost = bytes / TTLOG__FMT_RECORD_HEADER_SIZE;
	cur->torn += lost;
	cur->records_seen += lost;
	cur->torn_bytes += bytes;
}

/*
 * Counts what a ring handed to a new thread took with it: the rest of the
 * range, [pos, end). The bytes are exact. The records are the old owner's
 * count read at begin less those before pos: exact if the old owner had
 * exited by then (its count no longer moved), else at most the few it
 * wrote between the loads of its head and its count; the ring's counters
 * are the new owner's now and say nothing. No more than bytes / 16.
 * Runs in signal context.
 */
static void count_handed_over(struct ttlog__ring_cursor *cur)
{
	uint64_t bytes = cur->end - cur->pos;
	uint64_t at = cur->overwritten_begin + cur->records_seen;
	uint64_t lost = cur->records_end > at ? cur->records_end - at : 0;
	if (lost > bytes / TTLOG__FMT_RECORD_HEADER_SIZE)
		lost = bytes / TTLOG__FMT_RECORD_HEADER_SIZE;
	cur->torn += lost;
	cur->records_seen += lost;
	cur->torn_bytes += bytes;
}

/*
 * A consumer's read (cur->exact) that the tail overtook at `start`: moves
 * to a tail at or past t2 whose record count is known (tail_pair) and
 * counts the records in between exactly. Returns the new position; if no
 * consistent tail could be had, the read ends at start. Runs in signal
 * context.
 */
static uint64_t skip_to_tail(struct ttlog__ring_cursor *cur, uint64_t start, uint64_t t2)
{
	uint64_t tail, before;
	if (!tail_pair(cur->ring, cur->seg_size, cur->nseg, &tail, &before) || tail < t2) {
		/* Stop here: the next read_from finds the consumer behind the
		 * tail and counts the records from a consistent pair then. */
		cur->end = start;
		return start;
	}
	uint64_t at = cur->index_base + cur->records_seen;
	cur->torn += before > at ? before - at : 0;
	cur->records_seen = before - cur->index_base;
	cur->torn_bytes += tail - start;
	if (tail > cur->end)
		cur->end = tail;
	return tail;
}

/* See ring.h. Runs in signal context. */
size_t ttlog__ring_read(struct ttlog__ring_cursor *cur, unsigned char *buf, size_t cap)
{
	struct ttlog__ring *r = cur->ring;
	while (!cur->aborted && cur->pos < cur->end) {
		size_t n = (size_t)TTLOG__MIN(cur->end - cur->pos, (uint64_t)cap);
		ring_copy(cur, cur->pos, n, buf);
		uint64_t start = cur->pos;
		/* A private copy (ttlog__ring_read_copy) was checked as it was
		 * taken; the live ring is checked now. */
		if (!cur->copied) {
			/* LMM(copy:B) pairs with LMM(reserve:A) and LMM(gen:A). */
			TTLOG__FENCE_ACQUIRE();
			uint64_t t2 = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
			/* LMM(gen:B) the count again, after the fence. */
			uint32_t g2 = atomic_load_explicit(&r->gen, memory_order_relaxed);
			if (g2 != cur->gen) {
				/* The ring changed owner. A consumer's unread
				 * records are counted where the ring was reused
				 * (the stream's ring_retired), from exact counts;
				 * a snapshot's here. */
				if (!cur->exact)
					count_handed_over(cur);
				cur->aborted = cur->handed_over = 1;
				return 0;
			}
			cur->confirmed = 1;
			if (t2 > start && cur->exact) {
				/* A consumer counts exactly, from the tail's count. */
				uint64_t t = skip_to_tail(cur, start, t2);
				if (t >= cur->end) {
					cur->pos = t;
					return 0;
				}
				start = t;
			} else if (t2 > start) {
				/* [start, t2) was overwritten while (or before) we copied. */
				uint64_t lost_end = TTLOG__MIN(t2, cur->end);
				count_lost(cur, lost_end - start);
				if (t2 >= cur->end) {
					cur->pos = cur->end;
					return 0;
				}
				start = t2;
			}
		}
		if (start >= cur->pos + n) {
			/* Lapped past everything this piece holds: copy again from
			 * the new tail. */
			cur->pos = start;
			continue;
		}
		size_t off = (size_t)(start - cur->pos), walked = off;
		uint64_t skip = 0; /* a padding record running past this piece */
		while (n - walked >= 8) {
			uint32_t size = ttlog__get_u32(buf + walked);
			uint32_t id = ttlog__get_u32(buf + walked + 4);
			if (size < 8 || size % 8 != 0 || (id != 0 && size < TTLOG__FMT_RECORD_HEADER_SIZE) ||
			    size > cur->size) {
				/* Cannot happen with intact data (Req4); never trust it. */
				count_lost(cur, cur->end - (cur->pos + walked));
				cur->aborted = cur->damaged = 1;
				break;
			}
			if (size > n - walked) {
				if (id == 0) {
					skip = size;
				} else if (walked == off && (n < cap || size > cap)) {
					/* A record that runs past the end of what
					 * is to be read, or is larger than any
					 * record can be: never with intact data;
					 * reading on would not move (a hostile
					 * mapping made this loop forever). */
					count_lost(cur, cur->end - (cur->pos + walked));
					cur->aborted = cur->damaged = 1;
				}
				break;
			}
			cur->records_seen += id != 0;
			walked += size;
		}
		if (walked > off && off > 0)
			memmove(buf, buf + off, walked - off);
		cur->pos += walked + skip;
		if (cur->aborted) {
			cur->pos = cur->end;
			return walked - off;
		}
		if (walked > off)
			return walked - off;
		/* Nothing whole in this piece past `start`: the loop goes on from
		 * the new position (progress is certain: a record is never larger
		 * than `cap`, and larger padding is skipped without copying). */
	}
	return 0;
}

/*
 * See ring.h. The consumer's position is trusted only for the owner it was
 * taken from (gen) and only between the tail and the head; anything else
 * starts over at the tail, counting what it skips. Runs in signal context.
 */
int ttlog__ring_read_from(struct ttlog__ring *r, const struct ttlog__ring_consumer *c,
			  struct ttlog__ring_cursor *cur, uint64_t *lost)
{
	*lost = 0;
	if (!ttlog__ring_read_begin(r, cur))
		return 0;
	uint64_t tail, before;
	if (!tail_pair(r, cur->seg_size, cur->nseg, &tail, &before))
		return 0; /* a writer lapping faster than two loads: next time */
	uint64_t pos = 0, index = 0; /* a new owner's records start at 0 */
	if (c->valid && c->gen == cur->gen) {
		pos = c->pos;
		index = c->index;
	}
	if (pos < tail || pos > cur->end || index > before + (pos - tail) / 8) {
		/* The ring dropped [pos, tail) before the consumer read it
		 * (a position past the head cannot be this owner's: start over). */
		if (pos <= cur->end && before > index)
			*lost = before - index;
		pos = tail;
		index = before;
	}
	cur->pos = pos;
	cur->exact = 1;
	cur->index_base = index;
	cur->records_seen = 0;
	return cur->pos < cur->end;
}

/* See ring.h. Runs in signal context. */
void ttlog__ring_read_end(const struct ttlog__ring_cursor *cur, struct ttlog__ring_consumer *c)
{
	if (cur->aborted || !cur->exact)
		return;
	c->pos = cur->pos;
	c->index = cur->index_base + cur->records_seen;
	c->gen = cur->gen;
	c->valid = 1;
}

/* See ring.h. Runs in signal context. */
uint64_t ttlog__ring_read_overwritten(const struct ttlog__ring_cursor *cur)
{
	if (cur->copied)
		return cur->overwritten_copied;
	if (cur->handed_over)
		return cur->overwritten_last; /* the ring's count is the new owner's */
	return overwritten_in(cur->ring, cur->seg_size, cur->nseg);
}
