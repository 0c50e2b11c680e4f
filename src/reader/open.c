/* SPDX-License-Identifier: MIT */
/*
 * open.c - opens a snapshot file, checks every byte of it, and closes it.
 * This comment is the whole protocol of reading a file, which the files
 * of src/reader/ carry out together (reader/impl.h says which does what);
 * this one runs the two passes and hands out what they found.
 *
 * Opening reads the whole file into memory (or maps it, map.c) and then
 * makes two passes:
 *
 *   1. The chunk pass (reader/chunks.c) walks the chunks from the file
 *      header to END. Every payload is checked against its CRC-32C before
 *      anything in it is used; HEAD, SITE, THRD, CRSH, END (and through
 *      their own files SMPL, MTRC, STCK and MODS) are decoded at once, EVTS
 *      chunks only have their fixed fields checked and their position
 *      remembered. A damaged chunk is dropped and the walk resynchronises
 *      (see resync_after()), so one bad chunk costs only its own contents.
 *   2. The block pass (reader/pass2.c, the checks in reader/records.c)
 *      decompresses every block and checks every record once, on the
 *      calling thread and, with TTLOG_READER_JOBS(n), n - 1 worker threads
 *      (the result, problems included, is that of one thread; see the top
 *      of pass2.c). It counts the events exactly (ttlog_file_info.events is the
 *      number of records the iteration will return, also for a damaged
 *      file), finds where a block stops being decodable, and finds the
 *      first and last times. Because it runs after the chunk pass, a site
 *      may be defined anywhere in the file, not only before the blocks that
 *      use it.
 *
 * A lazy open (TTLOG_READER_LAZY) skips pass 2: counts and times come from
 * the block headers, and each block gets pass 2's checks when the
 * iteration first reaches it: of its records' headers only
 * (ttlog__reader_check_block_headers), since the iteration decodes every
 * record it returns whole and that checks the arguments; a record whose
 * arguments fail ends its block there, with the message pass 2 would have
 * given (a header that fails, or a count or times that disagree with the
 * block's header, make it pass 2's whole check, which finds the first bad
 * record). A reader without arguments (TTLOG_READER_NO_ARGS) reads only
 * the headers of log records, so its blocks get the whole check. With a
 * range (ttlog_reader_set_range) the iteration passes over blocks outside
 * it by their header ticks (see enter_block), so a lazy open and a range
 * read only what they return. With contexts or spans the blocks before
 * the range are read for their scopes instead, and a thread's first record
 * after the range (of any kind but an unknown one) ends its part, unread:
 * its cursor is parked, and ttlog_reader_resume() brings it back under a
 * later range with its scopes as they were, so that reading a file's
 * parts in order follows each record once.
 *
 * Iteration (reader/iterate.c) keeps one cursor per thread over that
 * thread's blocks in file order and merges the threads through a binary
 * min-heap keyed by (ticks of the cursor's next record, thread index). A
 * compressed block is decoded again when its thread's cursor reaches it; at
 * most one block per thread is held decoded, and a budget
 * (READER_BUFFER_BUDGET) bounds them all together.
 *
 * Segments (format revision 5, FORMAT.md 17). A segment without END is
 * open (info.open), not truncated: the writer is still adding to it or
 * died, and a chunk cut by the end of the file is where it stopped. A
 * PRMT chunk must be followed by an EVTS of its thread; that block is
 * promoted. A thread's promoted blocks are in order among themselves but
 * not among its other blocks, so they get a second cursor of their own (an
 * entry of r->threads after the nthreads threads, with promo set) in the
 * same heap. At equal ticks the thread's own cursor comes first. Because
 * the heap pops in time order, when a promoted record is popped its
 * thread's own cursor has applied every record before it in time, so the
 * event takes the contexts and spans of that cursor (promoted blocks hold
 * only log records, which change no scope; any other record there is
 * reported and ignored), and it is flagged TTLOG_EVENT_PROMOTED. A
 * ranged open (ttlog_reader_open_range) of a closed segment reads through
 * the index instead of walking the file: see reader/index.c.
 *
 * Encrypted files (FORMAT.md 21): right after the file is read, unseal.c
 * replaces an encrypted container by its decrypted bytes, and the passes
 * run on those; a closed segment's index is not used for them.
 *
 * Trust: every length, count and offset in the file is compared with the
 * bytes that remain (`len > left`, never `off + len > size`) before use; no
 * allocation is sized by a count read from the file, only by bytes that
 * exist. The first problem found is kept as the reader's status and message
 * ("PATH: offset N: expected ..."); later problems are usually its
 * consequences and are not reported.
 */
#define _GNU_SOURCE /* sched_getaffinity */
#include "common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader/impl.h"
#include "reader/mtrc_read.h"
#include "reader/reader_internal.h"
#include "reader/scope_track.h"
#include "reader/smpl_read.h"
#include "reader/stacks.h"
#include "format/format.h"
#include "ttlog_reader.h"

/* Bytes of decoded compressed blocks held at once, over all threads: this
 * many, or READER_BUFFER_FACTOR times the file's size if that is more. A real
 * file compresses far less than 16:1, so it never reaches the limit; a file
 * made of tiny blocks that inflate to 64 KiB each (LZ4 allows about 250:1)
 * does, and is then read correctly but more slowly: a block whose buffer was
 * given up is decompressed again when its thread's turn comes. */
#define READER_BUFFER_BUDGET ((size_t)64 << 20)
#define READER_BUFFER_FACTOR 16u

/* The resynchronisation scan computes at most this many CRC bytes per byte
 * of the file (plus a constant), then gives up on the rest of the file, so a
 * file built to make the scan quadratic is still read in linear time. */
#define READER_RESYNC_FACTOR 16u
#define READER_RESYNC_SLACK ((uint64_t)1 << 20)

/* ---- The two passes ------------------------------------------------------ */

static int cmp_thread(const void *a, const void *b)
{
	uint32_t x = ((const struct rthread *)a)->info.index;
	uint32_t y = ((const struct rthread *)b)->info.index;
	return (x > y) - (x < y);
}

static size_t thread_slot(const struct ttlog_reader *r, uint32_t index)
{
	size_t lo = 0, hi = r->nthreads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->threads[mid].info.index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sorts the threads by index, points the blocks at their slots, and lists
 * each thread's blocks that have records. */
static void index_threads(struct ttlog_reader *r)
{
	if (r->nthreads > 1)
		qsort(r->threads, r->nthreads, sizeof *r->threads, cmp_thread);
	ttlog__reader_idmap_free(&r->thread_map); /* the slots moved; not needed any more */
	for (size_t i = 0; i < r->nthreads; i++)
		r->threads[i].main = i;
	r->ncursors = r->nthreads;
	for (size_t i = 0; i < r->nblocks; i++) {
		struct rblock *b = &r->blocks[i];
		b->slot = b->cursor = thread_slot(r, b->thread);
		if (!b->promoted)
			continue;
		/* The thread's promoted cursor, made when its first promoted
		 * block is met; cursors come in thread order, so it is last. */
		size_t c = r->ncursors;
		if (c > r->nthreads && r->threads[c - 1].main == b->slot) {
			b->cursor = c - 1;
			continue;
		}
		for (size_t k = r->nthreads; k < r->ncursors; k++)
			if (r->threads[k].main == b->slot)
				c = k;
		if (c == r->ncursors) {
			if (!ttlog__reader_grow(r, (void **)&r->threads, &r->threads_cap, r->ncursors,
						sizeof *r->threads))
				return;
			struct rthread *t = &r->threads[c];
			memset(t, 0, sizeof *t);
			t->info = r->threads[b->slot].info;
			t->thrd_off = NOWHERE;
			t->loaded = NOWHERE;
			t->promo = 1;
			t->main = b->slot;
			r->ncursors++;
		}
		b->cursor = c;
	}
}

static void list_blocks(struct ttlog_reader *r)
{
	if (!r->nblocks)
		return;
	r->tblocks = malloc(r->nblocks * sizeof *r->tblocks);
	if (!r->tblocks) {
		r->oom = 1;
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < r->nblocks; i++)
		if (r->blocks[i].nrec)
			r->threads[r->blocks[i].cursor].blk_end++; /* a count for now */
	for (size_t t = 0; t < r->ncursors; t++) {
		size_t count = r->threads[t].blk_end;
		r->threads[t].blk_begin = r->threads[t].blk_end = n;
		n += count;
	}
	for (size_t i = 0; i < r->nblocks; i++)
		if (r->blocks[i].nrec)
			r->tblocks[r->threads[r->blocks[i].cursor].blk_end++] = i;
}

/* What the file states about itself against what was found in it. A
 * mismatch after an earlier problem is that problem's consequence, and the
 * first problem is the one kept. */
static void cross_check(struct ttlog_reader *r)
{
	for (size_t i = 0; i < r->nthreads; i++) {
		struct rthread *t = &r->threads[i];
		r->info.overwritten += t->info.overwritten;
		r->info.torn += t->info.torn;
		r->info.torn_bytes += t->info.torn_bytes;
		r->info.stream_lost += t->info.stream_lost;
		r->info.filtered += t->info.filtered;
		if (r->info.indexed)
			continue; /* the blocks left unread are not counted */
		if (t->thrd_off != NOWHERE && t->thrd_events != t->records)
			ttlog__reader_report(r, TTLOG_E_CORRUPT,
					     t->thrd_off + TTLOG__FMT_CHUNK_HEADER_SIZE +
						     TTLOG__FMT_THRD_EVENTS_OFF,
					     "expected the event count of thread %u to be %llu "
					     "(its records), found %llu",
					     (unsigned)t->info.index,
					     (unsigned long long)t->records,
					     (unsigned long long)t->thrd_events);
	}
	if (!r->have_end)
		return;
	size_t f = r->end_off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	const struct {
		uint64_t stated, found;
		size_t field;
		const char *what;
	} checks[] = {
		{r->end_events, r->records, TTLOG__FMT_END_EVENTS_OFF, "event count"},
		{r->end_overwritten, r->info.overwritten, TTLOG__FMT_END_OVERWRITTEN_OFF,
		 "overwritten count"},
		{r->end_torn, r->info.torn, TTLOG__FMT_END_TORN_OFF, "torn count"},
		{r->end_torn_bytes, r->info.torn_bytes, TTLOG__FMT_END_TORN_BYTES_OFF, "torn bytes"},
		{r->end_threads, r->thrd_chunks, TTLOG__FMT_END_THREADS_OFF, "THRD chunk count"},
		{r->end_sites, r->site_entries, TTLOG__FMT_END_SITES_OFF, "SITE entry count"},
		{r->end_blocks, r->evts_chunks, TTLOG__FMT_END_BLOCKS_OFF, "EVTS chunk count"},
		/* Revision 5: only in a segment's 88-byte END. */
		{r->end_index_off, r->indx_off, TTLOG__FMT_END_INDEX_OFF, "INDX offset"},
		{r->end_stream_lost, r->info.stream_lost, TTLOG__FMT_END_STREAM_LOST_OFF,
		 "stream lost count"},
		{r->end_filtered, r->info.filtered, TTLOG__FMT_END_FILTERED_OFF, "filtered count"},
		{r->end_promoted, r->info.promoted, TTLOG__FMT_END_PROMOTED_OFF, "promoted count"},
		/* Revision 9: in a 96-byte END; known only once the blocks were decoded. */
		{r->end_log_events, r->info.events, TTLOG__FMT_END_LOG_EVENTS_OFF,
		 "count of events among the records"},
	};
	/* What an indexed open does not read: its blocks and their records. */
	int skip_blocks = r->info.indexed;
	for (size_t i = 0; i < TTLOG__ARRAY_SIZE(checks); i++) {
		if (i >= 7 && !r->end_long)
			break;
		if (i == 11 && (!r->end_has_log_events || r->info.events_are_records ||
				(r->flags & TTLOG_READER_LAZY)))
			break;
		if (skip_blocks && (i == 0 || i == 6 || i >= 10))
			continue;
		if (checks[i].stated != checks[i].found)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, f + checks[i].field,
					     "expected the END %s to be %llu (what the file "
					     "holds), found %llu",
					     checks[i].what, (unsigned long long)checks[i].found,
					     (unsigned long long)checks[i].stated);
	}
}

static void parse(struct ttlog_reader *r)
{
	size_t off = r->info.indexed ? 0 : ttlog__reader_parse_file_header(r);
	if (off) {
		ttlog__reader_parse_chunks(r, off);
		r->prmt_pending = 0; /* its EVTS is not written yet, or the file is cut */
		if (!r->have_end && !r->oom && r->info.is_segment)
			r->info.open = 1; /* being written, or its writer died: not damage */
		else if (!r->have_end && !r->oom)
			ttlog__reader_report(r, TTLOG_E_TRUNCATED, r->size,
					     "expected an END chunk before the end of the file "
					     "(the file was not finished)");
	}
	if (r->oom)
		return;
	index_threads(r);
	if (r->oom)
		return;
	for (size_t i = 0; i < r->nblocks; i++) {
		r->info.blocks++;
		r->info.raw_bytes += r->blocks[i].raw_size;
		r->info.stored_bytes += r->blocks[i].data_len;
		if (r->blocks[i].codec < TTLOG__FMT_CODECS) {
			r->counters.codec_blocks[r->blocks[i].codec]++;
			r->counters.codec_stored[r->blocks[i].codec] += r->blocks[i].data_len;
		}
	}
	if (r->flags & TTLOG_READER_LAZY)
		ttlog__reader_count_blocks(r);
	else
		ttlog__reader_decode_blocks(r, (r->flags & TTLOG_READER_JOBS_MASK) >> 8);
	if (r->oom)
		return;
	list_blocks(r);
	r->counters.blocks = r->ncursors ? r->threads[r->ncursors - 1].blk_end : 0;
	cross_check(r);
	for (size_t i = 0; i < r->nsites && !r->oom; i++) {
		r->sites[i].info.arg_types = r->sites[i].types;
		ttlog__reader_site_fields(r, &r->sites[i]);
		r->sites[i].info.fields = r->sites[i].fields;
		r->sites[i].plan = ttlog__reader_format_plan(r, &r->sites[i].info);
		if (r->sites[i].info.kind != TTLOG__FMT_KIND_LOG)
			r->has_scopes = 1;
	}
	r->info.complete = r->have_end;
}

/* ---- Opening and closing ------------------------------------------------- */

static struct ttlog_reader *reader_new(const char *name)
{
	struct ttlog_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->path = strdup(name);
	if (!r->path) {
		free(r);
		return NULL;
	}
	r->status = TTLOG_OK;
	r->want_since = r->since_ns = INT64_MIN;
	r->want_until = r->until_ns = INT64_MAX;
	r->want_levels = r->levels = TTLOG_READER_ALL_LEVELS;
	r->info.path = r->path;
	r->info.executable = "";
	r->info.hostname = "";
	r->info.reason = "";
	r->info.crash.signal_name = "";
	r->info.service = "";
	r->info.trigger_rule = "";
	return r;
}

/*
 * A big file's buffer in huge pages where the system gives them on request
 * (transparent huge pages in "madvise" mode): its pages are then faulted in
 * and cleared 2 MiB at a time rather than 4 KiB, which was a good part of
 * the time of reading a snapshot into memory. Only the 2 MiB-aligned part
 * of the buffer is advised; a refusal changes nothing.
 */
static void hint_huge_pages(void *buf, size_t size)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	if (!buf || size < 2 * huge)
		return;
	uintptr_t lo = ((uintptr_t)buf + huge - 1) & ~(huge - 1);
	uintptr_t hi = ((uintptr_t)buf + size) & ~(huge - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)buf;
	(void)size;
#endif
}

/*
 * A big file's buffer is a multiple of 2 MiB: files of about the same size
 * then ask for the same size, so that the buffer of a file released
 * (ttlog_reader_release) or closed serves the next one, whose pages are
 * then neither faulted in nor cleared again. The part past the file's end
 * is never touched and costs address space only.
 */
static size_t buffer_size(size_t need)
{
	const size_t unit = (size_t)2 << 20;
	if (need < 2 * unit || need > SIZE_MAX - unit)
		return need;
	return (need + unit - 1) & ~(unit - 1);
}

/* Files smaller than this are read even when mapping is on: a mapping
 * costs system calls and a fault of its own. */
#define MAP_MIN ((size_t)64 << 10)

/* Reads the whole file, or maps it when may_map and mapping is on
 * (map.c); on failure sets the error (or oom) and returns 0. */
static int read_all(struct ttlog_reader *r, const char *path, int may_map)
{
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		ttlog__reader_report_plain(r, TTLOG_E_OPEN, "cannot open: %s", strerror(errno));
		return 0;
	}
	struct stat st;
	size_t cap = 65536;
	int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
		      (uint64_t)st.st_size < SIZE_MAX;
	if (regular)
		cap = (size_t)st.st_size + 1; /* + 1: the read that sees the end fits */
	if (may_map && regular && cap > MAP_MIN) {
		unsigned char *map = ttlog__reader_map(fd, cap - 1, &r->map_slot);
		if (map) { /* fd is the mapping's now */
			r->data = map;
			r->size = r->mapped = cap - 1;
			return 1;
		}
	}
	cap = buffer_size(cap);
	unsigned char *buf = malloc(cap);
	hint_huge_pages(buf, cap);
	size_t len = 0;
	while (buf) {
		if (len == cap) {
			unsigned char *p = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ttlog__reader_report_plain(r, TTLOG_E_OPEN, "cannot read: %s",
						   strerror(errno));
			free(buf);
			close(fd);
			return 0;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	if (!buf) {
		r->oom = 1;
		return 0;
	}
	r->data = buf;
	r->size = len;
	return 1;
}

static void reader_free(struct ttlog_reader *r)
{
	ttlog_reader_release(r); /* the bytes, the decoded blocks, the decoders */
	free(r->path);
	free(r->error);
	free(r->sites);
	ttlog__reader_idmap_free(&r->site_map);
	for (size_t i = 0; i < r->ncursors; i++)
		reader_scopes_free(&r->threads[i].scopes);
	free(r->threads);
	ttlog__reader_idmap_free(&r->thread_map);
	free(r->blocks);
	free(r->tblocks);
	free(r->strbuf);
	ttlog__smpl_free(&r->smpl);
	ttlog__rmetrics_free(&r->metrics);
	ttlog__rstacks_free(&r->stacks);
	while (r->arena) {
		struct arena_block *next = r->arena->next;
		free(r->arena);
		r->arena = next;
	}
	free(r);
}

/* Parses r->data and hands the reader out (or frees it on OOM). */
static int finish_open(struct ttlog_reader *r, int have_data, ttlog_reader **out)
{
	int own_bytes = have_data && !r->bytes;
	if (have_data && !r->bytes) {
		/* From here on the bytes are only read: a reader of the same
		 * bytes may share them. */
		r->bytes = malloc(sizeof *r->bytes);
		if (r->bytes) {
			atomic_init(&r->bytes->refs, 1);
			r->bytes->data = r->data;
			r->bytes->mapped = r->mapped;
			r->bytes->map_slot = r->map_slot;
			r->bytes->crcs_good = 0;
		} else {
			r->oom = 1;
			have_data = 0;
		}
	}
	if (have_data) {
		r->status_unparsed = r->status;
		r->scan_budget = READER_RESYNC_SLACK + (uint64_t)r->size * READER_RESYNC_FACTOR;
		r->buf_budget = READER_BUFFER_BUDGET;
		if (r->size > READER_BUFFER_BUDGET / READER_BUFFER_FACTOR)
			r->buf_budget = r->size <= SIZE_MAX / READER_BUFFER_FACTOR
						? r->size * READER_BUFFER_FACTOR
						: SIZE_MAX;
		parse(r);
		ttlog__reader_unseal_check_end(r);
		if (own_bytes && !r->crc_bad)
			r->bytes->crcs_good = 1; /* before any other reader shares them */
	}
	if (!r->oom && r->ncursors) {
		r->heap = malloc(r->ncursors * sizeof *r->heap);
		if (!r->heap)
			r->oom = 1;
	}
	if (r->oom) {
		reader_free(r);
		return TTLOG_E_NOMEM;
	}
	ttlog_reader_rewind(r);
	*out = r;
	return r->status;
}

/* The flags an open takes. */
#define OPEN_FLAGS (TTLOG_READER_LAZY | TTLOG_READER_NO_ARGS | TTLOG_READER_JOBS_MASK)

/* How a file is opened by its path: ttlog_reader_open_range() or
 * ttlog_reader_open_member() without TTLOG_READER_ONCE. */
struct open_how {
	const char *path;
	uint64_t offset;               /* a bundle's member */
	int64_t since_ns, until_ns;    /* the range, for the index */
};

static int open_by_path(const struct open_how *how, unsigned flags, ttlog_reader **reader);

/*
 * TTLOG_READER_ONCE: the file opened lazily, and kept so when it is
 * complete and nothing was found wrong; otherwise checked whole on the
 * bytes the lazy open read (ttlog_reader_open_same()), or, where there
 * are none to share (a file read through its index), opened again.
 */
static int open_once(const struct open_how *how, unsigned flags, ttlog_reader **reader)
{
	flags &= ~TTLOG_READER_ONCE;
	if (flags & TTLOG_READER_LAZY)
		return open_by_path(how, flags, reader);
	ttlog_reader *lazy = NULL;
	int rc = open_by_path(how, flags | TTLOG_READER_LAZY, &lazy);
	if (rc == TTLOG_OK && lazy && lazy->info.complete) {
		*reader = lazy;
		return rc;
	}
	ttlog_reader *eager = NULL;
	rc = lazy ? ttlog_reader_open_same(lazy, flags, &eager) : TTLOG_E_INVALID;
	ttlog_reader_close(lazy);
	if (rc == TTLOG_E_INVALID && !eager)
		return open_by_path(how, flags, reader);
	*reader = eager;
	return rc;
}

TTLOG_API int ttlog_reader_open_range(const char *path, unsigned flags, int64_t since_ns,
				      int64_t until_ns, ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!path || (flags & ~(OPEN_FLAGS | TTLOG_READER_ONCE)))
		return TTLOG_E_INVALID;
	const struct open_how how = {path, 0, since_ns, until_ns};
	if (flags & TTLOG_READER_ONCE)
		return open_once(&how, flags, reader);
	struct ttlog_reader *r = reader_new(path);
	if (!r)
		return TTLOG_E_NOMEM;
	r->flags = flags;
	r->want_since = since_ns;
	r->want_until = until_ns;
	int have = 0;
	if (since_ns != INT64_MIN || until_ns != INT64_MAX) {
		int fd;
		do
			fd = open(path, O_RDONLY | O_CLOEXEC);
		while (fd < 0 && errno == EINTR);
		if (fd >= 0) {
			have = ttlog__reader_read_indexed(r, fd);
			close(fd);
		}
	}
	if (!have) {
		have = read_all(r, path, 1);
		if (have) /* an encrypted file becomes its plain bytes */
			have = ttlog__reader_unseal(r);
	}
	return finish_open(r, have, reader);
}

TTLOG_API int ttlog_reader_open_same(const ttlog_reader *src, unsigned flags, ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!src || !src->bytes || src->info.indexed ||
	    (flags & ~OPEN_FLAGS))
		return TTLOG_E_INVALID;
	struct ttlog_reader *r = reader_new(src->path);
	if (!r)
		return TTLOG_E_NOMEM;
	r->flags = flags;
	/* src's own thread may be reading events meanwhile: only what was
	 * set before src was handed out is read here, and the count. */
	atomic_fetch_add_explicit(&src->bytes->refs, 1, memory_order_relaxed);
	r->bytes = src->bytes;
	r->data = src->bytes->data;
	/* The bytes are the ones src checked, and this process never writes
	 * them. A mapped file another process writes in place could change
	 * after that check; but so could a block a lazy reader decodes after
	 * its open checked it: the checksums say what the bytes were when
	 * they were checked, and every parser checks what it uses on its own
	 * (lengths and offsets read once; docs/DESIGN.md, "A mapped file can
	 * change under the reader"). Recomputing them here would not close
	 * that gap, only cost a second pass over the file. */
	r->trust_crcs = src->bytes->crcs_good;
	r->size = src->size;
	r->sealed = src->sealed;
	r->seal_final = src->seal_final;
	r->seal_torn = src->seal_torn;
	r->seal_end = src->seal_end;
	r->info.bundle_offset = src->info.bundle_offset;
	/* What decrypting found (a message that fails authentication, bytes
	 * after the last one) is src's first problem, kept since. */
	if (src->status_unparsed != TTLOG_OK) {
		r->status = src->status_unparsed;
		r->error = src->error ? strdup(src->error) : NULL;
	}
	return finish_open(r, 1, reader);
}

/* No range: the whole file, never through its index. */
TTLOG_API unsigned ttlog_reader_cpu_count(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 && n < 4096 ? (unsigned)n : 1u;
}

TTLOG_API int ttlog_reader_open_ex(const char *path, unsigned flags, ttlog_reader **reader)
{
	return ttlog_reader_open_range(path, flags, INT64_MIN, INT64_MAX, reader);
}

TTLOG_API int ttlog_reader_open(const char *path, ttlog_reader **reader)
{
	return ttlog_reader_open_ex(path, 0, reader);
}

/* A bundle's member: the file read whole, the bytes before it dropped. */
TTLOG_API int ttlog_reader_open_member(const char *path, uint64_t offset, unsigned flags,
				       ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!path || (flags & ~(OPEN_FLAGS | TTLOG_READER_ONCE)))
		return TTLOG_E_INVALID;
	if (offset == 0)
		return ttlog_reader_open_ex(path, flags, reader);
	if (flags & TTLOG_READER_ONCE) {
		const struct open_how how = {path, offset, INT64_MIN, INT64_MAX};
		return open_once(&how, flags, reader);
	}
	size_t n = strlen(path) + 32;
	char *name = malloc(n);
	if (!name)
		return TTLOG_E_NOMEM;
	snprintf(name, n, "%s@%llu", path, (unsigned long long)offset);
	struct ttlog_reader *r = reader_new(name);
	free(name);
	if (!r)
		return TTLOG_E_NOMEM;
	r->flags = flags;
	int have = read_all(r, path, 0); /* moved below: not mapped */
	if (have && offset >= r->size) {
		ttlog__reader_report_plain(r, TTLOG_E_TRUNCATED,
					   "expected a bundle member at byte %llu, the file has %zu",
					   (unsigned long long)offset, r->size);
		have = 0;
	} else if (have) {
		memmove(r->data, r->data + offset, r->size - (size_t)offset);
		r->size -= (size_t)offset;
		r->info.bundle_offset = offset;
	}
	return finish_open(r, have, reader);
}

static int open_by_path(const struct open_how *how, unsigned flags, ttlog_reader **reader)
{
	return how->offset ? ttlog_reader_open_member(how->path, how->offset, flags, reader)
			   : ttlog_reader_open_range(how->path, flags, how->since_ns, how->until_ns,
						     reader);
}

TTLOG_API size_t ttlog_reader_stacks(const ttlog_reader *r, const struct ttlog_stack **stacks)
{
	size_t n = r ? r->stacks.nstacks : 0;
	if (stacks)
		*stacks = n ? r->stacks.stacks : NULL;
	return n;
}

TTLOG_API size_t ttlog_reader_modules(const ttlog_reader *r, const struct ttlog_module **modules)
{
	size_t n = r ? r->stacks.nmods : 0;
	if (modules)
		*modules = n ? r->stacks.mods : NULL;
	return n;
}

TTLOG_API uint32_t ttlog_reader_modules_missing(const ttlog_reader *r)
{
	return r ? r->stacks.missing : 0;
}

int ttlog__reader_open_memory(const void *data, size_t size, const char *name,
			      ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!data && size)
		return TTLOG_E_INVALID;
	struct ttlog_reader *r = reader_new(name ? name : "<memory>");
	if (!r)
		return TTLOG_E_NOMEM;
	r->data = malloc(size ? size : 1);
	if (!r->data) {
		reader_free(r);
		return TTLOG_E_NOMEM;
	}
	if (size)
		memcpy(r->data, data, size);
	r->size = size;
	return finish_open(r, ttlog__reader_unseal(r), reader);
}

TTLOG_API void ttlog_reader_close(ttlog_reader *r)
{
	if (r)
		reader_free(r);
}

TTLOG_API const struct ttlog_file_info *ttlog_reader_info(const ttlog_reader *r)
{
	return r ? &r->info : NULL;
}

TTLOG_API size_t ttlog_reader_thread_count(const ttlog_reader *r)
{
	return r ? r->nthreads : 0;
}

TTLOG_API const struct ttlog_thread_info *ttlog_reader_thread(const ttlog_reader *r, size_t i)
{
	return r && i < r->nthreads ? &r->threads[i].info : NULL;
}

/* ---- Metrics ------------------------------------------------------------- */

TTLOG_API const struct ttlog_metric_value *ttlog_reader_metrics(const ttlog_reader *r, size_t *count)
{
	size_t n = r ? r->metrics.n : 0;
	if (count)
		*count = n;
	return n ? r->metrics.items : NULL;
}
