/*
 * sites.h - the call-site registry and level filtering.
 *
 * A call site registers itself on its first call: it gets an id (its index
 * in a fixed table reserved in .bss, so that registration never allocates)
 * and its enabled bit is computed from the levels. Changing a level walks
 * the table and rewrites every site's enabled bit.
 */
#ifndef TTLOG_SITES_SITES_H
#define TTLOG_SITES_SITES_H

#include <stdint.h>

#include "ttlog.h"

#define TTLOG_MAX_SITES 65535u

/* The word of a site that could not get an id (the table is full): not 0,
 * so the hot path treats it as disabled without trying again. */
#define TTLOG_SITE_GIVEN_UP ((uint64_t)2)

/* ttlog__register(), declared in ttlog.h, registers a site on its first call
 * and returns its word (see struct ttlog_site). */

/* The site with this id, or NULL. Runs in signal context. */
const struct ttlog_site *ttlog__site_lookup(uint32_t id);

/* One more than the highest id handed out. Runs in signal context. */
uint32_t ttlog__site_id_limit(void);

/* Applies "LEVEL", "target=LEVEL,..." or a mix; on a syntax error returns
 * TTLOG_E_CONFIG and leaves the levels as they were. */
int ttlog__levels_apply(const char *spec);

/* Recomputes every registered site's enabled bit. master_off disables all
 * (used by ttlog_shutdown). */
void ttlog__sites_set_master(int master_on);

#endif
