/* SPDX-License-Identifier: MIT */
/*
 * word_scan.h - finding the bytes of a text that need a closer look eight
 * at a time: the text and JSON escapers copy runs of ordinary bytes and
 * only look at a byte on its own when a word of eight holds one that may
 * need escaping.
 *
 * These are the usual carry tricks; as yes/no answers they are exact (a
 * borrow can mark a byte above a real hit, never a word without one).
 */
#ifndef TTLOG__RENDER_WORD_SCAN_H
#define TTLOG__RENDER_WORD_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define RENDER_WORD_ONES UINT64_C(0x0101010101010101)
#define RENDER_WORD_HIGHS UINT64_C(0x8080808080808080)

/** Nonzero if a byte of w is below n (n <= 128). */
static inline uint64_t render_word_has_below(uint64_t w, unsigned n)
{
	return (w - RENDER_WORD_ONES * n) & ~w & RENDER_WORD_HIGHS;
}

/** Nonzero if a byte of w equals c. */
static inline uint64_t render_word_has(uint64_t w, unsigned char c)
{
	return render_word_has_below(w ^ (RENDER_WORD_ONES * c), 1);
}

/**
 * Nonzero if one of the eight bytes of w is not plain ASCII to copy: a
 * control character, DEL, a byte from 0x80, a or b (both below 0x80).
 * Each byte's low seven bits x are tested in its own lane: x + 0x60,
 * x + 0x01 and (x ^ c) + 0x7f stay below 0x100, so no carry crosses into
 * the next byte, and their top bits say x >= 0x20, x == 0x7f and x != c.
 */
static inline uint64_t render_word_look(uint64_t w, unsigned char a, unsigned char b)
{
	const uint64_t x = w & ~RENDER_WORD_HIGHS;
	const uint64_t printable = x + RENDER_WORD_ONES * 0x60;
	const uint64_t del = x + RENDER_WORD_ONES * 0x01;
	const uint64_t not_a = (x ^ (RENDER_WORD_ONES * a)) + RENDER_WORD_ONES * 0x7f;
	const uint64_t not_b = (x ^ (RENDER_WORD_ONES * b)) + RENDER_WORD_ONES * 0x7f;
	return (w | del | ~(printable & not_a & not_b)) & RENDER_WORD_HIGHS;
}

/**
 * The number of leading bytes of p (len of them) in which look() finds
 * nothing to look at, word by word: a multiple of 8, or len when it finds
 * nothing at all. The last, short word is padded with 'a', which look()
 * must take as plain. Inline, so that look() is too.
 */
static inline size_t render_plain_prefix(const void *p, size_t len, uint64_t (*look)(uint64_t))
{
	const unsigned char *s = p;
	size_t i = 0;
	uint64_t w;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, s + i, sizeof w);
		if (look(w))
			return i;
	}
	if (i == len)
		return len;
	/* The last, short word, read without copying it byte by byte into a
	 * padded word (whose load then waited for the bytes' stores): the
	 * last eight bytes, over some already looked at; or, in a text
	 * shorter than eight, its first and last four, or its first, middle
	 * and last byte (padded with 'a'). Every byte of the word is one of
	 * the text's, so the answer is as exact. */
	if (len >= 8) {
		memcpy(&w, s + len - 8, sizeof w);
	} else if (len >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, s, sizeof lo);
		memcpy(&hi, s + len - 4, sizeof hi);
		w = lo | (uint64_t)hi << 32;
	} else {
		w = (RENDER_WORD_ONES * 'a' & ~UINT64_C(0xffffff)) | s[0] |
		    (uint64_t)s[len / 2] << 8 | (uint64_t)s[len - 1] << 16;
	}
	return look(w) ? i : len;
}

/**
 * As render_plain_prefix(), sixteen bytes at a time where the processor has
 * SSE2 (every x86-64): the number of leading bytes of p that are neither
 * below 0x20, nor DEL, nor from 0x80, nor a, nor b (the index of the first
 * such byte, or len). A text shorter than 16 bytes goes to
 * render_plain_prefix() with look(), which must flag the same bytes.
 */
static inline size_t render_plain_prefix_wide(const void *p, size_t len, unsigned char a,
					      unsigned char b, uint64_t (*look)(uint64_t))
{
	size_t i = 0;
#if defined(__SSE2__)
	const unsigned char *s = p;
	const __m128i below = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
	for (;; i += 16) {
		/* The last block overlaps bytes already looked at, which are
		 * plain: a hit there is at or after i. */
		size_t at = len - i >= 16 ? i : len - 16;
		if (len < 16)
			break;
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + at));
		/* 0xff where v <= 0x1f (min(v, 0x1f) == v), == DEL, a or b; the
		 * bytes from 0x80 have their top bit set already. */
		__m128i odd = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(v, below), v),
					   _mm_or_si128(_mm_cmpeq_epi8(v, del),
							_mm_or_si128(_mm_cmpeq_epi8(v, va),
								     _mm_cmpeq_epi8(v, vb))));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(odd, v));
		if (m)
			return at + (size_t)__builtin_ctz(m);
		if (at + 16 >= len)
			return len;
	}
#else
	(void)a;
	(void)b;
#endif
	return i + render_plain_prefix((const unsigned char *)p + i, len - i, look);
}

#endif /* TTLOG__RENDER_WORD_SCAN_H */
