/* SPDX-License-Identifier: MIT */
/*
 * errors.c - the reader's status and message: the first problem found in a
 * file is kept ("PATH: offset N: expected ..., found ..."); later ones are
 * usually its consequences and are not reported.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/internal.h"
#include "reader/impl.h"
#include "ttlog_reader.h"

static const char oom_text[] = "out of memory while describing a problem";

/* Keeps the first problem only. where is "offset N" or similar, or "". */
__attribute__((format(printf, 4, 0)))
static void set_error_v(struct ttlog_reader *r, int status, const char *where,
			const char *fmt, va_list ap)
{
	if (r->status != TTLOG_OK)
		return;
	char what[512];
	size_t gone = ttlog__reader_map_fault(r);
	if (gone != SIZE_MAX) {
		/* Whatever the zeros made the reader find, the cause is this. */
		status = TTLOG_E_TRUNCATED;
		where = "";
		snprintf(what, sizeof what,
			 "the file shrank while it was read: its bytes from offset %zu on "
			 "were gone and read as zeros",
			 gone);
	} else {
		vsnprintf(what, sizeof what, fmt, ap);
	}
	r->status = status;
	const char *sep = where[0] ? ": " : "";
	int n = snprintf(NULL, 0, "%s: %s%s%s", r->path, where, sep, what);
	if (n < 0)
		return;
	r->error = malloc((size_t)n + 1);
	if (r->error)
		snprintf(r->error, (size_t)n + 1, "%s: %s%s%s", r->path, where, sep, what);
}

__attribute__((format(printf, 4, 5)))
static void report_where(struct ttlog_reader *r, int status, const char *where, const char *fmt,
			 ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_v(r, status, where, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 0)))
static void report_v(struct ttlog_reader *r, int status, size_t off, const char *fmt, va_list ap)
{
	char where[48];
	snprintf(where, sizeof where, "offset %zu", off);
	set_error_v(r, status, where, fmt, ap);
}

void ttlog__reader_check_shrunk(struct ttlog_reader *r)
{
	if (r->status == TTLOG_OK && ttlog__reader_map_fault(r) != SIZE_MAX)
		ttlog__reader_report_plain(r, TTLOG_E_TRUNCATED, "%s", "the file shrank");
}

void ttlog__reader_report(struct ttlog_reader *r, int status, size_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_v(r, status, off, fmt, ap);
	va_end(ap);
}

void ttlog__reader_report_plain(struct ttlog_reader *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_v(r, status, "", fmt, ap);
	va_end(ap);
}

void ttlog__reader_report_record(struct ttlog_reader *r, const struct rblock *b, size_t pos,
				 const char *why)
{
	char where[96];
	if (b->codec == TTLOG__FMT_CODEC_NONE)
		snprintf(where, sizeof where, "offset %zu", b->data_off + pos);
	else
		snprintf(where, sizeof where, "offset %zu (%s block, record at raw offset %zu)",
			 b->chunk_off,
			 b->codec == TTLOG__FMT_CODEC_LZ4	 ? "LZ4"
			 : b->codec == TTLOG__FMT_CODEC_ZSTD ? "zstd"
							     : "packed",
			 pos);
	report_where(r, TTLOG_E_CORRUPT, where, "%s", why);
}

TTLOG_API const char *ttlog_reader_error(const ttlog_reader *r)
{
	if (!r || r->status == TTLOG_OK)
		return NULL;
	return r->error ? r->error : oom_text;
}

TTLOG_API int ttlog_reader_status(const ttlog_reader *r)
{
	return r ? r->status : TTLOG_E_INVALID;
}
