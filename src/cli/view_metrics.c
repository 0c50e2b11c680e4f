/* SPDX-License-Identifier: MIT */
/*
 * view_metrics.c - `ttlog view --metrics`: prints the metrics a snapshot holds
 * (its MTRC chunks, through ttlog_reader_metrics()).
 *
 * Text: one table per kind, the program's counters, gauges and histograms,
 * then ttlog's own metrics, each row a metric with its labels written the
 * Prometheus way, name{key="value",...}, and its values in aligned columns.
 * Names and label values come from the file: control characters are shown
 * as \xNN so that one metric stays one line.
 *
 * JSON: one object per metric and line, with every value typed (see
 * cli_view_usage for the members).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "view_metrics.h"
#include "render/json_text.h"

#define MAX_COLUMNS 10

/* A table being built: rows of cells, printed with each column as wide as
 * its widest cell. */
struct table {
	char **cells; /* nrows * MAX_COLUMNS, NULL for an absent cell */
	size_t nrows, cap;
	size_t ncols;
	size_t text_col;  /* the column of "FILE:LINE", left-aligned like the names */
};

static char *cell_text(const char *format, ...) __attribute__((format(printf, 1, 2)));
static char *cell_text(const char *format, ...)
{
	struct render_buf b = {0};
	va_list ap;
	va_start(ap, format);
	render_buf_vprintf(&b, format, ap);
	va_end(ap);
	return b.data;
}

static char **table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = render_xrealloc(t->cells, t->cap * MAX_COLUMNS * sizeof *t->cells);
	}
	char **row = t->cells + t->nrows++ * MAX_COLUMNS;
	for (int i = 0; i < MAX_COLUMNS; i++)
		row[i] = NULL;
	return row;
}

static void table_print(struct table *t, struct render_buf *line)
{
	size_t width[MAX_COLUMNS] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * MAX_COLUMNS + c];
			if (s && strlen(s) > width[c])
				width[c] = strlen(s);
		}
	for (size_t r = 0; r < t->nrows; r++) {
		render_buf_reset(line);
		char **row = t->cells + r * MAX_COLUMNS;
		size_t last = 0;
		for (size_t c = 0; c < t->ncols; c++)
			if (row[c])
				last = c;
		for (size_t c = 0; c <= last; c++) {
			const char *s = row[c] ? row[c] : "";
			if (c)
				render_buf_puts(line, "  ");
			/* Numbers are right-aligned, text left-aligned. */
			if (c == 0 || c == t->text_col) {
				render_buf_puts(line, s);
				if (c != last)
					render_buf_printf(line, "%*s", (int)(width[c] - strlen(s)), "");
			} else {
				render_buf_printf(line, "%*s", (int)width[c], s);
			}
		}
		render_buf_putc(line, '\n');
		render_buf_write(line, stdout);
		for (size_t c = 0; c < MAX_COLUMNS; c++)
			free(row[c]);
	}
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/* Appends s with control characters as \xNN (and, in a label value, " and
 * \ escaped as in Prometheus' format). */
static void put_safe(struct render_buf *b, const char *s, int quoted)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			render_buf_printf(b, "\\x%02x", c);
		else if (quoted && (c == '"' || c == '\\'))
			render_buf_printf(b, "\\%c", c);
		else
			render_buf_putc(b, (char)c);
	}
}

static char *metric_label(const struct ttlog_metric_value *m)
{
	struct render_buf b = {0};
	put_safe(&b, m->name, 0);
	if (m->nlabels) {
		render_buf_putc(&b, '{');
		for (unsigned i = 0; i < m->nlabels; i++) {
			if (i)
				render_buf_putc(&b, ',');
			put_safe(&b, m->labels[i].key, 0);
			render_buf_puts(&b, "=\"");
			put_safe(&b, m->labels[i].value, 1);
			render_buf_putc(&b, '"');
		}
		render_buf_putc(&b, '}');
	}
	if (!b.data)
		render_buf_puts(&b, "");
	return b.data;
}

static char *number(double d)
{
	if (isnan(d))
		return cell_text("-");
	return cell_text("%.6g", d);
}

static char *where(const struct ttlog_metric_value *m)
{
	const char *slash = strrchr(m->file, '/');
	struct render_buf b = {0};
	put_safe(&b, slash ? slash + 1 : m->file, 0);
	render_buf_printf(&b, ":%" PRIu32, m->line);
	return b.data;
}

static void print_text(const struct ttlog_metric_value *m, size_t n, enum render_time_style style)
{
	struct render_buf line = {0};
	struct table t = {0};
	static const char *const titles[] = {"counters", "gauges", "histograms"};
	for (int pass = 0; pass < 4; pass++) {
		int type = pass + 1, self = pass == 3;
		size_t shown = 0;
		for (size_t i = 0; i < n; i++) {
			if (m[i].self != self || (!self && m[i].type != type))
				continue;
			if (!shown++) {
				char **h = table_row(&t);
				if (self) {
					h[0] = cell_text("ttlog's own");
					h[1] = cell_text("value");
				} else if (type == TTLOG_METRIC_HISTOGRAM) {
					static const char *const cols[] = {"count", "sum", "min", "max", "p50",
									   "p90", "p99", "p99.9", "at"};
					h[0] = cell_text("%s", titles[pass]);
					for (int c = 0; c < 9; c++)
						h[1 + c] = cell_text("%s", cols[c]);
				} else {
					h[0] = cell_text("%s", titles[pass]);
					h[1] = cell_text("value");
					h[2] = cell_text(type == TTLOG_METRIC_GAUGE ? "set at" : "at");
				}
			}
			char **row = table_row(&t);
			char *label = metric_label(&m[i]);
			row[0] = cell_text("  %s", label);
			free(label);
			switch (m[i].type) {
			case TTLOG_METRIC_COUNTER:
				row[1] = cell_text("%" PRIu64, m[i].counter);
				if (!self)
					row[2] = where(&m[i]);
				break;
			case TTLOG_METRIC_GAUGE: {
				char tb[RENDER_TIME_BUF];
				row[1] = number(m[i].gauge_set ? m[i].gauge : NAN);
				if (self)
					break;
				char *w = where(&m[i]);
				row[2] = cell_text("%s  %s",
						   m[i].gauge_set ? render_time_format(m[i].gauge_time_ns, style, tb)
								  : "never set",
						   w);
				free(w);
				break;
			}
			default:
				row[1] = cell_text("%" PRIu64, m[i].hist.count);
				row[2] = number(m[i].hist.count ? m[i].hist.sum : NAN);
				row[3] = number(m[i].hist.count ? m[i].hist.min : NAN);
				row[4] = number(m[i].hist.count ? m[i].hist.max : NAN);
				row[5] = number(m[i].hist.p50);
				row[6] = number(m[i].hist.p90);
				row[7] = number(m[i].hist.p99);
				row[8] = number(m[i].hist.p999);
				if (!self)
					row[9] = where(&m[i]);
				break;
			}
		}
		t.ncols = MAX_COLUMNS;
		t.text_col = self ? 0 : type == TTLOG_METRIC_HISTOGRAM ? 9 : 2;
		table_print(&t, &line);
	}
	render_buf_free(&line);
}

static void json_labels(struct render_buf *b, const struct ttlog_metric_value *m)
{
	render_buf_puts(b, ",\"labels\":");
	render_json_labels(b, m->labels, m->nlabels);
}

static void json_double(struct render_buf *b, const char *key, double d)
{
	render_buf_printf(b, ",\"%s\":", key);
	if (isnan(d))
		render_buf_puts(b, "null");
	else
		render_json_double(b, d);
}

/* who (not NULL): pid and service first in every object. */
static void print_json(const struct ttlog_metric_value *m, size_t n, const struct ttlog_file_info *who)
{
	static const char *const types[] = {"", "counter", "gauge", "histogram"};
	struct render_buf b = {0};
	for (size_t i = 0; i < n && !cli_stdout_failed(); i++) {
		render_buf_reset(&b);
		if (who) {
			render_buf_printf(&b, "{\"pid\":%" PRIu32 ",\"service\":", who->pid);
			render_json_cstring(&b, who->service ? who->service : "");
			render_buf_puts(&b, ",\"name\":");
		} else {
			render_buf_puts(&b, "{\"name\":");
		}
		render_json_cstring(&b, m[i].name);
		render_buf_printf(&b, ",\"type\":\"%s\"", types[m[i].type]);
		json_labels(&b, &m[i]);
		render_buf_printf(&b, ",\"self\":%s", m[i].self ? "true" : "false");
		if (!m[i].self) {
			render_buf_puts(&b, ",\"file\":");
			render_json_cstring(&b, m[i].file);
			render_buf_printf(&b, ",\"line\":%" PRIu32, m[i].line);
		}
		if (m[i].type == TTLOG_METRIC_COUNTER) {
			render_buf_printf(&b, ",\"value\":%" PRIu64, m[i].counter);
		} else if (m[i].type == TTLOG_METRIC_GAUGE) {
			json_double(&b, "value", m[i].gauge_set ? m[i].gauge : NAN);
			if (m[i].gauge_set) {
				char tb[RENDER_TIME_BUF];
				render_buf_printf(&b, ",\"time\":\"%s\",\"time_ns\":%" PRId64,
						  render_time_format(m[i].gauge_time_ns, RENDER_TIME_ISO, tb),
						  m[i].gauge_time_ns);
			}
		} else {
			render_buf_printf(&b, ",\"count\":%" PRIu64, m[i].hist.count);
			json_double(&b, "sum", m[i].hist.count ? m[i].hist.sum : NAN);
			json_double(&b, "min", m[i].hist.count ? m[i].hist.min : NAN);
			json_double(&b, "max", m[i].hist.count ? m[i].hist.max : NAN);
			json_double(&b, "p50", m[i].hist.p50);
			json_double(&b, "p90", m[i].hist.p90);
			json_double(&b, "p99", m[i].hist.p99);
			json_double(&b, "p999", m[i].hist.p999);
			render_buf_puts(&b, ",\"buckets\":[");
			for (size_t k = 0; k < m[i].hist.nbuckets; k++) {
				const struct ttlog_metric_bucket *bk = &m[i].hist.buckets[k];
				render_buf_puts(&b, k ? ",{\"above\":" : "{\"above\":");
				render_json_double(&b, bk->lower);
				render_buf_puts(&b, ",\"le\":");
				render_json_double(&b, bk->upper);
				render_buf_printf(&b, ",\"count\":%" PRIu64 "}", bk->count);
			}
			render_buf_putc(&b, ']');
		}
		render_buf_puts(&b, "}\n");
		render_buf_write(&b, stdout);
	}
	render_buf_free(&b);
}

void cli_metrics_print(ttlog_reader *r, int json, enum render_time_style style)
{
	size_t n;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	if (json) {
		print_json(m, n, NULL);
		return;
	}
	if (!n) {
		fputs("-- no metrics in this file (written before ttlog 0.3, or damaged)\n", stdout);
		return;
	}
	print_text(m, n, style);
}

void cli_metrics_print_json_process(ttlog_reader *r)
{
	size_t n;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	print_json(m, n, ttlog_reader_info(r));
}
