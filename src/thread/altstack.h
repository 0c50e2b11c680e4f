/* SPDX-License-Identifier: MIT */
/*
 * altstack.h - alternate signal stacks for the crash handler (altstack.c).
 */
#ifndef TTLOG__THREAD_ALTSTACK_H
#define TTLOG__THREAD_ALTSTACK_H

#include <stddef.h>

struct ttlog__ring;

/* The size of the signal stacks ttlog makes; a guard page lies below. */
#define TTLOG__ALTSTACK_SIZE (64u * 1024u)

/* Maps a signal stack (TTLOG__ALTSTACK_SIZE and a guard page below it) and
 * installs it for the calling thread. Returns the mapping, *total bytes,
 * or NULL (nothing left mapped). Not signal-safe. */
void *ttlog__altstack_map(size_t *total);

/* Gives the calling thread a signal stack kept with its ring, unless it has
 * one already. Not signal-safe. */
void ttlog__altstack_enable(struct ttlog__ring *ring);

/* Gives the main (calling) thread a signal stack for the life of the
 * process, unless it has one. 0, or -1 if none could be made. */
int ttlog__altstack_enable_main(void);

/* Whether threads get a stack when they attach a ring: on while the crash
 * handlers are installed (src/crash/crash.c says so). */
void ttlog__altstack_want(int on);
int ttlog__altstack_wanted(void);

/* 1 if the calling thread has a signal stack (the program's or ttlog's). */
int ttlog__altstack_present(void);

/* At the thread's exit: its stack, if ttlog made it, is removed. */
void ttlog__altstack_release(struct ttlog__ring *ring);

#endif
