/* SPDX-License-Identifier: MIT */
/*
 * export_spans.c - pairs span begins with their ends for the exports that
 * write a span as one record (Chrome's complete events, OTLP spans), and
 * the JSON key rule those exports share (see export.h).
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "render/json_text.h"

static char *copy_string(const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *copy = render_xrealloc(NULL, len + 1);
	memcpy(copy, s ? s : "", len);
	copy[len] = '\0';
	return copy;
}

static void fill_span(struct export_span *sp, const struct ttlog_event *ev)
{
	const struct ttlog_span *s = ev->span;

	memset(sp, 0, sizeof *sp);
	sp->thread = ev->thread;
	if (s) {
		sp->id = s->id;
		sp->parent = s->parent;
		sp->trace_hi = s->trace_hi;
		sp->trace_lo = s->trace_lo;
		sp->site = s->site;
		sp->begin_ns = s->duration_ns >= 0 || ev->kind == TTLOG_EVENT_SPAN_BEGIN ? s->begin_ns : 0;
	}
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		sp->begin_ns = ev->time_ns;
		if (!sp->site)
			sp->site = ev->site;
	}
	sp->name = copy_string(s ? s->name : NULL);
}

struct export_span *cli_export_span_begin(struct export_spans *s, const struct ttlog_event *ev)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->open = render_xrealloc(s->open, s->cap * sizeof *s->open);
	}
	struct export_span *sp = &s->open[s->n++];
	fill_span(sp, ev);
	return sp;
}

int cli_export_span_end(struct export_spans *s, const struct ttlog_event *ev, struct export_span *out)
{
	uint64_t id = ev->span ? ev->span->id : 0;

	/* Spans end innermost first: the one wanted is nearly always last. */
	for (size_t i = s->n; id && i-- > 0;) {
		if (s->open[i].id != id || s->open[i].thread != ev->thread)
			continue;
		*out = s->open[i];
		memmove(&s->open[i], &s->open[i + 1], (s->n - i - 1) * sizeof *s->open);
		s->n--;
		if (!*out->name && ev->span && ev->span->name) {
			free(out->name);
			out->name = copy_string(ev->span->name);
		}
		return 1;
	}
	fill_span(out, ev);
	return 0;
}

void cli_export_span_free(struct export_span *sp)
{
	free(sp->name);
	sp->name = NULL;
	render_span_fields_free(&sp->fields);
}

void cli_export_spans_clear(struct export_spans *s)
{
	for (size_t i = 0; i < s->n; i++)
		cli_export_span_free(&s->open[i]);
	free(s->open);
	memset(s, 0, sizeof *s);
}

void cli_export_json_key(struct render_buf *b, const char *key, const char *const *reserved)
{
	for (; reserved && *reserved; reserved++) {
		if (strcmp(key, *reserved) != 0)
			continue;
		struct render_buf prefixed = {0};
		render_buf_puts(&prefixed, "field.");
		render_buf_puts(&prefixed, key);
		render_json_string(b, prefixed.data, prefixed.len);
		render_buf_free(&prefixed);
		return;
	}
	render_json_cstring(b, key);
}
