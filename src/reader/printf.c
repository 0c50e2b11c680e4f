/* SPDX-License-Identifier: MIT */
/*
 * printf.c - printf-style formatting of decoded arguments.
 *
 * A log call stores only the binary values of its arguments; this file
 * turns a call site's format and those values back into the text printf
 * would have produced. The format is split into literal text and
 * conversions. Each conversion is rebuilt as a short, normalised spec (for
 * example "%-08.3lld") and handed to the C library's vsnprintf together with
 * the value cast to exactly the type that spec reads, so numbers are
 * formatted by the same code a direct printf would have used.
 *
 * The format is not parsed here. reader/format_plan.c compiles it into
 * steps (reader/format_plan.h): literal runs, and conversions already
 * parsed, each with the index of every argument it takes among the
 * event's (the TTLOG_F() fields of explicit_args passed over, "n$"
 * positions resolved, so the arguments are never copied) and the kind of
 * code that prints it; fmt_run() runs them. A reader compiles each site's
 * format once, when it opens the file, into a plan that every event it
 * returns carries (struct ttlog_event's format_plan, a pointer into the
 * reader's memory). ttlog_event_format() runs that plan only if it is
 * still the event's: plan->site == event->site and plan->format ==
 * event->site->format, pointers compared, since a program may hand in an
 * event it made or changed itself. Otherwise, and for ttlog_format(), the
 * format is compiled piece by piece on the stack (at most
 * FMT_PLAN_MAX_DIRECTIVES directives a piece) and each piece run at once,
 * for every call: one way of formatting, with or without a plan. A site
 * whose format has more directives than a plan holds gets none.
 *
 * Where the result deliberately differs from a direct printf:
 *   - A conversion whose argument is missing or of the wrong kind prints
 *     "<?>" and consumes the argument if there was one. Integer
 *     conversions take every integer kind and PTR; floating conversions
 *     take F64 and LDBL; %c takes integer kinds; %s takes STR; %p takes
 *     PTR, integer kinds and STR (below). A '*' takes an integer kind.
 *   - %p of a STR argument prints the string: ttlog records every char
 *     pointer as a string, so its address is not known (a NULL one still
 *     prints as a null pointer).
 *   - %s of a string the writer truncated prints the recorded bytes and
 *     "..." as one string, with width and precision applied to the whole.
 *   - %n prints nothing (and consumes its argument, if any); %m prints
 *     "<?>" because errno was not recorded; %ls and %S print "<?>" because
 *     wide strings are recorded as bare pointers.
 *   - A width or precision above FMT_MAX_WIDTH prints "<?>": the format is
 *     read from a file that may be hostile, and the C library would produce
 *     (and throw away) up to 2 GiB of padding for one conversion.
 *   - long double values are exact when the writer recorded them as LD80
 *     (x86, since format revision 8); older files (LDBL) hold them rounded
 *     to binary64.
 * A conversion cut by the end of the format, or one whose conversion
 * character is unknown, is copied literally without consuming arguments,
 * as glibc does with unknown conversions. The glibc-only 'I' flag is
 * accepted and dropped. Positional arguments ("%2$s", "%*1$d") are
 * supported.
 *
 * Thread safety: there is no mutable static state; only the caller's
 * buffer is written, and nothing is allocated.
 */

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "common/decimal.h"
#include "common/internal.h"
#include "reader/format_plan.h"
#include "reader/impl.h"
#include "reader/printf_spec.h"
#include "ttlog_reader.h"

/* Largest width, and precision of anything but a string, that is honoured. */
#define FMT_MAX_WIDTH 65536

/* The unsigned twin of ptrdiff_t and the signed twin of size_t, as printf
 * reads them for %tu and %zd. */
_Static_assert(sizeof(ptrdiff_t) == sizeof(size_t), "ptrdiff_t and size_t differ in size");
_Static_assert(sizeof(ssize_t) == sizeof(size_t), "ssize_t and size_t differ in size");

/* The output buffer. len counts the whole text, also the part cut off. */
struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void fmt_put(struct fmt_out *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void fmt_pad(struct fmt_out *o, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - 1 - o->len;
		memset(o->buf + o->len, ' ', n < room ? n : room);
	}
	o->len += n;
}

static void fmt_unknown(struct fmt_out *o)
{
	fmt_put(o, "<?>", 3);
}

/*
 * Formats one value with a spec built by fmt_build(). The callers pass the
 * value already converted to the type the spec reads; this is the only
 * place that hands a non-literal format to the C library.
 */
static void fmt_emit(struct fmt_out *o, const char *spec, ...)
{
	char *dst = NULL;
	size_t room = 0;
	va_list ap;
	int n;

	if (o->len < o->size) {
		dst = o->buf + o->len;
		room = o->size - o->len;
	}
	va_start(ap, spec);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = vsnprintf(dst, room, spec, ap);
#pragma GCC diagnostic pop
	va_end(ap);
	if (n < 0)
		fmt_unknown(o); /* e.g. %lc of a value with no multibyte form */
	else
		o->len += (size_t)n;
}

static char *fmt_digits(char *p, int v)
{
	char tmp[12];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/*
 * Writes "%" flags width .prec length conv into out: at most 27 bytes
 * ('%', 6 flags, a width of at most 5 digits, '.', 10 digits of
 * precision, 2 of length, the conversion and the NUL). The width and
 * precision are numbers here: '*' was resolved.
 */
static void fmt_build(char out[32], const struct fmt_spec *s, int prec, const char *len, char conv)
{
	static const char flag_chars[] = "-+ #0'";
	char *p = out;

	*p++ = '%';
	for (unsigned i = 0; i < sizeof flag_chars - 1; i++)
		if (s->flags & (1u << i))
			*p++ = flag_chars[i];
	if (s->width >= 0)
		p = fmt_digits(p, s->width);
	if (prec >= 0) {
		*p++ = '.';
		p = fmt_digits(p, prec);
	}
	while (*len)
		*p++ = *len++;
	*p++ = conv;
	*p = '\0';
}

static int fmt_is_integer(const struct ttlog_arg *a)
{
	return a->type >= TTLOG_ARG_BOOL && a->type <= TTLOG_ARG_U64;
}

static int fmt_is_floating(const struct ttlog_arg *a)
{
	return a->type == TTLOG_ARG_F64 || a->type == TTLOG_ARG_LDBL || a->type == TTLOG_ARG_LD80;
}

TTLOG_API long double ttlog_arg_long_double(const struct ttlog_arg *a)
{
	if (!a)
		return 0;
	if (a->type == TTLOG_ARG_LD80)
		return a->str ? ttlog__ld80_value((const unsigned char *)a->str) : (long double)a->v.d;
	if (a->type == TTLOG_ARG_F64 || a->type == TTLOG_ARG_LDBL)
		return a->v.d;
	if (a->type >= TTLOG_ARG_BOOL && a->type <= TTLOG_ARG_I64)
		return (long double)a->v.i;
	if (a->type == TTLOG_ARG_U64)
		return (long double)a->v.u;
	return 0;
}

/* The value of an integer or pointer argument as 64 bits (two's complement). */
static uint64_t fmt_bits(const struct ttlog_arg *a)
{
	switch (a->type) {
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
	case TTLOG_ARG_PTR:
		return a->v.u;
	default:
		return (uint64_t)a->v.i;
	}
}

/* An argument as the int a '*' reads, as the program passed it. */
static int fmt_star_value(const struct ttlog_arg *a)
{
	return (int)(int64_t)fmt_bits(a);
}

/*
 * Digits are written straight into the caller's buffer when it has room
 * for the longest conversion of this kind and the whole-word stores of
 * common/decimal.h (FMT_DIRECT_ROOM bytes, the NUL included), else into a
 * local buffer that fmt_put() cuts to fit. fmt_direct() says where;
 * fmt_commit() counts the text written there.
 */
#define FMT_DIRECT_ROOM 48

static char *fmt_direct(struct fmt_out *o, char *local)
{
	return o->len < o->size && o->size - o->len >= FMT_DIRECT_ROOM ? o->buf + o->len : local;
}

static void fmt_commit(struct fmt_out *o, const char *start, const char *end, const char *local)
{
	if (start == local)
		fmt_put(o, start, (size_t)(end - start));
	else
		o->len += (size_t)(end - start);
}

/*
 * The most common integer conversions without the C library: %d, %i, %u,
 * %x and %X with no flag, width or precision, of an int (wide 0) or a
 * 64-bit length (wide 1). vsnprintf costs more to parse the spec than to
 * make the digits, and these are most of what logs print. The text is the
 * one printf produces (test_format compares every case with snprintf).
 * conv is one of the five.
 */
static void fmt_int_digits(struct fmt_out *o, char conv, int wide, uint64_t bits)
{
	char local[FMT_DIRECT_ROOM];
	char *const start = fmt_direct(o, local);
	char *p = start;
	uint64_t v;
	if (conv == 'd' || conv == 'i') {
		int64_t sv = wide ? (int64_t)bits : (int64_t)(int)(int64_t)bits;
		if (sv < 0)
			*p++ = '-';
		v = sv < 0 ? 0 - (uint64_t)sv : (uint64_t)sv;
	} else {
		v = wide ? bits : (uint64_t)(unsigned int)bits;
	}
	if (conv == 'x' || conv == 'X') {
		const char *hex = conv == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
		unsigned n = 0;
		for (uint64_t w = v; w; w >>= 4)
			n++;
		n += n == 0;
		for (unsigned i = n; i-- > 0; v >>= 4)
			p[i] = hex[v & 15u];
		p += n;
	} else {
		p = ttlog__decimal_write(p, v);
	}
	fmt_commit(o, start, p, local);
}

/* Prints the conversion with fmt_int_digits() if it is one of those, else
 * returns 0 for fmt_integer() to hand it to the C library. A plan decides
 * it at compile time (step_kind() in reader/format_plan.c: FMT_STEP_INT);
 * this is for a '*' precision that turns out negative, as if omitted. */
static int fmt_integer_plain(struct fmt_out *o, const struct fmt_spec *s, uint64_t bits)
{
	if (!fmt_spec_plain_int(s))
		return 0;
	fmt_int_digits(o, s->conv, s->len != FMT_LEN_NONE, bits);
	return 1;
}

static void fmt_integer(struct fmt_out *o, const struct fmt_spec *s, uint64_t bits)
{
	if (fmt_integer_plain(o, s, bits))
		return;
	const int is_signed = s->conv == 'd' || s->conv == 'i';
	const int64_t sv = (int64_t)bits;
	char spec[32];

	switch (s->len) {
	case FMT_LEN_NONE:
	case FMT_LEN_HH:
	case FMT_LEN_H:
		/* printf reads an int and narrows it itself for hh and h. */
		fmt_build(spec, s, s->prec,
			  s->len == FMT_LEN_HH ? "hh" : s->len == FMT_LEN_H ? "h" : "", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (int)sv);
		else
			fmt_emit(o, spec, (unsigned int)bits);
		break;
	case FMT_LEN_L:
		fmt_build(spec, s, s->prec, "l", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (long)sv);
		else
			fmt_emit(o, spec, (unsigned long)bits);
		break;
	case FMT_LEN_BIG:
		fmt_build(spec, s, s->prec, "ll", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (long long)sv);
		else
			fmt_emit(o, spec, (unsigned long long)bits);
		break;
	case FMT_LEN_J:
		fmt_build(spec, s, s->prec, "j", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (intmax_t)sv);
		else
			fmt_emit(o, spec, (uintmax_t)bits);
		break;
	case FMT_LEN_Z:
		fmt_build(spec, s, s->prec, "z", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (ssize_t)sv);
		else
			fmt_emit(o, spec, (size_t)bits);
		break;
	case FMT_LEN_T:
		fmt_build(spec, s, s->prec, "t", s->conv);
		if (is_signed)
			fmt_emit(o, spec, (ptrdiff_t)sv);
		else
			fmt_emit(o, spec, (size_t)bits); /* the unsigned type of ptrdiff_t's size */
		break;
	}
}

/* Powers of ten that fmt_fixed_digits() scales by: precisions 0 to 9. */
static const uint64_t fmt_pow10[] = {
	1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
};

/*
 * %f and %F with no flag or width and a precision of 0 to 9, without the
 * C library, whose exact multi-precision code is most of what
 * a viewer spends on a message with a double. The result is exact, as
 * glibc's is: a double is m * 2^e, so value * 10^prec = m * 10^prec / 2^-e,
 * which 128-bit integers hold for the exponents handled here, rounded to
 * nearest with ties to even (the default rounding mode, which is what
 * printf uses). Returns 0 for infinities, NaNs and values of 2^63 or more,
 * which go to the C library. test_format compares with snprintf.
 */
static int fmt_fixed_digits(struct fmt_out *o, int prec, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	const int negative = (int)(bits >> 63);
	const int biased = (int)(bits >> 52 & 0x7ffu);
	const uint64_t fraction = bits & ((UINT64_C(1) << 52) - 1);
	if (biased == 0x7ff)
		return 0; /* infinity or NaN */
	const uint64_t m = biased ? fraction | UINT64_C(1) << 52 : fraction;
	const int e = biased ? biased - 1075 : -1074;
	const uint64_t scale = fmt_pow10[prec];
	unsigned __int128 r;
	if (e >= 0) {
		if (e > 10)
			return 0; /* 2^63 or more: the integer part needs more than 64 bits */
		r = (unsigned __int128)(m << e) * scale;
	} else if (-e > 120) {
		r = 0; /* below 2^-67: value * 10^9 is far below one half */
	} else {
		const int k = -e;
		const unsigned __int128 num = (unsigned __int128)m * scale;
		const unsigned __int128 half = (unsigned __int128)1 << (k - 1);
		const unsigned __int128 rem = num & ((half << 1) - 1);
		r = num >> k;
		if (rem > half || (rem == half && (r & 1u)))
			r++;
	}
	/* One 64-bit division when r fits 64 bits (almost always): the 128-bit
	 * quotient and remainder are two library calls per value. */
	uint64_t whole, part;
	if ((uint64_t)(r >> 64) == 0) {
		const uint64_t r64 = (uint64_t)r;
		/* printf's own precision by a constant: a multiplication, not
		 * a `div` of tens of cycles. */
		whole = prec == 6 ? r64 / 1000000u : r64 / scale;
		part = r64 - whole * scale;
	} else {
		whole = (uint64_t)(r / scale);
		part = (uint64_t)(r % scale);
	}

	char local[FMT_DIRECT_ROOM];
	char *const start = fmt_direct(o, local);
	char *p = start;
	if (negative)
		*p++ = '-'; /* also for -0.0 and negatives that round to zero, as printf */
	p = ttlog__decimal_write(p, whole);
	if (prec > 0) {
		*p++ = '.';
		p = ttlog__decimal_fixed(p, part, (unsigned)prec);
	}
	fmt_commit(o, start, p, local);
	return 1;
}

/* fmt_fixed_digits() for %f and %F with no flag or width and a precision
 * of 0 to 9 (6 without one); 0 for anything else or what it refuses. A
 * plan decides it at compile time (FMT_STEP_FIXED); this is for a '*'
 * precision, known only at run time. */
static int fmt_fixed_plain(struct fmt_out *o, const struct fmt_spec *s, double d)
{
	const int prec = s->prec < 0 ? 6 : s->prec;
	if ((s->conv != 'f' && s->conv != 'F') || s->flags != 0 || s->width >= 0 || prec > 9)
		return 0;
	return fmt_fixed_digits(o, prec, d);
}

static void fmt_floating(struct fmt_out *o, const struct fmt_spec *s, const struct ttlog_arg *a)
{
	char spec[32];
	double d = a->v.d;

	if (s->len != FMT_LEN_BIG && fmt_fixed_plain(o, s, d))
		return;

	if (s->len == FMT_LEN_BIG) {
		/* glibc reads a long double for L, q and ll alike: the value
		 * as logged (exact for LD80). */
		fmt_build(spec, s, s->prec, "L", s->conv);
		fmt_emit(o, spec, ttlog_arg_long_double(a));
	} else {
		/* Other modifiers have no effect on floating conversions. */
		fmt_build(spec, s, s->prec, "", s->conv);
		fmt_emit(o, spec, d);
	}
}

/*
 * A recorded string. use_prec is 0 for %p, whose precision means digits.
 * A truncated string gets "..." appended; width and precision then apply
 * to the recorded bytes and the dots together. That case is laid out here
 * rather than by the C library because the joined text would need a copy
 * of up to max_string bytes; for %s both are plain byte counts.
 */
static void fmt_string(struct fmt_out *o, const struct fmt_spec *s, int use_prec,
		       const struct ttlog_arg *a)
{
	const int prec = use_prec ? s->prec : -1;
	char spec[32];

	if (!a->str_truncated && !a->str_null && a->str && s->flags == 0 && s->width < 0 &&
	    prec < 0) {
		/* Plain %s: the bytes up to the first NUL, as printf copies them. */
		fmt_put(o, a->str, strnlen(a->str, a->str_len));
		return;
	}
	if (!a->str_truncated || a->str_null || !a->str) {
		fmt_build(spec, s, prec, "", 's');
		fmt_emit(o, spec, a->str_null ? (const char *)NULL : a->str);
		return;
	}

	size_t n = strnlen(a->str, a->str_len);
	size_t total = n + 3;
	if (prec >= 0 && (size_t)prec < total)
		total = (size_t)prec;
	size_t pad = s->width >= 0 && (size_t)s->width > total ? (size_t)s->width - total : 0;
	size_t from_str = n < total ? n : total;

	if (!(s->flags & FMT_F_MINUS))
		fmt_pad(o, pad);
	fmt_put(o, a->str, from_str);
	fmt_put(o, "...", total - from_str);
	if (s->flags & FMT_F_MINUS)
		fmt_pad(o, pad);
}

/*
 * Formats one known conversion. Its arguments have been taken already:
 * width, precision, value; each NULL when it was absent or not wanted.
 */
static void fmt_convert(struct fmt_out *o, struct fmt_spec *s, const struct ttlog_arg *w,
			const struct ttlog_arg *pr, const struct ttlog_arg *v)
{
	char spec[32];

	if (s->width_from != FMT_FROM_NONE) {
		if (!w || !fmt_is_integer(w)) {
			fmt_unknown(o);
			return;
		}
		int width = fmt_star_value(w);
		if (width < 0) {
			s->flags |= FMT_F_MINUS;
			width = width == INT_MIN ? INT_MAX : -width;
		}
		s->width = width;
	}
	if (s->prec_from != FMT_FROM_NONE) {
		if (!pr || !fmt_is_integer(pr)) {
			fmt_unknown(o);
			return;
		}
		int prec = fmt_star_value(pr);
		s->prec = prec < 0 ? -1 : prec; /* negative: as if omitted */
	}
	if (s->width > FMT_MAX_WIDTH ||
	    (s->prec > FMT_MAX_WIDTH && s->conv != 's' && s->conv != 'S')) {
		fmt_unknown(o);
		return;
	}

	switch (s->conv) {
	case 'd':
	case 'i':
	case 'o':
	case 'u':
	case 'x':
	case 'X':
	case 'b':
	case 'B':
		if (v && (fmt_is_integer(v) || v->type == TTLOG_ARG_PTR))
			fmt_integer(o, s, fmt_bits(v));
		else
			fmt_unknown(o);
		break;
	case 'f':
	case 'F':
	case 'e':
	case 'E':
	case 'g':
	case 'G':
	case 'a':
	case 'A':
		if (v && fmt_is_floating(v))
			fmt_floating(o, s, v);
		else
			fmt_unknown(o);
		break;
	case 'c':
	case 'C':
		if (!v || !fmt_is_integer(v)) {
			fmt_unknown(o);
		} else if (s->conv == 'C' || s->len == FMT_LEN_L) {
			fmt_build(spec, s, s->prec, "l", 'c');
			fmt_emit(o, spec, (wint_t)fmt_bits(v));
		} else {
			fmt_build(spec, s, s->prec, "", 'c');
			fmt_emit(o, spec, (int)(int64_t)fmt_bits(v));
		}
		break;
	case 's':
		if (v && v->type == TTLOG_ARG_STR && s->len != FMT_LEN_L)
			fmt_string(o, s, 1, v);
		else
			fmt_unknown(o); /* includes %ls: wide strings are not recorded */
		break;
	case 'S':
		fmt_unknown(o);
		break;
	case 'p':
		if (v && v->type == TTLOG_ARG_STR && !v->str_null) {
			fmt_string(o, s, 0, v);
		} else if (v && v->type == TTLOG_ARG_STR) {
			fmt_build(spec, s, s->prec, "", 'p'); /* a NULL char pointer */
			fmt_emit(o, spec, (void *)NULL);
		} else if (v && (v->type == TTLOG_ARG_PTR || fmt_is_integer(v))) {
			fmt_build(spec, s, s->prec, "", 'p');
			fmt_emit(o, spec, (void *)(uintptr_t)fmt_bits(v));
		} else {
			fmt_unknown(o);
		}
		break;
	case 'n':
		break; /* nothing to print; the argument was consumed */
	case 'm':
		fmt_unknown(o); /* errno at the time of the call was not recorded */
		break;
	default:
		/* ttlog_format() passes only the conversions above. */
		fmt_unknown(o);
		break;
	}
}

/* The argument at index i of the event's, or NULL when it has none there. */
static const struct ttlog_arg *fmt_arg(const struct ttlog_arg *args, unsigned nargs, uint32_t i)
{
	return i < nargs ? &args[i] : NULL;
}

/*
 * Runs n compiled steps (reader/format_plan.h) with the event's arguments.
 * The fast kinds print what fmt_convert() would print for their spec, by
 * the same functions, without its checks: the compiler chose them for
 * specs those checks pass (no '*', no flag or width).
 */
static void fmt_run(struct fmt_out *o, const struct fmt_step *st, unsigned n,
		    const struct ttlog_arg *args, unsigned nargs)
{
	for (const struct fmt_step *const end = st + n; st < end; st++) {
		const struct ttlog_arg *v = fmt_arg(args, nargs, st->value_arg);
		switch (st->kind) {
		case FMT_STEP_TEXT:
			fmt_put(o, st->lit.text, st->lit.len);
			break;
		case FMT_STEP_INT:
			if (v && (fmt_is_integer(v) || v->type == TTLOG_ARG_PTR))
				fmt_int_digits(o, st->spec.conv, st->spec.len != FMT_LEN_NONE,
					       fmt_bits(v));
			else
				fmt_unknown(o);
			break;
		case FMT_STEP_FIXED:
			if (!v || !fmt_is_floating(v))
				fmt_unknown(o);
			else if (!fmt_fixed_digits(o, st->spec.prec < 0 ? 6 : st->spec.prec, v->v.d))
				fmt_floating(o, &st->spec, v); /* infinities, NaNs, 2^63 and more */
			break;
		case FMT_STEP_STR:
			if (!v || v->type != TTLOG_ARG_STR)
				fmt_unknown(o);
			else if (!v->str_truncated && !v->str_null && v->str)
				fmt_put(o, v->str, strnlen(v->str, v->str_len));
			else
				fmt_string(o, &st->spec, 1, v);
			break;
		default: {
			struct fmt_spec s = st->spec; /* '*' values are written into it */
			fmt_convert(o, &s, fmt_arg(args, nargs, st->width_arg),
				    fmt_arg(args, nargs, st->prec_arg), v);
			break;
		}
		}
	}
}

/* Compiles format piece by piece on the stack and runs each piece. */
static void fmt_walk_run(struct fmt_out *o, const char *format, uint32_t skip,
			 const struct ttlog_arg *args, unsigned nargs)
{
	struct fmt_step steps[FMT_PLAN_MAX_STEPS];
	struct fmt_walk w = {format ? format : "", 0, skip};
	while (*w.p) {
		unsigned n = ttlog__fmt_compile(&w, steps);
		fmt_run(o, steps, n, args, nargs);
	}
}

/* Terminates the text and returns its whole length. */
static size_t fmt_finish(struct fmt_out *o)
{
	if (o->size > 0)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return o->len;
}

TTLOG_API size_t ttlog_format(const char *format, const struct ttlog_arg *args, unsigned nargs,
			      char *buf, size_t size)
{
	struct fmt_out o = {buf, buf ? size : 0, 0};
	fmt_walk_run(&o, format, 0, args, args ? nargs : 0);
	return fmt_finish(&o);
}

TTLOG_API size_t ttlog_event_format(const struct ttlog_event *event, char *buf, size_t size)
{
	if (!event || !event->site) {
		if (buf && size > 0)
			buf[0] = '\0';
		return 0;
	}
	struct fmt_out o = {buf, buf ? size : 0, 0};
	const struct ttlog_site_info *site = event->site;
	const struct ttlog__format_plan *plan = event->format_plan;
	unsigned nargs = event->args ? event->nargs : 0;
	if (plan && plan->site == site && plan->format == site->format)
		fmt_run(&o, plan->steps, plan->nsteps, event->args, nargs);
	else
		fmt_walk_run(&o, site->format, site->explicit_args, event->args, nargs);
	return fmt_finish(&o);
}
