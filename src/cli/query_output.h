/* SPDX-License-Identifier: MIT */
/*
 * query_output.h - how `ttlog query` prints the rows of a statement: an
 * aligned table, CSV or JSON lines.
 */
#ifndef TTLOG__CLI_QUERY_OUTPUT_H
#define TTLOG__CLI_QUERY_OUTPUT_H

#include <sqlite3.h>

enum cli_query_format {
	CLI_QUERY_TABLE, /* header, dashes, columns padded; numbers right-aligned */
	CLI_QUERY_CSV,   /* a header line, then RFC 4180 fields */
	CLI_QUERY_JSON   /* one JSON object per row and line, typed values */
};

/**
 * Steps stmt to its end and prints its rows on stdout (nothing for a
 * statement without columns). `first` is 0 for every statement after the
 * first of a run, which the table format separates with an empty line.
 * Returns SQLITE_DONE, an SQLite error code from sqlite3_step(), or
 * SQLITE_ABORT when stdout failed (the caller stops quietly).
 */
int cli_query_print(sqlite3_stmt *stmt, enum cli_query_format format, int first);

#endif /* TTLOG__CLI_QUERY_OUTPUT_H */
