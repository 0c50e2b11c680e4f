/* SPDX-License-Identifier: MIT */
/*
 * clickhouse.c - the ClickHouse sink of the shipper (sink.h): events,
 * spans, metrics and crash records as RowBinary rows of four tables
 * (rows.c, schema.c), one part per table, each part sent as one INSERT
 * over ClickHouse's HTTP interface (http.c); --create makes the database
 * and the tables first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ship/http.h"
#include "ship/schema.h"
#include "ship/sink.h"

struct ch_sink {
	struct ship_sink base;
	const struct ship_options *opt;
	struct ship_http *http;
	const char *database;
	struct render_buf table[SHIP_TABLES];
	uint64_t rows[SHIP_TABLES];
};

static struct ch_sink *ch(struct ship_sink *s)
{
	return (struct ch_sink *)s;
}

static int ch_prepare(struct ship_sink *sink)
{
	struct ch_sink *s = ch(sink);
	if (!s->opt->create)
		return 0;
	struct render_buf err = {0}, sql = {0};
	int rc = 0;
	render_buf_printf(&sql, "CREATE DATABASE IF NOT EXISTS `%s`", s->database);
	if (ship_http_post(s->http, NULL, NULL, sql.data, sql.len, NULL, &err) != SHIP_HTTP_OK) {
		fprintf(stderr, "ttlog ship: creating the database: %s\n", err.data ? err.data : "");
		rc = -1;
	}
	for (int t = 0; rc == 0 && t < SHIP_TABLES; t++) {
		const char *c = ship_table_create(t);
		if (ship_http_post(s->http, s->database, NULL, c, strlen(c), NULL, &err) != SHIP_HTTP_OK) {
			fprintf(stderr, "ttlog ship: creating table %s.%s: %s\n", s->database, ship_table_name(t),
				err.data ? err.data : "");
			rc = -1;
		}
	}
	render_buf_free(&err);
	render_buf_free(&sql);
	return rc;
}

static void ch_event(struct ship_sink *sink, struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id)
{
	struct ch_sink *s = ch(sink);
	int span = ship_rows_event(f, ev, id, &s->table[SHIP_LOGS], &s->table[SHIP_SPANS]);
	s->rows[SHIP_SPANS] += (uint64_t)span;
	s->rows[SHIP_LOGS]++;
}

static void ch_extras(struct ship_sink *sink, struct ship_file_rows *f, const ttlog_reader *r,
		      const char *summary, const char *stack)
{
	struct ch_sink *s = ch(sink);
	s->rows[SHIP_METRICS] += ship_rows_metrics(f, r, &s->table[SHIP_METRICS]);
	if (f->info->crashed) {
		ship_rows_crash(f, r, summary, stack, &s->table[SHIP_CRASHES]);
		s->rows[SHIP_CRASHES]++;
	}
}

static uint64_t ch_pending(struct ship_sink *sink, int part)
{
	return ch(sink)->rows[part];
}

static int ch_send(struct ship_sink *sink, int t, struct ship_totals *tot, struct render_buf *what,
		   struct render_buf *err, unsigned *retry_after_s)
{
	struct ch_sink *s = ch(sink);
	*retry_after_s = 0;
	int rc = ship_http_post(s->http, s->database, ship_table_insert(t), s->table[t].data, s->table[t].len,
				NULL, err);
	if (rc != SHIP_HTTP_OK) {
		render_buf_printf(what, "inserting %llu rows into %s.%s", (unsigned long long)s->rows[t],
				  s->database, ship_table_name(t));
		if (rc == SHIP_HTTP_FAILED && err->data && strstr(err->data, "doesn't exist"))
			render_buf_puts(err, " (make the tables with --create)");
		return rc;
	}
	uint64_t *acked[SHIP_TABLES] = {&tot->events, &tot->spans, &tot->metrics, &tot->crashes};
	*acked[t] += s->rows[t];
	render_buf_reset(&s->table[t]);
	s->rows[t] = 0;
	return SHIP_HTTP_OK;
}

static unsigned long long ch_bytes(struct ship_sink *sink)
{
	return ship_http_bytes_sent(ch(sink)->http);
}

static void ch_close(struct ship_sink *sink)
{
	struct ch_sink *s = ch(sink);
	for (int t = 0; t < SHIP_TABLES; t++)
		render_buf_free(&s->table[t]);
	ship_http_close(s->http);
	free(s);
}

static const struct ship_sink_ops ch_ops = {
	.nparts = SHIP_TABLES,
	.prepare = ch_prepare,
	.event = ch_event,
	.extras = ch_extras,
	.pending = ch_pending,
	.send = ch_send,
	.bytes_sent = ch_bytes,
	.close = ch_close,
};

struct ship_sink *ship_clickhouse_sink(const struct ship_options *opt, struct render_buf *err)
{
	struct ship_http *http = ship_http_open(opt->url, opt->user, opt->password, err);
	if (!http)
		return NULL;
	ship_http_set_gzip(http, opt->gzip);
	struct ch_sink *s = render_xrealloc(NULL, sizeof *s);
	memset(s, 0, sizeof *s);
	s->base.ops = &ch_ops;
	s->opt = opt;
	s->http = http;
	s->database = opt->database ? opt->database : "ttlog";
	s->base.cursor_key = s->database;
	return &s->base;
}
