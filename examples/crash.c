/* SPDX-License-Identifier: MIT */
/*
 * crash.c - several threads log while they work; then one of them
 * dereferences a null pointer. ttlog's crash handler writes a snapshot of
 * every thread's recent history before the process dies of SIGSEGV.
 *
 *   TTLOG_DIR=./snapshots ./crash; ttlog view snapshots/ *.ttlog
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

#define WORKERS 3

struct order {
	int id;
	const char *customer;
	double amount;
};

static const char *const customers[] = {"ada", "grace", "linus", "margaret"};

static void *worker(void *arg)
{
	int n = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%d", n);
	pthread_setname_np(pthread_self(), name);
	for (int i = 0; i < 200; i++) {
		struct order o = {n * 1000 + i, customers[i % 4], 9.99 * (i % 7 + 1)};
		TTLOG_DEBUG("order %d: customer=%s amount=%.2f", o.id, o.customer, o.amount);
		if (i % 50 == 0)
			TTLOG_INFO("worker %d processed %d orders", n, i);
		usleep(100);
	}
	return NULL;
}

static int total_length(const struct order *o)
{
	TTLOG_WARN("computing the length of the customer name of order %p", (const void *)o);
	return (int)strlen(o->customer); /* o is NULL: this is the crash */
}

int main(void)
{
	struct ttlog_config config;
	ttlog_config_init(&config);
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "crash: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 1;
	}
	TTLOG_INFO("starting %d workers", WORKERS);
	pthread_t t[WORKERS];
	for (long i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	TTLOG_INFO("all workers done; summarising");

	const struct order *volatile missing = NULL;
	TTLOG_ERROR("order lookup returned %p, using it anyway", (const void *)missing);
	printf("length: %d\n", total_length(missing));
	return 0;
}
