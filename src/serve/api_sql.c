/* SPDX-License-Identifier: MIT */
/*
 * api_sql.c - GET /api/sql?src=N&q=SQL: one read-only SQL statement over the
 * tables of docs/QUERY.md (events, spans, threads, sites, metrics,
 * snapshots) made over the files of a source, in a database of its own.
 *
 * Read-only is enforced three ways: one statement only, which SQLite must
 * call read-only (sqlite3_stmt_readonly), and an authorizer that allows
 * reading and functions and denies everything else (ATTACH, which would
 * create a file, PRAGMA, writes, load_extension). Time is capped by a
 * progress handler that interrupts the statement at the request's deadline
 * (408); the result by a row cap ("truncated") and the response byte cap.
 * Integers beyond what a JavaScript number holds exactly (2^53) are sent
 * as strings.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "render/json_text.h"
#include "serve/internal.h"

static int progress(void *arg)
{
	return serve_out_of_time(arg);
}

static int authorize(void *arg, int action, const char *a, const char *b, const char *c,
		     const char *d)
{
	(void)arg;
	(void)b;
	(void)c;
	(void)d;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		if (a && (strcasecmp(a, "load_extension") == 0 || strcasecmp(a, "fts3_tokenizer") == 0))
			return SQLITE_DENY;
		return SQLITE_OK;
	default:
		return SQLITE_DENY;
	}
}

static void value_json(struct render_buf *out, sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: {
		sqlite3_int64 v = sqlite3_column_int64(st, i);
		if (v > 9007199254740992LL || v < -9007199254740992LL)
			render_buf_printf(out, "\"%lld\"", (long long)v);
		else
			render_buf_put_i64(out, v);
		break;
	}
	case SQLITE_FLOAT:
		render_json_double(out, sqlite3_column_double(st, i));
		break;
	case SQLITE_NULL:
		render_buf_puts(out, "null");
		break;
	case SQLITE_BLOB:
		render_buf_printf(out, "\"<%d bytes>\"", sqlite3_column_bytes(st, i));
		break;
	default: {
		const unsigned char *t = sqlite3_column_text(st, i);
		render_json_string(out, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
		break;
	}
	}
}

/* The files a source's tables read. */
static int source_files(const struct serve_source *src, char ***files, struct render_buf *out,
			int *status)
{
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	opt.flags = TTLOG_READER_LAZY;
	ttlog_store *st = serve_open_store(src, &opt, out, status);
	if (!st)
		return -1;
	const struct ttlog_store_file *const *f;
	size_t n = ttlog_store_files(st, &f);
	*files = calloc(n + 1, sizeof **files);
	int k = 0;
	for (size_t i = 0; *files && i < n; i++)
		if (!((*files)[k] = strdup(f[i]->path)))
			break;
		else
			k++;
	ttlog_store_close(st);
	if (!*files || (size_t)k != n) {
		for (int i = 0; *files && i < k; i++)
			free((*files)[i]);
		free(*files);
		*status = serve_fail(out, 503, "out of memory");
		return -1;
	}
	return k;
}

int serve_api_sql(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	const struct serve_source *src = serve_source_param(rq, out, &status);
	if (!src)
		return status;
	const char *sql = serve_param(rq, "q");
	if (!sql || !*sql)
		return serve_fail(out, 400, "missing parameter q (one SQL statement)");
	char **files = NULL;
	int nfiles = source_files(src, &files, out, &status);
	if (nfiles < 0)
		return status;
	if (nfiles == 0) {
		free(files);
		return serve_fail(out, 404, "source %s has no files", src->label);
	}
	sqlite3 *db = NULL;
	struct query_context *context = NULL;
	if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    query_register(db, &context) != SQLITE_OK || query_create_tables(db, files, nfiles) != SQLITE_OK) {
		status = serve_fail(out, 500, "cannot set up the tables: %s",
				    db ? sqlite3_errmsg(db) : "out of memory");
		goto done;
	}
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1 << 20);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, SERVE_MAX_PARAM_LEN);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_set_authorizer(db, authorize, NULL);
	sqlite3_progress_handler(db, 10000, progress, (void *)rq);

	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, &tail) != SQLITE_OK) {
		status = serve_fail(out, 400, "SQL: %s", sqlite3_errmsg(db));
		goto done;
	}
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
		tail++;
	if (!st || (tail && *tail)) {
		sqlite3_finalize(st);
		status = serve_fail(out, 400, "SQL: give exactly one statement");
		goto done;
	}
	if (!sqlite3_stmt_readonly(st)) {
		sqlite3_finalize(st);
		status = serve_fail(out, 403, "SQL: only statements that read are allowed");
		goto done;
	}
	int ncol = sqlite3_column_count(st);
	render_buf_reset(out);
	render_buf_puts(out, "{\"columns\":[");
	for (int i = 0; i < ncol; i++) {
		if (i)
			render_buf_putc(out, ',');
		render_json_cstring(out, sqlite3_column_name(st, i));
	}
	render_buf_puts(out, "],\"rows\":[");
	unsigned rows = 0;
	int truncated = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows == rq->lim->sql_rows || out->len > rq->lim->out_bytes) {
			truncated = 1;
			break;
		}
		render_buf_puts(out, rows++ ? ",[" : "[");
		for (int i = 0; i < ncol; i++) {
			if (i)
				render_buf_putc(out, ',');
			value_json(out, st, i);
		}
		render_buf_putc(out, ']');
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		int timeout = rc == SQLITE_INTERRUPT;
		status = timeout ? serve_fail(out, 408, "SQL: the statement ran past the time limit (%u ms)",
					      rq->lim->time_ms)
				 : serve_fail(out, 400, "SQL: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto done;
	}
	sqlite3_finalize(st);
	render_buf_printf(out, "],\"truncated\":%s,\"errors\":[", truncated ? "true" : "false");
	size_t ne = query_context_error_count(context);
	for (size_t i = 0; i < ne; i++) {
		if (i)
			render_buf_putc(out, ',');
		render_json_cstring(out, query_context_error(context, i));
	}
	render_buf_puts(out, "]}");
done:
	sqlite3_close(db);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	return status;
}
