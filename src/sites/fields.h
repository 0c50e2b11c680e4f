/* SPDX-License-Identifier: MIT */
/*
 * fields.h - names of the explicit fields of a call site.
 *
 * TTLOG_F(name, value) leaves no trace in a log call: the value is recorded
 * like any argument. Its name is found once, when the site registers
 * (src/sites/desc.c), in the argument's source text that the site keeps
 * (struct ttlog_site.arg_text). These functions do that; they run in
 * signal context (no allocation, no locks, no stdio).
 */
#ifndef TTLOG__SITES_FIELDS_H
#define TTLOG__SITES_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"
#include "ttlog.h"

/* The longest field name kept; longer names are cut (the file keeps as
 * much, docs/FORMAT.md, SITX). */
#define TTLOG__FIELD_NAME_MAX TTLOG__FMT_SITX_NAME_MAX

/*
 * If text (the source text of one argument) is a TTLOG_F() field, copies its
 * name into out (NUL-terminated, cut at TTLOG__FIELD_NAME_MAX bytes) and
 * returns its length (at least 1; an empty name becomes "_"); else returns
 * 0. Runs in signal context.
 */
size_t ttlog__field_name(const char *text, char out[TTLOG__FIELD_NAME_MAX + 1]);

/*
 * Where the len bytes of name (what ttlog__field_name() found in text)
 * stand as they are in text, inside the name's first literal, or NULL if
 * they do not (joined literals, escapes, the "_" of an empty name): the
 * text a site keeps is static, so a name found there needs no copy. Runs
 * in signal context.
 */
const char *ttlog__field_name_source(const char *text, const char *name, size_t len);

/*
 * The two below read a site's argument texts directly. Nothing on the
 * snapshot path calls them any more (the resolved description, desc.c,
 * holds the field bits and names); test_fields uses them to check the
 * layout of the texts the macros keep.
 *
 * Bit i set: argument i of the site is a TTLOG_F() field. Sites compiled
 * without argument texts (older headers) have none. Runs in signal context.
 */
uint32_t ttlog__site_field_mask(const struct ttlog_site *site);

/* The text of argument i (0-based) of the site, or NULL. Runs in signal context. */
const char *ttlog__site_arg_text(const struct ttlog_site *site, unsigned i);

#endif
