/* SPDX-License-Identifier: MIT */
/*
 * path.c - where mappings live and who owns them: the per-user directory,
 * a mapping's path, a process's start time (which tells a live owner from
 * a later process that got the same pid), and whether a process still maps
 * a file (which tells a live owner from the same process after exec). Used
 * by the owner (src/shm/owner.c) and by the readers (src/shm/map_snapshot.c, the
 * ttlog command).
 */
#define _GNU_SOURCE
#include "shm/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shm/shm.h"

int ttlog__shm_user_dir(const char *base, char *buf, size_t size)
{
	if (!base || !*base)
		base = TTLOG_SHM_DEFAULT_BASE;
	size_t n = strlen(base);
	while (n > 1 && base[n - 1] == '/')
		n--;
	int len = snprintf(buf, size, "%.*s/ttlog-%u", (int)n, base, (unsigned)geteuid());
	return len > 0 && (size_t)len < size ? 0 : -1;
}

int ttlog__shm_path(const char *base, int pid, char *buf, size_t size)
{
	char dir[PATH_MAX];
	if (ttlog__shm_user_dir(base, dir, sizeof dir) != 0)
		return -1;
	int len = snprintf(buf, size, "%s/%d%s", dir, pid, TTLOG_SHM_SUFFIX);
	return len > 0 && (size_t)len < size ? 0 : -1;
}

/* Field 22 of /proc/PID/stat (the start time) and field 3 (the state
 * letter, into *state if not NULL). The command name (field 2) is in
 * parentheses and may hold spaces and parentheses itself, so counting
 * starts after the last ')'. */
static int read_stat(int pid, uint64_t *out, char *state)
{
	char path[64], buf[1024];
	if (pid > 0)
		snprintf(path, sizeof path, "/proc/%d/stat", pid);
	else
		snprintf(path, sizeof path, "/proc/self/stat");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -1;
	if (state)
		*state = p[2];
	/* After ')': field 3 (state) is the first; field 22 is the 20th. */
	p++;
	for (int field = 3; field < 22; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return -1;
	}
	while (*p == ' ')
		p++;
	char *end;
	unsigned long long v = strtoull(p, &end, 10);
	if (end == p)
		return -1;
	*out = v;
	return 0;
}

/* Exported for libttlog-read: the mapping reader compares boot ids. */
TTLOG_API int ttlog__shm_boot_id(char *buf, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || size == 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int ttlog__shm_start_time(int pid, uint64_t *out)
{
	return read_stat(pid, out, NULL);
}

char ttlog__shm_process_state(int pid)
{
	uint64_t start;
	char state = 0;
	return pid > 0 && read_stat(pid, &start, &state) == 0 ? state : 0;
}

/* ---- Does the process still map the file? ------------------------------ */

/* Parses "<hex>:<hex> <decimal>" (the device and inode fields of a maps
 * line) at *p. 0, or -1 if they are not there. */
static int parse_dev_ino(const char **p, unsigned long *maj, unsigned long *min,
			 unsigned long long *ino)
{
	char *end;
	*maj = strtoul(*p, &end, 16);
	if (end == *p || *end != ':')
		return -1;
	const char *q = end + 1;
	*min = strtoul(q, &end, 16);
	if (end == q || *end != ' ')
		return -1;
	q = end + 1;
	*ino = strtoull(q, &end, 10);
	if (end == q)
		return -1;
	*p = end;
	return 0;
}

/*
 * Whether one line of /proc/PID/maps ("start-end perms offset MAJ:MIN inode
 * [path]", NUL-terminated, possibly cut short) maps the file of info.
 *
 * The device and inode printed are those of the inode behind the mapping,
 * which for tmpfs (/dev/shm) and plain file systems are what stat() gives.
 * A stacking file system (overlayfs, say a container's /tmp) prints the
 * inode underneath instead, which stat() does not show; so a line whose
 * numbers differ still counts when its path names a .ttshm file that
 * stat() finds to be ours. A path that ends in " (deleted)" no longer
 * names the mapped file, and is not looked at.
 */
static int line_maps(const char *line, const struct ttlog__shm_info *info)
{
	const char *p = line;
	for (int field = 0; field < 3; field++) { /* range, perms, offset */
		p = strchr(p, ' ');
		if (!p)
			return 0;
		while (*p == ' ')
			p++;
	}
	unsigned long maj, min;
	unsigned long long ino;
	if (parse_dev_ino(&p, &maj, &min, &ino) != 0 || ino == 0)
		return 0;
	if (ino == info->ino && maj == major((dev_t)info->dev) && min == minor((dev_t)info->dev))
		return 1;
	while (*p == ' ')
		p++;
	size_t n = strlen(p), suffix = strlen(TTLOG_SHM_SUFFIX);
	struct stat sb;
	return *p == '/' && n > suffix && strcmp(p + n - suffix, TTLOG_SHM_SUFFIX) == 0 &&
	       stat(p, &sb) == 0 && (uint64_t)sb.st_dev == info->dev &&
	       (uint64_t)sb.st_ino == info->ino;
}

/*
 * 1 if process pid maps the file of info, 0 if not, -1 with errno set if
 * its maps cannot be read. The file is read through a fixed buffer, a line
 * at a time; a line longer than the buffer (a path near PATH_MAX) is judged
 * on its first part, which holds the device and inode.
 */
static int maps_file(int pid, const struct ttlog__shm_info *info)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t have = 0;
	int found = 0, skipping = 0; /* skipping: the rest of a line too long */
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		char *line = buf, *nl;
		while (!found && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
			*nl = '\0';
			if (!skipping)
				found = line_maps(line, info);
			skipping = 0;
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (found || n == 0)
			break;
		if (have == sizeof buf - 1) {
			buf[have] = '\0';
			if (!skipping)
				found = line_maps(buf, info);
			skipping = 1;
			have = 0;
		}
	}
	/* The last line, if the file did not end with a newline. */
	if (!found && have && !skipping) {
		buf[have] = '\0';
		found = line_maps(buf, info);
	}
	close(fd);
	return found;
}

/* A zombie keeps its pid and start time until its parent reaps it, but runs
 * no more (a SIGKILLed process whose parent is busy): it counts as gone. A
 * process with the pid and start time that maps the file no more has
 * called exec: the file is as left behind as after SIGKILL. */
int ttlog__shm_owner(const struct ttlog__shm_info *info, int *maps_errno)
{
	uint64_t st;
	char state = 0;
	if (maps_errno)
		*maps_errno = 0;
	if (!info || info->pid <= 0 || read_stat(info->pid, &st, &state) != 0 ||
	    st != info->start_time || state == 'Z' || state == 'X')
		return TTLOG_SHM_OWNER_GONE;
	int mapped = info->ino ? maps_file(info->pid, info) : (errno = EINVAL, -1);
	if (mapped > 0)
		return TTLOG_SHM_OWNER_LIVE;
	if (mapped == 0)
		return TTLOG_SHM_OWNER_EXECED;
	if (errno == ENOENT || errno == ESRCH)
		return TTLOG_SHM_OWNER_GONE; /* it ended meanwhile */
	if (maps_errno)
		*maps_errno = errno;
	return TTLOG_SHM_OWNER_UNCHECKED;
}

int ttlog__shm_owner_alive(const struct ttlog__shm_info *info)
{
	return ttlog__shm_owner_counts_alive(ttlog__shm_owner(info, NULL));
}
