/* SPDX-License-Identifier: MIT */
/*
 * store_args.h - file arguments that name a store: a directory or a glob
 * pattern stands for the segments (*.ttseg) and snapshots (*.ttlog) in it.
 * Commands that read events merge them through a store (ttlog_store_*);
 * commands that report per file (stats, ls, query) expand them to the
 * files, in name order.
 */
#ifndef TTLOG__CLI_STORE_ARGS_H
#define TTLOG__CLI_STORE_ARGS_H

#include "filter.h"
#include "ttlog_reader.h"

/** Whether a file argument is a directory or a glob pattern. */
int cli_store_arg(const char *arg);

/** Whether any of the n arguments is one. */
int cli_store_args(char *const *args, int n);

/**
 * Expands the n arguments: directories and patterns to their files, in
 * name order, other arguments as they are. Returns the count and a
 * malloc'd array of malloc'd strings in *out (cli_store_free_list()); a
 * directory or pattern that names no file is reported on stderr as who
 * (unless who is NULL) and gives nothing (*bad is set).
 */
int cli_store_expand(char *const *args, int n, const char *who, char ***out, int *bad);
void cli_store_free_list(char **list, int n);

/**
 * Opens the n arguments as one store with the filter's range, levels and
 * service, and no event before floor_ns (INT64_MIN: no floor). Relative
 * times (-DURATION, a time of day) count from the store's last event.
 * Returns the store (NULL only when out of memory, said on stderr).
 */
ttlog_store *cli_store_open(struct cli_filter *f, char *const *args, int n, const char *who,
			    int64_t floor_ns);

/**
 * With --service NAME (service not NULL): whether any file of the n
 * arguments is of that service, by a segment's name (as the writer spells
 * the service in it) or else by a file's HEAD. If none is, says so on
 * stderr as who, with the services the files have, and returns
 * CLI_EXIT_USAGE; otherwise (or with no file at all, which the caller
 * reports) CLI_EXIT_OK.
 */
int cli_store_check_service(const char *who, char *const *args, int n, const char *service);

/** The time in a segment's or snapshot's file name (FORMAT.md 18), ns since
 *  the epoch; 0 if the name has none. */
int64_t cli_store_name_time(const char *path);

/**
 * Prints on stderr each problem of the store's files (a file's first
 * problem, "who: PATH: offset N: ...") and of its sources. Returns
 * CLI_EXIT_OK, or CLI_EXIT_DATA if there was one.
 */
int cli_store_report(const ttlog_store *s, const char *who);

#endif /* TTLOG__CLI_STORE_ARGS_H */
