/* SPDX-License-Identifier: MIT */
/*
 * text_buf.h - the growable byte buffer that every text of an event is
 * built in (struct render_buf), and the decimal text of integers.
 *
 * Output lines are built whole and written with one fwrite(), so that a
 * line is never half-written because one piece of it failed to format.
 * Running out of memory ends the program with a message and exit status
 * RENDER_EXIT_NO_MEMORY: neither a viewer nor a query has anything sensible
 * to fall back on.
 */
#ifndef TTLOG__RENDER_TEXT_BUF_H
#define TTLOG__RENDER_TEXT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The exit status after running out of memory: the command's for "a file
 * could not be read completely, or output failed" (CLI_EXIT_DATA). */
#define RENDER_EXIT_NO_MEMORY 2

/* A byte buffer that grows as needed; data is always NUL-terminated once
 * anything was added. A zeroed struct is an empty buffer. */
struct render_buf {
	char *data;
	size_t len;
	size_t cap;
};

/** Makes room for at least `extra` more bytes plus a terminating NUL. */
void render_buf_reserve(struct render_buf *b, size_t extra);
void render_buf_reset(struct render_buf *b);
void render_buf_free(struct render_buf *b);

/* The appends are inline: an event's line is built from dozens of small
 * pieces, and a call plus render_buf_reserve() for each was a good part of
 * the cost of printing it. Only a buffer that must grow calls out. */

/* Copies n bytes, up to 32, with two loads and two stores that may
 * overlap: most pieces of a line are that short, and a call of memcpy()
 * for each was a good part of what a line cost. */
static inline void render_copy_short(char *to, const char *from, size_t n)
{
	uint64_t w[4];
	if (n >= 16) {
		memcpy(w, from, 16);
		memcpy(w + 2, from + n - 16, 16);
		memcpy(to, w, 16);
		memcpy(to + n - 16, w + 2, 16);
	} else if (n >= 8) {
		memcpy(w, from, 8);
		memcpy(w + 1, from + n - 8, 8);
		memcpy(to, w, 8);
		memcpy(to + n - 8, w + 1, 8);
	} else if (n >= 4) {
		uint32_t h[2];
		memcpy(h, from, 4);
		memcpy(h + 1, from + n - 4, 4);
		memcpy(to, h, 4);
		memcpy(to + n - 4, h + 1, 4);
	} else if (n) {
		char first = from[0], mid = from[n / 2], last = from[n - 1];
		to[0] = first;
		to[n / 2] = mid;
		to[n - 1] = last;
	}
}

/** Appends n bytes. */
static inline void render_buf_put(struct render_buf *b, const void *bytes, size_t n)
{
	if (b->cap - b->len <= n) /* room for n bytes and the NUL? */
		render_buf_reserve(b, n);
	if (n <= 32)
		render_copy_short(b->data + b->len, bytes, n);
	else
		memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/** Appends one byte. */
static inline void render_buf_putc(struct render_buf *b, char c)
{
	if (b->cap - b->len <= 1)
		render_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/** Appends a NUL-terminated string (a literal's length is known when
 *  compiling). */
static inline void render_buf_puts(struct render_buf *b, const char *s)
{
	render_buf_put(b, s, strlen(s));
}

/** Writes v in decimal and a NUL to out (RENDER_INT_BUF bytes, or 21 for
 *  an unsigned value); returns the length. */
#define RENDER_INT_BUF 22 /* a sign, 20 digits and the NUL */
size_t render_u64_text(uint64_t v, char *out);
size_t render_i64_text(int64_t v, char out[RENDER_INT_BUF]);
/** Appends v in decimal. */
void render_buf_put_u64(struct render_buf *b, uint64_t v);
void render_buf_put_i64(struct render_buf *b, int64_t v);
void render_buf_printf(struct render_buf *b, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void render_buf_vprintf(struct render_buf *b, const char *format, va_list ap)
	__attribute__((format(printf, 2, 0)));
/** Writes the buffer to f; returns 0, or -1 on a write error. */
int render_buf_write(const struct render_buf *b, FILE *f);

/** realloc() that ends the program when memory runs out. */
void *render_xrealloc(void *p, size_t size);

/** A copy of s (NULL: of ""), made with render_xrealloc(). */
char *render_xstrdup(const char *s);

#endif /* TTLOG__RENDER_TEXT_BUF_H */
