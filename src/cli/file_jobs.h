/* SPDX-License-Identifier: MIT */
/*
 * file_jobs.h - the files of a list printed on N threads at once, their
 * output written in the order of the list (`ttlog view FILE...` with
 * --jobs N > 1).
 *
 * Each file is a job, or each part of a file (cli/file_parts.h, whose
 * jobs these "files" then are): a thread takes the next job of the list
 * and runs the caller's work function on it, which reads the file or part
 * and makes its lines. What a job ahead of the one being written writes does not go to
 * stdout or stderr: it is kept as a list of chunks, each for one of the two
 * streams, in the order written. The calling thread writes the jobs'
 * chunks one job after the other, in list order; once it has written all a
 * job held, that job's turn has come and it writes the rest itself, while
 * the calling thread waits for its end. So the output, stdout and stderr
 * interleaved, is byte for byte what one thread printing file after file
 * writes, for any N.
 *
 * No event crosses between threads: a file is read, merged in time order
 * and rendered where it was opened, and only finished blocks of output are
 * handed over. That is the difference from the render pool
 * (cli/render_pool.h), which hands events over one by one.
 *
 * Memory: while the jobs ahead of the one being written hold more than the
 * memory given to cli_file_jobs_run() (256 KiB a thread at least), they
 * wait until the writer has taken some; so a fast job ahead of a slow
 * output holds at most that, and a chunk. The job being written never
 * waits.
 *
 * Stopping: when a write fails (a closed pipe, a full disk), every job is
 * told so by cli_job_out_put()'s result and should end early; the failure
 * is left in stdout's error flag for cli_stdout_failed().
 */
#ifndef TTLOG__CLI_FILE_JOBS_H
#define TTLOG__CLI_FILE_JOBS_H

#include <stddef.h>

#include "render/text_buf.h"

struct cli_file_jobs;

/* Where one job's output goes (handed to the work function). */
struct cli_job_out {
	struct cli_file_jobs *jobs;
	size_t file;
};

/*
 * The work of one file: index `file` of the list, on worker thread
 * `worker` (0 to N-1: a worker runs one job at a time, so per-worker state
 * needs no lock).
 */
typedef void cli_file_job_fn(void *arg, unsigned worker, size_t file, struct cli_job_out *out);

/**
 * Appends the bytes of b for stream fd (1: stdout, 2: stderr) to the job's
 * output: writes them at the job's turn, copies them into its held chunks
 * before it. b is left empty, its memory kept. May wait while the job holds
 * more than its cap. Returns 1, or 0 once the output has failed: the job
 * should stop.
 */
int cli_job_out_put(struct cli_job_out *out, int fd, struct render_buf *b);

/** Whether the output has failed (cli_job_out_put() would return 0). */
int cli_job_out_stopped(struct cli_job_out *out);

/* The rest of printing file `file` once its job's output is written, on
 * the calling thread (what needs it: a summary, a reader's status);
 * returns the file's exit status. */
typedef int cli_file_end_fn(void *arg, size_t file);

/**
 * Works through the files 0 to nfiles-1 on min(nthreads, nfiles) threads,
 * their output held to `memory` bytes in all; on the calling thread,
 * writes each file's output in list order and then calls end(arg, file)
 * (if end is not NULL),
 * until the last file or the first output that fails; then stops the
 * threads. Returns the highest status end() returned (CLI_EXIT_OK
 * if none), or -1 if no thread could be started (the caller then prints
 * the files itself). A file whose end was not called (the output failed)
 * is the caller's to clean up.
 */
int cli_file_jobs_run(unsigned nthreads, size_t nfiles, size_t memory, cli_file_job_fn *work,
		      cli_file_end_fn *end, void *arg);

#endif /* TTLOG__CLI_FILE_JOBS_H */
