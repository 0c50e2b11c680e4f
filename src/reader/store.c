/* SPDX-License-Identifier: MIT */
/*
 * store.c - a store (ttlog_reader.h, "Stores"): the files of directories,
 * glob patterns and file names read as one time-ordered stream of events.
 *
 * Each file has its own reader and holds its next event; the files are
 * merged by a binary min-heap on (time, file number). A record in two
 * files (a snapshot and a segment of the same process) is returned once:
 * an event equal to one another file gave at the same time is left out
 * (see duplicate(); files that cannot share records are not checked).
 *
 * Files are left unread when their names or HEAD put them outside the
 * range or the service (see name_skip()). A segment after the first of its
 * stream is opened only when the merge reaches the time before which it
 * has no event (first_bound(), from its name), and a file whose events
 * were all returned frees its bytes (ttlog_reader_release()): memory
 * follows the files being merged, not the size of the store. A file is
 * read once where it can be (TTLOG_READER_ONCE). Following (ttlog_store_follow)
 * watches the directories of the sources with inotify; a file that grew
 * is opened again and only its blocks after what was read before are
 * returned (ttlog_reader_set_start); new files are added.
 *
 * The files of one process convert ticks to times with one calibration
 * (see "One clock per process"), so that
 * a record has the same time in each of them.
 */
#include "common/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader/impl.h"
#include "ttlog_reader.h"

/* A segment holds nothing logged after the next segment of its stream was
 * created, and a snapshot nothing after its name's time; the clocks of the
 * file name and of the events are not the same clock, hence a margin. */
#define STORE_NAME_SLACK_NS 2000000000LL
/* How much older than its name's time a later segment's oldest event can
 * be: records drained just after the segment was created, and DEBUG
 * records promoted into it, which are up to TTLOG_PROMOTE_BEFORE (2 s by
 * default) older than the error that promoted them. A promotion window
 * longer than this can bring events out of time order at a segment
 * boundary (none is lost). */
#define STORE_FIRST_SLACK_NS 30000000000LL

struct sfile {
	struct ttlog_store_file pub;
	char *path;              /* "FILE@OFFSET" for a bundle's member after the first */
	char *file;              /* a member's file; NULL: path */
	uint64_t member;         /* a member's offset in it */
	ttlog_reader *r;
	long long size;          /* bytes when it was opened */
	/* From the name: */
	int seg_name;            /* <service>-<pid>-<time>-<seq>.ttseg */
	char *name_service;
	unsigned long pid;
	unsigned long long seq;
	int64_t name_ns;         /* 0: unknown */
	/* Iteration */
	int have;                /* ev holds its next event */
	int dedup;               /* another open file may hold the same records */
	int64_t lower;           /* no event before this (see first_bound()) */
	int released;            /* every event returned: its bytes were freed */
	int head_state;          /* 1: head is its HEAD's; -1: it has none; 0: not looked at */
	int outside;             /* a part's file that has no event in the part */
	int whole_problem;       /* a part's file whose open found a problem in the whole store:
				    opened as the whole store opened it (see open_with()) */
	int bounds;              /* 1: its events lie in first_ns..last_ns; -1: it has none; */
	int64_t first_ns, last_ns; /* 0: not known (see ttlog_store_cut_times()) */
	struct ttlog__head_clock head;
	struct ttlog_event ev;
};

struct seen {
	uint64_t hash;
	size_t file;
	size_t off, len;         /* its contents in seen_buf */
};

struct ttlog_store {
	struct ttlog_store_options opt;
	int64_t since_ns, until_ns; /* the range events are returned from: opt's, or a part of it */
	int must_rewind;         /* ttlog_store_cut_times() opened files the merge has not reached */
	int part;                /* a part of a store (ttlog_store_open_part()): not followed */
	char **sources;
	size_t nsources;
	struct sfile **files;
	size_t nfiles;
	const struct ttlog_store_file **pub; /* nfiles pointers, for ttlog_store_files */
	size_t *heap;
	size_t heap_len;
	size_t popped;           /* the file whose event was returned last, or SIZE_MAX */
	size_t *pend;            /* files opened when the merge reaches their lower bound, */
	size_t npend, pend_pos;  /* by that bound; those before pend_pos were opened */
	struct seen *seen;
	size_t nseen, seen_cap;
	unsigned char *seen_buf; /* the contents of the seen events */
	size_t seen_len, seen_buf_cap;
	int64_t seen_ns;
	struct ttlog__head_clock *clocks; /* each process's: its pid, point 0 and the
					     widest point 1 ("One clock per process") */
	size_t nclocks, clocks_cap;
	size_t *clock_order;     /* the files in the order process_clock() looks at them */
	size_t nclock_order;
	int status;
	char *error;
	int inotify;             /* -1 until follow starts */
	struct ttlog_store_counters counters;
};

/* The hook took two of the reserved words: the struct keeps its size. */
_Static_assert(sizeof(((struct ttlog_store_options *)0)->file_hook) == 8 &&
		       sizeof(((struct ttlog_store_options *)0)->file_hook_ctx) == 8,
	       "struct ttlog_store_options: a word per hook member");

TTLOG_API void ttlog_store_options_init(struct ttlog_store_options *opt)
{
	if (!opt)
		return;
	memset(opt, 0, sizeof *opt);
	opt->since_ns = INT64_MIN;
	opt->until_ns = INT64_MAX;
	opt->level_mask = TTLOG_READER_ALL_LEVELS;
}

static void store_report(struct ttlog_store *s, int status, const char *path, const char *what)
{
	if (s->status != TTLOG_OK)
		return;
	s->status = status;
	size_t n = strlen(path) + strlen(what) + 3;
	s->error = malloc(n);
	if (s->error)
		snprintf(s->error, n, "%s: %s", path, what);
}

/* ---- Names ---------------------------------------------------------------- */

static int digits(const char *p, int n)
{
	int v = 0;
	while (n--)
		v = v * 10 + (*p++ - '0');
	return v;
}

/* "YYYYMMDDTHHMMSS.nnnnnnnnnZ" (26 characters) to ns since the epoch; 0 if
 * it is not that. */
static int64_t name_time(const char *p, size_t n)
{
	if (n != 26 || p[8] != 'T' || p[15] != '.' || p[25] != 'Z')
		return 0;
	for (size_t i = 0; i < 25; i++)
		if (i != 8 && i != 15 && (p[i] < '0' || p[i] > '9'))
			return 0;
	struct tm tm = {0};
	tm.tm_year = digits(p, 4) - 1900;
	tm.tm_mon = digits(p + 4, 2) - 1;
	tm.tm_mday = digits(p + 6, 2);
	tm.tm_hour = digits(p + 9, 2);
	tm.tm_min = digits(p + 11, 2);
	tm.tm_sec = digits(p + 13, 2);
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t * 1000000000 + digits(p + 16, 9);
}

/* Reads what the file name says (FORMAT.md 18). */
static void parse_name(struct sfile *f)
{
	const char *base = strrchr(f->path, '/');
	base = base ? base + 1 : f->path;
	size_t n = strlen(base);
	if (n > 6 && strcmp(base + n - 6, ".ttseg") == 0) {
		/* From the end: -<seq>, -<time>, -<pid>, the rest is the service. */
		const char *end = base + n - 6, *d3 = end;
		while (d3 > base && d3[-1] != '-')
			d3--;
		if (d3 <= base + 1 || d3 == end)
			return;
		const char *d2 = d3 - 1;
		while (d2 > base && d2[-1] != '-')
			d2--;
		if (d2 <= base + 1)
			return;
		const char *d1 = d2 - 1;
		while (d1 > base && d1[-1] != '-')
			d1--;
		if (d1 <= base + 1)
			return;
		int64_t ns = name_time(d2, (size_t)(d3 - 1 - d2));
		char *e;
		unsigned long pid = strtoul(d1, &e, 10);
		if (!ns || e != d2 - 1)
			return;
		unsigned long long seq = strtoull(d3, &e, 10);
		if (e != end)
			return;
		f->name_service = strndup(base, (size_t)(d1 - 1 - base));
		if (!f->name_service)
			return;
		f->seg_name = 1;
		f->pid = pid;
		f->seq = seq;
		f->name_ns = ns;
	} else if (strncmp(base, "ttlog-", 6) == 0) {
		char *e;
		f->pid = strtoul(base + 6, &e, 10);
		if (*e == '-')
			f->name_ns = name_time(e + 1, strnlen(e + 1, 26));
	}
}

/* The service as a segment's name spells it (FORMAT.md 18). */
static void name_form(const char *service, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = service; *p && n + 1 < size && n < 64; p++)
		out[n++] = ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
				   ? *p
				   : '_';
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "ttlog");
}

/* Whether file i can be left unread by its name alone. */
static int name_skip(const struct ttlog_store *s, size_t i)
{
	const struct sfile *f = s->files[i];
	if (s->opt.service && f->seg_name) {
		char want[80];
		name_form(s->opt.service, want, sizeof want);
		if (strcmp(want, f->name_service) != 0)
			return 1;
	}
	/* The store's range, not a part's: what a name says is a guess with a
	 * margin, and a part must leave out only what the whole store's read
	 * leaves out (its files are chosen by their blocks' times instead,
	 * ttlog_store_open_part()). */
	if (s->opt.since_ns == INT64_MIN || !f->name_ns)
		return 0;
	int64_t since = s->opt.since_ns < INT64_MIN + STORE_NAME_SLACK_NS
				? INT64_MIN
				: s->opt.since_ns - STORE_NAME_SLACK_NS;
	if (!f->seg_name)
		return f->name_ns < since;
	/* A later segment of the same stream created before the range. */
	for (size_t j = 0; j < s->nfiles; j++) {
		const struct sfile *g = s->files[j];
		if (g->seg_name && g->pid == f->pid && g->seq > f->seq &&
		    strcmp(g->name_service, f->name_service) == 0 && g->name_ns < since)
			return 1;
	}
	return 0;
}

/* ---- Files ---------------------------------------------------------------- */

static int has_file(const struct ttlog_store *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i]->path, path) == 0)
			return 1;
	return 0;
}

static int add_file(struct ttlog_store *s, const char *path)
{
	if (has_file(s, path))
		return 0;
	struct sfile *f = calloc(1, sizeof *f);
	struct sfile **files = realloc(s->files, (s->nfiles + 1) * sizeof *files);
	if (!f || !files) {
		free(f);
		if (files)
			s->files = files;
		return -1;
	}
	s->files = files;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return -1;
	}
	f->pub.path = f->path;
	parse_name(f);
	s->files[s->nfiles++] = f;
	s->counters.files++;
	return 0;
}

/* The member of bundle file at offset (FORMAT.md 22) as a file of the
 * store, opened like a snapshot: at once (ttlog_store_open() and
 * refresh() go on to the files added). */
static int add_member(struct ttlog_store *s, const char *file, uint64_t offset)
{
	size_t n = strlen(file) + 32;
	char *name = malloc(n);
	if (!name)
		return -1;
	snprintf(name, n, "%s@%llu", file, (unsigned long long)offset);
	if (has_file(s, name)) {
		free(name);
		return 0;
	}
	int rc = add_file(s, name);
	free(name);
	if (rc != 0)
		return -1;
	struct sfile *f = s->files[s->nfiles - 1];
	f->file = strdup(file);
	f->member = offset;
	f->seg_name = 0;
	f->name_ns = 0;
	if (!f->file)
		return -1;
	struct ttlog_store_file const **p = realloc(s->pub, s->nfiles * sizeof *p);
	if (!p)
		return -1;
	s->pub = p;
	for (size_t i = 0; i < s->nfiles; i++)
		p[i] = &s->files[i]->pub;
	return 0;
}

static int store_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && ((n > 6 && strcmp(name + n - 6, ".ttseg") == 0) ||
				  (n > 6 && strcmp(name + n - 6, ".ttlog") == 0));
}

static int is_pattern(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

/* Adds the files of source i that are not in the store yet, sorted by
 * name. Returns the number found in all, or -1 on out of memory. */
static long scan_source(struct ttlog_store *s, const char *src)
{
	struct stat st;
	char **names = NULL;
	size_t n = 0;
	long found = 0;
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(src);
		if (!d)
			return 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!store_name(de->d_name))
				continue;
			size_t len = strlen(src) + strlen(de->d_name) + 2;
			char *p = malloc(len);
			char **grown = realloc(names, (n + 1) * sizeof *names);
			if (!p || !grown) {
				free(p);
				if (grown)
					names = grown;
				break;
			}
			names = grown;
			snprintf(p, len, "%s%s%s", src, src[strlen(src) - 1] == '/' ? "" : "/",
				 de->d_name);
			names[n++] = p;
		}
		closedir(d);
	} else if (is_pattern(src)) {
		glob_t g;
		if (glob(src, 0, NULL, &g) == 0) {
			names = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *names);
			for (size_t i = 0; names && i < g.gl_pathc; i++) {
				const char *b = strrchr(g.gl_pathv[i], '/');
				if ((b ? b[1] : g.gl_pathv[0][0]) == '.')
					continue;
				names[n] = strdup(g.gl_pathv[i]);
				if (names[n])
					n++;
			}
			globfree(&g);
		}
	} else {
		names = malloc(sizeof *names);
		if (names && (names[0] = strdup(src)))
			n = 1;
	}
	for (size_t i = 1; i < n; i++) /* sort by name: few files, insertion */
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		if (found >= 0 && add_file(s, names[i]) != 0)
			found = -1;
		else if (found >= 0)
			found++;
		free(names[i]);
	}
	free(names);
	return found;
}

/* ---- One clock per process ----------------------------------------------- */

/*
 * The files of one process share point 0 of their calibration (ticks and
 * wall time taken at ttlog_init) and differ in point 1, taken when each
 * file was started. A segment started just after ttlog_init has a span of
 * milliseconds between the two, so its rate is off by parts per thousand,
 * and a record it holds came out milliseconds away from the same record in
 * a snapshot taken seconds later (seen: 3.9 ms after 20 s); the merge then
 * misorders them and, comparing only events of equal time, shows the
 * record twice. So every file of a process (same pid and point 0) takes
 * point 1 of the process's file with the widest span, the best rate known.
 *
 * That file is chosen among all the files of the store, also those the
 * range leaves unread, so that an event has the same time whatever range
 * is asked for and whichever files were open when it was returned: the
 * parts of a store read on separate threads (ttlog_store_cut_times())
 * must give each event the time one reading gives it. The files not open
 * are known by their HEAD alone (ttlog__reader_peek_head()), each read
 * once. Not every file is read: a segment's name is written by its
 * process (its pid), and its point 1 is taken when it is started, so no
 * later than its name's time and a margin; segments of other pids, and
 * segments too old to be wider than the widest found, are passed over.
 * Snapshots and other names are always read (their names may have been
 * given by another program). Files added later by following may widen a
 * process's clock; the files open then take it (spread_clock()).
 */

/* A segment's point 1 is taken no later than this after its name's time
 * (the writer may wait for a calibration of 20 ms). */
#define STORE_POINT1_SLACK_NS STORE_NAME_SLACK_NS

/* File i's HEAD: from its reader when open (as it was read, before any
 * other clock was applied), else read from the file. NULL if unknown. */
static const struct ttlog__head_clock *head_of(struct ttlog_store *s, size_t i)
{
	struct sfile *f = s->files[i];
	if (!f->head_state)
		f->head_state = ttlog__reader_peek_head(f->file ? f->file : f->path, f->member,
							&f->head)
					? 1
					: -1;
	return f->head_state > 0 ? &f->head : NULL;
}

/* Files in the order process_clock() looks at them: first those whose
 * names say nothing (in store order), then segments, newest name first. */
struct clock_key {
	int seg;
	int64_t name_ns;
	size_t file;
};

static int by_name_time(const void *pa, const void *pb)
{
	const struct clock_key *a = pa, *b = pb;
	if (a->seg != b->seg)
		return a->seg - b->seg;
	if (a->seg && a->name_ns != b->name_ns)
		return a->name_ns > b->name_ns ? -1 : 1;
	return (a->file > b->file) - (a->file < b->file);
}

static int clock_order(struct ttlog_store *s)
{
	if (s->nclock_order == s->nfiles)
		return 0;
	size_t n = s->nfiles ? s->nfiles : 1;
	size_t *o = malloc(n * sizeof *o);
	struct clock_key *k = malloc(n * sizeof *k);
	if (!o || !k) {
		free(o);
		free(k);
		return -1;
	}
	for (size_t i = 0; i < s->nfiles; i++)
		k[i] = (struct clock_key){s->files[i]->seg_name, s->files[i]->name_ns, i};
	qsort(k, s->nfiles, sizeof *k, by_name_time);
	for (size_t i = 0; i < s->nfiles; i++)
		o[i] = k[i].file;
	free(k);
	free(s->clock_order);
	s->clock_order = o;
	s->nclock_order = s->nfiles;
	return 0;
}

static uint64_t span_of(const struct ttlog__head_clock *h)
{
	return h->tick1 - h->tick0;
}

/* The clock of the process whose HEAD is h: the widest of its files. NULL
 * when memory is short. */
static struct ttlog__head_clock *process_clock(struct ttlog_store *s,
					       const struct ttlog__head_clock *h)
{
	for (size_t k = 0; k < s->nclocks; k++) {
		const struct ttlog__head_clock *c = &s->clocks[k];
		if (c->pid == h->pid && c->tick0 == h->tick0 && c->ns0 == h->ns0)
			return &s->clocks[k];
	}
	if (clock_order(s) != 0)
		return NULL;
	if (s->nclocks == s->clocks_cap) {
		size_t cap = s->clocks_cap ? 2 * s->clocks_cap : 4;
		struct ttlog__head_clock *p = realloc(s->clocks, cap * sizeof *p);
		if (!p)
			return NULL;
		s->clocks = p;
		s->clocks_cap = cap;
	}
	struct ttlog__head_clock best = *h;
	for (size_t k = 0; k < s->nfiles; k++) {
		const struct sfile *f = s->files[s->clock_order[k]];
		if (f->seg_name) {
			if (f->pid != h->pid)
				continue;
			/* This segment's point 1 is before the widest's, and
			 * so is every older one's: none is looked at. */
			if (best.ns1 > INT64_MIN + STORE_POINT1_SLACK_NS &&
			    f->name_ns < best.ns1 - STORE_POINT1_SLACK_NS)
				break;
		}
		const struct ttlog__head_clock *o = head_of(s, s->clock_order[k]);
		if (!o || o->pid != h->pid || o->tick0 != h->tick0 || o->ns0 != h->ns0 ||
		    o->ns1 <= o->ns0)
			continue;
		if (span_of(o) > span_of(&best))
			best = *o;
	}
	s->clocks[s->nclocks] = best;
	return &s->clocks[s->nclocks++];
}

/* Gives reader r point 1 of c; returns whether it changed. */
static int set_point1(ttlog_reader *r, const struct ttlog__head_clock *c)
{
	if (r->tick1 == c->tick1 && r->ns1 == c->ns1)
		return 0;
	r->tick1 = c->tick1;
	r->ns1 = c->ns1;
	(void)ttlog__reader_calibrate(r); /* the scaling's width goes with the span */
	return 1;
}

static void spread_clock(struct ttlog_store *s, size_t i);

/* File i, just opened, takes its process's clock. A file wider than it
 * (one following found) widens it for the files open now. */
static void apply_clock(struct ttlog_store *s, size_t i)
{
	struct sfile *f = s->files[i];
	ttlog_reader *r = f->r;
	if (!r || !r->cal_ok || !r->have_head)
		return;
	f->head = (struct ttlog__head_clock){r->info.pid, r->tick0, r->tick1, r->ns0, r->ns1};
	f->head_state = 1;
	if (r->ns1 <= r->ns0)
		return; /* a clock that runs backwards is its own */
	struct ttlog__head_clock *pc = process_clock(s, &f->head);
	if (!pc)
		return;
	if (span_of(&f->head) > span_of(pc)) {
		*pc = f->head;
		spread_clock(s, i);
		return;
	}
	set_point1(r, pc);
}

static void heap_down(struct ttlog_store *s, size_t i);

/* File i, opened while the merge runs (following), widened its process's
 * clock: the open files of the process take it for the events they have
 * not returned, the one each holds re-timed, and the heap is ordered
 * again. Their events already returned keep the old clock (nanoseconds
 * to milliseconds apart, the older rate being the worse). */
static void spread_clock(struct ttlog_store *s, size_t i)
{
	const ttlog_reader *r = s->files[i]->r;
	int moved = 0;
	for (size_t j = 0; j < s->nfiles; j++) {
		struct sfile *f = s->files[j];
		ttlog_reader *o = f->r;
		if (!o || o == r || !o->cal_ok || o->info.pid != r->info.pid ||
		    o->tick0 != r->tick0 || o->ns0 != r->ns0 || o->ns1 <= o->ns0 ||
		    !set_point1(o, &s->files[i]->head))
			continue;
		if (f->have) {
			f->ev.time_ns = ttlog__reader_ticks_to_ns(o, f->ev.ticks);
			moved = 1;
		}
	}
	if (moved)
		for (size_t k = s->heap_len / 2; k-- > 0;)
			heap_down(s, k);
}

/* A time t of the process's clock c as file f's own clock (its HEAD) puts
 * it, and a millisecond more in the direction of away: the two clocks
 * share point 0 and differ in their rate. */
static int64_t own_time(const struct sfile *f, const struct ttlog__head_clock *c, int64_t t,
			int away)
{
	const struct ttlog__head_clock *h = &f->head;
	if (t == INT64_MIN || t == INT64_MAX || c->ns1 <= c->ns0 || h->ns1 <= h->ns0)
		return away < 0 ? INT64_MIN : INT64_MAX;
	long double ticks_per_ns = (long double)(c->tick1 - c->tick0) / (long double)(c->ns1 - c->ns0);
	long double ns_per_tick = (long double)(h->ns1 - h->ns0) / (long double)(h->tick1 - h->tick0);
	long double own = (long double)h->ns0 +
			  ((long double)t - (long double)h->ns0) * ticks_per_ns * ns_per_tick +
			  (long double)away * 1e6L;
	if (own <= (long double)INT64_MIN)
		return INT64_MIN;
	if (own >= (long double)INT64_MAX)
		return INT64_MAX;
	return (int64_t)own;
}

/* Opens f's file with flags into *r. A closed segment is read through its
 * index, the blocks of the store's range only (by the file's own clock:
 * the process's is not known to the reader yet); in a part
 * (ttlog_store_open_part()), only those that also reach into the part's
 * range put in the file's own clock: the blocks that reach into both
 * ranges, which are those of the whole store's read that reach into the
 * part. Not for a file whose open found a problem: where the reading goes
 * on after damage, the blocks it finds need not be those its index
 * lists, so a part opens it as the whole store did, and takes the events
 * of its own range. */
static int open_with(struct ttlog_store *s, size_t i, unsigned flags, ttlog_reader **r)
{
	struct sfile *f = s->files[i];
	if (f->file)
		return ttlog_reader_open_member(f->file, f->member, flags, r);
	int64_t since = s->opt.since_ns, until = s->opt.until_ns;
	const struct ttlog__head_clock *h = s->part && !f->whole_problem ? head_of(s, i) : NULL;
	const struct ttlog__head_clock *pc = h && h->ns1 > h->ns0 ? process_clock(s, h) : NULL;
	if (pc) {
		int64_t lo = own_time(f, pc, s->since_ns, -1);
		int64_t hi = own_time(f, pc, s->until_ns, 1);
		since = lo > since ? lo : since;
		until = hi < until ? hi : until;
		if (since > until) /* no block can reach into both */
			since = until;
	}
	return ttlog_reader_open_range(f->path, flags, since, until, r);
}

/* Opens file i (from offset start on: ttlog_reader_set_start) unless its
 * name or HEAD leaves it out. */
static void open_file(struct ttlog_store *s, size_t i, uint64_t start)
{
	struct sfile *f = s->files[i];
	if (!f->r && name_skip(s, i)) {
		f->pub.skipped = 1;
		s->counters.files_skipped++;
		return;
	}
	struct stat st;
	f->size = stat(f->path, &st) == 0 ? (long long)st.st_size : -1;
	ttlog_reader *r = NULL;
	/* A file opened again because it grew (following): the blocks before
	 * start were returned already and are taken at their headers' word
	 * (TTLOG_READER_LAZY), not decoded again. */
	/* Otherwise each block is decoded once where the file allows it
	 * (TTLOG_READER_ONCE): lazily when it is complete and sound. */
	int rc = open_with(s, i, s->opt.flags | (start ? TTLOG_READER_LAZY : TTLOG_READER_ONCE), &r);
	if (f->r)
		ttlog_reader_close(f->r);
	f->r = r;
	f->released = 0;
	f->have = 0; /* an event held was the old reader's */
	f->pub.reader = r;
	f->pub.status = rc;
	f->pub.error = r ? ttlog_reader_error(r) : NULL;
	if (!r) {
		store_report(s, rc, f->path, ttlog_strerror(rc));
		return;
	}
	const struct ttlog_file_info *fi = ttlog_reader_info(r);
	if (s->opt.service && rc != TTLOG_E_OPEN && rc != TTLOG_E_NOT_TTLOG &&
	    strcmp(fi->service, s->opt.service) != 0) {
		ttlog_reader_close(r);
		f->r = NULL;
		f->pub.reader = NULL;
		f->pub.status = TTLOG_OK;
		f->pub.error = NULL;
		f->pub.skipped = 1;
		s->counters.files_skipped++;
		return;
	}
	if (rc != TTLOG_OK)
		store_report(s, rc, f->path, f->pub.error ? f->pub.error : ttlog_strerror(rc));
	if (fi->bundle_next && add_member(s, f->file ? f->file : f->path, fi->bundle_next) != 0)
		store_report(s, TTLOG_E_NOMEM, f->path, "out of memory for the bundle's next member");
	apply_clock(s, i);
	ttlog_reader_set_range(r, s->since_ns, s->until_ns, s->opt.level_mask);
	ttlog_reader_set_start(r, start);
	if (s->opt.file_hook.fn)
		s->opt.file_hook.fn(s->opt.file_hook_ctx.ptr, r);
	ttlog_reader_rewind(r);
}

/* ---- The merge ------------------------------------------------------------ */

static int before(const struct ttlog_store *s, size_t a, size_t b)
{
	const struct sfile *x = s->files[a], *y = s->files[b];
	if (x->ev.time_ns != y->ev.time_ns)
		return x->ev.time_ns < y->ev.time_ns;
	return a < b;
}

static void heap_down(struct ttlog_store *s, size_t i)
{
	size_t *h = s->heap, n = s->heap_len;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && before(s, h[l], h[m]))
			m = l;
		if (l + 1 < n && before(s, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void mark_dedup(struct ttlog_store *s);
static void file_done(struct ttlog_store *s, struct sfile *f);

/* Builds the heap of the files that have an event, reading the next event
 * of those that hold none (the one returned last included). */
static int heap_build(struct ttlog_store *s)
{
	free(s->heap);
	s->heap = malloc((s->nfiles ? s->nfiles : 1) * sizeof *s->heap);
	if (!s->heap)
		return -1;
	if (s->popped != SIZE_MAX)
		s->files[s->popped]->have = 0; /* returned already */
	s->heap_len = 0;
	s->popped = SIZE_MAX;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sfile *f = s->files[i];
		if (!f->have && f->r && !f->released) {
			f->have = ttlog_reader_next(f->r, &f->ev);
			if (!f->have)
				file_done(s, f);
		}
		if (f->have)
			s->heap[s->heap_len++] = i;
	}
	for (size_t i = s->heap_len / 2; i-- > 0;)
		heap_down(s, i);
	mark_dedup(s);
	return 0;
}

/*
 * Duplicates. Only a snapshot and a file of the same process can hold the
 * same record (a segment and a snapshot, or two snapshots); segments of one
 * stream never do, and files of other processes never do. So a file takes
 * part in the check only when another open file of its pid that is not
 * also a segment overlaps it in time (dedup, set by heap_build()); a store
 * of segments alone never hashes anything.
 *
 * Events of the current time that came from such files are kept as a
 * cheap hash (pid, tid, ticks, line, level, argument count) and a copy of
 * what two files share of the record (format, file, argument values) in
 * seen_buf; an event whose hash matches one that another file gave is
 * compared whole before it is left out.
 */

/* Margin on the overlap of two files: their times are from their own
 * calibrations until apply_clock() aligns them (milliseconds apart). */
#define STORE_OVERLAP_SLACK_NS 2000000000LL

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdu;
}

static uint64_t event_hash(const struct sfile *f, const struct ttlog_event *ev)
{
	const struct ttlog_site_info *st = ev->site;
	uint64_t h = mix(ttlog_reader_info(f->r)->pid, ev->thread ? ev->thread->tid : 0);
	h = mix(h, ev->ticks);
	return mix(h, ((uint64_t)st->line << 32) ^ ((uint64_t)(unsigned)st->level << 8) ^ ev->nargs);
}

static int seen_put(struct ttlog_store *s, const void *p, size_t n)
{
	if (s->seen_len + n > s->seen_buf_cap) {
		size_t cap = s->seen_buf_cap ? s->seen_buf_cap : 1024;
		while (cap < s->seen_len + n)
			cap *= 2;
		unsigned char *b = realloc(s->seen_buf, cap);
		if (!b)
			return -1;
		s->seen_buf = b;
		s->seen_buf_cap = cap;
	}
	memcpy(s->seen_buf + s->seen_len, p, n);
	s->seen_len += n;
	return 0;
}

/* Appends what two files share of the event to seen_buf. */
static int seen_record(struct ttlog_store *s, const struct ttlog_event *ev)
{
	const struct ttlog_site_info *st = ev->site;
	if (seen_put(s, st->format, strlen(st->format) + 1) ||
	    seen_put(s, st->file, strlen(st->file) + 1))
		return -1;
	for (unsigned i = 0; i < ev->nargs; i++) {
		const struct ttlog_arg *a = &ev->args[i];
		unsigned char type = (unsigned char)a->type;
		if (seen_put(s, &type, 1))
			return -1;
		if (a->type == TTLOG_ARG_STR) {
			uint64_t n = a->str ? a->str_len : UINT64_MAX;
			if (seen_put(s, &n, sizeof n) || (a->str && seen_put(s, a->str, a->str_len)))
				return -1;
		} else if (seen_put(s, &a->v.u, sizeof a->v.u)) {
			return -1;
		}
	}
	return 0;
}

/* File i's info while it has a reader (released included), else NULL. */
static const struct ttlog_file_info *open_info(const struct ttlog_store *s, size_t i)
{
	return s->files[i]->r ? ttlog_reader_info(s->files[i]->r) : NULL;
}

/* Whether the event of file i was returned already from another file;
 * otherwise remembers it. */
static int duplicate(struct ttlog_store *s, size_t i)
{
	struct sfile *f = s->files[i];
	if (!f->dedup)
		return 0;
	if (f->ev.time_ns != s->seen_ns) {
		s->nseen = 0;
		s->seen_len = 0;
		s->seen_ns = f->ev.time_ns;
	}
	uint64_t h = event_hash(f, &f->ev);
	size_t mark = s->seen_len;
	int recorded = 0;
	const int segment = ttlog_reader_info(f->r)->is_segment;
	for (size_t k = 0; k < s->nseen; k++) {
		if (s->seen[k].hash != h || s->seen[k].file == i)
			continue;
		/* Two segments never hold one record (a stream writes it
		 * once): equal records in both are two events, whichever
		 * other files are open. */
		const struct ttlog_file_info *other = open_info(s, s->seen[k].file);
		if (segment && other && other->is_segment)
			continue;
		if (!recorded) {
			if (seen_record(s, &f->ev) != 0) {
				s->seen_len = mark;
				return 0; /* shown twice rather than lost */
			}
			recorded = 1;
		}
		const struct seen *o = &s->seen[k];
		if (o->len == s->seen_len - mark &&
		    memcmp(s->seen_buf + o->off, s->seen_buf + mark, o->len) == 0) {
			s->seen_len = mark;
			return 1;
		}
	}
	if (s->nseen == s->seen_cap) {
		size_t cap = s->seen_cap ? 2 * s->seen_cap : 16;
		struct seen *p = realloc(s->seen, cap * sizeof *p);
		if (!p) {
			s->seen_len = mark;
			return 0;
		}
		s->seen = p;
		s->seen_cap = cap;
	}
	if (!recorded && seen_record(s, &f->ev) != 0) {
		s->seen_len = mark;
		return 0;
	}
	s->seen[s->nseen++] = (struct seen){h, i, mark, s->seen_len - mark};
	return 0;
}

/* Whether files x and y can hold the same record: a snapshot and a file
 * of its process (never two segments: a stream writes a record once)
 * whose times overlap, or whose times are not known. */
static int can_share(const struct ttlog_file_info *x, const struct ttlog_file_info *y)
{
	if (!x || !x->events || !y || !y->events || y->pid != x->pid ||
	    (x->is_segment && y->is_segment))
		return 0;
	return x->last_ns < INT64_MIN + STORE_OVERLAP_SLACK_NS ||
	       y->last_ns < INT64_MIN + STORE_OVERLAP_SLACK_NS ||
	       (x->first_ns <= y->last_ns + STORE_OVERLAP_SLACK_NS &&
		y->first_ns <= x->last_ns + STORE_OVERLAP_SLACK_NS);
}

/* Sets each file's dedup: whether another open file can hold its records. */
static void mark_dedup(struct ttlog_store *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		s->files[i]->dedup = 0;
	for (size_t i = 0; i < s->nfiles; i++)
		for (size_t j = i + 1; j < s->nfiles; j++)
			if (can_share(open_info(s, i), open_info(s, j)))
				s->files[i]->dedup = s->files[j]->dedup = 1;
}

/* Sets the dedup of file i and of the files it can share records with. */
static void mark_pairs(struct ttlog_store *s, size_t i)
{
	for (size_t j = 0; j < s->nfiles; j++)
		if (j != i && can_share(open_info(s, i), open_info(s, j)))
			s->files[i]->dedup = s->files[j]->dedup = 1;
}

static void heap_up(struct ttlog_store *s, size_t k)
{
	size_t *h = s->heap;
	while (k > 0 && before(s, h[k], h[(k - 1) / 2])) {
		size_t p = (k - 1) / 2, t = h[k];
		h[k] = h[p];
		h[p] = t;
		k = p;
	}
}

/* File f has returned its last event: a problem its reader found while
 * reading (a block of a file opened lazily whose records do not check,
 * under a valid checksum) becomes the file's status and the store's, as
 * one found at the open is; then what the file no longer needs is freed. */
static void file_done(struct ttlog_store *s, struct sfile *f)
{
	if (!f->r || f->released)
		return;
	int rc = ttlog_reader_status(f->r);
	if (rc != TTLOG_OK && f->pub.status == TTLOG_OK) {
		f->pub.status = rc;
		f->pub.error = ttlog_reader_error(f->r);
		store_report(s, rc, f->path, f->pub.error ? f->pub.error : ttlog_strerror(rc));
	}
	ttlog_reader_release(f->r);
	f->released = 1;
}

/* Opens the pending files whose lower bound the merge has reached (the
 * next one when no open file has an event left), each with its first
 * event in the heap. */
static void open_due(struct ttlog_store *s)
{
	while (s->pend_pos < s->npend) {
		size_t i = s->pend[s->pend_pos];
		struct sfile *f = s->files[i];
		if (s->heap_len && f->lower > s->files[s->heap[0]]->ev.time_ns)
			return;
		s->pend_pos++;
		open_file(s, i, 0);
		if (!f->r)
			continue;
		mark_pairs(s, i);
		f->have = ttlog_reader_next(f->r, &f->ev);
		if (!f->have) {
			file_done(s, f);
			continue;
		}
		s->heap[s->heap_len++] = i;
		heap_up(s, s->heap_len - 1);
	}
}

TTLOG_API int ttlog_store_next(ttlog_store *s, struct ttlog_event *ev,
			       const struct ttlog_store_file **from)
{
	if (!s || !ev)
		return 0;
	if (s->must_rewind)
		ttlog_store_rewind(s);
	for (;;) {
		if (s->popped != SIZE_MAX) {
			/* The file whose event went out last moves on. */
			struct sfile *f = s->files[s->popped];
			s->popped = SIZE_MAX;
			f->have = ttlog_reader_next(f->r, &f->ev);
			if (f->have) {
				heap_down(s, 0);
			} else {
				s->heap[0] = s->heap[--s->heap_len];
				heap_down(s, 0);
				file_done(s, f);
			}
		}
		open_due(s);
		if (!s->heap_len)
			return 0;
		size_t i = s->heap[0];
		s->popped = i;
		if (duplicate(s, i)) {
			s->counters.duplicates++;
			continue;
		}
		*ev = s->files[i]->ev;
		if (from)
			*from = &s->files[i]->pub;
		return 1;
	}
}

TTLOG_API void ttlog_store_rewind(ttlog_store *s)
{
	if (!s)
		return;
	/* Files opened on the way are closed and wait again; the others
	 * start again (opened anew if their bytes were freed). */
	for (size_t k = 0; k < s->pend_pos; k++) {
		struct sfile *f = s->files[s->pend[k]];
		ttlog_reader_close(f->r);
		f->r = NULL;
		f->pub.reader = NULL;
		f->released = 0;
		f->dedup = 0;
	}
	s->pend_pos = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sfile *f = s->files[i];
		if (f->released) {
			f->released = 0;
			open_file(s, i, 0);
		} else if (f->r) {
			ttlog_reader_rewind(f->r);
		}
		f->have = 0;
	}
	s->popped = SIZE_MAX;
	s->must_rewind = 0;
	s->nseen = 0;
	s->seen_len = 0;
	s->seen_ns = INT64_MIN;
	heap_build(s);
}

static int refresh_pub(struct ttlog_store *s)
{
	const struct ttlog_store_file **p = realloc(s->pub, (s->nfiles ? s->nfiles : 1) * sizeof *p);
	if (!p)
		return -1;
	s->pub = p;
	for (size_t i = 0; i < s->nfiles; i++)
		p[i] = &s->files[i]->pub;
	return 0;
}

/* The time before which file f has no event, when it can be known without
 * reading it: a segment after the first of its stream holds what was
 * drained after it was created, so nothing logged much before its name's
 * time (STORE_FIRST_SLACK_NS before it). A first segment may hold
 * what the rings had when the stream started, and a snapshot what its
 * rings had: INT64_MIN, they are opened at once. */
static int64_t first_bound(const struct sfile *f)
{
	if (!f->seg_name || f->seq <= 1 || !f->name_ns ||
	    f->name_ns < INT64_MIN + STORE_FIRST_SLACK_NS)
		return INT64_MIN;
	return f->name_ns - STORE_FIRST_SLACK_NS;
}

struct pend_key {
	int64_t lower;
	size_t file;
};

static int by_lower(const void *pa, const void *pb)
{
	const struct pend_key *a = pa, *b = pb;
	if (a->lower != b->lower)
		return a->lower < b->lower ? -1 : 1;
	return (a->file > b->file) - (a->file < b->file);
}

/* An empty store, nothing merged yet; NULL when memory is short. */
static struct ttlog_store *store_alloc(void)
{
	struct ttlog_store *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->inotify = -1;
	s->popped = SIZE_MAX;
	s->status = TTLOG_OK;
	s->seen_ns = INT64_MIN;
	return s;
}

/* A store of the files of its sources, none opened yet. Returns TTLOG_OK,
 * TTLOG_E_INVALID or TTLOG_E_NOMEM (*out NULL). */
static int store_new(const char *const *paths, size_t npaths,
		     const struct ttlog_store_options *opt, ttlog_store **out)
{
	if (!out)
		return TTLOG_E_INVALID;
	*out = NULL;
	/* Duplicates are told apart by their arguments. */
	if (!paths || !npaths || (opt && (opt->flags & TTLOG_READER_NO_ARGS)))
		return TTLOG_E_INVALID;
	struct ttlog_store *s = store_alloc();
	if (!s)
		return TTLOG_E_NOMEM;
	if (opt)
		s->opt = *opt;
	else
		ttlog_store_options_init(&s->opt);
	s->opt.service = NULL;
	s->since_ns = s->opt.since_ns;
	s->until_ns = s->opt.until_ns;
	s->sources = calloc(npaths, sizeof *s->sources);
	int oom = !s->sources;
	if (!oom && opt && opt->service) {
		s->opt.service = strdup(opt->service);
		oom = !s->opt.service;
	}
	for (size_t i = 0; i < npaths && !oom; i++) {
		if (!paths[i])
			continue;
		s->sources[s->nsources] = strdup(paths[i]);
		if (!s->sources[s->nsources]) {
			oom = 1;
			break;
		}
		long n = scan_source(s, paths[i]);
		if (n < 0)
			oom = 1;
		else if (n == 0)
			store_report(s, TTLOG_E_OPEN, paths[i],
				     is_pattern(paths[i]) ? "no file matches"
							  : "no *.ttseg or *.ttlog file in it");
		s->nsources++;
	}
	if (oom) {
		ttlog_store_close(s);
		return TTLOG_E_NOMEM;
	}
	*out = s;
	return TTLOG_OK;
}

/* Opens the files of store s that come first, the others wait for the
 * merge (see first_bound()). */
static int store_start(ttlog_store *s, ttlog_store **out)
{
	s->pend = malloc((s->nfiles ? s->nfiles : 1) * sizeof *s->pend);
	if (!s->pend) {
		ttlog_store_close(s);
		*out = NULL;
		return TTLOG_E_NOMEM;
	}
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sfile *f = s->files[i];
		f->lower = first_bound(f);
		if (f->outside) {
			f->pub.skipped = 1;
			s->counters.files_skipped++;
		} else if (f->lower == INT64_MIN) {
			open_file(s, i, 0);
		} else if (name_skip(s, i) || f->lower > s->opt.until_ns) {
			f->pub.skipped = 1;
			s->counters.files_skipped++;
		} else {
			s->pend[s->npend++] = i;
		}
	}
	if (s->npend > 1) {
		struct pend_key *k = malloc(s->npend * sizeof *k);
		if (!k) {
			ttlog_store_close(s);
			*out = NULL;
			return TTLOG_E_NOMEM;
		}
		for (size_t j = 0; j < s->npend; j++)
			k[j] = (struct pend_key){s->files[s->pend[j]]->lower, s->pend[j]};
		qsort(k, s->npend, sizeof *k, by_lower);
		for (size_t j = 0; j < s->npend; j++)
			s->pend[j] = k[j].file;
		free(k);
	}
	if (refresh_pub(s) != 0 || heap_build(s) != 0) {
		ttlog_store_close(s);
		*out = NULL;
		return TTLOG_E_NOMEM;
	}
	return s->status;
}

TTLOG_API int ttlog_store_open(const char *const *paths, size_t npaths,
			       const struct ttlog_store_options *opt, ttlog_store **out)
{
	int rc = store_new(paths, npaths, opt, out);
	if (rc != TTLOG_OK)
		return rc;
	return store_start(*out, out);
}

/* A copy of file f of a whole store, for a part of it: its names, what its
 * HEAD said, and whether it has no event in since..until, as far as
 * ttlog_store_cut_times() found (the times its blocks' headers bound).
 * NULL when memory is short. */
static struct sfile *part_file(const struct sfile *f, int64_t since, int64_t until)
{
	struct sfile *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->path = strdup(f->path);
	g->file = f->file ? strdup(f->file) : NULL;
	g->name_service = f->name_service ? strdup(f->name_service) : NULL;
	if (!g->path || (f->file && !g->file) || (f->name_service && !g->name_service)) {
		free(g->path);
		free(g->file);
		free(g->name_service);
		free(g);
		return NULL;
	}
	g->pub.path = g->path;
	g->member = f->member;
	g->seg_name = f->seg_name;
	g->pid = f->pid;
	g->seq = f->seq;
	g->name_ns = f->name_ns;
	g->head_state = f->head_state;
	g->head = f->head;
	g->whole_problem = f->pub.status != TTLOG_OK;
	g->outside = f->pub.skipped || f->bounds < 0 ||
		     (f->bounds > 0 && (f->last_ns < since || f->first_ns > until));
	return g;
}

TTLOG_API int ttlog_store_open_part(const ttlog_store *whole, int64_t part_since_ns,
				    int64_t part_until_ns, ttlog_store **out)
{
	if (!out)
		return TTLOG_E_INVALID;
	*out = NULL;
	if (!whole || part_since_ns > part_until_ns)
		return TTLOG_E_INVALID;
	struct ttlog_store *s = store_alloc();
	if (!s)
		return TTLOG_E_NOMEM;
	s->part = 1;
	s->opt = whole->opt;
	s->opt.service = NULL;
	s->since_ns = part_since_ns > whole->since_ns ? part_since_ns : whole->since_ns;
	s->until_ns = part_until_ns < whole->until_ns ? part_until_ns : whole->until_ns;
	int oom = whole->opt.service && !(s->opt.service = strdup(whole->opt.service));
	s->files = whole->nfiles ? calloc(whole->nfiles, sizeof *s->files) : NULL;
	oom |= whole->nfiles && !s->files;
	for (size_t i = 0; i < whole->nfiles && !oom; i++) {
		s->files[i] = part_file(whole->files[i], s->since_ns, s->until_ns);
		oom = !s->files[i];
		if (!oom)
			s->nfiles++;
	}
	if (!oom && whole->nclocks) {
		s->clocks = malloc(whole->nclocks * sizeof *s->clocks);
		oom = !s->clocks;
		if (!oom) {
			memcpy(s->clocks, whole->clocks, whole->nclocks * sizeof *s->clocks);
			s->nclocks = s->clocks_cap = whole->nclocks;
		}
	}
	if (oom) {
		ttlog_store_close(s);
		return TTLOG_E_NOMEM;
	}
	s->counters.files = s->nfiles;
	*out = s;
	return store_start(s, out);
}

/* File f's bounds: the times its blocks' headers bound, by the process's
 * clock (see struct sfile). A file whose open found a problem may hold
 * blocks whose records disagree with their headers (one of its problems,
 * not the first): its bounds are those of the events its open checked,
 * when it checked every block, and unknown otherwise. */
static void file_bounds(struct sfile *f)
{
	f->bounds = 0;
	if (!f->r->cal_ok || f->r->cal_backwards)
		return;
	uint64_t lo = UINT64_MAX, hi = 0;
	int any;
	if (f->pub.status != TTLOG_OK) {
		if (!f->r->event_ticks_known)
			return;
		lo = f->r->event_min_ticks;
		hi = f->r->event_max_ticks;
		any = lo <= hi;
	} else {
		for (size_t b = 0; b < f->r->nblocks; b++) {
			lo = TTLOG__MIN(lo, f->r->blocks[b].first_ticks);
			hi = TTLOG__MAX(hi, f->r->blocks[b].last_ticks);
		}
		any = f->r->nblocks != 0;
	}
	f->bounds = any ? 1 : -1;
	if (f->bounds > 0) {
		f->first_ns = ttlog__reader_ticks_to_ns(f->r, lo);
		f->last_ns = ttlog__reader_ticks_to_ns(f->r, hi);
	}
}

/* The segment before segment f in its stream, if the store has it with
 * its bounds known. */
static const struct sfile *previous_segment(const struct ttlog_store *s, const struct sfile *f)
{
	if (!f->seg_name || f->seq <= 1)
		return NULL;
	for (size_t j = 0; j < s->nfiles; j++) {
		const struct sfile *g = s->files[j];
		if (g->seg_name && g->seq + 1 == f->seq && g->pid == f->pid && g->bounds > 0 &&
		    strcmp(g->name_service, f->name_service) == 0)
			return g;
	}
	return NULL;
}

/* The times of the blocks of file i's reader in the store's range, added
 * to *t (*nt of *cap). Returns 0 if they cannot be had. */
static int add_block_times(const struct ttlog_store *s, size_t i, struct ttlog__block_time **t,
			   size_t *nt, size_t *cap)
{
	const struct sfile *f = s->files[i];
	struct ttlog__block_time *b;
	size_t nb;
	if (!ttlog__reader_block_times(f->r, s->since_ns, s->until_ns, &b, &nb))
		return 0;
	const struct sfile *prev = f->r->has_scopes ? previous_segment(s, f) : NULL;
	if (nb && prev) {
		/*
		 * A part that begins inside a file of contexts or spans reads
		 * the file from its start, to follow the scopes open at the
		 * part's start; and a segment begins with its open scopes
		 * re-stated at their old times, so its blocks' times do not
		 * say where its events begin. So such a segment is one entry
		 * of all its records, just after the last time of the segment
		 * before it: a part that begins there has nothing of that one
		 * to follow, and reads this one from its start.
		 */
		struct ttlog__block_time one = {prev->last_ns + 1, 0};
		for (size_t k = 0; k < nb; k++)
			one.count += b[k].count;
		if (one.ns < s->since_ns)
			one.ns = s->since_ns;
		b[0] = one;
		nb = 1;
	}
	if (*nt + nb > *cap) {
		size_t want = *cap ? *cap : 256;
		while (want < *nt + nb)
			want *= 2;
		struct ttlog__block_time *p = realloc(*t, want * sizeof *p);
		if (!p) {
			free(b);
			return 0;
		}
		*t = p;
		*cap = want;
	}
	if (nb)
		memcpy(*t + *nt, b, nb * sizeof *b);
	*nt += nb;
	free(b);
	return 1;
}

TTLOG_API size_t ttlog_store_cut_times(ttlog_store *s, size_t n, int64_t *cuts)
{
	if (!s || n < 2 || !cuts)
		return 0;
	/* Every file of the range open, as the merge would open it. */
	for (; s->pend_pos < s->npend; s->pend_pos++) {
		size_t i = s->pend[s->pend_pos];
		open_file(s, i, 0);
		if (s->files[i]->r)
			mark_pairs(s, i);
	}
	s->must_rewind = 1;
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i]->r && !s->files[i]->released)
			file_bounds(s->files[i]);
	struct ttlog__block_time *t = NULL;
	size_t nt = 0, cap = 0, m = 0;
	/* A file with a problem is cut like the others (its parts open it
	 * as the whole store did, and its bounds are its events'; see
	 * open_with() and file_bounds()), unless the open found blocks whose
	 * records are not those their headers state: a part's range, taken
	 * by the headers, could miss some of them, which the whole read
	 * gives. Such a store is read on one thread. */
	int ok = 1;
	for (size_t i = 0; i < s->nfiles && ok; i++) {
		const struct sfile *f = s->files[i];
		if (f->r && !f->released && f->pub.status != TTLOG_OK)
			ok = ttlog__reader_headers_hold(f->r);
	}
	for (size_t i = 0; i < s->nfiles && ok; i++)
		if (s->files[i]->r && !s->files[i]->released)
			ok = add_block_times(s, i, &t, &nt, &cap);
	if (ok) {
		m = ttlog__cut_block_times(t, nt, n, cuts);
		/* Only cuts inside the range part it. */
		size_t k = 0;
		for (size_t j = 0; j < m; j++)
			if (cuts[j] > s->since_ns && cuts[j] <= s->until_ns)
				cuts[k++] = cuts[j];
		m = k;
	}
	free(t);
	/* What the parts read is theirs: the files keep their details and
	 * their bounds, by which parts leave out the files with no event in
	 * them. */
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sfile *f = s->files[i];
		if (f->r && !f->released) {
			ttlog_reader_release(f->r);
			f->released = 1;
		}
	}
	return m;
}

/* Orders segment files by stream (service, pid), then sequence number. */
static int by_stream(const void *pa, const void *pb)
{
	const struct sfile *a = *(const struct sfile *const *)pa, *b = *(const struct sfile *const *)pb;
	int c = strcmp(a->name_service, b->name_service);
	if (c)
		return c;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Reads file f lazily for the end of a store. Returns whether it has
 * events of the service; widens *end by its last event (or its creation
 * time if it has none). */
static int end_of_file(struct ttlog_store *s, struct sfile *f, int64_t *end)
{
	if (s->opt.service && f->seg_name) {
		char want[80];
		name_form(s->opt.service, want, sizeof want);
		if (strcmp(want, f->name_service) != 0)
			return 0;
	}
	ttlog_reader *r = NULL;
	/* A range after every event: a closed segment with a sound index is
	 * read through it (HEAD, END, INDX and the chunks that are not event
	 * blocks), and the index's block times give its end, so that `--last`
	 * costs what `--since` does. Any other file is read whole, lazily
	 * (block headers, not records). */
	int rc = ttlog_reader_open_range(f->path, TTLOG_READER_LAZY, INT64_MAX - 1, INT64_MAX, &r);
	if (!r) {
		store_report(s, rc, f->path, ttlog_strerror(rc));
		return 0;
	}
	if (rc != TTLOG_OK)
		store_report(s, rc, f->path, ttlog_reader_error(r));
	const struct ttlog_file_info *fi = ttlog_reader_info(r);
	int any = 0;
	if (!s->opt.service || strcmp(fi->service, s->opt.service) == 0) {
		int64_t e;
		if (fi->indexed) {
			any = r->index_blocks != 0;
			e = any ? ttlog__reader_ticks_to_ns(r, r->index_last_ticks) : fi->created_ns;
		} else {
			any = fi->events != 0;
			e = any ? fi->last_ns : fi->created_ns;
		}
		if (e > *end)
			*end = e;
	}
	ttlog_reader_close(r);
	return any;
}

/*
 * The end of a store without reading all of it. A segment holds nothing
 * logged after the next segment of its stream was started (its events are
 * drained in order), so of a stream only the newest segment that has
 * events is read: through its index when it is closed and the index
 * checks (the index's block times give the end), else lazily (block
 * headers, not records); snapshots and files whose names are not a
 * writer's are read lazily too. The files of another
 * service (by name, then by HEAD) are left out.
 */
TTLOG_API int ttlog_store_end(const char *const *paths, size_t npaths,
			      const struct ttlog_store_options *opt, int64_t *end_ns)
{
	if (!end_ns)
		return TTLOG_E_INVALID;
	*end_ns = 0;
	ttlog_store *s = NULL;
	int rc = store_new(paths, npaths, opt, &s);
	if (rc != TTLOG_OK)
		return rc;
	struct sfile **segs = malloc((s->nfiles ? s->nfiles : 1) * sizeof *segs);
	if (!segs) {
		ttlog_store_close(s);
		return TTLOG_E_NOMEM;
	}
	size_t nsegs = 0;
	int64_t end = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		if (s->files[i]->seg_name)
			segs[nsegs++] = s->files[i];
		else
			end_of_file(s, s->files[i], &end);
	}
	if (nsegs > 1)
		qsort(segs, nsegs, sizeof *segs, by_stream);
	/* Each stream from its newest segment back to one with events. */
	for (size_t k = nsegs; k-- > 0;) {
		if (!end_of_file(s, segs[k], &end))
			continue;
		while (k > 0 && segs[k - 1]->pid == segs[k]->pid &&
		       strcmp(segs[k - 1]->name_service, segs[k]->name_service) == 0)
			k--;
	}
	free(segs);
	*end_ns = end;
	rc = s->status;
	ttlog_store_close(s);
	return rc;
}

TTLOG_API size_t ttlog_store_files(const ttlog_store *s, const struct ttlog_store_file *const **files)
{
	if (files)
		*files = s ? (const struct ttlog_store_file *const *)s->pub : NULL;
	return s ? s->nfiles : 0;
}

TTLOG_API int ttlog_store_status(const ttlog_store *s)
{
	return s ? s->status : TTLOG_E_INVALID;
}

TTLOG_API const char *ttlog_store_error(const ttlog_store *s)
{
	return s ? s->error : NULL;
}

TTLOG_API struct ttlog_store_counters ttlog_store_counters(const ttlog_store *s)
{
	struct ttlog_store_counters c = {0};
	if (!s)
		return c;
	c = s->counters;
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct ttlog_reader_counters *rc = ttlog_reader_counters(s->files[i]->r);
		if (!rc)
			continue;
		c.blocks += rc->blocks;
		c.blocks_decoded += rc->blocks_decoded;
		c.blocks_skipped += rc->blocks_skipped;
	}
	return c;
}

/* ---- Following ------------------------------------------------------------ */

/* The directory a source's files are in. */
static char *source_dir(const char *src)
{
	struct stat st;
	if (stat(src, &st) == 0 && S_ISDIR(st.st_mode))
		return strdup(src);
	const char *slash = strrchr(src, '/');
	if (!slash)
		return strdup(".");
	if (slash == src)
		return strdup("/");
	return strndup(src, (size_t)(slash - src));
}

static int watch(struct ttlog_store *s)
{
	s->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (s->inotify < 0)
		return TTLOG_E_IO;
	for (size_t i = 0; i < s->nsources; i++) {
		char *d = source_dir(s->sources[i]);
		if (!d)
			return TTLOG_E_NOMEM;
		inotify_add_watch(s->inotify, d,
				  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
		free(d);
	}
	return TTLOG_OK;
}

/* Opens again the files that grew, adds new ones. Returns 1 if anything
 * may have new events. */
static int refresh(struct ttlog_store *s)
{
	int any = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct sfile *f = s->files[i];
		struct stat st;
		if (!f->r || stat(f->path, &st) != 0 || (long long)st.st_size == f->size)
			continue;
		uint64_t start = ttlog_reader_info(f->r)->read_size;
		open_file(s, i, start);
		any = 1;
	}
	size_t before = s->nfiles;
	for (size_t i = 0; i < s->nsources; i++)
		scan_source(s, s->sources[i]);
	for (size_t i = before; i < s->nfiles; i++) {
		open_file(s, i, 0);
		any = 1;
	}
	if (any) {
		if (refresh_pub(s) != 0 || heap_build(s) != 0)
			return TTLOG_E_NOMEM;
		/* Files whose readers were not replaced have nothing new. */
	}
	return any;
}

TTLOG_API int ttlog_store_follow(ttlog_store *s, int timeout_ms)
{
	if (!s || s->part) /* a part's files are the whole store's, as they were */
		return -TTLOG_E_INVALID;
	if (s->inotify < 0) {
		int rc = watch(s);
		if (rc != TTLOG_OK)
			return -rc;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* Drain what inotify has, then look: a change that comes
		 * after the look wakes the poll below. */
		char buf[4096];
		while (read(s->inotify, buf, sizeof buf) > 0) {
		}
		int any = refresh(s);
		if (any < 0)
			return any;
		if (any && s->heap_len)
			return 1;
		int wait = timeout_ms;
		if (timeout_ms >= 0) {
			struct timespec t1;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long long spent = (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
					  (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if (spent >= timeout_ms)
				return 0;
			wait = (int)(timeout_ms - spent);
		}
		struct pollfd p = {.fd = s->inotify, .events = POLLIN};
		int n = poll(&p, 1, wait);
		if (n < 0 && errno != EINTR)
			return -TTLOG_E_IO;
		if (n == 0)
			return 0;
	}
}

TTLOG_API void ttlog_store_close(ttlog_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		ttlog_reader_close(s->files[i]->r);
		free(s->files[i]->path);
		free(s->files[i]->file);
		free(s->files[i]->name_service);
		free(s->files[i]);
	}
	for (size_t i = 0; i < s->nsources; i++)
		free(s->sources[i]);
	if (s->inotify >= 0)
		close(s->inotify);
	free(s->sources);
	free(s->files);
	free(s->pub);
	free(s->heap);
	free(s->pend);
	free(s->seen);
	free(s->seen_buf);
	free(s->clocks);
	free(s->clock_order);
	free(s->error);
	free((char *)s->opt.service);
	free(s);
}
