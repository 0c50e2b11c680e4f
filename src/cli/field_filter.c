/* SPDX-License-Identifier: MIT */
/*
 * field_filter.c - the --field filter of the ttlog command: parsing
 * "KEY=VALUE" and friends, and matching an event's fields against it.
 *
 * Numbers are compared as long double, whose 64-bit significand holds every
 * 64-bit integer exactly, so user=18446744073709551615 and id>-5 compare
 * integers of any width without rounding, and doubles like any double.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field_filter.h"

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
	case TTLOG_ARG_LD80:
		*out = ttlog_arg_long_double(a);
		return *out == *out; /* NaN compares with nothing */
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
