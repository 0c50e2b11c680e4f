/* SPDX-License-Identifier: MIT */
/*
 * bench_crash.c - ttlog-bench-crash: how long after a SIGSEGV the crash
 * snapshot is finished, seen from outside the crashing process.
 *
 * The parent forks a child (before anything is initialised in the parent)
 * that sets up ttlog with 8 worker threads and 1 MiB rings, fills every
 * ring until it has wrapped at least twice, and then, as the very last
 * thing before dereferencing a NULL pointer, writes a CLOCK_MONOTONIC
 * timestamp into a pipe. The workers are alive (blocked) when the fault
 * happens. The parent reads the timestamp, waits for the child with
 * waitpid() and takes the time when waitpid() returns.
 *
 * The interval therefore covers the fault, ttlog's crash handler (which
 * writes, fsyncs and links the snapshot), the handler handing the signal
 * back (the fault repeats and kills the process) and the kernel tearing the
 * process down (unmapping 8 MiB of rings and the rest) until the parent is
 * woken. It is an upper bound on the time the crash snapshot itself takes.
 * Core dumps are disabled in the child (RLIMIT_CORE 0) so that writing a
 * core file is not part of it.
 *
 * Each run checks that the child died of SIGSEGV and that exactly one new
 * snapshot exists (and no temporary), that the reader API opens it as a
 * complete file, and that it has a crash record for SIGSEGV.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ttlog.h>

#include "bench_common.h"

#define THREADS 8u
#define RING ((size_t)1 << 20)

/* The child: never returns. arg is the scratch directory. */
static void crash_child(void *arg, int fd)
{
	const char *dir = arg;
	struct rlimit no_core = {0, 0};
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		bench_die("setrlimit(RLIMIT_CORE): %s", strerror(errno));
	bench_ttlog_init(dir, RING, 0);
	struct bench_pool *pool = bench_pool_start(THREADS, bench_events_to_wrap(RING, 2));
	bench_pool_fill(pool);
	bench_settle();

	int64_t t = bench_now_ns();
	if (write(fd, &t, sizeof t) != (ssize_t)sizeof t)
		bench_die("write to the parent: %s", strerror(errno));
	/* A volatile store through a pointer the compiler cannot see is NULL:
	 * a visible NULL dereference may become a trap instruction (SIGILL),
	 * and gcc drops a plain store that only a noreturn call follows. */
	volatile int *volatile nowhere = NULL;
	*nowhere = 1;
	bench_die("the NULL dereference did not fault");
}

/* Finds the one snapshot in dir; dies if there is not exactly one file, or
 * if anything else (a temporary) is there. */
static void the_snapshot(const char *dir, char *path, size_t cap)
{
	DIR *d = opendir(dir);
	if (!d)
		bench_die("%s: %s", dir, strerror(errno));
	unsigned found = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "ttlog-", 6) != 0 || n < 6 ||
		    strcmp(e->d_name + n - 6, ".ttlog") != 0)
			bench_die("unexpected file in %s: %s", dir, e->d_name);
		found++;
		snprintf(path, cap, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (found != 1)
		bench_die("%u snapshots in %s after the crash, expected exactly 1", found, dir);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Times a crash snapshot from the outside: a child with 8 threads x 1 MiB\n"
		    "of wrapped rings dereferences NULL; the parent measures from the\n"
		    "child's timestamp just before the fault until waitpid() returns\n"
		    "(includes process teardown: an upper bound). Median of 7 runs\n"
		    "(--quick: 3). The ttlog command is not used.",
		    &o);
	bench_clear_ttlog_env();
	bench_apply_encrypt(&o);
	const char *dir = bench_scratch_create(&o);
	unsigned runs = o.quick ? 3 : 7;
	double ms[16], events[16];

	for (unsigned r = 0; r < runs; r++) {
		int rfd;
		pid_t pid = bench_fork_pipe(crash_child, (void *)dir, &rfd);
		int64_t t_fault;
		ssize_t n;
		do {
			n = read(rfd, &t_fault, sizeof t_fault);
		} while (n < 0 && errno == EINTR);
		int status = bench_wait(pid, 120);
		int64_t t_dead = bench_now_ns();
		close(rfd);
		if (n != (ssize_t)sizeof t_fault)
			bench_die("the child ended before the fault (status %#x)", status);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
			bench_die("the child did not die of SIGSEGV (status %#x)", status);

		char path[PATH_MAX];
		the_snapshot(dir, path, sizeof path);
		struct bench_file f;
		bench_read_file(path, &f);
		if (!f.crashed || f.crash_signo != SIGSEGV)
			bench_die("%s: no crash record for SIGSEGV", path);
		if (f.threads_wrapped < THREADS)
			bench_note("warning: only %u of %u rings had wrapped twice", f.threads_wrapped,
				   THREADS);
		if (unlink(path) != 0)
			bench_die("%s: %s", path, strerror(errno));
		ms[r] = (double)(t_dead - t_fault) / 1e6;
		events[r] = (double)f.events;
		bench_note("run %u: %.2f ms, %llu events", r + 1, ms[r], (unsigned long long)f.events);
	}
	printf("{\"bench\":\"crash\",\"ring_mib\":%u,\"ms\":%.3f,\"events\":%.0f}\n",
	       (unsigned)(THREADS * RING >> 20), bench_median(ms, runs), bench_median(events, runs));
	bench_scratch_remove();
	return 0;
}
