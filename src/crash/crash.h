/* SPDX-License-Identifier: MIT */
/*
 * crash.h - fatal-signal handlers that write a snapshot, and the optional
 * on-demand snapshot signal.
 */
#ifndef TTLOG__CRASH_CRASH_H
#define TTLOG__CRASH_CRASH_H

#include <stdint.h>

/* ttlog__signal_name(), which the `ttlog` command uses too, is declared
 * there. */
#ifndef TTLOG_TOOLS_UNSTABLE
#define TTLOG_TOOLS_UNSTABLE
#endif
#include "ttlog_tools.h"

/* The signals handled by default: SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS. */
uint64_t ttlog__crash_default_mask(void);

/* Installs handlers for the signals in mask (bit n = signal n) and for
 * snapshot_signal (0 = none), remembering the previous handlers.
 * TTLOG_OK or TTLOG_E_SIGNAL (then nothing is left installed). */
int ttlog__crash_install(uint64_t mask, int snapshot_signal);

/* Puts the previous handlers back. */
void ttlog__crash_uninstall(void);

/* Waits, bounded, while another thread writes a crash snapshot, and then
 * for the crash to end the process: registered with atexit() by
 * ttlog_init, and run as libttlog's destructor (crash.c says more). */
void ttlog__crash_wait_at_exit(void);

/* In a forked child: forget a crash that was being handled in the parent. */
void ttlog__crash_after_fork(void);

#endif
