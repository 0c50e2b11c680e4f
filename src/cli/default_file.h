/* SPDX-License-Identifier: MIT */
/*
 * default_file.h - the file a reading command opens when it is given none:
 * the newest snapshot (*.ttlog) of the directory the library writes to by
 * default (ttlog_default_dir(): TTLOG_DIR, $XDG_RUNTIME_DIR/ttlog or
 * /tmp/ttlog-<euid>), the one `ttlog ls` lists without an argument.
 */
#ifndef TTLOG__CLI_DEFAULT_FILE_H
#define TTLOG__CLI_DEFAULT_FILE_H

#include <stddef.h>

/**
 * Finds the newest snapshot of the default directory: the latest time in
 * a snapshot's name (FORMAT.md 18), else its modification time; the
 * greater name when two tie. Copies its path into buf[0..size-1] and says
 * on stderr, as "ttlog WHO: reading PATH (the newest snapshot of DIR)",
 * which file it is. Returns 0, or -1 after saying on stderr why there is
 * none (no default directory, the directory cannot be read, no snapshot
 * in it).
 */
int cli_default_snapshot(const char *who, char *buf, size_t size);

#endif /* TTLOG__CLI_DEFAULT_FILE_H */
