/* SPDX-License-Identifier: MIT */
/*
 * bench_snapshot.c - ttlog-bench-snapshot: how long ttlog_snapshot_path()
 * takes for full rings of 1, 8 and 64 MiB in total, and how compact the
 * resulting file is compared with the text `ttlog view` prints for it.
 *
 * For each size a child process (forked before ttlog is initialised, so that
 * every size starts from a fresh library state: rings cannot be resized or
 * freed once made) sets up ttlog, starts the worker threads and repeats:
 * fill every ring until it has wrapped at least twice, then time
 * ttlog_snapshot_path() from the call to its return (the file is fsync'd and
 * linked under its final name by then). The median is reported.
 *
 * The workers stay alive, blocked between rounds, while the snapshot is
 * taken: the rings are those of live threads, as in a program that is
 * running when it asks for a snapshot. Nobody logs during the snapshot, so
 * nothing is torn.
 *
 * The file of the last repetition is read back with the reader API (events,
 * whether every ring wrapped) and printed with `ttlog view` into a pipe whose
 * bytes are counted. A ring keeps at most its size of history and perhaps a
 * little less (whole records, possibly whole blocks), so events are counted
 * from the file, never derived from the ring size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ttlog.h>

#include "bench_common.h"

#define MIB ((size_t)1 << 20)

struct size_case {
	unsigned threads;
	size_t ring;        /* bytes per thread */
	size_t memory_cap;  /* 0: ttlog's default (64 MiB) */
};

static const struct size_case cases[] = {
	{1, 1 * MIB, 0},
	{8, 1 * MIB, 0},
	{8, 8 * MIB, 64 * MIB},
};

/* Runs in the child: measures one size and prints its JSON line. */
static void run_case(const struct size_case *c, const struct bench_opts *o, const char *dir,
		     unsigned reps)
{
	unsigned ring_mib = (unsigned)(c->threads * c->ring / MIB);
	bench_ttlog_init(dir, c->ring, c->memory_cap);
	struct bench_pool *pool = bench_pool_start(c->threads, bench_events_to_wrap(c->ring, 2));
	bench_settle();

	double ms[16];
	char path[PATH_MAX];
	for (unsigned r = 0; r < reps; r++) {
		bench_pool_fill(pool); /* fresh content for every repetition */
		int64_t t0 = bench_now_ns();
		int rc = ttlog_snapshot_path("bench", path, sizeof path);
		int64_t t1 = bench_now_ns();
		if (rc != TTLOG_OK)
			bench_die("ttlog_snapshot_path: %s", ttlog_strerror(rc));
		ms[r] = (double)(t1 - t0) / 1e6;
		/* Only the last file is analysed; the others would just fill
		 * the page cache and the disk. */
		if (r + 1 < reps && unlink(path) != 0)
			bench_die("%s: %s", path, strerror(errno));
	}
	char line[512];
	int len = snprintf(line, sizeof line, "%u MiB snapshot times (ms):", ring_mib);
	for (unsigned r = 0; r < reps && len > 0 && (size_t)len < sizeof line; r++)
		len += snprintf(line + len, sizeof line - (size_t)len, " %.2f", ms[r]);
	bench_note("%s", line);

	struct bench_file f;
	bench_read_file(path, &f);
	if (f.threads != c->threads)
		bench_die("%s: %u threads in the file, expected %u", path, f.threads, c->threads);
	if (f.threads_wrapped != c->threads)
		bench_note("warning: only %u of %u rings had wrapped twice", f.threads_wrapped,
			   c->threads);
	if (f.torn)
		bench_note("warning: %llu torn records in %s", (unsigned long long)f.torn, path);
	if (f.events == 0)
		bench_die("%s: no events", path);
	uint64_t file_bytes = bench_file_size(path);

	uint64_t text_bytes = 0;
	char *argv[] = {(char *)o->ttlog, "view", "--color=never", path, NULL};
	int status = bench_run(argv, &text_bytes);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("%s view %s failed (status %#x)", o->ttlog, path, status);

	double median = bench_median(ms, reps);
	printf("{\"bench\":\"snapshot\",\"ring_mib\":%u,\"threads\":%u,\"events\":%llu,\"ms\":%.3f,"
	       "\"file_bytes\":%llu,\"bytes_per_event\":%.2f,\"text_bytes_per_event\":%.2f,"
	       "\"text_ratio\":%.2f}\n",
	       ring_mib, c->threads, (unsigned long long)f.events, median,
	       (unsigned long long)file_bytes, (double)file_bytes / (double)f.events,
	       (double)text_bytes / (double)f.events, (double)text_bytes / (double)file_bytes);
	fflush(stdout);
	bench_pool_stop(pool);
	if (unlink(path) != 0)
		bench_die("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Times ttlog_snapshot_path() for full rings of 1 MiB (1 thread), 8 MiB\n"
		    "(8 x 1 MiB) and 64 MiB (8 x 8 MiB), each filled with fresh events before\n"
		    "every repetition (median of 5; --quick: 3), and reports the events, the\n"
		    "file size and the size of the text `ttlog view` prints for that file.",
		    &o);
	bench_clear_ttlog_env();
	bench_apply_encrypt(&o);
	bench_find_cli(&o);
	const char *dir = bench_scratch_create(&o);
	unsigned reps = o.quick ? 3 : 5;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fflush(stdout); /* the child must not inherit buffered output */
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0)
			bench_die("fork: %s", strerror(errno));
		if (pid == 0) {
			run_case(&cases[i], &o, dir, reps);
			fflush(stdout);
			_exit(0);
		}
		int status = bench_wait(pid, 600);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bench_die("the measurement of case %zu failed (status %#x)", i + 1, status);
	}
	bench_scratch_remove();
	return 0;
}
