/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - `ttlog metrics PID...|all`: the live metrics of running
 * processes in shared-memory mode, read from outside them.
 *
 * A process in shared-memory mode keeps its metric shards and the table
 * that names them in its mapping (layout 1.3, docs/SHM-FORMAT.md 6.6). For
 * each process the command takes a snapshot of the mapping into a scratch
 * directory (ttlog__shm_snapshot: the same reading and checks as `ttlog
 * snap`, whose MTRC chunk holds every metric summed over the shards as
 * they are now), then prints the snapshots' metrics: in the Prometheus
 * text format of `ttlog serve`'s /metrics (serve_prometheus_files: every
 * sample labelled with service, host and pid), or with --json one object
 * per metric and line, as `ttlog view --metrics -o json` prints them with
 * pid and service first. The scratch files are removed before it exits.
 *
 * A mapping of layout 1.2 or earlier has no metrics: the command says so
 * rather than print an empty list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "report.h"
#include "serve/serve.h"
#include "view_metrics.h"
#include "ttlog_reader.h"

#define COMMAND "metrics"
#define REASON "metrics"

#define error_line(...) cli_report_error(COMMAND, __VA_ARGS__)

void cli_metrics_usage(FILE *out)
{
	fputs("Usage: ttlog metrics [OPTIONS] PID...\n"
	      "       ttlog metrics [OPTIONS] all\n"
	      "\n"
	      "Prints the live metrics (TTLOG_COUNTER_ADD, TTLOG_GAUGE_SET,\n"
	      "TTLOG_HISTOGRAM_RECORD) of running processes in shared-memory mode\n"
	      "(TTLOG_SHARED_MEMORY=1), read from their mappings in <base>/ttlog-UID:\n"
	      "nothing is asked of the processes, so this works while one is busy, hung or\n"
	      "stopped. The values are the sums of every thread's shard at this moment.\n"
	      "\n"
	      "The output is the Prometheus text format (0.0.4) that 'ttlog serve' gives on\n"
	      "/metrics: names with '.' as '_', counters ending in _total, histograms as\n"
	      "cumulative buckets at powers of two, and every sample labelled with the\n"
	      "process's service, host and pid; 'ttlog serve pid:PID' serves the same to a\n"
	      "Prometheus server.\n"
	      "\n"
	      "'all' reads every running process of this user that has a mapping; those\n"
	      "whose mapping holds no metrics (written by a ttlog before layout 1.3) are\n"
	      "named on stderr and left out.\n"
	      "\n"
	      "Options:\n"
	      "      --json            one JSON object per metric and line (as 'ttlog view\n"
	      "                        --metrics -o json'), with the process's pid and\n"
	      "                        service first\n"
	      "      --shm-dir BASE    the mappings are in BASE/ttlog-UID (default:\n"
	      "                        $TTLOG_SHARED_DIR, else " TTLOG_SHM_DEFAULT_BASE ")\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0 the metrics were printed; 1 usage error; 2 no such process,\n"
	      "not in shared-memory mode, its mapping holds no metrics (layout before 1.3)\n"
	      "or is damaged (what could be read is printed), the process has exited, or\n"
	      "the output could not be written.\n",
	      out);
}

struct run {
	const char *base;        /* --shm-dir or $TTLOG_SHARED_DIR; NULL: the default */
	int json;
	char scratch[PATH_MAX];  /* "" until the first snapshot */
	char **files;            /* the snapshots taken */
	int *pids;
	size_t nfiles;
	int status;
};

static int make_scratch(struct run *r)
{
	if (r->scratch[0])
		return 0;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(r->scratch, sizeof r->scratch, "%s/ttlog-metrics-XXXXXX", tmp);
	if (!mkdtemp(r->scratch)) {
		error_line("cannot make a scratch directory in %s: %s", tmp, strerror(errno));
		r->scratch[0] = '\0';
		return -1;
	}
	return 0;
}

/* Takes the snapshot of the mapping at map (process pid, info read from
 * it). 0, or -1 after a message (r->status set). */
static int take(struct run *r, int pid, const char *map)
{
	if (make_scratch(r) != 0) {
		r->status = CLI_EXIT_DATA;
		return -1;
	}
	char path[PATH_MAX] = "", why[1024] = "";
	int rc = ttlog__shm_snapshot(map, r->scratch, REASON, path, sizeof path, why, sizeof why);
	if (rc != TTLOG_OK) {
		const char *partial = cli_partial_snapshot(rc, path);
		if (!partial) {
			error_line("process %d: %s", pid, why[0] ? why : ttlog_strerror(rc));
			if (path[0])
				unlink(path);
			r->status = CLI_EXIT_DATA;
			return -1;
		}
		/* Damaged parts: the metrics that were valid are printed. */
		error_line("process %d: %s; its other metrics are printed", pid, why);
		r->status = CLI_EXIT_DATA;
	}
	char **files = realloc(r->files, (r->nfiles + 1) * sizeof *files);
	int *pids = files ? realloc(r->pids, (r->nfiles + 1) * sizeof *pids) : NULL;
	if (files)
		r->files = files;
	if (pids)
		r->pids = pids;
	char *copy = strdup(path);
	if (!files || !pids || !copy) {
		free(copy);
		unlink(path);
		error_line("out of memory");
		r->status = CLI_EXIT_DATA;
		return -1;
	}
	r->files[r->nfiles] = copy;
	r->pids[r->nfiles++] = pid;
	return 0;
}

/* Why the mapping info cannot give live metrics, or NULL. */
static const char *unusable(const struct ttlog__shm_info *info, char *buf, size_t size)
{
	int owner = ttlog__shm_owner(info, NULL);
	if (!ttlog__shm_owner_counts_alive(owner)) {
		snprintf(buf, size, "has exited (its mapping is %s: 'ttlog recover %d' writes its last "
				    "events and metrics to a file)",
			 cli_mapping_state(info, owner), info->pid);
		return buf;
	}
	if (!info->has_metrics) {
		snprintf(buf, size, "its mapping is layout %d.%d, which holds no metrics (they are in "
				    "the mapping from layout 1.3 on: a ttlog built from an older source)",
			 info->major, info->minor);
		return buf;
	}
	return NULL;
}

/* One PID from the command line. */
static void one_pid(struct run *r, const char *arg)
{
	int pid;
	if (cli_parse_pid(arg, &pid) != 0) {
		error_line("'%s' is not a process id (or 'all')", arg);
		r->status = CLI_EXIT_USAGE;
		return;
	}
	char map[PATH_MAX], why[1024], buf[512];
	if (ttlog__shm_path(r->base, pid, map, sizeof map) != 0) {
		error_line("process %d: the mapping's path is too long", pid);
		r->status = CLI_EXIT_DATA;
		return;
	}
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, why, sizeof why) != 0) {
		struct stat st;
		if (stat(map, &st) != 0 && errno == ENOENT) {
			if (kill(pid, 0) != 0 && errno == ESRCH)
				error_line("no process with pid %d", pid);
			else
				error_line("process %d is not in shared-memory mode: no mapping %s (start it "
					   "with TTLOG_SHARED_MEMORY=1; --shm-dir if it uses another "
					   "TTLOG_SHARED_DIR)", pid, map);
		} else {
			error_line("process %d: %s", pid, why);
		}
		r->status = CLI_EXIT_DATA;
		return;
	}
	const char *no = unusable(&info, buf, sizeof buf);
	if (no) {
		error_line("process %d %s", pid, no);
		r->status = CLI_EXIT_DATA;
		return;
	}
	take(r, pid, map);
}

static int by_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Every running process of the user's directory with metrics. */
static void all_pids(struct run *r)
{
	char dir_path[PATH_MAX];
	if (ttlog__shm_user_dir(r->base, dir_path, sizeof dir_path) != 0) {
		error_line("the mappings' directory path is too long");
		r->status = CLI_EXIT_DATA;
		return;
	}
	DIR *dir = opendir(dir_path);
	if (!dir) {
		if (errno != ENOENT) {
			error_line("%s: cannot read the directory: %s", dir_path, strerror(errno));
			r->status = CLI_EXIT_DATA;
		}
		return;
	}
	int *pids = NULL;
	size_t n = 0, cap = 0;
	size_t suffix = strlen(TTLOG_SHM_SUFFIX);
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);
		if (len <= suffix || strcmp(d->d_name + len - suffix, TTLOG_SHM_SUFFIX) != 0)
			continue;
		char digits[32];
		if (len - suffix >= sizeof digits)
			continue;
		memcpy(digits, d->d_name, len - suffix);
		digits[len - suffix] = '\0';
		int pid;
		if (cli_parse_pid(digits, &pid) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			int *p = realloc(pids, cap * sizeof *p);
			if (!p)
				break;
			pids = p;
		}
		pids[n++] = pid;
	}
	closedir(dir);
	if (n > 1)
		qsort(pids, n, sizeof *pids, by_int);
	for (size_t i = 0; i < n; i++) {
		char map[PATH_MAX], why[1024], buf[512];
		struct ttlog__shm_info info;
		if (ttlog__shm_path(r->base, pids[i], map, sizeof map) != 0 ||
		    ttlog__shm_inspect(map, &info, why, sizeof why) != 0)
			continue; /* gone meanwhile, or not a mapping: not a running process */
		int owner = ttlog__shm_owner(&info, NULL);
		if (!ttlog__shm_owner_counts_alive(owner))
			continue; /* left by a process that is gone: ttlog recover's */
		if (!info.has_metrics) {
			fprintf(stderr, "ttlog metrics: process %d left out: %s\n", pids[i],
				unusable(&info, buf, sizeof buf));
			continue;
		}
		take(r, pids[i], map);
	}
	free(pids);
}

static void print_prometheus(struct run *r)
{
	struct render_buf out = {0};
	char err[600];
	if (serve_prometheus_files((const char *const *)r->files, r->nfiles, &out, err, sizeof err) != 0) {
		error_line("%s", err);
		r->status = CLI_EXIT_DATA;
	} else {
		render_buf_write(&out, stdout);
	}
	render_buf_free(&out);
}

static void print_json(struct run *r)
{
	for (size_t i = 0; i < r->nfiles && !cli_stdout_failed(); i++) {
		ttlog_reader *rd = NULL;
		int rc = ttlog_reader_open(r->files[i], &rd);
		if (!rd) {
			error_line("process %d: its snapshot cannot be read: %s", r->pids[i], ttlog_strerror(rc));
			r->status = CLI_EXIT_DATA;
			continue;
		}
		cli_metrics_print_json_process(rd);
		ttlog_reader_close(rd);
	}
}

int cli_metrics_main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_SHM_DIR };
	static const struct option longopts[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct run r;
	memset(&r, 0, sizeof r);
	const char *shm_dir = NULL;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			r.json = 1;
			break;
		case OPT_SHM_DIR:
			shm_dir = optarg;
			break;
		case 'h':
			cli_metrics_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, "h");
		}
	}
	if (optind >= argc)
		return cli_report_usage_error(COMMAND, "a process id or 'all' is needed");
	if (shm_dir && !*shm_dir)
		return cli_report_usage_error(COMMAND, "--shm-dir needs a directory, not ''");
	r.base = cli_shm_base(shm_dir);
	int all = 0;
	for (int i = optind; i < argc; i++)
		all |= strcmp(argv[i], "all") == 0;
	if (all && argc - optind > 1)
		return cli_report_usage_error(COMMAND, "'all' stands alone: give either process ids or 'all'");
	if (all)
		all_pids(&r);
	else
		for (int i = optind; i < argc; i++)
			one_pid(&r, argv[i]);
	if (r.status != CLI_EXIT_USAGE && r.nfiles) {
		if (r.json)
			print_json(&r);
		else
			print_prometheus(&r);
	}
	if (all && !r.nfiles && r.status == CLI_EXIT_OK)
		fprintf(stderr, "ttlog metrics: no running process with metrics in its shared-memory "
				"mapping\n");
	for (size_t i = 0; i < r.nfiles; i++) {
		unlink(r.files[i]);
		free(r.files[i]);
	}
	free(r.files);
	free(r.pids);
	if (r.scratch[0])
		rmdir(r.scratch);
	return r.status;
}
