/* SPDX-License-Identifier: MIT */
/*
 * bench_rss.c - ttlog-bench-rss: the resident memory ttlog adds to a small
 * program.
 *
 * The program re-executes itself twice per run, so that each variant starts
 * from a fresh process image:
 *   with     ttlog_init() with the default configuration (only the snapshot
 *            directory is set, to the scratch directory, so that nothing is
 *            created in the user's default one), then 4 threads that each
 *            log the benchmark event once;
 *   without  the same 4 threads computing the same argument values, no
 *            ttlog call at all (the library is still linked and loaded: the
 *            binary is the same).
 * While the 4 threads are still alive (blocked on a barrier) the main thread
 * reads VmRSS and VmHWM (KiB) from /proc/self/status. 3 runs of each variant
 * (1 with --quick); the median of each figure is reported.
 *
 * What the difference consists of (read from src/ and checked with
 * /proc/PID/smaps on x86-64, Debian 12's glibc, 4 KiB pages, with the
 * version of ttlog this was written against: about +790 KiB anonymous and
 * +150..400 KiB file-backed):
 *   - The two snapshot workspaces (src/snapshot/writer.c), one for
 *     on-demand snapshots and one kept for the crash handler, so that the
 *     crash path never allocates. ttlog_init() maps them with MAP_POPULATE,
 *     so they are resident at once: one 732 KiB mapping, 728 KiB resident
 *     (64 KiB staging, block, compressed-block, site-dictionary and output
 *     buffers in each, plus LZ4's state). This is most of the difference.
 *   - The rings: 4 x 1 MiB (the default ring size), mmap'd and never
 *     touched in advance, so only the pages the threads wrote count: one
 *     4 KiB page each after one event (16 KiB).
 *   - Alternate signal stacks (64 KiB + a guard page) for the main thread
 *     and for each thread that logs, because the default configuration
 *     installs crash handlers: mapped but untouched until a signal
 *     arrives, so they cost address space, not RSS.
 *   - The ring's bookkeeping struct is allocated (aligned_alloc) by the
 *     thread's first event, so glibc gives each logging thread a malloc
 *     arena of its own: 4 KiB resident each, but 64 MiB of address space
 *     (VmSize, not VmRSS) per arena.
 *   - Static data touched by initialisation and the first events: the
 *     settings (snapshot directory, executable, host name), the saved
 *     signal actions and the first page of the call-site table (512 KiB of
 *     BSS, one page per 512 sites): about 24 KiB.
 *   - File-backed pages: libc code that init runs and the "without"
 *     variant never calls (stdio formatting, directory scanning, signal
 *     set-up...), 150 to 400 KiB depending on what the kernel's fault-around
 *     maps at once; shared with every other process using libc, so counted
 *     in RSS but not really added memory. libttlog and liblz4 are loaded
 *     in both variants.
 * The peak (VmHWM) equals the current RSS in both variants: nothing is
 * allocated and freed on the way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ttlog.h>

#include "bench_common.h"

#define THREADS 4u
#define CHILD_FLAG "--rss-child"

struct figures {
	long rss, hwm, anon, file; /* KiB */
};

static pthread_barrier_t ready, release;
static int with_ttlog;
static volatile double sink; /* keeps the "without" work from being optimised away */

static void *thread_main(void *arg)
{
	int i = (int)(long)arg;
	if (with_ttlog) {
		bench_log_event(i);
	} else {
		/* The same argument values the event records, computed and
		 * kept, with nothing logged. */
		const char *path = "GET /api/v1/users";
		sink = i + i * 0.5 + (double)strlen(path);
	}
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&release); /* alive while the main thread measures */
	return NULL;
}

static long status_kib(const char *status, const char *field)
{
	const char *p = strstr(status, field);
	return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

/* The re-executed child: set up one variant, measure, print one line. */
static int child(const char *variant, const char *dir)
{
	with_ttlog = strcmp(variant, "with") == 0;
	if (with_ttlog)
		bench_ttlog_init(dir, 0, 0);
	else if (strcmp(variant, "without") != 0)
		bench_die("unknown variant '%s'", variant);
	pthread_barrier_init(&ready, NULL, THREADS + 1);
	pthread_barrier_init(&release, NULL, THREADS + 1);
	pthread_t th[THREADS];
	for (unsigned i = 0; i < THREADS; i++) {
		int rc = pthread_create(&th[i], NULL, thread_main, (void *)(long)i);
		if (rc != 0)
			bench_die("pthread_create: %s", strerror(rc));
	}
	pthread_barrier_wait(&ready);

	/* Read with plain read(2) into a static buffer: stdio would allocate
	 * its buffer now and change what is measured. */
	static char status[8192];
	size_t n = 0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("/proc/self/status: %s", strerror(errno));
	for (ssize_t k; n < sizeof status - 1 && (k = read(fd, status + n, sizeof status - 1 - n)) != 0;) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			bench_die("/proc/self/status: %s", strerror(errno));
		n += (size_t)k;
	}
	close(fd);
	status[n] = '\0';
	struct figures fig = {status_kib(status, "VmRSS:"), status_kib(status, "VmHWM:"),
			      status_kib(status, "RssAnon:"), status_kib(status, "RssFile:")};

	pthread_barrier_wait(&release);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	if (fig.rss < 0 || fig.hwm < 0)
		bench_die("VmRSS or VmHWM missing from /proc/self/status");
	printf("%ld %ld %ld %ld\n", fig.rss, fig.hwm, fig.anon, fig.file);
	return 0;
}

static void measure(const char *variant, const char *dir, struct figures *fig)
{
	char *argv[] = {"/proc/self/exe", CHILD_FLAG, (char *)variant, (char *)dir, NULL};
	char out[256];
	int status = bench_run_output(argv, out, sizeof out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("the '%s' child failed (status %#x)", variant, status);
	if (sscanf(out, "%ld %ld %ld %ld", &fig->rss, &fig->hwm, &fig->anon, &fig->file) != 4)
		bench_die("the '%s' child printed '%s'", variant, out);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], CHILD_FLAG) == 0) {
		const char *slash = strrchr(argv[0], '/');
		bench_prog = slash ? slash + 1 : argv[0];
		return child(argv[2], argv[3]);
	}
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Reports VmRSS and VmHWM (KiB) of a process with 4 threads that have\n"
		    "each logged one event with ttlog initialised with its defaults, and of\n"
		    "the same process without ttlog. Each variant runs in its own freshly\n"
		    "executed process; median of 3 runs (--quick: 1). The ttlog command is\n"
		    "not used.",
		    &o);
	bench_clear_ttlog_env();
	const char *dir = bench_scratch_create(&o);
	unsigned runs = o.quick ? 1 : 3;
	double v[4][8];
	for (unsigned r = 0; r < runs; r++) {
		struct figures w, wo;
		measure("with", dir, &w);
		measure("without", dir, &wo);
		v[0][r] = (double)w.rss;
		v[1][r] = (double)wo.rss;
		v[2][r] = (double)w.hwm;
		v[3][r] = (double)wo.hwm;
		bench_note("run %u: with ttlog rss %ld KiB (anon %ld, file %ld), without %ld KiB "
			   "(anon %ld, file %ld)",
			   r + 1, w.rss, w.anon, w.file, wo.rss, wo.anon, wo.file);
	}
	printf("{\"bench\":\"rss\",\"threads\":%u,\"with_ttlog_kib\":%.0f,\"without_kib\":%.0f,"
	       "\"with_ttlog_hwm_kib\":%.0f,\"without_hwm_kib\":%.0f}\n",
	       THREADS, bench_median(v[0], runs), bench_median(v[1], runs), bench_median(v[2], runs),
	       bench_median(v[3], runs));
	bench_scratch_remove();
	return 0;
}
