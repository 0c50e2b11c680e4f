/* SPDX-License-Identifier: MIT */
/*
 * ship.c - the run of `ttlog ship` (see ship.h), whatever the destination:
 * a sink (sink.h) makes and sends what its server takes.
 *
 * The sources are read as one store (ttlog_store_open): events in time
 * order, a record that two files of a process hold returned once, and the
 * files of a process on one clock calibration, so that every copy of a
 * record gets the same time and so the same place in the tables. Each
 * event comes with the file it was read from; that file's cursor says
 * whether the server has it already (then it is passed over), else it
 * is handed to the sink. A batch is sent when it holds batch_rows events
 * and when the store has no more events: each of the sink's parts in one
 * request, then the cursor of every file with events in the batch is
 * saved. So a cursor never claims events the server did not acknowledge;
 * events the server took whose cursor was not saved (a kill in between)
 * are sent again by the next run (ClickHouse's rows collapse by their id).
 *
 * Metrics and the crash record of a file are shipped once the file is
 * complete (a snapshot, or a segment that was closed), with the batch
 * after its last event.
 *
 * Following (--follow), the store waits for its files to grow and for new
 * ones (ttlog_store_follow, inotify) until SIGINT or SIGTERM. A batch the
 * server cannot take because it is away or busy (no connection, 429, 502,
 * 503, 504) is tried again after the wait the server asked for
 * (Retry-After), else with a backoff from 0.5 s to 30 s, as long as it takes;
 * without --follow it is tried `retries` times more. Local files are only
 * ever read.
 */
#include "ship/ship.h"

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <dirent.h>

#include "ship/cursor.h"
#include "ship/http.h"
#include "ship/rows.h"
#include "ship/sink.h"

struct source_file {
	char *path;
	struct ship_cursor cur;  /* what was sent (saved once acknowledged) */
	struct ship_cursor seen; /* the last event read of each thread (its rank) */
	struct ship_file_rows rows; /* what its rows share */
	int loaded;              /* cur was read from its file */
	int dirty;               /* cur changed since it was saved */
	int warned;              /* its damage was reported in this run */
};

struct shipper {
	const struct ship_options *opt;
	struct ship_totals *tot;
	struct ship_sink *sink;
	char *state_dir;
	uint64_t pending;        /* events in the batch */
	struct source_file **files;
	size_t nfiles, capfiles;
	struct source_file **slots; /* hash table of files by path */
	size_t nslots;
	int damaged;             /* some file had damage: exit SHIP_FAILED at the end */
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void sleep_ms(unsigned ms)
{
	/* In steps, so that a stop request is seen within 100 ms. */
	while (ms && !stop_requested) {
		unsigned step = ms > 100 ? 100 : ms;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static void error(const char *what, const struct render_buf *err)
{
	fprintf(stderr, "ttlog ship: %s%s%s\n", what, err && err->len ? ": " : "",
		err && err->len ? err->data : "");
}

/* ---- Sources ----------------------------------------------------------- */

static struct source_file *find_file(struct shipper *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i]->path, path) == 0)
			return s->files[i];
	if (s->nfiles == s->capfiles) {
		s->capfiles = s->capfiles ? 2 * s->capfiles : 64;
		s->files = render_xrealloc(s->files, s->capfiles * sizeof *s->files);
	}
	struct source_file *f = render_xrealloc(NULL, sizeof *f);
	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	if (!f->path) {
		fprintf(stderr, "ttlog ship: out of memory\n");
		exit(SHIP_FAILED);
	}
	s->files[s->nfiles++] = f;
	return f;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	return n > k && strcmp(name + n - k, suffix) == 0;
}

/* The files of one source, in name order, appended to *list. Returns 0, or
 * -1 when the source names nothing (said on stderr). */
static int list_source(const char *src, char ***list, size_t *n, size_t *cap)
{
	struct stat st;
	size_t first = *n;
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(src);
		if (!d) {
			fprintf(stderr, "ttlog ship: %s: %s\n", src, strerror(errno));
			return -1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' || !(has_suffix(e->d_name, ".ttseg") || has_suffix(e->d_name, ".ttlog")))
				continue;
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 64;
				*list = render_xrealloc(*list, *cap * sizeof **list);
			}
			struct render_buf p = {0};
			render_buf_printf(&p, "%s/%s", src, e->d_name);
			(*list)[(*n)++] = p.data;
		}
		closedir(d);
	} else if (stat(src, &st) == 0) {
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*list = render_xrealloc(*list, *cap * sizeof **list);
		}
		(*list)[(*n)++] = strdup(src);
	} else if (strpbrk(src, "*?[")) {
		glob_t g;
		if (glob(src, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				if (*n == *cap) {
					*cap = *cap ? 2 * *cap : 64;
					*list = render_xrealloc(*list, *cap * sizeof **list);
				}
				(*list)[(*n)++] = strdup(g.gl_pathv[i]);
			}
		}
		globfree(&g);
		if (*n == first) {
			fprintf(stderr, "ttlog ship: %s: no file matches\n", src);
			return -1;
		}
	} else {
		fprintf(stderr, "ttlog ship: %s: %s\n", src, strerror(errno));
		return -1;
	}
	qsort(*list + first, *n - first, sizeof **list, name_cmp);
	return 0;
}

/* ---- Batches ----------------------------------------------------------- */

/* Sends every part of the batch and saves the cursors of the files in it.
 * Returns 0, or -1 when a batch could not be delivered (said on stderr). */
static int flush(struct shipper *s)
{
	struct render_buf err = {0}, what = {0};
	const struct ship_sink_ops *ops = s->sink->ops;
	for (int part = 0; part < ops->nparts; part++) {
		if (!ops->pending(s->sink, part))
			continue;
		unsigned backoff = 500, attempt = 0;
		for (;;) {
			render_buf_reset(&err);
			render_buf_reset(&what);
			unsigned retry_after = 0;
			int rc = ops->send(s->sink, part, s->tot, &what, &err, &retry_after);
			if (rc == SHIP_HTTP_OK)
				break;
			if (rc == SHIP_HTTP_FAILED) {
				error(what.data, &err);
				render_buf_free(&what);
				render_buf_free(&err);
				return -1;
			}
			attempt++;
			if ((!s->opt->follow && attempt > s->opt->retries) || stop_requested) {
				render_buf_puts(&err, stop_requested ? "; stopped: the next run ships these rows"
								     : "; the next run ships these rows");
				error(what.data, &err);
				render_buf_free(&what);
				render_buf_free(&err);
				return -1;
			}
			/* The server's wait, when it asked for one (bounded: an hour),
			 * else the backoff. */
			unsigned wait = backoff;
			if (retry_after)
				wait = (retry_after > 3600 ? 3600 : retry_after) * 1000u;
			render_buf_printf(&what, " (try %u)", attempt);
			render_buf_printf(&err, "; trying again in %.1f s%s", wait / 1000.0,
					  retry_after ? " (Retry-After)" : "");
			error(what.data, &err);
			s->tot->retries++;
			sleep_ms(wait);
			if (!retry_after)
				backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
		}
		s->tot->batches++;
	}
	render_buf_free(&what);
	s->pending = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct source_file *f = s->files[i];
		if (!f->dirty)
			continue;
		render_buf_reset(&err);
		if (ship_cursor_save(&f->cur, f->path, &err) != 0) {
			error("saving a cursor", &err);
			render_buf_free(&err);
			return -1;
		}
		f->dirty = 0;
	}
	render_buf_free(&err);
	return 0;
}

/* ---- Events ------------------------------------------------------------ */

static uint64_t path_hash(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h;
}

/* The state of the file an event comes from (found through a hash table of
 * paths: events of many files interleave). Returns NULL when its cursor
 * cannot be read (said on stderr). */
static struct source_file *file_of(struct shipper *s, const char *path)
{
	if (s->nslots == 0 || 2 * (s->nfiles + 1) > s->nslots) {
		size_t n = s->nslots ? 2 * s->nslots : 256;
		free(s->slots);
		s->slots = render_xrealloc(NULL, n * sizeof *s->slots);
		memset(s->slots, 0, n * sizeof *s->slots);
		s->nslots = n;
		for (size_t i = 0; i < s->nfiles; i++) {
			size_t k = path_hash(s->files[i]->path) & (n - 1);
			while (s->slots[k])
				k = (k + 1) & (n - 1);
			s->slots[k] = s->files[i];
		}
	}
	size_t k = path_hash(path) & (s->nslots - 1);
	for (; s->slots[k]; k = (k + 1) & (s->nslots - 1))
		if (strcmp(s->slots[k]->path, path) == 0)
			return s->slots[k];
	struct source_file *f = find_file(s, path);
	s->slots[k] = f;
	struct render_buf err = {0};
	f->cur.path = ship_cursor_path(s->state_dir, f->path, s->opt->url, s->sink->cursor_key);
	if (ship_cursor_load(&f->cur, &err) != 0) {
		error("reading a cursor", &err);
		render_buf_free(&err);
		return NULL;
	}
	f->loaded = 1;
	return f;
}

/* Whether (ticks, rank) is at or before p. */
static int acknowledged(const struct ship_pos *p, uint64_t ticks, uint32_t rank)
{
	return p->have && (ticks < p->ticks || (ticks == p->ticks && rank <= p->rank));
}

/* Adds an event to the batch unless the file's cursor has it; sends the
 * batch when full. Returns 0, or -1 when a batch could not be delivered. */
static int add_event(struct shipper *s, const struct ttlog_event *ev, const struct ttlog_store_file *from)
{
	struct source_file *f = file_of(s, from->path);
	if (!f)
		return -1;
	const struct ttlog_file_info *info = ttlog_reader_info(from->reader);
	if (f->rows.info != info) {
		f->rows.info = info;
		f->rows.source = f->path;
		ship_rows_start(&f->rows);
	}
	size_t t = ev->thread ? ev->thread->index : 0;
	struct ship_pos *last = ship_cursor_thread(&f->seen, t);
	uint32_t rank = last->have && last->ticks == ev->ticks ? last->rank + 1 : 0;
	last->have = 1;
	last->ticks = ev->ticks;
	last->rank = rank;
	struct ship_pos *p = ship_cursor_thread(&f->cur, t);
	int promoted = (ev->flags & TTLOG_EVENT_PROMOTED) != 0;
	if (acknowledged(p, ev->ticks, rank) && !promoted) {
		s->tot->skipped++;
		return 0;
	}
	uint64_t id = ship_event_id(&f->rows, ev, rank);
	s->sink->ops->event(s->sink, &f->rows, ev, id);
	s->pending++;
	/* A promoted event placed before the cursor's point is sent again (it
	 * may be new; its id makes a second copy collapse); the point itself
	 * only moves forward. */
	if (!acknowledged(p, ev->ticks, rank)) {
		p->ticks = ev->ticks;
		p->rank = rank;
		p->have = 1;
	}
	f->dirty = 1;
	if (s->pending >= s->opt->batch_rows)
		return flush(s);
	return 0;
}

/* After the store's events: each file that is complete (a snapshot, or a
 * segment that was closed) gets its metrics and crash rows once, read
 * again lazily (no block is decoded); each file's damage is said once. */
static void finish_files(struct shipper *s, ttlog_store *store)
{
	const struct ttlog_store_file *const *files;
	size_t n = ttlog_store_files(store, &files);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_store_file *sf = files[i];
		if (sf->skipped)
			continue;
		struct source_file *f = file_of(s, sf->path);
		if (!f)
			continue;
		/* While following, a file may be seen between its creation and
		 * its header (0 bytes): its damage is judged when following
		 * stops, by then the store has read it again. */
		int judge = !s->opt->follow || stop_requested;
		if (sf->status != TTLOG_OK && !f->warned && judge) {
			fprintf(stderr, "ttlog ship: %s (its valid events were shipped)\n",
				sf->error ? sf->error : ttlog_strerror(sf->status));
			f->warned = 1;
			s->damaged = 1;
			s->tot->damaged++;
		}
		if (!sf->reader || f->cur.extras)
			continue;
		const struct ttlog_file_info *info = ttlog_reader_info(sf->reader);
		if (!info || !(info->complete || !info->is_segment))
			continue;
		ttlog_reader *r = NULL;
		ttlog_reader_open_ex(sf->path, TTLOG_READER_LAZY, &r);
		if (r) {
			struct ship_file_rows rows = {.info = ttlog_reader_info(r), .source = f->path};
			ship_rows_start(&rows);
			struct render_buf summary = {0}, stack = {0};
			if (rows.info->crashed) {
				if (s->opt->crash_text)
					s->opt->crash_text(s->opt->text_arg, rows.info, &summary);
				if (s->opt->stack_text)
					s->opt->stack_text(s->opt->text_arg, r, &stack);
			}
			s->sink->ops->extras(s->sink, &rows, r, summary.data ? summary.data : "",
					     stack.data ? stack.data : "");
			render_buf_free(&summary);
			render_buf_free(&stack);
			ship_rows_free(&rows);
			ttlog_reader_close(r);
		}
		f->cur.extras = 1;
		f->cur.done = 1;
		f->dirty = 1;
	}
}

/* ---- The run ----------------------------------------------------------- */

static int make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*q = '/';
	}
	int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static char *default_state_dir(void)
{
	struct render_buf b = {0};
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg == '/')
		render_buf_printf(&b, "%s/ttlog/ship", xdg);
	else if (home && *home)
		render_buf_printf(&b, "%s/.local/state/ttlog/ship", home);
	else
		render_buf_puts(&b, ".ttlog-ship");
	return b.data;
}

/* Checks that every source names something (a directory, a file, or a
 * pattern that matches). Returns 0, or SHIP_USAGE (said on stderr). */
static int check_sources(const struct ship_options *opt)
{
	char **list = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < opt->nsources; i++)
		if (list_source(opt->sources[i], &list, &n, &cap) != 0)
			rc = SHIP_USAGE;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* Ships the store: its events, then each pass of following. Returns
 * SHIP_OK or SHIP_FAILED. */
static int ship_store(struct shipper *s, ttlog_store *store)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	for (;;) {
		while (ttlog_store_next(store, &ev, &from))
			if (add_event(s, &ev, from) != 0)
				return SHIP_FAILED;
		finish_files(s, store);
		if (flush(s) != 0)
			return SHIP_FAILED;
		if (!s->opt->follow || stop_requested)
			return SHIP_OK;
		int rc = ttlog_store_follow(store, (int)s->opt->interval_ms);
		if (rc < 0 && !stop_requested) {
			fprintf(stderr, "ttlog ship: cannot follow: %s\n", ttlog_strerror(-rc));
			return SHIP_FAILED;
		}
		/* A stop request ends following after one more round: what the
		 * files gained meanwhile is shipped first. */
		if (stop_requested) {
			while (ttlog_store_next(store, &ev, &from))
				if (add_event(s, &ev, from) != 0)
					return SHIP_FAILED;
			finish_files(s, store);
			return flush(s) == 0 ? SHIP_OK : SHIP_FAILED;
		}
	}
}

int ship_run(const struct ship_options *opt, struct ship_sink *sink, struct ship_totals *totals)
{
	struct shipper s = {.opt = opt, .tot = totals, .sink = sink};
	s.state_dir = opt->state_dir ? strdup(opt->state_dir) : default_state_dir();
	if (!s.state_dir || make_dirs(s.state_dir) != 0) {
		fprintf(stderr, "ttlog ship: state directory %s: %s\n", s.state_dir ? s.state_dir : "?",
			strerror(errno));
		free(s.state_dir);
		sink->ops->close(sink);
		return SHIP_FAILED;
	}

	struct sigaction sa, old_int, old_term;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	stop_requested = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	int rc = check_sources(opt);
	if (rc == SHIP_OK && sink->ops->prepare && sink->ops->prepare(sink) != 0)
		rc = SHIP_FAILED;
	if (rc == SHIP_OK) {
		ttlog_store *store = NULL;
		int st = ttlog_store_open(opt->sources, opt->nsources, NULL, &store);
		if (!store) {
			fprintf(stderr, "ttlog ship: %s\n", ttlog_strerror(st));
			rc = SHIP_FAILED;
		} else {
			rc = ship_store(&s, store);
			totals->files = ttlog_store_files(store, NULL);
			ttlog_store_close(store);
		}
	}
	if (rc == SHIP_OK && s.damaged)
		rc = SHIP_FAILED;

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	for (size_t i = 0; i < s.nfiles; i++) {
		ship_cursor_free(&s.files[i]->cur);
		ship_cursor_free(&s.files[i]->seen);
		ship_rows_free(&s.files[i]->rows);
		free(s.files[i]->path);
		free(s.files[i]);
	}
	free(s.files);
	free(s.slots);
	free(s.state_dir);
	totals->bytes = sink->ops->bytes_sent(sink);
	sink->ops->close(sink);
	return rc;
}

static int start(const struct ship_options *opt, struct ship_totals *totals,
		 struct ship_sink *(*make)(const struct ship_options *, struct render_buf *))
{
	memset(totals, 0, sizeof *totals);
	struct render_buf err = {0};
	struct ship_sink *sink = make(opt, &err);
	if (!sink) {
		error(opt->url_option, &err);
		render_buf_free(&err);
		return SHIP_USAGE;
	}
	render_buf_free(&err);
	return ship_run(opt, sink, totals);
}

int ship_clickhouse(const struct ship_options *opt, struct ship_totals *totals)
{
	return start(opt, totals, ship_clickhouse_sink);
}

int ship_otlp(const struct ship_options *opt, struct ship_totals *totals)
{
	return start(opt, totals, ship_otlp_sink);
}
