/* SPDX-License-Identifier: MIT */
/*
 * grouped.c - the grouped scan of events: a statement that reads only
 * columns an event takes from its call site and its file (level,
 * level_num, kind, target, file, line, func, site, snapshot, service,
 * pid) and groups by some of them (GROUP BY level) gets its rows already
 * grouped, so that SQLite needs no sorter. (A DISTINCT is left alone: its
 * rows come out in the order of the scan.)
 *
 * Such a row is the same for every event with the same file, record site
 * and shown site (a span end shows where its span began), so the scan
 * counts the events of each (file, site, shown site) first, each file on
 * a thread of its own (as many at once as there are CPUs), then hands out
 * each count's rows one after the other, in the order of the grouped
 * columns as SQLite compares them (NULL, then integers, then text by
 * bytes; DESC reversed), ties by file and site. The rows are the ones a
 * plain scan gives, in another order; their number is the same.
 *
 * The count reads the events without their arguments
 * (TTLOG_READER_NO_ARGS): a row needs the record's site and the shown
 * site, which the spans followed as usual give.
 *
 * The rows need a file's sites and info, not its bytes: each reader
 * releases them (ttlog_reader_release) as soon as its file is counted, so
 * that the next file read on that thread takes the same memory instead of
 * fresh pages that the kernel must clear; the files' bytes are held one
 * per counting thread, not all at once. A later scan of the cursor (an IN
 * list runs one per value) opens the files again.
 *
 * The plan (module.c) writes the grouped columns after a '/' in idxStr:
 * one letter per column ('A' + column number), followed by '-' when
 * descending.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query/vtab.h"

/* One (file, site, shown site) with its events. */
struct query_group {
	int file;
	const struct ttlog_site_info *site;  /* the record's */
	const struct ttlog_site_info *shown; /* ttlog_event_display_site() */
	int kind;                            /* enum ttlog_event_kind */
	uint64_t events;
};

/* A file's counts, kept in a small open-addressing table. */
struct file_tally {
	struct query_group *slots;
	size_t cap, count;
	int rc; /* SQLITE_OK, or why the file could not be counted */
};

static size_t pair_hash(const void *a, const void *b, size_t cap)
{
	uint64_t k = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)b;
	k ^= k >> 31;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static struct query_group *tally_slot(struct query_group *slots, size_t cap,
				      const struct ttlog_site_info *site,
				      const struct ttlog_site_info *shown)
{
	size_t i = pair_hash(site, shown, cap);
	while (slots[i].site && (slots[i].site != site || slots[i].shown != shown))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Keeps the load under a half. */
static int tally_grow(struct file_tally *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct query_group *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return SQLITE_NOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].site)
			*tally_slot(slots, cap, t->slots[i].site, t->slots[i].shown) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return SQLITE_OK;
}

/* Counts the events of one file by (site, shown site). */
static int tally_file(ttlog_reader *r, int file, struct file_tally *t)
{
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		if (2 * (t->count + 1) > t->cap && tally_grow(t) != SQLITE_OK)
			return SQLITE_NOMEM;
		const struct ttlog_site_info *shown = ttlog_event_display_site(&ev);
		struct query_group *g = tally_slot(t->slots, t->cap, ev.site, shown);
		if (!g->site) {
			g->file = file;
			g->site = ev.site;
			g->shown = shown;
			g->kind = ev.kind;
			t->count++;
		}
		g->events++;
	}
	return SQLITE_OK;
}

/* What the counting threads share. */
struct tally_job {
	struct query_cursor *c;
	struct file_tally *tallies;
	atomic_int next; /* the next file to count */
};

/* Opens (or rewinds) file f's reader with the scan's range, and counts. */
static void count_file(struct tally_job *job, int f)
{
	struct query_cursor *c = job->c;
	ttlog_reader **slot = &c->readers[f];
	if (!*slot) {
		/* As enter_file() in cursor.c: a reader is left unless memory
		 * ran out; the file's problem is noted afterwards. */
		int st = ttlog_reader_open_ex(c->vt->files[f],
					      TTLOG_READER_LAZY | TTLOG_READER_NO_ARGS, slot);
		if (!*slot) {
			job->tallies[f].rc = st == TTLOG_E_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
			return;
		}
	}
	ttlog_reader_set_range(*slot, c->range.since_ns, c->range.until_ns, c->range.level_mask);
	ttlog_reader_rewind(*slot);
	job->tallies[f].rc = tally_file(*slot, f, &job->tallies[f]);
	/* The rows need the file's sites and info, not its bytes: freed
	 * now, the next file read on this thread reuses the memory. */
	ttlog_reader_release(*slot);
}

static void *count_files(void *arg)
{
	struct tally_job *job = arg;
	for (int f; (f = atomic_fetch_add(&job->next, 1)) < job->c->vt->nfiles;)
		count_file(job, f);
	return NULL;
}

/* Counts every file, on up to one thread per CPU. */
static void count_all(struct tally_job *job)
{
	int nfiles = job->c->vt->nfiles;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int helpers = (int)(cpus > 1 ? cpus - 1 : 0);
	if (helpers > nfiles - 1)
		helpers = nfiles - 1;
	if (helpers > 63)
		helpers = 63;
	pthread_t threads[63];
	int started = 0;
	while (started < helpers && pthread_create(&threads[started], NULL, count_files, job) == 0)
		started++;
	count_files(job); /* this thread counts too; alone if no thread started */
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* ---- The order of the groups ---------------------------------------------- */

/* A column's value as SQLite compares it: type 0 NULL, 1 integer, 3 text. */
struct group_value {
	int type;
	int64_t i;
	const char *s;
};

static struct group_value value_of(const struct query_cursor *c, const struct query_group *g,
				   int col)
{
	struct group_value v = {0, 0, NULL};
	const struct ttlog_site_info *shown = g->shown;
	const char *text = NULL;
	switch (col) {
	case QUERY_EVENTS_LEVEL: text = shown ? query_level_name(shown->level) : NULL; break;
	case QUERY_EVENTS_LEVEL_NUM:
		if (shown) {
			v.type = 1;
			v.i = shown->level;
		}
		return v;
	case QUERY_EVENTS_KIND: text = ttlog_event_kind_name(g->kind); break;
	case QUERY_EVENTS_TARGET: text = ttlog_site_target(shown); break;
	case QUERY_EVENTS_FILE: text = shown ? shown->file : NULL; break;
	case QUERY_EVENTS_LINE:
		if (shown) {
			v.type = 1;
			v.i = shown->line;
		}
		return v;
	case QUERY_EVENTS_FUNC: text = shown ? shown->function : NULL; break;
	case QUERY_EVENTS_SITE:
		if (g->site) {
			v.type = 1;
			v.i = g->site->id;
		}
		return v;
	case QUERY_EVENTS_SNAPSHOT: text = c->vt->files[g->file]; break;
	case QUERY_EVENTS_SERVICE: text = ttlog_reader_info(c->readers[g->file])->service; break;
	case QUERY_EVENTS_PID:
		v.type = 1;
		v.i = ttlog_reader_info(c->readers[g->file])->pid;
		return v;
	default: return v;
	}
	if (text) {
		v.type = 3;
		v.s = text;
	}
	return v;
}

static int value_cmp(struct group_value a, struct group_value b)
{
	if (a.type != b.type)
		return a.type < b.type ? -1 : 1;
	if (a.type == 1)
		return a.i < b.i ? -1 : a.i > b.i;
	if (a.type == 3)
		return strcmp(a.s, b.s); /* BINARY: bytes, as unsigned char */
	return 0;
}

/* qsort() has no context argument: the sort runs on one thread at a time
 * per cursor, and the cursor being sorted is passed through this. */
static _Thread_local const struct query_cursor *sorting;

static int group_cmp(const void *pa, const void *pb)
{
	const struct query_group *a = pa, *b = pb;
	const char *spec = sorting->group_spec;
	for (size_t i = 0; spec[i]; i++) {
		if (spec[i] == '-')
			continue;
		int col = spec[i] - 'A';
		int d = value_cmp(value_of(sorting, a, col), value_of(sorting, b, col));
		if (spec[i + 1] == '-')
			d = -d;
		if (d)
			return d;
	}
	if (a->file != b->file)
		return a->file < b->file ? -1 : 1;
	if (a->site->id != b->site->id)
		return a->site->id < b->site->id ? -1 : 1;
	uint32_t x = a->shown ? a->shown->id : 0, y = b->shown ? b->shown->id : 0;
	return x < y ? -1 : x > y;
}

/* ---- The scan --------------------------------------------------------------- */

int query_grouped_start(struct query_cursor *c, const char *spec)
{
	struct query_vtab *vt = c->vt;
	int nfiles = vt->nfiles;
	int rc = SQLITE_OK;

	query_grouped_clear(c);
	size_t len = strlen(spec);
	if (len >= sizeof c->group_spec)
		return SQLITE_ERROR; /* the plan writes at most 2 per column */
	memcpy(c->group_spec, spec, len + 1);

	struct tally_job job = {.c = c, .tallies = calloc((size_t)nfiles, sizeof *job.tallies)};
	if (!job.tallies)
		return SQLITE_NOMEM;
	atomic_init(&job.next, 0);
	for (int f = 0; f < nfiles; f++)
		query_cursor_reopen_released(c, f); /* counted before: read again */
	count_all(&job);

	size_t total = 0;
	for (int f = 0; f < nfiles; f++) {
		struct file_tally *t = &job.tallies[f];
		if (rc == SQLITE_OK)
			rc = t->rc;
		if (rc != SQLITE_OK)
			continue;
		vt->context->totals.scans++;
		if (c->range.since_ns != INT64_MIN || c->range.until_ns != INT64_MAX ||
		    c->range.level_mask != TTLOG_READER_ALL_LEVELS)
			vt->context->totals.ranged_scans++;
		c->r = c->readers[f];
		rc = query_cursor_note_status(c, vt->files[f]);
		c->r = NULL;
		total += t->count;
	}
	if (rc == SQLITE_OK && total) {
		c->groups = malloc(total * sizeof *c->groups);
		if (!c->groups)
			rc = SQLITE_NOMEM;
	}
	for (int f = 0; f < nfiles; f++) {
		struct file_tally *t = &job.tallies[f];
		for (size_t i = 0; rc == SQLITE_OK && i < t->cap; i++)
			if (t->slots[i].site)
				c->groups[c->ngroups++] = t->slots[i];
		free(t->slots);
	}
	free(job.tallies);
	if (rc != SQLITE_OK) {
		query_grouped_clear(c);
		return rc;
	}
	sorting = c;
	qsort(c->groups, c->ngroups, sizeof *c->groups, group_cmp);
	sorting = NULL;
	c->group = 0;
	c->group_left = c->ngroups ? c->groups[0].events : 0;
	return query_grouped_next(c, 0);
}

int query_grouped_next(struct query_cursor *c, int step)
{
	/* The rows of a group are alike: the next one changes the rowid only. */
	if (step && c->group_left > 1) {
		c->group_left--;
		c->rowid++;
		return SQLITE_OK;
	}
	if (step && c->group_left)
		c->group_left--;
	while (c->group < c->ngroups && c->group_left == 0) {
		if (++c->group < c->ngroups)
			c->group_left = c->groups[c->group].events;
	}
	if (c->group >= c->ngroups) {
		c->eof = 1;
		c->r = NULL;
		return SQLITE_OK;
	}
	const struct query_group *g = &c->groups[c->group];
	c->file = g->file;
	c->r = c->readers[g->file];
	memset(&c->ev, 0, sizeof c->ev);
	c->ev.site = g->site;
	c->ev.kind = g->kind;
	c->shown = g->shown;
	c->rowid++;
	return SQLITE_OK;
}

void query_grouped_clear(struct query_cursor *c)
{
	free(c->groups);
	c->groups = NULL;
	c->ngroups = c->group = 0;
	c->group_left = 0;
	c->shown = NULL;
}
