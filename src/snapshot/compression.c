/* SPDX-License-Identifier: MIT */
/*
 * compression.c - parsing a compression setting, and a zstd context in
 * reserved memory (see compression.h).
 *
 * The context's parameters are those zstd picks for the level and a source
 * of TTLOG__FMT_PK_BOUND(TTLOG__FMT_MAX_BLOCK_RAW) bytes (the most a packed
 * block holds), set one by one on the context so that they do not change
 * with the size of each block: ttlog__zstd_reserve_size() is the memory
 * zstd says those parameters need, and a smaller block only ever needs
 * less. The frame carries its content size (the packed length, which the
 * reader checks) and zstd's checksum of it (4 bytes): the chunk's CRC
 * covers the stored bytes, the checksum what they decompress to.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_initStaticCCtx and the size estimates */
#include "snapshot/compression.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zstd.h>

#include "format/format.h"

#define LARGEST_SOURCE TTLOG__FMT_PK_BOUND((size_t)TTLOG__FMT_MAX_BLOCK_RAW)

int ttlog__compression_parse(const char *s, struct ttlog__compression *out)
{
	if (!s)
		return -1;
	if (strcasecmp(s, "none") == 0) {
		out->codec = TTLOG__FMT_CODEC_NONE;
		out->level = 0;
		return 0;
	}
	if (strcasecmp(s, "lz4") == 0) {
		out->codec = TTLOG__FMT_CODEC_LZ4;
		out->level = 0;
		return 0;
	}
	if (strcasecmp(s, "packed") == 0) {
		out->codec = TTLOG__FMT_CODEC_PACKED;
		out->level = 0;
		return 0;
	}
	if (strncasecmp(s, "zstd", 4) != 0)
		return -1;
	int level = TTLOG__ZSTD_LEVEL_DEFAULT;
	if (s[4] == ':') {
		const char *d = s + 5;
		if (*d < '0' || *d > '9')
			return -1;
		level = 0;
		for (; *d >= '0' && *d <= '9'; d++) {
			level = level * 10 + (*d - '0');
			if (level > TTLOG__ZSTD_LEVEL_MAX)
				return -1;
		}
		if (*d || level < TTLOG__ZSTD_LEVEL_MIN)
			return -1;
	} else if (s[4]) {
		return -1;
	}
	out->codec = TTLOG__FMT_CODEC_ZSTD;
	out->level = level;
	return 0;
}

const char *ttlog__compression_text(const struct ttlog__compression *c, char *buf, size_t size)
{
	switch (c->codec) {
	case TTLOG__FMT_CODEC_NONE:
		return "none";
	case TTLOG__FMT_CODEC_LZ4:
		return "lz4";
	case TTLOG__FMT_CODEC_PACKED:
		return "packed";
	default:
		snprintf(buf, size, "zstd:%d", c->level);
		return buf;
	}
}

static ZSTD_compressionParameters params_of(int level)
{
	return ZSTD_getCParams(level, LARGEST_SOURCE, 0);
}

size_t ttlog__zstd_reserve_size(const struct ttlog__compression *c)
{
	if (c->codec != TTLOG__FMT_CODEC_ZSTD)
		return 0;
	size_t n = ZSTD_estimateCCtxSize_usingCParams(params_of(c->level));
	return (n + 63) & ~(size_t)63;
}

void *ttlog__zstd_prepare(void *mem, size_t size, const struct ttlog__compression *c)
{
	ZSTD_CCtx *cctx = ZSTD_initStaticCCtx(mem, size);
	if (!cctx)
		return NULL;
	ZSTD_compressionParameters p = params_of(c->level);
	static const ZSTD_cParameter names[] = {ZSTD_c_windowLog, ZSTD_c_chainLog, ZSTD_c_hashLog,
						ZSTD_c_searchLog, ZSTD_c_minMatch,
						ZSTD_c_targetLength, ZSTD_c_strategy};
	const int values[] = {(int)p.windowLog, (int)p.chainLog,     (int)p.hashLog, (int)p.searchLog,
			      (int)p.minMatch,  (int)p.targetLength, (int)p.strategy};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, names[i], values[i])))
			return NULL;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)))
		return NULL;
	return cctx;
}

/* Runs in signal context. */
size_t ttlog__zstd_compress(void *cctx, unsigned char *dst, size_t cap, const unsigned char *src,
			    size_t n)
{
	size_t z = ZSTD_compress2(cctx, dst, cap, src, n);
	return ZSTD_isError(z) ? 0 : z;
}
