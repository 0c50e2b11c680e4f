/*
 * fields.h - event fields in the ttlog command: how a value is printed in a
 * text line or in JSON, and the --field filter.
 */
#ifndef TTLOG_CLI_FIELDS_H
#define TTLOG_CLI_FIELDS_H

#include <stddef.h>

#include "cli.h"
#include "ttlog_reader.h"

/**
 * Appends a value as it appears after "key=" in a text line: numbers and
 * booleans as they are, pointers as 0x..., a NULL string as null, and a
 * string as its bytes when they are plain (letters, digits and
 * "-_.:/@+,"), else in double quotes with '"', '\' and control characters
 * escaped. A string cut at the writer's limit ends in "...".
 */
void cli_field_text(struct render_buf *b, const struct ttlog_arg *a);

/** Appends a value as a typed JSON value (see `ttlog view --help`). */
void cli_field_json(struct render_buf *b, const struct ttlog_arg *a);

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

#endif /* TTLOG_CLI_FIELDS_H */
