/* SPDX-License-Identifier: MIT */
/*
 * text_buf.c - the growable byte buffer (struct render_buf) and the
 * decimal text of integers appended to it (see text_buf.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "render/text_buf.h"

/* stdout first, so that what was printed before is not lost behind the
 * message; the command's main() is not reached to flush it. */
static _Noreturn void out_of_memory(void)
{
	fflush(stdout);
	fputs("ttlog: out of memory\n", stderr);
	exit(RENDER_EXIT_NO_MEMORY);
}

void *render_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		out_of_memory();
	return q;
}

char *render_xstrdup(const char *s)
{
	s = s ? s : "";
	size_t n = strlen(s) + 1;
	return memcpy(render_xrealloc(NULL, n), s, n);
}

void render_buf_reserve(struct render_buf *b, size_t extra)
{
	/* Only a corrupt length can ask for this much: treat it as no memory. */
	if (extra >= SIZE_MAX / 2 - b->len)
		out_of_memory();
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = render_xrealloc(b->data, cap);
	b->cap = cap;
}

void render_buf_reset(struct render_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void render_buf_free(struct render_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Decimal digits without printf: an event's JSON has several integers and
 * vfprintf was most of the cost of writing one (common/decimal.h makes
 * eight digits at a time; it touches at most 20 bytes of out). */
size_t render_u64_text(uint64_t v, char *out)
{
	char *end = ttlog__decimal_write(out, v);
	*end = '\0';
	return (size_t)(end - out);
}

size_t render_i64_text(int64_t v, char out[RENDER_INT_BUF])
{
	if (v >= 0)
		return render_u64_text((uint64_t)v, out);
	out[0] = '-';
	return 1 + render_u64_text(0 - (uint64_t)v, out + 1); /* also right for INT64_MIN */
}

/* Both write the digits (and the NUL) straight into the buffer. */
void render_buf_put_u64(struct render_buf *b, uint64_t v)
{
	if (b->cap - b->len <= RENDER_INT_BUF)
		render_buf_reserve(b, RENDER_INT_BUF);
	b->len += render_u64_text(v, b->data + b->len);
}

void render_buf_put_i64(struct render_buf *b, int64_t v)
{
	if (b->cap - b->len <= RENDER_INT_BUF)
		render_buf_reserve(b, RENDER_INT_BUF);
	b->len += render_i64_text(v, b->data + b->len);
}

void render_buf_vprintf(struct render_buf *b, const char *format, va_list ap)
{
	va_list again;
	va_copy(again, ap);
	render_buf_reserve(b, 64);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, format, ap);
	if (n < 0) {
		/* Only an invalid format can fail; keep the buffer as it was. */
		b->data[b->len] = '\0';
	} else if ((size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
	} else {
		render_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, format, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void render_buf_printf(struct render_buf *b, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	render_buf_vprintf(b, format, ap);
	va_end(ap);
}

int render_buf_write(const struct render_buf *b, FILE *f)
{
	if (b->len && fwrite(b->data, 1, b->len, f) != b->len)
		return -1;
	return 0;
}
