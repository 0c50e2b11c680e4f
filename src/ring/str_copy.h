/* SPDX-License-Identifier: MIT */
/*
 * str_copy.h - a string argument measured while it is copied: the copy of
 * ttlog__log_slow() (src/thread/log_slow.c), which writes a record in one
 * pass where it has the room.
 *
 * Every function here copies the string s into d and returns the size word
 * of its argument (docs/FORMAT.md, "Argument encoding"): the length, at
 * most max, and TTLOG__STR_TRUNCATED when s is longer than max, exactly as
 * ttlog__len_str() in <ttlog/impl.h> gives it less 4 (strnlen(s, max + 1)
 * compared with max). s is not NULL. They write d[0, length) and no other
 * byte, so nothing of the caller's memory after the terminator reaches a
 * record. They run on the log call's path: only the plain version calls
 * anything (strnlen and memcpy).
 *
 * ttlog__str_copy_plain()  strnlen and memcpy (ttlog__str_len_long() and
 *                          ttlog__str_copy_long()): every build.
 * ttlog__str_copy_sse2()   x86-64 with SSE2 (TTLOG__SCAN_SHORT: not under
 *                          AddressSanitizer or MemorySanitizer, which check
 *                          every byte read), one pass over 16-byte blocks,
 *                          two at a time.
 * ttlog__str_copy_avx2()   the same over 32-byte vectors, for code built
 *                          with target("avx2") that runs only where
 *                          __builtin_cpu_supports("avx2") said so.
 *
 * Reads, in the vector versions: blocks (SSE2, 16 bytes) or chunks (AVX2,
 * 32 bytes) at addresses aligned to their size, and unaligned loads of the
 * string's own bytes. A block or chunk is read only if one of its bytes is
 * the string's or its terminator (the first one holds s; each next one only
 * when every byte before it is the string's), and an aligned one never
 * crosses a page, so every byte read is mapped: the argument of the inline
 * scan ("Strings on the hot path" in <ttlog/impl.h>) and of the C library's
 * own strlen. The one that holds s[max] is the last one read. Since each
 * load holds a byte of the string, valgrind's memcheck accepts it (a load
 * partly outside a heap block is allowed when aligned) and follows which
 * bytes are defined through the comparisons, as for the inline scan.
 *
 * Writes: a whole 32 bytes without a terminator that lie below s + max (two
 * blocks, or a chunk) are stored as they were loaded, at the same offset of
 * d; the first 32 bytes and the last 32 are stored at the end from
 * unaligned loads of the string, which cover what those stores did not (the
 * bytes from s to the first 32-byte boundary, and the string's end).
 * Strings shorter than 32 bytes take ttlog__str_copy_small(). A max below
 * 32 (never by default: 256) takes the plain version.
 */
#ifndef TTLOG_RING_STR_COPY_H
#define TTLOG_RING_STR_COPY_H

#include <stdint.h>
#include <string.h>

#include "ttlog.h"

/* The halves a call site leaves to the library (src/ring/str_arg.c), one
 * after the other. Not inline: the vector versions call it only for a max
 * below 32, and two calls in them would cost their callers a stack frame. */
static __attribute__((noinline, unused)) uint32_t ttlog__str_copy_plain(unsigned char *d, const char *s,
									 uint32_t max)
{
	const uint32_t n = ttlog__str_len_long(s, max); /* the size word plus 4 */
	ttlog__str_copy_long(d, s, (n & TTLOG__STR_LEN_MASK) - 4u);
	return n - 4u;
}

#ifdef TTLOG__SCAN_SHORT /* x86-64 with SSE2; <emmintrin.h> is included */
#include <immintrin.h>

#define TTLOG__STR_COPY_AVX2 1

#define TTLOG__STR_INLINE static inline __attribute__((always_inline))

/* Copies n < 32 bytes, reading and writing only [0, n). */
TTLOG__STR_INLINE void ttlog__str_copy_small(unsigned char *d, const char *s, uint32_t n)
{
	if (n >= 16u) {
		__m128i first = _mm_loadu_si128((const __m128i *)s);
		__m128i last = _mm_loadu_si128((const __m128i *)(s + n - 16));
		_mm_storeu_si128((__m128i *)d, first);
		_mm_storeu_si128((__m128i *)(d + n - 16), last);
	} else if (n >= 8u) {
		uint64_t first, last;
		memcpy(&first, s, 8);
		memcpy(&last, s + n - 8, 8);
		memcpy(d, &first, 8);
		memcpy(d + n - 8, &last, 8);
	} else if (n >= 4u) {
		uint32_t first, last;
		memcpy(&first, s, 4);
		memcpy(&last, s + n - 4, 4);
		memcpy(d, &first, 4);
		memcpy(d + n - 4, &last, 4);
	} else if (n) {
		d[0] = (unsigned char)s[0];
		d[n >> 1] = (unsigned char)s[n >> 1];
		d[n - 1] = (unsigned char)s[n - 1];
	}
}

/* Bit i set: byte i of the 16-byte aligned block at b is 0. */
TTLOG__STR_INLINE uint32_t ttlog__str_nul16_sse2(const char *b)
{
	return (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)b), _mm_setzero_si128()));
}

/* The first n bytes of s to d, n >= 1, when d[32, n - 32) holds them
 * already (stored with their chunks). */
TTLOG__STR_INLINE void ttlog__str_ends_sse2(unsigned char *d, const char *s, uint32_t n)
{
	if (n < 32u) {
		ttlog__str_copy_small(d, s, n);
		return;
	}
	__m128i a = _mm_loadu_si128((const __m128i *)s);
	__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
	__m128i y = _mm_loadu_si128((const __m128i *)(s + n - 32));
	__m128i z = _mm_loadu_si128((const __m128i *)(s + n - 16));
	_mm_storeu_si128((__m128i *)d, a);
	_mm_storeu_si128((__m128i *)(d + 16), b);
	_mm_storeu_si128((__m128i *)(d + n - 32), y);
	_mm_storeu_si128((__m128i *)(d + n - 16), z);
}

/* Written with the loop's values only (s, the last 32-byte start below
 * s + max, d's distance from s), so that it needs few registers. */
TTLOG__STR_INLINE uint32_t ttlog__str_copy_sse2(unsigned char *d, const char *s, uint32_t max)
{
	if (max < 32u)
		return ttlog__str_copy_plain(d, s, max);
	const uint32_t skip = (uint32_t)((uintptr_t)s & 15u);
	uint32_t m = ttlog__str_nul16_sse2(s - skip) >> skip; /* bytes before s are not the string's */
	uintptr_t q = ((uintptr_t)s | 15u) + 1u;             /* the next block */
	if (!m && (q & 16u)) { /* that block, alone, to a 32-byte boundary */
		m = ttlog__str_nul16_sse2((const char *)q) << (16u - skip);
		q += 16u;
	}
	if (m) {
		uint32_t n = (uint32_t)__builtin_ctz(m); /* below 32, so at most max */
		ttlog__str_copy_small(d, s, n);
		return n;
	}
	/* s[0, q - s) has no terminator, and q is 32-byte aligned. Two blocks
	 * at q go to d at q's offset, delta bytes further; last is the last
	 * 32-byte start wholly below s + max. */
	const uintptr_t last = (uintptr_t)s + max - 32u;
	const uintptr_t delta = (uintptr_t)d - (uintptr_t)s;
	const __m128i zero = _mm_setzero_si128();
	uint32_t n;
	for (;; q += 32) {
		if (q > last) { /* s[max] is in [q, q + 32) */
			m = ttlog__str_nul16_sse2((const char *)q);
			if (!m) /* the string goes on into the next block */
				m = ttlog__str_nul16_sse2((const char *)q + 16) << 16;
			n = (uint32_t)(q - (uintptr_t)s) + (m ? (uint32_t)__builtin_ctz(m) : 32u);
			if (n > (uint32_t)(last + 32u - (uintptr_t)s)) { /* none in s[0, max] */
				n = (uint32_t)(last + 32u - (uintptr_t)s); /* max */
				ttlog__str_ends_sse2((unsigned char *)((uintptr_t)s + delta), s, n);
				return n | TTLOG__STR_TRUNCATED;
			}
			break;
		}
		__m128i a = _mm_load_si128((const __m128i *)q);
		m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, zero));
		if (m) {
			n = (uint32_t)(q - (uintptr_t)s) + (uint32_t)__builtin_ctz(m);
			break;
		}
		__m128i b = _mm_load_si128((const __m128i *)(q + 16u));
		m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, zero));
		if (m) {
			n = (uint32_t)(q + 16u - (uintptr_t)s) + (uint32_t)__builtin_ctz(m);
			break;
		}
		_mm_storeu_si128((__m128i *)(q + delta), a);
		_mm_storeu_si128((__m128i *)(q + delta + 16u), b);
	}
	ttlog__str_ends_sse2((unsigned char *)((uintptr_t)s + delta), s, n);
	return n;
}

#define TTLOG__STR_AVX2 __attribute__((target("avx2")))

/* Bit i set: byte i of the 32-byte aligned chunk at c is 0. */
TTLOG__STR_INLINE TTLOG__STR_AVX2 uint32_t ttlog__str_nul32_avx2(const char *c)
{
	__m256i v = _mm256_load_si256((const __m256i *)c);
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
}

/* As ttlog__str_ends_sse2(). */
TTLOG__STR_INLINE TTLOG__STR_AVX2 void ttlog__str_ends_avx2(unsigned char *d, const char *s, uint32_t n)
{
	if (n < 32u) {
		ttlog__str_copy_small(d, s, n);
		return;
	}
	__m256i a = _mm256_loadu_si256((const __m256i *)s);
	__m256i z = _mm256_loadu_si256((const __m256i *)(s + n - 32));
	_mm256_storeu_si256((__m256i *)d, a);
	_mm256_storeu_si256((__m256i *)(d + n - 32), z);
}

/* As ttlog__str_copy_sse2(), a 32-byte chunk at a time. Callers built
 * without AVX2 call it through a function of their own with the target
 * attribute. */
TTLOG__STR_INLINE TTLOG__STR_AVX2 uint32_t ttlog__str_copy_avx2(unsigned char *d, const char *s,
								 uint32_t max)
{
	if (max < 32u)
		return ttlog__str_copy_plain(d, s, max);
	const uint32_t skip = (uint32_t)((uintptr_t)s & 31u);
	uint32_t m = ttlog__str_nul32_avx2(s - skip) >> skip;
	if (m) {
		uint32_t n = (uint32_t)__builtin_ctz(m);
		ttlog__str_copy_small(d, s, n);
		return n;
	}
	const uintptr_t last = (uintptr_t)s + max - 32u;
	const uintptr_t delta = (uintptr_t)d - (uintptr_t)s;
	const __m256i zero = _mm256_setzero_si256();
	uintptr_t q = ((uintptr_t)s | 31u) + 1u;
	uint32_t n;
	for (;; q += 32) {
		if (q > last) {
			m = ttlog__str_nul32_avx2((const char *)q);
			n = (uint32_t)(q - (uintptr_t)s) + (m ? (uint32_t)__builtin_ctz(m) : 32u);
			if (n > (uint32_t)(last + 32u - (uintptr_t)s)) {
				n = (uint32_t)(last + 32u - (uintptr_t)s);
				ttlog__str_ends_avx2((unsigned char *)((uintptr_t)s + delta), s, n);
				return n | TTLOG__STR_TRUNCATED;
			}
			break;
		}
		__m256i a = _mm256_load_si256((const __m256i *)q);
		m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(a, zero));
		if (m) {
			n = (uint32_t)(q - (uintptr_t)s) + (uint32_t)__builtin_ctz(m);
			break;
		}
		_mm256_storeu_si256((__m256i *)(q + delta), a);
	}
	ttlog__str_ends_avx2((unsigned char *)((uintptr_t)s + delta), s, n);
	return n;
}
#endif /* TTLOG__SCAN_SHORT */

#endif /* TTLOG_RING_STR_COPY_H */
