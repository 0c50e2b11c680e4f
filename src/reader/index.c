/* SPDX-License-Identifier: MIT */
/*
 * index.c - opening a closed segment through its index (FORMAT.md 17.3),
 * for ttlog_reader_open_range(): reads the END at the end of the file, the
 * INDX it points at, and then only the chunks the range needs, each with a
 * positioned read at its place in a buffer the size of the file (the pages
 * never read are never touched). The index is a hint: it is checked whole
 * before anything is used (every offset inside the file and increasing,
 * every chunk's type, length and CRC as the index says), and on any doubt
 * the caller reads and walks the whole file as usual.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/internal.h"
#include "reader/impl.h"
#include "format/format.h"
#include "ttlog_reader.h"

struct ientry {
	uint64_t off;
	uint32_t type;
	uint64_t first, last;
	size_t len;   /* payload bytes, from the next entry's offset */
	int need;
};

/* Reads n bytes at off into r->data + off. */
static int read_at(struct ttlog_reader *r, int fd, size_t off, size_t n)
{
	return ttlog__reader_pread(fd, r->data + off, n, off);
}

/* Reads the chunk at off whose type and payload length the index gives,
 * and checks its header and CRC against them. */
static int read_chunk(struct ttlog_reader *r, int fd, size_t off, uint32_t type, size_t len)
{
	if (!read_at(r, fd, off, TTLOG__FMT_CHUNK_HEADER_SIZE + len))
		return 0;
	const unsigned char *h = r->data + off;
	return ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF) == type &&
	       ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF) == len &&
	       ttlog__chunk_crc(h, h + TTLOG__FMT_CHUNK_HEADER_SIZE, len) ==
		       ttlog__get_u32(h + TTLOG__FMT_CH_CRC_OFF);
}

/* Decodes the chunk at off, read and checked by read_chunk(): in the
 * reader's own buffer, which nothing else writes. */
static void chunk_here(struct ttlog_reader *r, size_t off)
{
	const unsigned char *h = r->data + off;
	ttlog__reader_chunk(r, off, ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF),
			    ttlog__get_u32(h + TTLOG__FMT_CH_FLAGS_OFF),
			    ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF));
}

size_t ttlog__reader_header_size(const unsigned char *d)
{
	if (memcmp(d, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN) != 0 ||
	    ttlog__get_u32(d + TTLOG__FMT_FH_CRC_OFF) != ttlog__crc32c(0, d, TTLOG__FMT_FH_CRC_OFF) ||
	    ttlog__get_u16(d + TTLOG__FMT_FH_VERSION_OFF) != TTLOG__FMT_VERSION ||
	    (ttlog__get_u32(d + TTLOG__FMT_FH_INCOMPAT_OFF) & ~TTLOG__FMT_INCOMPAT_KNOWN))
		return 0;
	size_t hsize = ttlog__get_u16(d + TTLOG__FMT_FH_HEADER_SIZE_OFF);
	return hsize >= TTLOG__FMT_FILE_HEADER_SIZE ? hsize : 0;
}

/* The file header, read and checked; its size, or 0. */
static size_t file_header(struct ttlog_reader *r, int fd)
{
	if (!read_at(r, fd, 0, TTLOG__FMT_FILE_HEADER_SIZE))
		return 0;
	return ttlog__reader_header_size(r->data);
}

static int64_t to_ns(const struct ttlog_reader *r, uint64_t ticks)
{
	return ttlog__reader_ticks_to_ns(r, ticks);
}

/* Reads what the range needs through the index and decodes it. Returns 1
 * when done, 0 when the index cannot be trusted (nothing was decoded; the
 * caller reads the whole file). */
static int indexed(struct ttlog_reader *r, int fd)
{
	size_t size = r->size, hsize = file_header(r, fd);
	/* END, the last 112 bytes (104 before revision 9). */
	size_t trailer = TTLOG__FMT_SEGMENT_TRAILER_SIZE;
	size_t end_len = TTLOG__FMT_END_FULL_SIZE;
	size_t least = hsize + 2 * TTLOG__FMT_CHUNK_HEADER_SIZE;
	if (!hsize || size < least + TTLOG__FMT_SEGMENT_TRAILER_SIZE_R5)
		return 0;
	if (size < least + trailer ||
	    !read_chunk(r, fd, size - trailer, TTLOG__FMT_CHUNK_END, end_len)) {
		trailer = TTLOG__FMT_SEGMENT_TRAILER_SIZE_R5;
		end_len = TTLOG__FMT_END_SEGMENT_SIZE;
		if (!read_chunk(r, fd, size - trailer, TTLOG__FMT_CHUNK_END, end_len))
			return 0;
	}
	size_t end_off = size - trailer;
	uint64_t iof = ttlog__get_u64(r->data + end_off + TTLOG__FMT_CHUNK_HEADER_SIZE +
				      TTLOG__FMT_END_INDEX_OFF);
	if (iof < hsize || iof > end_off - TTLOG__FMT_CHUNK_HEADER_SIZE -
					 TTLOG__FMT_INDX_FIXED_SIZE)
		return 0;
	size_t indx_off = (size_t)iof;
	size_t indx_len = end_off - indx_off - TTLOG__FMT_CHUNK_HEADER_SIZE;
	if (indx_len > TTLOG__FMT_MAX_CHUNK ||
	    !read_chunk(r, fd, indx_off, TTLOG__FMT_CHUNK_INDX, indx_len))
		return 0;
	const unsigned char *ix = r->data + indx_off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	uint32_t count = ttlog__get_u32(ix + TTLOG__FMT_INDX_COUNT_OFF);
	if ((indx_len - TTLOG__FMT_INDX_FIXED_SIZE) % TTLOG__FMT_INDX_ENTRY_SIZE != 0 ||
	    (indx_len - TTLOG__FMT_INDX_FIXED_SIZE) / TTLOG__FMT_INDX_ENTRY_SIZE != count)
		return 0;
	/* HEAD, the first chunk: its length must bring it to the first entry. */
	if (!read_at(r, fd, hsize, TTLOG__FMT_CHUNK_HEADER_SIZE))
		return 0;
	size_t head_len = ttlog__get_u32(r->data + hsize + TTLOG__FMT_CH_LENGTH_OFF);
	if (head_len > indx_off - hsize - TTLOG__FMT_CHUNK_HEADER_SIZE ||
	    head_len < TTLOG__FMT_HEAD_FIXED_SIZE ||
	    !read_chunk(r, fd, hsize, TTLOG__FMT_CHUNK_HEAD, head_len))
		return 0;
	/* The calibration, to compare block times with the range. */
	const unsigned char *hp = r->data + hsize + TTLOG__FMT_CHUNK_HEADER_SIZE;
	r->tick0 = ttlog__get_u64(hp + TTLOG__FMT_HEAD_TICK0_OFF);
	r->ns0 = (int64_t)ttlog__get_u64(hp + TTLOG__FMT_HEAD_NS0_OFF);
	r->tick1 = ttlog__get_u64(hp + TTLOG__FMT_HEAD_TICK1_OFF);
	r->ns1 = (int64_t)ttlog__get_u64(hp + TTLOG__FMT_HEAD_NS1_OFF);
	if (!ttlog__reader_calibrate(r))
		return 0;

	struct ientry *e = count ? calloc(count, sizeof *e) : NULL;
	if (count && !e)
		return 0;
	int ok = 1, scopes = 0;
	size_t prev_end = hsize + TTLOG__FMT_CHUNK_HEADER_SIZE + head_len;
	for (uint32_t i = 0; i < count && ok; i++) {
		const unsigned char *q = ix + TTLOG__FMT_INDX_FIXED_SIZE +
					 (size_t)i * TTLOG__FMT_INDX_ENTRY_SIZE;
		e[i].off = ttlog__get_u64(q + TTLOG__FMT_INDX_E_OFFSET_OFF);
		e[i].type = ttlog__get_u32(q + TTLOG__FMT_INDX_E_TYPE_OFF);
		e[i].first = ttlog__get_u64(q + TTLOG__FMT_INDX_E_FIRST_OFF);
		e[i].last = ttlog__get_u64(q + TTLOG__FMT_INDX_E_LAST_OFF);
		/* Contiguous chunks: each starts where the one before ends. */
		ok = e[i].off == prev_end;
		uint64_t next = i + 1 < count ? ttlog__get_u64(q + TTLOG__FMT_INDX_ENTRY_SIZE)
					      : indx_off;
		if (ok && (next < e[i].off + TTLOG__FMT_CHUNK_HEADER_SIZE || next > indx_off))
			ok = 0;
		if (ok) {
			e[i].len = (size_t)(next - e[i].off) - TTLOG__FMT_CHUNK_HEADER_SIZE;
			ok = e[i].len <= TTLOG__FMT_MAX_CHUNK;
			prev_end = (size_t)next;
		}
		/* A required SITX: sites that open or close scopes (FORMAT.md 5.2). */
		if (e[i].type == TTLOG__FMT_CHUNK_SITX)
			scopes = 1;
		if (e[i].type == TTLOG__FMT_CHUNK_EVTS) {
			r->index_blocks++;
			r->index_last_ticks = TTLOG__MAX(r->index_last_ticks, e[i].last);
		}
	}
	if (ok && prev_end != indx_off)
		ok = 0;
	/* What the range needs: every chunk but the blocks (and their PRMT)
	 * outside it. With scopes, blocks before the range are read for the
	 * contexts and spans they open. */
	uint64_t skipped = 0;
	for (uint32_t i = 0; i < count && ok; i++) {
		if (e[i].type != TTLOG__FMT_CHUNK_EVTS) {
			e[i].need = 1;
			continue;
		}
		int64_t first = to_ns(r, e[i].first), last = to_ns(r, e[i].last);
		e[i].need = first <= r->want_until && (scopes || last >= r->want_since);
		if (!e[i].need) {
			skipped++;
			if (i > 0 && e[i - 1].type == TTLOG__FMT_CHUNK_PRMT)
				e[i - 1].need = 0;
		}
	}
	for (uint32_t i = 0; i < count && ok; i++) {
		if (!e[i].need)
			continue;
		ok = read_chunk(r, fd, (size_t)e[i].off, e[i].type, e[i].len);
		/* A block read must have the times the index gives it. */
		const unsigned char *p = r->data + e[i].off + TTLOG__FMT_CHUNK_HEADER_SIZE;
		if (ok && e[i].type == TTLOG__FMT_CHUNK_EVTS)
			ok = e[i].len >= TTLOG__FMT_EVTS_FIXED_SIZE &&
			     ttlog__get_u64(p + TTLOG__FMT_EVTS_FIRST_OFF) == e[i].first &&
			     ttlog__get_u64(p + TTLOG__FMT_EVTS_LAST_OFF) == e[i].last;
	}
	if (!ok) {
		free(e);
		r->cal_ok = 0;
		r->index_blocks = 0;
		r->index_last_ticks = 0;
		return 0;
	}
	/* Everything needed is framed and checked: decode it in file order. */
	r->info.indexed = 1;
	r->info.read_size = size;
	r->info.format_version = TTLOG__FMT_VERSION;
	chunk_here(r, hsize);
	for (uint32_t i = 0; i < count && !r->oom; i++)
		if (e[i].need)
			chunk_here(r, (size_t)e[i].off);
	r->chunks_after_head = count;
	r->indx_off = indx_off;
	chunk_here(r, end_off);
	r->counters.blocks_skipped += skipped;
	free(e);
	return 1;
}

int ttlog__reader_read_indexed(struct ttlog_reader *r, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size >= SIZE_MAX)
		return 0;
	r->size = (size_t)st.st_size;
	r->data = malloc(r->size);
	if (!r->data) {
		r->size = 0;
		return 0;
	}
	if (indexed(r, fd))
		return 1;
	free(r->data);
	r->data = NULL;
	r->size = 0;
	return 0;
}
