/* SPDX-License-Identifier: MIT */
/*
 * file_parts.h - the files of a list cut into parts by time, so that the
 * file jobs (cli/file_jobs.h) share a file's events between threads rather
 * than give each thread whole files: with nine equal files on two threads
 * one thread reads five, and one large file is read by one thread alone.
 *
 * Job j of the file jobs is part j % nparts of file j / nparts. Whether a
 * file is cut is decided by the first worker that reaches it: it opens the
 * file lazily (TTLOG_READER_LAZY: no block is decoded) and asks
 * ttlog_reader_cut_times() for the cuts. A file is cut only when that open
 * found nothing wrong, its --service is wanted, and the cuts exist (see
 * ttlog_reader_cut_times()); then the parts' events, one part after the
 * other, are exactly the file's, so the output stays byte for byte that of
 * one thread. Each worker reads its parts of a file through a reader of
 * its own, kept for its later parts and moved on to each with
 * ttlog_reader_resume(), so a part costs no open. Without contexts or
 * spans no block outside a part's range is decoded; with them a worker's
 * reader follows the scopes through the other workers' parts between its
 * own (decompressed, their events not made), so that each part starts with
 * the scopes open at its start: about a third of what rendering those
 * parts' text costs. The other workers' readers share the bytes the first
 * one read (ttlog_reader_open_same()): the file is read once.
 *
 * A file that is not cut is read whole by its part 0, the way a file is
 * read without parts (an eager open, its problems found in file order);
 * its other parts do nothing.
 *
 * A problem found while reading a cut file (a block whose records do not
 * check, under a valid checksum) is found by the reader of the part that
 * reads that block; the file's end reports the problem of the earliest
 * such part.
 */
#ifndef TTLOG__CLI_FILE_PARTS_H
#define TTLOG__CLI_FILE_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/* Parts a file is cut into at most: enough that the output a job ahead
 * holds (cli/file_jobs.h) is a small part of a file's. */
#define CLI_FILE_PARTS 32u

struct cli_file_parts;

/* What a job is to do. */
enum cli_part_kind {
	CLI_PART_NONE,  /* nothing: a part of a file that is not cut, or past its cuts */
	CLI_PART_WHOLE, /* the whole file, opened as without parts (part 0 of an uncut file) */
	CLI_PART_RANGE, /* the events of [since, until] through r */
};

struct cli_file_part {
	enum cli_part_kind kind;
	size_t file;          /* the file's index in the list */
	unsigned part;        /* the part's index in the file */
	ttlog_reader *r;      /* CLI_PART_RANGE: the worker's reader of the file */
	int64_t since, until; /* CLI_PART_RANGE: the part's times */
};

/*
 * Parts of the files files[0..nfiles-1] for nworkers workers; nparts is 1
 * (no file is cut) or CLI_FILE_PARTS. service, if not NULL, is --service:
 * a file of another service is not cut. NULL when memory is short.
 */
struct cli_file_parts *cli_file_parts_new(char **files, size_t nfiles, unsigned nworkers,
					  unsigned nparts, const char *service);

/* Decides now, on the calling thread, whether file `file` is cut (the
 * reader opened for that is kept for worker 0's parts): for one file,
 * which is worth the threads only when it is cut. Returns 1 if it is. */
int cli_file_parts_probe(struct cli_file_parts *p, size_t file);

/* After cli_file_parts_probe() found file `file` not cut: a reader of the
 * bytes the probe read, opened with flags (as ttlog_reader_open_ex()
 * opens a file that holds them), and the status of that open in *rc;
 * NULL if the probe read no bytes (the file is then the caller's to
 * open). The probe's reader is closed. */
ttlog_reader *cli_file_parts_reopen(struct cli_file_parts *p, size_t file, unsigned flags,
				    int *rc);

/* The jobs to run: nfiles * nparts. */
size_t cli_file_parts_jobs(const struct cli_file_parts *p);

/* What job is on worker `worker` (a cli_file_job_fn's arguments): fills
 * *part; for CLI_PART_RANGE with the worker's reader, its range not set
 * yet (cli_file_part_begin()). */
void cli_file_parts_take(struct cli_file_parts *p, size_t job, unsigned worker,
			 struct cli_file_part *part);

/* Sets the range of a CLI_PART_RANGE part's reader: the part's times within
 * [since, until] (the command's range, as its filter resolved it for the
 * file), every level in level_mask; rewinds the reader. Returns 0 when the
 * two ranges do not meet: the part has no event to read. */
int cli_file_part_begin(const struct cli_file_part *part, int64_t since, int64_t until,
			unsigned level_mask);

/* After a CLI_PART_RANGE part was read: notes a problem its reader found. */
void cli_file_part_end(struct cli_file_parts *p, const struct cli_file_part *part,
		       unsigned worker);

/* Whether job is the last part of its file (its end is the file's end). */
int cli_file_parts_last(const struct cli_file_parts *p, size_t job);

/* The file of a job. */
size_t cli_file_parts_file(const struct cli_file_parts *p, size_t job);

/*
 * At the end of file `file` (after its last part, on the calling thread):
 * returns 0 for a file that was not cut. For a cut file, returns 1 with
 * the reader whose status the file reports in *r, now the caller's to
 * close: that of the earliest part whose reader found a problem, else
 * any. *r is NULL, with the open's status in *rc, when the earliest such
 * part is one whose reader could not be opened (the file changed or
 * memory ran short since its first open). The workers' other readers of
 * the file are closed.
 */
int cli_file_parts_end_file(struct cli_file_parts *p, size_t file, ttlog_reader **r, int *rc);

/* Closes every reader still open and frees p. */
void cli_file_parts_free(struct cli_file_parts *p);

#endif /* TTLOG__CLI_FILE_PARTS_H */
