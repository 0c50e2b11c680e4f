/* SPDX-License-Identifier: MIT */
/*
 * live.h - running processes in shared-memory mode as sources of `ttlog
 * query --pid` and `ttlog top`: finding them (one PID, or every process of
 * the user) and taking a private copy of a process's rings that the reader
 * opens, with no file left behind and the process undisturbed.
 */
#ifndef TTLOG__CLI_LIVE_H
#define TTLOG__CLI_LIVE_H

#include <limits.h>
#include <stddef.h>

/* One process whose mapping is read. */
struct cli_live_proc {
	int pid;
	char map_path[PATH_MAX];
};

/* The processes of a command, and the private directory their copies pass
 * through ("" until the first copy). */
struct cli_live_set {
	struct cli_live_proc *procs;
	size_t n;
	int all;                 /* "all": every live mapping of the user */
	const char *base;        /* --shm-dir, $TTLOG_SHARED_DIR, or NULL */
	int base_given;          /* --shm-dir was given */
	char scratch[PATH_MAX];
};

/**
 * Fills set from arg, "PID" or "all" (shm_dir: --shm-dir or NULL). A PID
 * must be a running process of this user in shared-memory mode; otherwise
 * a message "ttlog COMMAND: ..." says which of these it is not, and the
 * result is the exit status (CLI_EXIT_USAGE for an argument that is no
 * pid, CLI_EXIT_DATA else). "all" takes every live owner of a mapping in
 * the user's directory, possibly none. Returns 0 on success.
 */
int cli_live_find(const char *command, const char *arg, const char *shm_dir,
		  struct cli_live_set *set);

/** "all": looks at the user's directory again (processes come and go).
 *  0, or -1 after a message. */
int cli_live_rescan(const char *command, struct cli_live_set *set);

/**
 * Takes a copy of process p's rings: a snapshot of its mapping written
 * into the set's private directory (mode 0700, made on first use), opened,
 * and unlinked at once. *fd gets the open descriptor, which holds the only
 * reference to the copy (close it when done: the space is freed then);
 * path gets "/proc/self/fd/N", the name through which the reader opens it.
 * 0, or -1 with a one-line reason in err (the process is gone, the mapping
 * is damaged...). A partial copy (entries of a damaged mapping skipped)
 * counts as a copy: its reader says what was skipped.
 */
int cli_live_copy(struct cli_live_set *set, const struct cli_live_proc *p, int *fd, char *path,
		  size_t path_size, char *err, size_t err_size);

/** Whether the owner of p's mapping still runs it. */
int cli_live_alive(const struct cli_live_proc *p);

/** Frees the list and removes the private directory. */
void cli_live_free(struct cli_live_set *set);

#endif /* TTLOG__CLI_LIVE_H */
