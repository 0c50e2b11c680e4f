/* SPDX-License-Identifier: MIT */
/*
 * snap_trace.c - `ttlog snap --trace ID --all`: one request out of every
 * process. Every live shared-memory mapping of the user (of every user with
 * --all-users) is read from outside, as `ttlog snap PID` reads one, and
 * written as a snapshot that keeps only the trace's records and the spans
 * and contexts that enclose them (the writer's trace filter), with a TRCE
 * chunk counting what it left out. The snapshots are then put one after
 * the other into one file, a bundle (docs/FORMAT.md 22): each member keeps
 * its own process facts and clock, and the reader merges the members by
 * time as it merges the files of a directory.
 *
 * The bundle is written under a temporary name in the output directory and
 * linked to its final name (never replacing a file), as snapshots are.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "report.h"
#include "snap_trace.h"
#include "ttlog_reader.h"

#define COMMAND "snap"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cli_parse_trace_id(const char *text, uint64_t *hi, uint64_t *lo)
{
	size_t n = strlen(text);
	/* A traceparent: "VV-<32 hex>-<16 hex>-FF": its second field. */
	if (n >= 55 && text[2] == '-' && text[35] == '-')
		text += 3;
	else if (n != 32)
		return -1;
	uint64_t v[2] = {0, 0};
	for (int i = 0; i < 32; i++) {
		int d = hexval(text[i]);
		if (d < 0)
			return -1;
		v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
	}
	if ((v[0] | v[1]) == 0)
		return -1;
	*hi = v[0];
	*lo = v[1];
	return 0;
}

struct member {
	char path[PATH_MAX];
	int pid;
	uint64_t kept, left;
};

/* The mappings to read: <base>/ttlog-<euid>/ *.ttshm, or with all_users
 * those of every <base>/ttlog-* directory. */
static size_t find_mappings(const char *base, int all_users, char ***out)
{
	char pattern[PATH_MAX + 32];
	if (all_users) {
		snprintf(pattern, sizeof pattern, "%s/ttlog-*/*" TTLOG_SHM_SUFFIX,
			 base && *base ? base : TTLOG_SHM_DEFAULT_BASE);
	} else {
		char dir[PATH_MAX];
		if (ttlog__shm_user_dir(base, dir, sizeof dir) != 0)
			return 0;
		snprintf(pattern, sizeof pattern, "%s/*" TTLOG_SHM_SUFFIX, dir);
	}
	glob_t g;
	*out = NULL;
	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;
	char **list = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *list);
	size_t n = 0;
	for (size_t i = 0; list && i < g.gl_pathc; i++)
		if ((list[n] = strdup(g.gl_pathv[i])) != NULL)
			n++;
	globfree(&g);
	*out = list;
	return n;
}

/* Appends file `from` to descriptor fd. 0, or -1 with errno. */
static int append(int fd, const char *from)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	char buf[1 << 16];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rc = -1;
				break;
			}
			done += w;
		}
		if (rc)
			break;
	}
	int saved = errno;
	close(in);
	errno = saved;
	return rc;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		char p[PATH_MAX + 256];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int cli_snap_trace(const struct cli_snap_trace *t)
{
	char outdir[PATH_MAX], tmpdir[PATH_MAX + 32], err[1024], idtext[33];
	snprintf(idtext, sizeof idtext, "%016" PRIx64 "%016" PRIx64, t->trace_hi, t->trace_lo);
	if (getenv("TTLOG_ENCRYPT_KEY") && *getenv("TTLOG_ENCRYPT_KEY") &&
	    strcmp(getenv("TTLOG_ENCRYPT_KEY"), "none") != 0) {
		cli_report_error(COMMAND, "--trace: TTLOG_ENCRYPT_KEY is set, and a bundle of "
					  "encrypted snapshots is not supported; unset it for this "
					  "command");
		return CLI_EXIT_USAGE;
	}
	if (t->dir) {
		snprintf(outdir, sizeof outdir, "%s", t->dir);
	} else if (ttlog_default_dir(outdir, sizeof outdir) != TTLOG_OK) {
		cli_report_error(COMMAND, "--trace: no default snapshot directory; give one with "
					  "--dir DIR");
		return CLI_EXIT_USAGE;
	}
	if (cli_make_dir(COMMAND, outdir) != 0)
		return CLI_EXIT_DATA;
	snprintf(tmpdir, sizeof tmpdir, "%s/.ttlog-trace-XXXXXX", outdir);
	if (!mkdtemp(tmpdir)) {
		cli_report_error(COMMAND, "cannot make a temporary directory in %s: %s", outdir,
				 strerror(errno));
		return CLI_EXIT_DATA;
	}
	char **maps = NULL;
	size_t nmaps = find_mappings(t->base, t->all_users, &maps);
	struct member *m = calloc(nmaps ? nmaps : 1, sizeof *m);
	size_t nm = 0, processes = 0, failed = 0;
	uint64_t kept = 0, left = 0;
	char reason[64];
	snprintf(reason, sizeof reason, "trace-%s", idtext);
	int status = CLI_EXIT_OK;
	for (size_t i = 0; m && i < nmaps; i++) {
		struct ttlog__shm_info info;
		if (ttlog__shm_inspect(maps[i], &info, err, sizeof err) != 0) {
			if (t->verbose)
				cli_report_error(COMMAND, "note: %s; left out", err);
			continue;
		}
		if (!ttlog__shm_owner_counts_alive(ttlog__shm_owner(&info, NULL)))
			continue; /* a process that is gone: `ttlog recover` */
		processes++;
		struct member *e = &m[nm];
		int rc = ttlog__shm_snapshot_trace(maps[i], tmpdir, reason, t->trace_hi, t->trace_lo,
						   &e->kept, &e->left, e->path, sizeof e->path, err,
						   sizeof err);
		if (rc != TTLOG_OK && !cli_partial_snapshot(rc, e->path)) {
			cli_report_error(COMMAND, "process %d: %s", info.pid,
					 err[0] ? err : ttlog_strerror(rc));
			failed++;
			continue;
		}
		if (rc != TTLOG_OK) {
			cli_report_error(COMMAND, "process %d: %s (its valid records are kept)",
					 info.pid, err);
			status = CLI_EXIT_DATA;
		}
		e->pid = info.pid;
		kept += e->kept;
		left += e->left;
		if (t->verbose)
			cli_report_error(COMMAND, "process %d (%s): %" PRIu64 " events of the trace, %"
					 PRIu64 " left out", info.pid, info.executable, e->kept,
					 e->left);
		/* A process without an event of the trace adds nothing. */
		if (e->kept)
			nm++;
		else
			unlink(e->path);
	}
	for (size_t i = 0; i < nmaps; i++)
		free(maps[i]);
	free(maps);
	if (!m) {
		remove_dir(tmpdir);
		cli_report_error(COMMAND, "out of memory");
		return CLI_EXIT_DATA;
	}
	if (nm == 0) {
		remove_dir(tmpdir);
		free(m);
		cli_report_error(COMMAND, "no event of trace %s in %zu shared-memory process%s "
					  "of %s%s: nothing written",
				 idtext, processes, processes == 1 ? "" : "es",
				 t->all_users ? "any user" : "this user",
				 failed ? " that could be read" : "");
		return CLI_EXIT_NONE;
	}
	/* The bundle: the members one after the other, by pid. */
	char final[PATH_MAX + 128], tmp[PATH_MAX + 64];
	snprintf(tmp, sizeof tmp, "%s/bundle.tmp", tmpdir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int bad = fd < 0;
	for (size_t i = 0; !bad && i < nm; i++)
		bad = append(fd, m[i].path) != 0;
	if (!bad)
		bad = fsync(fd) != 0;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	if (bad) {
		cli_report_error(COMMAND, "writing %s: %s", tmp, strerror(saved));
		remove_dir(tmpdir);
		free(m);
		return CLI_EXIT_DATA;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
	int linked = -1;
	for (int k = 0; k < 1000 && linked != 0; k++) {
		int w = k ? snprintf(final, sizeof final, "%s/ttlog-%d-%s.%09ldZ-%s-%d.ttlog",
				     outdir, (int)getpid(), stamp, now.tv_nsec, reason, k)
			  : snprintf(final, sizeof final, "%s/ttlog-%d-%s.%09ldZ-%s.ttlog", outdir,
				     (int)getpid(), stamp, now.tv_nsec, reason);
		if (w < 0 || (size_t)w >= sizeof final) { /* never a cut name */
			errno = ENAMETOOLONG;
			break;
		}
		linked = link(tmp, final);
		if (linked != 0 && errno != EEXIST)
			break;
	}
	saved = errno;
	remove_dir(tmpdir);
	free(m);
	if (linked != 0) {
		cli_report_error(COMMAND, "cannot name the bundle in %s: %s", outdir, strerror(saved));
		return CLI_EXIT_DATA;
	}
	cli_fsync_path(outdir);
	printf("%s\n", final);
	cli_report_error(COMMAND, "trace %s: %" PRIu64 " events from %zu of %zu process%s; %"
				  PRIu64 " events of other requests left out",
			 idtext, kept, nm, processes, processes == 1 ? "" : "es", left);
	return status;
}
