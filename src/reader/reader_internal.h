/* SPDX-License-Identifier: MIT */
/*
 * reader_internal.h - entry points of the snapshot reader that are not API.
 *
 * Used by the fuzz target and the tests, which feed the reader bytes that
 * never were a file. Everything the public reader does is in
 * <ttlog_reader.h>.
 */
#ifndef TTLOG__READER_READER_INTERNAL_H
#define TTLOG__READER_READER_INTERNAL_H

#include <stddef.h>

#include "ttlog_reader.h"

/*
 * ttlog_reader_open() for bytes already in memory. The reader copies the
 * size bytes at data, so the caller may free them at once; name stands for
 * the path in messages and in ttlog_file_info.path (NULL: "<memory>").
 * Returns and sets *reader exactly as ttlog_reader_open() does, except that
 * TTLOG_E_OPEN cannot happen.
 */
int ttlog__reader_open_memory(const void *data, size_t size, const char *name,
			      ttlog_reader **reader);

/* A field named in a format: "user=%u" names the argument %u prints. */
struct ttlog__format_key {
	unsigned arg;     /* 0-based index among the format's arguments */
	const char *key;  /* points into the format; not terminated */
	size_t len;
};

/*
 * Finds the conversions of a printf format written right after "key=" and
 * stores up to max of them in keys, in format order. Returns how many were
 * stored, and sets *used to the number of arguments the format takes (one
 * more than the highest it refers to). A conversion that prints no argument
 * (%%, %m, %n) names nothing.
 */
unsigned ttlog__format_keys(const char *format, struct ttlog__format_key *keys, unsigned max,
			   unsigned *used);

/*
 * The plan a reader makes of site->format at open (reader/format_plan.h),
 * made in mem instead of a reader's arena: for a test that sets it as an
 * event's format_plan. mem must be aligned for a pointer. Returns the bytes
 * the plan takes, written only if they fit in size, or 0 if the format has
 * too many directives to get a plan.
 */
size_t ttlog__format_plan_make(const struct ttlog_site_info *site, void *mem, size_t size);

#endif /* TTLOG__READER_READER_INTERNAL_H */
