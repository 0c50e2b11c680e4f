/* SPDX-License-Identifier: MIT */
/*
 * sigsafe.c - async-signal-safe helpers for the crash path (see sigsafe.h).
 * Every function in this file runs in signal context.
 */
#include "common/sigsafe.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Runs in signal context: the caller's buffer only. */
void ttlog__sb_init(struct ttlog__sbuf *sb, char *buf, size_t cap)
{
	sb->p = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

/* Runs in signal context: the caller's buffer only. */
void ttlog__sb_mem(struct ttlog__sbuf *sb, const char *s, size_t n)
{
	if (sb->cap == 0)
		return;
	size_t room = sb->cap - 1 - sb->len;
	if (n > room) {
		n = room;
		sb->overflow = 1;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

/* Runs in signal context: the caller's buffer only. */
void ttlog__sb_str(struct ttlog__sbuf *sb, const char *s)
{
	ttlog__sb_mem(sb, s, strlen(s));
}

/* Runs in signal context: the caller's buffer only. */
void ttlog__sb_u64(struct ttlog__sbuf *sb, uint64_t v, int width)
{
	char digits[24];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width && n < (int)sizeof digits)
		digits[n++] = '0';
	char text[24];
	for (int i = 0; i < n; i++)
		text[i] = digits[n - 1 - i];
	ttlog__sb_mem(sb, text, (size_t)n);
}

/* Runs in signal context: write(2). */
int ttlog__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t k = write(fd, p, len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Days since 1970-01-01 to a proleptic Gregorian date: count 400-year eras
 * from 0000-03-01, so that the leap day is the last day of each year.
 * Runs in signal context. */
void ttlog__civil_from_unix(int64_t secs, struct ttlog__civil *out)
{
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	out->hour = (int)(rem / 3600);
	out->minute = (int)(rem / 60 % 60);
	out->second = (int)(rem % 60);
	int64_t z = days + 719468; /* days from 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                               /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);        /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                             /* March = 0 */
	out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	out->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	out->year = (int)(yoe + era * 400 + (out->month <= 2));
}

/* See sigsafe.h. Runs in signal context. */
void ttlog__sb_utc_stamp(struct ttlog__sbuf *sb, int64_t ns)
{
	struct ttlog__civil c;
	int64_t secs = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	ttlog__civil_from_unix(secs, &c);
	ttlog__sb_u64(sb, (uint64_t)c.year, 4);
	ttlog__sb_u64(sb, (uint64_t)c.month, 2);
	ttlog__sb_u64(sb, (uint64_t)c.day, 2);
	ttlog__sb_str(sb, "T");
	ttlog__sb_u64(sb, (uint64_t)c.hour, 2);
	ttlog__sb_u64(sb, (uint64_t)c.minute, 2);
	ttlog__sb_u64(sb, (uint64_t)c.second, 2);
	ttlog__sb_str(sb, ".");
	ttlog__sb_u64(sb, (uint64_t)frac, 9);
	ttlog__sb_str(sb, "Z");
}

/* Runs in signal context: the caller's buffers only. */
void ttlog__sanitize_reason(const char *reason, char *out, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return;
	for (const char *s = reason ? reason : ""; *s && n + 1 < cap; s++) {
		char c = *s;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		out[n++] = ok ? c : '_';
	}
	if (n == 0) {
		const char *def = "manual";
		size_t k = strlen(def) < cap - 1 ? strlen(def) : cap - 1;
		memcpy(out, def, k);
		n = k;
	}
	if (n > 0 && out[0] == '.')
		out[0] = '_'; /* no hidden files, no ".." */
	out[n] = '\0';
}

/* Runs in signal context: ttlog__write_all() or the sink. */
void ttlog__fdbuf_write(struct ttlog__fdbuf *b, const void *data, size_t n)
{
	if (!n || b->failed)
		return;
	int rc = b->sink ? b->sink(b->sink_ctx, b->fd, data, n) : ttlog__write_all(b->fd, data, n);
	if (rc != 0)
		b->failed = 1;
}

/* Runs in signal context: ttlog__fdbuf_write(). */
void ttlog__fdbuf_flush(struct ttlog__fdbuf *b)
{
	ttlog__fdbuf_write(b, b->buf, b->len);
	b->len = 0;
}

/* Runs in signal context: the caller's buffer, ttlog__write_all(). */
void ttlog__fdbuf_put(struct ttlog__fdbuf *b, const void *data, size_t n)
{
	const unsigned char *p = data;
	while (n && !b->failed) {
		if (b->len == b->cap)
			ttlog__fdbuf_flush(b);
		size_t k = n < b->cap - b->len ? n : b->cap - b->len;
		memcpy(b->buf + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
	}
}
