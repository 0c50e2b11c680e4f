/* SPDX-License-Identifier: MIT */
/*
 * store_parts.h - a store cut into parts by time for the file jobs
 * (cli/file_jobs.h): `ttlog view DIR` and `ttlog export DIR` (jsonl,
 * logfmt, csv) with --jobs N > 1. The whole store, opened on the calling
 * thread, is cut by ttlog_store_cut_times(); job k opens part k from it
 * (ttlog_store_open_part()) on a worker, makes its lines and ends it with
 * cli_store_parts_end(), which keeps the problems the part's readers
 * found while reading. Once the jobs are done, the calling thread has the
 * whole store's files and their details for the summaries, and reports
 * those problems: each file's first, the earliest part's, which is what
 * one reading would have found first; so the output is byte for byte one
 * thread's.
 */
#ifndef TTLOG__CLI_STORE_PARTS_H
#define TTLOG__CLI_STORE_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/* Parts a store is cut into for each thread: enough that a thread whose
 * parts are slow does not keep the others waiting long, few enough that
 * the files each part opens cost little. */
#define CLI_STORE_PARTS_PER_JOB 4u

struct cli_store_part_problems;

struct cli_store_parts {
	ttlog_store *whole;
	int64_t cuts[TTLOG_READER_MAX_PARTS - 1];
	size_t ncuts;                      /* the jobs are ncuts + 1 */
	struct cli_store_part_problems *problems; /* one per job */
};

/* Cuts the whole store s (opened, not read yet) for jobs threads. Returns
 * the number of jobs, or 0 if it is not cut (it is then read on one
 * thread, from its first event). */
size_t cli_store_parts_cut(struct cli_store_parts *sp, ttlog_store *s, unsigned jobs);

/* Opens job's part; NULL if it cannot be (kept as a problem). */
ttlog_store *cli_store_parts_open(struct cli_store_parts *sp, size_t job);

/* After job's part was read: keeps the problems of its files, and closes
 * it. */
void cli_store_parts_end(struct cli_store_parts *sp, size_t job, ttlog_store *part);

/* Reports the problems the parts found on stderr as `who: ...`, after
 * cli_store_report() of the whole store; returns CLI_EXIT_DATA if there
 * was one, else CLI_EXIT_OK. */
int cli_store_parts_report(const struct cli_store_parts *sp, const char *who);

/* Frees what sp holds (not the whole store). */
void cli_store_parts_free(struct cli_store_parts *sp);

#endif /* TTLOG__CLI_STORE_PARTS_H */
