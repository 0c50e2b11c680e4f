/* SPDX-License-Identifier: MIT */
/*
 * fork.c - the one fork handler: what each layer does in a forked child.
 *
 * The child of fork() has one thread, the one that called fork, and a copy
 * of every ring. Each layer that keeps per-process state gets its say here,
 * in an order that matters: shared-memory mode first (every ring is still
 * the parent's mapping until the child has one of its own), then the
 * threads' rings (the caller's emptied, the rest free for reuse), then the
 * counters, which are the child's from zero, and the layers that remember
 * something in progress in the parent (the fake clock, sampling windows, a
 * snapshot, a crash).
 */
#include "core/fork.h"

#include <pthread.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/state.h"
#include "crash/crash.h"
#include "stream/stream.h"
#include "trigger/trigger.h"
#include "watchdog/watchdog.h"
#include "shm/owner.h"
#include "sites/sampling.h"
#include "snapshot/writer.h"
#include "thread/thread.h"

static void after_fork_child(void)
{
	ttlog__shm_after_fork();
	ttlog__g.pid = (int)getpid();
	ttlog__threads_after_fork();
	atomic_store_explicit(&ttlog__g.dropped_no_ring, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.dropped_uninitialized, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.frozen, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.dropped_frozen, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.torn_records, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.threads_without_altstack, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.records_retired, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.overwritten_retired, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_written, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_failed, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_busy, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__g.snapshots_pruned, 0, memory_order_relaxed);
	ttlog__clock_reset_fake();
	ttlog__sampling_after_fork();
	ttlog__snapshot_after_fork();
	ttlog__crash_after_fork();
	ttlog__stream_after_fork();
	ttlog__watchdog_after_fork();
	ttlog__trigger_after_fork();
}

int ttlog__fork_init(void)
{
	static int done;
	if (done)
		return 0;
	if (pthread_atfork(NULL, NULL, after_fork_child) != 0)
		return -1;
	done = 1;
	return 0;
}
