/* SPDX-License-Identifier: MIT */
/*
 * shim.h - what the files of the preload shim libttlog-run.so share.
 *
 * `ttlog run -- CMD` starts CMD with this library in LD_PRELOAD. The shim is
 * a client of libttlog's public API only (ttlog.h): its constructor
 * (init.c) calls ttlog_init() with the environment's settings, which
 * installs the crash handlers; capture.c turns what the program writes to
 * stderr (and stdout with --stdout) into events, line by line, while the
 * bytes still reach the same file descriptors in the same order; calls.c
 * interposes syslog(3) and err(3)/warn(3); emit.c holds the call sites.
 *
 * The settings come from `ttlog run` as environment variables:
 *   TTLOG_RUN_PRELOAD       the entries `ttlog run` added to LD_PRELOAD
 *                           (libttlog and this library), ':'-separated
 *   TTLOG_RUN_STDOUT        "1": capture stdout lines too
 *   TTLOG_RUN_LEVEL_REGEX   "REGEX=LEVEL,..." for stderr lines
 *   TTLOG_RUN_FOLLOW        "1": keep the shim in the environment of the
 *                           programs this one executes
 */
#ifndef TTLOG__RUN_SHIM_H
#define TTLOG__RUN_SHIM_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The library is built with hidden visibility; the functions it interposes
 * (write, syslog, warn, ...) are the only names it exports.
 */
#define RUN_INTERPOSE __attribute__((visibility("default")))

/* Where an event came from; its "source" field. */
enum run_source {
	RUN_SOURCE_STDOUT,
	RUN_SOURCE_STDERR,
	RUN_SOURCE_SYSLOG,
	RUN_SOURCE_ERR /* err(3), warn(3) and their variants */
};

/* Set by init.c before the program runs, read-only afterwards. */
extern int run_capture_stdout; /* 1: lines written to fd 1 become events */
extern int run_active;         /* 1: ttlog_init() succeeded */

/*
 * Non-zero while this thread is inside an interposed syslog()/err()/warn()
 * that already made its event: what the original function writes to
 * stderr then is not captured a second time.
 */
extern __thread int run_quiet __attribute__((tls_model("initial-exec")));

/** Logs one line (NUL-terminated, no newline) at a level from one source. */
void run_emit(enum run_source source, int level, const char *line);

/** The level of a stderr line: the first --level-regex that matches, else WARN. */
int run_stderr_level(const char *line);

/** Compiles TTLOG_RUN_LEVEL_REGEX; returns 0, or -1 after saying why on stderr. */
int run_levels_init(const char *spec);

/** The C library's write(2), bypassing the interposer. Runs in signal context. */
ssize_t run_real_write(int fd, const void *buf, size_t n);

/** Looks up the C library's syslog and warn functions the interposers call. */
void run_calls_resolve(void);

/** Looks up the C library's write, writev, fileno and dprintf functions. */
void run_capture_resolve(void);

/** Installs the stdio side of the capture (stdout/stderr). */
void run_capture_init(void);

/** Writes out stdio's buffers and logs this thread's unfinished lines. */
void run_capture_flush(void);

/** Hands bytes written to fd (1 or 2) to the line assembler. */
void run_capture_bytes(int fd, const char *buf, size_t n);

#endif /* TTLOG__RUN_SHIM_H */
