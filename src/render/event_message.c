/* SPDX-License-Identifier: MIT */
/*
 * event_message.c - the message of an event: its format with its
 * arguments, or the text of a span's begin or end (see event_message.h).
 */
#include <inttypes.h>
#include <string.h>

#include "render/event_message.h"

/* The message buffer grows to at least this size; a message that does not
 * fit even then is cut and marked (see render_event_format). */
#define MAX_MESSAGE (16u << 20)
#define CUT_MARK "[...]"

void render_duration(struct render_buf *b, int64_t ns)
{
	if (ns < 1000)
		render_buf_printf(b, "%" PRId64 "ns", ns);
	else if (ns < 1000000)
		render_buf_printf(b, "%.3fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		render_buf_printf(b, "%.3fms", (double)ns / 1e6);
	else
		render_buf_printf(b, "%.3fs", (double)ns / 1e9);
}

/*
 * The message of a span event, from the span's name (in m, formatted like
 * any message): "begin NAME [trace=ID]" or "end NAME DURATION". The trace
 * is shown where a trace enters the thread, so that --trace can be given it.
 */
static void span_message(struct render_buf *m, const struct ttlog_event *ev)
{
	const struct ttlog_span *sp = ev->span;
	static const char begin[] = "begin ";
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		render_buf_reserve(m, sizeof begin);
		memmove(m->data + sizeof begin - 1, m->data, m->len + 1);
		memcpy(m->data, begin, sizeof begin - 1);
		m->len += sizeof begin - 1;
		if (sp && sp->depth == 0)
			render_buf_printf(m, " trace=%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
		return;
	}
	render_buf_reset(m);
	if (!sp || !*sp->name) {
		render_buf_printf(m, "end span %016" PRIx64 " (its begin is not in the file)",
				  sp ? sp->id : 0);
		return;
	}
	render_buf_puts(m, "end ");
	render_buf_puts(m, sp->name);
	render_buf_putc(m, ' ');
	if (sp->duration_ns >= 0)
		render_duration(m, sp->duration_ns);
	else
		render_buf_puts(m, "?");
}

/* render_event_format(), inline: render_event_message() runs once per event
 * shown, and a call more was a measurable part of the cost of a line. */
static inline void format(struct render_buf *m, const struct ttlog_event *ev)
{
	render_buf_reset(m);
	render_buf_reserve(m, 255);
	size_t n = ttlog_event_format(ev, m->data, m->cap);
	if (n >= m->cap) {
		size_t want = n < MAX_MESSAGE ? n : MAX_MESSAGE;
		render_buf_reserve(m, want);
		n = ttlog_event_format(ev, m->data, m->cap);
	}
	if (n >= m->cap) {
		/* Longer than MAX_MESSAGE: keep what fits, and say so. */
		m->len = m->cap - 1 - strlen(CUT_MARK);
		memcpy(m->data + m->len, CUT_MARK, strlen(CUT_MARK) + 1);
		n = m->len + strlen(CUT_MARK);
	}
	m->len = n;
	m->data[n] = '\0';
}

void render_event_format(struct render_buf *m, const struct ttlog_event *ev)
{
	format(m, ev);
}

void render_event_message(struct render_buf *m, const struct ttlog_event *ev)
{
	if (ev->kind == TTLOG_EVENT_LOG) {
		format(m, ev);
		return;
	}
	/* A span end's own format is ttlog's: its message is made of the span. */
	if (ev->kind != TTLOG_EVENT_SPAN_END)
		format(m, ev);
	span_message(m, ev);
}

void render_message_free(struct render_message *m)
{
	render_buf_free(&m->text);
	m->ev = NULL;
	m->made = 0;
}
