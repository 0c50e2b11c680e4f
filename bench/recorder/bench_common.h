/* SPDX-License-Identifier: MIT */
/*
 * bench_common.h - what the four ttlog-specific benchmarks in bench/recorder/
 * share: the common command line, a private scratch directory, timing,
 * running child processes, the workload (a pool of threads that log the
 * benchmark's event) and reading back a snapshot with the reader API.
 *
 * Conventions every benchmark follows: one JSON object per line on stdout,
 * diagnostics on stderr, exit status 1 with a message naming the program on
 * any failure. Nothing here is used by the test suite: timings never decide
 * whether a build is correct.
 */
#ifndef TTLOG_BENCH_COMMON_H
#define TTLOG_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The options every benchmark accepts. */
struct bench_opts {
	int quick;            /* --quick: small sizes, under ~10 s */
	const char *dir;      /* --dir: where the private scratch directory goes */
	const char *ttlog;    /* --ttlog: the ttlog CLI (NULL until resolved) */
	const char *encrypt;  /* --encrypt PREFIX: files sealed to PREFIX.pub (ttlog keygen) */
	const char *compression; /* --compression: TTLOG_COMPRESSION's values; NULL: default */
};

/*
 * Parses --quick, --dir DIR, --keep, --ttlog PATH, --encrypt PREFIX, --compression
 * CODEC and --help (bench_ttlog_init() uses the codec). `what` is the
 * program's own paragraph for --help. Unknown options are a usage error
 * (exit 1). Returns only when the program should run.
 */
void bench_parse(int argc, char **argv, const char *what, struct bench_opts *o);

/* With --encrypt PREFIX (after bench_clear_ttlog_env()): the program's
 * files are sealed to PREFIX.pub (TTLOG_ENCRYPT_KEY) and read with
 * PREFIX.key (the reader's key, and TTLOG_KEY for the ttlog command). */
void bench_apply_encrypt(const struct bench_opts *o);

/* The program's name in messages; set by bench_parse(). */
extern const char *bench_prog;

/* Prints "PROG: message" on stderr, removes the scratch directory (only in
 * the process that made it) and exits with status 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Prints "PROG: message" on stderr and carries on. */
void bench_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Removes every TTLOG_* variable from the environment. ttlog lets the
 * environment override struct ttlog_config; a stray TTLOG_RING_SIZE in the
 * caller's shell would silently change what is measured.
 */
void bench_clear_ttlog_env(void);

/* Makes DIR/ttlog-bench-XXXXXX (mode 0700) and returns its path. Only this
 * program writes there, so removing everything in it at the end removes
 * exactly what the program wrote. */
const char *bench_scratch_create(const struct bench_opts *o);
/* Removes the scratch directory and its files. Safe to call twice. */
void bench_scratch_remove(void);

/* Finds the ttlog CLI (--ttlog, then the one built with this benchmark,
 * then one near the executable) and stores it in o->ttlog; dies if none. */
void bench_find_cli(struct bench_opts *o);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* Median of n values (sorts v in place). */
double bench_median(double *v, size_t n);

/* Size of a file in bytes; dies if it cannot be stat'ed. */
uint64_t bench_file_size(const char *path);

/*
 * Runs argv[0] (a path) with stdin from /dev/null, stderr inherited and
 * stdout either discarded (count == NULL: /dev/null, as in `> /dev/null`)
 * or read through a pipe and counted into *count. Returns the exit status
 * as waitpid() gives it.
 */
int bench_run(char *const argv[], uint64_t *count);

/* As bench_run() with stdout discarded and stderr written to errpath
 * (for a command whose diagnostics are expected and not wanted). */
int bench_run_quiet(char *const argv[], const char *errpath);

/* As bench_run(), keeping the first cap - 1 bytes of stdout in out
 * (NUL-terminated). */
int bench_run_output(char *const argv[], char *out, size_t cap);

/* Runs argv with stdout to outpath (created or truncated, 0600), stdin from
 * /dev/null, stderr inherited, in directory cwd (NULL: this one). Returns
 * the wait status. */
int bench_run_to_file(char *const argv[], const char *outpath, const char *cwd);

/* Forks a child that runs fn(arg, fd), fd the write end of a pipe, and
 * then exits with 0 (fn may also end the child itself). stdout and stderr
 * are flushed first, so that the child does not repeat what they held.
 * Returns the child's pid; *rfd is the read end (the caller closes it). */
pid_t bench_fork_pipe(void (*fn)(void *arg, int fd), void *arg, int *rfd);

/*
 * Waits for pid for at most timeout_s seconds (then kills it by its pid and
 * dies). Returns the status as waitpid() gives it.
 */
int bench_wait(pid_t pid, unsigned timeout_s);

/* Initialises ttlog with snapshots in dir and rings of ring_size bytes
 * (memory_cap 0: the default); dies with ttlog_init_error() on failure. */
void bench_ttlog_init(const char *dir, size_t ring_size, size_t memory_cap);

/*
 * Sleeps until BENCH_SETTLE_MS after bench_ttlog_init(). A snapshot taken
 * less than 20 ms after ttlog_init() first waits for the rest of those
 * 20 ms (src/clock/clock.c: the tick-to-time calibration needs an interval
 * that long). Programs take snapshots long after init, so the benchmarks
 * measure that steady state and call this before the first timed snapshot.
 */
#define BENCH_SETTLE_MS 50
void bench_settle(void);

/*
 * The workload: `threads` threads that, on each bench_pool_fill(), log
 * `events` copies of the benchmark event each and then wait for the next
 * round. The threads stay alive between rounds, so snapshots see live
 * threads' rings (the realistic case: a program running when it crashes
 * or is asked for a snapshot). Each round logs new ids, so every fill
 * writes fresh content.
 */
struct bench_pool;
struct bench_pool *bench_pool_start(unsigned threads, uint64_t events);
void bench_pool_fill(struct bench_pool *p);
void bench_pool_stop(struct bench_pool *p);

/*
 * Events per thread that make a ring of ring_size bytes wrap at least
 * `wraps` times. A record is at least 16 bytes (its header), so this many
 * events write at least (wraps + 1) * ring_size bytes whatever the record
 * layout; the benchmark event is larger, so in practice the ring wraps
 * more often than asked, which only costs fill time.
 */
uint64_t bench_events_to_wrap(size_t ring_size, unsigned wraps);

/* Logs the benchmark event once, with id i: the event every benchmark
 * measures. Not inline, so that all benchmarks share one call site. */
void bench_log_event(int i);

/* What the reader API says about a snapshot. */
struct bench_file {
	uint64_t events;
	uint64_t overwritten;      /* summed over threads */
	uint64_t torn;
	unsigned threads;
	unsigned threads_wrapped;  /* threads whose overwritten >= events kept */
	int crashed;
	int crash_signo;
};

/* Opens path with the reader API and fills *f; dies if the file is not a
 * valid, complete snapshot. */
void bench_read_file(const char *path, struct bench_file *f);

#endif
