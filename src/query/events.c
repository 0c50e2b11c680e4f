/* SPDX-License-Identifier: MIT */
/*
 * events.c - the events table: one row per event the reader returns (log
 * calls, span begins and span ends) of each file, in time order per file.
 *
 * Columns are computed when SQLite asks for them: count(*) formats no
 * message and builds no JSON. The time range and level mask that the scan
 * pushed down are applied by the reader (cursor.c sets them).
 */
#include "query/vtab.h"
#include "render/event_message.h"
#include "render/field_text.h"

enum {
	COL_TS,        /* QUERY_EVENTS_TS */
	COL_TIME,
	COL_LEVEL,     /* QUERY_EVENTS_LEVEL */
	COL_LEVEL_NUM, /* QUERY_EVENTS_LEVEL_NUM */
	COL_KIND,
	COL_TID,
	COL_THREAD,
	COL_TARGET,
	COL_FILE,
	COL_LINE,
	COL_FUNC,
	COL_SITE,
	COL_MESSAGE,
	COL_FIELDS,
	COL_SPAN_ID,
	COL_TRACE_ID,
	COL_SPAN,
	COL_SNAPSHOT,
	COL_SERVICE,
	COL_PID,
	COL_PROMOTED,
};
_Static_assert((int)COL_TS == (int)QUERY_EVENTS_TS && (int)COL_LEVEL == (int)QUERY_EVENTS_LEVEL &&
		       (int)COL_LEVEL_NUM == (int)QUERY_EVENTS_LEVEL_NUM &&
		       (int)COL_KIND == (int)QUERY_EVENTS_KIND &&
		       (int)COL_TARGET == (int)QUERY_EVENTS_TARGET &&
		       (int)COL_FILE == (int)QUERY_EVENTS_FILE && (int)COL_LINE == (int)QUERY_EVENTS_LINE &&
		       (int)COL_FUNC == (int)QUERY_EVENTS_FUNC && (int)COL_SITE == (int)QUERY_EVENTS_SITE &&
		       (int)COL_SNAPSHOT == (int)QUERY_EVENTS_SNAPSHOT &&
		       (int)COL_SERVICE == (int)QUERY_EVENTS_SERVICE &&
		       (int)COL_PID == (int)QUERY_EVENTS_PID,
	       "module.c and grouped.c use these column numbers");

int query_events_group_plan(sqlite3_index_info *info, char *spec)
{
	/* Rows need only be grouped (a GROUP BY: not a DISTINCT, whose rows
	 * come in the order of the scan), on columns of the site alone, and
	 * no other column is read. */
	if (sqlite3_libversion_number() < 3038000) /* no sqlite3_vtab_distinct() */
		return 0;
	if (sqlite3_vtab_distinct(info) != 1 || info->nOrderBy < 1 ||
	    info->nOrderBy > QUERY_MAX_GROUPED || (info->colUsed & ~QUERY_EVENTS_SITE_COLUMNS))
		return 0;
	size_t n = 0;
	for (int i = 0; i < info->nOrderBy; i++) {
		int col = info->aOrderBy[i].iColumn;
		if (col < 0 || col >= 63 || !((QUERY_EVENTS_SITE_COLUMNS >> col) & 1))
			return 0;
		spec[n++] = (char)('A' + col);
		if (info->aOrderBy[i].desc)
			spec[n++] = '-';
	}
	spec[n] = '\0';
	return 1;
}

/* Names that live as long as the program: no copy. */
static void result_static(sqlite3_context *ctx, const char *s)
{
	if (s)
		sqlite3_result_text(ctx, s, -1, SQLITE_STATIC);
	else
		sqlite3_result_null(ctx);
}

static int events_start(struct query_cursor *c)
{
	(void)c;
	return SQLITE_OK;
}

static int events_next(struct query_cursor *c)
{
	return ttlog_reader_next(c->r, &c->ev);
}

static sqlite3_int64 events_rowid(const struct query_cursor *c)
{
	return query_event_rowid(c, 1, 0);
}

static void events_clear(struct query_cursor *c)
{
	(void)c;
}

static void format_message(struct query_cursor *c, sqlite3_context *ctx)
{
	/* A span event's message is its span's name (a span end's own site
	 * has no format). */
	if (c->ev.kind != TTLOG_EVENT_LOG && c->ev.span) {
		query_result_text(ctx, c->ev.span->name);
		return;
	}
	render_event_format(&c->text, &c->ev);
	query_result_buf(ctx, &c->text);
}

static int events_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct ttlog_event *ev = &c->ev;
	const struct ttlog_site_info *site = c->grouped ? c->shown : ttlog_event_display_site(ev);
	const struct ttlog_thread_info *thread = ev->thread;
	const struct ttlog_span *span = ev->span;

	switch (col) {
	case COL_TS:
		sqlite3_result_int64(ctx, ev->time_ns);
		break;
	case COL_TIME:
		query_result_time(ctx, ev->time_ns);
		break;
	case COL_LEVEL:
		query_result_level(ctx, site);
		break;
	case COL_LEVEL_NUM:
		if (site)
			sqlite3_result_int(ctx, site->level);
		break;
	case COL_KIND:
		result_static(ctx, ttlog_event_kind_name(ev->kind));
		break;
	case COL_TID:
		if (thread)
			sqlite3_result_int64(ctx, thread->tid);
		break;
	case COL_THREAD:
		query_result_text(ctx, thread ? thread->name : NULL);
		break;
	case COL_TARGET:
		query_result_text(ctx, ttlog_site_target(site));
		break;
	case COL_FILE:
		query_result_text(ctx, site ? site->file : NULL);
		break;
	case COL_LINE:
		if (site)
			sqlite3_result_int64(ctx, site->line);
		break;
	case COL_FUNC:
		query_result_text(ctx, site ? site->function : NULL);
		break;
	case COL_SITE:
		/* The record's own site: what the sites table counts. */
		if (ev->site)
			sqlite3_result_int64(ctx, ev->site->id);
		break;
	case COL_MESSAGE:
		format_message(c, ctx);
		break;
	case COL_FIELDS:
		render_buf_reset(&c->text);
		render_fields_json(&c->text, ev->fields, ev->nfields);
		query_result_buf(ctx, &c->text);
		break;
	case COL_SPAN_ID:
		if (span)
			query_result_id(ctx, span->id, 0);
		break;
	case COL_TRACE_ID:
		if (span)
			query_result_trace(ctx, span->trace_hi, span->trace_lo);
		break;
	case COL_SPAN:
		if (span)
			query_result_text(ctx, span->name);
		break;
	case COL_SNAPSHOT:
		sqlite3_result_text(ctx, c->vt->files[c->file], -1, SQLITE_STATIC);
		break;
	case COL_SERVICE:
		query_result_text(ctx, ttlog_reader_info(c->r)->service);
		break;
	case COL_PID:
		sqlite3_result_int64(ctx, ttlog_reader_info(c->r)->pid);
		break;
	case COL_PROMOTED:
		sqlite3_result_int(ctx, (ev->flags & TTLOG_EVENT_PROMOTED) != 0);
		break;
	default:
		break; /* NULL */
	}
	return SQLITE_OK;
}

const struct query_table_def query_events_table = {
	.module = "ttlog_events",
	.table = "events",
	.schema = "CREATE TABLE x(ts INTEGER, time TEXT, level TEXT, level_num INTEGER, kind TEXT, "
		  "tid INTEGER, thread TEXT, target TEXT, file TEXT, line INTEGER, func TEXT, "
		  "site INTEGER, message TEXT, fields TEXT, span_id TEXT, trace_id TEXT, span TEXT, "
		  "snapshot TEXT, service TEXT, pid INTEGER, promoted INTEGER)",
	.ranged = 1,
	.start = events_start,
	.next = events_next,
	.rowid = events_rowid,
	.column = events_column,
	.clear = events_clear,
};
