/* SPDX-License-Identifier: MIT */
/*
 * pack.c - the codec 2 (PACKED) encoder; the encoding is specified in
 * docs/FORMAT.md section 9.5 and summed up in pack.h.
 *
 * Per record: a header byte, the site id unless it is the previous typed
 * record's, the ticks as a zigzag varint delta, then each argument by its
 * type against the same argument of the slot's previous record (slot =
 * site id mod 256, used only when that record has the same site):
 * integers and pointers as zigzag varint deltas, doubles XOR'ed with one of
 * two predictions (the previous value, or the previous value plus the last
 * step) and stored without their zero high and low bytes, strings left out
 * when they repeat. A record whose typed form would be longer than the
 * record stored raw behind an escape is stored that way.
 *
 * Everything here runs in signal context: pure computation over the
 * caller's struct ttlog__pack and buffers, no malloc, no system call.
 */
#include "snapshot/pack.h"

#include <string.h>

#include "common/internal.h"
#include "ttlog.h"

/* Runs in signal context. */
void ttlog__pack_reset(struct ttlog__pack *pk)
{
	pk->prev_site = 0;
	pk->prev_ticks = 0;
	memset(pk->site, 0, sizeof pk->site);
}

/* LEB128: 7 bits a byte, low first, bit 7 set on every byte but the last.
 * Runs in signal context. */
static inline unsigned char *put_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

/* Runs in signal context. */
static inline size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* Runs in signal context. */
static inline uint64_t zigzag(uint64_t delta)
{
	return (delta << 1) ^ (uint64_t)((int64_t)delta >> 63);
}

/* Bytes a double's XOR keeps: 0 for 0, else those between its zero high
 * and low bytes. Runs in signal context. */
static inline unsigned xor_bytes(uint64_t x, unsigned *tz)
{
	if (!x) {
		*tz = 0;
		return 0;
	}
	unsigned lo = (unsigned)__builtin_ctzll(x) / 8, hi = (unsigned)__builtin_clzll(x) / 8;
	*tz = lo;
	return 8 - lo - hi;
}

/* Bytes an argument of this type has before any string bytes; 0 for a
 * type code this encoder does not know. Runs in signal context. */
static inline unsigned type_width(uint8_t type)
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

/* An integer argument as the 64-bit value the deltas are taken of: signed
 * types sign-extended, the others zero-extended. Runs in signal context. */
static inline uint64_t int_value(uint8_t type, const unsigned char *q)
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

/* Whether the string at word w equals the one at word p (both length
 * words followed by their bytes). Runs in signal context. */
static inline int same_string(const unsigned char *w, const unsigned char *p)
{
	uint32_t word = ttlog__get_u32(w);
	return word == ttlog__get_u32(p) && memcmp(w + 4, p + 4, word & TTLOG__STR_LEN_MASK) == 0;
}

/* Runs in signal context. */
static size_t escape(unsigned char *out, const unsigned char *rec, uint32_t size)
{
	out[0] = TTLOG__FMT_PK_ESCAPE;
	unsigned char *o = put_varint(out + 1, size);
	memcpy(o, rec, size);
	return (size_t)(o - out) + size;
}

static const uint64_t zeros[TTLOG__FMT_MAX_ARGS];

/*
 * One pass over the arguments checks each against size and codes it; the
 * slot is updated only once the whole record is coded (an escape changes
 * no state). Strings that repeat are coded as 0 on the way; when every
 * string of the record repeats, those bytes are taken out again and the
 * header says SAME_STRS instead. Runs in signal context.
 */
size_t ttlog__pack_record(struct ttlog__pack *pk, unsigned char *out, const unsigned char *rec,
			  uint32_t size, const uint8_t *types, unsigned nargs, uint32_t *cut)
{
	*cut = TTLOG__PACK_ESCAPED;
	if (!types || nargs > TTLOG__FMT_MAX_ARGS || size < TTLOG__FMT_RECORD_HEADER_SIZE ||
	    size % 8 != 0)
		return escape(out, rec, size);
	uint32_t id = ttlog__get_u32(rec + 4);
	uint64_t ticks = ttlog__get_u64(rec + 8);
	if (!id)
		return escape(out, rec, size);
	unsigned s = id % TTLOG__FMT_PK_SLOTS;
	struct ttlog__pack_slot *sl = &pk->slot[s];
	int known = pk->site[s] == id;
	const uint64_t *pv = known ? sl->v : zeros, *pv2 = known ? sl->v2 : zeros;

	unsigned char hdr = id == pk->prev_site ? TTLOG__FMT_PK_SAME_SITE : 0;
	unsigned char *o = out + 1;
	if (!hdr)
		o = put_varint(o, id);
	o = put_varint(o, zigzag(ticks - pk->prev_ticks));

	uint64_t val[TTLOG__FMT_MAX_ARGS];
	uint32_t at[TTLOG__FMT_MAX_ARGS];
	unsigned char *mark[TTLOG__FMT_MAX_ARGS]; /* where each repeated string's 0 is */
	uint32_t pos = TTLOG__FMT_RECORD_HEADER_SIZE, truncated = 0;
	unsigned nstr = 0, nsame = 0;
	for (unsigned i = 0; i < nargs; i++) {
		uint8_t t = types[i];
		unsigned w = type_width(t);
		if (!w || w > size - pos)
			return escape(out, rec, size);
		const unsigned char *q = rec + pos;
		at[i] = pos;
		pos += w;
		if (t == TTLOG_ARG_STR) {
			uint32_t word = ttlog__get_u32(q);
			uint32_t n = word & TTLOG__STR_LEN_MASK;
			if (n > size - pos)
				return escape(out, rec, size);
			pos += n;
			nstr++;
			truncated += (word & TTLOG__STR_TRUNCATED) != 0;
			if (known && same_string(q, sl->str[i])) {
				mark[nsame++] = o;
				*o++ = 0;
			} else {
				o = put_varint(o, (uint64_t)word + 1);
				memcpy(o, q + 4, n);
				o += n;
			}
		} else if (t == TTLOG_ARG_F64 || t == TTLOG_ARG_LDBL) {
			uint64_t bits = ttlog__get_u64(q), p1 = pv[i];
			uint64_t x1 = bits ^ p1, x2 = bits ^ (2 * p1 - pv2[i]);
			unsigned tz1, tz2;
			unsigned n1 = xor_bytes(x1, &tz1), n2 = xor_bytes(x2, &tz2);
			uint64_t x = x1;
			unsigned n = n1, tz = tz1, c = 0;
			if (n2 < n1) {
				x = x2;
				n = n2;
				tz = tz2;
				c = TTLOG__FMT_PK_F_STRIDE;
			}
			*o++ = (unsigned char)(c | tz << TTLOG__FMT_PK_F_TZ_SHIFT | n);
			/* All 8 bytes go out; the pointer moves by the n kept. */
			ttlog__put_u64(o, x >> (8 * tz));
			o += n;
			val[i] = bits;
		} else {
			val[i] = int_value(t, q);
			o = put_varint(o, zigzag(val[i] - pv[i]));
		}
	}
	if (((pos + 7u) & ~7u) != size)
		return escape(out, rec, size);
	if (nstr && nsame == nstr) {
		/* Every string repeats: SAME_STRS, and their 0s go. */
		hdr |= TTLOG__FMT_PK_SAME_STRS;
		unsigned char *w = mark[0];
		for (unsigned k = 0; k < nsame; k++) {
			unsigned char *from = mark[k] + 1, *to = k + 1 < nsame ? mark[k + 1] : o;
			memmove(w, from, (size_t)(to - from));
			w += to - from;
		}
		o = w;
	}
	size_t len = (size_t)(o - out);
	if (len > 1 + varint_len(size) + size)
		return escape(out, rec, size);
	out[0] = hdr;

	pk->prev_site = id;
	pk->prev_ticks = ticks;
	pk->site[s] = id;
	for (unsigned i = 0; i < nargs; i++) {
		if (types[i] == TTLOG_ARG_STR) {
			sl->str[i] = rec + at[i];
		} else {
			sl->v2[i] = pv[i]; /* 0 when the slot held another site */
			sl->v[i] = val[i];
		}
	}
	*cut = truncated;
	return len;
}
