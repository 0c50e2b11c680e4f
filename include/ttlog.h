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
 *   6. Internals the macros expand to (not API: names start with ttlog__)
 *
 * Thread safety: every function may be called from any thread. Functions
 * that are also async-signal-safe say so.
 *
 * Requires C11 with GNU extensions (gcc >= 5 or clang >= 3.9) or C++17
 * (g++ >= 8, clang++ >= 6), a little-endian 64-bit target, and Linux.
 */
#ifndef TTLOG_H
#define TTLOG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The same header serves C and C++. The only differences are spelled out
 * here (atomics, alignment, static assertions, `auto`) and in section 6b,
 * where C picks each argument's encoding with _Generic and C++ with
 * templates. Both produce the same records.
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
#define TTLOG__AUTO __auto_type
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
#define TTLOG_VERSION_MINOR 3
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
	X(TTLOG_E_NO_TRACE, 16, "no span is open and no trace is continued")

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

/** Counters of everything ttlog had to drop or skip, since ttlog_init(). */
struct ttlog_stats {
	uint64_t events_overwritten;    /* oldest records replaced by newer ones (all rings) */
	uint64_t dropped_uninitialized; /* log calls before ttlog_init() or after shutdown */
	uint64_t dropped_no_ring;       /* log calls of threads that got no ring (memory cap) */
	uint64_t dropped_sites;         /* call sites beyond the site table's capacity */
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
};

/**
 * Why the last ttlog_init() failed, naming the setting and the value, e.g.
 * "TTLOG_RING_SIZE: expected a size such as 1M, got 'abc'"; "" if it did not.
 */
TTLOG_API const char *ttlog_init_error(void);

/** Fills *stats. Returns TTLOG_E_INVALID if stats is NULL. */
TTLOG_API int ttlog_get_stats(struct ttlog_stats *stats);

/* ===================================================================== */
/* 5. The logging macros                                                 */
/* ===================================================================== */

/*
 * TTLOG_INFO("request id=%d latency=%f path=%s", id, ms, path);
 *
 * The format must be a string literal; it is checked by the compiler like
 * printf's. Arguments are evaluated once, and only if the call is enabled.
 * Up to 16 arguments. Supported: every integer type, char, bool, float,
 * double, long double (recorded as double), pointers (%p) and C strings
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
#define TTLOG_SPAN_BEGIN(name, ...) ((void)TTLOG__SPAN_BEGIN(name, ##__VA_ARGS__))
#define TTLOG_SPAN(name, ...)                                                          \
	__attribute__((cleanup(ttlog__span_cleanup), unused)) uint32_t TTLOG__CAT(      \
		ttlog__span_, __COUNTER__) = TTLOG__SPAN_BEGIN(name, ##__VA_ARGS__)
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

#define TTLOG_COUNTER_ADD(name, n, ...)                                                    \
	do {                                                                                \
		TTLOG__METRIC(TTLOG__METRIC_COUNTER, name, ##__VA_ARGS__)                   \
		TTLOG__STORE(*ttlog__slot, TTLOG__LOAD(*ttlog__slot, relaxed) + (uint64_t)(n), \
			     relaxed);                                                      \
	} while (0)
#define TTLOG_GAUGE_SET(name, v, ...)                                \
	do {                                                          \
		TTLOG__METRIC(TTLOG__METRIC_GAUGE, name, ##__VA_ARGS__) \
		ttlog__gauge_set(ttlog__slot, (double)(v));           \
	} while (0)
#define TTLOG_HISTOGRAM_RECORD(name, v, ...)                             \
	do {                                                              \
		TTLOG__METRIC(TTLOG__METRIC_HISTOGRAM, name, ##__VA_ARGS__) \
		ttlog__histogram_record(ttlog__slot, (double)(v));        \
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

/*
 * ThreadSanitizer does not model fences (gcc warns about them). Under TSan
 * the ring's readers are excluded from race checks (see src/ring/ring.c),
 * so only the compiler must be kept from reordering, which is all a release
 * fence does on x86-64 anyway.
 */
#if defined(__SANITIZE_THREAD__)
#define TTLOG__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TTLOG__TSAN 1
#endif
#endif
#ifdef TTLOG__TSAN
#define TTLOG__FENCE_RELEASE() __asm__ __volatile__("" ::: "memory")
#define TTLOG__FENCE_ACQUIRE() __asm__ __volatile__("" ::: "memory")
#else
#define TTLOG__FENCE_RELEASE() TTLOG__THREAD_FENCE(release)
#define TTLOG__FENCE_ACQUIRE() TTLOG__THREAD_FENCE(acquire)
#endif

/*
 * Everything a log call expands to is forced inline: the compiler's size
 * heuristics would otherwise turn the string helpers into calls in a
 * function with many log calls, and the instruction counts in
 * docs/PERFORMANCE.md assume they are not.
 */
#define TTLOG__ALWAYS_INLINE __attribute__((always_inline))
#define TTLOG__INLINE static inline TTLOG__ALWAYS_INLINE

#define TTLOG__LIKELY(x) __builtin_expect(!!(x), 1)
#define TTLOG__UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef TTLOG_TARGET
#define TTLOG__TARGET TTLOG_TARGET
#else
#define TTLOG__TARGET ((const char *)0)
#endif

/*
 * Argument type codes. They are stored in snapshot files (docs/FORMAT.md,
 * "Argument encoding"): never renumber.
 */
enum ttlog__argtype {
	TTLOG_ARG_BOOL = 1,  /* 1 byte, 0 or 1 */
	TTLOG_ARG_CHAR = 2,  /* 1 byte, a signed char (unsigned-char targets record U8) */
	TTLOG_ARG_I8 = 3,    /* 1 byte, signed char */
	TTLOG_ARG_U8 = 4,    /* 1 byte */
	TTLOG_ARG_I16 = 5,   /* 2 bytes */
	TTLOG_ARG_U16 = 6,
	TTLOG_ARG_I32 = 7,   /* 4 bytes */
	TTLOG_ARG_U32 = 8,
	TTLOG_ARG_I64 = 9,   /* 8 bytes */
	TTLOG_ARG_U64 = 10,
	TTLOG_ARG_F64 = 11,  /* 8 bytes, IEEE-754 binary64 (float and double) */
	TTLOG_ARG_LDBL = 12, /* 8 bytes, long double rounded to binary64 */
	TTLOG_ARG_PTR = 13,  /* 8 bytes, the address */
	TTLOG_ARG_STR = 14   /* u32 length and flags, then the bytes */
};

/* Flags in the high bits of a string argument's u32 length word. */
#define TTLOG__STR_TRUNCATED 0x80000000u
#define TTLOG__STR_NULL 0x40000000u
#define TTLOG__STR_LEN_MASK 0x3fffffffu
/* The highest string limit a ring ever uses (TTLOG_MAX_STRING's maximum). */
#define TTLOG__MAX_STRING_LIMIT 4000u

/*
 * A call site. One static instance per TTLOG_* use; everything about the
 * call that does not change between calls lives here, so that a log call
 * stores only (size, site id, time, argument bytes).
 *
 * `word` is the only field that changes after compile time:
 *   0                   not registered yet: the first call registers it
 *   bit 0 (ENABLED)     calls log
 *   bit 1 (ASK)         sampled: each call asks ttlog__register() whether
 *                       to log (ttlog_set_sampling)
 *   bit 2 (OFF)         disabled (by level, by ttlog_shutdown(), or, with
 *                       no id, because the site table is full)
 *   bits 3-31           zero
 *   bits 32-63          the site id once registered
 * Exactly one of bits 0-2 is set in a registered site's word. The id sits
 * where a record header keeps it (docs/FORMAT.md "Records": u32 size, then
 * u32 site id), so the header of an enabled site's record is word - 1 +
 * size: one addition on the hot path. A disabled call costs one load and
 * two predictable branches (bit 0, then bit 2); an unregistered or sampled
 * call falls through both to the function call.
 */
struct ttlog_site {
	TTLOG__ATOMIC(uint64_t) word;
	uint8_t level;
	uint8_t nargs;
	uint8_t kind;                /* TTLOG__KIND_*: what a record of this site means */
	uint8_t reserved;            /* zero; keeps the layout explicit */
	uint32_t line;
	const uint8_t *arg_types;    /* nargs entries of enum ttlog__argtype */
	const char *format;
	const char *file;
	const char *function;
	const char *target;          /* NULL: the file's base name */
	/* The source text of each argument after macro expansion, each ended
	 * by a NUL: "a\0TTLOG_F text\0". Only snapshots read it, to find the
	 * names of TTLOG_F() fields (src/sites/fields.c); a log call never does. */
	const char *arg_text;
};

#define TTLOG__WORD_ENABLED 1u
#define TTLOG__WORD_ASK 2u
#define TTLOG__WORD_OFF 4u
#define TTLOG__WORD_STATE 7u /* the three bits above */

/* Site kinds (SITX chunk, docs/FORMAT.md). Never renumber. */
#define TTLOG__KIND_LOG 0
#define TTLOG__KIND_CONTEXT_PUSH 1 /* one argument, the value; the format is the key */
#define TTLOG__KIND_CONTEXT_POP 2  /* no argument: ends the innermost context */
#define TTLOG__KIND_RESTATE 3      /* u32 n: the next n records re-state the open scopes */
#define TTLOG__KIND_SPAN_BEGIN 4   /* u64 span id, parent id, trace id high, low; then fields */
#define TTLOG__KIND_SPAN_END 5     /* u64 span id */
#define TTLOG__KIND_SPAN_FIELD 6   /* u64 span id, then the value; the format is the key */

/*
 * The hot path's view of its thread's ring: one cache line that only the
 * owning thread writes. Readers (snapshots, the crash handler) read `head`
 * from it and the rest of the ring from struct ttlog__ring (src/ring/ring.h),
 * which also describes the segments that `limit` refers to.
 *
 * A thread that has no ring yet points at an idle writer whose limit is 0,
 * so its first call takes the slow path, which gives it a ring. That keeps
 * the "no ring yet" test off the hot path.
 */
typedef unsigned char *ttlog__bytes; /* so that TTLOG__ATOMIC makes the pointer atomic */

struct ttlog__writer {
	TTLOG__ALIGNAS(64) TTLOG__ATOMIC(uint64_t) head; /* logical offset of the next record (published) */
	TTLOG__ATOMIC(uint64_t) limit; /* a record may end at this logical offset at most; 0: slow path */
	uintptr_t base;                /* address of logical offset 0 of the current lap */
	uint64_t records;              /* records written, padding excluded */
	uint32_t max_string;           /* string truncation limit */
	uint32_t reserved;
	/* The ring's metric shard (src/metrics/), or NULL: the next metric
	 * update takes ttlog__metrics_attach(). Written by the owner and by
	 * ttlog_init/ttlog_shutdown (to NULL); read by the owner only. */
	TTLOG__ATOMIC(ttlog__bytes) metrics;
};

/* The calling thread's writer; never NULL (the idle writer until its first event). */
TTLOG_API extern __thread struct ttlog__writer *ttlog__tls_writer
	__attribute__((tls_model("initial-exec")));

/*
 * The call of a site whose word is neither ENABLED nor OFF: registers the
 * site on its first call, and decides a sampled call (keeps it or counts it
 * as dropped). Returns the word to log with; the call logs only if bit 0 of
 * the result is set.
 */
TTLOG_API uint64_t ttlog__register(struct ttlog_site *site);

/*
 * The slow path of a log call whose record does not fit below the writer's
 * limit: gives the thread a ring, moves to the next segment of its ring
 * (dropping the oldest records), or takes the time from a clock other than
 * the CPU's counter. Writes the record header and time and returns where
 * the record starts, or NULL to drop the event (counted). The caller writes
 * the arguments and publishes the record with ttlog__commit().
 */
TTLOG_API unsigned char *ttlog__reserve_slow(uint64_t hdr);

/* After a context push record (rec, len bytes) was committed: keeps a copy
 * and returns the new depth. */
TTLOG_API uint32_t ttlog__context_pushed(const unsigned char *rec, uint32_t len);
/* Pops contexts until depth is left (the scoped form's cleanup). */
TTLOG_API void ttlog__context_pop_to(uint32_t depth);
static inline void ttlog__context_cleanup(const uint32_t *depth)
{
	if (*depth)
		ttlog__context_pop_to(*depth - 1);
}

/* A span about to begin: its ids (id 0: record nothing). */
struct ttlog__span_ids {
	uint64_t id, parent, trace_hi, trace_lo;
};
/* Draws the ids of a span about to begin on the calling thread. Returns 0,
 * or, when the span cannot be kept (too deep), the thread's span depth
 * with it counted, with ids->id = 0; ids->id is 0 too when ttlog is off. */
TTLOG_API uint32_t ttlog__span_prepare(struct ttlog__span_ids *ids);
/* After a span's begin record (rec, len bytes) was committed: keeps it and
 * returns the thread's span depth. */
TTLOG_API uint32_t ttlog__span_begun(const struct ttlog__span_ids *ids, const unsigned char *rec,
				      uint32_t len);
/* The calling thread's innermost span's id, 0 if none. */
TTLOG_API uint64_t ttlog__span_current(void);
/* Ends spans until depth are left (the scoped form's cleanup). */
TTLOG_API void ttlog__span_end_to(uint32_t depth);
static inline void ttlog__span_cleanup(const uint32_t *depth)
{
	if (*depth)
		ttlog__span_end_to(*depth - 1);
}

/*
 * The CPU's tick counter, read inline on the hot path. The writer's limit is
 * non-zero only while this counter is the configured tick source (see
 * src/clock/), so the hot path never tests which source is in use.
 */
#if defined(__x86_64__) || defined(__i386__)
#define TTLOG__STORE_TICKS(p)                                          \
	do {                                                           \
		uint32_t ttlog__lo, ttlog__hi;                         \
		__asm__ __volatile__("rdtsc" : "=a"(ttlog__lo), "=d"(ttlog__hi)); \
		memcpy((p), &ttlog__lo, 4);                            \
		memcpy((p) + 4, &ttlog__hi, 4);                        \
	} while (0)
#elif defined(__aarch64__)
#define TTLOG__STORE_TICKS(p)                                          \
	do {                                                           \
		uint64_t ttlog__v;                                     \
		__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(ttlog__v)); \
		memcpy((p), &ttlog__v, 8);                             \
	} while (0)
#else
#error "ttlog.h: no tick counter for this CPU (x86-64 and aarch64 are supported)"
#endif

/*
 * Returns where a record of len bytes starts, with its header (hdr = site
 * word - 1 + len, see struct ttlog_site) and time written, or NULL to drop
 * it. *head gets the record's logical offset and *wp the writer (which the
 * slow path may have changed) for ttlog__commit(). The test uses len, not
 * hdr's low half, so that the compiler can reuse h + len for the commit.
 */
TTLOG__INLINE unsigned char *ttlog__reserve(struct ttlog__writer **wp, uint64_t hdr, uint32_t len,
					    uint64_t *head)
{
	struct ttlog__writer *w = *wp;
	uint64_t h = TTLOG__LOAD(w->head, relaxed);
	if (TTLOG__LIKELY(h + len <= TTLOG__LOAD(w->limit, relaxed))) {
		unsigned char *p = (unsigned char *)(w->base + h);
		memcpy(p, &hdr, 8);
		TTLOG__STORE_TICKS(p + 8);
		*head = h;
		return p;
	}
	/* The slow path may have given the thread its ring, or padded the
	 * rest of a segment: writer and head are read again. */
	unsigned char *p = ttlog__reserve_slow(hdr);
	*wp = w = ttlog__tls_writer;
	*head = TTLOG__LOAD(w->head, relaxed);
	return p;
}

/* Publishes the record at logical offset head, len bytes long. */
TTLOG__INLINE void ttlog__commit(struct ttlog__writer *w, uint64_t head, uint32_t len)
{
	w->records++;
	/* LMM(commit:A) Publishes the record bytes. Pairs with LMM(copy:A) in
	 * ring.c: a reader that sees this head sees the whole record. */
	TTLOG__STORE(w->head, head + len, release);
}

/*
 * Strings on the hot path. The C library's strnlen and memcpy cost a call
 * each and a dispatch on the size; for the short strings that logs mostly
 * carry, these inline versions do the same work in fewer instructions.
 *
 * ttlog__str_scan(s, max) returns strlen(s) if it is at most max, else some
 * value above max (the string is then truncated). On x86-64 it reads 16-byte
 * blocks at 16-byte-aligned addresses. Such a read never crosses a page
 * boundary, so the bytes it reads past the terminator are mapped, the same
 * argument the C library's own strlen relies on. Builds with
 * AddressSanitizer or MemorySanitizer, which check each byte read, use
 * strnlen instead.
 *
 * TTLOG__HIDE(s) hides where s points from the compiler (it emits no
 * instruction): its bounds warnings cannot know that the string functions
 * stop at the terminator.
 */
#define TTLOG__HIDE(ptr) __asm__("" : "+r"(ptr))

#if defined(__SANITIZE_ADDRESS__)
#define TTLOG__PLAIN_STRINGS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define TTLOG__PLAIN_STRINGS 1
#endif
#endif

#if defined(__x86_64__) && defined(__SSE2__) && !defined(TTLOG__PLAIN_STRINGS)
TTLOG__EXTERN_C_END
#include <emmintrin.h>
TTLOG__EXTERN_C_BEGIN
/* Bit i set: byte i of the aligned block at p is 0. */
TTLOG__INLINE uint32_t ttlog__nul_mask(const char *p)
{
	return (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)p), _mm_setzero_si128()));
}

TTLOG__INLINE uint32_t ttlog__str_scan(const char *s, uint32_t max)
{
	const char *block = (const char *)((uintptr_t)s & ~(uintptr_t)15);
	TTLOG__HIDE(block);
	uint32_t nul = ttlog__nul_mask(block) >> ((uintptr_t)s & 15); /* bytes before s are not the string's */
	if (TTLOG__LIKELY(nul != 0))
		return (uint32_t)__builtin_ctz(nul);
	/* No terminator in a block: the string goes on into the next one,
	 * which can therefore be read without looking at max. Two more blocks
	 * are scanned inline, so that every string of up to 32 bytes is,
	 * whatever its alignment. */
	uint32_t n = (uint32_t)(block + 16 - s);
	nul = ttlog__nul_mask(block + 16);
	if (TTLOG__LIKELY(nul != 0))
		return n + (uint32_t)__builtin_ctz(nul);
	nul = ttlog__nul_mask(block + 32);
	if (nul != 0)
		return n + 16 + (uint32_t)__builtin_ctz(nul);
	/* Longer strings: the C library scans wider blocks than SSE2's. */
	n += 32;
	return n > max ? n : n + (uint32_t)strnlen(block + 48, max + 1 - n);
}

/* Copies n bytes with at most two overlapping loads and stores up to 32
 * bytes; memcpy beyond. Reads only [s, s + n). */
TTLOG__INLINE void ttlog__str_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	if (n >= 16) {
		if (TTLOG__UNLIKELY(n > 32)) {
			memcpy(d, s, n);
			return;
		}
		__m128i first = _mm_loadu_si128((const __m128i *)s);
		__m128i last = _mm_loadu_si128((const __m128i *)(s + n - 16));
		_mm_storeu_si128((__m128i *)d, first);
		_mm_storeu_si128((__m128i *)(d + n - 16), last);
	} else if (n >= 8) {
		uint64_t first, last;
		memcpy(&first, s, 8);
		memcpy(&last, s + n - 8, 8);
		memcpy(d, &first, 8);
		memcpy(d + n - 8, &last, 8);
	} else if (n >= 4) {
		uint32_t first, last;
		memcpy(&first, s, 4);
		memcpy(&last, s + n - 4, 4);
		memcpy(d, &first, 4);
		memcpy(d + n - 4, &last, 4);
	} else if (n > 0) {
		d[0] = (unsigned char)s[0];
		d[n / 2] = (unsigned char)s[n / 2];
		d[n - 1] = (unsigned char)s[n - 1];
	}
}
#else
TTLOG__INLINE uint32_t ttlog__str_scan(const char *s, uint32_t max)
{
	TTLOG__HIDE(s);
	uint32_t n = (uint32_t)strnlen(s, max);
	return n == max && s[max] != '\0' ? max + 1 : n;
}

TTLOG__INLINE void ttlog__str_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	if (n) /* s may be NULL when n is 0, which memcpy does not allow */
		memcpy(d, s, n);
}
#endif

/*
 * A string argument: a u32 word (length, and the TTLOG__STR_* flags), then
 * its bytes. The "length" the encoding macros pass from ttlog__len_str() to
 * ttlog__put_str() is that word plus 4: the argument's size in its low bits
 * (TTLOG__ARG_SIZE below) and the flags in the high bits, so the word costs
 * one subtraction to make.
 */
TTLOG__INLINE uint32_t ttlog__len_str(const void *v, uint32_t max)
{
	if (max > TTLOG__MAX_STRING_LIMIT)
		__builtin_unreachable(); /* lets the compiler drop TTLOG__ARG_SIZE's mask */
	if (TTLOG__UNLIKELY(!v))
		return 4u | TTLOG__STR_NULL;
	uint32_t n = ttlog__str_scan((const char *)v, max);
	return n <= max ? 4u + n : (4u + max) | TTLOG__STR_TRUNCATED;
}
TTLOG__INLINE unsigned char *ttlog__put_str(unsigned char *p, const void *v, uint32_t n)
{
	uint32_t word = n - 4u, size = n & TTLOG__STR_LEN_MASK;
	memcpy(p, &word, 4);
	ttlog__str_copy(p + 4, (const char *)v, size - 4u); /* 0 bytes when v is NULL */
	return p + size;
}
#define TTLOG__ARG_SIZE(n) ((n) & TTLOG__STR_LEN_MASK)
TTLOG__INLINE unsigned char *ttlog__put_ptr(unsigned char *p, const volatile void *v, uint32_t n)
{
	uint64_t a = (uint64_t)(uintptr_t)v;
	(void)n;
	memcpy(p, &a, 8);
	return p + 8;
}

static inline __attribute__((format(printf, 1, 2))) void ttlog__check_format(const char *f, ...)
{
	(void)f;
}

TTLOG__EXTERN_C_END

/* ---- 6b. Argument encoding: C selects with _Generic ------------------- */
#ifndef __cplusplus

/* Per-type size and store functions, selected by _Generic. */
#define TTLOG__FIXED(name, ctype, stype)                                                 \
	TTLOG__INLINE uint32_t ttlog__len_##name(ctype v, uint32_t max)                 \
	{                                                                                \
		(void)v;                                                                 \
		(void)max;                                                               \
		return sizeof(stype);                                                    \
	}                                                                                \
	TTLOG__INLINE unsigned char *ttlog__put_##name(unsigned char *p, ctype v, uint32_t n) \
	{                                                                                \
		stype s = (stype)v;                                                      \
		(void)n;                                                                 \
		memcpy(p, &s, sizeof s);                                                 \
		return p + sizeof s;                                                     \
	}
TTLOG__FIXED(bool, _Bool, uint8_t)
TTLOG__FIXED(char, char, char)
TTLOG__FIXED(schar, signed char, int8_t)
TTLOG__FIXED(uchar, unsigned char, uint8_t)
TTLOG__FIXED(short, short, int16_t)
TTLOG__FIXED(ushort, unsigned short, uint16_t)
TTLOG__FIXED(int, int, int32_t)
TTLOG__FIXED(uint, unsigned int, uint32_t)
TTLOG__FIXED(long, long, int64_t)
TTLOG__FIXED(ulong, unsigned long, uint64_t)
TTLOG__FIXED(llong, long long, int64_t)
TTLOG__FIXED(ullong, unsigned long long, uint64_t)
TTLOG__FIXED(float, float, double)
TTLOG__FIXED(double, double, double)
TTLOG__FIXED(ldouble, long double, double)
#undef TTLOG__FIXED

TTLOG__INLINE uint32_t ttlog__len_ptr(const volatile void *v, uint32_t max)
{
	(void)v;
	(void)max;
	return 8;
}

#define TTLOG__SELECT(x, op)                              \
	_Generic((x),                                     \
		_Bool: ttlog__##op##_bool,                \
		char: ttlog__##op##_char,                 \
		signed char: ttlog__##op##_schar,         \
		unsigned char: ttlog__##op##_uchar,       \
		short: ttlog__##op##_short,               \
		unsigned short: ttlog__##op##_ushort,     \
		int: ttlog__##op##_int,                   \
		unsigned int: ttlog__##op##_uint,         \
		long: ttlog__##op##_long,                 \
		unsigned long: ttlog__##op##_ulong,       \
		long long: ttlog__##op##_llong,           \
		unsigned long long: ttlog__##op##_ullong, \
		float: ttlog__##op##_float,               \
		double: ttlog__##op##_double,             \
		long double: ttlog__##op##_ldouble,       \
		char *: ttlog__##op##_str,                \
		const char *: ttlog__##op##_str,          \
		signed char *: ttlog__##op##_str,         \
		const signed char *: ttlog__##op##_str,   \
		unsigned char *: ttlog__##op##_str,       \
		const unsigned char *: ttlog__##op##_str, \
		default: ttlog__##op##_ptr)

#define TTLOG__TYPE(x)                                    \
	_Generic((x),                                     \
		_Bool: TTLOG_ARG_BOOL,                    \
		char: ((char)-1 < 0 ? TTLOG_ARG_CHAR : TTLOG_ARG_U8), \
		signed char: TTLOG_ARG_I8,                \
		unsigned char: TTLOG_ARG_U8,              \
		short: TTLOG_ARG_I16,                     \
		unsigned short: TTLOG_ARG_U16,            \
		int: TTLOG_ARG_I32,                       \
		unsigned int: TTLOG_ARG_U32,              \
		long: TTLOG_ARG_I64,                      \
		unsigned long: TTLOG_ARG_U64,             \
		long long: TTLOG_ARG_I64,                 \
		unsigned long long: TTLOG_ARG_U64,        \
		float: TTLOG_ARG_F64,                     \
		double: TTLOG_ARG_F64,                    \
		long double: TTLOG_ARG_LDBL,              \
		char *: TTLOG_ARG_STR,                    \
		const char *: TTLOG_ARG_STR,              \
		signed char *: TTLOG_ARG_STR,             \
		const signed char *: TTLOG_ARG_STR,       \
		unsigned char *: TTLOG_ARG_STR,           \
		const unsigned char *: TTLOG_ARG_STR,     \
		default: TTLOG_ARG_PTR)

#define TTLOG__ARG_TYPE(i, x) (uint8_t) TTLOG__TYPE(x),
#define TTLOG__ARG_LEN(i, x) \
	const uint32_t ttlog__n##i = TTLOG__SELECT(ttlog__v##i, len)(ttlog__v##i, ttlog__w->max_string);
#define TTLOG__ARG_PUT(i, x) ttlog__p = TTLOG__SELECT(ttlog__v##i, put)(ttlog__p, ttlog__v##i, ttlog__n##i);

#else /* ---- 6b. Argument encoding: C++ selects with templates --------- */

/* The type code of an argument of (decayed) type T, as C's TTLOG__TYPE. */
template <class T> constexpr int ttlog__type_code()
{
	using U = typename std::remove_cv<T>::type;
	if constexpr (std::is_same<U, bool>::value)
		return TTLOG_ARG_BOOL;
	else if constexpr (std::is_same<U, char>::value)
		return std::is_signed<char>::value ? TTLOG_ARG_CHAR : TTLOG_ARG_U8;
	else if constexpr (std::is_enum<U>::value)
		return ttlog__type_code<typename std::underlying_type<U>::type>();
	else if constexpr (std::is_integral<U>::value) {
		static_assert(sizeof(U) <= 8, "ttlog: integers wider than 64 bits are not supported");
		constexpr bool s = std::is_signed<U>::value;
		return sizeof(U) == 1 ? (s ? TTLOG_ARG_I8 : TTLOG_ARG_U8)
		     : sizeof(U) == 2 ? (s ? TTLOG_ARG_I16 : TTLOG_ARG_U16)
		     : sizeof(U) == 4 ? (s ? TTLOG_ARG_I32 : TTLOG_ARG_U32)
				      : (s ? TTLOG_ARG_I64 : TTLOG_ARG_U64);
	} else if constexpr (std::is_same<U, float>::value || std::is_same<U, double>::value)
		return TTLOG_ARG_F64;
	else if constexpr (std::is_same<U, long double>::value)
		return TTLOG_ARG_LDBL;
	else if constexpr (std::is_pointer<U>::value) {
		using P = typename std::remove_cv<typename std::remove_pointer<U>::type>::type;
		return std::is_same<P, char>::value || std::is_same<P, signed char>::value ||
				       std::is_same<P, unsigned char>::value
			       ? TTLOG_ARG_STR
			       : TTLOG_ARG_PTR;
	} else {
		static_assert(std::is_null_pointer<U>::value,
			      "ttlog: unsupported argument type (use integers, floating point, "
			      "pointers or C strings, as with printf)");
		return TTLOG_ARG_PTR;
	}
}

template <class T> TTLOG__ALWAYS_INLINE inline uint32_t ttlog__arg_len(const T &v, uint32_t max)
{
	constexpr int t = ttlog__type_code<T>();
	if constexpr (t == TTLOG_ARG_STR)
		return ttlog__len_str(v, max);
	else if constexpr (t == TTLOG_ARG_F64 || t == TTLOG_ARG_LDBL || t == TTLOG_ARG_PTR)
		return 8;
	else
		return sizeof(T); /* integers, enumerations and bool: their own width */
}

template <class T> TTLOG__ALWAYS_INLINE inline unsigned char *ttlog__arg_put(unsigned char *p, const T &v, uint32_t n)
{
	constexpr int t = ttlog__type_code<T>();
	if constexpr (t == TTLOG_ARG_STR) {
		return ttlog__put_str(p, v, n);
	} else if constexpr (t == TTLOG_ARG_PTR) {
		return ttlog__put_ptr(p, (const volatile void *)v, n);
	} else if constexpr (t == TTLOG_ARG_F64 || t == TTLOG_ARG_LDBL) {
		double d = (double)v;
		memcpy(p, &d, 8);
		return p + 8;
	} else {
		memcpy(p, &v, sizeof(T)); /* little-endian bytes of the value */
		return p + sizeof(T);
	}
}

#define TTLOG__ARG_TYPE(i, x) (uint8_t) ttlog__type_code<typename std::decay<decltype(x)>::type>(),
#define TTLOG__ARG_LEN(i, x) \
	const uint32_t ttlog__n##i = ttlog__arg_len(ttlog__v##i, ttlog__w->max_string);
#define TTLOG__ARG_PUT(i, x) ttlog__p = ttlog__arg_put(ttlog__p, ttlog__v##i, ttlog__n##i);

#endif /* __cplusplus */

TTLOG__STATIC_ASSERT(sizeof(long) == 8 && sizeof(void *) == 8, "ttlog needs an LP64 target");

/* Argument counting and per-argument expansion, for up to 16 arguments. */
#define TTLOG__CAT2(a, b) a##b
#define TTLOG__CAT(a, b) TTLOG__CAT2(a, b)
#define TTLOG__NARG(...) \
	TTLOG__NARG_(_, ##__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define TTLOG__NARG_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, ...) n
#define TTLOG__EACH(m, ...) TTLOG__CAT(TTLOG__EACH_, TTLOG__NARG(__VA_ARGS__))(m, ##__VA_ARGS__)
#define TTLOG__EACH_0(m)
#define TTLOG__EACH_1(m, a) m(1, a)
#define TTLOG__EACH_2(m, a, b) m(1, a) m(2, b)
#define TTLOG__EACH_3(m, a, b, c) TTLOG__EACH_2(m, a, b) m(3, c)
#define TTLOG__EACH_4(m, a, b, c, d) TTLOG__EACH_3(m, a, b, c) m(4, d)
#define TTLOG__EACH_5(m, a, b, c, d, e) TTLOG__EACH_4(m, a, b, c, d) m(5, e)
#define TTLOG__EACH_6(m, a, b, c, d, e, f) TTLOG__EACH_5(m, a, b, c, d, e) m(6, f)
#define TTLOG__EACH_7(m, a, b, c, d, e, f, g) TTLOG__EACH_6(m, a, b, c, d, e, f) m(7, g)
#define TTLOG__EACH_8(m, a, b, c, d, e, f, g, h) TTLOG__EACH_7(m, a, b, c, d, e, f, g) m(8, h)
#define TTLOG__EACH_9(m, a, b, c, d, e, f, g, h, i) TTLOG__EACH_8(m, a, b, c, d, e, f, g, h) m(9, i)
#define TTLOG__EACH_10(m, a, b, c, d, e, f, g, h, i, j) \
	TTLOG__EACH_9(m, a, b, c, d, e, f, g, h, i) m(10, j)
#define TTLOG__EACH_11(m, a, b, c, d, e, f, g, h, i, j, k) \
	TTLOG__EACH_10(m, a, b, c, d, e, f, g, h, i, j) m(11, k)
#define TTLOG__EACH_12(m, a, b, c, d, e, f, g, h, i, j, k, l) \
	TTLOG__EACH_11(m, a, b, c, d, e, f, g, h, i, j, k) m(12, l)
#define TTLOG__EACH_13(m, a, b, c, d, e, f, g, h, i, j, k, l, n) \
	TTLOG__EACH_12(m, a, b, c, d, e, f, g, h, i, j, k, l) m(13, n)
#define TTLOG__EACH_14(m, a, b, c, d, e, f, g, h, i, j, k, l, n, o) \
	TTLOG__EACH_13(m, a, b, c, d, e, f, g, h, i, j, k, l, n) m(14, o)
#define TTLOG__EACH_15(m, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p) \
	TTLOG__EACH_14(m, a, b, c, d, e, f, g, h, i, j, k, l, n, o) m(15, p)
#define TTLOG__EACH_16(m, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p, q) \
	TTLOG__EACH_15(m, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p) m(16, q)

#define TTLOG__ARG_DECL(i, x) TTLOG__AUTO ttlog__v##i = (x);

#define TTLOG__ARG_TEXT(i, x) #x "\0"

/*
 * The compiler checks the format against the arguments. TTLOG_F() fields
 * come after the format's arguments and would be "too many arguments for
 * format", so that one warning is off for the check (and only for it).
 */
#define TTLOG__CHECK_FORMAT(fmt, ...)                                           \
	_Pragma("GCC diagnostic push")                                          \
	_Pragma("GCC diagnostic ignored \"-Wformat-extra-args\"")              \
	if (0)                                                                  \
		ttlog__check_format(fmt, ##__VA_ARGS__);                        \
	_Pragma("GCC diagnostic pop")
#define TTLOG__ARG_SUM(i, x) +TTLOG__ARG_SIZE(ttlog__n##i)

/*
 * One record of a call site, shared by log calls and context pushes: the
 * site's static data, its registration on the first call, then the record.
 * Record header: u32 size, u32 site id, u64 ticks (docs/FORMAT.md
 * "Records"). `break` leaves the caller's do-while: a disabled site, a site
 * that registers as disabled, a sampled call the sampler drops, or an event
 * the slow path drops. `after` runs
 * once the record is published, with ttlog__rec and ttlog__len naming it.
 */
#define TTLOG__RECORD(lvl, kind, fmt, text, after, ...)                                       \
	static const uint8_t ttlog__types[] = {TTLOG__EACH(TTLOG__ARG_TYPE, ##__VA_ARGS__) 0};  \
	static struct ttlog_site ttlog__site = {                                               \
		0u, (uint8_t)(lvl), (uint8_t)TTLOG__NARG(__VA_ARGS__), kind, 0, __LINE__,      \
		ttlog__types, fmt, __FILE__, __func__, TTLOG__TARGET, text};                   \
	uint64_t ttlog__word = TTLOG__LOAD(ttlog__site.word, relaxed);                         \
	if (TTLOG__UNLIKELY(!(ttlog__word & TTLOG__WORD_ENABLED))) {                           \
		if (TTLOG__LIKELY(ttlog__word & TTLOG__WORD_OFF))                              \
			break;                                                                 \
		ttlog__word = ttlog__register(&ttlog__site);                                   \
		if (!(ttlog__word & 1u))                                                       \
			break;                                                                 \
	}                                                                                      \
	struct ttlog__writer *ttlog__w = ttlog__tls_writer;                                    \
	TTLOG__EACH(TTLOG__ARG_DECL, ##__VA_ARGS__)                                            \
	TTLOG__EACH(TTLOG__ARG_LEN, ##__VA_ARGS__)                                             \
	const uint32_t ttlog__len = (16u TTLOG__EACH(TTLOG__ARG_SUM, ##__VA_ARGS__) + 7u) & ~7u; \
	uint64_t ttlog__head;                                                                  \
	unsigned char *ttlog__p =                                                              \
		ttlog__reserve(&ttlog__w, ttlog__word - 1u + ttlog__len, ttlog__len, &ttlog__head); \
	if (TTLOG__UNLIKELY(!ttlog__p))                                                        \
		break;                                                                         \
	unsigned char *const ttlog__rec = ttlog__p;                                            \
	(void)ttlog__rec;                                                                      \
	ttlog__p += 16;                                                                        \
	TTLOG__EACH(TTLOG__ARG_PUT, ##__VA_ARGS__)                                             \
	(void)ttlog__p;                                                                        \
	ttlog__commit(ttlog__w, ttlog__head, ttlog__len);                                      \
	after;

/* The log call. */
#define TTLOG__LOG(lvl, fmt, ...)                                                             \
	do {                                                                                  \
		TTLOG__STATIC_ASSERT((lvl) >= TTLOG_LEVEL_TRACE && (lvl) <= TTLOG_LEVEL_FATAL, \
			       "ttlog: the level must be TTLOG_LEVEL_TRACE ... TTLOG_LEVEL_FATAL"); \
		if ((lvl) >= TTLOG_COMPILE_MIN_LEVEL) {                                       \
			TTLOG__CHECK_FORMAT(fmt, ##__VA_ARGS__);                              \
			TTLOG__RECORD(lvl, TTLOG__KIND_LOG, fmt,                               \
				      TTLOG__EACH(TTLOG__ARG_TEXT, ##__VA_ARGS__) "", (void)0, \
				      ##__VA_ARGS__)                                           \
		}                                                                              \
	} while (0)

/*
 * A context push: a record of one argument whose site is of kind
 * CONTEXT_PUSH (never disabled by levels), after which the library keeps a
 * copy of the record to re-state it. Evaluates to the thread's context
 * depth after the push, or 0 if nothing was pushed (ttlog is off).
 */
#define TTLOG__CONTEXT_PUSH(key, value)                                                      \
	__extension__({                                                                      \
		uint32_t ttlog__depth = 0;                                                   \
		do {                                                                         \
			TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_CONTEXT_PUSH, "" key, "",  \
				      ttlog__depth = ttlog__context_pushed(ttlog__rec, ttlog__len), \
				      value)                                                  \
		} while (0);                                                                 \
		ttlog__depth;                                                                \
	})

/*
 * A span's begin: a record of a SPAN_BEGIN site (never disabled by levels)
 * with the ids as its first four arguments, the fields after them.
 * Evaluates to the thread's span depth after it, or 0 if nothing began.
 */
#define TTLOG__SPAN_BEGIN(name, ...)                                                         \
	__extension__({                                                                      \
		struct ttlog__span_ids ttlog__ids;                                           \
		uint32_t ttlog__depth = ttlog__span_prepare(&ttlog__ids);                    \
		if (ttlog__ids.id)                                                           \
			do {                                                                 \
				TTLOG__CHECK_FORMAT(name, ##__VA_ARGS__);                    \
				TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_SPAN_BEGIN, "" name, \
					      "\0\0\0\0" TTLOG__EACH(TTLOG__ARG_TEXT, ##__VA_ARGS__) "", \
					      ttlog__depth = ttlog__span_begun(&ttlog__ids, ttlog__rec, \
									       ttlog__len), \
					      ttlog__ids.id, ttlog__ids.parent, ttlog__ids.trace_hi, \
					      ttlog__ids.trace_lo, ##__VA_ARGS__)            \
			} while (0);                                                         \
		ttlog__depth;                                                                \
	})

/* A field of the innermost span: a SPAN_FIELD record (span id, value). */
#define TTLOG__SPAN_FIELD(key, value)                                                       \
	do {                                                                                \
		uint64_t ttlog__span_id = ttlog__span_current();                            \
		if (!ttlog__span_id)                                                        \
			break;                                                              \
		TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_SPAN_FIELD, "" key, "\0\0", (void)0, \
			      ttlog__span_id, value)                                        \
	} while (0)
/* ---- 6c. Metrics ---------------------------------------------------------- */

TTLOG__EXTERN_C_BEGIN

/* Metric types; also stored in snapshot files (MTRC): never renumber. */
#define TTLOG__METRIC_COUNTER 1
#define TTLOG__METRIC_GAUGE 2
#define TTLOG__METRIC_HISTOGRAM 3

/*
 * A metric use: one static instance per TTLOG_COUNTER_ADD & co.
 *
 * `word`:
 *   0              not registered yet: the first update registers it
 *   bit 0 = 1      enabled; word - 1 is the byte offset of the metric's
 *                  slots in every thread's shard (a multiple of 8)
 *   2              disabled for good (a rule broken, or no room)
 */
struct ttlog_metric {
	TTLOG__ATOMIC(uint64_t) word;
	uint8_t type;                /* TTLOG__METRIC_* */
	uint8_t reserved[3];
	uint32_t line;
	const char *name;
	const char *labels;          /* "k=v\0k=v\0" and a final "\0": empty if none */
	const char *file;
};

/*
 * Histogram buckets (docs/FORMAT.md "MTRC"). A value v in (2^-24, 2^40]
 * goes to bucket 1 + (((bits(v) - 1) >> 46) - TTLOG__HIST_BIAS): the
 * exponent and the top 6 mantissa bits of the double just below v, so
 * that a bucket holds (L, U] and Prometheus' "le" bounds are exact.
 * Bucket 0 takes v <= 2^-24 (and NaN), bucket 4097 v > 2^40.
 */
#define TTLOG__HIST_SUB_BITS 6
#define TTLOG__HIST_MIN_EXP (-24)
#define TTLOG__HIST_MAX_EXP 40
#define TTLOG__HIST_RANGE 4096u                     /* regular buckets */
#define TTLOG__HIST_BUCKETS (TTLOG__HIST_RANGE + 2u) /* with under- and overflow */
#define TTLOG__HIST_SHIFT (52 - TTLOG__HIST_SUB_BITS)
#define TTLOG__HIST_BIAS ((uint64_t)(1023 + TTLOG__HIST_MIN_EXP) << TTLOG__HIST_SUB_BITS)
#define TTLOG__HIST_LOW 0x1p-24
/* Slots of a histogram: count, sum, min, max, then the buckets. */
#define TTLOG__HIST_SLOTS (4u + TTLOG__HIST_BUCKETS)
TTLOG__STATIC_ASSERT(TTLOG__HIST_RANGE ==
			     (uint32_t)(TTLOG__HIST_MAX_EXP - TTLOG__HIST_MIN_EXP) << TTLOG__HIST_SUB_BITS,
		     "one bucket per sub-bucket and power of two");

/* First update of a use: registers it and returns its word. */
TTLOG_API uint64_t ttlog__metric_register(struct ttlog_metric *metric);
/* First update of a thread since ttlog_init: returns its shard, or NULL
 * to drop the update (counted). */
TTLOG_API unsigned char *ttlog__metrics_attach(void);
/* A gauge's time when the CPU's counter is not the clock in use. */
TTLOG_API uint64_t ttlog__metric_ticks(void);
/* 1 while the CPU's counter is the clock (set by ttlog__metrics_attach). */
TTLOG_API extern TTLOG__ATOMIC(int) ttlog__metrics_inline_clock;

#define TTLOG__LABEL_TEXT(i, x) "" x "\0"

/* The part of an update shared by all types: the use's static data, its
 * registration, the thread's shard, and ttlog__slot naming the metric's
 * first slot. `break` leaves the caller's do-while. */
#define TTLOG__METRIC(type, name, ...)                                                         \
	static struct ttlog_metric ttlog__metric = {                                           \
		0u, (uint8_t)(type), {0, 0, 0}, __LINE__, "" name,                             \
		TTLOG__EACH(TTLOG__LABEL_TEXT, ##__VA_ARGS__) "", __FILE__};                  \
	uint64_t ttlog__mword = TTLOG__LOAD(ttlog__metric.word, relaxed);                      \
	if (TTLOG__UNLIKELY(!(ttlog__mword & 1u))) {                                           \
		ttlog__mword = ttlog__metric_register(&ttlog__metric);                          \
		if (!(ttlog__mword & 1u))                                                       \
			break;                                                                  \
	}                                                                                      \
	unsigned char *ttlog__shard = TTLOG__LOAD(ttlog__tls_writer->metrics, relaxed);       \
	if (TTLOG__UNLIKELY(!ttlog__shard)) {                                                  \
		ttlog__shard = ttlog__metrics_attach();                                         \
		if (!ttlog__shard)                                                              \
			break;                                                                  \
	}                                                                                      \
	TTLOG__ATOMIC(uint64_t) *const ttlog__slot =                                           \
		(TTLOG__ATOMIC(uint64_t) *)(void *)(ttlog__shard + (ttlog__mword - 1u));

/*
 * Slots have one writer, the shard's thread, and are read by snapshots and
 * ttlog_metrics_write_prometheus() from any thread: relaxed atomic loads
 * and stores, plain moves on x86-64, and never a locked instruction.
 */
TTLOG__INLINE uint64_t ttlog__metric_bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	return b;
}
TTLOG__INLINE double ttlog__metric_double(uint64_t b)
{
	double v;
	memcpy(&v, &b, 8);
	return v;
}

/* Gauge slots: value, then the ticks of the set (0: never set). */
TTLOG__INLINE void ttlog__gauge_set(TTLOG__ATOMIC(uint64_t) *s, double v)
{
	uint64_t t;
	if (TTLOG__LIKELY(TTLOG__LOAD(ttlog__metrics_inline_clock, relaxed)))
		TTLOG__STORE_TICKS((unsigned char *)&t);
	else
		t = ttlog__metric_ticks();
	TTLOG__STORE(s[0], ttlog__metric_bits(v), relaxed);
	/* LMM(gauge:A) The value is stored before its time. Pairs with
	 * LMM(gauge:B) in src/metrics/read.c: a reader that loads this time
	 * loads this value or a newer one, never an older one. */
	TTLOG__STORE(s[1], t, release);
}

TTLOG__INLINE void ttlog__histogram_record(TTLOG__ATOMIC(uint64_t) *s, double v)
{
	uint64_t b = ttlog__metric_bits(v);
	uint64_t t = ((b - 1u) >> TTLOG__HIST_SHIFT) - TTLOG__HIST_BIAS;
	uint64_t i = t < TTLOG__HIST_RANGE ? t + 1u : v > TTLOG__HIST_LOW ? TTLOG__HIST_RANGE + 1u : 0u;
	uint64_t c = TTLOG__LOAD(s[0], relaxed);
	uint64_t mnb = TTLOG__LOAD(s[2], relaxed), mxb = TTLOG__LOAD(s[3], relaxed);
	/* The first value sets min and max (the slots start at 0). No branch
	 * on the value: compilers turn these selects into branches on x86-64
	 * once the results are stored as bits, so minsd and maxsd are spelt
	 * out there (same results: mn < v ? mn : v and mx > v ? mx : v). */
	double mn = ttlog__metric_double(c ? mnb : b), mx = ttlog__metric_double(c ? mxb : b);
#if defined(__x86_64__)
	__asm__("minsd %1, %0" : "+x"(mn) : "x"(v));
	__asm__("maxsd %1, %0" : "+x"(mx) : "x"(v));
#else
	mn = mn < v ? mn : v;
	mx = mx > v ? mx : v;
#endif
	double sum = ttlog__metric_double(TTLOG__LOAD(s[1], relaxed)) + v;
	TTLOG__STORE(s[0], c + 1u, relaxed);
	TTLOG__STORE(s[1], ttlog__metric_bits(sum), relaxed);
	TTLOG__STORE(s[2], ttlog__metric_bits(mn), relaxed);
	TTLOG__STORE(s[3], ttlog__metric_bits(mx), relaxed);
	TTLOG__STORE(s[4 + i], TTLOG__LOAD(s[4 + i], relaxed) + 1u, relaxed);
}

TTLOG__EXTERN_C_END

#endif /* TTLOG_H */
