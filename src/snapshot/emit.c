/* SPDX-License-Identifier: MIT */
/*
 * emit.c - chunks into a file: framing, the call-site dictionary, event
 * blocks (see emit.h). Used by the snapshot writer and the stream.
 *
 * Everything in this file runs in signal context: no malloc, no stdio, no
 * locks; only the emitter's own memory and write(2).
 *
 * A SITE chunk is written immediately before the EVTS chunk whose records
 * first use its entries, holding only sites no earlier chunk of the file
 * defined, so a file cut anywhere still decodes up to its last whole
 * chunk; a site that has fields or is not a plain log call gets a SITX
 * entry, in a SITX chunk right after the SITE chunk. Entries are copied
 * from the site's resolved description (src/sites/desc.h): nothing is
 * parsed here. Blocks are stored with the owner's codec (em->codec):
 * LZ4-compressed with the state the owner reserved; packed by record type
 * (codec 2, snapshot/pack.c) record by record as they come; or packed that
 * way and then compressed by zstd with the context the owner reserved
 * (codec 3, snapshot/compression.c), kept as packed when zstd does not
 * make them smaller. Any block is stored as it is (codec 0) when its codec
 * does not make it smaller, or when the owner asked for none. A file with
 * packed or zstd blocks says so in its header (incompatible flags PACKED,
 * ZSTD), so that a reader that cannot decode them refuses the file instead
 * of losing its events.
 *
 * With whole_chunks set (a stream's segment), the output buffer goes out
 * only between chunks: a chunk that does not fit what is left of the
 * buffer sends the buffer first, and one larger than the buffer goes out
 * on its own, so a reader of the growing file only ever finds a partial
 * chunk at its very end, and `flushed` says where the last whole chunk
 * known to be written ends (the stream cuts the file back there when a
 * write fails).
 */
#include "snapshot/emit.h"

#include <lz4.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/internal.h"
#include "sites/desc.h"
#include "sites/fields.h"
#include "snapshot/compression.h"
#include "snapshot/metrics_chunk.h"
#include "snapshot/redact.h"

_Static_assert(TTLOG__SITE_DESC_MAX_FIELDS == TTLOG__FMT_MAX_ARGS,
	       "a description names the fields a SITX entry can");

/* Runs in signal context. */
void ttlog__emit_reset(struct ttlog__emit *em, int fd, unsigned char *out, size_t cap)
{
	em->file.fd = fd;
	em->file.failed = 0;
	em->file.buf = out;
	em->file.cap = cap;
	em->file.len = 0;
	em->file.sink = NULL; /* plain; src/snapshot/seal.c sets it for an encrypted file */
	em->file.sink_ctx = NULL;
	em->offset = em->flushed = 0;
	em->prefix_type = 0;
	em->bundle = 0;
	em->site_count = 0;
	em->site_len = 4;
	em->sitx_count = 0;
	em->sitx_len = 4;
	em->sitx_flags = 0;
	em->block_count = 0;
	em->block_len = 0;
	em->packed_len = 0;
	em->unknown = em->strings_truncated = em->events = em->log_events = em->redacted = 0;
	em->block_events = em->restate_left = 0;
	em->last_redact = 0;
	em->last_scan = 0;
	em->last_id = 0;
	em->last_desc = NULL;
	em->sites = em->blocks = 0;
	em->offload = NULL;
	memset(em->site_seen, 0, sizeof em->site_seen);
}

static void drain_offload(struct ttlog__emit *em);

/* Runs in signal context. */
void ttlog__emit_flush(struct ttlog__emit *em)
{
	if (em->offload && em->offload->pending)
		drain_offload(em);
	ttlog__fdbuf_flush(&em->file);
	if (!em->file.failed)
		em->flushed = em->offset;
}

/* Runs in signal context. */
static void put_bytes(struct ttlog__emit *em, const void *data, size_t len)
{
	ttlog__fdbuf_put(&em->file, data, len);
	em->offset += len;
}

/* Runs in signal context. */
void ttlog__emit_chunk(struct ttlog__emit *em, uint32_t type, uint32_t flags, const void *payload,
		       size_t len)
{
	/* An offloaded block comes before every chunk put after it. */
	if (em->offload && em->offload->pending)
		drain_offload(em);
	unsigned char hdr[TTLOG__FMT_CHUNK_HEADER_SIZE];
	ttlog__put_u32(hdr + TTLOG__FMT_CH_TYPE_OFF, type);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_FLAGS_OFF, flags);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_LENGTH_OFF, (uint32_t)len);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_CRC_OFF, ttlog__chunk_crc(hdr, payload, len));
	uint64_t off = em->offset;
	size_t whole = sizeof hdr + len;
	if (em->whole_chunks && em->file.len + whole > em->file.cap)
		ttlog__emit_flush(em);
	if (em->whole_chunks && whole > em->file.cap) {
		/* Larger than the buffer: on its own, right away. */
		ttlog__fdbuf_write(&em->file, hdr, sizeof hdr);
		ttlog__fdbuf_write(&em->file, payload, len);
		em->offset += whole;
		if (!em->file.failed)
			em->flushed = em->offset;
	} else {
		put_bytes(em, hdr, sizeof hdr);
		put_bytes(em, payload, len);
	}
	if (em->chunk_done)
		em->chunk_done(em->chunk_ctx, off, type, payload, len);
}

/* Runs in signal context. */
void ttlog__emit_file_header(struct ttlog__emit *em)
{
	unsigned char h[TTLOG__FMT_FILE_HEADER_SIZE];
	memcpy(h, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN);
	ttlog__put_u16(h + TTLOG__FMT_FH_VERSION_OFF, TTLOG__FMT_VERSION);
	ttlog__put_u16(h + TTLOG__FMT_FH_HEADER_SIZE_OFF, TTLOG__FMT_FILE_HEADER_SIZE);
	uint32_t incompat = 0;
	if (em->codec == TTLOG__FMT_CODEC_PACKED || em->codec == TTLOG__FMT_CODEC_ZSTD)
		incompat |= TTLOG__FMT_INCOMPAT_PACKED;
	if (em->codec == TTLOG__FMT_CODEC_ZSTD)
		incompat |= TTLOG__FMT_INCOMPAT_ZSTD;
	if (em->bundle)
		incompat |= TTLOG__FMT_INCOMPAT_BUNDLE;
	ttlog__put_u32(h + TTLOG__FMT_FH_INCOMPAT_OFF, incompat);
	ttlog__put_u32(h + TTLOG__FMT_FH_COMPAT_OFF, 0);
	ttlog__put_u32(h + TTLOG__FMT_FH_CRC_OFF, ttlog__crc32c(0, h, TTLOG__FMT_FH_CRC_OFF));
	put_bytes(em, h, sizeof h);
}

/* Runs in signal context. */
void ttlog__emit_put_text(unsigned char *buf, size_t *len, const char *p, size_t n, size_t max)
{
	if (n > max)
		n = max;
	ttlog__put_u32(buf + *len, (uint32_t)n);
	if (n)
		memcpy(buf + *len + 4, p, n);
	*len += 4 + n;
}

/* Runs in signal context. */
void ttlog__emit_put_string(unsigned char *buf, size_t *len, const char *s, size_t max)
{
	ttlog__emit_put_text(buf, len, s, s ? strlen(s) : 0, max);
}

/* ---- Call-site dictionary ----------------------------------------------- */

/* Writes the pending SITE entries, then the SITX entries that extend them
 * (docs/FORMAT.md: a SITX entry follows the SITE entry of its id).
 * Runs in signal context. */
void ttlog__emit_flush_sites(struct ttlog__emit *em)
{
	if (!em->site_count)
		return;
	ttlog__put_u32(em->site_buf, em->site_count);
	ttlog__emit_chunk(em, TTLOG__FMT_CHUNK_SITE, 0, em->site_buf, em->site_len);
	em->sites += em->site_count;
	em->site_count = 0;
	em->site_len = 4;
	if (em->sitx_count) {
		ttlog__put_u32(em->sitx_buf, em->sitx_count);
		ttlog__emit_chunk(em, TTLOG__FMT_CHUNK_SITX, em->sitx_flags, em->sitx_buf, em->sitx_len);
		em->sitx_count = 0;
		em->sitx_len = 4;
		em->sitx_flags = 0;
	}
}

/* Queues the SITX entry of a site that has fields or is not a plain log
 * call. The caller has made room. Runs in signal context. */
static void add_site_extension(struct ttlog__emit *em, uint32_t id, const struct ttlog__site_desc *d)
{
	unsigned char *e = em->sitx_buf + em->sitx_len;
	ttlog__put_u32(e + TTLOG__FMT_SITX_ID_OFF, id);
	e[TTLOG__FMT_SITX_KIND_OFF] = d->kind;
	e[TTLOG__FMT_SITX_RESERVED_OFF] = 0;
	ttlog__put_u16(e + TTLOG__FMT_SITX_FIELDS_OFF, (uint16_t)d->fields);
	size_t len = em->sitx_len + TTLOG__FMT_SITX_FIXED_SIZE;
	for (unsigned i = 0; i < TTLOG__SITE_DESC_MAX_FIELDS; i++) {
		if (!(d->fields & (1u << i)))
			continue;
		size_t n;
		const char *name = ttlog__site_desc_name(d, i, &n);
		ttlog__emit_put_text(em->sitx_buf, &len, name, n, TTLOG__FIELD_NAME_MAX);
	}
	em->sitx_len = len;
	em->sitx_count++;
	if (d->kind != TTLOG__KIND_LOG)
		em->sitx_flags |= TTLOG__FMT_CHUNK_REQUIRED;
}

/* A SITE string's length as written. Runs in signal context. */
static size_t clamp_len(uint32_t n)
{
	return n > TTLOG__EMIT_DICT_STRING_MAX ? TTLOG__EMIT_DICT_STRING_MAX : n;
}

/* Runs in signal context. */
int ttlog__emit_has_site(const struct ttlog__emit *em, uint32_t id)
{
	return id <= TTLOG__MAX_SITES && (em->site_seen[id / 8] & (1u << (id % 8)));
}

/* Queues a site for the next SITE chunk, once per file. Runs in signal
 * context. */
void ttlog__emit_add_site(struct ttlog__emit *em, uint32_t id, const struct ttlog__site_desc *d)
{
	size_t need = TTLOG__FMT_SITE_FIXED_SIZE + d->nargs + 16 + clamp_len(d->format_len) +
		      clamp_len(d->file_len) + clamp_len(d->function_len) + clamp_len(d->target_len);
	int extended = d->fields != 0 || d->kind != TTLOG__KIND_LOG;
	size_t xneed = TTLOG__FMT_SITX_FIXED_SIZE +
		       (size_t)__builtin_popcount(d->fields) * (4 + TTLOG__FIELD_NAME_MAX);
	if (em->site_len + need > TTLOG__EMIT_SITE_BUF ||
	    (extended && em->sitx_len + xneed > TTLOG__EMIT_SITX_BUF))
		ttlog__emit_flush_sites(em);
	if (extended)
		add_site_extension(em, id, d);
	unsigned char *e = em->site_buf + em->site_len;
	ttlog__put_u32(e + TTLOG__FMT_SITE_ID_OFF, id);
	e[TTLOG__FMT_SITE_LEVEL_OFF] = d->level;
	e[TTLOG__FMT_SITE_NARGS_OFF] = d->nargs;
	ttlog__put_u16(e + TTLOG__FMT_SITE_RESERVED_OFF, 0);
	ttlog__put_u32(e + TTLOG__FMT_SITE_LINE_OFF, d->line);
	memcpy(e + TTLOG__FMT_SITE_FIXED_SIZE, d->arg_types, d->nargs);
	size_t len = em->site_len + TTLOG__FMT_SITE_FIXED_SIZE + d->nargs;
	ttlog__emit_put_text(em->site_buf, &len, d->format, d->format_len, TTLOG__EMIT_DICT_STRING_MAX);
	ttlog__emit_put_text(em->site_buf, &len, d->file, d->file_len, TTLOG__EMIT_DICT_STRING_MAX);
	ttlog__emit_put_text(em->site_buf, &len, d->function, d->function_len,
			     TTLOG__EMIT_DICT_STRING_MAX);
	ttlog__emit_put_text(em->site_buf, &len, d->target, d->target_len, TTLOG__EMIT_DICT_STRING_MAX);
	em->site_len = len;
	em->site_count++;
	if (id <= TTLOG__MAX_SITES)
		em->site_seen[id / 8] |= (uint8_t)(1u << (id % 8));
}

/* ---- Event blocks ------------------------------------------------------- */

/* The EVTS payload of a block: packed (codecs 2 and 3), then zstd (codec
 * 3, kept when smaller), or LZ4 (codec 1); stored as it is when no codec
 * made it smaller. Its data goes after the fixed fields at *out. Runs in
 * signal context. */
static void compress_block(uint8_t codec, void *lz4_state, void *zstd, const unsigned char *block,
			   size_t block_len, unsigned char *packed_buf, size_t packed_len,
			   unsigned char *zbuf, uint32_t thread, uint32_t tid, uint32_t count,
			   uint64_t first, uint64_t last, const unsigned char **out, size_t *out_len)
{
	unsigned char *p = packed_buf;
	size_t packed = 0; /* 0: no codec made it smaller */
	if (codec == TTLOG__FMT_CODEC_PACKED || codec == TTLOG__FMT_CODEC_ZSTD) {
		/* Packed as the records came (ttlog__emit_record). */
		packed = packed_len;
		if (codec == TTLOG__FMT_CODEC_ZSTD) {
			/* Kept only when smaller than the packed data. */
			size_t z = ttlog__zstd_compress(zstd, zbuf + TTLOG__FMT_EVTS_FIXED_SIZE,
							packed - 1, p + TTLOG__FMT_EVTS_FIXED_SIZE,
							packed);
			if (z) {
				p = zbuf;
				packed = z;
			} else {
				codec = TTLOG__FMT_CODEC_PACKED;
			}
		}
	} else if (codec == TTLOG__FMT_CODEC_LZ4) {
		int n = LZ4_compress_fast_extState(lz4_state, (const char *)block,
						   (char *)p + TTLOG__FMT_EVTS_FIXED_SIZE,
						   (int)block_len, TTLOG__EMIT_LZ4_BOUND, 1);
		packed = n > 0 ? (size_t)n : 0;
	}
	if (packed == 0 || packed >= block_len) {
		codec = TTLOG__FMT_CODEC_NONE; /* incompressible, or none asked for: as is */
		p = packed_buf;
		memcpy(p + TTLOG__FMT_EVTS_FIXED_SIZE, block, block_len);
		packed = block_len;
	}
	memset(p, 0, TTLOG__FMT_EVTS_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_THREAD_OFF, thread);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_TID_OFF, tid);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_COUNT_OFF, count);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF, (uint32_t)block_len);
	ttlog__put_u64(p + TTLOG__FMT_EVTS_FIRST_OFF, first);
	ttlog__put_u64(p + TTLOG__FMT_EVTS_LAST_OFF, last);
	p[TTLOG__FMT_EVTS_CODEC_OFF] = codec;
	*out = p;
	*out_len = TTLOG__FMT_EVTS_FIXED_SIZE + packed;
}

/* Runs in signal context. */
void ttlog__emit_compress(struct ttlog__emit_job *j)
{
	compress_block(j->codec, j->lz4_state, j->zstd, j->block, j->block_len, j->packed,
		       j->packed_len, j->zbuf, j->thread, j->tid, j->count, j->first, j->last,
		       &j->out, &j->out_len);
}

/* The offloaded block's EVTS chunk, once it is compressed: written before
 * any later chunk. Runs in signal context (the wait is a futex). */
static void drain_offload(struct ttlog__emit *em)
{
	struct ttlog__emit_offload *o = em->offload;
	o->pending = 0;
	o->wait(o->ctx);
	ttlog__emit_chunk(em, TTLOG__FMT_CHUNK_EVTS, 0, o->job->out, o->job->out_len);
}

/* Hands the pending block to the offload: copies of its records and
 * packed data, and what its chunk's fixed fields say. Runs in signal
 * context. */
static void submit_offload(struct ttlog__emit *em)
{
	struct ttlog__emit_offload *o = em->offload;
	struct ttlog__emit_job *j = o->job;
	j->codec = em->codec;
	j->thread = em->block_thread;
	j->tid = em->block_tid;
	j->count = em->block_count;
	j->first = em->block_first;
	j->last = em->block_last;
	j->block_len = em->block_len;
	j->packed_len = em->packed_len;
	memcpy(j->block, em->block, em->block_len);
	if (em->codec == TTLOG__FMT_CODEC_PACKED || em->codec == TTLOG__FMT_CODEC_ZSTD)
		memcpy(j->packed + TTLOG__FMT_EVTS_FIXED_SIZE, em->packed + TTLOG__FMT_EVTS_FIXED_SIZE,
		       em->packed_len);
	o->pending = 1;
	o->submit(o->ctx, j);
}

/* Runs in signal context. */
void ttlog__emit_flush_block(struct ttlog__emit *em)
{
	if (!em->block_count)
		return;
	if (em->offload && em->offload->pending)
		drain_offload(em);
	ttlog__emit_flush_sites(em); /* the dictionary entries this block needs come first */
	if (em->prefix_type) {
		ttlog__emit_chunk(em, em->prefix_type, em->prefix_flags, em->prefix, em->prefix_len);
		em->prefix_type = 0;
	}
	if (em->offload) {
		submit_offload(em);
	} else {
		const unsigned char *p;
		size_t len;
		compress_block(em->codec, em->lz4_state, em->zstd, em->block, em->block_len, em->packed,
			       em->packed_len, em->zbuf, em->block_thread, em->block_tid,
			       em->block_count, em->block_first, em->block_last, &p, &len);
		ttlog__emit_chunk(em, TTLOG__FMT_CHUNK_EVTS, 0, p, len);
	}
	em->events += em->block_count;
	em->log_events += em->block_events;
	em->blocks++;
	em->block_count = 0;
	em->block_events = 0;
	em->block_len = 0;
	em->packed_len = 0;
}

/* Runs in signal context. */
void ttlog__emit_thread(struct ttlog__emit *em, uint32_t thread, uint32_t tid)
{
	if (em->block_thread != thread || em->block_tid != tid) {
		if (em->block_count)
			ttlog__emit_flush_block(em);
		em->restate_left = 0; /* a RESTATE group is one thread's */
	}
	em->block_thread = thread;
	em->block_tid = tid;
}

/* Whether a record is an event, the rule the reader's iteration follows
 * (docs/FORMAT.md 16): a log call, a span's end, a span's begin unless it
 * re-states a span already open (one of the records a RESTATE record
 * announces). Keeps em->restate_left. Runs in signal context. */
static uint32_t is_event(struct ttlog__emit *em, const struct ttlog__site_desc *d,
			 const unsigned char *rec, uint32_t size)
{
	int opening = d->kind == TTLOG__KIND_CONTEXT_PUSH || d->kind == TTLOG__KIND_SPAN_BEGIN;
	int restated = em->restate_left > 0 && opening;
	em->restate_left = restated ? em->restate_left - 1 : 0;
	switch (d->kind) {
	case TTLOG__KIND_LOG:
		return 1;
	case TTLOG__KIND_SPAN_END:
		return d->nargs >= 1;
	case TTLOG__KIND_SPAN_BEGIN:
		return !restated && d->nargs >= 4;
	case TTLOG__KIND_RESTATE:
		if (d->nargs >= 1 && size >= TTLOG__FMT_RECORD_HEADER_SIZE + 4)
			em->restate_left = ttlog__get_u32(rec + TTLOG__FMT_RECORD_HEADER_SIZE);
		return 0;
	default:
		return 0;
	}
}

/* Runs in signal context. */
int ttlog__emit_record(struct ttlog__emit *em, const unsigned char *rec, uint32_t size, uint32_t id,
		       uint64_t ticks)
{
	/* A record larger than a block: never from intact rings (the string
	 * limit keeps records below it); from a mapping another process wrote,
	 * it would run past the block. Counted as lost. */
	if (size > TTLOG__FMT_MAX_BLOCK_RAW) {
		em->unknown++;
		return -1;
	}
	/* Runs of one site are the rule: the last lookup is kept (a site's
	 * description never changes once it has one). */
	const struct ttlog__site_desc *d = em->last_desc;
	if (id != em->last_id || !d) {
		d = em->site(em->site_ctx, id);
		if (!d) {
			/* A site id no site has: never happens with intact
			 * records (Req4 in ring.c); if it does, count it as lost. */
			em->unknown++;
			return -1;
		}
		em->last_id = id;
		em->last_desc = d;
		em->last_redact = ttlog__redact_mask(em->redact, d);
		em->last_scan = ttlog__redact_scans(em->redact, d);
		if (!ttlog__emit_has_site(em, id))
			ttlog__emit_add_site(em, id, d);
	}
	uint32_t rec_size = size;
	if (em->last_redact || em->last_scan) {
		/* Values the rules name never reach the block (snapshot/redact.h). */
		rec_size = ttlog__redact_size(rec, size, d, em->last_redact);
		if (!rec_size || rec_size > TTLOG__FMT_MAX_BLOCK_RAW) {
			em->unknown++; /* cannot be redacted: not written, counted as lost */
			return -1;
		}
	}
	if (em->block_len + rec_size > TTLOG__FMT_MAX_BLOCK_RAW)
		ttlog__emit_flush_block(em);
	if (!em->block_count) {
		em->block_first = ticks;
		if (em->pack)
			ttlog__pack_reset(em->pack);
	}
	em->block_last = ticks;
	unsigned char *copy = em->block + em->block_len;
	if (em->last_redact || em->last_scan) {
		em->redacted += ttlog__redact_copy(copy, rec, size, d, em->last_redact,
						   em->last_scan ? em->redact : NULL);
		size = rec_size;
		rec = copy;
	} else {
		memcpy(copy, rec, size);
	}
	em->block_len += size;
	uint32_t cut = TTLOG__PACK_ESCAPED;
	if (em->pack)
		em->packed_len += ttlog__pack_record(em->pack,
						     em->packed + TTLOG__FMT_EVTS_FIXED_SIZE +
							     em->packed_len,
						     copy, size, d->arg_types, d->nargs, &cut);
	if (cut == TTLOG__PACK_ESCAPED)
		cut = ttlog__record_truncated_strings(rec, size, d);
	em->strings_truncated += cut;
	em->block_count++;
	em->block_events += is_event(em, d, rec, size);
	return 0;
}
