/* SPDX-License-Identifier: MIT */
/*
 * ttlog.h - the public interface of ttlog, a time-travel debug logger.
 *
 * A program logs at debug detail all the time into per-thread in-memory
 * rings; a log call stores only a timestamp, a call-site id and the raw
 * argument values. When the program crashes, or asks, or an operator asks,
 * the recent history of every thread is written to a snapshot file that the
 * `ttlog` command (or the reader API in <ttlog_reader.h>) turns into text.
 *
 * Contents of this header, in order:
 *   1. Version
 *   2. Levels and error codes
 *   3. Configuration and life cycle
 *   4. Snapshots and statistics
 *   5. The logging macros
 *   6. Internals the macros expand to, in <ttlog/impl.h> (not API: names
 *      start with ttlog__ or TTLOG__)
 *
 * Thread safety: every function may be called from any thread. Functions
 * that are also async-signal-safe say so.
 *
 * Requires C11 (gcc >= 5 or clang >= 3.9) or C++17 (g++ >= 8, clang++ >=
 * 6), ISO or GNU dialect (-std=c11, gnu11, c++17, ...: the macros compile
 * without a -pedantic warning in each), a little-endian 64-bit target, and
 * Linux.
 */
#ifndef TTLOG_H
#define TTLOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The same header serves C and C++. The only differences are spelled out
 * here (atomics, alignment, static assertions, `auto`) and in section 6b
 * of <ttlog/impl.h>, where C picks each argument's encoding with _Generic
 * and C++ with templates. Both produce the same records.
 */
#ifdef __cplusplus
#if __cplusplus < 201703L
#error "ttlog.h: C++ code needs C++17 or later"
#endif
#include <atomic>
#include <type_traits>
#define TTLOG__ATOMIC(type) std::atomic<type>
#define TTLOG__LOAD(obj, order) (obj).load(std::memory_order_##order)
#define TTLOG__STORE(obj, value, order) (obj).store((value), std::memory_order_##order)
#define TTLOG__THREAD_FENCE(order) std::atomic_thread_fence(std::memory_order_##order)
#define TTLOG__STATIC_ASSERT static_assert
#define TTLOG__ALIGNAS(n) alignas(n)
#define TTLOG__AUTO auto
#define TTLOG__EXTERN_C_BEGIN extern "C" {
#define TTLOG__EXTERN_C_END }
#else
#include <stdatomic.h>
#define TTLOG__ATOMIC(type) _Atomic type
#define TTLOG__LOAD(obj, order) atomic_load_explicit(&(obj), memory_order_##order)
#define TTLOG__STORE(obj, value, order) atomic_store_explicit(&(obj), (value), memory_order_##order)
#define TTLOG__THREAD_FENCE(order) atomic_thread_fence(memory_order_##order)
#define TTLOG__STATIC_ASSERT _Static_assert
#define TTLOG__ALIGNAS(n) _Alignas(n)
#define TTLOG__AUTO __extension__ __auto_type
#define TTLOG__EXTERN_C_BEGIN
#define TTLOG__EXTERN_C_END
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ttlog.h: only little-endian targets are supported (records are stored in native order)"
#endif

#if defined(TTLOG_BUILDING_LIBRARY)
#define TTLOG_API __attribute__((visibility("default")))
#else
#define TTLOG_API
#endif

TTLOG__EXTERN_C_BEGIN

/* ===================================================================== */
/* 1. Version                                                            */
/* ===================================================================== */

#define TTLOG_VERSION_MAJOR 0
#define TTLOG_VERSION_MINOR 4
#define TTLOG_VERSION_PATCH 0
#define TTLOG_VERSION_NUMBER \
	(TTLOG_VERSION_MAJOR * 10000 + TTLOG_VERSION_MINOR * 100 + TTLOG_VERSION_PATCH)
#define TTLOG__STR2(x) #x
#define TTLOG__STR(x) TTLOG__STR2(x)
#define TTLOG_VERSION_STRING                                          \
	TTLOG__STR(TTLOG_VERSION_MAJOR) "." TTLOG__STR(TTLOG_VERSION_MINOR) "." \
		TTLOG__STR(TTLOG_VERSION_PATCH)

/** The version of the library actually linked, as TTLOG_VERSION_NUMBER. */
TTLOG_API unsigned ttlog_version_number(void);
/** The version of the library actually linked, as "MAJOR.MINOR.PATCH". */
TTLOG_API const char *ttlog_version_string(void);

/* ===================================================================== */
/* 2. Levels and error codes                                             */
/* ===================================================================== */

/* Values are stored in snapshot files: never renumber. */
enum ttlog_level {
	TTLOG_LEVEL_TRACE = 0,
	TTLOG_LEVEL_DEBUG = 1,
	TTLOG_LEVEL_INFO = 2,
	TTLOG_LEVEL_WARN = 3,
	TTLOG_LEVEL_ERROR = 4,
	TTLOG_LEVEL_FATAL = 5,
	TTLOG_LEVEL_OFF = 6 /* as a minimum level: log nothing */
};

/** "TRACE", "DEBUG", ... for a level, or "?" for anything else. */
TTLOG_API const char *ttlog_level_name(int level);
/**
 * Parses a level name, case-insensitively ("trace" ... "fatal", "off",
 * also "warning"). Returns the level, or -1 if the name is not a level.
 */
TTLOG_API int ttlog_level_parse(const char *name);

/*
 * Error codes. Every public function that can fail returns one of these,
 * negated-free: 0 is success, the codes are positive. Values are pinned.
 */
#define TTLOG_ERROR_TABLE(X)                                                          \
	X(TTLOG_OK, 0, "success")                                                     \
	X(TTLOG_E_INVALID, 1, "invalid argument")                                     \
	X(TTLOG_E_CONFIG, 2, "invalid configuration value")                           \
	X(TTLOG_E_NOMEM, 3, "out of memory")                                          \
	X(TTLOG_E_NOT_INITIALIZED, 4, "ttlog_init() has not been called")             \
	X(TTLOG_E_ALREADY_INITIALIZED, 5, "ttlog_init() was already called")          \
	X(TTLOG_E_BUSY, 6, "another snapshot is being written")                       \
	X(TTLOG_E_IO, 7, "input/output error")                                        \
	X(TTLOG_E_DIR, 8, "snapshot directory cannot be created or is unsafe")        \
	X(TTLOG_E_SIGNAL, 9, "signal handler could not be installed")                 \
	X(TTLOG_E_TRUNCATED, 10, "file is truncated")                                 \
	X(TTLOG_E_CORRUPT, 11, "file is corrupt")                                     \
	X(TTLOG_E_VERSION, 12, "file needs a newer ttlog (unsupported version or flag)") \
	X(TTLOG_E_NOT_TTLOG, 13, "not a ttlog snapshot file")                         \
	X(TTLOG_E_OPEN, 14, "file cannot be opened")                                  \
	X(TTLOG_E_RANGE, 15, "buffer too small")                                      \
	X(TTLOG_E_NO_TRACE, 16, "no span is open and no trace is continued")           \
	X(TTLOG_E_KEY, 17, "file is encrypted: no key given, or not the key it was sealed to")

enum ttlog_error {
#define TTLOG__ENUM(name, value, text) name = value,
	TTLOG_ERROR_TABLE(TTLOG__ENUM)
#undef TTLOG__ENUM
};

/** A static, human-readable text for an error code; never NULL. */
TTLOG_API const char *ttlog_strerror(int error);

/* ===================================================================== */
/* 3. Configuration and life cycle                                       */
/* ===================================================================== */

/*
 * Configuration. Fill it with ttlog_config_init() and change what you need;
 * a zero field means "use the default". Environment variables override the
 * struct (so an operator has the last word); ttlog_config_var() lists them,
 * and so do `ttlog help env` and README.md.
 * The struct only ever grows at the end; struct_size tells the library
 * which fields the caller knows.
 */
struct ttlog_config {
	size_t struct_size;     /* sizeof(struct ttlog_config), set by ttlog_config_init */
	const char *dir;        /* snapshot directory; default $XDG_RUNTIME_DIR/ttlog or /tmp/ttlog-UID */
	size_t ring_size;       /* bytes per thread ring; default 1 MiB, min 1 KiB */
	size_t memory_cap;      /* bytes of all rings together; default 64 MiB */
	uint32_t max_string;    /* %s arguments are truncated after this many bytes; default 256 */
	uint64_t window_ns;     /* snapshots keep only the last window_ns of history; 0 = all */
	int min_level;          /* runtime minimum level; default TTLOG_LEVEL_TRACE */
	const char *levels;     /* per-target levels, "net=debug,db=warn"; may start with a bare level */
	int crash_signals;      /* 1 = install crash handlers (default), -1 = do not */
	uint64_t signal_mask;   /* which crash signals (bit n = signal n, 1..63); 0 = the default set */
	int snapshot_signal;    /* signal that takes an on-demand snapshot; 0 = none (default) */
	const char *sample;     /* sampling rules, "net=1/100,db.c:42=500/s"; see ttlog_set_sampling() */
	uint32_t max_snapshots; /* snapshot files kept in dir (all processes); 0 = default 100,
	                           UINT32_MAX = no limit. See "Snapshot retention" below */
	uint64_t max_snapshot_bytes; /* their total size; 0 = default 256 MiB, UINT64_MAX = no limit */
	/* Shared-memory mode (TTLOG_SHARED_MEMORY, TTLOG_SHARED_DIR): 1 puts
	 * the rings, thread table and call sites in the file
	 * <shared_dir>/ttlog-<uid>/<pid>.ttshm (a MAP_SHARED mapping, mode
	 * 0600), so that `ttlog snap PID` can write a snapshot of a running or
	 * hung process and `ttlog recover` one of a process killed without a
	 * crash snapshot (SIGKILL, the OOM killer). The file is removed at a
	 * normal exit and after a crash snapshot. Log calls cost the same.
	 * ttlog_init fails (TTLOG_E_DIR, TTLOG_E_NOMEM) if the file cannot be
	 * made. Default 0: private memory. */
	int shared_memory;
	const char *shared_dir; /* base directory of the mappings; default /dev/shm */
	/* The service's name (TTLOG_SERVICE), written in every snapshot and
	 * stream segment and used in segment file names; at most 64 bytes.
	 * NULL or "": the executable's base name. */
	const char *service;
	/* Streaming mode (TTLOG_STREAM and the variables after it; README's
	 * "Streaming", docs/GUIDE.md): a background thread writes the records
	 * at or above stream_level to rotating segment files in this
	 * directory. NULL: off (the default). */
	const char *stream;
	const char *stream_level;   /* per-target levels like `levels`; default "info" */
	uint64_t segment_size;      /* a segment is closed at this size; default 64 MiB */
	uint64_t segment_age_ns;    /* ... or at this age; default 1 hour */
	const char *stream_sync;    /* "none", "segment" (default) or "interval:1s" */
	uint64_t stream_max_bytes;  /* segments of this service kept; 0 = default 1 GiB,
	                               UINT64_MAX = no limit */
	uint64_t stream_max_age_ns; /* 0 = default 7 days, UINT64_MAX = no limit */
	uint32_t stream_max_files;  /* 0 = no limit (the default) */
	int stream_policy;          /* 0 drop (default): lost records are counted; 1 block:
	                               a thread about to overwrite records the stream has
	                               not read waits for it in its slow path */
	int flush_signals;          /* SIGTERM and SIGINT close the stream first: 0 = on in
	                               stream mode (default), 1 = on, -1 = off */
	/* Promotion: a log call at or above promote_level also streams the
	 * records below stream_level from promote_before_ns before it to
	 * promote_after_ns after it, of its thread, and of the other threads'
	 * records in the same trace (its innermost span's), at most
	 * promote_max times a second. */
	int promote_level;          /* 0 = default TTLOG_LEVEL_ERROR; TTLOG_LEVEL_OFF: never */
	int promote_scope;          /* 0 = default: the thread and its trace; 1 the thread
	                               only; 2 every thread */
	uint64_t promote_before_ns; /* 0 = default 2 s */
	uint64_t promote_after_ns;  /* 0 = default 500 ms */
	uint32_t promote_max;       /* 0 = default 10; UINT32_MAX = no limit */
	/* Encryption at rest (TTLOG_ENCRYPT_KEY; README's "Encrypted files"):
	 * the path of a public key file made by `ttlog keygen`. Every
	 * snapshot and stream segment is then sealed to that key, and only
	 * its private key (`ttlog --key`) reads them. NULL or "": off. */
	const char *encrypt_key;

	/* How event blocks are stored (README's "Safe files"): "lz4", "packed"
	 * (by record type), "zstd" or "zstd:LEVEL" (1 to 19, default 3, over
	 * the packed form), "none". compression: snapshots, and segments unless
	 * stream_compression says otherwise. NULL: lz4 for snapshots, packed
	 * for segments. */
	const char *compression;
	const char *stream_compression;
	/* Values that never reach a file (TTLOG_REDACT, README's "Safe
	 * files"): "password,token,card*,arg:2@db.c:42": structured fields
	 * whose key matches a glob, and argument N of the call at FILE:LINE.
	 * Replaced by "[REDACTED n]" (numbers by 0) when a snapshot or segment
	 * is written; the log call costs the same. NULL: none. */
	const char *redact;
	/* The watchdog (TTLOG_WATCHDOG, README's "Hang forensics"): a thread
	 * inside a span whose ring has not moved for watchdog_ns is stalled;
	 * a low-rate timer (the stream's thread when streaming, else one of
	 * its own) then writes one snapshot, reason "watchdog", with the
	 * stalled threads' stacks, once per stall. 0: off (the default; no
	 * thread, no signal); at least 100 ms. */
	uint64_t watchdog_ns;
	/* Triggers (TTLOG_TRIGGER, README's "Triggers"): rules separated by
	 * ';' such as "level>=error post=2s action=snapshot,stderr" or
	 * "metric http.latency_ms p99>250 over=10s", evaluated by a low-rate
	 * timer inside the process; TTLOG_TRIGGER's rules are added to these.
	 * A bad rule is reported on stderr and left out; the others apply.
	 * NULL: none (the default; no timer). */
	const char *trigger;
	/* Call sites that get an id (TTLOG_MAX_SITES, README's
	 * "Configuration"): 1 to 65535, the default and the most. A site
	 * whose first call comes once that many have registered is disabled
	 * for good and counted (ttlog_stats.dropped_sites, `ttlog stats`'
	 * "sites without an id"). 0: the default. */
	uint32_t max_sites;
};

/** Fills *config with the defaults (all zero plus struct_size). */
TTLOG_API void ttlog_config_init(struct ttlog_config *config);

/*
 * One TTLOG_* environment variable that ttlog_init() reads, described for
 * people: for a program's own help text, or a tool's (`ttlog help env`
 * prints these). Every string is static and never NULL. The struct only
 * ever grows at the end.
 */
struct ttlog_config_var {
	const char *name;          /* "TTLOG_RING_SIZE" */
	const char *field;         /* the struct ttlog_config fields it overrides,
	                              "ring_size"; "" when it has none */
	const char *default_value; /* what applies when neither sets it: "1M" */
	const char *values;        /* what it accepts, as ttlog_init_error() says
	                              it: "a size such as 1M or 65536" */
	const char *summary;       /* what it does, in one line */
};

/**
 * The index-th environment variable ttlog_init() reads (from 0), in the
 * order it reads them, or NULL past the last. Needs no ttlog_init().
 */
TTLOG_API const struct ttlog_config_var *ttlog_config_var(size_t index);

/**
 * Starts ttlog: reads the environment, reserves the memory the crash path
 * needs, calibrates the clock and installs the signal handlers.
 * config may be NULL (defaults plus environment).
 * Returns TTLOG_OK, TTLOG_E_ALREADY_INITIALIZED, TTLOG_E_CONFIG (bad value,
 * in the struct or the environment), TTLOG_E_NOMEM, TTLOG_E_DIR or
 * TTLOG_E_SIGNAL. Log calls made before ttlog_init() are counted in
 * ttlog_stats().dropped_uninitialized and otherwise ignored.
 */
TTLOG_API int ttlog_init(const struct ttlog_config *config);

/**
 * Stops recording and restores the signal handlers that were installed
 * before ttlog_init(). Rings stay allocated (threads may still hold them);
 * later log calls are disabled at their call site (one branch, like a
 * level below the minimum). ttlog_init() may be called again afterwards.
 * Returns TTLOG_OK or TTLOG_E_NOT_INITIALIZED.
 */
TTLOG_API int ttlog_shutdown(void);

/**
 * Adds trigger rules at run time, in TTLOG_TRIGGER's language (README's
 * "Triggers"), starting the timer that evaluates them if none runs. All or
 * nothing: if one rule is bad, none is added and err (if not NULL)
 * receives the reason, naming the rule and the column. Returns TTLOG_OK,
 * TTLOG_E_NOT_INITIALIZED, TTLOG_E_INVALID (rules NULL), TTLOG_E_CONFIG (a
 * bad rule) or TTLOG_E_NOMEM (32 rules already, or no thread).
 */
TTLOG_API int ttlog_trigger_add(const char *rules, char *err, size_t err_size);

/** Sets the runtime minimum level for targets that have no level of their own. */
TTLOG_API int ttlog_set_level(int level);
/** The runtime minimum level set by config, TTLOG_LEVEL or ttlog_set_level(). */
TTLOG_API int ttlog_get_level(void);
/**
 * Sets the minimum level of one target (the TTLOG_TARGET of a file, or a
 * source file's base name such as "net.c"). level -1 removes the target's
 * own level. Returns TTLOG_E_INVALID for a bad level or an empty name,
 * TTLOG_E_NOMEM when 64 targets already have levels.
 */
TTLOG_API int ttlog_set_target_level(const char *target, int level);

/**
 * Sampling and rate limits: keep 1 call in keep_one_in, and/or at most
 * max_per_second calls per second, of the call sites that selector names:
 *   "net"          a target (as for ttlog_set_target_level())
 *   "db.c:42"      one call site: FILE:LINE, FILE being the site's __FILE__
 *                  or its base name (every site on that line)
 *   "*"            every call site
 * 0 means "no limit of that kind"; (1, 0) removes the selector's rule. The
 * most specific rule wins: a site's own, else its target's, else "*"'s.
 * 1-in-N keeps the first call and then every N-th (exactly, across
 * threads); the rate limit, applied to what 1-in-N kept, allows at most
 * max_per_second calls in each one-second window of ttlog's clock (so up to
 * twice that in a second that straddles two windows). Every call dropped is
 * counted: ttlog_get_stats() and every snapshot have the counts. Levels
 * apply first (a call below its level is not sampled, just disabled), and
 * context pushes are never sampled. Takes effect at once, for sites that
 * already ran and those to come. An enabled site without a rule costs
 * nothing more; a sampled call costs a function call and an atomic counter.
 * Also set by TTLOG_SAMPLE="net=1/100,db.c:42=500/s,http=1/10+200/s" and
 * struct ttlog_config.sample. Returns TTLOG_OK, TTLOG_E_INVALID (NULL or
 * empty selector, longer than 63 bytes, a LINE of 0) or TTLOG_E_NOMEM (64
 * selectors have rules already).
 */
TTLOG_API int ttlog_set_sampling(const char *selector, uint32_t keep_one_in, uint32_t max_per_second);

/* ===================================================================== */
/* 4. Snapshots and statistics                                           */
/* ===================================================================== */

/**
 * Writes the recent history of every thread to
 * <dir>/ttlog-<pid>-<UTC time>-<reason>.ttlog (written under a temporary
 * name, fsync'd, then hard-linked to its final name, which never replaces an
 * existing file: nobody sees half a file). reason may be NULL
 * ("manual"); characters other than [A-Za-z0-9._-] become '_'.
 * Async-signal-safe. Returns TTLOG_OK, TTLOG_E_NOT_INITIALIZED, TTLOG_E_BUSY
 * (a snapshot is already being written), TTLOG_E_DIR or TTLOG_E_IO.
 */
TTLOG_API int ttlog_snapshot(const char *reason);

/**
 * As ttlog_snapshot(), and copies the path of the new file (NUL-terminated)
 * into path[0..path_size-1] when path is not NULL. Async-signal-safe.
 * Returns TTLOG_E_RANGE (after writing the file) if the path does not fit.
 */
TTLOG_API int ttlog_snapshot_path(const char *reason, char *path, size_t path_size);

/*
 * Snapshot retention. After each snapshot it writes (on request, on the
 * snapshot signal or on a crash) and at ttlog_init(), ttlog removes
 * snapshot files from the directory until at most max_snapshots files and
 * max_snapshot_bytes bytes remain (struct ttlog_config, TTLOG_MAX_SNAPSHOTS,
 * TTLOG_MAX_SNAPSHOT_BYTES): snapshots not written by a crash first, then
 * crash snapshots, oldest first (by the time in the name) in each group.
 * The file just written is never removed. The limits are per directory:
 * files of other processes count and are removed like this one's. Only
 * regular files named ttlog-<pid>-<time>-<reason>[-N].ttlog count.
 * ttlog_stats.snapshots_pruned counts the removals.
 */

/**
 * As ttlog_snapshot(), and the file also holds the calling thread's stack
 * as raw return addresses (innermost first, the first being the return
 * address into the function that called ttlog_snapshot_with_stack(); at
 * most 128, the rest counted as cut) and the modules loaded in the process
 * (path, load address, build-id), so that `ttlog` can name the functions
 * later; no registers. Not async-signal-safe: it may read the loader's
 * module list, under the loader's lock. Returns what ttlog_snapshot()
 * returns.
 */
TTLOG_API int ttlog_snapshot_with_stack(const char *reason);

/**
 * As ttlog_snapshot_with_stack(), and copies the path of the new file as
 * ttlog_snapshot_path() does. Not async-signal-safe.
 */
TTLOG_API int ttlog_snapshot_with_stack_path(const char *reason, char *path, size_t path_size);

/**
 * The directory snapshots go to when the program's configuration names none
 * (struct ttlog_config.dir NULL): TTLOG_DIR if it is set and not empty (made
 * absolute against the working directory), else $XDG_RUNTIME_DIR/ttlog when
 * XDG_RUNTIME_DIR is an absolute path, else /tmp/ttlog-<euid>; without a
 * trailing '/'. For tools that look for snapshots (`ttlog ls`); it neither
 * creates nor checks the directory and needs no ttlog_init(). Copies the
 * path, NUL-terminated, into buf[0..size-1]. Returns TTLOG_OK,
 * TTLOG_E_INVALID (buf NULL or size 0) or TTLOG_E_RANGE (the path does not
 * fit; buf is then "").
 */
TTLOG_API int ttlog_default_dir(char *buf, size_t size);

/**
 * Counters of everything ttlog had to drop or skip, since ttlog_init().
 * Filled by ttlog_get_stats(); the caller allocates it. It only grows into
 * its reserved tail, so its size does not change between releases.
 */
struct ttlog_stats {
	uint64_t events_overwritten;    /* oldest records replaced by newer ones (all rings) */
	uint64_t dropped_uninitialized; /* log calls before ttlog_init() or after shutdown */
	uint64_t dropped_no_ring;       /* log calls of threads that got no ring (memory cap) */
	uint64_t dropped_sites;         /* call sites disabled for good: no id left (max_sites) */
	uint64_t snapshots_written;
	uint64_t snapshots_failed;
	uint64_t snapshots_busy;        /* requests refused because one was in progress */
	uint64_t torn_records;          /* records overwritten while a snapshot copied them */
	uint32_t rings;                 /* rings allocated */
	uint32_t sites;                 /* call sites registered */
	uint64_t dropped_sampled;       /* log calls a 1-in-N rule dropped (ttlog_set_sampling) */
	uint64_t dropped_rate_limited;  /* log calls a rate limit dropped (ttlog_set_sampling) */
	uint32_t metrics;               /* metrics registered (TTLOG_COUNTER_ADD & co.) */
	uint32_t metrics_refused;       /* metrics refused: no room left (see "Metrics") */
	uint64_t metrics_rejected;      /* metric sites disabled: bad name or labels, or a
	                                   name already used with another type */
	uint64_t snapshots_pruned;      /* snapshot files this process removed to keep the
	                                   directory within max_snapshots / max_snapshot_bytes */
	uint64_t dropped_during_crash;  /* log calls of other threads refused while the crash
	                                   handler wrote its snapshot, so that they could not
	                                   overwrite the history being saved */
	/* Streaming mode (TTLOG_STREAM); these took the places of the reserved
	 * tail, so the struct keeps its size (184 bytes). */
	uint64_t stream_events;         /* records written to segments */
	uint64_t stream_lost;           /* records the stream never wrote: gone from the ring
	                                   before it read them, or not writable (disk) */
	uint64_t stream_filtered;       /* records below TTLOG_STREAM_LEVEL left in the rings,
	                                   counted once no promotion can take them */
	uint64_t stream_promoted;       /* records below the level written around an error */
	uint64_t stream_segments;       /* segment files closed (or abandoned after an error) */
	uint64_t stream_segments_deleted; /* segments removed by the stream's retention */
	uint64_t stream_bytes;          /* bytes of those segments */
	uint64_t stream_errors;         /* writes or creations that failed (stderr said why once) */
};

/**
 * Why the last ttlog_init() failed, naming the setting and the value, e.g.
 * "TTLOG_RING_SIZE: expected a size such as 1M, got 'abc'"; "" if it did not.
 */
TTLOG_API const char *ttlog_init_error(void);

/** Fills *stats. Returns TTLOG_E_INVALID if stats is NULL. */
TTLOG_API int ttlog_get_stats(struct ttlog_stats *stats);

/*
 * Directories the last ttlog_init() refused and worked around, as
 * TTLOG_REFUSED_* bits (0: none). A default directory that another user
 * created, that is a symbolic link, a file or a FIFO, or that others can
 * write does not switch ttlog off: init prints one line on stderr saying
 * what it refused and why, and
 *   TTLOG_REFUSED_SNAPSHOT_DIR: snapshots go to a new private directory
 *     made beside it (named on that line), or nowhere if none can be made;
 *   TTLOG_REFUSED_SHARED_DIR: the rings are in private memory, so
 *     `ttlog snap` and `ttlog recover` cannot reach this process.
 * The snapshots' self metrics say the same (ttlog_dirs_refused).
 */
#define TTLOG_REFUSED_SNAPSHOT_DIR 1u
#define TTLOG_REFUSED_SHARED_DIR 2u
TTLOG_API unsigned ttlog_refused_dirs(void);

/* ===================================================================== */
/* 5. The logging macros                                                 */
/* ===================================================================== */

/*
 * TTLOG_INFO("request id=%d latency=%f path=%s", id, ms, path);
 *
 * The format must be a string literal; it is checked by the compiler like
 * printf's. Arguments are evaluated once, and only if the call is enabled.
 * Up to 16 arguments. Supported: every integer type, char, bool, float,
 * double, long double (exactly, as its 80 bits, on x86), pointers (%p) and C strings
 * (%s: char pointers are always recorded as strings, NULL-safe, truncated
 * after max_string bytes; cast to (void *) to log a char pointer's address).
 *
 * Calls below TTLOG_COMPILE_MIN_LEVEL (define it before including this
 * header; default TRACE) are removed by the compiler. Define TTLOG_TARGET
 * to a string literal before including this header to give a file's call
 * sites a target name; by default the target is the file's base name.
 */
#ifndef TTLOG_COMPILE_MIN_LEVEL
#define TTLOG_COMPILE_MIN_LEVEL TTLOG_LEVEL_TRACE
#endif

#define TTLOG_TRACE(...) TTLOG_LOG(TTLOG_LEVEL_TRACE, __VA_ARGS__)
#define TTLOG_DEBUG(...) TTLOG_LOG(TTLOG_LEVEL_DEBUG, __VA_ARGS__)
#define TTLOG_INFO(...) TTLOG_LOG(TTLOG_LEVEL_INFO, __VA_ARGS__)
#define TTLOG_WARN(...) TTLOG_LOG(TTLOG_LEVEL_WARN, __VA_ARGS__)
#define TTLOG_ERROR(...) TTLOG_LOG(TTLOG_LEVEL_ERROR, __VA_ARGS__)
#define TTLOG_FATAL(...) TTLOG_LOG(TTLOG_LEVEL_FATAL, __VA_ARGS__)

/** Logs at a level given as a constant expression. */
#define TTLOG_LOG(level, ...) TTLOG__LOG(level, __VA_ARGS__)

/*
 * Fields. An event carries named, typed values besides its message:
 *
 *   TTLOG_INFO("auth.login ok user=%u ip=%s", uid, ip);        (1)
 *   TTLOG_INFO("login", TTLOG_F("user_id", uid), TTLOG_F("ip", ip));   (2)
 *
 * (1) A conversion written right after "key=" in the format is also the
 *     field `key`, with the argument's type. The viewer works this out from
 *     the format, once per call site; the call is an ordinary log call.
 * (2) TTLOG_F(name, value) is a field that is not part of the message. The
 *     name must be a string literal; the value is recorded exactly like a
 *     message argument of the same type (same bytes, same cost). Put
 *     fields after the format's arguments: the compiler then checks the
 *     format against the arguments before them. Fields count towards the
 *     16 arguments of a call.
 *
 * The name is found in the argument's source text when a snapshot is
 * written (the site keeps that text), so TTLOG_F also works through macros
 * that forward their arguments to TTLOG_INFO and friends.
 */
#define TTLOG_F(name, value) ((void)"ttlog:field" name, (value))

/*
 * Thread context: fields that every event of the calling thread carries
 * while they are pushed, such as a request id.
 *
 *   TTLOG_CONTEXT("request_id", req->id);    scoped: popped when the
 *                                            enclosing block ends, also
 *                                            by return, break or goto
 *   TTLOG_CONTEXT_PUSH("user", name);        explicit...
 *   ttlog_context_pop();                     ...and its end
 *
 * The key must be a string literal; the value is any type a log argument
 * may have, recorded once, when pushed (strings are copied then). Events
 * store nothing more: the push and the pop are records in the thread's ring,
 * and the viewer gives each event the contexts open at its time, innermost
 * first when keys repeat. A context stays visible after its push record was
 * overwritten: whenever the ring moves to its next segment (the unit in
 * which old records are dropped), it first re-states the open contexts.
 * Up to TTLOG_SCOPES_MAX contexts and spans per thread together (with at
 * most 8 KiB of their records) are re-stated; deeper contexts are recorded
 * and shown all the same until the ring drops their push. Contexts are
 * never disabled by levels. Pushing costs about as much as a log call with
 * one argument, plus a copy of the record.
 */
#define TTLOG_SCOPES_MAX 64
#define TTLOG_CONTEXT_PUSH(key, value) ((void)TTLOG__CONTEXT_PUSH(key, value))
#define TTLOG_CONTEXT(key, value)                                                         \
	__attribute__((cleanup(ttlog__context_cleanup), unused)) uint32_t TTLOG__CAT(     \
		ttlog__context_, __COUNTER__) = TTLOG__CONTEXT_PUSH(key, value)

/**
 * Ends the calling thread's innermost context pushed with
 * TTLOG_CONTEXT_PUSH(); does nothing if none is open.
 */
TTLOG_API void ttlog_context_pop(void);

/** How many contexts the calling thread has open. */
TTLOG_API unsigned ttlog_context_depth(void);

/*
 * Spans: named, timed stretches of a thread's work that nest, with ids
 * compatible with W3C Trace Context (a 128-bit trace id shared by every
 * span of a request, a 64-bit id per span, the parent's id).
 *
 *   TTLOG_SPAN("db.query");                  scoped: ends when the block
 *                                            ends (return, break, goto too)
 *   TTLOG_SPAN("http.request", TTLOG_F("path", path));  with fields
 *   TTLOG_SPAN_BEGIN("parse");               explicit...
 *   TTLOG_SPAN_FIELD("rows", nrows);         a field learnt while it runs
 *   TTLOG_SPAN_END();                        ...and its end
 *
 * The name must be a string literal; the other arguments of a begin are
 * TTLOG_F() fields. A span started while another is open on the thread is
 * its child (same trace, parent = the open span); a span started with none
 * open begins a new trace, or continues the one given to
 * ttlog_trace_continue(). Like contexts, a begin and an end are records in
 * the thread's ring (a begin costs a log call with four 64-bit arguments
 * plus a copy of the record, and a call to draw the id), open spans are
 * re-stated at each segment start, and the viewer works out depths and
 * durations. Spans are never disabled by levels. Beyond TTLOG_SCOPES_MAX
 * open contexts and spans on a thread, a span is not recorded: its events
 * belong to the enclosing span.
 */
#define TTLOG_SPAN_BEGIN(...) ((void)TTLOG__SPAN_BEGIN(__VA_ARGS__))
#define TTLOG_SPAN(...)                                                                \
	__attribute__((cleanup(ttlog__span_cleanup), unused)) uint32_t TTLOG__CAT(      \
		ttlog__span_, __COUNTER__) = TTLOG__SPAN_BEGIN(__VA_ARGS__)
#define TTLOG_SPAN_END() ttlog_span_end()
#define TTLOG_SPAN_FIELD(key, value) TTLOG__SPAN_FIELD(key, value)

/** Ends the calling thread's innermost span; does nothing if none is open. */
TTLOG_API void ttlog_span_end(void);

/** How many spans the calling thread has open. */
TTLOG_API unsigned ttlog_span_depth(void);

/* Room for a traceparent string: 55 characters and the terminating NUL. */
#define TTLOG_TRACEPARENT_SIZE 56

/**
 * Writes the W3C `traceparent` of the calling thread's innermost span,
 * "00-<32 hex trace id>-<16 hex span id>-01", into buf (NUL-terminated), to
 * hand to another thread or process (an HTTP header, an environment
 * variable) that calls ttlog_trace_continue() with it. With no span open,
 * writes the trace being continued, if any. Returns TTLOG_OK,
 * TTLOG_E_RANGE (size < TTLOG_TRACEPARENT_SIZE), TTLOG_E_NO_TRACE (no span
 * open and nothing continued) or TTLOG_E_INVALID (buf is NULL).
 */
TTLOG_API int ttlog_traceparent(char *buf, size_t size);

/**
 * Makes the calling thread's next spans that have no open parent join the
 * trace of `traceparent` (W3C format, version 00, or a later version's
 * first four fields) as children of the span it names. Stays in effect
 * until the next call; NULL or "" ends it. Returns TTLOG_OK, or
 * TTLOG_E_INVALID for a malformed value (which changes nothing).
 * At ttlog_init(), a valid TRACEPARENT environment variable is continued
 * this way by every thread that has not called this function, so a child
 * process started with it joins its parent's trace.
 */
TTLOG_API int ttlog_trace_continue(const char *traceparent);

/*
 * One request out of every process: the `tracestate` member `ttlog=dump`.
 *
 * A service that fails a request adds `ttlog=dump` to the W3C `tracestate`
 * of its response (ttlog_tracestate_dump()). A caller that finds it there
 * (ttlog_tracestate_wants_dump()) calls ttlog_trace_dump() in the request's
 * span: its own events of that trace go into a snapshot named after the
 * trace (reason "trace-<32 hex digits>"), with nothing of other requests,
 * and it passes the member on in its own response, so that every process
 * up to the first caller writes its part. Nothing runs in the background:
 * each process writes its own file when it learns of the failure, from its
 * own rings, which still hold the request. To collect every process's part
 * at once, in one file merged by time, `ttlog snap --trace ID --all` reads
 * the rings of every process in shared-memory mode from outside.
 *
 * A tracestate is untrusted input, parsed strictly by the list grammar of
 * W3C Trace Context (lower-case keys of at most 256 characters, or
 * tenant@system; values of at most 256 printable characters), at most
 * TTLOG_TRACESTATE_MEMBERS_MAX members and TTLOG_TRACESTATE_MAX bytes, each
 * key once. A list that breaks a rule is malformed as a whole and, as the
 * specification requires, none of it is used.
 */
#define TTLOG_TRACESTATE_MAX 8192
#define TTLOG_TRACESTATE_MEMBERS_MAX 32

/**
 * Writes into buf (size bytes, NUL-terminated) the tracestate to return
 * upstream: "ttlog=dump" first, then the members of `tracestate` (the
 * request's, or NULL) but its own earlier ttlog member, the rightmost left
 * out beyond 32 members. Returns TTLOG_OK; TTLOG_E_INVALID (buf NULL, or a
 * malformed `tracestate`, which is then discarded: buf holds "ttlog=dump");
 * TTLOG_E_RANGE when not every member fit (buf holds those that did; with
 * size < 11, nothing).
 */
TTLOG_API int ttlog_tracestate_dump(char *buf, size_t size, const char *tracestate);

/**
 * 1 if `tracestate` is a well-formed list whose ttlog member is "dump",
 * else 0 (NULL, no such member, or a malformed list).
 */
TTLOG_API int ttlog_tracestate_wants_dump(const char *tracestate);

/**
 * Writes a snapshot of this process that holds only the events of one
 * trace, with the spans and contexts that enclose them, from every thread:
 * `trace` is 32 lower-case hex digits or a traceparent; NULL: the calling
 * thread's (its innermost span's, or the one it continues). The reason is
 * "trace-<32 hex digits>", and the file says how many events of other
 * requests it left out. path (if not NULL) receives the file's name.
 * Allocates while it runs: not for signal handlers. Returns TTLOG_OK,
 * TTLOG_E_INVALID (a malformed trace), TTLOG_E_NO_TRACE (NULL with no
 * trace on the thread), or what ttlog_snapshot() returns.
 */
TTLOG_API int ttlog_trace_dump(const char *trace, char *path, size_t path_size);
/* ---- Runtime formats ------------------------------------------------- */

/*
 * For code whose format is not a string literal: a wrapper such as
 *   void my_log(const char *fmt, ...)
 *   {
 *           va_list ap;
 *           va_start(ap, fmt);
 *           ttlog_vlog(TTLOG_LEVEL_INFO, fmt, ap);
 *           va_end(ap);
 *   }
 * forwards to ttlog, and the event is recorded as TTLOG_INFO() would record
 * it: the arguments' raw values, formatted by the reader.
 *
 * How: each distinct (level, format) becomes a call site of its own the
 * first time it is logged (the format is walked to learn its argument
 * types, and copied, so the caller's buffer may change afterwards); later
 * calls hash the format's text, find the site in a lock-free table, and
 * read the arguments with va_arg by the types found then. Cost: a hash of
 * the format (about one cycle a byte) and a probe on top of a macro's log
 * call (figures in docs/PERFORMANCE.md); the first call of a format also
 * walks and copies it. Levels, sampling and targets apply as to macro
 * sites: the sites' target is "runtime", their file "<runtime>".
 *
 * Conversions: d i o u x X b B c s p f F e E g G a A % m, flags, widths
 * and precisions (also '*' and ".*"), length modifiers hh h l ll q L j z
 * Z t, and "n$" positions (all of the format's conversions, no gaps); %m
 * prints "<?>" as in the macros' events (errno is not recorded). The
 * format must match its arguments as printf's must (the compiler checks
 * ttlog_log's as printf's). Refused, without reading any argument: %n,
 * wide strings (%ls, %S), and "n$" mixed with plain conversions; the
 * event is then recorded as "ttlog_log: format refused (REASON): FORMAT",
 * counted in ttlog_runtime_stats.refused, and the call returns
 * TTLOG_E_INVALID.
 *
 * Bound: TTLOG_RUNTIME_FORMATS_MAX runtime sites (formats, and the names
 * and keys of ttlog_span_begin_named() and ttlog_context_push_*()), texts
 * up to 4096 bytes, 1 MiB of text in all. An event beyond that, or of a
 * format with more than 16 arguments, is formatted in the call (vsnprintf)
 * and recorded as its text on one site whose format is "%s", cut at the
 * string limit (max_string) like any string; counted in
 * ttlog_runtime_stats.overflowed. Nothing is dropped.
 *
 * Thread-safe and fork-safe (no lock is taken). Not async-signal-safe:
 * the first call of a format, or one beyond the bound, uses the C library.
 * Returns TTLOG_OK (also when the level filters the event out, or before
 * ttlog_init(), where the event is counted as for the macros),
 * TTLOG_E_INVALID for a level outside TRACE..FATAL or a NULL format
 * (nothing recorded) or a refused format (recorded as above).
 */
#define TTLOG_RUNTIME_FORMATS_MAX 4096

TTLOG_API int ttlog_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TTLOG_API int ttlog_vlog(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Whether ttlog_log(level, ...) records anything now, judged by the
 * runtime site of "%s" at that level (the level of target "runtime", or
 * the global one): lets a caller skip building a message that would be
 * dropped, as the C++ stream lines of <ttlog.hpp> do. 0 for a level
 * outside TRACE..FATAL.
 */
TTLOG_API int ttlog_log_enabled(int level);

/*
 * A span whose name is known only at run time (a runtime site, as above):
 * what TTLOG_SPAN_BEGIN(name) does for a literal name. End it with
 * ttlog_span_end(). Returns the thread's span depth after it, or 0 if
 * nothing began (ttlog is off). The C++ class ttlog::span (<ttlog.hpp>) is
 * its scoped form.
 */
TTLOG_API unsigned ttlog_span_begin_named(const char *name);

/*
 * A context whose key is known only at run time: what TTLOG_CONTEXT_PUSH
 * does for a literal key, with a value of the type in the name (strings
 * are copied). Pop it with ttlog_context_pop(). Returns the thread's
 * context depth after it, or 0 if nothing was pushed. The C++ class
 * ttlog::context (<ttlog.hpp>) is its scoped form.
 */
TTLOG_API unsigned ttlog_context_push_str(const char *key, const char *value);
TTLOG_API unsigned ttlog_context_push_i64(const char *key, int64_t value);
TTLOG_API unsigned ttlog_context_push_u64(const char *key, uint64_t value);
TTLOG_API unsigned ttlog_context_push_f64(const char *key, double value);

/* The runtime site table's use (see "Runtime formats"). */
struct ttlog_runtime_stats {
	uint32_t formats;     /* runtime sites made (formats, span names, context keys) */
	uint32_t formats_max; /* TTLOG_RUNTIME_FORMATS_MAX */
	uint64_t overflowed;  /* events recorded as formatted text: the table was full,
	                         the text too long, or more than 16 arguments */
	uint64_t refused;     /* ttlog_log() calls whose format was refused (%n, ...) */
};

/** Fills *stats. Returns TTLOG_OK, or TTLOG_E_INVALID if stats is NULL. */
TTLOG_API int ttlog_get_runtime_stats(struct ttlog_runtime_stats *stats);

/* ---- Metrics ---------------------------------------------------------- */

/*
 * Counters, gauges and histograms with a static name and static labels:
 *
 *   TTLOG_COUNTER_ADD("http.requests", 1, "method=GET", "code=200");
 *   TTLOG_GAUGE_SET("queue.depth", (double)depth);
 *   TTLOG_HISTOGRAM_RECORD("http.latency_ms", ms, "route=/api");
 *
 * name: a string literal of [A-Za-z0-9_.:], at most 128 bytes, not
 * starting with a digit or with "ttlog" (reserved for ttlog's own
 * metrics); '.' becomes '_' in Prometheus output. Labels: up to 16 string
 * literals "key=value"; keys are [A-Za-z_][A-Za-z0-9_]* (not "le", not
 * starting with "__", each once), values any text. Names, labels and
 * types are checked when a use is first reached: a use that breaks a rule
 * is disabled for good and counted (ttlog_stats.metrics_rejected).
 *
 * The same name and labels used in several places are one metric. The same
 * name with another type is an error: the later use is disabled and
 * counted, the first keeps the name; so is a name that differs from another
 * only by '.' against '_'. Different labels under one name make one
 * Prometheus family.
 *
 * Counter: n is added as an unsigned 64-bit integer (wrapping). Gauge: the
 * value (a double) set last, by any thread, wins. Histogram: count, sum,
 * min and max exactly, and log-linear buckets: 64 per power of two between
 * 2^-24 (about 6e-8) and 2^40 (about 1.1e12), plus one for values at or
 * below 2^-24 (zero, negative values, NaN) and one above 2^40. A bucket
 * holds (L, U] with U = L * (1 + 1/64) at most; readers report a quantile
 * as the bucket's 2LU/(L+U), clamped to [min, max], so a quantile of
 * values inside the range is within 1/129 (0.78 %) of the true one: the
 * ceil(q * count)-th smallest value recorded.
 *
 * Cost: updates never contend. Each thread adds into a shard of its own
 * (kept with its ring, so the counts of threads that exited stay counted);
 * readers sum the shards. Once a thread is set up, an update is a few
 * loads and stores and predictable branches: no lock, no atomic
 * read-modify-write, no call. The first update of a use registers it (a
 * lock) and a thread's first update sets up its shard (it may get a ring
 * and map memory), so neither is async-signal-safe; later updates are.
 * Arguments are evaluated once, and only when the use is enabled.
 *
 * Room: up to TTLOG_METRICS_MAX metrics, and per thread a shard of 4 MiB of
 * address space reserved without backing memory (MAP_NORESERVE): a
 * counter takes 8 bytes, a gauge 16, a histogram 32 KiB, so 127
 * histograms fit. Memory is used only for the pages a thread writes. A
 * metric that does not fit is refused and counted
 * (ttlog_stats.metrics_refused).
 *
 * Updates before ttlog_init() or after ttlog_shutdown() are dropped and
 * counted in ttlog_stats.dropped_uninitialized; updates of a thread that
 * gets no ring (memory cap) in dropped_no_ring.
 *
 * Every snapshot holds the value of every metric, with ttlog's own
 * (ttlog_*: events written, overwritten and dropped, snapshots written and
 * failed, ring use per thread, ...); `ttlog view --metrics` prints them.
 */
#define TTLOG_METRICS_MAX 256

#define TTLOG_COUNTER_ADD(...)                                                             \
	do {                                                                                \
		TTLOG__METRIC(TTLOG__METRIC_COUNTER, __VA_ARGS__)                           \
		TTLOG__STORE(*ttlog__slot,                                                  \
			     TTLOG__LOAD(*ttlog__slot, relaxed) + (uint64_t)(TTLOG__SECOND(__VA_ARGS__)), \
			     relaxed);                                                      \
	} while (0)
#define TTLOG_GAUGE_SET(...)                                                    \
	do {                                                                     \
		TTLOG__METRIC(TTLOG__METRIC_GAUGE, __VA_ARGS__)                  \
		ttlog__gauge_set(ttlog__slot, (double)(TTLOG__SECOND(__VA_ARGS__))); \
	} while (0)
#define TTLOG_HISTOGRAM_RECORD(...)                                                    \
	do {                                                                            \
		TTLOG__METRIC(TTLOG__METRIC_HISTOGRAM, __VA_ARGS__)                     \
		ttlog__histogram_record(ttlog__slot, (double)(TTLOG__SECOND(__VA_ARGS__))); \
	} while (0)

/**
 * Writes every metric of the process, ttlog's own included, to fd in the
 * Prometheus text exposition format 0.0.4: "# HELP" and "# TYPE" lines per
 * family, counters and gauges, histograms as cumulative
 * NAME_bucket{le="..."} lines (one bound per power of two from the lowest
 * to the highest occupied one, then le="+Inf"), NAME_sum and NAME_count.
 * Retries short writes and EINTR. Allocates nothing and uses no stdio or
 * lock: async-signal-safe. Returns TTLOG_OK or TTLOG_E_IO.
 */
TTLOG_API int ttlog_metrics_write_prometheus(int fd);

/* ===================================================================== */
/* 6. Internals used by the macros. Not API; may change in any release.  */
/* ===================================================================== */

#include "ttlog/impl.h"

TTLOG__EXTERN_C_END

#endif /* TTLOG_H */
