/* SPDX-License-Identifier: MIT */
/*
 * event_copy.c - an event copied with what it points to (see
 * cli/event_copy.h for what is copied and the layout of the copy).
 */
#include <string.h>

#include "event_copy.h"

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

/* The argument a field's value is, when it is one of the event's own. */
static int own_arg(const struct ttlog_event *ev, const struct ttlog_arg *a)
{
	return ev->nargs && a >= ev->args && a < ev->args + ev->nargs;
}

/* A field of the event's own site, whose key is in the site's table (a
 * context's or a span's field keys are the scope tracker's). */
static int own_key(const struct ttlog_field *f)
{
	return !f->key || f->source == TTLOG_FIELD_FORMAT || f->source == TTLOG_FIELD_EXPLICIT ||
	       f->source == TTLOG_FIELD_UNUSED;
}

/* Bytes an argument's string or long double takes in the copy. */
static size_t arg_bytes(const struct ttlog_arg *a)
{
	if (a->type == TTLOG_ARG_LD80)
		return 16;
	if (a->type == TTLOG_ARG_STR && !a->str_null && a->str)
		return ALIGN8((size_t)a->str_len + 1);
	return 0;
}

size_t cli_event_copy_size(const struct ttlog_event *ev)
{
	size_t n = ALIGN8(sizeof *ev) + ALIGN8(ev->nargs * sizeof(struct ttlog_arg)) +
		   ALIGN8(ev->nfields * sizeof(struct ttlog_field));
	for (unsigned i = 0; i < ev->nargs; i++)
		n += arg_bytes(&ev->args[i]);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		n += own_key(f) ? 0 : ALIGN8(strlen(f->key) + 1);
		if (f->value && !own_arg(ev, f->value))
			n += ALIGN8(sizeof(struct ttlog_arg)) + arg_bytes(f->value);
	}
	if (ev->span)
		n += ALIGN8(sizeof(struct ttlog_span)) +
		     (ev->span->name ? ALIGN8(strlen(ev->span->name) + 1) : 0);
	return n;
}

/* Copies a's string or long double to *p (advanced) and points c at it. */
static void copy_arg_bytes(struct ttlog_arg *c, const struct ttlog_arg *a, unsigned char **p)
{
	size_t n = arg_bytes(a);
	if (!n)
		return;
	if (a->type == TTLOG_ARG_LD80) {
		memcpy(*p, a->str, 10);
	} else {
		memcpy(*p, a->str, a->str_len);
		(*p)[a->str_len] = '\0';
	}
	c->str = (const char *)*p;
	*p += n;
}

static char *copy_string(const char *s, unsigned char **p)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	char *c = memcpy(*p, s, len + 1);
	*p += ALIGN8(len + 1);
	return c;
}

struct ttlog_event *cli_event_copy(void *dst, const struct ttlog_event *ev)
{
	unsigned char *p = dst;
	struct ttlog_event *c = (struct ttlog_event *)p;
	*c = *ev;
	p += ALIGN8(sizeof *ev);
	struct ttlog_arg *args = (struct ttlog_arg *)p;
	p += ALIGN8(ev->nargs * sizeof *args);
	struct ttlog_field *fields = (struct ttlog_field *)p;
	p += ALIGN8(ev->nfields * sizeof *fields);
	c->args = ev->nargs ? args : NULL;
	c->fields = ev->nfields ? fields : NULL;
	for (unsigned i = 0; i < ev->nargs; i++) {
		args[i] = ev->args[i];
		copy_arg_bytes(&args[i], &ev->args[i], &p);
	}
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		fields[i] = *f;
		if (!f->value)
			continue;
		if (own_arg(ev, f->value)) {
			fields[i].value = &args[f->value - ev->args];
			continue;
		}
		struct ttlog_arg *v = (struct ttlog_arg *)p;
		p += ALIGN8(sizeof *v);
		*v = *f->value;
		copy_arg_bytes(v, f->value, &p);
		fields[i].value = v;
	}
	for (unsigned i = 0; i < ev->nfields; i++)
		if (!own_key(&ev->fields[i]))
			fields[i].key = copy_string(ev->fields[i].key, &p);
	if (ev->span) {
		struct ttlog_span *s = (struct ttlog_span *)p;
		p += ALIGN8(sizeof *s);
		*s = *ev->span;
		s->name = copy_string(ev->span->name, &p);
		c->span = s;
	}
	return c;
}
