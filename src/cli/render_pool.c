/* SPDX-License-Identifier: MIT */
/*
 * render_pool.c - events rendered on worker threads, written in order (see
 * cli/render_pool.h for the protocol).
 *
 * Batch s lives in slot s % nslots and goes FREE -> FILLING (the reading
 * thread copies events in) -> QUEUED -> RENDERING (one worker) -> RENDERED
 * -> written -> FREE. Sequence numbers, all under the pool's mutex:
 *
 *   written <= taken <= queued           (written: batches written out;
 *                                         taken: batches a worker has taken;
 *                                         queued: batches handed over)
 *
 * Workers take batches in sequence order, so slot `taken % nslots` is the
 * next to render. Whoever finishes a batch becomes the writer if nobody is
 * writing: it writes batch `written` while it is RENDERED, without the
 * mutex (the flag `writing` keeps other threads off the output), and goes
 * on with the next one. The reading thread refills slot `queued % nslots`
 * only when that slot is FREE, that is once batch queued - nslots is
 * written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "event_copy.h"
#include "render/event_json.h"
#include "render/event_message.h"
#include "render_pool.h"

/* A batch is queued at this many events or bytes of copies: enough that
 * the hand-over costs nothing per event, small enough that the workers
 * start at once and the batches stay in the caches. */
#define BATCH_EVENTS 1024u
#define BATCH_BYTES (256u << 10)

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_RENDERING, SLOT_RENDERED };

/* Each batch and each worker's own state on cache lines of their own: a
 * batch being filled by the reading thread shared a line with the text
 * buffer of one being rendered, and every append moved the line from core
 * to core (perf annotate put 42 % of the renderer's time on one load of
 * the buffer's size; 4 % once apart). */
#define LINE 64

/* What a rendering thread has of its own: the message and JSON cache of
 * the events it renders. */
struct line_maker {
	_Alignas(LINE) struct render_message msg;
	struct render_event_cache cache;
};

struct batch {
	_Alignas(LINE) int state;
	unsigned char *copies; /* the events' copies, one after the other */
	size_t used, cap;
	size_t *at;            /* offset of each copy in `copies` */
	const char **services; /* the service of each one's file */
	size_t n, at_cap;
	struct render_buf text;
};

struct cli_render_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;   /* a batch was queued, or stop */
	pthread_cond_t freed;  /* a batch was written */
	struct batch *slots;
	unsigned nslots;
	uint64_t queued, taken, written;
	int writing, stop;
	atomic_int failed;     /* a write to the output failed */
	int write_errno;       /* its errno (set before `failed`) */
	struct batch *filling; /* the reading thread's, outside the mutex */
	struct line_maker *workers;
	FILE *out;
	pthread_t *threads;
	unsigned nthreads;
	/* Per worker: its context index, handed over at start. */
	struct worker_arg {
		struct cli_render_pool *p;
		unsigned index;
	} *args;
};

/* n zeroed elements of `size` bytes (a multiple of LINE), on lines of
 * their own. */
static void *lines_calloc(size_t n, size_t size)
{
	void *a = NULL;
	if (n > SIZE_MAX / size || posix_memalign(&a, LINE, n * size) != 0)
		return NULL;
	return memset(a, 0, n * size);
}

static struct batch *slot(struct cli_render_pool *p, uint64_t seq)
{
	return &p->slots[seq % p->nslots];
}

/* Writes the rendered batches whose turn it is, if nobody else is. Called
 * with the mutex held; returns with it held. */
static void write_in_order(struct cli_render_pool *p)
{
	while (!p->writing && p->written < p->taken &&
	       slot(p, p->written)->state == SLOT_RENDERED) {
		struct batch *b = slot(p, p->written);
		p->writing = 1;
		pthread_mutex_unlock(&p->lock);
		if (!atomic_load_explicit(&p->failed, memory_order_relaxed) && b->text.len &&
		    render_buf_write(&b->text, p->out) != 0) {
			p->write_errno = errno ? errno : EIO;
			atomic_store_explicit(&p->failed, 1, memory_order_release);
		}
		render_buf_reset(&b->text);
		b->n = 0;
		b->used = 0;
		pthread_mutex_lock(&p->lock);
		b->state = SLOT_FREE;
		p->written++;
		p->writing = 0;
		pthread_cond_broadcast(&p->freed);
	}
}

static void json_line(struct line_maker *m, struct render_buf *out, const struct ttlog_event *ev,
		      const char *service)
{
	render_message_start(&m->msg, ev);
	m->cache.service = service;
	render_event_json(out, ev, render_message_text(&m->msg), &m->cache);
	render_buf_putc(out, '\n');
}

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	struct cli_render_pool *p = w->p;
	struct line_maker *m = &p->workers[w->index];
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->taken == p->queued)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->taken == p->queued)
			break; /* stop, and nothing left */
		struct batch *b = slot(p, p->taken++);
		b->state = SLOT_RENDERING;
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < b->n; i++)
			json_line(m, &b->text, (const struct ttlog_event *)(b->copies + b->at[i]),
				  b->services[i]);
		pthread_mutex_lock(&p->lock);
		b->state = SLOT_RENDERED;
		write_in_order(p);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct cli_render_pool *cli_render_pool_start(unsigned workers, int big_as_string, FILE *out)
{
	if (workers < 1 || workers > 255)
		return NULL;
	struct cli_render_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->nslots = 2 * workers + 2;
	p->slots = lines_calloc(p->nslots, sizeof *p->slots);
	p->threads = calloc(workers, sizeof *p->threads);
	p->args = calloc(workers, sizeof *p->args);
	p->workers = lines_calloc(workers, sizeof *p->workers);
	p->out = out;
	atomic_init(&p->failed, 0);
	if (!p->slots || !p->threads || !p->args || !p->workers ||
	    pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->slots);
		free(p->threads);
		free(p->args);
		free(p->workers);
		free(p);
		return NULL;
	}
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (unsigned i = 0; i < workers; i++)
		p->workers[i].cache.big_as_string = big_as_string;
	for (unsigned i = 0; i < workers; i++) {
		p->args[i].p = p;
		p->args[i].index = i;
		if (pthread_create(&p->threads[i], NULL, worker, &p->args[i]) != 0)
			break;
		p->nthreads++;
	}
	if (!p->nthreads) {
		cli_render_pool_stop(p);
		return NULL;
	}
	return p;
}

void cli_render_pool_new_file(struct cli_render_pool *p)
{
	for (unsigned i = 0; p && i < p->nthreads; i++)
		render_event_cache_reset(&p->workers[i].cache);
}

/* Hands the batch being filled to the workers. */
static void submit(struct cli_render_pool *p)
{
	struct batch *b = p->filling;
	if (!b)
		return;
	p->filling = NULL;
	pthread_mutex_lock(&p->lock);
	b->state = SLOT_QUEUED;
	p->queued++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

int cli_render_pool_add(struct cli_render_pool *p, const struct ttlog_event *ev,
			const char *service)
{
	if (atomic_load_explicit(&p->failed, memory_order_relaxed))
		return 0;
	struct batch *b = p->filling;
	if (!b) {
		pthread_mutex_lock(&p->lock);
		b = slot(p, p->queued);
		while (b->state != SLOT_FREE)
			pthread_cond_wait(&p->freed, &p->lock);
		b->state = SLOT_FILLING;
		pthread_mutex_unlock(&p->lock);
		p->filling = b;
	}
	size_t need = cli_event_copy_size(ev);
	if (b->used + need > b->cap) {
		if (b->n) { /* full: the event starts the next batch */
			submit(p);
			return cli_render_pool_add(p, ev, service);
		}
		size_t cap = need > BATCH_BYTES ? need : BATCH_BYTES;
		b->copies = render_xrealloc(b->copies, cap);
		b->cap = cap;
	}
	if (b->n == b->at_cap) {
		b->at_cap = BATCH_EVENTS;
		b->at = render_xrealloc(b->at, b->at_cap * sizeof *b->at);
		b->services = render_xrealloc(b->services, b->at_cap * sizeof *b->services);
	}
	b->services[b->n] = service;
	b->at[b->n++] = b->used;
	cli_event_copy(b->copies + b->used, ev);
	b->used += need;
	if (b->n == BATCH_EVENTS || b->used == b->cap)
		submit(p);
	return 1;
}

int cli_render_pool_drain(struct cli_render_pool *p)
{
	submit(p);
	pthread_mutex_lock(&p->lock);
	while (p->written < p->queued)
		pthread_cond_wait(&p->freed, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return !atomic_load_explicit(&p->failed, memory_order_relaxed);
}

int cli_render_pool_errno(struct cli_render_pool *p)
{
	return atomic_load_explicit(&p->failed, memory_order_acquire) ? p->write_errno : 0;
}

void cli_render_pool_stop(struct cli_render_pool *p)
{
	if (!p)
		return;
	if (p->nthreads)
		cli_render_pool_drain(p);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; i < p->nthreads; i++) {
		render_message_free(&p->workers[i].msg);
		render_event_cache_free(&p->workers[i].cache);
	}
	for (unsigned i = 0; i < p->nslots; i++) {
		free(p->slots[i].copies);
		free(p->slots[i].at);
		free(p->slots[i].services);
		render_buf_free(&p->slots[i].text);
	}
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p->slots);
	free(p->threads);
	free(p->args);
	free(p->workers);
	free(p);
}
