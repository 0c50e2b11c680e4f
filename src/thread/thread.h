/* SPDX-License-Identifier: MIT */
/*
 * thread.h - the rings of the process's threads: which ring a thread
 * writes, the list of every ring, the log call's slow path
 * (ttlog__reserve_slow, declared in ttlog.h) and totals over the rings.
 */
#ifndef TTLOG__THREAD_THREAD_H
#define TTLOG__THREAD_THREAD_H

#include <stdint.h>

#include "ring/ring.h"

/* Sets up the calling thread's ring (its first event). NULL: the event is
 * dropped (counted). Not signal-safe. */
struct ttlog__writer *ttlog__thread_attach(void);

/* First ring of the process-wide list; rings are never freed. Runs in
 * signal context. */
struct ttlog__ring *ttlog__ring_first(void);

/* Where the list's head pointer is (for the core anchor, src/core/anchor.c). */
const void *ttlog__ring_list_address(void);

/* The calling thread's ring, or NULL. Runs in signal context. */
struct ttlog__ring *ttlog__ring_self(void);

/* Applies ttlog_init's ring size and string limit to the rings given out
 * from now on, and its string limit to the rings there are (each owner
 * takes it in its next slow path or ttlog__writer_settings() call). Called
 * by ttlog_init before it enables logging. */
void ttlog__rings_configure(void);

/* Brings w's string limit up to date with ttlog_init's settings: the
 * paths that size a record before reserving it (src/thread/log_slow.c)
 * call it first. The calling thread's own writer only. */
void ttlog__writer_settings(struct ttlog__writer *w);

/* Installs the thread-exit hook. Called once by ttlog_init. */
int ttlog__rings_init(void);

/* Refuses (on = 1) or allows again (on = 0) log calls into every ring; see
 * thread.c. Runs in signal context. */
void ttlog__rings_freeze(int on);

/* Sum of every ring's overwritten count; number of rings. */
uint64_t ttlog__rings_overwritten(void);
uint32_t ttlog__rings_count(void);
/* Records written into the rings, those of reused rings included. Runs in
 * signal context. */
uint64_t ttlog__rings_records(void);

/* In a forked child (core's fork handler): the calling thread keeps its
 * ring, emptied; every other ring is free for reuse. Not signal-safe. */
void ttlog__threads_after_fork(void);

#endif
