/* SPDX-License-Identifier: MIT */
/*
 * walk.h - what a printf format read at run time asks of its arguments.
 *
 * ttlog_log() gets its format at run time, so the types the macros take
 * from the argument expressions have to come from the format instead: one
 * walk over it lists the argument each conversion reads from the va_list
 * (a '*' width or precision is an int of its own), as the argument type
 * codes of struct ttlog_site. The values are then read with va_arg in that
 * order and recorded exactly as a TTLOG_INFO() with arguments of those
 * types would record them, so the reader formats them with no change.
 */
#ifndef TTLOG__RTFMT_WALK_H
#define TTLOG__RTFMT_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

/* The most arguments a record has (the reader's TTLOG__FMT_MAX_ARGS). */
#define TTLOG__RT_MAX_ARGS 16

/* What the walk found. */
enum ttlog__rt_walk_result {
	TTLOG__RT_WALK_OK = 0,
	TTLOG__RT_WALK_N,          /* %n: refused, it would write through an argument */
	TTLOG__RT_WALK_WIDE,       /* %ls or %S: wide strings are not recorded */
	TTLOG__RT_WALK_POSITIONS,  /* "n$" mixed with plain conversions, a gap, or n > 16 */
	TTLOG__RT_WALK_TOO_MANY    /* more than TTLOG__RT_MAX_ARGS arguments */
};

/*
 * Walks fmt: fills types[0..*nargs) with the type code of each argument in
 * the order the va_list holds them (for "n$" formats, argument n is
 * types[n - 1]). Returns a TTLOG__RT_WALK_* value; *nargs is set only
 * for TTLOG__RT_WALK_OK. Conversions the C library does not know take no
 * argument (the reader copies them literally, as glibc prints them).
 */
int ttlog__rt_walk(const char *fmt, uint8_t types[TTLOG__RT_MAX_ARGS], unsigned *nargs);

/* The words a refused walk result is shown with ("%n is refused"). */
const char *ttlog__rt_walk_reason(int result);

#endif
