/* SPDX-License-Identifier: MIT */
/*
 * clock.h - event timestamps and their calibration against wall-clock time.
 *
 * Events carry raw ticks (TTLOG__STORE_TICKS in ttlog.h). A snapshot stores
 * two (ticks, CLOCK_REALTIME) pairs taken far apart, so a reader converts
 * any tick value to wall-clock nanoseconds by linear interpolation.
 */
#ifndef TTLOG__CLOCK_CLOCK_H
#define TTLOG__CLOCK_CLOCK_H

#include <stdint.h>

enum ttlog__clock_choice {
	TTLOG__CLOCK_AUTO = 0,      /* cycle counter if usable, else monotonic */
	TTLOG__CLOCK_COUNTER,       /* force the cycle counter */
	TTLOG__CLOCK_MONO,          /* force clock_gettime(CLOCK_MONOTONIC) */
	TTLOG__CLOCK_FAKE           /* tests: 1000 ns per event from 2026-01-01 */
};

/* The tick source in use. Only TTLOG__TICKS_COUNTER is read on the hot
 * path; with the others every log call takes the slow path (see
 * ttlog__clock_inline_ok()). */
enum ttlog__tick_source {
	TTLOG__TICKS_COUNTER = 0,   /* rdtsc / cntvct, read inline */
	TTLOG__TICKS_MONOTONIC = 1, /* clock_gettime(CLOCK_MONOTONIC), in ns */
	TTLOG__TICKS_FAKE = 2       /* the test clock */
};

extern int ttlog__clock_kind;     /* enum ttlog__tick_source; set by ttlog__clock_init */

/* 1 if log calls may read the CPU's counter inline (TTLOG__STORE_TICKS),
 * 0 if they must call ttlog__clock_ticks(). Runs in signal context. */
static inline int ttlog__clock_inline_ok(void)
{
	return ttlog__clock_kind == TTLOG__TICKS_COUNTER;
}

/* The time of an event, from whichever source is in use; advances the
 * fake clock. Runs in signal context. */
uint64_t ttlog__clock_ticks(void);

struct ttlog__calibration {
	uint32_t kind;             /* TTLOG__FMT_CLOCK_* */
	uint64_t tick0, tick1;     /* tick1 > tick0 */
	int64_t ns0, ns1;          /* CLOCK_REALTIME at tick0 and tick1 */
};

/* Picks the clock and takes calibration point 0. Not signal-safe. */
void ttlog__clock_init(enum ttlog__clock_choice choice);

/* Resets the fake clock (after fork, so a child's history starts over). */
void ttlog__clock_reset_fake(void);

/* Takes calibration point 1 now. With may_wait, first waits until at least
 * 20 ms have passed since point 0 so that the rate is precise; without, the
 * rate of a snapshot taken sooner is less precise (the crash path does not
 * wait). Runs in signal context. */
void ttlog__clock_calibrate(struct ttlog__calibration *out, int may_wait);

/* Where calibration point 0 is kept (for the core anchor). */
const struct ttlog__calibration *ttlog__clock_point0(void);

/* The current tick value without advancing the fake clock; for the window
 * cut-off of a snapshot. Runs in signal context. */
uint64_t ttlog__clock_now(void);

/* CLOCK_REALTIME in ns (the fake clock's epoch in fake mode). Runs in
 * signal context. */
int64_t ttlog__clock_realtime_ns(void);

/* CLOCK_REALTIME in ns, even in fake mode (for file names). Runs in
 * signal context. */
int64_t ttlog__clock_wall_ns(void);

/* Ticks per second of the tick source in use (for rate limits): 10^9 for
 * the monotonic and fake clocks; for the CPU's counter, measured against
 * calibration point 0 (a vDSO clock_gettime, no system call) until 100 ms
 * have passed since it, then fixed. Never 0. Runs in signal context. */
uint64_t ttlog__clock_ticks_per_second(void);

/* Tests: moves the fake clock forward by ns without an event. */
void ttlog__clock_advance_fake(uint64_t ns);

#endif
