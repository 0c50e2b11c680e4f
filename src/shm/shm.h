/* SPDX-License-Identifier: MIT */
/*
 * shm.h - shared-memory mode: the rings, the thread table and the call-site
 * dictionary of a process live in a file-backed shared mapping, so that
 * another process can turn them into a snapshot while the owner runs
 * (`ttlog snap PID`) or after it died without a word (SIGKILL, the OOM
 * killer: `ttlog recover`).
 *
 * The library side (creating the mapping, placing rings and sites in it,
 * removing it at exit: owner.c, path.c, and header.c, the header check both
 * sides use; in libttlog) and the reading side (map_snapshot.c, in libttlog-read)
 * are both in src/shm/. What the `ttlog` command
 * uses of them (paths, header checks, owners, writing a snapshot from a
 * mapping) is declared in include/ttlog_tools.h, the unstable tools header,
 * so that the command builds against the installed headers alone; this
 * header adds what only the library and its tests see.
 */
#ifndef TTLOG__SHM_SHM_H
#define TTLOG__SHM_SHM_H

#ifndef TTLOG_TOOLS_UNSTABLE
#define TTLOG_TOOLS_UNSTABLE
#endif
#include "ttlog_tools.h"

/*
 * Tests only: when set, called by ttlog__shm_snapshot with the mapping's
 * path once the file is mapped and before anything is read from the
 * mapping, so that a test can truncate the file at a known point. NULL in
 * the command.
 */
extern void (*ttlog__shm_read_test_hook)(const char *map_path);

#endif
