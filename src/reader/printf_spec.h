/* SPDX-License-Identifier: MIT */
/*
 * printf_spec.h - one conversion of a printf format ("%-08.3lld"), as
 * reader/format_plan.c parses it to compile a format for reader/printf.c,
 * and reader/format_keys.c to find the fields a format names. The parser
 * lives in format_plan.c.
 */
#ifndef TTLOG__READER_PRINTF_SPEC_H
#define TTLOG__READER_PRINTF_SPEC_H

/* Length modifiers, folded into the types printf reads. */
enum fmt_len {
	FMT_LEN_NONE,
	FMT_LEN_HH,
	FMT_LEN_H,
	FMT_LEN_L,   /* l */
	FMT_LEN_BIG, /* ll, q and L: long long for integers, long double for floating */
	FMT_LEN_J,
	FMT_LEN_Z,   /* z and Z */
	FMT_LEN_T
};

#define FMT_F_MINUS 0x01u
#define FMT_F_PLUS 0x02u
#define FMT_F_SPACE 0x04u
#define FMT_F_HASH 0x08u
#define FMT_F_ZERO 0x10u
#define FMT_F_QUOTE 0x20u

/* Where a value comes from: FMT_FROM_NONE (absent or literal), FMT_FROM_NEXT
 * (the next argument), or n > 0 (argument n, from "n$"). */
#define FMT_FROM_NONE 0
#define FMT_FROM_NEXT (-1)

/* One parsed conversion. */
struct fmt_spec {
	unsigned flags;  /* FMT_F_* */
	int width;       /* -1: none */
	int prec;        /* -1: none */
	int width_from;  /* FMT_FROM_* or a position, for '*' */
	int prec_from;   /* FMT_FROM_* or a position, for ".*" */
	int value_from;  /* FMT_FROM_NEXT or a position */
	enum fmt_len len;
	char conv;
};

/*
 * Whether s is an integer conversion that reader/printf.c writes without
 * the C library: %d %i %u %x %X with no flag, width or precision and no h
 * or hh. A plan decides it when compiling (a '*' width or precision is
 * not known then); the general path decides it again once they are read.
 */
static inline int fmt_spec_plain_int(const struct fmt_spec *s)
{
	if (s->flags || s->width >= 0 || s->prec >= 0 || s->len == FMT_LEN_HH ||
	    s->len == FMT_LEN_H)
		return 0;
	switch (s->conv) {
	case 'd':
	case 'i':
	case 'u':
	case 'x':
	case 'X':
		return 1;
	default:
		return 0;
	}
}

/*
 * Parses the conversion after a '%' (p points past it). Returns a pointer
 * past the conversion character, or NULL if the format ends first.
 */
const char *ttlog__reader_fmt_parse(const char *p, struct fmt_spec *s);

/* Whether ttlog_format() knows the conversion, and whether it takes a value. */
int ttlog__reader_fmt_known(char conv, int *takes_value);

#endif /* TTLOG__READER_PRINTF_SPEC_H */
