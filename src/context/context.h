/*
 * context.h - a thread's open scopes (contexts and spans): the copies of
 * their opening records and their re-statement.
 *
 * The public side is in ttlog.h (TTLOG_CONTEXT, TTLOG_SPAN and friends);
 * the records are described in docs/FORMAT.md (site kinds). Everything
 * here runs on the thread that owns the ring.
 */
#ifndef TTLOG_CONTEXT_CONTEXT_H
#define TTLOG_CONTEXT_CONTEXT_H

#include <stdint.h>

#include "ring/ring.h"

/*
 * Called by the ring's slow path right after it entered a new segment at
 * logical offset h: writes a RESTATE record and a copy of each open scope's
 * opening record there, using at most room bytes, publishes them and
 * returns the offset after them (h if there is nothing to re-state).
 */
uint64_t ttlog__scopes_restate(struct ttlog__ring *r, uint64_t h, uint32_t room);

/* The calling thread's scopes, or NULL if it has no ring. */
struct ttlog__scope_stack *ttlog__scopes_self(void);

/* Keeps a scope of kind TTLOG__KIND_CONTEXT_PUSH or _SPAN_BEGIN opened by
 * the record rec (len bytes), with a copy if buf has room. Returns 0 (and
 * keeps nothing) if TTLOG_SCOPE_MAX scopes are kept already; the caller
 * counts it in over_contexts or over_spans. Span ids are the caller's to
 * fill in the new entry. */
int ttlog__scopes_push(struct ttlog__scope_stack *st, uint32_t kind, const unsigned char *rec,
		       uint32_t len);

/* The index of the innermost kept scope of a kind, or -1. */
int ttlog__scopes_innermost(const struct ttlog__scope_stack *st, uint32_t kind);

/* Forgets kept scope i, keeping the others' copies in order. */
void ttlog__scopes_remove(struct ttlog__scope_stack *st, uint32_t i);

/* Writes the record that closes a scope: a built-in site's record, with
 * the u64 *id as its argument if id is not NULL (a span end). */
void ttlog__scopes_close_record(struct ttlog_site *site, const uint64_t *id);

/* The enabled word of a built-in site, registering it on first use; 0 when
 * ttlog is off. */
uint64_t ttlog__builtin_word(struct ttlog_site *site);

/* Reads TRACEPARENT for spans that start a trace (span.c). Called by
 * ttlog_init() before it publishes the state. */
void ttlog__spans_init(void);

#endif
