/* SPDX-License-Identifier: MIT */
/*
 * scopes.h - a thread's open scopes (contexts and spans): the copies of
 * their opening records, kept with the thread's ring, and their
 * re-statement at each segment start (scopes.c).
 *
 * The records themselves are written by src/context/ (contexts, spans);
 * they are described in docs/FORMAT.md (site kinds). Everything here but
 * ttlog__scopes_restate_word runs on the thread that owns the ring.
 */
#ifndef TTLOG__THREAD_SCOPES_H
#define TTLOG__THREAD_SCOPES_H

#include <stdint.h>

#include "ring/ring.h"

/*
 * Called by the slow path right after it entered a new segment at logical
 * offset h: writes a RESTATE record and a copy of each open scope's
 * opening record there, using at most room bytes, publishes them and
 * returns the offset after them (h if there is nothing to re-state).
 */
uint64_t ttlog__scopes_restate(struct ttlog__ring *r, uint64_t h, uint32_t room);

/* The word of the RESTATE records' built-in site (its id in the high 32
 * bits), registered on first use; 0 if ttlog is off. For the stream, which
 * re-states the open scopes at the start of each segment file. */
uint64_t ttlog__scopes_restate_word(void);

/* The calling thread's scopes, or NULL if it has no ring. */
struct ttlog__scope_stack *ttlog__scopes_self(void);

/* Keeps a scope of kind TTLOG__KIND_CONTEXT_PUSH or _SPAN_BEGIN opened by
 * the record rec (len bytes), with a copy if buf has room. Returns 0 (and
 * keeps nothing) if TTLOG__SCOPE_MAX scopes are kept already; the caller
 * counts it in over_contexts or over_spans. Span ids are the caller's to
 * fill in the new entry. */
int ttlog__scopes_push(struct ttlog__scope_stack *st, uint32_t kind, const unsigned char *rec,
		       uint32_t len);

/* The index of the innermost kept scope of a kind, or -1. */
int ttlog__scopes_innermost(const struct ttlog__scope_stack *st, uint32_t kind);

/* Forgets kept scope i, keeping the others' copies in order. */
void ttlog__scopes_remove(struct ttlog__scope_stack *st, uint32_t i);

#endif
