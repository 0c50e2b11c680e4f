/* SPDX-License-Identifier: MIT */
/*
 * scope_track.c - rebuilds, for one thread, the contexts and spans open at each
 * of its records, so that every event carries them.
 *
 * The writer records scopes as records in the thread's ring
 * (src/context/context.c): a context push or a span begin opens one, a pop
 * closes the innermost context, a span end closes the span whose id it
 * carries. Because the ring forgets its oldest records, each segment starts
 * with RESTATE(n) and copies of the n opening records of the scopes open at
 * that point, outermost first: after such a group, the state is exactly
 * what the group says. A span that the group re-states and that was already
 * open here keeps what was learnt about it (its fields).
 *
 * Nothing in a file is trusted: counts only grow up to the arrays' sizes,
 * and an end or a pop with nothing open is ignored.
 */
#include "reader/scope_track.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "format/format.h"

/* Stores a copy of a decoded value; 0 if memory ran out. */
static int keep_value(struct reader_value *v, const char *key, const struct ttlog_arg *a)
{
	v->key = key;
	v->value = *a;
	if (a->type == TTLOG_ARG_STR && a->str) {
		if (v->text_cap < a->str_len + 1) {
			char *p = realloc(v->text, a->str_len + 1);
			if (!p)
				return 0;
			v->text = p;
			v->text_cap = a->str_len + 1;
		}
		memcpy(v->text, a->str, a->str_len + 1);
		v->value.str = v->text;
	}
	return 1;
}

static int context_push(struct reader_scopes *s, const char *key, const struct ttlog_arg *a)
{
	uint32_t i = s->ctx_depth++;
	if (i >= READER_MAX_CONTEXTS)
		return 1;
	if (!s->ctx) {
		s->ctx = calloc(READER_MAX_CONTEXTS, sizeof *s->ctx);
		if (!s->ctx)
			goto nomem;
	}
	if (!keep_value(&s->ctx[i], key, a))
		goto nomem;
	return 1;
nomem:
	s->ctx_depth--;
	return 0;
}

static void swap_spans(struct reader_span *a, struct reader_span *b)
{
	struct reader_span t = *a;
	*a = *b;
	*b = t;
}

/*
 * A span begins (restated: a copy in a RESTATE group). Sets *out to it, or
 * to NULL when it is too deep to keep. Returns 0 if memory ran out.
 */
static int span_begin(struct reader_scopes *s, const struct ttlog_site_info *site,
		      const struct ttlog_arg *args, int64_t ns, int restated,
		      const struct ttlog_span **out)
{
	*out = NULL;
	uint32_t j = s->span_depth++;
	if (j >= READER_MAX_SPANS)
		return 1;
	if (!s->spans) {
		s->spans = calloc(READER_MAX_SPANS, sizeof *s->spans);
		if (!s->spans) {
			s->span_depth--;
			return 0;
		}
	}
	uint64_t id = args[0].v.u;
	struct reader_span *sp = &s->spans[j];
	/* Re-stated in the order they were opened: a span kept before the
	 * group is at j or later, never before. */
	uint32_t k = j;
	if (restated)
		while (k < s->span_before && s->spans[k].info.id != id)
			k++;
	if (restated && k < s->span_before) {
		swap_spans(sp, &s->spans[k]);
	} else {
		sp->nfields = 0;
		sp->info.id = id;
		sp->info.parent = args[1].v.u;
		sp->info.trace_hi = args[2].v.u;
		sp->info.trace_lo = args[3].v.u;
		sp->info.name = site->format;
		sp->info.site = site;
		sp->info.begin_ns = ns;
		sp->info.duration_ns = -1;
	}
	sp->info.depth = j;
	*out = &sp->info;
	return 1;
}

/* The span with this id among the kept ones, innermost first; -1 if none. */
static int find_span(const struct reader_scopes *s, uint64_t id)
{
	uint32_t kept = TTLOG__MIN(s->span_depth, (uint32_t)READER_MAX_SPANS);
	for (uint32_t k = kept; k-- > 0;)
		if (s->spans[k].info.id == id)
			return (int)k;
	return -1;
}

/* A span ends: moves it to s->ended, with its duration. */
static void span_end(struct reader_scopes *s, uint64_t id, int64_t ns)
{
	struct reader_span *e = &s->ended;
	int k = s->span_depth > READER_MAX_SPANS ? -1 : find_span(s, id);
	if (s->span_depth > READER_MAX_SPANS)
		s->span_depth--; /* the innermost span was too deep to keep */
	if (k < 0) {
		/* Its begin is not in the file (or was too deep): what is
		 * known is the id. */
		e->nfields = 0;
		memset(&e->info, 0, sizeof e->info);
		e->info.id = id;
		e->info.name = "";
		e->info.depth = s->span_depth;
		e->info.duration_ns = -1;
		return;
	}
	swap_spans(e, &s->spans[k]);
	/* Spans inside it were never ended (their ends are lost): closed too. */
	s->span_depth = (uint32_t)k;
	e->info.duration_ns = e->info.begin_ns && ns >= e->info.begin_ns ? ns - e->info.begin_ns : -1;
}

static int span_field(struct reader_scopes *s, const char *key, const struct ttlog_arg *args)
{
	int k = find_span(s, args[0].v.u);
	if (k < 0)
		return 1; /* a span that began before the file's history */
	struct reader_span *sp = &s->spans[k];
	unsigned i;
	for (i = 0; i < sp->nfields && strcmp(sp->fields[i].key, key) != 0; i++)
		;
	if (i == READER_MAX_SPAN_FIELDS)
		return 1;
	if (!keep_value(&sp->fields[i], key, &args[1]))
		return 0;
	if (i == sp->nfields)
		sp->nfields++;
	return 1;
}

int reader_scopes_record(struct reader_scopes *s, const struct ttlog_site_info *site,
			 const struct ttlog_arg *args, int64_t ns, const struct ttlog_span **span,
			 unsigned *depth)
{
	int kind = site->kind;
	if (kind == TTLOG__FMT_KIND_LOG) {
		*span = reader_scopes_log(s, depth);
		return READER_SCOPES_EVENT;
	}
	const char *format = site->format;
	unsigned nargs = site->nargs;
	/* A RESTATE group is the n records right after it, all openings. */
	int restated = s->restate_left > 0 &&
		       (kind == TTLOG__FMT_KIND_CONTEXT_PUSH || kind == TTLOG__FMT_KIND_SPAN_BEGIN);
	s->restate_left = restated ? s->restate_left - 1 : 0;
	if (!restated)
		s->span_before = 0;
	int ok = 1;
	switch (kind) {
	case TTLOG__FMT_KIND_RESTATE:
		s->ctx_depth = 0;
		s->span_before = TTLOG__MIN(s->span_depth, (uint32_t)READER_MAX_SPANS);
		s->span_depth = 0;
		s->restate_left = nargs >= 1 ? (uint32_t)args[0].v.u : 0;
		return READER_SCOPES_STATE;
	case TTLOG__FMT_KIND_CONTEXT_PUSH:
		ok = nargs >= 1 && context_push(s, format, &args[0]);
		break;
	case TTLOG__FMT_KIND_CONTEXT_POP:
		if (s->ctx_depth > 0)
			s->ctx_depth--;
		break;
	case TTLOG__FMT_KIND_SPAN_BEGIN:
		if (nargs < 4)
			break; /* the reader checked the site's arguments: cannot happen */
		ok = span_begin(s, site, args, ns, restated, span);
		if (!ok || restated)
			break;
		*depth = s->span_depth - 1; /* *span is NULL if too deep to keep */
		return READER_SCOPES_EVENT;
	case TTLOG__FMT_KIND_SPAN_END:
		if (nargs < 1)
			break;
		span_end(s, args[0].v.u, ns);
		*span = &s->ended.info;
		*depth = s->ended.info.depth;
		return READER_SCOPES_EVENT;
	case TTLOG__FMT_KIND_SPAN_FIELD:
		ok = nargs >= 2 && span_field(s, format, args);
		break;
	default:
		break; /* kinds this reader does not know change nothing */
	}
	return ok ? READER_SCOPES_STATE : READER_SCOPES_NOMEM;
}

/* Appends a field unless its key is taken already. */
static unsigned add_unless_taken(struct ttlog_field *fields, unsigned n,
				 const struct reader_value *v, int source)
{
	for (unsigned j = 0; j < n; j++)
		if (strcmp(fields[j].key, v->key) == 0)
			return n; /* the event's own field, or an inner scope's, wins */
	fields[n].key = v->key;
	fields[n].value = &v->value;
	fields[n].source = source;
	return n + 1;
}

unsigned reader_scopes_fields(const struct reader_scopes *s, int kind, struct ttlog_field *fields,
			      unsigned n)
{
	if (kind == TTLOG__FMT_KIND_SPAN_END)
		for (unsigned i = 0; i < s->ended.nfields; i++)
			n = add_unless_taken(fields, n, &s->ended.fields[i], TTLOG_FIELD_SPAN);
	uint32_t open = TTLOG__MIN(s->ctx_depth, (uint32_t)READER_MAX_CONTEXTS);
	for (uint32_t k = open; k-- > 0;)
		n = add_unless_taken(fields, n, &s->ctx[k], TTLOG_FIELD_CONTEXT);
	return n;
}

void reader_scopes_reset(struct reader_scopes *s)
{
	s->ctx_depth = 0;
	s->span_depth = 0;
	s->span_before = 0;
	s->restate_left = 0;
	s->ended.nfields = 0;
}

static void free_values(struct reader_value *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].text);
}

void reader_scopes_free(struct reader_scopes *s)
{
	if (s->ctx)
		free_values(s->ctx, READER_MAX_CONTEXTS);
	if (s->spans)
		for (size_t i = 0; i < READER_MAX_SPANS; i++)
			free_values(s->spans[i].fields, READER_MAX_SPAN_FIELDS);
	free_values(s->ended.fields, READER_MAX_SPAN_FIELDS);
	free(s->ctx);
	free(s->spans);
	memset(s, 0, sizeof *s);
}
