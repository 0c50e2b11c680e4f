/* SPDX-License-Identifier: MIT */
/*
 * crasher.c - a program that logs and then dies in a chosen way, for the
 * crash tests (tests/test_crash.c runs it in a child process).
 *
 *   crasher DIR MODE
 *
 * Every mode logs "marker %d" for 0..MARKERS-1 from the thread that will
 * crash, so the test can check that the snapshot ends with those events.
 * Modes: segv abort stack fpe bus threads double handler usr2 fork nested
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sites/desc.h"
#include "sites/sites.h"
#include "ttlog.h"

#define MARKERS 100

static void markers(void)
{
	for (int i = 0; i < MARKERS; i++)
		TTLOG_INFO("marker %d", i);
}

/* The crashes are deliberate: UBSan must let them reach the CPU. */
#define DELIBERATE_UB __attribute__((noinline, no_sanitize("undefined")))

static DELIBERATE_UB void null_deref(void)
{
	volatile int *volatile p = NULL;
	*p = 1;
}

/* A frame the compiler cannot remove or turn into a loop. */
static int recurse(int depth)
{
	volatile char frame[512];
	frame[0] = (char)depth;
	if (depth % 256 == 0)
		TTLOG_DEBUG("depth %d", depth);
	if (depth < 0)
		return 0;
	return recurse(depth + 1) + frame[0];
}

static DELIBERATE_UB int divide(int a, int b)
{
	return a / b;
}

static void bus_error(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/bus.tmp", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	long page = sysconf(_SC_PAGESIZE);
	if (fd < 0 || ftruncate(fd, page) != 0)
		exit(3);
	volatile char *m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		exit(3);
	unlink(path);
	m[page + 1] = 1; /* beyond the end of the file */
}

static volatile int stop_noise;

static void *noise(void *arg)
{
	char name[16];
	snprintf(name, sizeof name, "noise-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	for (unsigned long i = 0; !stop_noise; i++)
		TTLOG_TRACE("noise %lu from %s: %d %f", i, name, (int)(i & 0xff), i * 0.25);
	return NULL;
}

static pthread_barrier_t crash_barrier;

static void *crash_together(void *arg)
{
	(void)arg;
	markers();
	pthread_barrier_wait(&crash_barrier);
	null_deref();
	return NULL;
}

/* Makes the crash handler itself crash: the snapshot writer reads a site's
 * format string (through the site's resolved description, filled when it
 * registered) while writing the call-site dictionary, so a site whose
 * format pointer is bad faults inside the handler. */
static void poison_marker_site(void)
{
	for (uint32_t id = 1; id < ttlog__site_id_limit(); id++) {
		struct ttlog__site_desc *d = (struct ttlog__site_desc *)ttlog__site_desc_lookup(id);
		if (d && d->format_len == 9 && memcmp(d->format, "marker %d", 9) == 0)
			d->format = (const char *)16;
	}
}

static void own_handler(int signo)
{
	static const char msg[] = "own handler called\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(5);
	signal(signo, SIG_DFL); /* returning re-executes the fault: now fatal */
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: crasher DIR MODE\n");
		return 2;
	}
	const char *dir = argv[1], *mode = argv[2];
	if (strcmp(mode, "handler") == 0)
		signal(SIGSEGV, own_handler);

	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	if (strcmp(mode, "usr2") == 0)
		cfg.snapshot_signal = SIGUSR2;
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "crasher: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 2;
	}
	pthread_setname_np(pthread_self(), "crasher-main");

	if (strcmp(mode, "threads") == 0) {
		pthread_t t[4];
		for (long i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, noise, (void *)i);
		usleep(50 * 1000);
		markers();
		null_deref();
	} else if (strcmp(mode, "double") == 0) {
		pthread_t t[2];
		pthread_barrier_init(&crash_barrier, NULL, 2);
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, crash_together, NULL);
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
	} else if (strcmp(mode, "usr2") == 0) {
		markers();
		raise(SIGUSR2); /* the handler snapshots and the program goes on */
		TTLOG_INFO("still running after the snapshot signal");
		return 0;
	} else if (strcmp(mode, "fork") == 0) {
		TTLOG_INFO("parent before fork");
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			markers();
			char path[4096];
			if (ttlog_snapshot_path("child", path, sizeof path) != TTLOG_OK)
				_exit(4);
			_exit(0);
		}
		int status;
		waitpid(pid, &status, 0);
		TTLOG_INFO("parent after fork, child %d", (int)pid);
		if (ttlog_snapshot("parent") != TTLOG_OK)
			return 4;
		printf("child %d\n", (int)pid);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 6;
	} else {
		markers();
		if (strcmp(mode, "segv") == 0 || strcmp(mode, "handler") == 0)
			null_deref();
		else if (strcmp(mode, "nested") == 0) {
			poison_marker_site();
			null_deref();
		}
		else if (strcmp(mode, "abort") == 0)
			abort();
		else if (strcmp(mode, "stack") == 0)
			recurse(1);
		else if (strcmp(mode, "fpe") == 0) {
			volatile int numerator = 7, zero = 0; /* not 1: gcc turns 1/x into a compare */
			printf("%d\n", divide(numerator, zero));
		} else if (strcmp(mode, "bus") == 0)
			bus_error(dir);
		else {
			fprintf(stderr, "crasher: unknown mode %s\n", mode);
			return 2;
		}
	}
	fprintf(stderr, "crasher: survived mode %s\n", mode);
	return 1;
}
