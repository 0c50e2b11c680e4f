/* SPDX-License-Identifier: MIT */
/*
 * scopes.c - a thread's open scopes (contexts and spans), kept next to its
 * ring, and their re-statement at the start of each segment.
 *
 * A scope costs nothing per event: the record that opens it and the one
 * that closes it are records in the thread's ring, and the reader gives
 * every event the scopes open at its place in the thread's history. That
 * leaves one problem: the ring drops its oldest segment when it needs room,
 * and with it, sooner or later, the record that opened a scope that is
 * still open. So each thread keeps, next to its ring, a copy of the opening
 * record of every open scope, and the slow path writes them again at the
 * start of each segment it enters:
 *
 *   segment k:   RESTATE(n) open#1 ... open#n   records of segment k ...
 *
 * The copies are the original records, byte for byte (site, time, values),
 * outermost first; the RESTATE record in front says how many follow. Since
 * records are only ever dropped a segment at a time, the oldest segment in
 * a snapshot always starts with the full set of scopes open at that point,
 * and a reader rebuilds the rest from the records that follow. A RESTATE
 * with n = 0 is not written: a reader that meets a segment without one
 * keeps the scopes it has (none, at the start of a history).
 *
 * Contexts and spans share the stack because a RESTATE group must give them
 * in the order they were opened; a context pop closes the innermost
 * context and a span end the innermost span, whatever lies between. The
 * records that open and close them are written by src/context/.
 *
 * Everything here runs on the owning thread: the stack needs no
 * synchronisation, and snapshots never read it (they read the ring).
 */
#include "thread/scopes.h"

#include <string.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "sites/sites.h"
#include "thread/thread.h"

/* The built-in site of the RESTATE record. */
static const uint8_t restate_types[] = {TTLOG_ARG_U32};
static _Atomic uint64_t restate_site_word;
static struct ttlog_site restate_site = {
	&restate_site_word, TTLOG_LEVEL_INFO, 1, TTLOG__KIND_RESTATE, 0, 0, restate_types, "",
	"ttlog", "scopes_restate", "ttlog", ""};

#define RESTATE_RECORD 24u

struct ttlog__scope_stack *ttlog__scopes_self(void)
{
	struct ttlog__ring *r = ttlog__ring_self();
	return r ? &r->scopes : NULL;
}

int ttlog__scopes_push(struct ttlog__scope_stack *st, uint32_t kind, const unsigned char *rec,
		       uint32_t len)
{
	uint32_t i = st->n;
	if (i >= TTLOG__SCOPE_MAX)
		return 0;
	struct ttlog__scope *e = &st->entry[i];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->off = st->used;
	if (len <= TTLOG__SCOPE_BYTES - st->used) {
		memcpy(st->buf + st->used, rec, len);
		e->len = len;
		st->used += len;
	}
	st->n = i + 1;
	if (kind == TTLOG__KIND_SPAN_BEGIN)
		st->spans++;
	else
		st->contexts++;
	return 1;
}

int ttlog__scopes_innermost(const struct ttlog__scope_stack *st, uint32_t kind)
{
	for (uint32_t i = st->n; i-- > 0;)
		if (st->entry[i].kind == kind)
			return (int)i;
	return -1;
}

void ttlog__scopes_remove(struct ttlog__scope_stack *st, uint32_t i)
{
	const struct ttlog__scope gone = st->entry[i];
	if (gone.kind == TTLOG__KIND_SPAN_BEGIN)
		st->spans--;
	else
		st->contexts--;
	/* Keep the copies back to back: a scope closed out of order (only
	 * explicit pops and ends do that) moves the later copies down. */
	memmove(st->buf + gone.off, st->buf + gone.off + gone.len, st->used - gone.off - gone.len);
	st->used -= gone.len;
	for (uint32_t k = i + 1; k < st->n; k++) {
		st->entry[k - 1] = st->entry[k];
		st->entry[k - 1].off -= gone.len;
	}
	st->n--;
}

uint64_t ttlog__scopes_restate_word(void)
{
	return ttlog__site_builtin_word(&restate_site);
}

uint64_t ttlog__scopes_restate(struct ttlog__ring *r, uint64_t h, uint32_t room)
{
	struct ttlog__scope_stack *st = &r->scopes;
	if (st->n == 0 || room < RESTATE_RECORD)
		return h;
	uint32_t n = 0, bytes = RESTATE_RECORD;
	/* Outermost first, as many as fit; a scope without a copy is skipped
	 * (the reader loses it at this segment). */
	uint32_t last = 0;
	for (uint32_t i = 0; i < st->n; i++) {
		if (st->entry[i].len == 0)
			continue;
		if (st->entry[i].len > room - bytes)
			break;
		bytes += st->entry[i].len;
		n++;
		last = i + 1;
	}
	if (n == 0)
		return h;
	uint64_t word = ttlog__site_builtin_word(&restate_site);
	if (!word)
		return h;

	unsigned char *p = ttlog__ring_at(r, h);
	uint64_t hdr = word - 1u + RESTATE_RECORD, ticks = ttlog__clock_ticks();
	uint32_t count = n, pad = 0;
	memcpy(p, &hdr, 8);
	memcpy(p + 8, &ticks, 8);
	memcpy(p + 16, &count, 4);
	memcpy(p + 20, &pad, 4);
	p += RESTATE_RECORD;
	for (uint32_t i = 0; i < last; i++) {
		const struct ttlog__scope *e = &st->entry[i];
		if (e->len == 0)
			continue;
		memcpy(p, st->buf + e->off, e->len);
		p += e->len;
	}
	/* Readers that see the new head see the copies (LMM(commit:A)). */
	return ttlog__ring_commit_n(r, h, bytes, n + 1);
}
