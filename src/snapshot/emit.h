/* SPDX-License-Identifier: MIT */
/*
 * emit.h - putting chunks into a file: the chunk framing and its CRC, the
 * call-site dictionary (SITE and SITX entries, each before the first block
 * that needs it), and event blocks (EVTS: stored with the codec the owner
 * chose: as they are, LZ4-compressed, packed by record type with codec 2,
 * or packed and then compressed by zstd, codec 3).
 *
 * Shared by every writer of the format: the snapshot writer (writer.c: a
 * file from this process or from a mapping, on demand or at a crash) and
 * the stream (src/stream/: segment files that grow while they are read).
 * Everything here runs in signal context: an emitter works only in the
 * memory its owner reserved for it (struct ttlog__emit, an LZ4 state of
 * LZ4_sizeofState() bytes, for codecs 2 and 3 a struct ttlog__pack, for
 * codec 3 a zstd context made at init in reserved memory and an output
 * buffer) and writes with write(2).
 */
#ifndef TTLOG__SNAPSHOT_EMIT_H
#define TTLOG__SNAPSHOT_EMIT_H

#include <lz4.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sigsafe.h"
#include "format/format.h"
#include "sites/sites.h"
#include "snapshot/pack.h"

struct ttlog__site_desc;

#define TTLOG__EMIT_SITE_BUF (64u << 10)
#define TTLOG__EMIT_SITX_BUF (16u << 10) /* holds at least 14 entries of 16 fields */
#define TTLOG__EMIT_DICT_STRING_MAX 8192u /* longest string stored in a SITE entry */
/* The data of a block as LZ4 or codec 2 writes it at most, plus the room
 * ttlog__pack_record() may use past what it keeps. */
#define TTLOG__EMIT_LZ4_BOUND LZ4_COMPRESSBOUND(TTLOG__FMT_MAX_BLOCK_RAW)
#define TTLOG__EMIT_PK_BOUND \
	(TTLOG__FMT_PK_BOUND(TTLOG__FMT_MAX_BLOCK_RAW) + 16 * TTLOG__FMT_PK_VARINT_MAX + 16)
#define TTLOG__EMIT_DATA_BOUND \
	(TTLOG__EMIT_LZ4_BOUND > TTLOG__EMIT_PK_BOUND ? TTLOG__EMIT_LZ4_BOUND : TTLOG__EMIT_PK_BOUND)

/* The zstd output: an EVTS chunk's fixed fields, then a frame no larger
 * than the packed data it replaces. */
#define TTLOG__EMIT_ZBUF_SIZE (TTLOG__FMT_EVTS_FIXED_SIZE + TTLOG__EMIT_PK_BOUND)

/*
 * A block handed to another thread to be compressed (snapshot/offload.h):
 * copies of the block's records and of their packed form, the state the
 * codec needs, and, once compressed, the EVTS chunk's payload (out,
 * out_len), which the emitter then writes where the block was in the
 * order of chunks. Filled by the emitter, compressed by
 * ttlog__emit_compress() on whichever thread the owner chose.
 */
struct ttlog__emit_job {
	uint8_t codec;
	void *lz4_state;            /* LZ4_sizeofState() bytes */
	void *zstd;                 /* codec 3: a context of its own */
	uint32_t thread, tid, count;
	uint64_t first, last;
	size_t block_len, packed_len;
	const unsigned char *out;   /* the EVTS payload: packed or zbuf */
	size_t out_len;
	unsigned char block[TTLOG__FMT_MAX_BLOCK_RAW];
	unsigned char packed[TTLOG__FMT_EVTS_FIXED_SIZE + TTLOG__EMIT_DATA_BOUND];
	unsigned char zbuf[TTLOG__EMIT_ZBUF_SIZE];
};

/*
 * Compression on another thread: submit() starts compressing the job,
 * wait() returns once that job is done (its out and out_len set). At most
 * one job is in flight: while the other thread compresses block n, the
 * emitter gathers block n + 1; the EVTS chunk of block n is written
 * before any chunk that follows it, so the file is byte for byte what one
 * thread would write.
 */
struct ttlog__emit_offload {
	void (*submit)(void *ctx, struct ttlog__emit_job *job);
	void (*wait)(void *ctx);
	void *ctx;
	struct ttlog__emit_job *job;
	int pending;                /* a job is submitted and its chunk not yet written */
};

struct ttlog__emit {
	struct ttlog__fdbuf file;   /* the output; file.failed: a write failed */
	uint64_t offset;            /* file offset of the next byte put */
	uint64_t flushed;           /* whole_chunks: bytes known to be in the file */
	int whole_chunks;           /* the buffer goes out at chunk boundaries only, so
				       that the file always ends with a whole chunk
				       (a stream's segment, read while it grows) */
	/* The resolved description of a site id (sites/desc.h), NULL if none. */
	const struct ttlog__site_desc *(*site)(void *ctx, uint32_t id);
	void *site_ctx;
	/* The last site looked up, its description (NULL: none) and the
	 * arguments the redaction rules name in it. */
	uint32_t last_id;
	const struct ttlog__site_desc *last_desc;
	uint32_t last_redact;
	/* Whether the re: patterns scan that site's strings. */
	int last_scan;
	/* The redaction rules (snapshot/redact.h), the owner's; NULL: none. */
	const struct ttlog__redact *redact;
	/* Told of every chunk once it is put, with its offset (INDX), or NULL. */
	void (*chunk_done)(void *ctx, uint64_t off, uint32_t type, const unsigned char *payload,
			   size_t len);
	void *chunk_ctx;
	/* A chunk that goes right before the next EVTS, after the SITE chunks
	 * the block needs (a stream's PRMT); prefix_type 0: none. */
	uint32_t prefix_type, prefix_flags;
	uint32_t prefix_len;
	unsigned char prefix[32];
	/* How blocks are stored, set by the owner before
	 * ttlog__emit_file_header(): TTLOG__FMT_CODEC_NONE, _LZ4 (with
	 * lz4_state), _PACKED (with pack) or _ZSTD (with pack, zstd and zbuf:
	 * the packed bytes compressed by zstd). A block is stored as packed
	 * when zstd does not make it smaller, and as it is when no codec does.
	 * The file header says PACKED when blocks may be packed, ZSTD when
	 * they may be zstd. */
	uint8_t codec;
	/* The file is a member of a bundle (FORMAT.md 22): its header says
	 * BUNDLE. Set by the owner before ttlog__emit_file_header(). */
	uint8_t bundle;
	void *lz4_state;            /* LZ4_sizeofState() bytes, the owner's */
	/* NULL: blocks are compressed in the calling thread. Set by the
	 * owner, for one file, never in signal context (offload.h). */
	struct ttlog__emit_offload *offload;
	struct ttlog__pack *pack;   /* the owner's codec 2 state */
	void *zstd;                 /* the owner's zstd context (snapshot/compression.h) */
	unsigned char *zbuf;        /* TTLOG__EMIT_ZBUF_SIZE bytes of the owner's */

	/* The dictionary entries waiting for the next block. */
	uint32_t site_count;
	size_t site_len;
	uint32_t sitx_count;
	size_t sitx_len;
	uint32_t sitx_flags;        /* chunk flags the pending SITX needs */
	/* The block being filled. */
	uint32_t block_count;
	size_t block_len;
	size_t packed_len;          /* codec 2: data bytes in packed[] after the fixed fields */
	uint64_t block_first, block_last;
	uint32_t block_thread, block_tid;
	/* Counts: records of unknown sites (not written), cut strings in the
	 * records written; totals for END. */
	uint64_t unknown;
	uint64_t strings_truncated;
	uint64_t redacted;          /* values the redaction rules replaced */
	uint64_t events;
	/* Events among the records (END's log_events): log calls, span ends,
	 * and span begins that are not re-statements. restate_left: records
	 * of the current thread's RESTATE group still to come. */
	uint64_t log_events;
	uint32_t block_events;
	uint32_t restate_left;
	uint32_t sites, blocks;

	unsigned char block[TTLOG__FMT_MAX_BLOCK_RAW];
	unsigned char packed[TTLOG__FMT_EVTS_FIXED_SIZE + TTLOG__EMIT_DATA_BOUND];
	unsigned char site_buf[TTLOG__EMIT_SITE_BUF];
	unsigned char sitx_buf[TTLOG__EMIT_SITX_BUF];
	uint8_t site_seen[TTLOG__MAX_SITES / 8 + 1];
};

/* Starts a file on descriptor fd (or -1 for none yet), through the buffer
 * out of cap bytes: no dictionary, no block, counts 0. Runs in signal
 * context. */
void ttlog__emit_reset(struct ttlog__emit *em, int fd, unsigned char *out, size_t cap);

/* One chunk: its header with the CRC, then its payload. Runs in signal
 * context. */
void ttlog__emit_chunk(struct ttlog__emit *em, uint32_t type, uint32_t flags, const void *payload,
		       size_t len);

/* The 24-byte file header. Runs in signal context. */
void ttlog__emit_file_header(struct ttlog__emit *em);

/* Writes out what the buffer holds. Runs in signal context. */
void ttlog__emit_flush(struct ttlog__emit *em);

/* The next records belong to thread index `thread` (OS id tid): a block of
 * another thread is written out first. Runs in signal context. */
void ttlog__emit_thread(struct ttlog__emit *em, uint32_t thread, uint32_t tid);

/* Adds one record (validated by the ring reader) to the block, with its
 * site's entries if the file has not defined them yet. Returns 0, or -1
 * for a site id no site has (counted in em->unknown, not written). Runs in
 * signal context. */
int ttlog__emit_record(struct ttlog__emit *em, const unsigned char *rec, uint32_t size, uint32_t id,
		       uint64_t ticks);

/* Compresses a job's block into its EVTS payload (job->out, out_len):
 * the codec's choice as ttlog__emit_flush_block() makes it. Pure
 * computation over the job's memory. Runs in signal context. */
void ttlog__emit_compress(struct ttlog__emit_job *job);

/* Writes the pending block as an EVTS chunk, after the SITE entries (and
 * the prefix chunk) it needs; with an offload, hands the block to it and
 * writes the chunk when the next chunk is put. Runs in signal context. */
void ttlog__emit_flush_block(struct ttlog__emit *em);

/* Queues a site for the next SITE chunk; whether the file has it already.
 * Runs in signal context. */
void ttlog__emit_add_site(struct ttlog__emit *em, uint32_t id, const struct ttlog__site_desc *d);
int ttlog__emit_has_site(const struct ttlog__emit *em, uint32_t id);

/* Writes the pending SITE and SITX chunks. Runs in signal context. */
void ttlog__emit_flush_sites(struct ttlog__emit *em);

/* Appends n bytes of p, cut at max, with their u32 length before them, to
 * buf at *len; put_string does it for a NUL-terminated string (NULL:
 * empty). Runs in signal context. */
void ttlog__emit_put_text(unsigned char *buf, size_t *len, const char *p, size_t n, size_t max);
void ttlog__emit_put_string(unsigned char *buf, size_t *len, const char *s, size_t max);

#endif
