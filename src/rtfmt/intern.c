/* SPDX-License-Identifier: MIT */
/*
 * intern.c - the table of call sites made at run time (see intern.h).
 *
 * Layout, all in .bss (pages are touched only as the table fills):
 *   entries[]  up to TTLOG_RUNTIME_FORMATS_MAX sites, handed out in order
 *              by one fetch_add on next_entry; an entry is the site, its
 *              key (hash, length) and its argument types
 *   text[]     1 MiB of copied texts, handed out by fetch_add on text_used
 *   slots[]    open addressing with linear probing, twice as many slots as
 *              entries (so a probe ends at an empty slot soon): 0 for
 *              empty, else the entry's index + 1
 *
 * Lookup: hash the text, probe from hash & mask until an empty slot; each
 * occupied slot's entry is compared by hash, length, kind, level, value
 * type and bytes. Insert: take an entry and room for the text, fill both,
 * then claim an empty slot with a compare-and-swap. The CAS publishes the
 * entry: LMM(rt:A) (its release) pairs with LMM(rt:B) (the acquire load of
 * a lookup), so a thread that sees the slot sees the entry whole. A thread
 * whose CAS meets a slot just claimed for an equal key uses that entry
 * instead; its own entry stays unused (it registered no site, so it costs
 * a table place only, and only under that race). Entries never leave the
 * table: nothing is freed, which also makes a fork harmless (the child
 * inherits the table as it was; no lock can be held).
 */
#include "rtfmt/intern.h"

#include <stdatomic.h>
#include <string.h>

#include "common/internal.h"

#define TEXT_BYTES (1u << 20)
#define NSLOTS (2u * TTLOG_RUNTIME_FORMATS_MAX)
_Static_assert((NSLOTS & (NSLOTS - 1)) == 0, "the slot count is a power of two");

struct entry {
	struct ttlog_site site;
	_Atomic uint64_t word;       /* the site's word (site.word points to it) */
	uint64_t hash;
	uint32_t len;
	uint8_t vtype;
	uint8_t types[16];
};

static struct entry entries[TTLOG_RUNTIME_FORMATS_MAX];
static _Atomic uint32_t next_entry;
static char text[TEXT_BYTES];
static _Atomic uint32_t text_used;
static _Atomic uint32_t slots[NSLOTS];
_Atomic uint64_t ttlog__rt_overflowed;

/* Argument source texts of a runtime site: none (an empty text each). */
static const char no_arg_text[18];

/* Mixes one 8-byte word into h. */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * UINT64_C(0xff51afd7ed558ccd);
	return h ^ (h >> 29);
}

/*
 * The length comes from the header's inline scan (aligned 16-byte blocks,
 * the same argument as strlen's for reading past the end); the bytes are
 * read as 8-byte words, the last word overlapping the one before it, so
 * that no read leaves the text and no call is made for short formats.
 */
void ttlog__rt_key_hash(struct ttlog__rt_key *key)
{
	const char *p = key->text;
	size_t len = ttlog__str_scan(p, TTLOG__RT_TEXT_MAX);
	if (len > TTLOG__RT_TEXT_MAX)
		len = strlen(p);
	uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)len << 24) ^
		     ((uint64_t)key->kind << 16) ^ ((uint64_t)key->level << 8) ^ key->vtype;
	uint64_t v;
	if (len >= 8) {
		size_t i = 0;
		for (; i + 8 < len; i += 8) {
			memcpy(&v, p + i, 8);
			h = mix(h, v);
		}
		memcpy(&v, p + len - 8, 8);
		h = mix(h, v);
	} else if (len >= 4) {
		uint32_t a, b;
		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		h = mix(h, (uint64_t)a << 32 | b);
	} else if (len > 0) {
		v = (uint64_t)(unsigned char)p[0] << 16 | (uint64_t)(unsigned char)p[len / 2] << 8 |
		    (unsigned char)p[len - 1];
		h = mix(h, v);
	}
	h ^= h >> 32;
	key->len = len;
	key->hash = h;
}

static int same(const struct entry *e, const struct ttlog__rt_key *key)
{
	return e->hash == key->hash && e->len == key->len && e->site.kind == key->kind &&
	       e->site.level == key->level && e->vtype == key->vtype &&
	       memcmp(e->site.format, key->text, key->len) == 0;
}

struct ttlog_site *ttlog__rt_find(const struct ttlog__rt_key *key)
{
	for (uint32_t i = (uint32_t)key->hash;; i++) {
		/* LMM(rt:B) pairs with LMM(rt:A): an entry seen is whole. */
		uint32_t s = atomic_load_explicit(&slots[i & (NSLOTS - 1)], memory_order_acquire);
		if (s == 0)
			return NULL;
		struct entry *e = &entries[s - 1];
		if (same(e, key))
			return &e->site;
	}
}

struct ttlog_site *ttlog__rt_intern(const struct ttlog__rt_key *key, const uint8_t *types,
				    unsigned nargs)
{
	struct ttlog_site *found = ttlog__rt_find(key);
	if (found)
		return found;
	if (key->len > TTLOG__RT_TEXT_MAX || nargs > 16)
		return NULL;
	/* Relaxed: the counters only hand out places; the slot's CAS publishes. */
	if (atomic_load_explicit(&next_entry, memory_order_relaxed) >= TTLOG_RUNTIME_FORMATS_MAX ||
	    atomic_load_explicit(&text_used, memory_order_relaxed) >= TEXT_BYTES)
		return NULL; /* full: the checks keep the counters from wrapping */
	uint32_t at = atomic_fetch_add_explicit(&text_used, (uint32_t)key->len + 1,
						memory_order_relaxed);
	if (at > TEXT_BYTES - key->len - 1)
		return NULL; /* the text area is full (text_used stays past its end) */
	uint32_t idx = atomic_fetch_add_explicit(&next_entry, 1, memory_order_relaxed);
	if (idx >= TTLOG_RUNTIME_FORMATS_MAX) {
		atomic_store_explicit(&next_entry, TTLOG_RUNTIME_FORMATS_MAX, memory_order_relaxed);
		return NULL;
	}
	memcpy(text + at, key->text, key->len);
	text[at + key->len] = '\0';
	struct entry *e = &entries[idx];
	e->hash = key->hash;
	e->len = (uint32_t)key->len;
	e->vtype = key->vtype;
	if (nargs)
		memcpy(e->types, types, nargs);
	e->site.word = &e->word;
	e->site.level = key->level;
	e->site.nargs = (uint8_t)nargs;
	e->site.kind = key->kind;
	e->site.line = 0;
	e->site.arg_types = e->types;
	e->site.format = text + at;
	e->site.file = "<runtime>";
	e->site.function = key->kind == TTLOG__KIND_LOG ? "ttlog_log" : "";
	e->site.target = "runtime";
	e->site.arg_text = no_arg_text;
	for (uint32_t i = (uint32_t)key->hash;; i++) {
		uint32_t expected = 0;
		_Atomic uint32_t *slot = &slots[i & (NSLOTS - 1)];
		/* LMM(rt:A) pairs with LMM(rt:B): the entry before its slot. */
		if (atomic_compare_exchange_strong_explicit(slot, &expected, idx + 1,
							    memory_order_release,
							    memory_order_acquire))
			return &e->site;
		if (same(&entries[expected - 1], key))
			return &entries[expected - 1].site; /* made meanwhile by another thread */
	}
}

uint32_t ttlog__rt_count(void)
{
	uint32_t n = atomic_load_explicit(&next_entry, memory_order_relaxed);
	return n > TTLOG_RUNTIME_FORMATS_MAX ? TTLOG_RUNTIME_FORMATS_MAX : n;
}
