/* SPDX-License-Identifier: MIT */
/*
 * fields.c - finds the names of TTLOG_F() fields in argument source text.
 *
 * TTLOG_F(name, value) expands to ((void)"ttlog:field" name, (value)): a
 * comma expression whose value and type are the value's, with the name in
 * a discarded string literal. The log macro stringizes each argument after
 * expansion into the site's arg_text, so the text of a field argument is
 *
 *     ((void)"ttlog:field" "user_id", (uid))
 *
 * (with the spaces the preprocessor normalised). A macro that stringizes
 * before expansion would give TTLOG_F("user_id", uid) instead; both are
 * accepted. The name is one or more adjacent string literals, which are
 * concatenated and unescaped here like the compiler would for the simple
 * escapes; an octal or hex escape stays as written, since a field name has
 * no business holding one.
 *
 * Everything here runs in signal context: a site's first call, from any
 * thread or signal handler, resolves its description with it
 * (src/sites/desc.c). Only pointer arithmetic, no library calls.
 */
#include "sites/fields.h"

#include "common/internal.h"

static const char field_marker[] = "((void)\"ttlog:field\"";
static const char field_macro[] = "TTLOG_F";

/* Runs in signal context. */
static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return p;
}

/* p past prefix if text starts with it, else NULL. Runs in signal context. */
static const char *after_prefix(const char *p, const char *prefix)
{
	while (*prefix)
		if (*p++ != *prefix++)
			return NULL;
	return p;
}

/* The character an escape "\c" stands for, for the escapes names may use.
 * Runs in signal context. */
static int simple_escape(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case '"': return '"';
	case '\\': return '\\';
	case '\'': return '\'';
	default: return -1;
	}
}

/* Parses adjacent string literals at p into out; returns their byte count,
 * or (size_t)-1 if p holds no literal. Runs in signal context. */
static size_t parse_literals(const char *p, char *out)
{
	size_t n = 0;
	int found = 0;
	for (;;) {
		p = skip_spaces(p);
		if (*p != '"')
			break;
		found = 1;
		for (p++; *p && *p != '"'; p++) {
			int c = (unsigned char)*p;
			if (c == '\\' && p[1]) {
				int e = simple_escape(p[1]);
				if (e >= 0) {
					c = e;
					p++;
				}
			}
			if (n < TTLOG__FIELD_NAME_MAX)
				out[n++] = (char)c;
		}
		if (*p != '"')
			return (size_t)-1; /* unterminated: not text the compiler accepted */
		p++;
	}
	return found ? n : (size_t)-1;
}

/* Where the name's literals begin in a field's text (after the marker or
 * "TTLOG_F("), or NULL if text is no field. Runs in signal context. */
static const char *literals_start(const char *text)
{
	if (!text)
		return NULL;
	const char *p = skip_spaces(text);
	const char *q = after_prefix(p, field_marker);
	if (!q) {
		q = after_prefix(p, field_macro);
		if (!q)
			return NULL;
		q = skip_spaces(q);
		if (*q != '(')
			return NULL;
		q++;
	}
	return q;
}

/* See fields.h. Runs in signal context. */
size_t ttlog__field_name(const char *text, char out[TTLOG__FIELD_NAME_MAX + 1])
{
	const char *q = literals_start(text);
	if (!q)
		return 0;
	size_t n = parse_literals(q, out);
	if (n == (size_t)-1)
		return 0;
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
	return n;
}

/* See fields.h. Runs in signal context. */
const char *ttlog__field_name_source(const char *text, const char *name, size_t len)
{
	const char *q = literals_start(text);
	if (!q)
		return NULL;
	q = skip_spaces(q);
	if (*q != '"')
		return NULL;
	q++;
	/* Stops at the text's end: a name never reads past it. */
	for (size_t i = 0; i < len; i++)
		if (q[i] != name[i] || q[i] == '\0')
			return NULL;
	return q;
}

const char *ttlog__site_arg_text(const struct ttlog_site *site, unsigned i)
{
	const char *t = site->arg_text;
	if (!t || i >= site->nargs)
		return NULL;
	while (i--) {
		while (*t)
			t++;
		t++; /* the NUL after each text; "" ends the list */
	}
	return t;
}

/* See fields.h. Runs in signal context. */
uint32_t ttlog__site_field_mask(const struct ttlog_site *site)
{
	uint32_t mask = 0;
	const char *t = site->arg_text;
	if (!t)
		return 0;
	for (unsigned i = 0; i < site->nargs && i < 32; i++) {
		char name[TTLOG__FIELD_NAME_MAX + 1];
		if (ttlog__field_name(t, name))
			mask |= 1u << i;
		while (*t)
			t++;
		t++;
	}
	return mask;
}
