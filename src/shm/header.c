/* SPDX-License-Identifier: MIT */
/*
 * header.c - shared-memory mode, what both sides need: checking the header
 * of a mapping file field by field (nothing in it is trusted). The owner
 * checks a file left at its path before it replaces it (owner.c), the
 * `ttlog` command lists mappings with ttlog__shm_inspect(), and the mapping
 * reader (map_snapshot.c) checks the header before it reads anything else. So this
 * is in libttlog, which applications link, and its three functions that
 * map_snapshot.c calls are exported for libttlog-read (TTLOG_API).
 */
#include "shm/header.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "format/format.h"
#include "format/shm_layout.h"
#include "ring/ring.h"
#include "shm/shm.h"
#include "ttlog.h"

static int terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

TTLOG_API int ttlog__shm_check_header(const char *path, const struct ttlog__shm_header *h,
				      uint64_t file_size, char *err, size_t err_size)
{
	if (memcmp(h->magic, TTLOG__SHM_MAGIC, TTLOG__SHM_MAGIC_LEN) != 0) {
		ttlog__shm_say(err, err_size, "%s: offset 0: not a ttlog shared-memory mapping (no \"%s\" magic)",
		    path, TTLOG__SHM_MAGIC);
		return TTLOG_E_NOT_TTLOG;
	}
	if (h->byte_order != TTLOG__SHM_BYTE_ORDER) {
		ttlog__shm_say(err, err_size, "%s: offset 24: byte order mark 0x%08x, expected 0x%08x", path,
		    h->byte_order, TTLOG__SHM_BYTE_ORDER);
		return TTLOG_E_VERSION;
	}
	if (h->major != TTLOG__SHM_MAJOR) {
		ttlog__shm_say(err, err_size, "%s: offset 8: layout version %u.%u; this ttlog reads version %u.x",
		    path, h->major, h->minor, TTLOG__SHM_MAJOR);
		return TTLOG_E_VERSION;
	}
	if (h->header_size < TTLOG__SHM_HEADER_SIZE || h->header_size > file_size) {
		ttlog__shm_say(err, err_size, "%s: offset 12: header size %u, expected at least %u and within the file",
		    path, h->header_size, TTLOG__SHM_HEADER_SIZE);
		return TTLOG_E_CORRUPT;
	}
	if (h->file_size != file_size) {
		ttlog__shm_say(err, err_size, "%s: offset 16: the header says %llu bytes, the file has %llu", path,
		    (unsigned long long)h->file_size, (unsigned long long)file_size);
		return h->file_size > file_size ? TTLOG_E_TRUNCATED : TTLOG_E_CORRUPT;
	}
	if (h->ring_struct_size != sizeof(struct ttlog__ring)) {
		ttlog__shm_say(err, err_size,
		    "%s: offset 28: ring structure of %u bytes, this ttlog's has %zu "
		    "(written by another ttlog version)",
		    path, h->ring_struct_size, sizeof(struct ttlog__ring));
		return TTLOG_E_VERSION;
	}
	if (h->pid <= 0) {
		ttlog__shm_say(err, err_size, "%s: offset 32: pid %d", path, h->pid);
		return TTLOG_E_CORRUPT;
	}
	uint32_t state = atomic_load_explicit(&h->state, memory_order_relaxed);
	if (state < TTLOG_SHM_RUNNING || state > TTLOG_SHM_EXITING) {
		ttlog__shm_say(err, err_size, "%s: offset 56: state %u, expected 1 to 3", path, state);
		return TTLOG_E_CORRUPT;
	}
	if (h->clock_kind > TTLOG__FMT_CLOCK_FAKE) {
		ttlog__shm_say(err, err_size, "%s: offset 72: clock kind %u, expected 0 to 3", path, h->clock_kind);
		return TTLOG_E_CORRUPT;
	}
	static const struct {
		size_t off, cap;
	} strings[] = {
		{offsetof(struct ttlog__shm_header, boot_id), TTLOG__SHM_BOOT_ID_MAX},
		{offsetof(struct ttlog__shm_header, hostname), TTLOG__SHM_HOST_MAX},
		{offsetof(struct ttlog__shm_header, executable), TTLOG__SHM_EXE_MAX},
		{offsetof(struct ttlog__shm_header, snapshot_dir), TTLOG__SHM_DIR_MAX},
	};
	for (size_t i = 0; i < TTLOG__ARRAY_SIZE(strings); i++) {
		if (!terminated((const char *)h + strings[i].off, strings[i].cap)) {
			ttlog__shm_say(err, err_size, "%s: offset %zu: string not terminated within %zu bytes", path,
			    strings[i].off, strings[i].cap);
			return TTLOG_E_CORRUPT;
		}
	}
	uint64_t hs = h->header_size;
	if (h->table_cap > TTLOG__SHM_MAX_TABLE || h->table_off < hs || h->table_off % 8 ||
	    !ttlog__shm_fits(h->table_off, (uint64_t)h->table_cap * sizeof(struct ttlog__shm_ring_entry), file_size)) {
		ttlog__shm_say(err, err_size, "%s: offset 152: ring table at %llu with %u entries is not within the file",
		    path, (unsigned long long)h->table_off, h->table_cap);
		return TTLOG_E_CORRUPT;
	}
	if (h->site_index_cap > TTLOG__SHM_SITE_IDS || h->site_index_off < hs || h->site_index_off % 4 ||
	    !ttlog__shm_fits(h->site_index_off, (uint64_t)h->site_index_cap * 4u, file_size)) {
		ttlog__shm_say(err, err_size, "%s: offset 192: site index at %llu with %u entries is not within the file",
		    path, (unsigned long long)h->site_index_off, h->site_index_cap);
		return TTLOG_E_CORRUPT;
	}
	/* The owner makes the dictionary TTLOG__SHM_DICT_SIZE; a reader copies
	 * it whole, so a larger one is refused (with room for a later layout
	 * to grow it) rather than allocated. */
	if (h->dict_off < hs || h->dict_off % 8 || h->dict_size > TTLOG__SHM_DICT_MAX ||
	    !ttlog__shm_fits(h->dict_off, h->dict_size, file_size) || h->dict_off + h->dict_size > UINT32_MAX) {
		ttlog__shm_say(err, err_size, "%s: offset 208: site dictionary at %llu of %llu bytes is not within the file",
		    path, (unsigned long long)h->dict_off, (unsigned long long)h->dict_size);
		return TTLOG_E_CORRUPT;
	}
	if (h->arena_off < hs || !ttlog__shm_fits(h->arena_off, h->arena_size, file_size)) {
		ttlog__shm_say(err, err_size, "%s: offset 168: ring arena at %llu of %llu bytes is not within the file",
		    path, (unsigned long long)h->arena_off, (unsigned long long)h->arena_size);
		return TTLOG_E_CORRUPT;
	}
	/* The stream table (1.1); a 1.0 file's bytes there are reserved. */
	if (h->minor >= 1 && h->stream_off != 0 &&
	    (h->stream_off < hs || h->stream_off % 8 ||
	     !ttlog__shm_fits(h->stream_off, (uint64_t)h->table_cap * sizeof(struct ttlog__shm_stream_entry),
			      file_size))) {
		ttlog__shm_say(err, err_size, "%s: offset 232: stream table at %llu of %u entries is not within the file",
		    path, (unsigned long long)h->stream_off, h->table_cap);
		return TTLOG_E_CORRUPT;
	}
	/* The metrics part (1.3): its own header here, its entries and shards
	 * where the metrics are read (map_snapshot.c). */
	if (h->minor >= 3 && h->metrics_off != 0 &&
	    (h->metrics_off < hs || h->metrics_off % TTLOG__SHM_PAGE ||
	     !ttlog__shm_fits(h->metrics_off, sizeof(struct ttlog__shm_metrics), file_size))) {
		ttlog__shm_say(err, err_size, "%s: offset 248: metrics part at %llu is not a page of the file",
		    path, (unsigned long long)h->metrics_off);
		return TTLOG_E_CORRUPT;
	}
	return TTLOG_OK;
}

TTLOG_API int ttlog__shm_open_mapping(const char *path, struct ttlog__shm_header *h,
				      struct stat *sb, int *rc, char *err, size_t err_size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, sb) != 0) {
		ttlog__shm_say(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		*rc = TTLOG_E_OPEN;
		goto fail;
	}
	if (!S_ISREG(sb->st_mode)) {
		ttlog__shm_say(err, err_size, "%s: not a regular file", path);
		*rc = TTLOG_E_NOT_TTLOG;
		goto fail;
	}
	if ((uint64_t)sb->st_size < sizeof *h) {
		ttlog__shm_say(err, err_size, "%s: %lld bytes, too short for the %zu-byte header", path,
		    (long long)sb->st_size, sizeof *h);
		*rc = TTLOG_E_TRUNCATED;
		goto fail;
	}
	if (pread(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h) {
		ttlog__shm_say(err, err_size, "%s: cannot read the header: %s", path, strerror(errno));
		*rc = TTLOG_E_IO;
		goto fail;
	}
	*rc = ttlog__shm_check_header(path, h, (uint64_t)sb->st_size, err, err_size);
	if (*rc != TTLOG_OK)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

TTLOG_API void ttlog__shm_fill_info(const struct ttlog__shm_header *h, const struct stat *sb,
				    struct ttlog__shm_info *info)
{
	uint64_t size = (uint64_t)sb->st_size;
	memset(info, 0, sizeof *info);
	info->dev = (uint64_t)sb->st_dev;
	info->ino = (uint64_t)sb->st_ino;
	info->pid = h->pid;
	info->uid = h->uid;
	info->start_time = h->start_time;
	info->created_ns = h->created_ns;
	info->state = (int)atomic_load_explicit(&h->state, memory_order_relaxed);
	info->threads = TTLOG__MIN(atomic_load_explicit(&h->table_used, memory_order_relaxed), h->table_cap);
	info->bytes = size;
	info->snapshot_signal = h->snapshot_signal;
	info->major = h->major;
	info->minor = h->minor;
	info->has_metrics = h->minor >= 3 && h->metrics_off != 0;
	snprintf(info->executable, sizeof info->executable, "%s", h->executable);
	snprintf(info->snapshot_dir, sizeof info->snapshot_dir, "%s", h->snapshot_dir);
}

int ttlog__shm_inspect(const char *path, struct ttlog__shm_info *info, char *err, size_t err_size)
{
	/* 8 KiB: not on the stack of a tool's caller, and one per call, not a
	 * static one: the server inspects mappings on several threads at once,
	 * and one thread's read landed in the header another had checked. */
	struct ttlog__shm_header *h = malloc(sizeof *h);
	struct stat sb;
	int rc;
	if (err && err_size)
		err[0] = '\0';
	if (!h) {
		ttlog__shm_say(err, err_size, "%s: out of memory", path);
		return -1;
	}
	int fd = ttlog__shm_open_mapping(path, h, &sb, &rc, err, err_size);
	if (fd >= 0) {
		close(fd);
		ttlog__shm_fill_info(h, &sb, info);
	}
	free(h);
	return fd >= 0 ? 0 : -1;
}
