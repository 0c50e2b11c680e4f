/* SPDX-License-Identifier: MIT */
/*
 * sigsafe.h - small string and file helpers that are async-signal-safe.
 *
 * The crash path may not use stdio or malloc, so it builds file names and
 * writes files with these. Every function here runs in signal context: it
 * touches only its arguments and makes only async-signal-safe calls.
 */
#ifndef TTLOG__COMMON_SIGSAFE_H
#define TTLOG__COMMON_SIGSAFE_H

#include <stddef.h>
#include <stdint.h>

/* A bounded string builder; `overflow` is set when something did not fit,
 * and the text stays NUL-terminated. */
struct ttlog__sbuf {
	char *p;
	size_t len, cap;
	int overflow;
};

void ttlog__sb_init(struct ttlog__sbuf *sb, char *buf, size_t cap);
void ttlog__sb_str(struct ttlog__sbuf *sb, const char *s);
void ttlog__sb_mem(struct ttlog__sbuf *sb, const char *s, size_t n);
/* Decimal, left-padded with zeros to at least `width` digits. */
void ttlog__sb_u64(struct ttlog__sbuf *sb, uint64_t v, int width);

/* write() until everything is written; retries on EINTR. 0 or -1. */
int ttlog__write_all(int fd, const void *buf, size_t len);

/*
 * Buffered output to a file descriptor: bytes collect in buf (cap bytes,
 * the caller's memory) and go out through ttlog__write_all() when it is
 * full and on flush. The first failed write sets `failed`; later bytes are
 * dropped, so a caller checks once, at the end. With a sink (an
 * encrypted file: src/snapshot/seal.c), every run of bytes that would go to
 * write(2) goes to the sink instead, which returns 0 or -1 as
 * ttlog__write_all() does; sink must then run in signal context too.
 */
struct ttlog__fdbuf {
	int fd;
	int failed;
	unsigned char *buf;
	size_t len, cap;
	int (*sink)(void *ctx, int fd, const void *data, size_t n); /* NULL: write(2) */
	void *sink_ctx;
};
void ttlog__fdbuf_put(struct ttlog__fdbuf *b, const void *data, size_t n);
void ttlog__fdbuf_flush(struct ttlog__fdbuf *b);
/* Writes n bytes now, past the buffer (which the caller flushed first),
 * through the sink if there is one; sets failed on failure. */
void ttlog__fdbuf_write(struct ttlog__fdbuf *b, const void *data, size_t n);

/* Splits seconds since the Unix epoch into UTC calendar fields. */
struct ttlog__civil {
	int year, month, day, hour, minute, second;
};
void ttlog__civil_from_unix(int64_t secs, struct ttlog__civil *out);

/* Appends ns since the Unix epoch as the UTC time of file names,
 * YYYYMMDDTHHMMSS.nnnnnnnnnZ (docs/FORMAT.md section 18). Runs in signal
 * context. */
void ttlog__sb_utc_stamp(struct ttlog__sbuf *sb, int64_t ns);

/* Copies a reason into a file-name-safe form: [A-Za-z0-9._-] kept, other
 * bytes become '_', at most cap-1 bytes; empty or NULL gives "manual". */
void ttlog__sanitize_reason(const char *reason, char *out, size_t cap);

#endif
