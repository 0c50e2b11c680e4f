/* SPDX-License-Identifier: MIT */
/*
 * lttng.c - the LTTng-UST peer of the ttlog benchmark suite.
 *
 * An adapter for the generic harness (bench/harness/harness.h, which
 * supplies main() and the measurement modes): each bench_log_* call is one
 * LTTng-UST tracepoint of the "ttlog_bench" provider (ttlog_bench_tp.h),
 * recorded into a snapshot-mode session's in-memory ring buffers, which is
 * LTTng's equivalent of ttlog's flight recorder. The session itself is set
 * up outside the process by bench/lttng/session.sh, as LTTng requires: the
 * program only registers with the session daemon and fires tracepoints.
 */

#include "harness_env.h"

#include <stdio.h>
#include <time.h>

#include <lttng/ust-thread.h>

#include "ttlog_bench_tp.h"

#define BENCH_LOGGER "lttng-ust-snapshot"

/*
 * How long bench_setup waits for the events to become enabled. liblttng-ust
 * registers from a constructor and normally holds main() back until the
 * session daemon has pushed the session's enabled events (for up to
 * LTTNG_UST_REGISTER_TIMEOUT ms), so they are usually on already; the wait
 * only covers a short or zero register timeout.
 */
#define LTTNG_ENABLE_WAIT_MS 1000

/* Which of the three events are enabled, as a bit mask (1, 2, 4). */
static unsigned lttng_enabled_mask(void)
{
	unsigned mask = 0;

	if (lttng_ust_tracepoint_enabled(ttlog_bench, args3))
		mask |= 1;
	if (lttng_ust_tracepoint_enabled(ttlog_bench, noargs))
		mask |= 2;
	if (lttng_ust_tracepoint_enabled(ttlog_bench, str200))
		mask |= 4;
	return mask;
}

static int bench_setup(const struct bench_env *env)
{
	/* The ring buffers live in the session daemon's shared memory and the
	 * snapshot goes where session.sh says: nothing to put in env->dir. The
	 * thread count needs nothing either: LTTng's buffers are per CPU. */
	(void)env;

	struct timespec pause = { 0, 10 * 1000 * 1000 };
	unsigned mask = lttng_enabled_mask();
	for (int waited = 0; mask != 7 && waited < LTTNG_ENABLE_WAIT_MS; waited += 10) {
		nanosleep(&pause, NULL);
		mask = lttng_enabled_mask();
	}
	if (mask != 7) {
		/* A disabled tracepoint costs one load and a branch; timing it
		 * would report LTTng as far faster than it is. */
		fprintf(stderr,
			"lttng: tracepoints not enabled (disabled:%s%s%s): no LTTng session "
			"daemon with a session enabling ttlog_bench:* reached this "
			"process; run it as bench/lttng/session.sh run -- COMMAND\n",
			(mask & 1) ? "" : " args3", (mask & 2) ? "" : " noargs",
			(mask & 4) ? "" : " str200");
		return BENCH_SKIP;
	}
	return 0;
}

/*
 * liblttng-ust sets up some per-thread state (its RCU reader registration,
 * cached thread and CPU data) lazily on a thread's first event; doing it
 * here keeps that one-off cost out of the measured calls.
 */
static void bench_thread_setup(void)
{
	lttng_ust_init_thread();
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	lttng_ust_tracepoint(ttlog_bench, args3, i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	lttng_ust_tracepoint(ttlog_bench, noargs);
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	lttng_ust_tracepoint(ttlog_bench, str200, s);
}

/* In snapshot mode nothing reaches the disk until `lttng snapshot record`
 * (which session.sh runs after the program ends), so there is nothing to
 * wait for here. */
static int bench_drain(void)
{
	return 1;
}

/* liblttng-ust unregisters from the session daemon in its destructor; the
 * recorded events stay in the per-user buffers for the snapshot. */
static void bench_teardown(void)
{
}

#include "harness.h"
