/* SPDX-License-Identifier: MIT */
/*
 * fuzz_shm.c - libFuzzer target for the reader of shared-memory mappings:
 * `ttlog recover` and `ttlog snap` turn a mapping another process left
 * (docs/SHM-FORMAT.md) into a snapshot file, trusting nothing in it.
 *
 * The input is written to a memory file, inspected (ttlog__shm_inspect)
 * and, whatever that said, turned into a snapshot in a private directory
 * (ttlog__shm_snapshot); the snapshot, when one was written, must then
 * read back: the writer's output never trips the reader into an error
 * other than the one the conversion reported. The file is removed after.
 *
 * The seed corpus, fuzz/corpus/shm, holds mappings of tests/progs/
 * shm_logger with small rings (what `ttlog recover` reads after a
 * SIGKILL) and damaged copies, and of tests/progs/shm_metrics (layout 1.3:
 * a metrics part whose table names a counter, a labelled counter, a gauge
 * and a histogram, and two threads' shards, cut to their first 36 KiB by
 * make_seed.py --shard-bytes), whole and damaged (labels without their
 * NUL, slots past the shard, counts past the table and the shards).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "ttlog.h"
#include "ttlog_reader.h"
#define TTLOG_TOOLS_UNSTABLE
#include "ttlog_tools.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_shm-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	/* A real file of its own in a private directory: the mapping reader
	 * refuses symbolic links such as /proc/self/fd/N. */
	char map[96];
	snprintf(map, sizeof map, "%s/input.ttshm", dir);
	int fd = open(map, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	char err[512] = "";
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0)
		CHECK(err[0]);
	char path[4096] = "";
	err[0] = '\0';
	int rc = ttlog__shm_snapshot(map, dir, "fuzz", path, sizeof path, err, sizeof err);
	if (rc != TTLOG_OK)
		CHECK(err[0]);
	if (path[0]) {
		ttlog_reader *r = NULL;
		(void)ttlog_reader_open(path, &r);
		if (r) {
			/* Written by the library itself: it must read whole. */
			CHECK(ttlog_reader_status(r) == TTLOG_OK);
			struct ttlog_event ev;
			char text[256];
			while (ttlog_reader_next(r, &ev) == 1)
				(void)ttlog_event_format(&ev, text, sizeof text);
			ttlog_reader_close(r);
		}
		unlink(path);
	}
	close(fd);
	unlink(map);
	return 0;
}
