/* SPDX-License-Identifier: MIT */
/*
 * context.c - thread contexts (TTLOG_CONTEXT and friends): the records
 * that open and close them, and the depth the macros unwind to. Spans, the
 * other kind of scope, are in span.c.
 *
 * A context costs nothing per event: its push and its pop are records in
 * the thread's ring, and the reader gives every event the contexts open at
 * its place in the thread's history. The copies that keep an open context
 * visible after its push was overwritten are the thread's scope stack,
 * re-stated at each segment start (src/thread/scopes.c).
 */
#include "context/context.h"

#include <string.h>

#include "common/internal.h"
#include "sites/sites.h"
#include "thread/scopes.h"

/* The built-in site of the record this file writes. */
static const uint8_t no_types[] = {0};
static _Atomic uint64_t pop_site_word;
static struct ttlog_site pop_site = {
	&pop_site_word, TTLOG_LEVEL_INFO, 0, TTLOG__KIND_CONTEXT_POP, 0, 0, no_types, "",
	"ttlog", "context_pop", "ttlog", ""};

TTLOG_API uint32_t ttlog__context_pushed(const unsigned char *rec, uint32_t len)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st)
		return 0; /* cannot happen: the push was recorded in this thread's ring */
	if (!ttlog__scopes_push(st, TTLOG__KIND_CONTEXT_PUSH, rec, len))
		st->over_contexts++;
	return st->contexts + st->over_contexts;
}

void ttlog__scopes_close_record(struct ttlog_site *site, const uint64_t *id)
{
	uint32_t len = id ? 24u : 16u;
	uint64_t word = ttlog__site_builtin_word(site);
	if (!word)
		return;
	struct ttlog__writer *w = ttlog__tls_writer;
	uint64_t head;
	/* The reservation may enter a new segment and re-state the scope
	 * closed here: the closing record then follows its copy. */
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (!p)
		return;
	if (id)
		memcpy(p + 16, id, 8);
	ttlog__commit(w, head, len);
}

TTLOG_API void ttlog_context_pop(void)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st || st->contexts + st->over_contexts == 0)
		return;
	ttlog__scopes_close_record(&pop_site, NULL);
	if (st->over_contexts > 0)
		st->over_contexts--; /* the innermost contexts are the ones not kept */
	else
		ttlog__scopes_remove(st, (uint32_t)ttlog__scopes_innermost(st, TTLOG__KIND_CONTEXT_PUSH));
}

TTLOG_API void ttlog__context_pop_to(uint32_t depth)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	while (st && st->contexts + st->over_contexts > depth)
		ttlog_context_pop();
}

TTLOG_API unsigned ttlog_context_depth(void)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	return st ? st->contexts + st->over_contexts : 0;
}

