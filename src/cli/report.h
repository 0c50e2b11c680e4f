/* SPDX-License-Identifier: MIT */
/*
 * report.h - what the commands share to report on snapshot files: usage
 * errors, the reader's error after a file, text from a file shown safely,
 * sizes in human units, and aligned table columns.
 */
#ifndef TTLOG__CLI_REPORT_H
#define TTLOG__CLI_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/**
 * Prints "ttlog COMMAND: MESSAGE" and the pointer to --help on stderr
 * (after flushing stdout) and returns CLI_EXIT_USAGE.
 */
int cli_report_usage_error(const char *command, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * The message for an option getopt_long() refused (c is what it returned:
 * ':' for a missing argument, '?' otherwise); short_options is the string
 * given to getopt_long(). Returns CLI_EXIT_USAGE.
 */
/* Prints "ttlog COMMAND: <message>" on stderr (after flushing stdout, so the
 * two streams stay in order). */
void cli_report_error(const char *command, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

int cli_report_bad_option(const char *command, int c, char **argv, const char *short_options);

/** Appends s with control characters (tab included) shown as \xNN, so that
 *  a string from a file can never break a line or a column. NULL adds "". */
struct ttlog_reader;
/*
 * After a file was read: if the reader found a problem, prints its message
 * ("WHO: FILE: offset N: expected ...", WHO being "ttlog" or "ttlog CMD")
 * on stderr and returns CLI_EXIT_DATA; otherwise returns CLI_EXIT_OK. Says
 * nothing once stdout failed: main() reports that.
 */
int cli_report_reader_status(struct ttlog_reader *r, const char *path, const char *who);

void cli_report_text(struct render_buf *b, const char *s);

/** The part of a path after its last '/'. */
#define CLI_SIZE_BUF 16
/**
 * A byte count in binary units as `ls -h` shows it: "512", "1.2K", "15K",
 * "3.4M", ... (one decimal below 10, rounded to the nearest). Returns text.
 */
const char *cli_report_size(uint64_t bytes, char text[CLI_SIZE_BUF]);

/**
 * Appends s padded with spaces to `width` display columns, on the left
 * (right-aligned) if right is set. Columns are counted as UTF-8 code points.
 */
void cli_report_pad(struct render_buf *b, const char *s, size_t width, int right);

/** Display columns of s: UTF-8 code points (continuation bytes not counted). */
size_t cli_report_width(const char *s);

/*
 * A table of text cells, printed with aligned columns: cells are added row
 * by row, left to right; each column is as wide as its widest cell, columns
 * are two spaces apart, and the last one is not padded (no trailing blanks).
 * Cells hold text that is safe already (see cli_report_text).
 */
#define CLI_TABLE_MAX_COLS 16
struct cli_table {
	size_t ncols;     /* at most CLI_TABLE_MAX_COLS */
	unsigned right;   /* bit i: column i is right-aligned (numbers) */
	size_t min_width[CLI_TABLE_MAX_COLS]; /* 0, or the least width of column i */
	char **cells;     /* row-major, ncells of them */
	size_t ncells, cap;
};

void cli_table_init(struct cli_table *t, size_t ncols, unsigned right);
/* Columns of values that change from run to run (process and thread ids)
 * get a fixed least width, so that the others do not move with them. */
/** Adds the next cell, printf-style. */
void cli_table_cell(struct cli_table *t, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/** Adds the next cell: s shown safely (cli_report_text). */
void cli_table_text(struct cli_table *t, const char *s);
/** Writes the complete rows to stdout, each line starting with indent. */
void cli_table_print(const struct cli_table *t, const char *indent, struct render_buf *line);
void cli_table_free(struct cli_table *t);

#endif /* TTLOG__CLI_REPORT_H */
