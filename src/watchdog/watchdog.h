/* SPDX-License-Identifier: MIT */
/*
 * watchdog.h - the in-process watchdog (TTLOG_WATCHDOG): a thread inside a
 * span whose ring has not moved for the period is stalled, and one
 * snapshot (reason "watchdog") records the stalled threads' stacks, once
 * per stall. Off unless configured: then there is no thread, no signal and
 * no memory.
 */
#ifndef TTLOG__WATCHDOG_WATCHDOG_H
#define TTLOG__WATCHDOG_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

/* Starts the watchdog with this period (0: does nothing): reserves its
 * memory and a real-time signal that no one handles, then rides on the
 * stream's drainer thread if the stream runs, else starts a thread of its
 * own. Normal context, from ttlog_init() after the stream started (no
 * snapshot is due before a whole period has passed). TTLOG_OK,
 * TTLOG_E_NOMEM (no memory, or no thread), TTLOG_E_SIGNAL (every
 * real-time signal is taken); err says which. */
int ttlog__watchdog_start(uint64_t period_ns, char *err, size_t err_size);

/* Runs fn at every step of the timer (at most every step_ns), starting the
 * timer (the stream's drainer, else the thread) if the watchdog did not:
 * the triggers' tick (src/trigger/). Normal context, under ttlog_init's
 * lock. TTLOG_OK or TTLOG_E_NOMEM (no thread; err says so). */
int ttlog__watchdog_hook(void (*fn)(void), uint64_t step_ns, char *err, size_t err_size);

/* Stops it and the hook: the thread is joined (or the drainer's calls
 * end), the signal handler put back. Normal context. */
void ttlog__watchdog_stop(void);

/* In a forked child: the watchdog's thread is not there. */
void ttlog__watchdog_after_fork(void);

/* Its counters are in ttlog__g (common/state.h), for ttlog's own metrics. */

#endif
