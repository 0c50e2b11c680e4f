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
 * it, then its bytes) and published as ttlog__commit() does: the bytes are
 * those the inline code writes, which tests/test_record_paths.c checks.
 *
 * The values arrive as variable arguments in the forms the call site's
 * TTLOG__ARG_PASS gives them (<ttlog/impl.h>): an unsigned int for every
 * type of up to 32 bits, uint64_t for 64-bit integers and pointers, double
 * for float and double, long double, and const void * for strings. The
 * site's arg_types say which is which.
 *
 * Three ways to write the record:
 *
 *  - A site whose only argument is a string (log_string()): the record is
 *    written where it starts, the string measured while it is copied
 *    (ring/str_copy.h) with the room left below the writer's limit as its
 *    bound, and the size words last. A string longer than that room, when
 *    the room is less than max_string, does not fit: the record then goes
 *    to the reserve's slow path with its exact size (log_string_reserve()),
 *    as the inline code's would.
 *  - Any other site, when the record fits below the limit even with every
 *    argument at its largest (log_values(): write_one_pass()): the same,
 *    each value straight from the variable arguments, the header's size
 *    last.
 *  - Otherwise (write_two_pass()): the values and the strings' sizes first,
 *    then ttlog__reserve() with the exact size, whose slow path (segment
 *    switch, first ring, a clock other than the CPU's counter) is the
 *    inline code's, then the bytes.
 *
 * So a record goes to the next segment exactly when the inline code would
 * send it there. Nothing is written past the record's last argument (no
 * byte of a caller's buffer after a string's terminator reaches the ring),
 * and the record is published once whole.
 *
 * Runs on the log call's path, so it follows the hot path's rules: no lock,
 * no allocation, no system call of its own (the reserve's slow path is the
 * one the inline code would have taken).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ring/str_copy.h"
#include "thread/thread.h"
#include "ttlog.h"

/* The bytes an argument of type t takes in a record, strings aside. */
static const uint8_t fixed_size[16] = {
	[TTLOG_ARG_BOOL] = 1, [TTLOG_ARG_CHAR] = 1, [TTLOG_ARG_I8] = 1,   [TTLOG_ARG_U8] = 1,
	[TTLOG_ARG_I16] = 2,  [TTLOG_ARG_U16] = 2,  [TTLOG_ARG_I32] = 4,  [TTLOG_ARG_U32] = 4,
	[TTLOG_ARG_I64] = 8,  [TTLOG_ARG_U64] = 8,  [TTLOG_ARG_F64] = 8,  [TTLOG_ARG_LDBL] = 8,
	[TTLOG_ARG_PTR] = 8,  [TTLOG_ARG_LD80] = 10};

#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))

#ifdef TTLOG__STR_COPY_AVX2
/* 1 when the AVX2 copy may run: the processor has AVX2 and the system saves
 * its registers (__builtin_cpu_supports() checks both). */
static int have_avx2;

static NOINLINE TTLOG__STR_AVX2 uint32_t copy_avx2(unsigned char *d, const char *s, uint32_t max)
{
	return ttlog__str_copy_avx2(d, s, max);
}
#endif

/* A string's size word (str_copy.h) for a string of any kind. */
static ALWAYS_INLINE uint32_t copy_str(unsigned char *d, const char *s, uint32_t max)
{
	if (!s)
		return TTLOG__STR_NULL;
#ifdef TTLOG__STR_COPY_AVX2
	if (have_avx2)
		return copy_avx2(d, s, max);
	return ttlog__str_copy_sse2(d, s, max);
#else
	return ttlog__str_copy_plain(d, s, max);
#endif
}

/* A string's size as ttlog__len_str() gives it (its size word plus 4). */
static uint32_t str_size(const void *s, uint32_t max)
{
	if (!s)
		return 4u | TTLOG__STR_NULL;
	size_t n = strnlen((const char *)s, (size_t)max + 1);
	return n <= max ? 4u + (uint32_t)n : (4u + max) | TTLOG__STR_TRUNCATED;
}

/* ---- A site whose only argument is a string --------------------------- */

/* The record of such a site with its exact size, through the reserve (and
 * its slow path): what the inline code does when the record does not fit. */
static NOINLINE void log_string_reserve(uint64_t word, const char *s)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	ttlog__writer_settings(w); /* the first call after ttlog_init() comes here */
	const uint32_t n = str_size(s, w->max_string);
	const uint32_t len = (16u + TTLOG__ARG_SIZE(n) + 7u) & ~7u;
	uint64_t head;
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (TTLOG__UNLIKELY(!p))
		return; /* dropped and counted by the reserve's slow path */
	const uint32_t sw = n - 4u;
	memcpy(p + 16, &sw, 4);
	if ((n & TTLOG__STR_LEN_MASK) > 4u) /* not a NULL string */
		memcpy(p + 20, s, (n & TTLOG__STR_LEN_MASK) - 4u);
	ttlog__commit(w, head, len);
}

/*
 * Where the record of such a site starts (at the writer's head), with its
 * time written, and in *room the string's bound there: the room left below
 * the limit, or max_string if that is less. A string of n bytes fits when
 * 20 + n <= limit - head (both are multiples of 8, and the record's size is
 * 20 + n rounded up to 8). NULL when not even an empty string's record fits
 * (or the writer is idle), or when the bound is below 32 bytes (the vector
 * copies' least; near a segment's end, or with a max_string that low):
 * log_string_reserve() writes those.
 */
static ALWAYS_INLINE unsigned char *string_begin(struct ttlog__writer *w, uint32_t *room)
{
	const uint64_t h = TTLOG__LOAD(w->head, relaxed);
	const uint64_t limit = TTLOG__LOAD(w->limit, relaxed);
	const uint32_t max = w->max_string;
	if (TTLOG__LIKELY(h + 20u + max <= limit)) {
		*room = max;
	} else { /* near the segment's end, or an idle writer (limit 0) */
		if (h + 20u > limit)
			return NULL;
		*room = (uint32_t)(limit - h - 20u); /* below max */
	}
	if (TTLOG__UNLIKELY(*room < 32u))
		return NULL;
	unsigned char *rec = (unsigned char *)(w->base + h);
	TTLOG__STORE_TICKS(rec + 8);
	return rec;
}

/* Publishes the record at rec whose string has the size word sw; 0 when
 * the string was cut at a bound below max_string: it does not fit. What
 * the copy does not need is read again here rather than kept, so that the
 * copy has the registers: the record's offset is rec less the lap's base,
 * which the call did not change. */
static ALWAYS_INLINE int string_end(struct ttlog__writer *w, unsigned char *rec, uint64_t word,
				    uint32_t sw)
{
	if (TTLOG__UNLIKELY((sw & TTLOG__STR_TRUNCATED) && (sw & TTLOG__STR_LEN_MASK) < w->max_string))
		return 0;
	memcpy(rec + 16, &sw, 4);
	const uint32_t len = (20u + (sw & TTLOG__STR_LEN_MASK) + 7u) & ~7u;
	const uint64_t hdr = word - 1u + len;
	memcpy(rec, &hdr, 8);
	ttlog__commit(w, (uint64_t)((uintptr_t)rec - w->base), len);
	return 1;
}

/* With the vector copies it calls nothing but log_string_reserve(), on its
 * way out, so that it needs no stack frame. */
static NOINLINE void log_string(uint64_t word, const char *s)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	uint32_t room;
	unsigned char *rec;
	if (TTLOG__LIKELY(s && (rec = string_begin(w, &room)) != NULL)) {
#ifdef TTLOG__STR_COPY_AVX2
		uint32_t sw = ttlog__str_copy_sse2(rec + 20, s, room);
#else
		uint32_t sw = ttlog__str_copy_plain(rec + 20, s, room);
#endif
		if (TTLOG__LIKELY(string_end(w, rec, word, sw)))
			return;
	}
	log_string_reserve(word, s);
}

#ifdef TTLOG__STR_COPY_AVX2
/* log_string() with the AVX2 copy; only where log_slow_init() found AVX2. */
static NOINLINE TTLOG__STR_AVX2 void log_string_avx2(uint64_t word, const char *s)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	uint32_t room;
	unsigned char *rec;
	if (TTLOG__LIKELY(s && (rec = string_begin(w, &room)) != NULL)) {
		uint32_t sw = ttlog__str_copy_avx2(rec + 20, s, room);
		if (TTLOG__LIKELY(string_end(w, rec, word, sw)))
			return;
	}
	log_string_reserve(word, s);
}
#endif

/* log_string() or log_string_avx2(), chosen when the library is loaded.
 * A log call before that (from a constructor of another object that runs
 * first) takes log_string(), which writes the same bytes. */
static void (*log_string_fn)(uint64_t word, const char *s) = log_string;

#ifdef TTLOG__STR_COPY_AVX2
__attribute__((constructor)) static void log_slow_init(void)
{
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2") != 0;
	if (have_avx2)
		log_string_fn = log_string_avx2;
}
#endif

/* ---- Any other site ---------------------------------------------------- */

/* A fixed-size value's n bytes at p: a long double's ten bytes or its value
 * rounded to double, else the low n bytes of u, little-endian. */
static ALWAYS_INLINE unsigned char *put_fixed(unsigned char *p, uint8_t t, uint64_t u,
					      const long double *ld, uint32_t n)
{
	if (t == TTLOG_ARG_LD80) {
		memcpy(p, ld, 10); /* the x87 value's ten bytes */
	} else if (t == TTLOG_ARG_LDBL) {
		double d = (double)*ld;
		memcpy(p, &d, 8);
	} else if (n == 8u) {
		memcpy(p, &u, 8);
	} else if (n == 4u) {
		uint32_t x = (uint32_t)u;
		memcpy(p, &x, 4);
	} else if (n == 2u) {
		uint16_t x = (uint16_t)u;
		memcpy(p, &x, 2);
	} else {
		*p = (unsigned char)u;
	}
	return p + n;
}

/* The record at offset h of w's lap, which has room for it with every
 * string at max bytes below the limit: each value straight from the
 * variable arguments, each string measured while it is copied. */
static ALWAYS_INLINE void write_one_pass(struct ttlog__writer *w, uint64_t h, uint64_t word,
					 const uint8_t *types, unsigned nargs, va_list ap)
{
	const uint32_t max = w->max_string;
	unsigned char *const rec = (unsigned char *)(w->base + h);
	TTLOG__STORE_TICKS(rec + 8);
	unsigned char *p = rec + 16;
	for (unsigned i = 0; i < nargs; i++) {
		uint8_t t = types[i];
		if (t == TTLOG_ARG_STR) {
			uint32_t sw = copy_str(p + 4, va_arg(ap, const char *), max);
			memcpy(p, &sw, 4);
			p += 4u + (sw & TTLOG__STR_LEN_MASK);
		} else if (t <= TTLOG_ARG_U32) { /* the types of up to 32 bits */
			p = put_fixed(p, t, va_arg(ap, unsigned int), NULL, fixed_size[t]);
		} else if (t == TTLOG_ARG_F64) {
			double d = va_arg(ap, double);
			memcpy(p, &d, 8);
			p += 8;
		} else if (t == TTLOG_ARG_LDBL || t == TTLOG_ARG_LD80) {
			long double ld = va_arg(ap, long double);
			p = put_fixed(p, t, 0, &ld, fixed_size[t]);
		} else { /* I64, U64, PTR */
			p = put_fixed(p, t, va_arg(ap, uint64_t), NULL, 8);
		}
	}
	const uint32_t len = ((uint32_t)(p - rec) + 7u) & ~7u;
	const uint64_t hdr = word - 1u + len;
	memcpy(rec, &hdr, 8);
	ttlog__commit(w, h, len);
}

/* The record through ttlog__reserve() with its exact size: the values and
 * the strings' sizes first (u: an integer's or pointer's value, a double's
 * bits, a string's address; ld: a long double's value; n: the argument's
 * size, as ttlog__len_str() gives it for a string), then the bytes. */
static ALWAYS_INLINE void write_two_pass(struct ttlog__writer *w, uint64_t word,
					 const uint8_t *types, unsigned nargs, va_list ap)
{
	uint64_t u[16];
	long double ld[16];
	uint32_t n[16];
	uint32_t len = 16;
	ttlog__writer_settings(w); /* the first call after ttlog_init() comes here */
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
	len = (len + 7u) & ~7u;
	uint64_t head;
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (TTLOG__UNLIKELY(!p))
		return; /* dropped and counted by the reserve's slow path */
	p += 16;
	for (unsigned i = 0; i < nargs; i++) {
		if (types[i] == TTLOG_ARG_STR) {
			uint32_t sw = n[i] - 4u, size = n[i] & TTLOG__STR_LEN_MASK;
			memcpy(p, &sw, 4);
			if (size > 4u) /* not a NULL string */
				memcpy(p + 4, (const void *)(uintptr_t)u[i], size - 4u);
			p += size;
		} else {
			p = put_fixed(p, types[i], u[i], &ld[i], n[i]);
		}
	}
	ttlog__commit(w, head, len);
}

/*
 * One pass when the record has room below the limit whatever its strings'
 * lengths: nargs arguments of at most max(10, 4 + max_string) bytes each, a
 * bound that needs no look at the types (for three arguments and the
 * default limit, 796 bytes: the last 5 % of a 16 KiB segment take the two
 * passes). A segment switch, the most common reason for a call with
 * arguments to come here, is then decided in a few instructions.
 */
static NOINLINE void log_values(const struct ttlog_site *site, uint64_t word, va_list ap)
{
	const uint8_t *types = site->arg_types;
	unsigned nargs = site->nargs;
	if (nargs > 16) /* the macros take 16 at most */
		nargs = 16;
	struct ttlog__writer *w = ttlog__tls_writer;
	const uint32_t max = w->max_string;
	const uint32_t per_arg = max > 6u ? 4u + max : 10u;
	/* The idle writer's limit is 0, and so is every ring's while the clock
	 * is not the CPU's counter: those take the reserve's slow path. */
	const uint64_t h = TTLOG__LOAD(w->head, relaxed);
	if (TTLOG__LIKELY(h + 16u + (uint64_t)nargs * per_arg <= TTLOG__LOAD(w->limit, relaxed)))
		write_one_pass(w, h, word, types, nargs, ap);
	else
		write_two_pass(w, word, types, nargs, ap);
}

TTLOG_API void ttlog__log_slow(struct ttlog_site *site, uint64_t word, ...)
{
	va_list ap;
	if (site->nargs == 1 && site->arg_types[0] == TTLOG_ARG_STR) {
		/* "payload=%s": here when the string is long, short, NULL or
		 * truncated, or the record does not fit. */
		va_start(ap, word);
		const char *s = va_arg(ap, const char *);
		va_end(ap);
		log_string_fn(word, s);
		return;
	}
	va_start(ap, word);
	log_values(site, word, ap);
	va_end(ap);
}
