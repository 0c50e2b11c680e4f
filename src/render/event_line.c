/* SPDX-License-Identifier: MIT */
/*
 * event_line.c - an event as one line of text, and text of any bytes made
 * fit for one line (see event_line.h).
 */
#include <stdint.h>
#include <string.h>

#include "render/event_line.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/names.h"
#include "render/word_scan.h"

#define MAX_INDENT 64u /* deeper spans are indented as deep as this */

/* SGR colour sequences per level, TRACE..FATAL; "" leaves the line alone. */
static const char *const level_colors[] = {
	"\033[2m",    /* TRACE: dim */
	"",           /* DEBUG */
	"",           /* INFO */
	"\033[33m",   /* WARN: yellow */
	"\033[31m",   /* ERROR: red */
	"\033[1;31m", /* FATAL: bold red */
};
_Static_assert(sizeof level_colors / sizeof level_colors[0] == TTLOG_LEVEL_FATAL + 1,
	       "one colour per level");

/* Nonzero if one of the eight bytes of w is a control character, DEL or
 * not ASCII (a tab, or UTF-8, is then let through one byte or one
 * sequence at a time). */
static uint64_t word_to_look_at(uint64_t w)
{
	return render_word_has_below(w, 0x20) | render_word_has(w, 0x7f) |
	       (w & UINT64_C(0x8080808080808080));
}

/* Appends text with control characters (except tab) and the bytes that are
 * not part of well-formed UTF-8 shown as \xNN: what reaches a terminal is
 * printable text, and every byte of the message can be told from it. */
static void put_text(struct render_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, i = render_plain_prefix_wide(s, len, 0x7f, 0x7f, word_to_look_at);
	uint64_t w;

	/* Most texts have nothing to show otherwise: one copy. */
	if (i == len) {
		render_buf_put(b, s, len);
		return;
	}
	for (; i < len; i++) {
		if (len - i >= 8) {
			memcpy(&w, s + i, sizeof w);
			if (!word_to_look_at(w)) {
				i += 7; /* eight plain bytes; the loop adds the eighth */
				continue;
			}
		}
		unsigned char c = (unsigned char)s[i];
		if ((c >= 0x20 && c < 0x7f) || c == '\t')
			continue;
		size_t n;
		if (c >= 0x80 && (n = render_utf8_length(s + i, len - i)) != 0) {
			i += n - 1; /* the loop adds the last */
			continue;
		}
		char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
		render_buf_put(b, s + run, i - run);
		render_buf_put(b, esc, sizeof esc);
		run = i + 1;
	}
	render_buf_put(b, s + run, len - run);
}

static void put_text_cstring(struct render_buf *b, const char *s)
{
	if (s)
		put_text(b, s, strlen(s));
}

void render_line_text(struct render_buf *b, const char *s, size_t len)
{
	put_text(b, s, len);
}

void render_line_cstring(struct render_buf *b, const char *s)
{
	put_text_cstring(b, s);
}

/* Appends a level's name padded to five columns: printf's "%-5s". */
static void put_level(struct render_buf *b, const char *name, size_t len)
{
	render_buf_put(b, name, len);
	if (len < 5)
		render_buf_put(b, "     ", 5 - len);
}

void render_line_style_init(struct render_line_style *style, enum render_time_style time,
			    int color, int indent)
{
	memset(style, 0, sizeof *style);
	style->time = time;
	style->color = color;
	style->indent = indent;
	for (int level = 0; level <= TTLOG_LEVEL_FATAL; level++) {
		struct render_buf text = {0};
		put_level(&text, ttlog_level_name(level), strlen(ttlog_level_name(level)));
		/* A name too long for the table is padded per line instead. */
		if (text.len < sizeof style->level_text[level]) {
			memcpy(style->level_text[level], text.data, text.len);
			style->level_len[level] = (unsigned char)text.len;
		}
		render_buf_free(&text);
	}
}

/* " [TID NAME] ": the thread's part of a line (render/event_cache.h). */
static void part_thread(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_thread_info *thread = ev->thread;
	render_buf_puts(b, " [");
	render_buf_put_u64(b, thread ? thread->tid : 0);
	if (thread && thread->name && *thread->name) {
		render_buf_putc(b, ' ');
		put_text_cstring(b, thread->name);
	}
	render_buf_puts(b, "] ");
}

/* "FILE:LINE ": the shown site's part of a line. */
static void part_site(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	put_text_cstring(b, render_base_name(site ? site->file : NULL));
	render_buf_putc(b, ':');
	render_buf_put_u64(b, site ? site->line : 0);
	render_buf_putc(b, ' ');
}

void render_event_line(struct render_buf *b, const struct ttlog_event *ev,
		       const struct render_buf *msg, const struct render_line_style *style,
		       struct render_event_cache *cache)
{
	int level = render_event_level(ev);
	const char *color = style->color && level >= 0 && level <= TTLOG_LEVEL_FATAL
				    ? level_colors[level]
				    : "";
	char tb[RENDER_TIME_BUF];

	/* By hand, not printf: this runs once per event (the bytes are those
	 * of "%s %-5s [%u" and ":%u "). */
	render_buf_puts(b, color);
	render_buf_put(b, tb, render_time_text(ev->time_ns, style->time, tb));
	render_buf_putc(b, ' ');
	if (level >= 0 && level <= TTLOG_LEVEL_FATAL && style->level_len[level])
		render_buf_put(b, style->level_text[level], style->level_len[level]);
	else
		put_level(b, ttlog_level_name(level), strlen(ttlog_level_name(level)));
	if (ev->flags & TTLOG_EVENT_PROMOTED)
		render_buf_putc(b, '+'); /* streamed because of an error near it */
	render_event_cache_put(b, cache, RENDER_PART_LINE_THREAD, ev->thread, part_thread, ev);
	render_event_cache_put(b, cache, RENDER_PART_LINE_SITE, ttlog_event_display_site(ev), part_site,
			       ev);
	if (style->indent)
		for (unsigned i = 0; i < ev->depth && i < MAX_INDENT; i++)
			render_buf_puts(b, "  ");
	put_text(b, msg->data, msg->len);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		if (f->source == TTLOG_FIELD_FORMAT)
			continue; /* already in the message */
		render_buf_putc(b, ' ');
		put_text_cstring(b, f->key);
		render_buf_putc(b, '=');
		render_field_text(b, f->value); /* quotes anything but plain words */
	}
	if (*color)
		render_buf_puts(b, RENDER_COLOR_RESET);
	render_buf_putc(b, '\n');
}
