/* SPDX-License-Identifier: MIT */
/*
 * event_message.h - the message of an event as every output shows it, and
 * the level it is shown at.
 *
 * A log event's message is its format with its arguments, as printf would
 * print it; a span begin's is "begin NAME", with " trace=ID" for a span
 * without a parent on its thread (where a trace enters the thread, so that
 * `--trace` can be given it); a span end's is "end NAME DURATION".
 * Formatting is the costliest step of showing an event, so a program makes
 * the message once per event, when something first needs it
 * (struct render_message), and every later user reads that text.
 */
#ifndef TTLOG__RENDER_EVENT_MESSAGE_H
#define TTLOG__RENDER_EVENT_MESSAGE_H

#include <stdint.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/** The level of the event's site, or -1 if it has none. */
static inline int render_event_level(const struct ttlog_event *ev)
{
	return ev->site ? ev->site->level : -1;
}

/**
 * Formats the event's format with its arguments into m (replacing what it
 * held), cut with "[...]" past 16 MiB. The text may hold any bytes, NUL
 * included: m->len is its length.
 */
void render_event_format(struct render_buf *m, const struct ttlog_event *ev);

/** The event's message (see above) into m, replacing what it held; any
 *  bytes, m->len long. */
void render_event_message(struct render_buf *m, const struct ttlog_event *ev);

/** Appends a duration: 850ns, 12.345us, 1.250ms, 3.000s. */
void render_duration(struct render_buf *b, int64_t ns);

/*
 * The message of one event, made when first asked for and then kept. Call
 * render_message_start() for each event (it makes nothing), then
 * render_message_text() wherever the text is needed. A zeroed struct is
 * ready for render_message_start(); render_message_free() frees it.
 */
struct render_message {
	const struct ttlog_event *ev; /* the event; must stay valid while in use */
	int made;                     /* text holds ev's message */
	struct render_buf text;
};

/** Starts on the event ev: its message is not made yet. */
static inline void render_message_start(struct render_message *m, const struct ttlog_event *ev)
{
	m->ev = ev;
	m->made = 0;
}

/** The message of the event given to render_message_start(), made by the
 *  first call (render_event_message()). */
static inline const struct render_buf *render_message_text(struct render_message *m)
{
	if (!m->made) {
		render_event_message(&m->text, m->ev);
		m->made = 1;
	}
	return &m->text;
}

void render_message_free(struct render_message *m);

#endif /* TTLOG__RENDER_EVENT_MESSAGE_H */
