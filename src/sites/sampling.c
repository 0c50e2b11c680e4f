/* SPDX-License-Identifier: MIT */
/*
 * sampling.c - keep 1 call in N, and/or at most K calls per second, of the
 * call sites a rule selects; count every call dropped.
 *
 * Rules. A rule is a selector (a target, FILE:LINE, or "*") and a pair
 * (N, K). They sit in a small fixed table that is read without a lock, the
 * way sites.c keeps target levels: a slot's name is written while the slot
 * is unused, then its packed rule is published with a release store (0
 * marks an unused slot), LMM(rule:A), which the readers' acquire loads in
 * ttlog__sampling_bind() pair with, LMM(rule:B); the writers' own loads,
 * under the lock, are relaxed. Changes are serialised by the lock of sites.c
 * (ttlog__sites_change), which then re-words every registered site, so a
 * rule applies at once to the sites that already ran.
 *
 * Per-site state. Each site id has one cache line in a table reserved in
 * .bss (4 MiB of address space; pages nobody touches cost no memory). It
 * holds the rule bound to the site (the most specific rule that selects it,
 * found when its word is computed), the 1-in-N counter, the rate-limit
 * window, and the counts of kept and dropped calls.
 *
 * Decisions (ttlog__sampling_admit), for a site whose word has ASK set:
 *   1. 1-in-N: k = fetch_add(calls) counts the site's calls from 0; call k
 *      is kept iff k % N == 0, the first of each N. The counter is one
 *      atomic shared by all threads, so exactly ceil(calls / N) are kept,
 *      whatever the threads.
 *   2. The rate limit, on what 1-in-N kept: fixed one-second windows of
 *      ttlog's clock (window = ticks / ticks-per-second). One 64-bit word
 *      holds the window number (low 32 bits of it) and the calls kept in
 *      it; a compare-and-swap takes a place, so a window never keeps more
 *      than K. Two adjacent windows may keep K each within less than a
 *      second: at most 2K in any one-second span. A window number behind
 *      the current one (another CPU's counter, read a little earlier)
 *      counts against the current window rather than opening an old one.
 * Nothing here allocates, locks or makes a system call (the clock is the
 * CPU's counter; the monotonic clock is a vDSO call).
 */
#include "sites/sampling.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "sites/sites.h"

enum selector_kind { SEL_ALL = 0, SEL_TARGET = 1, SEL_SITE = 2 }; /* also the precedence */

struct rule {
	char name[TTLOG__SAMPLING_NAME_MAX]; /* target, or the FILE of FILE:LINE */
	uint32_t line;
	int kind;                           /* enum selector_kind */
	_Atomic uint64_t packed;            /* K << 32 | N with N >= 1; 0: unused slot */
};

static struct rule rules[TTLOG__MAX_SAMPLING_RULES];
static _Atomic int nrules; /* slots ever used */

struct site_state {
	_Alignas(64) _Atomic uint64_t rule; /* the bound rule, packed as above; 0: none */
	_Atomic uint64_t calls;             /* calls seen by the 1-in-N rule */
	_Atomic uint64_t window;            /* window number << 32 | calls kept in it */
	_Atomic uint64_t kept;
	_Atomic uint64_t dropped_sampled;
	_Atomic uint64_t dropped_rate_limited;
};

static struct site_state states[TTLOG__MAX_SITES + 1];

/* A parsed selector and rule. */
struct rule_spec {
	int kind;
	char name[TTLOG__SAMPLING_NAME_MAX];
	uint32_t line;
	uint32_t keep_one_in;    /* >= 1 */
	uint32_t max_per_second; /* 0: none */
};

static uint64_t pack(uint32_t keep_one_in, uint32_t max_per_second)
{
	if (keep_one_in <= 1 && max_per_second == 0)
		return 0; /* keeps everything: no rule */
	return (uint64_t)max_per_second << 32 | (keep_one_in ? keep_one_in : 1u);
}

/* ---- Binding rules to sites ---------------------------------------------- */

static int rule_selects(const struct rule *r, const struct ttlog_site *s, const char *target)
{
	switch (r->kind) {
	case SEL_ALL:
		return 1;
	case SEL_TARGET:
		return strcmp(r->name, target) == 0;
	default: {
		if (r->line != s->line)
			return 0;
		const char *slash = strrchr(s->file, '/');
		return strcmp(r->name, s->file) == 0 || (slash && strcmp(r->name, slash + 1) == 0);
	}
	}
}

int ttlog__sampling_bind(const struct ttlog_site *s, uint32_t id, const char *target)
{
	if (id == 0 || id > TTLOG__MAX_SITES)
		return 0;
	uint64_t best = 0;
	int best_kind = -1;
	/* LMM(rule:B) pairs with LMM(rule:A): the slots below the count, and
	 * the selector of a slot whose rule is set, are whole. */
	int n = atomic_load_explicit(&nrules, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		uint64_t packed = atomic_load_explicit(&rules[i].packed, memory_order_acquire);
		if (packed && rules[i].kind > best_kind && rule_selects(&rules[i], s, target)) {
			best = packed;
			best_kind = rules[i].kind;
		}
	}
	struct site_state *st = &states[id];
	if (atomic_exchange_explicit(&st->rule, best, memory_order_relaxed) != best) {
		/* A new rule starts counting afresh; racing calls of the old
		 * rule may still be decided by the old counters. */
		atomic_store_explicit(&st->calls, 0, memory_order_relaxed);
		atomic_store_explicit(&st->window, 0, memory_order_relaxed);
	}
	return best != 0;
}

/* ---- Decisions ----------------------------------------------------------- */

/* Takes a place in the current one-second window, if one is left. */
static int rate_admit(struct site_state *st, uint32_t max_per_second)
{
	uint32_t now = (uint32_t)(ttlog__clock_now() / ttlog__clock_ticks_per_second());
	uint64_t cur = atomic_load_explicit(&st->window, memory_order_relaxed);
	for (;;) {
		uint32_t win = (uint32_t)(cur >> 32), used = (uint32_t)cur;
		uint64_t want;
		if ((int32_t)(now - win) > 0)
			want = (uint64_t)now << 32 | 1u; /* a new window */
		else if (used < max_per_second)
			want = cur + 1;
		else
			return 0;
		if (atomic_compare_exchange_weak_explicit(&st->window, &cur, want, memory_order_relaxed,
							  memory_order_relaxed))
			return 1;
	}
}

int ttlog__sampling_admit(uint32_t id)
{
	if (id == 0 || id > TTLOG__MAX_SITES)
		return 1;
	struct site_state *st = &states[id];
	uint64_t rule = atomic_load_explicit(&st->rule, memory_order_relaxed);
	uint32_t keep_one_in = (uint32_t)rule, max_per_second = (uint32_t)(rule >> 32);
	if (keep_one_in > 1 &&
	    atomic_fetch_add_explicit(&st->calls, 1, memory_order_relaxed) % keep_one_in != 0) {
		atomic_fetch_add_explicit(&st->dropped_sampled, 1, memory_order_relaxed);
		return 0;
	}
	if (max_per_second && !rate_admit(st, max_per_second)) {
		atomic_fetch_add_explicit(&st->dropped_rate_limited, 1, memory_order_relaxed);
		return 0;
	}
	atomic_fetch_add_explicit(&st->kept, 1, memory_order_relaxed);
	return 1;
}

/* Runs in signal context: loads only. */
int ttlog__sampling_get(uint32_t id, struct ttlog__sampling_counts *out)
{
	if (id == 0 || id > TTLOG__MAX_SITES)
		return 0;
	const struct site_state *st = &states[id];
	uint64_t rule = atomic_load_explicit(&st->rule, memory_order_relaxed);
	out->keep_one_in = rule ? (uint32_t)rule : 1u;
	out->max_per_second = (uint32_t)(rule >> 32);
	out->kept = atomic_load_explicit(&st->kept, memory_order_relaxed);
	out->dropped_sampled = atomic_load_explicit(&st->dropped_sampled, memory_order_relaxed);
	out->dropped_rate_limited =
		atomic_load_explicit(&st->dropped_rate_limited, memory_order_relaxed);
	return rule || out->kept || out->dropped_sampled || out->dropped_rate_limited;
}

void ttlog__sampling_after_fork(void)
{
	uint32_t limit = ttlog__site_id_limit();
	for (uint32_t id = 1; id < limit; id++) {
		struct site_state *st = &states[id];
		atomic_store_explicit(&st->calls, 0, memory_order_relaxed);
		atomic_store_explicit(&st->window, 0, memory_order_relaxed);
		atomic_store_explicit(&st->kept, 0, memory_order_relaxed);
		atomic_store_explicit(&st->dropped_sampled, 0, memory_order_relaxed);
		atomic_store_explicit(&st->dropped_rate_limited, 0, memory_order_relaxed);
	}
}

/* Summed when asked rather than counted per call: a process-wide counter
 * would be one more atomic, on a line every thread shares, per drop.
 * Runs in signal context. */
void ttlog__sampling_totals(uint64_t *dropped_sampled, uint64_t *dropped_rate_limited)
{
	uint64_t a = 0, b = 0;
	uint32_t limit = ttlog__site_id_limit();
	for (uint32_t id = 1; id < limit; id++) {
		a += atomic_load_explicit(&states[id].dropped_sampled, memory_order_relaxed);
		b += atomic_load_explicit(&states[id].dropped_rate_limited, memory_order_relaxed);
	}
	*dropped_sampled = a;
	*dropped_rate_limited = b;
}

/* ---- Rules --------------------------------------------------------------- */

/* "123": 1..UINT32_MAX; -1 for anything else. */
static int parse_count(const char *p, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (v == 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "*", "FILE:LINE" (the last ':' followed by digits only) or a target. */
static const char *parse_selector(const char *p, size_t len, struct rule_spec *r)
{
	memset(r->name, 0, sizeof r->name);
	r->line = 0;
	if (len == 0)
		return "a selector (a target, FILE:LINE or *)";
	if (len == 1 && p[0] == '*') {
		r->kind = SEL_ALL;
		return NULL;
	}
	const char *colon = NULL;
	for (size_t i = len; i-- > 0;)
		if (p[i] == ':') {
			colon = p + i;
			break;
		}
	size_t digits = colon ? len - (size_t)(colon + 1 - p) : 0;
	int all_digits = digits > 0 && strspn(colon + 1, "0123456789") >= digits;
	if (colon && all_digits) {
		if (colon == p)
			return "a file name before ':LINE'";
		if (parse_count(colon + 1, digits, &r->line) != 0)
			return "a line number of at least 1 after 'FILE:'";
		len = (size_t)(colon - p);
		r->kind = SEL_SITE;
	} else {
		r->kind = SEL_TARGET;
	}
	if (len >= TTLOG__SAMPLING_NAME_MAX)
		return "a target or file name of at most 63 bytes";
	memcpy(r->name, p, len);
	return NULL;
}

/* "1/N", "K/s" or "1/N+K/s" (either order). */
static const char *parse_rule(const char *p, size_t len, struct rule_spec *r)
{
	int have_n = 0, have_k = 0;
	r->keep_one_in = 1;
	r->max_per_second = 0;
	if (len == 0)
		return "a rule (1/N, K/s or 1/N+K/s) after '='";
	while (len) {
		const char *plus = memchr(p, '+', len);
		size_t n = plus ? (size_t)(plus - p) : len;
		if (n > 2 && p[0] == '1' && p[1] == '/') {
			if (have_n || parse_count(p + 2, n - 2, &r->keep_one_in) != 0)
				return have_n ? "at most one 1/N in a rule"
					      : "1/N with N a whole number from 1 to 4294967295";
			have_n = 1;
		} else if (n > 2 && p[n - 2] == '/' && p[n - 1] == 's') {
			if (have_k || parse_count(p, n - 2, &r->max_per_second) != 0)
				return have_k ? "at most one K/s in a rule"
					      : "K/s with K a whole number from 1 to 4294967295";
			have_k = 1;
		} else {
			return "a rule made of 1/N (keep one call in N) and/or K/s (at most K calls "
			       "a second), joined by '+'";
		}
		if (!plus)
			break;
		if (n + 1 == len)
			return "1/N or K/s after '+'";
		p += n + 1;
		len -= n + 1;
	}
	return NULL;
}

/* Parses item (len bytes, "SELECTOR=RULE"); NULL or what was expected. */
static const char *parse_item(const char *item, size_t len, struct rule_spec *r)
{
	const char *eq = memchr(item, '=', len);
	if (!eq)
		return "SELECTOR=RULE, such as net=1/100, db.c:42=500/s or *=1/10+200/s";
	const char *why = parse_selector(item, (size_t)(eq - item), r);
	if (!why)
		why = parse_rule(eq + 1, len - (size_t)(eq + 1 - item), r);
	return why;
}

/* The slot holding r's selector, or -1. Caller holds the sites lock. */
static int find_slot(const struct rule_spec *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (!atomic_load_explicit(&rules[i].packed, memory_order_relaxed))
			continue;
		if (rules[i].kind == r->kind && rules[i].line == r->line &&
		    strcmp(rules[i].name, r->name) == 0)
			return i;
	}
	return -1;
}

/* Sets or removes one rule. Caller holds the sites lock. */
static int set_rule_locked(const struct rule_spec *r)
{
	uint64_t packed = pack(r->keep_one_in, r->max_per_second);
	int n = atomic_load_explicit(&nrules, memory_order_relaxed);
	int slot = find_slot(r, n);
	if (slot >= 0) {
		/* LMM(rule:A) */
		atomic_store_explicit(&rules[slot].packed, packed, memory_order_release);
		return TTLOG_OK;
	}
	if (!packed)
		return TTLOG_OK; /* removing a rule that does not exist */
	for (slot = 0; slot < n; slot++)
		if (!atomic_load_explicit(&rules[slot].packed, memory_order_relaxed))
			break;
	if (slot == TTLOG__MAX_SAMPLING_RULES)
		return TTLOG_E_NOMEM;
	/* The slot is unused, so no reader compares its name while we write it. */
	memcpy(rules[slot].name, r->name, sizeof rules[slot].name);
	rules[slot].line = r->line;
	rules[slot].kind = r->kind;
	/* LMM(rule:A) pairs with LMM(rule:B) in ttlog__sampling_bind(): the
	 * selector before the rule, the slot before the count. */
	atomic_store_explicit(&rules[slot].packed, packed, memory_order_release);
	if (slot == n)
		atomic_store_explicit(&nrules, n + 1, memory_order_release);
	return TTLOG_OK;
}

static int set_one(void *arg)
{
	return set_rule_locked(arg);
}

TTLOG_API int ttlog_set_sampling(const char *selector, uint32_t keep_one_in, uint32_t max_per_second)
{
	struct rule_spec r;
	if (!selector || parse_selector(selector, strlen(selector), &r) != NULL)
		return TTLOG_E_INVALID;
	r.keep_one_in = keep_one_in ? keep_one_in : 1u;
	r.max_per_second = max_per_second;
	return ttlog__sites_change(set_one, &r);
}

/* Calls fn for each item of a rule list; stops at the first that fails. */
static const char *walk_spec(const char *spec, const char **item, size_t *item_len,
			     int (*fn)(const struct rule_spec *r, void *arg), void *arg, int *rc)
{
	*rc = TTLOG_OK;
	for (const char *p = spec;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct rule_spec r;
		*item = p;
		*item_len = len;
		const char *why = parse_item(p, len, &r);
		if (why)
			return why;
		if (fn && (*rc = fn(&r, arg)) != TTLOG_OK)
			return NULL;
		if (!comma)
			return NULL;
		p = comma + 1;
	}
}

static int report(char *err, size_t errsize, const char *setting, const char *why, const char *item,
		  size_t item_len, const char *spec)
{
	if (item_len == strlen(spec))
		snprintf(err, errsize, "%s: expected %s, got '%s'", setting, why, spec);
	else
		snprintf(err, errsize, "%s: expected %s, got '%.*s' in '%s'", setting, why,
			 (int)item_len, item, spec);
	return TTLOG_E_CONFIG;
}

int ttlog__sampling_check(const char *spec, const char *setting, char *err, size_t errsize)
{
	if (!spec || !*spec)
		return TTLOG_OK;
	const char *item;
	size_t item_len;
	int rc;
	const char *why = walk_spec(spec, &item, &item_len, NULL, NULL, &rc);
	return why ? report(err, errsize, setting, why, item, item_len, spec) : TTLOG_OK;
}

/* Counts the free slots a rule list needs (new selectors with a rule). */
static int count_new(const struct rule_spec *r, void *arg)
{
	int n = atomic_load_explicit(&nrules, memory_order_relaxed);
	if (pack(r->keep_one_in, r->max_per_second) && find_slot(r, n) < 0)
		++*(int *)arg;
	return TTLOG_OK;
}

static int apply_one(const struct rule_spec *r, void *arg)
{
	(void)arg;
	return set_rule_locked(r);
}

/* Under the sites lock: all of the list, or nothing if the table would
 * overflow. A selector repeated in the list is counted twice, which can
 * only make the check stricter. */
static int apply_locked(void *arg)
{
	const char *spec = arg;
	const char *item;
	size_t item_len;
	int rc, needed = 0, used = 0;
	walk_spec(spec, &item, &item_len, count_new, &needed, &rc);
	int n = atomic_load_explicit(&nrules, memory_order_relaxed);
	for (int i = 0; i < n; i++)
		used += atomic_load_explicit(&rules[i].packed, memory_order_relaxed) != 0;
	if (used + needed > TTLOG__MAX_SAMPLING_RULES)
		return TTLOG_E_NOMEM;
	walk_spec(spec, &item, &item_len, apply_one, NULL, &rc);
	return rc;
}

int ttlog__sampling_apply(const char *spec, const char *setting, char *err, size_t errsize)
{
	int rc = ttlog__sampling_check(spec, setting, err, errsize);
	if (rc != TTLOG_OK || !spec || !*spec)
		return rc;
	rc = ttlog__sites_change(apply_locked, (void *)(uintptr_t)spec);
	if (rc == TTLOG_E_NOMEM)
		snprintf(err, errsize, "%s: expected at most %d selectors with rules, got more with '%s'",
			 setting, TTLOG__MAX_SAMPLING_RULES, spec);
	return rc;
}
