/* SPDX-License-Identifier: MIT */
/*
 * start.h - the wrapper of thread creation that gives every new thread an
 * alternate signal stack from its start (start.c).
 */
#ifndef TTLOG__THREAD_START_H
#define TTLOG__THREAD_START_H

#include <pthread.h>

typedef int (*ttlog__pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
					 void *);

/* Creates a thread with real (the C library's pthread_create), running
 * fn(arg) behind a start routine that first installs a signal stack (while
 * the crash handlers are installed). Returns what real returned. */
/* Set by ttlog around the creation of a thread of its own that only
 * computes (src/snapshot/offload.c): that thread gets no signal stack from
 * the budget, and is not counted as a thread without one. */
extern _Thread_local int ttlog__thread_create_bare;

int ttlog__thread_create(ttlog__pthread_create_fn real, pthread_t *thread,
			 const pthread_attr_t *attr, void *(*fn)(void *), void *arg);

#endif
