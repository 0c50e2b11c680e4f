/* SPDX-License-Identifier: MIT */
/*
 * top.c - `ttlog top [PID|all]`: what running processes in shared-memory
 * mode are logging, refreshed every interval, like top(1).
 *
 * Each refresh takes a copy of every process's rings (live.h: the mapping
 * is read only; the process is never stopped or signalled) and reads it
 * through the reader API. What is new is decided per thread: the events of
 * a thread newer than the newest one of it the last refresh saw (on the
 * first refresh, and for a thread first seen after it, those of the last
 * interval before the copy was made). They give each call site's events/s
 * and errors/s (events at level error or above), and the span end events
 * among them the p50 and p99 duration of each span name. The seconds are
 * those between the two copies' creation times, so a slow refresh does
 * not distort the rates. Records the rings overwrote before a copy could
 * read them are no site's any more: each thread's overwritten + torn
 * counters, compared with the last refresh, give its lost/s, shown per
 * thread and summed per process, never silently dropped from the rates.
 * Per thread also: the events and bytes its ring holds and the history
 * they cover (newest minus oldest event), which is what the ring is worth.
 * Metrics are not in a shared mapping (docs/SHM-FORMAT.md): the screen
 * says so.
 *
 * The screen: plain ANSI sequences, so it works on any terminal and over
 * ssh without ncurses: the alternate screen, the cursor hidden, each frame
 * drawn from the top left with every line cleared to its end, lines cut at
 * the terminal's width and the tables at its height. Keys are read with
 * the terminal out of canonical mode and without echo (ISIG kept, so
 * Ctrl-C is SIGINT); the terminal is restored on 'q', at the end, and on
 * SIGINT, SIGTERM and SIGHUP (the handler only sets a flag; the loop
 * restores it), and around a stop (Ctrl-Z: restored, stopped, and set up
 * again on SIGCONT). Batch mode (-b) writes plain frames, each ending with
 * an empty line, for scripts and tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "live.h"
#include "numbers.h"
#include "render/text_buf.h"
#include "report.h"
#include "time_args.h"
#include "ttlog_reader.h"

#define COMMAND "top"
#define SHORT_OPTIONS ":d:bn:s:h"

enum sort_key { SORT_RATE, SORT_ERRORS, SORT_SITE };
static const char *const sort_names[] = {"rate", "errors", "site"};

void cli_top_usage(FILE *out)
{
	fputs("Usage: ttlog top [OPTIONS] [PID|all]\n"
	      "\n"
	      "A view of what running processes in shared-memory mode\n"
	      "(TTLOG_SHARED_MEMORY=1) log, refreshed every interval: per call site the\n"
	      "events/s and errors/s over the last interval, per span name the p50 and\n"
	      "p99 duration of the spans that ended in it, per thread what its ring\n"
	      "holds (events, bytes, the history they cover) and what it lost\n"
	      "(overwritten before read, per second). PID: one process; all (the\n"
	      "default): every process of this user in shared-memory mode, looked for\n"
	      "again at each refresh.\n"
	      "\n"
	      "The processes are not disturbed: their mappings are only read (no\n"
	      "signal, no stop); each copy of the rings goes to a private file that\n"
	      "is unlinked at once. Metrics are not in a shared mapping: the view\n"
	      "says so ('ttlog snap --signal' writes a snapshot that has them).\n"
	      "\n"
	      "Options:\n"
	      "  -d, --delay SECS      seconds between refreshes (default 1; 0.1 to 3600;\n"
	      "                        units as in 500ms, 2s are accepted too)\n"
	      "  -s, --sort KEY        order of the call sites: rate (the default),\n"
	      "                        errors, site (process, file, line)\n"
	      "  -b, --batch           plain text frames on stdout, each ending with an\n"
	      "                        empty line, no terminal control; for scripts\n"
	      "  -n, --iterations N    stop after N frames (default: until 'q' or\n"
	      "                        Ctrl-C; in batch mode until killed)\n"
	      "      --shm-dir DIR     the base directory of the mappings (default: a\n"
	      "                        PID's own TTLOG_SHARED_DIR, else this shell's,\n"
	      "                        else /dev/shm)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Keys: r sort by rate, e by errors, s by site, q quit.\n"
	      "\n"
	      "Exit status: 0 success (also when process PID ends: it says so on\n"
	      "stderr), 1 usage error, 2 no such process, not ours, not in shared-\n"
	      "memory mode, or its rings could not be read. On SIGINT, SIGTERM or\n"
	      "SIGHUP it restores the terminal, then ends by that signal.\n",
	      out);
}

/* ---- What one refresh found ---------------------------------------------- */

struct top_site {
	int pid;
	uint32_t id;
	int level;
	char *where;  /* file:line, safe text */
	char *format; /* safe text */
	uint64_t events, errors;
	double seconds;
};

struct top_span {
	int pid;
	char *name;
	int64_t *d;
	size_t n, cap;
	int64_t p50, p99;
};

struct top_thread {
	int pid;
	uint32_t tid;
	char *name;
	uint64_t events, bytes, overwritten, torn, lost;
	int64_t oldest, newest;
	int exited;
	double seconds;
};

struct top_proc {
	int pid;
	char *exe;
	char *error; /* the copy could not be read: why */
	double seconds;
	uint64_t events, errors, lost, dropped;
	size_t threads;
};

struct frame {
	struct top_site *sites;
	size_t nsites;
	struct top_span *spans;
	size_t nspans;
	struct top_thread *threads;
	size_t nthreads;
	struct top_proc *procs;
	size_t nprocs;
	int64_t when_ns;
};

/* What is kept from one refresh to the next. */
struct tid_state {
	int pid;
	uint32_t tid;
	int64_t newest;     /* newest event seen */
	uint64_t gone;      /* overwritten + torn at the last refresh */
	int alive;          /* seen at the last refresh */
};

struct proc_state {
	int pid;
	int64_t created;    /* the last copy's creation time */
	int alive;
};

struct top {
	struct cli_live_set live;
	int64_t delay_ns;
	enum sort_key sort;
	int batch;
	unsigned long iterations;
	struct tid_state *tids;
	size_t ntids;
	struct proc_state *pst;
	size_t npst;
	struct frame f;
};

static void *grow(void *p, size_t n, size_t size)
{
	return render_xrealloc(p, n * size);
}

/* s as safe text (control characters as \xNN), in a string of its own. */
static char *safe_dup(const char *s)
{
	struct render_buf b = {0};
	cli_report_text(&b, s ? s : "");
	render_buf_put(&b, "", 1);
	return b.data;
}

static void frame_free(struct frame *f)
{
	for (size_t i = 0; i < f->nsites; i++) {
		free(f->sites[i].where);
		free(f->sites[i].format);
	}
	for (size_t i = 0; i < f->nspans; i++) {
		free(f->spans[i].name);
		free(f->spans[i].d);
	}
	for (size_t i = 0; i < f->nthreads; i++)
		free(f->threads[i].name);
	for (size_t i = 0; i < f->nprocs; i++) {
		free(f->procs[i].exe);
		free(f->procs[i].error);
	}
	free(f->sites);
	free(f->spans);
	free(f->threads);
	free(f->procs);
	memset(f, 0, sizeof *f);
}

static struct proc_state *proc_state_of(struct top *t, int pid)
{
	for (size_t i = 0; i < t->npst; i++)
		if (t->pst[i].pid == pid)
			return &t->pst[i];
	t->pst = grow(t->pst, t->npst + 1, sizeof *t->pst);
	memset(&t->pst[t->npst], 0, sizeof *t->pst);
	t->pst[t->npst].pid = pid;
	return &t->pst[t->npst++];
}

static struct tid_state *tid_state_of(struct top *t, int pid, uint32_t tid, int *fresh)
{
	*fresh = 0;
	for (size_t i = 0; i < t->ntids; i++)
		if (t->tids[i].pid == pid && t->tids[i].tid == tid)
			return &t->tids[i];
	t->tids = grow(t->tids, t->ntids + 1, sizeof *t->tids);
	memset(&t->tids[t->ntids], 0, sizeof *t->tids);
	t->tids[t->ntids].pid = pid;
	t->tids[t->ntids].tid = tid;
	*fresh = 1;
	return &t->tids[t->ntids++];
}

/* The site table of one copy: an open-addressing hash on the site id. */
struct site_map {
	uint32_t *ids;
	size_t *slot; /* index in the frame's sites + 1; 0: empty */
	size_t cap;
};

static size_t site_index(struct site_map *m, struct frame *f, int pid,
			 const struct ttlog_site_info *si)
{
	if (m->cap == 0 || f->nsites + 1 > m->cap / 2) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		uint32_t *ids = calloc(cap, sizeof *ids);
		size_t *slot = calloc(cap, sizeof *slot);
		if (!ids || !slot) {
			fputs("ttlog: out of memory\n", stderr);
			exit(CLI_EXIT_DATA);
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slot[i])
				continue;
			size_t h = (m->ids[i] * 2654435761u) & (cap - 1);
			while (slot[h])
				h = (h + 1) & (cap - 1);
			ids[h] = m->ids[i];
			slot[h] = m->slot[i];
		}
		free(m->ids);
		free(m->slot);
		m->ids = ids;
		m->slot = slot;
		m->cap = cap;
	}
	size_t h = (si->id * 2654435761u) & (m->cap - 1);
	while (m->slot[h]) {
		if (m->ids[h] == si->id)
			return m->slot[h] - 1;
		h = (h + 1) & (m->cap - 1);
	}
	f->sites = grow(f->sites, f->nsites + 1, sizeof *f->sites);
	struct top_site *s = &f->sites[f->nsites];
	memset(s, 0, sizeof *s);
	s->pid = pid;
	s->id = si->id;
	s->level = si->level;
	const char *file = si->file ? si->file : "";
	const char *base = strrchr(file, '/');
	struct render_buf w = {0};
	if (si->kind == TTLOG_SITE_KIND_SPAN_END) {
		/* One site of ttlog's ends every span: its events are the
		 * ends of all spans (by name under SPANS). */
		render_buf_puts(&w, "-");
		s->format = safe_dup("(span ends)");
	} else {
		cli_report_text(&w, base ? base + 1 : file);
		render_buf_printf(&w, ":%u", si->line);
		s->format = safe_dup(si->format);
	}
	render_buf_put(&w, "", 1);
	s->where = w.data;
	m->ids[h] = si->id;
	m->slot[h] = ++f->nsites;
	return f->nsites - 1;
}

static struct top_span *span_of(struct frame *f, size_t first, int pid, const char *name)
{
	for (size_t i = first; i < f->nspans; i++)
		if (strcmp(f->spans[i].name, name) == 0)
			return &f->spans[i];
	f->spans = grow(f->spans, f->nspans + 1, sizeof *f->spans);
	struct top_span *s = &f->spans[f->nspans++];
	memset(s, 0, sizeof *s);
	s->pid = pid;
	s->name = safe_dup(name);
	return s;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile pct (1..100) of n sorted values. */
static int64_t quantile(const int64_t *d, size_t n, size_t pct)
{
	size_t rank = (n * pct + 99) / 100;
	return d[rank ? rank - 1 : 0];
}

/* Reads one process's copy into the frame. */
static void collect_process(struct top *t, const struct cli_live_proc *p, struct top_proc *out)
{
	char path[64], err[1024];
	int fd;
	struct frame *f = &t->f;

	if (cli_live_copy(&t->live, p, &fd, path, sizeof path, err, sizeof err) != 0) {
		out->error = safe_dup(err);
		return;
	}
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	if (!r) {
		snprintf(err, sizeof err, "process %d: reading its copy: %s", p->pid, ttlog_strerror(rc));
		out->error = safe_dup(err);
		close(fd);
		return;
	}
	const struct ttlog_file_info *fi = ttlog_reader_info(r);
	out->exe = safe_dup(fi->executable ? fi->executable : "");
	out->dropped = fi->dropped;
	struct proc_state *ps = proc_state_of(t, p->pid);
	double seconds = (double)t->delay_ns / 1e9;
	if (ps->alive && fi->created_ns > ps->created)
		seconds = (double)(fi->created_ns - ps->created) / 1e9;
	/* A thread not seen before counts from the last copy, or (first
	 * refresh) from one interval before this one. */
	int64_t fresh_from = ps->alive ? ps->created : fi->created_ns - t->delay_ns;
	ps->created = fi->created_ns;
	ps->alive = 1;
	out->seconds = seconds;

	size_t nthreads = ttlog_reader_thread_count(r);
	size_t first_thread = f->nthreads;
	f->threads = grow(f->threads, f->nthreads + nthreads + 1, sizeof *f->threads);
	int64_t *from = grow(NULL, nthreads + 1, sizeof *from);
	for (size_t i = 0; i < nthreads; i++) {
		const struct ttlog_thread_info *ti = ttlog_reader_thread(r, i);
		struct top_thread *th = &f->threads[f->nthreads++];
		memset(th, 0, sizeof *th);
		th->pid = p->pid;
		th->tid = ti->tid;
		th->name = safe_dup(ti->name);
		th->overwritten = ti->overwritten;
		th->torn = ti->torn;
		th->exited = ti->exited;
		th->seconds = seconds;
		int fresh;
		struct tid_state *ts = tid_state_of(t, p->pid, ti->tid, &fresh);
		uint64_t gone = ti->overwritten + ti->torn;
		if (fresh || !ts->alive) {
			from[i] = fresh_from;
			/* First seen: which of its losses fell in the interval is
			 * unknown; its OVERWRITTEN column shows them all. */
			th->lost = 0;
		} else {
			from[i] = ts->newest;
			th->lost = gone > ts->gone ? gone - ts->gone : 0;
		}
		ts->gone = gone;
		ts->alive = 2; /* seen now */
		out->lost += th->lost;
	}
	out->threads = nthreads;

	struct site_map map = {0};
	size_t first_span = f->nspans;
	struct ttlog_event ev;
	int64_t *newest = grow(NULL, nthreads + 1, sizeof *newest);
	for (size_t i = 0; i < nthreads; i++)
		newest[i] = from[i];
	while (ttlog_reader_next(r, &ev)) {
		if (!ev.thread || ev.thread->index >= nthreads || !ev.site)
			continue;
		size_t ti = ev.thread->index;
		struct top_thread *th = &f->threads[first_thread + ti];
		th->events++;
		th->bytes += ev.size;
		if (!th->oldest || ev.time_ns < th->oldest)
			th->oldest = ev.time_ns;
		if (ev.time_ns > th->newest)
			th->newest = ev.time_ns;
		if (ev.time_ns <= from[ti])
			continue;
		if (ev.time_ns > newest[ti])
			newest[ti] = ev.time_ns;
		size_t si = site_index(&map, f, p->pid, ev.site); /* may move f->sites */
		struct top_site *s = &f->sites[si];
		s->events++;
		out->events++;
		if (ev.site->level >= TTLOG_LEVEL_ERROR && ev.kind == TTLOG_EVENT_LOG) {
			s->errors++;
			out->errors++;
		}
		if (ev.kind == TTLOG_EVENT_SPAN_END && ev.span && ev.span->duration_ns >= 0 &&
		    ev.span->name && ev.span->name[0]) {
			struct top_span *sp = span_of(f, first_span, p->pid, ev.span->name);
			if (sp->n == sp->cap) {
				sp->cap = sp->cap ? sp->cap * 2 : 64;
				sp->d = grow(sp->d, sp->cap, sizeof *sp->d);
			}
			sp->d[sp->n++] = ev.span->duration_ns;
		}
	}
	for (size_t i = 0; i < f->nsites; i++)
		if (f->sites[i].pid == p->pid)
			f->sites[i].seconds = seconds;
	for (size_t i = first_span; i < f->nspans; i++) {
		struct top_span *sp = &f->spans[i];
		qsort(sp->d, sp->n, sizeof *sp->d, cmp_i64);
		sp->p50 = quantile(sp->d, sp->n, 50);
		sp->p99 = quantile(sp->d, sp->n, 99);
	}
	for (size_t i = 0; i < nthreads; i++) {
		int fresh;
		struct tid_state *ts = tid_state_of(t, p->pid, f->threads[first_thread + i].tid, &fresh);
		ts->newest = newest[i];
	}
	free(newest);
	free(from);
	free(map.ids);
	free(map.slot);
	/* A damaged copy still gave what was valid; the frame says what not. */
	const char *why = ttlog_reader_error(r);
	if (ttlog_reader_status(r) != TTLOG_OK && why && *why && !out->error)
		out->error = safe_dup(why);
	ttlog_reader_close(r);
	close(fd);
}

/* One refresh. Returns 0, or -1 when process PID is gone (PID mode). */
static int collect(struct top *t)
{
	frame_free(&t->f);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	t->f.when_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	if (t->live.all && cli_live_rescan(COMMAND, &t->live) != 0)
		return -2;
	for (size_t i = 0; i < t->ntids; i++)
		if (t->tids[i].alive)
			t->tids[i].alive = 1;
	t->f.procs = grow(NULL, t->live.n + 1, sizeof *t->f.procs);
	for (size_t i = 0; i < t->live.n; i++) {
		struct top_proc *p = &t->f.procs[t->f.nprocs++];
		memset(p, 0, sizeof *p);
		p->pid = t->live.procs[i].pid;
		collect_process(t, &t->live.procs[i], p);
		if (p->error && !p->exe && !cli_live_alive(&t->live.procs[i])) {
			if (!t->live.all)
				return -1;
			/* One of 'all' ended since the directory was listed. */
			free(p->error);
			t->f.nprocs--;
		}
	}
	/* Threads not seen now (exited, or their process gone) start afresh
	 * if they come back (a reused tid is another thread). */
	size_t keep = 0;
	for (size_t i = 0; i < t->ntids; i++)
		if (t->tids[i].alive == 2) {
			t->tids[i].alive = 1;
			t->tids[keep++] = t->tids[i];
		}
	t->ntids = keep;
	for (size_t i = 0; i < t->npst; i++) {
		int seen = 0;
		for (size_t j = 0; j < t->f.nprocs; j++)
			seen |= t->f.procs[j].pid == t->pst[i].pid && !t->f.procs[j].error;
		if (!seen)
			t->pst[i].alive = 0;
	}
	return 0;
}

/* ---- The frame as text ---------------------------------------------------- */

static enum sort_key sorting;

static int by_sort(const void *a, const void *b)
{
	const struct top_site *x = a, *y = b;
	if (sorting == SORT_ERRORS && x->errors != y->errors)
		return x->errors < y->errors ? 1 : -1;
	if (sorting != SORT_SITE) {
		double rx = x->events / x->seconds, ry = y->events / y->seconds;
		if (rx != ry)
			return rx < ry ? 1 : -1;
	}
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	int c = strcmp(x->where, y->where);
	if (c)
		return c;
	return (x->id > y->id) - (x->id < y->id);
}

static int by_p99(const void *a, const void *b)
{
	const struct top_span *x = a, *y = b;
	if (x->p99 != y->p99)
		return x->p99 < y->p99 ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void duration_text(char *buf, size_t size, int64_t ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%" PRId64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.2fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.2fs", (double)ns / 1e9);
}

/* The lines of the frame, each ending in '\n'. max_rows: the terminal's
 * height (0: no limit, batch mode); the tables share what is left. */
static void render(const struct top *t, struct render_buf *out, size_t max_rows)
{
	const struct frame *f = &t->f;
	char when[32];
	time_t secs = (time_t)(f->when_ns / 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	render_buf_printf(out, "ttlog top - %s UTC - every %.1f s - sort: %s - %zu process%s%s\n",
			  when, (double)t->delay_ns / 1e9, sort_names[t->sort], f->nprocs,
			  f->nprocs == 1 ? "" : "es",
			  t->batch ? "" : " - keys: r rate, e errors, s site, q quit");
	size_t rows = 1;
	if (!f->nprocs) {
		render_buf_puts(out, "no process of this user is in shared-memory mode "
				     "(TTLOG_SHARED_MEMORY=1)\n");
		rows++;
	}
	for (size_t i = 0; i < f->nprocs; i++) {
		const struct top_proc *p = &f->procs[i];
		if (p->error && !p->exe)
			render_buf_printf(out, "PID %d  error: %s\n", p->pid, p->error);
		else
			render_buf_printf(out,
					  "PID %d  %s  threads %zu  events/s %.1f  errors/s %.1f  "
					  "lost/s %.1f  dropped %" PRIu64 "%s%s\n",
					  p->pid, p->exe, p->threads, p->events / p->seconds,
					  p->errors / p->seconds, p->lost / p->seconds, p->dropped,
					  p->error ? "  error: " : "", p->error ? p->error : "");
		rows++;
	}
	size_t span_rows = f->nspans, thread_rows = f->nthreads, site_rows = f->nsites;
	if (max_rows) {
		/* Headings: 2 per table, 1 blank before each, 1 for metrics. */
		size_t fixed = rows + 3 * 3 + 1;
		size_t left = max_rows > fixed ? max_rows - fixed : 0;
		if (thread_rows > left / 4)
			thread_rows = left / 4 ? left / 4 : (thread_rows ? 1 : 0);
		if (span_rows > left / 4)
			span_rows = left / 4 ? left / 4 : (span_rows ? 1 : 0);
		left = left > span_rows + thread_rows ? left - span_rows - thread_rows : 0;
		if (site_rows > left)
			site_rows = left;
	}

	sorting = t->sort;
	if (f->nsites > 1)
		qsort(f->sites, f->nsites, sizeof *f->sites, by_sort);
	render_buf_printf(out, "\nSITES (%zu with events in the interval)\n", f->nsites);
	render_buf_printf(out, "%7s %11s %10s  %-5s  %-24s  %s\n", "PID", "EVENTS/S", "ERRORS/S",
			  "LEVEL", "SITE", "FORMAT");
	for (size_t i = 0; i < site_rows; i++) {
		const struct top_site *s = &f->sites[i];
		const char *lv = ttlog_level_name(s->level);
		render_buf_printf(out, "%7d %11.1f %10.1f  %-5s  %-24s  %s\n", s->pid,
				  s->events / s->seconds, s->errors / s->seconds, lv ? lv : "?",
				  s->where, s->format);
	}

	if (f->nspans > 1)
		qsort(f->spans, f->nspans, sizeof *f->spans, by_p99);
	render_buf_printf(out, "\nSPANS (%zu names ended in the interval)\n", f->nspans);
	render_buf_printf(out, "%7s %8s %10s %10s  %s\n", "PID", "COUNT", "P50", "P99", "NAME");
	for (size_t i = 0; i < span_rows; i++) {
		const struct top_span *s = &f->spans[i];
		char p50[32], p99[32];
		duration_text(p50, sizeof p50, s->p50);
		duration_text(p99, sizeof p99, s->p99);
		render_buf_printf(out, "%7d %8zu %10s %10s  %s\n", s->pid, s->n, p50, p99, s->name);
	}

	render_buf_printf(out, "\nTHREADS (%zu)\n", f->nthreads);
	render_buf_printf(out, "%7s %8s %10s %9s %9s %12s %8s %6s  %s\n", "PID", "TID", "EVENTS",
			  "BYTES", "HISTORY", "OVERWRITTEN", "LOST/S", "TORN", "THREAD");
	for (size_t i = 0; i < thread_rows; i++) {
		const struct top_thread *th = &f->threads[i];
		char size[CLI_SIZE_BUF], hist[32];
		duration_text(hist, sizeof hist, th->events ? th->newest - th->oldest : 0);
		render_buf_printf(out, "%7d %8" PRIu32 " %10" PRIu64 " %9s %9s %12" PRIu64
				       " %8.1f %6" PRIu64 "  %s%s\n",
				  th->pid, th->tid, th->events, cli_report_size(th->bytes, size), hist,
				  th->overwritten, th->lost / th->seconds, th->torn, th->name,
				  th->exited ? " (exited)" : "");
	}
	render_buf_puts(out, "\nMETRICS: not shown here: 'ttlog metrics PID' prints them\n");
}

/* ---- The terminal --------------------------------------------------------- */

static volatile sig_atomic_t quit_signal, resized, continued;
static struct termios saved_termios;
static int term_set; /* the terminal is in our mode */

static const char enter_seq[] = "\x1b[?1049h\x1b[?25l";
static const char leave_seq[] = "\x1b[?25h\x1b[?1049l";

/* Runs in signal context (SIGTSTP): tcsetattr and write only. */
static void term_restore(void)
{
	if (!term_set)
		return;
	tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
	ssize_t w = write(STDOUT_FILENO, leave_seq, sizeof leave_seq - 1);
	(void)w;
	term_set = 0;
}

static int term_setup(void)
{
	struct termios raw = saved_termios;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (isatty(STDIN_FILENO) && tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) != 0)
		return -1;
	ssize_t w = write(STDOUT_FILENO, enter_seq, sizeof enter_seq - 1);
	(void)w;
	term_set = 1;
	return 0;
}

static void on_quit(int sig)
{
	quit_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

/* Runs in signal context: restores the terminal, then stops for real. */
static void on_tstp(int sig)
{
	int saved = errno;
	term_restore();
	signal(SIGTSTP, SIG_DFL);
	raise(sig);
	errno = saved;
}

static void on_cont(int sig)
{
	(void)sig;
	continued = 1;
}

static void install(int sig, void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL); /* no SA_RESTART: poll() and nanosleep() end */
}

/* Draws the frame on the terminal: from the top left, each line cleared to
 * its end and cut at the width, the rest of the screen cleared. */
static void draw(const struct top *t)
{
	struct winsize ws = {0};
	size_t rows = 24, cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	struct render_buf text = {0}, screen = {0};
	render(t, &text, rows);
	render_buf_puts(&screen, "\x1b[H");
	size_t line = 0;
	for (size_t i = 0; i < text.len && line < rows;) {
		const char *s = text.data + i;
		const char *nl = memchr(s, '\n', text.len - i);
		size_t len = nl ? (size_t)(nl - s) : text.len - i;
		size_t cut = 0, width = 0;
		while (cut < len && (width < cols || ((unsigned char)s[cut] & 0xC0) == 0x80)) {
			if (((unsigned char)s[cut] & 0xC0) != 0x80) {
				if (width == cols)
					break;
				width++;
			}
			cut++;
		}
		render_buf_put(&screen, s, cut);
		render_buf_puts(&screen, "\x1b[K");
		i += len + 1;
		if (++line < rows && i < text.len)
			render_buf_puts(&screen, "\r\n");
	}
	render_buf_puts(&screen, "\x1b[J");
	fwrite(screen.data, 1, screen.len, stdout);
	fflush(stdout);
	render_buf_free(&text);
	render_buf_free(&screen);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits until deadline, handling keys and signals. 1: quit. */
static int wait_keys(struct top *t, int64_t deadline)
{
	for (;;) {
		if (quit_signal)
			return 1;
		if (continued) {
			continued = 0;
			install(SIGTSTP, on_tstp);
			term_setup();
			draw(t);
		}
		if (resized) {
			resized = 0;
			draw(t);
		}
		int64_t left = deadline - mono_ns();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		int n = poll(&pfd, isatty(STDIN_FILENO) ? 1 : 0, (int)((left + 999999) / 1000000));
		if (n <= 0)
			continue;
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			return 1;
		char c;
		if (read(STDIN_FILENO, &c, 1) != 1)
			return 1;
		enum sort_key was = t->sort;
		if (c == 'q' || c == 'Q')
			return 1;
		if (c == 'r')
			t->sort = SORT_RATE;
		else if (c == 'e')
			t->sort = SORT_ERRORS;
		else if (c == 's')
			t->sort = SORT_SITE;
		if (t->sort != was || c == ' ' || c == '\f')
			draw(t);
	}
}

/* ---- The command ---------------------------------------------------------- */

enum { OPT_SHM_DIR = 256 };

static const struct option long_options[] = {
	{"delay", required_argument, NULL, 'd'},
	{"batch", no_argument, NULL, 'b'},
	{"iterations", required_argument, NULL, 'n'},
	{"sort", required_argument, NULL, 's'},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* SECS as a decimal number of seconds, or a duration with a unit. */
static int parse_delay(const char *text, int64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (end != text && !*end && errno == 0) {
		if (!(v >= 0.1 && v <= 3600))
			return -1;
		*ns = (int64_t)(v * 1e9 + 0.5);
		return 0;
	}
	const char *why;
	if (cli_duration_parse(text, ns, &why) != 0 || *ns < 100000000 ||
	    *ns > (int64_t)3600 * 1000000000)
		return -1;
	return 0;
}

int cli_top_main(int argc, char **argv)
{
	struct top t;
	const char *shm_dir = NULL;
	int c;

	memset(&t, 0, sizeof t);
	t.delay_ns = 1000000000;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_delay(optarg, &t.delay_ns) != 0)
				return cli_report_usage_error(COMMAND, "-d '%s': expected seconds from "
								       "0.1 to 3600 (as in 1, 0.5, 2s, 500ms)",
							      optarg);
			break;
		case 'b':
			t.batch = 1;
			break;
		case 'n':
			if (cli_parse_count(optarg, 1, 1000000000, &t.iterations) != 0)
				return cli_report_usage_error(COMMAND, "-n '%s': expected a number of "
								       "frames from 1", optarg);
			break;
		case 's': {
			size_t k;
			for (k = 0; k < sizeof sort_names / sizeof sort_names[0]; k++)
				if (strcmp(optarg, sort_names[k]) == 0)
					break;
			if (k == sizeof sort_names / sizeof sort_names[0])
				return cli_report_usage_error(COMMAND, "--sort '%s': expected rate, "
								       "errors or site", optarg);
			t.sort = (enum sort_key)k;
			break;
		}
		case OPT_SHM_DIR:
			if (!*optarg)
				return cli_report_usage_error(COMMAND, "--shm-dir needs a directory, not ''");
			shm_dir = optarg;
			break;
		case 'h':
			cli_top_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
		}
	}
	if (argc - optind > 1)
		return cli_report_usage_error(COMMAND, "expected at most one PID or 'all' (got %d "
						       "arguments)", argc - optind);
	if (!t.batch && !isatty(STDOUT_FILENO))
		return cli_report_usage_error(COMMAND, "the output is not a terminal: use -b for "
						       "plain text frames");
	int status = cli_live_find(COMMAND, optind < argc ? argv[optind] : "all", shm_dir, &t.live);
	if (status != 0)
		return status;

	install(SIGINT, on_quit);
	install(SIGTERM, on_quit);
	install(SIGHUP, on_quit);
	if (!t.batch) {
		if (isatty(STDIN_FILENO))
			tcgetattr(STDIN_FILENO, &saved_termios);
		install(SIGWINCH, on_winch);
		install(SIGTSTP, on_tstp);
		install(SIGCONT, on_cont);
		if (term_setup() != 0) {
			cli_report_error(COMMAND, "cannot set up the terminal: %s", strerror(errno));
			cli_live_free(&t.live);
			return CLI_EXIT_DATA;
		}
	}
	int gone_pid = 0;
	char error[1200] = "";
	for (unsigned long frames = 0; !quit_signal;) {
		int64_t start = mono_ns();
		int rc = collect(&t);
		if (rc == -1) {
			gone_pid = t.live.procs[0].pid;
			break;
		}
		if (rc == -2) {
			snprintf(error, sizeof error, "cannot list the processes");
			break;
		}
		if (!t.live.all && t.f.nprocs == 1 && t.f.procs[0].error && !t.f.procs[0].exe) {
			snprintf(error, sizeof error, "%s", t.f.procs[0].error);
			break;
		}
		if (t.batch) {
			struct render_buf b = {0};
			render(&t, &b, 0);
			render_buf_puts(&b, "\n");
			fwrite(b.data, 1, b.len, stdout);
			render_buf_free(&b);
			fflush(stdout);
			if (cli_stdout_failed())
				break;
		} else {
			draw(&t);
		}
		if (t.iterations && ++frames >= t.iterations)
			break;
		int64_t deadline = start + t.delay_ns;
		if (t.batch) {
			int64_t left;
			while (!quit_signal && (left = deadline - mono_ns()) > 0) {
				struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
				nanosleep(&ts, NULL);
			}
		} else if (wait_keys(&t, deadline)) {
			break;
		}
	}
	if (!t.batch)
		term_restore();
	frame_free(&t.f);
	cli_live_free(&t.live);
	free(t.tids);
	free(t.pst);
	if (quit_signal) {
		/* Ended by a signal: say so the usual way, by dying of it now
		 * that the terminal is restored. */
		fflush(stdout);
		signal(quit_signal, SIG_DFL);
		raise(quit_signal);
	}
	if (gone_pid) {
		cli_report_error(COMMAND, "process %d has ended", gone_pid);
		return CLI_EXIT_OK;
	}
	if (error[0]) {
		cli_report_error(COMMAND, "%s", error);
		return CLI_EXIT_DATA;
	}
	return CLI_EXIT_OK;
}
