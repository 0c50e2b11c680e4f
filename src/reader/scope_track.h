/* SPDX-License-Identifier: MIT */
/*
 * scope_track.h - what the reader rebuilds of a thread's open scopes (contexts
 * and spans) while it iterates the thread's records in order.
 *
 * The records and the writer's side are described in docs/FORMAT.md (site
 * kinds) and src/context/context.c. reader/iterate.c owns one struct
 * reader_scopes per thread and hands it every record of that thread, in
 * file order.
 */
#ifndef TTLOG__READER_SCOPE_TRACK_H
#define TTLOG__READER_SCOPE_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"
#include "ttlog_reader.h"

#define READER_MAX_CONTEXTS 128   /* deeper contexts are counted, not kept */
#define READER_MAX_SPANS 64       /* deeper spans are counted, not kept */
#define READER_MAX_SPAN_FIELDS 16 /* TTLOG_SPAN_FIELD keys shown per span (the first ones) */

/* A named value kept across records: a context, or a field of a span. */
struct reader_value {
	const char *key;         /* a site's format: lives as long as the reader */
	struct ttlog_arg value;  /* a string's str points to text */
	char *text;              /* the string value, NUL-terminated */
	size_t text_cap;
};

struct reader_span {
	struct ttlog_span info;
	struct reader_value fields[READER_MAX_SPAN_FIELDS];
	unsigned nfields;
};

struct reader_scopes {
	struct reader_value *ctx;   /* READER_MAX_CONTEXTS entries, or NULL until needed */
	uint32_t ctx_depth;         /* open contexts, also those beyond the array */
	struct reader_span *spans;  /* READER_MAX_SPANS entries, or NULL until needed */
	uint32_t span_depth;        /* open spans, also those beyond the array */
	uint32_t span_before;       /* in a RESTATE group: spans kept before it */
	uint32_t restate_left;      /* records still to come of a RESTATE group */
	struct reader_span ended;   /* the span of the latest span end */
};

/*
 * What a record does, as reader_scopes_record() says: it is an event (a log
 * call, a span's begin or end) or only changes the state later events
 * carry; or memory ran out.
 */
enum { READER_SCOPES_STATE = 0, READER_SCOPES_EVENT = 1, READER_SCOPES_NOMEM = -1 };

/*
 * Applies a record of the thread: its site (which lives as long as the
 * reader), its decoded arguments (strings NUL-terminated), its time in ns. For an event, sets
 * *span to the span it begins or ends, or for a log call the innermost open
 * span (or NULL), and *depth to the indentation depth.
 */
int reader_scopes_record(struct reader_scopes *s, const struct ttlog_site_info *site,
			 const struct ttlog_arg *args, int64_t ns, const struct ttlog_span **span,
			 unsigned *depth);

/*
 * reader_scopes_record() of a log record, inline: the iteration's every
 * event (the call was 2 % of a JSON line's instructions). A log record
 * ends a RESTATE group and returns the innermost open span.
 */
static inline const struct ttlog_span *reader_scopes_log(struct reader_scopes *s, unsigned *depth)
{
	s->restate_left = 0;
	s->span_before = 0;
	uint32_t kept = s->span_depth < READER_MAX_SPANS ? s->span_depth : READER_MAX_SPANS;
	*depth = s->span_depth;
	return kept ? &s->spans[kept - 1].info : NULL;
}

/*
 * Appends to fields[n..] what an event of the given kind carries besides
 * its own fields (fields[0..n)): for a span end, the fields recorded while
 * the span ran; then each open context whose key is not taken yet,
 * innermost first. Returns the new count. fields has room for
 * n + READER_MAX_SPAN_FIELDS + READER_MAX_CONTEXTS entries.
 */
unsigned reader_scopes_fields(const struct reader_scopes *s, int kind, struct ttlog_field *fields,
			      unsigned n);

/* Whether reader_scopes_fields() would add nothing: no context open, and
 * not a span's end. */
static inline int reader_scopes_no_fields(const struct reader_scopes *s, int kind)
{
	return s->ctx_depth == 0 && kind != TTLOG__FMT_KIND_SPAN_END;
}

/* Forgets every open scope (the iteration starts again); keeps memory. */
void reader_scopes_reset(struct reader_scopes *s);

/* Frees what s holds. */
void reader_scopes_free(struct reader_scopes *s);

#endif
