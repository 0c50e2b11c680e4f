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
#define TTLOG_TOOLS_UNSTABLE
#include "ttlog_tools.h"

static struct ttlog__redact current;

void ttlog__redact_set(const struct ttlog__redact *rules)
{
	if (rules)
		current = *rules;
	else
		current.n = current.npat = 0;
}

int ttlog__redact_merge(struct ttlog__redact *into, const struct ttlog__redact *more)
{
	if (into->n + more->n > TTLOG__REDACT_MAX_RULES ||
	    into->npat + more->npat > TTLOG__REDACT_MAX_PATTERNS)
		return -1;
	memcpy(&into->rule[into->n], more->rule, more->n * sizeof more->rule[0]);
	into->n += more->n;
	memcpy(&into->pat[into->npat], more->pat, more->npat * sizeof more->pat[0]);
	into->npat += more->npat;
	return 0;
}

/* The rules in force before ttlog__snapshot_redact_owner() added an
 * owner's; swapped: they are to be put back. */
static struct ttlog__redact before_owner, with_owner, owner_rules;
static int swapped;

/* For the snapshot a tool writes from a shared mapping (shm/map_snapshot.c,
 * which libttlog-read builds, hence exported): adds the rules of the
 * mapping's owner (SHM-FORMAT.md 1.2), owner_spec, to this process's, until
 * the next call with owner_spec NULL puts them back. cut: the owner's rules
 * were too long for its mapping, and this process must have rules of its
 * own (--redact). TTLOG_OK, else TTLOG_E_CORRUPT (the owner's text does not
 * parse) or TTLOG_E_INVALID (cut without rules of ours; too many together),
 * with err set. Not thread-safe, as ttlog__snapshot_redact(). */
TTLOG_API int ttlog__snapshot_redact_owner(const char *owner_spec, int cut, char *err,
					   size_t err_size)
{
	if (!owner_spec && !cut) {
		if (swapped)
			current = before_owner;
		swapped = 0;
		return TTLOG_OK;
	}
	if (cut) {
		if (current.n || current.npat)
			return TTLOG_OK;
		snprintf(err, err_size, "the process's redaction rules (TTLOG_REDACT) were too long "
					"for its mapping; give them with --redact");
		return TTLOG_E_INVALID;
	}
	char msg[512];
	if (ttlog__redact_parse(owner_spec, &owner_rules, msg, sizeof msg) != 0) {
		snprintf(err, err_size, "the process's redaction rules cannot be read: %s", msg);
		return TTLOG_E_CORRUPT;
	}
	with_owner = current;
	if (ttlog__redact_merge(&with_owner, &owner_rules) != 0) {
		snprintf(err, err_size,
			 "the process's redaction rules and --redact's are together more than %d "
			 "rules or %d patterns",
			 TTLOG__REDACT_MAX_RULES, TTLOG__REDACT_MAX_PATTERNS);
		return TTLOG_E_INVALID;
	}
	before_owner = current;
	current = with_owner;
	swapped = 1;
	return TTLOG_OK;
}

TTLOG_API int ttlog__snapshot_redact(const char *spec, char *err, size_t err_size)
{
	static struct ttlog__redact parsed; /* a few kilobytes: not on the stack */
	char msg[512];
	if (ttlog__redact_parse(spec, &parsed, msg, sizeof msg) != 0) {
		if (err && err_size)
			snprintf(err, err_size, "%s", msg);
		return TTLOG_E_CONFIG;
	}
	ttlog__redact_set(&parsed);
	return TTLOG_OK;
}

const struct ttlog__redact *ttlog__redact_rules(void)
{
	return &current;
}

static int bad(char *err, size_t errsize, const char *item, size_t n)
{
	snprintf(err, errsize,
		 "TTLOG_REDACT: expected field keys (globs such as card*), arg:N@FILE:LINE or "
		 "re:PATTERN, "
		 "separated by commas, got '%.*s'",
		 (int)n, item);
	return -1;
}

/* ---- re: patterns (redact.h) ---------------------------------------------- */

static int bad_pat(char *err, size_t errsize, const char *item, size_t n, size_t pos,
		   const char *why)
{
	snprintf(err, errsize, "TTLOG_REDACT: pattern '%.*s': %s at position %zu", (int)n, item,
		 why, pos + 1);
	return -1;
}

/* A count of {m,n} at *i in p (n bytes); -1 if none or above 64. */
static int pat_count(const char *p, size_t n, size_t *i)
{
	int v = -1;
	while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
		v = (v < 0 ? 0 : v) * 10 + (p[(*i)++] - '0');
		if (v > TTLOG__REDACT_PAT_STATES)
			return -2;
	}
	return v;
}

/* Compiles the n bytes of pattern p (after "re:") into *pat; item/len is
 * the whole rule for messages, off the pattern's offset in it. */
static int compile_pat(const char *p, size_t n, struct ttlog__redact_pat *pat, const char *item,
		       size_t len, size_t off, char *err, size_t errsize)
{
	memset(pat, 0, sizeof *pat);
	if (n == 0)
		return bad_pat(err, errsize, item, len, off, "expected a pattern");
	if (n > TTLOG__REDACT_PATTERN_MAX)
		return bad_pat(err, errsize, item, len, off + TTLOG__REDACT_PATTERN_MAX,
			       "longer than 64 bytes");
	unsigned required = 0;
	size_t i = 0;
	while (i < n) {
		size_t at = i;
		if (pat->natoms == TTLOG__REDACT_PAT_ATOMS)
			return bad_pat(err, errsize, item, len, off + at, "more than 32 atoms");
		uint8_t *set = pat->set[pat->natoms];
		char c = p[i++];
		if (c == '.') {
			memset(set, 0xff, 32);
		} else if (c == '[') {
			int neg = i < n && p[i] == '^';
			i += (size_t)neg;
			int any = 0;
			for (;;) {
				if (i >= n)
					return bad_pat(err, errsize, item, len, off + at,
						       "expected ']' to close this class");
				if (p[i] == ']' && any)
					break;
				if (p[i] == ']')
					return bad_pat(err, errsize, item, len, off + i,
						       "empty class");
				unsigned char lo = (unsigned char)p[i++];
				if (lo == '\\') {
					if (i >= n)
						return bad_pat(err, errsize, item, len, off + i - 1,
							       "expected a byte after '\\'");
					lo = (unsigned char)p[i++];
				}
				unsigned char hi = lo;
				if (i + 1 < n && p[i] == '-' && p[i + 1] != ']') {
					i++;
					hi = (unsigned char)p[i++];
					if (hi == '\\') {
						if (i >= n)
							return bad_pat(err, errsize, item, len, off + i - 1,
								       "expected a byte after '\\'");
						hi = (unsigned char)p[i++];
					}
					if (hi < lo)
						return bad_pat(err, errsize, item, len, off + i - 1,
							       "range out of order");
				}
				for (unsigned b = lo; b <= hi; b++)
					set[b >> 3] |= (uint8_t)(1u << (b & 7));
				any = 1;
			}
			i++; /* ']' */
			if (neg)
				for (unsigned k = 0; k < 32; k++)
					set[k] = (uint8_t)~set[k];
		} else if (c == ']' || c == '{' || c == '}' || c == '?' || c == '*' || c == '+') {
			return bad_pat(err, errsize, item, len, off + at,
				       c == ']' || c == '}' ? "unmatched bracket"
							    : "quantifier without an atom before it");
		} else {
			if (c == '\\') {
				if (i >= n)
					return bad_pat(err, errsize, item, len, off + at,
						       "expected a byte after '\\'");
				c = p[i++];
			}
			unsigned char b = (unsigned char)c;
			set[b >> 3] |= (uint8_t)(1u << (b & 7));
		}
		/* The quantifier. */
		int lo = 1, hi = 1; /* hi -1: unbounded */
		if (i < n && (p[i] == '?' || p[i] == '*' || p[i] == '+')) {
			lo = p[i] == '+';
			hi = p[i] == '?' ? 1 : -1;
			i++;
		} else if (i < n && p[i] == '{') {
			size_t q = i++;
			lo = pat_count(p, n, &i);
			if (lo < 0)
				return bad_pat(err, errsize, item, len, off + q,
					       lo == -2 ? "count above 64" : "expected {m}, {m,n} or {m,}");
			hi = lo;
			if (i < n && p[i] == ',') {
				i++;
				hi = pat_count(p, n, &i);
				if (hi == -2)
					return bad_pat(err, errsize, item, len, off + q, "count above 64");
				if (hi >= 0 && hi < lo)
					return bad_pat(err, errsize, item, len, off + q,
						       "{m,n} with n below m");
			}
			if (i >= n || p[i] != '}')
				return bad_pat(err, errsize, item, len, off + q,
					       "expected {m}, {m,n} or {m,}");
			i++;
			if (hi == 0)
				return bad_pat(err, errsize, item, len, off + q, "count of 0");
		}
		unsigned states = hi < 0 ? (unsigned)(lo ? lo : 1) : (unsigned)hi;
		if (pat->nstates + states > TTLOG__REDACT_PAT_STATES)
			return bad_pat(err, errsize, item, len, off + at,
				       "more than 64 states (repetitions unrolled)");
		for (unsigned k = 0; k < states; k++) {
			unsigned s = pat->nstates++;
			pat->cls[s] = pat->natoms;
			pat->opt[s] = (int)k >= lo;
			pat->loop[s] = hi < 0 && k + 1 == states;
		}
		if (hi < 0 && lo == 0)
			pat->opt[pat->nstates - 1] = 1;
		required += (unsigned)lo;
		pat->natoms++;
	}
	if (!required)
		return bad_pat(err, errsize, item, len, off, "matches the empty string");
	return 0;
}

/* Runs in signal context. */
static int in_set(const uint8_t *set, unsigned char b)
{
	return (set[b >> 3] >> (b & 7)) & 1;
}

/* One pattern over s; replaces its matches with '*'. Runs in signal context. */
static uint32_t scrub_one(const struct ttlog__redact_pat *pat, unsigned char *s, uint32_t n)
{
	/* start[k]: the earliest start of a partial match about to match
	 * state k (state nstates: a whole match); UINT32_MAX: none. */
	uint32_t cur[TTLOG__REDACT_PAT_STATES + 1], nxt[TTLOG__REDACT_PAT_STATES + 1];
	unsigned ns = pat->nstates;
	uint32_t runs = 0, masked = 0; /* bytes before masked are replaced */
	for (unsigned k = 0; k <= ns; k++)
		cur[k] = UINT32_MAX;
	for (uint32_t p = 0;; p++) {
		if (cur[0] > p)
			cur[0] = p;
		/* Skipping optional states: forward only, so one pass. */
		for (unsigned k = 0; k < ns; k++)
			if (pat->opt[k] && cur[k] < cur[k + 1])
				cur[k + 1] = cur[k];
		if (cur[ns] != UINT32_MAX) {
			uint32_t from = cur[ns] > masked ? cur[ns] : masked;
			if (cur[ns] >= masked && from < p)
				runs++;
			for (uint32_t q = from; q < p; q++)
				s[q] = '*';
			if (p > masked)
				masked = p;
		}
		if (p == n)
			break;
		/* Only bytes before p are ever replaced: b is as written. */
		unsigned char b = s[p];
		for (unsigned k = 0; k <= ns; k++)
			nxt[k] = UINT32_MAX;
		for (unsigned k = 0; k < ns; k++) {
			if (cur[k] == UINT32_MAX || !in_set(pat->set[pat->cls[k]], b))
				continue;
			if (cur[k] < nxt[k + 1])
				nxt[k + 1] = cur[k];
			if (pat->loop[k] && cur[k] < nxt[k])
				nxt[k] = cur[k];
		}
		memcpy(cur, nxt, sizeof cur);
	}
	return runs;
}

/* Runs in signal context. */
uint32_t ttlog__redact_scrub(const struct ttlog__redact *rules, unsigned char *s, uint32_t n)
{
	uint32_t runs = 0;
	for (unsigned k = 0; rules && k < rules->npat; k++)
		runs += scrub_one(&rules->pat[k], s, n);
	return runs;
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

/* The comma that ends the rule at p, or NULL: for a re: rule, a comma
 * inside {...} or [...] (or after '\\') is part of the pattern. */
static const char *rule_end(const char *p)
{
	if (strncmp(p, "re:", 3) != 0)
		return strchr(p, ',');
	int brace = 0, bracket = 0;
	for (const char *q = p + 3; *q; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (bracket)
			bracket = *q != ']';
		else if (*q == '[')
			bracket = 1;
		else if (*q == '{')
			brace = 1;
		else if (*q == '}')
			brace = 0;
		else if (*q == ',' && !brace)
			return q;
	}
	return NULL;
}

int ttlog__redact_parse(const char *spec, struct ttlog__redact *out, char *err, size_t errsize)
{
	out->n = 0;
	out->npat = 0;
	out->spec[0] = '\0';
	out->spec_cut = 0;
	if (!spec || !*spec || strcmp(spec, "none") == 0)
		return 0;
	size_t len = strlen(spec);
	if (len <= TTLOG__REDACT_SPEC_MAX)
		memcpy(out->spec, spec, len + 1);
	else
		out->spec_cut = 1;
	const char *p = spec;
	for (;;) {
		const char *comma = rule_end(p);
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n >= 3 && memcmp(p, "re:", 3) == 0) {
			if (out->npat == TTLOG__REDACT_MAX_PATTERNS) {
				snprintf(err, errsize,
					 "TTLOG_REDACT: expected at most %d re: patterns, got more",
					 TTLOG__REDACT_MAX_PATTERNS);
				return -1;
			}
			if (compile_pat(p + 3, n - 3, &out->pat[out->npat], p, n, 3, err,
					errsize) != 0)
				return -1;
			out->npat++;
			if (!comma)
				return 0;
			p = comma + 1;
			continue;
		}
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
		     uint32_t mask, unsigned char *out, uint32_t *count,
		     const struct ttlog__redact *rules)
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
			if (out) {
				memcpy(out + at, rec + in, 4 + n);
				*count += ttlog__redact_scrub(rules, out + at + 4, n);
			}
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
	return walk(rec, size, d, mask, NULL, &count, NULL);
}

/* Runs in signal context. */
uint32_t ttlog__redact_copy(unsigned char *out, const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask,
			    const struct ttlog__redact *rules)
{
	uint32_t count;
	walk(rec, size, d, mask, out, &count, rules);
	return count;
}

/* Runs in signal context. */
int ttlog__redact_scans(const struct ttlog__redact *rules, const struct ttlog__site_desc *d)
{
	if (!rules || !d || !rules->npat)
		return 0;
	for (unsigned i = 0; i < d->nargs; i++)
		if (d->arg_types[i] == TTLOG_ARG_STR)
			return 1;
	return 0;
}
