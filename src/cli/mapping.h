/* SPDX-License-Identifier: MIT */
/*
 * mapping.h - what `ttlog recover` and `ttlog snap` share: the shared
 * mappings of processes in shared-memory mode (ttlog_tools.h) as the command
 * names and shows them, process ids and signals from the command line, and
 * making a written file durable.
 */
#ifndef TTLOG__CLI_MAPPING_H
#define TTLOG__CLI_MAPPING_H

/* The command is the library's own tool: it may use the unstable header. */
#define TTLOG_TOOLS_UNSTABLE
#include "ttlog_tools.h"

/**
 * The base directory of the mappings: option when given (--shm-dir), else
 * $TTLOG_SHARED_DIR when set and not empty (what a program in shared-memory
 * mode uses), else NULL, which the shm functions take as the default
 * (TTLOG_SHM_DEFAULT_BASE).
 */
const char *cli_shm_base(const char *option);

/** A process id: decimal digits only, 1 to INT_MAX. 0 and sets *pid, or -1. */
int cli_parse_pid(const char *text, int *pid);

/**
 * A signal as the library takes it in TTLOG_SNAPSHOT_SIGNAL: "USR2",
 * "SIGUSR2" (any case) or "12", 1 to 63. Returns the number, or -1.
 */
int cli_parse_signal(const char *text);

/**
 * The reason a snapshot written on signal signo has (the library's
 * snapshot handler uses the signal's name, "signal" when it has none): the
 * last part of the file's name.
 */
const char *cli_signal_reason(int signo);

/**
 * Whether ttlog__shm_snapshot()'s result rc, with the path it set in file,
 * is a partial snapshot: TTLOG_E_CORRUPT (entries of the mapping skipped)
 * or TTLOG_E_TRUNCATED (the file shrank while it was read) with a file
 * written. Returns what that file holds, for the message ("the rest", "what
 * was read before"), or NULL if rc is not such a result.
 */
const char *cli_partial_snapshot(int rc, const char *file);

/**
 * The state of a mapping as `ttlog recover --list` shows it, owner being
 * what ttlog__shm_owner() said: "crashed" when the owner's crash handler
 * wrote a crash snapshot, else "running" or "exiting" (what the header
 * says) while the owner lives, "exec'd" when the owner runs but called exec
 * since (its mapping is left behind), "dead" once it is gone.
 */
const char *cli_mapping_state(const struct ttlog__shm_info *info, int owner);

/**
 * Creates dir and its missing parents, mode 0700 (snapshots are private to
 * their user, as the library's own directory is), for --dir. 0, or -1
 * after a message "ttlog COMMAND: DIR: ..." on stderr.
 */
int cli_make_dir(const char *command, const char *dir);

/**
 * fsync()s the file at path and then the directory that holds it, so that
 * both its data and its name survive a power loss. 0, or -1 with errno set.
 */
int cli_fsync_path(const char *path);

#endif /* TTLOG__CLI_MAPPING_H */
