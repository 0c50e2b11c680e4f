/* SPDX-License-Identifier: MIT */
/*
 * default_file.c - the newest snapshot of the default directory, for
 * `ttlog view`, `stats` and `export` run without a FILE (default_file.h).
 * Scans the directory once; a name that does not end in ".ttlog", is not a
 * regular file, or cannot be stat'ed is passed over.
 */
#include "default_file.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report.h"
#include "store_args.h"
#include "ttlog.h"

static int is_snapshot_name(const char *name)
{
	size_t n = strlen(name);
	return n > 6 && name[0] != '.' && strcmp(name + n - 6, ".ttlog") == 0;
}

int cli_default_snapshot(const char *who, char *buf, size_t size)
{
	char dir[4096], path[4096 + 256];
	int rc = ttlog_default_dir(dir, sizeof dir);

	cli_sync_stdout();
	if (rc != TTLOG_OK) {
		cli_report_usage_error(who, "no FILE given, and the default directory is unknown: %s",
				       ttlog_strerror(rc));
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d) {
		cli_report_usage_error(who, "no FILE given, and the default directory %s cannot be read: %s",
				       dir, strerror(errno));
		return -1;
	}
	int64_t best_ns = INT64_MIN;
	char best[256] = "";
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!is_snapshot_name(e->d_name) || strlen(e->d_name) >= sizeof best)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		int64_t ns = cli_store_name_time(path);
		if (ns == 0)
			ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		if (ns > best_ns || (ns == best_ns && strcmp(e->d_name, best) > 0)) {
			best_ns = ns;
			memcpy(best, e->d_name, strlen(e->d_name) + 1);
		}
	}
	closedir(d);
	if (!best[0]) {
		cli_report_usage_error(who, "no FILE given, and no snapshot in the default directory %s "
				       "(give a FILE, or set TTLOG_DIR to where the program writes)",
				       dir);
		return -1;
	}
	int n = snprintf(buf, size, "%s/%s", dir, best);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "ttlog %s: the path of the newest snapshot in %s is too long\n", who, dir);
		return -1;
	}
	fprintf(stderr, "ttlog %s: reading %s (the newest snapshot of %s)\n", who, buf, dir);
	return 0;
}
