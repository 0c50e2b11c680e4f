/* SPDX-License-Identifier: MIT */
/*
 * format_keys.c - the field keys a format names: in "user=%u", the
 * argument that %u prints is the field "user". Found once per call site
 * when a file is opened (ttlog__reader_site_fields() in reader/chunks.c),
 * with the conversion parser that ttlog_format() uses (reader/format_plan.c),
 * so that the fields and the formatted message read a format alike.
 */
#include <string.h>

#include "common/internal.h"
#include "reader/printf_spec.h"
#include "reader/reader_internal.h"

/* Characters of a field key written before "=%" in a format. */
static int fmt_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/*
 * The key that the literal text [seg, end) gives the conversion after it:
 * the text must end in "key=", where key is the longest run of key
 * characters, starting at its first letter or '_' (so "50%%=%d" and
 * "-=%d" give none). Returns the key's length and sets *key, or 0.
 */
static size_t fmt_key_before(const char *seg, const char *end, const char **key)
{
	if (end == seg || end[-1] != '=')
		return 0;
	const char *k = end - 1;
	while (k > seg && fmt_key_char(k[-1]))
		k--;
	while (k < end - 1 && !((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
		k++;
	*key = k;
	return (size_t)(end - 1 - k);
}

unsigned ttlog__format_keys(const char *format, struct ttlog__format_key *keys, unsigned max,
			   unsigned *used)
{
	const char *p = format ? format : "";
	unsigned next = 0, n = 0, most = 0;

	while (*p) {
		const char *pct = strchr(p, '%');
		if (!pct)
			break;
		struct fmt_spec s;
		const char *end = ttlog__reader_fmt_parse(pct + 1, &s);
		int takes_value;
		if (!end)
			break;
		const char *seg = p;
		p = end;
		if (!ttlog__reader_fmt_known(s.conv, &takes_value) || s.conv == '%')
			continue;
		/* The arguments this conversion takes, as ttlog_format() takes
		 * them: "%*m" takes a width but prints no argument. */
		if (s.width_from == FMT_FROM_NEXT)
			next++;
		if (s.prec_from == FMT_FROM_NEXT)
			next++;
		most = TTLOG__MAX(most, next);
		if (s.width_from > 0)
			most = TTLOG__MAX(most, (unsigned)s.width_from);
		if (s.prec_from > 0)
			most = TTLOG__MAX(most, (unsigned)s.prec_from);
		if (!takes_value)
			continue; /* %m names nothing */
		unsigned arg = s.value_from > 0 ? (unsigned)s.value_from - 1 : next++;
		most = TTLOG__MAX(most, TTLOG__MAX(next, arg + 1));
		const char *key;
		size_t len = fmt_key_before(seg, pct, &key);
		if (len == 0 || s.conv == 'n' || n == max)
			continue;
		keys[n].arg = arg;
		keys[n].key = key;
		keys[n].len = len;
		n++;
	}
	*used = most;
	return n;
}
