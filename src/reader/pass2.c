/* SPDX-License-Identifier: MIT */
/*
 * pass2.c - pass 2 of an open (see reader/open.c): every block decompressed
 * and every record checked, on the calling thread and up to jobs - 1 worker
 * threads, with exactly the result of one thread.
 *
 * The blocks are independent but for two things, which are put together in
 * file order after the workers are done:
 *
 *   - the first problem: each worker reports into a copy of the reader of
 *     its own (struct ttlog_reader is only read by the workers), whose
 *     status and message are taken after every block and kept with it;
 *     then the first of them in file order becomes the reader's, unless a
 *     problem of pass 1 came first. A block's own problems come in the
 *     order one thread finds them, so the message is the same.
 *   - the re-stated openings of a RESTATE record (records.c, is_event())
 *     may go on into the thread's next block: a worker counts a block's
 *     events as if none were left over, and a block that follows one that
 *     left some has its events counted again, in file order, from its
 *     decoded bytes. A RESTATE group over a block boundary is rare.
 *
 * Each worker claims the next block from a shared counter and decompresses
 * it into its own scratch buffer, which stays in the cache. (Keeping every
 * decoded block for the iteration instead was measured slower: the kept
 * bytes leave the cache and their pages are faulted in, which costs more
 * than decompressing LZ4 again into a buffer that stays hot.) A worker
 * writes only its own blocks' fields and its own results; the threads are
 * joined before anything is read.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "common/internal.h"
#include "reader/impl.h"
#include "reader/unpack.h"
#include "format/format.h"
#include "ttlog_reader.h"

/* What one block gave. */
struct block_result {
	int status;            /* its first problem, TTLOG_OK if none */
	char *error;           /* that problem's message (may be NULL: no memory) */
	uint8_t used;          /* it decompressed (wholly or up to damage): counted */
	uint8_t oom;           /* no memory for a scratch buffer */
	uint8_t header_mismatch; /* its records are not those its header states */
	uint8_t ticks_outside;   /* ticks of its records outside its header's */
	uint32_t restate_out;  /* re-stated openings left after it, none before */
	uint64_t min_ticks, max_ticks;
};

struct pass2 {
	struct ttlog_reader *r;
	struct block_result *res;
	atomic_size_t next;    /* the next block to claim */
};

/* Checks the blocks it claims, reporting into a copy of the reader. */
static void *pass2_worker(void *arg)
{
	struct pass2 *p = arg;
	struct ttlog_reader *r = p->r;
	struct ttlog_reader *w = malloc(sizeof *w);
	unsigned char *scratch = NULL;
	if (w) {
		*w = *r;
		w->status = TTLOG_OK;
		w->error = NULL;
		w->unpack = NULL;
		w->zstd = NULL;
		w->zbuf = NULL;
	}
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
		if (i >= r->nblocks)
			break;
		struct rblock *b = &r->blocks[i];
		struct block_result *o = &p->res[i];
		o->min_ticks = UINT64_MAX;
		if (!w) {
			o->oom = 1;
			continue;
		}
		const unsigned char *raw = r->data + b->data_off;
		if (b->codec != TTLOG__FMT_CODEC_NONE) {
			if (!scratch)
				scratch = malloc(TTLOG__FMT_MAX_BLOCK_RAW);
			if (!scratch) {
				o->oom = 1;
				continue;
			}
			if (!ttlog__reader_block_inflate(w, b, scratch) && !b->damaged) {
				b->checked = 1; /* nrec stays 0 */
			} else {
				raw = scratch;
				o->used = 1;
			}
		} else {
			o->used = 1;
		}
		if (o->used) {
			uint32_t restate = 0;
			ttlog__reader_check_block(w, b, raw, &restate, &o->min_ticks,
						  &o->max_ticks);
			o->restate_out = restate;
		}
		o->status = w->status;
		o->error = w->error;
		o->header_mismatch = (uint8_t)w->header_mismatch;
		o->ticks_outside = (uint8_t)w->ticks_outside;
		w->status = TTLOG_OK;
		w->error = NULL;
		w->header_mismatch = 0;
		w->ticks_outside = 0;
	}
	if (w) {
		free(w->unpack);
		ZSTD_freeDCtx(w->zstd);
		free(w->zbuf);
		free(w);
	}
	free(scratch);
	return NULL;
}

void ttlog__reader_decode_blocks(struct ttlog_reader *r, unsigned jobs)
{
	if (!r->nblocks)
		return;
	struct pass2 p;
	p.r = r;
	p.res = calloc(r->nblocks, sizeof *p.res);
	atomic_init(&p.next, 0);
	if (!p.res) {
		r->oom = 1;
		return;
	}
	if (jobs < 1)
		jobs = 1;
	if (jobs > r->nblocks)
		jobs = (unsigned)r->nblocks;
	pthread_t tid[255];
	unsigned started = 0;
	for (unsigned k = 1; k < jobs; k++) {
		if (pthread_create(&tid[started], NULL, pass2_worker, &p) != 0)
			break; /* fewer threads: the same result, later */
		started++;
	}
	pass2_worker(&p);
	for (unsigned k = 0; k < started; k++)
		pthread_join(tid[k], NULL);

	/* The results in file order, as one thread finds them. */
	uint64_t min_ticks = UINT64_MAX, max_ticks = 0;
	for (size_t i = 0; i < r->nblocks; i++) {
		struct rblock *b = &r->blocks[i];
		struct block_result *o = &p.res[i];
		if (o->status != TTLOG_OK && r->status == TTLOG_OK) {
			r->status = o->status;
			r->error = o->error;
			o->error = NULL;
		}
		free(o->error);
		r->header_mismatch |= o->header_mismatch;
		r->ticks_outside |= o->ticks_outside;
		if (o->oom || r->oom) {
			r->oom = 1;
			continue;
		}
		if (!o->used)
			continue;
		min_ticks = TTLOG__MIN(min_ticks, o->min_ticks);
		max_ticks = TTLOG__MAX(max_ticks, o->max_ticks);
		struct rthread *t = &r->threads[b->slot];
		if (t->restate_left) {
			/* Openings re-stated by a RESTATE of an earlier block. */
			const unsigned char *raw = r->data + b->data_off;
			unsigned char *tmp = NULL;
			if (b->codec != TTLOG__FMT_CODEC_NONE) {
				/* Zeroed: what a failed decode leaves is never
				 * read as records. */
				tmp = calloc(1, TTLOG__FMT_MAX_BLOCK_RAW);
				if (!tmp) {
					r->oom = 1;
					continue;
				}
				/* Reported already (r->status is set if it fails). */
				ttlog__reader_block_inflate(r, b, tmp);
				raw = tmp;
			}
			b->nev = ttlog__reader_count_events(r, b, raw, &t->restate_left);
			free(tmp);
		} else {
			t->restate_left = o->restate_out;
		}
		uint32_t n = b->nrec;
		r->counters.blocks_decoded++;
		t->records += n;
		r->records += n;
		t->info.events += b->nev;
		r->info.events += b->nev;
		if (b->promoted)
			r->info.promoted += n;
		if (n && b->codec != TTLOG__FMT_CODEC_NONE) {
			struct rthread *c = &r->threads[b->cursor];
			c->max_raw = TTLOG__MAX(c->max_raw, (size_t)b->raw_size);
		}
	}
	free(p.res);
	r->info.records = r->records;
	r->event_ticks_known = !r->oom;
	r->event_min_ticks = min_ticks;
	r->event_max_ticks = max_ticks;
	if (r->info.events) {
		r->info.first_ns = ttlog__reader_ticks_to_ns(r, min_ticks);
		r->info.last_ns = ttlog__reader_ticks_to_ns(r, max_ticks);
	}
}
