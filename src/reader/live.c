/* SPDX-License-Identifier: MIT */
/*
 * live.c - live inspection, ttlog_live_foreach(): the events now in this
 * process's rings, decoded, without a file on disk.
 *
 * The rings are written as a snapshot (reason "live") by libttlog's
 * snapshot writer, with a workspace of its own (common/live.h), into an
 * anonymous memory file (memfd_create: memory that only this process can
 * reach, gone when its descriptor is closed). The bytes are then opened
 * with the reader from memory, exactly as a file would be, filtered and
 * handed to the caller. So a live read follows the snapshot's rules: the
 * lock-free ring read while other threads log, torn and overwritten records
 * counted (in the stats and in each event's thread), the window applied.
 *
 * One live read at a time in the process: a mutex serialises the callers
 * (the writer's live workspace is single-use and answers a second caller
 * with TTLOG_E_BUSY, which a program's health endpoint should never see).
 * Hence, and for the allocations, not async-signal-safe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/live.h"
#include "reader/reader_internal.h"
#include "ttlog_reader.h"

#define MESSAGE_MAX 4096

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() in one thread while another reads: the lock is taken around the
 * fork, so that the child does not start with it held by a thread it does
 * not have. */
static void before_fork(void)
{
	pthread_mutex_lock(&live_lock);
}

static void after_fork(void)
{
	pthread_mutex_unlock(&live_lock);
}

static void register_atfork(void)
{
	pthread_atfork(before_fork, after_fork, after_fork);
}

TTLOG_API void ttlog_live_filter_init(struct ttlog_live_filter *filter)
{
	if (!filter)
		return;
	memset(filter, 0, sizeof *filter);
	filter->level_mask = TTLOG_READER_ALL_LEVELS;
}

static int reserved_zero(const uint64_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i])
			return 0;
	return 1;
}

/* The snapshot of the rings, written into a memory file and read back: a
 * reader, or NULL with the code in *rc. */
static ttlog_reader *read_rings(int *rc)
{
	int fd = memfd_create("ttlog-live", MFD_CLOEXEC);
	if (fd < 0) {
		*rc = errno == ENOMEM ? TTLOG_E_NOMEM : TTLOG_E_IO;
		return NULL;
	}
	ttlog_reader *r = NULL;
	*rc = ttlog__snapshot_write_live(fd);
	struct stat sb;
	if (*rc == TTLOG_OK && fstat(fd, &sb) != 0)
		*rc = TTLOG_E_IO;
	if (*rc == TTLOG_OK) {
		size_t size = (size_t)sb.st_size;
		void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
		if (size && map == MAP_FAILED) {
			*rc = TTLOG_E_NOMEM;
		} else {
			*rc = ttlog__reader_open_memory(map, size, "<live>", &r);
			if (map)
				munmap(map, size);
		}
	}
	close(fd);
	return r;
}

TTLOG_API int ttlog_live_foreach(const struct ttlog_live_filter *filter,
				 ttlog_live_callback callback, void *ctx,
				 struct ttlog_live_stats *stats)
{
	struct ttlog_live_filter all;
	if (stats)
		memset(stats, 0, sizeof *stats);
	if (!filter) {
		ttlog_live_filter_init(&all);
		filter = &all;
	}
	if (!callback || !reserved_zero(filter->reserved, sizeof filter->reserved / sizeof filter->reserved[0]))
		return TTLOG_E_INVALID;
	char *message = malloc(MESSAGE_MAX);
	if (!message)
		return TTLOG_E_NOMEM;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&live_lock);
	int rc;
	ttlog_reader *r = read_rings(&rc);
	pthread_mutex_unlock(&live_lock);
	if (!r) {
		free(message);
		return rc;
	}

	unsigned mask = filter->level_mask & TTLOG_READER_ALL_LEVELS;
	ttlog_reader_set_range(r, filter->since_ns ? filter->since_ns : INT64_MIN, INT64_MAX,
			       mask ? mask : TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r); /* the range applies from here */
	const char *needle = filter->contains && *filter->contains ? filter->contains : NULL;
	struct ttlog_event ev;
	uint64_t matched = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (filter->tid && (!ev.thread || ev.thread->tid != filter->tid))
			continue;
		ttlog_event_format(&ev, message, MESSAGE_MAX);
		if (needle && !strstr(message, needle))
			continue;
		matched++;
		if (callback(&ev, message, ctx))
			break;
	}
	if (stats) {
		const struct ttlog_file_info *info = ttlog_reader_info(r);
		stats->events = info->events;
		stats->matched = matched;
		stats->threads = ttlog_reader_thread_count(r);
		stats->overwritten = info->overwritten;
		stats->torn = info->torn;
		stats->dropped = info->dropped;
	}
	rc = ttlog_reader_status(r);
	ttlog_reader_close(r);
	free(message);
	return rc;
}
