/* SPDX-License-Identifier: MIT */
/*
 * altstack.c - alternate signal stacks, so that the crash handler runs
 * even when a thread dies of a stack overflow.
 *
 * The main thread gets one when the crash handlers are installed
 * (ttlog__altstack_enable_main); from then on every new thread gets one at
 * its start (src/thread/start.c, where thread creation is wrapped), and a
 * thread that has none yet (one created before, or where creation is not
 * wrapped) gets one when it attaches its ring (ttlog__altstack_want),
 * unless it has one already (the program's own). A thread's stack is
 * unmapped at its exit.
 */
#define _GNU_SOURCE
#include "thread/altstack.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring/ring.h"

static void *main_altstack;
static _Atomic int wanted; /* threads get a stack when they attach */

void *ttlog__altstack_map(size_t *total)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	*total = TTLOG__ALTSTACK_SIZE + page;
	void *m = mmap(NULL, *total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	mprotect(m, page, PROT_NONE); /* guard page below the stack */
	stack_t ss = {.ss_sp = (char *)m + page, .ss_size = TTLOG__ALTSTACK_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0) {
		munmap(m, *total);
		return NULL;
	}
	return m;
}

int ttlog__altstack_present(void)
{
	stack_t old;
	return sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE);
}

void ttlog__altstack_enable(struct ttlog__ring *r)
{
	if (ttlog__altstack_present())
		return; /* the program's own, or the one ttlog_init made */
	r->altstack = ttlog__altstack_map(&r->altstack_size);
}

int ttlog__altstack_enable_main(void)
{
	size_t total;
	if (main_altstack || ttlog__altstack_present())
		return 0;
	main_altstack = ttlog__altstack_map(&total);
	return main_altstack ? 0 : -1;
}

void ttlog__altstack_want(int on)
{
	atomic_store_explicit(&wanted, on, memory_order_relaxed);
}

int ttlog__altstack_wanted(void)
{
	return atomic_load_explicit(&wanted, memory_order_relaxed);
}

void ttlog__altstack_release(struct ttlog__ring *r)
{
	if (!r->altstack)
		return;
	stack_t ss = {.ss_flags = SS_DISABLE};
	sigaltstack(&ss, NULL);
	munmap(r->altstack, r->altstack_size);
	r->altstack = NULL;
}
