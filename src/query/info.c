/* SPDX-License-Identifier: MIT */
/*
 * info.c - the tables that come from a file's structure rather than its
 * events: threads, metrics and snapshots (one row per file). None of them
 * decodes an event block.
 */
#include <math.h>

#include "query/vtab.h"
#include "render/json_text.h"
#include "render/names.h"

/* Rows numbered 0..count-1: the index is c->row, the count c->rows.count. */
static int numbered_next(struct query_cursor *c)
{
	return ++c->row < c->rows.count;
}

static void numbered_clear(struct query_cursor *c)
{
	c->rows.count = 0;
}

static void result_path(struct query_cursor *c, sqlite3_context *ctx)
{
	sqlite3_result_text(ctx, c->vt->files[c->file], -1, SQLITE_STATIC);
}

/* ---- threads ------------------------------------------------------------- */

enum {
	THREAD_IDX,
	THREAD_TID,
	THREAD_NAME,
	THREAD_EXITED,
	THREAD_CRASHED,
	THREAD_EVENTS,
	THREAD_OVERWRITTEN,
	THREAD_TORN,
	THREAD_TORN_BYTES,
	THREAD_SNAPSHOT,
};

static int threads_start(struct query_cursor *c)
{
	c->rows.count = ttlog_reader_thread_count(c->r);
	c->row = (size_t)-1;
	return SQLITE_OK;
}

static int threads_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct ttlog_thread_info *t = ttlog_reader_thread(c->r, c->row);
	if (!t)
		return SQLITE_OK;
	switch (col) {
	case THREAD_IDX: sqlite3_result_int64(ctx, t->index); break;
	case THREAD_TID: sqlite3_result_int64(ctx, t->tid); break;
	case THREAD_NAME: query_result_text(ctx, t->name); break;
	case THREAD_EXITED: sqlite3_result_int(ctx, t->exited != 0); break;
	case THREAD_CRASHED: sqlite3_result_int(ctx, t->crashed != 0); break;
	case THREAD_EVENTS: sqlite3_result_int64(ctx, (sqlite3_int64)t->events); break;
	case THREAD_OVERWRITTEN: sqlite3_result_int64(ctx, (sqlite3_int64)t->overwritten); break;
	case THREAD_TORN: sqlite3_result_int64(ctx, (sqlite3_int64)t->torn); break;
	case THREAD_TORN_BYTES: sqlite3_result_int64(ctx, (sqlite3_int64)t->torn_bytes); break;
	case THREAD_SNAPSHOT: result_path(c, ctx); break;
	default: break;
	}
	return SQLITE_OK;
}

const struct query_table_def query_threads_table = {
	.module = "ttlog_threads",
	.table = "threads",
	.schema = "CREATE TABLE x(idx INTEGER, tid INTEGER, name TEXT, exited INTEGER, "
		  "crashed INTEGER, events INTEGER, overwritten INTEGER, torn INTEGER, "
		  "torn_bytes INTEGER, snapshot TEXT)",
	.start = threads_start,
	.next = numbered_next,
	.column = threads_column,
	.clear = numbered_clear,
};

/* ---- metrics ------------------------------------------------------------- */

enum {
	METRIC_NAME,
	METRIC_TYPE,
	METRIC_LABELS,
	METRIC_FILE,
	METRIC_LINE,
	METRIC_SELF,
	METRIC_VALUE,
	METRIC_TS,
	METRIC_COUNT,
	METRIC_SUM,
	METRIC_MIN,
	METRIC_MAX,
	METRIC_P50,
	METRIC_P90,
	METRIC_P99,
	METRIC_P999,
	METRIC_BUCKETS,
	METRIC_SNAPSHOT,
};

static int metrics_start(struct query_cursor *c)
{
	size_t count = 0;
	ttlog_reader_metrics(c->r, &count);
	c->rows.count = count;
	c->row = (size_t)-1;
	return SQLITE_OK;
}

static const char *metric_type_name(int type)
{
	switch (type) {
	case TTLOG_METRIC_COUNTER: return "counter";
	case TTLOG_METRIC_GAUGE: return "gauge";
	case TTLOG_METRIC_HISTOGRAM: return "histogram";
	default: return NULL;
	}
}

/* A histogram statistic: NULL for other types, and for NaN (no values). */
static void result_stat(sqlite3_context *ctx, const struct ttlog_metric_value *m, double v)
{
	if (m->type == TTLOG_METRIC_HISTOGRAM && !isnan(v))
		sqlite3_result_double(ctx, v);
}

static int metrics_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	size_t count = 0;
	const struct ttlog_metric_value *all = ttlog_reader_metrics(c->r, &count);
	if (!all || c->row >= count)
		return SQLITE_OK;
	const struct ttlog_metric_value *m = &all[c->row];
	int hist = m->type == TTLOG_METRIC_HISTOGRAM;
	struct render_buf *b = &c->text;

	switch (col) {
	case METRIC_NAME: query_result_text(ctx, m->name); break;
	case METRIC_TYPE: query_result_text(ctx, metric_type_name(m->type)); break;
	case METRIC_LABELS:
		render_buf_reset(b);
		render_json_labels(b, m->labels, m->nlabels);
		query_result_buf(ctx, b);
		break;
	case METRIC_FILE: query_result_text(ctx, m->file); break;
	case METRIC_LINE: sqlite3_result_int64(ctx, m->line); break;
	case METRIC_SELF: sqlite3_result_int(ctx, m->self != 0); break;
	case METRIC_VALUE:
		/* Counters are integers; a gauge never set has no value. */
		if (m->type == TTLOG_METRIC_COUNTER)
			sqlite3_result_int64(ctx, (sqlite3_int64)m->counter);
		else if (m->type == TTLOG_METRIC_GAUGE && m->gauge_set)
			sqlite3_result_double(ctx, m->gauge);
		break;
	case METRIC_TS:
		if (m->type == TTLOG_METRIC_GAUGE && m->gauge_set)
			sqlite3_result_int64(ctx, m->gauge_time_ns);
		break;
	case METRIC_COUNT:
		if (hist)
			sqlite3_result_int64(ctx, (sqlite3_int64)m->hist.count);
		break;
	case METRIC_SUM: result_stat(ctx, m, m->hist.sum); break;
	case METRIC_MIN: result_stat(ctx, m, m->hist.count ? m->hist.min : NAN); break;
	case METRIC_MAX: result_stat(ctx, m, m->hist.count ? m->hist.max : NAN); break;
	case METRIC_P50: result_stat(ctx, m, m->hist.p50); break;
	case METRIC_P90: result_stat(ctx, m, m->hist.p90); break;
	case METRIC_P99: result_stat(ctx, m, m->hist.p99); break;
	case METRIC_P999: result_stat(ctx, m, m->hist.p999); break;
	case METRIC_BUCKETS:
		if (!hist)
			break;
		/* [[lower, upper, count], ...]; the open ends are "-inf" and "inf". */
		render_buf_reset(b);
		render_buf_putc(b, '[');
		for (size_t i = 0; i < m->hist.nbuckets; i++) {
			const struct ttlog_metric_bucket *k = &m->hist.buckets[i];
			render_buf_puts(b, i ? ",[" : "[");
			render_json_double(b, k->lower);
			render_buf_putc(b, ',');
			render_json_double(b, k->upper);
			render_buf_printf(b, ",%llu]", (unsigned long long)k->count);
		}
		render_buf_putc(b, ']');
		query_result_buf(ctx, b);
		break;
	case METRIC_SNAPSHOT: result_path(c, ctx); break;
	default: break;
	}
	return SQLITE_OK;
}

const struct query_table_def query_metrics_table = {
	.module = "ttlog_metrics",
	.table = "metrics",
	.schema = "CREATE TABLE x(name TEXT, type TEXT, labels TEXT, file TEXT, line INTEGER, "
		  "self INTEGER, value, ts INTEGER, count INTEGER, sum REAL, min REAL, max REAL, "
		  "p50 REAL, p90 REAL, p99 REAL, p999 REAL, buckets TEXT, snapshot TEXT)",
	.start = metrics_start,
	.next = numbered_next,
	.column = metrics_column,
	.clear = numbered_clear,
};

/* ---- snapshots ----------------------------------------------------------- */

enum {
	SNAP_SNAPSHOT,
	SNAP_FORMAT_VERSION,
	SNAP_PID,
	SNAP_EXECUTABLE,
	SNAP_HOSTNAME,
	SNAP_REASON,
	SNAP_CREATED,
	SNAP_CREATED_TIME,
	SNAP_WRITER_VERSION,
	SNAP_CLOCK,
	SNAP_WINDOW_NS,
	SNAP_COMPLETE,
	SNAP_EVENTS,
	SNAP_OVERWRITTEN,
	SNAP_TORN,
	SNAP_DROPPED,
	SNAP_BLOCKS,
	SNAP_FIRST_TS,
	SNAP_LAST_TS,
	SNAP_FIRST_TIME,
	SNAP_LAST_TIME,
	SNAP_CRASHED,
	SNAP_SIGNAL,
	SNAP_SIGNAL_CODE,
	SNAP_CRASH_ADDRESS,
	SNAP_CRASH_TID,
	SNAP_ERROR,
	SNAP_SERVICE,       /* format revision 5 */
	SNAP_SEGMENT,
	SNAP_OPEN,
	SNAP_STREAM_LOST,
	SNAP_FILTERED,
	SNAP_PROMOTED,
	SNAP_RECORDS,       /* format revision 9 */
};

/* The file's events: END's count, or where the file has none (written
 * before format revision 9, or without END) its blocks decoded, the count
 * the events table gives. */
static uint64_t snapshot_events(struct query_cursor *c, const struct ttlog_file_info *info)
{
	if (!info->events_are_records)
		return info->events;
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open_ex(c->vt->files[c->file], 0, &r);
	uint64_t n = info->events;
	if (r && (rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT))
		n = ttlog_reader_info(r)->events;
	ttlog_reader_close(r);
	return n;
}

static int snapshots_start(struct query_cursor *c)
{
	c->rows.count = 1;
	c->row = (size_t)-1;
	return SQLITE_OK;
}

static int snapshots_column(struct query_cursor *c, sqlite3_context *ctx, int col)
{
	const struct ttlog_file_info *info = ttlog_reader_info(c->r);
	int status = ttlog_reader_status(c->r);

	if (col == SNAP_SNAPSHOT) {
		result_path(c, ctx);
		return SQLITE_OK;
	}
	if (col == SNAP_ERROR) {
		const char *error = ttlog_reader_error(c->r);
		if (status != TTLOG_OK)
			query_result_text(ctx, error && *error ? error : ttlog_strerror(status));
		return SQLITE_OK;
	}
	/* Only these leave details worth showing (as `ttlog view` decides). */
	if (!info || (status != TTLOG_OK && status != TTLOG_E_TRUNCATED && status != TTLOG_E_CORRUPT))
		return SQLITE_OK;
	switch (col) {
	case SNAP_FORMAT_VERSION: sqlite3_result_int64(ctx, info->format_version); break;
	case SNAP_PID: sqlite3_result_int64(ctx, info->pid); break;
	case SNAP_EXECUTABLE: query_result_text(ctx, info->executable); break;
	case SNAP_HOSTNAME: query_result_text(ctx, info->hostname); break;
	case SNAP_REASON: query_result_text(ctx, info->reason); break;
	case SNAP_CREATED: sqlite3_result_int64(ctx, info->created_ns); break;
	case SNAP_CREATED_TIME: query_result_time(ctx, info->created_ns); break;
	case SNAP_WRITER_VERSION: sqlite3_result_int64(ctx, info->writer_version); break;
	case SNAP_CLOCK: query_result_text(ctx, render_clock_name(info->clock)); break;
	case SNAP_WINDOW_NS: sqlite3_result_int64(ctx, (sqlite3_int64)info->window_ns); break;
	case SNAP_COMPLETE: sqlite3_result_int(ctx, info->complete != 0); break;
	case SNAP_EVENTS: sqlite3_result_int64(ctx, (sqlite3_int64)snapshot_events(c, info)); break;
	case SNAP_OVERWRITTEN: sqlite3_result_int64(ctx, (sqlite3_int64)info->overwritten); break;
	case SNAP_TORN: sqlite3_result_int64(ctx, (sqlite3_int64)info->torn); break;
	case SNAP_DROPPED: sqlite3_result_int64(ctx, (sqlite3_int64)info->dropped); break;
	case SNAP_BLOCKS: sqlite3_result_int64(ctx, (sqlite3_int64)info->blocks); break;
	case SNAP_FIRST_TS:
		if (info->events)
			sqlite3_result_int64(ctx, info->first_ns);
		break;
	case SNAP_LAST_TS:
		if (info->events)
			sqlite3_result_int64(ctx, info->last_ns);
		break;
	case SNAP_FIRST_TIME:
		if (info->events)
			query_result_time(ctx, info->first_ns);
		break;
	case SNAP_LAST_TIME:
		if (info->events)
			query_result_time(ctx, info->last_ns);
		break;
	case SNAP_CRASHED: sqlite3_result_int(ctx, info->crashed != 0); break;
	case SNAP_SIGNAL:
		if (info->crashed)
			query_result_text(ctx, info->crash.signal_name);
		break;
	case SNAP_SIGNAL_CODE:
		if (info->crashed)
			sqlite3_result_int(ctx, info->crash.code);
		break;
	case SNAP_CRASH_ADDRESS:
		if (info->crashed)
			query_result_id(ctx, info->crash.address, 0);
		break;
	case SNAP_CRASH_TID:
		if (info->crashed)
			sqlite3_result_int64(ctx, info->crash.tid);
		break;
	case SNAP_SERVICE: query_result_text(ctx, info->service); break;
	case SNAP_SEGMENT: sqlite3_result_int64(ctx, (sqlite3_int64)info->segment); break;
	case SNAP_OPEN: sqlite3_result_int(ctx, info->open != 0); break;
	case SNAP_STREAM_LOST: sqlite3_result_int64(ctx, (sqlite3_int64)info->stream_lost); break;
	case SNAP_FILTERED: sqlite3_result_int64(ctx, (sqlite3_int64)info->filtered); break;
	case SNAP_PROMOTED: sqlite3_result_int64(ctx, (sqlite3_int64)info->promoted); break;
	case SNAP_RECORDS: sqlite3_result_int64(ctx, (sqlite3_int64)info->records); break;
	default: break;
	}
	return SQLITE_OK;
}

const struct query_table_def query_snapshots_table = {
	.module = "ttlog_snapshots",
	.table = "snapshots",
	.schema = "CREATE TABLE x(snapshot TEXT, format_version INTEGER, pid INTEGER, "
		  "executable TEXT, hostname TEXT, reason TEXT, created INTEGER, created_time TEXT, "
		  "writer_version INTEGER, clock TEXT, window_ns INTEGER, complete INTEGER, "
		  "events INTEGER, overwritten INTEGER, torn INTEGER, dropped INTEGER, "
		  "blocks INTEGER, first_ts INTEGER, last_ts INTEGER, first_time TEXT, "
		  "last_time TEXT, crashed INTEGER, signal TEXT, signal_code INTEGER, "
		  "crash_address TEXT, crash_tid INTEGER, error TEXT, service TEXT, segment INTEGER, "
		  "open INTEGER, stream_lost INTEGER, filtered INTEGER, promoted INTEGER, "
		  "records INTEGER)",
	.start = snapshots_start,
	.next = numbered_next,
	.column = snapshots_column,
	.clear = numbered_clear,
};
