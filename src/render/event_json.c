/* SPDX-License-Identifier: MIT */
/*
 * event_json.c - an event as a JSON object, the one of `ttlog view -o
 * json` and `ttlog export --format jsonl` (see event_json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "render/event_json.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/time_text.h"

unsigned render_event_first_arg(const struct ttlog_event *ev)
{
	return ev->kind == TTLOG_EVENT_SPAN_BEGIN ? 4 : ev->kind == TTLOG_EVENT_SPAN_END ? 1 : 0;
}

/* The 8 lowercase hex digits of v, first digit first: its nibbles spread
 * one to a byte (the lowest in the lowest byte), each made a digit at
 * once ('0' + n, and 'a' - '0' - 10 more where n >= 10: n + 6 carries
 * into bit 4 exactly then), stored highest byte first. A loop of 16
 * table lookups per id was a tenth of the instructions of JSON with
 * spans. */
static void hex8(char *out, uint32_t v)
{
	uint64_t x = v;
	x = (x & 0xFFFF0000u) << 16 | (x & 0xFFFFu);
	x = (x & UINT64_C(0x0000FF000000FF00)) << 8 | (x & UINT64_C(0x000000FF000000FF));
	x = (x & UINT64_C(0x00F000F000F000F0)) << 4 | (x & UINT64_C(0x000F000F000F000F));
	uint64_t ten = (x + UINT64_C(0x0606060606060606)) >> 4 & UINT64_C(0x0101010101010101);
	x += UINT64_C(0x3030303030303030) + ten * ('a' - '0' - 10);
	out[0] = (char)(x >> 56); /* one byte-swapped store, compiled */
	out[1] = (char)(x >> 48);
	out[2] = (char)(x >> 40);
	out[3] = (char)(x >> 32);
	out[4] = (char)(x >> 24);
	out[5] = (char)(x >> 16);
	out[6] = (char)(x >> 8);
	out[7] = (char)x;
}

/* Appends v as 16 lowercase hex digits: printf's %016" PRIx64 ". */
static void put_hex16(struct render_buf *b, uint64_t v)
{
	char text[16];
	hex8(text, (uint32_t)(v >> 32));
	hex8(text + 8, (uint32_t)v);
	render_buf_put(b, text, sizeof text);
}

/* Appends a member name and its hex id: ,"NAME":"0123456789abcdef". */
static void put_hex_member(struct render_buf *b, const char *name, uint64_t v)
{
	render_buf_puts(b, name);
	put_hex16(b, v);
	render_buf_putc(b, '"');
}

/* Integers beyond this magnitude are not all doubles: 2^53. */
#define EXACT_IN_DOUBLE 9007199254740992ull

#define NS_PER_SEC 1000000000

/* An i64 member value; quoted when c asks for it and it is beyond 2^53. */
static void put_big_i64(struct render_buf *b, int64_t v, const struct render_event_cache *c)
{
	uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
	int quote = c && c->big_as_string && mag > EXACT_IN_DOUBLE;
	if (quote)
		render_buf_putc(b, '"');
	render_buf_put_i64(b, v);
	if (quote)
		render_buf_putc(b, '"');
}

/* An argument's or field's value (render_field_json), its digits quoted
 * when c asks for it and it is an integer beyond 2^53. */
static void put_value(struct render_buf *b, const struct ttlog_arg *a, const struct render_event_cache *c)
{
	int big = 0;
	if (c && c->big_as_string) {
		if (a->type == TTLOG_ARG_I64)
			big = a->v.i > (int64_t)EXACT_IN_DOUBLE || a->v.i < -(int64_t)EXACT_IN_DOUBLE;
		else if (a->type == TTLOG_ARG_U64)
			big = a->v.u > EXACT_IN_DOUBLE;
	}
	if (big)
		render_buf_putc(b, '"');
	render_field_json(b, a);
	if (big)
		render_buf_putc(b, '"');
}

/* {"time":"ISO","time_ns":NS, straight into b. From the second 1 on, the
 * digits of time_ns are those of its whole seconds, kept in c while they
 * stay the same, and the nine of the fraction that the ISO text ends with
 * before its 'Z'. */
static void put_times(struct render_buf *b, int64_t ns, struct render_event_cache *c)
{
	static const char open[] = "{\"time\":\"", mid[] = "\",\"time_ns\":";
	const size_t room = sizeof open + RENDER_TIME_BUF + sizeof mid + RENDER_INT_BUF + 2;
	if (b->cap - b->len <= room)
		render_buf_reserve(b, room);
	char *o = b->data + b->len;
	memcpy(o, open, sizeof open - 1);
	o += sizeof open - 1;
	const size_t n = render_time_text(ns, RENDER_TIME_ISO, o);
	const char *fraction = n >= 10 && o[n - 1] == 'Z' ? o + n - 10 : NULL;
	o += n;
	memcpy(o, mid, sizeof mid - 1);
	o += sizeof mid - 1;
	const uint64_t mag = ns < 0 ? 0u - (uint64_t)ns : (uint64_t)ns;
	const int quote = c && c->big_as_string && mag > EXACT_IN_DOUBLE;
	if (quote)
		*o++ = '"';
	if (c && fraction && ns >= NS_PER_SEC) {
		const int64_t sec = ns / NS_PER_SEC;
		if (!c->sec_digits_len || c->sec_digits_of != sec) {
			c->sec_digits_len = render_u64_text((uint64_t)sec, c->sec_digits);
			c->sec_digits_of = sec;
		}
		memcpy(o, c->sec_digits, c->sec_digits_len);
		o += c->sec_digits_len;
		memcpy(o, fraction, 9);
		o += 9;
	} else {
		o += render_i64_text(ns, o);
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->data);
}

/* The span members of a JSON event object. */
static void json_span(struct render_buf *b, const struct ttlog_event *ev,
		      const struct render_event_cache *c)
{
	const struct ttlog_span *sp = ev->span;
	render_buf_puts(b, ",\"kind\":\"");
	render_buf_puts(b, ttlog_event_kind_name(ev->kind));
	render_buf_putc(b, '"');
	if (!sp)
		return;
	if (sp->trace_hi | sp->trace_lo) {
		render_buf_puts(b, ",\"trace_id\":\"");
		put_hex16(b, sp->trace_hi);
		put_hex16(b, sp->trace_lo);
		render_buf_putc(b, '"');
	} else {
		render_buf_puts(b, ",\"trace_id\":null");
	}
	put_hex_member(b, ",\"span_id\":\"", sp->id);
	if (ev->kind == TTLOG_EVENT_LOG)
		return;
	render_buf_puts(b, ",\"span_name\":");
	render_json_cstring(b, sp->name);
	if (sp->parent)
		put_hex_member(b, ",\"parent_span_id\":\"", sp->parent);
	else
		render_buf_puts(b, ",\"parent_span_id\":null");
	if (ev->kind != TTLOG_EVENT_SPAN_END)
		return;
	if (sp->duration_ns >= 0) {
		render_buf_puts(b, ",\"duration_ns\":");
		put_big_i64(b, sp->duration_ns, c);
	} else {
		render_buf_puts(b, ",\"duration_ns\":null");
	}
}

/* ---- An event as a JSON object ------------------------------------------
 * Every member is appended by hand, without printf: this runs once per
 * event of `ttlog view -o json` and `ttlog export --format jsonl`, and
 * vfprintf was most of its cost. The bytes are those the printf formats
 * gave (the golden tests hold them).
 *
 * Three runs of members depend only on the event's level, its shown site
 * or its thread; with a cache they are built once per level, site and
 * thread of a file and copied afterwards. The level's text is found by its
 * number, the others in a hash table by the reader's pointer. */

/* ,"level":L,"tid":                           from ev->site's level */
static void part_level(struct render_buf *b, const struct ttlog_event *ev)
{
	render_buf_puts(b, ",\"level\":");
	render_json_cstring(b, ttlog_level_name(render_event_level(ev)));
	render_buf_puts(b, ",\"tid\":");
}

static void part_thread(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_thread_info *thread = ev->thread;
	render_buf_put_u64(b, thread ? thread->tid : 0);
	render_buf_puts(b, ",\"thread\":");
	render_json_cstring(b, thread && thread->name ? thread->name : "");
}

static void part_site(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	render_buf_puts(b, ",\"file\":");
	render_json_cstring(b, site ? site->file : NULL);
	render_buf_puts(b, ",\"line\":");
	render_buf_put_u64(b, site ? site->line : 0);
	render_buf_puts(b, ",\"function\":");
	render_json_cstring(b, site ? site->function : NULL);
	render_buf_puts(b, ",\"target\":");
	render_json_cstring(b, ttlog_site_target(site));
	render_buf_puts(b, ",\"site\":");
	render_buf_put_u64(b, site ? site->id : 0);
	render_buf_puts(b, ",\"message\":");
}

/* "KEY": a field's key, from the key's text (key). */
static void part_key(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)ev;
	render_json_cstring(b, key);
	render_buf_putc(b, ':');
}

/* What ends every object: ,"promoted":true when it was, the service when
 * there is one, and the brace. */
static void put_end(struct render_buf *b, const struct ttlog_event *ev, const char *service)
{
	if (ev->flags & TTLOG_EVENT_PROMOTED)
		render_buf_puts(b, ",\"promoted\":true");
	if (service && *service) {
		render_buf_puts(b, ",\"service\":");
		render_json_cstring(b, service);
	}
	render_buf_putc(b, '}');
}

/* ,"kind":"log",...}: the end of a log event outside any span that was not
 * promoted, the same for all of a file's. Its key is the service, or
 * no_service. */
static const char no_service[] = "";
static void part_tail(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	json_span(b, ev, NULL);
	put_end(b, ev, key);
}

/* Appends the level's part, from the cache when it has it. */
static void put_level(struct render_buf *b, const struct ttlog_event *ev, struct render_event_cache *c)
{
	int level = render_event_level(ev);
	if (!c || level < 0 || level > TTLOG_LEVEL_FATAL) {
		part_level(b, ev);
		return;
	}
	if (!(c->levels_made & 1u << level)) {
		size_t off = c->text.len;
		part_level(&c->text, ev);
		c->level_off[level] = off;
		c->level_len[level] = c->text.len - off;
		c->levels_made |= 1u << level;
	}
	render_buf_put(b, c->text.data + c->level_off[level], c->level_len[level]);
}

/* Arguments whose JSON text a field can reuse: the first ARG_TEXTS. */
#define ARG_TEXTS 32u

/* The index of the argument that value is, if it is one printed in "args"
 * and among the first ARG_TEXTS; otherwise ARG_TEXTS. */
static unsigned printed_arg(const struct ttlog_event *ev, unsigned first,
			    const struct ttlog_arg *value)
{
	unsigned n = ev->nargs < ARG_TEXTS ? ev->nargs : ARG_TEXTS;
	/* Addresses as integers: value may point outside the array. */
	uintptr_t at = (uintptr_t)value, base = (uintptr_t)ev->args;
	if (!ev->args || at < base || (at - base) % sizeof *value != 0)
		return ARG_TEXTS;
	uintptr_t k = (at - base) / sizeof *value;
	return k >= first && k < n ? (unsigned)k : ARG_TEXTS;
}

/* Appends b->data[at..at+len-1] again (room first: growing moves it).
 * Most are a number's few bytes: copied inline, not by a call. */
static void put_again(struct render_buf *b, size_t at, size_t len)
{
	if (b->cap - b->len <= len)
		render_buf_reserve(b, len);
	if (len <= 32)
		render_copy_short(b->data + b->len, b->data + at, len);
	else
		memcpy(b->data + b->len, b->data + at, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void render_event_json(struct render_buf *b, const struct ttlog_event *ev,
		       const struct render_buf *msg, struct render_event_cache *c)
{
	put_times(b, ev->time_ns, c);
	put_level(b, ev, c);
	render_event_cache_put(b, c, RENDER_PART_JSON_THREAD, ev->thread, part_thread, ev);
	render_event_cache_put(b, c, RENDER_PART_JSON_SITE, ttlog_event_display_site(ev), part_site, ev);
	render_json_string(b, msg->data, msg->len);
	render_buf_puts(b, ",\"args\":[");
	/* Where each argument's text is in b: a field is mostly one of the
	 * arguments (the same struct ttlog_arg), whose text is copied. */
	size_t arg_at[ARG_TEXTS], arg_len[ARG_TEXTS];
	unsigned first = render_event_first_arg(ev);
	for (unsigned i = first; i < ev->nargs && ev->args; i++) {
		if (i > first)
			render_buf_putc(b, ',');
		size_t at = b->len;
		put_value(b, &ev->args[i], c);
		if (i < ARG_TEXTS) {
			arg_at[i] = at;
			arg_len[i] = b->len - at;
		}
	}
	render_buf_puts(b, "],\"fields\":{");
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_arg *value = ev->fields[i].value;
		unsigned k = printed_arg(ev, first, value);
		if (i)
			render_buf_putc(b, ',');
		if (ev->fields[i].source != TTLOG_FIELD_CONTEXT && ev->fields[i].source != TTLOG_FIELD_SPAN)
			render_event_cache_put(b, c,
					       i < RENDER_PART_JSON_KEY_LAST - RENDER_PART_JSON_KEY
						       ? RENDER_PART_JSON_KEY + i
						       : RENDER_PART_JSON_KEY_LAST,
					       ev->fields[i].key, part_key, ev);
		else
			part_key(b, ev, ev->fields[i].key);
		if (k < ARG_TEXTS)
			put_again(b, arg_at[k], arg_len[k]);
		else
			put_value(b, value, c);
	}
	render_buf_putc(b, '}');
	if (ev->kind == TTLOG_EVENT_LOG && !ev->span && !(ev->flags & TTLOG_EVENT_PROMOTED)) {
		/* The same for every such event of the file. */
		const char *service = c && c->service && *c->service ? c->service : no_service;
		render_event_cache_put(b, c, RENDER_PART_JSON_TAIL, service, part_tail, ev);
		return;
	}
	json_span(b, ev, c);
	put_end(b, ev, c ? c->service : NULL);
}
