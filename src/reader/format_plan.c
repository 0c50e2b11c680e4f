/* SPDX-License-Identifier: MIT */
/*
 * format_plan.c - reading printf formats: one conversion at a time
 * (ttlog__reader_fmt_parse(), which reader/format_keys.c calls too), and a
 * whole format compiled into the steps that reader/printf.c runs
 * (reader/format_plan.h). A reader compiles each site's format once, when
 * the file is opened, into a plan kept in its arena; ttlog_format() and an
 * event without a plan compile theirs piece by piece as they format it.
 *
 * Compiling decides once what ttlog_format() used to decide for every
 * event: where the literal text runs, what each conversion is, which
 * argument each takes (the sequential ones counted, "n$" positions and the
 * TTLOG_F() fields of explicit_args resolved to an index among the event's
 * arguments), and whether it is one of the common plain conversions that
 * printf.c prints without the C library. What depends on the arguments
 * (their kinds, '*' values) is left to the run.
 *
 * The format may come from a hostile file: a plan holds at most
 * FMT_PLAN_MAX_DIRECTIVES directives; a longer format gets no plan and is
 * compiled piece by piece for every event, as any format without a plan.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/internal.h"
#include "reader/format_plan.h"
#include "reader/impl.h"
#include "reader/printf_spec.h"
#include "reader/reader_internal.h"
#include "ttlog_reader.h"

/* Reads decimal digits, saturating at INT_MAX. */
static const char *fmt_number(const char *p, int *out)
{
	long v = 0;

	while (*p >= '0' && *p <= '9') {
		if (v <= INT_MAX)
			v = v * 10 + (*p - '0');
		p++;
	}
	*out = v > INT_MAX ? INT_MAX : (int)v;
	return p;
}

/* After a '*': "n$" makes it positional, otherwise it takes the next argument. */
static const char *fmt_star(const char *p, int *from)
{
	if (*p >= '1' && *p <= '9') {
		int n;
		const char *q = fmt_number(p, &n);
		if (*q == '$') {
			*from = n;
			return q + 1;
		}
	}
	*from = FMT_FROM_NEXT;
	return p;
}

const char *ttlog__reader_fmt_parse(const char *p, struct fmt_spec *s)
{
	s->flags = 0;
	s->width = -1;
	s->prec = -1;
	s->width_from = FMT_FROM_NONE;
	s->prec_from = FMT_FROM_NONE;
	s->value_from = FMT_FROM_NEXT;
	s->len = FMT_LEN_NONE;

	if (*p >= '1' && *p <= '9') {
		int n;
		const char *q = fmt_number(p, &n);
		if (*q == '$') {
			s->value_from = n;
			p = q + 1;
		}
	}
	for (;; p++) {
		switch (*p) {
		case '-': s->flags |= FMT_F_MINUS; continue;
		case '+': s->flags |= FMT_F_PLUS; continue;
		case ' ': s->flags |= FMT_F_SPACE; continue;
		case '#': s->flags |= FMT_F_HASH; continue;
		case '0': s->flags |= FMT_F_ZERO; continue;
		case '\'': s->flags |= FMT_F_QUOTE; continue;
		case 'I': continue; /* glibc's locale digits: dropped */
		default: break;
		}
		break;
	}
	if (*p == '*')
		p = fmt_star(p + 1, &s->width_from);
	else if (*p >= '1' && *p <= '9')
		p = fmt_number(p, &s->width);
	if (*p == '.') {
		p++;
		if (*p == '*')
			p = fmt_star(p + 1, &s->prec_from);
		else
			p = fmt_number(p, &s->prec); /* "." alone is precision 0 */
	}
	switch (*p) {
	case 'h':
		p++;
		s->len = FMT_LEN_H;
		if (*p == 'h') {
			p++;
			s->len = FMT_LEN_HH;
		}
		break;
	case 'l':
		p++;
		s->len = FMT_LEN_L;
		if (*p == 'l') {
			p++;
			s->len = FMT_LEN_BIG;
		}
		break;
	case 'L':
	case 'q': p++; s->len = FMT_LEN_BIG; break;
	case 'j': p++; s->len = FMT_LEN_J; break;
	case 'z':
	case 'Z': p++; s->len = FMT_LEN_Z; break;
	case 't': p++; s->len = FMT_LEN_T; break;
	default: break;
	}
	if (*p == '\0')
		return NULL;
	s->conv = *p;
	return p + 1;
}

int ttlog__reader_fmt_known(char conv, int *takes_value)
{
	*takes_value = conv != '%' && conv != 'm';
	if (!*takes_value)
		return 1;
	switch (conv) {
	case 'd': case 'i': case 'o': case 'u': case 'x': case 'X': case 'b': case 'B':
	case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
	case 'c': case 'C': case 's': case 'S': case 'p': case 'n':
		return 1;
	default:
		return 0;
	}
}

/*
 * The argument a conversion takes from "from" (FMT_FROM_NEXT or a
 * position), as an index among the event's arguments. Argument k of the
 * format is the k-th argument that is not in skip, among the first 32 when
 * there is a skip mask (the 32 bits of explicit_args); FMT_NO_ARG if there
 * is none such. Whether the event has that many arguments is for the run.
 */
static uint32_t walk_arg(struct fmt_walk *w, int from)
{
	uint32_t k;
	if (from > 0) {
		k = (uint32_t)from - 1;
	} else {
		k = w->next;
		if (w->next < FMT_NO_ARG)
			w->next++;
	}
	if (!w->skip || k == FMT_NO_ARG)
		return k;
	for (uint32_t i = 0; i < 32; i++)
		if (!(w->skip & (UINT32_C(1) << i)) && k-- == 0)
			return i;
	return FMT_NO_ARG;
}

/* Which code prints a known conversion that takes a value (the plain
 * integer's condition is fmt_spec_plain_int(), reader/printf_spec.h; the
 * others' are beside their code in printf.c). */
static uint32_t step_kind(const struct fmt_spec *s)
{
	if (s->flags || s->width >= 0 || s->width_from != FMT_FROM_NONE ||
	    s->prec_from != FMT_FROM_NONE)
		return FMT_STEP_CONVERT;
	if (fmt_spec_plain_int(s))
		return FMT_STEP_INT;
	switch (s->conv) {
	case 'f':
	case 'F':
		return s->prec <= 9 && s->len != FMT_LEN_BIG ? FMT_STEP_FIXED : FMT_STEP_CONVERT;
	case 's':
		return s->prec < 0 && s->len == FMT_LEN_NONE ? FMT_STEP_STR : FMT_STEP_CONVERT;
	default:
		return FMT_STEP_CONVERT;
	}
}

/* Appends literal bytes, joined to the text step before when they follow
 * it in the format. */
static void add_text(struct fmt_step *steps, unsigned *n, const char *text, size_t len)
{
	if (!len)
		return;
	struct fmt_step *last = *n ? &steps[*n - 1] : NULL;
	if (last && last->kind == FMT_STEP_TEXT && last->lit.text + last->lit.len == text) {
		last->lit.len += len;
		return;
	}
	struct fmt_step *st = &steps[(*n)++];
	memset(st, 0, sizeof *st);
	st->kind = FMT_STEP_TEXT;
	st->value_arg = st->width_arg = st->prec_arg = FMT_NO_ARG;
	st->lit.text = text;
	st->lit.len = len;
}

unsigned ttlog__fmt_compile(struct fmt_walk *w, struct fmt_step *steps)
{
	const char *p = w->p;
	unsigned n = 0, directives = 0;

	while (*p) {
		const char *pct = strchr(p, '%');
		if (!pct) {
			size_t len = strlen(p);
			add_text(steps, &n, p, len);
			p += len;
			break;
		}
		if (directives == FMT_PLAN_MAX_DIRECTIVES)
			break; /* the next piece starts with the text before pct */
		directives++;
		add_text(steps, &n, p, (size_t)(pct - p));

		struct fmt_spec s;
		const char *end = ttlog__reader_fmt_parse(pct + 1, &s);
		if (!end) {
			size_t len = strlen(pct); /* cut by the end of the format: copied */
			add_text(steps, &n, pct, len);
			p = pct + len;
			break;
		}
		p = end;
		int takes_value;
		if (!ttlog__reader_fmt_known(s.conv, &takes_value)) {
			add_text(steps, &n, pct, (size_t)(end - pct)); /* copied, as glibc does */
			continue;
		}
		if (s.conv == '%') {
			add_text(steps, &n, pct, 1); /* glibc ignores flags and width here */
			continue;
		}
		/* The arguments in the order printf takes them: width, precision, value. */
		struct fmt_step *st = &steps[n++];
		memset(st, 0, sizeof *st);
		st->width_arg = s.width_from != FMT_FROM_NONE ? walk_arg(w, s.width_from) : FMT_NO_ARG;
		st->prec_arg = s.prec_from != FMT_FROM_NONE ? walk_arg(w, s.prec_from) : FMT_NO_ARG;
		st->value_arg = takes_value ? walk_arg(w, s.value_from) : FMT_NO_ARG;
		st->kind = takes_value ? step_kind(&s) : FMT_STEP_CONVERT;
		st->spec = s;
	}
	w->p = p;
	return n;
}

/* The whole of site's format in steps, or 0 when it has too many
 * directives for a plan. */
static int compile_site(const struct ttlog_site_info *site, struct fmt_step *steps, unsigned *n)
{
	struct fmt_walk w = {site->format ? site->format : "", 0, site->explicit_args};
	*n = ttlog__fmt_compile(&w, steps);
	return *w.p == '\0';
}

static size_t plan_bytes(unsigned n)
{
	return offsetof(struct ttlog__format_plan, steps) + n * sizeof(struct fmt_step);
}

static void plan_fill(struct ttlog__format_plan *plan, const struct ttlog_site_info *site,
		      const struct fmt_step *steps, unsigned n)
{
	plan->site = site;
	plan->format = site->format;
	plan->nsteps = n;
	if (n)
		memcpy(plan->steps, steps, n * sizeof *steps);
}

const struct ttlog__format_plan *ttlog__reader_format_plan(struct ttlog_reader *r,
							    const struct ttlog_site_info *site)
{
	struct fmt_step steps[FMT_PLAN_MAX_STEPS];
	unsigned n;
	if (!compile_site(site, steps, &n))
		return NULL;
	struct ttlog__format_plan *plan = ttlog__reader_arena_alloc(r, plan_bytes(n));
	if (!plan)
		return NULL; /* r->oom is set */
	plan_fill(plan, site, steps, n);
	return plan;
}

size_t ttlog__format_plan_make(const struct ttlog_site_info *site, void *mem, size_t size)
{
	struct fmt_step steps[FMT_PLAN_MAX_STEPS];
	unsigned n;
	if (!site || !compile_site(site, steps, &n))
		return 0;
	size_t bytes = plan_bytes(n);
	if (mem && bytes <= size)
		plan_fill(mem, site, steps, n);
	return bytes;
}
