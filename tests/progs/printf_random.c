/* SPDX-License-Identifier: MIT */
/*
 * printf_random.c - random printf cases for tests/printf_random.sh: logs N
 * cases drawn from SEED and writes what glibc's snprintf makes of each.
 *
 * Usage: printf_random SEED N DIR EXPECTED [runtime]
 *
 * With "runtime", every case goes through ttlog_log() instead of
 * TTLOG_INFO(), its format copied into a buffer that is overwritten after
 * the call (a runtime format, which the library must copy and walk).
 *
 * Each case is one of the 744 call sites of printf_sites.inc (every
 * conversion, length modifier and flag set that C defines, with '*' width
 * and '.*' precision; the conversion drawn first, evenly), a width from -30 to 30 (negative: left-justified,
 * as C says of a negative '*'), a precision from -1 (as if none) to 40,
 * and a value: an edge value of its type (0, -1, the minimum and maximum,
 * subnormals, infinities, NaN, -0.0, values whose rounding is a tie...)
 * or random bits. The same format and arguments go to TTLOG_INFO() and to
 * snprintf(). EXPECTED gets one line per case: the expected text in hex,
 * a tab, and what the case was (site format, width, precision, value), to
 * name it in a failure. The snapshot is written to DIR and its path printed.
 *
 * Strings are drawn from ASCII, quotes, backslashes, control characters,
 * UTF-8 sequences and bytes that are not UTF-8 (no NUL: a C string ends
 * there), up to 40 bytes, under the default string limit; now and then
 * NULL. long double values (%L) are x87 values over the whole exponent
 * range, recorded exactly (LD80).
 */
#define _GNU_SOURCE
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ttlog.h"

union value {
	long long i;
	unsigned long long u;
	double d;
	long double L;
	int c;
	void *p;
	const char *s;
};

/* 1: cases go through ttlog_log() (the runtime path). */
static int runtime;
static char format_buffer[64];

#define PRINTF_LOG(fmt, ...)                                                        \
	do {                                                                        \
		if (runtime) {                                                      \
			strcpy(format_buffer, fmt);                                 \
			ttlog_log(TTLOG_LEVEL_INFO, format_buffer, __VA_ARGS__);   \
			memset(format_buffer, '?', sizeof format_buffer - 1);      \
		} else {                                                            \
			TTLOG_INFO(fmt, __VA_ARGS__);                              \
		}                                                                   \
	} while (0)

/* Some sites combine flags that C defines but ignores ('0' with '-', or
 * with a precision on an integer): gcc's format check warns about them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#include "printf_sites.inc"
#pragma GCC diagnostic pop

static uint64_t rng;

static uint64_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static unsigned below(unsigned n)
{
	return (unsigned)(next() % n);
}

static const long long signed_edges[] = {
	0, 1, -1, 42, -42, 127, -128, 255, 32767, -32768, 65535, INT_MAX, INT_MIN, UINT_MAX,
	LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1, 1000000, -999999999,
};

static const double double_edges[] = {
	0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, -2.5, 9.5, 0.125, 1e-5, 1e-4, 123456.789,
	1e15, 1e16, 1e17, 9007199254740993.0, 1e22, 1e23, 1e100, 1e-300, DBL_MAX, -DBL_MAX,
	DBL_MIN, DBL_MIN / 2, 5e-324, DBL_EPSILON, 3.14159265358979323846, 2.0 / 3.0,
	0.05, 0.005, 0.0005, 999.9995, 0.9999999999, 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0,
};

static const long double long_double_edges[] = {
	0.0L, -0.0L, 1.0L, 0.1L, 1e-4000L, -1e-4000L, 1e4000L, LDBL_MAX, -LDBL_MAX, LDBL_MIN,
	LDBL_MIN / 3, LDBL_EPSILON, 3.14159265358979323846264338327950288L,
	18446744073709551615.0L, 9223372036854775807.5L, 2.5L, 1e-310L, 0.5L + LDBL_EPSILON,
	1.0L / 0.0L, -1.0L / 0.0L,
};

static char string_pool[64][48];

static const char *draw_string(unsigned k)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", "\"", "\\", "%", "\t", "\n", "\x01", "\x1b[31m", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xfe", "\xc0\xaf",
		"\xed\xa0\x80", "\xe2\x82", "\x80", "abc", "hello world",
	};
	if (below(20) == 0)
		return NULL;
	char *s = string_pool[k % 64];
	size_t len = 0, want = below(41);
	while (len < want) {
		const char *p = pieces[below(sizeof pieces / sizeof *pieces)];
		size_t n = strlen(p);
		if (len + n > 40)
			break;
		memcpy(s + len, p, n);
		len += n;
	}
	s[len] = '\0';
	return s;
}

static void draw_value(char kind, unsigned k, union value *v)
{
	memset(v, 0, sizeof *v);
	int edge = below(2) == 0;
	switch (kind) {
	case 'i':
		v->i = edge ? signed_edges[below(sizeof signed_edges / sizeof *signed_edges)]
			    : (long long)next();
		break;
	case 'u':
		v->u = edge ? (unsigned long long)signed_edges[below(sizeof signed_edges /
								 sizeof *signed_edges)]
			    : next();
		break;
	case 'd':
		if (edge) {
			v->d = double_edges[below(sizeof double_edges / sizeof *double_edges)];
		} else if (below(2)) {
			uint64_t bits = next();
			memcpy(&v->d, &bits, sizeof v->d);
		} else {
			/* A short decimal: digits over a power of ten. */
			v->d = (double)(int64_t)(next() % 2000001 - 1000000) / pow(10, below(12));
		}
		break;
	case 'L':
		if (edge) {
			v->L = long_double_edges[below(sizeof long_double_edges /
						       sizeof *long_double_edges)];
		} else if (below(2)) {
			/* Any normal 80-bit value: the integer bit set, any exponent. */
			v->L = ldexpl((long double)(next() | UINT64_C(1) << 63),
				      (int)below(32760) - 16383 - 63);
			if (below(2))
				v->L = -v->L;
		} else {
			v->L = (long double)(int64_t)(next() % 2000001 - 1000000) / powl(10, below(25));
		}
		break;
	case 'c':
		v->c = (int)(1 + below(255));
		break;
	case 'p':
		v->p = below(4) == 0 ? NULL : (void *)(uintptr_t)next();
		break;
	case 's':
		v->s = draw_string(k);
		break;
	}
}

static void describe(FILE *out, char kind, const union value *v)
{
	switch (kind) {
	case 'i': fprintf(out, "%lld", v->i); break;
	case 'u': fprintf(out, "%llu", v->u); break;
	case 'd': fprintf(out, "%a", v->d); break;
	case 'L': fprintf(out, "%La", v->L); break;
	case 'c': fprintf(out, "char %d", v->c); break;
	case 'p': fprintf(out, "%p", v->p); break;
	case 's':
		if (!v->s) {
			fputs("NULL", out);
			break;
		}
		fputs("string hex ", out);
		for (const char *p = v->s; *p; p++)
			fprintf(out, "%02x", (unsigned char)*p);
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5 && !(argc == 6 && strcmp(argv[5], "runtime") == 0)) {
		fprintf(stderr, "usage: printf_random SEED N DIR EXPECTED [runtime]\n");
		return 2;
	}
	runtime = argc == 6;
	rng = strtoull(argv[1], NULL, 10) * UINT64_C(0x9E3779B97F4A7C15) + 1;
	long n = strtol(argv[2], NULL, 10);
	setenv("TTLOG_DIR", argv[3], 1);
	setenv("TTLOG_RING_SIZE", "16M", 1);
	setenv("TTLOG_WINDOW", "0", 1);
	FILE *out = fopen(argv[4], "w");
	if (!out || n <= 0 || ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "printf_random: cannot start\n");
		return 1;
	}
	/* The conversion first, evenly (most sites are integer ones), then one
	 * of its sites. */
	static unsigned by_conv[PRINTF_SITES];
	unsigned nconv = 0, first[32], count[32];
	char conv[32];
	for (unsigned i = 0; i < PRINTF_SITES; i++) {
		const char *f = site_format[i];
		char c = f[strlen(f) - 2]; /* before the closing '>' */
		unsigned j = 0;
		while (j < nconv && conv[j] != c)
			j++;
		if (j == nconv) {
			conv[nconv] = c;
			count[nconv++] = 0;
		}
		count[j]++;
	}
	for (unsigned j = 0, at = 0; j < nconv; j++) {
		first[j] = at;
		at += count[j];
		count[j] = 0;
	}
	for (unsigned i = 0; i < PRINTF_SITES; i++) {
		const char *f = site_format[i];
		unsigned j = 0;
		while (conv[j] != f[strlen(f) - 2])
			j++;
		by_conv[first[j] + count[j]++] = i;
	}
	static char expect[16384]; /* %.40Lf of LDBL_MAX: 4,974 bytes */
	for (long k = 0; k < n; k++) {
		unsigned j = below(nconv);
		unsigned site = by_conv[first[j] + below(count[j])];
		int w = (int)below(61) - 30, p = (int)below(42) - 1;
		union value v;
		draw_value(site_kind[site], (unsigned)k, &v);
		int len = log_site(site, w, p, &v, expect, sizeof expect);
		if (len < 0 || (size_t)len >= sizeof expect) {
			fprintf(stderr, "printf_random: snprintf failed on case %ld\n", k);
			return 1;
		}
		for (int i = 0; i < len; i++)
			fprintf(out, "%02x", (unsigned char)expect[i]);
		fprintf(out, "\t%s width %d precision %d value ", site_format[site], w, p);
		describe(out, site_kind[site], &v);
		fputc('\n', out);
	}
	if (fclose(out) != 0)
		return 1;
	char path[4096];
	if (ttlog_snapshot_path("printf", path, sizeof path) != TTLOG_OK) {
		fprintf(stderr, "printf_random: no snapshot\n");
		return 1;
	}
	printf("%s\n", path);
	return 0;
}
