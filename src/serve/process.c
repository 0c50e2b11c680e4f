/* SPDX-License-Identifier: MIT */
/*
 * process.c - a live process as a source of `ttlog serve`: a process in
 * shared-memory mode, read from outside through its mapping
 * (ttlog_tools.h), the way `ttlog snap` and `ttlog tail PID` read it.
 *
 * A request on such a source reads a snapshot of the mapping taken for it:
 * ttlog__shm_snapshot() writes the file into the server's scratch
 * directory (made on first use, removed by serve_process_cleanup()), the
 * store opens it, and the file is unlinked at once (a single snapshot is
 * opened by ttlog_store_open itself, so the store holds what it needs).
 * Snapshots are taken one at a time: this process has one snapshot
 * workspace, which two at once would find busy.
 *
 * The live tail polls (serve_process_poll, every SERVE_PROCESS_POLL_MS):
 * a new snapshot each time, and of each thread (by tid) only the events
 * whose ticks are newer than the newest one already seen, so an event is
 * sent once. The first poll only notes where each thread is: the tail
 * starts at the events written after the request. A thread whose ring
 * overwrote records since the last poll while none of the events seen
 * then is still in the ring (its oldest event now is newer than the
 * newest seen) lost events in between; the tail says so with an
 * "event: lost" message: {"pid","tid","thread","overwritten"}, the records
 * its ring overwrote since the last poll (an upper bound of those never
 * sent: some of them may have been sent before they were overwritten).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TTLOG_TOOLS_UNSTABLE
#include "render/json_text.h"
#include "serve/internal.h"
#include "ttlog_tools.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static char scratch[PATH_MAX]; /* "" until the first snapshot */

/* Takes a snapshot of the source's mapping into path. 0, or -1 with err. */
static int take_snapshot(const struct serve_source *s, char *path, size_t size, char *err,
			 size_t errlen)
{
	pthread_mutex_lock(&snap_lock);
	if (!scratch[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(scratch, sizeof scratch, "%s/ttlog-serve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch)) {
			snprintf(err, errlen, "cannot make a scratch directory in %s: %s",
				 tmp && *tmp ? tmp : "/tmp", strerror(errno));
			scratch[0] = '\0';
			pthread_mutex_unlock(&snap_lock);
			return -1;
		}
	}
	path[0] = '\0';
	char why[512] = "";
	int rc = ttlog__shm_snapshot(s->path, scratch, "serve", path, size, why, sizeof why);
	pthread_mutex_unlock(&snap_lock);
	if (rc != TTLOG_OK && !path[0]) {
		snprintf(err, errlen, "process %d: %s", s->pid, why[0] ? why : ttlog_strerror(rc));
		return -1;
	}
	return 0; /* a damaged ring table still gives a file: its reader says what */
}

int serve_process_snapshot(const struct serve_source *s, char *path, size_t size, char *err,
			   size_t errlen)
{
	return take_snapshot(s, path, size, err, errlen);
}

int serve_process_open(const struct serve_source *s, const struct ttlog_store_options *opt,
		       ttlog_store **st, char *err, size_t errlen)
{
	char path[PATH_MAX];
	*st = NULL;
	if (take_snapshot(s, path, sizeof path, err, errlen) != 0)
		return TTLOG_E_OPEN;
	const char *p = path;
	int rc = ttlog_store_open(&p, 1, opt, st);
	unlink(path);
	if (!*st)
		snprintf(err, errlen, "process %d: %s", s->pid, ttlog_strerror(rc));
	return rc;
}

void serve_process_cleanup(void)
{
	pthread_mutex_lock(&snap_lock);
	if (scratch[0])
		rmdir(scratch);
	scratch[0] = '\0';
	pthread_mutex_unlock(&snap_lock);
}

int serve_process_alive(const struct serve_source *s)
{
	struct ttlog__shm_info info;
	char err[256];
	return ttlog__shm_inspect(s->path, &info, err, sizeof err) == 0 &&
	       ttlog__shm_owner_alive(&info);
}

/* ---- The live tail ---------------------------------------------------------- */

struct serve_ptail_thread {
	uint32_t tid;
	uint64_t ticks;        /* the newest event seen */
	int any;               /* an event was seen */
	uint64_t before_ticks; /* ticks and any as the last poll left them */
	int had_before;
	uint64_t gone_before;  /* its ring's overwritten + torn at the last poll */
	int gone_known;
	uint64_t oldest;       /* this poll: its oldest event */
	int seen_now;          /* this poll: it has events */
};

static struct serve_ptail_thread *thread_of(struct serve_ptail *pt, uint32_t tid)
{
	for (size_t i = 0; i < pt->n; i++)
		if (pt->th[i].tid == tid)
			return &pt->th[i];
	struct serve_ptail_thread *n = realloc(pt->th, (pt->n + 1) * sizeof *n);
	if (!n)
		return NULL;
	pt->th = n;
	memset(&n[pt->n], 0, sizeof *n);
	n[pt->n].tid = tid;
	return &n[pt->n++];
}

int serve_process_poll(struct serve_ptail *pt, const struct serve_source *s,
		       const struct serve_filter *f, struct render_buf *out, struct render_buf *msg,
		       struct serve_event_cache *ec, char *err, size_t errlen)
{
	ttlog_store *st = NULL;
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	if (serve_process_open(s, &opt, &st, err, errlen) != TTLOG_OK && !st)
		return -1;
	const struct ttlog_store_file *const *files;
	const ttlog_reader *r = ttlog_store_files(st, &files) ? files[0]->reader : NULL;
	for (size_t i = 0; i < pt->n; i++)
		pt->th[i].seen_now = 0;

	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	struct render_buf events = {0};
	while (ttlog_store_next(st, &ev, &from)) {
		struct serve_ptail_thread *t = thread_of(pt, ev.thread ? ev.thread->tid : 0);
		if (!t)
			break;
		if (!t->seen_now) {
			t->seen_now = 1;
			t->oldest = ev.ticks;
		}
		if (t->any && ev.ticks <= t->ticks)
			continue;
		t->any = 1;
		t->ticks = ev.ticks;
		if (!pt->primed || !serve_filter_match(f, &ev, from, msg))
			continue;
		render_buf_puts(&events, "data: ");
		serve_event_json(&events, &ev, from, msg, ec);
		render_buf_puts(&events, "\n\n");
	}
	/* The losses go before this poll's events, where they happened. */
	size_t nthreads = r ? ttlog_reader_thread_count(r) : 0;
	for (size_t i = 0; i < nthreads; i++) {
		const struct ttlog_thread_info *ti = ttlog_reader_thread(r, i);
		struct serve_ptail_thread *t = thread_of(pt, ti->tid);
		if (!t)
			break;
		uint64_t gone = ti->overwritten + ti->torn;
		/* A thread first seen now lost what its ring overwrote; a known
		 * one lost events if none of those seen before is left. */
		int fresh = pt->primed && !t->gone_known && gone > 0;
		int gap = pt->primed && t->gone_known && gone > t->gone_before && t->seen_now &&
			  t->had_before && t->oldest > t->before_ticks;
		if (fresh || gap) {
			render_buf_printf(out,
					  "event: lost\ndata: {\"pid\":%d,\"tid\":%" PRIu32
					  ",\"thread\":",
					  s->pid, ti->tid);
			render_json_cstring(out, ti->name ? ti->name : "");
			render_buf_printf(out, ",\"overwritten\":%" PRIu64 "}\n\n",
					  fresh ? gone : gone - t->gone_before);
		}
		t->gone_before = gone;
		t->gone_known = 1;
	}
	if (events.len)
		render_buf_put(out, events.data, events.len);
	render_buf_free(&events);
	for (size_t i = 0; i < pt->n; i++) {
		pt->th[i].had_before = pt->th[i].any;
		pt->th[i].before_ticks = pt->th[i].ticks;
	}
	pt->primed = 1;
	/* The next poll opens another reader: no text of this one is kept. */
	serve_event_cache_free(ec);
	ttlog_store_close(st);
	return 0;
}

void serve_ptail_free(struct serve_ptail *pt)
{
	free(pt->th);
	memset(pt, 0, sizeof *pt);
}
