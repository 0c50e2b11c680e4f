/* SPDX-License-Identifier: MIT */
/*
 * writer.h - writing snapshot files (format: docs/FORMAT.md).
 *
 * The writer runs both from ttlog_snapshot() and from the crash handler, so
 * all of it is async-signal-safe: it works only in a workspace reserved by
 * ttlog__snapshot_init() and uses only open/write/fsync/link/linkat/unlink/close.
 */
#ifndef TTLOG__SNAPSHOT_WRITER_H
#define TTLOG__SNAPSHOT_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct ttlog__stack; /* proc/stack.h */
struct ttlog__module_list; /* proc/modules.h */

/* What the crash handler knows about the crash. */
struct ttlog__crash_info {
	int signo;
	int code;
	uint64_t address;
	uint32_t tid;
	const char *signal_name;
	const struct ttlog__stack *stack; /* the crashing thread's, or NULL */
	const struct ttlog__module_list *modules; /* for MODS; NULL: the last refresh's */
};

/* Gives both workspaces a fresh key chain when files are encrypted
 * (src/snapshot/seal.c). Normal context: ttlog_init, after fork. */
void ttlog__snapshot_seal_seed(void);

enum ttlog__workspace { TTLOG__WS_NORMAL = 0, TTLOG__WS_CRASH = 1 };

struct ttlog__ring;
struct ttlog__ring_cursor;
struct ttlog__calibration;
struct ttlog__site_desc;
struct ttlog__metric_entry;
struct ttlog__metric_sum;

/*
 * What a snapshot is written from: this process (ttlog__snapshot_write
 * fills it from the library's globals) or another process's shared-memory
 * mapping (src/shm/map_snapshot.c). Every callback gets ctx. For the in-process
 * source they all run in signal context.
 */
struct ttlog__snapshot_source {
	void *ctx;
	/* The rings, one after the other: prev NULL gives the first; NULL ends. */
	struct ttlog__ring *(*ring_next)(void *ctx, struct ttlog__ring *prev);
	/* ttlog__ring_read_begin or ttlog__ring_read_begin_at for ring r. */
	int (*read_begin)(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur);
	/* The resolved description of the site with this id (sites/desc.h),
	 * NULL if none. It stays valid, unchanged, until the snapshot ends. */
	const struct ttlog__site_desc *(*site)(void *ctx, uint32_t id);
	/* The calibration (may_wait: see ttlog__clock_calibrate), the file's
	 * creation time and the current tick value (for the window). */
	void (*clock)(void *ctx, int may_wait, struct ttlog__calibration *cal, int64_t *created,
		      uint64_t *now);
	/* Log calls the process dropped (END chunk). */
	uint64_t (*dropped)(void *ctx);
	/* Call sites the process disabled for want of an id (END chunk,
	 * revision 16); NULL: 0. */
	uint64_t (*dropped_sites)(void *ctx);
	int pid;                 /* in the HEAD chunk and the file name */
	int names_pid;           /* names of live threads from /proc/<names_pid>/task (0: this
				    process); -1: only the name kept in the ring */
	const char *executable;
	const char *hostname;
	const char *service;     /* HEAD.service (revision 5); NULL: empty */
	const char *dir;         /* where the file goes */
	uint64_t window_ns;      /* 0: whole rings */
	int in_process;          /* sampling, metrics and the process's own counters */
	int live;                /* live inspection (ttlog__snapshot_write_live): into live_fd,
				    no file, no counters, no retention */
	int live_fd;
	/* More stacks, each written as a STCK after the crash's or the
	 * caller's (ttlog snap --stacks, the watchdog), and the module list
	 * MODS gives for them; NULL: the process's own current list. A stack
	 * whose thread_index is 0xffffffff gets the index of the ring whose
	 * thread has its tid, if there is one. */
	const struct ttlog__stack *stacks;
	uint32_t nstacks;
	const struct ttlog__module_list *modules;
	/* The metrics of a source that is not this process (a mapping of
	 * layout 1.3): nmetrics entries, each summed by metric_read (out and
	 * buckets as ttlog__metric_read fills them), written as MTRC chunks.
	 * 0: none. */
	uint32_t nmetrics;
	const struct ttlog__metric_entry *metrics;
	void (*metric_read)(void *ctx, const struct ttlog__metric_entry *e, struct ttlog__metric_sum *out,
			    unsigned char *buckets);
	uint64_t metric_shards_private; /* its threads whose shards it could not read */
	/* A trigger's snapshot (src/trigger/): the rule that fired and when
	 * (CLOCK_REALTIME ns), appended to HEAD (revision 14); NULL: none. */
	const char *trigger_rule;
	int64_t trigger_ns;
	/* Only the records of this trace and the scopes that enclose them
	 * (snapshot/trace_filter.h), with a TRCE chunk saying what was left
	 * out; its counts are filled in. NULL: every record. The filter
	 * allocates: a source with a trace is never written from a signal
	 * handler. */
	struct ttlog__trace_want *trace;
	/* The file is written as a member of a bundle (FORMAT.md 22), to be
	 * put together with others: its header says BUNDLE. */
	int bundle;
	/* ttlog_snapshot(): event blocks may be compressed on the
	 * `ttlog-snapzip` thread (snapshot/offload.h). */
	int may_offload;
};

struct ttlog__compression;
struct ttlog__trace_want;

/* Reserves the two workspaces (one for on-demand snapshots, one kept for
 * the crash handler), with what the codec `comp` needs (its zstd context
 * among it); NULL: the codec already chosen, at first LZ4. Called again,
 * it keeps the workspaces and makes them ready for the codec given, with
 * new ones if they are too small for it. TTLOG_OK, TTLOG_E_NOMEM, or
 * TTLOG_E_CONFIG when zstd refuses the level. */
int ttlog__snapshot_init(const struct ttlog__compression *comp);

/*
 * Writes a snapshot using workspace `which`; crash may be NULL. path (if not
 * NULL) receives the final file name. Returns a TTLOG_* code; TTLOG_E_BUSY
 * if that workspace is in use. Runs in signal context.
 */
int ttlog__snapshot_write(enum ttlog__workspace which, const char *reason,
			  const struct ttlog__crash_info *crash, char *path, size_t path_size);

/*
 * The result of the last ttlog__snapshot_write() on workspace `which` that
 * got past the busy check, and in *sys_errno the errno of the system call
 * that made it fail (0 if none). Meaningful only to the workspace's owner:
 * the crash handler, right after its write. Runs in signal context.
 */
int ttlog__snapshot_last_error(enum ttlog__workspace which, int *sys_errno);

/*
 * ttlog__snapshot_write() with a stack for a snapshot that is not a crash
 * (crash NULL; ttlog_snapshot_with_stack): the file gets a STCK chunk and
 * the module list (MODS). With a crash, the stack is crash->stack and this
 * argument is ignored. Runs in signal context.
 */
int ttlog__snapshot_write_stack(enum ttlog__workspace which, const char *reason,
				const struct ttlog__crash_info *crash,
				const struct ttlog__stack *stack, char *path, size_t path_size);

/*
 * ttlog__snapshot_write() of this process with the stacks given, a STCK
 * each, then MODS (the watchdog: the stalled threads' stacks). Runs in
 * signal context.
 */
int ttlog__snapshot_write_stacks(enum ttlog__workspace which, const char *reason,
				 const struct ttlog__stack *stacks, uint32_t nstacks, char *path,
				 size_t path_size);

/*
 * ttlog__snapshot_write() of this process for a trigger: HEAD names the
 * rule (at most TTLOG__FMT_HEAD_TRIGGER_MAX bytes of it are kept) and the
 * time it fired, ns since the epoch. Runs in signal context.
 */
int ttlog__snapshot_write_trigger(enum ttlog__workspace which, const char *reason,
				  const char *rule, int64_t trigger_ns, char *path, size_t path_size);

/*
 * Writes a snapshot from src (another process's mapping) with the normal
 * workspace, reserving it if this process never ran ttlog_init. Same
 * results as ttlog__snapshot_write. Not for signal context.
 */
/* A snapshot of this process with only the records of want's trace (see
 * the source's `trace`); want's counts are filled in. Normal context only. */
int ttlog__snapshot_write_trace(struct ttlog__trace_want *want, const char *reason, char *path,
				size_t path_size);

int ttlog__snapshot_write_source(const struct ttlog__snapshot_source *src, const char *reason,
				 char *path, size_t path_size);

/* The current name of a live thread, from /proc (of process pid, 0: this
 * one); "" if unavailable. Runs in signal context. */
void ttlog__live_thread_name(int pid, uint32_t tid, char *out, size_t cap);

/* on 1: on-demand snapshots of this process (ttlog_snapshot(), the
 * snapshot signal) are refused with TTLOG_E_BUSY (counted in
 * snapshots_busy) until it is called with 0; the crash handler sets it
 * while it writes. Runs in signal context. */
void ttlog__snapshot_refuse(int on);

/* After a crash snapshot: an on-demand snapshot that another thread is
 * writing is let finish, waiting up to max_wait_ms; one that thread tid
 * (the crashing one) was writing when it crashed, or that is still being
 * written after the wait, has its temporary file removed, so that the
 * dying process leaves no temporary behind. Runs in signal context. */
void ttlog__snapshot_settle(uint32_t tid, unsigned max_wait_ms);

/* ttlog_snapshot(): ttlog__snapshot_write() of this process with the
 * normal workspace, its blocks compressed on the second thread when there
 * is one (snapshot/offload.h). Runs in signal context. */
int ttlog__snapshot_write_api(const char *reason, char *path, size_t path_size);

/* Starts (threads 2) or stops (threads 1) the compression thread of
 * ttlog__snapshot_write_api(), waiting for a snapshot in progress to end
 * first. 0, or -1 when the thread could not be started (snapshots then
 * use one thread). Normal context: ttlog_init, ttlog_shutdown. */
int ttlog__snapshot_threads(unsigned threads);

/* In a forked child: a snapshot that was in progress in the parent is not. */
void ttlog__snapshot_after_fork(void);

#endif
