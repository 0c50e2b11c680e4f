/*
 * clock.h - event timestamps and their calibration against wall-clock time.
 *
 * Events carry raw ticks (see ttlog__ticks() in ttlog.h). A snapshot stores
 * two (ticks, CLOCK_REALTIME) pairs taken far apart, so a reader converts
 * any tick value to wall-clock nanoseconds by linear interpolation.
 */
#ifndef TTLOG_CLOCK_CLOCK_H
#define TTLOG_CLOCK_CLOCK_H

#include <stdint.h>

enum ttlog__clock_choice {
	TTLOG_CLOCK_AUTO = 0,      /* cycle counter if usable, else monotonic */
	TTLOG_CLOCK_COUNTER,       /* force the cycle counter */
	TTLOG_CLOCK_MONO,          /* force clock_gettime(CLOCK_MONOTONIC) */
	TTLOG_CLOCK_FAKE           /* tests: 1000 ns per event from 2026-01-01 */
};

/* Values of ttlog__clock_kind (declared in ttlog.h, where 0 is what the
 * inline hot path tests for). */
enum ttlog__tick_source {
	TTLOG_TICKS_COUNTER = 0,   /* rdtsc / cntvct, read inline */
	TTLOG_TICKS_MONOTONIC = 1, /* clock_gettime(CLOCK_MONOTONIC), in ns */
	TTLOG_TICKS_FAKE = 2       /* the test clock */
};

struct ttlog__calibration {
	uint32_t kind;             /* TTLOG_FMT_CLOCK_* */
	uint64_t tick0, tick1;     /* tick1 > tick0 */
	int64_t ns0, ns1;          /* CLOCK_REALTIME at tick0 and tick1 */
};

/* Picks the clock and takes calibration point 0. Not signal-safe. */
void ttlog__clock_init(enum ttlog__clock_choice choice);

/* Resets the fake clock (after fork, so a child's history starts over). */
void ttlog__clock_reset_fake(void);

/* Takes calibration point 1 now, waiting until at least 20 ms have passed
 * since point 0 so that the rate is precise. Runs in signal context. */
void ttlog__clock_calibrate(struct ttlog__calibration *out);

/* The current tick value without advancing the fake clock; for the window
 * cut-off of a snapshot. Runs in signal context. */
uint64_t ttlog__clock_now(void);

/* CLOCK_REALTIME in ns (the fake clock's epoch in fake mode). Runs in
 * signal context. */
int64_t ttlog__clock_realtime_ns(void);

/* CLOCK_REALTIME in ns, even in fake mode (for file names). Runs in
 * signal context. */
int64_t ttlog__clock_wall_ns(void);

#endif
