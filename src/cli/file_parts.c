/* SPDX-License-Identifier: MIT */
/*
 * file_parts.c - the files of a list cut into parts by time for the file
 * jobs (see cli/file_parts.h).
 *
 * A mutex guards each file's decision (not known, whole, cut), its cuts
 * and its source reader; it is taken once or twice per job. Everything
 * else is a worker's own: the slot of a file and a worker (its reader and
 * the first part it found a problem in) is written only by that worker
 * while the file's jobs run, and read by the calling thread at the file's
 * end, after every job of the file has ended (cli/file_jobs.c's mutex
 * orders the two). The one exception is the source: the other workers
 * open readers of its bytes while its owner reads events through it,
 * which ttlog_reader_open_same() allows (it reads only what was set before
 * the reader was handed out, and the bytes' count).
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "file_parts.h"

enum decision { NOT_KNOWN, WHOLE, CUT };

struct file_state {
	enum decision decision;
	ttlog_reader *source; /* CUT: the reader whose bytes the others share */
	size_t ncuts;
	int64_t cuts[CLI_FILE_PARTS - 1];
};

struct slot {
	int opened;        /* the worker opened the file */
	ttlog_reader *r;   /* its reader of a cut file, or NULL */
	int rc;            /* the open's status */
	unsigned bad_part; /* the first part its reader found a problem in; UINT_MAX: none */
};

struct cli_file_parts {
	pthread_mutex_t mu;
	char **files;
	size_t nfiles;
	unsigned nworkers, nparts;
	const char *service;
	struct file_state *state; /* nfiles */
	struct slot *slots;       /* nfiles * nworkers */
};

struct cli_file_parts *cli_file_parts_new(char **files, size_t nfiles, unsigned nworkers,
					  unsigned nparts, const char *service)
{
	struct cli_file_parts *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->files = files;
	p->nfiles = nfiles;
	p->nworkers = nworkers ? nworkers : 1;
	p->nparts = nparts > 1 ? CLI_FILE_PARTS : 1;
	p->service = service;
	p->state = calloc(nfiles ? nfiles : 1, sizeof *p->state);
	p->slots = calloc(nfiles ? nfiles * p->nworkers : 1, sizeof *p->slots);
	if (!p->state || !p->slots || pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p->state);
		free(p->slots);
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < nfiles * p->nworkers; i++)
		p->slots[i].bad_part = UINT_MAX;
	return p;
}

size_t cli_file_parts_jobs(const struct cli_file_parts *p)
{
	return p->nfiles * p->nparts;
}

size_t cli_file_parts_file(const struct cli_file_parts *p, size_t job)
{
	return job / p->nparts;
}

int cli_file_parts_last(const struct cli_file_parts *p, size_t job)
{
	return job % p->nparts == p->nparts - 1;
}

/* Opens file f lazily for slot s, and decides whether it is cut (the
 * same for every worker: the cuts depend only on the file's bytes). */
static enum decision open_slot(struct cli_file_parts *p, size_t f, struct slot *s,
			       struct file_state *st)
{
	s->opened = 1;
	s->rc = ttlog_reader_open_ex(p->files[f], TTLOG_READER_LAZY, &s->r);
	const struct ttlog_file_info *info = s->r ? ttlog_reader_info(s->r) : NULL;
	/* Only a complete file: one still being written may have grown by
	 * the time another worker opens it. */
	int usable = s->rc == TTLOG_OK && info && info->complete &&
		     (!p->service || strcmp(info->service, p->service) == 0);
	st->ncuts = usable ? ttlog_reader_cut_times(s->r, p->nparts, st->cuts) : 0;
	return st->ncuts ? CUT : WHOLE;
}

int cli_file_parts_probe(struct cli_file_parts *p, size_t file)
{
	if (p->nparts == 1 || file >= p->nfiles)
		return 0;
	struct file_state *st = &p->state[file];
	if (st->decision == NOT_KNOWN) {
		struct slot *s = &p->slots[file * p->nworkers];
		st->decision = open_slot(p, file, s, st);
		st->source = st->decision == CUT ? s->r : NULL;
	}
	return st->decision == CUT;
}

ttlog_reader *cli_file_parts_reopen(struct cli_file_parts *p, size_t file, unsigned flags,
				    int *rc)
{
	struct slot *s = &p->slots[file * p->nworkers];
	ttlog_reader *r = NULL; /* stays NULL when there are no bytes to share */
	*rc = s->r ? ttlog_reader_open_same(s->r, flags, &r) : TTLOG_E_INVALID;
	ttlog_reader_close(s->r);
	s->r = NULL;
	return r;
}

void cli_file_parts_take(struct cli_file_parts *p, size_t job, unsigned worker,
			 struct cli_file_part *part)
{
	size_t f = job / p->nparts;
	unsigned k = (unsigned)(job % p->nparts);
	*part = (struct cli_file_part){.kind = CLI_PART_NONE, .file = f, .part = k};
	if (p->nparts == 1) {
		part->kind = CLI_PART_WHOLE;
		return;
	}
	struct slot *s = &p->slots[f * p->nworkers + worker];
	struct file_state st;
	pthread_mutex_lock(&p->mu);
	st = p->state[f];
	pthread_mutex_unlock(&p->mu);

	if (st.decision == NOT_KNOWN) {
		struct file_state mine = {0};
		enum decision d = open_slot(p, f, s, &mine);
		pthread_mutex_lock(&p->mu);
		if (p->state[f].decision == NOT_KNOWN) {
			mine.decision = d;
			mine.source = d == CUT ? s->r : NULL;
			p->state[f] = mine;
		}
		st = p->state[f];
		pthread_mutex_unlock(&p->mu);
	} else if (st.decision == CUT && !s->opened) {
		/* The file's bytes as another worker read them: no second read.
		 * The source stays open until the file's end. */
		s->opened = 1;
		s->rc = ttlog_reader_open_same(st.source, TTLOG_READER_LAZY, &s->r);
	}
	if (st.decision == WHOLE) {
		if (s->r) { /* opened only to decide */
			ttlog_reader_close(s->r);
			s->r = NULL;
		}
		if (k == 0)
			part->kind = CLI_PART_WHOLE;
		return;
	}
	if (k > st.ncuts)
		return; /* fewer cuts than parts */
	if (!s->r || s->rc != TTLOG_OK) {
		/* Cut by another worker's open, but this one's failed. */
		if (s->bad_part == UINT_MAX)
			s->bad_part = k;
		return;
	}
	part->kind = CLI_PART_RANGE;
	part->r = s->r;
	part->since = k == 0 ? INT64_MIN : st.cuts[k - 1];
	part->until = k == st.ncuts ? INT64_MAX : st.cuts[k] - 1;
}

int cli_file_part_begin(const struct cli_file_part *part, int64_t since, int64_t until,
			unsigned level_mask)
{
	int64_t lo = since > part->since ? since : part->since;
	int64_t hi = until < part->until ? until : part->until;
	if (lo > hi)
		return 0;
	/* A worker takes a file's parts in order: its reader goes on from
	 * its last part (which, with scopes, spares reading the file's start
	 * again), or starts over where it cannot. */
	if (!ttlog_reader_resume(part->r, lo, hi, level_mask)) {
		ttlog_reader_set_range(part->r, lo, hi, level_mask);
		ttlog_reader_rewind(part->r);
	}
	return 1;
}

void cli_file_part_end(struct cli_file_parts *p, const struct cli_file_part *part,
		       unsigned worker)
{
	struct slot *s = &p->slots[part->file * p->nworkers + worker];
	if (part->kind == CLI_PART_RANGE && s->bad_part == UINT_MAX &&
	    ttlog_reader_status(part->r) != TTLOG_OK)
		s->bad_part = part->part;
}

int cli_file_parts_end_file(struct cli_file_parts *p, size_t file, ttlog_reader **r, int *rc)
{
	*r = NULL;
	*rc = TTLOG_OK;
	if (p->nparts == 1 || p->state[file].decision != CUT)
		return 0;
	struct slot *slots = &p->slots[file * p->nworkers], *pick = NULL;
	for (unsigned w = 0; w < p->nworkers; w++) {
		struct slot *s = &slots[w];
		if (!s->opened)
			continue;
		if (!pick || s->bad_part < pick->bad_part ||
		    (pick->bad_part == UINT_MAX && !pick->r && s->r))
			pick = s;
	}
	if (pick) {
		*r = pick->r;
		*rc = pick->rc;
		pick->r = NULL;
	}
	for (unsigned w = 0; w < p->nworkers; w++) {
		ttlog_reader_close(slots[w].r);
		slots[w].r = NULL;
	}
	return 1;
}

void cli_file_parts_free(struct cli_file_parts *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles * p->nworkers; i++)
		ttlog_reader_close(p->slots[i].r);
	pthread_mutex_destroy(&p->mu);
	free(p->state);
	free(p->slots);
	free(p);
}
