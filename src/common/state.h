/* SPDX-License-Identifier: MIT */
/*
 * state.h - the library's process-wide settings and counters.
 *
 * Settings are written by ttlog_init() before `state` is set (with release,
 * LMM(init:A) in src/core/init.c) and only read after an acquire load of it
 * (LMM(init:B)), including from signal context.
 * Counters are atomics updated with relaxed ordering: they are statistics,
 * nothing synchronises through them.
 */
#ifndef TTLOG__COMMON_STATE_H
#define TTLOG__COMMON_STATE_H

#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum { TTLOG__STATE_OFF = 0, TTLOG__STATE_ON = 1 };

#define TTLOG__DIR_MAX 3072          /* longest snapshot directory path */
#define TTLOG__REASON_MAX 64         /* longest reason kept in a file name */
#define TTLOG__SERVICE_MAX 64        /* longest service name (TTLOG_SERVICE) */
#define TTLOG__DEFAULT_RING (1u << 20)
#define TTLOG__MIN_RING 1024u
#define TTLOG__MAX_RING (1u << 30)
#define TTLOG__DEFAULT_CAP ((size_t)64 << 20)
#define TTLOG__DEFAULT_MAX_STRING 256u
#define TTLOG__MAX_MAX_STRING TTLOG__MAX_STRING_LIMIT /* keeps every record under one 64 KiB block */

struct ttlog__trigger_fired; /* below */

struct ttlog__global {
	_Atomic int state;          /* TTLOG__STATE_*; release-stored last by ttlog_init */
	/* While the crash handler copies the rings, other threads' log calls
	 * are refused (ttlog__rings_freeze in src/thread/thread.c) and counted
	 * in dropped_frozen. Next to state: the slow path reads both, and one
	 * line is one miss when it runs cold. */
	_Atomic int frozen;
	/* Counts ttlog_init()'s settings of the rings (ttlog__rings_configure);
	 * a ring's owner takes the new string limit in its next slow path when
	 * its ring's copy differs. Next to state for the same reason. */
	_Atomic uint32_t ring_config;
	int pid;                    /* refreshed in a forked child */
	uint32_t ring_size;         /* bytes per new ring */
	uint32_t max_string;
	size_t memory_cap;
	uint64_t window_ns;
	uint32_t max_snapshots;     /* retention limits, UINT*_MAX = none (src/snapshot/retention.h) */
	uint64_t max_snapshot_bytes;
	char dir[TTLOG__DIR_MAX];    /* absolute snapshot directory, no trailing '/' */
	char executable[PATH_MAX];
	char hostname[256];
	char service[TTLOG__SERVICE_MAX + 1]; /* TTLOG_SERVICE, else the executable's base name */

	_Atomic uint64_t dropped_uninitialized;
	_Atomic uint64_t dropped_no_ring;
	_Atomic uint64_t dropped_frozen;
	_Atomic uint64_t dropped_sites;
	_Atomic uint64_t snapshots_written;
	_Atomic uint64_t snapshots_failed;
	_Atomic uint64_t snapshots_busy;
	_Atomic uint64_t snapshots_pruned;
	_Atomic uint64_t torn_records;
	/* Threads started without a signal stack: the budget was spent or
	 * mmap failed (src/thread/start.c). */
	_Atomic uint64_t threads_without_altstack;
	/* What rings held before they were reused (metrics: totals never go back) */
	_Atomic uint64_t promotions_suppressed; /* the stream's, over TTLOG_PROMOTE_MAX */
	/* The watchdog (src/watchdog/): threads found stalled, its snapshots
	 * written and failed, stalled threads that did not answer its signal. */
	_Atomic uint64_t watchdog_stalls;
	_Atomic uint64_t watchdog_snapshots;
	_Atomic uint64_t watchdog_failed;
	_Atomic uint64_t watchdog_unanswered;
	_Atomic uint64_t records_retired;
	_Atomic uint64_t overwritten_retired;
	/* Triggers (src/trigger/): fires, matches the rate policy held back,
	 * their snapshots written and failed, commands that could not start,
	 * records the timer never saw (gone from the ring before its look),
	 * rules refused at init. trigger_fired: each rule's fires, for the
	 * metric action; NULL until the first rule. */
	_Atomic uint64_t triggers_fired;
	_Atomic uint64_t triggers_suppressed;
	_Atomic uint64_t trigger_snapshots;
	_Atomic uint64_t trigger_snapshots_failed;
	_Atomic uint64_t trigger_exec_failed;
	_Atomic uint64_t trigger_records_missed;
	_Atomic uint64_t triggers_refused;
	_Atomic(struct ttlog__trigger_fired *) trigger_fired;
};

/* One rule's count of fires as ttlog_triggers_fired_total{rule=label}:
 * written by the trigger timer, read by the metrics (in signal context).
 * An entry below `n` (acquire) is complete and its label never changes. */
#define TTLOG__TRIGGER_FIRED_MAX 32u
struct ttlog__trigger_fired {
	_Atomic uint32_t n;
	struct {
		char label[256];        /* "rule=TEXT" */
		int metric;             /* the rule has the metric action */
		_Atomic uint64_t fired;
	} rule[TTLOG__TRIGGER_FIRED_MAX];
};

extern struct ttlog__global ttlog__g;

#endif
