/* SPDX-License-Identifier: MIT */
/*
 * spans.c - the two tables made by reading all of a file's events before
 * the first row: spans (one row per span: its begin and its end joined)
 * and sites (one row per call site that has events, with their count).
 *
 * Both keep pointers into the reader (site, thread, names): they stay
 * valid until the reader is closed, and the rows are cleared before that.
 */
#include <string.h>

#include "query/vtab.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/span_fields.h"

/* ---- A map from a 64-bit id to a row index ------------------------------- */

/* Open addressing with linear probing; slots hold index + 1, 0 is empty. */
struct id_map {
	uint64_t *keys;
	size_t *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
};

/* The index stored for key, or (size_t)-1. */
static size_t id_map_find(const struct id_map *m, uint64_t key)
{
	for (size_t i = m->cap ? query_hash64(key, m->cap) : 0; m->cap && m->slots[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->slots[i] - 1;
	return (size_t)-1;
}

static int id_map_put(struct id_map *m, uint64_t key, size_t index);

/* Keeps the load under a half. */
static int id_map_grow(struct id_map *m)
{
	struct id_map bigger = {0};
	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = sqlite3_malloc64(bigger.cap * sizeof *bigger.keys);
	bigger.slots = sqlite3_malloc64(bigger.cap * sizeof *bigger.slots);
	if (!bigger.keys || !bigger.slots) {
		sqlite3_free(bigger.keys);
		sqlite3_free(bigger.slots);
		return SQLITE_NOMEM;
	}
	memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			id_map_put(&bigger, m->keys[i], m->slots[i] - 1);
	sqlite3_free(m->keys);
	sqlite3_free(m->slots);
	*m = bigger;
	return SQLITE_OK;
}

static int id_map_put(struct id_map *m, uint64_t key, size_t index)
{
	if (2 * (m->count + 1) > m->cap && id_map_grow(m) != SQLITE_OK)
		return SQLITE_NOMEM;
	size_t i = query_hash64(key, m->cap);
	while (m->slots[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	if (!m->slots[i])
		m->count++;
	m->keys[i] = key;
	m->slots[i] = index + 1;
	return SQLITE_OK;
}

static void id_map_free(struct id_map *m)
{
	sqlite3_free(m->keys);
	sqlite3_free(m->slots);
	memset(m, 0, sizeof *m);
}

/* ---- spans --------------------------------------------------------------- */

struct span_row {
	uint64_t id, parent, trace_hi, trace_lo;
	const char *name;
	const struct ttlog_site_info *site;     /* where it began, or NULL */
	const struct ttlog_thread_info *thread;
	unsigned depth;
	int64_t begin_ns;  /* 0: unknown */
	int64_t end_ns;
	int ended;
	const char *clipped; /* "end": still open, ends at the file's last event; "begin":
				begun before the file's history, starts at its first; NULL */
	int64_t duration_ns; /* -1: unknown */
	struct render_span_fields fields; /* the begin's and end's, unique keys */
};

enum {
	SPAN_ID,
	SPAN_PARENT,
	SPAN_TRACE_ID,
	SPAN_NAME,
	SPAN_START,
	SPAN_END,
	SPAN_DURATION,
	SPAN_START_TIME,
	SPAN_TID,
	SPAN_THREAD,
	SPAN_DEPTH,
	SPAN_FILE,
	SPAN_LINE,
	SPAN_FUNC,
	SPAN_FIELDS,
	SPAN_SNAPSHOT,
	SPAN_CLIPPED,
};

/* A span's fields as a JSON object, each key once (render/span_fields.h). */
static void fields_json(struct render_buf *b, const struct render_span_fields *f)
{
	render_buf_reset(b);
	render_buf_putc(b, '{');
	for (size_t i = 0; i < f->n; i++) {
		if (i)
			render_buf_putc(b, ',');
		render_json_cstring(b, f->f[i].key);
		render_buf_putc(b, ':');
		render_buf_put(b, f->f[i].value.data, f->f[i].value.len);
	}
	render_buf_putc(b, '}');
}

static int spans_start(struct query_cursor *c)
{
	struct id_map ids = {0};
	struct ttlog_event ev;
	int rc = SQLITE_OK;

	c->rows.size = sizeof(struct span_row);
	while (rc == SQLITE_OK && ttlog_reader_next(c->r, &ev)) {
		const struct ttlog_span *sp = ev.span;
		if (ev.kind == TTLOG_EVENT_LOG || !sp)
			continue;
		size_t at = id_map_find(&ids, sp->id);
		struct span_row *row = at == (size_t)-1 ? NULL : query_rows_at(&c->rows, at);
		if (!row || ev.kind == TTLOG_EVENT_SPAN_BEGIN) {
			/* A new span (an id seen again begins a new row). */
			row = query_rows_add(&c->rows);
			if (!row || id_map_put(&ids, sp->id, c->rows.count - 1) != SQLITE_OK) {
				rc = SQLITE_NOMEM;
				break;
			}
			row->id = sp->id;
			row->parent = sp->parent;
			row->trace_hi = sp->trace_hi;
			row->trace_lo = sp->trace_lo;
			row->name = sp->name;
			row->site = sp->site;
			row->thread = ev.thread;
			row->depth = sp->depth;
			row->begin_ns = ev.kind == TTLOG_EVENT_SPAN_BEGIN ? ev.time_ns : sp->begin_ns;
			row->duration_ns = -1;
		}
		if (ev.kind == TTLOG_EVENT_SPAN_END) {
			row->ended = 1;
			row->end_ns = ev.time_ns;
			row->duration_ns = sp->duration_ns;
		}
		if (c->costly)
			render_span_fields_add(&row->fields, &ev, ev.kind == TTLOG_EVENT_SPAN_END,
					       render_field_json);
	}
	id_map_free(&ids);
	/* Spans cut by the file, as docs/EXPORT.md says every export cuts them:
	 * one still open ends at the file's last event, one begun before the
	 * file's history starts at its first. */
	const struct ttlog_file_info *fi = ttlog_reader_info(c->r);
	int64_t first = fi->events ? fi->first_ns : fi->created_ns;
	int64_t last = fi->events ? fi->last_ns : fi->created_ns;
	for (size_t i = 0; rc == SQLITE_OK && i < c->rows.count; i++) {
		struct span_row *row = query_rows_at(&c->rows, i);
		if (!row->ended) {
			row->end_ns = last > row->begin_ns ? last : row->begin_ns;
			row->ended = 1;
			row->clipped = "end";
		}
		if (row->begin_ns == 0 || row->begin_ns > row->end_ns) {
			row->begin_ns = first < row->end_ns ? first : row->end_ns;
			row->clipped = "begin";
		}
		if (row->clipped)
			row->duration_ns = row->end_ns - row->begin_ns;
	}
	c->row = (size_t)-1; /* next() moves to row 0 */
	return rc;
}

/* A span id as the id column shows it: 16 hex digits. Other text may
 * still equal it under another collation: every row is handed out then. */
static int span_key(sqlite3_value *value, uint64_t *key)
{
	switch (sqlite3_value_type(value)) {
	case SQLITE_NULL: return 0; /* = NULL is never true */
	case SQLITE_TEXT: break;
	default: return -1;
	}
	const char *text = (const char *)sqlite3_value_text(value);
	uint64_t k = 0;
	if (!text || sqlite3_value_bytes(value) != 16)
		return -1;
	for (int i = 0; i < 16; i++) {
		char ch = text[i];
		unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
			   : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
			   : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 16u;
		if (d == 16)
			return -1;
		k = k << 4 | d;
	}
	*key = k;
	return 1;
}

static uint64_t span_row_key(const void *row)
{
	return ((const struct span_row *)row)->id;
}

static void spans_clear(struct query_cursor *c)
{
	for (size_t i = 0; i < c->rows.count; i++)
		render_span_fields_free(&((struct span_row *)query_rows_at(&c->rows, i))->fields);
	query_rows_free(&c->rows);
}

static int spans_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct span_row *row = query_rows_at(&c->rows, c->row);
	switch (col) {
	case SPAN_ID: query_result_id(ctx, row->id, 0); break;
	case SPAN_PARENT: query_result_id(ctx, row->parent, 1); break;
	case SPAN_TRACE_ID: query_result_trace(ctx, row->trace_hi, row->trace_lo); break;
	case SPAN_NAME: query_result_text(ctx, row->name); break;
	case SPAN_START:
		if (row->begin_ns)
			sqlite3_result_int64(ctx, row->begin_ns);
		break;
	case SPAN_END:
		if (row->ended)
			sqlite3_result_int64(ctx, row->end_ns);
		break;
	case SPAN_DURATION:
		if (row->duration_ns >= 0)
			sqlite3_result_int64(ctx, row->duration_ns);
		break;
	case SPAN_START_TIME:
		if (row->begin_ns)
			query_result_time(ctx, row->begin_ns);
		break;
	case SPAN_TID:
		if (row->thread)
			sqlite3_result_int64(ctx, row->thread->tid);
		break;
	case SPAN_THREAD: query_result_text(ctx, row->thread ? row->thread->name : NULL); break;
	case SPAN_DEPTH: sqlite3_result_int64(ctx, row->depth); break;
	case SPAN_FILE: query_result_text(ctx, row->site ? row->site->file : NULL); break;
	case SPAN_LINE:
		if (row->site)
			sqlite3_result_int64(ctx, row->site->line);
		break;
	case SPAN_FUNC: query_result_text(ctx, row->site ? row->site->function : NULL); break;
	case SPAN_FIELDS:
		fields_json(&c->text, &row->fields);
		sqlite3_result_text(ctx, c->text.data, (int)c->text.len, SQLITE_TRANSIENT);
		break;
	case SPAN_SNAPSHOT: sqlite3_result_text(ctx, c->vt->files[c->file], -1, SQLITE_STATIC); break;
	case SPAN_CLIPPED: query_result_text(ctx, row->clipped); break;
	default: break;
	}
	return SQLITE_OK;
}

const struct query_table_def query_spans_table = {
	.module = "ttlog_spans",
	.table = "spans",
	.schema = "CREATE TABLE x(id TEXT, parent TEXT, trace_id TEXT, name TEXT, start INTEGER, "
		  "end INTEGER, duration INTEGER, start_time TEXT, tid INTEGER, thread TEXT, "
		  "depth INTEGER, file TEXT, line INTEGER, func TEXT, fields TEXT, snapshot TEXT, "
		  "clipped TEXT)",
	.cached = 1,
	.key_column = SPAN_ID,
	.parse_key = span_key,
	.row_key = span_row_key,
	.costly_column = SPAN_FIELDS,
	.start = spans_start,
	.column = spans_column,
	.clear = spans_clear,
};

/* ---- sites --------------------------------------------------------------- */

struct site_row {
	const struct ttlog_site_info *site;
	uint64_t events;
};

enum {
	SITE_ID,
	SITE_LEVEL,
	SITE_LEVEL_NUM,
	SITE_KIND,
	SITE_TARGET,
	SITE_FILE,
	SITE_LINE,
	SITE_FUNC,
	SITE_FORMAT,
	SITE_FIELDS,
	SITE_EVENTS,
	SITE_SNAPSHOT,
};

static int sites_start(struct query_cursor *c)
{
	struct id_map ids = {0};
	struct ttlog_event ev;
	int rc = SQLITE_OK;

	c->rows.size = sizeof(struct site_row);
	while (ttlog_reader_next(c->r, &ev)) {
		if (!ev.site)
			continue;
		size_t at = id_map_find(&ids, ev.site->id);
		struct site_row *row;
		if (at == (size_t)-1) {
			row = query_rows_add(&c->rows);
			if (!row || id_map_put(&ids, ev.site->id, c->rows.count - 1) != SQLITE_OK) {
				rc = SQLITE_NOMEM;
				break;
			}
			row->site = ev.site;
		} else {
			row = query_rows_at(&c->rows, at);
		}
		row->events++;
	}
	id_map_free(&ids);
	c->row = (size_t)-1;
	return rc;
}

/* A site id: an integer. A number in text equals it too (the column's
 * integer affinity), which SQLite decides: every row is handed out then. */
static int site_key(sqlite3_value *value, uint64_t *key)
{
	switch (sqlite3_value_type(value)) {
	case SQLITE_NULL: return 0;
	case SQLITE_INTEGER: {
		sqlite3_int64 v = sqlite3_value_int64(value);
		if (v < 0 || v > UINT32_MAX)
			return 0; /* no site has it */
		*key = (uint64_t)v;
		return 1;
	}
	default: return -1;
	}
}

static uint64_t site_row_key(const void *row)
{
	return ((const struct site_row *)row)->site->id;
}

static void sites_clear(struct query_cursor *c)
{
	query_rows_free(&c->rows);
}

/* The kind of a site, named as the kind of its events. */
static const char *site_kind(const struct ttlog_site_info *site)
{
	switch (site->kind) {
	case TTLOG_SITE_KIND_SPAN_BEGIN: return ttlog_event_kind_name(TTLOG_EVENT_SPAN_BEGIN);
	case TTLOG_SITE_KIND_SPAN_END: return ttlog_event_kind_name(TTLOG_EVENT_SPAN_END);
	default: return ttlog_event_kind_name(TTLOG_EVENT_LOG);
	}
}

static int sites_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct site_row *row = query_rows_at(&c->rows, c->row);
	const struct ttlog_site_info *site = row->site;
	switch (col) {
	case SITE_ID: sqlite3_result_int64(ctx, site->id); break;
	case SITE_LEVEL: query_result_level(ctx, site); break;
	case SITE_LEVEL_NUM: sqlite3_result_int(ctx, site->level); break;
	case SITE_KIND: query_result_text(ctx, site_kind(site)); break;
	case SITE_TARGET: query_result_text(ctx, ttlog_site_target(site)); break;
	case SITE_FILE: query_result_text(ctx, site->file); break;
	case SITE_LINE: sqlite3_result_int64(ctx, site->line); break;
	case SITE_FUNC: query_result_text(ctx, site->function); break;
	case SITE_FORMAT: query_result_text(ctx, site->format); break;
	case SITE_FIELDS: {
		/* The names of its fields, as a JSON array. */
		struct render_buf *b = &c->text;
		render_buf_reset(b);
		render_buf_putc(b, '[');
		for (unsigned i = 0; i < site->nfields; i++) {
			if (i)
				render_buf_putc(b, ',');
			render_json_cstring(b, site->fields[i].key);
		}
		render_buf_putc(b, ']');
		query_result_buf(ctx, b);
		break;
	}
	case SITE_EVENTS: sqlite3_result_int64(ctx, (sqlite3_int64)row->events); break;
	case SITE_SNAPSHOT: sqlite3_result_text(ctx, c->vt->files[c->file], -1, SQLITE_STATIC); break;
	default: break;
	}
	return SQLITE_OK;
}

const struct query_table_def query_sites_table = {
	.module = "ttlog_sites",
	.table = "sites",
	.schema = "CREATE TABLE x(id INTEGER, level TEXT, level_num INTEGER, kind TEXT, target TEXT, "
		  "file TEXT, line INTEGER, func TEXT, format TEXT, fields TEXT, events INTEGER, "
		  "snapshot TEXT)",
	.cached = 1,
	.key_column = SITE_ID,
	.parse_key = site_key,
	.row_key = site_row_key,
	.start = sites_start,
	.column = sites_column,
	.clear = sites_clear,
};
