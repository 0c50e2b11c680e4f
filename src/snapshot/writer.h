/*
 * writer.h - writing snapshot files (format: docs/FORMAT.md).
 *
 * The writer runs both from ttlog_snapshot() and from the crash handler, so
 * all of it is async-signal-safe: it works only in a workspace reserved by
 * ttlog__snapshot_init() and uses only open/write/fsync/link/unlink/close.
 */
#ifndef TTLOG_SNAPSHOT_WRITER_H
#define TTLOG_SNAPSHOT_WRITER_H

#include <stddef.h>
#include <stdint.h>

struct ttlog__stack; /* crash/stack.h */

/* What the crash handler knows about the crash. */
struct ttlog__crash_info {
	int signo;
	int code;
	uint64_t address;
	uint32_t tid;
	const char *signal_name;
	const struct ttlog__stack *stack; /* the crashing thread's, or NULL */
};

enum ttlog__workspace { TTLOG_WS_NORMAL = 0, TTLOG_WS_CRASH = 1 };

/* Reserves the two workspaces (one for on-demand snapshots, one kept for
 * the crash handler). Idempotent. TTLOG_OK or TTLOG_E_NOMEM. */
int ttlog__snapshot_init(void);

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

/* In a forked child: a snapshot that was in progress in the parent is not. */
void ttlog__snapshot_after_fork(void);

#endif
