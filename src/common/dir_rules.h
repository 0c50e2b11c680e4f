/* SPDX-License-Identifier: MIT */
/*
 * dir_rules.h - whether a directory is safe to write this user's files in.
 *
 * Snapshots, mappings and segments hold what a program logged, and a file
 * another user can create, replace or remove in a directory is one that
 * user controls. So every directory the library writes to must be a
 * directory (not a file, FIFO or dangling link) owned by the effective
 * user and not writable by every user (sticky bit or not; which also
 * refuses /tmp itself). The library's own per-user directories
 * (/tmp/ttlog-UID, $XDG_RUNTIME_DIR/ttlog, SHARED_DIR/ttlog-UID), which it
 * creates 0700 under a name anyone can take first, must moreover not be
 * writable by their group nor be symbolic links at all. A directory the
 * user names (TTLOG_DIR, TTLOG_STREAM) may be a link to a directory that
 * passes the rules, and group-writable (a team's directory is a deliberate
 * choice).
 */
#ifndef TTLOG__COMMON_DIR_RULES_H
#define TTLOG__COMMON_DIR_RULES_H

#include <stddef.h>

enum ttlog__dir_kind {
	TTLOG__DIR_OWN = 0,   /* a per-user directory the library names: no symlink */
	TTLOG__DIR_NAMED = 1, /* a directory the user named: a symlink is followed */
};

/*
 * 0 if path passes the rules for its kind. -1 if it does not: errno is
 * ENOENT when nothing is at path (the caller may create it), else why holds
 * a sentence saying what was found, e.g. "owned by uid 1001, not 0".
 */
int ttlog__dir_check(const char *path, enum ttlog__dir_kind kind, char *why, size_t whysize);

/* Refused directories, for ttlog_refused_dirs() and the self metrics:
 * the bits of TTLOG_REFUSED_* (ttlog.h), set once at init. */
void ttlog__dir_refused_set(unsigned bit);
void ttlog__dir_refused_clear(void);
unsigned ttlog__dir_refused(void);

#endif
