/* SPDX-License-Identifier: MIT */
/*
 * trigger_burst.c - a program that logs steadily and injects what the
 * triggers of tests/triggers.sh watch for (TTLOG_TRIGGER comes from the
 * test). Every event it logs carries a sequence number, so that the test
 * can tell which events a snapshot holds from before and after a trigger.
 *
 * Usage: trigger_burst MODE
 *   burst  1. logs "seq N" with a latency of 10 (test.latency_ms) for a
 *          while; 2. records a burst of latencies of 900 ("burst at
 *          seq=N") and logs on until the first trigger snapshot is in
 *          TTLOG_DIR; 3. records normal latencies and bursts again until
 *          the triggers' held-back count has grown (the burst rule is
 *          `once`); 4. logs an error ("injected error seq=N") and logs on
 *          until the second snapshot is there; 5. logs a second error and
 *          logs on until the held-back count grows again; then shuts down.
 *   error  logs "seq N", one error, and logs on until one trigger
 *          snapshot is there.
 *   more   a span "checkout" of 120 ms, then a gauge queue.depth of 2000,
 *          then 100 increments of counter errors, each followed by logging
 *          until one more trigger snapshot is there.
 *   exit   logs an error, logs on until the trigger has fired
 *          (ttlog_trigger_fires_total), then calls exit() without
 *          ttlog_shutdown while the rule's post-roll (TTLOG_TRIGGER's
 *          post=) still runs: the snapshot must be written at exit.
 *   api    ttlog_trigger_add() with a bad rule (it must be refused, its
 *          message on stdout), then with "level>=error post=300ms", then
 *          an error, then logging until one trigger snapshot is there.
 *
 * It waits for files and counts, never for times: each wait ends after
 * 60 s with exit status 3 and a message naming what did not come.
 * Exit status: 0 done, 1 usage, 2 ttlog_init failed, 3 a wait ended.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ttlog.h"

#define WAIT_LOOKS 1200 /* of 50 ms: 60 s */

static int seq;

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* One step of steady work: an event with the next number and a normal
 * latency. */
static void step(void)
{
	seq++;
	TTLOG_INFO("seq %d", seq);
	TTLOG_HISTOGRAM_RECORD("test.latency_ms", 10.0);
}

static int trigger_files(void)
{
	const char *dir = getenv("TTLOG_DIR");
	DIR *d = opendir(dir ? dir : ".");
	int n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strstr(e->d_name, "-trigger") &&
		    strstr(e->d_name, ".ttlog"))
			n++;
	closedir(d);
	return n;
}

/* A counter of the process's own metrics, -1 if absent. */
static long own_counter(const char *name)
{
	int fd = memfd_create("metrics", 0);
	if (fd < 0 || ttlog_metrics_write_prometheus(fd) != TTLOG_OK)
		return -1;
	static char text[1 << 20];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	char key[128];
	snprintf(key, sizeof key, "\n%s ", name);
	const char *p = strstr(text, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static long held(void)
{
	return own_counter("ttlog_trigger_matches_held_total");
}

/* Logs steadily until there are `files` trigger snapshots. */
static int wait_files(int files, const char *what)
{
	for (int i = 0; i < WAIT_LOOKS; i++) {
		if (trigger_files() >= files)
			return 0;
		step();
		pause_ms(50);
	}
	fprintf(stderr, "trigger_burst: no trigger snapshot number %d after %s\n", files, what);
	return 3;
}

static void burst(void)
{
	TTLOG_WARN("burst at seq=%d", seq);
	for (int i = 0; i < 200; i++)
		TTLOG_HISTOGRAM_RECORD("test.latency_ms", 900.0);
}

static int run_burst(void)
{
	for (int i = 0; i < 20; i++) {
		step();
		pause_ms(20);
	}
	burst();
	int rc = wait_files(1, "the latency burst");
	if (rc)
		return rc;
	/* The burst rule is `once`: later bursts are held back, never fired. */
	long before = held();
	int ok = 0;
	for (int i = 0; i < 40 && !ok; i++) {
		/* Normal latencies for longer than the rule's window (1 s), so
		 * that its condition is false again, then a burst. */
		for (int k = 0; k < 30; k++) {
			step();
			pause_ms(50);
		}
		burst();
		for (int k = 0; k < 10 && !ok; k++) {
			step();
			pause_ms(50);
			ok = held() > before;
		}
	}
	if (!ok) {
		fprintf(stderr, "trigger_burst: a second burst was never held back\n");
		return 3;
	}
	TTLOG_ERROR("injected error seq=%d", seq);
	rc = wait_files(2, "the error");
	if (rc)
		return rc;
	before = held();
	TTLOG_ERROR("second error seq=%d", seq);
	for (int i = 0; i < WAIT_LOOKS && held() <= before; i++) {
		step();
		pause_ms(50);
	}
	if (held() <= before) {
		fprintf(stderr, "trigger_burst: the second error was never held back\n");
		return 3;
	}
	for (int i = 0; i < 5; i++)
		step();
	return 0;
}

static int run_error(void)
{
	for (int i = 0; i < 20; i++) {
		step();
		pause_ms(20);
	}
	TTLOG_ERROR("injected error seq=%d", seq);
	return wait_files(1, "the error");
}

static int run_more(void)
{
	for (int i = 0; i < 10; i++)
		step();
	TTLOG_SPAN_BEGIN("checkout");
	TTLOG_INFO("checking out seq=%d", seq);
	pause_ms(120);
	TTLOG_SPAN_END();
	int rc = wait_files(1, "the span");
	if (rc)
		return rc;
	TTLOG_GAUGE_SET("queue.depth", 2000.0);
	TTLOG_INFO("queue deep seq=%d", seq);
	rc = wait_files(2, "the gauge");
	if (rc)
		return rc;
	TTLOG_COUNTER_ADD("errors", 100);
	TTLOG_INFO("errors counted seq=%d", seq);
	return wait_files(3, "the counter's rate");
}

static int run_exit(void)
{
	for (int i = 0; i < 20; i++)
		step();
	TTLOG_ERROR("injected error seq=%d", seq);
	for (int i = 0; i < WAIT_LOOKS && own_counter("ttlog_trigger_fires_total") < 1; i++) {
		step();
		pause_ms(50);
	}
	if (own_counter("ttlog_trigger_fires_total") < 1) {
		fprintf(stderr, "trigger_burst: the error never fired\n");
		return 3;
	}
	TTLOG_INFO("exiting seq=%d", seq);
	exit(0);
}

static int run_api(void)
{
	char err[512];
	int rc = ttlog_trigger_add("level>=eror", err, sizeof err);
	printf("bad rule: %s: %s\n", ttlog_strerror(rc), err);
	rc = ttlog_trigger_add("level>=error post=300ms action=snapshot", err, sizeof err);
	printf("good rule: %s\n", ttlog_strerror(rc));
	fflush(stdout);
	if (rc != TTLOG_OK)
		return 3;
	return run_error();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: trigger_burst burst|error|more|exit|api\n");
		return 1;
	}
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "trigger_burst: ttlog_init: %s\n", ttlog_init_error());
		return 2;
	}
	int rc;
	if (strcmp(argv[1], "burst") == 0)
		rc = run_burst();
	else if (strcmp(argv[1], "error") == 0)
		rc = run_error();
	else if (strcmp(argv[1], "more") == 0)
		rc = run_more();
	else if (strcmp(argv[1], "api") == 0)
		rc = run_api();
	else if (strcmp(argv[1], "exit") == 0)
		rc = run_exit();
	else {
		fprintf(stderr, "usage: trigger_burst burst|error|more|exit|api\n");
		rc = 1;
	}
	ttlog_shutdown();
	return rc;
}
