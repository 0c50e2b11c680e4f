/* SPDX-License-Identifier: MIT */
/*
 * clock.c - choosing the tick source and calibrating it.
 *
 * The hot path reads the CPU's counter inline (TTLOG__STORE_TICKS in
 * ttlog.h): rdtsc on x86-64, cntvct_el0 on aarch64. It is used only when it
 * is known to tick at a constant rate across cores and sleep states (x86:
 * CPUID "invariant TSC"; aarch64: always, the generic timer is
 * architectural). Otherwise ttlog__clock_kind is non-zero, the rings keep
 * every log call on the slow path (src/ring/ring.c), and ticks come from
 * clock_gettime(CLOCK_MONOTONIC) through ttlog__clock_ticks(), which is a
 * vDSO call, not a system call. The calibration is a pair of (ticks,
 * CLOCK_REALTIME) points; the rate is never assumed, always measured.
 */
#include "clock/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "common/internal.h"
#include "format/format.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

int ttlog__clock_kind = TTLOG__TICKS_MONOTONIC; /* until ttlog__clock_init(): the safe slow path */

static struct ttlog__calibration calib0;
static _Atomic uint64_t fake_ticks;

/* 2026-01-01T00:00:00Z, the fake clock's epoch. */
#define FAKE_EPOCH_NS 1767225600000000000LL
#define FAKE_STEP_NS 1000u
#define MIN_CALIBRATION_NS 20000000LL

/* The time of clock id in nanoseconds. Runs in signal context:
 * clock_gettime is on POSIX's list. */
static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int counter_is_usable(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d >> 8) & 1u; /* invariant TSC */
#elif defined(__aarch64__)
	return 1;
#else
	return 0;
#endif
}

static uint32_t counter_format_kind(void)
{
#if defined(__aarch64__)
	return TTLOG__FMT_CLOCK_CNTVCT;
#else
	return TTLOG__FMT_CLOCK_TSC;
#endif
}

/* The current value of the real (not fake) tick source. Runs in signal
 * context. */
static uint64_t counter_read(void)
{
	if (ttlog__clock_kind == TTLOG__TICKS_COUNTER) {
		uint64_t t;
		TTLOG__STORE_TICKS((unsigned char *)&t);
		return t;
	}
	return (uint64_t)clock_ns(CLOCK_MONOTONIC);
}

/* Runs in signal context. */
uint64_t ttlog__clock_ticks(void)
{
	if (ttlog__clock_kind == TTLOG__TICKS_FAKE)
		return atomic_fetch_add_explicit(&fake_ticks, FAKE_STEP_NS, memory_order_relaxed);
	return counter_read();
}

void ttlog__clock_reset_fake(void)
{
	atomic_store_explicit(&fake_ticks, 0, memory_order_relaxed);
}

void ttlog__clock_init(enum ttlog__clock_choice choice)
{
	if (choice == TTLOG__CLOCK_FAKE) {
		ttlog__clock_kind = TTLOG__TICKS_FAKE;
		calib0.kind = TTLOG__FMT_CLOCK_FAKE;
		calib0.tick0 = 0;
		calib0.ns0 = FAKE_EPOCH_NS;
		return;
	}
	if (choice == TTLOG__CLOCK_MONO || (choice == TTLOG__CLOCK_AUTO && !counter_is_usable())) {
		ttlog__clock_kind = TTLOG__TICKS_MONOTONIC;
		calib0.kind = TTLOG__FMT_CLOCK_MONOTONIC;
	} else {
		ttlog__clock_kind = TTLOG__TICKS_COUNTER;
		calib0.kind = counter_format_kind();
	}
	/* Take the realtime reading between two tick readings and use their
	 * midpoint, halving the error of the pair. */
	uint64_t a = counter_read();
	calib0.ns0 = clock_ns(CLOCK_REALTIME);
	uint64_t b = counter_read();
	calib0.tick0 = a + (b - a) / 2;
}

/* Runs in signal context: clock_gettime is async-signal-safe. */
uint64_t ttlog__clock_now(void)
{
	if (ttlog__clock_kind == TTLOG__TICKS_FAKE)
		return atomic_load_explicit(&fake_ticks, memory_order_relaxed);
	return counter_read();
}

/* Runs in signal context. */
int64_t ttlog__clock_realtime_ns(void)
{
	if (ttlog__clock_kind == TTLOG__TICKS_FAKE)
		return FAKE_EPOCH_NS;
	return clock_ns(CLOCK_REALTIME);
}

/* Runs in signal context: only clock_gettime and nanosleep. */
const struct ttlog__calibration *ttlog__clock_point0(void)
{
	return &calib0;
}

void ttlog__clock_calibrate(struct ttlog__calibration *out, int may_wait)
{
	*out = calib0;
	if (ttlog__clock_kind == TTLOG__TICKS_FAKE) {
		out->tick1 = 1000000000u;
		out->ns1 = FAKE_EPOCH_NS + 1000000000LL;
		return;
	}
	int64_t wait = calib0.ns0 + MIN_CALIBRATION_NS - clock_ns(CLOCK_REALTIME);
	if (may_wait && wait > 0 && wait <= MIN_CALIBRATION_NS) {
		struct timespec ts = {0, (long)wait};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	uint64_t a = counter_read();
	out->ns1 = clock_ns(CLOCK_REALTIME);
	uint64_t b = counter_read();
	out->tick1 = a + (b - a) / 2;
	if (out->tick1 <= out->tick0) /* clock went backwards: keep the file valid */
		out->tick1 = out->tick0 + 1;
}

/* Runs in signal context. */
int64_t ttlog__clock_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* Ticks per second of the CPU's counter, 0 until it is known precisely. */
static _Atomic uint64_t counter_rate;
#define RATE_SETTLED_NS 100000000LL  /* then the rate is known to 1 ppm or so */
#define RATE_MIN_NS 10000LL          /* below this, two readings say too little */

/* Runs in signal context: clock_gettime is async-signal-safe. */
uint64_t ttlog__clock_ticks_per_second(void)
{
	if (ttlog__clock_kind != TTLOG__TICKS_COUNTER)
		return 1000000000u;
	uint64_t rate = atomic_load_explicit(&counter_rate, memory_order_relaxed);
	if (rate)
		return rate;
	uint64_t t = counter_read();
	int64_t dns = clock_ns(CLOCK_REALTIME) - calib0.ns0;
	if (dns < RATE_MIN_NS || t <= calib0.tick0)
		return 1000000000u; /* just started (or the wall clock stepped): a guess */
	rate = (uint64_t)((unsigned __int128)(t - calib0.tick0) * 1000000000u / (uint64_t)dns);
	if (rate == 0)
		rate = 1;
	if (dns >= RATE_SETTLED_NS)
		atomic_store_explicit(&counter_rate, rate, memory_order_relaxed);
	return rate;
}

void ttlog__clock_advance_fake(uint64_t ns)
{
	atomic_fetch_add_explicit(&fake_ticks, ns, memory_order_relaxed);
}
