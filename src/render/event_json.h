/* SPDX-License-Identifier: MIT */
/*
 * event_json.h - an event as one JSON object: the line of `ttlog view -o
 * json` and of `ttlog export --format jsonl`.
 */
#ifndef TTLOG__RENDER_EVENT_JSON_H
#define TTLOG__RENDER_EVENT_JSON_H

#include <stddef.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/*
 * The JSON text of the members of an event object that depend only on its
 * level (level), its shown site (file to site) or its thread (tid,
 * thread), kept per level, site and thread so that each is built once. The
 * keys are the reader's pointers: a cache serves one file at a time, and
 * must be reset before the events of the next file (its reader may reuse
 * the last one's addresses). A zeroed struct is an empty cache.
 */
struct render_event_cache {
	struct render_event_cache_slot *slots; /* open addressing, cap a power of two */
	size_t cap, used;
	unsigned levels_made;   /* bit L: level L's text is in the arena */
	size_t level_off[TTLOG_LEVEL_FATAL + 1], level_len[TTLOG_LEVEL_FATAL + 1];
	struct render_buf text; /* the texts, one after the other */
	const char *service;    /* set by the caller: the file's service, shown as
				   "service" when not empty; NULL: not shown */
	int big_as_string;      /* set by the caller: time_ns, duration_ns and
				   integer arguments and fields beyond +-2^53 as
				   strings of their digits ("1764982800123456789"),
				   which readers that hold numbers as doubles
				   (JavaScript, jq) cannot round */
};

/** Empties the cache (before a new file), keeping its memory. */
void render_event_cache_reset(struct render_event_cache *c);
/** Frees the cache's memory; it is then an empty cache again. */
void render_event_cache_free(struct render_event_cache *c);

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
