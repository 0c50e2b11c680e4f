/* SPDX-License-Identifier: MIT */
/*
 * ttlog_tools.h - what the `ttlog` command needs beyond ttlog.h and
 * ttlog_reader.h: the shared-memory mappings of processes in shared-memory
 * mode (finding them, checking their headers, telling whether their owner
 * still runs, turning one into a snapshot file) and the library's names of
 * signals.
 *
 * NOTHING HERE IS STABLE. Unlike ttlog.h and ttlog_reader.h, this header
 * makes no promise from one release to the next, patch releases included:
 * names, types, constants and behaviour may change or go, and a program
 * that uses it must be built against the same ttlog version it runs with.
 * That is why the names keep the library's internal prefix ttlog__, and why
 * the header must be asked for by name: define TTLOG_TOOLS_UNSTABLE before
 * including it (as zstd asks for ZSTD_STATIC_LINKING_ONLY), or it stops the
 * build with an error.
 *
 *     #define TTLOG_TOOLS_UNSTABLE
 *     #include <ttlog_tools.h>
 *
 * Where the functions are: ttlog__shm_snapshot() and ttlog__core_snapshot()
 * are in libttlog-read, the
 * rest in libttlog, which libttlog-read links; a tool links ttlog-read
 * (pkg-config ttlog-read, CMake ttlog::read).
 *
 * The mapping of process PID is <base>/ttlog-<uid>/<PID>.ttshm, where base
 * is the directory the process was configured with (default
 * TTLOG_SHM_DEFAULT_BASE); the per-user directory is mode 0700 and the
 * mapping 0600. Its layout is specified in docs/SHM-FORMAT.md.
 */
#ifndef TTLOG_TOOLS_H
#define TTLOG_TOOLS_H

#ifndef TTLOG_TOOLS_UNSTABLE
#error "ttlog_tools.h has no stable API or ABI: define TTLOG_TOOLS_UNSTABLE before including it, and build against the ttlog version you run with"
#endif

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

TTLOG__EXTERN_C_BEGIN

/** The base directory of the mappings when none is configured. */
#define TTLOG_SHM_DEFAULT_BASE "/dev/shm"

/** The ending of a mapping's file name (<pid>.ttshm). */
#define TTLOG_SHM_SUFFIX ".ttshm"

/** What the owner of a mapping last said about itself (in its header). */
enum ttlog__shm_state {
	TTLOG_SHM_RUNNING = 1,   /* the owner was running when it last wrote the state */
	TTLOG_SHM_CRASHED = 2,   /* the owner's crash handler wrote a crash snapshot */
	TTLOG_SHM_EXITING = 3    /* the owner was shutting down */
};

/** The header of a mapping, as ttlog__shm_inspect() checked and read it. */
struct ttlog__shm_info {
	int pid;
	uint32_t uid;
	uint64_t start_time;     /* the owner's start time (/proc/PID/stat field 22),
				    which tells a reused pid from the owner */
	int64_t created_ns;      /* wall-clock time the mapping was made */
	int state;               /* enum ttlog__shm_state */
	uint32_t threads;        /* rings handed out */
	uint64_t bytes;          /* size of the mapping file */
	int snapshot_signal;     /* the owner's on-demand snapshot signal; 0: none */
	char executable[PATH_MAX];
	char snapshot_dir[PATH_MAX]; /* where the owner writes its snapshots */
	uint64_t dev, ino;       /* the file the header was read from (fstat): what
				    the owner must still map to count as alive */
	int major, minor;        /* the layout version (docs/SHM-FORMAT.md) */
	int has_metrics;         /* layout 1.3 with a metrics part: the process's
				    metrics can be read from outside */
};

/**
 * Whether the process that made a mapping still runs it. Pid and start time
 * say whether the process lives; /proc/PID/maps says whether it still maps
 * the file, which exec (every exec drops every mapping, and keeps pid and
 * start time) and nothing else in ttlog undoes.
 */
enum ttlog__shm_owner {
	TTLOG_SHM_OWNER_GONE = 0,     /* no process has the pid with that start time,
					 or it is a zombie */
	TTLOG_SHM_OWNER_LIVE = 1,     /* it runs and maps the file */
	TTLOG_SHM_OWNER_EXECED = 2,   /* it runs but maps the file no more: it called
					 exec since (the file is left, as after SIGKILL) */
	TTLOG_SHM_OWNER_UNCHECKED = 3 /* it runs, and its /proc/PID/maps cannot be read
					 (a process made not dumpable, or not ours): whether
					 it still maps the file is unknown, so it counts as
					 live, the answer that never loses a mapping */
};

/** <base>/ttlog-<euid> into buf; base NULL or "" means the default. 0, or
 *  -1 if it does not fit. (libttlog) */
TTLOG_API int ttlog__shm_user_dir(const char *base, char *buf, size_t size);

/** <user dir>/<pid>.ttshm into buf. 0, or -1 if it does not fit. (libttlog) */
TTLOG_API int ttlog__shm_path(const char *base, int pid, char *buf, size_t size);

/** Reads and validates the header of the mapping at path (every field is
 *  checked, nothing is trusted). 0, or -1 with a one-line reason in err.
 *  (libttlog) */
TTLOG_API int ttlog__shm_inspect(const char *path, struct ttlog__shm_info *info, char *err,
				 size_t err_size);

/** The state letter of process pid (field 3 of /proc/PID/stat: 'R', 'S',
 *  'T', 'Z'...), or 0 if it cannot be read (no such process). (libttlog) */
TTLOG_API char ttlog__shm_process_state(int pid);

/** 1 if the process that made the mapping still runs (its pid exists, has
 *  the recorded start time and is not a zombie) and, as far as can be told,
 *  still maps the file (ttlog__shm_owner() LIVE or UNCHECKED), else 0.
 *  (libttlog) */
TTLOG_API int ttlog__shm_owner_alive(const struct ttlog__shm_info *info);

/** The owner of the mapping info was read from, as enum ttlog__shm_owner.
 *  For UNCHECKED, *maps_errno (if not NULL) receives why /proc/PID/maps
 *  could not be read; it is 0 otherwise. Reads /proc/PID/stat and, if the
 *  process lives, /proc/PID/maps (through a fixed buffer). (libttlog) */
TTLOG_API int ttlog__shm_owner(const struct ttlog__shm_info *info, int *maps_errno);

/** 1 if owner (what ttlog__shm_owner() said) counts as a live owner: LIVE,
 *  or UNCHECKED, the answer that never loses a mapping. */
static inline int ttlog__shm_owner_counts_alive(int owner)
{
	return owner == TTLOG_SHM_OWNER_LIVE || owner == TTLOG_SHM_OWNER_UNCHECKED;
}

/**
 * Writes a normal snapshot file from the mapping at map_path, whether its
 * owner still runs (records being overwritten while copied are counted as
 * torn, as in any snapshot) or is gone. reason: e.g. "recovered"; dir: the
 * directory to write to, NULL for the owner's snapshot directory. path
 * receives the file's name. Returns a TTLOG_* code; on error err holds a
 * one-line reason naming the file and what was wrong in it.
 * TTLOG_E_CORRUPT with path set (non-empty) means that some ring table or
 * dictionary entries were invalid and skipped: the snapshot at path holds
 * everything else, and err names the first entry skipped (its offset).
 * TTLOG_E_TRUNCATED with path set means that the file shrank while it was
 * read (someone truncated it): the snapshot at path holds what was read
 * before, the bytes past the new end read as zeros, and err says so
 * ("the mapping shrank to N bytes while it was read"). The caller gets
 * this error instead of a SIGBUS: while the mapping is read, a SIGBUS
 * handler is installed (the previous disposition is restored after, and
 * gets every SIGBUS that is not a read past the file's end).
 * Sampling rules and metrics are not in a mapping: the snapshot has none.
 * A dead owner's snapshot keeps the whole rings (no window).
 * It uses this process's own snapshot workspace, so it returns
 * TTLOG_E_BUSY while this process writes a snapshot of its own. Not for
 * signal context. (libttlog-read)
 */
TTLOG_API int ttlog__shm_snapshot(const char *map_path, const char *dir, const char *reason,
				  char *path, size_t path_size, char *err, size_t err_size);

/** One thread's stack, captured from outside the process (ttlog snap
 *  --stacks): raw addresses, innermost first. */
struct ttlog__thread_stack {
	uint32_t tid;
	uint32_t flags;            /* TTLOG_STACK_PC_FIRST, _TRUNCATED, _FAULTED (ttlog_reader.h) */
	uint32_t nframes;          /* at most TTLOG__EXT_MAX_FRAMES are written */
	const uint64_t *frames;
	const char *name;          /* the thread's name (/proc/PID/task/TID/comm); may be NULL */
};

/** A module mapped in that process, for the MODS chunk. */
struct ttlog__thread_module {
	const char *path;
	uint64_t bias, start, end; /* as struct ttlog_module */
	const uint8_t *build_id;   /* NULL: none */
	uint32_t build_id_len;     /* at most 64 */
};

/** What ttlog__shm_snapshot_stacks() adds to the snapshot. */
struct ttlog__ext_stacks {
	const struct ttlog__thread_stack *stacks;
	size_t nstacks;
	const struct ttlog__thread_module *modules;
	size_t nmodules;
	uint32_t origin;           /* TTLOG_STACK_ORIGIN_* of ttlog_reader.h */
};

#define TTLOG__EXT_MAX_FRAMES 128u

/**
 * ttlog__shm_snapshot() with the stacks of the process's threads (a STCK
 * chunk each, in the order given, then MODS), each labelled with its
 * thread's ring when one has the stack's tid. ext NULL: no stacks. Stacks
 * or modules past the writer's limits (128 frames, 512 modules, 96 KiB of
 * paths) are cut and counted (TRUNCATED, MODS missing). (libttlog-read)
 */
TTLOG_API int ttlog__shm_snapshot_stacks(const char *map_path, const char *dir, const char *reason,
					 const struct ttlog__ext_stacks *ext, char *path,
					 size_t path_size, char *err, size_t err_size);

/**
 * ttlog__shm_snapshot() of one trace only: the records of the trace
 * trace_hi:trace_lo and the spans and contexts that enclose them, with a
 * TRCE chunk (docs/FORMAT.md 22) that counts what was left out. The events
 * kept and left out go to *kept_events and *left_events (either may be
 * NULL). (libttlog-read)
 */
TTLOG_API int ttlog__shm_snapshot_trace(const char *map_path, const char *dir, const char *reason,
					uint64_t trace_hi, uint64_t trace_lo, uint64_t *kept_events,
					uint64_t *left_events, char *path, size_t path_size,
					char *err, size_t err_size);

/**
 * Sets the redaction rules, in TTLOG_REDACT's syntax (NULL, "" or "none":
 * no rules), that every snapshot this process writes from then on applies,
 * those of ttlog__shm_snapshot() and ttlog__core_snapshot() included: a
 * mapping or a core does not carry its process's rules. Returns TTLOG_OK,
 * or TTLOG_E_CONFIG with the message (naming the bad rule or the position
 * in a pattern) in err. Not while a snapshot is written; not for signal
 * context. (libttlog)
 */
TTLOG_API int ttlog__snapshot_redact(const char *spec, char *err, size_t err_size);

/**
 * Writes a normal snapshot file, with the reason "core", into directory
 * dir from the core dump at core_path of a process that linked ttlog (in
 * private or shared-memory mode): the core anchor in the library's data
 * (docs/CORE-FORMAT.md) is found in the core's PT_LOAD segments and leads
 * to the rings, the call-site descriptions and the clock calibration.
 * exe_path (may be NULL) is the program that dumped it, read for call-site
 * strings the core does not hold. path receives the file's name. Returns
 * a TTLOG_* code with a one-line reason in err: TTLOG_E_OPEN (cannot read
 * a file), TTLOG_E_NOT_TTLOG (not an ELF core, or no anchor: no ttlog in
 * the process), TTLOG_E_NOT_INITIALIZED (ttlog_init() had not finished),
 * TTLOG_E_VERSION (another machine type, or another ttlog's layout),
 * TTLOG_E_TRUNCATED (with path empty: nothing usable; with path set: the
 * core was cut, the snapshot holds what it has), TTLOG_E_CORRUPT with path
 * set (some rings or sites were skipped: err names the first). TTLOG_OK
 * with err non-empty: a note (e.g. times estimated for a core of another
 * boot). Not for signal context. (libttlog-read)
 */
TTLOG_API int ttlog__core_snapshot(const char *core_path, const char *exe_path, const char *dir,
				   char *path, size_t path_size, char *err, size_t err_size);

/** The name the library gives signal signo ("SIGSEGV" for SIGSEGV, ...),
 *  which its snapshot-signal handler uses as the snapshot's reason; NULL
 *  for a signal it does not know. (libttlog) */
TTLOG_API const char *ttlog__signal_name(int signo);

TTLOG__EXTERN_C_END

#endif /* TTLOG_TOOLS_H */
