/* SPDX-License-Identifier: MIT */
/*
 * impl.h - what the files of the snapshot reader share: the reader's state
 * (struct ttlog_reader and what it holds) and the functions that one file
 * calls in another. Not API: the public reader is <ttlog_reader.h>, and the
 * entry points for the tests and the fuzz target are in
 * reader/reader_internal.h.
 *
 * The files (the protocol of reading is described at the top of open.c):
 *   open.c     opening and closing: reads the file, runs the two passes,
 *              hands out what they found
 *   chunks.c   pass 1, the chunk walk, and the fields of each site
 *   records.c  decoding a record, checking a block
 *   pass2.c    pass 2: every block checked, on one or more threads
 *   iterate.c  the events in time order: per-thread cursors and their merge
 *   index.c    opening a closed segment through its index (INDX)
 *   store.c    a store: many files read as one
 *   errors.c   the reader's first problem, as its status and message
 *   memory.c   the arena (strings, format plans), the growing arrays, the id maps
 * and, each behind its own header, smpl_read.c, mtrc_read.c and stacks.c
 * (SMPL, MTRC, STCK and MODS chunks), scope_track.c (contexts and spans),
 * printf.c (formatting events), format_plan.c (formats parsed, and
 * compiled into each site's plan at open) and format_keys.c (the fields a
 * format names).
 *
 * Of what the per-event path calls, only ttlog__reader_decode_record()
 * went to another file than iterate.c, and it was not inlined when the
 * reader was one file either; the helpers that path shares with the other
 * files, the site lookup and the tick conversion, are static inline here.
 */
#ifndef TTLOG__READER_IMPL_H
#define TTLOG__READER_IMPL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "reader/mtrc_read.h"
#include "reader/smpl_read.h"
#include "reader/scope_track.h"
#include "reader/stacks.h"
#include "format/format.h"
#include "ttlog_reader.h"

/* No such offset or index: a thread without a THRD chunk, no block loaded. */
#define NOWHERE SIZE_MAX

/* ---- State --------------------------------------------------------------- */

/* Strings from the file, NUL-terminated, freed all at once. */
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

/* u32 key -> array index, open addressing; slot 0 means empty. */
struct idmap {
	uint32_t *key;
	size_t *slot; /* index + 1 */
	size_t cap;   /* a power of two, or 0 */
	size_t count;
};

struct rsite {
	struct ttlog_site_info info; /* arg_types and fields set once the array stops moving */
	/* Its format compiled (reader/format_plan.c), made once the array
	 * stops moving (it points at info); NULL for a format with too many
	 * directives. Every event of the site carries it. */
	const struct ttlog__format_plan *plan;
	uint8_t types[TTLOG__FMT_MAX_ARGS];
	int extended;                /* a SITX entry was found for it */
	const char *explicit_names[TTLOG__FMT_MAX_ARGS]; /* by argument, for explicit_args */
	/* At most 16 named in the format (ttlog__format_keys' limit) and one
	 * per argument for the rest: explicit fields and unused arguments. */
	struct ttlog_site_field fields[2 * TTLOG__FMT_MAX_ARGS];
};

#define READER_KIND_UNKNOWN 255  /* a SITX kind newer than this reader */

struct rthread {
	struct ttlog_thread_info info;
	size_t thrd_off;       /* file offset of its THRD chunk, NOWHERE if none */
	uint64_t thrd_events;  /* the record count its THRD chunk states */
	uint64_t records;      /* its records in the blocks counted (THRD's events) */
	uint32_t restate_left; /* counting events: records of a RESTATE group to come */
	size_t blk_begin;      /* its blocks with records: r->tblocks[blk_begin..blk_end) */
	size_t blk_end;
	size_t max_raw;        /* largest compressed block's raw size */
	/* The cursor below is written at every event; `info` above is read at
	 * every event by whoever renders it, possibly on other threads (the
	 * command's --jobs). A cache line's worth of bytes on each side keeps
	 * the two off the same line, here and between neighbours in
	 * r->threads, so that no event's write takes the line away from the
	 * cores that read it. */
	unsigned char apart_from_info[64];
	/* Iteration cursor. */
	size_t cur;            /* position in r->tblocks */
	size_t pos;            /* raw offset of the next record in the block */
	uint32_t done;         /* records of the block already returned */
	uint64_t key;          /* ticks of the next record */
	uint8_t pending;       /* the block entered is not read yet: COUNT_DECODED or
				  COUNT_SCANNED says how to count it when it is */
	uint8_t parked;        /* out of the heap at its first record after the
				  range, which it has not read: ttlog_reader_resume()
				  puts it back */
	size_t parked_skipped; /* the blocks counted as skipped when it was parked */
	uint64_t log_ticks;    /* the ticks of its last log record read, or of a
				  later scope change, for out_of_order(); 0
				  after a rewind */
	unsigned char *buf;    /* max_raw bytes, or NULL */
	size_t loaded;         /* the block decoded in buf, or NOWHERE */
	struct reader_scopes scopes; /* contexts and spans open at the cursor */
	/* A second cursor of a thread, over its promoted blocks (FORMAT.md
	 * 17.2): an entry of r->threads after the first nthreads, not a
	 * thread of its own. Its events take the thread and the scopes of
	 * r->threads[main]. */
	int promo;
	size_t main;           /* the thread's own slot (its own for a main cursor) */
	unsigned char apart_from_next[64]; /* from the next entry's info (see above) */
};

struct rblock {
	size_t chunk_off;      /* file offset of the chunk header */
	size_t data_off;       /* file offset of the block data */
	size_t data_len;
	uint32_t raw_size;
	uint32_t thread;       /* thread index */
	size_t slot;           /* its thread in r->threads, once they are sorted */
	size_t cursor;         /* the cursor that reads it: slot, or the thread's promoted cursor */
	uint8_t promoted;      /* it follows a PRMT chunk */
	uint32_t count;        /* records the header states */
	uint32_t nrec;         /* records that decode */
	uint32_t nev;          /* events among them (checked blocks) */
	uint8_t codec;
	uint64_t first_ticks;  /* as the header states */
	uint64_t last_ticks;
	uint64_t rec_first;    /* ticks of the first record */
	uint8_t checked;       /* its records were walked and nrec is exact */
	uint8_t damaged;       /* codec 2 data that decodes only up to `good` */
	uint32_t good;         /* damaged: bytes of the whole records before the damage */
};

/* Encrypted files (unseal.c): if r->data is an encrypted container,
 * replaces it with the decrypted bytes (every whole message before any
 * damage) and returns 1 if there is anything to parse; 0 with the status
 * set (no key, wrong key, an unreadable header). Not encrypted: 1, nothing
 * changed. */
int ttlog__reader_unseal(struct ttlog_reader *r);
/* After the parse: a cut container that is not an open segment is
 * reported as truncated. */
void ttlog__reader_unseal_check_end(struct ttlog_reader *r);

/* The bytes of a file, shared by its readers (ttlog_reader_open_same()):
 * never written once parsing begins, freed by the last reader that lets
 * them go (ttlog_reader_release(), or close). */
struct ttlog__reader_bytes {
	_Atomic size_t refs;
	unsigned char *data;
	size_t mapped;         /* data maps the file, this many bytes; 0: malloc'd */
	int map_slot;          /* when mapped: its slot in map.c */
	int crcs_good;         /* the first reader's parse found every chunk's
				  CRC right: a reader of the same bytes does not
				  compute them again */
};

/* Files mapped instead of read (map.c, ttlog_reader_map_files()). Maps
 * size bytes of fd when mapping is on and a slot is free, and then keeps
 * fd (closed by ttlog__reader_unmap()); else NULL. */
void *ttlog__reader_map(int fd, size_t size, int *slot);
/* Retires the slot and unmaps. */
void ttlog__reader_unmap(void *data, size_t size, int slot);
/* Where r's file now ends if it is shorter than r's mapping (the file's
 * size, or the lowest page a SIGBUS was seen at), or SIZE_MAX: it is not,
 * or r's bytes are not mapped. */
size_t ttlog__reader_map_fault(const struct ttlog_reader *r);
/* Frees or unmaps r->data, before the bytes are shared. */
void ttlog__reader_drop_data(struct ttlog_reader *r);

struct ttlog_reader {
	unsigned char *data;
	size_t size;
	size_t mapped;         /* before bytes: data maps this many bytes of the file */
	int map_slot;          /* when mapped: its slot in map.c */
	struct ttlog__reader_bytes *bytes; /* data's owner once parsing begins */
	int trust_crcs;        /* parse: the bytes' chunk CRCs were found right */
	int crc_bad;           /* parse: a chunk's CRC was wrong */
	int status_unparsed;   /* the status when parsing began: a problem found
				  reading or decrypting the bytes, which a reader
				  of the same bytes reports too */
	char *path;
	int status;
	char *error;
	int oom;               /* an allocation failed while opening */
	struct ttlog_file_info info;
	/* An encrypted file (reader/unseal.c): data holds the decrypted bytes. */
	int sealed;
	int seal_final;        /* its final message was read */
	int seal_torn;         /* it ends inside a message */
	size_t seal_end;       /* container offset where reading stopped */

	/* HEAD */
	int have_head;
	int cal_ok;            /* 0: times are the raw ticks; READER_CAL_* */
	uint64_t tick0, tick1;
	int64_t ns0, ns1;
	/* From ttlog__reader_calibrate(): tick1 - tick0, |ns1 - ns0|, whether
	 * ns1 < ns0, and floor((2^64 - 1) / span) for reader_div_span(). */
	uint64_t cal_span, cal_dns, cal_span_recip;
	int cal_backwards;
	int disorder_told;     /* out_of_order() has reported a record */

	/* END, and what it is checked against */
	int have_end;
	int bundle;            /* the file header's BUNDLE flag */
	size_t end_off;
	uint64_t end_events, end_overwritten, end_torn, end_torn_bytes;
	uint32_t end_threads, end_sites, end_blocks;
	uint32_t thrd_chunks, site_entries, evts_chunks;
	int have_crash;
	/* Revision 5 (segments) */
	int end_long;          /* END has the 88-byte segment layout */
	uint64_t end_index_off, end_stream_lost, end_filtered, end_promoted;
	/* Revision 9 */
	int end_has_log_events; /* END has the 96-byte layout */
	uint64_t end_log_events;
	uint64_t records;      /* records in the blocks counted (END's events) */
	uint64_t event_key;    /* ttlog_reader_event_key() of the last event returned */
	size_t indx_off;       /* the INDX chunk found by the walk, 0 if none */
	uint32_t index_blocks; /* an indexed open (info.indexed): the EVTS entries of the
	                          index, read or not, and the newest last_ticks among them */
	uint64_t index_last_ticks;
	int event_ticks_known;  /* every block was checked at the open (pass 2): its events'
				   ticks lie in [event_min_ticks, event_max_ticks] (none if
				   min > max), whatever the blocks' headers say */
	uint64_t event_min_ticks, event_max_ticks;
	int header_mismatch;    /* a block checked so far holds records that are not
				   those its header states (their count, first or last
				   ticks) */
	int ticks_outside;      /* a block checked so far holds records whose ticks lie
				   outside its header's first and last: a time range
				   may miss some of them in a file without scopes (a
				   file with scopes is never left out by the headers) */
	uint64_t chunks_after_head; /* valid chunks after HEAD, for INDX's count */
	int prmt_pending;      /* a PRMT was read; the next chunk must be its EVTS */
	size_t prmt_off;
	uint32_t prmt_thread;
	uint64_t prmt_found;   /* PRMT chunks followed by their EVTS */

	struct rsite *sites;
	size_t nsites, sites_cap;
	struct idmap site_map;

	struct rthread *threads; /* nthreads threads, then the promoted cursors */
	size_t nthreads, threads_cap;
	size_t ncursors;       /* nthreads + promoted cursors: the heap's entries */
	struct idmap thread_map;

	struct rblock *blocks;
	size_t nblocks, blocks_cap;
	size_t *tblocks;       /* block numbers grouped by thread, file order inside */

	uint64_t scan_budget;  /* CRC bytes the resynchronisation may still compute */

	/* Iteration */
	size_t *heap;          /* thread slots, min-heap on (key, index) */
	size_t heap_len;
	size_t buf_total;      /* bytes in the threads' decoded-block buffers */
	size_t buf_budget;     /* the most buf_total may be */
	struct ttlog_arg args[TTLOG__FMT_MAX_ARGS];
	struct ttlog_field fields[2 * TTLOG__FMT_MAX_ARGS + READER_MAX_SPAN_FIELDS + READER_MAX_CONTEXTS];
	char *strbuf;
	size_t strbuf_cap;
	struct ttlog__unpack_state *unpack; /* codec 2 decoding state, made when first needed */
	struct ZSTD_DCtx_s *zstd;   /* codec 3: the zstd context, made when first needed */
	unsigned char *zbuf;        /* codec 3: the packed bytes a frame holds */

	struct arena_block *arena;
	struct ttlog__smpl smpl; /* SMPL entries (reader/smpl_read.c) */

	struct ttlog__rmetrics metrics; /* MTRC chunks (reader/mtrc_read.c) */
	struct ttlog__rstacks stacks;   /* STCK and MODS chunks (reader/stacks.c) */

	/* Reading part of a file (ttlog_reader_open_ex, ttlog_reader_set_range) */
	unsigned flags;        /* TTLOG_READER_* */
	int64_t want_since, want_until; /* as set; they apply from the next rewind */
	unsigned want_levels;
	int64_t since_ns, until_ns;     /* what the iteration applies */
	unsigned levels;
	uint32_t want_tid, tid;         /* ttlog_reader_set_tid(), as set and as applied
					   (from the next rewind); 0: every thread */
	uint32_t want_site, site;       /* ttlog_reader_set_site(), the same way; 0: every site */
	int has_scopes;        /* a site opens or closes scopes, or is of an unknown kind */
	uint64_t want_start, start_off; /* ttlog_reader_set_start(): blocks before it are silent */
	struct ttlog_reader_counters counters;
	int released;          /* ttlog_reader_release(): no bytes, no events */
};

/* A record decoded in place: STR arguments point into the block and are not
 * terminated. */
struct decoded {
	uint32_t size;
	uint64_t ticks;
	const struct rsite *site;
	struct ttlog_arg args[TTLOG__FMT_MAX_ARGS];
};

/* ---- Errors (reader/errors.c) -------------------------------------------- */

/* Each keeps the first problem only, as the reader's status and message.
 * ttlog__reader_report(), for a problem at a file offset, is declared in
 * reader/smpl_read.h: smpl_read.c reports through it too. */

/* Reports TTLOG_E_TRUNCATED if the file shrank while mapped (map.c). */
void ttlog__reader_check_shrunk(struct ttlog_reader *r);

/* A problem that has no file offset, or needs none. */
void ttlog__reader_report_plain(struct ttlog_reader *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A problem in a record: its file offset for an uncompressed block, the
 * chunk's offset and the record's offset in the decompressed data for a
 * compressed one. why is the "expected ..." part. */
void ttlog__reader_report_record(struct ttlog_reader *r, const struct rblock *b, size_t pos,
				 const char *why);

/* ---- Memory (reader/memory.c) -------------------------------------------- */

/* A copy of n bytes at s, NUL-terminated, kept until the reader is closed. */
char *ttlog__reader_arena_str(struct ttlog_reader *r, const unsigned char *s, size_t n);

/* n bytes, 8-aligned, kept until the reader is closed; NULL (r->oom set)
 * when memory is short. */
void *ttlog__reader_arena_alloc(struct ttlog_reader *r, size_t n);

/* Makes room for one more element in a growing array. */
int ttlog__reader_grow(struct ttlog_reader *r, void **array, size_t *cap, size_t count,
		       size_t elem);

/* Adds a key known to be absent. */
int ttlog__reader_idmap_add(struct ttlog_reader *r, struct idmap *m, uint32_t key, size_t index);

void ttlog__reader_idmap_free(struct idmap *m);

/* A lookup is made for every record (its site), so it is inline. */
static inline size_t ttlog__reader_idmap_hash(uint32_t key, size_t mask)
{
	return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15u) >> 32) & mask;
}

static inline size_t ttlog__reader_idmap_find(const struct idmap *m, uint32_t key)
{
	if (!m->cap)
		return NOWHERE;
	size_t mask = m->cap - 1;
	for (size_t i = ttlog__reader_idmap_hash(key, mask); m->slot[i]; i = (i + 1) & mask)
		if (m->key[i] == key)
			return m->slot[i] - 1;
	return NOWHERE;
}

/* ---- Time ---------------------------------------------------------------- */

__extension__ typedef unsigned __int128 reader_u128;
__extension__ typedef __int128 reader_i128;

/*
 * The value of an LD80 argument (docs/FORMAT.md): the x87 80-bit extended
 * format, a 64-bit significand with its integer bit, then a u16 of sign and
 * 15-bit exponent (bias 16383). Where long double is that format, the
 * bytes are the value; elsewhere it is rebuilt from its parts (exactly
 * where long double has at least 64 bits of significand, rounded where it
 * is a double).
 */
static inline long double ttlog__ld80_value(const unsigned char *p)
{
#if defined(__LDBL_MANT_DIG__) && __LDBL_MANT_DIG__ == 64 && (defined(__x86_64__) || defined(__i386__))
	long double v = 0;
	memcpy(&v, p, 10);
	return v;
#else
	uint64_t mant = ttlog__get_u64(p);
	unsigned se = ttlog__get_u16(p + 8);
	int e = (int)(se & 0x7fff);
	long double v;
	if (e == 0x7fff)
		v = (mant << 1) ? __builtin_nanl("") : __builtin_infl();
	else
		v = __builtin_ldexpl((long double)mant, (e ? e : 1) - 16383 - 63);
	return (se & 0x8000) ? -v : v;
#endif
}

/*
 * ns = ns0 + (ticks - tick0) * (ns1 - ns0) / (tick1 - tick0), exact to the
 * nanosecond for any ticks: the quotient and the remainder of
 * |ticks - tick0| / span are scaled separately, so no product exceeds
 * 128 bits; when span * (ns1 - ns0) fits 64 bits (checked once at open,
 * READER_CAL_NARROW: a calibration interval of up to about 2 s at 4 GHz),
 * the remainder's product does too and is divided without the 128-bit
 * library call. The result saturates at the int64 range. Inline: the time
 * of every event is converted.
 */
#define READER_CAL_WIDE 1   /* span * dns may exceed 64 bits */
#define READER_CAL_NARROW 2 /* span * dns < 2^64: the remainder's scaling is 64-bit */

/* Takes tick0..tick1 and ns0..ns1 as read (HEAD), or as a store changed
 * them (store.c: share_clock, spread_clock), which must call it again;
 * returns 0 when tick1 is not after tick0 (cal_ok is then left as it is). */
static inline int ttlog__reader_calibrate(struct ttlog_reader *r)
{
	if (r->tick1 <= r->tick0)
		return 0;
	uint64_t span = r->tick1 - r->tick0;
	uint64_t dns = r->ns1 < r->ns0 ? (uint64_t)r->ns0 - (uint64_t)r->ns1
				       : (uint64_t)r->ns1 - (uint64_t)r->ns0;
	r->cal_ok = dns <= UINT64_MAX / span ? READER_CAL_NARROW : READER_CAL_WIDE;
	r->cal_span = span;
	r->cal_dns = dns;
	r->cal_backwards = r->ns1 < r->ns0;
	r->cal_span_recip = UINT64_MAX / span;
	return 1;
}

/*
 * floor(n / span) and its remainder, without a division instruction (two
 * per event were a tenth of ttlog_reader_next()): with m = floor((2^64 -
 * 1) / span), 2^64 - m * span lies in 1..span, so n / span - n * m / 2^64
 * = n * (2^64 - m * span) / (span * 2^64) lies in (0, 1) for every n <
 * 2^64, and the high word of n * m is the quotient or one less; one
 * compare of the remainder with span corrects it.
 */
static inline uint64_t reader_div_span(const struct ttlog_reader *r, uint64_t n, uint64_t *rem)
{
	const uint64_t span = r->cal_span;
	uint64_t q = (uint64_t)(((reader_u128)n * r->cal_span_recip) >> 64);
	uint64_t m = n - q * span;
	const int over = m >= span;
	*rem = over ? m - span : m;
	return q + (uint64_t)over;
}

static inline int64_t ttlog__reader_ticks_to_ns(const struct ttlog_reader *r, uint64_t ticks)
{
	if (!r->cal_ok)
		return ticks > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ticks;
	int before = ticks < r->tick0;
	uint64_t dt = before ? r->tick0 - ticks : ticks - r->tick0;
	const uint64_t dns = r->cal_dns;
	const int backwards = r->cal_backwards;
	uint64_t rem; /* < span, so rem * dns < span * dns */
	uint64_t whole = reader_div_span(r, dt, &rem);
	reader_u128 part;
	if (r->cal_ok == READER_CAL_NARROW) {
		uint64_t unused;
		part = reader_div_span(r, rem * dns, &unused);
	} else {
		part = (reader_u128)rem * dns / r->cal_span;
	}
	reader_u128 off = (reader_u128)whole * dns + part;
	if (off > (reader_u128)UINT64_MAX)
		return before != backwards ? INT64_MIN : INT64_MAX;
	reader_i128 v = (reader_i128)r->ns0;
	v = before != backwards ? v - (reader_i128)off : v + (reader_i128)off;
	if (v > INT64_MAX)
		return INT64_MAX;
	if (v < INT64_MIN)
		return INT64_MIN;
	return (int64_t)v;
}

/* ---- Chunks (reader/chunks.c) -------------------------------------------- */

/* Returns the header size to start the chunks at, or 0 if the file cannot be
 * read further. */
size_t ttlog__reader_parse_file_header(struct ttlog_reader *r);

/* Decodes the chunk at file offset off, already framed and checked against
 * its CRC: type, flags and len are its header's words as they were checked
 * (not read again: a mapped file's bytes can change meanwhile). Returns 0
 * when the walk must stop (END, a required chunk this reader does not
 * know), else 1. */
int ttlog__reader_chunk(struct ttlog_reader *r, size_t off, uint32_t type, uint32_t flags,
			uint32_t len);

/* Pass 1: the chunks from off, the end of the file header, to END. */
void ttlog__reader_parse_chunks(struct ttlog_reader *r, size_t off);

/*
 * The fields of a site: the format's "key=%..." conversions, then the
 * TTLOG_F() fields. Format argument k is the k-th argument that is not an
 * explicit field.
 */
void ttlog__reader_site_fields(struct ttlog_reader *r, struct rsite *st);

/* ---- Format plans (reader/format_plan.c) -------------------------------- */

/*
 * site's format compiled into a plan in r's arena, for the events of site
 * (see reader/format_plan.h). NULL when the format has more directives than
 * a plan holds, or on OOM (r->oom set). site must stay where it is.
 */
const struct ttlog__format_plan *ttlog__reader_format_plan(struct ttlog_reader *r,
							    const struct ttlog_site_info *site);

/* ---- The segment index (reader/index.c) ---------------------------------- */

/*
 * For ttlog_reader_open_range(): when fd is a closed segment whose index is
 * sound, reads the chunks the range (want_since, want_until) needs, decodes
 * them (pass 1) and sets info.indexed; returns 1. Otherwise returns 0 with
 * nothing decoded and nothing allocated, and the caller reads the file.
 */
int ttlog__reader_read_indexed(struct ttlog_reader *r, int fd);

/* The size of the file header d (TTLOG__FMT_FILE_HEADER_SIZE bytes) when it
 * is one this reader reads (magic, CRC, version, no unknown incompatible
 * flag), else 0; silently, where chunks.c's walk reports what is wrong. */
size_t ttlog__reader_header_size(const unsigned char *d);

/* ---- Cuts (reader/cut_times.c) -------------------------------------------- */

/* Whether every block was checked at the open (pass 2) and holds the
 * records its header states, with their ticks inside the header's (in a
 * file with scopes, re-stated openings aside): a time range taken by the
 * headers then misses none of them. */
int ttlog__reader_headers_hold(const struct ttlog_reader *r);

/* A block's first time and its stated record count. */
struct ttlog__block_time {
	int64_t ns;
	uint64_t count;
};

/*
 * The blocks of r that reach into since_ns..until_ns, each at its first
 * time (since_ns if earlier), into a new array *times of *ntimes; returns
 * 0 (nothing allocated) when r's events cannot be cut by time (see
 * ttlog_reader_cut_times()) or memory is short.
 */
int ttlog__reader_block_times(const ttlog_reader *r, int64_t since_ns, int64_t until_ns,
			      struct ttlog__block_time **times, size_t *ntimes);

/* Sorts times[0..nb) and writes the cuts that part them into n parts of
 * about the same count, increasing, to cuts; returns how many (< n). */
size_t ttlog__cut_block_times(struct ttlog__block_time *times, size_t nb, size_t n, int64_t *cuts);

/* ---- A file's HEAD alone (reader/head_peek.c) ---------------------------- */

/* The process and the calibration a HEAD states. */
struct ttlog__head_clock {
	uint32_t pid;
	uint64_t tick0, tick1;
	int64_t ns0, ns1;
};

/*
 * Reads the HEAD of the file (or of the bundle member at offset) at path:
 * two positioned reads, every length and the CRC checked. Returns 1 with
 * *out set, or 0 (no such file, not a plain ttlog file of this format
 * version, a damaged HEAD, tick1 not after tick0).
 */
int ttlog__reader_peek_head(const char *path, uint64_t offset, struct ttlog__head_clock *out);

/* Reads n bytes at off of fd into buf, whole (EINTR retried); returns 1,
 * or 0 on an error or the end of the file. */
int ttlog__reader_pread(int fd, void *buf, size_t n, uint64_t off);

/* ---- Records (reader/records.c) ------------------------------------------ */

/*
 * Decodes the record at raw[pos..len). Returns 1, or 0 with the problem in
 * why ("expected ..."). Used by the block pass to validate and by the
 * iteration to decode, so both agree on every record.
 */
int ttlog__reader_decode_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
				size_t pos, struct decoded *d, char *why, size_t why_size);
/* The same check, with the same answer and message, but d's arguments are
 * left undecoded (but for a RESTATE record's): size, ticks and site only.
 * For the block pass, which counts and checks every record. */
int ttlog__reader_check_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
			       size_t pos, struct decoded *d, char *why, size_t why_size);
/* Size, ticks and site of a record that ttlog__reader_check_block() passed
 * (one of its block's first nrec), for TTLOG_READER_NO_ARGS: its arguments
 * are not looked at again. Returns 0 (nothing read outside raw[pos..len))
 * for what cannot be such a record; the caller then decodes it whole,
 * which says what is wrong. */
int ttlog__reader_record_header(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
				size_t pos, struct decoded *d);

/*
 * Decodes an LZ4 (codec 1), packed (codec 2) or zstd (codec 3: a zstd frame
 * of packed data) block into dst (raw_size bytes). Returns 1 when all of it
 * decodes. Otherwise reports the problem and returns 0; a packed block
 * damaged after some whole records is then marked damaged, with `good` the
 * bytes of those records, which dst holds.
 */
int ttlog__reader_block_inflate(struct ttlog_reader *r, struct rblock *b, unsigned char *dst);

/*
 * Walks the records of block b (its decoded bytes at raw), checking each
 * one and the block header's count and ticks. Sets b->nrec to the records
 * that decode and b->rec_first; widens [*min_ticks, *max_ticks] by the
 * times of events (re-stated openings keep their old times, so they are
 * left out). Returns the number of records that decode.
 */
uint32_t ttlog__reader_check_block(struct ttlog_reader *r, struct rblock *b,
				   const unsigned char *raw, uint32_t *restate,
				   uint64_t *min_ticks, uint64_t *max_ticks);

/*
 * The same walk for the records' headers only (size, site, ticks), b->nev
 * left as it is: for an iteration that decodes every record it returns,
 * whose decode then checks the arguments (and ends the block at a record
 * that fails, with the message the whole check would have given). A
 * header that fails makes it the whole check, which reports the first
 * bad record: the arguments before it may be what is wrong.
 */
void ttlog__reader_check_block_headers(struct ttlog_reader *r, struct rblock *b,
				       const unsigned char *raw);

/* The events among the b->nrec records of checked block b (decoded bytes at
 * raw), with *restate the re-stated openings still to come before it (see
 * is_event() in records.c); *restate is left as it is after the block. */
uint32_t ttlog__reader_count_events(const struct ttlog_reader *r, const struct rblock *b,
				    const unsigned char *raw, uint32_t *restate);

/* Pass 2 on jobs threads (reader/pass2.c): checks every record once; see
 * the top of reader/open.c. */
void ttlog__reader_decode_blocks(struct ttlog_reader *r, unsigned jobs);

/*
 * Pass 2 of a lazy open (TTLOG_READER_LAZY): takes every block header at
 * its word. Counts and times come from the headers; each block is checked
 * by ttlog__reader_check_block() when the iteration first reaches it.
 */
void ttlog__reader_count_blocks(struct ttlog_reader *r);

#endif /* TTLOG__READER_IMPL_H */
