/*
 * ring.c - per-thread flight-recorder rings.
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
 *   writer (ttlog.h, segment_enter_next)      reader (this file)
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
 * The copy itself is a plain memcpy that races with the writer's plain
 * stores by design; it is hidden from ThreadSanitizer (TSAN_IGNORE_READS),
 * because the check after it, not the copy, is what makes it correct.
 *
 * Ownership: a ring outlives its thread, so snapshots show what exited
 * threads did. A new thread takes a new ring while the memory cap allows,
 * else the ring of the thread that exited first. Handing a ring over is
 * guarded by `gen`, a sequence count: the claimer makes it odd, resets the
 * ring, and makes it even (LMM(gen:A)); a reader that finds it odd, or
 * changed after its copy (LMM(gen:B)), discards what it read.
 */
#define _GNU_SOURCE
#include "ring/ring.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "core/state.h"
#include "context/context.h"
#include "crash/crash.h"
#include "shm/owner.h"
#include "sites/sampling.h"
#include "snapshot/format.h"
#include "snapshot/writer.h"

#ifdef TTLOG__TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define TSAN_IGNORE_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define TSAN_IGNORE_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define TSAN_IGNORE_READS_BEGIN() ((void)0)
#define TSAN_IGNORE_READS_END() ((void)0)
#endif

#define ALTSTACK_SIZE (64u * 1024u)

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
static void *main_altstack;

static uint32_t current_tid(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

static struct ttlog__ring *ring_of(struct ttlog__writer *w)
{
	return (struct ttlog__ring *)((char *)w - offsetof(struct ttlog__ring, w));
}

/* Runs in signal context. */
struct ttlog__ring *ttlog__ring_first(void)
{
	return atomic_load_explicit(&ring_list, memory_order_acquire);
}

/* Runs in signal context: one TLS read. */
struct ttlog__ring *ttlog__ring_self(void)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	return w != &idle_writer ? ring_of(w) : NULL;
}

/* The largest record that string arguments limited to max_string bytes
 * allow: 16 arguments, each a string. */
static uint32_t max_record_size(uint32_t max_string)
{
	return (TTLOG_FMT_RECORD_HEADER_SIZE + TTLOG_FMT_MAX_ARGS * (4u + max_string) + 7u) & ~7u;
}

/* Largest string a segment can take so that the largest record (16 string
 * arguments) still fits in it. */
static uint32_t segment_max_string(uint32_t seg_size)
{
	uint32_t fit = (seg_size - TTLOG_FMT_RECORD_HEADER_SIZE - 7u) / TTLOG_FMT_MAX_ARGS - 4u;
	return TTLOG_MIN(ttlog__g.max_string, fit);
}

/* Divides `bytes` into segments: as many as 64, none smaller than the
 * larger of 4 KiB and the largest record, but at least 2. More segments keep
 * more history (a ring shows at least (nseg-1)/nseg of itself); larger ones
 * make the slow path rarer, but measured with calls 5 us apart, 64 KiB
 * segments made each of its calls slower (about 230 ns against 75 ns for
 * 16 KiB), so the tail did not improve. The division is fixed for the
 * ring's life, so readers may use size without synchronisation. */
static void ring_divide(size_t bytes, uint32_t *nseg, uint32_t *seg_size)
{
	uint32_t want = TTLOG_MAX(TTLOG_RING_SEGMENT_GOAL, max_record_size(ttlog__g.max_string));
	size_t n = bytes / want;
	n = TTLOG_MIN(TTLOG_MAX(n, TTLOG_RING_MIN_SEGMENTS), TTLOG_RING_MAX_SEGMENTS);
	*nseg = (uint32_t)n;
	*seg_size = (uint32_t)(bytes / n) & ~7u;
}

void ttlog__rings_configure(void)
{
	uint32_t nseg, seg_size;
	ring_divide(ttlog__g.ring_size, &nseg, &seg_size);
	idle_writer.max_string = segment_max_string(seg_size);
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
	uint32_t g = atomic_load_explicit(&r->gen, memory_order_relaxed);
	atomic_store_explicit(&r->gen, g + 1, memory_order_relaxed);
	/* LMM(gen:A) The odd count is visible before any reset store; pairs
	 * with the reader's fence and re-check in ttlog__ring_read (LMM(gen:B)). */
	TTLOG__FENCE_RELEASE();
	r->w.max_string = segment_max_string(r->seg_size);
	r->w.base = (uintptr_t)r->data;
	r->w.records = 0;
	r->seg_end = 0;
	for (uint32_t k = 0; k < TTLOG_RING_MAX_SEGMENTS; k++)
		atomic_store_explicit(&r->seg_first[k], 0, memory_order_relaxed);
	atomic_store_explicit(&r->w.limit, 0, memory_order_relaxed); /* first call: slow path */
	atomic_store_explicit(&r->w.head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->pub_tail, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tid, current_tid(), memory_order_relaxed);
	memset(r->name, 0, sizeof r->name);
	pthread_getname_np(pthread_self(), r->name, sizeof r->name);
	memset(&r->scopes, 0, offsetof(struct ttlog__scope_stack, entry));
	atomic_store_explicit(&r->gen, g + 2, memory_order_release);
	atomic_store_explicit(&r->state, TTLOG_RING_LIVE, memory_order_release);
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
	if (ttlog__shm_active()) {
		/* Shared-memory mode (src/shm/owner.c): both from the mapping,
		 * which is never given back; full counts like the cap. */
		r = ttlog__shm_alloc(sizeof *r, 64);
		data = r ? ttlog__shm_alloc(size, 4096) : NULL;
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
	ring_divide(size, &r->nseg, &r->seg_size);
	r->size = r->nseg * r->seg_size;
	if (ttlog__shm_ring_publish(r) != 0) {
		/* The ring table is full: a ring no other process could find
		 * is not handed out (its memory stays unused). */
		atomic_fetch_sub_explicit(&ring_bytes, size, memory_order_relaxed);
		return NULL;
	}
	atomic_store_explicit(&r->state, TTLOG_RING_CLAIMED, memory_order_relaxed);
	r->index = atomic_fetch_add_explicit(&ring_count, 1, memory_order_relaxed);
	struct ttlog__ring *head = atomic_load_explicit(&ring_list, memory_order_relaxed);
	do {
		r->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&ring_list, &head, r, memory_order_release,
							memory_order_relaxed));
	return r;
}

static uint64_t ring_overwritten(const struct ttlog__ring *r);

/* Keeps the totals of an exited thread's ring that is about to be reused,
 * so that the events_written and events_overwritten metrics never go back
 * (src/metrics/self.c). Its thread's writes are visible: the ring was
 * claimed from EXITED. */
static void ring_retire(struct ttlog__ring *r)
{
	atomic_fetch_add_explicit(&ttlog__g.records_retired, r->w.records, memory_order_relaxed);
	atomic_fetch_add_explicit(&ttlog__g.overwritten_retired, ring_overwritten(r),
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
			uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
			uint64_t order = atomic_load_explicit(&r->exit_order, memory_order_relaxed);
			if (st == TTLOG_RING_FREE) {
				best = r, best_state = st;
				break;
			}
			if (st == TTLOG_RING_EXITED && order < best_order)
				best = r, best_state = st, best_order = order;
		}
		if (!best)
			return NULL;
		if (atomic_compare_exchange_strong(&best->state, &best_state, TTLOG_RING_CLAIMED)) {
			if (best_state == TTLOG_RING_EXITED)
				ring_retire(best);
			return best;
		}
	}
	return NULL;
}

/*
 * Pads the rest of the current segment and enters the next one, dropping
 * what it held in the previous lap. Returns the new head. Owner only.
 */
static uint64_t segment_enter_next(struct ttlog__ring *r, uint64_t h)
{
	if (h < r->seg_end) {
		uint64_t pad = r->seg_end - h; /* site id 0: padding */
		memcpy((unsigned char *)(r->w.base + h), &pad, sizeof pad);
		h = r->seg_end;
		/* LMM(commit:A), as in ttlog__commit(). */
		atomic_store_explicit(&r->w.head, h, memory_order_release);
	}
	uint32_t k = (uint32_t)(h / r->seg_size % r->nseg);
	if (h >= r->size) {
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
	if (k == 0)
		r->w.base = (uintptr_t)r->data - h;
	r->seg_end = h + r->seg_size;
	return h;
}

/*
 * The slow path of a log call (declared in ttlog.h): the thread's first
 * event, the end of a segment, or a tick source that is not read inline.
 */
TTLOG_API unsigned char *ttlog__reserve_slow(uint64_t hdr)
{
	uint32_t len = (uint32_t)hdr;
	if (atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG_STATE_ON) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_uninitialized, 1, memory_order_relaxed);
		return NULL;
	}
	if (atomic_load_explicit(&ttlog__g.frozen, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_frozen, 1, memory_order_relaxed);
		return NULL;
	}
	struct ttlog__writer *w = ttlog__tls_writer;
	if (w == &idle_writer && !(w = ttlog__thread_attach()))
		return NULL;
	struct ttlog__ring *r = ring_of(w);
	if (len > r->seg_size) {
		/* Only a ring left from an earlier ttlog_init() with a smaller
		 * size can meet a record sized for the current settings that
		 * does not fit one of its segments. */
		atomic_fetch_add_explicit(&ttlog__g.dropped_no_ring, 1, memory_order_relaxed);
		return NULL;
	}
	uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
	if (h + len > r->seg_end) {
		h = segment_enter_next(r, h);
		/* The records that drop out with this segment's old contents
		 * may open contexts or spans: the open ones are re-stated at
		 * the start of every segment, leaving room for this record. */
		h = ttlog__scopes_restate(r, h, r->seg_size - len);
	}
	/* With another tick source the limit stays 0: every call comes here. */
	atomic_store_explicit(&w->limit, ttlog__clock_inline_ok() ? r->seg_end : 0,
			      memory_order_relaxed);
	unsigned char *p = (unsigned char *)(w->base + h);
	uint64_t ticks = ttlog__clock_ticks();
	memcpy(p, &hdr, 8);
	memcpy(p + 8, &ticks, 8);
	ttlog__shm_maybe_refresh(ticks); /* one compare unless shared memory is due */
	return p;
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
 * as with any concurrent write. Resuming needs nothing more: the next slow
 * path sets the limit again. Runs in signal context.
 */
void ttlog__rings_freeze(int on)
{
	atomic_store_explicit(&ttlog__g.frozen, on, memory_order_relaxed);
	if (!on)
		return;
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
	/* The name and order above are published by this release. */
	atomic_store_explicit(&r->state, TTLOG_RING_EXITED, memory_order_release);
	if (r->altstack) {
		stack_t ss = {.ss_flags = SS_DISABLE};
		sigaltstack(&ss, NULL);
		munmap(r->altstack, r->altstack_size);
		r->altstack = NULL;
	}
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
		if (r && ttlog__shm_ring_claimed(r) != 0) {
			/* Its memory cannot be backed (shared memory full): give
			 * it back unused. */
			atomic_store_explicit(&r->state, TTLOG_RING_FREE, memory_order_release);
			r = NULL;
		}
	}
	if (!r) {
		atomic_fetch_add_explicit(&ttlog__g.dropped_no_ring, 1, memory_order_relaxed);
		return NULL;
	}
	ring_reset_for_self(r);
	pthread_setspecific(exit_key, r);
	if (ttlog__crash_installed())
		ttlog__altstack_enable(r);
	ttlog__tls_writer = &r->w;
	return &r->w;
}

static void *altstack_map(size_t *total)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	*total = ALTSTACK_SIZE + page;
	void *m = mmap(NULL, *total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	mprotect(m, page, PROT_NONE); /* guard page below the stack */
	stack_t ss = {.ss_sp = (char *)m + page, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0) {
		munmap(m, *total);
		return NULL;
	}
	return m;
}

static int thread_has_altstack(void)
{
	stack_t old;
	return sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE);
}

void ttlog__altstack_enable(struct ttlog__ring *r)
{
	if (thread_has_altstack())
		return; /* the program's own, or the one ttlog_init made */
	r->altstack = altstack_map(&r->altstack_size);
}

int ttlog__altstack_enable_main(void)
{
	size_t total;
	if (main_altstack || thread_has_altstack())
		return 0;
	main_altstack = altstack_map(&total);
	return main_altstack ? 0 : -1;
}

/* The child of fork() has one thread: the one that called fork. It keeps
 * its ring, emptied; every other ring becomes free for reuse, so the child's
 * snapshots show only its own history, under its own pid. */
static void after_fork_child(void)
{
	/* First: in shared-memory mode every ring is still the parent's memory. */
	ttlog__shm_after_fork();
	struct ttlog__ring *self = ttlog__ring_self();
	ttlog__g.pid = (int)getpid();
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		if (r != self)
			atomic_store_explicit(&r->state, TTLOG_RING_FREE, memory_order_relaxed);
	}
	if (self) {
		atomic_store_explicit(&self->state, TTLOG_RING_CLAIMED, memory_order_relaxed);
		ring_reset_for_self(self);
	}
	atomic_store_explicit(&ttlog__g.dropped_no_ring, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.dropped_uninitialized, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.frozen, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.dropped_frozen, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.torn_records, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.records_retired, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.overwritten_retired, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_written, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_failed, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_busy, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_pruned, 0, memory_order_relaxed);
	ttlog__clock_reset_fake();
	ttlog__sampling_after_fork();
	ttlog__snapshot_after_fork();
	ttlog__crash_after_fork();
}

int ttlog__rings_init(void)
{
	static int done;
	if (done)
		return 0;
	if (pthread_key_create(&exit_key, thread_exit_hook) != 0)
		return -1;
	if (pthread_atfork(NULL, NULL, after_fork_child) != 0)
		return -1;
	done = 1;
	return 0;
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

static uint64_t ring_overwritten(const struct ttlog__ring *r)
{
	return overwritten_in(r, r->seg_size, r->nseg);
}

uint64_t ttlog__rings_overwritten(void)
{
	uint64_t sum = 0;
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
		if (st == TTLOG_RING_LIVE || st == TTLOG_RING_EXITED)
			sum += ring_overwritten(r);
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
		uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
		if (st != TTLOG_RING_LIVE && st != TTLOG_RING_EXITED)
			continue;
		TSAN_IGNORE_READS_BEGIN();
		sum += *(volatile const uint64_t *)&r->w.records;
		TSAN_IGNORE_READS_END();
	}
	return sum;
}

uint32_t ttlog__rings_count(void)
{
	return atomic_load_explicit(&ring_count, memory_order_relaxed);
}

/* ---- Reader side. Everything below runs in signal context. ------------- */

int ttlog__ring_read_begin(struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	return ttlog__ring_read_begin_at(r, r->data, r->size, r->seg_size, r->nseg, cur);
}

int ttlog__ring_read_begin_at(struct ttlog__ring *r, const unsigned char *data, uint32_t size,
			      uint32_t seg_size, uint32_t nseg, struct ttlog__ring_cursor *cur)
{
	memset(cur, 0, sizeof *cur);
	cur->data = data;
	cur->size = size;
	cur->seg_size = seg_size;
	cur->nseg = nseg;
	uint32_t st = atomic_load_explicit(&r->state, memory_order_acquire);
	if (st != TTLOG_RING_LIVE && st != TTLOG_RING_EXITED)
		return 0;
	cur->ring = r;
	cur->gen = atomic_load_explicit(&r->gen, memory_order_acquire);
	if (cur->gen & 1u)
		return 0;
	/* LMM(copy:A) pairs with LMM(commit:A): records before head are whole. */
	cur->end = atomic_load_explicit(&r->w.head, memory_order_acquire);
	cur->pos = atomic_load_explicit(&r->pub_tail, memory_order_acquire);
	cur->overwritten_begin = overwritten_in(r, seg_size, nseg);
	if (cur->pos > cur->end || cur->end - cur->pos > size)
		return 0; /* head and tail from different owners; gen check would fail */
	return cur->pos < cur->end;
}

/* Copies logical bytes [pos, pos + n) out of the ring. The reads race with
 * the owner's writes on purpose; see the top of this file. */
static void ring_copy(const struct ttlog__ring_cursor *cur, uint64_t pos, size_t n,
		      unsigned char *buf)
{
	uint32_t size = cur->size;
	size_t phys = (size_t)(pos % size);
	size_t first = TTLOG_MIN(n, size - phys);
	TSAN_IGNORE_READS_BEGIN();
	memcpy(buf, cur->data + phys, first);
	if (n > first)
		memcpy(buf + first, cur->data, n - first);
	TSAN_IGNORE_READS_END();
}

/*
 * Counts what was lost between the cursor and the new tail. The bytes are
 * exact. The records cannot be counted (they are gone), so they are
 * estimated from the writer's overwritten count, which may already include
 * records beyond the range being read; no more than bytes / 16 (the
 * smallest record) are counted.
 */
static void count_lost(struct ttlog__ring_cursor *cur, uint64_t bytes)
{
	uint64_t now = overwritten_in(cur->ring, cur->seg_size, cur->nseg);
	uint64_t gone = now - cur->overwritten_begin;
	uint64_t lost = gone > cur->records_seen ? gone - cur->records_seen : 0;
	if (lost > bytes / TTLOG_FMT_RECORD_HEADER_SIZE)
		lost = bytes / TTLOG_FMT_RECORD_HEADER_SIZE;
	cur->torn += lost;
	cur->records_seen += lost;
	cur->torn_bytes += bytes;
}

size_t ttlog__ring_read(struct ttlog__ring_cursor *cur, unsigned char *buf, size_t cap)
{
	struct ttlog__ring *r = cur->ring;
	while (!cur->aborted && cur->pos < cur->end) {
		size_t n = (size_t)TTLOG_MIN(cur->end - cur->pos, (uint64_t)cap);
		ring_copy(cur, cur->pos, n, buf);
		/* LMM(copy:B) pairs with LMM(reserve:A) and LMM(gen:A). */
		TTLOG__FENCE_ACQUIRE();
		uint64_t t2 = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
		uint32_t g2 = atomic_load_explicit(&r->gen, memory_order_relaxed);
		if (g2 != cur->gen) {
			count_lost(cur, cur->end - cur->pos);
			cur->aborted = 1;
			break;
		}
		uint64_t start = cur->pos;
		if (t2 > start) {
			/* [start, t2) was overwritten while (or before) we copied. */
			uint64_t lost_end = TTLOG_MIN(t2, cur->end);
			count_lost(cur, lost_end - start);
			if (t2 >= cur->end) {
				cur->pos = cur->end;
				break;
			}
			start = t2;
			if (start >= cur->pos + n) {
				/* Lapped past everything this piece holds: copy again
				 * from the new tail. */
				cur->pos = start;
				continue;
			}
		}
		size_t off = (size_t)(start - cur->pos), walked = off;
		uint64_t skip = 0; /* a padding record running past this piece */
		while (n - walked >= 8) {
			uint32_t size = ttlog__get_u32(buf + walked);
			uint32_t id = ttlog__get_u32(buf + walked + 4);
			if (size < 8 || size % 8 != 0 || (id != 0 && size < TTLOG_FMT_RECORD_HEADER_SIZE) ||
			    size > cur->size) {
				/* Cannot happen with intact data (Req4); never trust it. */
				count_lost(cur, cur->end - (cur->pos + walked));
				cur->aborted = 1;
				break;
			}
			if (size > n - walked) {
				if (id == 0)
					skip = size;
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

uint64_t ttlog__ring_read_overwritten(const struct ttlog__ring_cursor *cur)
{
	return overwritten_in(cur->ring, cur->seg_size, cur->nseg);
}
