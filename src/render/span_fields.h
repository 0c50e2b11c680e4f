/* SPDX-License-Identifier: MIT */
/*
 * span_fields.h - the attributes of a span as every output that writes a
 * span as one record gives them (the Chrome and OTLP exports, the SQL
 * spans table): the fields of its begin, then those of its end
 * (TTLOG_SPAN_FIELD), each key once.
 *
 * The rule: keys keep the order in which they first appear; a key that the
 * begin and the end both have takes the end's value (the last the span
 * learnt; a context open around the span is on both with the same value).
 * A reader gives each event's keys once already.
 *
 * Values are kept rendered, by the output's own function (a typed JSON
 * value, an OTLP AnyValue...), because the begin event does not outlive
 * the reader's next event.
 */
#ifndef TTLOG__RENDER_SPAN_FIELDS_H
#define TTLOG__RENDER_SPAN_FIELDS_H

#include <stddef.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

struct render_span_field {
	char *key;
	struct render_buf value;
	int from_end;                /* set by the span's end */
};

/* A zeroed struct is empty. */
struct render_span_fields {
	struct render_span_field *f;
	size_t n, cap;
};

typedef void (*render_value_fn)(struct render_buf *b, const struct ttlog_arg *value);

/** Adds the fields of ev, the span's begin (from_end 0) or its end (1),
 *  by the rule above; value renders a value. */
void render_span_fields_add(struct render_span_fields *s, const struct ttlog_event *ev, int from_end,
			    render_value_fn value);

/** Frees the fields; s is empty after. */
void render_span_fields_free(struct render_span_fields *s);

#endif /* TTLOG__RENDER_SPAN_FIELDS_H */
