/* SPDX-License-Identifier: MIT */
/*
 * self_source.h - this process as a snapshot source (struct
 * ttlog__snapshot_source), for tests that write a snapshot through
 * ttlog__snapshot_write_source() with a ring read or a site lookup of their
 * own: its rings, its call sites, its clock and no drops, as the library's
 * own in-process source has them (src/snapshot/writer.c). Header only:
 * the functions use the library's internals, which each test links.
 */
#ifndef TTLOG_TESTS_SELF_SOURCE_H
#define TTLOG_TESTS_SELF_SOURCE_H

#include <stdint.h>
#include <unistd.h>

#include "clock/clock.h"
#include "ring/ring.h"
#include "sites/sites.h"
#include "snapshot/writer.h"
#include "thread/thread.h"

static inline struct ttlog__ring *tu_source_ring_next(void *ctx, struct ttlog__ring *prev)
{
	(void)ctx;
	return prev ? prev->next : ttlog__ring_first();
}

static inline const struct ttlog__site_desc *tu_source_site(void *ctx, uint32_t id)
{
	(void)ctx;
	return ttlog__site_desc_lookup(id);
}

static inline void tu_source_clock(void *ctx, int may_wait, struct ttlog__calibration *cal,
				   int64_t *created, uint64_t *now)
{
	(void)ctx;
	ttlog__clock_calibrate(cal, may_wait);
	*created = ttlog__clock_realtime_ns();
	*now = ttlog__clock_now();
}

static inline uint64_t tu_source_none(void *ctx)
{
	(void)ctx;
	return 0;
}

/* This process, its rings read with read_begin, into directory dir. */
static inline struct ttlog__snapshot_source tu_self_source(
	void *ctx, int (*read_begin)(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur),
	const char *dir)
{
	return (struct ttlog__snapshot_source){
		.ctx = ctx,
		.ring_next = tu_source_ring_next,
		.read_begin = read_begin,
		.site = tu_source_site,
		.clock = tu_source_clock,
		.dropped = tu_source_none,
		.pid = getpid(),
		.names_pid = -1,
		.executable = "test",
		.hostname = "host",
		.dir = dir,
	};
}

#endif /* TTLOG_TESTS_SELF_SOURCE_H */
