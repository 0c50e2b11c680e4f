/* SPDX-License-Identifier: MIT */
/*
 * tracestate.c - ttlog's member of a W3C `tracestate` list, `ttlog=dump`:
 * written into a response by a service that failed a request, recognised
 * by a caller, which then writes the request's history out of its own
 * rings (ttlog_trace_dump()) and passes the member on upstream.
 *
 * A tracestate is untrusted input (it comes from another process, often
 * another organisation), so it is parsed strictly, by the grammar of W3C
 * Trace Context level 1, section 3.3, and with bounds:
 *
 *   list        = member *( OWS "," OWS member ), empty members allowed
 *   member      = key "=" value
 *   key         = lcalpha 0*255( lcalpha / DIGIT / "_" / "-" / "*" / "/" )
 *               / tenant "@" system
 *   tenant      = ( lcalpha / DIGIT ) 0*240( same set )
 *   system      = lcalpha 0*13( same set )
 *   value       = 0*255( %x20-2B / %x2D-3C / %x3E-7E ) ending in a
 *                 character other than a space
 *   OWS         = *( SP / HTAB )
 *
 * At most 32 members (TTLOG_TRACESTATE_MEMBERS_MAX) and
 * TTLOG_TRACESTATE_MAX bytes; a key may appear once. A list that breaks any
 * rule is malformed as a whole (the specification: discard it), and none
 * of its members counts. The parser reads at most TTLOG_TRACESTATE_MAX + 1
 * bytes of its input and allocates nothing.
 */
#include <string.h>

#include "ttlog.h"

#define KEY_MAX 256
#define TENANT_MAX 241
#define SYSTEM_MAX 14
#define VALUE_MAX 256

struct member {
	const char *key, *value;
	size_t key_len, value_len;
};

static int lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static int key_char(char c)
{
	return lcalpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' || c == '/';
}

static int value_char(char c)
{
	return c >= 0x20 && c <= 0x7e && c != ',' && c != '=';
}

static int key_valid(const char *k, size_t n)
{
	const char *at = memchr(k, '@', n);
	if (!at) {
		if (n == 0 || n > KEY_MAX || !lcalpha(k[0]))
			return 0;
		for (size_t i = 1; i < n; i++)
			if (!key_char(k[i]))
				return 0;
		return 1;
	}
	size_t t = (size_t)(at - k), s = n - t - 1;
	if (t == 0 || t > TENANT_MAX || s == 0 || s > SYSTEM_MAX || !lcalpha(at[1]) ||
	    !(lcalpha(k[0]) || (k[0] >= '0' && k[0] <= '9')))
		return 0;
	for (size_t i = 1; i < t; i++)
		if (!key_char(k[i]))
			return 0;
	for (size_t i = 2; i <= s; i++)
		if (!key_char(at[i]))
			return 0;
	return 1;
}

static int value_valid(const char *v, size_t n)
{
	if (n == 0 || n > VALUE_MAX || v[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!value_char(v[i]))
			return 0;
	return 1;
}

/*
 * Splits list into its members (empty ones left out) into m (room for
 * TTLOG_TRACESTATE_MEMBERS_MAX). The count, or -1 if the list is malformed.
 * NULL or "" is an empty list.
 */
static int parse(const char *list, struct member *m)
{
	if (!list)
		return 0;
	size_t len = strnlen(list, TTLOG_TRACESTATE_MAX + 1);
	if (len > TTLOG_TRACESTATE_MAX)
		return -1;
	int n = 0;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && list[i] != ',')
			i++;
		/* One member, OWS around it. */
		size_t a = start, b = i;
		while (a < b && (list[a] == ' ' || list[a] == '\t'))
			a++;
		while (b > a && (list[b - 1] == ' ' || list[b - 1] == '\t'))
			b--;
		if (a < b) {
			const char *eq = memchr(list + a, '=', b - a);
			if (!eq || n == TTLOG_TRACESTATE_MEMBERS_MAX)
				return -1;
			struct member *e = &m[n];
			e->key = list + a;
			e->key_len = (size_t)(eq - e->key);
			e->value = eq + 1;
			e->value_len = (size_t)(list + b - e->value);
			if (!key_valid(e->key, e->key_len) || !value_valid(e->value, e->value_len))
				return -1;
			for (int j = 0; j < n; j++)
				if (m[j].key_len == e->key_len && !memcmp(m[j].key, e->key, e->key_len))
					return -1; /* a key appears once */
			n++;
		}
		if (i == len)
			return n;
		i++; /* the comma */
	}
}

static int is_ttlog(const struct member *e)
{
	return e->key_len == 5 && memcmp(e->key, "ttlog", 5) == 0;
}

TTLOG_API int ttlog_tracestate_wants_dump(const char *tracestate)
{
	struct member m[TTLOG_TRACESTATE_MEMBERS_MAX];
	int n = parse(tracestate, m);
	for (int i = 0; i < n; i++)
		if (is_ttlog(&m[i]))
			return m[i].value_len == 4 && memcmp(m[i].value, "dump", 4) == 0;
	return 0;
}

TTLOG_API int ttlog_tracestate_dump(char *buf, size_t size, const char *tracestate)
{
	if (!buf)
		return TTLOG_E_INVALID;
	static const char entry[] = "ttlog=dump";
	if (size < sizeof entry) {
		if (size)
			buf[0] = '\0';
		return TTLOG_E_RANGE;
	}
	struct member m[TTLOG_TRACESTATE_MEMBERS_MAX];
	int n = parse(tracestate, m);
	/* A modified member goes first; ours replaces an earlier one, and
	 * the rightmost members go if the list would exceed 32. */
	size_t at = sizeof entry - 1;
	memcpy(buf, entry, at);
	int kept = 1, rc = n < 0 ? TTLOG_E_INVALID : TTLOG_OK;
	for (int i = 0; i < n && kept < TTLOG_TRACESTATE_MEMBERS_MAX; i++) {
		if (is_ttlog(&m[i]))
			continue;
		size_t need = 1 + m[i].key_len + 1 + m[i].value_len;
		if (need >= size - at || at + need > TTLOG_TRACESTATE_MAX) {
			rc = TTLOG_E_RANGE; /* the members that fit are kept */
			break;
		}
		buf[at++] = ',';
		memcpy(buf + at, m[i].key, m[i].key_len);
		at += m[i].key_len;
		buf[at++] = '=';
		memcpy(buf + at, m[i].value, m[i].value_len);
		at += m[i].value_len;
		kept++;
	}
	buf[at] = '\0';
	return rc;
}
