/* SPDX-License-Identifier: MIT */
/*
 * rows.h - rows of the shipper's tables in ClickHouse's RowBinary format:
 * each column in the order of the INSERT's column list (schema.c), numbers
 * little-endian at their width, strings and arrays as an unsigned LEB128
 * count followed by their bytes or elements, DateTime as UInt32 seconds.
 */
#ifndef TTLOG__SHIP_ROWS_H
#define TTLOG__SHIP_ROWS_H

#include <stdint.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/* What the rows of one file share. */
struct ship_file_rows {
	const struct ttlog_file_info *info;
	const char *source;          /* the file's path, as shipped */
	uint64_t process;            /* hash of host and pid: the process's part of a row id */
	struct render_buf scratch;   /* a field's text, the message */
	struct render_buf text;
};

/** Fills the process part of f from f->info. */
void ship_rows_start(struct ship_file_rows *f);
void ship_rows_free(struct ship_file_rows *f);

/**
 * The stable id of an event: the process, the thread, the event's ticks,
 * its site and its rank among its thread's events of equal ticks (0 for
 * the first). The same record read from another file of the process gets
 * the same id.
 */
uint64_t ship_event_id(const struct ship_file_rows *f, const struct ttlog_event *ev, uint32_t rank);

/** Appends the logs row of an event; for a span end also the spans row
 *  (returns 1 then, else 0). */
int ship_rows_event(struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id,
		    struct render_buf *logs, struct render_buf *spans);

/** Appends the metrics rows of the file; returns how many. */
uint64_t ship_rows_metrics(struct ship_file_rows *f, const ttlog_reader *r, struct render_buf *out);

/** Appends the crashes row of the file (which has a crash record), with
 *  summary and stack text. */
void ship_rows_crash(struct ship_file_rows *f, const ttlog_reader *r, const char *summary,
		     const char *stack, struct render_buf *out);

#endif /* TTLOG__SHIP_ROWS_H */
