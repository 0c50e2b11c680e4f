/*
 * fields.c - printing event fields and matching them against --field.
 *
 * Numbers are compared as long double, whose 64-bit significand holds every
 * 64-bit integer exactly, so user=18446744073709551615 and id>-5 compare
 * integers of any width without rounding, and doubles like any double.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "render/json_text.h"

static int plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-_.:/@+,", c) != NULL;
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

void cli_field_text(struct render_buf *b, const struct ttlog_arg *a)
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
		cli_field_json(b, a); /* integers and booleans read the same in both */
		break;
	}
}

void cli_field_json(struct render_buf *b, const struct ttlog_arg *a)
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

/* ---- --field ------------------------------------------------------------ */

/* Reads all of s as a number (decimal, 0x hex, or floating point). */
static int parse_number(const char *s, long double *out)
{
	if (!*s)
		return 0;
	char *end;
	errno = 0;
	long double v = strtold(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return 0;
	*out = v;
	return 1;
}

int cli_field_filter_parse(const char *arg, struct cli_field_filter *f, char *err, size_t err_size)
{
	memset(f, 0, sizeof *f);
	size_t k = strcspn(arg, "=!<>");
	const char *op = arg + k;
	size_t oplen = 1;
	if (*op == '\0') {
		snprintf(err, err_size,
			 "--field '%s': expected KEY=VALUE, KEY!=VALUE, KEY<N, KEY<=N, KEY>N or KEY>=N",
			 arg);
		return -1;
	}
	if (op[0] == '!' && op[1] == '=') {
		f->op = CLI_FIELD_NE;
		oplen = 2;
	} else if (op[0] == '!') {
		snprintf(err, err_size, "--field '%s': expected != after the key", arg);
		return -1;
	} else if (op[0] == '=') {
		f->op = CLI_FIELD_EQ;
	} else if (op[1] == '=') {
		f->op = op[0] == '<' ? CLI_FIELD_LE : CLI_FIELD_GE;
		oplen = 2;
	} else {
		f->op = op[0] == '<' ? CLI_FIELD_LT : CLI_FIELD_GT;
	}
	if (k == 0) {
		snprintf(err, err_size, "--field '%s': expected a field name before '%.*s'", arg,
			 (int)oplen, op);
		return -1;
	}
	f->value = op + oplen;
	f->numeric = parse_number(f->value, &f->number);
	if (f->op != CLI_FIELD_EQ && f->op != CLI_FIELD_NE && !f->numeric) {
		snprintf(err, err_size, "--field '%s': expected a number after '%.*s', found '%s'",
			 arg, (int)oplen, op, f->value);
		return -1;
	}
	f->key = render_xrealloc(NULL, k + 1);
	memcpy(f->key, arg, k);
	f->key[k] = '\0';
	return 0;
}

/* The field's value as a number, if it is one. */
static int field_number(const struct ttlog_arg *a, long double *out)
{
	switch (a->type) {
	case TTLOG_ARG_BOOL:
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		*out = (long double)a->v.i;
		return 1;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
	case TTLOG_ARG_PTR:
		*out = (long double)a->v.u;
		return 1;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
		*out = (long double)a->v.d;
		return a->v.d == a->v.d; /* NaN compares with nothing */
	default:
		return 0;
	}
}

static int value_equals(const struct cli_field_filter *f, const struct ttlog_arg *a)
{
	if (a->type == TTLOG_ARG_STR) {
		if (a->str_null || !a->str)
			return 0;
		return strlen(f->value) == a->str_len && memcmp(f->value, a->str, a->str_len) == 0;
	}
	if (a->type == TTLOG_ARG_BOOL && (strcmp(f->value, "true") == 0 || strcmp(f->value, "false") == 0))
		return (a->v.i != 0) == (f->value[0] == 't');
	long double x;
	return f->numeric && field_number(a, &x) && x == f->number;
}

int cli_field_filter_match(const struct cli_field_filter *f, const struct ttlog_event *ev)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *fl = &ev->fields[i];
		if (strcmp(fl->key, f->key) != 0)
			continue;
		long double x;
		switch (f->op) {
		case CLI_FIELD_EQ: return value_equals(f, fl->value);
		case CLI_FIELD_NE: return !value_equals(f, fl->value);
		default: break;
		}
		if (!field_number(fl->value, &x))
			return 0;
		switch (f->op) {
		case CLI_FIELD_LT: return x < f->number;
		case CLI_FIELD_LE: return x <= f->number;
		case CLI_FIELD_GT: return x > f->number;
		default: return x >= f->number;
		}
	}
	return 0;
}

void cli_field_filter_free(struct cli_field_filter *f)
{
	free(f->key);
	f->key = NULL;
}
