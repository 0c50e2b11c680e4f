/* SPDX-License-Identifier: MIT */
/*
 * str_arg.c - the out-of-line halves of a log call's string argument
 * (declared in <ttlog/impl.h>, "Strings on the hot path").
 *
 * A call site scans a string's first one or two aligned 16-byte blocks and
 * copies a length of 16 to 32 bytes inline; everything else lands here, so
 * that the code for long strings and for short copies is in the library
 * once instead of in every call site. The results are exactly those of the
 * inline code: the u32 size word of the argument plus 4 (the length, or
 * max with TTLOG__STR_TRUNCATED), and a copy of n bytes.
 *
 * Both run on the log call's path (never in signal context unless the
 * program logs from a signal handler, which the hot path allows): no lock,
 * no allocation, only strnlen and memcpy, which are async-signal-safe in
 * practice (POSIX lists neither, and neither touches shared state).
 */
#include <stdint.h>
#include <string.h>

#include "ttlog.h"

/* s is not NULL, and its terminator is not in the block(s) scanned inline. */
TTLOG_API uint32_t ttlog__str_len_long(const char *s, uint32_t max)
{
	size_t n = strnlen(s, (size_t)max + 1);
	return n <= max ? 4u + (uint32_t)n : (4u + max) | TTLOG__STR_TRUNCATED;
}

/* s may be NULL when n is 0 (a NULL string's argument), which memcpy does
 * not allow. */
TTLOG_API void ttlog__str_copy_long(unsigned char *d, const char *s, uint32_t n)
{
	if (n)
		memcpy(d, s, n);
}
