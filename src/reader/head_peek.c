/* SPDX-License-Identifier: MIT */
/*
 * head_peek.c - a file's process and clock calibration from its HEAD
 * alone, without opening it as a reader (ttlog__reader_peek_head(), and
 * the whole positioned read it and the segment index use): the
 * store uses it to give each process one clock from all of its files,
 * also those it leaves unread (store.c, "One clock per process").
 *
 * Two positioned reads: the file header, then HEAD, the first chunk,
 * whose length, type and CRC are checked before a field is taken. An
 * encrypted file, a file of another format revision or a damaged HEAD
 * gives nothing; the caller then goes without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/internal.h"
#include "format/format.h"
#include "reader/impl.h"

/* A HEAD longer than this is not read here: its strings are at most a
 * path, a host name, a reason, a service and a trigger rule. */
#define PEEK_HEAD_MAX (64u << 10)

int ttlog__reader_pread(int fd, void *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t got = pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return 0;
		done += (size_t)got;
	}
	return 1;
}

static int peek_fd(int fd, uint64_t offset, struct ttlog__head_clock *out)
{
	unsigned char fh[TTLOG__FMT_FILE_HEADER_SIZE];
	const size_t hsize =
		ttlog__reader_pread(fd, fh, sizeof fh, offset) ? ttlog__reader_header_size(fh) : 0;
	if (!hsize)
		return 0;
	unsigned char ch[TTLOG__FMT_CHUNK_HEADER_SIZE];
	if (!ttlog__reader_pread(fd, ch, sizeof ch, offset + hsize) ||
	    ttlog__get_u32(ch + TTLOG__FMT_CH_TYPE_OFF) != TTLOG__FMT_CHUNK_HEAD)
		return 0;
	const uint32_t len = ttlog__get_u32(ch + TTLOG__FMT_CH_LENGTH_OFF);
	if (len < TTLOG__FMT_HEAD_FIXED_SIZE || len > PEEK_HEAD_MAX)
		return 0;
	unsigned char *p = malloc(len);
	if (!p)
		return 0;
	int ok = ttlog__reader_pread(fd, p, len, offset + hsize + sizeof ch) &&
		 ttlog__chunk_crc(ch, p, len) == ttlog__get_u32(ch + TTLOG__FMT_CH_CRC_OFF);
	if (ok) {
		out->pid = ttlog__get_u32(p + TTLOG__FMT_HEAD_PID_OFF);
		out->tick0 = ttlog__get_u64(p + TTLOG__FMT_HEAD_TICK0_OFF);
		out->ns0 = (int64_t)ttlog__get_u64(p + TTLOG__FMT_HEAD_NS0_OFF);
		out->tick1 = ttlog__get_u64(p + TTLOG__FMT_HEAD_TICK1_OFF);
		out->ns1 = (int64_t)ttlog__get_u64(p + TTLOG__FMT_HEAD_NS1_OFF);
		ok = out->tick1 > out->tick0;
	}
	free(p);
	return ok;
}

int ttlog__reader_peek_head(const char *path, uint64_t offset, struct ttlog__head_clock *out)
{
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return 0;
	int ok = peek_fd(fd, offset, out);
	close(fd);
	return ok;
}
