/* SPDX-License-Identifier: MIT */
/*
 * trigger_rules.c - parsing TTLOG_TRIGGER's rules (see trigger_rules.h).
 *
 * The grammar (README's "Triggers" shows it with examples):
 *
 *   spec      = rule *( ";" rule )            empty rules are skipped; a ';'
 *                                             inside quotes is part of its rule
 *   rule      = condition *( SP option )
 *   condition = "level" OP LEVEL               OP: > >= (LEVEL: trace .. fatal)
 *             | "span" SP NAME OP DURATION     a span of that name lasted longer
 *             | ("metric" | "histogram") SP NAME SP "p" Q CMP VALUE
 *             | "gauge" SP NAME CMP VALUE
 *             | "counter" SP NAME CMP VALUE    its total
 *             | "counter" SP NAME SP "rate" CMP NUMBER "/" ("s" | "m" | "h")
 *   CMP       = ">" | ">=" | "<" | "<="
 *   option    = "post=" DURATION               the post-roll (default 1s)
 *             | "over=" DURATION | "over" SP DURATION  the window (default 10s)
 *             | "max=" N "/" DURATION | "once" | "every:" N   the rate policy
 *             | "action=" ACTION *( "," ACTION )  snapshot stderr metric exec:CMD
 *             | "name=" TEXT                   the label of the metric action
 *             | "target=" TARGET | "site=" FILE ":" LINE   level rules only
 *
 * A token may hold single- or double-quoted parts, so that exec:'CMD ARGS'
 * keeps its spaces. A VALUE may end in the unit its metric's name ends in
 * (`http.latency_ms p99>250ms`); any other unit is refused. Without a
 * policy a rule fires at most once in 10 s (max=1/10s); without actions it
 * writes a snapshot.
 */
#define _GNU_SOURCE
#include "core/trigger_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "ttlog.h"

#define MAX_TOKENS 24
#define TOKEN_BYTES 1024

struct token {
	char *s;                 /* unquoted, '\0'-ended */
	size_t col;              /* 1-based column of its first byte in the rule */
};

struct parse {
	const char *text;        /* the rule, trimmed */
	struct token tok[MAX_TOKENS];
	int ntok;
	char buf[TOKEN_BYTES];
	char msg[512];
};

static int fault(struct parse *p, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fault(struct parse *p, size_t col, const char *fmt, ...)
{
	int k = snprintf(p->msg, sizeof p->msg, "column %zu: ", col);
	va_list ap;
	va_start(ap, fmt);
	if (k > 0 && (size_t)k < sizeof p->msg)
		vsnprintf(p->msg + k, sizeof p->msg - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static int split(struct parse *p)
{
	const char *s = p->text;
	size_t used = 0, i = 0;
	p->ntok = 0;
	while (s[i]) {
		while (s[i] == ' ' || s[i] == '\t')
			i++;
		if (!s[i])
			break;
		if (p->ntok == MAX_TOKENS)
			return fault(p, i + 1, "more than %d words", MAX_TOKENS);
		struct token *t = &p->tok[p->ntok++];
		t->s = p->buf + used;
		t->col = i + 1;
		char quote = 0;
		size_t qcol = 0;
		while (s[i] && (quote || (s[i] != ' ' && s[i] != '\t'))) {
			if (!quote && (s[i] == '\'' || s[i] == '"')) {
				quote = s[i];
				qcol = i + 1;
			} else if (quote && s[i] == quote) {
				quote = 0;
			} else {
				if (used + 2 >= sizeof p->buf)
					return fault(p, i + 1, "the rule is too long");
				p->buf[used++] = s[i];
			}
			i++;
		}
		if (quote)
			return fault(p, qcol, "the quote %c is not closed", quote);
		p->buf[used++] = '\0';
	}
	if (!p->ntok)
		return fault(p, 1, "empty rule");
	return 0;
}

/* CMP at s: its length, or 0. */
static int parse_cmp(const char *s, int *cmp)
{
	if (s[0] == '>' && s[1] == '=') { *cmp = TTLOG__CMP_GE; return 2; }
	if (s[0] == '<' && s[1] == '=') { *cmp = TTLOG__CMP_LE; return 2; }
	if (s[0] == '>') { *cmp = TTLOG__CMP_GT; return 1; }
	if (s[0] == '<') { *cmp = TTLOG__CMP_LT; return 1; }
	return 0;
}

static int copy_name(struct parse *p, const struct token *t, const char *s, size_t len, char *out,
		     size_t cap, const char *what)
{
	if (len == 0)
		return fault(p, t->col + (size_t)(s - t->s), "expected %s", what);
	if (len >= cap)
		return fault(p, t->col + (size_t)(s - t->s), "%s longer than %zu bytes", what, cap - 1);
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* A VALUE for metric name at s: a finite number, and a unit only if the
 * name ends in "_" and that unit. */
static int parse_value(struct parse *p, const struct token *t, const char *s, const char *name,
		       double *out)
{
	size_t col = t->col + (size_t)(s - t->s);
	char *end;
	double v = strtod(s, &end);
	if (end == s || !isfinite(v))
		return fault(p, col, "expected a number, found '%s'", s);
	if (*end) {
		size_t nl = strlen(name), ul = strlen(end);
		if (nl <= ul + 1 || name[nl - ul - 1] != '_' || strcmp(name + nl - ul, end) != 0)
			return fault(p, col + (size_t)(end - s),
				     "unit '%s' is not the unit of metric '%s' (give the number in "
				     "the metric's own unit)", end, name);
	}
	*out = v;
	return 0;
}

static int parse_uint(const char *s, const char *stop, uint32_t *out)
{
	if (s == stop)
		return -1;
	uint64_t v = 0;
	for (; s < stop; s++) {
		if (*s < '0' || *s > '9' || v > 100000000u)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = (uint32_t)v;
	return 0;
}

static const char *const LEVELS = "trace, debug, info, warn, error or fatal";

/* The condition: tokens 0.. ; returns the index of the first option. */
static int condition(struct parse *p, struct ttlog__trigger_rule *r)
{
	struct token *t = &p->tok[0];
	const char *s = t->s;
	if (strncmp(s, "level", 5) == 0) {
		r->kind = TTLOG__TRIG_LEVEL;
		int cmp, k = parse_cmp(s + 5, &cmp);
		if (!k || cmp == TTLOG__CMP_LT || cmp == TTLOG__CMP_LE)
			return fault(p, t->col + 5, "expected level>=LEVEL or level>LEVEL");
		int lvl = ttlog_level_parse(s + 5 + k);
		if (lvl < 0 || lvl > TTLOG_LEVEL_FATAL)
			return fault(p, t->col + 5 + (size_t)k, "unknown level '%s' (%s)", s + 5 + k,
				     LEVELS);
		if (cmp == TTLOG__CMP_GT) {
			if (lvl == TTLOG_LEVEL_FATAL)
				return fault(p, t->col + 5, "no level is above fatal");
			lvl++;
		}
		r->level = lvl;
		return 1;
	}
	int is_span = strcmp(s, "span") == 0, is_gauge = strcmp(s, "gauge") == 0,
	    is_counter = strcmp(s, "counter") == 0,
	    is_hist = strcmp(s, "metric") == 0 || strcmp(s, "histogram") == 0;
	if (!is_span && !is_gauge && !is_counter && !is_hist)
		return fault(p, t->col,
			     "unknown condition '%s' (expected level>=LEVEL, span, metric, "
			     "histogram, gauge or counter)", s);
	if (p->ntok < 2)
		return fault(p, t->col + strlen(s), "expected a name after '%s'", s);
	struct token *a = &p->tok[1];
	if (is_hist) {
		r->kind = TTLOG__TRIG_QUANTILE;
		if (copy_name(p, a, a->s, strlen(a->s), r->name, sizeof r->name, "a histogram name"))
			return -1;
		if (p->ntok < 3)
			return fault(p, a->col + strlen(a->s), "expected a quantile such as p99>250");
		struct token *b = &p->tok[2];
		const char *q = b->s;
		if (q[0] != 'p')
			return fault(p, b->col, "expected a quantile such as p99>250, found '%s'", q);
		char *end;
		double pct = strtod(q + 1, &end);
		if (end == q + 1 || !(pct > 0 && pct <= 100))
			return fault(p, b->col + 1, "expected a percentile above 0 and at most 100");
		int k = parse_cmp(end, &r->cmp);
		if (!k)
			return fault(p, b->col + (size_t)(end - q), "expected >, >=, < or <=");
		if (parse_value(p, b, end + k, r->name, &r->value))
			return -1;
		r->quantile = pct / 100.0;
		return 3;
	}
	/* NAME CMP VALUE in one word (span, gauge, counter total), or a
	 * counter's NAME then rate CMP R/UNIT. */
	const char *op = strpbrk(a->s, "<>");
	if (is_counter && !op) {
		r->kind = TTLOG__TRIG_RATE;
		if (copy_name(p, a, a->s, strlen(a->s), r->name, sizeof r->name, "a counter name"))
			return -1;
		if (p->ntok < 3 || strncmp(p->tok[2].s, "rate", 4) != 0)
			return fault(p, p->ntok < 3 ? a->col + strlen(a->s) : p->tok[2].col,
				     "expected rate>N/s (or NAME>N for the counter's total)");
		struct token *b = &p->tok[2];
		int k = parse_cmp(b->s + 4, &r->cmp);
		if (!k)
			return fault(p, b->col + 4, "expected >, >=, < or <= after rate");
		const char *v = b->s + 4 + k;
		char *end;
		double rate = strtod(v, &end);
		if (end == v || !isfinite(rate) || *end != '/')
			return fault(p, b->col + (size_t)(v - b->s), "expected a rate such as 5/s");
		const char *u = end + 1;
		double per = strcmp(u, "s") == 0 ? 1.0
			     : strcmp(u, "m") == 0 || strcmp(u, "min") == 0 ? 60.0
			     : strcmp(u, "h") == 0 ? 3600.0 : 0.0;
		if (per == 0.0)
			return fault(p, b->col + (size_t)(u - b->s), "expected /s, /m or /h");
		r->value = rate / per;
		return 3;
	}
	if (!op)
		return fault(p, a->col + strlen(a->s), "expected NAME>VALUE (or <, >=, <=)");
	if (copy_name(p, a, a->s, (size_t)(op - a->s), r->name, sizeof r->name,
		      is_span ? "a span name" : "a metric name"))
		return -1;
	int k = parse_cmp(op, &r->cmp);
	const char *v = op + k;
	if (is_span) {
		r->kind = TTLOG__TRIG_SPAN;
		uint64_t ns;
		if (r->cmp != TTLOG__CMP_GT && r->cmp != TTLOG__CMP_GE)
			return fault(p, a->col + (size_t)(op - a->s), "expected > or >= after the span name");
		if (ttlog__parse_duration(v, &ns) != 0)
			return fault(p, a->col + (size_t)(v - a->s),
				     "expected a duration such as 500ms, found '%s'", v);
		r->value = (double)ns;
		return 2;
	}
	r->kind = is_gauge ? TTLOG__TRIG_GAUGE : TTLOG__TRIG_TOTAL;
	if (parse_value(p, a, v, r->name, &r->value))
		return -1;
	return 2;
}

static int actions(struct parse *p, const struct token *t, const char *list,
		   struct ttlog__trigger_rule *r)
{
	r->actions = 0;
	const char *s = list;
	for (;;) {
		size_t col = t->col + (size_t)(s - t->s);
		if (strncmp(s, "exec:", 5) == 0) {
			/* The command runs to the end of the word: it may hold commas. */
			size_t len = strlen(s + 5);
			if (!len)
				return fault(p, col + 5, "exec: needs a command");
			if (len >= sizeof r->exec)
				return fault(p, col + 5, "the command is longer than %zu bytes",
					     sizeof r->exec - 1);
			memcpy(r->exec, s + 5, len + 1);
			r->actions |= TTLOG__ACT_EXEC;
			return 0;
		}
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == 8 && strncmp(s, "snapshot", 8) == 0)
			r->actions |= TTLOG__ACT_SNAPSHOT;
		else if (len == 6 && strncmp(s, "stderr", 6) == 0)
			r->actions |= TTLOG__ACT_STDERR;
		else if (len == 6 && strncmp(s, "metric", 6) == 0)
			r->actions |= TTLOG__ACT_METRIC;
		else
			return fault(p, col, "unknown action '%.*s' (snapshot, stderr, metric or "
					     "exec:COMMAND)", (int)len, s);
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int options(struct parse *p, int i, struct ttlog__trigger_rule *r)
{
	int have_policy = 0, have_actions = 0, have_over = 0;
	for (; i < p->ntok; i++) {
		struct token *t = &p->tok[i];
		const char *s = t->s;
		if (strncmp(s, "post=", 5) == 0) {
			if (ttlog__parse_duration(s + 5, &r->post_ns) != 0)
				return fault(p, t->col + 5, "expected a duration such as 2s");
		} else if (strncmp(s, "over=", 5) == 0 || strcmp(s, "over") == 0) {
			const char *v = s + 5;
			size_t col = t->col + 5;
			if (strcmp(s, "over") == 0) {
				if (i + 1 == p->ntok)
					return fault(p, t->col + 4, "expected a duration after over");
				v = p->tok[++i].s;
				col = p->tok[i].col;
			}
			if (ttlog__parse_duration(v, &r->over_ns) != 0 || r->over_ns < TTLOG__TRIGGER_STEP_NS)
				return fault(p, col, "expected a duration of at least 100ms such as 10s");
			have_over = 1;
		} else if (strncmp(s, "max=", 4) == 0) {
			const char *slash = strchr(s + 4, '/');
			if (!slash || parse_uint(s + 4, slash, &r->max_n) != 0 || r->max_n == 0 ||
			    r->max_n > TTLOG__TRIGGER_MAX_BURST ||
			    ttlog__parse_duration(slash + 1, &r->max_period_ns) != 0 ||
			    r->max_period_ns == 0)
				return fault(p, t->col + 4, "expected max=N/PERIOD such as max=1/10s "
							    "(N from 1 to %u)", TTLOG__TRIGGER_MAX_BURST);
			have_policy = 1;
		} else if (strcmp(s, "once") == 0) {
			r->once = 1;
			have_policy = 1;
		} else if (strncmp(s, "every:", 6) == 0 || strncmp(s, "every=", 6) == 0) {
			if (parse_uint(s + 6, s + strlen(s), &r->every) != 0 || r->every == 0)
				return fault(p, t->col + 6, "expected every:N with N at least 1");
			have_policy = 1;
		} else if (strncmp(s, "action=", 7) == 0 || strncmp(s, "actions=", 8) == 0) {
			const char *list = strchr(s, '=') + 1;
			if (actions(p, t, list, r))
				return -1;
			have_actions = 1;
		} else if (strncmp(s, "name=", 5) == 0) {
			if (copy_name(p, t, s + 5, strlen(s + 5), r->label, sizeof r->label, "a name"))
				return -1;
		} else if (strncmp(s, "target=", 7) == 0 || strncmp(s, "site=", 5) == 0) {
			if (r->kind != TTLOG__TRIG_LEVEL)
				return fault(p, t->col, "%.*s= applies to level rules only",
					     (int)(strchr(s, '=') - s), s);
			if (s[0] == 't') {
				if (copy_name(p, t, s + 7, strlen(s + 7), r->target, sizeof r->target,
					      "a target"))
					return -1;
			} else {
				const char *colon = strrchr(s + 5, ':');
				if (!colon || parse_uint(colon + 1, s + strlen(s), &r->site_line) != 0 ||
				    copy_name(p, t, s + 5, (size_t)(colon - s - 5), r->site_file,
					      sizeof r->site_file, "a file name"))
					return p->msg[0] ? -1
							 : fault(p, t->col + 5, "expected site=FILE:LINE");
			}
		} else {
			return fault(p, t->col,
				     "unknown option '%s' (post=, over=, max=N/PERIOD, once, every:N, "
				     "action=, name=, target=, site=)", s);
		}
	}
	if (have_over && r->kind != TTLOG__TRIG_QUANTILE && r->kind != TTLOG__TRIG_RATE)
		return fault(p, 1, "over= applies to quantiles and rates only");
	if (!have_policy) {
		r->max_n = 1;
		r->max_period_ns = 10000000000ull;
	}
	if (!have_actions)
		r->actions = TTLOG__ACT_SNAPSHOT;
	return 0;
}

static int parse_rule(struct parse *p, struct ttlog__trigger_rule *r)
{
	memset(r, 0, sizeof *r);
	r->post_ns = 1000000000ull;
	r->over_ns = 10000000000ull;
	p->msg[0] = '\0';
	if (split(p))
		return -1;
	int i = condition(p, r);
	if (i < 0 || options(p, i, r))
		return -1;
	snprintf(r->text, sizeof r->text, "%s", p->text);
	if (!r->label[0])
		snprintf(r->label, sizeof r->label, "%s", p->text);
	return 0;
}

uint32_t ttlog__trigger_rules_parse(const char *spec, const char *origin,
				    struct ttlog__trigger_rule *out, uint32_t cap, uint32_t *n,
				    void (*bad)(void *ctx, const char *message), void *ctx)
{
	static struct parse p; /* under ttlog_init's lock */
	uint32_t bad_rules = 0, number = 0;
	*n = 0;
	const char *s = spec ? spec : "";
	while (*s) {
		/* The rule ends at a ';' outside quotes. */
		const char *end = s;
		char quote = 0;
		for (; *end && (quote || *end != ';'); end++)
			if (!quote && (*end == '\'' || *end == '"'))
				quote = *end;
			else if (quote && *end == quote)
				quote = 0;
		if (!*end)
			end = NULL;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *a = s, *b = s + len;
		s = end ? end + 1 : s + len;
		while (a < b && (*a == ' ' || *a == '\t' || *a == '\n'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\n'))
			b--;
		if (a == b)
			continue;
		number++;
		char text[TTLOG__TRIGGER_TEXT_MAX];
		int too_long = (size_t)(b - a) >= sizeof text;
		snprintf(text, sizeof text, "%.*s", (int)(b - a), a);
		p.text = text;
		int rc = too_long ? fault(&p, sizeof text, "the rule is longer than %zu bytes",
					 sizeof text - 1)
			 : *n == cap ? fault(&p, 1, "more than %u rules", cap)
				     : parse_rule(&p, &out[*n]);
		if (rc == 0) {
			(*n)++;
			continue;
		}
		bad_rules++;
		char message[TTLOG__TRIGGER_TEXT_MAX + sizeof p.msg + 64];
		snprintf(message, sizeof message, "%s: rule %u '%s': %s", origin, number, text, p.msg);
		bad(ctx, message);
	}
	return bad_rules;
}
