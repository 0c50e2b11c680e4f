/* SPDX-License-Identifier: MIT */
/*
 * stack_crasher.c - dies in a known function, for the crash-stack tests
 * (tests/test_crash_stack.c runs it in a child process).
 *
 *   stack_crasher DIR MODE
 *
 * Before dying it prints the addresses of the functions the test expects
 * on the stack, as "NAME=0xADDR" lines, since the test cannot know where
 * this program was loaded. Modes:
 *   segv      a null store in crash_fn, called from caller_fn
 *   overflow  endless recursion in recurse_fn (a stack overflow)
 *   corrupt   x86-64: a fault with the stack pointer and frame pointer
 *             aimed at a page without access (libunwind checks what it
 *             reads from the stack, so this ends the walk without a fault)
 *   fault     the segv crash, with a fault made to happen inside the
 *             unwind after its first frame (ttlog__stack_test_hook)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proc/stack.h"
#include "ttlog.h"

/* The crashes are deliberate: UBSan must let them reach the CPU. */
#define DELIBERATE_UB __attribute__((noinline, no_sanitize("undefined")))

static DELIBERATE_UB void crash_fn(int v)
{
	volatile int *volatile p = NULL;
	*p = v;
	asm volatile("");
}

static volatile int after_call;

static __attribute__((noinline)) void caller_fn(void)
{
	crash_fn(7);
	after_call = 1; /* not a tail call: the return address stays in caller_fn */
	asm volatile("");
}

static __attribute__((noinline)) int recurse_fn(int depth)
{
	volatile char frame[256];
	frame[0] = (char)depth;
	if (depth < 0)
		return 0;
	return recurse_fn(depth + 1) + frame[0];
}

static DELIBERATE_UB void fault_in_unwind(void)
{
	volatile int *volatile p = NULL;
	(void)*p;
}

#if defined(__x86_64__)
static void *no_access_page;

static DELIBERATE_UB void corrupt_fn(void)
{
	/* Both stack registers point into a page that is mapped but cannot be
	 * read: the load faults, and so does the unwinder's first read through
	 * them (a check that the page is mapped does not stop it). */
	char *sp = (char *)no_access_page + 2048;
	asm volatile("mov %0, %%rsp\n\t"
		     "mov %0, %%rbp\n\t"
		     "mov (%%rsp), %%rax\n\t" ::"c"(sp) : "rax", "memory");
}
#endif

static void show(const char *name, void (*fn)(void))
{
	printf("%s=%p\n", name, (void *)fn);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: stack_crasher DIR MODE\n");
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "stack_crasher: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 2;
	}
	TTLOG_INFO("about to crash in mode %s", argv[2]);
	const char *mode = argv[2];
	if (strcmp(mode, "segv") == 0 || strcmp(mode, "fault") == 0) {
		if (strcmp(mode, "fault") == 0)
			ttlog__stack_test_hook = fault_in_unwind;
		show("crash_fn", (void (*)(void))crash_fn);
		show("caller_fn", caller_fn);
		fflush(stdout);
		caller_fn();
	} else if (strcmp(mode, "overflow") == 0) {
		show("recurse_fn", (void (*)(void))recurse_fn);
		fflush(stdout);
		recurse_fn(1);
#if defined(__x86_64__)
	} else if (strcmp(mode, "corrupt") == 0) {
		no_access_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (no_access_page == MAP_FAILED)
			return 3;
		show("corrupt_fn", corrupt_fn);
		fflush(stdout);
		corrupt_fn();
#endif
	} else {
		fprintf(stderr, "stack_crasher: unknown mode %s\n", mode);
		return 2;
	}
	fprintf(stderr, "stack_crasher: survived mode %s\n", mode);
	return 1;
}
