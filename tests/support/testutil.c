/* SPDX-License-Identifier: MIT */
/*
 * testutil.c - see testutil.h.
 */
#define _GNU_SOURCE
#include "support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
	const char *base = getenv("TTLOG_TEST_TMP");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", base && *base ? base : "/tmp", tag);
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tu_list_snapshots(const char *dir, char ***paths)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0, cap = 8;
	char **list = malloc(sizeof *list * (size_t)cap);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 6, ".ttlog") != 0)
			continue;
		if (n == cap)
			list = realloc(list, sizeof *list * (size_t)(cap *= 2));
		if (asprintf(&list[n], "%s/%s", dir, e->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	qsort(list, (size_t)n, sizeof *list, by_name);
	*paths = list;
	return n;
}

void tu_free_list(char **paths, int n)
{
	for (int i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

const char *tu_prog(const char *name)
{
	static char path[4096];
	const char *dir = getenv("TTLOG_PROGS");
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "./progs", name);
	return path;
}

/* Appends what can be read now from fd to out, keeping room for a NUL. */
static void drain(int fd, char *out, size_t cap, size_t *len)
{
	char buf[4096];
	ssize_t k;
	while ((k = read(fd, buf, sizeof buf)) > 0) {
		size_t take = cap > *len + 1 ? cap - *len - 1 : 0;
		if ((size_t)k < take)
			take = (size_t)k;
		memcpy(out + *len, buf, take);
		*len += take;
	}
}

int tu_run(char *const argv[], int timeout_s, int *status, char *out, size_t cap)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	size_t len = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = 0;
	for (;;) {
		drain(pipefd[0], out, cap, &len);
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			rc = -1;
			break;
		}
		struct timespec nap = {0, 5 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	drain(pipefd[0], out, cap, &len);
	close(pipefd[0]);
	if (cap)
		out[len] = '\0';
	return rc;
}

const char *tu_snapshot_dir(void)
{
	static char *dir;
	if (!dir)
		dir = tu_tmpdir("snapshots");
	return dir;
}

int tu_start(struct ttlog_config *cfg)
{
	struct ttlog_config defaults;
	if (!cfg) {
		ttlog_config_init(&defaults);
		cfg = &defaults;
	}
	cfg->dir = tu_snapshot_dir();
	cfg->crash_signals = -1;
	int rc = ttlog_init(cfg);
	if (rc != TTLOG_OK)
		fprintf(stderr, "ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
	return rc == TTLOG_OK ? 0 : -1;
}

int tu_stop(void **state)
{
	(void)state;
	ttlog_shutdown();
	return 0;
}

ttlog_reader *tu_snapshot_open(const char *reason)
{
	char path[4096];
	int rc = ttlog_snapshot_path(reason, path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return NULL;
	}
	ttlog_reader *r = NULL;
	rc = ttlog_reader_open(path, &r);
	unlink(path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "%s\n", r ? ttlog_reader_error(r) : ttlog_strerror(rc));
		ttlog_reader_close(r);
		return NULL;
	}
	return r;
}

int tu_count_format(ttlog_reader *r, const char *format)
{
	struct ttlog_event ev;
	int n = 0;
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, &ev) == 1)
		n += strcmp(ev.site->format, format) == 0;
	return n;
}

void tu_show_bytes(const char *label, const char *text, size_t len)
{
	fprintf(stderr, "    %s (%zu bytes): \"", label, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\%03o", c);
	}
	fputs("\"\n", stderr);
}

void tu_let_crashes_through(void)
{
	setenv("ASAN_OPTIONS",
	       "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0:"
	       "detect_leaks=0",
	       1);
	/* ThreadSanitizer takes the same flags; its others (suppressions,
	 * exit codes) are kept. */
	const char *tsan = getenv("TSAN_OPTIONS");
	char opts[2048];
	snprintf(opts, sizeof opts,
		 "%s%shandle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0",
		 tsan ? tsan : "", tsan && *tsan ? ":" : "");
	setenv("TSAN_OPTIONS", opts, 1);
}
