/* SPDX-License-Identifier: MIT */
/*
 * bench_snapscale.c - ttlog-bench-snapscale: how snapshot time and
 * crash-to-file time grow along three axes, one at a time:
 *
 *   ring   the ring size of one thread: 64 KiB ... 256 MiB
 *   thread the number of threads, each with a 1 MiB ring: 1 ... 256
 *   site   the number of distinct call sites in one 4 MiB ring: 10 ... 100 000
 *
 * Every point is measured in fresh child processes (rings cannot be freed
 * or resized once made): one that fills the rings (each wraps at least
 * twice) and times ttlog_snapshot_path() (median of 3, --quick: 1), and
 * one that fills them the same way and then dereferences NULL. For the
 * crash the child writes its CLOCK_MONOTONIC time into a pipe just before
 * the fault; the parent, watching the snapshot directory with inotify,
 * takes the time when the snapshot's final name appears (the writer links
 * it after fsync, so the file is complete then) and when waitpid() returns
 * (which adds the process's teardown).
 *
 * The site axis registers its sites through the library's registration
 * entry (the one every TTLOG_* macro calls) with sites made at run time,
 * one format each, and logs them in turn; a program with 100 000 literal
 * log statements would take far longer to compile than to measure. The
 * site table holds 65 535 sites: beyond that the rest are disabled and
 * counted (site_table_full), so the 100 000 point writes 65 535 sites and
 * logs the disabled ones not at all (its ring holds the same bytes).
 *
 * After each axis a line gives, between consecutive points, the growth
 * exponent log(t2/t1)/log(x2/x1) of snapshot time (1: linear; below 1: a
 * fixed cost dominates) and the cost per unit (ms per MiB, per thread, per
 * 1 000 sites); an exponent above 1.25 between the last two points is
 * flagged "WORSE THAN LINEAR". The large end of the ring axis is capped by
 * the machine's memory (MemAvailable: the ring plus room for the file in
 * the page cache); a point left out is printed as such.
 *
 * --snapshot-threads 1 measures snapshots compressed on the calling thread
 * alone (TTLOG_SNAPSHOT_THREADS=1), for a comparison with the default.
 *
 * Output: one JSON object per point on stdout (bench/run.py reads them),
 * the table on stderr.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ttlog.h>

#include "bench_common.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define SITE_RING (4 * MIB)

enum axis { AX_RING, AX_THREAD, AX_SITE };
static const char *const axis_name[] = {"ring", "thread", "site"};

struct point {
	enum axis axis;
	unsigned threads;
	size_t ring;      /* bytes per thread */
	unsigned sites;   /* AX_SITE: sites asked for */
	double x;         /* the axis value (MiB, threads, sites) */
};

struct result {
	double snap_ms, crash_ms, crash_wait_ms;
	uint64_t events, file_bytes;
	int skipped;
};

/* ---- The site axis: sites made at run time ------------------------------ */

static const uint8_t site_types[] = {TTLOG_ARG_I64, 0};
static struct ttlog_site *sites;
static TTLOG__ATOMIC(uint64_t) *site_words; /* each site's word, as a macro's static */
static char (*site_formats)[32];

static void sites_make(unsigned n)
{
	sites = calloc(n, sizeof *sites);
	site_words = calloc(n, sizeof *site_words);
	site_formats = calloc(n, sizeof *site_formats);
	if (!sites || !site_words || !site_formats)
		bench_die("out of memory for %u sites", n);
	for (unsigned i = 0; i < n; i++) {
		snprintf(site_formats[i], sizeof site_formats[i], "site %u value=%%lld", i);
		sites[i].word = &site_words[i];
		sites[i].level = TTLOG_LEVEL_INFO;
		sites[i].nargs = 1;
		sites[i].kind = TTLOG__KIND_LOG;
		sites[i].line = i + 1;
		sites[i].arg_types = site_types;
		sites[i].format = site_formats[i];
		sites[i].file = "snapscale_sites.c";
		sites[i].function = "site_call";
		sites[i].target = "snapscale";
		sites[i].arg_text = "v";
	}
}

/* What TTLOG_INFO("site N value=%lld", v) does, with the site given. */
static void site_call(struct ttlog_site *s, int64_t v)
{
	uint64_t word = atomic_load_explicit(s->word, memory_order_relaxed);
	if (!(word & TTLOG__WORD_ENABLED)) {
		if (word & TTLOG__WORD_OFF)
			return;
		word = ttlog__register(s);
		if (!(word & 1u))
			return;
	}
	struct ttlog__writer *w = ttlog__tls_writer;
	const uint32_t len = 24;
	uint64_t head;
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (!p)
		return;
	memcpy(p + 16, &v, 8);
	ttlog__commit(w, head, len);
}

/* Logs every site in turn until the ring has wrapped twice. */
static void sites_fill(unsigned n, size_t ring, int64_t round)
{
	uint64_t calls = 3 * (uint64_t)ring / 24 + n;
	for (uint64_t i = 0; i < calls; i++)
		site_call(&sites[i % n], round * 1000000007 + (int64_t)i);
}

/* ---- One child: fill, then snapshot or crash ---------------------------- */

static void child_setup(const struct point *pt, const char *dir, struct bench_pool **pool)
{
	size_t total = pt->ring * pt->threads;
	bench_ttlog_init(dir, pt->ring, total > 64 * MIB ? total + MIB : 0);
	*pool = NULL;
	if (pt->axis == AX_SITE)
		sites_make(pt->sites);
	else
		*pool = bench_pool_start(pt->threads, bench_events_to_wrap(pt->ring, 2));
	bench_settle();
}

static void child_fill(const struct point *pt, struct bench_pool *pool, int64_t round)
{
	if (pool)
		bench_pool_fill(pool);
	else
		sites_fill(pt->sites, pt->ring, round);
}

/* Times the snapshots and writes "ms events file_bytes" to fd. */
static void snap_child(const struct point *pt, const char *dir, unsigned reps, int fd)
{
	struct bench_pool *pool;
	child_setup(pt, dir, &pool);
	double ms[8];
	char path[PATH_MAX];
	for (unsigned r = 0; r < reps; r++) {
		child_fill(pt, pool, r);
		int64_t t0 = bench_now_ns();
		int rc = ttlog_snapshot_path("scale", path, sizeof path);
		int64_t t1 = bench_now_ns();
		if (rc != TTLOG_OK)
			bench_die("ttlog_snapshot_path: %s", ttlog_strerror(rc));
		ms[r] = (double)(t1 - t0) / 1e6;
		if (r + 1 < reps && unlink(path) != 0)
			bench_die("%s: %s", path, strerror(errno));
	}
	struct bench_file f;
	bench_read_file(path, &f);
	if (f.threads != pt->threads)
		bench_die("%s: %u threads in the file, expected %u", path, f.threads, pt->threads);
	char line[128];
	int n = snprintf(line, sizeof line, "%.4f %llu %llu\n", bench_median(ms, reps),
			 (unsigned long long)f.events, (unsigned long long)bench_file_size(path));
	if (write(fd, line, (size_t)n) != n)
		bench_die("write to the parent: %s", strerror(errno));
	if (unlink(path) != 0)
		bench_die("%s: %s", path, strerror(errno));
	if (pool)
		bench_pool_stop(pool);
}

static void crash_child(const struct point *pt, const char *dir, int fd)
{
	struct rlimit no_core = {0, 0};
	if (setrlimit(RLIMIT_CORE, &no_core) != 0)
		bench_die("setrlimit(RLIMIT_CORE): %s", strerror(errno));
	struct bench_pool *pool;
	child_setup(pt, dir, &pool);
	child_fill(pt, pool, 1);
	int64_t t = bench_now_ns();
	if (write(fd, &t, sizeof t) != (ssize_t)sizeof t)
		bench_die("write to the parent: %s", strerror(errno));
	volatile int *volatile nowhere = NULL;
	*nowhere = 1;
	bench_die("the NULL dereference did not fault");
}

/* ---- The parent --------------------------------------------------------- */

struct child_arg {
	void (*fn)(const struct point *, const char *, int);
	const struct point *pt;
	const char *dir;
};

static void run_child_fn(void *arg, int fd)
{
	const struct child_arg *a = arg;
	a->fn(a->pt, a->dir, fd);
}

static pid_t spawn(void (*fn)(const struct point *, const char *, int), const struct point *pt,
		   const char *dir, int *rfd)
{
	struct child_arg a = {fn, pt, dir};
	return bench_fork_pipe(run_child_fn, &a, rfd);
}

static unsigned snap_reps;
static void snap_child_fn(const struct point *pt, const char *dir, int fd)
{
	snap_child(pt, dir, snap_reps, fd);
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Whether name is a finished snapshot's (ttlog-*.ttlog). */
static int is_snapshot_name(const char *name)
{
	size_t n = strlen(name);
	return n > 12 && strncmp(name, "ttlog-", 6) == 0 && strcmp(name + n - 6, ".ttlog") == 0;
}

static void measure_crash(const struct point *pt, const char *dir, struct result *res)
{
	int in = inotify_init1(IN_CLOEXEC);
	if (in < 0)
		bench_die("inotify_init1: %s", strerror(errno));
	if (inotify_add_watch(in, dir, IN_CREATE | IN_MOVED_TO) < 0)
		bench_die("inotify_add_watch %s: %s", dir, strerror(errno));
	int rfd;
	pid_t pid = spawn(crash_child, pt, dir, &rfd);
	int64_t t_fault;
	ssize_t n = read_full(rfd, &t_fault, sizeof t_fault);
	close(rfd);
	if (n != (ssize_t)sizeof t_fault) {
		int status = bench_wait(pid, 600);
		bench_die("the crash child ended before the fault (status %#x)", status);
	}
	int64_t t_file = -1;
	char buf[4096] __attribute__((aligned(8)));
	while (t_file < 0) {
		struct pollfd p = {in, POLLIN, 0};
		int rc = poll(&p, 1, 120000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			bench_die("no snapshot appeared within 120 s of the fault");
		ssize_t len = read(in, buf, sizeof buf);
		int64_t now = bench_now_ns();
		if (len <= 0)
			bench_die("inotify read: %s", strerror(errno));
		for (ssize_t off = 0; off < len;) {
			const struct inotify_event *e = (const void *)(buf + off);
			if (e->len && is_snapshot_name(e->name))
				t_file = now;
			off += (ssize_t)(sizeof *e + e->len);
		}
	}
	int status = bench_wait(pid, 600);
	int64_t t_dead = bench_now_ns();
	close(in);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
		bench_die("the crash child did not die of SIGSEGV (status %#x)", status);
	DIR *d = opendir(dir);
	if (!d)
		bench_die("%s: %s", dir, strerror(errno));
	struct dirent *e;
	unsigned found = 0;
	char path[PATH_MAX];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!is_snapshot_name(e->d_name))
			bench_die("unexpected file in %s: %s", dir, e->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		found++;
	}
	closedir(d);
	if (found != 1)
		bench_die("%u snapshots after the crash, expected 1", found);
	struct bench_file f;
	bench_read_file(path, &f);
	if (!f.crashed || f.crash_signo != SIGSEGV || f.threads != pt->threads)
		bench_die("%s: not the crash snapshot expected", path);
	if (unlink(path) != 0)
		bench_die("%s: %s", path, strerror(errno));
	res->crash_ms = (double)(t_file - t_fault) / 1e6;
	res->crash_wait_ms = (double)(t_dead - t_fault) / 1e6;
}

static void measure_snapshot(const struct point *pt, const char *dir, struct result *res)
{
	int rfd;
	pid_t pid = spawn(snap_child_fn, pt, dir, &rfd);
	char line[128];
	ssize_t n = read_full(rfd, line, sizeof line - 1);
	close(rfd);
	int status = bench_wait(pid, 900);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n <= 0)
		bench_die("the snapshot child failed (status %#x)", status);
	line[n] = '\0';
	unsigned long long ev, bytes;
	if (sscanf(line, "%lf %llu %llu", &res->snap_ms, &ev, &bytes) != 3)
		bench_die("unexpected answer from the snapshot child: %s", line);
	res->events = ev;
	res->file_bytes = bytes;
}

/* MemAvailable in bytes (0 if unknown). */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	char key[64];
	unsigned long long kib = 0, v;
	while (fscanf(f, "%63s %llu kB\n", key, &v) == 2)
		if (strcmp(key, "MemAvailable:") == 0) {
			kib = v;
			break;
		}
	fclose(f);
	return (uint64_t)kib * 1024;
}

static const char *unit_name(enum axis a)
{
	return a == AX_RING ? "ms/MiB" : a == AX_THREAD ? "ms/thread" : "ms/1k sites";
}

static double unit_scale(enum axis a)
{
	return a == AX_SITE ? 1000.0 : 1.0;
}

/* The growth line after an axis. */
static void summarise(const struct point *pts, const struct result *res, size_t n)
{
	char line[1024];
	int len = snprintf(line, sizeof line, "  %s growth exponent (snapshot, crash):",
			   axis_name[pts[0].axis]);
	int worse = 0;
	for (size_t i = 1; i < n && len > 0 && (size_t)len < sizeof line; i++) {
		if (res[i].skipped || res[i - 1].skipped)
			continue;
		double lx = log(pts[i].x / pts[i - 1].x);
		double es = log(res[i].snap_ms / res[i - 1].snap_ms) / lx;
		double ec = log(res[i].crash_ms / res[i - 1].crash_ms) / lx;
		len += snprintf(line + len, sizeof line - (size_t)len, " %g->%g: %.2f, %.2f;",
				pts[i - 1].x, pts[i].x, es, ec);
		if (i == n - 1 && (es > 1.25 || ec > 1.25))
			worse = 1;
	}
	bench_note("%s%s", line, worse ? "  WORSE THAN LINEAR" : "");
	for (size_t i = n; i-- > 0;)
		if (!res[i].skipped) {
			printf("{\"bench\":\"snapscale_fit\",\"axis\":\"%s\",\"worse_than_linear\":%s}\n",
			       axis_name[pts[0].axis], worse ? "true" : "false");
			break;
		}
}

int main(int argc, char **argv)
{
	/* --snapshot-threads N (1 or 2): TTLOG_SNAPSHOT_THREADS for the
	 * measured processes, taken out before the common options are read. */
	const char *zip = NULL;
	int kept = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--snapshot-threads") == 0 && i + 1 < argc) {
			zip = argv[++i];
			if (strcmp(zip, "1") != 0 && strcmp(zip, "2") != 0) {
				fprintf(stderr, "%s: --snapshot-threads: expected 1 or 2, got '%s'\n",
					argv[0], zip);
				return 1;
			}
		} else {
			argv[kept++] = argv[i];
		}
	}
	argc = kept;
	argv[argc] = NULL;
	struct bench_opts o;
	bench_parse(argc, argv,
		    "How ttlog_snapshot_path() time and crash-to-file time grow with the ring\n"
		    "size per thread (64 KiB ... 256 MiB, capped by available memory), the\n"
		    "thread count (1 ... 256, 1 MiB rings) and the number of call sites\n"
		    "(10 ... 100 000, one 4 MiB ring). Crash-to-file: from just before the\n"
		    "fault until the snapshot's final name appears (inotify); the time until\n"
		    "waitpid() returns is printed beside it. Prints a table and the growth\n"
		    "exponent between points (flagged above 1.25). --quick: fewer points.\n"
		    "--snapshot-threads N: TTLOG_SNAPSHOT_THREADS=N (1 or 2) in the measured\n"
		    "processes; default: the library's (auto).",
		    &o);
	bench_clear_ttlog_env();
	if (zip)
		setenv("TTLOG_SNAPSHOT_THREADS", zip, 1);
	bench_apply_encrypt(&o);
	const char *dir = bench_scratch_create(&o);
	snap_reps = o.quick ? 1 : 3;

	static const size_t rings_full[] = {64 * KIB, MIB, 16 * MIB, 64 * MIB, 256 * MIB};
	static const size_t rings_quick[] = {64 * KIB, MIB, 16 * MIB};
	static const unsigned threads_full[] = {1, 4, 16, 64, 256};
	static const unsigned threads_quick[] = {1, 16, 64};
	static const unsigned sites_full[] = {10, 1000, 10000, 100000};
	static const unsigned sites_quick[] = {10, 1000, 10000};

	struct point pts[16];
	size_t np = 0;
	const size_t *rings = o.quick ? rings_quick : rings_full;
	size_t nr = o.quick ? 3 : 5;
	for (size_t i = 0; i < nr; i++)
		pts[np++] = (struct point){AX_RING, 1, rings[i], 0, (double)rings[i] / MIB};
	const unsigned *thr = o.quick ? threads_quick : threads_full;
	size_t nt = o.quick ? 3 : 5;
	for (size_t i = 0; i < nt; i++)
		pts[np++] = (struct point){AX_THREAD, thr[i], MIB, 0, thr[i]};
	const unsigned *st = o.quick ? sites_quick : sites_full;
	size_t ns = o.quick ? 3 : 4;
	for (size_t i = 0; i < ns; i++)
		pts[np++] = (struct point){AX_SITE, 1, SITE_RING, st[i], st[i]};

	uint64_t avail = mem_available();
	struct result res[16];
	bench_note("%-7s %10s %8s %10s %11s %12s %12s %12s %12s", "axis", "x", "threads",
		   "ring KiB", "events", "file bytes", "snapshot ms", "crash ms", "crash+exit ms");
	size_t first = 0;
	for (size_t i = 0; i < np; i++) {
		const struct point *pt = &pts[i];
		struct result *r = &res[i];
		memset(r, 0, sizeof *r);
		uint64_t need = (uint64_t)pt->ring * pt->threads * 3 + 256 * MIB;
		if (avail && need > avail) {
			r->skipped = 1;
			bench_note("%-7s %10g: left out: needs about %llu MiB, %llu MiB available",
				   axis_name[pt->axis], pt->x, (unsigned long long)(need >> 20),
				   (unsigned long long)(avail >> 20));
		} else {
			measure_snapshot(pt, dir, r);
			measure_crash(pt, dir, r);
			bench_note("%-7s %10g %8u %10zu %11llu %12llu %12.2f %12.2f %12.2f",
				   axis_name[pt->axis], pt->x, pt->threads, pt->ring / KIB,
				   (unsigned long long)r->events, (unsigned long long)r->file_bytes,
				   r->snap_ms, r->crash_ms, r->crash_wait_ms);
			printf("{\"bench\":\"snapscale\",\"axis\":\"%s\",\"x\":%g,\"threads\":%u,"
			       "\"ring_kib\":%zu,\"sites\":%u,\"events\":%llu,\"file_bytes\":%llu,"
			       "\"ms\":%.3f,\"crash_ms\":%.3f,\"crash_exit_ms\":%.3f,"
			       "\"snap_per_unit\":%.4f,\"crash_per_unit\":%.4f}\n",
			       axis_name[pt->axis], pt->x, pt->threads, pt->ring / KIB, pt->sites,
			       (unsigned long long)r->events, (unsigned long long)r->file_bytes,
			       r->snap_ms, r->crash_ms, r->crash_wait_ms,
			       r->snap_ms / pt->x * unit_scale(pt->axis),
			       r->crash_ms / pt->x * unit_scale(pt->axis));
			fflush(stdout);
		}
		if (i + 1 == np || pts[i + 1].axis != pt->axis) {
			char per[256];
			int len = snprintf(per, sizeof per, "  %s per unit (%s, snapshot/crash):",
					   axis_name[pt->axis], unit_name(pt->axis));
			for (size_t j = first; j <= i && len > 0 && (size_t)len < sizeof per; j++)
				if (!res[j].skipped)
					len += snprintf(per + len, sizeof per - (size_t)len,
							" %.3f/%.3f",
							res[j].snap_ms / pts[j].x * unit_scale(pt->axis),
							res[j].crash_ms / pts[j].x * unit_scale(pt->axis));
			bench_note("%s", per);
			summarise(pts + first, res + first, i + 1 - first);
			first = i + 1;
		}
	}
	bench_scratch_remove();
	return 0;
}
