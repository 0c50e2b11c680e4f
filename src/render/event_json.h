/* SPDX-License-Identifier: MIT */
/*
 * event_json.h - an event as one JSON object: the line of `ttlog view -o
 * json` and of `ttlog export --format jsonl`.
 */
#ifndef TTLOG__RENDER_EVENT_JSON_H
#define TTLOG__RENDER_EVENT_JSON_H

#include <stddef.h>

#include "render/event_cache.h"
#include "render/text_buf.h"
#include "ttlog_reader.h"

/**
 * Appends the JSON object of an event (no newline), with msg as its
 * message (render/event_message.h), using the cache c (NULL: none; the
 * bytes are the same). Members in this order: time, time_ns, level, tid,
 * thread, file, line, function, target, site, message, args, fields, kind;
 * then inside a span trace_id and span_id, and for span events span_name,
 * parent_span_id and, for ends, duration_ns. file to site are those of
 * ttlog_event_display_site(); level is the event's own site's.
 */
void render_event_json(struct render_buf *b, const struct ttlog_event *ev,
		       const struct render_buf *msg, struct render_event_cache *c);

/**
 * The arguments of an event that are its message's: a span's ids are
 * members of the span, not arguments. Returns the index of the first.
 */
unsigned render_event_first_arg(const struct ttlog_event *ev);

#endif /* TTLOG__RENDER_EVENT_JSON_H */
