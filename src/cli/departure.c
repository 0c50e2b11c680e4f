/* SPDX-License-Identifier: MIT */
/*
 * departure.c - the corpus of `ttlog diff` and `ttlog explain`: reading a
 * store's events into time-ordered series, and comparing two time ranges
 * of corpora into results ranked by one score. The score and the series
 * are described in departure.h; printing is departure_out.c's.
 *
 * Per event the cost is a lookup of its site by the site's info pointer
 * (one hash probe; the site's match key is built only the first time a
 * pointer is seen) and an append per numeric argument. A comparison sorts
 * each series' values of each side once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "departure.h"
#include "query/arg_rows.h"
#include "store_args.h"

#define EVIDENCE 20.0        /* w = n / (n + EVIDENCE) */
#define SEQUENCE_MIN 10      /* values before an argument can be a sequence */
#define SEQUENCE_UP 0.9      /* the share of steps up that makes it one */
#define MIN_SECONDS 0.001

/* ---- Hash maps: 64-bit hash -> index ------------------------------------ */

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_ptr(const void *p)
{
	uint64_t k = (uint64_t)(uintptr_t)p;
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

/* Calls match(index, ctx) for each slot with this hash until it returns 1;
 * returns that index or SIZE_MAX. */
static size_t map_find(const struct dep_map *m, uint64_t h, int (*match)(size_t, const void *),
		       const void *ctx)
{
	if (!m->cap)
		return SIZE_MAX;
	for (size_t i = h & (m->cap - 1); m->slots[i]; i = (i + 1) & (m->cap - 1))
		if (m->hashes[i] == h && match(m->slots[i] - 1, ctx))
			return m->slots[i] - 1;
	return SIZE_MAX;
}

static void map_put(struct dep_map *m, uint64_t h, size_t index);

static void map_grow(struct dep_map *m)
{
	struct dep_map bigger = {0};
	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.hashes = render_xrealloc(NULL, bigger.cap * sizeof *bigger.hashes);
	bigger.slots = render_xrealloc(NULL, bigger.cap * sizeof *bigger.slots);
	memset(bigger.slots, 0, bigger.cap * sizeof *bigger.slots);
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			map_put(&bigger, m->hashes[i], m->slots[i] - 1);
	free(m->hashes);
	free(m->slots);
	*m = bigger;
}

static void map_put(struct dep_map *m, uint64_t h, size_t index)
{
	if (2 * (m->count + 1) > m->cap)
		map_grow(m);
	size_t i = h & (m->cap - 1);
	while (m->slots[i])
		i = (i + 1) & (m->cap - 1);
	m->hashes[i] = h;
	m->slots[i] = index + 1;
	m->count++;
}

static void map_free(struct dep_map *m)
{
	free(m->hashes);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* ---- Reading ------------------------------------------------------------- */

static void series_add(struct dep_series *s, int64_t ts, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->s = render_xrealloc(s->s, s->cap * sizeof *s->s);
	}
	if (s->n > 0) {
		s->steps++;
		if (v > s->s[s->n - 1].v)
			s->up++;
	}
	s->s[s->n].ts = ts;
	s->s[s->n].v = v;
	s->n++;
}

struct site_match {
	const struct dep_corpus *c;
	const char *key;
	const void *ptr, *file;
};

static int match_site_key(size_t i, const void *ctx)
{
	const struct site_match *m = ctx;
	return strcmp(m->c->sites[i].key, m->key) == 0;
}

static int match_ptr(size_t i, const void *ctx)
{
	const struct site_match *m = ctx;
	return m->c->ptrs[i].ptr == m->ptr && m->c->ptrs[i].file == m->file;
}

/* The key of a site: what it is, without its line. Fields are separated
 * by a byte no file name or format of a sound file has in these places. */
static char *site_key(const struct ttlog_site_info *si, struct render_buf *b)
{
	render_buf_reset(b);
	render_buf_puts(b, si->file ? si->file : "");
	render_buf_putc(b, '\x1f');
	render_buf_puts(b, si->function ? si->function : "");
	render_buf_putc(b, '\x1f');
	render_buf_puts(b, si->format ? si->format : "");
	render_buf_printf(b, "\x1f%d\x1f%d", si->level, si->kind);
	render_buf_putc(b, '\0');
	return b->data;
}

/* The corpus' site of si, a site of the store's file `file`. A reader's
 * site tables go when the store is done with its file, and a later file's
 * may take their place: a pointer is only known together with its file. */
static size_t site_of(struct dep_corpus *c, const struct ttlog_site_info *si, const void *file,
		      struct render_buf *b)
{
	struct site_match m = {c, NULL, si, file};
	uint64_t ph = hash_ptr(si) ^ (hash_ptr(file) * 31);
	size_t at = map_find(&c->site_ptrs, ph, match_ptr, &m);
	if (at != SIZE_MAX)
		return c->ptrs[at].site;

	m.key = site_key(si, b);
	uint64_t h = hash_bytes(m.key, strlen(m.key));
	size_t index = map_find(&c->site_keys, h, match_site_key, &m);
	if (index == SIZE_MAX) {
		if (c->nsites == c->sites_cap) {
			c->sites_cap = c->sites_cap ? 2 * c->sites_cap : 64;
			c->sites = render_xrealloc(c->sites, c->sites_cap * sizeof *c->sites);
		}
		index = c->nsites++;
		struct dep_site *s = &c->sites[index];
		memset(s, 0, sizeof *s);
		s->key = render_xstrdup(m.key);
		s->file = render_xstrdup(si->file);
		s->function = render_xstrdup(si->function);
		s->format = render_xstrdup(si->format);
		s->line = si->line;
		s->level = si->level;
		s->kind = si->kind;
		map_put(&c->site_keys, h, index);
	}
	if (c->nptrs == c->ptrs_cap) {
		c->ptrs_cap = c->ptrs_cap ? 2 * c->ptrs_cap : 64;
		c->ptrs = render_xrealloc(c->ptrs, c->ptrs_cap * sizeof *c->ptrs);
	}
	c->ptrs[c->nptrs].ptr = si;
	c->ptrs[c->nptrs].file = file;
	c->ptrs[c->nptrs].site = index;
	map_put(&c->site_ptrs, ph, c->nptrs++);
	return index;
}

static struct dep_series *arg_series(struct dep_corpus *c, size_t site, const struct query_arg_row *a)
{
	struct dep_site *s = &c->sites[site];
	if (a->position >= s->nargs) {
		unsigned n = a->position + 1;
		s->args = render_xrealloc(s->args, n * sizeof *s->args);
		for (unsigned i = s->nargs; i < n; i++)
			s->args[i] = SIZE_MAX;
		s->nargs = n;
	}
	if (s->args[a->position] == SIZE_MAX) {
		if (c->nargs == c->args_cap) {
			c->args_cap = c->args_cap ? 2 * c->args_cap : 64;
			c->args = render_xrealloc(c->args, c->args_cap * sizeof *c->args);
		}
		struct dep_arg *g = &c->args[c->nargs];
		memset(g, 0, sizeof *g);
		g->site = site;
		g->position = a->position;
		g->field = a->field ? render_xstrdup(a->field) : NULL;
		s->args[a->position] = c->nargs++;
	}
	return &c->args[s->args[a->position]].values;
}

struct span_match {
	const struct dep_corpus *c;
	const char *name;
};

static int match_span(size_t i, const void *ctx)
{
	const struct span_match *m = ctx;
	return strcmp(m->c->spans[i].name, m->name) == 0;
}

static struct dep_series *span_series(struct dep_corpus *c, const char *name)
{
	struct span_match m = {c, name};
	uint64_t h = hash_bytes(name, strlen(name));
	size_t at = map_find(&c->span_names, h, match_span, &m);
	if (at == SIZE_MAX) {
		if (c->nspans == c->spans_cap) {
			c->spans_cap = c->spans_cap ? 2 * c->spans_cap : 16;
			c->spans = render_xrealloc(c->spans, c->spans_cap * sizeof *c->spans);
		}
		at = c->nspans++;
		memset(&c->spans[at], 0, sizeof c->spans[at]);
		c->spans[at].name = render_xstrdup(name);
		map_put(&c->span_names, h, at);
	}
	return &c->spans[at].durations;
}

int dep_corpus_read(struct dep_corpus *c, ttlog_store *store)
{
	struct ttlog_event ev;
	struct render_buf key = {0};
	const struct ttlog_store_file *from;

	while (ttlog_store_next(store, &ev, &from)) {
		if (c->events == 0)
			c->first_ns = ev.time_ns;
		c->last_ns = ev.time_ns;
		c->events++;
		if (ev.kind == TTLOG_EVENT_SPAN_END) {
			/* Its own site is shared by every span: the span's name
			 * is what tells them apart. */
			if (ev.span && ev.span->duration_ns >= 0 && ev.span->name && ev.span->name[0])
				series_add(span_series(c, ev.span->name), ev.time_ns,
					   (double)ev.span->duration_ns);
			continue;
		}
		if (!ev.site)
			continue;
		size_t site = site_of(c, ev.site, from, &key);
		series_add(&c->sites[site].events, ev.time_ns, 0);
		for (unsigned i = 0; i < ev.nargs; i++) {
			struct query_arg_row a;
			query_arg_row(&ev, i, &a);
			/* A span begin's four ids are not fields: only its
			 * named fields are values to compare. */
			if (!a.numeric || (ev.kind == TTLOG_EVENT_SPAN_BEGIN && !a.field))
				continue;
			if (a.number != a.number)
				continue; /* NaN: no place in an order */
			series_add(arg_series(c, site, &a), ev.time_ns, a.number);
		}
	}
	/* The pointers belong to the store's readers: forget them. */
	map_free(&c->site_ptrs);
	free(c->ptrs);
	c->ptrs = NULL;
	c->nptrs = c->ptrs_cap = 0;
	render_buf_free(&key);
	return 0;
}

int dep_read_source(const char *who, const char *source, struct dep_corpus *c)
{
	const char *paths[1] = {source};
	ttlog_store *store = NULL;
	ttlog_store_open(paths, 1, NULL, &store);
	if (!store) {
		cli_sync_stdout();
		fprintf(stderr, "%s: out of memory opening %s\n", who, source);
		return -1;
	}
	dep_corpus_read(c, store);
	int status = cli_store_report(store, who);
	const struct ttlog_store_file *const *files;
	size_t nfiles = ttlog_store_files(store, &files);
	for (size_t i = 0; i < nfiles; i++) {
		if (!files[i]->reader)
			continue;
		const struct ttlog_file_info *fi = ttlog_reader_info(files[i]->reader);
		c->lost += fi->overwritten + fi->torn + fi->dropped + fi->stream_lost;
	}
	ttlog_store_close(store);
	if (c->events == 0) {
		cli_sync_stdout();
		if (nfiles == 0 && status == CLI_EXIT_OK)
			fprintf(stderr, "%s: %s: no snapshot or segment files\n", who, source);
		else
			fprintf(stderr, "%s: %s: no events to compare\n", who, source);
		return -1;
	}
	return status;
}

void dep_corpus_free(struct dep_corpus *c)
{
	for (size_t i = 0; i < c->nsites; i++) {
		struct dep_site *s = &c->sites[i];
		free(s->key);
		free(s->file);
		free(s->function);
		free(s->format);
		free(s->events.s);
		free(s->args);
	}
	for (size_t i = 0; i < c->nargs; i++) {
		free(c->args[i].field);
		free(c->args[i].values.s);
	}
	for (size_t i = 0; i < c->nspans; i++) {
		free(c->spans[i].name);
		free(c->spans[i].durations.s);
	}
	free(c->sites);
	free(c->args);
	free(c->spans);
	map_free(&c->site_keys);
	map_free(&c->span_names);
	map_free(&c->site_ptrs);
	free(c->ptrs);
	memset(c, 0, sizeof *c);
}

/* ---- Comparing ----------------------------------------------------------- */

/* The first sample at or after ts. */
static size_t lower_bound(const struct dep_series *s, int64_t ts)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->s[mid].ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The samples of s in the side's range: [*begin, *end). */
static size_t in_range(const struct dep_side *side, const struct dep_series *s, size_t *begin)
{
	if (!s || !s->n) {
		*begin = 0;
		return 0;
	}
	*begin = lower_bound(s, side->from);
	size_t end = side->to == INT64_MAX ? s->n : lower_bound(s, side->to);
	return end > *begin ? end - *begin : 0;
}

void dep_side_count(struct dep_side *s)
{
	s->events = 0;
	for (size_t i = 0; i < s->c->nsites; i++) {
		size_t begin;
		s->events += in_range(s, &s->c->sites[i].events, &begin);
	}
	for (size_t i = 0; i < s->c->nspans; i++) {
		size_t begin;
		s->events += in_range(s, &s->c->spans[i].durations, &begin);
	}
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The values of s in range, sorted (malloc'd; *n of them). */
static double *sorted_values(const struct dep_side *side, const struct dep_series *s, size_t *n)
{
	size_t begin;
	*n = in_range(side, s, &begin);
	double *v = render_xrealloc(NULL, (*n ? *n : 1) * sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = s->s[begin + i].v;
	qsort(v, *n, sizeof *v, cmp_double);
	return v;
}

/* The ceil(q * n)-th smallest value (nearest rank). */
static double quantile(const double *v, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);
	return v[k ? k - 1 : 0];
}

/* P(B > A) - P(B < A) over every pair, from the two sorted samples. */
static double cliff_delta(const double *a, size_t na, const double *b, size_t nb)
{
	size_t below = 0, at_or_below = 0;
	double sum = 0;
	for (size_t j = 0; j < nb; j++) {
		while (below < na && a[below] < b[j])
			below++;
		if (at_or_below < below)
			at_or_below = below;
		while (at_or_below < na && a[at_or_below] <= b[j])
			at_or_below++;
		sum += (double)below - (double)(na - at_or_below);
	}
	return sum / ((double)na * (double)nb);
}

/* The shift from x to y in doublings (departure.h). Between values of
 * opposite signs, or from or to zero, a ratio means nothing: the shift is
 * then how far the ranks moved, |delta|, at most one doubling. */
static double shift(double x, double y, double delta)
{
	if (x == y)
		return 0;
	if ((x > 0 && y > 0) || (x < 0 && y < 0))
		return log2(fabs(y) / fabs(x));
	return y > x ? fabs(delta) : -fabs(delta);
}

static double weight(uint64_t n)
{
	return (double)n / ((double)n + EVIDENCE);
}

/* An argument or span's p50/p90/p99 shift: the largest decides. */
static void distribution(struct dep_result *r, const struct dep_side *a, const struct dep_series *sa,
			 const struct dep_side *b, const struct dep_series *sb, int with_p90)
{
	size_t na, nb;
	double *va = sorted_values(a, sa, &na), *vb = sorted_values(b, sb, &nb);
	r->a.n = na;
	r->b.n = nb;
	if (na && nb) {
		r->a.p50 = quantile(va, na, 0.5);
		r->a.p90 = quantile(va, na, 0.9);
		r->a.p99 = quantile(va, na, 0.99);
		r->b.p50 = quantile(vb, nb, 0.5);
		r->b.p90 = quantile(vb, nb, 0.9);
		r->b.p99 = quantile(vb, nb, 0.99);
		const struct {
			const char *name;
			double x, y;
		} q[3] = {{"p50", r->a.p50, r->b.p50}, {"p90", r->a.p90, r->b.p90}, {"p99", r->a.p99, r->b.p99}};
		r->delta = cliff_delta(va, na, vb, nb);
		double best = -1;
		for (int i = 0; i < 3; i++) {
			if (i == 1 && !with_p90)
				continue;
			double s = fabs(shift(q[i].x, q[i].y, r->delta));
			if (s > best) {
				best = s;
				r->figure = q[i].name;
				r->ratio = q[i].x == q[i].y ? 1 : q[i].x != 0 ? q[i].y / q[i].x : 0;
			}
		}
		r->score = weight(na < nb ? na : nb) * best;
	}
	free(va);
	free(vb);
}

static struct dep_result *add_result(struct dep_report *r, size_t *cap)
{
	if (r->nresults == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		r->results = render_xrealloc(r->results, *cap * sizeof *r->results);
	}
	struct dep_result *x = &r->results[r->nresults++];
	memset(x, 0, sizeof *x);
	return x;
}

static int is_sequence(const struct dep_series *s)
{
	return s && s->n >= SEQUENCE_MIN && (double)s->up >= SEQUENCE_UP * (double)s->steps;
}

/* The site of side o matching site s, or NULL. */
static const struct dep_site *match_site(const struct dep_corpus *o, const struct dep_site *s)
{
	if (!o->nsites)
		return NULL;
	struct site_match m = {o, s->key, NULL, NULL};
	size_t at = map_find(&o->site_keys, hash_bytes(s->key, strlen(s->key)), match_site_key, &m);
	return at == SIZE_MAX ? NULL : &o->sites[at];
}

static const struct dep_series *site_arg(const struct dep_corpus *c, const struct dep_site *s,
					 unsigned position, const struct dep_arg **arg)
{
	*arg = NULL;
	if (!s || position >= s->nargs || s->args[position] == SIZE_MAX)
		return NULL;
	*arg = &c->args[s->args[position]];
	return &(*arg)->values;
}

static int by_score(const void *x, const void *y)
{
	const struct dep_result *a = x, *b = y;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return (a->kind > b->kind) - (a->kind < b->kind);
}

/* Compares one site (present on side b as sb, on side a as sa; either may
 * be NULL, or equal when both sides are one corpus). */
static void compare_site(struct dep_report *out, size_t *cap, const struct dep_side *a,
			 const struct dep_site *sa, const struct dep_side *b, const struct dep_site *sb)
{
	size_t begin;
	uint64_t na = sa ? in_range(a, &sa->events, &begin) : 0;
	uint64_t nb = sb ? in_range(b, &sb->events, &begin) : 0;
	if (!na && !nb)
		return;
	struct dep_result *r = add_result(out, cap);
	r->site = sb && nb ? sb : sa;
	r->a.n = na;
	r->b.n = nb;
	r->a.rate = (double)na / a->seconds;
	r->b.rate = (double)nb / b->seconds;
	r->figure = "rate";
	if (!na) {
		r->kind = DEP_NEW;
		r->score = weight(nb) * fmax(0, log2(r->b.rate / (0.5 / a->seconds)));
	} else if (!nb) {
		r->kind = DEP_GONE;
		r->score = weight(na) * fmax(0, log2(r->a.rate / (0.5 / b->seconds)));
	} else {
		r->kind = DEP_RATE;
		r->ratio = r->b.rate / r->a.rate;
		r->score = weight(na < nb ? na : nb) * fabs(log2(r->ratio));
	}
	if (!na || !nb)
		return;

	/* Its numeric arguments, by position. */
	unsigned npos = sa->nargs > sb->nargs ? sa->nargs : sb->nargs;
	for (unsigned p = 0; p < npos; p++) {
		const struct dep_arg *ga, *gb;
		const struct dep_series *va = site_arg(a->c, sa, p, &ga), *vb = site_arg(b->c, sb, p, &gb);
		if (!va || !vb)
			continue;
		if (is_sequence(va) || is_sequence(vb)) {
			out->skipped = render_xrealloc(out->skipped, (out->nskipped + 1) * sizeof *out->skipped);
			out->skipped[out->nskipped].site = sb;
			out->skipped[out->nskipped].arg = gb;
			out->nskipped++;
			continue;
		}
		struct dep_result x = {0};
		x.kind = DEP_ARG;
		x.site = sb;
		x.arg = gb;
		distribution(&x, a, va, b, vb, 1);
		if (x.a.n && x.b.n)
			*add_result(out, cap) = x;
	}
}

int dep_compare(const struct dep_side *a, const struct dep_side *b, struct dep_report *out)
{
	size_t cap = 0;
	memset(out, 0, sizeof *out);

	for (size_t i = 0; i < b->c->nsites; i++) {
		const struct dep_site *sb = &b->c->sites[i];
		compare_site(out, &cap, a, a->c == b->c ? sb : match_site(a->c, sb), b, sb);
	}
	/* Sites of a that b's corpus does not have at all. */
	for (size_t i = 0; a->c != b->c && i < a->c->nsites; i++) {
		const struct dep_site *sa = &a->c->sites[i];
		if (!match_site(b->c, sa))
			compare_site(out, &cap, a, sa, b, NULL);
	}

	for (size_t i = 0; i < b->c->nspans; i++) {
		const struct dep_span *pb = &b->c->spans[i];
		const struct dep_span *pa = NULL;
		for (size_t k = 0; k < a->c->nspans && !pa; k++)
			if (strcmp(a->c->spans[k].name, pb->name) == 0)
				pa = &a->c->spans[k];
		if (!pa)
			continue;
		struct dep_result x = {0};
		x.kind = DEP_SPAN;
		x.span = pb;
		distribution(&x, a, &pa->durations, b, &pb->durations, 0);
		if (x.a.n && x.b.n)
			*add_result(out, &cap) = x;
	}
	qsort(out->results, out->nresults, sizeof *out->results, by_score);
	return 0;
}

void dep_report_free(struct dep_report *r)
{
	free(r->results);
	free(r->skipped);
	memset(r, 0, sizeof *r);
}
