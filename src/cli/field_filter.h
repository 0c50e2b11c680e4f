/* SPDX-License-Identifier: MIT */
/*
 * field_filter.h - the --field filter of `ttlog view` and `ttlog export`:
 * an event passes when one of its fields compares with the filter's value.
 */
#ifndef TTLOG__CLI_FIELD_FILTER_H
#define TTLOG__CLI_FIELD_FILTER_H

#include <stddef.h>

#include "cli.h"
#include "ttlog_reader.h"

/* One --field filter: KEY, then an operator, then the text it compares with. */
enum cli_field_op { CLI_FIELD_EQ, CLI_FIELD_NE, CLI_FIELD_LT, CLI_FIELD_LE, CLI_FIELD_GT, CLI_FIELD_GE };

struct cli_field_filter {
	char *key;
	enum cli_field_op op;
	const char *value;   /* points into the argument */
	int numeric;         /* value reads as a number: */
	long double number;
};

/**
 * Parses "KEY=VALUE", "KEY!=VALUE", "KEY<N", "KEY<=N", "KEY>N" or "KEY>=N".
 * Returns 0, or -1 with a message in err (err_size bytes) for an argument
 * that has no operator, an empty key, or a comparison with something that
 * is not a number.
 */
int cli_field_filter_parse(const char *arg, struct cli_field_filter *f, char *err, size_t err_size);

/**
 * Whether the event has the filter's field with a matching value. "="
 * compares numbers as numbers (user=42 matches 42 of any integer type and
 * 42.0), booleans with true/false/1/0, and strings byte for byte; "<", ">"
 * and friends need a numeric field. An event without the field never
 * matches, not even "!=".
 */
int cli_field_filter_match(const struct cli_field_filter *f, const struct ttlog_event *ev);

void cli_field_filter_free(struct cli_field_filter *f);

#endif /* TTLOG__CLI_FIELD_FILTER_H */
