/* SPDX-License-Identifier: MIT */
/*
 * query.c - `ttlog query`: runs SQL over snapshot files, or (--pid) over
 * the rings of running processes in shared-memory mode (live.h: each
 * process's rings are copied into an unlinked private file, read through
 * its descriptor; the process is never stopped or signalled).
 *
 * The files become seven tables (events, spans, threads, sites, metrics,
 * snapshots, args) of an in-memory SQLite database, through the virtual-table
 * module of src/query/; the statements run there and their rows are
 * printed by query_output.c. A file that cannot be read completely gives
 * the rows that survived, then the reader's message, and exit status 2.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "live.h"
#include "store_args.h"
#include "report.h"
#include "query/query.h"
#include "query_output.h"
#include "render/text_buf.h"

void cli_query_usage(FILE *out)
{
	fputs("Usage: ttlog query [OPTIONS] SQL FILE...\n"
	      "       ttlog query [OPTIONS] --pid PID|all SQL\n"
	      "\n"
	      "Runs SQL (SQLite's dialect; several statements may be separated by ';')\n"
	      "over snapshot files, which appear as the tables below, each holding the\n"
	      "rows of every FILE.\n"
	      "\n"
	      "With --pid, the tables hold the rings of a running process in shared-\n"
	      "memory mode (TTLOG_SHARED_MEMORY=1) instead: its mapping is read, never\n"
	      "written, and the process is neither stopped nor signalled. The copy of\n"
	      "its rings is written to a private file that is unlinked at once and read\n"
	      "through its descriptor, so nothing is left behind; the snapshot column\n"
	      "then reads /proc/self/fd/N, and pid tells the processes apart.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --pid PID|all     read the rings of process PID, or of every process\n"
	      "                        of this user in shared-memory mode (all); no FILE\n"
	      "      --shm-dir DIR     the base directory of the mappings (default: a\n"
	      "                        PID's own TTLOG_SHARED_DIR, else this shell's,\n"
	      "                        else /dev/shm)\n"
	      "  -o, --output FORMAT   table (the default: aligned columns, NULL empty),\n"
	      "                        csv (RFC 4180, with a header line) or json (one\n"
	      "                        object per row and line, typed values)\n"
	      "      --stats           print on stderr what the scans read: files,\n"
	      "                        event blocks in them, blocks decoded, blocks\n"
	      "                        decompressed only for their spans and contexts,\n"
	      "                        blocks skipped, records decoded\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Tables (times are ns since the Unix epoch, UTC; *_time columns the same\n"
	      "as ISO-8601 text; ids are hex text; fields are JSON text):\n"
	      "  events     ts, time, level (trace..fatal), level_num (0..5), kind (log,\n"
	      "             span_begin, span_end), tid, thread, target, file, line, func,\n"
	      "             site, message, fields, span_id, trace_id, span, snapshot,\n"
	      "             service, pid, promoted (1: streamed because of an error near it)\n"
	      "  spans      id, parent, trace_id, name, start, end, duration, start_time,\n"
	      "             tid, thread, depth, file, line, func, fields, snapshot,\n"
	      "             clipped (end: still open, ends at the file's last event;\n"
	      "             begin: begun before the file's history)\n"
	      "  threads    idx, tid, name, exited, crashed, events, overwritten, torn,\n"
	      "             torn_bytes, snapshot\n"
	      "  sites      id, level, level_num, kind, target, file, line, func, format,\n"
	      "             fields (their names), events (count in the file), snapshot\n"
	      "  metrics    name, type, labels, file, line, self, value, ts, count, sum,\n"
	      "             min, max, p50, p90, p99, p999, buckets, snapshot\n"
	      "  snapshots  snapshot, format_version, pid, executable, hostname, reason,\n"
	      "             created, created_time, writer_version, clock, window_ns,\n"
	      "             complete, events, overwritten, torn, dropped, blocks, first_ts,\n"
	      "             last_ts, first_time, last_time, crashed, signal, signal_code,\n"
	      "             crash_address, crash_tid, error, service, segment (a stream's\n"
	      "             segment number; 0: a snapshot), open (a segment still being\n"
	      "             written), stream_lost, filtered, promoted\n"
	      "  args       one row per argument of every event: ts, time, level,\n"
	      "             level_num, kind, tid, site, file, line, format, position (0..),\n"
	      "             field (its key, or NULL), source, type (i32, f64, str, ...),\n"
	      "             int_value, real_value (every number), text_value, snapshot\n"
	      "A FILE may be a directory or a glob: its *.ttseg and *.ttlog files.\n"
	      "\n"
	      "Fields are read with SQLite's JSON functions:\n"
	      "  json_extract(fields, '$.user') = 42\n"
	      "Constraints on events.ts (=, <, <=, >, >=), level_num and level = 'x' are\n"
	      "handed to the reader, which then decodes only the blocks that can match:\n"
	      "  ttlog query \"SELECT time, message FROM events\n"
	      "               WHERE ts >= unixepoch('2026-01-01 10:00:00') * 1000000000\n"
	      "                 AND level_num >= 3\" app.ttlog\n"
	      "\n"
	      "Exit status: 0 success, 1 usage or SQL error, 2 a file could not be read\n"
	      "completely (its rows that survived are printed) or output failed, or\n"
	      "(--pid) no such process, not ours, not in shared-memory mode, or none\n"
	      "in shared-memory mode for 'all'.\n",
	      out);
}

static int sql_error(sqlite3 *db)
{
	cli_sync_stdout();
	fprintf(stderr, "ttlog query: SQL error: %s\n", sqlite3_errmsg(db));
	return CLI_EXIT_USAGE;
}

/* Runs every statement of sql; returns an exit code. */
static int run(sqlite3 *db, const char *sql, enum cli_query_format format)
{
	const char *next = sql;
	int first = 1;

	while (*next) {
		sqlite3_stmt *stmt = NULL;
		if (sqlite3_prepare_v2(db, next, -1, &stmt, &next) != SQLITE_OK)
			return sql_error(db);
		if (!stmt)
			continue; /* only blanks or a comment */
		int rc = cli_query_print(stmt, format, first);
		first = first && sqlite3_column_count(stmt) == 0;
		if (rc == SQLITE_ABORT && cli_stdout_failed()) {
			/* Nobody reads the output: stop quietly (main decides). */
			sqlite3_finalize(stmt);
			return CLI_EXIT_OK;
		}
		if (rc != SQLITE_DONE) {
			int status = sql_error(db);
			sqlite3_finalize(stmt);
			return status;
		}
		sqlite3_finalize(stmt);
	}
	return CLI_EXIT_OK;
}

static void print_stats(const struct query_totals *t)
{
	cli_sync_stdout();
	fprintf(stderr,
		"ttlog query: stats: scans=%llu ranged=%llu blocks=%llu decoded=%llu scanned=%llu "
		"skipped=%llu records=%llu\n",
		(unsigned long long)t->scans, (unsigned long long)t->ranged_scans,
		(unsigned long long)t->blocks, (unsigned long long)t->blocks_decoded,
		(unsigned long long)t->blocks_scanned, (unsigned long long)t->blocks_skipped,
		(unsigned long long)t->records_decoded);
}

enum { OPT_STATS = 256, OPT_SHM_DIR };

static const struct option long_options[] = {
	{"output", required_argument, NULL, 'o'},
	{"pid", required_argument, NULL, 'p'},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"stats", no_argument, NULL, OPT_STATS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cli_query_main(int argc, char **argv)
{
	enum cli_query_format format = CLI_QUERY_TABLE;
	int stats = 0, c;
	const char *pid_arg = NULL, *shm_dir = NULL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:p:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "table") == 0)
				format = CLI_QUERY_TABLE;
			else if (strcmp(optarg, "csv") == 0)
				format = CLI_QUERY_CSV;
			else if (strcmp(optarg, "json") == 0)
				format = CLI_QUERY_JSON;
			else
				return cli_report_usage_error("query", "unknown output format '%s' (use table, csv or json)",
						   optarg);
			break;
		case OPT_STATS:
			stats = 1;
			break;
		case 'p':
			pid_arg = optarg;
			break;
		case OPT_SHM_DIR:
			if (!*optarg)
				return cli_report_usage_error("query", "--shm-dir needs a directory, not ''");
			shm_dir = optarg;
			break;
		case 'h':
			cli_query_usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_report_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_report_usage_error("query", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_report_usage_error("query", pid_arg ? "expected SQL"
							       : "expected SQL and one or more snapshot files");
	if (pid_arg && optind + 1 < argc)
		return cli_report_usage_error("query", "--pid reads a process: give no FILE ('%s')",
					      argv[optind + 1]);
	if (!pid_arg && optind + 1 >= argc)
		return cli_report_usage_error("query", "expected one or more snapshot files after the SQL");
	const char *sql = argv[optind];
	char **files = NULL;
	int nfiles = 0;
	struct cli_live_set live = {0};
	int *fds = NULL;
	if (pid_arg) {
		int found = cli_live_find("query", pid_arg, shm_dir, &live);
		if (found != 0)
			return found;
		if (!live.n) {
			cli_live_free(&live);
			cli_report_error("query", "no process of this user is in shared-memory mode "
						  "(TTLOG_SHARED_MEMORY=1)");
			return CLI_EXIT_DATA;
		}
		files = render_xrealloc(NULL, live.n * sizeof *files);
		fds = render_xrealloc(NULL, live.n * sizeof *fds);
		for (size_t i = 0; i < live.n; i++) {
			char path[64], err[1024];
			if (cli_live_copy(&live, &live.procs[i], &fds[nfiles], path, sizeof path, err,
					  sizeof err) != 0) {
				/* One of 'all' may end in between: the others are read. */
				cli_report_error("query", "%s", err);
				if (!live.all) {
					free(files);
					free(fds);
					cli_live_free(&live);
					return CLI_EXIT_DATA;
				}
				continue;
			}
			files[nfiles++] = strcpy(render_xrealloc(NULL, strlen(path) + 1), path);
		}
		cli_live_free(&live); /* the copies are unlinked: only the directory is left */
		if (!nfiles) {
			free(files);
			free(fds);
			return CLI_EXIT_DATA;
		}
	} else {
		/* A directory or a glob stands for its segments and snapshots. */
		int bad = 0;
		nfiles = cli_store_expand(argv + optind + 1, argc - optind - 1, "ttlog query",
					  &files, &bad);
		if (bad || !nfiles) {
			cli_store_free_list(files, nfiles);
			return CLI_EXIT_DATA;
		}
	}

	sqlite3 *db = NULL;
	struct query_context *context = NULL;
	int status;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || query_register(db, &context) != SQLITE_OK ||
	    query_create_tables(db, files, nfiles) != SQLITE_OK) {
		for (int i = 0; fds && i < nfiles; i++)
			close(fds[i]);
		free(fds);
		cli_store_free_list(files, nfiles);
		cli_sync_stdout();
		fprintf(stderr, "ttlog query: cannot set up the tables: %s\n",
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return CLI_EXIT_DATA;
	}

	status = run(db, sql, format);
	if (stats)
		print_stats(query_context_totals(context));
	size_t nerrors = query_context_error_count(context);
	if (nerrors)
		cli_sync_stdout();
	for (size_t i = 0; i < nerrors; i++)
		fprintf(stderr, "ttlog: %s\n", query_context_error(context, i));
	if (nerrors && status == CLI_EXIT_OK)
		status = CLI_EXIT_DATA;
	sqlite3_close(db);
	for (int i = 0; fds && i < nfiles; i++)
		close(fds[i]);
	free(fds);
	cli_store_free_list(files, nfiles);
	return status;
}
