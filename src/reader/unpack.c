/* SPDX-License-Identifier: MIT */
/*
 * unpack.c - decoding EVTS codec 2 (see unpack.h; the encoding is
 * docs/FORMAT.md section 9.5, the writer's side snapshot/pack.c).
 *
 * One pass over the data. For each record: the header byte (only known
 * bits), then either an escape (a varint size and that many raw bytes) or
 * a typed record: the site id (or the previous typed record's), the ticks
 * delta, and each argument by its site's type, written straight into
 * `out` with every write checked against raw_size. The slot state
 * (values, and the offsets in `out` of the previous strings, which were
 * written and checked earlier) is updated only once the whole record has
 * decoded, so a record that fails leaves no trace.
 */
#include "reader/unpack.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/internal.h"
#include "ttlog.h"

struct in {
	const unsigned char *p;
	size_t len, pos;
};

/* An unsigned LEB128 of at most 10 bytes whose value fits 64 bits (and
 * `max`). Returns 0 on a truncated, overlong or too large varint. */
static int get_varint(struct in *in, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned k = 0; k < TTLOG__FMT_PK_VARINT_MAX; k++) {
		if (in->pos >= in->len)
			return 0;
		unsigned char b = in->p[in->pos++];
		if (k == TTLOG__FMT_PK_VARINT_MAX - 1 && b > 1)
			return 0; /* past 64 bits */
		x |= (uint64_t)(b & 0x7f) << (7 * k);
		if (!(b & 0x80)) {
			if (x > max)
				return 0;
			*v = x;
			return 1;
		}
	}
	return 0;
}

static uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static unsigned type_width(uint8_t type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: return 1;
	case TTLOG_ARG_I16: case TTLOG_ARG_U16: return 2;
	case TTLOG_ARG_I32: case TTLOG_ARG_U32: case TTLOG_ARG_STR: return 4;
	case TTLOG_ARG_I64: case TTLOG_ARG_U64: case TTLOG_ARG_F64: case TTLOG_ARG_LDBL:
	case TTLOG_ARG_PTR: return 8;
	default: return 0;
	}
}

/* An integer field as the 64-bit value the next delta is taken from
 * (FORMAT.md 9.5.2): signed types sign-extended, the others zero-extended. */
static uint64_t field_value(uint8_t type, const unsigned char *q)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_U8: return q[0];
	case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: return (uint64_t)(int64_t)(int8_t)q[0];
	case TTLOG_ARG_I16: return (uint64_t)(int64_t)(int16_t)ttlog__get_u16(q);
	case TTLOG_ARG_U16: return ttlog__get_u16(q);
	case TTLOG_ARG_I32: return (uint64_t)(int64_t)(int32_t)ttlog__get_u32(q);
	case TTLOG_ARG_U32: return ttlog__get_u32(q);
	default: return ttlog__get_u64(q); /* I64, U64, PTR */
	}
}

static int fail(struct ttlog__unpacked *res, size_t off, uint32_t rec, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct ttlog__unpacked *res, size_t off, uint32_t rec, const char *fmt, ...)
{
	res->err_off = off;
	int n = snprintf(res->why, sizeof res->why, "codec 2 record %u: ", (unsigned)rec + 1);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof res->why)
		vsnprintf(res->why + n, sizeof res->why - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

int ttlog__reader_unpack(struct ttlog__unpack_state *st, const unsigned char *data, size_t in_len,
			 unsigned char *out, size_t raw_size, ttlog__unpack_types_fn types,
			 void *ctx, struct ttlog__unpacked *res)
{
	struct in in = {data, in_len, 0};
	size_t op = 0;
	uint32_t n = 0, prev_site = 0;
	uint64_t prev_ticks = 0;
	memset(st->site, 0, sizeof st->site);
	res->out_len = 0;
	res->records = 0;
	res->err_off = 0;
	res->why[0] = 0;
	while (in.pos < in.len) {
		size_t at = in.pos;
		if (op == raw_size)
			return fail(res, at, n,
				    "expected the end of the data after the %zu bytes raw_size "
				    "states, found %zu more bytes",
				    raw_size, in.len - at);
		unsigned hdr = in.p[in.pos++];
		if (hdr & ~TTLOG__FMT_PK_HEADER_KNOWN)
			return fail(res, at, n, "expected a header byte with bits 0x%02x only, found 0x%02x",
				    TTLOG__FMT_PK_HEADER_KNOWN, hdr);
		if (hdr & TTLOG__FMT_PK_ESCAPE) {
			uint64_t size;
			if (hdr != TTLOG__FMT_PK_ESCAPE)
				return fail(res, at, n, "expected an escape header byte 0x%02x alone, found 0x%02x",
					    TTLOG__FMT_PK_ESCAPE, hdr);
			if (!get_varint(&in, raw_size - op, &size))
				return fail(res, at + 1, n,
					    "expected an escaped record's size as a varint of at most "
					    "the %zu bytes left of raw_size",
					    raw_size - op);
			if (size < TTLOG__FMT_RECORD_HEADER_SIZE || size % 8 != 0)
				return fail(res, at + 1, n,
					    "expected an escaped record size that is a multiple of 8 "
					    "from 16, found %llu",
					    (unsigned long long)size);
			if (size > in.len - in.pos)
				return fail(res, in.pos, n,
					    "expected an escaped record of %llu bytes, found %zu bytes "
					    "of data left",
					    (unsigned long long)size, in.len - in.pos);
			memcpy(out + op, in.p + in.pos, (size_t)size);
			in.pos += (size_t)size;
			op += (size_t)size;
			res->out_len = op;
			res->records = ++n;
			continue;
		}

		uint64_t id;
		if (hdr & TTLOG__FMT_PK_SAME_SITE) {
			if (!prev_site)
				return fail(res, at, n,
					    "expected a typed record before one that repeats its site, "
					    "found none in the block");
			id = prev_site;
		} else if (!get_varint(&in, UINT32_MAX, &id) || !id) {
			return fail(res, at + 1, n, "expected a site id from 1 to %u as a varint",
				    (unsigned)UINT32_MAX);
		}
		unsigned nargs = 0;
		const uint8_t *ty = types(ctx, (uint32_t)id, &nargs);
		if (!ty || nargs > TTLOG__FMT_MAX_ARGS)
			return fail(res, at, n, "expected the id of a site defined in a SITE chunk, found %llu",
				    (unsigned long long)id);
		uint64_t z;
		size_t tick_at = in.pos;
		if (!get_varint(&in, UINT64_MAX, &z))
			return fail(res, tick_at, n, "expected the ticks delta as a varint of at most 10 bytes");
		uint64_t ticks = prev_ticks + unzigzag(z);
		unsigned s = (unsigned)(id % TTLOG__FMT_PK_SLOTS);
		int known = st->site[s] == id;
		if ((hdr & TTLOG__FMT_PK_SAME_STRS) && !known)
			return fail(res, at, n,
				    "expected an earlier record of site %llu in the block for its "
				    "repeated strings, found none",
				    (unsigned long long)id);

		size_t left = raw_size - op; /* bytes this record may take */
		unsigned char *rec = out + op;
		size_t pos = TTLOG__FMT_RECORD_HEADER_SIZE;
		if (pos > left)
			return fail(res, at, n,
				    "expected room for a record header in the %zu bytes left of "
				    "raw_size",
				    left);
		uint64_t val[TTLOG__FMT_MAX_ARGS];
		uint32_t str_at[TTLOG__FMT_MAX_ARGS];
		for (unsigned i = 0; i < nargs; i++) {
			unsigned w = type_width(ty[i]);
			size_t arg_at = in.pos;
			if (!w)
				return fail(res, at, n, "expected argument %u of site %llu to have a known type, found code %u",
					    i + 1, (unsigned long long)id, (unsigned)ty[i]);
			if (w > left - pos)
				return fail(res, arg_at, n,
					    "expected argument %u of site %llu within the %zu bytes "
					    "left of raw_size",
					    i + 1, (unsigned long long)id, left);
			unsigned char *q = rec + pos;
			uint64_t p1 = known ? st->v[s][i] : 0, p2 = known ? st->v2[s][i] : 0;
			val[i] = 0;
			if (ty[i] == TTLOG_ARG_STR) {
				const unsigned char *src;
				uint32_t word, len;
				uint64_t v = 0;
				if (!(hdr & TTLOG__FMT_PK_SAME_STRS) && !get_varint(&in, (uint64_t)UINT32_MAX + 1, &v))
					return fail(res, arg_at, n,
						    "expected string argument %u as a varint of at most "
						    "2^32",
						    i + 1);
				if (v == 0) {
					if (!known)
						return fail(res, arg_at, n,
							    "expected string argument %u to be new (no "
							    "earlier record of site %llu in the block), "
							    "found a repeat",
							    i + 1, (unsigned long long)id);
					const unsigned char *prev = out + st->str[s][i];
					word = ttlog__get_u32(prev);
					src = prev + 4;
				} else {
					word = (uint32_t)(v - 1);
					src = in.p + in.pos;
				}
				len = word & TTLOG__STR_LEN_MASK;
				if (len > left - pos - 4)
					return fail(res, arg_at, n,
						    "expected string argument %u of %u bytes within the "
						    "%zu bytes left of raw_size",
						    i + 1, (unsigned)len, left);
				if (v != 0) {
					if (len > in.len - in.pos)
						return fail(res, arg_at, n,
							    "expected %u bytes of string argument %u, "
							    "found %zu bytes of data left",
							    (unsigned)len, i + 1, in.len - in.pos);
					in.pos += len;
				}
				ttlog__put_u32(q, word);
				memmove(q + 4, src, len);
				str_at[i] = (uint32_t)(op + pos);
				pos += 4 + (size_t)len;
				continue;
			}
			if (ty[i] == TTLOG_ARG_F64 || ty[i] == TTLOG_ARG_LDBL) {
				if (in.pos >= in.len)
					return fail(res, arg_at, n,
						    "expected the control byte of argument %u, found the "
						    "end of the data",
						    i + 1);
				unsigned c = in.p[in.pos++];
				unsigned cnt = c & TTLOG__FMT_PK_F_N_MASK;
				unsigned tz = (c >> TTLOG__FMT_PK_F_TZ_SHIFT) & 7;
				if (cnt + tz > 8 || (!cnt && tz))
					return fail(res, arg_at, n,
						    "expected a control byte of argument %u with at most 8 "
						    "bytes in all, found 0x%02x",
						    i + 1, c);
				if (cnt > in.len - in.pos)
					return fail(res, arg_at, n,
						    "expected %u bytes of argument %u, found %zu bytes of "
						    "data left",
						    cnt, i + 1, in.len - in.pos);
				uint64_t x = 0;
				for (unsigned k = 0; k < cnt; k++)
					x |= (uint64_t)in.p[in.pos + k] << (8 * (tz + k));
				in.pos += cnt;
				uint64_t pred = (c & TTLOG__FMT_PK_F_STRIDE) ? 2 * p1 - p2 : p1;
				val[i] = x ^ pred;
				ttlog__put_u64(q, val[i]);
			} else {
				uint64_t d;
				if (!get_varint(&in, UINT64_MAX, &d))
					return fail(res, arg_at, n,
						    "expected argument %u as a varint of at most 10 bytes",
						    i + 1);
				unsigned char b[8];
				ttlog__put_u64(b, p1 + unzigzag(d));
				memcpy(q, b, w); /* little-endian: the low bytes */
				val[i] = field_value(ty[i], q); /* the state: the field, extended */
			}
			pos += w;
		}
		size_t size = (pos + 7) & ~(size_t)7;
		if (size > left)
			return fail(res, at, n,
				    "expected a record of %zu bytes within the %zu bytes left of "
				    "raw_size",
				    size, left);
		memset(rec + pos, 0, size - pos);
		ttlog__put_u32(rec, (uint32_t)size);
		ttlog__put_u32(rec + 4, (uint32_t)id);
		ttlog__put_u64(rec + 8, ticks);

		prev_site = (uint32_t)id;
		prev_ticks = ticks;
		for (unsigned i = 0; i < nargs; i++) {
			if (ty[i] == TTLOG_ARG_STR) {
				st->str[s][i] = str_at[i];
			} else {
				st->v2[s][i] = known ? st->v[s][i] : 0;
				st->v[s][i] = val[i];
			}
		}
		st->site[s] = (uint32_t)id;
		op += size;
		res->out_len = op;
		res->records = ++n;
	}
	if (op != raw_size)
		return fail(res, in.len, n,
			    "expected data for %zu bytes of records as raw_size states, found the "
			    "end of the data after %zu",
			    raw_size, op);
	return 1;
}
