/* SPDX-License-Identifier: MIT */
/*
 * recover.c - `ttlog recover`: the shared mappings that processes in
 * shared-memory mode leave in <base>/ttlog-<uid>/ (ttlog_tools.h) turned
 * into normal snapshot files, listed, or cleaned up.
 *
 * A mapping outlives its process when the process ends without a word
 * (SIGKILL, the OOM killer, a power cut of the process's parent...): its
 * rings, thread table and call sites are all in the file, so the history
 * that no crash handler could write is still there to read. Recovering it
 * writes a snapshot with the reason "recovered", makes it durable (file and
 * directory fsync'd) and only then removes the mapping, so that a failure at
 * any step leaves the mapping for another try.
 *
 * Who owns a mapping decides what may be done with it: the owner is alive
 * when its pid exists with the start time recorded in the header (a pid
 * reused by another process does not count), is not a zombie (killed,
 * not yet reaped by its parent) and still maps the file (after exec the
 * pid and start time are the same, but the mapping is gone with the old
 * program: "exec'd", left behind like a dead one's). A live owner's mapping
 * is never removed, and is recovered only on request (--live): its rings
 * are being written while they are copied, and `ttlog snap PID` is the
 * command meant for running processes. When the owner's /proc/PID/maps
 * cannot be read, pid and start time decide alone, and a note says so.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "render/json_text.h"
#include "render/names.h"
#include "render/time_text.h"
#include "redact_opt.h"
#include "report.h"
#include "ttlog_reader.h"

#define COMMAND "recover"
#define REASON "recovered"

/* One mapping file of the user's directory. */
struct mapping {
	char *path;
	int name_pid;          /* the pid in the file's name; 0 if it is not <pid>.ttshm */
	int valid;             /* the header was read: info holds it */
	int alive;             /* valid: its owner runs; not valid: some process has name_pid */
	int owner;             /* valid: enum ttlog__shm_owner */
	int maps_errno;        /* owner UNCHECKED: why /proc/PID/maps could not be read */
	int foreign;           /* the file or its header is another user's: never touched */
	struct ttlog__shm_info info;
	char *error;           /* why the header could not be read */
	uint64_t size;         /* bytes, from stat() */
	dev_t dev;             /* the file that was read, so that the one removed */
	ino_t ino;             /* later is known to be the same */
};

struct recover {
	int all, list, clean, keep, live, json, utc;
	const char *core;      /* --core: a core dump to recover from */
	const char *exe;       /* --exe: its program */
	const char *dir;       /* --dir; NULL: the directory in each mapping's header */
	const char *base;      /* --shm-dir or $TTLOG_SHARED_DIR; NULL: the default */
	char user_dir[PATH_MAX];
	struct mapping *maps;
	size_t nmaps, cap;
	struct render_buf line;
};

void cli_recover_usage(FILE *out)
{
	fputs("Usage: ttlog recover [OPTIONS] [PID|FILE]...\n"
	      "       ttlog recover --core CORE [--exe PROGRAM] [--dir DIR]\n"
	      "\n"
	      "Turns the shared mapping of a process that ran in shared-memory mode\n"
	      "(TTLOG_SHARED_MEMORY=1) into a normal snapshot file, with the reason\n"
	      "'recovered', and prints the path of each file written, one per line. The\n"
	      "mapping holds the process's rings, so its recent history survives SIGKILL\n"
	      "and the OOM killer, which leave no time for a crash snapshot. Of a process\n"
	      "that was also streaming (TTLOG_STREAM), the reason is\n"
	      "'recovered-after-stream': the snapshot holds the whole rings, records the\n"
	      "stream had not decided on yet included, and read with the segments as one\n"
	      "store (ttlog view DIR) each event shows once.\n"
	      "\n"
	      "PID names the mapping <base>/ttlog-UID/PID.ttshm; FILE names a mapping by\n"
	      "its path. Without PID or FILE, recovers every mapping whose process is gone\n"
	      "(as --all).\n"
	      "\n"
	      "The snapshots are encrypted when TTLOG_ENCRYPT_KEY (a public key file of\n"
	      "'ttlog keygen') is set for this command, as the process's would have been;\n"
	      "the mappings themselves are not encrypted.\n"
	      "\n"
	      "Once its snapshot is written and fsync'd, a mapping whose process is gone\n"
	      "is removed (--keep keeps it). A running process's mapping is never removed;\n"
	      "it is recovered only with --live: its rings change while they are copied,\n"
	      "and 'ttlog snap PID' is the command for running processes. A process counts\n"
	      "as running when its pid exists with the start time in the mapping's header,\n"
	      "so a pid reused by another program does not keep a mapping alive, is not a\n"
	      "zombie (killed, not yet reaped by its parent), and still maps the file\n"
	      "(/proc/PID/maps): a process that called exec keeps its pid and start time\n"
	      "but not its mappings, so its old mapping is left behind (\"exec'd\") and is\n"
	      "recovered and removed like a dead one's. When /proc/PID/maps cannot be read\n"
	      "(a process that is not dumpable), pid and start time decide, with a note.\n"
	      "\n"
	      "With --core, writes a snapshot with the reason 'core' from a core dump of a\n"
	      "process that linked ttlog (shared-memory mode not needed): the library keeps\n"
	      "a self-describing anchor in its data (docs/CORE-FORMAT.md), found in the\n"
	      "core's memory, which leads to the rings, the call sites and the clock. A\n"
	      "core of a program without ttlog, a truncated core or a file that is not a\n"
	      "core gets a clear error; a truncated core still gives what it holds.\n"
	      "\n"
	      "Options:\n"
	      "  -a, --all             recover every mapping whose process is gone; running\n"
	      "                        ones are skipped with a note on stderr\n"
	      "  -l, --list            list the mappings instead: PID, STATE (running,\n"
	      "                        exiting, crashed, exec'd, dead, invalid), EXECUTABLE,\n"
	      "                        CREATED, THREADS, SIZE and MAPPING (its path)\n"
	      "      --clean           remove the mappings whose process is gone, without\n"
	      "                        recovering them, and print the path of each one\n"
	      "                        removed; with PID or FILE, only those. A running\n"
	      "                        process's mapping is never removed; one whose header\n"
	      "                        cannot be read only when no process has the pid of\n"
	      "                        its name. (--clean --all is --clean.) Without PID or\n"
	      "                        FILE, also removes the unfinished snapshots\n"
	      "                        (.ttlog-PID-*.tmp, yours, of processes that are gone)\n"
	      "                        in --dir DIR, else in the default snapshot directory\n"
	      "                        and in the one of each mapping\n"
	      "      --core CORE       recover from the core dump CORE (no PID or FILE; the\n"
	      "                        snapshot goes to --dir DIR, else to the default\n"
	      "                        snapshot directory, as 'ttlog ls' shows it)\n"
	      "      --exe PROGRAM     with --core: the program that dumped it, for call-site\n"
	      "                        strings the core does not hold (rarely needed)\n"
	      "  -k, --keep            do not remove a mapping after recovering it\n"
	      "      --live            also recover the mappings of running processes\n"
	      "  -d, --dir DIR         write the snapshots to DIR, made if missing (default:\n"
	      "                        the directory the process wrote its snapshots to,\n"
	      "                        from the mapping); with --clean, the snapshot\n"
	      "                        directory whose unfinished snapshots are removed\n"
	      "      --shm-dir BASE    the mappings are in BASE/ttlog-UID (default:\n"
	      "                        $TTLOG_SHARED_DIR, else " TTLOG_SHM_DEFAULT_BASE ")\n"
	      "  -o, --output FORMAT   with --list: text (the default) or json, one object\n"
	      "                        per mapping and line: path, pid, state, alive,\n"
	      "                        maps_checked, executable, created, created_ns,\n"
	      "                        threads, size, snapshot_dir, snapshot_signal, error\n"
	      "      --utc             with --list: times in UTC instead of local time\n"
	      "      --redact RULES    redaction rules the snapshots apply, in\n"
	      "                        TTLOG_REDACT's syntax (default: this command's\n"
	      "                        TTLOG_REDACT), besides the process's own, which\n"
	      "                        its mapping carries (needed when they were too\n"
	      "                        long for it: the command then says so)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0 success (nothing to recover too), 1 usage error, or a running\n"
	      "process's mapping named without --live; 2 a mapping is missing, not yours,\n"
	      "damaged or cannot be read, or a snapshot cannot be written. With several\n"
	      "mappings, each is tried and the worst status is returned.\n",
	      out);
}

static int worse(int a, int b)
{
	return a > b ? a : b;
}

#define error_line(...) cli_report_error(COMMAND, __VA_ARGS__)

/* Whether some process has this pid (one of another user too) and is not
 * a zombie. */
static int pid_exists(int pid)
{
	if (kill(pid, 0) != 0 && errno != EPERM)
		return 0;
	char state = ttlog__shm_process_state(pid);
	return state != 'Z' && state != 'X';
}

/* The pid in a name "<pid>.ttshm", or 0. */
static int pid_of_name(const char *name)
{
	size_t n = strlen(name), m = strlen(TTLOG_SHM_SUFFIX);
	char digits[16];
	int pid;

	if (n <= m || n - m >= sizeof digits || strcmp(name + n - m, TTLOG_SHM_SUFFIX) != 0)
		return 0;
	memcpy(digits, name, n - m);
	digits[n - m] = '\0';
	return cli_parse_pid(digits, &pid) == 0 ? pid : 0;
}

/*
 * Reads the header of m->path into m. A header that names another user, or
 * a file owned by another, is refused like a damaged one: its contents are
 * not ours to turn into a snapshot or to delete.
 */
static void inspect(struct mapping *m)
{
	char err[512];
	struct stat st;
	uid_t me = geteuid();

	m->name_pid = pid_of_name(render_base_name(m->path));
	/* Before the header: whatever is read is this file or a later one. */
	if (stat(m->path, &st) != 0) {
		snprintf(err, sizeof err, "%s: %s", m->path, strerror(errno));
		m->error = render_xstrdup(err);
		return;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->size = (uint64_t)st.st_size;
	if (ttlog__shm_inspect(m->path, &m->info, err, sizeof err) != 0) {
		m->error = render_xstrdup(err);
		m->alive = m->name_pid && pid_exists(m->name_pid);
		return;
	}
	if (st.st_uid != me) {
		snprintf(err, sizeof err, "%s: owned by uid %u, not by you (uid %u)", m->path,
			 (unsigned)st.st_uid, (unsigned)me);
		m->error = render_xstrdup(err);
		m->foreign = 1;
		return;
	}
	if (m->info.uid != (uint32_t)me) {
		snprintf(err, sizeof err, "%s: made by uid %" PRIu32 ", not by you (uid %u)", m->path,
			 m->info.uid, (unsigned)me);
		m->error = render_xstrdup(err);
		m->foreign = 1;
		return;
	}
	m->valid = 1;
	m->owner = ttlog__shm_owner(&m->info, &m->maps_errno);
	m->alive = ttlog__shm_owner_counts_alive(m->owner);
	if (m->owner == TTLOG_SHM_OWNER_UNCHECKED)
		error_line("note: %s: /proc/%d/maps cannot be read (%s): process %d (%s) counts as "
			   "running by its pid and start time, though it may have called exec since "
			   "('ttlog recover --live %d' recovers it anyway)",
			   m->path, m->info.pid, strerror(m->maps_errno), m->info.pid,
			   render_base_name(m->info.executable), m->info.pid);
}

static struct mapping *add_mapping(struct recover *r, char *path)
{
	if (r->nmaps == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->maps = render_xrealloc(r->maps, r->cap * sizeof *r->maps);
	}
	struct mapping *m = &r->maps[r->nmaps++];
	memset(m, 0, sizeof *m);
	m->path = path;
	return m;
}

static int by_pid(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;
	int px = x->valid ? x->info.pid : x->name_pid, py = y->valid ? y->info.pid : y->name_pid;
	if (px != py)
		return px < py ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * Reads every mapping of the user's directory into r->maps, sorted by pid.
 * A directory that does not exist holds no mapping. 0, or -1 after a
 * message.
 */
static int read_user_dir(struct recover *r)
{
	DIR *dir = opendir(r->user_dir);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		error_line("%s: cannot read the directory: %s", r->user_dir, strerror(errno));
		return -1;
	}
	struct dirent *d;
	int status = 0;
	size_t suffix = strlen(TTLOG_SHM_SUFFIX);

	for (errno = 0; (d = readdir(dir)) != NULL; errno = 0) {
		size_t n = strlen(d->d_name);
		if (d->d_name[0] == '.' || n <= suffix ||
		    strcmp(d->d_name + n - suffix, TTLOG_SHM_SUFFIX) != 0)
			continue;
		struct render_buf path = {0};
		render_buf_printf(&path, "%s/%s", r->user_dir, d->d_name);
		struct stat st;
		if (lstat(path.data, &st) != 0 || !S_ISREG(st.st_mode)) {
			render_buf_free(&path); /* gone since readdir(), or not a file */
			continue;
		}
		inspect(add_mapping(r, path.data));
	}
	if (errno != 0) {
		error_line("%s: cannot read the directory: %s", r->user_dir, strerror(errno));
		status = -1;
	}
	closedir(dir);
	if (r->nmaps > 1)
		qsort(r->maps, r->nmaps, sizeof *r->maps, by_pid);
	return status;
}

/*
 * The mapping an argument names: a PID (its file in the user's directory,
 * which must exist and be that pid's) or a path. NULL after a message;
 * *status is then the exit status it deserves.
 */
static struct mapping *argument_mapping(struct recover *r, const char *arg, int *status)
{
	int pid = 0;
	char path[PATH_MAX];

	*status = CLI_EXIT_DATA;
	if (cli_parse_pid(arg, &pid) == 0) {
		if (ttlog__shm_path(r->base, pid, path, sizeof path) != 0) {
			error_line("the mapping of pid %d: its path in %s is too long", pid, r->user_dir);
			return NULL;
		}
		if (access(path, F_OK) != 0) {
			error_line("no mapping for pid %d in %s: %s (is the process in shared-memory "
				   "mode, TTLOG_SHARED_MEMORY=1, with this base directory?)",
				   pid, r->user_dir, strerror(errno));
			return NULL;
		}
	} else if (snprintf(path, sizeof path, "%s", arg) >= (int)sizeof path) {
		error_line("%.64s...: path too long", arg);
		return NULL;
	} else if (access(path, F_OK) != 0) {
		error_line("%s: %s", path, strerror(errno));
		return NULL;
	}
	struct mapping *m = add_mapping(r, render_xstrdup(path));
	inspect(m);
	/* --clean decides on a damaged header itself (by the pid of the name). */
	if (m->error && (!r->clean || m->foreign)) {
		error_line("%s", m->error);
		return NULL;
	}
	if (pid && m->valid && m->info.pid != pid) {
		error_line("%s: its header names pid %d, not %d", m->path, m->info.pid, pid);
		return NULL;
	}
	*status = CLI_EXIT_OK;
	return m;
}

/*
 * Removes m's file if it is still the file that was read: a new process
 * with the same pid may have replaced it since (the pid was reused), and
 * that mapping is not ours to remove. 0; 1 if it is gone already; -1 after
 * a message.
 */
static int remove_mapping(const struct mapping *m)
{
	struct stat now;

	if (stat(m->path, &now) != 0) {
		if (errno == ENOENT)
			return 1;
		error_line("%s: %s", m->path, strerror(errno));
		return -1;
	}
	if (now.st_dev != m->dev || now.st_ino != m->ino) {
		error_line("%s: replaced since it was read (its pid is in use again); kept", m->path);
		return -1;
	}
	if (unlink(m->path) != 0) {
		if (errno == ENOENT)
			return 1;
		error_line("%s: cannot remove it: %s", m->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Recovers one mapping whose header was read. Returns an exit status. */
static int recover_one(struct recover *r, const struct mapping *m)
{
	char file[PATH_MAX], err[1024];

	int rc = ttlog__shm_snapshot(m->path, r->dir, REASON, file, sizeof file, err, sizeof err);
	/* Partial: written from everything valid, some entries of the mapping
	 * skipped, or the mapping shrank while it was read (err says which). */
	const char *partial = cli_partial_snapshot(rc, file);
	if (rc != TTLOG_OK && !partial) {
		error_line("%s%s", err[0] ? err : ttlog_strerror(rc),
			   r->dir || rc == TTLOG_E_CORRUPT ? "" : " (--dir DIR writes the snapshot elsewhere)");
		return CLI_EXIT_DATA;
	}
	render_buf_reset(&r->line);
	cli_report_text(&r->line, file);
	render_buf_putc(&r->line, '\n');
	render_buf_write(&r->line, stdout);
	cli_sync_stdout();
	if (partial) {
		/* What was skipped is only in the mapping: it stays, for a look. */
		error_line("%s (%s is in %s; the mapping is kept)", err, partial, file);
		return CLI_EXIT_DATA;
	}

	if (r->keep || m->alive)
		return CLI_EXIT_OK;
	/* The mapping goes only once its history is safely elsewhere. */
	if (cli_fsync_path(file) != 0) {
		error_line("%s: cannot make it durable (%s); the mapping %s is kept", file,
			   strerror(errno), m->path);
		return CLI_EXIT_DATA;
	}
	/* The owner was dead (or exec'd) when inspected, and a dead process
	 * stays dead: only a new process with the same pid, which has a new
	 * start time and its own file, could be there now; remove_mapping()
	 * sees it. An exec'd one never maps the file again: ttlog in its new
	 * program replaces the file with a new one (a new inode), which
	 * remove_mapping() sees too. */
	return remove_mapping(m) >= 0 ? CLI_EXIT_OK : CLI_EXIT_DATA;
}

static void refuse_live(const struct mapping *m)
{
	error_line("%s: process %d (%s) is still running: its rings change while they are "
		   "copied and its mapping stays in use; use 'ttlog snap %d' for a snapshot of a "
		   "running process, or --live to recover it anyway",
		   m->path, m->info.pid, render_base_name(m->info.executable), m->info.pid);
}

/* --all: every mapping whose owner is gone. */
static int recover_all(struct recover *r)
{
	int status = CLI_EXIT_OK, recovered = 0;

	if (read_user_dir(r) != 0)
		return CLI_EXIT_DATA;
	for (size_t i = 0; i < r->nmaps && !cli_stdout_failed(); i++) {
		const struct mapping *m = &r->maps[i];
		if (!m->valid) {
			/* A live process may be making its mapping right now. */
			if (m->alive && m->name_pid) {
				error_line("%s: skipped: its header cannot be read yet (%s) and process "
					   "%d is running", m->path, m->error, m->name_pid);
				continue;
			}
			error_line("%s", m->error);
			status = worse(status, CLI_EXIT_DATA);
			continue;
		}
		if (m->alive && !r->live) {
			error_line("%s: skipped: process %d (%s) is still running ('ttlog snap %d' "
				   "takes a snapshot of it)", m->path, m->info.pid,
				   render_base_name(m->info.executable), m->info.pid);
			continue;
		}
		status = worse(status, recover_one(r, m));
		recovered++;
	}
	if (r->nmaps == 0)
		error_line("no mappings in %s", r->user_dir);
	else if (recovered == 0 && status == CLI_EXIT_OK)
		error_line("no mapping of a process that is gone in %s", r->user_dir);
	return status;
}

/* Removes one mapping for --clean when its owner is gone. Returns an exit
 * status; named: the user named it (a live one is then an error). */
static int clean_one(struct recover *r, const struct mapping *m, int named)
{
	if (m->alive) {
		if (m->valid)
			error_line("%s: kept: process %d (%s) is running", m->path, m->info.pid,
				   render_base_name(m->info.executable));
		else
			error_line("%s: kept: its header cannot be read (%s) and process %d is "
				   "running", m->path, m->error, m->name_pid);
		return named ? CLI_EXIT_DATA : CLI_EXIT_OK;
	}
	if (m->foreign) {
		error_line("%s; kept", m->error);
		return CLI_EXIT_DATA;
	}
	if (!m->valid && !m->name_pid) {
		/* No pid to check: it could belong to anyone alive. */
		error_line("%s: kept: its header cannot be read (%s) and its name has no pid",
			   m->path, m->error);
		return CLI_EXIT_DATA;
	}
	int rc = remove_mapping(m);
	if (rc != 0) /* removed by someone else meanwhile, or an error */
		return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_DATA;
	render_buf_reset(&r->line);
	cli_report_text(&r->line, m->path);
	render_buf_putc(&r->line, '\n');
	render_buf_write(&r->line, stdout);
	return CLI_EXIT_OK;
}

/*
 * --clean in a snapshot directory: removes the temporaries
 * (.ttlog-PID-TID-N.tmp, docs/FORMAT.md "File names and publication") that
 * a writer left when its process died while writing (SIGKILL, a crash in
 * another thread of a process that could not wait for it). Only regular
 * files of this user whose process is gone; a missing directory holds
 * none. Prints the path of each one removed; returns an exit status.
 */
static int clean_temporaries(struct recover *r, const char *dir_path)
{
	DIR *dir = opendir(dir_path);
	if (!dir) {
		if (errno == ENOENT)
			return CLI_EXIT_OK;
		error_line("%s: cannot read the directory: %s", dir_path, strerror(errno));
		return CLI_EXIT_DATA;
	}
	int status = CLI_EXIT_OK;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		size_t n = strlen(d->d_name);
		char *end;
		if (strncmp(d->d_name, ".ttlog-", 7) != 0 || n < 12 ||
		    strcmp(d->d_name + n - 4, ".tmp") != 0)
			continue;
		long pid = strtol(d->d_name + 7, &end, 10);
		if (end == d->d_name + 7 || *end != '-' || pid <= 0 || pid > INT_MAX)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its process runs (or is another user's) */
		struct stat st;
		if (fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		render_buf_reset(&r->line);
		render_buf_printf(&r->line, "%s/%s", dir_path, d->d_name);
		if (unlinkat(dirfd(dir), d->d_name, 0) != 0) {
			if (errno != ENOENT) {
				error_line("%s: cannot remove it: %s", r->line.data, strerror(errno));
				status = CLI_EXIT_DATA;
			}
			continue;
		}
		char *removed = render_xstrdup(r->line.data);
		render_buf_reset(&r->line);
		cli_report_text(&r->line, removed);
		render_buf_putc(&r->line, '\n');
		render_buf_write(&r->line, stdout);
		free(removed);
	}
	closedir(dir);
	return status;
}

/* --clean without PID or FILE: the temporaries of dead writers in --dir,
 * else in the default snapshot directory and in each mapping's. */
static int clean_all_temporaries(struct recover *r)
{
	if (r->dir)
		return clean_temporaries(r, r->dir);
	char def[PATH_MAX];
	int status = CLI_EXIT_OK;
	if (ttlog_default_dir(def, sizeof def) == TTLOG_OK)
		status = worse(status, clean_temporaries(r, def));
	for (size_t i = 0; i < r->nmaps; i++) {
		const char *d = r->maps[i].valid ? r->maps[i].info.snapshot_dir : "";
		int seen = !d[0] || strcmp(d, def) == 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = r->maps[j].valid && strcmp(r->maps[j].info.snapshot_dir, d) == 0;
		if (!seen)
			status = worse(status, clean_temporaries(r, d));
	}
	return status;
}

/* ---- --list ------------------------------------------------------------- */

static const char *state_of(const struct mapping *m)
{
	return m->valid ? cli_mapping_state(&m->info, m->owner) : "invalid";
}

static void list_text(struct recover *r)
{
	struct cli_table t;
	char tb[RENDER_TIME_BUF], sb[CLI_SIZE_BUF];

	/* Right-aligned: PID (0), THREADS (4), SIZE (5). */
	cli_table_init(&t, 7, 1u << 0 | 1u << 4 | 1u << 5);
	t.min_width[0] = 7; /* Linux pids have at most 7 digits */
	const char *const heads[] = {"PID",     "STATE", "EXECUTABLE", "CREATED",
				     "THREADS", "SIZE",  "MAPPING"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		cli_table_cell(&t, "%s", heads[i]);
	for (size_t i = 0; i < r->nmaps; i++) {
		const struct mapping *m = &r->maps[i];
		if (m->valid)
			cli_table_cell(&t, "%d", m->info.pid);
		else if (m->name_pid)
			cli_table_cell(&t, "%d", m->name_pid);
		else
			cli_table_cell(&t, "-");
		cli_table_cell(&t, "%s", state_of(m));
		if (m->valid) {
			cli_table_text(&t, render_base_name(m->info.executable));
			render_time_format(m->info.created_ns, r->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL, tb);
			char *fraction = strchr(tb, '.');
			if (fraction)
				*fraction = '\0'; /* to the second */
			cli_table_cell(&t, "%s", tb);
			cli_table_cell(&t, "%" PRIu32, m->info.threads);
		} else {
			for (int c = 0; c < 3; c++)
				cli_table_cell(&t, "-");
		}
		cli_table_cell(&t, "%s", cli_report_size(m->size, sb));
		cli_table_text(&t, m->path);
	}
	cli_table_print(&t, "", &r->line);
	cli_table_free(&t);
}

static void list_json(struct recover *r)
{
	struct render_buf *b = &r->line;
	char tb[RENDER_TIME_BUF];

	for (size_t i = 0; i < r->nmaps && !cli_stdout_failed(); i++) {
		const struct mapping *m = &r->maps[i];
		const struct ttlog__shm_info *in = &m->info;
		render_buf_reset(b);
		render_buf_puts(b, "{\"path\":");
		render_json_cstring(b, m->path);
		if (m->valid)
			render_buf_printf(b, ",\"pid\":%d", in->pid);
		else if (m->name_pid)
			render_buf_printf(b, ",\"pid\":%d", m->name_pid);
		else
			render_buf_puts(b, ",\"pid\":null");
		render_buf_printf(b, ",\"state\":\"%s\",\"alive\":%s", state_of(m),
				  m->alive ? "true" : "false");
		/* Whether "alive" rests on the owner's maps (true) or on its pid
		 * and start time alone, its maps being unreadable (false); null
		 * when no process has the pid and start time. */
		if (m->valid && m->owner != TTLOG_SHM_OWNER_GONE)
			render_buf_printf(b, ",\"maps_checked\":%s",
					  m->owner == TTLOG_SHM_OWNER_UNCHECKED ? "false" : "true");
		else
			render_buf_puts(b, ",\"maps_checked\":null");
		if (m->valid) {
			const char *sig = in->snapshot_signal ? cli_signal_reason(in->snapshot_signal)
							      : NULL;
			render_buf_puts(b, ",\"executable\":");
			render_json_cstring(b, in->executable);
			render_buf_printf(b, ",\"created\":\"%s\",\"created_ns\":%" PRId64
					  ",\"threads\":%" PRIu32,
				       render_time_format(in->created_ns, RENDER_TIME_ISO, tb), in->created_ns,
				       in->threads);
			render_buf_printf(b, ",\"size\":%" PRIu64 ",\"snapshot_dir\":", m->size);
			render_json_cstring(b, in->snapshot_dir);
			render_buf_puts(b, ",\"snapshot_signal\":");
			render_json_cstring(b, sig);
		} else {
			render_buf_puts(b, ",\"executable\":null,\"created\":null,\"created_ns\":null,"
					"\"threads\":null");
			render_buf_printf(b, ",\"size\":%" PRIu64, m->size);
			render_buf_puts(b, ",\"snapshot_dir\":null,\"snapshot_signal\":null");
		}
		render_buf_puts(b, ",\"error\":");
		render_json_cstring(b, m->error);
		render_buf_puts(b, "}\n");
		render_buf_write(b, stdout);
	}
}

static int list(struct recover *r)
{
	if (read_user_dir(r) != 0)
		return CLI_EXIT_DATA;
	if (r->json)
		list_json(r);
	else if (r->nmaps)
		list_text(r);
	else
		error_line("no mappings in %s", r->user_dir);
	if (cli_stdout_failed())
		return CLI_EXIT_DATA;
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < r->nmaps; i++) {
		if (!r->maps[i].error)
			continue;
		error_line("%s", r->maps[i].error);
		status = CLI_EXIT_DATA;
	}
	return status;
}

/* ---- Options ------------------------------------------------------------ */

enum { OPT_CLEAN = 256, OPT_LIVE, OPT_SHM_DIR, OPT_UTC, OPT_CORE, OPT_EXE, OPT_REDACT };

#define SHORT_OPTIONS ":ad:hklo:"

static const struct option long_options[] = {
	{"all", no_argument, NULL, 'a'},
	{"list", no_argument, NULL, 'l'},
	{"clean", no_argument, NULL, OPT_CLEAN},
	{"keep", no_argument, NULL, 'k'},
	{"live", no_argument, NULL, OPT_LIVE},
	{"dir", required_argument, NULL, 'd'},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"redact", required_argument, NULL, OPT_REDACT},
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"core", required_argument, NULL, OPT_CORE},
	{"exe", required_argument, NULL, OPT_EXE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Parses the options into *r; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct recover *r, int argc, char **argv, int *status)
{
	const char *shm_dir = NULL, *empty_option = "", *redact = NULL;
	int c, output_given = 0;

	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_recover_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'a':
			r->all = 1;
			break;
		case 'l':
			r->list = 1;
			break;
		case OPT_CLEAN:
			r->clean = 1;
			break;
		case 'k':
			r->keep = 1;
			break;
		case OPT_LIVE:
			r->live = 1;
			break;
		case 'd':
			if (!*optarg)
				goto empty;
			r->dir = optarg;
			break;
		case OPT_REDACT:
			redact = optarg;
			break;
		case OPT_SHM_DIR:
			if (!*optarg)
				goto empty;
			shm_dir = optarg;
			break;
		case 'o':
			output_given = 1;
			if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
				r->json = optarg[0] == 'j';
				break;
			}
			*status = cli_report_usage_error(COMMAND, "unknown output format '%s' (use "
								  "text or json)", optarg);
			return -1;
		case OPT_UTC:
			r->utc = 1;
			break;
		case OPT_CORE:
			if (!*optarg) {
				empty_option = "--core";
				goto empty_file;
			}
			r->core = optarg;
			break;
		case OPT_EXE:
			if (!*optarg) {
				empty_option = "--exe";
				goto empty_file;
			}
			r->exe = optarg;
			break;
		default:
			*status = cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	int args = argc - optind;
	const char *conflict = NULL;
	if (r->exe && !r->core)
		conflict = "--exe names the program of a core: it goes with --core";
	else if (r->core && (r->list || r->all || r->clean || r->keep || r->live || args ||
			     output_given || r->utc || shm_dir))
		conflict = "--core takes no PID or FILE and none of --list, --all, --clean, --keep, "
			   "--live, --shm-dir, --output, --utc (only --exe and --dir)";
	else if (r->list && (r->all || r->clean || r->keep || r->live || r->dir || args))
		conflict = "--list takes no PID or FILE and none of --all, --clean, --keep, --live, "
			   "--dir";
	else if (r->clean && (r->keep || r->live))
		conflict = "--clean recovers nothing: --keep and --live do not go with it";
	else if (r->clean && r->dir && args)
		conflict = "--clean --dir cleans a snapshot directory: no PID or FILE with it";
	else if (r->all && args)
		conflict = "--all recovers every mapping of a process that is gone: give it no PID "
			   "or FILE";
	else if ((output_given || r->utc) && !r->list)
		conflict = "--output and --utc are options of --list";
	if (conflict) {
		*status = cli_report_usage_error(COMMAND, "%s", conflict);
		return -1;
	}
	if (cli_redact_setup(COMMAND, redact) != 0) {
		*status = CLI_EXIT_USAGE;
		return -1;
	}
	r->base = cli_shm_base(shm_dir);
	if (ttlog__shm_user_dir(r->base, r->user_dir, sizeof r->user_dir) != 0) {
		*status = cli_report_usage_error(COMMAND, "the base directory is too long: %s",
						 r->base);
		return -1;
	}
	return 0;
empty:
	*status = cli_report_usage_error(COMMAND, "option '%s' needs a directory, not ''",
					 argv[optind - 1]);
	return -1;
empty_file:
	*status = cli_report_usage_error(COMMAND, "option '%s' needs a file, not ''", empty_option);
	return -1;
}

/* --core: a snapshot from a core dump. */
static int recover_core(struct recover *r)
{
	char dir[PATH_MAX], file[PATH_MAX], err[1024];
	if (r->dir) {
		snprintf(dir, sizeof dir, "%s", r->dir);
	} else if (ttlog_default_dir(dir, sizeof dir) != TTLOG_OK) {
		error_line("no default snapshot directory: give one with --dir DIR");
		return CLI_EXIT_USAGE;
	} else if (cli_make_dir(COMMAND, dir) != 0) {
		return CLI_EXIT_DATA;
	}
	int rc = ttlog__core_snapshot(r->core, r->exe, dir, file, sizeof file, err, sizeof err);
	const char *partial = cli_partial_snapshot(rc, file);
	if (partial && rc == TTLOG_E_TRUNCATED)
		partial = "what the core holds";
	if (rc != TTLOG_OK && !partial) {
		error_line("%s", err[0] ? err : ttlog_strerror(rc));
		return CLI_EXIT_DATA;
	}
	render_buf_reset(&r->line);
	cli_report_text(&r->line, file);
	render_buf_putc(&r->line, '\n');
	render_buf_write(&r->line, stdout);
	cli_sync_stdout();
	if (partial) {
		error_line("%s (%s is in %s)", err, partial, file);
		return CLI_EXIT_DATA;
	}
	if (err[0])
		error_line("note: %s", err);
	return CLI_EXIT_OK;
}

static void recover_free(struct recover *r)
{
	for (size_t i = 0; i < r->nmaps; i++) {
		free(r->maps[i].path);
		free(r->maps[i].error);
	}
	free(r->maps);
	render_buf_free(&r->line);
}

int cli_recover_main(int argc, char **argv)
{
	struct recover r = {0};
	int status = CLI_EXIT_OK;

	if (parse_options(&r, argc, argv, &status) != 0)
		goto out;
	if (r.core) {
		if (r.dir && cli_make_dir(COMMAND, r.dir) != 0)
			status = CLI_EXIT_DATA;
		else
			status = recover_core(&r);
	} else if (r.list) {
		status = list(&r);
	} else if (r.dir && !r.clean && cli_make_dir(COMMAND, r.dir) != 0) {
		status = CLI_EXIT_DATA;
	} else if (optind == argc && r.clean) {
		if (read_user_dir(&r) != 0) {
			status = CLI_EXIT_DATA;
			goto out;
		}
		for (size_t i = 0; i < r.nmaps && !cli_stdout_failed(); i++)
			status = worse(status, clean_one(&r, &r.maps[i], 0));
		if (r.nmaps == 0)
			error_line("no mappings in %s", r.user_dir);
		status = worse(status, clean_all_temporaries(&r));
	} else if (optind == argc) {
		status = recover_all(&r);
	} else {
		for (int i = optind; i < argc && !cli_stdout_failed(); i++) {
			int st;
			/* The array may move as mappings are added: the pointer is
			 * used before the next one. */
			const struct mapping *m = argument_mapping(&r, argv[i], &st);
			if (!m) {
				status = worse(status, st);
			} else if (r.clean) {
				status = worse(status, clean_one(&r, m, 1));
			} else if (m->alive && !r.live) {
				refuse_live(m);
				status = worse(status, CLI_EXIT_USAGE);
			} else {
				status = worse(status, recover_one(&r, m));
			}
		}
	}
	if (cli_stdout_failed())
		status = worse(status, CLI_EXIT_DATA);
out:
	recover_free(&r);
	return status;
}
