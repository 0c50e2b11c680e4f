/* SPDX-License-Identifier: MIT */
/*
 * log_slow.c - the record of a log call that its inline code leaves to the
 * library (ttlog__log_slow(), declared in <ttlog/impl.h>).
 *
 * A TTLOG_* call with arguments writes its common case inline: strings of 8
 * to 32 bytes found in the first one or two aligned blocks, a record that
 * fits below the writer's limit. Every other case (a NULL, truncated, short
 * or long string, the segment switch or the thread's first ring, a site's
 * first call, a kept sampled call) calls this function once with the site,
 * its word and the values, and the call site ends there. Nothing of the
 * record was written before the call, so the record is written here whole,
 * with the same encoding (a string's size word as ttlog__len_str() makes
 * it, then its bytes) and through the same ttlog__reserve and
 * ttlog__commit: the bytes are those the inline code writes, which
 * tests/test_record_paths.c checks.
 *
 * The values arrive as variable arguments in the forms the call site's
 * TTLOG__ARG_PASS gives them (<ttlog/impl.h>): an unsigned int for every
 * type of up to 32 bits, uint64_t for 64-bit integers and pointers, double
 * for float and double, long double, and const void * for strings. The
 * site's arg_types say which is which.
 *
 * Runs on the log call's path, so it follows the hot path's rules: no lock,
 * no allocation, no system call of its own (the reserve's slow path is the
 * one the inline code would have taken).
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "ttlog.h"

/* The bytes an argument of type t takes in a record, strings aside. */
static const uint8_t fixed_size[16] = {
	[TTLOG_ARG_BOOL] = 1, [TTLOG_ARG_CHAR] = 1, [TTLOG_ARG_I8] = 1,   [TTLOG_ARG_U8] = 1,
	[TTLOG_ARG_I16] = 2,  [TTLOG_ARG_U16] = 2,  [TTLOG_ARG_I32] = 4,  [TTLOG_ARG_U32] = 4,
	[TTLOG_ARG_I64] = 8,  [TTLOG_ARG_U64] = 8,  [TTLOG_ARG_F64] = 8,  [TTLOG_ARG_LDBL] = 8,
	[TTLOG_ARG_PTR] = 8,  [TTLOG_ARG_LD80] = 10};

/*
 * A string's size word plus 4, as ttlog__len_str() gives it: the length
 * (up to max) and the flags. The inline scan of the first blocks is not
 * repeated here: most strings that come here are long or short, and
 * strnlen is quick for both.
 */
static uint32_t str_size(const void *s, uint32_t max)
{
	if (!s)
		return 4u | TTLOG__STR_NULL;
	size_t n = strnlen((const char *)s, (size_t)max + 1);
	return n <= max ? 4u + (uint32_t)n : (4u + max) | TTLOG__STR_TRUNCATED;
}

TTLOG_API void ttlog__log_slow(struct ttlog_site *site, uint64_t word, ...)
{
	const uint8_t *types = site->arg_types;
	unsigned nargs = site->nargs;
	if (nargs > 16) /* the macros take 16 at most */
		nargs = 16;
	/* u: an integer's or pointer's value, a double's bits, a string's
	 * address; ld: a long double's value. n: the argument's size as
	 * ttlog__len_str() gives it for a string. */
	uint64_t u[16];
	long double ld[16];
	uint32_t n[16];
	struct ttlog__writer *w = ttlog__tls_writer;
	uint32_t len = 16;
	va_list ap;
	va_start(ap, word);
	for (unsigned i = 0; i < nargs; i++) {
		uint8_t t = types[i];
		if (t <= TTLOG_ARG_U32) { /* the types of up to 32 bits */
			u[i] = va_arg(ap, unsigned int);
			n[i] = fixed_size[t];
		} else if (t == TTLOG_ARG_STR) {
			const void *str = va_arg(ap, const void *);
			u[i] = (uint64_t)(uintptr_t)str;
			n[i] = str_size(str, w->max_string);
		} else if (t == TTLOG_ARG_F64) {
			double d = va_arg(ap, double);
			memcpy(&u[i], &d, 8);
			n[i] = 8;
		} else if (t == TTLOG_ARG_LDBL || t == TTLOG_ARG_LD80) {
			ld[i] = va_arg(ap, long double);
			n[i] = fixed_size[t];
		} else { /* I64, U64, PTR */
			u[i] = va_arg(ap, uint64_t);
			n[i] = 8;
		}
		len += TTLOG__ARG_SIZE(n[i]);
	}
	va_end(ap);
	len = (len + 7u) & ~7u;
	uint64_t head;
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (TTLOG__UNLIKELY(!p))
		return; /* dropped and counted by the reserve's slow path */
	p += 16;
	for (unsigned i = 0; i < nargs; i++) {
		uint8_t t = types[i];
		if (t == TTLOG_ARG_STR) {
			uint32_t sw = n[i] - 4u, size = n[i] & TTLOG__STR_LEN_MASK;
			memcpy(p, &sw, 4);
			if (size > 4u) /* not a NULL string */
				memcpy(p + 4, (const void *)(uintptr_t)u[i], size - 4u);
			p += size;
		} else if (t == TTLOG_ARG_LD80) {
			memcpy(p, &ld[i], 10); /* the x87 value's ten bytes */
			p += 10;
		} else if (t == TTLOG_ARG_LDBL) {
			double d = (double)ld[i];
			memcpy(p, &d, 8);
			p += 8;
		} else { /* integers, pointers, doubles: their low n bytes, little-endian */
			uint64_t v = u[i];
			if (n[i] == 8u) {
				memcpy(p, &v, 8);
			} else if (n[i] == 4u) {
				uint32_t x = (uint32_t)v;
				memcpy(p, &x, 4);
			} else if (n[i] == 2u) {
				uint16_t x = (uint16_t)v;
				memcpy(p, &x, 2);
			} else {
				*p = (unsigned char)v;
			}
			p += n[i];
		}
	}
	ttlog__commit(w, head, len);
}
