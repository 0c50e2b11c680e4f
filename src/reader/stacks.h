/* SPDX-License-Identifier: MIT */
/*
 * stacks.h - the reader's side of the STCK and MODS chunks (docs/FORMAT.md
 * 10.1 and 10.2): stacks as raw addresses, registers and the loaded
 * modules, checked and kept for ttlog_reader_stacks() and
 * ttlog_reader_modules().
 */
#ifndef TTLOG__READER_STACKS_H
#define TTLOG__READER_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/* The stacks and modules of one file. Zero-initialised by the reader. */
struct ttlog__rstacks {
	struct ttlog_stack *stacks;   /* crash stacks first, then file order */
	size_t nstacks, stacks_cap;
	uint32_t ncrash;              /* stacks flagged TTLOG_STACK_CRASH, at the front */
	struct ttlog_module *mods;    /* file order */
	size_t nmods, mods_cap;
	uint32_t missing;             /* sum of the MODS chunks' counts, saturated */
	void **blocks;                /* allocations the entries point into */
	size_t nblocks, blocks_cap;
};

/* The first problem found in a chunk. */
struct ttlog__stack_problem {
	int status;                   /* TTLOG_OK, TTLOG_E_CORRUPT, TTLOG_E_VERSION or TTLOG_E_NOMEM */
	size_t off;                   /* file offset of the field at fault */
	char what[256];               /* "expected ..., found ..." */
};

/*
 * Parse one STCK or MODS payload (len bytes at p, starting at file offset
 * file_off). Return 0, or -1 with *pb filled. A STCK chunk whose frames or
 * registers do not fit is dropped whole; a damaged MODS entry ends its
 * chunk, the entries before it are kept. A problem with one register, a
 * reserved field or an unknown flag is reported and the rest kept.
 */
int ttlog__stck_parse(struct ttlog__rstacks *s, const unsigned char *p, size_t len,
		      size_t file_off, struct ttlog__stack_problem *pb);
int ttlog__mods_parse(struct ttlog__rstacks *s, const unsigned char *p, size_t len,
		      size_t file_off, struct ttlog__stack_problem *pb);

void ttlog__rstacks_free(struct ttlog__rstacks *s);

#endif
