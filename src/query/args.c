/* SPDX-License-Identifier: MIT */
/*
 * args.c - the args table: one row per argument of every event (log calls,
 * span begins and span ends), typed, in the events' time order per file.
 *
 * The row is the current event (c->ev) and its argument c->row. The
 * event's columns come first and in the events table's places for ts,
 * level and level_num, so that the plan of module.c pushes a time range
 * and a level mask down into the reader for this table too. What an
 * argument is (position, field, type, value) is decided in arg_rows.c,
 * which `ttlog diff` and `ttlog explain` use as well.
 */
#include <inttypes.h>
#include <stdio.h>

#include "query/arg_rows.h"
#include "query/vtab.h"

enum {
	COL_TS,        /* QUERY_EVENTS_TS */
	COL_TIME,
	COL_LEVEL,     /* QUERY_EVENTS_LEVEL */
	COL_LEVEL_NUM, /* QUERY_EVENTS_LEVEL_NUM */
	COL_KIND,
	COL_TID,
	COL_SITE,
	COL_FILE,
	COL_LINE,
	COL_FORMAT,
	COL_POSITION,
	COL_FIELD,
	COL_SOURCE,
	COL_TYPE,
	COL_INT,
	COL_REAL,
	COL_TEXT,
	COL_SNAPSHOT,
};
_Static_assert((int)COL_TS == (int)QUERY_EVENTS_TS && (int)COL_LEVEL == (int)QUERY_EVENTS_LEVEL &&
		       (int)COL_LEVEL_NUM == (int)QUERY_EVENTS_LEVEL_NUM,
	       "module.c plans with these column numbers");

static int args_start(struct query_cursor *c)
{
	c->ev.nargs = 0;
	c->row = 0;
	return SQLITE_OK;
}

/* The next argument: of this event, or the first of the next event that
 * has any. */
static int args_next(struct query_cursor *c)
{
	if (c->row + 1 < c->ev.nargs) {
		c->row++;
		return 1;
	}
	while (ttlog_reader_next(c->r, &c->ev)) {
		if (c->ev.nargs > 0) {
			c->row = 0;
			return 1;
		}
	}
	c->ev.nargs = 0;
	return 0;
}

/* An event has at most TTLOG__FMT_MAX_ARGS (16) arguments. */
#define ARGS_PER_EVENT 16u

static sqlite3_int64 args_rowid(const struct query_cursor *c)
{
	return query_event_rowid(c, ARGS_PER_EVENT, (unsigned)c->row % ARGS_PER_EVENT);
}

static void args_clear(struct query_cursor *c)
{
	c->ev.nargs = 0;
}

static const char *source_name(int source)
{
	switch (source) {
	case TTLOG_FIELD_FORMAT: return "format";
	case TTLOG_FIELD_EXPLICIT: return "explicit";
	case TTLOG_FIELD_UNUSED: return "unused";
	case TTLOG_FIELD_CONTEXT: return "context";
	case TTLOG_FIELD_SPAN: return "span";
	default: return NULL;
	}
}

static int args_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct ttlog_event *ev = &c->ev;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	struct query_arg_row a;
	query_arg_row(ev, (unsigned)c->row, &a);

	switch (col) {
	case COL_TS: sqlite3_result_int64(ctx, ev->time_ns); break;
	case COL_TIME: query_result_time(ctx, ev->time_ns); break;
	case COL_LEVEL: query_result_level(ctx, site); break;
	case COL_LEVEL_NUM:
		if (site)
			sqlite3_result_int(ctx, site->level);
		break;
	case COL_KIND: query_result_text(ctx, ttlog_event_kind_name(ev->kind)); break;
	case COL_TID:
		if (ev->thread)
			sqlite3_result_int64(ctx, ev->thread->tid);
		break;
	case COL_SITE:
		if (ev->site)
			sqlite3_result_int64(ctx, ev->site->id);
		break;
	case COL_FILE: query_result_text(ctx, site ? site->file : NULL); break;
	case COL_LINE:
		if (site)
			sqlite3_result_int64(ctx, site->line);
		break;
	case COL_FORMAT:
		/* A span event's format is its span's name, as its message is. */
		if (ev->kind != TTLOG_EVENT_LOG && ev->span)
			query_result_text(ctx, ev->span->name);
		else
			query_result_text(ctx, site ? site->format : NULL);
		break;
	case COL_POSITION: sqlite3_result_int(ctx, (int)a.position); break;
	case COL_FIELD: query_result_text(ctx, a.field); break;
	case COL_SOURCE: query_result_text(ctx, source_name(a.source)); break;
	case COL_TYPE: query_result_text(ctx, a.type); break;
	case COL_INT:
		if (a.value_class != QUERY_ARG_INT)
			break;
		if (a.arg->type == TTLOG_ARG_U8 || a.arg->type == TTLOG_ARG_U16 ||
		    a.arg->type == TTLOG_ARG_U32 || a.arg->type == TTLOG_ARG_U64)
			sqlite3_result_int64(ctx, (sqlite3_int64)a.arg->v.u); /* <= INT64_MAX */
		else
			sqlite3_result_int64(ctx, a.arg->v.i);
		break;
	case COL_REAL:
		if (a.numeric)
			sqlite3_result_double(ctx, a.number);
		break;
	case COL_TEXT:
		if (a.arg->type == TTLOG_ARG_STR && !a.arg->str_null) {
			sqlite3_result_text(ctx, a.arg->str, (int)a.arg->str_len, SQLITE_TRANSIENT);
		} else if (a.arg->type == TTLOG_ARG_PTR) {
			char text[24];
			snprintf(text, sizeof text, "0x%" PRIx64, a.arg->v.u);
			query_result_text(ctx, text);
		}
		break;
	case COL_SNAPSHOT:
		sqlite3_result_text(ctx, c->vt->files[c->file], -1, SQLITE_STATIC);
		break;
	default:
		break; /* NULL */
	}
	return SQLITE_OK;
}

const struct query_table_def query_args_table = {
	.module = "ttlog_args",
	.table = "args",
	.schema = "CREATE TABLE x(ts INTEGER, time TEXT, level TEXT, level_num INTEGER, kind TEXT, "
		  "tid INTEGER, site INTEGER, file TEXT, line INTEGER, format TEXT, position INTEGER, "
		  "field TEXT, source TEXT, type TEXT, int_value INTEGER, real_value REAL, "
		  "text_value TEXT, snapshot TEXT)",
	.ranged = 1,
	.start = args_start,
	.next = args_next,
	.rowid = args_rowid,
	.column = args_column,
	.clear = args_clear,
};
