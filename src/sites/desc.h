/* SPDX-License-Identifier: MIT */
/*
 * desc.h - the resolved description of a call site: what a snapshot's SITE
 * and SITX entries say about it, worked out once.
 *
 * A struct ttlog_site is what the compiler leaves: a target that may be
 * NULL (meaning the file's base name), and argument source text in which
 * the names of TTLOG_F() fields still have to be found. A snapshot source
 * hands the writer a struct ttlog__site_desc instead, in which all of that
 * is done: the target defaulted, every string measured, the field bits and
 * names parsed. The writer copies bytes from it and parses nothing, which
 * keeps the crash path short and lets sources other than this process
 * (another process's shared-memory mapping, a stream) describe sites
 * without inventing source text for the writer to parse.
 *
 * Who fills one:
 *   - this process: sites.c, once per site, when it registers (lock-free,
 *     no allocation), into a table indexed by id (ttlog__site_desc_lookup);
 *   - a mapping: src/shm/map_snapshot.c, from the mapping's dictionary entry.
 * Strings are not necessarily NUL-terminated: use the lengths.
 */
#ifndef TTLOG__SITES_DESC_H
#define TTLOG__SITES_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "sites/fields.h"
#include "ttlog.h"

/* Arguments whose field names a description holds (the file format's
 * TTLOG__FMT_MAX_ARGS; a site with more arguments has no named field). */
#define TTLOG__SITE_DESC_MAX_FIELDS 16

struct ttlog__site_desc {
	uint32_t id;
	uint32_t line;
	uint8_t level;
	uint8_t nargs;
	uint8_t kind;                /* TTLOG__KIND_* */
	uint8_t reserved;
	uint32_t fields;             /* bit i: argument i is a TTLOG_F() field (i < 16) */
	const uint8_t *arg_types;    /* nargs entries of enum ttlog__argtype */
	const char *format;
	const char *file;
	const char *function;
	const char *target;          /* never NULL: the default is applied */
	uint32_t format_len, file_len, function_len, target_len;
	/* The name of field i is names_base + name_off[i], name_len[i] bytes
	 * (1..64): offsets from one base keep the table of this process's
	 * descriptions at 128 bytes an id. Read it with ttlog__site_desc_name(). */
	const char *names_base;
	uint16_t name_off[TTLOG__SITE_DESC_MAX_FIELDS];
	uint8_t name_len[TTLOG__SITE_DESC_MAX_FIELDS];
};

/* The name of field i of d (bit i of d->fields set), *len bytes. Runs in
 * signal context. */
static inline const char *ttlog__site_desc_name(const struct ttlog__site_desc *d, unsigned i,
						size_t *len)
{
	*len = d->name_len[i];
	return d->names_base + d->name_off[i];
}

/* The target of a site: its TTLOG_TARGET, else its file's base name (the
 * one place that default is computed). Runs in signal context. */
const char *ttlog__site_target(const struct ttlog_site *s);

/*
 * Fills d from site s, registered as id: measures the strings, applies the
 * default target, and finds the TTLOG_F() field names in the argument
 * texts. Every string, the argument types and the field names are then
 * copied (each string cut at 8 KiB, the most a SITE entry keeps) into a
 * text area of 16 MiB reserved in .bss, with one atomic add, so that the
 * description outlives the site: a library that logged can be unloaded
 * (dlclose) and later snapshots still describe its sites. Once that area
 * is full, which needs tens of thousands of sites, a description points
 * at the site's own strings instead (and its field names that do not
 * stand in the source text as they are, from joined literals, escapes or
 * an empty name, become plain unused arguments). Lock-free and without
 * allocation: it runs at a site's first call, in any thread, so in signal
 * context.
 */
void ttlog__site_desc_fill(struct ttlog__site_desc *d, uint32_t id, const struct ttlog_site *s);

#endif
