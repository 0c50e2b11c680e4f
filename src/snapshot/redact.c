/* SPDX-License-Identifier: MIT */
/*
 * redact.c - parsing TTLOG_REDACT, matching its rules against a call
 * site, and rewriting a record with the values they name replaced (see
 * redact.h).
 *
 * A record is its 16-byte header (u32 size, u32 site id, u64 ticks), then
 * the arguments in site order with no padding (docs/FORMAT.md 9.4: fixed
 * widths, a string as a u32 word of length and flags, then its bytes),
 * zero bytes up to a multiple of 8. The rewrite keeps the header's id and
 * ticks, writes each argument again (a redacted string as its marker, a
 * redacted number as zeros of its width) and sets the new size.
 */
#include "snapshot/redact.h"

#include <stdio.h>
#include <string.h>

#include "common/internal.h"
#include "format/format.h"
#include "sites/desc.h"

static struct ttlog__redact current;

void ttlog__redact_set(const struct ttlog__redact *rules)
{
	if (rules)
		current = *rules;
	else
		current.n = 0;
}

const struct ttlog__redact *ttlog__redact_rules(void)
{
	return &current;
}

static int bad(char *err, size_t errsize, const char *item, size_t n)
{
	snprintf(err, errsize,
		 "TTLOG_REDACT: expected field keys (globs such as card*) or arg:N@FILE:LINE, "
		 "separated by commas, got '%.*s'",
		 (int)n, item);
	return -1;
}

/* One rule, n bytes at item. */
static int parse_rule(const char *item, size_t n, struct ttlog__redact_rule *r, char *err,
		      size_t errsize)
{
	memset(r, 0, sizeof *r);
	if (n > 4 && memcmp(item, "arg:", 4) == 0) {
		const char *p = item + 4, *end = item + n;
		unsigned arg = 0;
		while (p < end && *p >= '0' && *p <= '9' && arg <= 16)
			arg = arg * 10 + (unsigned)(*p++ - '0');
		if (p == item + 4 || arg < 1 || arg > 16 || p == end || *p != '@')
			return bad(err, errsize, item, n);
		const char *file = ++p;
		const char *colon = NULL;
		for (const char *q = file; q < end; q++)
			if (*q == ':')
				colon = q;
		if (!colon || colon == file || colon + 1 == end ||
		    (size_t)(colon - file) > TTLOG__REDACT_FILE_MAX)
			return bad(err, errsize, item, n);
		uint32_t line = 0;
		for (const char *q = colon + 1; q < end; q++) {
			if (*q < '0' || *q > '9' || line > 100000000u)
				return bad(err, errsize, item, n);
			line = line * 10 + (uint32_t)(*q - '0');
		}
		if (!line)
			return bad(err, errsize, item, n);
		r->arg = (uint8_t)arg;
		r->line = line;
		memcpy(r->file, file, (size_t)(colon - file));
		return 0;
	}
	if (n == 0 || n > TTLOG__REDACT_PATTERN_MAX)
		return bad(err, errsize, item, n);
	for (size_t i = 0; i < n; i++)
		if (item[i] == ' ' || item[i] == '=' || item[i] == '@' || item[i] == ':')
			return bad(err, errsize, item, n);
	memcpy(r->pattern, item, n);
	return 0;
}

int ttlog__redact_parse(const char *spec, struct ttlog__redact *out, char *err, size_t errsize)
{
	out->n = 0;
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (out->n == TTLOG__REDACT_MAX_RULES) {
			snprintf(err, errsize, "TTLOG_REDACT: expected at most %d rules, got more",
				 TTLOG__REDACT_MAX_RULES);
			return -1;
		}
		if (parse_rule(p, n, &out->rule[out->n], err, errsize) != 0)
			return -1;
		out->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* `*` and `?` glob over n bytes of s. Runs in signal context. */
static int glob_match(const char *pat, const char *s, size_t n)
{
	const char *star = NULL;
	size_t i = 0, back = 0;
	while (i < n) {
		if (*pat == '*') {
			star = pat++;
			back = i;
		} else if (*pat && (*pat == '?' || *pat == s[i])) {
			pat++;
			i++;
		} else if (star) {
			pat = star + 1;
			i = ++back;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* Whether the site's path ends with the rule's file at a '/' boundary.
 * Runs in signal context. */
static int file_match(const char *rule_file, const struct ttlog__site_desc *d)
{
	size_t k = strlen(rule_file);
	if (!d->file || d->file_len < k)
		return 0;
	const char *tail = d->file + d->file_len - k;
	return memcmp(tail, rule_file, k) == 0 && (tail == d->file || tail[-1] == '/');
}

/* Characters of a field key written before "=%" in a format. Runs in
 * signal context. */
static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Runs in signal context. */
static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The arguments whose conversion in the format follows "key=" with a key
 * that a glob of the rules matches, as the reader finds the keys
 * (reader/format_keys.c): the key is the run of key characters before
 * '=', from its first letter or '_'. Conversions are walked as printf
 * takes their arguments: "%%" takes none, "*" widths and precisions one,
 * "%m" none, "N$" names the argument. Runs in signal context. */
static uint32_t format_key_mask(const struct ttlog__redact *rules, const char *f, size_t len)
{
	uint32_t mask = 0;
	unsigned next = 0;
	size_t seg = 0, i = 0;
	while (i < len) {
		if (f[i] != '%') {
			i++;
			continue;
		}
		size_t pct = i++;
		if (i < len && f[i] == '%') {
			i++;
			continue;
		}
		int pos = -1;
		size_t d = i;
		while (d < len && is_digit(f[d]))
			d++;
		if (d > i && d < len && f[d] == '$') {
			pos = 0;
			for (size_t k = i; k < d && pos < 100; k++)
				pos = pos * 10 + (f[k] - '0');
			i = d + 1;
		}
		while (i < len && (f[i] == '-' || f[i] == '+' || f[i] == ' ' || f[i] == '#' ||
				   f[i] == '0' || f[i] == '\''))
			i++;
		if (i < len && f[i] == '*') {
			next++;
			i++;
			while (i < len && (is_digit(f[i]) || f[i] == '$'))
				i++;
		}
		while (i < len && is_digit(f[i]))
			i++;
		if (i < len && f[i] == '.') {
			i++;
			if (i < len && f[i] == '*') {
				next++;
				i++;
				while (i < len && (is_digit(f[i]) || f[i] == '$'))
					i++;
			}
			while (i < len && is_digit(f[i]))
				i++;
		}
		while (i < len && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L' || f[i] == 'q' ||
				   f[i] == 'j' || f[i] == 'z' || f[i] == 't'))
			i++;
		if (i >= len)
			break;
		char conv = f[i++];
		if (conv == 'm')
			continue;
		unsigned arg = pos > 0 ? (unsigned)pos - 1 : next++;
		/* The key before this conversion, in the text since the last one. */
		size_t end = pct;
		if (end > seg && f[end - 1] == '=' && arg < 32) {
			size_t k = end - 1;
			while (k > seg && key_char(f[k - 1]))
				k--;
			while (k < end - 1 && !((f[k] >= 'a' && f[k] <= 'z') ||
						(f[k] >= 'A' && f[k] <= 'Z') || f[k] == '_'))
				k++;
			for (unsigned r = 0; k < end - 1 && r < rules->n; r++)
				if (!rules->rule[r].arg && glob_match(rules->rule[r].pattern, f + k, end - 1 - k))
					mask |= 1u << arg;
		}
		seg = i;
	}
	return mask;
}

/* Runs in signal context. */
uint32_t ttlog__redact_mask(const struct ttlog__redact *rules, const struct ttlog__site_desc *d)
{
	if (!rules || !d || !rules->n)
		return 0;
	uint32_t mask = d->format ? format_key_mask(rules, d->format, d->format_len) : 0;
	for (unsigned k = 0; k < rules->n; k++) {
		const struct ttlog__redact_rule *r = &rules->rule[k];
		if (r->arg) {
			if (r->arg <= d->nargs && r->line == d->line && file_match(r->file, d))
				mask |= 1u << (r->arg - 1);
			continue;
		}
		for (unsigned i = 0; i < d->nargs && i < TTLOG__SITE_DESC_MAX_FIELDS; i++) {
			if (!(d->fields & (1u << i)))
				continue;
			size_t len;
			const char *name = ttlog__site_desc_name(d, i, &len);
			if (glob_match(r->pattern, name, len))
				mask |= 1u << i;
		}
	}
	return mask;
}

/* Bytes of an argument of this type before any string bytes; 0 for an
 * unknown type. Runs in signal context. */
static uint32_t width(uint8_t type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: return 1;
	case TTLOG_ARG_I16: case TTLOG_ARG_U16: return 2;
	case TTLOG_ARG_I32: case TTLOG_ARG_U32: case TTLOG_ARG_STR: return 4;
	case TTLOG_ARG_I64: case TTLOG_ARG_U64: case TTLOG_ARG_F64: case TTLOG_ARG_LDBL:
	case TTLOG_ARG_PTR: return 8;
	case TTLOG_ARG_LD80: return 10;
	default: return 0;
	}
}

/* "[REDACTED n]" into buf; its length. Runs in signal context. */
static uint32_t marker(char *buf, uint32_t n)
{
	char digits[12];
	int k = 0;
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	uint32_t len = 0;
	memcpy(buf, "[REDACTED ", 10);
	len = 10;
	while (k)
		buf[len++] = digits[--k];
	buf[len++] = ']';
	return len;
}

/* Walks rec's arguments; with out, writes the redacted record there.
 * Returns the redacted record's size (0: the arguments do not fill rec),
 * and the values replaced in *count. Runs in signal context. */
static uint32_t walk(const unsigned char *rec, uint32_t size, const struct ttlog__site_desc *d,
		     uint32_t mask, unsigned char *out, uint32_t *count)
{
	uint32_t in = TTLOG__FMT_RECORD_HEADER_SIZE, at = TTLOG__FMT_RECORD_HEADER_SIZE;
	*count = 0;
	for (unsigned i = 0; i < d->nargs; i++) {
		uint8_t t = d->arg_types[i];
		uint32_t w = width(t);
		int redact = i < 32 && (mask & (1u << i));
		if (!w || size - in < w)
			return 0;
		if (t != TTLOG_ARG_STR) {
			if (out) {
				if (redact)
					memset(out + at, 0, w);
				else
					memcpy(out + at, rec + in, w);
			}
			*count += (uint32_t)redact;
			in += w;
			at += w;
			continue;
		}
		uint32_t word = ttlog__get_u32(rec + in);
		uint32_t n = word & TTLOG__STR_LEN_MASK;
		if (size - in - 4 < n)
			return 0;
		if (redact && !(word & TTLOG__STR_NULL)) {
			char m[TTLOG__REDACT_MARKER_MAX];
			uint32_t mlen = marker(m, n);
			if (out) {
				ttlog__put_u32(out + at, mlen);
				memcpy(out + at + 4, m, mlen);
			}
			*count += 1;
			at += 4 + mlen;
		} else {
			if (out)
				memcpy(out + at, rec + in, 4 + n);
			at += 4 + n;
		}
		in += 4 + n;
	}
	uint32_t total = (at + 7) & ~7u;
	if (out) {
		memcpy(out, rec, TTLOG__FMT_RECORD_HEADER_SIZE);
		ttlog__put_u32(out, total);
		memset(out + at, 0, total - at);
	}
	return total;
}

/* Runs in signal context. */
uint32_t ttlog__redact_size(const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask)
{
	uint32_t count;
	if (size < TTLOG__FMT_RECORD_HEADER_SIZE)
		return 0;
	return walk(rec, size, d, mask, NULL, &count);
}

/* Runs in signal context. */
uint32_t ttlog__redact_copy(unsigned char *out, const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask)
{
	uint32_t count;
	walk(rec, size, d, mask, out, &count);
	return count;
}
