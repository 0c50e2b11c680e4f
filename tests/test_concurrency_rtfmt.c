/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency_rtfmt.c - runtime formats from many threads at once:
 * every thread makes the same formats at the same moment (the table's
 * insert race) and formats of its own, and every event comes back with
 * its text, its format's site made once. CI runs it under ThreadSanitizer
 * (label concurrency), which checks the table's publication.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define THREADS 8
#define SHARED 32   /* formats every thread logs */
#define OWN 16      /* formats of one thread */
#define ROUNDS 20

static pthread_barrier_t start;

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	char fmt[64];
	pthread_barrier_wait(&start);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < SHARED; i++) {
			snprintf(fmt, sizeof fmt, "mt.shared%d t=%%d r=%%d s=%%s", i);
			ttlog_log(TTLOG_LEVEL_INFO, fmt, t, r, "x");
		}
		for (int i = 0; i < OWN; i++) {
			snprintf(fmt, sizeof fmt, "mt.own%d.%d r=%%d v=%%.1f", t, i);
			ttlog_log(TTLOG_LEVEL_INFO, fmt, r, 0.5);
		}
	}
	return NULL;
}

static void test_many_threads(void **state)
{
	(void)state;
	struct ttlog_runtime_stats before, after;
	ttlog_get_runtime_stats(&before);
	pthread_t th[THREADS];
	pthread_barrier_init(&start, NULL, THREADS);
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);
	ttlog_get_runtime_stats(&after);
	/* Each distinct format made once (an insert race may leave an entry
	 * unused, never a second site). */
	assert_true(after.formats - before.formats >= SHARED + THREADS * OWN);
	assert_int_equal(after.overflowed, before.overflowed);

	ttlog_reader *r = tu_snapshot_open("rtfmt-mt");
	assert_non_null(r);
	struct ttlog_event ev;
	static int seen_shared[THREADS][SHARED], seen_own[THREADS][OWN];
	uint32_t shared_site[SHARED] = {0};
	int events = 0;
	while (ttlog_reader_next(r, &ev)) {
		char text[128];
		ttlog_event_format(&ev, text, sizeof text);
		int i, t, rr, n = 0;
		char s[4];
		double v;
		if (sscanf(text, "mt.shared%d t=%d r=%d s=%1s%n", &i, &t, &rr, s, &n) == 4 &&
		    text[n] == '\0') {
			assert_true(i >= 0 && i < SHARED && t >= 0 && t < THREADS);
			assert_string_equal(s, "x");
			seen_shared[t][i]++;
			if (!shared_site[i])
				shared_site[i] = ev.site->id;
			assert_int_equal(ev.site->id, shared_site[i]); /* one site per format */
			events++;
		} else if (sscanf(text, "mt.own%d.%d r=%d v=%lf", &t, &i, &rr, &v) == 4) {
			assert_true(t >= 0 && t < THREADS && i >= 0 && i < OWN);
			assert_true(v == 0.5);
			seen_own[t][i]++;
			events++;
		}
	}
	ttlog_reader_close(r);
	assert_int_equal(events, THREADS * ROUNDS * (SHARED + OWN));
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < SHARED; i++)
			assert_int_equal(seen_shared[t][i], ROUNDS);
		for (int i = 0; i < OWN; i++)
			assert_int_equal(seen_own[t][i], ROUNDS);
	}
}

static int setup(void **state)
{
	(void)state;
	return tu_start(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_threads),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
