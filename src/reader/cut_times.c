/* SPDX-License-Identifier: MIT */
/*
 * cut_times.c - times that cut a file's events into parts of about equal
 * size, for reading the parts at once on separate threads
 * (ttlog_reader_cut_times(); a store's, ttlog_store_cut_times(), puts the
 * blocks of all its files together the same way, reader/store.c).
 *
 * Only the block headers are read: each block's stated record count and
 * first time. The blocks, all threads' together, are put in order of
 * their first times, and a cut is made at the first block whose records
 * before it (in that order) reach the next k/n of the total; its time is
 * the first time of part k. Blocks of other threads that straddle that
 * time are split by the reader's range record by record, so the parts are
 * about, not exactly, equal.
 *
 * Reading the parts through ranges gives the whole iteration, one part
 * after the other, only where the merge is in time order: every cursor's
 * records in order of ticks (the writer's clock never runs backwards on a
 * thread) and times increasing with ticks. In files with contexts or
 * spans a segment re-states the openings with their old times
 * (reader/iterate.c, enter_block()), so a block's header does not bound
 * its records; but such records open no event, and the range is applied
 * there record by record, blocks never skipped by their headers, so the
 * headers only place the cuts. Files without scopes whose blocks
 * contradict that order are not cut, nor files whose calibration runs
 * backwards.
 */
#include <stdlib.h>

#include "common/internal.h"
#include "format/format.h"
#include "reader/impl.h"
#include "ttlog_reader.h"

static int by_time(const void *a, const void *b)
{
	const struct ttlog__block_time *x = a, *y = b;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* Whether the iteration is in time order as far as the block headers can
 * tell: every cursor's blocks in order, each bounded by its header. */
static int headers_in_order(const struct ttlog_reader *r)
{
	if (r->cal_ok && r->ns1 < r->ns0)
		return 0;
	if (r->has_scopes)
		return 1; /* the headers only place the cuts */
	for (size_t c = 0; c < r->ncursors; c++) {
		const struct rthread *t = &r->threads[c];
		uint64_t last = 0;
		for (size_t i = t->blk_begin; i < t->blk_end; i++) {
			const struct rblock *b = &r->blocks[r->tblocks[i]];
			if (b->first_ticks > b->last_ticks || b->first_ticks < last)
				return 0;
			last = b->last_ticks;
		}
	}
	return 1;
}

int ttlog__reader_block_times(const ttlog_reader *r, int64_t since_ns, int64_t until_ns,
			      struct ttlog__block_time **times, size_t *ntimes)
{
	*times = NULL;
	*ntimes = 0;
	if (!r || r->released || !r->tblocks || !headers_in_order(r))
		return 0;
	size_t nb = r->ncursors ? r->threads[r->ncursors - 1].blk_end : 0;
	struct ttlog__block_time *s = malloc((nb ? nb : 1) * sizeof *s);
	if (!s)
		return 0;
	size_t m = 0;
	for (size_t i = 0; i < nb; i++) {
		const struct rblock *b = &r->blocks[r->tblocks[i]];
		int64_t first = ttlog__reader_ticks_to_ns(r, b->first_ticks);
		if (first > until_ns || ttlog__reader_ticks_to_ns(r, b->last_ticks) < since_ns)
			continue;
		s[m].ns = first > since_ns ? first : since_ns;
		/* The stated count, at most what the block's bytes can hold
		 * (a record takes 8 bytes or more): no sum can overflow. */
		s[m].count = b->count < TTLOG__FMT_MAX_BLOCK_RAW / 8 ? b->count
								     : TTLOG__FMT_MAX_BLOCK_RAW / 8;
		m++;
	}
	*times = s;
	*ntimes = m;
	return 1;
}

int ttlog__reader_headers_hold(const struct ttlog_reader *r)
{
	return r->event_ticks_known && !r->header_mismatch &&
	       !(r->ticks_outside && !r->has_scopes);
}

size_t ttlog__cut_block_times(struct ttlog__block_time *s, size_t nb, size_t n, int64_t *cuts)
{
	if (!nb)
		return 0; /* no block (s may be NULL: qsort must not see it) */
	if (n > TTLOG_READER_MAX_PARTS)
		n = TTLOG_READER_MAX_PARTS;
	uint64_t total = 0;
	for (size_t i = 0; i < nb; i++)
		total += s[i].count;
	qsort(s, nb, sizeof *s, by_time);
	size_t m = 0;
	uint64_t before = 0; /* records of the blocks before s[i] */
	for (size_t i = 0, k = 1; i < nb && k < n; i++) {
		/* Part k begins at the first block with k/n of the records
		 * before it (no product overflows: n <= 256, and the blocks'
		 * counts are bounded, see ttlog__reader_block_times()). */
		if (before * n >= k * total && before > 0) {
			int64_t t = s[i].ns;
			if (t > INT64_MIN && (m == 0 || t > cuts[m - 1]))
				cuts[m++] = t;
			while (k < n && before * n >= k * total)
				k++;
		}
		before += s[i].count;
	}
	return m;
}

TTLOG_API size_t ttlog_reader_cut_times(const ttlog_reader *r, size_t n, int64_t *cuts)
{
	if (!r || n < 2 || !cuts)
		return 0;
	struct ttlog__block_time *s;
	size_t nb;
	if (!ttlog__reader_block_times(r, INT64_MIN, INT64_MAX, &s, &nb))
		return 0;
	size_t m = ttlog__cut_block_times(s, nb, n, cuts);
	free(s);
	return m;
}
