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

/* One value as it was passed. */
union value {
	uint64_t u;
	double d;
	long double ld;
	const void *s;
};

/* The bytes a fixed-size argument of type t takes in a record. */
static uint32_t fixed_size(uint8_t t)
{
	switch (t) {
	case TTLOG_ARG_BOOL:
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_U8:
		return 1;
	case TTLOG_ARG_I16:
	case TTLOG_ARG_U16:
		return 2;
	case TTLOG_ARG_I32:
	case TTLOG_ARG_U32:
		return 4;
	case TTLOG_ARG_LD80:
		return 10;
	default:
		return 8; /* I64, U64, F64, LDBL, PTR */
	}
}

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
	union value v[16];
	uint32_t n[16];
	if (nargs > 16) /* the macros take 16 at most */
		nargs = 16;
	struct ttlog__writer *w = ttlog__tls_writer;
	uint32_t len = 16;
	va_list ap;
	va_start(ap, word);
	for (unsigned i = 0; i < nargs; i++) {
		switch (types[i]) {
		case TTLOG_ARG_STR:
			v[i].s = va_arg(ap, const void *);
			n[i] = str_size(v[i].s, w->max_string);
			break;
		case TTLOG_ARG_F64:
			v[i].d = va_arg(ap, double);
			n[i] = 8;
			break;
		case TTLOG_ARG_LDBL:
		case TTLOG_ARG_LD80:
			v[i].ld = va_arg(ap, long double);
			n[i] = fixed_size(types[i]);
			break;
		case TTLOG_ARG_I64:
		case TTLOG_ARG_U64:
		case TTLOG_ARG_PTR:
			v[i].u = va_arg(ap, uint64_t);
			n[i] = 8;
			break;
		default: /* the types of up to 32 bits */
			v[i].u = va_arg(ap, unsigned int);
			n[i] = fixed_size(types[i]);
			break;
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
		switch (types[i]) {
		case TTLOG_ARG_STR: {
			uint32_t sw = n[i] - 4u, size = n[i] & TTLOG__STR_LEN_MASK;
			memcpy(p, &sw, 4);
			if (size > 4u) /* not a NULL string */
				memcpy(p + 4, v[i].s, size - 4u);
			p += size;
			break;
		}
		case TTLOG_ARG_F64:
			memcpy(p, &v[i].d, 8);
			p += 8;
			break;
		case TTLOG_ARG_LD80:
			memcpy(p, &v[i].ld, 10); /* the x87 value's ten bytes */
			p += 10;
			break;
		case TTLOG_ARG_LDBL: {
			double d = (double)v[i].ld;
			memcpy(p, &d, 8);
			p += 8;
			break;
		}
		default: /* integers and pointers: their low n bytes, little-endian */
			memcpy(p, &v[i].u, n[i]);
			p += n[i];
			break;
		}
	}
	ttlog__commit(w, head, len);
}
