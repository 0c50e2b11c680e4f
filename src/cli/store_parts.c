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

/* The files whose readers found a problem while a part was read: each
 * file's path (NULL: the part could not be opened), status and message. */
struct cli_store_part_problems {
	size_t n;
	char **path, **error;
	int *status;
};

static char *xstrdup(const char *t)
{
	size_t n = strlen(t) + 1;
	return memcpy(render_xrealloc(NULL, n), t, n);
}

static void add_problem(struct cli_store_part_problems *pp, const char *path, int status,
			const char *error)
{
	pp->path = render_xrealloc(pp->path, (pp->n + 1) * sizeof *pp->path);
	pp->error = render_xrealloc(pp->error, (pp->n + 1) * sizeof *pp->error);
	pp->status = render_xrealloc(pp->status, (pp->n + 1) * sizeof *pp->status);
	pp->path[pp->n] = path ? xstrdup(path) : NULL;
	pp->error[pp->n] = error && *error ? xstrdup(error) : NULL;
	pp->status[pp->n] = status;
	pp->n++;
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
			if (!sp->problems[j].path[k]) {
				cli_sync_stdout();
				fprintf(stderr, "%s: %s\n", who, ttlog_strerror(sp->problems[j].status[k]));
				status = CLI_EXIT_DATA;
			}
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(sp->whole, &files);
	for (size_t i = 0; i < nf; i++) {
		int done = 0;
		for (size_t j = 0; j < njobs && !done; j++) {
			const struct cli_store_part_problems *pp = &sp->problems[j];
			for (size_t k = 0; k < pp->n && !done; k++) {
				if (!pp->path[k] || strcmp(pp->path[k], files[i]->path) != 0)
					continue;
				cli_sync_stdout();
				if (pp->error[k])
					fprintf(stderr, "%s: %s\n", who, pp->error[k]);
				else
					fprintf(stderr, "%s: %s: %s\n", who, pp->path[k],
						ttlog_strerror(pp->status[k]));
				status = CLI_EXIT_DATA;
				done = 1;
			}
		}
	}
	return status;
}

void cli_store_parts_free(struct cli_store_parts *sp)
{
	if (sp->problems)
		for (size_t j = 0; j <= sp->ncuts; j++) {
			struct cli_store_part_problems *pp = &sp->problems[j];
			for (size_t k = 0; k < pp->n; k++) {
				free(pp->path[k]);
				free(pp->error[k]);
			}
			free(pp->path);
			free(pp->error);
			free(pp->status);
		}
	free(sp->problems);
	memset(sp, 0, sizeof *sp);
}
