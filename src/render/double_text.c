/* SPDX-License-Identifier: MIT */
/*
 * double_text.c - printf's "%.Pg" of a double for P = 15, 16, 17, and the
 * test of whether the text reads back as the same double, by integer
 * arithmetic (see double_text.h for the rule this serves).
 *
 * The printf loop this replaces formatted each double up to three times
 * with glibc's multi-precision printf_fp and parsed it back with strtod;
 * that was most of the time `ttlog view -o json` spent on an event.
 *
 * Method: the scaling by a cached power of ten of Grisu, with its "give up
 * when unsure" discipline (F. Loitsch, "Printing Floating-Point Numbers
 * Quickly and Accurately with Integers", PLDI 2010), applied to fixed
 * precision and to the round-trip test:
 *
 *   d = m * 2^E, m an integer below 2^53. With X the decimal exponent of d
 *   (10^X <= d < 10^(X+1)) and k = P - 1 - X, the number v = d * 10^k lies
 *   in [10^(P-1), 10^P), and %.Pg prints v rounded to an integer (ties to
 *   even, as glibc does in the default rounding mode) times 10^(X-P+1).
 *
 *   10^k comes from pow10.inc as c * 2^e, c a 128-bit integer with relative
 *   error at most 2^-128. V = floor(m * c * 2^(E+e+64)) is v in 64.64 fixed
 *   point; with T the exact v * 2^64 (T < 2^124 even for a first guess of X
 *   that is one too small), |V - T| < T * 2^-128 + 1 < 1.07.
 *
 *   The text reads back as d exactly when its value R lies inside d's
 *   rounding interval: within half the gap to the next double above, and
 *   to the one below (a quarter of the upper gap when m = 2^52 and d is
 *   not the smallest normal). Half a gap, 2^(E-1) * 10^k, is c shifted the
 *   same way, again within 1.07 units of 2^-64.
 *
 *   Every decision compares V (or |R - V|) with a threshold. When the two
 *   are within MARGIN units of each other the exact answer could go either
 *   way: an exact tie in the rounding, or R exactly on the interval's
 *   bound, where strtod's ties-to-even decides. Those can only happen when
 *   v has few binary and decimal digits (integers, binary fractions), and
 *   there exact_digits() decides with exact integers; beyond its reach the
 *   function returns 0 and the caller uses printf. Random doubles almost
 *   never get there (none in test_double_text's 160 M of a long run).
 *
 * The decimal exponent is first guessed from the binary one (never more
 * than one off) and corrected when v falls outside its range. Near
 * 10^(P-1) and 10^P either guess gives the same text (v rounds to the power
 * of ten, the carry makes it 10^(P-1) with exponent X+1), so no margin is
 * needed there beyond not retrying forever.
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "common/decimal.h"
#include "render/double_text.h"

typedef unsigned __int128 u128;

struct pow10 {
	uint64_t hi, lo; /* c = hi * 2^64 + lo, 2^127 <= c < 2^128 */
	int e;           /* 10^k ~ c * 2^e */
};

static const struct pow10 pow10_table[] = {
#define POW10(hi, lo, e) {hi, lo, e},
#include "pow10.inc"
#undef POW10
};
_Static_assert(sizeof pow10_table / sizeof pow10_table[0] == POW10_MAX - POW10_MIN + 1,
	       "one entry per power");

/* 10^0 .. 10^18: every P-digit integer and its bounds fit 64 bits. */
static const uint64_t pow10_u64[] = {
	1u,
	10u,
	100u,
	1000u,
	10000u,
	100000u,
	1000000u,
	10000000u,
	100000000u,
	1000000000u,
	10000000000u,
	100000000000u,
	1000000000000u,
	10000000000000u,
	100000000000000u,
	1000000000000000u,
	10000000000000000u,
	100000000000000000u,
	1000000000000000000u,
};

/* Units of 2^-64 by which a computed value may be off: more than the
 * 1.07 of V plus the 1.07 of a half gap (see the top of the file). */
#define MARGIN 4

/* (hi * 2^64 + lo) >> sh, for 0 <= sh < 192 and a result below 2^128. */
static u128 shift_right(u128 hi, uint64_t lo, int sh)
{
	if (sh >= 64)
		return sh - 64 < 128 ? hi >> (sh - 64) : 0;
	if (sh == 0)
		return hi << 64 | lo;
	return hi << (64 - sh) | lo >> sh;
}

/* floor(m * c * 2^-sh), the whole 181-bit product kept before the shift. */
static u128 mul_shift(uint64_t m, const struct pow10 *p, int sh)
{
	u128 low = (u128)m * p->lo;
	u128 high = (u128)m * p->hi + (low >> 64); /* below 2^118: no overflow */
	return shift_right(high, (uint64_t)low, sh);
}

/* floor(n * log10(2)) for |n| <= 1650, or one less (the caller corrects). */
static int log10_pow2(int n)
{
	/* 78913 / 2^18 is log10(2) to 6 digits; >> of a negative int is an
	 * arithmetic shift (floor) with gcc and clang. */
	return (n * 78913) >> 18;
}

/* Writes n (10^(P-1) <= n < 10^P) times 10^(X-P+1) as %.Pg does: style e
 * when X < -4 or X >= P, else fixed; trailing zeros of the fraction and a
 * bare decimal point dropped; exponents with at least two digits. */
static size_t format_g(char *out, uint64_t n, int P, int X)
{
	char digit[20];
	char *o = out;
	int len = P;

	/* Eight digits at a time (common/decimal.h): the divisions' latency
	 * was most of the time of a double's text. P <= 17 digits fit. */
	ttlog__decimal_fixed(digit, n, (unsigned)P);
	while (len > 1 && digit[len - 1] == '0')
		len--;
	if (X < -4 || X >= P) {
		unsigned ax = X < 0 ? (unsigned)-X : (unsigned)X;
		*o++ = digit[0];
		if (len > 1) {
			*o++ = '.';
			memcpy(o, digit + 1, (size_t)len - 1);
			o += len - 1;
		}
		*o++ = 'e';
		*o++ = X < 0 ? '-' : '+';
		if (ax >= 100) {
			*o++ = (char)('0' + ax / 100);
			ax %= 100;
		}
		*o++ = (char)('0' + ax / 10);
		*o++ = (char)('0' + ax % 10);
	} else if (X >= 0) {
		memcpy(o, digit, (size_t)X + 1);
		o += X + 1;
		if (len > X + 1) {
			*o++ = '.';
			memcpy(o, digit + X + 1, (size_t)(len - X - 1));
			o += len - X - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > X; i--)
			*o++ = '0';
		memcpy(o, digit, (size_t)len);
		o += len;
	}
	*o = '\0';
	return (size_t)(o - out);
}

/*
 * Exact rounding and round-trip test, for the values where they can be too
 * close to call and exact integers are within reach: v = m * 2^E * 10^k
 * and everything compared with it, scaled by one factor S so that all are
 * integers below 2^128:
 *   k >= 0: v = m * 5^k * 2^(E+k);       S = 2^j
 *   k < 0:  v = m * 2^E / 10^-k;         S = 10^-k * 2^j
 * with j = 0, or what makes the quarter gap, 2^(E-2) * 10^k, whole.
 * Ties go to even in both places, as glibc's printf and strtod do: a text
 * exactly halfway between d and a neighbour reads back as the one of them
 * with the even significand. Returns 0 when the integers would not fit.
 */
static int exact_digits(uint64_t m, int E, int k, int P, int lower_closer, uint64_t *n,
			int *reads_back)
{
	u128 Q, unit, gap_up, gap_down;

	if (k >= 0) {
		int b = E + k, j = b < 2 ? 2 - b : 0;
		if (k > 31 || j > 70 || b > 60)
			return 0;
		u128 five = 1;
		for (int i = 0; i < k; i++)
			five *= 5;
		/* m * 5^k < 2^53 * 5^31 < 2^125; Q = v * 2^j < 2^127. */
		Q = (u128)m * five << (b + j);
		unit = (u128)1 << j;
		gap_up = five << (b + j - 1);
		gap_down = lower_closer ? five << (b + j - 2) : gap_up;
	} else {
		int j = E < 2 ? 2 - E : 0;
		if (k < -38 || E > 70 || j > 8)
			return 0;
		u128 ten = 1;
		for (int i = 0; i < -k; i++)
			ten *= 10;
		Q = (u128)m << (E + j); /* below 2^(53+72) */
		unit = ten << j;
		gap_up = (u128)1 << (E + j - 1);
		gap_down = lower_closer ? (u128)1 << (E + j - 2) : gap_up;
	}
	u128 whole = Q / unit, rest = Q % unit;
	if (whole > pow10_u64[P])
		return 0; /* not in range: cannot happen after the estimate */
	whole += rest > unit - rest || (rest == unit - rest && (whole & 1));
	*n = (uint64_t)whole;
	if (P < 17) {
		u128 R = whole * unit;
		u128 dist = R >= Q ? R - Q : Q - R, gap = R >= Q ? gap_up : gap_down;
		*reads_back = dist < gap || (dist == gap && !(m & 1));
	}
	return 1;
}

/* few_decimals() for j digits after the point: j is a constant where
 * it is called, so that N / 10^j is a multiplication, not a division
 * (64-bit `div` takes tens of cycles). Returns the length, 0 when a is
 * not N / 10^j, or (size_t)-1 when a is whole. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline size_t few_decimals_j(double a, char *out, unsigned j, double scale)
{
	const double t = a * scale;
	const uint64_t n = (uint64_t)(t + 0.5);
	if ((double)n / scale != a)
		return 0;
	/* With j the smallest, N ends in 0 only if a is whole (j = 1): that
	 * text has no point, and is the general method's. */
	if (n % 10 == 0)
		return (size_t)-1;
	const uint64_t p = pow10_u64[j];
	char *o = ttlog__decimal_write(out, n / p);
	*o++ = '.';
	o = ttlog__decimal_fixed(o, n % p, j);
	*o = '\0';
	return (size_t)(o - out);
}

/* Fractions tried by few_decimals(): 10^-1 to 10^-FEW_DECIMALS. */
#define FEW_DECIMALS 4

/*
 * The text of a > 0 when it is a decimal with one to FEW_DECIMALS digits
 * after the point, below 10^11 (a latency of 12.5 ms, a ratio of 0.25), in
 * a few instructions: N / 10^j with j as small as it can be, found by
 * scaling a and rounding, and taken only if the quotient N / 10^j, which
 * IEEE division rounds to the nearest double exactly as strtod() rounds
 * the text, is a again. Such an N has at most 15 digits, and a lies within
 * half its ulp (below 1.2e-16 of it) of N / 10^j, far inside half a unit
 * of the 15th digit (5e-16 of it at least), so that text is what "%.15g"
 * prints, and it reads back. Returns 0 for every other value.
 * Needs arithmetic in double precision (FLT_EVAL_METHOD 0).
 */
static size_t few_decimals(double a, char *out)
{
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
	if (!(a < 1e11))
		return 0;
	/* j = 1 to FEW_DECIMALS, each with its constant. */
	size_t n = few_decimals_j(a, out, 1, 1e1);
	if (!n)
		n = few_decimals_j(a, out, 2, 1e2);
	if (!n)
		n = few_decimals_j(a, out, 3, 1e3);
	if (!n)
		n = few_decimals_j(a, out, 4, 1e4);
	return n == (size_t)-1 ? 0 : n;
#else
	(void)a;
	(void)out;
	return 0;
#endif
}

size_t render_double_text_fast(double d, char *text)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof bits);
	int biased = (int)(bits >> 52 & 0x7ff);
	uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
	int E;

	if (biased == 0x7ff || (biased == 0 && m == 0))
		return 0; /* NaN, infinities and zeros are the caller's */
	if (biased == 0) {
		E = -1074; /* subnormal */
	} else {
		m |= UINT64_C(1) << 52;
		E = biased - 1075;
	}
	/* The next double below is closer than the one above only at a power
	 * of two with a normal double below it. */
	int lower_closer = m == UINT64_C(1) << 52 && biased > 1;
	/* d >= 2^(E + bit length - 1): a guess at X that is low by at most one. */
	int X = log10_pow2(E + 63 - __builtin_clzll(m));

	char *out = text;
	if (bits >> 63)
		*out++ = '-';
	size_t few = few_decimals(d < 0 ? -d : d, out);
	if (few)
		return (size_t)(out - text) + few;
	for (int P = 15; P <= 17; P++) {
		const u128 lo = (u128)pow10_u64[P - 1] << 64, hi = (u128)pow10_u64[P] << 64;
		const struct pow10 *p;
		u128 V;
		int sh;

		for (int tries = 0;; tries++) {
			int k = P - 1 - X;
			if (tries == 3 || k < POW10_MIN || k > POW10_MAX)
				return 0; /* cannot happen: the guess is one off at most */
			p = &pow10_table[k - POW10_MIN];
			sh = -(E + p->e + 64);
			/* From the bounds on m (1..2^53), c and V (2^107..2^124),
			 * sh stays within 3..74: this is only a guard. */
			if (sh < 0 || sh > 180)
				return 0;
			V = mul_shift(m, p, sh);
			if (V + MARGIN < lo)
				X--;
			else if (V >= hi + MARGIN)
				X++;
			else
				break;
		}

		/* Round to P digits, ties to even; then, for P < 17, does
		 * n * 10^(X-P+1) read back as d? Its distance from d is compared
		 * with the half gap on its side. */
		const uint64_t half = UINT64_C(1) << 63;
		uint64_t n = (uint64_t)(V >> 64), frac = (uint64_t)V;
		int sure = !(frac > half - MARGIN && frac < half + MARGIN), reads_back = 1;
		if (sure) {
			n += frac > half;
			if (P < 17) {
				u128 R = (u128)n << 64, dist, gap;
				if (R >= V) {
					dist = R - V;
					gap = mul_shift(1, p, sh + 1);
				} else {
					dist = V - R;
					gap = mul_shift(1, p, sh + (lower_closer ? 2 : 1));
				}
				sure = !(dist + MARGIN > gap && dist < gap + MARGIN);
				reads_back = dist < gap;
			}
		}
		/* Too close to call: an exact tie, or a text exactly on a bound
		 * of d's interval, where strtod's ties-to-even decides. */
		if (!sure && !exact_digits(m, E, P - 1 - X, P, lower_closer, &n, &reads_back))
			return 0;
		if (!reads_back)
			continue; /* reads back as another double: more digits */
		/* Rounding up may carry into a new digit: 10^P is 10^(P-1) with
		 * the next exponent. */
		int x = X;
		if (n == pow10_u64[P]) {
			n = pow10_u64[P - 1];
			x++;
		}
		return (size_t)(out - text) + format_g(out, n, P, x);
	}
	return 0; /* not reached: P = 17 always returns */
}
