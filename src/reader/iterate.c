/* SPDX-License-Identifier: MIT */
/*
 * iterate.c - hands out a file's events in time order (see reader/open.c
 * for the whole protocol): one cursor per thread over that thread's blocks
 * in file order, the threads merged through a binary min-heap keyed by
 * (ticks of the cursor's next record, thread index). The range of
 * ttlog_reader_set_range() is applied by the block headers' times where
 * they bound the events and record by record where they do not. The
 * contexts and spans open at each record are rebuilt per thread by
 * reader/scope_track.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/internal.h"
#include "reader/impl.h"
#include "reader/scope_track.h"
#include "format/format.h"
#include "ttlog_reader.h"

/* The caller allocates struct ttlog_event: members added later take its
 * reserved tail, and its size never changes (64-bit targets). */
_Static_assert(sizeof(struct ttlog_event) == 120, "struct ttlog_event keeps its size");
_Static_assert(offsetof(struct ttlog_event, format_plan) == offsetof(struct ttlog_event, reserved0) &&
		       offsetof(struct ttlog_event, reserved) ==
			       offsetof(struct ttlog_event, reserved0) + sizeof(uint64_t),
	       "format_plan takes the first reserved word, in its place");

static int heap_before(const struct ttlog_reader *r, size_t a, size_t b)
{
	const struct rthread *x = &r->threads[a], *y = &r->threads[b];
	if (x->key != y->key)
		return x->key < y->key;
	if (x->info.index != y->info.index)
		return x->info.index < y->info.index;
	return x->promo < y->promo; /* a thread's own records first at equal ticks */
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
		if (!r->has_scopes && b->chunk_off < r->start_off) {
			r->counters.blocks_skipped++; /* returned before (ttlog_reader_set_start) */
			continue;
		}
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

/* Ends thread t's part in the range at its next record, the first after
 * the range, which is not read: counted as leave_thread() counts, but its
 * cursor and scopes stay for ttlog_reader_resume(). */
static void park_thread(struct ttlog_reader *r, struct rthread *t)
{
	t->parked_skipped = t->cur < t->blk_end ? t->blk_end - t->cur - 1 : 0;
	r->counters.blocks_skipped += t->parked_skipped;
	t->parked = 1;
	heap_pop(r);
}

TTLOG_API void ttlog_reader_release(ttlog_reader *r)
{
	if (!r)
		return;
	if (r->bytes) { /* the last reader of the bytes frees them */
		if (atomic_fetch_sub_explicit(&r->bytes->refs, 1, memory_order_acq_rel) == 1) {
			if (r->bytes->mapped)
				ttlog__reader_unmap(r->bytes->data, r->bytes->mapped,
						    r->bytes->map_slot);
			else
				free(r->bytes->data);
			free(r->bytes);
		}
	} else {
		ttlog__reader_drop_data(r);
	}
	r->mapped = 0;
	r->bytes = NULL;
	r->data = NULL;
	r->size = 0;
	for (size_t i = 0; i < r->ncursors; i++) {
		free(r->threads[i].buf);
		r->threads[i].buf = NULL;
		r->threads[i].loaded = NOWHERE;
	}
	r->buf_total = 0;
	/* The decoders' state: no block is decoded any more. */
	free(r->unpack);
	r->unpack = NULL;
	free(r->zbuf);
	r->zbuf = NULL;
	ZSTD_freeDCtx(r->zstd);
	r->zstd = NULL;
	free(r->heap); /* rewind then finds no event */
	r->heap = NULL;
	r->heap_len = 0;
	r->released = 1;
}

TTLOG_API int ttlog_reader_released(const ttlog_reader *r)
{
	return r ? r->released : 0;
}

/*
 * Where the record is: its block's chunk offset in the file and its own
 * offset in the decoded block, which is below 64 KiB and a multiple of 8
 * (records are 8-byte aligned), so 13 bits hold it. Neither depends on how
 * the file is opened or which of its events are returned.
 */
_Static_assert(TTLOG__FMT_MAX_BLOCK_RAW <= 8u << 13, "a record's offset / 8 in 13 bits");

TTLOG_API uint64_t ttlog_reader_event_key(const ttlog_reader *r)
{
	return r ? r->event_key : 0;
}

TTLOG_API void ttlog_reader_rewind(ttlog_reader *r)
{
	if (!r)
		return;
	r->event_key = 0;
	r->since_ns = r->want_since;
	r->until_ns = r->want_until;
	r->levels = r->want_levels;
	r->start_off = r->want_start;
	r->tid = r->want_tid;
	r->site = r->want_site;
	r->heap_len = 0;
	for (size_t i = 0; i < r->ncursors; i++) {
		struct rthread *t = &r->threads[i];
		t->cur = t->blk_begin;
		t->pending = COUNT_NONE;
		t->parked = 0;
		t->log_ticks = 0;
		reader_scopes_reset(&t->scopes);
		if (r->tid && r->threads[t->main].info.tid != r->tid) {
			/* Another thread's cursor: its blocks are not read. */
			r->counters.blocks_skipped += t->blk_end - t->blk_begin;
			continue;
		}
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
	if (b->codec == TTLOG__FMT_CODEC_NONE) {
		raw = r->data + b->data_off;
	} else if (t->loaded == bi) {
		return t->buf;
	} else {
		if (!t->buf) {
			/* Give up other threads' buffers until this one fits the budget. */
			for (size_t j = 0;
			     j < r->ncursors && r->buf_total + t->max_raw > r->buf_budget; j++) {
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
		if (!ttlog__reader_block_inflate(r, b, t->buf) && !b->damaged) {
			/* Only a lazy open gets here: an eager one left such a
			 * block out of the thread's list. */
			t->loaded = NOWHERE;
			b->checked = 1;
			b->nrec = 0;
			return NULL;
		}
		/* A damaged packed block: the records before the damage. */
		t->loaded = bi;
		raw = t->buf;
	}
	if (!b->checked) {
		/* Each record this iteration returns is decoded whole, and that
		 * checks its arguments: the block pass checks only headers. A
		 * reader without arguments reads only the headers of log
		 * records, so its pass checks them whole. */
		uint64_t lo = UINT64_MAX, hi = 0;
		if (r->flags & TTLOG_READER_NO_ARGS)
			ttlog__reader_check_block(r, b, raw, &r->threads[b->slot].restate_left,
						  &lo, &hi);
		else
			ttlog__reader_check_block_headers(r, b, raw);
	}
	return raw;
}

/* Copies the strings of an event to NUL-terminated storage, and the ten
 * bytes of its exact long doubles beside them. */
static int copy_strings(struct ttlog_reader *r, const struct decoded *d)
{
	size_t need = (size_t)d->size + TTLOG__FMT_MAX_ARGS;
	if (r->strbuf_cap < need) {
		char *p = realloc(r->strbuf, need);
		if (!p)
			return 0;
		r->strbuf = p;
		r->strbuf_cap = need;
	}
	char *out = r->strbuf;
	for (unsigned i = 0; i < d->site->info.nargs; i++) {
		/* Member by member, as the decoder stored them: a copy of the
		 * whole struct loads 16 bytes over several smaller stores, which
		 * cannot be forwarded and waits for every store before it. */
		struct ttlog_arg *a = &r->args[i];
		const struct ttlog_arg *from = &d->args[i];
		a->type = from->type;
		a->v = from->v;
		a->str = from->str;
		a->str_len = from->str_len;
		a->str_null = from->str_null;
		a->str_truncated = from->str_truncated;
		if (d->args[i].type == TTLOG_ARG_LD80) {
			memcpy(out, d->args[i].str, 10);
			r->args[i].str = out;
			out += 10;
			continue;
		}
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
	if (reader_scopes_no_fields(&t->scopes, st->info.kind))
		return n;
	return reader_scopes_fields(&t->scopes, st->info.kind, r->fields, n);
}

/* Moves thread heap[0]'s cursor past the record just read (size bytes). */
static void advance(struct ttlog_reader *r, struct rthread *t, const struct rblock *b,
		    const unsigned char *raw, uint32_t size)
{
	t->pos += size;
	if (++t->done < b->nrec) {
		/* The next record's ticks, if its header is there: the count
		 * is from the block's check, and the bytes of a mapped file
		 * can change after it (reader/map.c). A record that is not
		 * there fails its decode, which ends the block. */
		if (t->pos + TTLOG__FMT_RECORD_HEADER_SIZE <= b->raw_size)
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

/*
 * Whether a log record of cursor t, in block b, breaks the order that a
 * time range relies on: the thread's log records in time order, none
 * earlier than a scope change before it (either ends a range), and (in a
 * file without scopes, whose blocks outside the range are passed over by
 * their headers) inside their block's first and last ticks. Every clock
 * source of the format only goes forwards, so only a damaged or made-up
 * file does this; but docs/FORMAT.md 9.2 has readers take such blocks, and
 * a whole read does. A read with a range cannot place such a record: the
 * thread's part may end at it, or its block be passed over, so events
 * could go missing without a word. The first such record is reported
 * (TTLOG_E_CORRUPT) and read on.
 */
static void out_of_order(struct ttlog_reader *r, const struct rthread *t, const struct rblock *b,
			 uint64_t ticks)
{
	char why[300];
	if (ticks < t->log_ticks)
		snprintf(why, sizeof why,
			 "expected the log records of thread %u in time order, found ticks %llu "
			 "after %llu: a time range or a part of this file may miss events around "
			 "it (read without a range, the file gives every event)",
			 (unsigned)t->info.index, (unsigned long long)ticks,
			 (unsigned long long)t->log_ticks);
	else if (!r->has_scopes && (ticks < b->first_ticks || ticks > b->last_ticks))
		snprintf(why, sizeof why,
			 "expected ticks from %llu to %llu as the EVTS header states, found a log "
			 "record at %llu: a time range or a part of this file may miss events "
			 "around it (read without a range, the file gives every event)",
			 (unsigned long long)b->first_ticks, (unsigned long long)b->last_ticks,
			 (unsigned long long)ticks);
	else
		return;
	r->disorder_told = 1;
	ttlog__reader_report_record(r, b, t->pos, why);
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
		/* Without arguments, a log record's header is all that is read
		 * (the block's check went through its arguments); a record that
		 * opens or closes a scope is decoded whole. */
		int bare = (r->flags & TTLOG_READER_NO_ARGS) != 0;
		int header = bare && ttlog__reader_record_header(r, raw, b->raw_size, t->pos, &d) &&
			     d.site->info.kind == TTLOG__FMT_KIND_LOG;
		if (!header && !ttlog__reader_decode_record(r, raw, b->raw_size, t->pos, &d, why,
							    sizeof why)) {
			/* A lazily checked block whose headers were all that was
			 * checked: the block ends before this record, as the
			 * whole check would have ended it. */
			ttlog__reader_report_record(r, b, t->pos, why);
			r->blocks[r->tblocks[t->cur]].nrec = t->done;
			continue;
		}
		r->counters.records_decoded++;
		int64_t ns = ttlog__reader_ticks_to_ns(r, d.ticks);
		/* A promoted record belongs to its thread: the thread's own cursor
		 * has gone through every record before it in time (the heap pops
		 * in time order), so its scopes are those open at this record. */
		struct rthread *owner = t->promo ? &r->threads[t->main] : t;
		if (t->promo && d.site->info.kind != TTLOG__FMT_KIND_LOG) {
			ttlog__reader_report_record(r, b, t->pos,
						    "expected only log records in a promoted block, "
						    "found a record that opens or closes a scope (it "
						    "is ignored)");
			advance(r, t, b, raw, d.size);
			continue;
		}
		int silent = b->chunk_off < r->start_off; /* only its scopes are wanted */
		if (d.site->info.kind == TTLOG__FMT_KIND_LOG && silent) {
			advance(r, t, b, raw, d.size);
			continue;
		}
		if (d.site->info.kind == TTLOG__FMT_KIND_LOG) {
			/* A thread's log records are in time order: the first one
			 * after the range ends the thread. Records the range does
			 * not want are passed over before their strings are copied. */
			if ((r->since_ns != INT64_MIN || r->until_ns != INT64_MAX) && !r->disorder_told &&
			    (d.ticks < t->log_ticks || (!r->has_scopes && d.ticks > b->last_ticks)))
				out_of_order(r, t, b, d.ticks);
			t->log_ticks = d.ticks;
			if (ns > r->until_ns) {
				park_thread(r, t);
				continue;
			}
			if (ns < r->since_ns || !level_wanted(r, d.site->info.level) ||
			    (r->site && d.site->info.id != r->site)) {
				advance(r, t, b, raw, d.size);
				continue;
			}
		}
		if ((!bare || d.site->info.kind != TTLOG__FMT_KIND_LOG) && !copy_strings(r, &d)) {
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory decoding the events of thread %u",
						   (unsigned)t->info.index);
			leave_thread(r, t);
			continue;
		}
		if (d.site->info.kind != TTLOG__FMT_KIND_LOG && d.site->info.kind != READER_KIND_UNKNOWN &&
		    ns > r->until_ns) {
			/* A record that opens or closes a scope after the range:
			 * no later record of the thread is in it (a re-stated
			 * opening has its old time, so it is later still). Its
			 * scope change is left for the next range. */
			park_thread(r, t);
			continue;
		}
		/* A scope change ends a range as a log record does (above), so
		 * the thread's log records after it must not be earlier than it
		 * either (out_of_order()); a re-stated opening's old time is
		 * earlier, and changes nothing. */
		if (d.site->info.kind != TTLOG__FMT_KIND_LOG &&
		    d.site->info.kind != READER_KIND_UNKNOWN && d.ticks > t->log_ticks)
			t->log_ticks = d.ticks;
		const struct ttlog_span *span = NULL;
		unsigned depth = 0;
		int what;
		if (d.site->info.kind == TTLOG__FMT_KIND_LOG) {
			span = reader_scopes_log(&owner->scopes, &depth);
			what = READER_SCOPES_EVENT;
		} else {
			what = d.site->info.kind == READER_KIND_UNKNOWN
				       ? READER_SCOPES_STATE
				       : reader_scopes_record(&owner->scopes, &d.site->info, r->args,
							      ns, &span, &depth);
		}
		int is_event = what == READER_SCOPES_EVENT;
		if (what == READER_SCOPES_NOMEM)
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory rebuilding the scopes of thread "
						   "%u",
						   (unsigned)t->info.index);
		if (is_event && d.site->info.kind != TTLOG__FMT_KIND_LOG)
			is_event = ns >= r->since_ns && !silent; /* span begins and ends */
		if (is_event) {
			ev->ticks = d.ticks;
			ev->time_ns = ns;
			ev->site = &d.site->info;
			ev->thread = &owner->info;
			ev->nargs = bare ? 0 : d.site->info.nargs;
			ev->args = r->args;
			ev->fields = r->fields;
			ev->nfields = bare ? 0 : event_fields(r, owner, d.site);
			ev->kind = d.site->info.kind == TTLOG__FMT_KIND_SPAN_BEGIN ? TTLOG_EVENT_SPAN_BEGIN
				   : d.site->info.kind == TTLOG__FMT_KIND_SPAN_END ? TTLOG_EVENT_SPAN_END
										 : TTLOG_EVENT_LOG;
			ev->span = span;
			ev->depth = depth;
			ev->size = d.size;
			ev->flags = t->promo ? TTLOG_EVENT_PROMOTED : 0;
			ev->reserved32 = 0;
			r->event_key = ((uint64_t)b->chunk_off << 13) + (t->pos >> 3) + 1u;
			ev->reserved0 = 0; /* the high half of the word on 32-bit */
			ev->format_plan = d.site->plan;
			memset(ev->reserved, 0, sizeof ev->reserved);
		}
		/* The cursor moves on before the event is returned; the event
		 * points into r->args and r->fields, not into the block. */
		advance(r, t, b, raw, d.size);
		if (is_event)
			return 1;
	}
	ttlog__reader_check_shrunk(r); /* zeros that still decoded */
	return 0;
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

TTLOG_API void ttlog_reader_set_tid(ttlog_reader *r, uint32_t tid)
{
	if (r)
		r->want_tid = tid;
}

TTLOG_API void ttlog_reader_set_site(ttlog_reader *r, uint32_t site_id)
{
	if (r)
		r->want_site = site_id;
}

TTLOG_API int ttlog_reader_resume(ttlog_reader *r, int64_t since_ns, int64_t until_ns,
				  unsigned level_mask)
{
	if (!r || !r->heap || since_ns > until_ns || since_ns <= r->until_ns ||
	    r->until_ns == INT64_MAX)
		return 0;
	ttlog_reader_set_range(r, since_ns, until_ns, level_mask);
	if (!r->has_scopes) {
		/* The block headers bound the records: the blocks before the
		 * range are passed over unread. */
		ttlog_reader_rewind(r);
		return 1;
	}
	r->since_ns = r->want_since;
	r->until_ns = r->want_until;
	r->levels = r->want_levels;
	/* The cursors still in the heap (the last range was not read to its
	 * end) stay, and the parked ones come back. */
	for (size_t i = 0; i < r->ncursors; i++) {
		struct rthread *t = &r->threads[i];
		if (!t->parked)
			continue;
		t->parked = 0;
		r->counters.blocks_skipped -= t->parked_skipped;
		r->heap[r->heap_len++] = i;
	}
	for (size_t i = r->heap_len / 2; i-- > 0;)
		heap_down(r, i);
	return 1;
}

TTLOG_API void ttlog_reader_set_start(ttlog_reader *r, uint64_t offset)
{
	if (r)
		r->want_start = offset;
}

TTLOG_API const struct ttlog_reader_counters *ttlog_reader_counters(const ttlog_reader *r)
{
	return r ? &r->counters : NULL;
}
