/* SPDX-License-Identifier: MIT */
/*
 * mtrc_read.h - the reader's side of MTRC chunks (docs/FORMAT.md, MTRC): the
 * parser that reader/chunks.c calls for each MTRC chunk, and what it keeps.
 */
#ifndef TTLOG__READER_MTRC_READ_H
#define TTLOG__READER_MTRC_READ_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/* The metrics of a file, in file order. */
struct ttlog__rmetrics {
	struct ttlog_metric_value *items;
	uint64_t *ticks;            /* per item: a gauge's ticks, for chunks.c to convert */
	void **blocks;              /* per item: the one allocation holding its data */
	size_t n, cap;
};

/* The first problem found in a chunk. */
struct ttlog__mtrc_problem {
	int status;                 /* TTLOG_E_CORRUPT, TTLOG_E_VERSION or TTLOG_E_NOMEM */
	size_t off;                 /* file offset of the field at fault */
	char what[256];             /* "expected ..., found ..." */
};

/*
 * Parses one MTRC payload (len bytes at p, starting at file offset
 * file_off) and appends its metrics to m. Returns 0, or -1 with *pb filled:
 * the entries before the damaged one are kept. A reserved field that is not
 * zero is reported (-1) and its entry kept.
 */
int ttlog__mtrc_parse(struct ttlog__rmetrics *m, const unsigned char *p, size_t len,
		      size_t file_off, struct ttlog__mtrc_problem *pb);

void ttlog__rmetrics_free(struct ttlog__rmetrics *m);

#endif
