/* SPDX-License-Identifier: MIT */
/*
 * trace_filter.c - the records of one trace, with the scopes that enclose
 * them (see trace_filter.h for what is kept and why).
 *
 * State per thread: `stack`, the scopes open at this point of the ring in
 * the order they were opened (contexts and spans in one list; a context pop
 * takes the last context, a span end the span with its id and every span
 * opened after it, as the reader does, FORMAT.md 8.1). Each scope holds a
 * copy of the record that opened it and two flags:
 *   - keep: a context, or a span of the trace; only these are ever written;
 *   - written: the reader of the output has it open.
 * The invariant: unless `stale`, the reader's open scopes are exactly the
 * written ones, in the same order. Before a kept record goes out,
 * flush() writes the kept scopes that are not written yet; if one of them
 * is a re-stated copy (which a reader takes as a scope only inside a
 * RESTATE group), or if `stale`, it writes a RESTATE group of every kept
 * scope instead, which replaces the reader's scopes wholesale.
 *
 * A RESTATE group of the ring re-states the scopes open at the start of a
 * ring segment, as copies with the original ticks. Its members replace
 * `stack`; a member that copies a scope already written (same site and
 * ticks, and for a span the same id) stays written. If a written scope is
 * not among the members, the reader's scopes no longer match: `stale`.
 */
#include "snapshot/trace_filter.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "format/format.h"
#include "sites/desc.h"
#include "snapshot/emit.h"
#include "ttlog.h"

struct ttlog__trace_scope {
	unsigned char *rec;
	uint32_t size, id;
	uint64_t ticks;
	uint64_t span;        /* a span's id; 0: a context */
	int keep, written, restated;
};

#define ARG0 TTLOG__FMT_RECORD_HEADER_SIZE

void ttlog__trace_filter_init(struct ttlog__trace_filter *f, struct ttlog__trace_want *want)
{
	memset(f, 0, sizeof *f);
	f->want = want;
	want->left_events = want->left_records = want->kept_events = 0;
}

static void clear(struct ttlog__trace_scope *s, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(s[i].rec);
	*n = 0;
}

void ttlog__trace_filter_thread(struct ttlog__trace_filter *f)
{
	clear(f->stack, &f->n);
	clear(f->old, &f->nold);
	f->restate_size = 0;
	f->group_left = 0;
	f->in_group = 0;
	f->stale = 0;
}

void ttlog__trace_filter_free(struct ttlog__trace_filter *f)
{
	clear(f->stack, &f->n);
	clear(f->old, &f->nold);
	free(f->stack);
	free(f->old);
	free(f->restate);
	memset(f, 0, sizeof *f);
}

/* Pushes a scope opened by rec. NULL when out of memory. */
static struct ttlog__trace_scope *push(struct ttlog__trace_filter *f, const unsigned char *rec,
				       uint32_t size, uint32_t id, uint64_t ticks)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct ttlog__trace_scope *s = realloc(f->stack, cap * sizeof *s);
		if (!s) {
			f->oom = 1;
			return NULL;
		}
		f->stack = s;
		f->cap = cap;
	}
	unsigned char *copy = malloc(size);
	if (!copy) {
		f->oom = 1;
		return NULL;
	}
	memcpy(copy, rec, size);
	struct ttlog__trace_scope *s = &f->stack[f->n++];
	memset(s, 0, sizeof *s);
	s->rec = copy;
	s->size = size;
	s->id = id;
	s->ticks = ticks;
	return s;
}

/* Removes scope i. */
static void drop(struct ttlog__trace_filter *f, size_t i)
{
	free(f->stack[i].rec);
	memmove(&f->stack[i], &f->stack[i + 1], (f->n - i - 1) * sizeof *f->stack);
	f->n--;
}

static void put(struct ttlog__emit *em, const unsigned char *rec, uint32_t size, uint32_t id,
		uint64_t ticks)
{
	ttlog__emit_record(em, rec, size, id, ticks);
}

/* A record of the ring written (once), against those seen: the records
 * left out are the difference. */
static void passed(struct ttlog__trace_filter *f)
{
	f->passed++;
	f->want->left_records = f->seen - f->passed;
}

/* Makes the reader's open scopes the kept ones of `stack` (see the top). */
static void flush(struct ttlog__trace_filter *f, struct ttlog__emit *em)
{
	int regroup = f->stale;
	uint32_t kept = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct ttlog__trace_scope *s = &f->stack[i];
		if (!s->keep)
			continue;
		kept++;
		if (!s->written && s->restated)
			regroup = 1;
	}
	if (regroup && f->restate_size >= ARG0 + 4) {
		ttlog__put_u32(f->restate + ARG0, kept);
		put(em, f->restate, f->restate_size, ttlog__get_u32(f->restate + 4),
		    ttlog__get_u64(f->restate + 8));
		for (size_t i = 0; i < f->n; i++) {
			struct ttlog__trace_scope *s = &f->stack[i];
			if (!s->keep)
				continue;
			put(em, s->rec, s->size, s->id, s->ticks);
			if (!s->written)
				passed(f);
			s->written = 1;
		}
		f->stale = 0;
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct ttlog__trace_scope *s = &f->stack[i];
		if (s->keep && !s->written) {
			put(em, s->rec, s->size, s->id, s->ticks);
			passed(f);
			s->written = 1;
		}
	}
}

/* The end of a RESTATE group of the ring: which written scopes live on. */
static void group_done(struct ttlog__trace_filter *f)
{
	f->in_group = 0;
	for (size_t i = 0; i < f->nold; i++) {
		const struct ttlog__trace_scope *o = &f->old[i];
		if (!o->written)
			continue;
		int found = 0;
		for (size_t j = 0; j < f->n && !found; j++) {
			struct ttlog__trace_scope *s = &f->stack[j];
			if (s->id == o->id && s->ticks == o->ticks && s->span == o->span) {
				s->written = 1;
				found = 1;
			}
		}
		if (!found)
			f->stale = 1;
	}
	/* The order of the written scopes must be the reader's too. */
	size_t k = 0;
	for (size_t j = 0; j < f->n && !f->stale; j++) {
		if (!f->stack[j].written)
			continue;
		while (k < f->nold && !f->old[k].written)
			k++;
		if (k == f->nold || f->old[k].id != f->stack[j].id ||
		    f->old[k].ticks != f->stack[j].ticks)
			f->stale = 1;
		k++;
	}
	clear(f->old, &f->nold);
}

static int of_trace(const struct ttlog__trace_filter *f, const unsigned char *rec)
{
	return ttlog__get_u64(rec + ARG0 + 16) == f->want->trace_hi &&
	       ttlog__get_u64(rec + ARG0 + 24) == f->want->trace_lo;
}

/* The innermost open span, or NULL. */
static struct ttlog__trace_scope *innermost_span(struct ttlog__trace_filter *f)
{
	for (size_t i = f->n; i-- > 0;)
		if (f->stack[i].span)
			return &f->stack[i];
	return NULL;
}

static void left(struct ttlog__trace_filter *f, int event)
{
	f->want->left_events += event != 0;
}

void ttlog__trace_filter_record(struct ttlog__trace_filter *f, struct ttlog__emit *em,
				const unsigned char *rec, uint32_t size, uint32_t id, uint64_t ticks)
{
	f->seen++;
	f->want->left_records = f->seen - f->passed;
	const struct ttlog__site_desc *d = em->site(em->site_ctx, id);
	if (!d || f->oom) {
		/* Passed on: the emitter counts an unknown site as lost. Out of
		 * memory, the writer gives up on the file (ttlog__snapshot_write_source). */
		if (!f->oom) {
			put(em, rec, size, id, ticks);
			passed(f);
		}
		return;
	}
	int kind = d->kind;
	int opening = kind == TTLOG__FMT_KIND_CONTEXT_PUSH || kind == TTLOG__FMT_KIND_SPAN_BEGIN;
	if (f->in_group && (!opening || f->group_left == 0))
		group_done(f);
	int restated = 0;
	if (f->in_group) {
		f->group_left--;
		restated = 1;
	}
	uint64_t arg0 = size >= ARG0 + 8 ? ttlog__get_u64(rec + ARG0) : 0;
	switch (kind) {
	case TTLOG__FMT_KIND_LOG: {
		const struct ttlog__trace_scope *s = innermost_span(f);
		if (s && s->keep) {
			flush(f, em);
			put(em, rec, size, id, ticks);
			passed(f);
			f->want->kept_events++;
		} else {
			left(f, 1);
		}
		return;
	}
	case TTLOG__FMT_KIND_CONTEXT_PUSH: {
		struct ttlog__trace_scope *s = push(f, rec, size, id, ticks);
		if (s) {
			s->keep = 1;
			s->restated = restated;
		}
		return;
	}
	case TTLOG__FMT_KIND_CONTEXT_POP:
		for (size_t i = f->n; i-- > 0;) {
			if (f->stack[i].span)
				continue;
			int written = f->stack[i].written;
			drop(f, i);
			if (written && !f->stale) {
				put(em, rec, size, id, ticks);
				passed(f);
				return;
			}
			break;
		}
		left(f, 0);
		return;
	case TTLOG__FMT_KIND_SPAN_BEGIN: {
		if (d->nargs < 4 || size < ARG0 + 32 || arg0 == 0) {
			left(f, !restated);
			return;
		}
		struct ttlog__trace_scope *s = push(f, rec, size, id, ticks);
		if (!s)
			return;
		s->span = arg0;
		s->keep = of_trace(f, rec);
		s->restated = restated;
		if (restated || !s->keep) {
			if (!s->keep)
				left(f, !restated);
			return;
		}
		s->written = 1; /* after flush, which would write it itself otherwise */
		s->keep = 0;
		flush(f, em);
		s = &f->stack[f->n - 1];
		s->keep = 1;
		put(em, rec, size, id, ticks);
		passed(f);
		f->want->kept_events++;
		return;
	}
	case TTLOG__FMT_KIND_SPAN_END:
		for (size_t i = f->n; i-- > 0;) {
			if (f->stack[i].span != arg0 || !arg0)
				continue;
			int keep = f->stack[i].keep;
			if (keep)
				flush(f, em);
			/* The span and every span opened inside it and never closed. */
			for (size_t j = f->n; j-- > i;)
				if (f->stack[j].span)
					drop(f, j);
			if (keep) {
				put(em, rec, size, id, ticks);
				passed(f);
				f->want->kept_events++;
				return;
			}
			break;
		}
		left(f, 1);
		return;
	case TTLOG__FMT_KIND_SPAN_FIELD:
		for (size_t i = f->n; i-- > 0;) {
			if (f->stack[i].span != arg0 || !arg0)
				continue;
			if (f->stack[i].keep) {
				flush(f, em);
				put(em, rec, size, id, ticks);
				passed(f);
				return;
			}
			break;
		}
		left(f, 0);
		return;
	case TTLOG__FMT_KIND_RESTATE:
		if (size > f->restate_cap) {
			unsigned char *p = realloc(f->restate, size);
			if (!p) {
				f->oom = 1;
				return;
			}
			f->restate = p;
			f->restate_cap = size;
		}
		memcpy(f->restate, rec, size);
		f->restate_size = size;
		/* The scopes so far become the old ones, to be matched. */
		{
			struct ttlog__trace_scope *t = f->old;
			size_t tc = f->oldcap;
			clear(f->old, &f->nold);
			f->old = f->stack;
			f->oldcap = f->cap;
			f->nold = f->n;
			f->stack = t;
			f->cap = tc;
			f->n = 0;
		}
		f->group_left = size >= ARG0 + 4 ? ttlog__get_u32(rec + ARG0) : 0;
		f->in_group = 1;
		if (f->group_left == 0)
			group_done(f);
		left(f, 0);
		return;
	default:
		left(f, 0);
		return;
	}
}
