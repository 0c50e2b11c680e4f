/* SPDX-License-Identifier: MIT */
/*
 * bench_common.c - the helpers shared by the ttlog-specific benchmarks
 * (see bench_common.h): command line, scratch directory, timing, child
 * processes, the logging workload and reading snapshots back.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ttlog.h>
#include <ttlog_reader.h>

extern char **environ;

const char *bench_prog = "ttlog-bench";

static char scratch_path[PATH_MAX];
static pid_t scratch_owner; /* forked children must not remove the parent's directory */
static char made_base[PATH_MAX]; /* --dir, when this program created it */
static int keep_scratch;         /* --keep */

/* ---- Messages ------------------------------------------------------------ */

__attribute__((format(printf, 1, 0))) static void vnote(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", bench_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void bench_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
}

void bench_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote(fmt, ap);
	va_end(ap);
	bench_scratch_remove();
	fflush(stdout);
	/* A forked child must not run the parent's atexit handlers or flush
	 * stdio buffers it inherited; _exit keeps both out of it. */
	if (scratch_owner && getpid() != scratch_owner)
		_exit(1);
	exit(1);
}

/* ---- Command line -------------------------------------------------------- */

static void usage(FILE *out, const char *what)
{
	fprintf(out,
		"Usage: %s [--quick] [--dir DIR] [--keep] [--ttlog PATH]\n"
		"       [--encrypt PREFIX] [--compression CODEC]\n"
		"\n"
		"%s\n"
		"\n"
		"Options:\n"
		"  --quick        small sizes and fewer repetitions (under ~10 s)\n"
		"  --dir DIR      scratch directory; the program works in a private\n"
		"                 subdirectory of DIR and removes it at the end\n"
		"                 (default: $TMPDIR, else /tmp)\n"
		"  --keep         leave the scratch directory and its files in place\n"
		"                 at the end (its path is printed), to profile a\n"
		"                 command on the same files\n"
		"  --ttlog PATH   the ttlog command (default: the one built with this\n"
		"                 benchmark)\n"
		"  --encrypt PREFIX  encrypted files: sealed to PREFIX.pub, read with\n"
		"                 PREFIX.key (make them with 'ttlog keygen -o PREFIX')\n"
		"  --compression CODEC  the snapshots' and segments' codec, as\n"
		"                 TTLOG_COMPRESSION takes it: lz4, packed, zstd[:LEVEL],\n"
		"                 none (default: ttlog's)\n"
		"  -h, --help     show this help and exit\n"
		"\n"
		"Output: one JSON object per line on stdout; diagnostics on stderr.\n"
		"TTLOG_* environment variables are ignored (removed at start), so that\n"
		"the configuration measured is the one the benchmark sets.\n",
		bench_prog, what);
}

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past the value. */
/* --compression, for bench_ttlog_init(). */
static const char *bench_compression;

static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		bench_die("%s needs a value (see --help)", name);
	*value = argv[++*i];
	return 1;
}

void bench_parse(int argc, char **argv, const char *what, struct bench_opts *o)
{
	if (argc > 0 && argv[0]) {
		const char *slash = strrchr(argv[0], '/');
		bench_prog = slash ? slash + 1 : argv[0];
	}
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quick") == 0) {
			o->quick = 1;
		} else if (strcmp(a, "--keep") == 0) {
			keep_scratch = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, what);
			exit(0);
		} else if (option_value(argc, argv, &i, "--dir", &o->dir) ||
			   option_value(argc, argv, &i, "--ttlog", &o->ttlog) ||
			   option_value(argc, argv, &i, "--encrypt", &o->encrypt) ||
			   option_value(argc, argv, &i, "--compression", &o->compression)) {
			/* stored by option_value */
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", bench_prog, a);
			usage(stderr, what);
			exit(1);
		}
	}
	bench_compression = o->compression;
	if (o->dir && !*o->dir)
		bench_die("--dir: empty directory name");
}

void bench_clear_ttlog_env(void)
{
	/* Collect the names first: unsetenv() changes environ under us. */
	char names[64][128];
	size_t n = 0;
	for (char **e = environ; e && *e && n < 64; e++) {
		const char *eq = strchr(*e, '=');
		if (strncmp(*e, "TTLOG_", 6) != 0 || !eq || (size_t)(eq - *e) >= sizeof names[0])
			continue;
		memcpy(names[n], *e, (size_t)(eq - *e));
		names[n][eq - *e] = '\0';
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		bench_note("ignoring %s from the environment", names[i]);
		unsetenv(names[i]);
	}
}

void bench_apply_encrypt(const struct bench_opts *o)
{
	if (!o->encrypt)
		return;
	char pub[4096], key[4096], err[512];
	snprintf(pub, sizeof pub, "%s.pub", o->encrypt);
	snprintf(key, sizeof key, "%s.key", o->encrypt);
	if (ttlog_reader_set_key_file(key, err, sizeof err) != TTLOG_OK)
		bench_die("--encrypt: %s", err);
	setenv("TTLOG_ENCRYPT_KEY", pub, 1);
	setenv("TTLOG_KEY", key, 1);
	bench_note("files sealed to %s", pub);
}

/* ---- Scratch directory --------------------------------------------------- */

const char *bench_scratch_create(const struct bench_opts *o)
{
	const char *base = o->dir;
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	scratch_owner = getpid();
	if (mkdir(base, 0700) == 0)
		snprintf(made_base, sizeof made_base, "%s", base);
	else if (errno != EEXIST)
		bench_die("--dir %s: cannot create it: %s", base, strerror(errno));
	int n = snprintf(scratch_path, sizeof scratch_path, "%s/ttlog-bench-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof scratch_path)
		bench_die("--dir %s: path too long", base);
	if (!mkdtemp(scratch_path)) {
		int e = errno;
		scratch_path[0] = '\0';
		bench_die("cannot create a scratch directory in %s: %s", base, strerror(e));
	}
	/* ttlog wants an absolute directory; make it one whatever DIR was. */
	char *abs = realpath(scratch_path, NULL);
	if (!abs)
		bench_die("%s: %s", scratch_path, strerror(errno));
	snprintf(scratch_path, sizeof scratch_path, "%s", abs);
	free(abs);
	return scratch_path;
}

void bench_scratch_remove(void)
{
	if (!scratch_owner || getpid() != scratch_owner)
		return;
	if (keep_scratch && scratch_path[0]) {
		fprintf(stderr, "%s: --keep: the files are in %s\n", bench_prog, scratch_path);
		scratch_path[0] = '\0';
		made_base[0] = '\0';
		return;
	}
	DIR *d = scratch_path[0] ? opendir(scratch_path) : NULL;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
			    unlinkat(dirfd(d), e->d_name, 0) != 0)
				fprintf(stderr, "%s: cannot remove %s/%s: %s\n", bench_prog, scratch_path,
					e->d_name, strerror(errno));
		closedir(d);
	}
	if (scratch_path[0] && rmdir(scratch_path) != 0)
		fprintf(stderr, "%s: cannot remove %s: %s\n", bench_prog, scratch_path, strerror(errno));
	scratch_path[0] = '\0';
	/* --dir itself goes too if this program made it and nothing else is
	 * there now (rmdir refuses otherwise, which is what we want). */
	if (made_base[0])
		rmdir(made_base);
	made_base[0] = '\0';
}

/* ---- Finding the ttlog command ------------------------------------------- */

static int is_program(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

void bench_find_cli(struct bench_opts *o)
{
	if (o->ttlog) {
		if (!is_program(o->ttlog))
			bench_die("--ttlog %s: not an executable file", o->ttlog);
		return;
	}
#ifdef TTLOG_BENCH_CLI
	/* The build passes the path of the ttlog it built with this benchmark. */
	if (is_program(TTLOG_BENCH_CLI)) {
		o->ttlog = TTLOG_BENCH_CLI;
		return;
	}
#endif
	/* Otherwise look next to the build tree this executable lives in:
	 * BUILD/bench/recorder/PROG next to BUILD/ttlog, and nearby layouts. */
	static char found[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *const rel[] = {"/../../ttlog", "/../ttlog", "/ttlog", "/../../../ttlog"};
		for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
			snprintf(found, sizeof found, "%s%s", exe, rel[i]);
			if (is_program(found)) {
				o->ttlog = found;
				return;
			}
		}
	}
	bench_die("cannot find the ttlog command; build it (make build) or pass --ttlog PATH");
}

/* ---- Time, statistics, files --------------------------------------------- */

int64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		bench_die("%s: %s", path, strerror(errno));
	return (uint64_t)st.st_size;
}

/* ---- Child processes ----------------------------------------------------- */

/* Runs argv; stdout goes to /dev/null, or through a pipe that is counted
 * into *count and, when out is not NULL, kept in out[0..cap-1]. stderr is
 * inherited, or written to errpath when that is not NULL. */
static int run_child(char *const argv[], uint64_t *count, char *out, size_t cap,
		     const char *errpath)
{
	/* posix_spawn rather than fork: the caller may have threads and ttlog's
	 * fork handlers, and none of that should run for a child that only
	 * execs. */
	posix_spawn_file_actions_t fa;
	int pipefd[2] = {-1, -1};
	if (posix_spawn_file_actions_init(&fa) != 0)
		bench_die("posix_spawn_file_actions_init failed");
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (count) {
		if (pipe2(pipefd, O_CLOEXEC) != 0)
			bench_die("pipe: %s", strerror(errno));
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	} else {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	}
	if (errpath)
		posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		bench_die("cannot run %s: %s", argv[0], strerror(rc));
	if (count) {
		close(pipefd[1]);
		static char buf[1 << 20];
		uint64_t total = 0;
		size_t kept = 0;
		for (;;) {
			ssize_t n = read(pipefd[0], buf, sizeof buf);
			if (n > 0) {
				if (out && kept + 1 < cap) {
					size_t k = (size_t)n < cap - 1 - kept ? (size_t)n : cap - 1 - kept;
					memcpy(out + kept, buf, k);
					kept += k;
				}
				total += (uint64_t)n;
			} else if (n == 0 || errno != EINTR) {
				break;
			}
		}
		close(pipefd[0]);
		if (out && cap)
			out[kept] = '\0';
		*count = total;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			bench_die("waitpid: %s", strerror(errno));
	return status;
}

int bench_run(char *const argv[], uint64_t *count)
{
	return run_child(argv, count, NULL, 0, NULL);
}

int bench_run_quiet(char *const argv[], const char *errpath)
{
	return run_child(argv, NULL, NULL, 0, errpath);
}

int bench_run_output(char *const argv[], char *out, size_t cap)
{
	uint64_t count;
	return run_child(argv, &count, out, cap, NULL);
}

pid_t bench_fork_pipe(void (*fn)(void *arg, int fd), void *arg, int *rfd)
{
	int fds[2];
	if (pipe(fds) != 0)
		bench_die("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		fn(arg, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	*rfd = fds[0];
	return pid;
}

int bench_run_to_file(char *const argv[], const char *outpath, const char *cwd)
{
	posix_spawn_file_actions_t fa;
	if (posix_spawn_file_actions_init(&fa) != 0)
		bench_die("posix_spawn_file_actions_init failed");
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		bench_die("cannot run %s: %s", argv[0], strerror(rc));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			bench_die("waitpid: %s", strerror(errno));
	return status;
}

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int signo)
{
	(void)signo;
	alarm_fired = 1; /* and, by returning, interrupts waitpid() */
}

int bench_wait(pid_t pid, unsigned timeout_s)
{
	/* An alarm without SA_RESTART interrupts the blocking waitpid: the
	 * parent wakes up when the child dies (no polling delay in the
	 * measurement) yet cannot hang on a stuck child. */
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm_fired = 0;
	alarm(timeout_s);
	int status;
	pid_t r;
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR && !alarm_fired)
		;
	int e = errno;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	if (r < 0) {
		if (alarm_fired) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			bench_die("child %d did not finish within %u s; killed it", (int)pid, timeout_s);
		}
		bench_die("waitpid: %s", strerror(e));
	}
	return status;
}

/* ---- ttlog set-up and the workload --------------------------------------- */

static int64_t init_ns; /* when bench_ttlog_init() returned */

void bench_ttlog_init(const char *dir, size_t ring_size, size_t memory_cap)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	cfg.ring_size = ring_size;
	cfg.memory_cap = memory_cap;
	cfg.compression = bench_compression;
	if (ttlog_init(&cfg) != TTLOG_OK)
		bench_die("ttlog_init: %s", ttlog_init_error());
	init_ns = bench_now_ns();
}

void bench_settle(void)
{
	int64_t wait = init_ns + BENCH_SETTLE_MS * 1000000 - bench_now_ns();
	if (wait > 0) {
		struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

void bench_log_event(int i)
{
	TTLOG_INFO("request id=%d latency=%f path=%s", i, i * 0.5, "GET /api/v1/users");
}

uint64_t bench_events_to_wrap(size_t ring_size, unsigned wraps)
{
	return ((uint64_t)wraps + 1) * ring_size / 16 + 1;
}

struct bench_pool {
	unsigned n;
	uint64_t events;
	uint64_t round;       /* written by the main thread before `go` */
	int quit;
	pthread_t *threads;
	pthread_barrier_t go, done;
};

struct worker_arg {
	struct bench_pool *pool;
	unsigned index;
};

static void *worker(void *arg)
{
	struct worker_arg *wa = arg;
	struct bench_pool *p = wa->pool;
	char name[16];
	snprintf(name, sizeof name, "worker-%u", wa->index);
	pthread_setname_np(pthread_self(), name);
	free(wa);
	for (;;) {
		pthread_barrier_wait(&p->go); /* also publishes round and quit */
		if (p->quit)
			break;
		uint64_t base = p->round * p->events;
		for (uint64_t k = 0; k < p->events; k++)
			bench_log_event((int)((base + k) & 0x7fffffff));
		pthread_barrier_wait(&p->done);
	}
	return NULL;
}

struct bench_pool *bench_pool_start(unsigned threads, uint64_t events)
{
	struct bench_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->threads = calloc(threads, sizeof *p->threads)))
		bench_die("out of memory");
	p->n = threads;
	p->events = events;
	if (pthread_barrier_init(&p->go, NULL, threads + 1) != 0 ||
	    pthread_barrier_init(&p->done, NULL, threads + 1) != 0)
		bench_die("pthread_barrier_init failed");
	for (unsigned i = 0; i < threads; i++) {
		struct worker_arg *wa = malloc(sizeof *wa);
		if (!wa)
			bench_die("out of memory");
		wa->pool = p;
		wa->index = i;
		int rc = pthread_create(&p->threads[i], NULL, worker, wa);
		if (rc != 0)
			bench_die("pthread_create: %s", strerror(rc));
	}
	return p;
}

void bench_pool_fill(struct bench_pool *p)
{
	p->round++;
	pthread_barrier_wait(&p->go);
	pthread_barrier_wait(&p->done);
}

void bench_pool_stop(struct bench_pool *p)
{
	p->quit = 1;
	pthread_barrier_wait(&p->go);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_barrier_destroy(&p->go);
	pthread_barrier_destroy(&p->done);
	free(p->threads);
	free(p);
}

/* ---- Reading snapshots back ---------------------------------------------- */

void bench_read_file(const char *path, struct bench_file *f)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	if (rc != TTLOG_OK) {
		const char *why = r ? ttlog_reader_error(r) : NULL;
		bench_die("%s: %s", path, why ? why : ttlog_strerror(rc));
	}
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	if (!info->complete)
		bench_die("%s: the snapshot is not complete (no END chunk)", path);
	memset(f, 0, sizeof *f);
	f->events = info->events;
	f->overwritten = info->overwritten;
	f->torn = info->torn;
	f->crashed = info->crashed;
	f->crash_signo = info->crash.signo;
	size_t n = ttlog_reader_thread_count(r);
	f->threads = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		/* Dropped at least as many records as it still holds: the ring
		 * went round at least twice. */
		if (t->events > 0 && t->overwritten >= t->events)
			f->threads_wrapped++;
	}
	ttlog_reader_close(r);
}
