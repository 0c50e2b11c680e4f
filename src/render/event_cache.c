/* SPDX-License-Identifier: MIT */
/*
 * event_cache.c - texts made once per thread, site and level of a file
 * (see event_cache.h): a hash table by (reader pointer, part) into one
 * arena of text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render/event_cache.h"

struct render_event_cache_slot {
	const void *key; /* the site or thread; NULL: a free slot */
	int part;
	size_t off, len; /* the text, in the cache's arena */
};

void render_event_cache_reset(struct render_event_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		c->slots[i].key = NULL;
	c->used = 0;
	c->levels_made = 0;
	c->sec_digits_len = 0;
	memset(c->last_key, 0, sizeof c->last_key);
	render_buf_reset(&c->text);
}

void render_event_cache_free(struct render_event_cache *c)
{
	free(c->slots);
	render_buf_free(&c->text);
	memset(c, 0, sizeof *c);
}

static size_t slot_index(const struct render_event_cache *c, const void *key, int part)
{
	uintptr_t h = ((uintptr_t)key >> 4) * 3 + (uintptr_t)part;
	size_t i = (size_t)(h ^ h >> 11) & (c->cap - 1);
	while (c->slots[i].key && !(c->slots[i].key == key && c->slots[i].part == part))
		i = (i + 1) & (c->cap - 1); /* never full: kept at most half full */
	return i;
}

/* Doubles the table (from 64 slots) and places the entries again. */
static void cache_grow(struct render_event_cache *c)
{
	struct render_event_cache_slot *old = c->slots;
	size_t old_cap = c->cap;

	c->cap = old_cap ? old_cap * 2 : 64;
	c->slots = render_xrealloc(NULL, c->cap * sizeof *c->slots);
	for (size_t i = 0; i < c->cap; i++)
		c->slots[i].key = NULL;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			c->slots[slot_index(c, old[i].key, old[i].part)] = old[i];
	free(old);
}

/* The part's key is not its last one (or there is no cache). */
void render_event_cache_put_new(struct render_buf *b, struct render_event_cache *c,
				enum render_part part, const void *key, render_part_fn *make,
				const struct ttlog_event *ev)
{
	if (!c || !key) {
		make(b, ev, key);
		return;
	}
	if ((c->used + 1) * 2 > c->cap)
		cache_grow(c);
	struct render_event_cache_slot *slot = &c->slots[slot_index(c, key, (int)part)];
	if (!slot->key) {
		size_t off = c->text.len;
		make(&c->text, ev, key);
		*slot = (struct render_event_cache_slot){key, (int)part, off, c->text.len - off};
		c->used++;
	}
	c->last_key[part] = key;
	c->last_off[part] = slot->off;
	c->last_len[part] = slot->len;
	render_buf_put(b, c->text.data + slot->off, slot->len);
}
