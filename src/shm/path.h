/* SPDX-License-Identifier: MIT */
/*
 * path.h - helpers shared by the two sides of shared-memory mode
 * (src/shm/path.c); the paths themselves are declared in shm.h.
 */
#ifndef TTLOG__SHM_PATH_H
#define TTLOG__SHM_PATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Field 22 of /proc/PID/stat (pid <= 0: this process). 0 or -1. */
int ttlog__shm_start_time(int pid, uint64_t *out);

/* This boot's id, NUL-terminated. 0 or -1. */
int ttlog__shm_boot_id(char *buf, size_t size);

#endif
