/* SPDX-License-Identifier: MIT */
/*
 * decimal.h - the decimal digits of an unsigned integer, eight at a time.
 *
 * The readers' text (message numbers, a time's nanoseconds, JSON integers,
 * a double's digits) spends much of its time making digits. Division by
 * 10 or 100 per digit is a chain of dependent multiplications; here eight
 * digits come out of one 64-bit word in a few independent steps:
 *
 *   v < 10^8          split by 10^4 into two 32-bit lanes  [v / 10^4 | v % 10^4]
 *   each lane < 10^4  split by 100 into 16-bit lanes       [q0 | r0 | q1 | r1]
 *   each lane < 100   split by 10 into bytes               [d0 d1 d2 ... d7]
 *
 * Each split is a multiplication by a reciprocal that is exact over the
 * lane's range (n * 5243 >> 19 == n / 100 for n < 43699, n * 103 >> 10 ==
 * n / 10 for n < 179), and no lane's product reaches the next lane, so one
 * multiplication splits every lane at once. Adding '0' to each byte makes
 * the text, first digit in the lowest byte.
 *
 * The writers store whole 8-byte words: they touch max(digits, 8) bytes
 * at `out` (so at most TTLOG__DECIMAL_ROOM for any 64-bit value), which
 * the caller's buffer must hold. Bytes past the digits are then
 * unspecified; callers write what follows (a NUL, a '.') afterwards.
 *
 * Only internal callers; a header so that the reader, the renderers and
 * the SQLite extension each compile it in without a library to link.
 */
#ifndef TTLOG__COMMON_DECIMAL_H
#define TTLOG__COMMON_DECIMAL_H

#include <stdint.h>
#include <string.h>

/* Bytes a ttlog__decimal_write() of any 64-bit value may touch: 20 digits. */
#define TTLOG__DECIMAL_ROOM 20

/* The eight digits of v < 10^8, leading zeros included, as their 8 bytes
 * in memory order. */
static inline uint64_t ttlog__decimal8(uint32_t v)
{
	uint64_t x = (uint64_t)(v / 10000u) | (uint64_t)(v % 10000u) << 32;
	uint64_t q = (x * 5243u >> 19) & UINT64_C(0x0000007f0000007f);
	uint64_t y = q | (x - q * 100u) << 16;
	uint64_t t = (y * 103u >> 10) & UINT64_C(0x000f000f000f000f);
	uint64_t z = t | (y - t * 10u) << 8;
	z |= UINT64_C(0x3030303030303030);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	z = __builtin_bswap64(z);
#endif
	return z;
}

/* Stores the last n (1..8) of the eight digits in z at out (8 bytes). */
static inline void ttlog__decimal_store_last(char *out, uint64_t z, unsigned n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	z <<= 8 * (8 - n);
#else
	z >>= 8 * (8 - n);
#endif
	memcpy(out, &z, 8);
}

/* The number of decimal digits of v (1 for 0). */
static inline unsigned ttlog__decimal_len(uint64_t v)
{
	static const uint64_t powers[20] = {
		UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
		UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
		UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
		UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
		UINT64_C(1000000000000000), UINT64_C(10000000000000000),
		UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
		UINT64_C(10000000000000000000),
	};
	/* A value of b bits has floor((b - 1) * log10(2)) + 1 digits or one
	 * more; 1233 / 4096 is log10(2) a little low. */
	unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
	unsigned n = ((bits - 1) * 1233 >> 12) + 1;
	return n + (n < 20 && v >= powers[n]);
}

/* Writes exactly width (1..20) digits of v < 10^width, zeros in front;
 * touches max(width, 8) bytes. Returns out + width. */
static inline char *ttlog__decimal_fixed(char *out, uint64_t v, unsigned width)
{
	if (width > 16) {
		const uint64_t e16 = UINT64_C(10000000000000000);
		ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)(v / e16)), width - 16);
		out += width - 16;
		v %= e16;
		width = 16;
	}
	if (width > 8) {
		ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)(v / 100000000u)), width - 8);
		out += width - 8;
		v %= 100000000u;
		width = 8;
	}
	ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)v), width);
	return out + width;
}

/* Writes v's digits without leading zeros; touches max(digits, 8) bytes.
 * Returns the end of the digits. */
static inline char *ttlog__decimal_write(char *out, uint64_t v)
{
	if (v < 100000000u) {
		unsigned n = ttlog__decimal_len(v);
		ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)v), n);
		return out + n;
	}
	uint64_t high = v / 100000000u;
	uint32_t low = (uint32_t)(v % 100000000u);
	if (high < 100000000u) {
		unsigned n = ttlog__decimal_len(high);
		ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)high), n);
		out += n;
	} else { /* 17 to 20 digits: high has 9 to 12 */
		unsigned n = ttlog__decimal_len(high / 100000000u);
		ttlog__decimal_store_last(out, ttlog__decimal8((uint32_t)(high / 100000000u)), n);
		out += n;
		uint64_t z = ttlog__decimal8((uint32_t)(high % 100000000u));
		memcpy(out, &z, 8);
		out += 8;
	}
	uint64_t z = ttlog__decimal8(low);
	memcpy(out, &z, 8);
	return out + 8;
}

#endif /* TTLOG__COMMON_DECIMAL_H */
