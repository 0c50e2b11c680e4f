/* SPDX-License-Identifier: MIT */
/*
 * owner.h - the library side of shared-memory mode (src/shm/owner.c): the
 * mapping a process's rings and call sites live in.
 *
 * The layers below (rings, threads, sites, snapshots, the crash handler)
 * reach it only through the publisher table of src/common/publish.h, which
 * core/ sets to ttlog__shm_publisher; core/ alone calls the rest. Every
 * operation is a no-op (or returns "not here") while the mode is off.
 */
#ifndef TTLOG__SHM_OWNER_H
#define TTLOG__SHM_OWNER_H

#include <stddef.h>

#include "common/publish.h"

/* The operations the layers below call, through ttlog__publisher. */
extern const struct ttlog__publisher ttlog__shm_publisher;

/* Creates the mapping for ttlog_init (on: shared-memory mode, base_dir: its
 * base directory), or drops the previous one's role (on = 0). The ring
 * size, memory cap, window and snapshot directory come from ttlog__g,
 * which ttlog_init has set; snapshot_signal goes into the header for
 * `ttlog snap`. TTLOG_OK, or TTLOG_E_DIR / TTLOG_E_NOMEM with a message in
 * err. Not signal-safe. */
int ttlog__shm_open(int on, const char *base_dir, int snapshot_signal, char *err, size_t errsize);

/* In a forked child, before the rings are reset: gives the child a mapping
 * of its own at the same address. Not signal-safe (atfork handler). */
void ttlog__shm_after_fork(void);

/* ttlog_shutdown and exit: state EXITING, the file removed. The memory
 * stays mapped (threads keep their rings). */
void ttlog__shm_close(void);

#endif
