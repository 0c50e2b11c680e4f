/* SPDX-License-Identifier: MIT */
/*
 * query_output.c - printing the rows of an SQL statement for `ttlog query`.
 *
 * table  The column names, a line of dashes, then the rows, columns two
 *        spaces apart and as wide as their widest value (in characters:
 *        UTF-8 sequences count once). A column whose values are all
 *        numbers is right-aligned. NULL prints as nothing. Control
 *        characters in text print as \n, \t, \r or \xNN, so that a row
 *        stays on one line. The whole result is held in memory to measure
 *        it.
 * csv    RFC 4180: a header line of column names, then one line per row;
 *        a field with a comma, a double quote, CR or LF is quoted, its
 *        quotes doubled. NULL is an empty field. Lines end in LF.
 * json   One object per row and line, members in column order: integers
 *        and reals as JSON numbers (NaN and infinities as "nan", "inf",
 *        "-inf"), text as strings, NULL as null, blobs as hex strings.
 *
 * Reals print as the shortest text that reads back as the same double.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "query_output.h"
#include "render/json_text.h"

/* Appends a column's value as plain text (NULL: nothing). */
static void put_value(struct render_buf *b, sqlite3_stmt *stmt, int col)
{
	char text[RENDER_DOUBLE_BUF];
	switch (sqlite3_column_type(stmt, col)) {
	case SQLITE_INTEGER:
		render_buf_printf(b, "%lld", (long long)sqlite3_column_int64(stmt, col));
		break;
	case SQLITE_FLOAT:
		render_buf_puts(b, render_double_text(sqlite3_column_double(stmt, col), text));
		break;
	case SQLITE_TEXT: {
		const unsigned char *s = sqlite3_column_text(stmt, col);
		render_buf_put(b, s, (size_t)sqlite3_column_bytes(stmt, col));
		break;
	}
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_column_blob(stmt, col);
		int n = sqlite3_column_bytes(stmt, col);
		for (int i = 0; i < n; i++)
			render_buf_printf(b, "%02x", p[i]);
		break;
	}
	default:
		break;
	}
}

/* ---- table --------------------------------------------------------------- */

struct cell {
	size_t offset, len; /* in the table's text */
	size_t width;       /* characters */
};

struct table {
	int ncols;
	struct render_buf text;
	struct cell *cells; /* row-major; row 0 holds the column names */
	size_t ncells, cap;
	size_t *widths;
	int *numeric;       /* 1: only numbers (and NULLs) so far, at least one */
	int *non_numeric;
};

static size_t display_width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

/* Adds a cell from raw bytes, escaping control characters. */
static void table_add(struct table *t, int col, const char *s, size_t n)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->cells = render_xrealloc(t->cells, t->cap * sizeof *t->cells);
	}
	struct cell *c = &t->cells[t->ncells++];
	c->offset = t->text.len;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n')
			render_buf_puts(&t->text, "\\n");
		else if (ch == '\t')
			render_buf_puts(&t->text, "\\t");
		else if (ch == '\r')
			render_buf_puts(&t->text, "\\r");
		else if (ch < 0x20 || ch == 0x7f)
			render_buf_printf(&t->text, "\\x%02x", ch);
		else
			render_buf_putc(&t->text, (char)ch);
	}
	c->len = t->text.len - c->offset;
	c->width = display_width(t->text.data ? t->text.data + c->offset : "", c->len);
	if (c->width > t->widths[col])
		t->widths[col] = c->width;
}

static void table_free(struct table *t)
{
	render_buf_free(&t->text);
	free(t->cells);
	free(t->widths);
	free(t->numeric);
	free(t->non_numeric);
}

static void put_padding(struct render_buf *b, size_t n)
{
	while (n--)
		render_buf_putc(b, ' ');
}

static int table_write(struct table *t, int first)
{
	struct render_buf line = {0};
	size_t nrows = t->ncells / (size_t)t->ncols; /* the names included */

	if (!first)
		fputc('\n', stdout);
	/* Line 0 has the names, line 1 the dashes, line n >= 2 row n - 1. */
	for (size_t n = 0; n < nrows + 1 && !cli_stdout_failed(); n++) {
		render_buf_reset(&line);
		for (int col = 0; col < t->ncols; col++) {
			size_t w = t->widths[col];
			if (col)
				render_buf_puts(&line, "  ");
			if (n == 1) {
				for (size_t i = 0; i < w; i++)
					render_buf_putc(&line, '-');
				continue;
			}
			const struct cell *c = &t->cells[(n ? n - 1 : 0) * (size_t)t->ncols + (size_t)col];
			int right = t->numeric[col] && !t->non_numeric[col];
			if (right)
				put_padding(&line, w - c->width);
			render_buf_put(&line, t->text.data + c->offset, c->len);
			/* The last column is not padded: no trailing blanks. */
			if (!right && col < t->ncols - 1)
				put_padding(&line, w - c->width);
		}
		render_buf_putc(&line, '\n');
		render_buf_write(&line, stdout);
	}
	render_buf_free(&line);
	return cli_stdout_failed() ? SQLITE_ABORT : SQLITE_DONE;
}

static int print_table(sqlite3_stmt *stmt, int first)
{
	struct table t = {0};
	struct render_buf value = {0};
	int rc;

	t.ncols = sqlite3_column_count(stmt);
	t.widths = render_xrealloc(NULL, (size_t)t.ncols * sizeof *t.widths);
	t.numeric = render_xrealloc(NULL, (size_t)t.ncols * sizeof *t.numeric);
	t.non_numeric = render_xrealloc(NULL, (size_t)t.ncols * sizeof *t.non_numeric);
	for (int col = 0; col < t.ncols; col++) {
		const char *name = sqlite3_column_name(stmt, col);
		t.widths[col] = 0;
		t.numeric[col] = t.non_numeric[col] = 0;
		table_add(&t, col, name ? name : "", name ? strlen(name) : 0);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int col = 0; col < t.ncols; col++) {
			int type = sqlite3_column_type(stmt, col);
			if (type == SQLITE_INTEGER || type == SQLITE_FLOAT)
				t.numeric[col] = 1;
			else if (type != SQLITE_NULL)
				t.non_numeric[col] = 1;
			render_buf_reset(&value);
			put_value(&value, stmt, col);
			table_add(&t, col, value.data ? value.data : "", value.len);
		}
	}
	render_buf_free(&value);
	/* Rows read before an error are shown, then the error. */
	int written = table_write(&t, first);
	table_free(&t);
	return rc == SQLITE_DONE ? written : rc;
}

/* ---- csv ----------------------------------------------------------------- */

static void put_csv_field(struct render_buf *b, const char *s, size_t n)
{
	int quote = 0;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
	if (!quote) {
		render_buf_put(b, s, n);
		return;
	}
	render_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			render_buf_putc(b, '"');
		render_buf_putc(b, s[i]);
	}
	render_buf_putc(b, '"');
}

static int print_csv(sqlite3_stmt *stmt)
{
	struct render_buf line = {0}, value = {0};
	int ncols = sqlite3_column_count(stmt);
	int rc;

	for (int col = 0; col < ncols; col++) {
		const char *name = sqlite3_column_name(stmt, col);
		if (col)
			render_buf_putc(&line, ',');
		put_csv_field(&line, name ? name : "", name ? strlen(name) : 0);
	}
	render_buf_putc(&line, '\n');
	render_buf_write(&line, stdout);
	while (!cli_stdout_failed() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		render_buf_reset(&line);
		for (int col = 0; col < ncols; col++) {
			if (col)
				render_buf_putc(&line, ',');
			render_buf_reset(&value);
			put_value(&value, stmt, col);
			put_csv_field(&line, value.data ? value.data : "", value.len);
		}
		render_buf_putc(&line, '\n');
		render_buf_write(&line, stdout);
	}
	if (cli_stdout_failed())
		rc = SQLITE_ABORT;
	render_buf_free(&line);
	render_buf_free(&value);
	return rc;
}

/* ---- json ---------------------------------------------------------------- */

static int print_json(sqlite3_stmt *stmt)
{
	struct render_buf line = {0};
	int ncols = sqlite3_column_count(stmt);
	int rc;

	while (!cli_stdout_failed() && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		render_buf_reset(&line);
		render_buf_putc(&line, '{');
		for (int col = 0; col < ncols; col++) {
			if (col)
				render_buf_putc(&line, ',');
			render_json_cstring(&line, sqlite3_column_name(stmt, col));
			render_buf_putc(&line, ':');
			switch (sqlite3_column_type(stmt, col)) {
			case SQLITE_NULL:
				render_buf_puts(&line, "null");
				break;
			case SQLITE_FLOAT:
				render_json_double(&line, sqlite3_column_double(stmt, col));
				break;
			case SQLITE_TEXT:
				render_json_string(&line, (const char *)sqlite3_column_text(stmt, col),
						   (size_t)sqlite3_column_bytes(stmt, col));
				break;
			case SQLITE_BLOB:
				render_buf_putc(&line, '"');
				put_value(&line, stmt, col);
				render_buf_putc(&line, '"');
				break;
			default:
				put_value(&line, stmt, col);
				break;
			}
		}
		render_buf_puts(&line, "}\n");
		render_buf_write(&line, stdout);
	}
	if (cli_stdout_failed())
		rc = SQLITE_ABORT;
	render_buf_free(&line);
	return rc;
}

int cli_query_print(sqlite3_stmt *stmt, enum cli_query_format format, int first)
{
	if (sqlite3_column_count(stmt) == 0) {
		int rc;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			;
		return rc;
	}
	switch (format) {
	case CLI_QUERY_CSV: return print_csv(stmt);
	case CLI_QUERY_JSON: return print_json(stmt);
	default: return print_table(stmt, first);
	}
}
