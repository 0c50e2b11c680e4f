/* SPDX-License-Identifier: MIT */
/*
 * header.h - checking the header of a mapping file (src/shm/header.c), which
 * both sides of shared-memory mode need: the owner before it replaces a file
 * left at its path, the mapping reader before it reads anything else.
 * Exported from libttlog for the mapping reader in libttlog-read; not API.
 */
#ifndef TTLOG__SHM_HEADER_H
#define TTLOG__SHM_HEADER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stat;
struct ttlog__shm_header; /* format/shm_layout.h */
struct ttlog__shm_info;   /* ttlog_tools.h */

/* What both sides use to check a mapping: an error message into err (if
 * any), and off + len <= size without overflow. */
static inline void ttlog__shm_say(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void ttlog__shm_say(char *err, size_t err_size, const char *fmt, ...)
{
	if (!err || !err_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

static inline int ttlog__shm_fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Checks a copy h of the header against the file's size. TTLOG_OK or an
 * error code with the reason (naming the offset) in err. */
int ttlog__shm_check_header(const char *path, const struct ttlog__shm_header *h, uint64_t file_size,
			    char *err, size_t err_size);

/* Opens path and reads its header into *h, checked; *sb is the file's
 * fstat(). Returns the descriptor, or -1 with *rc and err set. */
int ttlog__shm_open_mapping(const char *path, struct ttlog__shm_header *h, struct stat *sb, int *rc,
			    char *err, size_t err_size);

/* What the command is told about a mapping (ttlog__shm_inspect), from a
 * checked header and the file's fstat(). */
void ttlog__shm_fill_info(const struct ttlog__shm_header *h, const struct stat *sb,
			  struct ttlog__shm_info *info);

#endif
