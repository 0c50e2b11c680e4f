/* SPDX-License-Identifier: MIT */
/*
 * set.c - the served set: the sources `ttlog serve` was started with.
 *
 * Source 0.. are the command-line arguments in order: a file is a source
 * of its own, a directory or a glob pattern is read as one store, and
 * `pid:PID` (or a bare PID that names no file) is a live process in
 * shared-memory mode, read through its mapping (process.c). After
 * them come the snapshot files and segments each directory held when the
 * server started, in name order, each a source whose parent is its
 * directory's. Requests choose a source by number; a path never comes from
 * a request.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TTLOG_TOOLS_UNSTABLE
#include "serve/internal.h"
#include "ttlog_tools.h"

static int add(struct serve_set *set, const char *label, const char *path, int is_file,
	       int parent)
{
	struct serve_source *n = realloc(set->src, (set->n + 1) * sizeof *n);
	if (!n)
		return -1;
	set->src = n;
	struct serve_source *s = &set->src[set->n];
	s->label = strdup(label);
	s->path = strdup(path);
	s->is_file = is_file;
	s->parent = parent;
	s->pid = 0;
	if (!s->label || !s->path) {
		free(s->label);
		free(s->path);
		return -1;
	}
	set->n++;
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of directory source `parent`, in name order. */
static int add_dir_files(struct serve_set *set, const char *dir, int parent)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* the store reports it when read */
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !(has_suffix(e->d_name, ".ttlog") || has_suffix(e->d_name, ".ttseg")))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **g = realloc(names, cap * sizeof *g);
			if (!g) {
				rc = -1;
				break;
			}
			names = g;
		}
		if (!(names[n] = strdup(e->d_name))) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *p;
		if (asprintf(&p, "%.*s/%s", (int)dl, dir, names[i]) < 0) {
			rc = -1;
			break;
		}
		rc = add(set, p, p, 1, parent);
		free(p);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* The pid of "pid:N", or of "N" when no such file exists; else 0. */
static int pid_of(const char *arg)
{
	struct stat st;
	const char *digits = arg;
	if (strncmp(arg, "pid:", 4) == 0)
		digits = arg + 4;
	else if (stat(arg, &st) == 0)
		return 0;
	long long v = 0;
	for (const char *p = digits; *p; p++) {
		if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > INT32_MAX)
			return digits == arg ? 0 : -1;
	}
	return *digits && v > 0 ? (int)v : digits == arg ? 0 : -1;
}

/* Adds the process pid: its mapping must exist and be valid. */
static int add_process(struct serve_set *set, const char *arg, int pid, const char *shm_base,
		       char *err, size_t errlen)
{
	char map[4096], why[512], label[64];
	struct ttlog__shm_info info;
	if (ttlog__shm_path(shm_base, pid, map, sizeof map) != 0) {
		snprintf(err, errlen, "%s: the mapping's path is too long", arg);
		return -1;
	}
	if (ttlog__shm_inspect(map, &info, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s: no shared-memory mapping of process %d (%s)", arg, pid, why);
		return -1;
	}
	snprintf(label, sizeof label, "pid:%d", pid);
	if (add(set, label, map, 0, -1) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set->src[set->n - 1].pid = pid;
	return 0;
}

int serve_set_build(struct serve_set *set, char *const *paths, size_t npaths,
		    const char *shm_base, char *err, size_t errlen)
{
	memset(set, 0, sizeof *set);
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		int is_file = 0;
		int pid = pid_of(paths[i]);
		if (pid < 0) {
			snprintf(err, errlen, "%s: not a process id (pid:PID)", paths[i]);
			serve_set_free(set);
			return -1;
		}
		if (pid) {
			if (add_process(set, paths[i], pid, shm_base, err, errlen) != 0) {
				serve_set_free(set);
				return -1;
			}
			continue;
		}
		if (stat(paths[i], &st) == 0) {
			is_file = !S_ISDIR(st.st_mode);
		} else {
			glob_t g;
			int grc = glob(paths[i], 0, NULL, &g);
			size_t found = grc == 0 ? g.gl_pathc : 0;
			if (grc == 0)
				globfree(&g);
			if (!found) {
				snprintf(err, errlen, "%s: %s", paths[i],
					 errno == ENOENT || grc == GLOB_NOMATCH ? "no such file or directory"
										: strerror(errno));
				serve_set_free(set);
				return -1;
			}
		}
		if (add(set, paths[i], paths[i], is_file, -1) != 0)
			goto nomem;
	}
	for (size_t i = 0; i < npaths; i++) {
		struct stat st;
		if (!set->src[i].is_file && !set->src[i].pid && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode) &&
		    add_dir_files(set, paths[i], (int)i) != 0)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	serve_set_free(set);
	return -1;
}

void serve_set_free(struct serve_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->src[i].label);
		free(set->src[i].path);
	}
	free(set->src);
	memset(set, 0, sizeof *set);
}
