/* SPDX-License-Identifier: MIT */
/*
 * event_cache.h - the texts of an event that depend only on its thread, its
 * shown site or its level, made once per file and copied into each line
 * that needs them: the members of a JSON object (render/event_json.h) and
 * the "[TID NAME] FILE:LINE " of a text line (render/event_line.h).
 *
 * The keys are the reader's pointers: a cache serves one file at a time
 * (or one store, whose files stay open together), and must be reset before
 * the events of the next file (its reader may reuse the last one's
 * addresses). A zeroed struct is an empty cache. A cache belongs to one
 * thread.
 */
#ifndef TTLOG__RENDER_EVENT_CACHE_H
#define TTLOG__RENDER_EVENT_CACHE_H

#include <stddef.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/* The parts kept, each made by its own function from the event and its
 * key. */
enum render_part {
	RENDER_PART_JSON_THREAD, /* TID,"thread":NAME           from ev->thread */
	RENDER_PART_JSON_SITE,   /* ,"file":..."message":       from the shown site */
	RENDER_PART_JSON_KEY,    /* "KEY":                      from a site field's key; */
	/* the first fields' keys have a part each (KEY + i), so that their
	 * last keys stay in last_key[] while one site's events follow each
	 * other; later fields share the last */
	RENDER_PART_JSON_KEY_LAST = RENDER_PART_JSON_KEY + 3,
	RENDER_PART_JSON_TAIL,   /* ,"kind":"log",...}          from the service (or the
				    no_service string of event_json.c) */
	RENDER_PART_LINE_THREAD, /* " [TID NAME] "              from ev->thread */
	RENDER_PART_LINE_SITE,   /* "FILE:LINE "                from the shown site */
	/* The same for the line formats of `ttlog export` (cli/export_lines.c): */
	RENDER_PART_LOGFMT_THREAD, /* " tid=TID thread=NAME"    from ev->thread */
	RENDER_PART_LOGFMT_SITE,   /* " file=... target=..."    from the shown site */
	RENDER_PART_LOGFMT_KEY,    /* " KEY="                   from a site field's key, */
	RENDER_PART_LOGFMT_KEY_LAST = RENDER_PART_LOGFMT_KEY + 3, /* as the JSON keys */
	RENDER_PART_CSV_THREAD,    /* "TID,NAME,"               from ev->thread */
	RENDER_PART_CSV_SITE,      /* "FILE,LINE,...,TARGET"    from the shown site */
	RENDER_PARTS
};

/* Appends the part of ev whose key is key to b. */
typedef void render_part_fn(struct render_buf *b, const struct ttlog_event *ev, const void *key);

struct render_event_cache {
	struct render_event_cache_slot *slots; /* open addressing, cap a power of two */
	size_t cap, used;
	unsigned levels_made;   /* bit L: level L's JSON text is in the arena */
	size_t level_off[TTLOG_LEVEL_FATAL + 1], level_len[TTLOG_LEVEL_FATAL + 1];
	struct render_buf text; /* the texts, one after the other */
	/* Each part's last key and where its text is: events come in runs
	 * of one thread and site, and then need no hash. */
	const void *last_key[RENDER_PARTS];
	size_t last_off[RENDER_PARTS], last_len[RENDER_PARTS];
	const char *service;    /* set by the caller: the file's service, shown as
				   "service" when not empty; NULL: not shown. Its
				   text is kept by its address: reset the cache
				   before the string it points to changes */
	/* The decimal digits of the last whole second of a JSON time_ns: a
	 * time of a second from 1 on is those digits and its nine of the
	 * fraction. sec_digits_len 0: none yet. */
	int64_t sec_digits_of;
	size_t sec_digits_len;
	char sec_digits[24];
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
 * Appends part `part` of ev, whose key (its thread or shown site, a site
 * field's key, the service) is key:
 * made by make() into the cache the first time, copied from it after.
 * Without a cache or a key, made into b every time (the same bytes).
 */
void render_event_cache_put_new(struct render_buf *b, struct render_event_cache *c,
				enum render_part part, const void *key, render_part_fn *make,
				const struct ttlog_event *ev);
static inline void render_event_cache_put(struct render_buf *b, struct render_event_cache *c,
					  enum render_part part, const void *key,
					  render_part_fn *make, const struct ttlog_event *ev)
{
	if (c && key && c->last_key[part] == key)
		render_buf_put(b, c->text.data + c->last_off[part], c->last_len[part]);
	else
		render_event_cache_put_new(b, c, part, key, make, ev);
}

#endif /* TTLOG__RENDER_EVENT_CACHE_H */
