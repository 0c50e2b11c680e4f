/* SPDX-License-Identifier: MIT */
/*
 * api_events.c - GET /api/events: one page of the events of a source that
 * pass the filter (filter.c), in time order, and the cursor of the next.
 *
 * Paging never loads the source: a page opens the store from the cursor's
 * time on (the store then leaves the blocks before it unread) and reads
 * only until the page is full. The cursor is opaque to the page; inside it
 * is "T-N" in hex: the time of the next event and how many events of the
 * store at that same time come before it (the store's order of equal times
 * is fixed: files by name, then threads, then file order). A request that
 * reaches its scan or time cap ends early with a cursor where it stopped
 * and "partial":true, so a search through 10 M events goes on page by page.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/json_text.h"
#include "serve/internal.h"

static int parse_cursor(const char *s, int64_t *t, uint64_t *n)
{
	/* "T-N": T the time as 16 hex digits of its two's complement, N hex. */
	if (strlen(s) < 18 || strlen(s) > 40 || s[16] != '-')
		return -1;
	uint64_t v = 0, k = 0;
	for (int i = 0; i < 16; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		v = v << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	const char *p = s + 17;
	if (!*p || strlen(p) > 16)
		return -1;
	for (; *p; p++) {
		char c = *p;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		k = k << 4 | (uint64_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	*t = (int64_t)v;
	*n = k;
	return 0;
}

static void put_cursor(struct render_buf *out, int64_t t, uint64_t n)
{
	render_buf_printf(out, "\"%016" PRIx64 "-%" PRIx64 "\"", (uint64_t)t, n);
}

int serve_api_events(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	struct serve_filter f;
	const struct serve_source *src = serve_filtered_source(rq, &f, out, &status);
	if (!src)
		return status;
	int64_t limit = 200;
	const char *v = serve_param(rq, "limit");
	if (v && serve_parse_i64(v, 1, rq->lim->page_max, &limit) != 0)
		return serve_fail(out, 400, "limit must be 1 to %u", rq->lim->page_max);
	int64_t skip_t = INT64_MIN;
	uint64_t skip_n = 0;
	if ((v = serve_param(rq, "cursor")) && *v) {
		if (parse_cursor(v, &skip_t, &skip_n) != 0)
			return serve_fail(out, 400, "cursor is not one this server gave");
	}

	struct ttlog_store_options opt;
	serve_filter_store_options(&f, &opt);
	if (skip_t > opt.since_ns)
		opt.since_ns = skip_t;
	ttlog_store *st = serve_open_store(src, &opt, out, &status);
	if (!st)
		return status;

	render_buf_reset(out);
	render_buf_puts(out, "{\"events\":[");
	struct render_buf msg = {0};
	struct serve_event_cache ec;
	memset(&ec, 0, sizeof ec);
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	int64_t cur_t = INT64_MIN;
	uint64_t cur_n = 0, scanned = 0, walked = 0, returned = 0;
	int more = 0, partial = 0;
	while (ttlog_store_next(st, &ev, &from)) {
		if (ev.time_ns != cur_t) {
			cur_t = ev.time_ns;
			cur_n = 0;
		}
		cur_n++;
		/* The limits count the events the cursor skips too: a cursor
		 * with a huge count would otherwise walk a whole store
		 * unchecked. Stopped here, the next cursor goes on from here. */
		if ((++walked & 1023) == 0 &&
		    (walked > rq->lim->scan_max || serve_out_of_time(rq) || out->len > rq->lim->out_bytes)) {
			partial = more = 1;
			break;
		}
		if (ev.time_ns < skip_t)
			continue;
		if (ev.time_ns == skip_t && cur_n <= skip_n)
			continue;
		scanned++;
		if (!serve_filter_match(&f, &ev, from, &msg))
			continue;
		if (returned == (uint64_t)limit) {
			more = 1;
			break;
		}
		if (returned++)
			render_buf_putc(out, ',');
		serve_event_json(out, &ev, from, &msg, &ec);
	}
	render_buf_puts(out, "],\"next\":");
	if (more)
		put_cursor(out, cur_t, cur_n - 1);
	else
		render_buf_puts(out, "null");
	render_buf_printf(out, ",\"partial\":%s,\"scanned\":%" PRIu64, partial ? "true" : "false",
			  scanned);
	const char *err = ttlog_store_error(st);
	render_buf_puts(out, ",\"error\":");
	if (err)
		render_json_cstring(out, err);
	else
		render_buf_puts(out, "null");
	struct ttlog_store_counters c = ttlog_store_counters(st);
	render_buf_printf(out, ",\"duplicates\":%" PRIu64 "}", c.duplicates);
	render_buf_free(&msg);
	serve_event_cache_free(&ec);
	ttlog_store_close(st);
	return 200;
}
