/* SPDX-License-Identifier: MIT */
/*
 * walk.c - the argument types of a printf format read at run time.
 *
 * One conversion is '%', an optional "n$", flags (-+ #0' and glibc's I),
 * a width (digits, '*' or "*n$"), a precision ('.' and the same), a length
 * modifier (hh h l ll q L j z Z t) and the conversion character. What
 * va_arg must read for it, and the code it is recorded with:
 *
 *   d i             int (I32) without a length, or hh/h (promoted);
 *                   long, long long, intmax_t, ssize_t, ptrdiff_t (I64)
 *   o u x X b B     the same widths, unsigned (U32, U64)
 *   c               int (I32); lc and C: wint_t (U32)
 *   f F e E g G a A double (F64); with L, long double (LD80 on x86)
 *   s               char * (STR); p: void * (PTR)
 *   * and .*        int (I32)
 *   %% and %m       nothing
 *
 * Refused, so that the caller records the format as text instead of
 * reading arguments it cannot know: %n, wide strings (%ls, %S), "n$"
 * formats that mix with plain conversions, leave a gap or give one
 * argument two types, and formats of more than 16 arguments.
 */
#include "rtfmt/walk.h"

#include <string.h>

/* Reads the digits at *p; returns the number (capped) and moves *p past them. */
static unsigned digits(const char **p)
{
	unsigned n = 0;
	while (**p >= '0' && **p <= '9') {
		if (n < 100000u)
			n = n * 10u + (unsigned)(**p - '0');
		(*p)++;
	}
	return n;
}

/* "n$" at *p: returns n and moves past it; 0 (and *p unmoved) if absent. */
static unsigned position(const char **p)
{
	const char *q = *p;
	if (*q < '1' || *q > '9')
		return 0;
	unsigned n = digits(&q);
	if (*q != '$')
		return 0;
	*p = q + 1;
	return n;
}

/* The walk's state: arguments taken in order, or by position. */
struct walk {
	uint8_t *types;
	unsigned next;      /* plain conversions: arguments taken so far */
	unsigned highest;   /* positional: the highest position used */
	int mode;           /* 0 unknown yet, 1 plain, 2 positional */
	int error;
};

/* One argument of type t, at position pos (0: the next one). */
static void take(struct walk *w, unsigned pos, uint8_t t)
{
	if (w->error)
		return;
	int mode = pos ? 2 : 1;
	if (w->mode && w->mode != mode) {
		w->error = TTLOG__RT_WALK_POSITIONS;
		return;
	}
	w->mode = mode;
	if (!pos) {
		if (w->next == TTLOG__RT_MAX_ARGS) {
			w->error = TTLOG__RT_WALK_TOO_MANY;
			return;
		}
		w->types[w->next++] = t;
		return;
	}
	if (pos > TTLOG__RT_MAX_ARGS) {
		w->error = TTLOG__RT_WALK_POSITIONS;
		return;
	}
	if (w->types[pos - 1] && w->types[pos - 1] != t) {
		w->error = TTLOG__RT_WALK_POSITIONS;
		return;
	}
	w->types[pos - 1] = t;
	if (pos > w->highest)
		w->highest = pos;
}

/* A '*' after a flag or a '.': an int, next or at "n$". */
static void star(struct walk *w, const char **p)
{
	take(w, position(p), TTLOG_ARG_I32);
}

enum { LEN_NONE, LEN_SHORT, LEN_L, LEN_BIG };

int ttlog__rt_walk(const char *fmt, uint8_t types[TTLOG__RT_MAX_ARGS], unsigned *nargs)
{
	struct walk w = {types, 0, 0, 0, 0};
	memset(types, 0, TTLOG__RT_MAX_ARGS);
	for (const char *p = fmt; (p = strchr(p, '%')) != NULL && !w.error;) {
		p++;
		unsigned pos = position(&p);
		while (*p && strchr("-+ #0'I", *p))
			p++;
		if (*p == '*') {
			p++;
			star(&w, &p);
		} else {
			digits(&p);
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				p++;
				star(&w, &p);
			} else {
				digits(&p);
			}
		}
		int len = LEN_NONE;
		switch (*p) {
		case 'h':
			len = LEN_SHORT;
			p += p[1] == 'h' ? 2 : 1;
			break;
		case 'l':
			len = p[1] == 'l' ? LEN_BIG : LEN_L;
			p += p[1] == 'l' ? 2 : 1;
			break;
		case 'L': case 'q':
			len = LEN_BIG;
			p++;
			break;
		case 'j': case 'z': case 'Z': case 't':
			len = LEN_L; /* 64 bits, like long */
			p++;
			break;
		default:
			break;
		}
		char conv = *p;
		if (conv == '\0')
			break; /* cut by the end: printed as it is, no argument */
		p++;
		int wide = len == LEN_L || len == LEN_BIG;
		switch (conv) {
		case 'd': case 'i':
			take(&w, pos, wide ? TTLOG_ARG_I64 : TTLOG_ARG_I32);
			break;
		case 'o': case 'u': case 'x': case 'X': case 'b': case 'B':
			take(&w, pos, wide ? TTLOG_ARG_U64 : TTLOG_ARG_U32);
			break;
		case 'c':
			take(&w, pos, len == LEN_L ? TTLOG_ARG_U32 : TTLOG_ARG_I32);
			break;
		case 'C':
			take(&w, pos, TTLOG_ARG_U32);
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
			take(&w, pos, len == LEN_BIG ? TTLOG__LDBL_TYPE : TTLOG_ARG_F64);
			break;
		case 's':
			if (len == LEN_L)
				w.error = TTLOG__RT_WALK_WIDE;
			else
				take(&w, pos, TTLOG_ARG_STR);
			break;
		case 'S':
			w.error = TTLOG__RT_WALK_WIDE;
			break;
		case 'p':
			take(&w, pos, TTLOG_ARG_PTR);
			break;
		case 'n':
			w.error = TTLOG__RT_WALK_N;
			break;
		default:
			break; /* %%, %m and unknown conversions take no argument */
		}
	}
	if (w.error)
		return w.error;
	if (w.mode == 2) {
		for (unsigned i = 0; i < w.highest; i++)
			if (!types[i])
				return TTLOG__RT_WALK_POSITIONS; /* a gap: its type is unknown */
		*nargs = w.highest;
	} else {
		*nargs = w.next;
	}
	return TTLOG__RT_WALK_OK;
}

const char *ttlog__rt_walk_reason(int result)
{
	switch (result) {
	case TTLOG__RT_WALK_N:
		return "%n is refused";
	case TTLOG__RT_WALK_WIDE:
		return "wide strings (%ls, %S) are not recorded";
	case TTLOG__RT_WALK_POSITIONS:
		return "positional arguments mixed with others, with a gap, or above 16";
	case TTLOG__RT_WALK_TOO_MANY:
		return "more than 16 arguments";
	default:
		return "accepted";
	}
}
