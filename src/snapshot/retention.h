/* SPDX-License-Identifier: MIT */
/*
 * retention.h - keeping a snapshot directory within its limits: at most
 * max_files snapshot files and max_bytes of them, removing the oldest first
 * and crash snapshots last.
 *
 * Pruning runs after every snapshot the writer publishes (from
 * ttlog_snapshot(), the snapshot signal and the crash handler alike) and at
 * ttlog_init(), so it is async-signal-safe: raw getdents64, fstatat,
 * openat/read/close and unlinkat, in memory reserved by
 * ttlog__retention_init(). The policy is described in docs/DESIGN.md
 * ("Snapshot retention").
 */
#ifndef TTLOG__SNAPSHOT_RETENTION_H
#define TTLOG__SNAPSHOT_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/writer.h"

/* Defaults of struct ttlog_config.max_snapshots / max_snapshot_bytes. */
#define TTLOG__DEFAULT_MAX_SNAPSHOTS 100u
#define TTLOG__DEFAULT_MAX_SNAPSHOT_BYTES ((uint64_t)256 << 20)
/* "No limit" in the settings (and in the struct). */
#define TTLOG__NO_MAX_SNAPSHOTS UINT32_MAX
#define TTLOG__NO_MAX_SNAPSHOT_BYTES UINT64_MAX

/* Reserves the memory of the two pruning workspaces (one per writer
 * workspace, so that a crash never waits for an on-demand prune).
 * Idempotent. TTLOG_OK or TTLOG_E_NOMEM. */
int ttlog__retention_init(void);

/*
 * Removes snapshot files from dir until it holds at most max_files of them
 * and at most max_bytes in total (st_size): non-crash snapshots before crash
 * snapshots, oldest first within each (by the time in the name). keep (a
 * file name in dir, or NULL) is never removed, even if it alone exceeds
 * max_bytes. Only regular files named as the writer names snapshots count;
 * symbolic links, directories and other names are neither counted nor
 * touched. A file that cannot be removed is skipped. UINT32_MAX and
 * UINT64_MAX mean no limit. Uses the workspace `which`; if it is busy
 * (a prune of the same kind in another thread), returns 0 at once.
 * Returns the number of files removed, also added to
 * ttlog_stats.snapshots_pruned. Runs in signal context.
 */
unsigned ttlog__retention_prune(enum ttlog__workspace which, const char *dir, const char *keep,
				uint32_t max_files, uint64_t max_bytes);

/*
 * Whether name is a snapshot file name the writer makes,
 * ttlog-<pid>-<YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<reason>[-N].ttlog; if so and
 * stamp is not NULL, *stamp points at its time (TTLOG__STAMP_LEN bytes, in
 * an order where text order is time order). Runs in signal context.
 */
#define TTLOG__STAMP_LEN 26
int ttlog__retention_is_snapshot_name(const char *name, const char **stamp);

#endif
