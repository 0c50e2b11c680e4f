/* SPDX-License-Identifier: MIT */
/*
 * live.h - the one call between live inspection (ttlog_live_foreach() in
 * libttlog-read, src/reader/live.c) and the snapshot writer of libttlog
 * (src/snapshot/writer.c), which defines it and exports it for
 * libttlog-read under the ttlog__ prefix (CMakeLists.txt, "The two
 * libraries"). Declared here because the reader's layer reaches common/
 * only.
 *
 * It writes this process's rings, as a snapshot file (docs/FORMAT.md, reason
 * "live"), to descriptor fd from where it stands: a memory file of the
 * caller's. It has a workspace of its own, reserved at the first call, so
 * that neither ttlog_snapshot() nor the crash handler ever waits for it or
 * is refused because of it. No temporary, no fsync, no retention, no
 * snapshot counted; the window (TTLOG_WINDOW) applies as in a snapshot; the
 * rings are read with the snapshot's lock-free protocol while other
 * threads log (records overwritten during the copy are counted as torn in
 * the THRD chunks). Calls are serialised by the caller: a second one at the
 * same time gets TTLOG_E_BUSY.
 *
 * Returns TTLOG_OK, TTLOG_E_NOT_INITIALIZED (ttlog_init() was not called),
 * TTLOG_E_INVALID (fd < 0), TTLOG_E_NOMEM, TTLOG_E_BUSY or TTLOG_E_IO. Not
 * for signal context: the first call maps memory.
 */
#ifndef TTLOG__COMMON_LIVE_H
#define TTLOG__COMMON_LIVE_H

int ttlog__snapshot_write_live(int fd);

#endif
