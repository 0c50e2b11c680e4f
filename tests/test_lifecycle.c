/* SPDX-License-Identifier: MIT */
/*
 * test_lifecycle.c - rings outlive their threads: a snapshot shows what
 * exited threads did (with their names); under the memory cap, new threads
 * reuse the ring of the thread that exited first, and a reused ring fills
 * from its first segment again; with no ring to reuse, a thread's events
 * are dropped and counted, never lost silently.
 *
 * The main thread never logs here, so the cap is shared by the test's
 * threads only: two rings.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define RING_SIZE 4096u

struct job {
	const char *name;
	int events;
	pthread_barrier_t *hold; /* if set: wait here before exiting */
};

static void *job_main(void *arg)
{
	struct job *job = arg;
	pthread_setname_np(pthread_self(), job->name);
	for (int i = 0; i < job->events; i++)
		TTLOG_INFO("%s event %d", job->name, i);
	if (job->hold) {
		pthread_barrier_wait(job->hold); /* ring taken */
		pthread_barrier_wait(job->hold); /* test done */
	}
	return NULL;
}

static void run_job(const char *name, int events)
{
	struct job job = {name, events, NULL};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, job_main, &job), 0);
	pthread_join(t, NULL);
}

/* Events per thread name in a new snapshot; also returns the thread flags. */
static int events_of(const char *thread_name, int *exited)
{
	ttlog_reader *r = tu_snapshot_open("lifecycle");
	assert_non_null(r);
	int n = 0;
	*exited = -1;
	for (size_t i = 0; i < ttlog_reader_thread_count(r); i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (strcmp(t->name, thread_name) == 0) {
			n += (int)t->events;
			*exited = t->exited;
		}
	}
	ttlog_reader_close(r);
	return n;
}

static void test_exited_threads_stay_in_snapshots(void **state)
{
	(void)state;
	int exited;
	run_job("first", 5);
	assert_int_equal(events_of("first", &exited), 5);
	assert_int_equal(exited, 1);
}

static void test_oldest_exited_ring_is_reused(void **state)
{
	(void)state;
	int exited;
	run_job("second", 3); /* takes the second and last ring of the cap */
	run_job("third", 4);  /* no new ring: reuses the ring of "first" */
	assert_int_equal(events_of("first", &exited), 0);
	assert_int_equal(events_of("second", &exited), 3);
	assert_int_equal(events_of("third", &exited), 4);
	struct ttlog_stats st;
	assert_int_equal(ttlog_get_stats(&st), TTLOG_OK);
	assert_int_equal(st.rings, 2);
	assert_int_equal(st.dropped_no_ring, 0);
}

static void test_no_ring_left_counts_drops(void **state)
{
	(void)state;
	pthread_barrier_t hold;
	pthread_barrier_init(&hold, NULL, 3);
	struct job a = {"holder-a", 1, &hold}, b = {"holder-b", 1, &hold};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, job_main, &a);
	pthread_create(&tb, NULL, job_main, &b);
	pthread_barrier_wait(&hold); /* both live threads hold the two rings */

	struct ttlog_stats before, after;
	ttlog_get_stats(&before);
	run_job("ringless", 7);
	ttlog_get_stats(&after);
	assert_int_equal(after.dropped_no_ring - before.dropped_no_ring, 7);

	int exited;
	assert_int_equal(events_of("ringless", &exited), 0);
	pthread_barrier_wait(&hold);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&hold);
}

static void *lap_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "lapper");
	for (uint32_t i = 0; i < 1000; i++)
		TTLOG_INFO("lap %u", i);
	return NULL;
}

/* A reused ring starts again at its first segment, wherever its previous
 * owner stopped: both rings are left by threads that ended in their first
 * segment, then a thread that takes one of them laps it many times. What
 * the snapshot shows of it is its newest events, in order, and every
 * other one counted as overwritten. */
static void test_reused_ring_starts_at_its_first_segment(void **state)
{
	(void)state;
	run_job("one-a", 1);
	run_job("one-b", 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, lap_main, NULL), 0);
	pthread_join(t, NULL);

	ttlog_reader *r = tu_snapshot_open("lifecycle");
	assert_non_null(r);
	const struct ttlog_thread_info *th = NULL;
	for (size_t i = 0; i < ttlog_reader_thread_count(r); i++)
		if (strcmp(ttlog_reader_thread(r, i)->name, "lapper") == 0)
			th = ttlog_reader_thread(r, i);
	assert_non_null(th);
	struct ttlog_event ev;
	uint64_t n = 0, expect = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.thread != th)
			continue;
		assert_int_equal(ev.nargs, 1);
		if (n == 0)
			expect = ev.args[0].v.u;
		assert_int_equal(ev.args[0].v.u, expect); /* no holes, no reordering */
		expect++;
		n++;
	}
	assert_int_equal(expect, 1000);            /* ends with the newest */
	assert_true(n >= RING_SIZE / 2 / 24);      /* a whole segment of 24-byte records */
	assert_int_equal(th->events, n);
	assert_int_equal(th->overwritten, 1000 - n);
	assert_int_equal(th->torn, 0);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = RING_SIZE;
	cfg.memory_cap = 2 * RING_SIZE;
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exited_threads_stay_in_snapshots),
		cmocka_unit_test(test_oldest_exited_ring_is_reused),
		cmocka_unit_test(test_no_ring_left_counts_drops),
		cmocka_unit_test(test_reused_ring_starts_at_its_first_segment),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
