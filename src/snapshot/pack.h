/* SPDX-License-Identifier: MIT */
/*
 * pack.h - the encoder of EVTS codec 2 (PACKED, docs/FORMAT.md section
 * 9.5): each record of a block coded by its site's argument types against
 * the previous record of the same state slot in the same block.
 *
 * The emitter (emit.c) copies every record into its raw block and hands it
 * here at once; the encoder appends the record's packed form to the
 * block's data and keeps, per slot, what the next record of that site is
 * coded against: argument values, and pointers to the previous strings in
 * the raw block (which stays put until the block is written). Everything
 * is pure computation over a struct ttlog__pack that its owner reserved at
 * init: no malloc, no lock, no system call. It runs in signal context when
 * a crash handler closes a stream's segment.
 */
#ifndef TTLOG__SNAPSHOT_PACK_H
#define TTLOG__SNAPSHOT_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

struct ttlog__pack_slot {
	uint64_t v[TTLOG__FMT_MAX_ARGS];   /* each argument's value (integers extended) */
	uint64_t v2[TTLOG__FMT_MAX_ARGS];  /* the value before that */
	const unsigned char *str[TTLOG__FMT_MAX_ARGS]; /* STR: its length word in the raw block */
};

struct ttlog__pack {
	uint32_t prev_site;                /* the previous typed record's site, 0: none */
	uint64_t prev_ticks;
	uint32_t site[TTLOG__FMT_PK_SLOTS]; /* the site whose state a slot holds, 0: none */
	struct ttlog__pack_slot slot[TTLOG__FMT_PK_SLOTS];
};

/* A new block: no previous record, every slot empty. Runs in signal
 * context. */
void ttlog__pack_reset(struct ttlog__pack *pk);

/*
 * Appends the packed form of the record rec (size bytes, its site's nargs
 * argument types `types`, or NULL when the site is not known) to out and
 * returns the bytes written. rec must stay where it is until the block is
 * written: later records may refer to its strings. A record the encoder
 * cannot type (no types, an unknown type code, arguments that do not fill
 * exactly `size`) is stored raw behind an escape. out must have room for
 * size + 16 * TTLOG__FMT_PK_VARINT_MAX + 16 bytes; at most size + 4 of
 * them are kept. *cut: the record's strings that were cut (TRUNCATED),
 * counted on the way, or TTLOG__PACK_ESCAPED for an escaped record, whose
 * arguments were not looked at. Runs in signal context.
 */
#define TTLOG__PACK_ESCAPED UINT32_MAX
size_t ttlog__pack_record(struct ttlog__pack *pk, unsigned char *out, const unsigned char *rec,
			  uint32_t size, const uint8_t *types, unsigned nargs, uint32_t *cut);

#endif
