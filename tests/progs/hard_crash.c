/* SPDX-License-Identifier: MIT */
/*
 * hard_crash.c - crashes that are hard on the crash handler, for
 * tests/cli_hard_crash.sh: a stack overflow, a fault inside malloc with a
 * corrupt heap, a crash while eight threads log flat out, two threads
 * faulting at once, a crash in a forked child, and a crash whose snapshot
 * directory has become unusable.
 *
 *   hard_crash DIR MODE
 *
 * MODE: overflow malloc busy double fork unwritable readonly
 *
 * The functions that crash, and their callers, are noinline and end with an
 * empty asm after the call, so that at -O2 they keep frames of their own
 * (no inlining, no tail call) and the snapshot's backtrace names them:
 * the test checks the top frames by these names. Exit status 2 is a usage
 * or set-up error, 1 "survived the crash", 77 "not supported in this build".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ttlog.h"

#define KEEP_FRAME() __asm__ volatile("" ::: "memory")
/* The crashes are deliberate: the sanitizers must let them reach the CPU. */
#define CRASHER __attribute__((noinline, no_sanitize("undefined")))

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

static void markers(const char *who)
{
	for (int i = 0; i < 50; i++)
		TTLOG_INFO("marker %d of %s", i, who);
}

/* ---- overflow: deep recursion until the guard page ---------------------- */

static volatile int depth_seen;

static CRASHER int overflow_recurse(int depth)
{
	volatile char frame[256];
	frame[0] = (char)depth;
	depth_seen = depth;
	if (depth < 0)
		return 0; /* never: depth only grows, but the compiler cannot know */
	int r = overflow_recurse(depth + 1);
	KEEP_FRAME();
	return r + frame[0];
}

/* ---- malloc: a poisoned tcache list -------------------------------------- */

/*
 * Two chunks of one size go to the tcache; the link in the second (the
 * list's head) is overwritten with a pointer that, after glibc's
 * safe-linking, points at an aligned unmapped address. The first malloc
 * takes the head and makes the bad pointer the new head; the second
 * dereferences it inside malloc (SIGSEGV), or glibc's checks catch it and
 * abort (SIGABRT) - in malloc either way, possibly with its lock held.
 */
static CRASHER void *heap_victim(void)
{
	void *a = malloc(200), *b = malloc(200);
	/* Seen through a volatile, so that the compiler neither drops the
	 * malloc/free pairs nor warns about the use after free. */
	void *volatile freed = b;
	__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
	free(a);
	free(b);
	uintptr_t bad = 0x1000; /* aligned, and below mmap_min_addr: never mapped */
	uintptr_t link = ((uintptr_t)freed >> 12) ^ bad;
	memcpy(freed, &link, sizeof link); /* the use after free, on purpose */
	void *first = malloc(200);
	void *second = malloc(200);
	KEEP_FRAME();
	fprintf(stderr, "hard_crash: malloc gave %p and %p\n", first, second);
	return second;
}

static CRASHER void heap_caller(void)
{
	heap_victim();
	KEEP_FRAME();
}

/* ---- busy: a crash while eight threads log -------------------------------- */

#define LOGGERS 8
static atomic_int loggers_started;
static atomic_int stop_logging;

static void *logger(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "logger-%d", (int)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	unsigned long i = 0;
	TTLOG_INFO("logger %s starts", name);
	atomic_fetch_add(&loggers_started, 1);
	while (!atomic_load_explicit(&stop_logging, memory_order_relaxed)) {
		TTLOG_DEBUG("%s event %lu: %d %f", name, i, (int)(i & 0xff), i * 0.5);
		i++;
	}
	return NULL;
}

static CRASHER void busy_crash(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
	KEEP_FRAME();
}

static CRASHER void busy_caller(void)
{
	busy_crash();
	KEEP_FRAME();
}

/* ---- double: two threads fault at the same moment ---------------------- */

static pthread_barrier_t together;

static CRASHER void double_crash_a(void)
{
	volatile int *volatile p = (int *)8;
	*p = 1;
	KEEP_FRAME();
}

static CRASHER void double_crash_b(void)
{
	volatile int *volatile p = (int *)16;
	*p = 1;
	KEEP_FRAME();
}

static void *double_thread(void *arg)
{
	int which = (int)(intptr_t)arg;
	pthread_setname_np(pthread_self(), which ? "crash-b" : "crash-a");
	markers(which ? "crash-b" : "crash-a");
	pthread_barrier_wait(&together);
	if (which)
		double_crash_b();
	else
		double_crash_a();
	KEEP_FRAME();
	return NULL;
}

/* ---- fork: the child crashes, the parent goes on ------------------------ */

static CRASHER void child_crash(void)
{
	volatile int *volatile p = (int *)24;
	*p = 1;
	KEEP_FRAME();
}

static CRASHER void child_caller(void)
{
	child_crash();
	KEEP_FRAME();
}

/* ---- unwritable: the directory is gone when the crash comes ------------- */

static CRASHER void unwritable_crash(void)
{
	volatile int *volatile p = (int *)32;
	*p = 1;
	KEEP_FRAME();
}

/*
 * Replaces the snapshot directory, which ttlog_init() checked, by a regular
 * file: creating a file "in" it then fails with ENOTDIR, for root as well
 * (permissions would not stop root).
 */
static int spoil_directory(const char *dir)
{
	if (rmdir(dir) != 0)
		return -1;
	FILE *f = fopen(dir, "w");
	if (!f)
		return -1;
	fputs("not a directory\n", f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hard_crash DIR MODE\n");
		return 2;
	}
	const char *dir = argv[1], *mode = argv[2];
#ifdef HAVE_ASAN
	/* AddressSanitizer owns the heap (and reports the use after free
	 * itself) and its stack checks stop the recursion first. */
	if (strcmp(mode, "malloc") == 0 || strcmp(mode, "overflow") == 0)
		return 77;
#endif
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "hard_crash: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 2;
	}
	pthread_setname_np(pthread_self(), "hard-main");

	if (strcmp(mode, "overflow") == 0) {
		markers("main");
		overflow_recurse(1);
	} else if (strcmp(mode, "malloc") == 0) {
		markers("main");
		heap_caller();
	} else if (strcmp(mode, "busy") == 0) {
		pthread_t t[LOGGERS];
		for (int i = 0; i < LOGGERS; i++)
			if (pthread_create(&t[i], NULL, logger, (void *)(intptr_t)i) != 0)
				return 2;
		/* Every logger is running (and has logged) before the crash. */
		while (atomic_load(&loggers_started) < LOGGERS)
			usleep(1000);
		markers("main");
		busy_caller();
	} else if (strcmp(mode, "double") == 0) {
		pthread_t t[2];
		pthread_barrier_init(&together, NULL, 2);
		for (int i = 0; i < 2; i++)
			if (pthread_create(&t[i], NULL, double_thread, (void *)(intptr_t)i) != 0)
				return 2;
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
	} else if (strcmp(mode, "fork") == 0) {
		markers("parent");
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			markers("child");
			child_caller();
			_exit(1);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			return 2;
		/* The parent carries on, logging, and exits normally. */
		TTLOG_INFO("parent after the child's crash");
		printf("child %d status %s %d\n", (int)pid,
		       WIFSIGNALED(status) ? "signal" : "exit",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return 0;
	} else if (strcmp(mode, "readonly") == 0) {
		/* EACCES, except for root, whom the mode does not stop. */
		markers("main");
		if (chmod(dir, 0500) != 0) {
			perror("hard_crash: chmod");
			return 2;
		}
		unwritable_crash();
	} else if (strcmp(mode, "unwritable") == 0) {
		markers("main");
		if (spoil_directory(dir) != 0) {
			perror("hard_crash: replacing the directory");
			return 2;
		}
		unwritable_crash();
	} else {
		fprintf(stderr, "hard_crash: unknown mode %s\n", mode);
		return 2;
	}
	fprintf(stderr, "hard_crash: survived mode %s\n", mode);
	return 1;
}
