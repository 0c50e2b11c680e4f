/* SPDX-License-Identifier: MIT */
/*
 * deadlock.c - a process that hangs on purpose, for the tests of hang
 * forensics (tests/cli_hang.sh): two threads take two mutexes in opposite
 * orders and block each other for good.
 *
 * Usage: deadlock
 *
 * Thread "locker-ab" locks A, thread "locker-ba" locks B; both meet at a
 * barrier, so that each holds its first lock; each then logs its last
 * event ("locker-ab waits for B", "locker-ba waits for A") inside an open
 * span "transfer" and asks for the other lock, which it never gets. The
 * main thread waits until both are blocked in the kernel (their state in
 * /proc/self/task/TID/stat is S, sleeping, after the last event) and writes
 * "ready PID" to stdout, then sleeps until it is killed. The test
 * synchronises on that line, never on time. Configured from the
 * environment alone (TTLOG_SHARED_MEMORY, TTLOG_DIR, TTLOG_WATCHDOG, ...).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ttlog.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static _Atomic int tids[2];

struct locker {
	int id;
	const char *name;
	pthread_mutex_t *first, *second;
	const char *first_name, *second_name;
};

static void *locker(void *arg)
{
	const struct locker *l = arg;
	pthread_setname_np(pthread_self(), l->name);
	TTLOG_INFO("%s starts", l->name);
	pthread_mutex_lock(l->first);
	TTLOG_INFO("%s holds %s", l->name, l->first_name);
	pthread_barrier_wait(&both_hold);
	TTLOG_SPAN_BEGIN("transfer");
	TTLOG_WARN("%s waits for %s", l->name, l->second_name);
	atomic_store(&tids[l->id], (int)syscall(SYS_gettid));
	pthread_mutex_lock(l->second); /* never returns */
	TTLOG_INFO("%s got %s", l->name, l->second_name);
	TTLOG_SPAN_END();
	pthread_mutex_unlock(l->second);
	pthread_mutex_unlock(l->first);
	return NULL;
}

/* Whether thread tid sleeps in the kernel (its state is S). */
static int sleeping(int tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the name may hold spaces */
	return p && p[1] == ' ' && p[2] == 'S';
}

int main(void)
{
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "deadlock: ttlog_init failed\n");
		return 1;
	}
	static struct locker l[2] = {
		{0, "locker-ab", &lock_a, &lock_b, "A", "B"},
		{1, "locker-ba", &lock_b, &lock_a, "B", "A"},
	};
	pthread_barrier_init(&both_hold, NULL, 2);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, locker, &l[i]) != 0) {
			fprintf(stderr, "deadlock: pthread_create failed\n");
			return 1;
		}
	TTLOG_INFO("main started both lockers");
	for (;;) {
		int a = atomic_load(&tids[0]), b = atomic_load(&tids[1]);
		if (a && b && sleeping(a) && sleeping(b))
			break;
		usleep(1000);
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	for (;;)
		pause();
}
