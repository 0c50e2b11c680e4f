/* SPDX-License-Identifier: MIT */
/*
 * interpose.c - pthread_create wrapped, so that every thread gets a signal
 * stack from its start (src/thread/start.c), including threads created by
 * code that never calls ttlog.
 *
 * Two forms, one per library, chosen by the build:
 *   - TTLOG__INTERPOSE_SHARED (libttlog.so): this file defines
 *     pthread_create. A program linked with libttlog.so finds it before the
 *     C library's (libttlog comes first in the lookup order), for every
 *     module of the process; it forwards to the next definition,
 *     dlsym(RTLD_NEXT, "pthread_create"): the C library's, or a
 *     sanitizer's or another interposer's in between. Left out of builds
 *     with TSan, whose runtime interposes thread creation itself.
 *   - TTLOG__INTERPOSE_WRAP (libttlog.a): __wrap_pthread_create, which the
 *     program opts into by linking with -Wl,--wrap=pthread_create (a static
 *     library cannot replace the C library's symbol without that: both
 *     would define it). Without the option this object is never pulled in.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "thread/start.h"
#include "ttlog.h"

#if defined(TTLOG__INTERPOSE_SHARED)

static _Atomic(ttlog__pthread_create_fn) next_create;

TTLOG_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	ttlog__pthread_create_fn real = atomic_load_explicit(&next_create, memory_order_relaxed);
	if (!real) {
		/* The cast between an object and a function pointer is what
		 * dlsym's interface asks for. */
		real = (ttlog__pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
		if (!real)
			return EAGAIN;
		atomic_store_explicit(&next_create, real, memory_order_relaxed);
	}
	return ttlog__thread_create(real, thread, attr, fn, arg);
}

#elif defined(TTLOG__INTERPOSE_WRAP)

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
TTLOG_API int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				    void *(*fn)(void *), void *arg);

TTLOG_API int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				    void *(*fn)(void *), void *arg)
{
	return ttlog__thread_create(__real_pthread_create, thread, attr, fn, arg);
}

#else
#error "interpose.c is built with TTLOG__INTERPOSE_SHARED or TTLOG__INTERPOSE_WRAP"
#endif
