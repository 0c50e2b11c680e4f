/*
 * reader.c - opens a snapshot file, checks every byte of it, and iterates
 * its events in time order.
 *
 * Opening reads the whole file into memory and then makes two passes:
 *
 *   1. The chunk pass walks the chunks from the file header to END. Every
 *      payload is checked against its CRC-32C before anything in it is
 *      used; HEAD, SITE, THRD, CRSH, END (and through their own files
 *      SMPL, MTRC, STCK and MODS) are decoded at once, EVTS
 *      chunks only have their fixed fields checked and their position
 *      remembered. A damaged chunk is dropped and the walk resynchronises
 *      (see resync_after()), so one bad chunk costs only its own contents.
 *   2. The block pass decodes every record of every block once, one block
 *      at a time through a single 64 KiB scratch buffer. It counts the
 *      events exactly (ttlog_file_info.events is the number of records the
 *      iteration will return, also for a damaged file), finds where a block
 *      stops being decodable, and finds the first and last times. Because
 *      it runs after the chunk pass, a site may be defined anywhere in the
 *      file, not only before the blocks that use it.
 *
 * A lazy open (TTLOG_READER_LAZY) skips pass 2: counts and times come from
 * the block headers, and each block gets pass 2's checks (check_block) when
 * the iteration first reaches it. With a range (ttlog_reader_set_range) the
 * iteration passes over blocks outside it by their header ticks (see
 * enter_block), so a lazy open and a range read only what they return.
 *
 * Iteration keeps one cursor per thread over that thread's blocks in file
 * order and merges the threads through a binary min-heap keyed by (ticks of
 * the cursor's next record, thread index). A compressed block is decoded
 * again when its thread's cursor reaches it; at most one block per thread is
 * held decoded, and a budget (READER_BUFFER_BUDGET) bounds them all together.
 *
 * Trust: every length, count and offset in the file is compared with the
 * bytes that remain (`len > left`, never `off + len > size`) before use; no
 * allocation is sized by a count read from the file, only by bytes that
 * exist. The first problem found is kept as the reader's status and message
 * ("PATH: offset N: expected ..."); later problems are usually its
 * consequences and are not reported.
 */
#include "common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>

#include "common/crc32c.h"
#include "reader/impl.h"
#include "reader/metrics.h"
#include "reader/reader_internal.h"
#include "reader/scopes.h"
#include "reader/sampling.h"
#include "reader/stacks.h"
#include "snapshot/format.h"
#include "sites/fields.h"
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
	for (size_t i = 0; i < r->nblocks; i++)
		r->blocks[i].slot = thread_slot(r, r->blocks[i].thread);
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
			r->threads[r->blocks[i].slot].blk_end++; /* a count for now */
	for (size_t t = 0; t < r->nthreads; t++) {
		size_t count = r->threads[t].blk_end;
		r->threads[t].blk_begin = r->threads[t].blk_end = n;
		n += count;
	}
	for (size_t i = 0; i < r->nblocks; i++)
		if (r->blocks[i].nrec)
			r->tblocks[r->threads[r->blocks[i].slot].blk_end++] = i;
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
		if (t->thrd_off != NOWHERE && t->thrd_events != t->info.events)
			ttlog__reader_report(r, TTLOG_E_CORRUPT,
					     t->thrd_off + TTLOG_FMT_CHUNK_HEADER_SIZE + TTLOG_FMT_THRD_EVENTS_OFF,
					     "expected the event count of thread %u to be %llu "
					     "(its records), found %llu",
					     (unsigned)t->info.index,
					     (unsigned long long)t->info.events,
					     (unsigned long long)t->thrd_events);
	}
	if (!r->have_end)
		return;
	size_t f = r->end_off + TTLOG_FMT_CHUNK_HEADER_SIZE;
	const struct {
		uint64_t stated, found;
		size_t field;
		const char *what;
	} checks[] = {
		{r->end_events, r->info.events, TTLOG_FMT_END_EVENTS_OFF, "event count"},
		{r->end_overwritten, r->info.overwritten, TTLOG_FMT_END_OVERWRITTEN_OFF,
		 "overwritten count"},
		{r->end_torn, r->info.torn, TTLOG_FMT_END_TORN_OFF, "torn count"},
		{r->end_torn_bytes, r->info.torn_bytes, TTLOG_FMT_END_TORN_BYTES_OFF, "torn bytes"},
		{r->end_threads, r->thrd_chunks, TTLOG_FMT_END_THREADS_OFF, "THRD chunk count"},
		{r->end_sites, r->site_entries, TTLOG_FMT_END_SITES_OFF, "SITE entry count"},
		{r->end_blocks, r->evts_chunks, TTLOG_FMT_END_BLOCKS_OFF, "EVTS chunk count"},
	};
	for (size_t i = 0; i < TTLOG_ARRAY_SIZE(checks); i++)
		if (checks[i].stated != checks[i].found)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, f + checks[i].field,
					     "expected the END %s to be %llu (what the file "
					     "holds), found %llu",
					     checks[i].what, (unsigned long long)checks[i].found,
					     (unsigned long long)checks[i].stated);
}

static void parse(struct ttlog_reader *r)
{
	size_t off = ttlog__reader_parse_file_header(r);
	if (off) {
		ttlog__reader_parse_chunks(r, off);
		if (!r->have_end && !r->oom)
			ttlog__reader_report(r, TTLOG_E_TRUNCATED, r->size,
					     "expected an END chunk before the end of the file "
					     "(the file was not finished)");
	}
	if (r->oom)
		return;
	index_threads(r);
	for (size_t i = 0; i < r->nblocks; i++) {
		r->info.blocks++;
		r->info.raw_bytes += r->blocks[i].raw_size;
		r->info.stored_bytes += r->blocks[i].data_len;
	}
	if (r->flags & TTLOG_READER_LAZY)
		ttlog__reader_count_blocks(r);
	else
		ttlog__reader_decode_blocks(r);
	if (r->oom)
		return;
	list_blocks(r);
	r->counters.blocks = r->nthreads ? r->threads[r->nthreads - 1].blk_end : 0;
	cross_check(r);
	for (size_t i = 0; i < r->nsites && !r->oom; i++) {
		r->sites[i].info.arg_types = r->sites[i].types;
		ttlog__reader_site_fields(r, &r->sites[i]);
		r->sites[i].info.fields = r->sites[i].fields;
		if (r->sites[i].info.kind != TTLOG_FMT_KIND_LOG)
			r->has_scopes = 1;
	}
	r->info.complete = r->have_end;
}

/* ---- Iteration ----------------------------------------------------------- */

static int heap_before(const struct ttlog_reader *r, size_t a, size_t b)
{
	const struct rthread *x = &r->threads[a], *y = &r->threads[b];
	if (x->key != y->key)
		return x->key < y->key;
	return x->info.index < y->info.index;
}

static void heap_down(struct ttlog_reader *r, size_t i)
{
	size_t *h = r->heap, n = r->heap_len;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && heap_before(r, h[l], h[m]))
			m = l;
		if (l + 1 < n && heap_before(r, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static void heap_pop(struct ttlog_reader *r)
{
	r->heap[0] = r->heap[--r->heap_len];
	heap_down(r, 0);
}

/*
 * Moves thread t's cursor to the first block from t->cur on that the range
 * wants, and sets its key. Returns 0 when the thread has nothing left to
 * give. Nothing is decoded here; only block headers are read.
 *
 * Without scopes in the file a thread's records are in time order, so a
 * block that ends before the range is passed over, and one that begins
 * after it ends the thread. With scopes, a segment's re-stated openings keep
 * their old times, so a block's header ticks do not bound its events, and
 * the blocks before the range must be read for the scopes they open and
 * close anyway: they are entered (and counted as scanned), and the range is
 * applied record by record (ttlog_reader_next).
 */
enum { COUNT_NONE, COUNT_DECODED, COUNT_SCANNED };

static int enter_block(struct ttlog_reader *r, struct rthread *t)
{
	for (; t->cur < t->blk_end; t->cur++) {
		const struct rblock *b = &r->blocks[r->tblocks[t->cur]];
		if (!r->has_scopes && ttlog__reader_ticks_to_ns(r, b->first_ticks) > r->until_ns) {
			r->counters.blocks_skipped += t->blk_end - t->cur;
			t->cur = t->blk_end;
			return 0;
		}
		int before = ttlog__reader_ticks_to_ns(r, b->last_ticks) < r->since_ns;
		if (before && !r->has_scopes) {
			r->counters.blocks_skipped++;
			continue;
		}
		t->pending = before ? COUNT_SCANNED : COUNT_DECODED;
		t->pos = 0;
		t->done = 0;
		t->key = b->rec_first;
		return 1;
	}
	return 0;
}

/* Ends thread t's iteration early: the rest of its blocks are not read. */
static void leave_thread(struct ttlog_reader *r, struct rthread *t)
{
	if (t->cur < t->blk_end)
		r->counters.blocks_skipped += t->blk_end - t->cur - 1;
	t->cur = t->blk_end;
	heap_pop(r);
}

TTLOG_API void ttlog_reader_rewind(ttlog_reader *r)
{
	if (!r)
		return;
	r->since_ns = r->want_since;
	r->until_ns = r->want_until;
	r->levels = r->want_levels;
	r->heap_len = 0;
	for (size_t i = 0; i < r->nthreads; i++) {
		struct rthread *t = &r->threads[i];
		t->cur = t->blk_begin;
		t->pending = COUNT_NONE;
		reader_scopes_reset(&t->scopes);
		if (r->heap && enter_block(r, t))
			r->heap[r->heap_len++] = i;
	}
	for (size_t i = r->heap_len / 2; i-- > 0;)
		heap_down(r, i);
}

/*
 * The decoded bytes of thread slot s's current block, or NULL (no memory,
 * or the block does not decompress). A block not checked yet (a lazy open)
 * is checked here, which may lower its record count.
 */
static const unsigned char *thread_block(struct ttlog_reader *r, size_t s)
{
	struct rthread *t = &r->threads[s];
	size_t bi = r->tblocks[t->cur];
	struct rblock *b = &r->blocks[bi];
	const unsigned char *raw = NULL;
	if (b->codec == TTLOG_FMT_CODEC_NONE) {
		raw = r->data + b->data_off;
	} else if (t->loaded == bi) {
		return t->buf;
	} else {
		if (!t->buf) {
			/* Give up other threads' buffers until this one fits the budget. */
			for (size_t j = 0;
			     j < r->nthreads && r->buf_total + t->max_raw > r->buf_budget; j++) {
				struct rthread *o = &r->threads[j];
				if (j != s && o->buf) {
					free(o->buf);
					o->buf = NULL;
					o->loaded = NOWHERE;
					r->buf_total -= o->max_raw;
				}
			}
			t->buf = malloc(t->max_raw);
			if (!t->buf) {
				ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
							   "out of memory decoding the events of "
							   "thread %u",
							   (unsigned)t->info.index);
				return NULL;
			}
			r->buf_total += t->max_raw;
		}
		int got;
		if (!ttlog__reader_block_inflate(r, b, t->buf, &got)) {
			/* Only a lazy open gets here: an eager one left such a
			 * block out of the thread's list. */
			t->loaded = NOWHERE;
			ttlog__reader_report_inflate(r, b, got);
			b->checked = 1;
			b->nrec = 0;
			return NULL;
		}
		t->loaded = bi;
		raw = t->buf;
	}
	if (!b->checked) {
		uint64_t lo = UINT64_MAX, hi = 0;
		ttlog__reader_check_block(r, b, raw, &lo, &hi);
	}
	return raw;
}

/* Copies the strings of an event to NUL-terminated storage. */
static int copy_strings(struct ttlog_reader *r, const struct decoded *d)
{
	size_t need = (size_t)d->size + TTLOG_FMT_MAX_ARGS;
	if (r->strbuf_cap < need) {
		char *p = realloc(r->strbuf, need);
		if (!p)
			return 0;
		r->strbuf = p;
		r->strbuf_cap = need;
	}
	char *out = r->strbuf;
	for (unsigned i = 0; i < d->site->info.nargs; i++) {
		r->args[i] = d->args[i];
		if (d->args[i].type != TTLOG_ARG_STR)
			continue;
		if (d->args[i].str_null) {
			r->args[i].str = NULL;
			continue;
		}
		memcpy(out, d->args[i].str, d->args[i].str_len);
		out[d->args[i].str_len] = '\0';
		r->args[i].str = out;
		out += d->args[i].str_len + 1;
	}
	return 1;
}

/* Fills r->fields for an event of site st on thread t: the site's fields,
 * then what its open scopes give it. Returns the count. */
static unsigned event_fields(struct ttlog_reader *r, const struct rthread *t,
			     const struct rsite *st)
{
	unsigned n = st->info.nfields;
	for (unsigned i = 0; i < n; i++) {
		const struct ttlog_site_field *f = &st->info.fields[i];
		r->fields[i].key = f->key;
		r->fields[i].value = &r->args[f->arg];
		r->fields[i].source = f->source;
	}
	return reader_scopes_fields(&t->scopes, st->info.kind, r->fields, n);
}

/* Moves thread heap[0]'s cursor past the record just read (size bytes). */
static void advance(struct ttlog_reader *r, struct rthread *t, const struct rblock *b,
		    const unsigned char *raw, uint32_t size)
{
	t->pos += size;
	if (++t->done < b->nrec) {
		t->key = ttlog__get_u64(raw + t->pos + 8);
		heap_down(r, 0);
		return;
	}
	t->cur++;
	if (enter_block(r, t))
		heap_down(r, 0);
	else
		heap_pop(r);
}

/* A log record's level is one the range wants. */
static int level_wanted(const struct ttlog_reader *r, int level)
{
	return level < 0 || level > TTLOG_LEVEL_FATAL || (r->levels >> level) & 1u;
}

TTLOG_API int ttlog_reader_next(ttlog_reader *r, struct ttlog_event *ev)
{
	if (!r || !ev)
		return 0;
	while (r->heap_len) {
		size_t s = r->heap[0];
		struct rthread *t = &r->threads[s];
		const unsigned char *raw = thread_block(r, s);
		const struct rblock *b = &r->blocks[r->tblocks[t->cur]];
		if (t->pending) {
			if (t->pending == COUNT_SCANNED)
				r->counters.blocks_scanned++;
			else
				r->counters.blocks_decoded++;
			t->pending = COUNT_NONE;
		}
		struct decoded d;
		char why[300];
		if (!raw && b->nrec) {
			leave_thread(r, t); /* out of memory, reported */
			continue;
		}
		if (!raw || t->done >= b->nrec) {
			/* A lazily checked block with no more usable records
			 * (reported): the thread goes on with its next block. */
			t->cur++;
			if (enter_block(r, t))
				heap_down(r, 0);
			else
				heap_pop(r);
			continue;
		}
		if (!ttlog__reader_decode_record(r, raw, b->raw_size, t->pos, &d, why,
						 sizeof why)) {
			ttlog__reader_report_record(r, b, t->pos,
						    why); /* checked before; cannot happen */
			leave_thread(r, t);
			continue;
		}
		r->counters.records_decoded++;
		int64_t ns = ttlog__reader_ticks_to_ns(r, d.ticks);
		if (d.site->info.kind == TTLOG_FMT_KIND_LOG) {
			/* A thread's log records are in time order: the first one
			 * after the range ends the thread. Records the range does
			 * not want are passed over before their strings are copied. */
			if (ns > r->until_ns) {
				leave_thread(r, t);
				continue;
			}
			if (ns < r->since_ns || !level_wanted(r, d.site->info.level)) {
				advance(r, t, b, raw, d.size);
				continue;
			}
		}
		if (!copy_strings(r, &d)) {
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory decoding the events of thread %u",
						   (unsigned)t->info.index);
			leave_thread(r, t);
			continue;
		}
		const struct ttlog_span *span = NULL;
		unsigned depth = 0;
		int what = d.site->info.kind == READER_KIND_UNKNOWN
				   ? READER_SCOPES_STATE
				   : reader_scopes_record(&t->scopes, &d.site->info, r->args, ns, &span,
							  &depth);
		int is_event = what == READER_SCOPES_EVENT;
		if (what == READER_SCOPES_NOMEM)
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory rebuilding the scopes of thread "
						   "%u",
						   (unsigned)t->info.index);
		if (is_event && d.site->info.kind != TTLOG_FMT_KIND_LOG) {
			/* Span begins and ends: after their scope change. */
			if (ns > r->until_ns) {
				leave_thread(r, t);
				continue;
			}
			is_event = ns >= r->since_ns;
		}
		if (is_event) {
			ev->ticks = d.ticks;
			ev->time_ns = ns;
			ev->site = &d.site->info;
			ev->thread = &t->info;
			ev->nargs = d.site->info.nargs;
			ev->args = r->args;
			ev->fields = r->fields;
			ev->nfields = event_fields(r, t, d.site);
			ev->kind = d.site->info.kind == TTLOG_FMT_KIND_SPAN_BEGIN ? TTLOG_EVENT_SPAN_BEGIN
				   : d.site->info.kind == TTLOG_FMT_KIND_SPAN_END ? TTLOG_EVENT_SPAN_END
										 : TTLOG_EVENT_LOG;
			ev->span = span;
			ev->depth = depth;
			ev->size = d.size;
		}
		/* The cursor moves on before the event is returned; the event
		 * points into r->args and r->fields, not into the block. */
		advance(r, t, b, raw, d.size);
		if (is_event)
			return 1;
	}
	return 0;
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
	return r;
}

/* Reads the whole file; on failure sets the error (or oom) and returns 0. */
static int read_all(struct ttlog_reader *r, const char *path)
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
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < SIZE_MAX)
		cap = (size_t)st.st_size + 1; /* + 1: the read that sees the end fits */
	unsigned char *buf = malloc(cap);
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
	free(r->data);
	free(r->path);
	free(r->error);
	free(r->sites);
	ttlog__reader_idmap_free(&r->site_map);
	for (size_t i = 0; i < r->nthreads; i++) {
		free(r->threads[i].buf);
		reader_scopes_free(&r->threads[i].scopes);
	}
	free(r->threads);
	ttlog__reader_idmap_free(&r->thread_map);
	free(r->blocks);
	free(r->tblocks);
	free(r->heap);
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
	if (have_data) {
		r->scan_budget = READER_RESYNC_SLACK + (uint64_t)r->size * READER_RESYNC_FACTOR;
		r->buf_budget = READER_BUFFER_BUDGET;
		if (r->size > READER_BUFFER_BUDGET / READER_BUFFER_FACTOR)
			r->buf_budget = r->size <= SIZE_MAX / READER_BUFFER_FACTOR
						? r->size * READER_BUFFER_FACTOR
						: SIZE_MAX;
		parse(r);
	}
	if (!r->oom && r->nthreads) {
		r->heap = malloc(r->nthreads * sizeof *r->heap);
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

TTLOG_API int ttlog_reader_open_ex(const char *path, unsigned flags, ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!path || (flags & ~TTLOG_READER_LAZY))
		return TTLOG_E_INVALID;
	struct ttlog_reader *r = reader_new(path);
	if (!r)
		return TTLOG_E_NOMEM;
	r->flags = flags;
	return finish_open(r, read_all(r, path), reader);
}

TTLOG_API int ttlog_reader_open(const char *path, ttlog_reader **reader)
{
	return ttlog_reader_open_ex(path, 0, reader);
}

TTLOG_API void ttlog_reader_set_range(ttlog_reader *r, int64_t since_ns, int64_t until_ns,
				      unsigned level_mask)
{
	if (!r)
		return;
	r->want_since = since_ns;
	r->want_until = until_ns;
	r->want_levels = level_mask & TTLOG_READER_ALL_LEVELS;
}

TTLOG_API const struct ttlog_reader_counters *ttlog_reader_counters(const ttlog_reader *r)
{
	return r ? &r->counters : NULL;
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
	return finish_open(r, 1, reader);
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
