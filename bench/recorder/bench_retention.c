/* SPDX-License-Identifier: MIT */
/*
 * bench_retention.c - ttlog-bench-retention: what snapshot retention adds
 * to each snapshot, as the time of one prune pass over a directory of 1000
 * snapshot files (--quick: 200).
 *
 * The files are copies of one real snapshot under names one second apart,
 * every tenth a crash snapshot (its HEAD flag set), so a pass reads what a
 * real one reads: the directory, a stat of each file, and the head of the
 * files that can be among the first to go. Two cases, median of 21 passes
 * each (--quick: 7), page cache warm:
 *   - scan: limits above the directory's contents, nothing removed (the
 *     cost every snapshot pays once the directory is large);
 *   - remove one: a limit one below, so the oldest non-crash file goes
 *     (the steady state of a full directory); the file is put back after
 *     each pass, outside the timing.
 * The pruning function is called directly (this program links the static
 * library for it), so neither the snapshot nor its fsync is in the figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ttlog.h>

#include "bench_common.h"
#include "format/format.h"
#include "snapshot/retention.h"

static void file_name(char *out, size_t cap, const char *dir, unsigned i, int crash)
{
	snprintf(out, cap, "%s/ttlog-%u-20200101T%02u%02u%02u.000000000Z-%s.ttlog", dir, 1000 + i,
		 i / 3600, i / 60 % 60, i % 60, crash ? "SIGSEGV" : "manual");
}

static void write_copy(const char *path, const unsigned char *data, size_t len, int crash)
{
	unsigned char head[TTLOG__FMT_FILE_HEADER_SIZE + TTLOG__FMT_CHUNK_HEADER_SIZE + 8];
	if (len < sizeof head)
		bench_die("the template snapshot is too short");
	memcpy(head, data, sizeof head);
	unsigned char *flags = head + TTLOG__FMT_FILE_HEADER_SIZE + TTLOG__FMT_CHUNK_HEADER_SIZE +
			       TTLOG__FMT_HEAD_FLAGS_OFF;
	flags[0] = (unsigned char)(crash ? flags[0] | TTLOG__FMT_HEAD_FLAG_CRASH
					 : flags[0] & ~TTLOG__FMT_HEAD_FLAG_CRASH);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(head, 1, sizeof head, f) != sizeof head ||
	    fwrite(data + sizeof head, 1, len - sizeof head, f) != len - sizeof head || fclose(f) != 0)
		bench_die("%s: %s", path, strerror(errno));
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Times one snapshot-retention pass over a directory of 1000 snapshot\n"
		    "files (--quick: 200), every tenth a crash snapshot: a pass that removes\n"
		    "nothing and one that removes the oldest file. Median of 21 passes\n"
		    "(--quick: 7). The ttlog command is not used.",
		    &o);
	bench_clear_ttlog_env();
	const char *dir = bench_scratch_create(&o);
	unsigned files = o.quick ? 200 : 1000, runs = o.quick ? 7 : 21;

	/* The template: a real snapshot of a few events. */
	bench_ttlog_init(dir, 64 << 10, 0);
	bench_settle();
	for (int i = 0; i < 100; i++)
		bench_log_event(i);
	char tmpl[PATH_MAX];
	if (ttlog_snapshot_path("template", tmpl, sizeof tmpl) != TTLOG_OK)
		bench_die("ttlog_snapshot failed");
	ttlog_shutdown();
	FILE *f = fopen(tmpl, "rb");
	static unsigned char data[4 << 20];
	size_t len = f ? fread(data, 1, sizeof data, f) : 0;
	if (!f || len == 0)
		bench_die("%s: cannot read it back", tmpl);
	fclose(f);
	unlink(tmpl);

	char path[PATH_MAX];
	for (unsigned i = 0; i < files; i++) {
		file_name(path, sizeof path, dir, i, i % 10 == 0);
		write_copy(path, data, len, i % 10 == 0);
	}
	if (ttlog__retention_init() != TTLOG_OK)
		bench_die("cannot reserve the pruning workspace");

	double scan_us[64], remove_us[64];
	for (unsigned r = 0; r < runs; r++) {
		int64_t t0 = bench_now_ns();
		unsigned n = ttlog__retention_prune(TTLOG__WS_NORMAL, dir, NULL, files + 1, UINT64_MAX);
		int64_t t1 = bench_now_ns();
		if (n != 0)
			bench_die("a pass within the limits removed %u files", n);
		scan_us[r] = (double)(t1 - t0) / 1e3;

		t0 = bench_now_ns();
		n = ttlog__retention_prune(TTLOG__WS_NORMAL, dir, NULL, files - 1, UINT64_MAX);
		t1 = bench_now_ns();
		if (n != 1)
			bench_die("a pass one file over the limit removed %u files", n);
		remove_us[r] = (double)(t1 - t0) / 1e3;
		/* The oldest non-crash file is number 1 (0 is a crash snapshot). */
		file_name(path, sizeof path, dir, 1, 0);
		if (access(path, F_OK) == 0)
			bench_die("the pass did not remove the oldest non-crash file");
		write_copy(path, data, len, 0);
	}
	printf("{\"bench\":\"retention\",\"files\":%u,\"file_bytes\":%zu,\"scan_us\":%.1f,"
	       "\"remove_one_us\":%.1f}\n",
	       files, len, bench_median(scan_us, runs), bench_median(remove_us, runs));
	bench_scratch_remove();
	return 0;
}
