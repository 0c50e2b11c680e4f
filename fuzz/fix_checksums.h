/* SPDX-License-Identifier: MIT */
/*
 * fix_checksums.h - for the fuzz targets that read ttlog files: makes a
 * mutated file's checksums right again, so that the parsers behind them
 * see the mutation (a changed byte almost always breaks a CRC).
 */
#ifndef TTLOG__FUZZ_FIX_CHECKSUMS_H
#define TTLOG__FUZZ_FIX_CHECKSUMS_H

#include <stddef.h>
#include <stdint.h>

#include "common/crc32c.h"
#include "common/internal.h"
#include "format/format.h"

/* Recomputes the file header's CRC and every chunk's CRC, following the
 * chunk lengths as far as they stay inside the buffer. */
static inline void fuzz_fix_checksums(unsigned char *p, size_t size)
{
	if (size < TTLOG__FMT_FILE_HEADER_SIZE)
		return;
	ttlog__put_u32(p + TTLOG__FMT_FH_CRC_OFF, ttlog__crc32c(0, p, TTLOG__FMT_FH_CRC_OFF));
	size_t off = ttlog__get_u16(p + TTLOG__FMT_FH_HEADER_SIZE_OFF);
	if (off < TTLOG__FMT_FILE_HEADER_SIZE)
		off = TTLOG__FMT_FILE_HEADER_SIZE;
	while (off < size && size - off >= TTLOG__FMT_CHUNK_HEADER_SIZE) {
		uint32_t len = ttlog__get_u32(p + off + TTLOG__FMT_CH_LENGTH_OFF);
		if (len > size - off - TTLOG__FMT_CHUNK_HEADER_SIZE)
			return;
		ttlog__put_u32(p + off + TTLOG__FMT_CH_CRC_OFF,
			       ttlog__chunk_crc(p + off, p + off + TTLOG__FMT_CHUNK_HEADER_SIZE, len));
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + (size_t)len;
	}
}

#endif /* TTLOG__FUZZ_FIX_CHECKSUMS_H */
