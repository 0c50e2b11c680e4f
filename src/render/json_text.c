/* SPDX-License-Identifier: MIT */
/*
 * json_text.c - JSON strings and numbers (see json_text.h for the escaping
 * rules, which make any bytes a valid JSON string).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/double_text.h"
#include "render/json_text.h"
#include "render/word_scan.h"
#include "ttlog_reader.h"

/*
 * Length of the well-formed UTF-8 sequence at p (2 to 4 bytes), or 0 if the
 * bytes there are not one. Follows the Unicode table of well-formed byte
 * sequences: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF.
 */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (p[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* What render_json_string() does with each byte: most are copied as they
 * are, in runs; the others end the run. */
enum { COPY, ESCAPE, UTF8 };
static const unsigned char byte_class[256] = {
	/* Control characters, '"', '\\' and DEL are escaped; bytes from 0x80
	 * must start a well-formed UTF-8 sequence to be copied. */
	[0x00 ... 0x1f] = ESCAPE,
	['"'] = ESCAPE,
	['\\'] = ESCAPE,
	[0x7f] = ESCAPE,
	[0x80 ... 0xff] = UTF8,
};

/* Nonzero if one of the eight bytes of w needs a look: a control
 * character, '"', '\\', DEL or a byte from 0x80. */
static uint64_t word_to_look_at(uint64_t w)
{
	return render_word_look(w, '"', '\\');
}

/* replace: a byte that is not UTF-8 becomes U+FFFD instead of \udcXX. */
static void json_string(struct render_buf *b, const char *s, size_t len, int replace)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	/* p[run..i-1] is copied as it is */
	size_t i = render_plain_prefix_wide(p, len, '"', '\\', word_to_look_at), run = 0;

	if (b->cap - b->len <= len + 2)
		render_buf_reserve(b, len + 2);
	if (i == len) {
		/* Nothing to escape, as in most strings: one copy. */
		char *o = b->data + b->len;
		o[0] = '"';
		memcpy(o + 1, s, len);
		o[len + 1] = '"';
		o[len + 2] = '\0';
		b->len += len + 2;
		return;
	}
	render_buf_putc(b, '"');
	while (i < len) {
		unsigned char c;
		size_t n;

		if (len - i >= 8) {
			uint64_t w;
			memcpy(&w, p + i, sizeof w);
			if (!word_to_look_at(w)) {
				i += 8;
				continue;
			}
		}
		c = p[i];
		if (byte_class[c] == COPY) {
			i++;
			continue;
		}
		if (byte_class[c] == UTF8 && (n = utf8_sequence(p + i, len - i)) != 0) {
			i += n;
			continue;
		}
		render_buf_put(b, p + run, i - run);
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			render_buf_put(b, esc, 2);
		} else if (c < 0x80) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			render_buf_put(b, esc, 6);
		} else if (replace) {
			render_buf_put(b, "\\ufffd", 6);
		} else {
			/* Not UTF-8: the byte as a lone low surrogate, U+DC80 to
			 * U+DCFF (the rule of Python's surrogateescape), so that
			 * the bytes can be had back. */
			char esc[6] = {'\\', 'u', 'd', 'c', hex[c >> 4], hex[c & 15]};
			render_buf_put(b, esc, 6);
		}
		run = ++i;
	}
	render_buf_put(b, p + run, i - run);
	render_buf_putc(b, '"');
}

void render_json_string(struct render_buf *b, const char *s, size_t len)
{
	json_string(b, s, len, 0);
}

void render_json_string_utf8(struct render_buf *b, const char *s, size_t len)
{
	json_string(b, s, len, 1);
}

void render_json_cstring_utf8(struct render_buf *b, const char *s)
{
	if (s)
		json_string(b, s, strlen(s), 1);
	else
		render_buf_puts(b, "null");
}

void render_json_labels(struct render_buf *b, const struct ttlog_metric_label *labels, unsigned n)
{
	render_buf_putc(b, '{');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			render_buf_putc(b, ',');
		render_json_cstring(b, labels[i].key);
		render_buf_putc(b, ':');
		render_json_cstring(b, labels[i].value);
	}
	render_buf_putc(b, '}');
}

void render_json_cstring(struct render_buf *b, const char *s)
{
	if (s)
		render_json_string(b, s, strlen(s));
	else
		render_buf_puts(b, "null");
}

/* The text of a finite double, as render_double_text() describes it, into
 * text; returns its length. */
static size_t finite_text(double d, char *text)
{
	/* Whole numbers below 10^15 print the same as %.15g would, without
	 * printf and strtod (-0 keeps its sign through %g). */
	if (fabs(d) < 1e15 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
		_Static_assert(RENDER_DOUBLE_BUF >= RENDER_INT_BUF, "room for an integer");
		return render_i64_text((int64_t)d, text);
	}
	size_t n = render_double_text_fast(d, text);
	if (n)
		return n;
	/* What the fast method leaves (zeros, exact ties): printf, which it
	 * matches byte for byte. %.17g always reads back exactly; try shorter
	 * first for readability.
	 * %g never produces anything that is not a JSON number here: no
	 * leading '+', no bare '.', and the exponent form "1e+300" is valid. */
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(text, RENDER_DOUBLE_BUF, "%.*g", precision, d);
		if (strtod(text, NULL) == d)
			break;
	}
	return strlen(text);
}

const char *render_double_text(double d, char text[RENDER_DOUBLE_BUF])
{
	if (isnan(d))
		return "nan";
	if (isinf(d))
		return d > 0 ? "inf" : "-inf";
	finite_text(d, text);
	return text;
}

void render_json_double(struct render_buf *b, double d)
{
	if (isnan(d) || isinf(d)) {
		char text[RENDER_DOUBLE_BUF];
		render_buf_printf(b, "\"%s\"", render_double_text(d, text));
		return;
	}
	/* Straight into the buffer. */
	if (b->cap - b->len <= RENDER_DOUBLE_BUF)
		render_buf_reserve(b, RENDER_DOUBLE_BUF);
	b->len += finite_text(d, b->data + b->len);
}

size_t render_utf8_length(const char *s, size_t avail)
{
	const unsigned char *p = (const unsigned char *)s;
	return p[0] < 0x80 ? 1 : utf8_sequence(p, avail);
}
