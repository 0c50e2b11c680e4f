/* SPDX-License-Identifier: MIT */
/*
 * live.c - running processes in shared-memory mode as the sources of
 * `ttlog query --pid` and `ttlog top` (live.h).
 *
 * A process is found by its mapping, <base>/ttlog-<uid>/<pid>.ttshm
 * (ttlog_tools.h): base is --shm-dir, else the process's own
 * TTLOG_SHARED_DIR (read from /proc/PID/environ), else ours, else the
 * default. "all" lists the user's directory under --shm-dir, else ours,
 * else the default, and keeps the mappings whose owner still runs them.
 *
 * The copy: the owner is never signalled or stopped; its mapping is only
 * read (mapped read-only, with the same lock-free protocol as any
 * snapshot, so records overwritten while copied are counted as torn).
 * ttlog__shm_snapshot() writes the copy as a snapshot file into a private
 * directory of this command ($TMPDIR or /tmp, mode 0700); the file is
 * opened and unlinked at once, before any of it is read, so that nothing
 * is left behind even if the command is killed later, and the reader opens
 * it as /proc/self/fd/N. The directory is removed by cli_live_free().
 */
#define _GNU_SOURCE
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "report.h"
#include "render/text_buf.h"

/* The value of TTLOG_SHARED_DIR in process pid's environment, into buf;
 * 0 if found and not empty. */
static int process_shared_dir(int pid, char *buf, size_t size)
{
	char path[64], env[65536];
	snprintf(path, sizeof path, "/proc/%d/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, env, sizeof env - 1);
	close(fd);
	if (n <= 0)
		return -1;
	env[n] = '\0';
	static const char name[] = "TTLOG_SHARED_DIR=";
	for (ssize_t i = 0; i < n;) {
		const char *e = env + i;
		size_t len = strlen(e);
		if (strncmp(e, name, sizeof name - 1) == 0 && e[sizeof name - 1]) {
			if ((size_t)snprintf(buf, size, "%s", e + sizeof name - 1) >= size)
				return -1;
			return 0;
		}
		i += (ssize_t)len + 1;
	}
	return -1;
}

static void add(struct cli_live_set *set, int pid, const char *map_path)
{
	set->procs = render_xrealloc(set->procs, (set->n + 1) * sizeof *set->procs);
	struct cli_live_proc *p = &set->procs[set->n++];
	p->pid = pid;
	snprintf(p->map_path, sizeof p->map_path, "%s", map_path);
}

/* One PID: checks it is a live process of ours with a mapping of its own. */
static int find_one(const char *command, int pid, struct cli_live_set *set)
{
	char process_base[PATH_MAX], map_path[PATH_MAX], err[512];
	const char *who = command;

	if (kill(pid, 0) != 0) {
		if (errno == ESRCH)
			cli_report_error(who, "no process with pid %d", pid);
		else if (errno == EPERM)
			cli_report_error(who, "process %d belongs to another user: not permitted to "
					      "read its mapping", pid);
		else
			cli_report_error(who, "process %d: %s", pid, strerror(errno));
		return CLI_EXIT_DATA;
	}
	if (ttlog__shm_process_state(pid) == 'Z') {
		cli_report_error(who, "process %d has exited (a zombie, not yet reaped by its parent)",
				 pid);
		return CLI_EXIT_DATA;
	}
	/* The process's own base directory, unless --shm-dir names one. */
	const char *base = set->base;
	if (!set->base_given && process_shared_dir(pid, process_base, sizeof process_base) == 0)
		base = process_base;
	if (ttlog__shm_path(base, pid, map_path, sizeof map_path) != 0) {
		cli_report_error(who, "the mapping of pid %d: its path is too long", pid);
		return CLI_EXIT_DATA;
	}
	if (access(map_path, F_OK) != 0) {
		cli_report_error(who, "process %d is not in shared-memory mode: it has no mapping "
				      "%s (a program has one when it runs with TTLOG_SHARED_MEMORY=1; "
				      "--shm-dir names another base directory)", pid, map_path);
		return CLI_EXIT_DATA;
	}
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map_path, &info, err, sizeof err) != 0) {
		cli_report_error(who, "%s", err);
		return CLI_EXIT_DATA;
	}
	int owner = info.pid == pid ? ttlog__shm_owner(&info, NULL) : TTLOG_SHM_OWNER_GONE;
	if (!ttlog__shm_owner_counts_alive(owner)) {
		cli_report_error(who, "process %d is not in shared-memory mode: %s is the mapping "
				      "of %s, left behind ('ttlog recover %d' turns it into a snapshot)",
				 pid, map_path, owner == TTLOG_SHM_OWNER_EXECED ?
				 "the program it ran before it called exec" : "an earlier process",
				 pid);
		return CLI_EXIT_DATA;
	}
	add(set, pid, map_path);
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct cli_live_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int cli_live_rescan(const char *command, struct cli_live_set *set)
{
	char dir_path[PATH_MAX], err[512];
	set->n = 0;
	if (ttlog__shm_user_dir(set->base, dir_path, sizeof dir_path) != 0) {
		cli_report_error(command, "the directory of the mappings: path too long");
		return -1;
	}
	DIR *dir = opendir(dir_path);
	if (!dir) {
		if (errno == ENOENT)
			return 0;
		cli_report_error(command, "%s: cannot read the directory: %s", dir_path,
				 strerror(errno));
		return -1;
	}
	size_t suffix = strlen(TTLOG_SHM_SUFFIX);
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		size_t n = strlen(d->d_name);
		if (d->d_name[0] == '.' || n <= suffix ||
		    strcmp(d->d_name + n - suffix, TTLOG_SHM_SUFFIX) != 0)
			continue;
		char path[PATH_MAX];
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir_path, d->d_name) >= sizeof path)
			continue;
		struct ttlog__shm_info info;
		/* A damaged or foreign mapping is not a process to read. */
		if (ttlog__shm_inspect(path, &info, err, sizeof err) != 0 ||
		    !ttlog__shm_owner_alive(&info))
			continue;
		add(set, info.pid, path);
	}
	closedir(dir);
	if (set->n > 1)
		qsort(set->procs, set->n, sizeof *set->procs, by_pid);
	return 0;
}

int cli_live_find(const char *command, const char *arg, const char *shm_dir,
		  struct cli_live_set *set)
{
	int pid;
	memset(set, 0, sizeof *set);
	set->base = cli_shm_base(shm_dir);
	set->base_given = shm_dir != NULL;
	if (strcmp(arg, "all") == 0) {
		set->all = 1;
		return cli_live_rescan(command, set) == 0 ? 0 : CLI_EXIT_DATA;
	}
	if (cli_parse_pid(arg, &pid) != 0)
		return cli_report_usage_error(command, "'%s' is not a process id (or 'all')", arg);
	return find_one(command, pid, set);
}

int cli_live_alive(const struct cli_live_proc *p)
{
	struct ttlog__shm_info info;
	char err[512];
	return ttlog__shm_inspect(p->map_path, &info, err, sizeof err) == 0 && info.pid == p->pid &&
	       ttlog__shm_owner_alive(&info);
}

int cli_live_copy(struct cli_live_set *set, const struct cli_live_proc *p, int *fd, char *path,
		  size_t path_size, char *err, size_t err_size)
{
	*fd = -1;
	if (!set->scratch[0]) {
		const char *tmp = getenv("TMPDIR");
		if (!tmp || !*tmp)
			tmp = "/tmp";
		snprintf(set->scratch, sizeof set->scratch, "%s/ttlog-live-XXXXXX", tmp);
		if (!mkdtemp(set->scratch)) {
			snprintf(err, err_size, "cannot make a private directory in %s: %s", tmp,
				 strerror(errno));
			set->scratch[0] = '\0';
			return -1;
		}
	}
	char file[PATH_MAX], why[1024];
	int rc = ttlog__shm_snapshot(p->map_path, set->scratch, "live", file, sizeof file, why,
				     sizeof why);
	if (rc != TTLOG_OK && !cli_partial_snapshot(rc, file)) {
		if (file[0])
			unlink(file);
		snprintf(err, err_size, "process %d: %s", p->pid, why[0] ? why : ttlog_strerror(rc));
		return -1;
	}
	*fd = open(file, O_RDONLY | O_CLOEXEC);
	int open_errno = errno;
	unlink(file);
	if (*fd < 0) {
		snprintf(err, err_size, "process %d: cannot open the copy %s: %s", p->pid, file,
			 strerror(open_errno));
		return -1;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", *fd);
	return 0;
}

void cli_live_free(struct cli_live_set *set)
{
	if (set->scratch[0])
		rmdir(set->scratch);
	set->scratch[0] = '\0';
	free(set->procs);
	set->procs = NULL;
	set->n = 0;
}
