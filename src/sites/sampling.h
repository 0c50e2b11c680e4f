/* SPDX-License-Identifier: MIT */
/*
 * sampling.h - sampling and rate-limit rules, and the per-site state that
 * applies them (ttlog_set_sampling, TTLOG_SAMPLE).
 *
 * A site with a rule gets the ASK bit in its word instead of ENABLED
 * (src/sites/sites.c), so each of its calls asks ttlog__sampling_admit()
 * whether to log. The state of every site lives in a table indexed by site
 * id, reserved in .bss like the site table: deciding a call never
 * allocates, locks or makes a system call when the CPU's counter is the
 * clock.
 */
#ifndef TTLOG__SITES_SAMPLING_H
#define TTLOG__SITES_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

/* Selectors that can have a rule at once, and their longest name. */
#define TTLOG__MAX_SAMPLING_RULES 64
#define TTLOG__SAMPLING_NAME_MAX 64

/*
 * Finds the most specific rule for a site (its own FILE:LINE, else its
 * target, else "*") and binds it to the site's state; a changed rule starts
 * its 1-in-N count and its rate window afresh (the counts of kept and
 * dropped calls go on). Returns 1 if the site is sampled (a rule other than
 * keep-everything), else 0. Called by sites.c whenever it computes a site's
 * word: under its lock, or at the site's registration.
 */
int ttlog__sampling_bind(const struct ttlog_site *site, uint32_t id, const char *target);

/*
 * Decides one call of a sampled site: 1 to log it, 0 to drop it (counted
 * as dropped by 1-in-N or by the rate limit). Lock-free; any thread.
 */
int ttlog__sampling_admit(uint32_t id);

/* What a snapshot says about one site (SMPL entry). */
struct ttlog__sampling_counts {
	uint32_t keep_one_in;       /* 1: no 1-in-N rule */
	uint32_t max_per_second;    /* 0: no rate limit */
	uint64_t kept;              /* calls the sampler let through */
	uint64_t dropped_sampled;   /* calls 1-in-N dropped */
	uint64_t dropped_rate_limited;
};

/* Fills *out and returns 1 if site id has a rule or has had one (non-zero
 * counts); else returns 0. Runs in signal context. */
int ttlog__sampling_get(uint32_t id, struct ttlog__sampling_counts *out);

/* In a forked child: the counts and windows start again at 0 (the rules
 * stay), like the process's other counters. */
void ttlog__sampling_after_fork(void);

/* Calls dropped by 1-in-N rules and by rate limits, over every site. */
void ttlog__sampling_totals(uint64_t *dropped_sampled, uint64_t *dropped_rate_limited);

/*
 * Checks a rule list, "SELECTOR=RULE,..." with RULE 1/N, K/s or 1/N+K/s.
 * On a syntax error writes "SETTING: expected ..., got 'ITEM' in 'SPEC'"
 * into err and returns TTLOG_E_CONFIG; NULL or "" is valid (no rules).
 */
int ttlog__sampling_check(const char *spec, const char *setting, char *err, size_t errsize);

/* Checks, then applies a rule list (nothing changes on an error). Returns
 * TTLOG_OK, TTLOG_E_CONFIG or TTLOG_E_NOMEM, with a message in err. */
int ttlog__sampling_apply(const char *spec, const char *setting, char *err, size_t errsize);

#endif
