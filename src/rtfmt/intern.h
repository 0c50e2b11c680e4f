/* SPDX-License-Identifier: MIT */
/*
 * intern.h - call sites made at run time, one per distinct text.
 *
 * ttlog_log() and the C++ wrappers get their format, span name or context
 * key at run time, in memory the caller may reuse. The table here turns
 * each distinct (kind, level, value type, text) into a struct ttlog_site
 * of its own, made once, with the text copied, and registered like a
 * macro's site on its first record; later calls find it again by a hash of
 * the text and a probe. The table is bounded (TTLOG_RUNTIME_FORMATS_MAX
 * sites, TTLOG__RT_TEXT_MAX bytes a text, 1 MiB of text in all): beyond
 * it, ttlog__rt_intern() returns NULL and the caller records the event
 * another way (src/rtfmt/log.c).
 */
#ifndef TTLOG__RTFMT_INTERN_H
#define TTLOG__RTFMT_INTERN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

/* The longest text a runtime site keeps (a SITE entry keeps 8 KiB). */
#define TTLOG__RT_TEXT_MAX 4096u

/* What identifies a runtime site. vtype is the type code of a context's
 * value (0 for log calls and spans, whose types follow from the text). */
struct ttlog__rt_key {
	const char *text;
	size_t len;
	uint64_t hash;
	uint8_t kind; /* TTLOG__KIND_LOG, _CONTEXT_PUSH or _SPAN_BEGIN */
	uint8_t level;
	uint8_t vtype;
};

/* Measures key->text and sets key->len and key->hash (kind, level and
 * vtype set by the caller). */
void ttlog__rt_key_hash(struct ttlog__rt_key *key);

/* The site of key, or NULL if it was never made. Lock-free. */
struct ttlog_site *ttlog__rt_find(const struct ttlog__rt_key *key);

/*
 * Finds or makes the site of key, whose arguments have the nargs types
 * given. Returns NULL when the table has no room left (too many sites, too
 * much text, or a text above TTLOG__RT_TEXT_MAX). Lock-free: two threads
 * making the same site at once both get the one that was published first.
 * Allocates nothing (the table is in .bss).
 */
struct ttlog_site *ttlog__rt_intern(const struct ttlog__rt_key *key, const uint8_t *types,
				    unsigned nargs);

/* Events recorded another way because their site did not fit (log.c,
 * scopes.c): ttlog_runtime_stats.overflowed. */
extern _Atomic uint64_t ttlog__rt_overflowed;

/* Runtime sites made so far. */
uint32_t ttlog__rt_count(void);

#endif
