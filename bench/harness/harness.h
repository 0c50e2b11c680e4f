/* SPDX-License-Identifier: MIT */
/*
 * harness.h - main() and the measurement modes shared by every logger
 * adapter in the benchmark suite.
 *
 * An adapter includes "harness_env.h", defines
 *
 *   #define BENCH_LOGGER "name shown in tables"
 *   static int  bench_setup(const struct bench_env *env);   0 or BENCH_SKIP
 *   static void bench_thread_setup(void);
 *   static inline void bench_log_args3(int i, double d, const char *s);
 *   static inline void bench_log_noargs(void);
 *   static inline void bench_log_str200(const char *s);
 *   static int  bench_drain(void);       0, or 1 when there is no file
 *   static void bench_teardown(void);
 *
 * and optionally, after "#define BENCH_HAS_REPORT 1",
 *
 *   static void bench_report(char *buf, size_t size);
 *
 * which writes extra JSON members (such as "dropped":123, no leading comma)
 * that are added to the result line, and optionally, after
 * "#define BENCH_HAS_SETTLE 1",
 *
 *   static void bench_settle(void);
 *
 * which instr mode calls after its warm-up: it waits until the logger's
 * background thread has taken in everything logged so far, so that the
 * counted loop starts with empty buffers. (Under callgrind threads run one
 * at a time; a logger whose caller spins while its buffer is full would
 * otherwise have the spinning counted as part of its calls.) Then it
 * includes this header last.
 *
 * Because the hooks are visible here as static inline functions, the timed
 * loops below call them directly and the compiler inlines them: what is
 * measured is the log call as an application would compile it.
 *
 * Modes (one JSON object per line on stdout; errors on stderr; exit status
 * 77 when the logger cannot run here):
 *
 *   latency --msg args3|noargs|str200|args3s8 --variant spaced|burst
 *           [--calls N] [--warmup N] [--gap-ns NS] [--cpu C] --dir DIR
 *   throughput --msg args3|noargs|str200|args3s8 [--calls N] [--warmup N]
 *           --threads T --dir DIR
 *   instr --msg args3|noargs|str200|args3s8 [--calls N] [--warmup N] --dir DIR
 *   sustain --msg args3 [--seconds S] --threads T --dir DIR
 *
 * Every mode that drains a logger with a file adds the bytes it left in the
 * scratch directory ("disk_bytes") and their share per logged message
 * ("disk_bytes_per_event"). sustain logs continuously from T threads for S
 * seconds, then drains, and reports the messages handed to the file per
 * second with the clock stopped only once the logger says they are on disk
 * (see bench_mode_sustain); a logger without a file cannot run it (77).
 *
 * x86-64 only: the timer is the TSC, read with lfence;rdtsc before and
 * rdtscp;lfence after the measured call, so that neither earlier nor later
 * instructions leak into the interval.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#ifndef BENCH_LOGGER
#error "define BENCH_LOGGER and the bench_* hooks before including harness.h"
#endif
#if !defined(__x86_64__)
#error "the benchmark harness reads the TSC and needs x86-64"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* instr mode needs callgrind's client requests (Debian package valgrind);
 * bench/CMakeLists.txt defines BENCH_HAVE_CALLGRIND when they exist. */
#ifdef BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

/* ------------------------------------------------------------------ */
/* Options                                                             */

enum bench_msg { BENCH_MSG_ARGS3, BENCH_MSG_NOARGS, BENCH_MSG_STR200, BENCH_MSG_ARGS3S8 };
static const char *const bench_msg_names[] = {"args3", "noargs", "str200", "args3s8"};

struct bench_opts {
	const char *mode;
	enum bench_msg msg;
	int spaced;      /* latency: 1 = calls about gap_ns apart, 0 = back to back */
	long calls;      /* -1 = the mode's default */
	long warmup;     /* -1 = the mode's default */
	long gap_ns;
	int threads;
	int cpu;         /* latency: CPU to pin to; -1 = none, -2 = choose */
	double seconds;  /* sustain: how long the threads log */
	const char *dir;
};

static void bench_usage(FILE *out)
{
	fprintf(out,
		"usage: %s MODE [options]   (logger: %s)\n"
		"  latency    --msg args3|noargs|str200|args3s8 --variant spaced|burst [--calls N(1000000)]\n"
		"             [--warmup N(100000)] [--gap-ns NS(5000)] [--cpu C|-1] --dir DIR\n"
		"  throughput --msg args3 [--calls N(10000000)] [--warmup N] --threads T --dir DIR\n"
		"  instr      --msg M [--calls N(200000)] [--warmup N] --dir DIR   (under callgrind)\n"
		"  sustain    --msg args3 [--seconds S(5)] --threads T --dir DIR   (to disk)\n",
		"ttlog-bench-*", BENCH_LOGGER);
}

/* Parses a count such as 1000000, 1M or 200k. */
static int bench_parse_count(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		v *= 1000;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1000000;
		end++;
	}
	if (*end != '\0' || v < 0)
		return -1;
	*out = v;
	return 0;
}

static int bench_parse_opts(int argc, char **argv, struct bench_opts *o)
{
	memset(o, 0, sizeof *o);
	o->msg = BENCH_MSG_ARGS3;
	o->calls = -1;
	o->warmup = -1;
	o->gap_ns = 5000;
	o->threads = 1;
	o->cpu = -2;
	o->seconds = 5.0;
	if (argc < 2) {
		bench_usage(stderr);
		return -1;
	}
	o->mode = argv[1];
	if (!strcmp(o->mode, "-h") || !strcmp(o->mode, "--help")) {
		bench_usage(stdout);
		exit(0);
	}
	int have_variant = 0;
	for (int a = 2; a < argc; a++) {
		const char *opt = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;
		long n = 0;
		if (!val) {
			fprintf(stderr, "bench: %s needs a value\n", opt);
			return -1;
		}
		a++;
		if (!strcmp(opt, "--msg")) {
			if (!strcmp(val, "args3"))
				o->msg = BENCH_MSG_ARGS3;
			else if (!strcmp(val, "noargs"))
				o->msg = BENCH_MSG_NOARGS;
			else if (!strcmp(val, "str200"))
				o->msg = BENCH_MSG_STR200;
			else if (!strcmp(val, "args3s8"))
				o->msg = BENCH_MSG_ARGS3S8;
			else {
				fprintf(stderr, "bench: unknown --msg %s\n", val);
				return -1;
			}
		} else if (!strcmp(opt, "--variant")) {
			if (!strcmp(val, "spaced"))
				o->spaced = 1;
			else if (!strcmp(val, "burst"))
				o->spaced = 0;
			else {
				fprintf(stderr, "bench: unknown --variant %s\n", val);
				return -1;
			}
			have_variant = 1;
		} else if (!strcmp(opt, "--dir")) {
			o->dir = val;
		} else if (!strcmp(opt, "--seconds")) {
			char *end;
			o->seconds = strtod(val, &end);
			if (*end != '\0' || !(o->seconds > 0 && o->seconds <= 3600)) {
				fprintf(stderr, "bench: --seconds must be in (0, 3600]\n");
				return -1;
			}
		} else if (!strcmp(opt, "--cpu")) {
			o->cpu = atoi(val) < 0 ? -1 : atoi(val);
		} else if (bench_parse_count(val, &n) != 0) {
			fprintf(stderr, "bench: %s: not a count: %s\n", opt, val);
			return -1;
		} else if (!strcmp(opt, "--calls")) {
			o->calls = n;
		} else if (!strcmp(opt, "--warmup")) {
			o->warmup = n;
		} else if (!strcmp(opt, "--gap-ns")) {
			o->gap_ns = n;
		} else if (!strcmp(opt, "--threads")) {
			if (n < 1 || n > 1024) {
				fprintf(stderr, "bench: --threads must be 1..1024\n");
				return -1;
			}
			o->threads = (int)n;
		} else {
			fprintf(stderr, "bench: unknown option %s\n", opt);
			return -1;
		}
	}
	if (!o->dir) {
		fprintf(stderr, "bench: --dir DIR is required\n");
		return -1;
	}
	if (!strcmp(o->mode, "latency") && !have_variant) {
		fprintf(stderr, "bench: latency needs --variant spaced|burst\n");
		return -1;
	}
	if (o->calls == 0) {
		fprintf(stderr, "bench: --calls must be at least 1\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Message arguments                                                   */

/*
 * The string arguments live in writable globals and are passed through an
 * empty asm before use, so the compiler cannot treat them as constants
 * (strlen of a literal would fold to 17 at compile time, a saving no real
 * program gets).
 */
static char bench_path_arg[] = BENCH_PATH_STRING;
static char bench_short_arg[] = BENCH_SHORT_STRING;
static char bench_str200_arg[BENCH_STR200_LEN + 1];

static void bench_init_args(void)
{
	for (int k = 0; k < BENCH_STR200_LEN; k++)
		bench_str200_arg[k] = (char)('a' + k % 26);
	bench_str200_arg[BENCH_STR200_LEN] = '\0';
}

static inline const char *bench_opaque_ptr(const char *p)
{
	__asm__ __volatile__("" : "+r"(p));
	return p;
}

/* ------------------------------------------------------------------ */
/* Time                                                                */

#include "tsc.h"

static inline uint64_t bench_now_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * One (TSC, CLOCK_MONOTONIC_RAW) point: the clock read bracketed by two TSC
 * reads, best of several tries (the narrowest bracket is the one least
 * disturbed by an interrupt), the TSC taken at the bracket's middle.
 */
static void bench_tsc_point(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int k = 0; k < 16; k++) {
		uint64_t a = bench_tsc_begin();
		uint64_t t = bench_now_ns(CLOCK_MONOTONIC_RAW);
		uint64_t b = bench_tsc_end();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = t;
		}
	}
}

/* TSC ticks per nanosecond, measured over about 80 ms. */
static double bench_tsc_ghz(void)
{
	uint64_t t0, n0, t1, n1;
	bench_tsc_point(&t0, &n0);
	struct timespec pause = {0, 80 * 1000 * 1000};
	while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
	}
	bench_tsc_point(&t1, &n1);
	return (double)(t1 - t0) / (double)(n1 - n0);
}

/* ------------------------------------------------------------------ */
/* Results                                                             */

static void bench_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* The members every result line starts with. */
static void bench_json_head(FILE *out, const char *mode, enum bench_msg msg)
{
	fputs("{\"logger\":", out);
	bench_json_string(out, BENCH_LOGGER);
	fprintf(out, ",\"mode\":\"%s\",\"msg\":\"%s\"", mode, bench_msg_names[msg]);
}

/* The members every result line ends with, and the closing brace. */
static void bench_json_tail(FILE *out, int has_file)
{
	fprintf(out, ",\"file\":%s", has_file ? "true" : "false");
#ifdef BENCH_HAS_REPORT
	char extra[512] = "";
	bench_report(extra, sizeof extra);
	if (extra[0])
		fprintf(out, ",%s", extra);
#endif
	fputs("}\n", out);
	fflush(out);
}

/* The bytes the logger left in the scratch directory, as JSON members. */
static void bench_json_disk(FILE *out, const char *dir, long logged)
{
	long long bytes = bench_dir_bytes(dir);
	if (bytes < 0)
		return;
	fprintf(out, ",\"disk_bytes\":%lld,\"disk_bytes_per_event\":%.3f", bytes,
		logged > 0 ? (double)bytes / (double)logged : 0.0);
}

/* Runs bench_drain() and says whether the logger has a file; -1 on error. */
static int bench_do_drain(void)
{
	int r = bench_drain();
	if (r != 0 && r != 1) {
		fprintf(stderr, "bench: %s: drain failed\n", BENCH_LOGGER);
		return -1;
	}
	return r == 0;
}

/* ------------------------------------------------------------------ */
/* Latency                                                             */

struct bench_latency {
	const struct bench_opts *o;
	uint32_t *samples;      /* ticks, after the timer's own cost is removed */
	long n;
	long warmup;
	long warmed;            /* warm-up calls actually made */
	uint64_t gap_ticks;
	uint32_t timer_ticks;   /* median cost of an empty timed interval */
	uint64_t tsc_step;      /* median difference of two back-to-back TSC reads */
	int cpu;                /* CPU the producer ran on, -1 if not pinned */
};

static int bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/*
 * One timed call per iteration. The arguments are produced before the
 * interval starts and passed through an empty asm, so that computing them
 * (the int to double conversion, say) is not part of the measurement and the
 * compiler cannot move it inside. In spaced mode the loop busy-waits on the
 * TSC until gap ticks after the previous call started: sleeping would let
 * the CPU change power state and measure the wake-up instead.
 */
#define BENCH_TIMED_LOOP(CALL)                                                       \
	for (long k = 0; k < n; k++) {                                               \
		int i = (int)k;                                                      \
		double d = i * 0.5;                                                  \
		const char *p = path;                                                \
		const char *q = big;                                                 \
		__asm__ __volatile__("" : "+r"(i), "+x"(d), "+r"(p), "+r"(q));       \
		(void)i;                                                             \
		(void)d;                                                             \
		(void)p;                                                             \
		(void)q;                                                             \
		uint64_t t0 = bench_tsc_begin();                                     \
		CALL;                                                                \
		uint64_t t1 = bench_tsc_end();                                       \
		uint64_t dt = t1 - t0;                                               \
		out[k] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;                \
		if (gap)                                                             \
			while (bench_rdtsc() - t0 < gap)                             \
				__asm__ __volatile__("pause");                       \
	}

/* msg < 0: the empty interval, for the timer's own cost. */
static void bench_timed_calls(int msg, uint32_t *out, long n, uint64_t gap)
{
	/* args3s8 is args3 with the short string as its p. */
	const char *path = bench_opaque_ptr(msg == BENCH_MSG_ARGS3S8 ? bench_short_arg : bench_path_arg);
	const char *big = bench_opaque_ptr(bench_str200_arg);
	switch (msg) {
	case BENCH_MSG_ARGS3:
	case BENCH_MSG_ARGS3S8:
		BENCH_TIMED_LOOP(bench_log_args3(i, d, p))
		break;
	case BENCH_MSG_NOARGS:
		BENCH_TIMED_LOOP(bench_log_noargs())
		break;
	case BENCH_MSG_STR200:
		BENCH_TIMED_LOOP(bench_log_str200(q))
		break;
	default:
		BENCH_TIMED_LOOP((void)0)
		break;
	}
}

/* Pins the calling thread; returns the CPU, or -1. cpu -2: the highest
 * CPU this process may use (CPU 0 usually takes the most interrupts). */
static int bench_pin(int cpu)
{
	if (cpu == -1)
		return -1;
	cpu_set_t set;
	if (cpu == -2) {
		if (sched_getaffinity(0, sizeof set, &set) != 0)
			return -1;
		for (int c = CPU_SETSIZE - 1; c >= 0; c--)
			if (CPU_ISSET(c, &set)) {
				cpu = c;
				break;
			}
		if (cpu < 0)
			return -1;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
		return -1;
	return cpu;
}

static void *bench_latency_thread(void *arg)
{
	struct bench_latency *L = (struct bench_latency *)arg;
	/* Pinned here, not in main(): threads a logger started in
	 * bench_setup() keep their own affinity and may run elsewhere. */
	L->cpu = bench_pin(L->o->cpu);
	bench_thread_setup();

	/* Warm-up with the same loop: caches, branch predictors, the logger's
	 * per-thread state and the pages of the samples array. */
	long w = L->warmup < L->n ? L->warmup : L->n;
	for (L->warmed = 0; L->warmed < L->warmup; L->warmed += w)
		bench_timed_calls((int)L->o->msg, L->samples, w, L->gap_ticks);

	/* Some CPUs and hypervisors advance the TSC in steps of many ticks
	 * (about 10 ns on some AMD EPYC guests), which quantises every sample.
	 * The median difference between two back-to-back reads shows the
	 * step, so that the tables can say how fine the percentiles can be. */
	long sn = L->n < 10000 ? L->n : 10000;
	for (long k = 0; k < sn; k++) {
		uint64_t a = bench_rdtsc(), b = bench_rdtsc();
		while (b == a)
			b = bench_rdtsc();
		L->samples[k] = b - a > UINT32_MAX ? UINT32_MAX : (uint32_t)(b - a);
	}
	qsort(L->samples, (size_t)sn, sizeof *L->samples, bench_cmp_u32);
	L->tsc_step = L->samples[sn / 2];

	long tn = L->n < 100000 ? L->n : 100000;
	bench_timed_calls(-1, L->samples, tn, 0);
	qsort(L->samples, (size_t)tn, sizeof *L->samples, bench_cmp_u32);
	L->timer_ticks = L->samples[tn / 2];

	bench_timed_calls((int)L->o->msg, L->samples, L->n, L->gap_ticks);
	return NULL;
}

/* Nearest-rank percentile of sorted samples. */
static uint32_t bench_pct(const uint32_t *s, long n, double p)
{
	double rank = p / 100.0 * (double)n;
	long k = (long)rank;
	if ((double)k < rank)
		k++;
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return s[k - 1];
}

static int bench_mode_latency(const struct bench_opts *o)
{
	struct bench_latency L;
	memset(&L, 0, sizeof L);
	L.o = o;
	L.n = o->calls > 0 ? o->calls : 1000000;
	L.warmup = o->warmup >= 0 ? o->warmup : 100000;
	double ghz = bench_tsc_ghz();
	L.gap_ticks = o->spaced ? (uint64_t)((double)o->gap_ns * ghz) : 0;
	L.samples = (uint32_t *)calloc((size_t)L.n, sizeof *L.samples);
	if (!L.samples) {
		fprintf(stderr, "bench: out of memory for %ld samples\n", L.n);
		return 1;
	}

	pthread_t t;
	if (pthread_create(&t, NULL, bench_latency_thread, &L) != 0) {
		fprintf(stderr, "bench: cannot start the producer thread\n");
		return 1;
	}
	pthread_join(t, NULL);
	int has_file = bench_do_drain();
	if (has_file < 0)
		return 1;

	double sum = 0;
	for (long k = 0; k < L.n; k++) {
		L.samples[k] = L.samples[k] > L.timer_ticks ? L.samples[k] - L.timer_ticks : 0;
		sum += L.samples[k];
	}
	qsort(L.samples, (size_t)L.n, sizeof *L.samples, bench_cmp_u32);
	/* The mean of the samples up to p99: when the TSC advances in coarse
	 * steps, single samples are quantised but their average is not (the
	 * calls start at random phases of the step), and cutting the top 1 %
	 * keeps interrupts and page faults out of it. */
	uint32_t p99 = bench_pct(L.samples, L.n, 99);
	double tsum = 0;
	long tn = 0;
	for (; tn < L.n && L.samples[tn] <= p99; tn++)
		tsum += L.samples[tn];

	static const double pcts[] = {50, 90, 99, 99.9, 99.99};
	static const char *const names[] = {"p50", "p90", "p99", "p99_9", "p99_99"};
	bench_json_head(stdout, "latency", o->msg);
	printf(",\"variant\":\"%s\",\"calls\":%ld,\"warmup\":%ld,\"logged\":%ld",
	       o->spaced ? "spaced" : "burst", L.n, L.warmup, L.n + L.warmed);
	for (int k = 0; k < 5; k++)
		printf(",\"%s\":%.2f", names[k], bench_pct(L.samples, L.n, pcts[k]) / ghz);
	printf(",\"max\":%.2f,\"mean\":%.2f,\"timer_ns\":%.2f,\"tsc_ghz\":%.4f,\"cpu\":%d",
	       L.samples[L.n - 1] / ghz, sum / (double)L.n / ghz, L.timer_ticks / ghz, ghz, L.cpu);
	printf(",\"mean_to_p99\":%.2f,\"tsc_step_ns\":%.2f", tsum / (double)tn / ghz,
	       (double)L.tsc_step / ghz);
	if (o->spaced)
		printf(",\"gap_ns\":%ld", o->gap_ns);
	bench_json_tail(stdout, has_file);
	free(L.samples);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Throughput                                                          */

struct bench_tp_thread {
	pthread_t tid;
	pthread_barrier_t *barrier;
	enum bench_msg msg;
	long first, n, warmup;
	uint64_t start_ns, end_ns;
};

/* The switch is outside the loops: a per-call branch on the message kind
 * would be measured as part of the logger. */
#define BENCH_CALL_LOOP(CALL)                                  \
	for (long k = first; k < first + n; k++) {             \
		int i = (int)k;                                \
		(void)i;                                       \
		CALL;                                          \
	}

static void bench_tp_calls(enum bench_msg msg, long first, long n)
{
	const char *path = bench_opaque_ptr(bench_path_arg);
	const char *big = bench_opaque_ptr(bench_str200_arg);
	const char *shrt = bench_opaque_ptr(bench_short_arg);
	switch (msg) {
	case BENCH_MSG_ARGS3:
		BENCH_CALL_LOOP(bench_log_args3(i, i * 0.5, path))
		break;
	case BENCH_MSG_ARGS3S8:
		BENCH_CALL_LOOP(bench_log_args3(i, i * 0.5, shrt))
		break;
	case BENCH_MSG_NOARGS:
		BENCH_CALL_LOOP(bench_log_noargs())
		break;
	case BENCH_MSG_STR200:
		BENCH_CALL_LOOP(bench_log_str200(big))
		break;
	}
}

static void *bench_tp_main(void *arg)
{
	struct bench_tp_thread *T = (struct bench_tp_thread *)arg;
	bench_thread_setup();
	bench_tp_calls(T->msg, T->first, T->warmup);
	pthread_barrier_wait(T->barrier);
	T->start_ns = bench_now_ns(CLOCK_MONOTONIC);
	bench_tp_calls(T->msg, T->first, T->n);
	T->end_ns = bench_now_ns(CLOCK_MONOTONIC);
	return NULL;
}

static int bench_mode_throughput(const struct bench_opts *o)
{
	long calls = o->calls > 0 ? o->calls : 10000000;
	int nt = o->threads;
	long per = calls / nt;
	/* A warm-up in each thread before the barrier: the first calls
	 * allocate per-thread state and fault in its pages (ttlog's ring: a
	 * 1 MiB ring holds about 18 k args3 records). */
	long warmup = o->warmup >= 0 ? o->warmup : (per < 100000 ? per : 100000);
	struct bench_tp_thread *T = (struct bench_tp_thread *)calloc((size_t)nt, sizeof *T);
	pthread_barrier_t barrier;
	if (!T || pthread_barrier_init(&barrier, NULL, (unsigned)nt) != 0) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (int k = 0; k < nt; k++) {
		T[k].barrier = &barrier;
		T[k].msg = o->msg;
		T[k].first = per * k;
		T[k].n = k == nt - 1 ? calls - per * k : per;
		T[k].warmup = warmup;
		if (pthread_create(&T[k].tid, NULL, bench_tp_main, &T[k]) != 0) {
			fprintf(stderr, "bench: cannot start thread %d\n", k);
			exit(1);
		}
	}
	for (int k = 0; k < nt; k++)
		pthread_join(T[k].tid, NULL);
	uint64_t start = UINT64_MAX, end = 0;
	for (int k = 0; k < nt; k++) {
		if (T[k].start_ns < start)
			start = T[k].start_ns;
		if (T[k].end_ns > end)
			end = T[k].end_ns;
	}
	int has_file = bench_do_drain();
	uint64_t drained = bench_now_ns(CLOCK_MONOTONIC);
	if (has_file < 0)
		return 1;

	double secs = (double)(end - start) / 1e9;
	double dsecs = (double)(drained - start) / 1e9;
	bench_json_head(stdout, "throughput", o->msg);
	printf(",\"threads\":%d,\"calls\":%ld,\"warmup\":%ld,\"logged\":%ld,\"seconds\":%.6f,"
	       "\"calls_per_s\":%.0f",
	       nt, calls, warmup, calls + warmup * nt, secs, (double)calls / secs);
	if (has_file) {
		printf(",\"drain_seconds\":%.6f,\"drained_calls_per_s\":%.0f", dsecs, (double)calls / dsecs);
		bench_json_disk(stdout, o->dir, calls + warmup * nt);
	} else
		printf(",\"drain_seconds\":null,\"drained_calls_per_s\":null");
	bench_json_tail(stdout, has_file);
	pthread_barrier_destroy(&barrier);
	free(T);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Sustained rate to disk                                              */

/*
 * Every thread logs args3 messages back to back until the deadline, looking
 * at the clock once per BENCH_SUSTAIN_CHUNK calls, and counts its calls.
 * Then the logger is drained: bench_drain() returns once everything logged
 * is in its files (and fsync'ed). The figure is the messages logged, less
 * the ones the logger reports as dropped (the driver subtracts them), over
 * the time from the start to the end of the drain: the rate at which
 * messages reach the file, not the rate at which calls return.
 */
#define BENCH_SUSTAIN_CHUNK 256

struct bench_sustain_thread {
	pthread_t tid;
	pthread_barrier_t *barrier;
	enum bench_msg msg;
	uint64_t deadline_ns;
	long calls;
	uint64_t start_ns, end_ns;
};

static void *bench_sustain_main(void *arg)
{
	struct bench_sustain_thread *T = (struct bench_sustain_thread *)arg;
	bench_thread_setup();
	pthread_barrier_wait(T->barrier);
	T->start_ns = bench_now_ns(CLOCK_MONOTONIC);
	long n = 0;
	uint64_t now = T->start_ns;
	while (now < T->deadline_ns) {
		bench_tp_calls(T->msg, n, BENCH_SUSTAIN_CHUNK);
		n += BENCH_SUSTAIN_CHUNK;
		now = bench_now_ns(CLOCK_MONOTONIC);
	}
	T->end_ns = now;
	T->calls = n;
	return NULL;
}

static int bench_mode_sustain(const struct bench_opts *o)
{
	int nt = o->threads;
	struct bench_sustain_thread *T = (struct bench_sustain_thread *)calloc((size_t)nt, sizeof *T);
	pthread_barrier_t barrier;
	if (!T || pthread_barrier_init(&barrier, NULL, (unsigned)nt + 1) != 0) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (int k = 0; k < nt; k++) {
		T[k].barrier = &barrier;
		T[k].msg = o->msg;
		if (pthread_create(&T[k].tid, NULL, bench_sustain_main, &T[k]) != 0) {
			fprintf(stderr, "bench: cannot start thread %d\n", k);
			exit(1);
		}
	}
	/* The deadline is set by this thread before it releases the others. */
	uint64_t start = bench_now_ns(CLOCK_MONOTONIC);
	uint64_t deadline = start + (uint64_t)(o->seconds * 1e9);
	for (int k = 0; k < nt; k++)
		T[k].deadline_ns = deadline;
	pthread_barrier_wait(&barrier);
	start = bench_now_ns(CLOCK_MONOTONIC);
	long calls = 0;
	uint64_t calls_end = 0;
	for (int k = 0; k < nt; k++) {
		pthread_join(T[k].tid, NULL);
		calls += T[k].calls;
		if (T[k].end_ns > calls_end)
			calls_end = T[k].end_ns;
	}
	int has_file = bench_do_drain();
	uint64_t drained = bench_now_ns(CLOCK_MONOTONIC);
	if (has_file < 0)
		return 1;
	if (!has_file) {
		fprintf(stderr, "bench: %s writes no file while it runs: nothing to sustain\n", BENCH_LOGGER);
		return BENCH_SKIP;
	}
	double secs = (double)(drained - start) / 1e9;
	double csecs = (double)(calls_end - start) / 1e9;
	bench_json_head(stdout, "sustain", o->msg);
	printf(",\"threads\":%d,\"logged\":%ld,\"seconds\":%.6f,\"calls_seconds\":%.6f,"
	       "\"logged_per_s\":%.0f,\"calls_per_s\":%.0f",
	       nt, calls, secs, csecs, (double)calls / secs, (double)calls / csecs);
	bench_json_disk(stdout, o->dir, calls);
	bench_json_tail(stdout, has_file);
	pthread_barrier_destroy(&barrier);
	free(T);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Instructions per call (run under valgrind --tool=callgrind)         */

/*
 * Two loops with the same shape: one logs, the baseline only produces the
 * same arguments and hands them to an empty asm, which keeps them alive
 * without emitting any instruction. (log loop - baseline) / n is the cost of
 * the log call as inlined at a call site. noinline keeps each loop a
 * separate function, so that the compiler cannot merge them or move work
 * between them and the client requests.
 */
#ifdef BENCH_HAVE_CALLGRIND
__attribute__((noinline)) static void bench_loop_log(enum bench_msg msg, long n)
{
	bench_tp_calls(msg, 0, n);
}

__attribute__((noinline)) static void bench_loop_base(enum bench_msg msg, long n)
{
	const char *path = bench_opaque_ptr(msg == BENCH_MSG_ARGS3S8 ? bench_short_arg : bench_path_arg);
	const char *big = bench_opaque_ptr(bench_str200_arg);
	const long first = 0;
	switch (msg) {
	case BENCH_MSG_ARGS3:
	case BENCH_MSG_ARGS3S8:
		BENCH_CALL_LOOP(double d = i * 0.5; __asm__ __volatile__("" : : "r"(i), "x"(d), "r"(path)))
		break;
	case BENCH_MSG_NOARGS:
		BENCH_CALL_LOOP(__asm__ __volatile__(""))
		break;
	case BENCH_MSG_STR200:
		BENCH_CALL_LOOP(__asm__ __volatile__("" : : "r"(big)))
		break;
	}
}

#endif /* BENCH_HAVE_CALLGRIND */

static int bench_mode_instr(const struct bench_opts *o)
{
#ifdef BENCH_HAVE_CALLGRIND
	long n = o->calls > 0 ? o->calls : 200000;
	long warmup = o->warmup >= 0 ? o->warmup : n / 10;
	bench_thread_setup();
	bench_loop_log(o->msg, warmup);
	bench_loop_base(o->msg, warmup);
#ifdef BENCH_HAS_SETTLE
	bench_settle();
#endif

	/* These requests zero and dump the calling thread's counters only. */
	CALLGRIND_ZERO_STATS;
	bench_loop_base(o->msg, n);
	CALLGRIND_DUMP_STATS_AT("bench-base");
	bench_loop_log(o->msg, n);
	CALLGRIND_DUMP_STATS_AT("bench-log");
	/* A background thread's counters are dumped when the program ends and
	 * cover its whole life: the driver divides them by every message
	 * logged (warmup + calls). Draining here makes that work complete. */
	int has_file = bench_do_drain();
	if (has_file < 0)
		return 1;
	bench_json_head(stdout, "instr", o->msg);
	printf(",\"calls\":%ld,\"warmup\":%ld,\"logged\":%ld,\"under_valgrind\":%s", n, warmup, n + warmup,
	       RUNNING_ON_VALGRIND ? "true" : "false");
	bench_json_tail(stdout, has_file);
	return 0;
#else
	(void)o;
	fprintf(stderr, "bench: built without <valgrind/callgrind.h>; instr mode is not available\n");
	return BENCH_SKIP;
#endif
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct bench_opts o;
	if (bench_parse_opts(argc, argv, &o) != 0)
		return 2;
	int is_latency = !strcmp(o.mode, "latency");
	int is_tp = !strcmp(o.mode, "throughput");
	int is_instr = !strcmp(o.mode, "instr");
	int is_sustain = !strcmp(o.mode, "sustain");
	if (!is_latency && !is_tp && !is_instr && !is_sustain) {
		fprintf(stderr, "bench: unknown mode %s\n", o.mode);
		bench_usage(stderr);
		return 2;
	}
	bench_init_args();

	struct bench_env env;
	env.dir = o.dir;
	env.threads = is_tp || is_sustain ? o.threads : 1;
	int r = bench_setup(&env);
	if (r == BENCH_SKIP)
		return BENCH_SKIP;
	if (r != 0) {
		fprintf(stderr, "bench: %s: setup failed\n", BENCH_LOGGER);
		return 1;
	}
	if (is_latency)
		r = bench_mode_latency(&o);
	else if (is_tp)
		r = bench_mode_throughput(&o);
	else if (is_sustain)
		r = bench_mode_sustain(&o);
	else
		r = bench_mode_instr(&o);
	bench_teardown();
	return r;
}

#endif /* BENCH_HARNESS_H */
