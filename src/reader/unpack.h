/* SPDX-License-Identifier: MIT */
/*
 * unpack.h - the decoder of EVTS codec 2 (PACKED, docs/FORMAT.md section
 * 9.5): a block's data back into the exact raw records (padding as zero
 * bytes), each record checked as it is decoded.
 *
 * Hostile input: every varint, length and offset is checked against the
 * end of the data and against raw_size before it is used, so the decoder
 * never reads past `in + in_len` nor writes past `out + raw_size`. A block
 * damaged anywhere keeps the whole records before the damage: the result
 * says how many bytes and records decoded, where in the data the damage
 * is, and what was expected there.
 */
#ifndef TTLOG__READER_UNPACK_H
#define TTLOG__READER_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

/* Per-block state: what the next record of each slot is coded against.
 * The caller owns it (about 80 KiB); nothing in it needs setting up. */
struct ttlog__unpack_state {
	uint32_t site[TTLOG__FMT_PK_SLOTS];
	uint64_t v[TTLOG__FMT_PK_SLOTS][TTLOG__FMT_MAX_ARGS];
	uint64_t v2[TTLOG__FMT_PK_SLOTS][TTLOG__FMT_MAX_ARGS];
	uint32_t str[TTLOG__FMT_PK_SLOTS][TTLOG__FMT_MAX_ARGS]; /* offset in out of a STR word */
};

struct ttlog__unpacked {
	size_t out_len;      /* bytes of whole records decoded */
	uint32_t records;    /* those records */
	size_t err_off;      /* offset in the data of the damage (failure only) */
	char why[200];       /* what was expected there, and what was found */
};

/* The argument types of site id (its nargs), or NULL for no such site. */
typedef const uint8_t *(*ttlog__unpack_types_fn)(void *ctx, uint32_t id, unsigned *nargs);

/*
 * Decodes the in_len bytes of data at in into out, which has room for
 * raw_size bytes. Returns 1 when the data decodes to exactly raw_size bytes
 * of records; else 0, with res saying how far it got and why it stopped.
 */
int ttlog__reader_unpack(struct ttlog__unpack_state *st, const unsigned char *in, size_t in_len,
			 unsigned char *out, size_t raw_size, ttlog__unpack_types_fn types,
			 void *ctx, struct ttlog__unpacked *res);

#endif
