/* SPDX-License-Identifier: MIT */
/*
 * store_parts.c - a store cut into parts by time for the file jobs (see
 * store_parts.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "render/text_buf.h"
#include "store_parts.h"

/* A problem a part's reader found while reading: the file's path (NULL:
 * the part could not be opened), its status and message. */
struct problem {
	char *path, *error;
	int status;
};

/* The problems of one part. */
struct cli_store_part_problems {
	size_t n;
	struct problem *p;
};

static void add_problem(struct cli_store_part_problems *pp, const char *path, int status,
			const char *error)
{
	pp->p = render_xrealloc(pp->p, (pp->n + 1) * sizeof *pp->p);
	pp->p[pp->n++] = (struct problem){path ? render_xstrdup(path) : NULL,
					  error && *error ? render_xstrdup(error) : NULL, status};
}

/* The problem of file path among pp's, or NULL. */
static const struct problem *problem_of(const struct cli_store_part_problems *pp,
					const char *path)
{
	for (size_t k = 0; k < pp->n; k++)
		if (pp->p[k].path && strcmp(pp->p[k].path, path) == 0)
			return &pp->p[k];
	return NULL;
}

/* Whether p is the problem the whole store found opening the file, which
 * cli_store_report() tells. */
static int same_as_whole(const struct problem *p, const struct ttlog_store_file *f)
{
	if (p->status != f->status)
		return 0;
	const char *a = p->error ? p->error : "", *b = f->error ? f->error : "";
	return strcmp(a, b) == 0;
}

size_t cli_store_parts_cut(struct cli_store_parts *sp, ttlog_store *s, unsigned jobs)
{
	memset(sp, 0, sizeof *sp);
	if (jobs < 2)
		return 0;
	size_t want = (size_t)jobs * CLI_STORE_PARTS_PER_JOB;
	if (want > TTLOG_READER_MAX_PARTS)
		want = TTLOG_READER_MAX_PARTS;
	sp->ncuts = ttlog_store_cut_times(s, want, sp->cuts);
	if (!sp->ncuts)
		return 0;
	sp->whole = s;
	sp->problems = render_xrealloc(NULL, (sp->ncuts + 1) * sizeof *sp->problems);
	memset(sp->problems, 0, (sp->ncuts + 1) * sizeof *sp->problems);
	return sp->ncuts + 1;
}

ttlog_store *cli_store_parts_open(struct cli_store_parts *sp, size_t job)
{
	int64_t since = job ? sp->cuts[job - 1] : INT64_MIN;
	int64_t until = job < sp->ncuts ? sp->cuts[job] - 1 : INT64_MAX;
	ttlog_store *p = NULL;
	int rc = ttlog_store_open_part(sp->whole, since, until, &p);
	if (!p)
		add_problem(&sp->problems[job], NULL, rc, NULL);
	return p;
}

void cli_store_parts_end(struct cli_store_parts *sp, size_t job, ttlog_store *part)
{
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(part, &files);
	for (size_t i = 0; i < nf; i++)
		if (files[i]->status != TTLOG_OK)
			add_problem(&sp->problems[job], files[i]->path, files[i]->status,
				    files[i]->error);
	ttlog_store_close(part);
}

int cli_store_parts_report(const struct cli_store_parts *sp, const char *who)
{
	if (!sp->problems)
		return CLI_EXIT_OK;
	int status = CLI_EXIT_OK;
	size_t njobs = sp->ncuts + 1;
	for (size_t j = 0; j < njobs; j++)
		for (size_t k = 0; k < sp->problems[j].n; k++)
			if (!sp->problems[j].p[k].path) {
				cli_sync_stdout();
				fprintf(stderr, "%s: %s\n", who, ttlog_strerror(sp->problems[j].p[k].status));
				status = CLI_EXIT_DATA;
			}
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(sp->whole, &files);
	for (size_t i = 0; i < nf; i++) {
		const struct problem *p = NULL;
		for (size_t j = 0; j < njobs && !p; j++)
			p = problem_of(&sp->problems[j], files[i]->path);
		if (!p || same_as_whole(p, files[i]))
			continue;
		cli_sync_stdout();
		if (p->error)
			fprintf(stderr, "%s: %s\n", who, p->error);
		else
			fprintf(stderr, "%s: %s: %s\n", who, p->path, ttlog_strerror(p->status));
		status = CLI_EXIT_DATA;
	}
	return status;
}

void cli_store_parts_free(struct cli_store_parts *sp)
{
	if (sp->problems)
		for (size_t j = 0; j <= sp->ncuts; j++) {
			struct cli_store_part_problems *pp = &sp->problems[j];
			for (size_t k = 0; k < pp->n; k++) {
				free(pp->p[k].path);
				free(pp->p[k].error);
			}
			free(pp->p);
		}
	free(sp->problems);
	memset(sp, 0, sizeof *sp);
}
