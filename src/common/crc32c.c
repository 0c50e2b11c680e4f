/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC-32C: the SSE4.2 crc32 instruction where the processor has
 * it (x86-64, chosen once at load time), else slicing-by-8 over a table
 * built once at load time. Both give the same value for any input.
 *
 * The polynomial is the reflected Castagnoli polynomial 0x82F63B78, the one
 * iSCSI, ext4 and SSE4.2's crc32 instruction use; its check value for the
 * nine bytes "123456789" is 0xE3069283 (tested in tests/test_common.c).
 */
#include "crc32c.h"

#include <string.h>

#include "ttlog.h"

static uint32_t crc_table[8][256];
static int crc_ready;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CRC_HW 1
static int crc_hw; /* the processor has SSE4.2; set at load time */

/* Runs in signal context: registers and the caller's bytes only. */
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const unsigned char *p,
							    size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	crc = (uint32_t)c;
	while (len--)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}
#endif

__attribute__((constructor)) void ttlog__crc32c_init(void)
{
	if (crc_ready)
		return;
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
#ifdef CRC_HW
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
	crc_ready = 1;
}

/* Runs in signal context: reads only the table and the caller's bytes.
 * Exported for libttlog-read (the reader checks every chunk with it). */
TTLOG_API uint32_t ttlog__crc32c(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	crc = ~crc;
#ifdef CRC_HW
	if (crc_hw)
		return ~crc_sse42(crc, p, len);
#endif
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);  /* little-endian hosts only, as everywhere in ttlog */
		w ^= crc;
		crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		      crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
		      crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
		      crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
