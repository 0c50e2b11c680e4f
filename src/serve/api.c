/* SPDX-License-Identifier: MIT */
/*
 * api.c - what every handler of the JSON API uses: parameters, the
 * request's caps and deadline, error bodies, the source a request names,
 * and the table from /api/NAME to its handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render/json_text.h"
#include "serve/internal.h"

const char *serve_param(const struct serve_request *rq, const char *key)
{
	for (size_t i = 0; i < rq->nparams; i++)
		if (strcmp(rq->keys[i], key) == 0)
			return rq->values[i];
	return NULL;
}

void serve_limits_default(struct serve_limits *l)
{
	if (!l->page_max)
		l->page_max = 1000;
	if (!l->scan_max)
		l->scan_max = 5000000;
	if (!l->time_ms)
		l->time_ms = 5000;
	if (!l->sql_rows)
		l->sql_rows = 10000;
	if (!l->out_bytes)
		l->out_bytes = 32u << 20;
	if (!l->spans_max)
		l->spans_max = 100000;
}

int64_t serve_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int serve_out_of_time(const struct serve_request *rq)
{
	return (rq->stop && *rq->stop) || (rq->deadline_ns && serve_now_ns() > rq->deadline_ns);
}

int serve_fail(struct render_buf *out, int status, const char *format, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, format);
	vsnprintf(text, sizeof text, format, ap);
	va_end(ap);
	render_buf_reset(out);
	render_buf_puts(out, "{\"error\":");
	render_json_cstring(out, text);
	render_buf_puts(out, ",\"status\":");
	render_buf_put_i64(out, status);
	render_buf_putc(out, '}');
	return status;
}

int serve_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
	if (!s || !*s || strlen(s) > 20)
		return -1;
	const char *p = s;
	if (*p == '-')
		p++;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return -1;
	if (!*p)
		return -1;
	errno = 0;
	char *end;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

const struct serve_source *serve_source_param(const struct serve_request *rq,
					      struct render_buf *out, int *status)
{
	const char *s = serve_param(rq, "src");
	int64_t id;
	if (!s) {
		*status = serve_fail(out, 400, "missing parameter src (a source number from /api/files)");
		return NULL;
	}
	if (serve_parse_i64(s, 0, INT32_MAX, &id) != 0) {
		*status = serve_fail(out, 400, "src must be a source number from /api/files");
		return NULL;
	}
	if ((size_t)id >= rq->set->n) {
		*status = serve_fail(out, 404, "no source %" PRId64 " (there are %zu)", id, rq->set->n);
		return NULL;
	}
	return &rq->set->src[id];
}

const struct serve_source *serve_filtered_source(const struct serve_request *rq,
						 struct serve_filter *f, struct render_buf *out,
						 int *status)
{
	const struct serve_source *src = serve_source_param(rq, out, status);
	if (src && (*status = serve_filter_parse(rq, f, out)) != 0)
		return NULL;
	return src;
}

ttlog_store *serve_open_store(const struct serve_source *s, const struct ttlog_store_options *opt,
			      struct render_buf *out, int *status)
{
	ttlog_store *st = NULL;
	if (s->pid) {
		char err[600];
		int rc = serve_process_open(s, opt, &st, err, sizeof err);
		if (!st)
			*status = serve_fail(out, rc == TTLOG_E_NOMEM ? 503 : 502, "%s", err);
		return st;
	}
	const char *p = s->path;
	int rc = ttlog_store_open(&p, 1, opt, &st);
	if (!st) {
		*status = serve_fail(out, rc == TTLOG_E_NOMEM ? 503 : 500, "%s: %s", s->label,
				     ttlog_strerror(rc));
		return NULL;
	}
	return st;
}

static const struct {
	const char *name;
	serve_handler_fn fn;
} handlers[] = {
	{"files", serve_api_files},       {"events", serve_api_events},
	{"overview", serve_api_overview}, {"spans", serve_api_spans},
	{"metrics", serve_api_metrics},   {"crash", serve_api_crash},
	{"sql", serve_api_sql},
};

serve_handler_fn serve_api_handler(const char *name)
{
	for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
		if (strcmp(handlers[i].name, name) == 0)
			return handlers[i].fn;
	return NULL;
}

const struct serve_asset *serve_asset_find(const char *name)
{
	for (size_t i = 0; i < serve_nassets; i++)
		if (strcmp(serve_assets[i].name, name) == 0)
			return &serve_assets[i];
	return NULL;
}
