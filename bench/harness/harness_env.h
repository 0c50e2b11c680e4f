/* SPDX-License-Identifier: MIT */
/*
 * harness_env.h - what a benchmark adapter needs before it defines its hooks.
 *
 * An adapter (bench/loggers/NAME.c or .cpp) includes this header first,
 * defines BENCH_LOGGER and the bench_* hooks, and includes "harness.h" last;
 * harness.h then defines main() and every measurement mode around those
 * hooks. Splitting the two lets the hooks be static inline functions that
 * the timed loops in harness.h inline directly, with no function pointer in
 * the measured path (BENCH_INLINE makes sure of it).
 *
 * Besides the environment struct, this header offers two helpers that file
 * loggers need in bench_drain(): building a path inside the scratch
 * directory and fsync'ing every file in it (some loggers, glog for one,
 * choose their own file names).
 *
 * Compiles as C11 (gnu11) and as C++17.
 */
#ifndef BENCH_HARNESS_ENV_H
#define BENCH_HARNESS_ENV_H

/* harness.h pins threads (sched_getaffinity, pthread_setaffinity_np): GNU
 * extensions, which must be requested before the first system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Exit status meaning "cannot run here" (the automake convention). */
#define BENCH_SKIP 77

/* How adapters declare their three log hooks. Forced inline: the timed
 * loops must contain the logging code itself, not a call to it, and gcc
 * would otherwise call a hook once its body (ttlog's inline string code,
 * say) grows past its inlining limits and it is used from several loops. */
#define BENCH_INLINE static inline __attribute__((always_inline))

/* The message arguments every logger receives: same text, same lengths. */
#define BENCH_PATH_STRING "GET /api/v1/users" /* 17 characters */
#define BENCH_STR200_LEN 200
/* args3s8: args3 with a string shorter than 16 bytes, the common case of a
 * short name or key (8 characters). */
#define BENCH_SHORT_STRING "GET /a/b"

struct bench_env {
	const char *dir; /* empty scratch directory for any files the logger writes */
	int threads;     /* number of producer threads that will log */
};

/*
 * Writes DIR/NAME into buf. Returns 0, or -1 (after saying so on stderr)
 * when it does not fit: a silently truncated path would make the logger
 * write somewhere nobody looks.
 */
static inline int bench_path(char *buf, size_t size, const struct bench_env *env, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", env->dir, name);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "bench: path too long: %s/%s\n", env->dir, name);
		return -1;
	}
	return 0;
}

/*
 * fsync()s every regular file directly inside dir, then dir itself.
 * fsync on any descriptor of a file flushes that file's dirty pages, so this
 * works on files a library opened for itself. Returns 0, or -1 after
 * printing the first failure.
 */
static inline int bench_fsync_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		return -1;
	}
	int status = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof path || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0) {
			perror(path);
			status = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		/* Makes the new directory entries durable too; a failure here
		 * (some file systems refuse fsync on directories) is not the
		 * logger's fault and is ignored. */
		(void)fsync(fd);
		close(fd);
	}
	return status;
}

/*
 * Total size in bytes of the regular files under dir (and its folders, two
 * levels deep): what a logger left on disk. Files it removed or renamed
 * away are not counted; that is the point. Returns -1 if dir cannot be read.
 */
static inline long long bench_dir_bytes_depth(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	long long total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof path || lstat(path, &st) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			total += (long long)st.st_size;
		else if (S_ISDIR(st.st_mode) && depth > 0) {
			long long sub = bench_dir_bytes_depth(path, depth - 1);
			if (sub > 0)
				total += sub;
		}
	}
	closedir(d);
	return total;
}

static inline long long bench_dir_bytes(const char *dir)
{
	return bench_dir_bytes_depth(dir, 2);
}

#endif /* BENCH_HARNESS_ENV_H */
