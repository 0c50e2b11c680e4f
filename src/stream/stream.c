/* SPDX-License-Identifier: MIT */
/*
 * stream.c - the drainer: one background thread, `ttlog-stream`, that
 * reads every thread's ring from where it last stopped and appends the
 * records to segment files (docs/FORMAT.md sections 17 and 18), rotating,
 * pruning and counting everything it could not write.
 *
 * A drain cycle walks the ring list. For each ring it resumes its consumer
 * (ttlog__ring_read_from, src/ring/ring.c): records the ring dropped before
 * the drainer got to them, and records overwritten while being copied, are
 * counted exactly as the thread's stream_lost; the ring never waits. Each
 * record at or above the stream level (TTLOG_STREAM_LEVEL, per target like
 * TTLOG_LEVEL), and every record that is not a log call (contexts, spans,
 * re-statements: later events depend on them), goes through the emitter
 * (src/snapshot/emit.c) into the segment; the others are counted as
 * filtered. At the end of a cycle the blocks are written out as whole
 * chunks, so a reader of the growing segment sees every event within one
 * cycle: the next cycle comes at once after a cycle that read 256 KiB or
 * more or after which a thread waits for room (block policy), 1 ms after
 * one that read less, and after empty cycles 2, 4, ... ms later, up to
 * flush_ns (50 ms by default).
 *
 * A segment: file header (incompatible flag PACKED), HEAD (SEGMENT flag,
 * its sequence number, the stream's start), each thread's open contexts
 * and spans re-stated (a RESTATE group, from the copies the drainer keeps
 * as it reads the scope records: restate_scopes), then SITE/SITX/EVTS as
 * the drain goes, with a TNAM naming each thread before its first block (a
 * killed process's segment gets no THRD), the EVTS blocks stored with the
 * stream's codec (TTLOG_STREAM_COMPRESSION; by default packed by record
 * type, codec 2, encoded by snapshot/pack.c as each record comes; zstd
 * compresses those packed bytes with the context reserved when the stream
 * started, also in signal context when a crash handler closes the
 * segment); closed (rotation
 * at segment_size or segment_age_ns, shutdown, a flush signal, a crash)
 * with a THRD per thread that had something to say, MTRC, INDX (normal
 * context only) and the 88-byte segment END.
 *
 * With TTLOG_ENCRYPT_KEY a segment is written through the stream's
 * encrypting sink (src/snapshot/seal.c, FORMAT.md 21): each flush becomes
 * whole messages, so a reader of the growing file decrypts every message
 * written so far; closing adds the final message.
 *
 * A write that fails (full disk, quota, RLIMIT_FSIZE, I/O error) never
 * blocks or stops the program: the file is cut back to the last whole
 * chunk before this cycle, the cycle's records are counted as lost, the
 * reason goes once to stderr and to the error counter, and the drainer
 * goes on reading the rings (counting everything as lost) and tries a new
 * segment every second.
 *
 * Ownership of the segment (its descriptor and the emitter) is one word,
 * `owner`: 0 free, 1 the drainer during a cycle, 2 a signal handler that
 * closes the stream (crash, SIGTERM/SIGINT; close_now below). The drainer
 * takes it with a compare-and-swap for each cycle and gives it back with a
 * release store; a signal handler takes it the same way, waiting at most
 * 200 ms, and keeps it: the drainer sees 2 and stops. LMM(owner:A), the
 * release store, pairs with LMM(owner:B), the acquire CAS, so whoever takes
 * the word sees the segment as the last holder left it.
 *
 * Under the block policy a thread about to drop records the drainer has not
 * read waits in its slow path (before_drop), never in its inline log call.
 * The drainer publishes, per ring, how far it has read:
 *
 *   drainer (after a read)                   owner (ttlog__reserve_slow)
 *   store done_pos 0 (a new owner's first)   load done_gen   LMM(done:B)
 *   store done_pos                           load done_pos
 *   store done_gen release  LMM(done:A)
 *
 *   LMM(done:A) pairs with LMM(done:B): an owner that sees its own gen
 *       sees a done_pos of that gen (stored before it), never the higher
 *       position of the ring's previous owner; positions of one gen only
 *       grow afterwards.
 *
 * Everything the crash path uses (the emitter, the buffers, the per-ring
 * state, the level table) is one mapping reserved by ttlog__stream_start();
 * the functions that close_now() reaches say "Runs in signal context".
 */
#define _GNU_SOURCE
#include "stream/stream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <lz4.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/dir_rules.h"
#include "common/internal.h"
#include "common/publish.h"
#include "common/sigsafe.h"
#include "common/state.h"
#include "common/stream_ops.h"
#include "format/format.h"
#include "ring/ring.h"
#include "sites/desc.h"
#include "sites/sites.h"
#include "snapshot/compression.h"
#include "snapshot/emit.h"
#include "snapshot/redact.h"
#include "snapshot/metrics_chunk.h"
#include "snapshot/seal.h"
#include "snapshot/writer.h"
#include "thread/scopes.h"
#include "thread/thread.h"

#define OUT_CAP (256u << 10)
#define STAGE_CAP (TTLOG__FMT_MAX_BLOCK_RAW + 64u)
#define SMALL_CAP (PATH_MAX + 1024u)
#define BUSY_NS 1000000ull             /* the next cycle, when this one had work */
#define BUSY_BYTES (256u << 10)        /* ... or at once, when it had this much */
#define RETRY_NS 1000000000ull         /* a stopped stream tries a new segment */
#define CLOSE_WAIT_STEPS 100           /* x 2 ms: a signal handler's wait for the drainer */
#define MAX_TARGETS 64
#define MAX_INDEX ((TTLOG__FMT_MAX_CHUNK - TTLOG__FMT_INDX_FIXED_SIZE) / TTLOG__FMT_INDX_ENTRY_SIZE)

#define PEND_BUCKETS 64u              /* below-level records not yet decided, by age */
#define MAX_TRIGGERS 64u              /* promotions waiting for the end of a cycle */

enum { OWNER_FREE = 0, OWNER_DRAINER = 1, OWNER_CLOSED = 2 };
/* What a site's records are to the stream (the keep[] table). */
enum {
	K_KNOWN = 1, K_STREAM = 2, K_TRIGGER = 4, K_SPAN_BEGIN = 8, K_SPAN_END = 16, K_RESTATE = 32,
	K_CONTEXT_PUSH = 64, K_CONTEXT_POP = 128
};
#define K_SCOPE (K_SPAN_BEGIN | K_SPAN_END | K_RESTATE | K_CONTEXT_PUSH | K_CONTEXT_POP)
#define MAX_SPANS 16u                 /* a ring's open spans the drainer follows */
#define KEPT_SCOPES 32u               /* a ring's open scopes a new segment re-states */
#define KEPT_BYTES 2048u              /* ... and the bytes of their copies */
#define RESTATE_SIZE 24u              /* a RESTATE record: header and one U32, padded */

/* The spans open on a thread, as its records say (for trace scope). */
struct span_stack {
	uint32_t n, over;                /* kept, and opened beyond MAX_SPANS */
	struct {
		uint64_t id, hi, lo;
	} s[MAX_SPANS];
};

/*
 * The scopes (contexts and spans) open on a thread, as the records the
 * drainer has read say, with a copy of the record that opened each, so
 * that a new segment can re-state them (FORMAT.md 8.1, 17.1): a segment
 * read alone then gives its first events the contexts and spans opened in
 * an earlier segment. It follows the reader's rules: a push or begin goes
 * on top, a pop takes the innermost context, an end takes the span with
 * its id and the spans inside it, a RESTATE starts afresh. The KEPT_SCOPES
 * outermost are kept (those beyond are counted, and they are all inside
 * the kept ones); a copy that does not fit in buf is not kept (len 0), and
 * that scope is not re-stated.
 */
struct scope_copies {
	uint32_t n, used;                /* entries kept, bytes of buf used */
	uint32_t over_contexts, over_spans;
	struct {
		uint64_t span_id;
		uint32_t kind;           /* K_CONTEXT_PUSH or K_SPAN_BEGIN */
		uint16_t off, len;       /* the copy in buf; len 0: none */
	} e[KEPT_SCOPES];
	_Alignas(8) unsigned char buf[KEPT_BYTES];
};
_Static_assert(KEPT_BYTES <= UINT16_MAX, "offsets in buf fit in 16 bits");

/* What the drainer keeps per ring (by thread index). */
struct ring_state {
	struct ttlog__ring_consumer c;
	_Atomic uint64_t done_pos;       /* LMM(done:A) */
	_Atomic uint64_t done_index;     /* the consumer's index at done_pos */
	_Atomic uint32_t done_gen;
	_Atomic uint64_t retired_lost;   /* an old owner's unread records (ring_retired) */
	struct ttlog__ring *ring;        /* NULL: never seen */
	uint64_t shm_pos;                /* the position last published to a mapping */
	uint32_t shm_gen;                /* ... and its owner */
	int shm_valid;
	uint32_t tid;
	/* Since the thread's last THRD: */
	uint64_t events, lost, filtered;
	uint64_t overwritten_base;       /* the ring's overwritten count at that THRD */
	uint32_t base_gen;               /* ... for this owner */
	uint64_t cycle_events;           /* written this cycle, not yet known to be on disk */
	uint64_t cycle_promoted;         /* ... of which promoted */
	uint64_t promoted;               /* promoted records in this segment */
	/* Promotion: records below the level are pending in buckets of
	 * bucket_ticks by their ticks until they are too old to be promoted
	 * (then filtered). pend_lo: the oldest bucket held. */
	uint64_t pend[PEND_BUCKETS];
	uint64_t pend_lo;
	uint32_t pend_set;               /* pend_lo is meaningful */
	uint64_t prom_ticks;             /* highest ticks promoted (never twice, in order) */
	uint64_t until_ticks;            /* records up to these ticks are promoted as read */
	uint64_t trig_ticks;             /* the promotion they belong to */
	uint32_t trig_thread, trig_scope;
	uint64_t trig_hi, trig_lo;       /* trace scope: only records of this trace */
	int trig_any;                    /* 0: only records of trig_hi/lo's trace */
	struct span_stack spans;         /* as the main pass has read them */
	uint64_t last_ticks;             /* of the last record the main pass read */
	uint64_t named_seq;              /* the segment that has its TNAM (0: none) */
	struct scope_copies scopes;      /* as the main pass has read them */
};

struct index_entry {
	uint64_t off, first, last;
	uint32_t type, thread;
};

struct stream {
	struct ttlog__stream_settings st;
	/* Encryption (src/snapshot/seal.c): the stream's own key chain and
	 * state; sealed: the open segment is encrypted; cycle_sealed: the
	 * container bytes written when the cycle began (where a failed
	 * cycle cuts the file back to). */
	struct ttlog__seal seal;
	int sealed;
	uint64_t cycle_sealed;
	int level_global;
	int ntargets;
	struct {
		char name[TTLOG__TARGET_NAME_MAX];
		int level;
	} targets[MAX_TARGETS];

	_Atomic int owner;
	_Atomic int stop;
	_Atomic int running;
	_Atomic int waiting;             /* block policy: a thread waits for the drainer; a futex */
	_Atomic int progress;            /* bumped when the drainer publishes while one waits; a futex */
	pthread_t thread;
	_Atomic uint32_t thread_tid;     /* the drainer's, once it runs (relaxed: compared only) */

	int fd;                          /* the open segment, -1 if none */
	uint64_t seq;                    /* HEAD.segment of the open (or last) segment */
	int64_t stream_start_ns;
	uint64_t opened_ns;              /* clock_ns() at the open */
	uint64_t last_sync_ns;
	int failed;                      /* writing stopped; retry at retry_ns */
	uint64_t retry_ns;
	char path[TTLOG__DIR_MAX + 160];
	char service[TTLOG__SERVICE_MAX + 1]; /* for file names: [A-Za-z0-9._-] */

	struct index_entry *index;       /* malloc'd, normal context only */
	size_t nindex, index_cap;
	int index_broken;
	int in_signal;                   /* close_now: no malloc, no index */

	/* Promotion, in ticks of the clock (set when a segment opens). */
	uint64_t before_ticks, after_ticks, bucket_ticks, horizon_ticks;
	uint64_t start_ticks;            /* the clock when this stream started */
	uint64_t rate_start_ns;
	uint32_t rate_count;
	uint32_t ntrig;
	struct {
		uint32_t ring;
		uint64_t ticks, hi, lo;
	} trig[MAX_TRIGGERS];
	size_t prm_len;                  /* records promoted by the main pass, not yet out */
	uint32_t prm_ring;
	unsigned char prm[TTLOG__FMT_MAX_BLOCK_RAW];

	uint32_t nrings;
	struct ring_state *rings;        /* in the same mapping */
	uint8_t keep[TTLOG__MAX_SITES + 1];
	unsigned char stage[STAGE_CAP];
	unsigned char small[SMALL_CAP];
	unsigned char out[OUT_CAP];
	struct ttlog__emit em;
	struct ttlog__pack pack;         /* codecs 2 and 3 (FORMAT.md 9.5) */
	unsigned char zbuf[TTLOG__EMIT_ZBUF_SIZE]; /* codec 3's output */
	void *zstd;                      /* codec 3: the context at zstd_off */
	size_t zstd_off, zstd_cap;       /* the zstd context's memory in `tail` */
	/* LZ4_sizeofState() bytes, then zstd_cap bytes at zstd_off; the ring
	 * states follow in the same mapping. */
	_Alignas(64) unsigned char tail[];
};

static struct stream *S;
static size_t S_size;

/* Statistics (relaxed: counters). */
static _Atomic uint64_t n_streamed, n_lost, n_filtered, n_promoted, n_segments, n_deleted, n_bytes,
	n_errors;

/* ---- Small helpers ------------------------------------------------------ */

/* Runs in signal context. */
static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Runs in signal context. */
static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
}

/* Runs in signal context. */
static void add(_Atomic uint64_t *c, uint64_t n)
{
	if (n)
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Log calls the process dropped (END.dropped), as a snapshot counts them.
 * Runs in signal context. */
static uint64_t dropped_total(void)
{
	return atomic_load_explicit(&ttlog__g.dropped_no_ring, memory_order_relaxed) +
	       atomic_load_explicit(&ttlog__g.dropped_uninitialized, memory_order_relaxed) +
	       atomic_load_explicit(&ttlog__g.dropped_frozen, memory_order_relaxed);
}

/* ---- The stream level --------------------------------------------------- */

static int level_item(void *ctx, const char *target, size_t len, int level)
{
	struct stream *s = ctx;
	if (!target) {
		s->level_global = level;
		return TTLOG_OK;
	}
	for (int i = 0; i < s->ntargets; i++)
		if (strlen(s->targets[i].name) == len && memcmp(s->targets[i].name, target, len) == 0) {
			s->targets[i].level = level;
			return TTLOG_OK;
		}
	if (s->ntargets == MAX_TARGETS)
		return TTLOG_E_CONFIG;
	memcpy(s->targets[s->ntargets].name, target, len);
	s->targets[s->ntargets].name[len] = '\0';
	s->targets[s->ntargets++].level = level;
	return TTLOG_OK;
}

int ttlog__stream_check_level(const char *spec)
{
	return ttlog__levels_walk(spec, NULL, NULL);
}

/* What a record of site id is to the stream (K_*): streamed (a log call at
 * or above the level of its target, or any record of another kind), and
 * whether it triggers a promotion (a log call at or above the promotion
 * level). Decided once per site. Runs in signal context (strcmp, the table
 * filled at start). */
static int classify(struct stream *s, uint32_t id)
{
	if (id > TTLOG__MAX_SITES)
		return K_KNOWN | K_STREAM; /* the emitter counts it as unknown */
	if (s->keep[id])
		return s->keep[id];
	const struct ttlog__site_desc *d = ttlog__site_desc_lookup(id);
	if (!d)
		return K_KNOWN | K_STREAM;
	int level = s->level_global;
	for (int i = 0; i < s->ntargets; i++)
		if (strlen(s->targets[i].name) == d->target_len &&
		    memcmp(s->targets[i].name, d->target, d->target_len) == 0)
			level = s->targets[i].level;
	int k = K_KNOWN;
	if (d->kind != TTLOG__KIND_LOG || d->level >= level)
		k |= K_STREAM;
	if (d->kind == TTLOG__KIND_LOG && s->st.promote_level < TTLOG_LEVEL_OFF &&
	    d->level >= s->st.promote_level)
		k |= K_TRIGGER;
	if (d->kind == TTLOG__KIND_SPAN_BEGIN && d->nargs >= 4)
		k |= K_SPAN_BEGIN;
	else if (d->kind == TTLOG__KIND_SPAN_END && d->nargs >= 1)
		k |= K_SPAN_END;
	else if (d->kind == TTLOG__KIND_RESTATE)
		k |= K_RESTATE;
	else if (d->kind == TTLOG__KIND_CONTEXT_PUSH && d->nargs == 1)
		k |= K_CONTEXT_PUSH;
	else if (d->kind == TTLOG__KIND_CONTEXT_POP)
		k |= K_CONTEXT_POP;
	s->keep[id] = (uint8_t)k;
	return k;
}

/* ---- Promotion: what is pending, promoted, filtered ----------------------- */

/* Follows a thread's spans through one of its records (FORMAT.md 8.1 and
 * 8.2: a begin's first four U64 arguments are its id, its parent and its
 * trace; an end's first is the id; RESTATE empties the stacks before the
 * copies of the open scopes). Runs in signal context. */
static void follow_spans(struct span_stack *st, int k, const unsigned char *rec, uint32_t size)
{
	if (k & K_RESTATE) {
		st->n = st->over = 0;
	} else if ((k & K_SPAN_BEGIN) && size >= TTLOG__FMT_RECORD_HEADER_SIZE + 32) {
		if (st->n == MAX_SPANS) {
			st->over++;
			return;
		}
		st->s[st->n].id = ttlog__get_u64(rec + 16);
		st->s[st->n].hi = ttlog__get_u64(rec + 32);
		st->s[st->n].lo = ttlog__get_u64(rec + 40);
		st->n++;
	} else if ((k & K_SPAN_END) && size >= TTLOG__FMT_RECORD_HEADER_SIZE + 8) {
		uint64_t id = ttlog__get_u64(rec + 16);
		if (st->over) {
			st->over--; /* the innermost, not kept */
			return;
		}
		for (uint32_t i = st->n; i > 0; i--)
			if (st->s[i - 1].id == id) {
				st->n = i - 1;
				break;
			}
	}
}

/* Whether the innermost span of st is of trace hi/lo. Runs in signal
 * context. */
static int in_trace(const struct span_stack *st, uint64_t hi, uint64_t lo)
{
	return st->n && st->s[st->n - 1].hi == hi && st->s[st->n - 1].lo == lo && (hi || lo);
}

/* Forgets kept scope i, keeping the other copies back to back. Runs in
 * signal context. */
static void scope_remove(struct scope_copies *sc, uint32_t i)
{
	uint32_t off = sc->e[i].off, len = sc->e[i].len;
	memmove(sc->buf + off, sc->buf + off + len, sc->used - off - len);
	sc->used -= len;
	for (uint32_t k = i + 1; k < sc->n; k++) {
		sc->e[k - 1] = sc->e[k];
		sc->e[k - 1].off = (uint16_t)(sc->e[k - 1].off - len);
	}
	sc->n--;
}

/* Follows a thread's open scopes through one of its records (k: its
 * classify() bits). Runs in signal context. */
static void follow_scopes(struct scope_copies *sc, int k, const unsigned char *rec, uint32_t size)
{
	if (k & K_RESTATE) {
		sc->n = sc->used = sc->over_contexts = sc->over_spans = 0;
	} else if (k & (K_CONTEXT_PUSH | K_SPAN_BEGIN)) {
		int span = (k & K_SPAN_BEGIN) != 0;
		if (span && size < TTLOG__FMT_RECORD_HEADER_SIZE + 8)
			return; /* cannot happen: classify() saw four arguments */
		if (sc->n == KEPT_SCOPES) {
			if (span)
				sc->over_spans++;
			else
				sc->over_contexts++;
			return;
		}
		uint32_t i = sc->n++;
		sc->e[i].kind = span ? K_SPAN_BEGIN : K_CONTEXT_PUSH;
		sc->e[i].span_id = span ? ttlog__get_u64(rec + TTLOG__FMT_RECORD_HEADER_SIZE) : 0;
		sc->e[i].off = (uint16_t)sc->used;
		sc->e[i].len = 0;
		if (size <= KEPT_BYTES - sc->used) {
			memcpy(sc->buf + sc->used, rec, size);
			sc->e[i].len = (uint16_t)size;
			sc->used += size;
		}
	} else if (k & K_CONTEXT_POP) {
		if (sc->over_contexts) {
			sc->over_contexts--; /* the innermost contexts are the ones not kept */
			return;
		}
		for (uint32_t i = sc->n; i-- > 0;)
			if (sc->e[i].kind == K_CONTEXT_PUSH) {
				scope_remove(sc, i);
				return;
			}
	} else if ((k & K_SPAN_END) && size >= TTLOG__FMT_RECORD_HEADER_SIZE + 8) {
		uint64_t id = ttlog__get_u64(rec + TTLOG__FMT_RECORD_HEADER_SIZE);
		for (uint32_t i = sc->n; i-- > 0;) {
			if (sc->e[i].kind != K_SPAN_BEGIN || sc->e[i].span_id != id)
				continue;
			for (uint32_t j = sc->n; j-- > i;) /* with the spans inside it */
				if (sc->e[j].kind == K_SPAN_BEGIN)
					scope_remove(sc, j);
			sc->over_spans = 0;
			return;
		}
		if (sc->over_spans)
			sc->over_spans--;
	}
}

/* Whether promotion is on. Runs in signal context. */
static int promoting(const struct stream *s)
{
	return s->st.promote_level < TTLOG_LEVEL_OFF && s->bucket_ticks;
}

/* Moves the pending records of buckets below `id` (all: UINT64_MAX) to the
 * filtered count. Runs in signal context. */
static void finalize(struct stream *s, struct ring_state *rs, uint64_t id)
{
	(void)s;
	uint64_t n = 0;
	if (!rs->pend_set || id <= rs->pend_lo)
		return;
	if (id - rs->pend_lo >= PEND_BUCKETS) { /* every bucket held */
		for (unsigned i = 0; i < PEND_BUCKETS; i++) {
			n += rs->pend[i];
			rs->pend[i] = 0;
		}
		rs->pend_lo = id;
	} else {
		for (; rs->pend_lo < id; rs->pend_lo++) {
			n += rs->pend[rs->pend_lo % PEND_BUCKETS];
			rs->pend[rs->pend_lo % PEND_BUCKETS] = 0;
		}
	}
	if (id == UINT64_MAX)
		rs->pend_set = 0;
	rs->filtered += n;
	add(&n_filtered, n);
}

/* A record below the level, read by the main pass with ticks t: pending
 * while a promotion may still take it, else filtered. Runs in signal
 * context. */
static void pend_add(struct stream *s, struct ring_state *rs, uint64_t t)
{
	if (!promoting(s)) {
		rs->filtered++;
		add(&n_filtered, 1);
		return;
	}
	uint64_t id = t / s->bucket_ticks;
	if (!rs->pend_set) {
		rs->pend_set = 1;
		rs->pend_lo = id;
	}
	if (id < rs->pend_lo) {
		rs->filtered++; /* older than what is held: out of any window */
		add(&n_filtered, 1);
		return;
	}
	if (id >= rs->pend_lo + PEND_BUCKETS)
		finalize(s, rs, id - PEND_BUCKETS + 1);
	rs->pend[id % PEND_BUCKETS]++;
}

/* A pending record with ticks t is promoted: it leaves its bucket (or, if
 * it was filtered already in this segment, the filtered count). Runs in
 * signal context. */
static void pend_take(struct stream *s, struct ring_state *rs, uint64_t t)
{
	uint64_t id = t / s->bucket_ticks;
	if (rs->pend_set && id >= rs->pend_lo && id < rs->pend_lo + PEND_BUCKETS &&
	    rs->pend[id % PEND_BUCKETS]) {
		rs->pend[id % PEND_BUCKETS]--;
	} else if (rs->filtered) {
		rs->filtered--;
		atomic_fetch_sub_explicit(&n_filtered, 1, memory_order_relaxed);
	}
}

static void name_thread(struct stream *s, uint32_t idx, struct ring_state *rs);

/* Writes the promoted records gathered for ring idx as one EVTS block
 * after its SITE entries and a PRMT chunk. Runs in signal context. */
static void flush_promoted(struct stream *s)
{
	if (!s->prm_len)
		return;
	struct ring_state *rs = &s->rings[s->prm_ring];
	name_thread(s, s->prm_ring, rs);
	ttlog__emit_flush_block(&s->em); /* the thread's other records come first */
	unsigned char *p = s->em.prefix;
	ttlog__put_u32(p + TTLOG__FMT_PRMT_THREAD_OFF, s->prm_ring);
	ttlog__put_u32(p + TTLOG__FMT_PRMT_SCOPE_OFF, rs->trig_scope);
	ttlog__put_u64(p + TTLOG__FMT_PRMT_TRIGGER_TICKS_OFF, rs->trig_ticks);
	ttlog__put_u32(p + TTLOG__FMT_PRMT_TRIGGER_THREAD_OFF, rs->trig_thread);
	ttlog__put_u32(p + TTLOG__FMT_PRMT_RESERVED_OFF, 0);
	s->em.prefix_len = TTLOG__FMT_PRMT_SIZE;
	s->em.prefix_flags = TTLOG__FMT_CHUNK_REQUIRED;
	s->em.prefix_type = TTLOG__FMT_CHUNK_PRMT;
	ttlog__emit_thread(&s->em, s->prm_ring, rs->tid);
	for (size_t off = 0; off < s->prm_len;) {
		uint32_t size = ttlog__get_u32(s->prm + off);
		uint32_t id = ttlog__get_u32(s->prm + off + 4);
		if (ttlog__emit_record(&s->em, s->prm + off, size, id, ttlog__get_u64(s->prm + off + 8)) == 0)
			rs->cycle_promoted++;
		else
			rs->lost++;
		off += size;
	}
	ttlog__emit_flush_block(&s->em);
	s->em.prefix_type = 0;
	s->prm_len = 0;
}

/* Gathers a record of ring idx to promote. Runs in signal context. */
static void promote(struct stream *s, uint32_t idx, struct ring_state *rs, const unsigned char *rec,
		    uint32_t size, uint64_t t)
{
	if (s->prm_len && (s->prm_ring != idx || s->prm_len + size > sizeof s->prm))
		flush_promoted(s);
	s->prm_ring = idx;
	memcpy(s->prm + s->prm_len, rec, size);
	s->prm_len += size;
	rs->prom_ticks = t;
}

/* The records below the level of ring r that the main pass has read
 * already, from the window of a promotion triggered at `ticks` by thread
 * trig: read again from the ring (those still there), promoted in order.
 * Then the ring promotes as it reads up to ticks + after. Runs in signal
 * context. */
static void promote_window(struct stream *s, struct ttlog__ring *r, uint64_t ticks, uint32_t trig,
			   uint32_t scope, uint64_t hi, uint64_t lo)
{
	struct ring_state *rs = &s->rings[r->index];
	int any = scope != TTLOG__FMT_PROMOTE_TRACE || r->index == trig;
	if (ticks + s->after_ticks > rs->until_ticks) {
		rs->until_ticks = ticks + s->after_ticks;
		rs->trig_ticks = ticks;
		rs->trig_thread = trig;
		rs->trig_scope = scope;
		rs->trig_any = any;
		rs->trig_hi = hi;
		rs->trig_lo = lo;
	}
	struct ttlog__ring_cursor cur;
	if (!ttlog__ring_read_begin(r, &cur) || cur.gen != rs->c.gen)
		return;
	if (rs->c.pos < cur.end)
		cur.end = rs->c.pos; /* what the main pass read; the rest it will promote */
	uint64_t wlo = ticks > s->before_ticks ? ticks - s->before_ticks : 0;
	uint64_t whi = ticks + s->after_ticks;
	if (wlo < s->start_ticks)
		wlo = s->start_ticks; /* an earlier stream's records are its own */
	/* The tail is a segment start, where the ring re-states the open
	 * scopes: the spans rebuild from there. */
	struct span_stack st = {0};
	size_t n;
	while (cur.pos < cur.end && (n = ttlog__ring_read(&cur, s->stage, sizeof s->stage)) > 0) {
		for (size_t off = 0; off < n;) {
			uint32_t size = ttlog__get_u32(s->stage + off);
			uint32_t id = ttlog__get_u32(s->stage + off + 4);
			uint64_t t = ttlog__get_u64(s->stage + off + 8);
			int k = id ? classify(s, id) : 0;
			if (k & (K_SPAN_BEGIN | K_SPAN_END | K_RESTATE))
				follow_spans(&st, k, s->stage + off, size);
			if (id != 0 && !(k & K_STREAM) && t >= wlo && t <= whi && t > rs->prom_ticks &&
			    (any || in_trace(&st, hi, lo))) {
				pend_take(s, rs, t);
				promote(s, r->index, rs, s->stage + off, size, t);
			}
			off += size;
		}
	}
	flush_promoted(s);
}

/* A trigger read by the main pass: queued for the end of the cycle, at
 * most promote_max a second. Runs in signal context. */
static void trigger(struct stream *s, uint32_t idx, uint64_t ticks, const struct span_stack *st)
{
	uint64_t now = mono_ns();
	if (now - s->rate_start_ns >= 1000000000ull) {
		s->rate_start_ns = now;
		s->rate_count = 0;
	}
	if ((s->st.promote_max && s->rate_count >= s->st.promote_max) || s->ntrig == MAX_TRIGGERS) {
		atomic_fetch_add_explicit(&ttlog__g.promotions_suppressed, 1, memory_order_relaxed);
		return;
	}
	s->rate_count++;
	s->trig[s->ntrig].ring = idx;
	s->trig[s->ntrig].ticks = ticks;
	s->trig[s->ntrig].hi = st->n ? st->s[st->n - 1].hi : 0;
	s->trig[s->ntrig].lo = st->n ? st->s[st->n - 1].lo : 0;
	s->ntrig++;
}

/* The promotions of this cycle's triggers. Runs in signal context. */
static void run_triggers(struct stream *s)
{
	for (uint32_t k = 0; k < s->ntrig; k++) {
		uint32_t scope = (uint32_t)s->st.promote_scope;
		if (scope == TTLOG__FMT_PROMOTE_TRACE && !s->trig[k].hi && !s->trig[k].lo)
			scope = TTLOG__FMT_PROMOTE_THREAD; /* no span open: the thread alone */
		for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
			if (r->index >= s->nrings)
				continue;
			int own = r->index == s->trig[k].ring;
			if (!own && (scope == TTLOG__FMT_PROMOTE_THREAD || s->rings[r->index].ring != r))
				continue;
			promote_window(s, r, s->trig[k].ticks, s->trig[k].ring,
				       own ? TTLOG__FMT_PROMOTE_THREAD : scope, s->trig[k].hi, s->trig[k].lo);
		}
	}
	s->ntrig = 0;
}

/* ---- The emitter's callbacks -------------------------------------------- */

/* Runs in signal context. */
static const struct ttlog__site_desc *self_site(void *ctx, uint32_t id)
{
	(void)ctx;
	return ttlog__site_desc_lookup(id);
}

/* Records each chunk for INDX. Normal context only (close_now unhooks
 * it): it may grow the table. */
static void note_chunk(void *ctx, uint64_t off, uint32_t type, const unsigned char *payload, size_t len)
{
	struct stream *s = ctx;
	if (s->index_broken || type == TTLOG__FMT_CHUNK_HEAD ||
	    type == TTLOG__FMT_CHUNK_INDX || type == TTLOG__FMT_CHUNK_END)
		return;
	if (s->nindex == s->index_cap) {
		size_t cap = s->index_cap ? s->index_cap * 2 : 1024;
		struct index_entry *n = cap <= MAX_INDEX ? realloc(s->index, cap * sizeof *n) : NULL;
		if (!n) {
			s->index_broken = 1; /* the segment gets no INDX */
			return;
		}
		s->index = n;
		s->index_cap = cap;
	}
	struct index_entry *e = &s->index[s->nindex++];
	e->off = off;
	e->type = type;
	e->thread = 0;
	e->first = e->last = 0;
	if ((type == TTLOG__FMT_CHUNK_EVTS || type == TTLOG__FMT_CHUNK_PRMT ||
	     type == TTLOG__FMT_CHUNK_THRD || type == TTLOG__FMT_CHUNK_TNAM) && len >= 4)
		e->thread = ttlog__get_u32(payload); /* the thread index comes first in all four */
	if (type == TTLOG__FMT_CHUNK_EVTS && len >= TTLOG__FMT_EVTS_FIXED_SIZE) {
		e->first = ttlog__get_u64(payload + TTLOG__FMT_EVTS_FIRST_OFF);
		e->last = ttlog__get_u64(payload + TTLOG__FMT_EVTS_LAST_OFF);
	}
}

/* ---- Segments ----------------------------------------------------------- */

/* <dir>/<service>-<pid>-<YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<seq>.ttseg */
static void segment_name(struct stream *s, int64_t now_ns)
{
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, s->path, sizeof s->path);
	ttlog__sb_str(&sb, s->st.dir);
	ttlog__sb_str(&sb, "/");
	ttlog__sb_str(&sb, s->service);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_u64(&sb, (uint64_t)ttlog__g.pid, 0);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_utc_stamp(&sb, now_ns);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_u64(&sb, s->seq, 6);
	ttlog__sb_str(&sb, ".ttseg");
}

/* HEAD of a segment. */
static void write_head(struct stream *s, const struct ttlog__calibration *cal, int64_t created)
{
	unsigned char *p = s->small;
	memset(p, 0, TTLOG__FMT_HEAD_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_PID_OFF, (uint32_t)ttlog__g.pid);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF, TTLOG__FMT_HEAD_FLAG_SEGMENT);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_CREATED_OFF, (uint64_t)created);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_TICK0_OFF, cal->tick0);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_NS0_OFF, (uint64_t)cal->ns0);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_TICK1_OFF, cal->tick1);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_NS1_OFF, (uint64_t)cal->ns1);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_CLOCK_OFF, cal->kind);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_TTLOG_VER_OFF, TTLOG_VERSION_NUMBER);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_WINDOW_OFF, 0);
	size_t len = TTLOG__FMT_HEAD_FIXED_SIZE;
	ttlog__emit_put_string(p, &len, ttlog__g.executable, PATH_MAX);
	ttlog__emit_put_string(p, &len, ttlog__g.hostname, 255);
	ttlog__emit_put_string(p, &len, "stream", TTLOG__REASON_MAX);
	ttlog__emit_put_string(p, &len, ttlog__g.service, TTLOG__SERVICE_MAX);
	ttlog__put_u64(p + len, s->seq);
	ttlog__put_u64(p + len + TTLOG__FMT_HEAD_SEGMENT_SIZE, (uint64_t)s->stream_start_ns);
	len += TTLOG__FMT_HEAD_SEGMENT_SIZE + TTLOG__FMT_HEAD_STREAM_START_SIZE;
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_HEAD, 0, p, len);
}

static void report_once(struct stream *s, const char *what, int err);

/* ns to ticks with the calibration. */
static uint64_t to_ticks(const struct ttlog__calibration *cal, uint64_t ns)
{
	int64_t dns = cal->ns1 - cal->ns0;
	unsigned __int128 t = (unsigned __int128)ns * (cal->tick1 - cal->tick0) / (uint64_t)(dns > 0 ? dns : 1);
	return t > UINT64_MAX / 4 ? UINT64_MAX / 4 : (uint64_t)t;
}

/* The promotion window in ticks, and the pending buckets that cover it
 * twice over, with a second for the drainer's lag. */
static void promotion_ticks(struct stream *s, const struct ttlog__calibration *cal)
{
	s->before_ticks = to_ticks(cal, s->st.promote_before_ns);
	s->after_ticks = to_ticks(cal, s->st.promote_after_ns);
	s->horizon_ticks = s->before_ticks + s->after_ticks + to_ticks(cal, 1000000000ull);
	uint64_t width = s->horizon_ticks / (PEND_BUCKETS / 2);
	s->bucket_ticks = width ? width : 1;
}

/*
 * At the start of a segment, each thread's open scopes as the drainer has
 * read them: a RESTATE record with the number of copies, then the copies,
 * outermost first, with their own ticks (FORMAT.md 8.1), in a block of the
 * thread's. Its records that the drainer reads next follow in the
 * segment, so a reader of this segment alone knows every scope open at
 * them. The RESTATE record takes the ticks of the thread's last record
 * read, so that the thread's records stay in order after the copies.
 * Normal context (a segment opens only there).
 */
static void restate_scopes(struct stream *s)
{
	uint64_t word = ttlog__scopes_restate_word();
	if (!word)
		return;
	for (uint32_t idx = 0; idx < s->nrings; idx++) {
		struct ring_state *rs = &s->rings[idx];
		struct scope_copies *sc = &rs->scopes;
		uint32_t n = 0;
		for (uint32_t i = 0; i < sc->n; i++)
			n += sc->e[i].len && self_site(s, ttlog__get_u32(sc->buf + sc->e[i].off + 4)) != NULL;
		if (!rs->ring || !n)
			continue;
		unsigned char rec[RESTATE_SIZE];
		memset(rec, 0, sizeof rec);
		ttlog__put_u32(rec, RESTATE_SIZE);
		ttlog__put_u32(rec + 4, (uint32_t)(word >> 32));
		ttlog__put_u64(rec + 8, rs->last_ticks);
		ttlog__put_u32(rec + TTLOG__FMT_RECORD_HEADER_SIZE, n);
		name_thread(s, idx, rs);
		ttlog__emit_thread(&s->em, idx, rs->tid);
		if (ttlog__emit_record(&s->em, rec, RESTATE_SIZE, (uint32_t)(word >> 32), rs->last_ticks) != 0)
			continue;
		rs->events++;
		for (uint32_t i = 0; i < sc->n; i++) {
			const unsigned char *c = sc->buf + sc->e[i].off;
			uint32_t id = ttlog__get_u32(c + 4);
			if (sc->e[i].len && self_site(s, id) &&
			    ttlog__emit_record(&s->em, c, sc->e[i].len, id, ttlog__get_u64(c + 8)) == 0)
				rs->events++;
		}
	}
	ttlog__emit_flush_block(&s->em);
}

/* Opens the next segment and writes its header and HEAD. Normal context.
 * 0, or -1 with errno. */
static int open_segment(struct stream *s)
{
	int64_t now = ttlog__clock_realtime_ns();
	if (!s->stream_start_ns)
		s->stream_start_ns = now;
	int fd = -1;
	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		s->seq++;
		segment_name(s, now);
		fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -1;
	}
	if (fd < 0)
		return -1;
	ttlog__emit_reset(&s->em, fd, s->out, sizeof s->out);
	s->em.whole_chunks = 1;
	s->em.site = self_site;
	s->em.site_ctx = s;
	s->em.chunk_done = note_chunk;
	s->em.chunk_ctx = s;
	s->em.codec = s->st.compression.codec;
	s->em.lz4_state = s->tail;
	s->em.pack = s->em.codec == TTLOG__FMT_CODEC_PACKED || s->em.codec == TTLOG__FMT_CODEC_ZSTD
			     ? &s->pack
			     : NULL;
	s->em.zstd = s->zstd;
	s->em.redact = ttlog__redact_rules();
	s->em.zbuf = s->zbuf;
	s->sealed = ttlog__seal_on();
	if (s->sealed)
		ttlog__seal_begin(&s->seal, &s->em.file);
	s->nindex = 0;
	s->index_broken = 0;
	struct ttlog__calibration cal;
	ttlog__clock_calibrate(&cal, 1);
	promotion_ticks(s, &cal);
	ttlog__emit_file_header(&s->em);
	write_head(s, &cal, now);
	restate_scopes(s);
	ttlog__emit_flush(&s->em);
	if (s->em.file.failed) {
		int err = errno;
		if (s->sealed)
			ttlog__seal_abandon(&s->seal, &s->em.file);
		for (uint32_t i = 0; i < s->nrings; i++)
			s->rings[i].events = 0; /* the re-statements are not written */
		close(fd);
		unlink(s->path); /* nothing readable in it */
		errno = err;
		return -1;
	}
	s->fd = fd;
	s->opened_ns = s->last_sync_ns = mono_ns();
	return 0;
}

/* Runs in signal context. */
static void emit_metrics_chunk(void *ctx, const unsigned char *payload, size_t len)
{
	struct stream *s = ctx;
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_MTRC, 0, payload, len);
}

/* The name of ring rs's thread into name (TTLOG__THREAD_NAME_MAX + 1
 * bytes): a live thread's current one, else the one it left. Returns the
 * ring's state. Runs in signal context. */
static uint32_t thread_name(struct ring_state *rs, char *name)
{
	struct ttlog__ring *r = rs->ring;
	/* LMM(state:B) pairs with LMM(exit:A) (src/thread/thread.c): the
	 * name an exited thread left is whole. */
	uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
	name[0] = '\0';
	if (state == TTLOG__RING_LIVE)
		ttlog__live_thread_name(0, rs->tid, name, TTLOG__THREAD_NAME_MAX + 1);
	if (!name[0]) {
		memcpy(name, r->name, TTLOG__THREAD_NAME_MAX);
		name[TTLOG__THREAD_NAME_MAX] = '\0';
	}
	return state;
}

/*
 * TNAM of ring idx, once per segment, before the thread's first block in
 * it (FORMAT.md 17.1, revision 6): the THRD that names the thread comes
 * when the segment is closed, which a killed process never does, so a
 * segment names its threads as they appear. The name is the one the
 * thread has then; THRD has the last word. Runs in signal context.
 */
static void name_thread(struct stream *s, uint32_t idx, struct ring_state *rs)
{
	if (rs->named_seq == s->seq || !rs->ring)
		return;
	rs->named_seq = s->seq;
	char name[TTLOG__THREAD_NAME_MAX + 1];
	thread_name(rs, name);
	unsigned char *p = s->small;
	ttlog__put_u32(p + TTLOG__FMT_TNAM_INDEX_OFF, idx);
	ttlog__put_u32(p + TTLOG__FMT_TNAM_TID_OFF, rs->tid);
	size_t len = TTLOG__FMT_TNAM_FIXED_SIZE;
	ttlog__emit_put_string(p, &len, name, TTLOG__THREAD_NAME_MAX);
	ttlog__emit_flush_block(&s->em); /* another thread's block comes first */
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_TNAM, 0, p, len);
}

/* THRD of one ring, with the revision 5 fields; resets its counters. Runs
 * in signal context. */
static void write_thread(struct stream *s, uint32_t idx, struct ring_state *rs, uint64_t *overwritten)
{
	struct ttlog__ring *r = rs->ring;
	unsigned char *p = s->small;
	char name[TTLOG__THREAD_NAME_MAX + 1];
	uint32_t state = thread_name(rs, name);
	uint32_t gen = atomic_load_explicit(&r->gen, memory_order_relaxed);
	uint64_t ow = ttlog__ring_overwritten(r);
	uint64_t ow_here = gen == rs->base_gen && ow >= rs->overwritten_base ? ow - rs->overwritten_base : ow;
	memset(p, 0, TTLOG__FMT_THRD_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_THRD_INDEX_OFF, idx);
	ttlog__put_u32(p + TTLOG__FMT_THRD_TID_OFF, rs->tid);
	ttlog__put_u32(p + TTLOG__FMT_THRD_FLAGS_OFF,
		       state == TTLOG__RING_EXITED ? TTLOG__FMT_THREAD_EXITED : 0);
	ttlog__put_u64(p + TTLOG__FMT_THRD_EVENTS_OFF, rs->events);
	ttlog__put_u64(p + TTLOG__FMT_THRD_OVERWRITTEN_OFF, ow_here);
	size_t len = TTLOG__FMT_THRD_FIXED_SIZE;
	ttlog__emit_put_string(p, &len, name, TTLOG__THREAD_NAME_MAX);
	ttlog__put_u64(p + len, rs->lost);
	ttlog__put_u64(p + len + 8, rs->filtered);
	len += 16;
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_THRD, 0, p, len);
	*overwritten += ow_here;
	rs->overwritten_base = ow;
	rs->base_gen = gen;
}

/* INDX, built in memory from the table. Normal context. Returns its
 * offset, 0 if the segment gets none. */
static uint64_t write_index(struct stream *s)
{
	if (s->index_broken || s->nindex > MAX_INDEX)
		return 0;
	size_t len = TTLOG__FMT_INDX_FIXED_SIZE + s->nindex * TTLOG__FMT_INDX_ENTRY_SIZE;
	unsigned char *p = malloc(len);
	if (!p)
		return 0;
	ttlog__put_u32(p + TTLOG__FMT_INDX_COUNT_OFF, (uint32_t)s->nindex);
	ttlog__put_u32(p + TTLOG__FMT_INDX_RESERVED_OFF, 0);
	for (size_t i = 0; i < s->nindex; i++) {
		unsigned char *e = p + TTLOG__FMT_INDX_FIXED_SIZE + i * TTLOG__FMT_INDX_ENTRY_SIZE;
		ttlog__put_u64(e + TTLOG__FMT_INDX_E_OFFSET_OFF, s->index[i].off);
		ttlog__put_u32(e + TTLOG__FMT_INDX_E_TYPE_OFF, s->index[i].type);
		ttlog__put_u32(e + TTLOG__FMT_INDX_E_THREAD_OFF, s->index[i].thread);
		ttlog__put_u64(e + TTLOG__FMT_INDX_E_FIRST_OFF, s->index[i].first);
		ttlog__put_u64(e + TTLOG__FMT_INDX_E_LAST_OFF, s->index[i].last);
	}
	uint64_t off = s->em.offset;
	s->index_broken = 1; /* no entry for INDX itself, nor END */
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_INDX, 0, p, len);
	free(p);
	return off;
}

/*
 * Closes the open segment: THRD per thread with something to say, MTRC,
 * INDX (not in a signal handler), END; then fsync (policy) and close.
 * last: the stream ends here, so records still pending a promotion are
 * filtered first. Runs in signal context when s->in_signal (no INDX then).
 */
static void close_segment(struct stream *s, int last)
{
	for (uint32_t i = 0; last && i < s->nrings; i++)
		finalize(s, &s->rings[i], UINT64_MAX); /* no promotion will take them now */
	if (s->fd < 0)
		return;
	ttlog__emit_flush_block(&s->em);
	uint64_t overwritten = 0, lost = 0, filtered = 0, promoted = 0;
	uint32_t threads = 0;
	for (uint32_t i = 0; i < s->nrings; i++) {
		struct ring_state *rs = &s->rings[i];
		if (!rs->ring || (!rs->events && !rs->lost && !rs->filtered))
			continue;
		write_thread(s, i, rs, &overwritten);
		lost += rs->lost;
		filtered += rs->filtered;
		promoted += rs->promoted;
		rs->events = rs->lost = rs->filtered = rs->promoted = 0;
		threads++;
	}
	struct ttlog__mtrc_scratch ms = {s->em.packed, sizeof s->em.packed, s->em.block,
					 emit_metrics_chunk, s};
	_Static_assert(sizeof s->em.block >= 8 * (size_t)TTLOG__HIST_BUCKETS, "bucket sums fit");
	ttlog__metrics_snapshot(&ms, s->em.strings_truncated,
				s->em.redact && (s->em.redact->n || s->em.redact->npat) ? s->em.redacted : UINT64_MAX);
	uint64_t index_off = s->in_signal ? 0 : write_index(s);
	unsigned char *p = s->small;
	memset(p, 0, TTLOG__FMT_END_FULL_SIZE);
	ttlog__put_u64(p + TTLOG__FMT_END_EVENTS_OFF, s->em.events);
	ttlog__put_u64(p + TTLOG__FMT_END_OVERWRITTEN_OFF, overwritten);
	ttlog__put_u64(p + TTLOG__FMT_END_DROPPED_OFF, dropped_total());
	ttlog__put_u32(p + TTLOG__FMT_END_THREADS_OFF, threads);
	ttlog__put_u32(p + TTLOG__FMT_END_SITES_OFF, s->em.sites);
	ttlog__put_u32(p + TTLOG__FMT_END_BLOCKS_OFF, s->em.blocks);
	ttlog__put_u64(p + TTLOG__FMT_END_INDEX_OFF, index_off);
	ttlog__put_u64(p + TTLOG__FMT_END_STREAM_LOST_OFF, lost);
	ttlog__put_u64(p + TTLOG__FMT_END_FILTERED_OFF, filtered);
	ttlog__put_u64(p + TTLOG__FMT_END_PROMOTED_OFF, promoted);
	ttlog__put_u64(p + TTLOG__FMT_END_LOG_EVENTS_OFF, s->em.log_events);
	ttlog__emit_chunk(&s->em, TTLOG__FMT_CHUNK_END, 0, p, TTLOG__FMT_END_FULL_SIZE);
	ttlog__emit_flush(&s->em);
	if (s->sealed)
		ttlog__seal_end(&s->seal, &s->em.file);
	if (!s->em.file.failed && s->st.sync != TTLOG__SYNC_NONE)
		fsync(s->fd);
	close(s->fd);
	s->fd = -1;
	add(&n_segments, 1);
	add(&n_bytes, s->em.flushed);
	if (s->em.file.failed)
		add(&n_errors, 1); /* the segment ends without its END: readers see it open */
}

/* ---- Retention ---------------------------------------------------------- */

struct seg_file {
	char *name;
	uint64_t size;
	int64_t mtime;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg_file *x = a, *y = b;
	/* Names of one service differ first in the pid, then the time; the
	 * time and sequence are compared after the pid. */
	const char *tx = strchr(x->name + strlen(S->service) + 1, '-');
	const char *ty = strchr(y->name + strlen(S->service) + 1, '-');
	int c = strcmp(tx ? tx : x->name, ty ? ty : y->name);
	return c ? c : strcmp(x->name, y->name);
}

/* Whether name is a segment of this service:
 * <service>-<digits>-<8 digits>T<6 digits>.<9 digits>Z-<6+ digits>.ttseg */
static int is_segment_name(const char *name, const char *service)
{
	size_t n = strlen(service);
	if (strncmp(name, service, n) != 0 || name[n] != '-')
		return 0;
	const char *p = name + n + 1;
	const char *q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	if (q == p || *q != '-')
		return 0;
	p = q + 1;
	static const char shape[] = "DDDDDDDDTDDDDDD.DDDDDDDDDZ-";
	for (size_t i = 0; i < sizeof shape - 1; i++, p++) {
		if (shape[i] == 'D' ? !(*p >= '0' && *p <= '9') : *p != shape[i])
			return 0;
	}
	q = p;
	while (*q >= '0' && *q <= '9')
		q++;
	return q - p >= 6 && strcmp(q, ".ttseg") == 0;
}

/* Removes the oldest segments of this service until the limits hold,
 * never the open one. Normal context. */
static void prune(struct stream *s)
{
	if (!s->st.max_bytes && !s->st.max_age_ns && !s->st.max_files)
		return;
	DIR *d = opendir(s->st.dir);
	if (!d)
		return;
	struct seg_file *files = NULL;
	size_t n = 0, cap = 0;
	const char *open_name = s->fd >= 0 ? strrchr(s->path, '/') + 1 : "";
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_segment_name(e->d_name, s->service) || strcmp(e->d_name, open_name) == 0)
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (sb.st_uid != geteuid())
			continue; /* another user's, named like ours: not ours to count or remove */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct seg_file *nf = realloc(files, nc * sizeof *nf);
			if (!nf)
				break;
			files = nf;
			cap = nc;
		}
		files[n].name = strdup(e->d_name);
		if (!files[n].name)
			break;
		files[n].size = (uint64_t)sb.st_size;
		files[n].mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
		n++;
	}
	if (n > 1)
		qsort(files, n, sizeof *files, seg_cmp);
	uint64_t total = s->em.offset; /* the open segment counts towards the bytes */
	for (size_t i = 0; i < n; i++)
		total += files[i].size;
	int64_t now = ttlog__clock_realtime_ns();
	size_t kept = n;
	for (size_t i = 0; i < n; i++) {
		int too_old = s->st.max_age_ns && now - files[i].mtime > (int64_t)s->st.max_age_ns;
		int too_many = s->st.max_files && kept + 1 > s->st.max_files; /* + the open one */
		int too_big = s->st.max_bytes && total > s->st.max_bytes;
		if ((too_old || too_many || too_big) && unlinkat(dirfd(d), files[i].name, 0) == 0) {
			add(&n_deleted, 1);
			total -= files[i].size;
			kept--;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	closedir(d);
}

/* ---- Draining ----------------------------------------------------------- */

/* Reads every ring from its consumer's place into the segment (or, with
 * none open, counts it all as lost). Returns the ring bytes read. Runs in
 * signal context (close_now). */
static uint64_t drain(struct stream *s)
{
	int writing = s->fd >= 0;
	uint64_t bytes = 0;
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		uint32_t idx = r->index;
		if (idx >= s->nrings)
			continue; /* cannot happen: start made room for every ring the cap allows */
		struct ring_state *rs = &s->rings[idx];
		struct ttlog__ring_cursor cur;
		uint64_t lost = atomic_exchange_explicit(&rs->retired_lost, 0, memory_order_relaxed);
		if (lost && !rs->ring)
			rs->ring = r;
		rs->lost += lost;
		int more = ttlog__ring_read_from(r, &rs->c, &cur, &lost); /* sets lost */
		if (!cur.exact)
			continue; /* nothing to read: no owner, or being reset */
		rs->ring = r;
		rs->tid = atomic_load_explicit(&r->tid, memory_order_relaxed);
		rs->lost += lost;
		if (lost) {
			/* The tail's re-statement rebuilds them (a tail without
			 * one had no scope open). */
			rs->spans.n = rs->spans.over = 0;
			follow_scopes(&rs->scopes, K_RESTATE, NULL, 0);
		}
		uint32_t gen_before = rs->c.gen;
		int new_owner = !rs->c.valid || gen_before != cur.gen;
		if (new_owner) {
			/* The old owner's pending records are filtered; the new
			 * one's ticks start afresh. */
			finalize(s, rs, UINT64_MAX);
			rs->prom_ticks = rs->until_ticks = rs->trig_ticks = 0;
			rs->spans.n = rs->spans.over = 0;
			follow_scopes(&rs->scopes, K_RESTATE, NULL, 0);
			rs->base_gen = cur.gen;
			rs->overwritten_base = 0;
			atomic_store_explicit(&rs->done_pos, 0, memory_order_relaxed);
		}
		if (more)
			ttlog__emit_thread(&s->em, idx, rs->tid);
		size_t n;
		while (more && (n = ttlog__ring_read(&cur, s->stage, sizeof s->stage)) > 0) {
			bytes += n;
			for (size_t off = 0; off < n;) {
				uint32_t size = ttlog__get_u32(s->stage + off);
				uint32_t id = ttlog__get_u32(s->stage + off + 4);
				if (id != 0) {
					int k = classify(s, id);
					uint64_t t = ttlog__get_u64(s->stage + off + 8);
					if (k & (K_SPAN_BEGIN | K_SPAN_END | K_RESTATE))
						follow_spans(&rs->spans, k, s->stage + off, size);
					if (k & K_SCOPE)
						follow_scopes(&rs->scopes, k, s->stage + off, size);
					rs->last_ticks = t;
					if (!(k & K_STREAM)) {
						/* Below the level: promoted while a
						 * promotion's window is open, else
						 * pending (or filtered). */
						if (writing && t <= rs->until_ticks && t > rs->prom_ticks &&
						    t + s->before_ticks >= rs->trig_ticks &&
						    (rs->trig_any ||
						     in_trace(&rs->spans, rs->trig_hi, rs->trig_lo)))
							promote(s, idx, rs, s->stage + off, size, t);
						else
							pend_add(s, rs, t);
						off += size;
						continue;
					}
					if ((k & K_TRIGGER) && writing)
						trigger(s, idx, t, &rs->spans);
					if (writing)
						name_thread(s, idx, rs);
					if (!writing)
						rs->lost++;
					else if (ttlog__emit_record(&s->em, s->stage + off, size, id, t) == 0)
						rs->cycle_events++;
					else
						rs->lost++; /* a site id no site has */
				}
				off += size;
			}
		}
		flush_promoted(s); /* after the thread's other records of this read */
		rs->lost += cur.torn;
		ttlog__ring_read_end(&cur, &rs->c);
		if (!cur.aborted) {
			atomic_store_explicit(&rs->done_pos, rs->c.pos, memory_order_relaxed);
			atomic_store_explicit(&rs->done_index, rs->c.index, memory_order_relaxed);
			/* LMM(done:A) pairs with LMM(done:B) in before_drop(). */
			atomic_store_explicit(&rs->done_gen, rs->c.gen, memory_order_release);
			/* LMM(wait:A): a thread waiting in before_drop() for
			 * this is woken; pairs with LMM(wait:B). */
			atomic_thread_fence(memory_order_seq_cst);
			if (atomic_load_explicit(&s->waiting, memory_order_relaxed)) {
				atomic_fetch_add_explicit(&s->progress, 1, memory_order_relaxed);
				syscall(SYS_futex, (int *)&s->progress, FUTEX_WAKE_PRIVATE, INT32_MAX,
					NULL, NULL, 0);
			}
		}
		/* Records too old for any promotion are filtered now. */
		if (rs->pend_set) {
			uint64_t now = ttlog__clock_now();
			if (now > s->horizon_ticks)
				finalize(s, rs, (now - s->horizon_ticks) / s->bucket_ticks);
		}
	}
	if (writing)
		run_triggers(s);
	s->ntrig = 0;
	return bytes;
}

/*
 * After a cycle's chunks were written whole: tells shared-memory mode, for
 * each ring that moved, that the stream holds its records before the
 * consumer's place (docs/SHM-FORMAT.md section 6.5), so that `ttlog
 * recover` of a killed process writes only the rest. "Written" is write()
 * having returned, not fsync: the segment is in the file (the page cache)
 * whatever kills the process; a machine that loses power loses the mapping
 * too. A cycle that failed publishes nothing: its records stay after the
 * published place. Runs in signal context (close_now).
 */
static void publish_positions(struct stream *s)
{
	for (uint32_t i = 0; i < s->nrings; i++) {
		struct ring_state *rs = &s->rings[i];
		if (!rs->ring || !rs->c.valid ||
		    (rs->shm_valid && rs->shm_gen == rs->c.gen && rs->shm_pos == rs->c.pos))
			continue;
		ttlog__publish_stream_done(rs->ring, rs->c.gen, rs->c.pos, rs->c.index);
		rs->shm_pos = rs->c.pos;
		rs->shm_gen = rs->c.gen;
		rs->shm_valid = 1;
	}
}

/* Ends a cycle: writes the blocks out. On success the cycle's records
 * count as streamed; on failure the file is cut back to where the cycle
 * began, its records count as lost, and the stream stops until a new
 * segment can be opened. Runs in signal context (close_now). */
static void finish_cycle(struct stream *s, uint64_t cycle_start)
{
	int failed = s->fd < 0;
	uint64_t promoted = 0;
	if (!failed) {
		ttlog__emit_flush_block(&s->em);
		ttlog__emit_flush(&s->em);
		failed = s->em.file.failed;
	}
	uint64_t events = 0;
	for (uint32_t i = 0; i < s->nrings; i++) {
		struct ring_state *rs = &s->rings[i];
		if (failed) {
			rs->lost += rs->cycle_events + rs->cycle_promoted;
		} else {
			rs->events += rs->cycle_events + rs->cycle_promoted;
			rs->promoted += rs->cycle_promoted;
			promoted += rs->cycle_promoted;
		}
		events += rs->cycle_events;
		rs->cycle_events = rs->cycle_promoted = 0;
	}
	if (!failed) {
		add(&n_streamed, events);
		add(&n_promoted, promoted);
		publish_positions(s);
		return;
	}
	if (s->fd >= 0) {
		int err = errno;
		/* The events of earlier cycles stay in this file, which gets no
		 * THRD: the next segment's THRD counts only its own. Losses and
		 * filtered records carry over to it. */
		for (uint32_t i = 0; i < s->nrings; i++)
			s->rings[i].events = 0;
		if (s->sealed)
			ttlog__seal_abandon(&s->seal, &s->em.file);
		/* An encrypted segment: back to the end of the last whole
		 * message before the cycle, which a reader sees as an open
		 * segment, as it sees a plain one without END. */
		if (ftruncate(s->fd, (off_t)(s->sealed ? s->cycle_sealed : cycle_start)) != 0) {
			/* The cut-back failed too: what is past it is unreadable
			 * rather than wrong (a reader stops at a partial chunk). */
		}
		close(s->fd);
		s->fd = -1;
		s->failed = 1;
		s->retry_ns = mono_ns() + RETRY_NS;
		add(&n_errors, 1);
		add(&n_segments, 1);
		add(&n_bytes, cycle_start);
		if (!s->in_signal)
			report_once(s, "cannot write", err);
	}
}

/* Losses go to the statistics as they happen (filtered records are
 * counted where they are decided); this moves the per-ring counts of the
 * cycle into them. Runs in signal context. */
static void count_cycle(struct stream *s, uint64_t lost_before)
{
	uint64_t lost = 0;
	for (uint32_t i = 0; i < s->nrings; i++)
		lost += s->rings[i].lost;
	add(&n_lost, lost > lost_before ? lost - lost_before : 0);
}

/* One full cycle: drain, write out, count. Runs in signal context when
 * s->in_signal. Returns the ring bytes read. */
static uint64_t cycle(struct stream *s)
{
	uint64_t lost0 = 0;
	for (uint32_t i = 0; i < s->nrings; i++)
		lost0 += s->rings[i].lost;
	uint64_t start = s->fd >= 0 ? s->em.flushed : 0;
	s->cycle_sealed = s->seal.written;
	uint64_t bytes = drain(s);
	finish_cycle(s, start);
	count_cycle(s, lost0);
	return bytes;
}

/* Says once why the stream stopped writing, on stderr. Normal context. */
static void report_once(struct stream *s, const char *what, int err)
{
	static int reported;
	if (reported)
		return;
	reported = 1;
	char line[TTLOG__DIR_MAX + 512];
	int n = snprintf(line, sizeof line,
			 "ttlog: stream stopped: %s %s: %s; what it cannot write is counted as "
			 "lost (ttlog_get_stats), and it tries a new segment every second\n",
			 what, s->fd >= 0 || s->path[0] ? s->path : s->st.dir, strerror(err));
	if (n > 0)
		ttlog__write_all(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- The thread --------------------------------------------------------- */

/* Rotation, fsync by interval, a new segment after a failure. Normal
 * context, owner held. */
static void housekeeping(struct stream *s)
{
	uint64_t now = mono_ns();
	if (s->fd < 0 && s->failed && now >= s->retry_ns) {
		if (open_segment(s) == 0) {
			s->failed = 0;
			prune(s);
		} else {
			s->retry_ns = now + RETRY_NS;
		}
		return;
	}
	if (s->fd < 0)
		return;
	if (s->em.offset >= s->st.segment_size || now - s->opened_ns >= s->st.segment_age_ns) {
		close_segment(s, 0);
		if (open_segment(s) != 0) {
			s->failed = 1;
			s->retry_ns = now + RETRY_NS;
			add(&n_errors, 1);
			report_once(s, "cannot create", errno);
		}
		prune(s);
		return;
	}
	if (s->st.sync == TTLOG__SYNC_INTERVAL && now - s->last_sync_ns >= s->st.sync_interval_ns) {
		fsync(s->fd);
		s->last_sync_ns = now;
	}
}

/* Takes the segment for a cycle: 1, or 0 if a signal handler closed the
 * stream for good. */
static int take(struct stream *s)
{
	int expected = OWNER_FREE;
	/* LMM(owner:B) pairs with LMM(owner:A). */
	return atomic_compare_exchange_strong_explicit(&s->owner, &expected, OWNER_DRAINER,
						       memory_order_acquire, memory_order_relaxed);
}

static void give_back(struct stream *s)
{
	/* LMM(owner:A) pairs with LMM(owner:B). */
	atomic_store_explicit(&s->owner, OWNER_FREE, memory_order_release);
}

/* The drainer's pause between cycles: ns, or until a thread that waits
 * for room in its ring (before_drop) wakes it. */
static void pause_ns(struct stream *s, uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	syscall(SYS_futex, (int *)&s->waiting, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
}

/* The watchdog's timer (ttlog__stream_set_timer), NULL if none. */
static _Atomic(void (*)(void)) timer_fn;

int ttlog__stream_set_timer(void (*fn)(void))
{
	if (fn && !ttlog__stream_running())
		return -1;
	atomic_store_explicit(&timer_fn, fn, memory_order_release);
	return 0;
}

static void *drainer_main(void *arg)
{
	struct stream *s = arg;
	uint64_t idle_ns = BUSY_NS;
	atomic_store_explicit(&s->thread_tid, (uint32_t)syscall(SYS_gettid), memory_order_relaxed);
	for (;;) {
		int stopping = atomic_load_explicit(&s->stop, memory_order_acquire);
		if (!take(s))
			break; /* closed by a signal handler */
		/* A stream stopped by a failed write tries once more at the end,
		 * so that its last records and its loss counts reach a segment. */
		if (stopping && s->fd < 0 && s->failed && open_segment(s) == 0)
			s->failed = 0;
		uint64_t bytes = cycle(s);
		if (stopping) {
			/* A last cycle read everything logged before the stop. */
			close_segment(s, 1);
			atomic_store_explicit(&s->owner, OWNER_CLOSED, memory_order_release);
			break;
		}
		housekeeping(s);
		give_back(s);
		void (*timer)(void) = atomic_load_explicit(&timer_fn, memory_order_acquire);
		if (timer)
			timer();
		/* A cycle that read a lot, or after which a thread waits for
		 * room in its ring (the block policy), goes again at once; one
		 * that read something waits 1 ms; quiet cycles wait twice as
		 * long each time, up to flush_ns, so that a steady trickle
		 * never meets a 50 ms pause right after an empty cycle. A
		 * thread that starts waiting during the pause ends it: a
		 * drainer that keeps up (cycles under 256 KiB) would otherwise
		 * sleep 1 ms while a blocked thread waits for it. */
		int waited = atomic_exchange_explicit(&s->waiting, 0, memory_order_relaxed);
		if (bytes >= BUSY_BYTES || waited) {
			sched_yield();
		} else {
			if (bytes)
				idle_ns = BUSY_NS;
			else
				idle_ns = idle_ns * 2 < s->st.flush_ns ? idle_ns * 2 : s->st.flush_ns;
			pause_ns(s, idle_ns);
		}
	}
	return NULL;
}

/* ---- Start, stop, signals ------------------------------------------------ */

/* Creates dir and its parents, mode 0700, and checks it. */
static int make_dir(const char *dir, char *err, size_t errsize)
{
	char path[TTLOG__DIR_MAX];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errsize, "stream directory %s: cannot create %s: %s", dir, path,
				 strerror(errno));
			return TTLOG_E_DIR;
		}
		*p = c;
		if (!c)
			break;
	}
	/* The rules of every directory the library writes to
	 * (common/dir_rules.h): segments are as private as snapshots. */
	char why[256];
	if (ttlog__dir_check(dir, TTLOG__DIR_NAMED, why, sizeof why) != 0) {
		if (!why[0])
			snprintf(why, sizeof why, "cannot be examined: %s", strerror(errno));
		snprintf(err, errsize,
			 "stream directory %s: refused: it %s (it must be owned by this user and "
			 "not writable by every user)",
			 dir, why);
		return TTLOG_E_DIR;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, errsize, "stream directory %s: not a writable directory", dir);
		return TTLOG_E_DIR;
	}
	return TTLOG_OK;
}

static struct sigaction previous_term, previous_int;
static int flush_installed;

/* SIGTERM, SIGINT: close the stream, then let the signal do what it would
 * have done, with the disposition that was there before ttlog. Runs in
 * signal context. */
static void flush_handler(int signo, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	int saved_errno = errno;
	ttlog__stream_close_now();
	sigaction(signo, signo == SIGTERM ? &previous_term : &previous_int, NULL);
	/* Blocked while this handler runs: delivered when it returns. */
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), signo);
	errno = saved_errno;
}

static void install_flush_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = flush_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, &previous_term) == 0 && sigaction(SIGINT, &sa, &previous_int) == 0)
		flush_installed = 1;
}

static void uninstall_flush_signals(void)
{
	if (!flush_installed)
		return;
	struct sigaction cur;
	if (sigaction(SIGTERM, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == flush_handler)
		sigaction(SIGTERM, &previous_term, NULL);
	if (sigaction(SIGINT, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
	    cur.sa_sigaction == flush_handler)
		sigaction(SIGINT, &previous_int, NULL);
	flush_installed = 0;
}

int ttlog__stream_start(const struct ttlog__stream_settings *st, char *err, size_t errsize)
{
	if (!st->dir[0] || ttlog__stream_running())
		return TTLOG_OK;
	int rc = make_dir(st->dir, err, errsize);
	if (rc != TTLOG_OK)
		return rc;
	/* Every ring the process can have: the ones it has, and as many more
	 * as the memory cap allows at the current ring size. */
	uint64_t nrings = (uint64_t)ttlog__rings_count() + ttlog__g.memory_cap / ttlog__g.ring_size + 64;
	size_t need_zstd = ttlog__zstd_reserve_size(&st->compression);
	if (!S || nrings > S->nrings || need_zstd > S->zstd_cap) {
		/* The first start, or a later ttlog_init whose settings allow
		 * more rings than the mapping has room for: a new mapping, into
		 * which the consumers of the rings so far move. Not running now,
		 * so nothing else looks at the old one. */
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t zstd_off = ((size_t)LZ4_sizeofState() + 63) & ~(size_t)63;
		size_t need = sizeof(struct stream) + zstd_off + need_zstd + 64;
		size_t rings_off = (need + 63) & ~(size_t)63;
		size_t size = (rings_off + nrings * sizeof(struct ring_state) + page - 1) & ~(page - 1);
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED) {
			snprintf(err, errsize, "stream: cannot reserve memory: %s", strerror(errno));
			return TTLOG_E_NOMEM;
		}
		struct stream *old = S;
		struct ring_state *rings = (struct ring_state *)((char *)m + rings_off);
		if (old) {
			memcpy(rings, old->rings, old->nrings * sizeof *rings);
			munmap(old, S_size);
		}
		S = m;
		S_size = size;
		S->rings = rings;
		S->nrings = (uint32_t)nrings;
		S->zstd_off = zstd_off;
		S->zstd_cap = need_zstd;
	} else {
		/* A later ttlog_init: the rings and their consumers go on. */
		memset(S->keep, 0, sizeof S->keep);
	}
	struct stream *s = S;
	s->st = *st;
	s->zstd = NULL;
	if (st->compression.codec == TTLOG__FMT_CODEC_ZSTD) {
		s->zstd = ttlog__zstd_prepare(s->tail + s->zstd_off, s->zstd_cap, &st->compression);
		if (!s->zstd) {
			snprintf(err, errsize, "TTLOG_STREAM_COMPRESSION: zstd refused level %d",
				 st->compression.level);
			return TTLOG_E_CONFIG;
		}
	}
	s->level_global = TTLOG_LEVEL_INFO;
	s->ntargets = 0;
	if (st->level && ttlog__levels_walk(st->level, level_item, s) != TTLOG_OK) {
		snprintf(err, errsize, "TTLOG_STREAM_LEVEL: expected 'LEVEL' or 'target=LEVEL,...', got '%s'",
			 st->level);
		return TTLOG_E_CONFIG;
	}
	size_t k = 0;
	for (const char *p = ttlog__g.service; *p && k < TTLOG__SERVICE_MAX; p++, k++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		s->service[k] = ok && !(k == 0 && c == '.') ? c : '_';
	}
	if (!k)
		memcpy(s->service, "ttlog", (k = 5));
	s->service[k] = '\0';
	/* A new stream: no promotion carries over (the clock may differ). */
	for (uint32_t i = 0; i < s->nrings; i++) {
		struct ring_state *rs = &s->rings[i];
		rs->prom_ticks = rs->until_ticks = rs->trig_ticks = 0;
		rs->spans.n = rs->spans.over = 0;
		rs->pend_set = 0;
		rs->named_seq = 0; /* segment numbers start again */
		memset(rs->pend, 0, sizeof rs->pend);
	}
	s->ntrig = 0;
	s->prm_len = 0;
	s->start_ticks = ttlog__clock_now();
	s->fd = -1;
	s->failed = 0;
	s->seq = 0;
	s->stream_start_ns = 0;
	s->in_signal = 0;
	if (ttlog__seal_on())
		ttlog__seal_seed(&s->seal); /* normal context: a fresh key chain */
	atomic_store_explicit(&s->owner, OWNER_FREE, memory_order_relaxed);
	atomic_store_explicit(&s->stop, 0, memory_order_relaxed);
	atomic_store_explicit(&s->thread_tid, 0, memory_order_relaxed);
	if (open_segment(s) != 0) {
		snprintf(err, errsize, "stream directory %s: cannot create a segment: %s", st->dir,
			 strerror(errno));
		return TTLOG_E_DIR;
	}
	prune(s);
	/* The drainer takes no signal: a SIGXFSZ of a file-size limit
	 * becomes EFBIG, and the program's signals go to its own threads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int prc = pthread_create(&s->thread, &attr, drainer_main, s);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (prc != 0) {
		close_segment(s, 1);
		snprintf(err, errsize, "stream: cannot start its thread: %s", strerror(prc));
		return TTLOG_E_NOMEM;
	}
	pthread_setname_np(s->thread, "ttlog-stream");
	atomic_store_explicit(&s->running, 1, memory_order_release);
	ttlog__publish_stream_state(1);
	if (st->flush_signals)
		install_flush_signals();
	return TTLOG_OK;
}

int ttlog__stream_running(void)
{
	return S && atomic_load_explicit(&S->running, memory_order_acquire);
}

void ttlog__stream_stop(void)
{
	struct stream *s = S;
	if (!ttlog__stream_running())
		return;
	uninstall_flush_signals();
	atomic_store_explicit(&s->stop, 1, memory_order_release);
	pthread_join(s->thread, NULL);
	atomic_store_explicit(&s->running, 0, memory_order_release);
	ttlog__publish_stream_state(0);
	free(s->index);
	s->index = NULL;
	s->nindex = s->index_cap = 0;
}

void ttlog__stream_counters(struct ttlog__stream_counters *out)
{
	out->streamed = atomic_load_explicit(&n_streamed, memory_order_relaxed);
	out->lost = atomic_load_explicit(&n_lost, memory_order_relaxed);
	out->filtered = atomic_load_explicit(&n_filtered, memory_order_relaxed);
	out->promoted = atomic_load_explicit(&n_promoted, memory_order_relaxed);
	out->segments = atomic_load_explicit(&n_segments, memory_order_relaxed);
	out->segments_deleted = atomic_load_explicit(&n_deleted, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&n_bytes, memory_order_relaxed);
	out->errors = atomic_load_explicit(&n_errors, memory_order_relaxed);
}

/* The child has no drainer; the parent's segment is the parent's. */
void ttlog__stream_after_fork(void)
{
	if (!S)
		return;
	atomic_store_explicit(&S->running, 0, memory_order_relaxed);
	atomic_store_explicit(&S->owner, OWNER_CLOSED, memory_order_relaxed);
	if (S->fd >= 0)
		close(S->fd);
	S->fd = -1;
	S->index = NULL; /* the parent's table: not ours to free */
	S->nindex = S->index_cap = 0;
	flush_installed = 0;
}

/*
 * The crash handler's and the flush signals' way in (common/stream_ops.h):
 * waits up to 200 ms for the drainer's cycle to end, takes the segment for
 * good, drains every ring into it and closes it with its END (no INDX).
 * Not when the drainer itself is the thread in the handler. Runs in signal
 * context.
 */
static void close_now(void)
{
	struct stream *s = S;
	if (!s || !atomic_load_explicit(&s->running, memory_order_acquire))
		return;
	if ((uint32_t)syscall(SYS_gettid) == atomic_load_explicit(&s->thread_tid, memory_order_relaxed))
		return;
	int taken = 0;
	for (int i = 0; i < CLOSE_WAIT_STEPS && !taken; i++) {
		int expected = OWNER_FREE;
		/* LMM(owner:B), as in take(). */
		taken = atomic_compare_exchange_strong_explicit(&s->owner, &expected, OWNER_CLOSED,
								memory_order_acquire, memory_order_relaxed);
		if (!taken && expected == OWNER_CLOSED)
			return; /* closed already */
		if (!taken)
			sleep_ns(2000000);
	}
	if (!taken)
		return;
	s->in_signal = 1;
	s->em.chunk_done = NULL; /* no index: it may need memory */
	cycle(s);
	close_segment(s, 1);
}

/*
 * Under the block policy, the owner of ring r waits before dropping its
 * records before `upto` until the drainer has read them, or the stream
 * stops. LMM(done:B) pairs with LMM(done:A) in drain(). Runs in signal
 * context (the log call's slow path).
 */
static void before_drop(struct ttlog__ring *r, uint64_t upto)
{
	struct stream *s = S;
	if (!s || s->st.policy != TTLOG__POLICY_BLOCK || r->index >= s->nrings)
		return;
	struct ring_state *rs = &s->rings[r->index];
	uint32_t gen = atomic_load_explicit(&r->gen, memory_order_relaxed); /* our own ring */
	while (atomic_load_explicit(&s->running, memory_order_acquire) &&
	       atomic_load_explicit(&s->owner, memory_order_relaxed) != OWNER_CLOSED &&
	       !atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		if (atomic_load_explicit(&rs->done_gen, memory_order_acquire) == gen &&
		    atomic_load_explicit(&rs->done_pos, memory_order_relaxed) >= upto)
			return;
		/* LMM(wait:B): say so (the first waiter ends the drainer's
		 * pause between cycles), then look again and sleep until the
		 * drainer publishes. Either the second look sees the
		 * drainer's done_pos, or the drainer, which stores done_pos
		 * and then loads `waiting` past a full fence, sees the flag
		 * and bumps `progress` after this read of it, so the futex
		 * wait returns at once or is woken. */
		int was = atomic_exchange_explicit(&s->waiting, 1, memory_order_seq_cst);
		int seen = atomic_load_explicit(&s->progress, memory_order_seq_cst);
		if (!was)
			syscall(SYS_futex, (int *)&s->waiting, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		if (atomic_load_explicit(&rs->done_gen, memory_order_acquire) == gen &&
		    atomic_load_explicit(&rs->done_pos, memory_order_relaxed) >= upto)
			return;
		struct timespec ts = {0, 200000}; /* and look again, whatever happens */
		syscall(SYS_futex, (int *)&s->progress, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
	}
}

/*
 * An exited thread's ring is about to be reset for a new thread: its
 * records the drainer has not read are lost, counted exactly from the
 * old owner's final record count (its exit is visible: the claim acquired
 * it) and the drainer's published place. The ring is CLAIMED, so no later
 * cycle reads it; a cycle running now might, so this waits for it to end
 * (LMM(owner:B) with the drainer's release, LMM(owner:A)), after which
 * done_index is final for that owner. Not signal-safe (a thread's attach).
 */
static void ring_retired(struct ttlog__ring *r)
{
	struct stream *s = S;
	if (!s || !atomic_load_explicit(&s->running, memory_order_acquire) || r->index >= s->nrings)
		return;
	while (atomic_load_explicit(&s->owner, memory_order_acquire) == OWNER_DRAINER)
		sleep_ns(100000);
	struct ring_state *rs = &s->rings[r->index];
	uint32_t gen = atomic_load_explicit(&r->gen, memory_order_relaxed);
	/* LMM(done:B), as in before_drop(). */
	uint64_t read = atomic_load_explicit(&rs->done_gen, memory_order_acquire) == gen
				? atomic_load_explicit(&rs->done_index, memory_order_relaxed)
				: 0;
	uint64_t written = r->w.records;
	if (written > read)
		atomic_fetch_add_explicit(&rs->retired_lost, written - read, memory_order_relaxed);
}

const struct ttlog__stream_ops ttlog__stream_ops_table = {
	.close_now = close_now,
	.before_drop = before_drop,
	.ring_retired = ring_retired,
};
