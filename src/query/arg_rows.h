/* SPDX-License-Identifier: MIT */
/*
 * arg_rows.h - an event's arguments as typed rows: what the args table
 * shows (one row per argument) and what `ttlog diff` and `ttlog explain`
 * compare (the numeric ones), decided once so that both agree on which
 * argument is which and what its value is.
 *
 * An argument is named by its position among all the event's arguments
 * (0-based, TTLOG_F() fields included, in call order) and, when the site
 * gives it one, by its field key ("latency_ms" of "latency_ms=%f").
 * Numeric arguments are the integers and the floating-point ones; bool,
 * char, pointers and strings are not numbers to compare.
 */
#ifndef TTLOG__QUERY_ARG_ROWS_H
#define TTLOG__QUERY_ARG_ROWS_H

#include "ttlog_reader.h"

/* How an argument's value is held (the args table's value columns). */
enum query_arg_class {
	QUERY_ARG_NULL = 0,  /* a NULL string */
	QUERY_ARG_INT,       /* int_value: bool, char, signed and unsigned integers up to
				INT64_MAX */
	QUERY_ARG_REAL,      /* real_value: floating point, and unsigned integers above
				INT64_MAX */
	QUERY_ARG_TEXT,      /* text_value: a string, or a pointer as 0x... */
};

struct query_arg_row {
	unsigned position;        /* among the event's arguments, from 0 */
	const char *field;        /* the field key, or NULL */
	int source;               /* enum ttlog_field_source, or 0 without a field */
	const char *type;         /* "i32", "u64", "f64", "str", ... */
	int value_class;          /* enum query_arg_class */
	int numeric;              /* an integer or floating-point argument */
	double number;            /* its value as a double (numeric only) */
	const struct ttlog_arg *arg;
};

/** Fills *row for argument i (< ev->nargs) of ev. */
void query_arg_row(const struct ttlog_event *ev, unsigned i, struct query_arg_row *row);

/** The type name of a TTLOG_ARG_* code ("?" for an unknown one). */
const char *query_arg_type_name(int type);

#endif /* TTLOG__QUERY_ARG_ROWS_H */
