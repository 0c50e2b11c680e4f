/* SPDX-License-Identifier: MIT */
/*
 * sites.h - the call-site registry and level filtering.
 *
 * A call site registers itself on its first call: it gets an id (its index
 * in a fixed table reserved in .bss, so that registration never allocates)
 * and its state bits (enabled, sampled or off, see struct ttlog_site) are
 * computed from the levels and the sampling rules. Changing a level or a
 * rule walks the table and rewrites every site's state bits.
 */
#ifndef TTLOG__SITES_SITES_H
#define TTLOG__SITES_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

#define TTLOG__MAX_SITES 65535u

/* Sets the highest site id handed out from now on (TTLOG_MAX_SITES, 1 to
 * TTLOG__MAX_SITES; 0: TTLOG__MAX_SITES). Sites registered past it are
 * disabled for good and counted in ttlog__g.dropped_sites. */
void ttlog__sites_set_limit(uint32_t max);

/* The word of a site that could not get an id (the table is full): OFF
 * without an id, so the hot path treats it as disabled without trying
 * again, and it can never be taken for a sampled (ASK) word. */
#define TTLOG__SITE_GIVEN_UP ((uint64_t)TTLOG__WORD_OFF)

/* ttlog__register(), declared in ttlog.h, registers a site on its first call
 * and returns its word (see struct ttlog_site). */

/* The enabled word of a built-in site (ttlog's own records), registering
 * it on first use; 0 when ttlog is off. */
uint64_t ttlog__site_builtin_word(struct ttlog_site *site);

/* The site with this id, or NULL. Runs in signal context. */
const struct ttlog_site *ttlog__site_lookup(uint32_t id);

struct ttlog__site_desc; /* sites/desc.h */

/* The resolved description of the site with this id (filled when it
 * registered), or NULL. Runs in signal context. */
const struct ttlog__site_desc *ttlog__site_desc_lookup(uint32_t id);

/* One more than the highest id handed out. Runs in signal context. */
uint32_t ttlog__site_id_limit(void);

/* Where the descriptions by id (*capacity of them) and the next id to hand
 * out (a u32) are, for the core anchor (src/core/anchor.c). */
const void *ttlog__site_desc_table(uint32_t *capacity, const void **next_id);

/* Applies "LEVEL", "target=LEVEL,..." or a mix; on a syntax error returns
 * TTLOG_E_CONFIG and leaves the levels as they were. */
int ttlog__levels_apply(const char *spec);

/* Longest target name a level can be given for, NUL included. */
#define TTLOG__TARGET_NAME_MAX 64

/*
 * Walks a level spec ("LEVEL", "target=LEVEL" or a comma-separated mix),
 * calling fn for each item (target NULL for a bare level) if fn is not
 * NULL; stops at fn's first error. TTLOG_OK or TTLOG_E_CONFIG for a bad
 * spec. The one parser of TTLOG_LEVEL's syntax (TTLOG_STREAM_LEVEL uses it
 * too).
 */
int ttlog__levels_walk(const char *spec,
		       int (*fn)(void *ctx, const char *target, size_t len, int level), void *ctx);

/* Recomputes every registered site's enabled bit. master_off disables all
 * (used by ttlog_shutdown). */
void ttlog__sites_set_master(int master_on);

/* Runs change(arg) under the lock that serialises level and sampling-rule
 * changes; if it returns TTLOG_OK, re-words every registered site before
 * the lock is released. Returns what change returned. */
int ttlog__sites_change(int (*change)(void *arg), void *arg);

#endif
