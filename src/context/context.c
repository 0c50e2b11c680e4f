/*
 * context.c - thread contexts (TTLOG_CONTEXT and friends, ttlog.h).
 *
 * A context costs nothing per event: its push and its pop are records in the
 * thread's ring, and the reader gives every event the contexts open at its
 * place in the thread's history. That leaves one problem: the ring drops its
 * oldest segment when it needs room, and with it, sooner or later, the push
 * of a context that is still open. So each thread keeps, next to its ring, a
 * copy of the push record of every open context, and the slow path writes
 * them again at the start of each segment it enters:
 *
 *   segment k:   RESTATE(n) push#1 ... push#n   records of segment k ...
 *
 * The copies are the original records, byte for byte (site, time, value);
 * the RESTATE record in front says how many follow. Since records are only
 * ever dropped a segment at a time, the oldest segment in a snapshot always
 * starts with the full set of contexts open at that point, and a reader
 * rebuilds the rest from the pushes and pops that follow. A RESTATE with
 * n = 0 is not written: a reader that meets a segment without one keeps the
 * contexts it has (none, at the start of a history).
 *
 * Everything here runs on the owning thread: the stack needs no
 * synchronisation, and snapshots never read it (they read the ring).
 */
#include "context/context.h"

#include <string.h>

#include "clock/clock.h"
#include "common/internal.h"

/* The built-in sites of the records this file writes. */
static const uint8_t restate_types[] = {TTLOG_ARG_U32, 0};
static struct ttlog_site pop_site = {
	0u, TTLOG_LEVEL_INFO, 0, TTLOG__KIND_CONTEXT_POP, 0, 0, restate_types + 1, "",
	"ttlog", "context_pop", "ttlog", ""};
static struct ttlog_site restate_site = {
	0u, TTLOG_LEVEL_INFO, 1, TTLOG__KIND_RESTATE, 0, 0, restate_types, "",
	"ttlog", "context_restate", "ttlog", ""};

#define POP_RECORD 16u
#define RESTATE_RECORD 24u

/* The enabled word of a built-in site, registering it on first use; 0 when
 * ttlog is off. */
static uint64_t builtin_word(struct ttlog_site *site)
{
	uint64_t word = atomic_load_explicit(&site->word, memory_order_relaxed);
	if (word == 0)
		word = ttlog__register(site);
	return word & 1u ? word : 0;
}

static struct ttlog__context_stack *my_stack(void)
{
	struct ttlog__ring *r = ttlog__ring_self();
	return r ? &r->contexts : NULL;
}

TTLOG_API uint32_t ttlog__context_pushed(const unsigned char *rec, uint32_t len)
{
	struct ttlog__context_stack *st = my_stack();
	if (!st)
		return 0; /* cannot happen: the push was recorded in this thread's ring */
	uint32_t d = st->depth;
	if (d < TTLOG_CONTEXT_MAX) {
		st->off[d] = st->used;
		st->len[d] = 0;
		if (len <= TTLOG_CONTEXT_BYTES - st->used) {
			memcpy(st->buf + st->used, rec, len);
			st->len[d] = len;
			st->used += len;
		}
	}
	st->depth = d + 1;
	return st->depth;
}

TTLOG_API void ttlog_context_pop(void)
{
	struct ttlog__context_stack *st = my_stack();
	if (!st || st->depth == 0)
		return;
	uint64_t word = builtin_word(&pop_site);
	if (word) {
		struct ttlog__writer *w = ttlog__tls_writer;
		uint64_t head;
		/* The reservation may enter a new segment and re-state the
		 * context popped here: the pop then follows its copy. */
		if (ttlog__reserve(&w, word - 1u + POP_RECORD, POP_RECORD, &head))
			ttlog__commit(w, head, POP_RECORD);
	}
	uint32_t d = --st->depth;
	if (d < TTLOG_CONTEXT_MAX)
		st->used = st->off[d];
}

TTLOG_API void ttlog__context_pop_to(uint32_t depth)
{
	struct ttlog__context_stack *st = my_stack();
	while (st && st->depth > depth)
		ttlog_context_pop();
}

TTLOG_API unsigned ttlog_context_depth(void)
{
	struct ttlog__context_stack *st = my_stack();
	return st ? st->depth : 0;
}

uint64_t ttlog__context_restate(struct ttlog__ring *r, uint64_t h, uint32_t room)
{
	struct ttlog__context_stack *st = &r->contexts;
	if (st->depth == 0 || room < RESTATE_RECORD)
		return h;
	uint32_t open = st->depth < TTLOG_CONTEXT_MAX ? st->depth : TTLOG_CONTEXT_MAX;
	uint32_t n = 0, bytes = RESTATE_RECORD;
	/* Outermost first, as many as fit; a context without a copy is
	 * skipped (the reader loses it at this segment). */
	uint32_t last = 0;
	for (uint32_t i = 0; i < open; i++) {
		if (st->len[i] == 0)
			continue;
		if (st->len[i] > room - bytes)
			break;
		bytes += st->len[i];
		n++;
		last = i + 1;
	}
	if (n == 0)
		return h;
	uint64_t word = builtin_word(&restate_site);
	if (!word)
		return h;

	unsigned char *p = (unsigned char *)(r->w.base + h);
	uint64_t hdr = word - 1u + RESTATE_RECORD, ticks = ttlog__clock_ticks();
	uint32_t count = n, pad = 0;
	memcpy(p, &hdr, 8);
	memcpy(p + 8, &ticks, 8);
	memcpy(p + 16, &count, 4);
	memcpy(p + 20, &pad, 4);
	p += RESTATE_RECORD;
	for (uint32_t i = 0; i < last; i++) {
		if (st->len[i] == 0)
			continue;
		memcpy(p, st->buf + st->off[i], st->len[i]);
		p += st->len[i];
	}
	r->w.records += n + 1;
	h += bytes;
	/* LMM(commit:A), as in ttlog__commit(): readers that see this head
	 * see the copies. */
	atomic_store_explicit(&r->w.head, h, memory_order_release);
	return h;
}
