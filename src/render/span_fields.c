/* SPDX-License-Identifier: MIT */
/*
 * span_fields.c - a span's attributes with unique keys (see span_fields.h):
 * a short list searched by key, since a span has a handful of fields.
 */
#include <stdlib.h>
#include <string.h>

#include "render/span_fields.h"

void render_span_fields_add(struct render_span_fields *s, const struct ttlog_event *ev, int from_end,
			    render_value_fn value)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		const char *key = ev->fields[i].key ? ev->fields[i].key : "";
		struct render_span_field *f = NULL;
		for (size_t k = 0; k < s->n && !f; k++)
			if (strcmp(s->f[k].key, key) == 0)
				f = &s->f[k];
		if (f) {
			if (f->from_end && !from_end)
				continue; /* the end's value stays */
			render_buf_reset(&f->value);
		} else {
			if (s->n == s->cap) {
				s->cap = s->cap ? 2 * s->cap : 8;
				s->f = render_xrealloc(s->f, s->cap * sizeof *s->f);
			}
			f = &s->f[s->n++];
			memset(f, 0, sizeof *f);
			size_t len = strlen(key);
			f->key = render_xrealloc(NULL, len + 1);
			memcpy(f->key, key, len + 1);
		}
		f->from_end = from_end;
		value(&f->value, ev->fields[i].value);
	}
}

void render_span_fields_free(struct render_span_fields *s)
{
	for (size_t k = 0; k < s->n; k++) {
		free(s->f[k].key);
		render_buf_free(&s->f[k].value);
	}
	free(s->f);
	memset(s, 0, sizeof *s);
}
