/* SPDX-License-Identifier: MIT */
/*
 * records.c - the records of EVTS blocks: decoding one record (the same
 * code checks every record in pass 2 and decodes it again for the
 * iteration, so both agree), decoding a block (LZ4, or codec 2 through
 * reader/unpack.c, which keeps the records before any damage), checking a block
 * against what its header states (pass 2 runs it on every block:
 * reader/pass2.c), and for a lazy open pass 2's stand-in that takes the
 * block headers at their word.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <zstd.h>

#include "common/internal.h"
#include "reader/impl.h"
#include "reader/unpack.h"
#include "format/format.h"
#include "ttlog_reader.h"

_Static_assert(TTLOG__FMT_MAX_BLOCK_RAW <= (uint32_t)INT32_MAX, "LZ4 sizes are ints");
_Static_assert(TTLOG__FMT_MAX_CHUNK <= (uint32_t)INT32_MAX, "LZ4 sizes are ints");

static const char *arg_type_name(int type)
{
	static const char *const names[] = {"?",   "BOOL", "CHAR", "I8",  "U8",  "I16",
					    "U16", "I32",  "U32",  "I64", "U64", "F64",
					    "LDBL", "PTR", "STR", "LD80"};
	return type >= 0 && (size_t)type < TTLOG__ARRAY_SIZE(names) ? names[type] : "?";
}

/* Bytes of an argument before any string bytes. */
static size_t arg_width(int type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: return 1;
	case TTLOG_ARG_I16: case TTLOG_ARG_U16: return 2;
	case TTLOG_ARG_I32: case TTLOG_ARG_U32: case TTLOG_ARG_STR: return 4;
	case TTLOG_ARG_LD80: return 10;
	default: return 8;
	}
}

/* What decode_record() does with a record's arguments. */
enum { ARGS_CHECK, ARGS_DECODE, ARGS_SKIP };

/*
 * The record at raw[pos..len): its header checked, then (but for
 * ARGS_SKIP) its arguments checked, and their values decoded for
 * ARGS_DECODE or when its site re-states scopes (is_event() reads the
 * count). Inline in the callers below, so that each pays only for what it
 * reads.
 */
static inline __attribute__((always_inline)) int
decode_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len, size_t pos,
	      struct decoded *d, char *why, size_t why_size, int values)
{
	size_t left = len - pos;
	const unsigned char *p = raw + pos;
	if (left < TTLOG__FMT_RECORD_HEADER_SIZE) {
		snprintf(why, why_size,
			 "expected a %u-byte record header, found %zu bytes left in the block",
			 TTLOG__FMT_RECORD_HEADER_SIZE, left);
		return 0;
	}
	uint32_t size = ttlog__get_u32(p);
	uint32_t id = ttlog__get_u32(p + 4);
	if (size < TTLOG__FMT_RECORD_HEADER_SIZE || size % 8 != 0 || size > left) {
		snprintf(why, why_size,
			 "expected a record size that is a multiple of 8 from 16 to %zu, found %u",
			 left, (unsigned)size);
		return 0;
	}
	size_t si = id ? ttlog__reader_idmap_find(&r->site_map, id) : NOWHERE;
	if (si == NOWHERE) {
		snprintf(why, why_size, "expected the id of a site defined in a SITE chunk, found %u",
			 (unsigned)id);
		return 0;
	}
	const struct rsite *site = &r->sites[si];
	d->size = size;
	d->ticks = ttlog__get_u64(p + 8);
	d->site = site;
	if (values == ARGS_SKIP)
		return 1;
	const int fill = values == ARGS_DECODE || site->info.kind == TTLOG__FMT_KIND_RESTATE;
	size_t at = TTLOG__FMT_RECORD_HEADER_SIZE;
	for (unsigned i = 0; i < site->info.nargs; i++) {
		struct ttlog_arg *a = &d->args[i];
		int type = site->types[i];
		size_t w = arg_width(type);
		if (fill) {
			memset(a, 0, sizeof *a);
			a->type = type;
		}
		if (w > size - at) {
			snprintf(why, why_size,
				 "expected argument %u (%s) of site %u within the %u-byte record, "
				 "found %zu bytes left",
				 i + 1, arg_type_name(type), (unsigned)id, (unsigned)size, size - at);
			return 0;
		}
		const unsigned char *q = p + at;
		at += w;
		if (!fill && type != TTLOG_ARG_STR)
			continue; /* its width is all there is to check */
		switch (type) {
		case TTLOG_ARG_BOOL: a->v.i = q[0]; break;
		case TTLOG_ARG_CHAR:
		case TTLOG_ARG_I8: a->v.i = (int8_t)q[0]; break;
		case TTLOG_ARG_U8: a->v.u = q[0]; break;
		case TTLOG_ARG_I16: a->v.i = (int16_t)ttlog__get_u16(q); break;
		case TTLOG_ARG_U16: a->v.u = ttlog__get_u16(q); break;
		case TTLOG_ARG_I32: a->v.i = (int32_t)ttlog__get_u32(q); break;
		case TTLOG_ARG_U32: a->v.u = ttlog__get_u32(q); break;
		case TTLOG_ARG_I64: a->v.i = (int64_t)ttlog__get_u64(q); break;
		case TTLOG_ARG_F64:
		case TTLOG_ARG_LDBL: {
			uint64_t bits = ttlog__get_u64(q); /* IEEE-754 binary64 */
			memcpy(&a->v.d, &bits, sizeof a->v.d);
			break;
		}
		case TTLOG_ARG_LD80:
			/* The ten bytes stay where they are (str, str_len 10) for
			 * ttlog_arg_long_double(); v.d is the value rounded. */
			a->str = (const char *)q;
			a->str_len = 10;
			a->v.d = (double)ttlog__ld80_value(q);
			break;
		case TTLOG_ARG_STR: {
			uint32_t word = ttlog__get_u32(q);
			uint32_t n = word & TTLOG__STR_LEN_MASK;
			if ((word & TTLOG__STR_NULL) && word != TTLOG__STR_NULL) {
				snprintf(why, why_size,
					 "expected string argument %u of a NULL pointer to have no "
					 "bytes, found length word 0x%08x",
					 i + 1, (unsigned)word);
				return 0;
			}
			if (n > size - at) {
				snprintf(why, why_size,
					 "expected string argument %u of %u bytes within the %u-byte "
					 "record, found %zu bytes left",
					 i + 1, (unsigned)n, (unsigned)size, size - at);
				return 0;
			}
			at += n;
			if (!fill)
				break;
			a->str = (const char *)(q + 4);
			a->str_len = n;
			a->str_null = (word & TTLOG__STR_NULL) != 0;
			a->str_truncated = (word & TTLOG__STR_TRUNCATED) != 0;
			break;
		}
		default: a->v.u = ttlog__get_u64(q); break; /* U64, PTR */
		}
	}
	if (((at + 7) & ~(size_t)7) != size) {
		snprintf(why, why_size,
			 "expected a record size of %zu for the arguments of site %u, found %u",
			 (at + 7) & ~(size_t)7, (unsigned)id, (unsigned)size);
		return 0;
	}
	return 1;
}

int ttlog__reader_decode_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
				size_t pos, struct decoded *d, char *why, size_t why_size)
{
	return decode_record(r, raw, len, pos, d, why, why_size, ARGS_DECODE);
}

int ttlog__reader_check_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
			       size_t pos, struct decoded *d, char *why, size_t why_size)
{
	return decode_record(r, raw, len, pos, d, why, why_size, ARGS_CHECK);
}

int ttlog__reader_record_header(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
				size_t pos, struct decoded *d)
{
	/* The check passed; the bounds are kept all the same, so that a
	 * mistaken caller reads nothing outside the block. */
	if (pos > len || len - pos < TTLOG__FMT_RECORD_HEADER_SIZE)
		return 0;
	const unsigned char *p = raw + pos;
	uint32_t size = ttlog__get_u32(p);
	uint32_t id = ttlog__get_u32(p + 4);
	if (size < TTLOG__FMT_RECORD_HEADER_SIZE || size > len - pos)
		return 0;
	size_t si = id ? ttlog__reader_idmap_find(&r->site_map, id) : NOWHERE;
	if (si == NOWHERE)
		return 0;
	d->size = size;
	d->ticks = ttlog__get_u64(p + 8);
	d->site = &r->sites[si];
	return 1;
}

/* The argument types of a site the SITE chunks define (codec 2). */
static const uint8_t *site_types(void *ctx, uint32_t id, unsigned *nargs)
{
	const struct ttlog_reader *r = ctx;
	size_t si = id ? ttlog__reader_idmap_find(&r->site_map, id) : NOWHERE;
	if (si == NOWHERE)
		return NULL;
	*nargs = r->sites[si].info.nargs;
	return r->sites[si].types;
}

/* The packed data of a codec 3 block: its zstd frame, checked and
 * decompressed into r->zbuf. Returns the packed length, or (size_t)-1
 * after reporting what is wrong. */
static size_t unzstd(struct ttlog_reader *r, const struct rblock *b, const unsigned char *data)
{
	const size_t bound = TTLOG__FMT_PK_BOUND((size_t)b->raw_size);
	if (!r->zstd) {
		r->zstd = ZSTD_createDCtx();
		/* A writer's frame covers at most 80 KiB: a larger window is damage. */
		if (r->zstd)
			ZSTD_DCtx_setParameter(r->zstd, ZSTD_d_windowLogMax, 20);
	}
	if (!r->zbuf)
		r->zbuf = malloc(TTLOG__FMT_PK_BOUND((size_t)TTLOG__FMT_MAX_BLOCK_RAW));
	if (!r->zstd || !r->zbuf) {
		ttlog__reader_report_plain(r, TTLOG_E_NOMEM, "out of memory decoding a block");
		return (size_t)-1;
	}
	unsigned long long n = ZSTD_getFrameContentSize(data, b->data_len);
	if (n == ZSTD_CONTENTSIZE_ERROR) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected a zstd frame, found invalid zstd data (no frame header)");
		return (size_t)-1;
	}
	if (n == ZSTD_CONTENTSIZE_UNKNOWN) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected a zstd frame that states its content size, found "
				     "one that does not");
		return (size_t)-1;
	}
	if (n == 0 || n > bound) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected a zstd frame of 1 to %zu packed bytes for a raw "
				     "size of %u, found one of %llu",
				     bound, (unsigned)b->raw_size, n);
		return (size_t)-1;
	}
	size_t whole = ZSTD_findFrameCompressedSize(data, b->data_len);
	if (ZSTD_isError(whole)) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected one whole zstd frame in the %zu data bytes, found "
				     "invalid zstd data (%s)",
				     b->data_len, ZSTD_getErrorName(whole));
		return (size_t)-1;
	}
	if (whole != b->data_len) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off + whole,
				     "expected one zstd frame filling the %zu data bytes, found "
				     "one of %zu",
				     b->data_len, whole);
		return (size_t)-1;
	}
	size_t got = ZSTD_decompressDCtx(r->zstd, r->zbuf, (size_t)n, data, b->data_len);
	if (ZSTD_isError(got)) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected zstd data that decompresses to %llu packed bytes, "
				     "found invalid zstd data (%s)",
				     n, ZSTD_getErrorName(got));
		return (size_t)-1;
	}
	if (got != n) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected zstd data that decompresses to %llu packed bytes, "
				     "found %zu bytes",
				     n, got);
		return (size_t)-1;
	}
	return got;
}

int ttlog__reader_block_inflate(struct ttlog_reader *r, struct rblock *b, unsigned char *dst)
{
	const unsigned char *data = r->data + b->data_off;
	size_t data_len = b->data_len;
	if (b->codec == TTLOG__FMT_CODEC_ZSTD) {
		data_len = unzstd(r, b, data);
		if (data_len == (size_t)-1)
			return 0;
		data = r->zbuf;
	}
	if (b->codec == TTLOG__FMT_CODEC_PACKED || b->codec == TTLOG__FMT_CODEC_ZSTD) {
		if (!r->unpack) {
			r->unpack = malloc(sizeof *r->unpack);
			if (!r->unpack) {
				ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
							   "out of memory decoding a block");
				return 0;
			}
		}
		struct ttlog__unpacked res;
		if (ttlog__reader_unpack(r->unpack, data, data_len, dst, b->raw_size, site_types, r,
					 &res))
			return 1;
		if (b->codec == TTLOG__FMT_CODEC_ZSTD)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
					     "in the packed data the zstd frame holds, at %zu: %s",
					     res.err_off, res.why);
		else
			ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off + res.err_off, "%s",
					     res.why);
		if (res.records) {
			b->damaged = 1;
			b->good = (uint32_t)res.out_len;
		} else if (b->damaged) {
			b->good = 0;
		}
		/* A block is decoded again each time a cursor enters it, and a
		 * mapped file's bytes can change after its check (reader/map.c):
		 * its records are then at most those this decode made whole,
		 * so that none is read from what it did not write. */
		if (b->nrec > res.records)
			b->nrec = res.records;
		return 0;
	}
	int got = LZ4_decompress_safe((const char *)data, (char *)dst, (int)b->data_len,
				      (int)b->raw_size);
	if (got == (int)b->raw_size)
		return 1;
	if (got < 0)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected LZ4 data that decompresses to %u bytes, found "
				     "invalid LZ4 data",
				     (unsigned)b->raw_size);
	else
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected LZ4 data that decompresses to %u bytes, found %d "
				     "bytes",
				     (unsigned)b->raw_size, got);
	return 0;
}

/* Whether a record is an event the iteration returns: a log call, a span's
 * end, a span's begin that is not a re-statement (one of the records a
 * RESTATE announces; *restate counts those still to come, over the blocks
 * of the thread in file order). The rule of reader_scopes_record(), which
 * the writer follows for END's log_events (docs/FORMAT.md 16). */
static uint32_t is_event(const struct decoded *d, uint32_t *restate)
{
	int kind = d->site->info.kind;
	unsigned nargs = d->site->info.nargs;
	int opening = kind == TTLOG__FMT_KIND_CONTEXT_PUSH || kind == TTLOG__FMT_KIND_SPAN_BEGIN;
	int restated = *restate > 0 && opening;
	*restate = restated ? *restate - 1 : 0;
	switch (kind) {
	case TTLOG__FMT_KIND_LOG:
		return 1;
	case TTLOG__FMT_KIND_SPAN_END:
		return nargs >= 1;
	case TTLOG__FMT_KIND_SPAN_BEGIN:
		return !restated && nargs >= 4;
	case TTLOG__FMT_KIND_RESTATE:
		if (nargs >= 1)
			*restate = (uint32_t)d->args[0].v.u;
		return 0;
	default:
		return 0;
	}
}

static inline __attribute__((always_inline)) uint32_t
check_block(struct ttlog_reader *r, struct rblock *b, const unsigned char *raw, uint32_t *restate,
	    uint64_t *min_ticks, uint64_t *max_ticks, int args)
{
	struct decoded d;
	char why[300];
	uint64_t first = 0, last = 0, lo = UINT64_MAX, hi = 0;
	size_t pos = 0;
	uint32_t n = 0;
	uint32_t nev = 0;
	int bad = b->damaged; /* the decoder reported it */
	size_t end = b->damaged ? b->good : b->raw_size;
	while (pos < end) {
		if (!decode_record(r, raw, end, pos, &d, why, sizeof why, args)) {
			if (args == ARGS_SKIP)
				return UINT32_MAX; /* nothing changed: the whole check
						      says what is wrong */
			ttlog__reader_report_record(r, b, pos, why);
			bad = 1;
			break;
		}
		if (n == 0)
			first = d.ticks;
		last = d.ticks;
		lo = TTLOG__MIN(lo, d.ticks);
		hi = TTLOG__MAX(hi, d.ticks);
		if (d.site->info.kind == TTLOG__FMT_KIND_LOG ||
		    d.site->info.kind == TTLOG__FMT_KIND_SPAN_END) {
			*min_ticks = TTLOG__MIN(*min_ticks, d.ticks);
			*max_ticks = TTLOG__MAX(*max_ticks, d.ticks);
		}
		if (args != ARGS_SKIP)
			nev += is_event(&d, restate);
		n++;
		pos += d.size;
	}
	if (args == ARGS_SKIP &&
	    (n != b->count || (n && (first != b->first_ticks || last != b->last_ticks))))
		return UINT32_MAX; /* the whole check says what is wrong */
	/* Re-stated scopes keep their old times, so lo and hi are held
	 * against the header only in a file without scopes, which is known
	 * once every block is checked (see ttlog_reader's ticks_outside). */
	if (bad || n != b->count || (n && (first != b->first_ticks || last != b->last_ticks)))
		r->header_mismatch = 1;
	if (n && (lo < b->first_ticks || hi > b->last_ticks))
		r->ticks_outside = 1;
	b->nrec = n;
	if (args != ARGS_SKIP)
		b->nev = nev;
	b->rec_first = first;
	b->checked = 1;
	size_t fields = b->chunk_off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	if (!bad && n != b->count)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, fields + TTLOG__FMT_EVTS_COUNT_OFF,
				     "expected the %u records the EVTS header states, found %u",
				     (unsigned)b->count, (unsigned)n);
	else if (!bad && n && (first != b->first_ticks || last != b->last_ticks))
		ttlog__reader_report(r, TTLOG_E_CORRUPT, fields + TTLOG__FMT_EVTS_FIRST_OFF,
				     "expected first and last ticks %llu and %llu as the EVTS "
				     "header states, found %llu and %llu",
				     (unsigned long long)b->first_ticks,
				     (unsigned long long)b->last_ticks, (unsigned long long)first,
				     (unsigned long long)last);
	return n;
}

uint32_t ttlog__reader_check_block(struct ttlog_reader *r, struct rblock *b,
				   const unsigned char *raw, uint32_t *restate,
				   uint64_t *min_ticks, uint64_t *max_ticks)
{
	return check_block(r, b, raw, restate, min_ticks, max_ticks, ARGS_CHECK);
}

void ttlog__reader_check_block_headers(struct ttlog_reader *r, struct rblock *b,
				       const unsigned char *raw)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t restate = 0;
	/* A header that fails may be the consequence of damage in the
	 * arguments before it (a size that does not fit them): the whole
	 * check then finds the first bad record, as it always did. */
	if (check_block(r, b, raw, &restate, &lo, &hi, ARGS_SKIP) == UINT32_MAX)
		(void)check_block(r, b, raw, &restate, &lo, &hi, ARGS_CHECK);
}

uint32_t ttlog__reader_count_events(const struct ttlog_reader *r, const struct rblock *b,
				    const unsigned char *raw, uint32_t *restate)
{
	struct decoded d;
	char why[300];
	size_t pos = 0, end = b->damaged ? b->good : b->raw_size;
	uint32_t nev = 0;
	for (uint32_t k = 0; k < b->nrec; k++) {
		if (!ttlog__reader_check_record(r, raw, end, pos, &d, why, sizeof why))
			break; /* decoded when checked; cannot happen */
		nev += is_event(&d, restate);
		pos += d.size;
	}
	return nev;
}

void ttlog__reader_count_blocks(struct ttlog_reader *r)
{
	uint64_t min_ticks = UINT64_MAX, max_ticks = 0;
	for (size_t i = 0; i < r->nblocks; i++) {
		struct rblock *b = &r->blocks[i];
		struct rthread *t = &r->threads[b->slot];
		b->nrec = b->count;
		b->rec_first = b->first_ticks;
		if (!b->count)
			continue;
		t->records += b->count;
		r->records += b->count;
		t->info.events += b->count; /* records: only decoding tells events */
		r->info.events += b->count;
		if (b->promoted)
			r->info.promoted += b->count;
		min_ticks = TTLOG__MIN(min_ticks, b->first_ticks);
		max_ticks = TTLOG__MAX(max_ticks, b->last_ticks);
		if (b->codec != TTLOG__FMT_CODEC_NONE) {
			struct rthread *c = &r->threads[b->cursor];
			c->max_raw = TTLOG__MAX(c->max_raw, (size_t)b->raw_size);
		}
	}
	r->info.records = r->records;
	/* The events among the records: END says, from revision 9. */
	if (r->have_end && r->end_has_log_events && !r->info.indexed &&
	    r->end_log_events <= r->info.events)
		r->info.events = r->end_log_events;
	else if (r->info.events)
		r->info.events_are_records = 1;
	if (r->info.events) {
		r->info.first_ns = ttlog__reader_ticks_to_ns(r, min_ticks);
		r->info.last_ns = ttlog__reader_ticks_to_ns(r, max_ticks);
	}
}
