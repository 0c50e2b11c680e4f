/* SPDX-License-Identifier: MIT */
/*
 * memory.c - where the reader keeps what it finds in a file: its strings
 * and its sites' format plans (an arena freed all at once), the arrays of
 * sites, threads and blocks (grown as entries are found), and the maps
 * from ids to array indexes.
 * An allocation that fails sets r->oom, which ends the open with
 * TTLOG_E_NOMEM.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "reader/impl.h"

/* Room for n bytes at a multiple of align (a power of two, at most 8) in
 * the arena, or NULL (r->oom set). */
static void *arena_take(struct ttlog_reader *r, size_t n, size_t align)
{
	const size_t block = 65536 - sizeof(struct arena_block);
	struct arena_block *a = r->arena;
	size_t pad = a ? (size_t)(-(uintptr_t)(a->data + a->used) & (align - 1)) : 0;
	if (!a || a->size - a->used < pad || a->size - a->used - pad < n) {
		size_t size = n > block ? n : block;
		a = malloc(sizeof *a + size);
		if (!a) {
			r->oom = 1;
			return NULL;
		}
		a->next = r->arena;
		a->used = 0;
		a->size = size;
		r->arena = a;
		pad = 0; /* data is 8-aligned: malloc's alignment, and the assertion below */
	}
	void *d = a->data + a->used + pad;
	a->used += pad + n;
	return d;
}
_Static_assert(offsetof(struct arena_block, data) % 8 == 0, "arena data is 8-aligned");

char *ttlog__reader_arena_str(struct ttlog_reader *r, const unsigned char *s, size_t n)
{
	char *d = arena_take(r, n + 1, 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void *ttlog__reader_arena_alloc(struct ttlog_reader *r, size_t n)
{
	return arena_take(r, n, 8);
}

int ttlog__reader_grow(struct ttlog_reader *r, void **array, size_t *cap, size_t count,
		       size_t elem)
{
	if (count < *cap)
		return 1;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / elem) {
		r->oom = 1;
		return 0;
	}
	void *p = realloc(*array, ncap * elem);
	if (!p) {
		r->oom = 1;
		return 0;
	}
	*array = p;
	*cap = ncap;
	return 1;
}

static void idmap_put(struct idmap *m, uint32_t key, size_t index)
{
	size_t mask = m->cap - 1, i = ttlog__reader_idmap_hash(key, mask);
	while (m->slot[i])
		i = (i + 1) & mask;
	m->key[i] = key;
	m->slot[i] = index + 1;
	m->count++;
}

int ttlog__reader_idmap_add(struct ttlog_reader *r, struct idmap *m, uint32_t key, size_t index)
{
	if ((m->count + 1) * 2 > m->cap) {
		struct idmap n = {0};
		n.cap = m->cap ? m->cap * 2 : 64;
		n.key = malloc(n.cap * sizeof *n.key);
		n.slot = calloc(n.cap, sizeof *n.slot);
		if (!n.key || !n.slot) {
			free(n.key);
			free(n.slot);
			r->oom = 1;
			return 0;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i])
				idmap_put(&n, m->key[i], m->slot[i] - 1);
		free(m->key);
		free(m->slot);
		*m = n;
	}
	idmap_put(m, key, index);
	return 1;
}

void ttlog__reader_idmap_free(struct idmap *m)
{
	free(m->key);
	free(m->slot);
	memset(m, 0, sizeof *m);
}
