/*
 * path.c - where mappings live and who owns them: the per-user directory,
 * a mapping's path, and a process's start time (which tells a live owner
 * from a later process that got the same pid). Used by the owner
 * (src/shm/owner.c) and by the readers (src/shm/read.c, the ttlog command).
 */
#define _GNU_SOURCE
#include "shm/path.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

int ttlog__shm_boot_id(char *buf, size_t size)
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

/* A zombie keeps its pid and start time until its parent reaps it, but runs
 * no more (a SIGKILLed process whose parent is busy): it counts as gone. */
int ttlog__shm_owner_alive(const struct ttlog__shm_info *info)
{
	uint64_t st;
	char state = 0;
	if (!info || info->pid <= 0 || read_stat(info->pid, &st, &state) != 0)
		return 0;
	return st == info->start_time && state != 'Z' && state != 'X';
}
