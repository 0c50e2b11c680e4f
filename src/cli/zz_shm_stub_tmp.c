/* TEMPORARY: weak stand-ins for src/shm/ until that code is merged; removed before the end. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "shm/shm.h"
#include "ttlog.h"

__attribute__((weak)) int ttlog__shm_user_dir(const char *base, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/ttlog-%u", base && *base ? base : TTLOG_SHM_DEFAULT_BASE,
			 (unsigned)geteuid());
	return n > 0 && (size_t)n < size ? 0 : -1;
}

__attribute__((weak)) int ttlog__shm_path(const char *base, int pid, char *buf, size_t size)
{
	char dir[4096];
	if (ttlog__shm_user_dir(base, dir, sizeof dir) != 0)
		return -1;
	int n = snprintf(buf, size, "%s/%d" TTLOG_SHM_SUFFIX, dir, pid);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

__attribute__((weak)) int ttlog__shm_inspect(const char *path, struct ttlog__shm_info *info,
					     char *err, size_t err_size)
{
	(void)info;
	snprintf(err, err_size, "%s: not a mapping (stub)", path);
	return -1;
}

__attribute__((weak)) int ttlog__shm_owner_alive(const struct ttlog__shm_info *info)
{
	(void)info;
	return 0;
}

__attribute__((weak)) int ttlog__shm_snapshot(const char *map_path, const char *dir,
					      const char *reason, char *path, size_t path_size,
					      char *err, size_t err_size)
{
	(void)dir, (void)reason, (void)path, (void)path_size;
	snprintf(err, err_size, "%s: stub", map_path);
	return TTLOG_E_IO;
}
