/* SPDX-License-Identifier: MIT */
/*
 * test_crash_cases.c - crashes that used to leave nothing behind
 * (tests/progs/crash_cases.c), each run in a child process, RUNS times a
 * case: every run must die as it would without ttlog, leave one readable
 * crash snapshot whose crashing thread ends with "last %d" = 7, and no
 * temporary file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define RUNS 20
#define TIMEOUT_S 60

struct outcome {
	int status;
	char output[16384];
	char *dir;
	char **snaps;
	int nsnaps;
};

static void run_case(const char *mode, const char *extra, struct outcome *o)
{
	o->dir = tu_tmpdir(mode);
	assert_non_null(o->dir);
	char prog[4096];
	snprintf(prog, sizeof prog, "%s", tu_prog("crash_cases"));
	char *argv[] = {prog, o->dir, (char *)mode, (char *)extra, NULL};
	int rc = tu_run(argv, TIMEOUT_S, &o->status, o->output, sizeof o->output);
	if (rc != 0)
		fail_msg("crash_cases %s timed out; output:\n%s", mode, o->output);
	o->nsnaps = tu_list_snapshots(o->dir, &o->snaps);
	assert_true(o->nsnaps >= 0);
}

/* Files in o's directory that are neither snapshots nor directories. */
static int count_other_files(const struct outcome *o)
{
	DIR *d = opendir(o->dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_name[0] != '.' && len > 6 && strcmp(e->d_name + len - 6, ".ttlog") == 0)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

static void remove_dir(struct outcome *o)
{
	for (int i = 0; i < o->nsnaps; i++)
		unlink(o->snaps[i]);
	rmdir(o->dir);
	tu_free_list(o->snaps, o->nsnaps);
	free(o->dir);
}

static void expect_signal(const struct outcome *o, const char *mode, int signo)
{
	if (!WIFSIGNALED(o->status) || WTERMSIG(o->status) != signo)
		fail_msg("%s: expected death by signal %d, got status 0x%x; output:\n%s", mode, signo,
			 o->status, o->output);
}

/* The snapshot of o whose name holds `reason`, or fails. */
static const char *snapshot_named(const struct outcome *o, const char *reason)
{
	for (int i = 0; i < o->nsnaps; i++)
		if (strstr(o->snaps[i], reason))
			return o->snaps[i];
	fail_msg("no %s snapshot among %d in %s; output:\n%s", reason, o->nsnaps, o->dir, o->output);
	return NULL;
}

static ttlog_reader *open_snapshot(const char *path)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s: %s", path, ttlog_strerror(rc), r ? ttlog_reader_error(r) : "");
	return r;
}

/* Checks the crash record of the snapshot at path and that the crashing
 * thread's last event is "last %d" = 7; returns how many events had the
 * format `count_format` (NULL: none counted). */
static int expect_crash_snapshot(const char *path, int signo, const char *count_format)
{
	ttlog_reader *r = open_snapshot(path);
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	if (!info->crashed || info->crash.signo != signo || !info->complete)
		fail_msg("%s: crashed %d, signal %d (expected %d), complete %d", path, info->crashed,
			 info->crash.signo, signo, info->complete);
	const struct ttlog_thread_info *crashed = NULL;
	for (size_t i = 0; i < ttlog_reader_thread_count(r); i++)
		if (ttlog_reader_thread(r, i)->crashed)
			crashed = ttlog_reader_thread(r, i);
	assert_non_null(crashed);
	assert_int_equal(crashed->tid, info->crash.tid);

	struct ttlog_event ev;
	char last_format[256] = "";
	long last_arg = -1;
	int counted = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (count_format && strcmp(ev.site->format, count_format) == 0)
			counted++;
		if (ev.thread != crashed)
			continue;
		snprintf(last_format, sizeof last_format, "%s", ev.site->format);
		last_arg = ev.nargs ? (long)ev.args[0].v.i : -1;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	if (strcmp(last_format, "last %d") != 0 || last_arg != 7)
		fail_msg("%s: the crashing thread ends with \"%s\" (%ld), not \"last %%d\" (7)", path,
			 last_format, last_arg);
	ttlog_reader_close(r);
	return counted;
}

/* ---- dlclose ------------------------------------------------------------ */

/* Checks that r describes the plugin's sites as they were: formats, file,
 * function and the field name, and has its 11 events. */
static void expect_plugin_sites(const char *path)
{
	ttlog_reader *r = open_snapshot(path);
	struct ttlog_event ev;
	int events = 0, fields = 0, done = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		const struct ttlog_site_info *s = ev.site;
		if (!strstr(s->format, "plugin "))
			continue;
		events++;
		if (!strstr(s->file, "logger_plugin.c") || strcmp(s->function, "plugin_log") != 0)
			fail_msg("%s: plugin site at %s, function %s", path, s->file, s->function);
		if (strcmp(s->format, "plugin field %d") == 0) {
			for (unsigned i = 0; i < s->nfields; i++)
				fields += strcmp(s->fields[i].key, "plugin_count") == 0;
		}
		done += strcmp(s->format, "plugin done after %d") == 0;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	if (events != 11 || fields != 5 || done != 1)
		fail_msg("%s: %d plugin events (11), %d with the field (5), %d done (1)", path, events,
			 fields, done);
	ttlog_reader_close(r);
}

static void test_snapshots_after_dlclose(void **state)
{
	(void)state;
	char plugin[4096];
	snprintf(plugin, sizeof plugin, "%s", tu_prog("logger_plugin.so"));
	for (int run = 0; run < RUNS; run++) {
		struct outcome o;
		run_case("dlclose", plugin, &o);
		expect_signal(&o, "dlclose", SIGSEGV);
		if (o.nsnaps != 2)
			fail_msg("dlclose: %d snapshots, expected 2; output:\n%s", o.nsnaps, o.output);
		expect_plugin_sites(snapshot_named(&o, "unloaded"));
		const char *crash = snapshot_named(&o, "SIGSEGV");
		expect_crash_snapshot(crash, SIGSEGV, NULL);
		expect_plugin_sites(crash);
		assert_int_equal(count_other_files(&o), 0);
		remove_dir(&o);
	}
}

/* ---- A crash while another thread writes a snapshot --------------------- */

static void test_crash_during_snapshot(void **state)
{
	(void)state;
	for (int run = 0; run < RUNS; run++) {
		struct outcome o;
		run_case("snapshot", NULL, &o);
		expect_signal(&o, "snapshot", SIGSEGV);
		int crashes = 0;
		for (int i = 0; i < o.nsnaps; i++) {
			if (strstr(o.snaps[i], "SIGSEGV")) {
				crashes++;
				expect_crash_snapshot(o.snaps[i], SIGSEGV, NULL);
				continue;
			}
			/* An on-demand one: finished whole, or not there at all. */
			ttlog_reader *r = open_snapshot(o.snaps[i]);
			struct ttlog_event ev;
			while (ttlog_reader_next(r, &ev) == 1)
				;
			if (!ttlog_reader_info(r)->complete || ttlog_reader_status(r) != TTLOG_OK)
				fail_msg("%s: not whole: %s", o.snaps[i], ttlog_reader_error(r));
			ttlog_reader_close(r);
		}
		if (crashes != 1)
			fail_msg("run %d: %d crash snapshots, expected 1; output:\n%s", run, crashes,
				 o.output);
		int others = count_other_files(&o);
		if (others)
			fail_msg("run %d: %d temporary files left in %s", run, others, o.dir);
		remove_dir(&o);
	}
}

/* ---- exit() while another thread crashes -------------------------------- */

static void exit_case(const char *mode)
{
	for (int run = 0; run < RUNS; run++) {
		struct outcome o;
		run_case(mode, NULL, &o);
		expect_signal(&o, mode, SIGSEGV);
		if (o.nsnaps != 1)
			fail_msg("%s run %d: %d snapshots, expected 1; output:\n%s", mode, run,
				 o.nsnaps, o.output);
		expect_crash_snapshot(snapshot_named(&o, "SIGSEGV"), SIGSEGV, NULL);
		assert_int_equal(count_other_files(&o), 0);
		remove_dir(&o);
	}
}

static void test_exit_after_crash(void **state)
{
	(void)state;
	exit_case("exit-after-crash");
}

static void test_crash_in_exit(void **state)
{
	(void)state;
	exit_case("crash-in-exit");
}

/* ---- A fault with the signal blocked: shared memory and recover --------- */

static void test_blocked_signal_recovered(void **state)
{
	(void)state;
	const char *bin = getenv("TTLOG_BIN");
	assert_non_null(bin);
	for (int run = 0; run < RUNS; run++) {
		char *shm = tu_tmpdir("blocked-shm");
		assert_non_null(shm);
		struct outcome o;
		run_case("blocked", shm, &o);
		/* The kernel's rule: no handler runs, so no snapshot. */
		expect_signal(&o, "blocked", SIGSEGV);
		if (o.nsnaps != 0)
			fail_msg("blocked: %d snapshots, expected none (no handler can run)", o.nsnaps);
		char out[8192];
		int status;
		char *argv[] = {(char *)bin, "recover", "--shm-dir", shm, "--dir", o.dir, NULL};
		assert_int_equal(tu_run(argv, TIMEOUT_S, &status, out, sizeof out), 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("ttlog recover: status 0x%x; output:\n%s", status, out);
		tu_free_list(o.snaps, o.nsnaps);
		o.nsnaps = tu_list_snapshots(o.dir, &o.snaps);
		if (o.nsnaps != 1)
			fail_msg("recover wrote %d snapshots, expected 1; output:\n%s", o.nsnaps, out);
		ttlog_reader *r = open_snapshot(snapshot_named(&o, "recovered"));
		struct ttlog_event ev;
		char last_format[256] = "";
		long last_arg = -1;
		int fillers = 0;
		while (ttlog_reader_next(r, &ev) == 1) {
			if (strcmp(ev.thread->name, "crasher") != 0)
				continue;
			fillers += strcmp(ev.site->format, "filler %d of %s") == 0;
			snprintf(last_format, sizeof last_format, "%s", ev.site->format);
			last_arg = ev.nargs ? (long)ev.args[0].v.i : -1;
		}
		assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
		if (fillers != 100 || strcmp(last_format, "last %d") != 0 || last_arg != 7)
			fail_msg("recovered: %d fillers (100), last \"%s\" (%ld)", fillers, last_format,
				 last_arg);
		ttlog_reader_close(r);
		remove_dir(&o);
		char cmd[8300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", shm);
		assert_int_equal(system(cmd), 0);
		free(shm);
	}
}

/* ---- A stack overflow in a thread that never logged ----------------------- */

/* Runs overflow_thread_KIND in a fresh directory. */
static void run_overflow(const char *kind, const char *mode, struct outcome *o)
{
	o->dir = tu_tmpdir("overflow");
	assert_non_null(o->dir);
	char prog[4096];
	snprintf(prog, sizeof prog, "%s/overflow_thread_%s", getenv("TTLOG_PROGS") ? getenv("TTLOG_PROGS") : "./progs", kind);
	char *argv[] = {prog, o->dir, (char *)mode, NULL};
	if (tu_run(argv, TIMEOUT_S, &o->status, o->output, sizeof o->output) != 0)
		fail_msg("overflow_thread_%s timed out; output:\n%s", kind, o->output);
	o->nsnaps = tu_list_snapshots(o->dir, &o->snaps);
	assert_true(o->nsnaps >= 0);
}

static void overflow_case(const char *kind)
{
	for (int run = 0; run < RUNS; run++) {
		struct outcome o;
		run_overflow(kind, NULL, &o);
		expect_signal(&o, kind, SIGSEGV);
		if (o.nsnaps != 1)
			fail_msg("overflow (%s) run %d: %d snapshots, expected 1; output:\n%s", kind,
				 run, o.nsnaps, o.output);
		ttlog_reader *r = open_snapshot(o.snaps[0]);
		const struct ttlog_file_info *info = ttlog_reader_info(r);
		if (!info->crashed || info->crash.signo != SIGSEGV || !info->complete)
			fail_msg("%s: crashed %d, signal %d, complete %d", o.snaps[0], info->crashed,
				 info->crash.signo, info->complete);
		/* The thread that overflowed logged nothing: the last event of
		 * the file is the main thread's, logged before it started. */
		struct ttlog_event ev;
		char last_format[256] = "";
		long last_arg = -1;
		uint32_t last_tid = 0;
		while (ttlog_reader_next(r, &ev) == 1) {
			snprintf(last_format, sizeof last_format, "%s", ev.site->format);
			last_arg = ev.nargs ? (long)ev.args[0].v.i : -1;
			last_tid = ev.thread->tid;
		}
		assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
		if (strcmp(last_format, "last %d") != 0 || last_arg != 7)
			fail_msg("%s: ends with \"%s\" (%ld)", o.snaps[0], last_format, last_arg);
		assert_true(last_tid != info->crash.tid);
		ttlog_reader_close(r);
		remove_dir(&o);
	}
}

static void test_overflow_thread_shared(void **state)
{
	(void)state;
	overflow_case("shared");
}

static void test_overflow_thread_wrap(void **state)
{
	(void)state;
	overflow_case("wrap");
}

/* A thread that found the budget of signal stacks spent is counted. */
static void test_overflow_budget_counted(void **state)
{
	(void)state;
	const char *kinds[] = {"shared", "wrap"};
	for (int k = 0; k < 2; k++) {
		struct outcome o;
		run_overflow(kinds[k], "budget", &o);
		if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0 || o.nsnaps != 1)
			fail_msg("budget (%s): status 0x%x, %d snapshots; output:\n%s", kinds[k],
				 o.status, o.nsnaps, o.output);
		ttlog_reader *r = open_snapshot(o.snaps[0]);
		size_t n;
		const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
		long without = -1;
		for (size_t i = 0; i < n; i++)
			if (strcmp(m[i].name, "ttlog_threads_without_signal_stack_total") == 0)
				without = (long)m[i].counter;
#if defined(__SANITIZE_ADDRESS__)
		/* ASan gives every thread a signal stack of its own when it
		 * starts it; with --wrap ASan's start comes first, and ttlog
		 * finds the stack there: nothing to count. */
		if (k == 1 && without == 0) {
			print_message("budget (wrap): ASan gave the thread its stack: not counted\n");
			without = 1;
		}
#endif
		if (without != 1)
			fail_msg("budget (%s): ttlog_threads_without_signal_stack_total is %ld, not 1",
				 kinds[k], without);
		ttlog_reader_close(r);
		remove_dir(&o);
	}
}

/* ---- Temporaries of dead writers ---------------------------------------- */

/* A pid that no process has: a child's, reaped. */
static int dead_pid(void)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return (int)pid;
}

/* Creates dir/name, its times age_s seconds in the past. */
static void plant(const char *dir, const char *name, long age_s)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("TTLOG unfinished", f);
	fclose(f);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_stale_temporaries(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("stale");
	assert_non_null(dir);
	char old_dead[64], new_dead[64], old_live[64];
	snprintf(old_dead, sizeof old_dead, ".ttlog-%d-1-0.tmp", dead_pid());
	snprintf(new_dead, sizeof new_dead, ".ttlog-%d-1-0.tmp", dead_pid());
	snprintf(old_live, sizeof old_live, ".ttlog-%d-1-0.tmp", (int)getpid());
	plant(dir, old_dead, 3600);
	plant(dir, new_dead, 0);
	plant(dir, old_live, 3600);

	/* ttlog_init: a dead process's temporary once it is old. */
	char prog[4096];
	snprintf(prog, sizeof prog, "%s", tu_prog("crash_cases"));
	char *argv[] = {prog, dir, "init", NULL};
	int status;
	char out[4096];
	assert_int_equal(tu_run(argv, TIMEOUT_S, &status, out, sizeof out), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_false(exists(dir, old_dead));
	assert_true(exists(dir, new_dead));
	assert_true(exists(dir, old_live));

	/* ttlog recover --clean --dir: every dead process's, printed. */
	const char *bin = getenv("TTLOG_BIN");
	assert_non_null(bin);
	char shm[4096];
	snprintf(shm, sizeof shm, "%s/shm", dir);
	char *clean[] = {(char *)bin, "recover", "--clean", "--shm-dir", shm, "--dir", dir, NULL};
	assert_int_equal(tu_run(clean, TIMEOUT_S, &status, out, sizeof out), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !strstr(out, new_dead))
		fail_msg("recover --clean: status 0x%x, output:\n%s", status, out);
	assert_false(exists(dir, new_dead));
	assert_true(exists(dir, old_live));

	/* Neither is ever counted as a snapshot. */
	char **snaps;
	assert_int_equal(tu_list_snapshots(dir, &snaps), 0);
	tu_free_list(snaps, 0);
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, old_live);
	unlink(path);
	rmdir(shm);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshots_after_dlclose),
		cmocka_unit_test(test_crash_during_snapshot),
		cmocka_unit_test(test_exit_after_crash),
		cmocka_unit_test(test_crash_in_exit),
		cmocka_unit_test(test_blocked_signal_recovered),
		cmocka_unit_test(test_overflow_thread_shared),
		cmocka_unit_test(test_overflow_thread_wrap),
		cmocka_unit_test(test_overflow_budget_counted),
		cmocka_unit_test(test_stale_temporaries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
