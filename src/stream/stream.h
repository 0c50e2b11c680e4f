/* SPDX-License-Identifier: MIT */
/*
 * stream.h - streaming mode: a background thread drains every thread's
 * ring into segment files (docs/FORMAT.md section 17) while the rings go on
 * holding the history for snapshots.
 *
 * core/ starts it from ttlog_init when TTLOG_STREAM names a directory,
 * stops it at ttlog_shutdown and exit, and sets the table of
 * common/stream_ops.h through which the crash handler and the slow path
 * reach it.
 */
#ifndef TTLOG__STREAM_STREAM_H
#define TTLOG__STREAM_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/state.h"
#include "format/format.h" /* TTLOG__FMT_PROMOTE_*: the promotion scopes */
#include "snapshot/compression.h"

enum ttlog__stream_sync { TTLOG__SYNC_NONE = 0, TTLOG__SYNC_SEGMENT = 1, TTLOG__SYNC_INTERVAL = 2 };
enum ttlog__stream_policy { TTLOG__POLICY_DROP = 0, TTLOG__POLICY_BLOCK = 1 };

struct ttlog__stream_settings {
	char dir[TTLOG__DIR_MAX];     /* absolute; "" = streaming off */
	const char *level;            /* TTLOG_STREAM_LEVEL's syntax; NULL: "info" */
	uint64_t segment_size;        /* rotate at this many bytes */
	uint64_t segment_age_ns;      /* or at this age */
	int sync;                     /* enum ttlog__stream_sync */
	uint64_t sync_interval_ns;
	uint64_t max_bytes;           /* retention; 0 = no limit */
	uint64_t max_age_ns;          /* 0 = no limit */
	uint32_t max_files;           /* 0 = no limit */
	int policy;                   /* enum ttlog__stream_policy */
	int flush_signals;            /* SIGTERM, SIGINT: drain, close, then the signal */
	uint64_t flush_ns;            /* a drain at least this often (tests may shorten it) */
	struct ttlog__compression compression; /* the segments' codec; default packed */
	/* Promotion (FORMAT.md 17.2): a log record at or above promote_level
	 * makes the stream also write the records below its level from
	 * [ticks - before, ticks + after] of the same thread, of every thread
	 * (process scope), or of the same thread and the other threads'
	 * records in its innermost span's trace (trace scope), at most
	 * promote_max times a second (0: no limit). promote_level
	 * TTLOG_LEVEL_OFF: never. */
	int promote_level;
	int promote_scope;            /* TTLOG__FMT_PROMOTE_THREAD, _PROCESS or _TRACE */
	uint64_t promote_before_ns, promote_after_ns;
	uint32_t promote_max;
};

/* Checks a TTLOG_STREAM_LEVEL spec. TTLOG_OK or TTLOG_E_CONFIG. */
int ttlog__stream_check_level(const char *spec);

/*
 * Starts the drainer thread `ttlog-stream` with these settings (reserving
 * everything the crash path will need) and opens the first segment. The
 * stream's directory is created like the snapshot directory. TTLOG_OK, or
 * a TTLOG_E_* code with a message in err. Not signal-safe.
 */
int ttlog__stream_start(const struct ttlog__stream_settings *st, char *err, size_t errsize);

/* Drains every ring, closes the open segment with its END and stops the
 * thread. Does nothing if the stream is not running. Not signal-safe. */
void ttlog__stream_stop(void);

/* Whether the stream is running. */
int ttlog__stream_running(void);

/* A function the drainer thread calls once per cycle (at least every
 * TTLOG_STREAM's flush interval, 50 ms), in normal context, for the
 * watchdog (src/watchdog/), which then needs no thread of its own; NULL
 * stops the calls. Returns 0, or -1 if the stream is not running. */
int ttlog__stream_set_timer(void (*fn)(void));

/* Counters for ttlog_get_stats(). */
struct ttlog__stream_counters {
	uint64_t streamed, lost, filtered, promoted;
	uint64_t segments, segments_deleted, bytes, errors;
};
void ttlog__stream_counters(struct ttlog__stream_counters *out);

/* In a forked child: the drainer is the parent's; the child streams
 * nothing (its rings are its own) until it calls ttlog_init again. */
void ttlog__stream_after_fork(void);

/* The operations of common/stream_ops.h, for core/ to set. */
extern const struct ttlog__stream_ops ttlog__stream_ops_table;

#endif
