/* SPDX-License-Identifier: MIT */
/*
 * key_text.h - the text of a key file (FORMAT.md section 21.4): one line,
 * a word naming the kind of key, one space, 64 lowercase hexadecimal
 * digits (the 32 bytes), a newline. The writer reads a public key with it
 * (src/snapshot/seal.c), the reader a private key (src/reader/unseal.c);
 * inline so that each library has it without exporting it.
 */
#ifndef TTLOG__COMMON_KEY_TEXT_H
#define TTLOG__COMMON_KEY_TEXT_H

#include <stddef.h>
#include <string.h>

/* Reads key (n bytes) from text (len bytes) that must begin with word.
 * 0, or -1 with what is wrong in *why. */
static inline int ttlog__key_text_parse(const char *text, size_t len, const char *word,
					unsigned char *key, size_t n, const char **why)
{
	size_t w = strlen(word);
	if (len < w + 1 || memcmp(text, word, w) != 0 || text[w] != ' ') {
		*why = "does not begin with the word of its kind of key";
		return -1;
	}
	const char *p = text + w + 1;
	size_t left = len - w - 1;
	if (left < 2 * n) {
		*why = "the key is shorter than 64 hex digits";
		return -1;
	}
	for (size_t i = 0; i < 2 * n; i++) {
		char c = p[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0) {
			*why = "the key is not 64 lowercase hex digits";
			return -1;
		}
		if (i % 2 == 0)
			key[i / 2] = (unsigned char)(v << 4);
		else
			key[i / 2] |= (unsigned char)v;
	}
	p += 2 * n;
	left -= 2 * n;
	if (left > 0 && *p == '\r') {
		p++;
		left--;
	}
	if (left > 0 && *p == '\n') {
		p++;
		left--;
	}
	if (left != 0) {
		*why = "text after the key";
		return -1;
	}
	return 0;
}

#endif
