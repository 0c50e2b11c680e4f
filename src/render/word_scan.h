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
	if (i < len) {
		w = RENDER_WORD_ONES * 'a';
		memcpy(&w, s + i, len - i);
		if (look(w))
			return i;
	}
	return len;
}

#endif /* TTLOG__RENDER_WORD_SCAN_H */
