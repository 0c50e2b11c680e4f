/* SPDX-License-Identifier: MIT */
/*
 * filter.c - the event filter of the API, the same choices as `ttlog view`
 * has: since and until (ns since the epoch), level (the least level shown),
 * pid, tid, thread (a name), text (a substring of the message, any case),
 * field (KEY=VALUE: the field's text equals VALUE), trace (32 hex digits)
 * and kind (log, the default, or all: span events too). Time and level go
 * to the store, which then leaves blocks outside them undecoded; the rest
 * is tested on each event.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "render/event_json.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "serve/internal.h"

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "fatal"};

int serve_parse_trace(const char *s, uint64_t *hi, uint64_t *lo)
{
	if (!s || strlen(s) != 32)
		return -1;
	uint64_t v[2] = {0, 0};
	for (int i = 0; i < 32; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v[i / 16] = v[i / 16] << 4 | d;
	}
	*hi = v[0];
	*lo = v[1];
	return 0;
}

int serve_filter_parse(const struct serve_request *rq, struct serve_filter *f,
		       struct render_buf *out)
{
	memset(f, 0, sizeof *f);
	f->since = INT64_MIN;
	f->until = INT64_MAX;
	f->level_mask = TTLOG_READER_ALL_LEVELS;
	f->pid = f->tid = -1;
	const char *v;
	if ((v = serve_param(rq, "since")) && serve_parse_i64(v, INT64_MIN, INT64_MAX, &f->since))
		return serve_fail(out, 400, "since must be an integer (ns since the epoch)");
	if ((v = serve_param(rq, "until")) && serve_parse_i64(v, INT64_MIN, INT64_MAX, &f->until))
		return serve_fail(out, 400, "until must be an integer (ns since the epoch)");
	if (f->since > f->until)
		return serve_fail(out, 400, "since is after until");
	if ((v = serve_param(rq, "level")) && *v) {
		int l = -1;
		for (int i = 0; i < 6; i++)
			if (strcasecmp(v, level_names[i]) == 0)
				l = i;
		if (l < 0)
			return serve_fail(out, 400, "level must be trace, debug, info, warn, error or fatal");
		f->level_mask = TTLOG_READER_ALL_LEVELS & ~((1u << l) - 1);
	}
	if ((v = serve_param(rq, "pid")) && *v && serve_parse_i64(v, 0, UINT32_MAX, &f->pid))
		return serve_fail(out, 400, "pid must be a process id");
	if ((v = serve_param(rq, "tid")) && *v && serve_parse_i64(v, 0, UINT32_MAX, &f->tid))
		return serve_fail(out, 400, "tid must be a thread id");
	if ((v = serve_param(rq, "thread")) && *v)
		f->thread = v;
	if ((v = serve_param(rq, "text")) && *v)
		f->text = v;
	if ((v = serve_param(rq, "field")) && *v) {
		const char *eq = strchr(v, '=');
		if (!eq || eq == v)
			return serve_fail(out, 400, "field must be KEY=VALUE");
		f->field_key = v;
		f->field_key_len = (size_t)(eq - v);
		f->field_value = eq + 1;
	}
	if ((v = serve_param(rq, "trace")) && *v &&
	    serve_parse_trace(v, &f->trace_hi, &f->trace_lo) != 0)
		return serve_fail(out, 400, "trace must be 32 hex digits");
	f->trace = v && *v;
	if ((v = serve_param(rq, "kind")) && *v) {
		if (strcmp(v, "all") == 0)
			f->spans = 1;
		else if (strcmp(v, "log") != 0)
			return serve_fail(out, 400, "kind must be log or all");
	}
	return 0;
}

void serve_filter_store_options(const struct serve_filter *f, struct ttlog_store_options *opt)
{
	ttlog_store_options_init(opt);
	opt->since_ns = f->since;
	opt->until_ns = f->until;
	opt->level_mask = f->level_mask;
	opt->flags = TTLOG_READER_LAZY;
}

static int field_matches(const struct serve_filter *f, const struct ttlog_event *ev,
			 struct render_buf *scratch)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *fl = &ev->fields[i];
		if (strlen(fl->key) != f->field_key_len ||
		    memcmp(fl->key, f->field_key, f->field_key_len) != 0)
			continue;
		render_buf_reset(scratch);
		render_field_text(scratch, fl->value);
		if (scratch->len == strlen(f->field_value) &&
		    memcmp(scratch->data ? scratch->data : "", f->field_value, scratch->len) == 0)
			return 1;
	}
	return 0;
}

int serve_filter_match(const struct serve_filter *f, const struct ttlog_event *ev,
		       const struct ttlog_store_file *from, struct render_buf *msg)
{
	if (ev->kind != TTLOG_EVENT_LOG && !f->spans)
		return 0;
	if (ev->time_ns < f->since || ev->time_ns > f->until)
		return 0;
	if (ev->kind == TTLOG_EVENT_LOG && ev->site &&
	    ((unsigned)ev->site->level > TTLOG_LEVEL_FATAL ||
	     !(f->level_mask & (1u << (unsigned)ev->site->level))))
		return 0;
	if (f->tid >= 0 && (!ev->thread || ev->thread->tid != (uint32_t)f->tid))
		return 0;
	if (f->pid >= 0 && (!from || !from->reader ||
			    ttlog_reader_info(from->reader)->pid != (uint32_t)f->pid))
		return 0;
	if (f->thread && (!ev->thread || strcmp(ev->thread->name, f->thread) != 0))
		return 0;
	if (f->trace && (!ev->span || ev->span->trace_hi != f->trace_hi ||
			 ev->span->trace_lo != f->trace_lo))
		return 0;
	if (f->field_key && !field_matches(f, ev, msg))
		return 0;
	if (f->text) {
		render_event_message(msg, ev);
		if (!msg->data || !strcasestr(msg->data, f->text))
			return 0;
	}
	return 1;
}

void serve_event_json(struct render_buf *out, const struct ttlog_event *ev,
		      const struct ttlog_store_file *from, struct render_buf *msg,
		      struct serve_event_cache *ec)
{
	const ttlog_reader *r = from ? from->reader : NULL;
	const struct ttlog_file_info *fi = r ? ttlog_reader_info(r) : NULL;
	/* The cache is keyed by the reader's pointers: one file at a time. */
	if (r != ec->reader) {
		render_event_cache_reset(&ec->cache);
		ec->reader = r;
		ec->cache.service = fi ? fi->service : NULL;
	}
	render_event_message(msg, ev);
	size_t start = out->len;
	render_event_json(out, ev, msg, &ec->cache);
	if (out->len > start && out->data[out->len - 1] == '}') {
		out->len--;
		render_buf_puts(out, ",\"pid\":");
		render_buf_put_u64(out, fi ? fi->pid : 0);
		if (ev->flags & TTLOG_EVENT_PROMOTED)
			render_buf_puts(out, ",\"promoted\":true");
		render_buf_putc(out, '}');
	}
}

void serve_event_cache_free(struct serve_event_cache *ec)
{
	render_event_cache_free(&ec->cache);
	ec->reader = NULL;
}
