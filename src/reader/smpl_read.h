/* SPDX-License-Identifier: MIT */
/*
 * smpl_read.h - the reader's side of the SMPL chunk (docs/FORMAT.md, SMPL):
 * per-site sampling rules and counts, checked and kept for
 * ttlog_reader_sampling_*().
 *
 * reader/chunks.c owns the chunk walk and calls ttlog__smpl_parse() for
 * each SMPL chunk whose CRC matched; the few things smpl_read.c needs from
 * the reader (reporting a problem, looking up a site) are the
 * ttlog__reader_* functions below, which chunks.c and errors.c provide.
 */
#ifndef TTLOG__READER_SMPL_READ_H
#define TTLOG__READER_SMPL_READ_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/* The SMPL entries of one file. Zero-initialised by the reader. */
struct ttlog__smpl {
	struct ttlog_sampling_site *sites;
	size_t cap;
	struct ttlog_sampling_totals totals; /* totals.sites entries in `sites` */
	uint32_t last_id;                    /* ids must increase over the file */
};

/* Decodes one SMPL payload of len bytes at file offset payload_off. */
void ttlog__smpl_parse(struct ttlog_reader *r, struct ttlog__smpl *sm, size_t payload_off,
		       const unsigned char *p, size_t len);

void ttlog__smpl_free(struct ttlog__smpl *sm);

/* ---- Provided by reader/chunks.c and reader/errors.c --------------------- */

/* Records a problem at a file offset (only the first problem is kept). */
void ttlog__reader_report(struct ttlog_reader *r, int status, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Marks the reader as out of memory. */
void ttlog__reader_oom(struct ttlog_reader *r);

/* The site defined with this id so far, or NULL. Its strings stay valid
 * until the reader is closed; the struct itself may move while parsing. */
const struct ttlog_site_info *ttlog__reader_site(const struct ttlog_reader *r, uint32_t id);

/* The reader's SMPL state. */
struct ttlog__smpl *ttlog__reader_smpl(const struct ttlog_reader *r);

#endif
