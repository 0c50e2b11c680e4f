/* SPDX-License-Identifier: MIT */
/*
 * desc.c - resolves a call site into its description (sites/desc.h): the
 * target defaulted, the strings measured, the TTLOG_F() field names found
 * in the argument texts. sites.c does it once per site, when the site
 * registers, so that no snapshot ever parses source text.
 *
 * Registration is lock-free and may happen in a signal handler, so this
 * file allocates nothing and takes no lock. Every string a description
 * holds (format, file, function, target, argument types, field names) is
 * copied into a text area reserved in .bss, taken with one atomic add: a
 * site may live in a library that is unloaded later (dlclose), and a
 * snapshot written after that must not read the library's memory. Only
 * when the area is full does a description point at the site's own
 * strings, as it did before copies existed; that needs tens of thousands
 * of sites with long formats.
 */
#include "sites/desc.h"

#include <stdatomic.h>
#include <string.h>

#include "common/internal.h"

_Static_assert(sizeof(struct ttlog__site_desc) == 128, "two cache lines per site id");
_Static_assert(TTLOG__SITE_DESC_MAX_FIELDS * TTLOG__FIELD_NAME_MAX <= UINT16_MAX,
	       "a site's names fit 16-bit offsets");

/* Copies of the sites' strings: a site takes its strings' lengths
 * (each clamped to TEXT_MAX) and its field names, a few hundred bytes in
 * practice; only the pages in use are ever touched. */
#define NAME_AREA_SIZE (16u << 20)
#define TEXT_MAX 8192u /* the longest string a snapshot's SITE entry keeps */
static char name_area[NAME_AREA_SIZE];
static _Atomic uint32_t name_area_used; /* may run past the size once full */

/* n bytes of the text area, or NULL once it is full. Runs in signal
 * context. */
static char *take_text(size_t n)
{
	if (n > NAME_AREA_SIZE)
		return NULL;
	uint32_t off = atomic_fetch_add_explicit(&name_area_used, (uint32_t)n, memory_order_relaxed);
	if (off > NAME_AREA_SIZE || n > NAME_AREA_SIZE - off)
		return NULL;
	return name_area + off;
}

/* Runs in signal context. */
const char *ttlog__site_target(const struct ttlog_site *s)
{
	if (s->target)
		return s->target;
	if (!s->file)
		return "";
	const char *slash = strrchr(s->file, '/');
	return slash ? slash + 1 : s->file;
}

/* Sets *len to the length of s (NULL: ""); returns s, never NULL. Runs in
 * signal context. */
static const char *measured(const char *s, uint32_t *len)
{
	if (!s) {
		*len = 0;
		return "";
	}
	size_t n = strlen(s);
	*len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return s;
}

/* Where each field's name stands, if it does, in the site's text. */
struct found {
	char name[TTLOG__SITE_DESC_MAX_FIELDS][TTLOG__FIELD_NAME_MAX + 1];
	size_t len[TTLOG__SITE_DESC_MAX_FIELDS];
	const char *in_text[TTLOG__SITE_DESC_MAX_FIELDS]; /* NULL: nowhere usable */
};

/* Copies the names of d's fields into the name area; 0 if it is full.
 * Runs in signal context. */
static int copy_names(struct ttlog__site_desc *d, const struct found *f, unsigned nargs)
{
	size_t total = 0;
	for (unsigned i = 0; i < nargs; i++)
		if (d->fields & (1u << i))
			total += f->len[i];
	char *base = take_text(total);
	if (!base)
		return 0;
	size_t at = 0;
	for (unsigned i = 0; i < nargs; i++) {
		if (!(d->fields & (1u << i)))
			continue;
		memcpy(base + at, f->name[i], f->len[i]);
		d->name_off[i] = (uint16_t)at;
		d->name_len[i] = (uint8_t)f->len[i];
		at += f->len[i];
	}
	d->names_base = base;
	return 1;
}

/* The field bits and names of d, from the argument texts of s. Runs in
 * signal context. */
static void find_names(struct ttlog__site_desc *d, const struct ttlog_site *s)
{
	if (!s->arg_text || s->nargs > TTLOG__SITE_DESC_MAX_FIELDS)
		return; /* no texts (an older header), or more arguments than a file names */
	struct found f;
	const char *t = s->arg_text;
	for (unsigned i = 0; i < s->nargs; i++) {
		f.len[i] = ttlog__field_name(t, f.name[i]);
		if (f.len[i]) {
			d->fields |= 1u << i;
			f.in_text[i] = ttlog__field_name_source(t, f.name[i], f.len[i]);
			if (f.in_text[i] && f.in_text[i] - s->arg_text > UINT16_MAX)
				f.in_text[i] = NULL;
		}
		t += strlen(t) + 1; /* the NUL after each text */
	}
	/* Copied whenever the area has room, so that they outlive the site's
	 * library. */
	if (!d->fields || copy_names(d, &f, s->nargs))
		return;
	/* Every name is in the text, or the area is full and those that are
	 * not lose their name. */
	d->names_base = s->arg_text;
	for (unsigned i = 0; i < s->nargs; i++) {
		if (!(d->fields & (1u << i)))
			continue;
		if (!f.in_text[i]) {
			d->fields &= ~(1u << i);
			continue;
		}
		d->name_off[i] = (uint16_t)(f.in_text[i] - s->arg_text);
		d->name_len[i] = (uint8_t)f.len[i];
	}
}

/* Copies one string of d into *at; returns the copy. Runs in signal
 * context. */
static const char *copy_one(char **at, const char *src, uint32_t *len)
{
	if (*len > TEXT_MAX)
		*len = TEXT_MAX;
	char *dst = *at;
	memcpy(dst, src, *len);
	*at += *len;
	return dst;
}

/* Points d's strings and argument types at copies in the text area, if it
 * has room (else d keeps pointing at the site's own). Runs in signal
 * context. */
static void copy_strings(struct ttlog__site_desc *d)
{
	size_t total = (size_t)d->nargs + TTLOG__MIN(d->format_len, TEXT_MAX) +
		       TTLOG__MIN(d->file_len, TEXT_MAX) + TTLOG__MIN(d->function_len, TEXT_MAX) +
		       TTLOG__MIN(d->target_len, TEXT_MAX);
	char *at = take_text(total);
	if (!at)
		return;
	if (d->nargs) {
		memcpy(at, d->arg_types, d->nargs);
		d->arg_types = (const uint8_t *)at;
		at += d->nargs;
	}
	d->format = copy_one(&at, d->format, &d->format_len);
	d->file = copy_one(&at, d->file, &d->file_len);
	d->function = copy_one(&at, d->function, &d->function_len);
	d->target = copy_one(&at, d->target, &d->target_len);
}

/* Runs in signal context. */
void ttlog__site_desc_fill(struct ttlog__site_desc *d, uint32_t id, const struct ttlog_site *s)
{
	memset(d, 0, sizeof *d);
	d->id = id;
	d->line = s->line;
	d->level = s->level;
	d->nargs = s->nargs;
	d->kind = s->kind;
	d->arg_types = s->arg_types;
	d->format = measured(s->format, &d->format_len);
	d->file = measured(s->file, &d->file_len);
	d->function = measured(s->function, &d->function_len);
	d->target = measured(ttlog__site_target(s), &d->target_len);
	find_names(d, s);
	copy_strings(d);
}
