/* SPDX-License-Identifier: MIT */
/*
 * offload.h - a second thread that compresses the event blocks of
 * snapshots taken with ttlog_snapshot() (snapshot/emit.h: struct
 * ttlog__emit_offload), so that gathering block n + 1 from the rings and
 * compressing block n overlap on two cores.
 *
 * The thread, `ttlog-snapzip`, is started by ttlog_init() (normal context)
 * when TTLOG_SNAPSHOT_THREADS allows it, and stopped by ttlog_shutdown().
 * It is not started lazily by the first snapshot, because ttlog_snapshot()
 * is async-signal-safe and pthread_create() is not. Handing a block over
 * and waiting for it use only atomics and the futex system call, so a
 * snapshot that uses the thread stays async-signal-safe. Without the
 * thread (not started, could not be made, or after fork() in the child,
 * which has no copy of it) snapshots compress on the calling thread, as
 * before. The crash handler never uses it: it writes with its own
 * workspace, on the faulting thread alone.
 *
 * One job at a time: the snapshot writer's normal workspace is taken by
 * one writer at a time (its busy flag), and only that workspace uses the
 * offload.
 */
#ifndef TTLOG__SNAPSHOT_OFFLOAD_H
#define TTLOG__SNAPSHOT_OFFLOAD_H

struct ttlog__emit_offload;
struct ttlog__compression;

/* Starts the thread with the codec's state (its own LZ4 state and zstd
 * context) if it is not running; stops it if threads is 1. threads: 1 or
 * 2. Returns 0, or -1 when it could not be started (snapshots then use
 * one thread). Normal context, under ttlog_init's lock. */
int ttlog__offload_start(unsigned threads, const struct ttlog__compression *comp);

/* Stops and joins the thread, if any. Normal context. */
void ttlog__offload_stop(void);

/* The offload to give an emitter for one file, or NULL when there is no
 * thread. Runs in signal context. */
struct ttlog__emit_offload *ttlog__offload_get(void);

/* In a forked child: the thread is not there. */
void ttlog__offload_after_fork(void);

#endif
