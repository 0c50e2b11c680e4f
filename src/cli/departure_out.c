/* SPDX-License-Identifier: MIT */
/*
 * departure_out.c - printing what `ttlog diff` and `ttlog explain` found
 * (departure.h): a ranked table, or one JSON object.
 *
 * Text: a line per side (what it is, its events and time), then the table
 * of the top results (rank, score, kind, site, what, the A and B figures,
 * the change, the site's format), then what was left out: results beyond
 * --top and arguments not compared because their values only grow.
 *
 * JSON: {"a": SIDE, "b": SIDE, "results": [RESULT...], "more": N,
 * "not_compared": [{"file","line","function","format","position","field",
 * "reason"}]}; docs/DIFF.md has every member.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "departure.h"
#include "render/json_text.h"
#include "render/names.h"
#include "report.h"

#define NUM_BUF 40

static const char *kind_name(int kind)
{
	switch (kind) {
	case DEP_NEW: return "new";
	case DEP_GONE: return "gone";
	case DEP_RATE: return "rate";
	case DEP_ARG: return "arg";
	default: return "span";
	}
}

static const char *num(double v, char text[NUM_BUF])
{
	snprintf(text, NUM_BUF, "%.4g", v);
	return text;
}

static const char *duration(double ns, char text[NUM_BUF])
{
	if (ns < 1e3)
		snprintf(text, NUM_BUF, "%.4gns", ns);
	else if (ns < 1e6)
		snprintf(text, NUM_BUF, "%.4gus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(text, NUM_BUF, "%.4gms", ns / 1e6);
	else
		snprintf(text, NUM_BUF, "%.4gs", ns / 1e9);
	return text;
}

static void side_line(const struct dep_side *s, const char *name, struct render_buf *line)
{
	render_buf_reset(line);
	render_buf_printf(line, "%s: ", name);
	cli_report_text(line, s->label);
	render_buf_printf(line, ": %" PRIu64 " events over %.3f s", s->events, s->seconds);
	if (s->lost)
		render_buf_printf(line, "; %" PRIu64 " events lost from its files (overwritten, torn, "
					"dropped, not streamed): rates and counts are of what is left",
				  s->lost);
	render_buf_putc(line, '\n');
	render_buf_write(line, stdout);
}

/* The A or B cell of a result. */
static void figures(struct cli_table *t, const struct dep_result *r, const struct dep_stats *s)
{
	char x[NUM_BUF], y[NUM_BUF], z[NUM_BUF];
	switch (r->kind) {
	case DEP_NEW:
	case DEP_GONE:
	case DEP_RATE:
		if (!s->n)
			cli_table_cell(t, "-");
		else
			cli_table_cell(t, "%" PRIu64 " (%s/s)", s->n, num(s->rate, x));
		break;
	case DEP_ARG:
		cli_table_cell(t, "p50 %s p90 %s p99 %s n %" PRIu64, num(s->p50, x), num(s->p90, y),
			       num(s->p99, z), s->n);
		break;
	default:
		cli_table_cell(t, "p50 %s p99 %s n %" PRIu64, duration(s->p50, x), duration(s->p99, y), s->n);
		break;
	}
}

static void change(struct cli_table *t, const struct dep_result *r)
{
	char x[NUM_BUF];
	switch (r->kind) {
	case DEP_NEW: cli_table_cell(t, "new"); break;
	case DEP_GONE: cli_table_cell(t, "gone"); break;
	case DEP_RATE: cli_table_cell(t, "rate x%s", num(r->ratio, x)); break;
	default:
		if (r->ratio > 0)
			cli_table_cell(t, "%s x%s, rank %+.2f", r->figure, num(r->ratio, x), r->delta);
		else
			cli_table_cell(t, "%s sign/zero, rank %+.2f", r->figure, r->delta);
		break;
	}
}

static void print_text(const struct dep_report *r, const struct dep_side *a, const struct dep_side *b,
		       size_t top, struct render_buf *line)
{
	side_line(a, "A", line);
	side_line(b, "B", line);
	size_t n = top && top < r->nresults ? top : r->nresults;
	if (n == 0) {
		fputs("no sites, arguments or spans to compare\n", stdout);
	} else {
		struct cli_table t;
		/* Rank and score are numbers. */
		cli_table_init(&t, 9, 0x3);
		const char *heads[] = {"#", "SCORE", "KIND", "SITE", "WHAT", "A", "B", "CHANGE", "FORMAT"};
		for (size_t i = 0; i < 9; i++)
			cli_table_cell(&t, "%s", heads[i]);
		for (size_t i = 0; i < n; i++) {
			const struct dep_result *x = &r->results[i];
			cli_table_cell(&t, "%zu", i + 1);
			cli_table_cell(&t, "%.2f", x->score);
			cli_table_cell(&t, "%s", kind_name(x->kind));
			if (x->kind == DEP_SPAN) {
				cli_table_cell(&t, "span");
				cli_table_text(&t, x->span->name);
			} else {
				render_buf_reset(line);
				render_buf_printf(line, "%s:%u", render_base_name(x->site->file), x->site->line);
				render_buf_putc(line, '\0');
				cli_table_text(&t, line->data);
				if (x->kind == DEP_ARG && x->arg->field)
					cli_table_text(&t, x->arg->field);
				else if (x->kind == DEP_ARG)
					cli_table_cell(&t, "arg %u", x->arg->position);
				else
					cli_table_cell(&t, "events");
			}
			figures(&t, x, &x->a);
			figures(&t, x, &x->b);
			change(&t, x);
			cli_table_text(&t, x->kind == DEP_SPAN ? "" : x->site->format);
		}
		cli_table_print(&t, "", line);
		cli_table_free(&t);
	}
	if (n < r->nresults)
		printf("%zu more (--top 0 shows all)\n", r->nresults - n);
	if (r->nskipped) {
		render_buf_reset(line);
		render_buf_printf(line, "not compared, their values only grow (counters, ids): ");
		for (size_t i = 0; i < r->nskipped; i++) {
			const struct dep_skipped *s = &r->skipped[i];
			if (i)
				render_buf_puts(line, ", ");
			render_buf_printf(line, "%s:%u ", render_base_name(s->site->file), s->site->line);
			if (s->arg->field)
				cli_report_text(line, s->arg->field);
			else
				render_buf_printf(line, "arg %u", s->arg->position);
		}
		render_buf_putc(line, '\n');
		render_buf_write(line, stdout);
	}
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_side(struct render_buf *b, const struct dep_side *s)
{
	render_buf_puts(b, "{\"label\":");
	render_json_cstring(b, s->label);
	render_buf_printf(b, ",\"events\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"seconds\":", s->events,
			  s->lost);
	render_json_double(b, s->seconds);
	/* The range as far as there are events in it. */
	int64_t from = s->from > s->c->first_ns ? s->from : s->c->first_ns;
	int64_t to = s->to == INT64_MAX ? s->c->last_ns : s->to;
	render_buf_printf(b, ",\"from_ns\":%" PRId64 ",\"to_ns\":%" PRId64 "}", from, to);
}

static void json_site(struct render_buf *b, const struct dep_site *s)
{
	render_buf_puts(b, "\"file\":");
	render_json_cstring(b, s->file);
	render_buf_printf(b, ",\"line\":%u,\"function\":", s->line);
	render_json_cstring(b, s->function);
	render_buf_puts(b, ",\"format\":");
	render_json_cstring(b, s->format);
	render_buf_puts(b, ",\"level\":");
	render_json_cstring(b, ttlog_level_name(s->level));
}

static void json_stats(struct render_buf *b, const struct dep_result *r, const struct dep_stats *s)
{
	render_buf_printf(b, "{\"n\":%" PRIu64, s->n);
	if (r->kind == DEP_NEW || r->kind == DEP_GONE || r->kind == DEP_RATE) {
		render_buf_puts(b, ",\"rate\":");
		render_json_double(b, s->rate);
	} else if (s->n) {
		render_buf_puts(b, ",\"p50\":");
		render_json_double(b, s->p50);
		if (r->kind == DEP_ARG) {
			render_buf_puts(b, ",\"p90\":");
			render_json_double(b, s->p90);
		}
		render_buf_puts(b, ",\"p99\":");
		render_json_double(b, s->p99);
	}
	render_buf_putc(b, '}');
}

static void print_json(const struct dep_report *r, const struct dep_side *a, const struct dep_side *b,
		       size_t top, struct render_buf *line)
{
	size_t n = top && top < r->nresults ? top : r->nresults;
	render_buf_reset(line);
	render_buf_puts(line, "{\"a\":");
	json_side(line, a);
	render_buf_puts(line, ",\"b\":");
	json_side(line, b);
	render_buf_puts(line, ",\"results\":[");
	for (size_t i = 0; i < n; i++) {
		const struct dep_result *x = &r->results[i];
		render_buf_printf(line, "%s{\"rank\":%zu,\"score\":", i ? "," : "", i + 1);
		render_json_double(line, x->score);
		render_buf_printf(line, ",\"kind\":\"%s\",", kind_name(x->kind));
		if (x->kind == DEP_SPAN) {
			render_buf_puts(line, "\"span\":");
			render_json_cstring(line, x->span->name);
		} else {
			json_site(line, x->site);
		}
		if (x->kind == DEP_ARG) {
			render_buf_printf(line, ",\"position\":%u,\"field\":", x->arg->position);
			if (x->arg->field)
				render_json_cstring(line, x->arg->field);
			else
				render_buf_puts(line, "null");
		}
		render_buf_puts(line, ",\"a\":");
		json_stats(line, x, &x->a);
		render_buf_puts(line, ",\"b\":");
		json_stats(line, x, &x->b);
		if (x->figure && x->kind != DEP_NEW && x->kind != DEP_GONE) {
			render_buf_printf(line, ",\"figure\":\"%s\",\"ratio\":", x->figure);
			if (x->ratio > 0)
				render_json_double(line, x->ratio);
			else
				render_buf_puts(line, "null");
		}
		if (x->kind == DEP_ARG || x->kind == DEP_SPAN) {
			render_buf_puts(line, ",\"rank_delta\":");
			render_json_double(line, x->delta);
		}
		render_buf_putc(line, '}');
		if (line->len > 1 << 16) {
			render_buf_write(line, stdout);
			render_buf_reset(line);
		}
	}
	render_buf_printf(line, "],\"more\":%zu,\"not_compared\":[", r->nresults - n);
	for (size_t i = 0; i < r->nskipped; i++) {
		const struct dep_skipped *s = &r->skipped[i];
		render_buf_puts(line, i ? ",{" : "{");
		json_site(line, s->site);
		render_buf_printf(line, ",\"position\":%u,\"field\":", s->arg->position);
		if (s->arg->field)
			render_json_cstring(line, s->arg->field);
		else
			render_buf_puts(line, "null");
		render_buf_puts(line, ",\"reason\":\"only grows\"}");
	}
	render_buf_puts(line, "]}\n");
	render_buf_write(line, stdout);
}

void dep_print(const struct dep_report *r, const struct dep_side *a, const struct dep_side *b,
	       size_t top, int json, struct render_buf *line)
{
	if (json)
		print_json(r, a, b, top, line);
	else
		print_text(r, a, b, top, line);
}
