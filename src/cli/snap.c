/* SPDX-License-Identifier: MIT */
/*
 * snap.c - `ttlog snap PID`: a snapshot of a running process, taken from
 * outside it.
 *
 * Two ways, chosen in this order:
 *   - the process runs in shared-memory mode: its rings are in a mapping
 *     the command can read itself (ttlog_tools.h), so the snapshot needs
 *     nothing from the process; it works while the process is hung, stopped
 *     (SIGSTOP) or busy, and the file gets the reason "external";
 *   - otherwise the process's on-demand snapshot signal is sent
 *     (TTLOG_SNAPSHOT_SIGNAL), its handler writes the snapshot, and the
 *     command waits for a new file ttlog-PID-*-SIGNAL.ttlog in the process's
 *     snapshot directory.
 *
 * With --stacks (a mapping only), every thread's stack is taken from
 * outside first (stack_capture.c: each thread stopped with ptrace for the
 * unwinding, then let go) and written into the snapshot as STCK chunks.
 *
 * A signal is sent only to a process that catches it (its bit is set in
 * SigCgt of /proc/PID/status): most signals end a process that does not
 * handle them, and a snapshot is not worth a killed server. Which signal
 * and which directory come from the options, else from the mapping's
 * header, else from the process's environment (/proc/PID/environ), read
 * with the same rules as the library's configuration (src/core/config.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "render/event_message.h"
#include "redact_opt.h"
#include "report.h"
#include "snap_trace.h"
#include "stack_capture.h"
#include "time_args.h"
#include "ttlog_reader.h"

#define COMMAND "snap"
#define REASON "external"
#define DEFAULT_TIMEOUT_NS (10 * (int64_t)1000000000)
#define POLL_NS (10 * 1000 * 1000) /* between two looks at the directory */
#define ENVIRON_MAX (1 << 20)      /* the kernel caps what exec takes well below */

struct snap {
	int pid;
	int signo;              /* --signal SIG; 0: the process's own */
	int via_signal;         /* --signal given (SIG or auto) */
	const char *dir;        /* --dir */
	const char *base;       /* --shm-dir, the process's or our $TTLOG_SHARED_DIR;
				   NULL: the default */
	int base_given;         /* --shm-dir */
	int stacks;             /* --stacks */
	int verbose;            /* --verbose */
	int have_trace;         /* --trace ID */
	int all, all_users;     /* --all, --all-users */
	uint64_t trace_hi, trace_lo;
	int64_t timeout_ns;
	char map_path[PATH_MAX];
	int have_map;           /* map_path holds a readable header of this process: info */
	struct ttlog__shm_info info;
	char *environ;          /* /proc/PID/environ, NUL-separated; NULL: not read */
	size_t environ_len;
	int environ_errno;      /* why it could not be read */
	char snapshot_dir[PATH_MAX];
	char **before;          /* names in snapshot_dir before the signal */
	size_t nbefore, cap;
};

void cli_snap_usage(FILE *out)
{
	fputs("Usage: ttlog snap [OPTIONS] PID\n"
	      "       ttlog snap --trace ID --all [--all-users] [--dir DIR]\n"
	      "\n"
	      "Takes a snapshot of the running process PID and prints the path of the file.\n"
	      "\n"
	      "With --trace ID --all: one request out of every process. Every process of\n"
	      "this user in shared-memory mode (of every user with --all-users, as root) is\n"
	      "read from outside, and of each, only the events of the trace ID are kept,\n"
	      "with the spans and contexts that enclose them (so each line shows where it\n"
	      "ran), from every thread. The processes' snapshots go into ONE file, a\n"
	      "bundle that keeps each process's pid, service, executable and clock; 'ttlog\n"
	      "view FILE' merges them by time and says how many events of other requests\n"
	      "were left out. The file goes to --dir DIR, else the default snapshot\n"
	      "directory (ttlog ls), named ttlog-<our pid>-<time>-trace-<ID>.ttlog; its path\n"
	      "is printed, and a summary on stderr. ID: 32 hex digits or a traceparent.\n"
	      "\n"
	      "If PID runs in shared-memory mode (TTLOG_SHARED_MEMORY=1), its mapping in\n"
	      "<base>/ttlog-UID is read directly: nothing is asked of the process, so this\n"
	      "works while it is hung or stopped, and the snapshot's reason is 'external'.\n"
	      "That snapshot is encrypted when TTLOG_ENCRYPT_KEY (a public key file of\n"
	      "'ttlog keygen') is set for this command.\n"
	      "\n"
	      "Otherwise (or with --signal) the process's on-demand snapshot signal is sent\n"
	      "(TTLOG_SNAPSHOT_SIGNAL) and the command waits for the new file\n"
	      "ttlog-PID-*-SIGNAL.ttlog that its handler writes. Which signal and which\n"
	      "directory: --signal and --dir, else the process's mapping, else its\n"
	      "environment (TTLOG_SNAPSHOT_SIGNAL; TTLOG_DIR, XDG_RUNTIME_DIR, as the\n"
	      "library decides), read from /proc/PID/environ. A process that sets them in\n"
	      "struct ttlog_config instead needs the options. The signal is sent only if\n"
	      "the process catches it (SigCgt in /proc/PID/status): one it does not catch\n"
	      "would likely end it.\n"
	      "\n"
	      "With --stacks, the stack of every thread of the process is written into the\n"
	      "snapshot too, for a process that hangs or deadlocks: each thread is stopped\n"
	      "(ptrace), unwound from outside with elfutils, and let go; the process stands\n"
	      "still only while its threads are unwound (--verbose prints how long). 'ttlog\n"
	      "view' shows each thread's stack by tid and name, symbolised, after the events.\n"
	      "It needs the right to ptrace the process: the same user with\n"
	      "kernel.yama.ptrace_scope 0, or root (CAP_SYS_PTRACE), and no debugger\n"
	      "attached.\n"
	      "\n"
	      "Options:\n"
	      "      --trace ID        with --all: only the events of trace ID (see above)\n"
	      "      --all             with --trace: every shared-memory process of the user\n"
	      "      --all-users       with --trace --all: of every user (needs root)\n"
	      "      --stacks          with a mapping: also take every thread's stack\n"
	      "  -v, --verbose         say on stderr how long the process was stopped for\n"
	      "                        --stacks, and how many threads were unwound\n"
	      "  -s, --signal SIG      take the snapshot through signal SIG (USR2, SIGUSR2,\n"
	      "                        12), or 'auto' for the process's own, even when it\n"
	      "                        has a mapping\n"
	      "  -d, --dir DIR         with a mapping: write the snapshot to DIR, made if\n"
	      "                        missing (default: the process's snapshot directory);\n"
	      "                        with a signal: where the process writes snapshots\n"
	      "  -t, --timeout DURATION  how long to wait for the file a signal makes\n"
	      "                        (default 10s; units ns, us, ms, s, m, h)\n"
	      "      --shm-dir BASE    the mappings are in BASE/ttlog-UID (default: the\n"
	      "                        process's TTLOG_SHARED_DIR, else ours, else\n"
	      "                        " TTLOG_SHM_DEFAULT_BASE ")\n"
	      "      --redact RULES    with a mapping: redaction rules the snapshot\n"
	      "                        applies, in TTLOG_REDACT's syntax (default: this\n"
	      "                        command's TTLOG_REDACT), besides the process's\n"
	      "                        own, which its mapping carries; a signal's\n"
	      "                        snapshot has the process's own rules\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0 the snapshot was written; 1 usage error, or the signal or\n"
	      "the directory cannot be told and must be given; 2 no such process, not\n"
	      "permitted, a damaged mapping, the process does not catch the signal (it is\n"
	      "not sent), no snapshot appeared before the timeout, or --stacks could not\n"
	      "stop the process (not permitted: the message says what to do) or it is not\n"
	      "in shared-memory mode. With --trace: 0 the file was written (2 if a\n"
	      "process's mapping was damaged: its valid records are in it); 1 usage error,\n"
	      "a bad trace id; 3 no process holds an event of the trace (nothing written).\n",
	      out);
}

#define error_line(...) cli_report_error(COMMAND, __VA_ARGS__)

static void print_path(const char *path)
{
	struct render_buf line = {0};
	cli_report_text(&line, path);
	render_buf_putc(&line, '\n');
	render_buf_write(&line, stdout);
	render_buf_free(&line);
}

/* ---- The process -------------------------------------------------------- */

/* 0 if pid is a process this user may signal, else -1 after a message. */
static int check_process(int pid)
{
	if (kill(pid, 0) != 0) {
		if (errno == ESRCH)
			error_line("no process with pid %d", pid);
		else if (errno == EPERM)
			error_line("process %d belongs to another user: not permitted to signal it or "
				   "to read its mapping", pid);
		else
			error_line("process %d: %s", pid, strerror(errno));
		return -1;
	}
	if (ttlog__shm_process_state(pid) == 'Z') {
		error_line("process %d has exited (a zombie, not yet reaped by its parent)", pid);
		return -1;
	}
	return 0;
}

/*
 * Whether the process catches signo: its bit (signo - 1) in the hex mask
 * on the SigCgt line of /proc/PID/status. 1, 0, or -1 if it cannot be told.
 */
static int catches(int pid, int signo)
{
	char path[64], line[256];
	int result = -1;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "SigCgt:", 7) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long long mask = strtoull(line + 7, &end, 16);
		if (errno == 0 && end != line + 7)
			result = (int)(mask >> (signo - 1) & 1u);
		break;
	}
	fclose(f);
	return result;
}

/* Reads /proc/PID/environ into s->environ, or records why it cannot. */
static void read_environ(struct snap *s)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", s->pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		s->environ_errno = errno;
		return;
	}
	struct render_buf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < ENVIRON_MAX)
		render_buf_put(&b, chunk, n);
	/* A process of another user, read without the right: the open works,
	 * the read fails. */
	if (ferror(f)) {
		s->environ_errno = errno ? errno : EIO;
		render_buf_free(&b);
	} else {
		render_buf_reserve(&b, 0);
		s->environ = b.data;
		s->environ_len = b.len;
	}
	fclose(f);
}

/* The value of name in the process's environment, or NULL. */
static const char *environ_get(const struct snap *s, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; s->environ && i < s->environ_len;) {
		const char *entry = s->environ + i;
		size_t len = strnlen(entry, s->environ_len - i);
		if (len > n && strncmp(entry, name, n) == 0 && entry[n] == '=')
			return i + len < s->environ_len ? entry + n + 1 : NULL;
		i += len + 1;
	}
	return NULL;
}

/* ---- Through the mapping ------------------------------------------------ */

/*
 * Looks for the process's mapping. 1: s->info holds its header (the process
 * is its live owner); 0: there is none of this process; -1: it cannot be
 * read (after a message).
 */
static int find_mapping(struct snap *s)
{
	char err[512];

	if (ttlog__shm_path(s->base, s->pid, s->map_path, sizeof s->map_path) != 0) {
		error_line("the mapping of pid %d: its path in %s is too long", s->pid,
			   s->base ? s->base : TTLOG_SHM_DEFAULT_BASE);
		return -1;
	}
	if (access(s->map_path, F_OK) != 0)
		return 0;
	if (ttlog__shm_inspect(s->map_path, &s->info, err, sizeof err) != 0) {
		if (s->via_signal) { /* not needed: the signal is asked for */
			error_line("note: %s; ignored", err);
			return 0;
		}
		error_line("%s (--signal auto takes the snapshot through the process's signal "
			   "instead)", err);
		return -1;
	}
	int owner = s->info.pid == s->pid ? ttlog__shm_owner(&s->info, NULL) : TTLOG_SHM_OWNER_GONE;
	if (owner == TTLOG_SHM_OWNER_EXECED) {
		/* The process runs another program now, perhaps with ttlog in
		 * private mode: its snapshot signal may still answer. */
		error_line("note: %s is the mapping process %d had before it called exec, left "
			   "behind ('ttlog recover %d' turns it into a snapshot)",
			   s->map_path, s->pid, s->pid);
		return 0;
	}
	if (!ttlog__shm_owner_counts_alive(owner)) {
		error_line("note: %s is the mapping of an earlier process %d, gone ('ttlog recover "
			   "%d' turns it into a snapshot)", s->map_path, s->info.pid, s->info.pid);
		return 0;
	}
	s->have_map = 1;
	return 1;
}

/* --stacks: every thread's stack, into *st. 0, or an exit status after a
 * message. */
static int take_stacks(struct snap *s, struct cli_stacks *st)
{
	char err[1024];
	if (cli_stacks_capture(s->pid, st, err, sizeof err) != 0) {
		error_line("--stacks: %s", err);
		return CLI_EXIT_DATA;
	}
	if (s->verbose) {
		error_line("stopped process %d for %.3f ms to take the stacks of %zu thread%s",
			   s->pid, (double)st->stopped_ns / 1e6, st->ext.nstacks,
			   st->ext.nstacks == 1 ? "" : "s");
	}
	/* Nothing is lost silently. */
	if (st->gone)
		error_line("note: %u thread%s of process %d ended before %s could be stopped",
			   st->gone, st->gone == 1 ? "" : "s", s->pid, st->gone == 1 ? "it" : "they");
	if (st->failed)
		error_line("note: %u thread%s of process %d could not be unwound (%s): written "
			   "without frames", st->failed, st->failed == 1 ? "" : "s", s->pid, st->note);
	return 0;
}

static int snap_mapping(struct snap *s)
{
	char file[PATH_MAX], err[1024];
	struct cli_stacks st;
	memset(&st, 0, sizeof st);
	if (s->dir && cli_make_dir(COMMAND, s->dir) != 0)
		return CLI_EXIT_DATA;
	if (s->stacks) {
		int status = take_stacks(s, &st);
		if (status != 0) {
			cli_stacks_free(&st);
			return status;
		}
	}
	int rc = ttlog__shm_snapshot_stacks(s->map_path, s->dir, REASON, s->stacks ? &st.ext : NULL,
					    file, sizeof file, err, sizeof err);
	cli_stacks_free(&st);
	const char *partial = cli_partial_snapshot(rc, file);
	if (partial) {
		/* Written from everything valid; err names what was skipped, or
		 * says that the file shrank while it was read. */
		print_path(file);
		error_line("%s (%s is in %s)", err, partial, file);
		return CLI_EXIT_DATA;
	}
	if (rc != TTLOG_OK) {
		error_line("%s", err[0] ? err : ttlog_strerror(rc));
		return CLI_EXIT_DATA;
	}
	print_path(file);
	return CLI_EXIT_OK;
}

/* ---- Through the signal ------------------------------------------------- */

/* The signal to send, into s->signo. 0, or an exit status after a message. */
static int choose_signal(struct snap *s)
{
	if (s->signo)
		return 0;
	if (s->have_map) {
		if (s->info.snapshot_signal) {
			s->signo = s->info.snapshot_signal;
			return 0;
		}
		error_line("process %d has no snapshot signal (its mapping %s says none)", s->pid,
			   s->map_path);
		return CLI_EXIT_USAGE;
	}
	if (!s->environ) {
		error_line("cannot tell which signal makes process %d take a snapshot: /proc/%d/environ "
			   "cannot be read (%s); give it with --signal SIG",
			   s->pid, s->pid, strerror(s->environ_errno));
		return CLI_EXIT_USAGE;
	}
	const char *v = environ_get(s, "TTLOG_SNAPSHOT_SIGNAL");
	if (!v || !*v || strcasecmp(v, "none") == 0 || strcmp(v, "0") == 0) {
		error_line("cannot tell which signal makes process %d take a snapshot: its environment "
			   "sets no TTLOG_SNAPSHOT_SIGNAL (a program may set "
			   "ttlog_config.snapshot_signal instead); give it with --signal SIG", s->pid);
		return CLI_EXIT_USAGE;
	}
	if ((s->signo = cli_parse_signal(v)) < 0) {
		error_line("process %d: TTLOG_SNAPSHOT_SIGNAL='%s' in its environment is not a "
			   "signal; give one with --signal SIG", s->pid, v);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static void strip_trailing_slashes(char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
}

/*
 * Where the process writes its snapshots, into s->snapshot_dir, by the
 * rules of ttlog__config_resolve(): TTLOG_DIR (relative to the process's
 * working directory), else $XDG_RUNTIME_DIR/ttlog, else /tmp/ttlog-UID.
 * 0, or an exit status after a message.
 */
static int choose_dir(struct snap *s)
{
	const char *dir = s->dir;
	int n = 0;

	if (!dir && s->have_map)
		dir = s->info.snapshot_dir;
	if (dir) {
		n = snprintf(s->snapshot_dir, sizeof s->snapshot_dir, "%s", dir);
	} else if (!s->environ) {
		error_line("cannot tell where process %d writes its snapshots: /proc/%d/environ "
			   "cannot be read (%s); give the directory with --dir DIR",
			   s->pid, s->pid, strerror(s->environ_errno));
		return CLI_EXIT_USAGE;
	} else if ((dir = environ_get(s, "TTLOG_DIR")) && *dir) {
		if (dir[0] == '/') {
			n = snprintf(s->snapshot_dir, sizeof s->snapshot_dir, "%s", dir);
		} else {
			/* The library made it absolute against its working directory
			 * at ttlog_init(); the current one is the best guess left. */
			char link[64], cwd[PATH_MAX];
			snprintf(link, sizeof link, "/proc/%d/cwd", s->pid);
			ssize_t len = readlink(link, cwd, sizeof cwd - 1);
			if (len <= 0) {
				error_line("cannot tell where process %d writes its snapshots: its "
					   "TTLOG_DIR '%s' is relative and %s cannot be read (%s); give "
					   "the directory with --dir DIR", s->pid, dir, link,
					   strerror(errno));
				return CLI_EXIT_USAGE;
			}
			cwd[len] = '\0';
			n = snprintf(s->snapshot_dir, sizeof s->snapshot_dir, "%s/%s", cwd, dir);
		}
	} else if ((dir = environ_get(s, "XDG_RUNTIME_DIR")) && dir[0] == '/') {
		n = snprintf(s->snapshot_dir, sizeof s->snapshot_dir, "%s/ttlog", dir);
	} else {
		/* /proc/PID belongs to the process's effective user. */
		char proc[64];
		struct stat st;
		snprintf(proc, sizeof proc, "/proc/%d", s->pid);
		unsigned uid = stat(proc, &st) == 0 ? (unsigned)st.st_uid : (unsigned)geteuid();
		n = snprintf(s->snapshot_dir, sizeof s->snapshot_dir, "/tmp/ttlog-%u", uid);
	}
	if (n < 0 || (size_t)n >= sizeof s->snapshot_dir) {
		error_line("the snapshot directory of process %d is too long a path", s->pid);
		return CLI_EXIT_USAGE;
	}
	strip_trailing_slashes(s->snapshot_dir);
	return 0;
}

/*
 * Whether name is that of a snapshot the process's signal handler writes:
 * ttlog-<pid>-<YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<reason>[-N].ttlog (the names of
 * final_name() in src/snapshot/writer.c).
 */
static int is_signal_snapshot(const struct snap *s, const char *name)
{
	char prefix[32];
	size_t plen = (size_t)snprintf(prefix, sizeof prefix, "ttlog-%d-", s->pid);
	const size_t time_len = sizeof "YYYYMMDDTHHMMSS.nnnnnnnnnZ" - 1;
	const char *reason = cli_signal_reason(s->signo);
	size_t rlen = strlen(reason);

	if (strncmp(name, prefix, plen) != 0 || strlen(name + plen) < time_len + 1)
		return 0;
	const char *p = name + plen + time_len;
	if (p[-1] != 'Z' || p[0] != '-' || strncmp(p + 1, reason, rlen) != 0)
		return 0;
	p += 1 + rlen;
	if (*p == '-') { /* -N: a name that was taken already */
		const char *digits = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits)
			return 0;
	}
	return strcmp(p, ".ttlog") == 0;
}

static int seen_before(const struct snap *s, const char *name)
{
	for (size_t i = 0; i < s->nbefore; i++)
		if (strcmp(s->before[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Scans the snapshot directory. Before the signal (record set), remembers
 * every matching name; after it, puts the first new one into found (a
 * path) and returns 1. 0: nothing new (a directory that does not exist
 * yet has nothing).
 */
static int scan(struct snap *s, int record, char *found, size_t found_size)
{
	DIR *dir = opendir(s->snapshot_dir);
	if (!dir)
		return 0;
	struct dirent *d;
	int result = 0;
	while (!result && (d = readdir(dir)) != NULL) {
		if (!is_signal_snapshot(s, d->d_name))
			continue;
		if (record) {
			if (s->nbefore == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 16;
				s->before = render_xrealloc(s->before, s->cap * sizeof *s->before);
			}
			size_t n = strlen(d->d_name) + 1;
			s->before[s->nbefore] = render_xrealloc(NULL, n);
			memcpy(s->before[s->nbefore++], d->d_name, n);
		} else if (!seen_before(s, d->d_name)) {
			snprintf(found, found_size, "%s/%s", s->snapshot_dir, d->d_name);
			result = 1;
		}
	}
	closedir(dir);
	return result;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int snap_signal(struct snap *s)
{
	char found[PATH_MAX + 256];
	int rc;

	if ((rc = choose_signal(s)) != 0 || (rc = choose_dir(s)) != 0)
		return rc;
	const char *name = cli_signal_reason(s->signo);
	switch (catches(s->pid, s->signo)) {
	case 1:
		break;
	case 0:
		error_line("process %d does not catch %s %d (its bit is clear in SigCgt of "
			   "/proc/%d/status): it has no ttlog snapshot handler on it, and the signal "
			   "could end it; not sent", s->pid, name, s->signo, s->pid);
		return CLI_EXIT_DATA;
	default:
		error_line("cannot tell whether process %d catches %s (/proc/%d/status cannot be "
			   "read); not sent", s->pid, name, s->pid);
		return CLI_EXIT_DATA;
	}

	scan(s, 1, NULL, 0);
	if (kill(s->pid, s->signo) != 0) {
		error_line("cannot send %s to process %d: %s", name, s->pid, strerror(errno));
		return CLI_EXIT_DATA;
	}
	/* Snapshot files appear under their final name only when complete
	 * (written under a temporary name, then linked), so the first new
	 * name is a finished file. */
	int64_t deadline = now_ns() + s->timeout_ns;
	for (;;) {
		if (scan(s, 0, found, sizeof found)) {
			print_path(found);
			return CLI_EXIT_OK;
		}
		if (kill(s->pid, 0) != 0 || ttlog__shm_process_state(s->pid) == 'Z') {
			/* It may have written the file just before it ended. */
			if (scan(s, 0, found, sizeof found)) {
				print_path(found);
				return CLI_EXIT_OK;
			}
			error_line("process %d ended before a new snapshot ttlog-%d-*-%s.ttlog appeared "
				   "in %s", s->pid, s->pid, name, s->snapshot_dir);
			return CLI_EXIT_DATA;
		}
		if (now_ns() >= deadline)
			break;
		struct timespec step = {0, POLL_NS};
		nanosleep(&step, NULL);
	}
	char timeout[64];
	struct render_buf t = {0};
	render_duration(&t, s->timeout_ns);
	snprintf(timeout, sizeof timeout, "%s", t.data ? t.data : "?");
	render_buf_free(&t);
	char state = ttlog__shm_process_state(s->pid);
	error_line("timed out: no new snapshot ttlog-%d-*-%s.ttlog appeared in %s within %s%s",
		   s->pid, name, s->snapshot_dir, timeout,
		   state == 'T' || state == 't'
			   ? " (the process is stopped: the signal waits until it continues)"
			   : " (does the process write its snapshots elsewhere? --dir DIR says "
			     "where to look)");
	return CLI_EXIT_DATA;
}

/* ---- Options ------------------------------------------------------------ */

enum { OPT_SHM_DIR = 256, OPT_REDACT, OPT_STACKS, OPT_TRACE, OPT_ALL, OPT_ALL_USERS };

#define SHORT_OPTIONS ":d:hs:t:v"

static const struct option long_options[] = {
	{"signal", required_argument, NULL, 's'},
	{"dir", required_argument, NULL, 'd'},
	{"timeout", required_argument, NULL, 't'},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"redact", required_argument, NULL, OPT_REDACT},
	{"stacks", no_argument, NULL, OPT_STACKS},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"all", no_argument, NULL, OPT_ALL},
	{"all-users", no_argument, NULL, OPT_ALL_USERS},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Parses the options into *s; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct snap *s, int argc, char **argv, int *status)
{
	const char *shm_dir = NULL, *why, *redact = NULL;
	int c;

	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_snap_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 's':
			s->via_signal = 1;
			if (strcmp(optarg, "auto") == 0)
				break;
			if ((s->signo = cli_parse_signal(optarg)) < 0 || s->signo == SIGKILL ||
			    s->signo == SIGSTOP) {
				*status = cli_report_usage_error(COMMAND, "'%s' is not a signal that can "
									  "be caught (use a name such as USR2 "
									  "or SIGUSR2, a number, or auto)",
								 optarg);
				return -1;
			}
			break;
		case 'd':
			if (!*optarg) {
				*status = cli_report_usage_error(COMMAND, "--dir needs a directory, not ''");
				return -1;
			}
			s->dir = optarg;
			break;
		case 't':
			if (cli_duration_parse(optarg, &s->timeout_ns, &why) != 0) {
				*status = cli_report_usage_error(COMMAND, "--timeout '%s': %s", optarg, why);
				return -1;
			}
			break;
		case OPT_REDACT:
			redact = optarg;
			break;
		case OPT_STACKS:
			s->stacks = 1;
			break;
		case OPT_TRACE:
			if (cli_parse_trace_id(optarg, &s->trace_hi, &s->trace_lo) != 0) {
				*status = cli_report_usage_error(COMMAND, "bad trace id '%s' for --trace "
									  "(use 32 hex digits, not all "
									  "zeros, or a traceparent)",
								 optarg);
				return -1;
			}
			s->have_trace = 1;
			break;
		case OPT_ALL:
			s->all = 1;
			break;
		case OPT_ALL_USERS:
			s->all_users = 1;
			break;
		case 'v':
			s->verbose = 1;
			break;
		case OPT_SHM_DIR:
			if (!*optarg) {
				*status = cli_report_usage_error(COMMAND,
								 "--shm-dir needs a directory, not ''");
				return -1;
			}
			shm_dir = optarg;
			break;
		default:
			*status = cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	if (s->have_trace || s->all || s->all_users) {
		const char *why = NULL;
		if (!s->have_trace)
			why = "--all and --all-users go with --trace ID";
		else if (!s->all)
			why = "--trace ID needs --all (one request out of every process)";
		else if (argc - optind != 0)
			why = "--trace ID --all takes no PID";
		else if (s->stacks || s->via_signal)
			why = "--trace does not go with --stacks or --signal";
		else if (s->all_users && geteuid() != 0)
			why = "--all-users needs root: another user's mappings are readable by "
			      "that user only";
		if (why) {
			*status = cli_report_usage_error(COMMAND, "%s", why);
			return -1;
		}
		if (cli_redact_setup(COMMAND, redact) != 0) {
			*status = CLI_EXIT_USAGE;
			return -1;
		}
		s->base = cli_shm_base(shm_dir);
		return 0;
	}
	if (argc - optind != 1) {
		*status = cli_report_usage_error(COMMAND, "expected one PID (got %d arguments)",
						 argc - optind);
		return -1;
	}
	if (s->stacks && s->via_signal) {
		*status = cli_report_usage_error(COMMAND, "--stacks works with the process's mapping "
							  "only, not with --signal");
		return -1;
	}
	if (cli_parse_pid(argv[optind], &s->pid) != 0) {
		*status = cli_report_usage_error(COMMAND, "'%s' is not a process id", argv[optind]);
		return -1;
	}
	if (cli_redact_setup(COMMAND, redact) != 0) {
		*status = CLI_EXIT_USAGE;
		return -1;
	}
	s->base = cli_shm_base(shm_dir);
	s->base_given = shm_dir != NULL;
	return 0;
}

int cli_snap_main(int argc, char **argv)
{
	struct snap *s = render_xrealloc(NULL, sizeof *s); /* holds three paths */
	int status = CLI_EXIT_OK;

	memset(s, 0, sizeof *s);
	s->timeout_ns = DEFAULT_TIMEOUT_NS;
	if (parse_options(s, argc, argv, &status) != 0)
		goto out;
	if (s->have_trace) {
		struct cli_snap_trace t = {s->trace_hi, s->trace_lo, s->base, s->dir, s->all_users,
					   s->verbose};
		status = cli_snap_trace(&t);
		goto out;
	}
	if (check_process(s->pid) != 0) {
		status = CLI_EXIT_DATA;
		goto out;
	}
	/* The process's own base directory, when it has one, before ours. */
	read_environ(s);
	const char *process_base = environ_get(s, "TTLOG_SHARED_DIR");
	if (!s->base_given && process_base && *process_base)
		s->base = process_base;
	int found = find_mapping(s);
	if (found < 0) {
		status = CLI_EXIT_DATA;
		goto out;
	}
	if (found && !s->via_signal) {
		status = snap_mapping(s);
		goto out;
	}
	if (s->stacks) {
		error_line("--stacks: process %d is not a ttlog process in shared-memory mode (no "
			   "live mapping %s): its rings cannot be read from outside; start it with "
			   "TTLOG_SHARED_MEMORY=1 (or give --shm-dir, if its mappings are elsewhere)",
			   s->pid, s->map_path);
		status = CLI_EXIT_DATA;
		goto out;
	}
	status = snap_signal(s);
out:
	if (cli_stdout_failed())
		status = CLI_EXIT_DATA;
	for (size_t i = 0; i < s->nbefore; i++)
		free(s->before[i]);
	free(s->before);
	free(s->environ);
	free(s);
	return status;
}
