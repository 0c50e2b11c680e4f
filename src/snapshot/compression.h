/* SPDX-License-Identifier: MIT */
/*
 * compression.h - the codec a writer uses for its EVTS blocks
 * (TTLOG_COMPRESSION, TTLOG_STREAM_COMPRESSION) and the zstd compression
 * context it reserves for them.
 *
 * A setting names one of four ways to store a block (docs/FORMAT.md 9.1):
 * "none" (codec 0, the records as they are), "lz4" (codec 1), "packed"
 * (codec 2, records coded by type) and "zstd[:LEVEL]" (codec 3: the
 * packed bytes, then compressed by zstd at LEVEL, 1 to 19, default 3).
 *
 * zstd is used from signal context (the crash handler writes snapshots and
 * closes the stream's segment), where it must not allocate: the context
 * lives in memory the owner reserved at init, of ttlog__zstd_reserve_size()
 * bytes, made a static zstd context there (ZSTD_initStaticCCtx) with its
 * parameters fixed for a block of the largest packed size, so that
 * compressing never needs more than was reserved. Compression is pure
 * computation over that memory: no malloc, no lock, no system call.
 */
#ifndef TTLOG__SNAPSHOT_COMPRESSION_H
#define TTLOG__SNAPSHOT_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

#define TTLOG__ZSTD_LEVEL_DEFAULT 3
#define TTLOG__ZSTD_LEVEL_MIN 1
#define TTLOG__ZSTD_LEVEL_MAX 19

struct ttlog__compression {
	uint8_t codec; /* TTLOG__FMT_CODEC_NONE, _LZ4, _PACKED or _ZSTD */
	int level;     /* _ZSTD: 1 to 19 */
};

/* "none", "lz4", "packed", "zstd" or "zstd:LEVEL" (case ignored) into *out.
 * Returns 0, or -1 for anything else (*out unchanged). */
int ttlog__compression_parse(const char *s, struct ttlog__compression *out);

/* What a setting is called in messages: "lz4", "zstd:3", ... (buf of 16). */
const char *ttlog__compression_text(const struct ttlog__compression *c, char *buf, size_t size);

/* Bytes a zstd context for this level needs (0: the setting is not zstd). */
size_t ttlog__zstd_reserve_size(const struct ttlog__compression *c);

/* Makes a zstd context in mem (size bytes, at least ttlog__zstd_reserve_size(),
 * 8-byte aligned) and fixes its parameters. Returns it, or NULL when zstd
 * refuses. Not in signal context: at init. */
void *ttlog__zstd_prepare(void *mem, size_t size, const struct ttlog__compression *c);

/* Compresses n bytes of src into one zstd frame of at most cap bytes at
 * dst, with the context from ttlog__zstd_prepare(). Returns the frame's
 * size, or 0 when it does not fit in cap (or zstd failed): the caller
 * stores the block another way. Runs in signal context. */
size_t ttlog__zstd_compress(void *cctx, unsigned char *dst, size_t cap, const unsigned char *src,
			    size_t n);

#endif
