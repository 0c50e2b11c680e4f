/* SPDX-License-Identifier: MIT */
/*
 * file_jobs.c - files of a list printed on N threads, written in list order
 * (see cli/file_jobs.h).
 *
 * One mutex guards everything shared: the next file to take, each job's
 * list of chunks, its count of bytes not yet written and whether it writes
 * itself, the free chunks and the stop flag. It is taken once or twice per
 * block of lines the work function hands over (64 KiB or more), never per
 * event. The writer waits on `made` for a megabyte or the end of the job
 * it writes, and only that job wakes it; a worker ahead waits on `room`
 * while the jobs hold more than the memory given.
 *
 * A job's turn: once the writer has written every chunk the job held, the
 * job writes its lines to stdout itself, from the buffer they were made
 * in, while the writer waits for its end; so only the output of the jobs
 * ahead is copied and held, not every file's. The held output is copied
 * into chunks of one size; a written chunk goes on a free list that the
 * next chunk is taken from, never back to malloc(): the memory is faulted
 * in once, for the most ever held at a time, and the buffer the lines are
 * made in stays in the cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cli.h"
#include "file_jobs.h"

/* The output held is bounded by the memory given, shared by the jobs
 * ahead of the one being written (which never waits), and at least
 * JOB_MEMORY_MIN a thread. For two threads to be busy all the time, the one
 * job ahead must be able to hold half a file's output (a text line is
 * about 135 bytes, a JSON line about 480): the default 256 MiB keeps both
 * busy on text files of up to 4 M events and JSON files of up to 1.1 M. */
#define JOB_MEMORY_MIN ((size_t)256 << 10)
/* A chunk of held output, its header included. */
#define CHUNK_BYTES ((size_t)256 << 10)
/* The writer is woken when the job it writes holds this much (or a quarter
 * of the memory, if less), or ends: a wake-up per chunk (of 64 KiB) was
 * 50,000 context switches for 1.4 GB. */
#define WAKE_BYTES ((size_t)1 << 20)

struct chunk {
	struct chunk *next;
	int fd;
	size_t len; /* bytes of data */
	char data[];
};

#define CHUNK_DATA (CHUNK_BYTES - offsetof(struct chunk, data))

struct job {
	struct chunk *head, *tail; /* made, not yet written */
	struct chunk *open;        /* being filled, its worker's alone */
	size_t pending;            /* the bytes of head to tail */
	int ended;                 /* the work function has returned */
	int direct;                /* its turn: its worker writes stdout and
				      stderr itself once `pending` is 0 */
};

struct cli_file_jobs {
	pthread_mutex_t mu;
	pthread_cond_t made;  /* to the writer: a megabyte, or a job's end */
	size_t writing;       /* the file the writer waits for; nfiles: none */
	size_t nfiles;
	size_t next;          /* the next file a worker takes */
	int stop;             /* a write failed, or jobs_stop() */
	pthread_cond_t room;  /* to the jobs ahead: chunks written, or stop */
	size_t memory;        /* the jobs ahead wait while they hold more */
	size_t held;          /* the bytes of every job's chunks */
	size_t wake;          /* bytes that wake the writer, below memory */
	struct job *job;      /* one per file */
	struct chunk *spare;  /* written chunks, to be filled again */
	cli_file_job_fn *work;
	void *arg;
	unsigned nthreads;
	struct worker {
		struct cli_file_jobs *j;
		unsigned index;
		pthread_t thread;
	} *workers;
};

static void stop_all(struct cli_file_jobs *j);
static void jobs_stop(struct cli_file_jobs *j);

/* Makes the job's open chunk one of the chunks to write (the mutex held);
 * wakes the writer if it waits for this job. */
static void publish(struct cli_file_jobs *j, size_t file)
{
	struct job *jb = &j->job[file];
	struct chunk *c = jb->open;
	jb->open = NULL;
	if (!c)
		return;
	if (c->len == 0) {
		c->next = j->spare;
		j->spare = c;
		return;
	}
	c->next = NULL;
	if (jb->tail)
		jb->tail->next = c;
	else
		jb->head = c;
	jb->tail = c;
	jb->pending += c->len;
	j->held += c->len;
	/* Only the job being written wakes the writer (one ahead of it would
	 * wake it for nothing, at every chunk once it holds a megabyte); at
	 * its turn for every chunk, which the writer writes at once. */
	if (file == j->writing && (jb->pending >= j->wake || jb->direct))
		pthread_cond_signal(&j->made);
}

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
		publish(j, file);
		j->job[file].ended = 1;
		if (file == j->writing)
			pthread_cond_signal(&j->made);
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Starts min(nthreads, nfiles) threads working through the files 0 to
 * nfiles-1, their output held to `memory` bytes in all; NULL if not even
 * one thread could be started. */
static struct cli_file_jobs *jobs_start(unsigned nthreads, size_t nfiles, size_t memory,
					cli_file_job_fn *work, void *arg)
{
	if (nthreads > nfiles)
		nthreads = (unsigned)nfiles;
	if (nthreads == 0)
		return NULL;
	struct cli_file_jobs *j = render_xrealloc(NULL, sizeof *j);
	*j = (struct cli_file_jobs){.nfiles = nfiles, .writing = nfiles, .work = work, .arg = arg};
	j->memory = memory / nthreads > JOB_MEMORY_MIN ? memory : JOB_MEMORY_MIN * nthreads;
	j->wake = j->memory / 4 < WAKE_BYTES ? j->memory / 4 : WAKE_BYTES;
	j->job = render_xrealloc(NULL, nfiles * sizeof *j->job);
	for (size_t i = 0; i < nfiles; i++)
		j->job[i] = (struct job){0};
	j->workers = render_xrealloc(NULL, nthreads * sizeof *j->workers);
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->made, NULL);
	pthread_cond_init(&j->room, NULL);
	for (unsigned i = 0; i < nthreads; i++) {
		j->workers[i].j = j;
		j->workers[i].index = i;
		if (pthread_create(&j->workers[i].thread, NULL, worker_main, &j->workers[i]) != 0)
			break;
		j->nthreads++;
	}
	if (j->nthreads == 0) {
		jobs_stop(j);
		return NULL;
	}
	return j;
}

/* An empty chunk for stream fd: a written one, or a new one (the mutex
 * held). */
static struct chunk *take_chunk(struct cli_file_jobs *j, int fd)
{
	struct chunk *c = j->spare;
	if (c)
		j->spare = c->next;
	else
		c = render_xrealloc(NULL, CHUNK_BYTES);
	c->next = NULL;
	c->fd = fd;
	c->len = 0;
	return c;
}

/* Writes n bytes to stream fd (1: stdout, 2: stderr); 0 if the write
 * failed. */
static int write_bytes(int fd, const char *data, size_t n)
{
	if (n == 0)
		return !cli_stdout_failed();
	if (fd == 2) {
		cli_sync_stdout(); /* what stdout holds comes first */
		fwrite(data, 1, n, stderr);
		return !cli_stdout_failed();
	}
	size_t written = fwrite(data, 1, n, stdout);
	/* Asked on this thread, whose errno says why a write failed. */
	int failed = cli_stdout_failed();
	return written == n && !failed;
}

/* The job writes its output itself (its worker, the writer waiting): the
 * chunk it was filling, then n bytes of data. 0 if a write failed (every
 * job is then told to stop). */
static int write_direct(struct cli_file_jobs *j, struct job *jb, int fd, const char *data,
			size_t n)
{
	int ok = 1;
	struct chunk *c = jb->open;
	if (c) {
		ok = write_bytes(c->fd, c->data, c->len);
		jb->open = NULL;
	}
	ok = ok && write_bytes(fd, data, n);
	pthread_mutex_lock(&j->mu);
	if (c) {
		c->next = j->spare;
		j->spare = c;
	}
	if (!ok)
		stop_all(j);
	ok = !j->stop;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

/*
 * Copies n bytes into a held chunk. The chunk is written out long after
 * (the output held for a job ahead is megabytes, far more than the
 * caches): with ordinary stores each of its lines is first read from
 * memory only to be overwritten. Stores that bypass the caches spare that
 * read; the fence orders them before the chunk is handed over.
 */
static void copy_held(char *to, const char *from, size_t n)
{
#if defined(__SSE2__)
	size_t head = (16 - ((uintptr_t)to & 15)) & 15;
	if (n >= 256 + head) {
		memcpy(to, from, head);
		to += head;
		from += head;
		n -= head;
		for (; n >= 64; n -= 64, to += 64, from += 64) {
			__m128i a = _mm_loadu_si128((const __m128i *)from);
			__m128i b = _mm_loadu_si128((const __m128i *)(from + 16));
			__m128i c = _mm_loadu_si128((const __m128i *)(from + 32));
			__m128i d = _mm_loadu_si128((const __m128i *)(from + 48));
			_mm_stream_si128((__m128i *)to, a);
			_mm_stream_si128((__m128i *)(to + 16), b);
			_mm_stream_si128((__m128i *)(to + 32), c);
			_mm_stream_si128((__m128i *)(to + 48), d);
		}
		_mm_sfence();
	}
#endif
	memcpy(to, from, n);
}

int cli_job_out_put(struct cli_job_out *out, int fd, struct render_buf *b)
{
	struct cli_file_jobs *j = out->jobs;
	struct job *jb = &j->job[out->file];
	const char *src = b->data;
	size_t n = b->len;
	pthread_mutex_lock(&j->mu);
	/* Its turn, and the writer has written all it was given (a chunk
	 * handed over before the turn began may still be in its hands). */
	int ok = !j->stop, direct = jb->direct && jb->pending == 0;
	pthread_mutex_unlock(&j->mu);
	if (direct && ok) {
		/* The lines go out from the buffer they were made in. */
		ok = write_direct(j, jb, fd, src, n);
		render_buf_reset(b);
		return ok;
	}
	while (n && ok) {
		struct chunk *c = jb->open;
		if (!c || c->fd != fd || c->len == CHUNK_DATA) {
			pthread_mutex_lock(&j->mu);
			publish(j, out->file);
			while (j->held > j->memory && out->file != j->writing && !j->stop)
				pthread_cond_wait(&j->room, &j->mu);
			ok = !j->stop;
			c = jb->open = take_chunk(j, fd);
			pthread_mutex_unlock(&j->mu);
		}
		size_t k = CHUNK_DATA - c->len < n ? CHUNK_DATA - c->len : n;
		copy_held(c->data + c->len, src, k);
		c->len += k;
		src += k;
		n -= k;
	}
	render_buf_reset(b);
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
	pthread_cond_broadcast(&j->room);
}

/* On the calling thread: writes the output of `file` as it is made, until
 * its job has ended and every chunk is written; for 0, 1, 2, ... in order.
 * Returns 1 once the job has ended, or 0 if a write failed (every job is
 * then told to stop). */
static int jobs_write(struct cli_file_jobs *j, size_t file)
{
	if (file >= j->nfiles)
		return 1;
	struct job *jb = &j->job[file];
	int ok = 1, draining = 0;
	pthread_mutex_lock(&j->mu);
	j->writing = file;
	pthread_cond_broadcast(&j->room); /* its job waits no more */
	for (;;) {
		struct chunk *c = jb->head;
		if (!c && (jb->ended || j->stop))
			break;
		if (!c && !jb->direct) {
			/* All it held is written: from here on its worker writes
			 * its lines itself, and this thread waits for its end. */
			jb->direct = 1;
		}
		if (!c || (!draining && !jb->direct && jb->pending < j->wake && !jb->ended &&
			   !j->stop)) {
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
		ok = write_bytes(c->fd, c->data, c->len);
		pthread_mutex_lock(&j->mu);
		const size_t len = c->len;
		jb->pending -= len;
		j->held -= len;
		c->next = j->spare;
		j->spare = c;
		if (!ok) {
			stop_all(j);
			break;
		}
		/* The jobs waiting for room go on once half the memory is free. */
		if (j->held <= j->memory / 2 && j->held + len > j->memory / 2)
			pthread_cond_broadcast(&j->room);
	}
	j->writing = j->nfiles;
	ok = ok && !j->stop;
	pthread_mutex_unlock(&j->mu);
	return ok;
}

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
}

/* Tells every job to stop, waits for the threads and frees everything. */
static void jobs_stop(struct cli_file_jobs *j)
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
		free_chunks(j->job[i].open);
	}
	free_chunks(j->spare);
	pthread_cond_destroy(&j->made);
	pthread_cond_destroy(&j->room);
	pthread_mutex_destroy(&j->mu);
	free(j->workers);
	free(j->job);
	free(j);
}

int cli_file_jobs_run(unsigned nthreads, size_t nfiles, size_t memory, cli_file_job_fn *work,
		      cli_file_end_fn *end, void *arg)
{
	struct cli_file_jobs *j = jobs_start(nthreads, nfiles, memory, work, arg);
	if (!j)
		return -1;
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < nfiles; i++) {
		if (!jobs_write(j, i))
			break; /* the output failed: main() says so */
		int st = end ? end(arg, i) : CLI_EXIT_OK;
		if (st > status)
			status = st;
		if (cli_stdout_failed())
			break;
	}
	jobs_stop(j);
	return status;
}
