/* SPDX-License-Identifier: MIT */
/*
 * report.c - helpers of the report commands (`ttlog ls`, `ttlog stats`):
 * usage errors, safe text, human units and aligned tables (report.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "ttlog_reader.h"

/* "ttlog COMMAND: " and the message on stderr, after what stdout holds;
 * no newline. */
static void report_message(const char *command, const char *format, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void report_message(const char *command, const char *format, va_list ap)
{
	cli_sync_stdout();
	fprintf(stderr, "ttlog %s: ", command);
	vfprintf(stderr, format, ap);
}

int cli_report_usage_error(const char *command, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	report_message(command, format, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'ttlog %s --help' for usage.\n", command);
	return CLI_EXIT_USAGE;
}

void cli_report_error(const char *command, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	report_message(command, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_report_bad_option(const char *command, int c, char **argv, const char *short_options)
{
	/* getopt_long() has moved optind past the word it refused, except
	 * inside a group of short options, where optopt says which one. */
	const char *word = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		return cli_report_usage_error(command, "option '%s' needs an argument", word);
	if (optopt == 0)
		return cli_report_usage_error(command, "unknown option '%s'", word);
	if (optopt < 256 && (optopt == ':' || !strchr(short_options, optopt)))
		return cli_report_usage_error(command, "unknown option '-%c'", optopt);
	/* A known option refused: only "--name=value" for a flag does that. */
	return cli_report_usage_error(command, "option '%s' takes no argument", word);
}

int cli_report_reader_status(struct ttlog_reader *r, const char *path, const char *who)
{
	int st = ttlog_reader_status(r);
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	if (info && info->bundle_next && !cli_stdout_failed()) {
		/* Nothing is left out silently: this command read one process
		 * of several (FORMAT.md 22). */
		cli_sync_stdout();
		fprintf(stderr, "%s: %s: note: a bundle of several processes' snapshots; this "
				"command read only the first (ttlog view and ttlog export read them "
				"all)\n",
			who, path);
	}
	if (st == TTLOG_OK)
		return CLI_EXIT_OK;
	if (cli_stdout_failed())
		return CLI_EXIT_DATA;
	const char *error = ttlog_reader_error(r);
	cli_sync_stdout();
	if (error && *error)
		fprintf(stderr, "%s: %s\n", who, error);
	else
		fprintf(stderr, "%s: %s: %s\n", who, path, ttlog_strerror(st));
	return CLI_EXIT_DATA;
}

void cli_report_text(struct render_buf *b, const char *s)
{
	if (!s)
		s = "";
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != 0x7f)
			continue;
		render_buf_put(b, run, (size_t)(s - run));
		render_buf_printf(b, "\\x%02x", c);
		run = s + 1;
	}
	render_buf_put(b, run, (size_t)(s - run));
}

const char *cli_report_size(uint64_t bytes, char text[CLI_SIZE_BUF])
{
	static const char units[] = "KMGTPE";
	if (bytes < 1024) {
		snprintf(text, CLI_SIZE_BUF, "%" PRIu64, bytes);
		return text;
	}
	double value = (double)bytes / 1024;
	size_t unit = 0;
	/* Move up a unit once the value would round to 1024 or more. */
	while (value >= 1023.5 && unit + 1 < sizeof units - 1) {
		value /= 1024;
		unit++;
	}
	if (value < 9.95)
		snprintf(text, CLI_SIZE_BUF, "%.1f%c", value, units[unit]);
	else
		snprintf(text, CLI_SIZE_BUF, "%.0f%c", value, units[unit]);
	return text;
}

size_t cli_report_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void cli_report_pad(struct render_buf *b, const char *s, size_t width, int right)
{
	size_t w = cli_report_width(s);
	size_t fill = w < width ? width - w : 0;

	if (!right)
		render_buf_puts(b, s);
	for (size_t i = 0; i < fill; i++)
		render_buf_putc(b, ' ');
	if (right)
		render_buf_puts(b, s);
}

/* ---- Tables -------------------------------------------------------------- */

void cli_table_init(struct cli_table *t, size_t ncols, unsigned right)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols < CLI_TABLE_MAX_COLS ? ncols : CLI_TABLE_MAX_COLS;
	t->right = right;
}

static void add_cell(struct cli_table *t, struct render_buf *text)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = render_xrealloc(t->cells, t->cap * sizeof *t->cells);
	}
	/* The buffer's memory becomes the cell's. */
	if (!text->data)
		render_buf_reserve(text, 0);
	t->cells[t->ncells++] = text->data;
}

void cli_table_cell(struct cli_table *t, const char *format, ...)
{
	struct render_buf text = {0};
	va_list ap;

	va_start(ap, format);
	render_buf_vprintf(&text, format, ap);
	va_end(ap);
	add_cell(t, &text);
}

void cli_table_text(struct cli_table *t, const char *s)
{
	struct render_buf text = {0};

	cli_report_text(&text, s);
	add_cell(t, &text);
}

void cli_table_print(const struct cli_table *t, const char *indent, struct render_buf *line)
{
	size_t nrows = t->ncols ? t->ncells / t->ncols : 0;
	size_t *width = render_xrealloc(NULL, t->ncols * sizeof *width);

	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = t->min_width[c];
		for (size_t r = 0; r < nrows; r++) {
			size_t w = cli_report_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r < nrows && !cli_stdout_failed(); r++) {
		render_buf_reset(line);
		render_buf_puts(line, indent);
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			int right = (t->right >> c) & 1u;
			if (c)
				render_buf_puts(line, "  ");
			cli_report_pad(line, cell, width[c], right);
		}
		/* No trailing blanks (a short or empty last cell). */
		while (line->len > strlen(indent) && line->data[line->len - 1] == ' ')
			line->len--;
		render_buf_putc(line, '\n');
		render_buf_write(line, stdout);
	}
	free(width);
}

void cli_table_free(struct cli_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}
