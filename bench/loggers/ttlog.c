/*
 * ttlog.c - benchmark adapter for ttlog itself: TTLOG_INFO into the calling
 * thread's in-memory ring, with the library's defaults except the snapshot
 * directory, which is the run's scratch directory.
 *
 * ttlog writes no file while the program runs (only snapshots do), so
 * bench_drain() has nothing to wait for and says so.
 */
#include "harness_env.h"

#include <ttlog.h>

#define BENCH_LOGGER "ttlog"
#define BENCH_HAS_REPORT 1

static int bench_setup(const struct bench_env *env)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = env->dir;
	int r = ttlog_init(&cfg);
	if (r != TTLOG_OK) {
		fprintf(stderr, "ttlog_init: %s (%s)\n", ttlog_strerror(r), ttlog_init_error());
		return 1;
	}
	return 0;
}

static void bench_thread_setup(void)
{
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	TTLOG_INFO("request id=%d latency=%f path=%s", i, d, s);
}

BENCH_INLINE void bench_log_noargs(void)
{
	TTLOG_INFO("request done");
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	TTLOG_INFO("payload=%s", s);
}

static int bench_drain(void)
{
	return 1;
}

/* Overwritten records are the ring doing its job, not a loss, but the
 * count tells how much history a ring of the default size holds. */
static void bench_report(char *buf, size_t size)
{
	struct ttlog_stats st;
	if (ttlog_get_stats(&st) == TTLOG_OK)
		snprintf(buf, size, "\"overwritten\":%llu,\"dropped\":%llu",
			 (unsigned long long)st.events_overwritten,
			 (unsigned long long)(st.dropped_no_ring + st.dropped_uninitialized));
}

static void bench_teardown(void)
{
	ttlog_shutdown();
}

#include "harness.h"
