/* SPDX-License-Identifier: MIT */
/*
 * start.c - every new thread gets an alternate signal stack from its very
 * start, so that a stack overflow in a thread that never logged still
 * reaches the crash handler.
 *
 * Thread creation is wrapped (src/thread/interpose.c: the shared library
 * defines pthread_create itself and forwards to the C library's; the
 * static library offers __wrap_pthread_create for -Wl,--wrap). The wrapper,
 * ttlog__thread_create(), hands the C library a start routine of ttlog's,
 * start_trampoline(), which runs first on the new thread:
 *
 *   - while the crash handlers are installed (ttlog__altstack_wanted()),
 *     and the thread has no signal stack yet, it maps one (64 KiB and a
 *     guard page, like the stack a thread gets when it attaches its ring,
 *     src/thread/altstack.c) and installs it with sigaltstack;
 *   - the stacks are taken from a budget: at most a quarter of the memory
 *     cap (TTLOG_MEMORY_CAP) is mapped for them at any time, and a thread
 *     that finds it spent, or whose mmap fails, runs without one, counted
 *     in ttlog__g.threads_without_altstack (self metric
 *     ttlog_threads_without_signal_stack_total);
 *   - then it calls the program's start routine, and at the thread's end
 *     (return, pthread_exit or cancellation: a cleanup handler) removes the
 *     stack and gives its bytes back to the budget.
 *
 * A thread that later attaches a ring finds the stack in place and keeps
 * it (ttlog__altstack_enable() makes none). Nothing here runs in a log
 * call: the hot path is unchanged.
 */
#define _GNU_SOURCE
#include "thread/start.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/state.h"
#include "thread/altstack.h"

struct start {
	void *(*fn)(void *);
	void *arg;
};

struct own_stack {
	void *base;
	size_t size;
};

static _Atomic size_t budget_used;

/* Maps and installs a signal stack for the calling thread, within the
 * budget; 0 on success (out->base set), -1 if none (counted). */
static int take_stack(struct own_stack *out)
{
	size_t total = TTLOG__ALTSTACK_SIZE + (size_t)sysconf(_SC_PAGESIZE);
	size_t cap = ttlog__g.memory_cap / 4;
	size_t used = atomic_fetch_add_explicit(&budget_used, total, memory_order_relaxed);
	if (used + total > cap)
		goto refused;
	void *m = ttlog__altstack_map(&total);
	if (!m)
		goto refused;
	out->base = m;
	out->size = total;
	return 0;
refused:
	atomic_fetch_sub_explicit(&budget_used, total, memory_order_relaxed);
	atomic_fetch_add_explicit(&ttlog__g.threads_without_altstack, 1, memory_order_relaxed);
	return -1;
}

/* The thread's end: its stack, if start_trampoline() made it, goes. */
static void drop_stack(void *p)
{
	struct own_stack *s = p;
	if (!s->base)
		return;
	stack_t cur;
	/* Only if it is still ours: the program may have set its own since. */
	if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
	    (char *)cur.ss_sp == (char *)s->base + (s->size - TTLOG__ALTSTACK_SIZE)) {
		stack_t off = {.ss_flags = SS_DISABLE};
		if (sigaltstack(&off, NULL) != 0)
			return; /* running on it: leave it mapped */
	}
	munmap(s->base, s->size);
	atomic_fetch_sub_explicit(&budget_used, s->size, memory_order_relaxed);
	s->base = NULL;
}

static void *start_trampoline(void *p)
{
	struct start st = *(struct start *)p;
	free(p);
	struct own_stack own = {NULL, 0};
	if (ttlog__altstack_wanted() && !ttlog__altstack_present())
		take_stack(&own);
	void *ret;
	pthread_cleanup_push(drop_stack, &own);
	ret = st.fn(st.arg);
	pthread_cleanup_pop(1);
	return ret;
}

_Thread_local int ttlog__thread_create_bare;

int ttlog__thread_create(ttlog__pthread_create_fn real, pthread_t *thread,
			 const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (ttlog__thread_create_bare)
		return real(thread, attr, fn, arg);
	struct start *st = malloc(sizeof *st);
	if (!st)
		return real(thread, attr, fn, arg); /* as the program asked, without a stack */
	st->fn = fn;
	st->arg = arg;
	int rc = real(thread, attr, start_trampoline, st);
	if (rc != 0)
		free(st);
	return rc;
}
