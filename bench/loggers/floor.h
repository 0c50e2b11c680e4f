/* SPDX-License-Identifier: MIT */
/*
 * floor.h - the hooks of a "floor" adapter: a logger that does nothing but
 * take a timestamp, to show what the cheapest possible log call costs on
 * this machine. Every message calls bench_floor_read(), which the including
 * file defines (it stores a clock reading into a sink); there is no set-up,
 * no file and nothing to drain.
 */
#ifndef BENCH_FLOOR_H
#define BENCH_FLOOR_H

static int bench_setup(const struct bench_env *env)
{
	(void)env;
	return 0;
}

static void bench_thread_setup(void)
{
}

BENCH_INLINE void bench_log_args3(int i, double d, const char *s)
{
	(void)i;
	(void)d;
	(void)s;
	bench_floor_read();
}

BENCH_INLINE void bench_log_noargs(void)
{
	bench_floor_read();
}

BENCH_INLINE void bench_log_str200(const char *s)
{
	(void)s;
	bench_floor_read();
}

static int bench_drain(void)
{
	return 1;
}

static void bench_teardown(void)
{
}

#endif /* BENCH_FLOOR_H */
