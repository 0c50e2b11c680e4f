/* SPDX-License-Identifier: MIT */
/*
 * file_jobs.c - files of a list printed on N threads, written in list order
 * (see cli/file_jobs.h).
 *
 * One mutex guards everything shared: the next file to take, each job's
 * list of chunks and its count of bytes not yet written, the recycled
 * buffers and the stop flag. It is taken once per chunk (64 KiB or more of
 * lines, or one note), never per event. The writer waits on `made` for a
 * megabyte or the end of the job it writes; a worker waits on its job's
 * `room` for room under the cap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "file_jobs.h"

/* Each job's cap is the memory given shared by the threads, and at least
 * JOB_CAP_MIN. A job ahead of the one being written goes on until it holds
 * its cap: for two threads to be busy all the time that must be half a
 * file's output (a text line is about 135 bytes, a JSON line about 340),
 * so the default 128 MiB a thread keeps two busy on files of up to 2 M
 * events of text. */
#define JOB_CAP_MIN ((size_t)256 << 10)
/* Written buffers kept for reuse, at most; the others are freed. */
#define SPARE_MAX 32u
/* The writer is woken when the job it writes holds this much (or a quarter
 * of the cap, if less), or ends: a wake-up per 64 KiB chunk was 50,000
 * context switches for 1.4 GB. */
#define WAKE_BYTES ((size_t)1 << 20)

struct chunk {
	struct chunk *next;
	int fd;
	struct render_buf b;
};

struct job {
	struct chunk *head, *tail; /* made, not yet written */
	size_t pending;            /* their bytes */
	int ended;                 /* the work function has returned */
	pthread_cond_t room;       /* to its worker: chunks written, or stop */
};

struct cli_file_jobs {
	pthread_mutex_t mu;
	pthread_cond_t made;  /* to the writer: a megabyte, or a job's end */
	size_t nfiles;
	size_t next;          /* the next file a worker takes */
	int stop;             /* a write failed, or cli_file_jobs_stop() */
	size_t cap;           /* bytes a job may hold before it waits */
	size_t wake;          /* bytes that wake the writer, below cap */
	struct job *job;      /* one per file */
	struct chunk *spare;  /* written chunks, buffers kept */
	unsigned nspare;
	cli_file_job_fn *work;
	void *arg;
	unsigned nthreads;
	struct worker {
		struct cli_file_jobs *j;
		unsigned index;
		pthread_t thread;
	} *workers;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct cli_file_jobs *j = w->j;
	pthread_mutex_lock(&j->mu);
	while (!j->stop && j->next < j->nfiles) {
		size_t file = j->next++;
		pthread_mutex_unlock(&j->mu);
		struct cli_job_out out = {j, file};
		j->work(j->arg, w->index, file, &out);
		pthread_mutex_lock(&j->mu);
		j->job[file].ended = 1;
		pthread_cond_broadcast(&j->made);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

struct cli_file_jobs *cli_file_jobs_start(unsigned nthreads, size_t nfiles, size_t memory,
					  cli_file_job_fn *work, void *arg)
{
	if (nthreads > nfiles)
		nthreads = (unsigned)nfiles;
	if (nthreads == 0)
		return NULL;
	struct cli_file_jobs *j = render_xrealloc(NULL, sizeof *j);
	*j = (struct cli_file_jobs){.nfiles = nfiles, .work = work, .arg = arg};
	j->cap = memory / nthreads > JOB_CAP_MIN ? memory / nthreads : JOB_CAP_MIN;
	j->wake = j->cap / 4 < WAKE_BYTES ? j->cap / 4 : WAKE_BYTES;
	j->job = render_xrealloc(NULL, nfiles * sizeof *j->job);
	for (size_t i = 0; i < nfiles; i++) {
		j->job[i] = (struct job){0};
		pthread_cond_init(&j->job[i].room, NULL);
	}
	j->workers = render_xrealloc(NULL, nthreads * sizeof *j->workers);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->made, NULL);
	for (unsigned i = 0; i < nthreads; i++) {
		j->workers[i].j = j;
		j->workers[i].index = i;
		if (pthread_create(&j->workers[i].thread, NULL, worker_main, &j->workers[i]) != 0)
			break;
		j->nthreads++;
	}
	if (j->nthreads == 0) {
		cli_file_jobs_stop(j);
		return NULL;
	}
	return j;
}

int cli_job_out_put(struct cli_job_out *out, int fd, struct render_buf *b)
{
	struct cli_file_jobs *j = out->jobs;
	if (b->len == 0)
		return cli_job_out_stopped(out) ? 0 : 1;
	pthread_mutex_lock(&j->mu);
	struct chunk *c = j->spare;
	if (c) {
		j->spare = c->next;
		j->nspare--;
	}
	pthread_mutex_unlock(&j->mu);
	if (!c) {
		c = render_xrealloc(NULL, sizeof *c);
		c->b = (struct render_buf){0};
	}
	/* The chunk takes b's bytes; b takes the spare buffer, emptied, or a
	 * new one as large as the one given: grown from nothing again it
	 * would be copied at every doubling. */
	struct render_buf kept = c->b;
	c->b = *b;
	*b = kept;
	if (b->cap < c->b.cap) {
		render_buf_free(b);
		render_buf_reserve(b, c->b.cap - 1);
	}
	render_buf_reset(b);
	c->fd = fd;
	c->next = NULL;

	pthread_mutex_lock(&j->mu);
	struct job *jb = &j->job[out->file];
	if (jb->tail)
		jb->tail->next = c;
	else
		jb->head = c;
	jb->tail = c;
	jb->pending += c->b.len;
	if (jb->pending >= j->wake)
		pthread_cond_broadcast(&j->made);
	while (jb->pending > j->cap && !j->stop)
		pthread_cond_wait(&jb->room, &j->mu);
	int ok = !j->stop;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

int cli_job_out_stopped(struct cli_job_out *out)
{
	struct cli_file_jobs *j = out->jobs;
	pthread_mutex_lock(&j->mu);
	int stop = j->stop;
	pthread_mutex_unlock(&j->mu);
	return stop;
}

/* Tells every job to stop (the mutex held). */
static void stop_all(struct cli_file_jobs *j)
{
	j->stop = 1;
	for (size_t i = 0; i < j->nfiles; i++)
		pthread_cond_broadcast(&j->job[i].room);
}

/* Writes one chunk to its stream; 0 if the write failed. */
static int write_chunk(const struct chunk *c)
{
	if (c->fd == 2) {
		cli_sync_stdout(); /* what stdout holds comes first */
		render_buf_write(&c->b, stderr);
		return !cli_stdout_failed();
	}
	return render_buf_write(&c->b, stdout) == 0 && !cli_stdout_failed();
}

int cli_file_jobs_write(struct cli_file_jobs *j, size_t file)
{
	if (file >= j->nfiles)
		return 1;
	struct job *jb = &j->job[file];
	int ok = 1, draining = 0;
	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct chunk *c = jb->head;
		if (!c && (jb->ended || j->stop))
			break;
		if (!c || (!draining && jb->pending < j->wake && !jb->ended && !j->stop)) {
			/* Wait for a megabyte, then write all there is: not a
			 * wake-up for every chunk. */
			draining = 0;
			pthread_cond_wait(&j->made, &j->mu);
			continue;
		}
		draining = 1;
		jb->head = c->next;
		if (!jb->head)
			jb->tail = NULL;
		pthread_mutex_unlock(&j->mu);
		ok = write_chunk(c);
		pthread_mutex_lock(&j->mu);
		const size_t len = c->b.len;
		jb->pending -= len;
		if (j->nspare < SPARE_MAX) {
			c->next = j->spare;
			j->spare = c;
			j->nspare++;
		} else {
			render_buf_free(&c->b);
			free(c);
		}
		if (!ok) {
			stop_all(j);
			break;
		}
		/* A job waiting for room goes on once half its cap is free. */
		if (jb->pending <= j->cap / 2 && jb->pending + len > j->cap / 2)
			pthread_cond_broadcast(&jb->room);
	}
	ok = ok && !j->stop;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		render_buf_free(&c->b);
		free(c);
		c = next;
	}
}

void cli_file_jobs_stop(struct cli_file_jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	stop_all(j);
	pthread_mutex_unlock(&j->mu);
	for (unsigned i = 0; i < j->nthreads; i++)
		pthread_join(j->workers[i].thread, NULL);
	for (size_t i = 0; i < j->nfiles; i++) {
		free_chunks(j->job[i].head);
		pthread_cond_destroy(&j->job[i].room);
	}
	free_chunks(j->spare);
	pthread_cond_destroy(&j->made);
	pthread_mutex_destroy(&j->mu);
	free(j->workers);
	free(j->job);
	free(j);
}
