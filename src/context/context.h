/* SPDX-License-Identifier: MIT */
/*
 * context.h - what contexts (context.c) and spans (span.c) share: the
 * record that closes a scope, and the set-up of spans.
 *
 * The public side is in ttlog.h (TTLOG_CONTEXT, TTLOG_SPAN and friends);
 * the scope stack they keep is src/thread/scopes.h. Everything here runs
 * on the thread that owns the ring.
 */
#ifndef TTLOG__CONTEXT_CONTEXT_H
#define TTLOG__CONTEXT_CONTEXT_H

#include <stdint.h>

#include "ttlog.h"

/* Writes the record that closes a scope: a built-in site's record, with
 * the u64 *id as its argument if id is not NULL (a span end). */
void ttlog__scopes_close_record(struct ttlog_site *site, const uint64_t *id);

/* Reads TRACEPARENT for spans that start a trace (span.c). Called by
 * ttlog_init() before it publishes the state. */
void ttlog__spans_init(void);

/* A trace id given as 32 lower-case hex digits, or the one of a W3C
 * traceparent, into *hi and *lo. 1, or 0 if s is neither (or all zeros). */
int ttlog__trace_id_parse(const char *s, uint64_t *hi, uint64_t *lo);

#endif
