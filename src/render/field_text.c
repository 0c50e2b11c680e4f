/* SPDX-License-Identifier: MIT */
/*
 * field_text.c - the value of an event's field or argument as it appears in
 * a text line and in JSON (see field_text.h).
 */
#include <inttypes.h>
#include <string.h>

#include "render/field_text.h"
#include "render/json_text.h"

static int plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+' ||
	       c == ',';
}

static void put_quoted(struct render_buf *b, const char *s, size_t n)
{
	render_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			render_buf_putc(b, '\\');
			render_buf_putc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			render_buf_printf(b, "\\x%02x", c);
		} else {
			render_buf_putc(b, (char)c);
		}
	}
	render_buf_putc(b, '"');
}

void render_field_text(struct render_buf *b, const struct ttlog_arg *a)
{
	switch (a->type) {
	case TTLOG_ARG_STR: {
		if (a->str_null || !a->str) {
			render_buf_puts(b, "null");
			break;
		}
		int plain = a->str_len > 0 && !(a->str_len == 4 && memcmp(a->str, "null", 4) == 0);
		for (uint32_t i = 0; i < a->str_len && plain; i++)
			plain = plain_char((unsigned char)a->str[i]);
		if (plain)
			render_buf_put(b, a->str, a->str_len);
		else
			put_quoted(b, a->str, a->str_len);
		if (a->str_truncated)
			render_buf_puts(b, "...");
		break;
	}
	case TTLOG_ARG_PTR:
		render_buf_printf(b, "0x%" PRIx64, a->v.u);
		break;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL: {
		char text[RENDER_DOUBLE_BUF];
		render_buf_puts(b, render_double_text(a->v.d, text));
		break;
	}
	default:
		render_field_json(b, a); /* integers, booleans and long doubles read the same in both */
		break;
	}
}

/* An exact long double (LD80): as a double when it is one, else with the
 * 21 significant digits that read back as the same 64-bit significand. */
static void put_long_double(struct render_buf *b, const struct ttlog_arg *a)
{
	long double x = ttlog_arg_long_double(a);
	if (x != x || (long double)a->v.d == x) {
		render_json_double(b, a->v.d);
		return;
	}
	render_buf_printf(b, "%.21Lg", x);
}

void render_field_json(struct render_buf *b, const struct ttlog_arg *a)
{
	switch (a->type) {
	case TTLOG_ARG_BOOL:
		render_buf_puts(b, a->v.i ? "true" : "false");
		break;
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		render_buf_put_i64(b, a->v.i);
		break;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
		render_buf_put_u64(b, a->v.u);
		break;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
		render_json_double(b, a->v.d);
		break;
	case TTLOG_ARG_LD80:
		put_long_double(b, a);
		break;
	case TTLOG_ARG_PTR:
		render_buf_printf(b, "\"0x%" PRIx64 "\"", a->v.u);
		break;
	case TTLOG_ARG_STR:
		if (a->str_null || !a->str)
			render_buf_puts(b, "null");
		else
			render_json_string(b, a->str, a->str_len);
		break;
	default:
		render_buf_puts(b, "null"); /* a type this viewer does not know */
		break;
	}
}

void render_fields_json(struct render_buf *b, const struct ttlog_field *fields, unsigned n)
{
	render_buf_putc(b, '{');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			render_buf_putc(b, ',');
		render_json_cstring(b, fields[i].key);
		render_buf_putc(b, ':');
		render_field_json(b, fields[i].value);
	}
	render_buf_putc(b, '}');
}
