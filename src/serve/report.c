/* SPDX-License-Identifier: MIT */
/*
 * report.c - `ttlog report`: the page of `ttlog serve` as one HTML file with
 * its data embedded, which opens from disk with no server and no network
 * (to attach a crash to a ticket).
 *
 * The file is index.html with style.css and app.js put inline, and before
 * the script a <script type="application/json" id="ttlog-data"> holding the
 * answers of the API handlers for source 0 (the argument): files,
 * overview, spans, metrics, crash, and the events: the last N (default
 * 100000) of every kind, found by counting them in a first pass. Every '<'
 * in the data is written as \u003c, so no text from a file can close the
 * script element. A meta Content-Security-Policy allows the inline script
 * and style and nothing else: no request can leave the file.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/json_text.h"
#include "serve/internal.h"

static const char report_csp[] =
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n";

/* Writes JSON text with every '<' escaped (only strings can hold one). */
static void put_json(FILE *out, const struct render_buf *b)
{
	const char *p = b->data ? b->data : "null", *end = p + (b->data ? b->len : 4);
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));
		size_t n = lt ? (size_t)(lt - p) : (size_t)(end - p);
		fwrite(p, 1, n, out);
		if (!lt)
			break;
		fputs("\\u003c", out);
		p = lt + 1;
	}
}

/* The last `last` events of source 0, every kind, as {"events":[...]}. */
static int last_events(const struct serve_set *set, uint64_t last, struct render_buf *out)
{
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	int status = 200;
	ttlog_store *st = serve_open_store(&set->src[0], &opt, out, &status);
	if (!st)
		return status;
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	uint64_t total = 0, i = 0;
	while (ttlog_store_next(st, &ev, &from))
		total++;
	ttlog_store_rewind(st);
	uint64_t skip = total > last ? total - last : 0;
	struct render_buf msg = {0};
	struct serve_event_cache ec;
	memset(&ec, 0, sizeof ec);
	render_buf_reset(out);
	render_buf_puts(out, "{\"events\":[");
	while (ttlog_store_next(st, &ev, &from)) {
		if (i++ < skip)
			continue;
		if (i > skip + 1)
			render_buf_putc(out, ',');
		serve_event_json(out, &ev, from, &msg, &ec);
	}
	render_buf_printf(out, "],\"total\":%" PRIu64 ",\"left_out\":%" PRIu64 ",\"next\":null}", total,
			  skip);
	const char *err = ttlog_store_error(st);
	if (err)
		fprintf(stderr, "ttlog report: %s\n", err);
	serve_event_cache_free(&ec);
	render_buf_free(&msg);
	ttlog_store_close(st);
	return 200;
}

/* Writes `text` up to `marker`, returns the rest (NULL: no marker). */
static const char *copy_to(FILE *out, const char *text, const char *marker)
{
	const char *at = strstr(text, marker);
	if (!at)
		return NULL;
	fwrite(text, 1, (size_t)(at - text), out);
	return at + strlen(marker);
}

int serve_report_write(const struct serve_report_config *cfg, FILE *out)
{
	struct serve_set set;
	char err[512];
	if (serve_set_build(&set, cfg->paths, cfg->npaths, cfg->shm_base, err, sizeof err) != 0) {
		fprintf(stderr, "ttlog report: %s\n", err);
		return 2;
	}
	size_t all = set.n;
	set.n = 1; /* the report is of the first argument */
	struct serve_limits lim;
	memset(&lim, 0, sizeof lim);
	lim.scan_max = UINT64_MAX;
	lim.out_bytes = (size_t)1 << 40;
	lim.spans_max = 10000000;
	serve_limits_default(&lim);
	struct serve_request rq;
	memset(&rq, 0, sizeof rq);
	rq.set = &set;
	rq.lim = &lim;
	rq.stack_json = cfg->stack_json;
	rq.stack_arg = cfg->stack_arg;
	rq.keys[0] = "src";
	rq.values[0] = "0";
	rq.nparams = 1;

	static const struct {
		const char *key;
		serve_handler_fn fn;
	} parts[] = {
		{"files", serve_api_files},   {"overview", serve_api_overview}, {"spans", serve_api_spans},
		{"metrics", serve_api_metrics}, {"crash", serve_api_crash},
	};
	struct render_buf data[6];
	memset(data, 0, sizeof data);
	int rc = 0;
	for (size_t i = 0; i < 5 && !rc; i++) {
		int status = parts[i].fn(&rq, &data[i]);
		if (status != 200) {
			fprintf(stderr, "ttlog report: %s: %s\n", parts[i].key, data[i].data ? data[i].data : "");
			rc = 2;
		}
	}
	if (!rc && last_events(&set, cfg->last_events, &data[5]) != 200) {
		fprintf(stderr, "ttlog report: events: %s\n", data[5].data ? data[5].data : "");
		rc = 2;
	}
	const struct serve_asset *html = serve_asset_find("index.html"), *js = serve_asset_find("app.js"),
				 *css = serve_asset_find("style.css");
	if (!rc && (!html || !js || !css)) {
		fprintf(stderr, "ttlog report: the page is missing from this build\n");
		rc = 2;
	}
	if (!rc) {
		const char *page = (const char *)html->data;
		const char *rest = copy_to(out, page, "<meta charset=\"utf-8\">\n");
		if (rest) {
			fputs("<meta charset=\"utf-8\">\n", out);
			fputs(report_csp, out);
			rest = copy_to(out, rest, "<link rel=\"stylesheet\" href=\"style.css\">");
		}
		if (rest) {
			fputs("<style>\n", out);
			fwrite(css->data, 1, css->len, out);
			fputs("</style>", out);
			rest = copy_to(out, rest, "<script src=\"app.js\"></script>");
		}
		if (!rest) {
			fprintf(stderr, "ttlog report: the page's markers are missing from this build\n");
			rc = 2;
		} else {
			fputs("<script type=\"application/json\" id=\"ttlog-data\">{\"title\":", out);
			struct render_buf t = {0};
			render_json_cstring(&t, set.src[0].label);
			put_json(out, &t);
			render_buf_free(&t);
			static const char *const keys[] = {"files", "overview", "spans", "metrics", "crash", "events"};
			for (size_t i = 0; i < 6; i++) {
				fprintf(out, ",\"%s\":", keys[i]);
				put_json(out, &data[i]);
			}
			fputs("}</script>\n<script>\n", out);
			fwrite(js->data, 1, js->len, out);
			fputs("</script>", out);
			fputs(rest, out);
		}
	}
	for (size_t i = 0; i < 6; i++)
		render_buf_free(&data[i]);
	set.n = all;
	serve_set_free(&set);
	return rc;
}
