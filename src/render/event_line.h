/* SPDX-License-Identifier: MIT */
/*
 * event_line.h - an event as one line of text, the line of `ttlog view`:
 *
 *   TIME LEVEL [TID NAME] FILE:LINE MESSAGE key=value...
 * (LEVEL+ for a promoted event, TTLOG_EVENT_PROMOTED)
 *
 * with the TTLOG_F() fields after the message (the others are in it
 * already), and the rule that keeps any text on one line: control
 * characters other than tab are shown as \xNN.
 */
#ifndef TTLOG__RENDER_EVENT_LINE_H
#define TTLOG__RENDER_EVENT_LINE_H

#include <stddef.h>

#include "render/event_cache.h"
#include "render/text_buf.h"
#include "render/time_text.h"
#include "ttlog_reader.h"

/* SGR sequence that ends a coloured line. */
#define RENDER_COLOR_RESET "\033[0m"

/* How the lines of one output look; made by render_line_style_init(). */
struct render_line_style {
	enum render_time_style time; /* RENDER_TIME_LOCAL or RENDER_TIME_UTC */
	int color;                   /* colour each line by its level */
	int indent;                  /* indent by two spaces per span open on the thread */
	/* Each level's name (ttlog_level_name()) padded to five columns, made
	 * once rather than per line. */
	char level_text[TTLOG_LEVEL_FATAL + 1][8];
	unsigned char level_len[TTLOG_LEVEL_FATAL + 1];
};

/** Makes the style of lines with times in the given style (local or UTC),
 *  coloured by level or not, indented by spans or not. */
void render_line_style_init(struct render_line_style *style, enum render_time_style time,
			    int color, int indent);

/**
 * Appends the event's line, newline included, with msg as its message
 * (render/event_message.h). FILE:LINE are those of
 * ttlog_event_display_site(), FILE as its base name. The thread's and the
 * site's parts come from cache (NULL: none; the bytes are the same).
 */
void render_event_line(struct render_buf *b, const struct ttlog_event *ev,
		       const struct render_buf *msg, const struct render_line_style *style,
		       struct render_event_cache *cache);

/** Appends s[0..len-1] with control characters (except tab) as \xNN. */
void render_line_text(struct render_buf *b, const char *s, size_t len);

/** render_line_text() for a NUL-terminated string; NULL appends nothing. */
void render_line_cstring(struct render_buf *b, const char *s);

#endif /* TTLOG__RENDER_EVENT_LINE_H */
