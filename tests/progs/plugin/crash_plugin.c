/* SPDX-License-Identifier: MIT */
/*
 * crash_plugin.c - a shared object that tests/progs/dlopen_crash.c loads
 * with dlopen() after ttlog_init() and crashes in, so that the crash
 * snapshot must list a module that the last refresh of the module list did
 * not see (tests/cli_dlopen.sh, tests/test_crash_modules.c).
 *
 * Built by tests/CMakeLists.txt as build/tests/progs/crash_plugin.so, with
 * -g and a GNU build-id. It does not link ttlog. plugin_entry() calls
 * plugin_crash_here(), which stores through a null pointer: the backtrace
 * must show both, at the lines marked "line:plugin-crash" and
 * "line:plugin-call" (the test finds them with grep).
 */
#define DELIBERATE_UB __attribute__((noinline, no_sanitize("undefined")))
#define EXPORTED __attribute__((visibility("default")))

static volatile int after;

static DELIBERATE_UB void plugin_crash_here(int value)
{
	volatile int *volatile p = 0;
	*p = value; /* line:plugin-crash */
	after = value;
}

/* Crashes (SIGSEGV) two functions deep in this module. */
EXPORTED __attribute__((noinline)) void plugin_entry(int value)
{
	plugin_crash_here(value + 1); /* line:plugin-call */
	after = value; /* not a tail call */
}

/* Returns value + 1: for a program that only needs the module loaded. */
EXPORTED int plugin_add_one(int value)
{
	return value + 1;
}
