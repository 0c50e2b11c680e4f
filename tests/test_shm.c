/* SPDX-License-Identifier: MIT */
/*
 * test_shm.c - shared-memory mode: a process's rings and call sites in a
 * mapping another process turns into a snapshot. Every process that logs
 * is a child of the test (forked before anything is initialised here):
 * SIGKILLed with its threads alive and its mapping recovered, snapshotted
 * while it runs, exiting or shutting down (the mapping must go), forking
 * (the child must get a mapping of its own). Whether an owner still maps
 * its file (what tells it from the same process after exec). Then damaged
 * copies of a real mapping: each must give a clear error, never a crash (run
 * under ASan); and a mapping truncated while it is read, which must give an
 * error and what was read before, not a SIGBUS.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/format.h"
#include "format/shm_layout.h"
#include "ring/ring.h"
#include "shm/path.h"
#include "shm/shm.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define THREADS 3
#define EVENTS 1000   /* per thread; 64 KiB rings hold them all without wrapping */

/* The children's ring size and events per thread: these unless a test
 * sets others before it forks them. */
static size_t child_ring = 64u << 10;
static int child_events = EVENTS;

struct dirs {
	char *base;   /* TTLOG_SHARED_DIR of the children */
	char *snaps;  /* their snapshot directory */
};

static void make_dirs(struct dirs *d)
{
	d->base = tu_tmpdir("shm-base");
	d->snaps = tu_tmpdir("shm-snaps");
	assert_non_null(d->base);
	assert_non_null(d->snaps);
}

static void free_dirs(struct dirs *d)
{
	free(d->base);
	free(d->snaps);
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* ---- The children ------------------------------------------------------- */

static void child_init(const struct dirs *d)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = d->snaps;
	cfg.crash_signals = -1;
	cfg.ring_size = child_ring;
	cfg.memory_cap = child_ring <= (64u << 10) ? 1u << 20 : 8 * child_ring;
	cfg.shared_memory = 1;
	cfg.shared_dir = d->base;
	if (ttlog_init(&cfg) != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s\n", ttlog_init_error());
		_exit(10);
	}
}

static pthread_barrier_t logged;

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[16];
	snprintf(name, sizeof name, "shm-w%d", t);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < child_events; i++) {
		if (t == 0)
			TTLOG_INFO("w%d event %d", t, i);
		else if (t == 1)
			TTLOG_WARN("w%d event %d", t, i);
		else
			TTLOG_ERROR("w%d event %d", t, i);
	}
	pthread_barrier_wait(&logged);
	for (;;)
		pause(); /* alive until the process ends */
	return NULL;
}

static void put_byte(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(11);
}

static char get_byte(int fd)
{
	char c = 0;
	ssize_t n;
	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? c : 0;
}

/* The child: 3 threads log, then it says 'R' on ready and waits for a
 * byte on go: 'x' exits (atexit removes the mapping), 's' calls
 * ttlog_shutdown and says on ready whether the file is gone. */
static void logging_child(const struct dirs *d, int ready, int go)
{
	child_init(d);
	pthread_barrier_init(&logged, NULL, THREADS + 1);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	pthread_barrier_wait(&logged);
	put_byte(ready, 'R');
	char c = get_byte(go);
	if (c == 's') {
		char path[4096];
		ttlog__shm_path(d->base, (int)getpid(), path, sizeof path);
		int before = file_exists(path);
		ttlog_shutdown();
		put_byte(ready, before && !file_exists(path) ? 'Y' : 'N');
		get_byte(go);
	}
	exit(0);
}

struct kid {
	pid_t pid;
	int ready, go; /* our ends */
};

static void start_logging_child(const struct dirs *d, struct kid *k)
{
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		close(up[0]);
		close(down[1]);
		logging_child(d, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	k->ready = up[0];
	k->go = down[1];
	if (get_byte(k->ready) != 'R')
		fail_msg("the logging child did not get ready");
}

static void end_kid(struct kid *k, int sig)
{
	int status;
	if (sig)
		kill(k->pid, sig);
	assert_int_equal(waitpid(k->pid, &status, 0), k->pid);
	if (sig)
		assert_true(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	else
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(k->ready);
	close(k->go);
}

/* ---- Checking a snapshot ------------------------------------------------ */

/* Writes a snapshot of the mapping of pid and checks that it holds what
 * logging_child logged, every event of every worker with its thread's
 * name, its level and message, timed between t0 and t1. */
static void expect_worker_snapshot(const struct dirs *d, int pid, int64_t t0, int64_t t1)
{
	char map[4096], out[4096], err[1024];
	assert_int_equal(ttlog__shm_path(d->base, pid, map, sizeof map), 0);
	int rc = ttlog__shm_snapshot(map, NULL, "recovered", out, sizeof out, err, sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("ttlog__shm_snapshot: %s: %s", ttlog_strerror(rc), err);
	assert_non_null(strstr(out, d->snaps));
	assert_non_null(strstr(out, "-recovered.ttlog"));

	ttlog_reader *r = NULL;
	rc = ttlog_reader_open(out, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", ttlog_strerror(rc), r ? ttlog_reader_error(r) : "");
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	assert_true(info->complete);
	assert_string_equal(info->reason, "recovered");
	assert_int_equal(info->pid, (uint32_t)pid);
	assert_false(info->crashed);

	int count[THREADS] = {0}, last[THREADS] = {-1, -1, -1};
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1) {
		int t = -1;
		if (sscanf(ev.thread->name, "shm-w%d", &t) != 1 || t < 0 || t >= THREADS)
			fail_msg("event from thread '%s'", ev.thread->name);
		char msg[256], want[256];
		ttlog_event_format(&ev, msg, sizeof msg);
		snprintf(want, sizeof want, "w%d event %d", t, count[t]);
		assert_string_equal(msg, want); /* in order, none missing */
		assert_int_equal(ev.site->level, TTLOG_LEVEL_INFO + t);
		if (ev.time_ns < t0 || ev.time_ns > t1)
			fail_msg("event time %lld outside [%lld, %lld]", (long long)ev.time_ns,
				 (long long)t0, (long long)t1);
		last[t] = count[t]++;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(count[t], EVENTS);
		assert_int_equal(last[t], EVENTS - 1);
	}
	ttlog_reader_close(r);
	unlink(out);
}

/* ---- Tests -------------------------------------------------------------- */

static void test_recover_after_sigkill(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	int64_t t0 = wall_ns();
	struct kid k;
	start_logging_child(&d, &k);
	int64_t t1 = wall_ns();
	end_kid(&k, SIGKILL);

	char map[4096], err[1024];
	assert_int_equal(ttlog__shm_path(d.base, k.pid, map, sizeof map), 0);
	assert_true(file_exists(map));
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0)
		fail_msg("inspect: %s", err);
	assert_int_equal(info.pid, k.pid);
	assert_int_equal(info.state, TTLOG_SHM_RUNNING);
	assert_true(info.threads >= THREADS);
	assert_string_equal(info.snapshot_dir, d.snaps);
	assert_false(ttlog__shm_owner_alive(&info));

	expect_worker_snapshot(&d, k.pid, t0, t1);
	unlink(map);
	free_dirs(&d);
}

static void test_snapshot_of_live_process(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	int64_t t0 = wall_ns();
	struct kid k;
	start_logging_child(&d, &k);
	int64_t t1 = wall_ns();

	char map[4096], err[1024];
	assert_int_equal(ttlog__shm_path(d.base, k.pid, map, sizeof map), 0);
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0)
		fail_msg("inspect: %s", err);
	assert_true(ttlog__shm_owner_alive(&info));
	expect_worker_snapshot(&d, k.pid, t0, t1);

	/* A normal exit removes the mapping. */
	put_byte(k.go, 'x');
	end_kid(&k, 0);
	assert_false(file_exists(map));
	free_dirs(&d);
}

static void test_shutdown_removes_mapping(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	struct kid k;
	start_logging_child(&d, &k);
	put_byte(k.go, 's');
	assert_int_equal(get_byte(k.ready), 'Y');
	put_byte(k.go, 'x');
	end_kid(&k, 0);
	free_dirs(&d);
}

/* A: logs, forks B, logs again; B logs. Each has a mapping of its own. */
static void forking_child(const struct dirs *d, int ready)
{
	child_init(d);
	for (int i = 0; i < 100; i++)
		TTLOG_INFO("A before %d", i);
	int bpipe[2];
	if (pipe(bpipe) != 0)
		_exit(12);
	pid_t b = fork();
	if (b == 0) {
		close(ready); /* the test must see EOF if A dies */
		for (int i = 0; i < 50; i++)
			TTLOG_WARN("B event %d", i);
		put_byte(bpipe[1], 'B');
		for (;;)
			pause();
	}
	if (b < 0 || get_byte(bpipe[0]) != 'B')
		_exit(13);
	for (int i = 0; i < 100; i++)
		TTLOG_INFO("A after %d", i);
	int32_t pid = (int32_t)b;
	if (write(ready, &pid, sizeof pid) != (ssize_t)sizeof pid)
		_exit(14);
	for (;;)
		pause();
}

/* Events of the mapping of pid, by format: n_a "A before", n_b "A after",
 * n_c "B event". */
static void count_formats(const struct dirs *d, int pid, int *n_a, int *n_b, int *n_c)
{
	char map[4096], out[4096], err[1024];
	assert_int_equal(ttlog__shm_path(d->base, pid, map, sizeof map), 0);
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0)
		fail_msg("inspect %s: %s", map, err);
	assert_int_equal(info.pid, pid);
	int rc = ttlog__shm_snapshot(map, NULL, "snap", out, sizeof out, err, sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("ttlog__shm_snapshot: %s: %s", ttlog_strerror(rc), err);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(out, &r), TTLOG_OK);
	assert_int_equal(ttlog_reader_info(r)->pid, (uint32_t)pid);
	*n_a = tu_count_format(r, "A before %d");
	*n_b = tu_count_format(r, "A after %d");
	*n_c = tu_count_format(r, "B event %d");
	ttlog_reader_close(r);
	unlink(out);
}

static void test_fork_gets_own_mapping(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	int up[2];
	assert_int_equal(pipe(up), 0);
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		close(up[0]);
		forking_child(&d, up[1]);
	}
	close(up[1]);
	int32_t b = 0;
	assert_int_equal(read(up[0], &b, sizeof b), (ssize_t)sizeof b);
	assert_true(b > 0 && b != a);

	int n_a, n_b, n_c;
	count_formats(&d, a, &n_a, &n_b, &n_c);
	assert_int_equal(n_a, 100); /* the child wrote nothing into the parent's rings */
	assert_int_equal(n_b, 100);
	assert_int_equal(n_c, 0);
	count_formats(&d, b, &n_a, &n_b, &n_c);
	assert_int_equal(n_a, 0);   /* the child's ring started empty */
	assert_int_equal(n_b, 0);
	assert_int_equal(n_c, 50);

	kill(b, SIGKILL);
	kill(a, SIGKILL);
	int status;
	assert_int_equal(waitpid(a, &status, 0), a);
	close(up[0]);
	char map[4096];
	ttlog__shm_path(d.base, a, map, sizeof map);
	unlink(map);
	ttlog__shm_path(d.base, b, map, sizeof map);
	unlink(map);
	free_dirs(&d);
}

/* ---- Does the owner still map its file? --------------------------------- */

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

/* A live owner maps its file; a copy of the file, with the same header
 * (pid and start time of a running process) but another inode, is what the
 * file of an owner that called exec looks like: not mapped, not alive. */
static void test_owner_must_map_the_file(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	struct kid k;
	start_logging_child(&d, &k);

	char map[4096], copy[4200], err[1024];
	assert_int_equal(ttlog__shm_path(d.base, k.pid, map, sizeof map), 0);
	struct ttlog__shm_info info, cinfo;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0)
		fail_msg("inspect: %s", err);
	struct stat sb;
	assert_int_equal(stat(map, &sb), 0);
	assert_true(info.ino == (uint64_t)sb.st_ino && info.dev == (uint64_t)sb.st_dev);
	int maps_errno = -1;
	assert_int_equal(ttlog__shm_owner(&info, &maps_errno), TTLOG_SHM_OWNER_LIVE);
	assert_int_equal(maps_errno, 0);
	assert_true(ttlog__shm_owner_alive(&info));

	/* The copy's name ends in .ttshm too, so the check by path is made
	 * as well: it must find the child's own file, not the copy. */
	snprintf(copy, sizeof copy, "%s/copy.ttshm", d.base);
	copy_file(map, copy);
	if (ttlog__shm_inspect(copy, &cinfo, err, sizeof err) != 0)
		fail_msg("inspect: %s", err);
	assert_int_equal(cinfo.pid, k.pid);
	assert_true(cinfo.start_time == info.start_time && cinfo.ino != info.ino);
	assert_int_equal(ttlog__shm_owner(&cinfo, &maps_errno), TTLOG_SHM_OWNER_EXECED);
	assert_false(ttlog__shm_owner_alive(&cinfo));

	/* Killed (and reaped): gone, whatever the file. */
	end_kid(&k, SIGKILL);
	assert_int_equal(ttlog__shm_owner(&info, NULL), TTLOG_SHM_OWNER_GONE);
	assert_int_equal(ttlog__shm_owner(&cinfo, NULL), TTLOG_SHM_OWNER_GONE);
	unlink(copy);
	unlink(map);
	free_dirs(&d);
}

/* A process whose /proc/PID/maps cannot be read (made not dumpable) with the
 * pid and start time of a header: UNCHECKED, counted as alive, with the
 * reason. Whether this process may read it anyway (CAP_SYS_PTRACE) is
 * found out first: then the maps are read and the file is not in them. */
static void test_owner_with_unreadable_maps(void **state)
{
	(void)state;
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		close(up[0]);
		close(down[1]);
		if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(1);
		put_byte(up[1], 'R');
		get_byte(down[0]);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(get_byte(up[0]), 'R');

	struct ttlog__shm_info info;
	memset(&info, 0, sizeof info);
	info.pid = p;
	assert_int_equal(ttlog__shm_start_time(p, &info.start_time), 0);
	info.dev = 1;
	info.ino = 12345;
	char maps[64];
	snprintf(maps, sizeof maps, "/proc/%d/maps", (int)p);
	int fd = open(maps, O_RDONLY);
	int readable = fd >= 0, why = errno;
	if (fd >= 0)
		close(fd);
	int maps_errno = -1;
	int owner = ttlog__shm_owner(&info, &maps_errno);
	if (readable) {
		assert_int_equal(owner, TTLOG_SHM_OWNER_EXECED);
		assert_int_equal(maps_errno, 0);
		assert_false(ttlog__shm_owner_alive(&info));
	} else {
		assert_int_equal(owner, TTLOG_SHM_OWNER_UNCHECKED);
		assert_int_equal(maps_errno, why);
		assert_true(ttlog__shm_owner_alive(&info));
	}
	/* Another start time: another process, gone without a look at maps. */
	info.start_time++;
	assert_int_equal(ttlog__shm_owner(&info, &maps_errno), TTLOG_SHM_OWNER_GONE);
	assert_int_equal(maps_errno, 0);

	put_byte(down[1], 'x');
	int status;
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(down[1]);
}

/* ---- Damaged mappings --------------------------------------------------- */

struct image {
	struct dirs d;
	unsigned char *bytes;
	size_t size;
	char path[4096]; /* where a damaged copy is written */
};

/* A real mapping: a logging child's, after SIGKILL. */
static void make_image(struct image *im)
{
	make_dirs(&im->d);
	struct kid k;
	start_logging_child(&im->d, &k);
	end_kid(&k, SIGKILL);
	char map[4096];
	ttlog__shm_path(im->d.base, k.pid, map, sizeof map);
	int fd = open(map, O_RDONLY);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	im->size = (size_t)sb.st_size;
	im->bytes = malloc(im->size);
	assert_non_null(im->bytes);
	assert_int_equal(pread(fd, im->bytes, im->size, 0), (ssize_t)im->size);
	close(fd);
	unlink(map);
	snprintf(im->path, sizeof im->path, "%s/damaged.ttshm", im->d.base);
}

static struct ttlog__shm_header *hdr(struct image *im)
{
	return (struct ttlog__shm_header *)im->bytes;
}

/* Writes the first len bytes of the (damaged) image to its path. */
static void write_image(struct image *im, size_t len)
{
	int fd = open(im->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, im->bytes, len), (ssize_t)len);
	close(fd);
}

/* inspect fails (or not, if want_inspect_ok) and snapshot returns want
 * with an error that contains `says`. */
static void expect_damage(struct image *im, size_t len, int want_inspect_ok, int want,
			  const char *says)
{
	write_image(im, len);
	struct ttlog__shm_info info;
	char err[1024], out[4096];
	int irc = ttlog__shm_inspect(im->path, &info, err, sizeof err);
	if (want_inspect_ok != (irc == 0))
		fail_msg("inspect returned %d: %s", irc, err);
	int rc = ttlog__shm_snapshot(im->path, im->d.snaps, "recovered", out, sizeof out, err,
				     sizeof err);
	if (rc != want || !strstr(err, says))
		fail_msg("snapshot: expected %s with \"%s\", got %s: \"%s\"", ttlog_strerror(want), says,
			 ttlog_strerror(rc), err);
	if (out[0]) {
		/* Written from what was valid: a readable file. */
		ttlog_reader *r = NULL;
		assert_int_equal(ttlog_reader_open(out, &r), TTLOG_OK);
		assert_true(ttlog_reader_info(r)->complete);
		ttlog_reader_close(r);
		unlink(out);
	}
}

static struct ttlog__shm_ring_entry *entry0(struct image *im)
{
	return (struct ttlog__shm_ring_entry *)(im->bytes + hdr(im)->table_off);
}

static void test_damaged_mappings(void **state)
{
	(void)state;
	struct image im;
	make_image(&im);
	unsigned char *clean = malloc(im.size);
	assert_non_null(clean);
	memcpy(clean, im.bytes, im.size);
#define RESTORE() memcpy(im.bytes, clean, im.size)

	/* The undamaged copy, for reference. */
	expect_damage(&im, im.size, 1, TTLOG_OK, "");

	expect_damage(&im, 100, 0, TTLOG_E_TRUNCATED, "too short");
	expect_damage(&im, im.size - 4096, 0, TTLOG_E_TRUNCATED, "offset 16");

	memcpy(hdr(&im)->magic, "NOTTTLOG", 8);
	expect_damage(&im, im.size, 0, TTLOG_E_NOT_TTLOG, "offset 0");
	RESTORE();

	hdr(&im)->major = 2;
	expect_damage(&im, im.size, 0, TTLOG_E_VERSION, "layout version 2.");
	RESTORE();

	memset(hdr(&im)->executable, 'A', sizeof hdr(&im)->executable);
	expect_damage(&im, im.size, 0, TTLOG_E_CORRUPT, "offset 1024: string not terminated");
	RESTORE();

	hdr(&im)->table_cap = 0xffffffffu;
	expect_damage(&im, im.size, 0, TTLOG_E_CORRUPT, "offset 152");
	RESTORE();

	hdr(&im)->dict_size = UINT64_MAX - 10;
	expect_damage(&im, im.size, 0, TTLOG_E_CORRUPT, "offset 208");
	RESTORE();

	/* A dictionary within the file but larger than any owner makes: a
	 * reader copies it whole, so it is refused, not allocated. The file
	 * made 24 MiB longer (zeros after the real mapping). */
	{
		size_t big = im.size + ((size_t)24 << 20);
		unsigned char *b = realloc(im.bytes, big);
		assert_non_null(b);
		memset(b + im.size, 0, big - im.size);
		im.bytes = b;
		hdr(&im)->file_size = big;
		hdr(&im)->dict_size = TTLOG__SHM_DICT_MAX + 8;
		expect_damage(&im, big, 0, TTLOG_E_CORRUPT, "offset 208");
		RESTORE();
	}

	/* Huge counts in use are cut to the capacities, and what they
	 * reach beyond the real entries is uncommitted (skipped). */
	atomic_store(&hdr(&im)->table_used, 0xfffffff0u);
	atomic_store(&hdr(&im)->site_id_limit, 0xfffffff0u);
	expect_damage(&im, im.size, 1, TTLOG_OK, "");
	RESTORE();

	/* Damaged entries are skipped; the snapshot holds the rest. */
	entry0(&im)->ring_off = im.size + 4096;
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "ring table entry 0");
	RESTORE();

	entry0(&im)->size += 8;
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "not segments x segment size");
	RESTORE();

	entry0(&im)->nseg = 1000;
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "segment count");
	RESTORE();

	entry0(&im)->data_off = im.size - 8;
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "ring data is not within the arena");
	RESTORE();

	uint32_t *index = (uint32_t *)(im.bytes + hdr(&im)->site_index_off);
	uint32_t first = 0;
	for (uint32_t id = 1; id < TTLOG__SHM_SITE_IDS && !first; id++)
		if (index[id])
			first = id;
	assert_true(first > 0);
	index[first] = (uint32_t)(hdr(&im)->dict_off + hdr(&im)->dict_size);
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "dictionary entry of site");
	RESTORE();

	/* A dictionary entry whose string claims more bytes than it has. */
	struct ttlog__shm_site_entry *e = (void *)(im.bytes + index[first]);
	uint32_t huge = 0x7fffffff;
	memcpy((unsigned char *)e + sizeof *e + e->nargs, &huge, 4);
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "a string runs past the entry");
	RESTORE();

	e->size = 0xfffffff8u;
	expect_damage(&im, im.size, 1, TTLOG_E_CORRUPT, "entry size");
	RESTORE();

	/* A ring whose head runs away from its tail: nothing read from it. */
	struct ttlog__ring *ring = (void *)(im.bytes + entry0(&im)->ring_off);
	atomic_store(&ring->w.head, UINT64_MAX / 2);
	expect_damage(&im, im.size, 1, TTLOG_OK, "");
	RESTORE();

	/* Garbage records: the ring reader stops at the first bad size. */
	memset(im.bytes + entry0(&im)->data_off, 0xff, 64);
	expect_damage(&im, im.size, 1, TTLOG_OK, "");
	RESTORE();
#undef RESTORE
	unlink(im.path);
	free(clean);
	free(im.bytes);
	free_dirs(&im.d);
}

/* A ring record larger than a block (64 KiB) in a mapping that another
 * process wrote: intact rings never hold one (the string limit keeps
 * records below it), and copying it into the snapshot's block overran the
 * block. Rings of 1 MiB, with more than 64 KiB of records in each, so that
 * the ring reader hands the record on. It is left out and counted. */
static void test_oversized_record(void **state)
{
	(void)state;
	struct image im;
	child_ring = 1u << 20;
	child_events = 4000;
	make_image(&im);
	child_ring = 64u << 10;
	child_events = EVENTS;
	const struct ttlog__shm_ring_entry *e = entry0(&im);
	const struct ttlog__ring *ring = (const void *)(im.bytes + e->ring_off);
	uint64_t tail = atomic_load(&ring->pub_tail), head = atomic_load(&ring->w.head);
	assert_true(head - tail > (80u << 10));
	unsigned char *first = im.bytes + e->data_off + tail % e->size;
	uint32_t size = TTLOG__FMT_MAX_BLOCK_RAW + 8, id;
	memcpy(&id, first + 4, 4);
	assert_true(id != 0);
	memcpy(first, &size, 4);

	write_image(&im, im.size);
	char err[1024], out[4096];
	int rc = ttlog__shm_snapshot(im.path, im.d.snaps, "recovered", out, sizeof out, err,
				     sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("snapshot: %s: %s", ttlog_strerror(rc), err);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(out, &r), TTLOG_OK);
	struct ttlog_event ev;
	size_t n = 0;
	while (ttlog_reader_next(r, &ev))
		n++;
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	/* The other threads' events; the first thread's from the record on
	 * (the bytes after it are not records), lost and counted as torn. */
	assert_int_equal(n, (size_t)2 * 4000);
	assert_true(ttlog_reader_info(r)->torn > 0);
	ttlog_reader_close(r);
	unlink(out);
	unlink(im.path);
	free(im.bytes);
	free_dirs(&im.d);
}

/* ---- A mapping that shrinks while it is read ------------------------------ */

/* The test's own SIGBUS handler, the disposition the reader must restore
 * and pass on what is not its own to: counts signals sent and faults, and
 * makes a faulting page readable (zeros) so the load can go on. Runs in
 * signal context. */
static volatile sig_atomic_t bus_sent, bus_faults;
static void test_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code <= 0) {
		bus_sent++;
		return;
	}
	bus_faults++;
	uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
	if (mmap((void *)page, 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		_exit(99);
}

static void install_test_sigbus(struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = test_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGBUS, &sa, old), 0);
	bus_sent = 0;
	bus_faults = 0;
}

/* SIGBUS is the test's handler again. */
static void expect_test_sigbus(void)
{
	struct sigaction now;
	assert_int_equal(sigaction(SIGBUS, NULL, &now), 0);
	assert_true((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == test_sigbus);
}

static char shrink_path[4096];
static off_t shrink_to;
static char other_path[4200];

static void shrink_hook(const char *map_path)
{
	assert_string_equal(map_path, shrink_path);
	assert_int_equal(truncate(map_path, shrink_to), 0);
}

static void send_hook(const char *map_path)
{
	(void)map_path;
	raise(SIGBUS);
}

/* A fault of this process's own, in another file's mapping. */
static void fault_hook(const char *map_path)
{
	(void)map_path;
	int fd = open(other_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	volatile unsigned char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(p[100], 0); /* SIGBUS, then a zero page of test_sigbus */
	munmap((void *)p, 4096);
	close(fd);
	unlink(other_path);
}

/* Events per "shm-wN" thread in the snapshot at path. */
static void count_by_thread(const char *path, int count[THREADS])
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	assert_true(ttlog_reader_info(r)->complete);
	struct ttlog_event ev;
	memset(count, 0, THREADS * sizeof *count);
	while (ttlog_reader_next(r, &ev) == 1) {
		int t = -1;
		if (sscanf(ev.thread->name, "shm-w%d", &t) != 1 || t < 0 || t >= THREADS)
			fail_msg("event from thread '%s'", ev.thread->name);
		char msg[256], want[256];
		ttlog_event_format(&ev, msg, sizeof msg);
		snprintf(want, sizeof want, "w%d event %d", t, count[t]);
		assert_string_equal(msg, want);
		count[t]++;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

/*
 * The file is cut right after the first ring's bytes once the reader has
 * mapped it (the test hook), so every later ring lies past its end: the
 * reader gets no SIGBUS but TTLOG_E_TRUNCATED, a snapshot with every event
 * of the first ring's thread and none of the others, and the test's SIGBUS
 * handler back. Then SIGBUS signals that are not the reader's (one sent,
 * one fault in another mapping) reach the test's handler.
 */
static void test_mapping_shrinks_while_read(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	struct kid k;
	start_logging_child(&d, &k);
	end_kid(&k, SIGKILL);
	assert_int_equal(ttlog__shm_path(d.base, k.pid, shrink_path, sizeof shrink_path), 0);

	struct ttlog__shm_header h;
	struct ttlog__shm_ring_entry e0, e;
	int fd = open(shrink_path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &h, sizeof h, 0), (ssize_t)sizeof h);
	assert_true(atomic_load(&h.table_used) >= THREADS);
	/* "The first ring" is the one whose bytes come first in the arena:
	 * threads that start together may take their memory in one order and
	 * enter the table in another, so table entry 0 need not be it. */
	memset(&e0, 0, sizeof e0);
	for (uint32_t i = 0; i < atomic_load(&h.table_used); i++) {
		assert_int_equal(pread(fd, &e, sizeof e, (off_t)(h.table_off + i * sizeof e)),
				 (ssize_t)sizeof e);
		if (e.commit && (!e0.commit || e.data_off < e0.data_off))
			e0 = e;
	}
	close(fd);
	assert_true(e0.commit);
	off_t full = (off_t)h.file_size;
	shrink_to = (off_t)((e0.data_off + e0.size + 4095) & ~(uint64_t)4095);
	assert_true(shrink_to < full);

	struct sigaction old;
	install_test_sigbus(&old);
	char out[4096], err[8192], want[4200 + 128];
	ttlog__shm_read_test_hook = shrink_hook;
	int rc = ttlog__shm_snapshot(shrink_path, d.snaps, "recovered", out, sizeof out, err,
				     sizeof err);
	ttlog__shm_read_test_hook = NULL;
	if (rc != TTLOG_E_TRUNCATED)
		fail_msg("expected TTLOG_E_TRUNCATED, got %s: %s", ttlog_strerror(rc), err);
	snprintf(want, sizeof want, "%s: the mapping shrank to %lld bytes while it was read (it had %lld)",
		 shrink_path, (long long)shrink_to, (long long)full);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
	assert_int_equal(bus_faults + bus_sent, 0); /* the reader's own, none passed on */
	expect_test_sigbus();
	assert_true(out[0]);
	int count[THREADS], full_threads = 0, empty_threads = 0;
	count_by_thread(out, count);
	for (int t = 0; t < THREADS; t++) {
		full_threads += count[t] == EVENTS;
		empty_threads += count[t] == 0;
	}
	assert_int_equal(full_threads, 1);
	assert_int_equal(empty_threads, THREADS - 1);
	unlink(out);

	/* Grown back to its size (zeros past the cut): read whole, without an
	 * error, so nothing of the first read was left taken. */
	assert_int_equal(truncate(shrink_path, full), 0);
	rc = ttlog__shm_snapshot(shrink_path, d.snaps, "recovered", out, sizeof out, err, sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("after growing back: %s: %s", ttlog_strerror(rc), err);
	count_by_thread(out, count);
	unlink(out);

	/* Not the reader's: passed on to the handler from before. */
	ttlog__shm_read_test_hook = send_hook;
	rc = ttlog__shm_snapshot(shrink_path, d.snaps, "recovered", out, sizeof out, err, sizeof err);
	ttlog__shm_read_test_hook = NULL;
	assert_int_equal(rc, TTLOG_OK);
	assert_int_equal(bus_sent, 1);
	expect_test_sigbus();
	unlink(out);

	snprintf(other_path, sizeof other_path, "%s/other", d.base);
	ttlog__shm_read_test_hook = fault_hook;
	rc = ttlog__shm_snapshot(shrink_path, d.snaps, "recovered", out, sizeof out, err, sizeof err);
	ttlog__shm_read_test_hook = NULL;
	assert_int_equal(rc, TTLOG_OK);
	assert_int_equal(bus_faults, 1);
	expect_test_sigbus();
	unlink(out);

	assert_int_equal(sigaction(SIGBUS, &old, NULL), 0);
	unlink(shrink_path);
	free_dirs(&d);
}

static void test_missing_and_bad_config(void **state)
{
	(void)state;
	struct ttlog__shm_info info;
	char err[1024];
	assert_int_equal(ttlog__shm_inspect("/nonexistent/1.ttshm", &info, err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/1.ttshm: cannot open"));

	/* A bad TTLOG_SHARED_MEMORY and an unusable directory fail ttlog_init
	 * with a message (in a child: the test process never initialises). */
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		struct ttlog_config cfg;
		ttlog_config_init(&cfg);
		cfg.crash_signals = -1;
		cfg.dir = tu_snapshot_dir();
		setenv("TTLOG_SHARED_MEMORY", "maybe", 1);
		if (ttlog_init(&cfg) != TTLOG_E_CONFIG ||
		    !strstr(ttlog_init_error(), "TTLOG_SHARED_MEMORY: expected 1, 0, on, off, yes or no"))
			_exit(1);
		setenv("TTLOG_SHARED_MEMORY", "on", 1);
		setenv("TTLOG_SHARED_DIR", "/proc/self", 1);
		if (ttlog_init(&cfg) == TTLOG_OK || !strstr(ttlog_init_error(), "shared memory directory"))
			_exit(2);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A crash snapshot written: the mapping goes (tests/progs/crasher). */
static void test_crash_snapshot_removes_mapping(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	char prog[4096], out[4096], user_dir[4096];
	snprintf(prog, sizeof prog, "%s", tu_prog("crasher"));
	char *argv[] = {prog, d.snaps, (char *)"segv", NULL};
	setenv("TTLOG_SHARED_MEMORY", "1", 1);
	setenv("TTLOG_SHARED_DIR", d.base, 1);
	int status;
	int rc = tu_run(argv, 60, &status, out, sizeof out);
	unsetenv("TTLOG_SHARED_MEMORY");
	unsetenv("TTLOG_SHARED_DIR");
	assert_int_equal(rc, 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	char **snaps;
	int n = tu_list_snapshots(d.snaps, &snaps);
	assert_int_equal(n, 1);
	tu_free_list(snaps, n);
	assert_int_equal(ttlog__shm_user_dir(d.base, user_dir, sizeof user_dir), 0);
	int nleft = 0;
	DIR *dir = opendir(user_dir);
	assert_non_null(dir); /* the crasher made it */
	for (struct dirent *e; (e = readdir(dir));)
		nleft += strstr(e->d_name, ".ttshm") != NULL;
	closedir(dir);
	assert_int_equal(nleft, 0);
	free_dirs(&d);
}

/* ---- Call sites: the mapping's are the process's ------------------------ */

/* Sites whose descriptions go through the mapping's dictionary: field names
 * that stand in the source and names that do not (joined literals,
 * escapes, empty, longer than 64 bytes), 16 arguments, "key=%d" names, a
 * context and a span. */
static void log_field_sites(int v)
{
	TTLOG_INFO("login", TTLOG_F("user_id", v), TTLOG_F("ip", "10.0.0.2"));
	TTLOG_WARN("k=%d", v, TTLOG_F("a" "b", 2), TTLOG_F("q\"x\\y\n", 3), TTLOG_F("", 4));
	TTLOG_ERROR("long", TTLOG_F("abcdefghij0123456789abcdefghij0123456789abcdefghij"
				    "0123456789abcdefghij", v));
	TTLOG_DEBUG("%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		    11, 12, 13, 14, 15, TTLOG_F("last", v));
	TTLOG_INFO("req n=%d ms=%u", v, 2u);
	TTLOG_SPAN("job", TTLOG_F("step", v));
	TTLOG_CONTEXT("request_id", v);
	TTLOG_INFO("in context %d", v);
	if (v) /* first called once the mapping exists: copied as it registers */
		TTLOG_INFO("late", TTLOG_F("late" "_name", v), TTLOG_F("ok", v));
}

/* The child: most sites register before the mapping exists (copied into
 * it by ttlog_init) and all log after; an in-process snapshot, then an exit
 * that leaves the mapping behind. */
static void dictionary_child(const struct dirs *d)
{
	log_field_sites(0);
	child_init(d);
	log_field_sites(1);
	if (ttlog_snapshot("inproc") != TTLOG_OK)
		_exit(12);
	_exit(0);
}

struct site_entries {
	unsigned char *file;
	size_t nsite, nsitx;
	struct {
		uint32_t id;
		const unsigned char *bytes;
		size_t len;
	} site[64], sitx[64];
};

/* The length of the u32-length string at p. */
static size_t str_size(const unsigned char *p)
{
	uint32_t n;
	memcpy(&n, p, 4);
	return 4 + (size_t)n;
}

/* Every SITE and SITX entry of the snapshot at path, as bytes. */
static void read_site_entries(const char *path, struct site_entries *e)
{
	memset(e, 0, sizeof *e);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat sb;
	assert_int_equal(fstat(fd, &sb), 0);
	size_t size = (size_t)sb.st_size;
	e->file = malloc(size);
	assert_non_null(e->file);
	assert_int_equal(pread(fd, e->file, size, 0), (ssize_t)size);
	close(fd);
	for (size_t off = TTLOG__FMT_FILE_HEADER_SIZE; off + TTLOG__FMT_CHUNK_HEADER_SIZE <= size;) {
		uint32_t type, len, count;
		memcpy(&type, e->file + off + TTLOG__FMT_CH_TYPE_OFF, 4);
		memcpy(&len, e->file + off + TTLOG__FMT_CH_LENGTH_OFF, 4);
		const unsigned char *p = e->file + off + TTLOG__FMT_CHUNK_HEADER_SIZE;
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + len;
		assert_true(off <= size);
		if (type != TTLOG__FMT_CHUNK_SITE && type != TTLOG__FMT_CHUNK_SITX)
			continue;
		memcpy(&count, p, 4);
		p += 4;
		for (uint32_t i = 0; i < count; i++) {
			const unsigned char *at = p;
			uint32_t id;
			memcpy(&id, p, 4);
			if (type == TTLOG__FMT_CHUNK_SITE) {
				p += TTLOG__FMT_SITE_FIXED_SIZE + p[TTLOG__FMT_SITE_NARGS_OFF];
				for (int k = 0; k < 4; k++)
					p += str_size(p);
				assert_true(e->nsite < 64);
				e->site[e->nsite].id = id;
				e->site[e->nsite].bytes = at;
				e->site[e->nsite++].len = (size_t)(p - at);
			} else {
				uint16_t fields;
				memcpy(&fields, p + TTLOG__FMT_SITX_FIELDS_OFF, 2);
				p += TTLOG__FMT_SITX_FIXED_SIZE;
				for (int k = 0; k < __builtin_popcount(fields); k++)
					p += str_size(p);
				assert_true(e->nsitx < 64);
				e->sitx[e->nsitx].id = id;
				e->sitx[e->nsitx].bytes = at;
				e->sitx[e->nsitx++].len = (size_t)(p - at);
			}
		}
	}
}

/* The SITE and SITX entries of b are those of a, byte for byte, whatever
 * their order. */
static void expect_same_entries(const struct site_entries *a, const struct site_entries *b)
{
	assert_int_equal(a->nsite, b->nsite);
	assert_int_equal(a->nsitx, b->nsitx);
	for (int x = 0; x < 2; x++) {
		size_t n = x ? a->nsitx : a->nsite;
		for (size_t i = 0; i < n; i++) {
			uint32_t id = x ? a->sitx[i].id : a->site[i].id;
			const unsigned char *bytes = x ? a->sitx[i].bytes : a->site[i].bytes;
			size_t len = x ? a->sitx[i].len : a->site[i].len;
			size_t j = 0;
			while (j < n && (x ? b->sitx[j].id : b->site[j].id) != id)
				j++;
			if (j == n)
				fail_msg("%s entry of site %u: not in the mapping's snapshot",
					 x ? "SITX" : "SITE", id);
			size_t blen = x ? b->sitx[j].len : b->site[j].len;
			const unsigned char *bb = x ? b->sitx[j].bytes : b->site[j].bytes;
			if (blen != len || memcmp(bb, bytes, len) != 0) {
				tu_show_bytes("in-process", (const char *)bytes, len);
				tu_show_bytes("from the mapping", (const char *)bb, blen);
				fail_msg("%s entry of site %u differs", x ? "SITX" : "SITE", id);
			}
		}
	}
}

static void test_site_entries_match_in_process(void **state)
{
	(void)state;
	struct dirs d;
	make_dirs(&d);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		dictionary_child(&d);
	int status;
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	char **snaps;
	assert_int_equal(tu_list_snapshots(d.snaps, &snaps), 1);
	char map[4096], out[4096], err[1024];
	assert_int_equal(ttlog__shm_path(d.base, p, map, sizeof map), 0);
	char *out_dir = tu_tmpdir("shm-sites");
	int rc = ttlog__shm_snapshot(map, out_dir, "recovered", out, sizeof out, err, sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("ttlog__shm_snapshot: %s: %s", ttlog_strerror(rc), err);

	struct site_entries *in = malloc(sizeof *in), *from = malloc(sizeof *from);
	assert_non_null(in);
	assert_non_null(from);
	read_site_entries(snaps[0], in);
	read_site_entries(out, from);
	/* Every log site above and ttlog's own (the context's pop, the span's
	 * end); the ones with fields or of another kind have SITX entries. */
	assert_true(in->nsite >= 11);
	assert_true(in->nsitx >= 7);
	expect_same_entries(in, from);

	free(in->file);
	free(from->file);
	free(in);
	free(from);
	unlink(out);
	unlink(map);
	tu_free_list(snaps, 1);
	free(out_dir);
	free_dirs(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recover_after_sigkill),
		cmocka_unit_test(test_snapshot_of_live_process),
		cmocka_unit_test(test_shutdown_removes_mapping),
		cmocka_unit_test(test_fork_gets_own_mapping),
		cmocka_unit_test(test_owner_must_map_the_file),
		cmocka_unit_test(test_owner_with_unreadable_maps),
		cmocka_unit_test(test_damaged_mappings),
		cmocka_unit_test(test_oversized_record),
		cmocka_unit_test(test_mapping_shrinks_while_read),
		cmocka_unit_test(test_missing_and_bad_config),
		cmocka_unit_test(test_crash_snapshot_removes_mapping),
		cmocka_unit_test(test_site_entries_match_in_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
