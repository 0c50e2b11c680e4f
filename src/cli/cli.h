/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the source files of the `ttlog` command share: exit codes,
 * the subcommand entry points and stdout error tracking. Output lines are
 * built in the presentation layer's buffer (render/text_buf.h), which every
 * file of the command uses.
 *
 * The command is a client of the public reader API (<ttlog_reader.h>), of
 * the presentation layer (src/render/) and of the SQL module (src/query/,
 * for `ttlog query`), and of nothing else in the library.
 */
#ifndef TTLOG__CLI_CLI_H
#define TTLOG__CLI_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "render/text_buf.h"

/* Exit codes of every subcommand. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_USAGE 1 /* bad option, argument or command line */
#define CLI_EXIT_DATA 2  /* a file could not be read completely, or output failed */
_Static_assert(CLI_EXIT_DATA == RENDER_EXIT_NO_MEMORY, "running out of memory is a data error");

/* ---- Subcommands (one file each) ---------------------------------------- */

/** `ttlog view`: argv[0] is "view". Returns an exit code. */
int cli_view_main(int argc, char **argv);
/** Writes the help text of `ttlog view` to out. */
void cli_view_usage(FILE *out);

/** `ttlog keygen`: argv[0] is "keygen". Returns an exit code. */
int cli_keygen_main(int argc, char **argv);
/** Writes the help text of `ttlog keygen` to out. */
void cli_keygen_usage(FILE *out);

/** `ttlog ls`: argv[0] is "ls". Returns an exit code. */
int cli_ls_main(int argc, char **argv);
/** Writes the help text of `ttlog ls` to out. */
void cli_ls_usage(FILE *out);

/** `ttlog stats`: argv[0] is "stats". Returns an exit code. */
int cli_stats_main(int argc, char **argv);
/** Writes the help text of `ttlog stats` to out. */
void cli_stats_usage(FILE *out);
/** `ttlog query`: argv[0] is "query". Returns an exit code. */
int cli_query_main(int argc, char **argv);
/** Writes the help text of `ttlog query` to out. */
void cli_query_usage(FILE *out);
/** `ttlog export`: argv[0] is "export". Returns an exit code. */
int cli_export_main(int argc, char **argv);
/** Writes the help text of `ttlog export` to out. */
void cli_export_usage(FILE *out);
/** `ttlog tail`: argv[0] is "tail". Returns an exit code. */
int cli_tail_main(int argc, char **argv);
/** Writes the help text of `ttlog tail` to out. */
void cli_tail_usage(FILE *out);
/** `ttlog top`: argv[0] is "top". Returns an exit code. */
int cli_top_main(int argc, char **argv);
/** Writes the help text of `ttlog top` to out. */
void cli_top_usage(FILE *out);
/** `ttlog snap`: argv[0] is "snap". Returns an exit code. */
int cli_snap_main(int argc, char **argv);
/** `ttlog metrics PID...|all`: live metrics of shared-memory processes (metrics.c). */
int cli_metrics_main(int argc, char **argv);
void cli_metrics_usage(FILE *out);
/** Writes the help text of `ttlog snap` to out. */
void cli_snap_usage(FILE *out);
/** `ttlog recover`: argv[0] is "recover". Returns an exit code. */
int cli_recover_main(int argc, char **argv);
/** Writes the help text of `ttlog recover` to out. */
void cli_recover_usage(FILE *out);

/** `ttlog run`: argv[0] is "run". Returns the program's exit status. */
int cli_run_main(int argc, char **argv);
/** Writes the help text of `ttlog run` to out. */
void cli_run_usage(FILE *out);

/** `ttlog serve`: argv[0] is "serve". Returns an exit code. */
int cli_serve_main(int argc, char **argv);
/** Writes the help text of `ttlog serve` to out. */
void cli_serve_usage(FILE *out);

/** `ttlog report`: argv[0] is "report". Returns an exit code. */
int cli_htmlreport_main(int argc, char **argv);
/** Writes the help text of `ttlog report` to out. */
void cli_htmlreport_usage(FILE *out);

/** `ttlog ship`: argv[0] is "ship". Returns an exit code. */
int cli_ship_main(int argc, char **argv);
/** Writes the help text of `ttlog ship` to out. */
void cli_ship_usage(FILE *out);

/** `ttlog diff`: argv[0] is "diff". Returns an exit code. */
int cli_diff_main(int argc, char **argv);
/** Writes the help text of `ttlog diff` to out. */
void cli_diff_usage(FILE *out);

/** `ttlog explain`: argv[0] is "explain". Returns an exit code. */
int cli_explain_main(int argc, char **argv);
/** Writes the help text of `ttlog explain` to out. */
void cli_explain_usage(FILE *out);

/* ---- stdout (main.c) ---------------------------------------------------- */

/**
 * Returns 0 while stdout has had no write error. After the first error it
 * remembers errno and returns -1: the caller stops producing output and
 * lets main() report it (quietly for a closed pipe, EPIPE).
 */
int cli_stdout_failed(void);
/* A write to stdout made on another thread failed with errno err (stdout's
 * error flag is set too): the error cli_stdout_failed() keeps, unless one
 * came first. */
void cli_stdout_note_errno(int err);

/** Flushes stdout before a message on stderr, so that both keep their order. */
void cli_sync_stdout(void);

#endif /* TTLOG__CLI_CLI_H */
