/* SPDX-License-Identifier: MIT */
/*
 * crash_cases.c - crashes that used to leave nothing behind, for
 * tests/test_crash_cases.c. Each run is one process; the test runs each
 * mode many times.
 *
 *   crash_cases DIR MODE [PLUGIN]
 *
 * MODE:
 *   dlclose   dlopen(PLUGIN) (tests/progs/logger_plugin/), log from it,
 *             dlclose() it, change the levels (which must not touch the
 *             plugin's unmapped sites), then ttlog_snapshot("unloaded"), log
 *             "last %d" = 7 and die of SIGSEGV: both snapshots must
 *             describe the plugin's call sites.
 *   snapshot  a thread takes snapshots in a loop (ttlog_snapshot("busy"))
 *             while the main thread crashes: the crash snapshot must be
 *             whole and no temporary file may stay behind.
 *   exit-after-crash   a thread crashes; while its snapshot is being
 *             written, the main thread calls exit(0): the process must
 *             still die of SIGSEGV, with the crash snapshot.
 *   crash-in-exit      the main thread calls exit(0); the program's exit
 *             hook lets a thread crash and returns: the same.
 *   blocked SHMDIR   shared-memory mode (mappings under SHMDIR): a thread
 *             that has SIGSEGV blocked faults. The kernel ends the process
 *             without running any handler, so there is no snapshot; the
 *             test recovers the history from the mapping with `ttlog
 *             recover`.
 *   init      ttlog_init() and exit 0 (init's clean-up of temporaries).
 *
 * The crashing thread's last event is always "last %d" with the value 7.
 * The thread that crashes is named "crasher" in the blocked mode.
 * Exit status 2 is a usage or set-up error, 1 "survived the crash".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

#define CRASHER __attribute__((noinline, no_sanitize("undefined")))

static volatile int after;

static CRASHER void crash_here(int value)
{
	volatile int *volatile p = NULL;
	*p = value;
	after = value;
}

static void start(const char *dir, const char *shared_dir)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	if (shared_dir) {
		cfg.shared_memory = 1;
		cfg.shared_dir = shared_dir;
	}
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "crash_cases: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		exit(2);
	}
}

/* ---- dlclose: snapshots after the library that logged is gone ----------- */

static int run_dlclose(const char *plugin_path)
{
	void *plugin = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
	if (!plugin) {
		fprintf(stderr, "crash_cases: %s\n", dlerror());
		return 2;
	}
	void (*plugin_log)(int) = (void (*)(int))dlsym(plugin, "plugin_log");
	if (!plugin_log) {
		fprintf(stderr, "crash_cases: plugin_log: %s\n", dlerror());
		return 2;
	}
	plugin_log(5);
	if (dlclose(plugin) != 0) {
		fprintf(stderr, "crash_cases: dlclose: %s\n", dlerror());
		return 2;
	}
	if (dlopen(plugin_path, RTLD_NOW | RTLD_NOLOAD)) {
		fprintf(stderr, "crash_cases: the plugin is still loaded after dlclose\n");
		return 2;
	}
	/* Level changes rewrite every site's word: not those of the plugin. */
	if (ttlog_set_level(TTLOG_LEVEL_DEBUG) != TTLOG_OK ||
	    ttlog_set_target_level("plugin", TTLOG_LEVEL_WARN) != TTLOG_OK ||
	    ttlog_set_level(TTLOG_LEVEL_TRACE) != TTLOG_OK) {
		fprintf(stderr, "crash_cases: a level change failed\n");
		return 2;
	}
	int rc = ttlog_snapshot("unloaded");
	if (rc != TTLOG_OK) {
		fprintf(stderr, "crash_cases: ttlog_snapshot: %s\n", ttlog_strerror(rc));
		return 2;
	}
	TTLOG_INFO("last %d", 7);
	crash_here(7);
	return 1;
}

/* ---- snapshot: a crash while another thread writes a snapshot ---------- */

static _Atomic int snapshots_taken;

static void *snapshot_loop(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "snapper");
	for (int round = 0;; round++) {
		for (int i = 0; i < 2000; i++)
			TTLOG_INFO("busy %d in round %d", i, round);
		ttlog_snapshot("busy");
		atomic_fetch_add(&snapshots_taken, 1);
	}
	return NULL;
}

static int run_snapshot(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, snapshot_loop, NULL) != 0)
		return 2;
	/* Some snapshots first, then a crash at a moment that varies from run
	 * to run, most likely while one is being written. */
	while (atomic_load(&snapshots_taken) < 2)
		usleep(100);
	usleep((useconds_t)(getpid() % 7) * 300);
	TTLOG_INFO("last %d", 7);
	crash_here(7);
	return 1;
}

/* ---- exit() and a crash at the same time --------------------------------- */

static _Atomic int worker_ready, worker_go, worker_crashing;

/* Fills the thread's ring (so that the crash snapshot takes a while to
 * write), waits for the go, then crashes. */
static void *crashing_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "crasher");
	for (int i = 0; i < 200000; i++)
		TTLOG_INFO("filler %d of %s", i, "the ring");
	atomic_store(&worker_ready, 1);
	while (!atomic_load(&worker_go))
		usleep(50);
	TTLOG_INFO("last %d", 7);
	atomic_store(&worker_crashing, 1);
	crash_here(7);
	return NULL;
}

static void wait_for(_Atomic int *flag)
{
	while (!atomic_load(flag))
		usleep(50);
}

static const char *snapshot_dir;

/* Waits until the crash handler is writing: its temporary file, or its
 * finished snapshot, is in the directory. */
static void wait_for_crash_writing(void)
{
	for (;;) {
		DIR *d = opendir(snapshot_dir);
		if (!d)
			return;
		struct dirent *e;
		int seen = 0;
		while ((e = readdir(d)) && !seen)
			seen = strncmp(e->d_name, ".ttlog-", 7) == 0 || strstr(e->d_name, "SIGSEGV");
		closedir(d);
		if (seen)
			return;
		usleep(20);
	}
}

/* The program's own exit hook: the crash begins while exit() runs. */
static void crash_during_exit(void)
{
	atomic_store(&worker_go, 1);
	wait_for(&worker_crashing);
	wait_for_crash_writing();
}

static int run_exit(int crash_first)
{
	pthread_t t;
	if (pthread_create(&t, NULL, crashing_worker, NULL) != 0)
		return 2;
	wait_for(&worker_ready);
	if (crash_first) {
		atomic_store(&worker_go, 1);
		wait_for(&worker_crashing);
		wait_for_crash_writing();
	} else if (atexit(crash_during_exit) != 0) {
		return 2;
	}
	exit(0);
}

/* ---- blocked: a fault with the signal blocked ----------------------------- */

static void *blocked_worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "crasher");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 0; i < 100; i++)
		TTLOG_INFO("filler %d of %s", i, "the ring");
	TTLOG_INFO("last %d", 7);
	crash_here(7);
	return NULL;
}

static int run_blocked(void)
{
	TTLOG_INFO("main %d", 1);
	pthread_t t;
	if (pthread_create(&t, NULL, blocked_worker, NULL) != 0)
		return 2;
	pthread_join(t, NULL);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: crash_cases DIR MODE [PLUGIN]\n");
		return 2;
	}
	const char *mode = argv[2];
	int blocked = strcmp(mode, "blocked") == 0;
	if (blocked && argc != 4) {
		fprintf(stderr, "crash_cases: blocked needs SHMDIR\n");
		return 2;
	}
	snapshot_dir = argv[1];
	start(argv[1], blocked ? argv[3] : NULL);
	if (blocked)
		return run_blocked();
	if (strcmp(mode, "dlclose") == 0 && argc == 4)
		return run_dlclose(argv[3]);
	if (strcmp(mode, "snapshot") == 0)
		return run_snapshot();
	if (strcmp(mode, "exit-after-crash") == 0)
		return run_exit(1);
	if (strcmp(mode, "crash-in-exit") == 0)
		return run_exit(0);
	if (strcmp(mode, "init") == 0)
		return 0;
	fprintf(stderr, "crash_cases: unknown mode or missing argument: %s\n", mode);
	return 2;
}
