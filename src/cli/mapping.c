/* SPDX-License-Identifier: MIT */
/*
 * mapping.c - helpers of `ttlog recover` and `ttlog snap` (see mapping.h).
 *
 * Signal names come from the library itself (ttlog__signal_name), not from
 * the command's own table for crash summaries: `ttlog snap` looks for a file
 * whose name ends in the reason the library's snapshot handler gives it,
 * so both must spell every signal the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "ttlog.h"

#define MAX_SIGNAL 63 /* the library keeps signals in a 64-bit mask */

const char *cli_shm_base(const char *option)
{
	if (option)
		return option;
	const char *env = getenv("TTLOG_SHARED_DIR");
	return env && *env ? env : NULL;
}

int cli_parse_pid(const char *text, int *pid)
{
	long long v = 0;

	if (!*text)
		return -1;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -1;
	}
	if (v == 0)
		return -1;
	*pid = (int)v;
	return 0;
}

int cli_parse_signal(const char *text)
{
	int n;

	if (cli_parse_pid(text, &n) == 0)
		return n <= MAX_SIGNAL ? n : -1;
	const char *bare = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
	if (!*bare)
		return -1;
	for (int sig = 1; sig <= MAX_SIGNAL; sig++) {
		const char *name = ttlog__signal_name(sig);
		if (name && strcasecmp(name + 3, bare) == 0)
			return sig;
	}
	return -1;
}

const char *cli_signal_reason(int signo)
{
	const char *name = ttlog__signal_name(signo);
	return name ? name : "signal";
}

const char *cli_partial_snapshot(int rc, const char *file)
{
	/* file is looked at only for these two: other results may leave it unset. */
	if (rc == TTLOG_E_CORRUPT && file[0])
		return "the rest";
	if (rc == TTLOG_E_TRUNCATED && file[0])
		return "what was read before";
	return NULL;
}

const char *cli_mapping_state(const struct ttlog__shm_info *info, int owner)
{
	if (info->state == TTLOG_SHM_CRASHED)
		return "crashed";
	if (owner == TTLOG_SHM_OWNER_EXECED)
		return "exec'd";
	if (!ttlog__shm_owner_counts_alive(owner))
		return "dead";
	return info->state == TTLOG_SHM_EXITING ? "exiting" : "running";
}

int cli_make_dir(const char *command, const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/* Each parent in turn, then dir itself; existing ones are fine. */
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			goto fail;
		*p = c;
		if (!c)
			break;
	}
	if (stat(path, &st) != 0)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	return 0;
fail:
	cli_sync_stdout();
	fprintf(stderr, "ttlog %s: %s: cannot create the directory: %s\n", command, dir,
		strerror(errno));
	return -1;
}

static int fsync_one(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int cli_fsync_path(const char *path)
{
	if (fsync_one(path, 0) != 0)
		return -1;

	/* The directory: everything before the last '/', or "." without one. */
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (!slash) {
		strcpy(dir, ".");
	} else if (n == 0) {
		strcpy(dir, "/");
	} else {
		if (n >= sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	return fsync_one(dir, O_DIRECTORY);
}
