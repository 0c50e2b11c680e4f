/* SPDX-License-Identifier: MIT */
/*
 * columns.c - values that several tables put in their columns: times as
 * ISO-8601 text, span and trace ids as hex, and the growable arrays of
 * rows that spans and sites build.
 */
#include <string.h>

#include "query/vtab.h"
#include "render/time_text.h"

void query_result_buf(sqlite3_context *ctx, const struct render_buf *b)
{
	sqlite3_result_text64(ctx, b->data ? b->data : "", b->len, SQLITE_TRANSIENT, SQLITE_UTF8);
}

void query_result_text(sqlite3_context *ctx, const char *s)
{
	if (s)
		sqlite3_result_text(ctx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

void query_result_time(sqlite3_context *ctx, int64_t ns)
{
	char text[RENDER_TIME_BUF];
	sqlite3_result_text(ctx, render_time_format(ns, RENDER_TIME_ISO, text), -1, SQLITE_TRANSIENT);
}

void query_hex16(char out[16], uint64_t id)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 15; i >= 0; i--, id >>= 4)
		out[i] = digits[id & 15];
}

/* An id is in every row of a join's outer loop: no printf. */
void query_result_id(sqlite3_context *ctx, uint64_t id, int zero_is_null)
{
	char text[16];
	if (id == 0 && zero_is_null) {
		sqlite3_result_null(ctx);
		return;
	}
	query_hex16(text, id);
	sqlite3_result_text(ctx, text, 16, SQLITE_TRANSIENT);
}

void query_result_trace(sqlite3_context *ctx, uint64_t hi, uint64_t lo)
{
	char text[32];
	if ((hi | lo) == 0) {
		sqlite3_result_null(ctx);
		return;
	}
	query_hex16(text, hi);
	query_hex16(text + 16, lo);
	sqlite3_result_text(ctx, text, 32, SQLITE_TRANSIENT);
}

static const struct {
	const char *name;
	int len;
} level_names[] = {{"trace", 5}, {"debug", 5}, {"info", 4}, {"warn", 4}, {"error", 5}, {"fatal", 5}};

const char *query_level_name(int level)
{
	return level >= 0 && level < (int)(sizeof level_names / sizeof level_names[0])
		       ? level_names[level].name
		       : NULL;
}

/* In every row of a grouped count: no copy, no strlen. */
void query_result_level(sqlite3_context *ctx, const struct ttlog_site_info *site)
{
	int level = site ? site->level : -1;
	if (level >= 0 && level < (int)(sizeof level_names / sizeof level_names[0]))
		sqlite3_result_text(ctx, level_names[level].name, level_names[level].len,
				    SQLITE_STATIC);
	else
		sqlite3_result_null(ctx);
}

void *query_rows_add(struct query_rows *rows)
{
	if (rows->count == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 64;
		void *grown = sqlite3_realloc64(rows->items, cap * rows->size);
		if (!grown)
			return NULL;
		rows->items = grown;
		rows->cap = cap;
	}
	void *item = query_rows_at(rows, rows->count++);
	memset(item, 0, rows->size);
	return item;
}

void query_rows_free(struct query_rows *rows)
{
	sqlite3_free(rows->items);
	rows->items = NULL;
	rows->count = rows->cap = 0;
}
