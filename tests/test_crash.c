/* SPDX-License-Identifier: MIT */
/*
 * test_crash.c - crash snapshots, each crash in its own child process
 * (tests/progs/crasher.c): the child must still die of its signal, leave
 * exactly one snapshot, and that snapshot must end with what the crashing
 * thread logged last. Also: a handler installed before ttlog still runs,
 * the on-demand snapshot signal, and fork().
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define TIMEOUT_S 60

struct outcome {
	int status;
	char output[16384];
	char *dir;
	char **snaps;
	int nsnaps;
};

static void run_crasher(const char *mode, struct outcome *o)
{
	o->dir = tu_tmpdir(mode);
	assert_non_null(o->dir);
	char prog[4096];
	snprintf(prog, sizeof prog, "%s", tu_prog("crasher"));
	char *argv[] = {prog, o->dir, (char *)mode, NULL};
	int rc = tu_run(argv, TIMEOUT_S, &o->status, o->output, sizeof o->output);
	if (rc != 0)
		fail_msg("crasher %s timed out; output:\n%s", mode, o->output);
	o->nsnaps = tu_list_snapshots(o->dir, &o->snaps);
	assert_true(o->nsnaps >= 0);
}

static void free_outcome(struct outcome *o)
{
	tu_free_list(o->snaps, o->nsnaps);
	free(o->dir);
}

static void expect_signal(const struct outcome *o, int signo)
{
	if (!WIFSIGNALED(o->status) || WTERMSIG(o->status) != signo)
		fail_msg("expected death by signal %d, got status 0x%x; output:\n%s", signo, o->status,
			 o->output);
}

/* Checks the crash record and that the crashing thread's last event is
 * `format` with its first argument equal to `last_value` (or any value if
 * last_value < 0). */
static void expect_crash_snapshot(const char *path, int signo, const char *format, long last_value)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", ttlog_strerror(rc), r ? ttlog_reader_error(r) : "");
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	assert_true(info->crashed);
	assert_int_equal(info->crash.signo, signo);
	assert_true(info->complete);

	const struct ttlog_thread_info *crashed = NULL;
	for (size_t i = 0; i < ttlog_reader_thread_count(r); i++)
		if (ttlog_reader_thread(r, i)->crashed)
			crashed = ttlog_reader_thread(r, i);
	assert_non_null(crashed);
	assert_int_equal(crashed->tid, info->crash.tid);

	struct ttlog_event ev;
	char last_format[256] = "";
	long last_arg = -1;
	uint64_t n = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		n++;
		if (ev.thread != crashed)
			continue;
		snprintf(last_format, sizeof last_format, "%s", ev.site->format);
		last_arg = ev.nargs ? (long)ev.args[0].v.i : -1;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	assert_true(n > 0);
	assert_string_equal(last_format, format);
	if (last_value >= 0)
		assert_int_equal(last_arg, last_value);
	ttlog_reader_close(r);
}

static void crash_case(const char *mode, int signo, const char *format, long last)
{
	struct outcome o;
	run_crasher(mode, &o);
	expect_signal(&o, signo);
	if (o.nsnaps != 1)
		fail_msg("%s: expected exactly 1 snapshot, found %d; output:\n%s", mode, o.nsnaps, o.output);
	assert_non_null(strstr(o.snaps[0], signo == SIGSEGV ? "SIGSEGV" : ""));
	expect_crash_snapshot(o.snaps[0], signo, format, last);
	free_outcome(&o);
}

static void test_null_dereference(void **state)
{
	(void)state;
	crash_case("segv", SIGSEGV, "marker %d", 99);
}

static void test_abort(void **state)
{
	(void)state;
	crash_case("abort", SIGABRT, "marker %d", 99);
}

static void test_stack_overflow(void **state)
{
	(void)state;
	crash_case("stack", SIGSEGV, "depth %d", -1);
}

static void test_division_by_zero(void **state)
{
	(void)state;
	crash_case("fpe", SIGFPE, "marker %d", 99);
}

static void test_bus_error(void **state)
{
	(void)state;
	crash_case("bus", SIGBUS, "marker %d", 99);
}

static void test_crash_while_threads_log(void **state)
{
	(void)state;
	crash_case("threads", SIGSEGV, "marker %d", 99);
}

static void test_two_threads_crash_at_once(void **state)
{
	(void)state;
	crash_case("double", SIGSEGV, "marker %d", 99);
}

static void test_previous_handler_still_called(void **state)
{
	(void)state;
	struct outcome o;
	run_crasher("handler", &o);
	expect_signal(&o, SIGSEGV);
	assert_non_null(strstr(o.output, "own handler called"));
	assert_int_equal(o.nsnaps, 1);
	expect_crash_snapshot(o.snaps[0], SIGSEGV, "marker %d", 99);
	free_outcome(&o);
}

static void test_crash_inside_the_crash_handler(void **state)
{
	(void)state;
	struct outcome o;
	run_crasher("nested", &o); /* a loop would end in tu_run's timeout */
	expect_signal(&o, SIGSEGV);
	assert_int_equal(o.nsnaps, 0); /* the half-written snapshot is never published */
	free_outcome(&o);
}

static void test_snapshot_signal(void **state)
{
	(void)state;
	struct outcome o;
	run_crasher("usr2", &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("status 0x%x; output:\n%s", o.status, o.output);
	assert_int_equal(o.nsnaps, 1);
	assert_non_null(strstr(o.snaps[0], "SIGUSR2"));
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(o.snaps[0], &r), TTLOG_OK);
	assert_false(ttlog_reader_info(r)->crashed);
	assert_string_equal(ttlog_reader_info(r)->reason, "SIGUSR2");
	assert_int_equal(tu_count_format(r, "marker %d"), 100);
	ttlog_reader_close(r);
	free_outcome(&o);
}

static int count_format(const char *path, const char *format, uint32_t *pid)
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	*pid = ttlog_reader_info(r)->pid;
	int n = tu_count_format(r, format);
	ttlog_reader_close(r);
	return n;
}

static void test_fork_child_has_fresh_rings(void **state)
{
	(void)state;
	struct outcome o;
	run_crasher("fork", &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("status 0x%x; output:\n%s", o.status, o.output);
	assert_int_equal(o.nsnaps, 2);
	unsigned child = 0;
	assert_int_equal(sscanf(o.output, "child %u", &child), 1);
	int seen_child = 0, seen_parent = 0;
	for (int i = 0; i < 2; i++) {
		uint32_t pid;
		int before = count_format(o.snaps[i], "parent before fork", &pid);
		int marks = count_format(o.snaps[i], "marker %d", &pid);
		if (strstr(o.snaps[i], "-child")) {
			seen_child = 1;
			assert_int_equal(pid, child);
			assert_int_equal(before, 0); /* the parent's history stays with the parent */
			assert_int_equal(marks, 100);
		} else {
			seen_parent = 1;
			assert_int_not_equal(pid, child);
			assert_int_equal(before, 1);
			assert_int_equal(marks, 0);
		}
	}
	assert_true(seen_child && seen_parent);
	free_outcome(&o);
}

int main(void)
{
	tu_let_crashes_through();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_dereference),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_stack_overflow),
		cmocka_unit_test(test_division_by_zero),
		cmocka_unit_test(test_bus_error),
		cmocka_unit_test(test_crash_while_threads_log),
		cmocka_unit_test(test_two_threads_crash_at_once),
		cmocka_unit_test(test_previous_handler_still_called),
		cmocka_unit_test(test_crash_inside_the_crash_handler),
		cmocka_unit_test(test_snapshot_signal),
		cmocka_unit_test(test_fork_child_has_fresh_rings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
