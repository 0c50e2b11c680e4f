/* SPDX-License-Identifier: MIT */
/*
 * query.h - ttlog snapshots as SQLite virtual tables: what the `ttlog query`
 * command and the loadable extension (extension.c) use of the module.
 *
 * Seven modules, one per table kind: ttlog_events, ttlog_spans,
 * ttlog_threads, ttlog_sites, ttlog_metrics, ttlog_snapshots and ttlog_args
 * (one typed row per argument). A table is
 * made over a list of snapshot files:
 *
 *   CREATE VIRTUAL TABLE ev USING ttlog_events('a.ttlog', 'b.ttlog');
 *
 * and reads them, through the public reader API only, each time it is
 * scanned. docs/QUERY.md has the columns of each table and what pushes
 * down. The sources build twice: into the command, with SQLITE_CORE
 * defined (direct calls into libsqlite3), and into the extension, where
 * every sqlite3_* call goes through the routine table SQLite hands to its
 * entry point (sqlite3ext.h).
 */
#ifndef TTLOG__QUERY_QUERY_H
#define TTLOG__QUERY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "query/sqlite.h"

/* The files and blocks the tables of one database read, summed over the
 * scans that have ended (their cursors closed). */
struct query_totals {
	uint64_t scans;           /* files read by a scan of any table */
	uint64_t ranged_scans;    /* events scans limited by a time or level range */
	uint64_t blocks;          /* ttlog_reader_counters() fields, summed */
	uint64_t blocks_decoded;
	uint64_t blocks_scanned;
	uint64_t blocks_skipped;
	uint64_t records_decoded;
};

/* What one database's tables share: totals and the problems found in files. */
struct query_context;

/**
 * Registers the seven modules and the SQL function ttlog_stats() with db.
 * *context (may be NULL) gets the shared state, owned by db: it lives
 * until sqlite3_close(). Returns an SQLite result code.
 */
int query_register(sqlite3 *db, struct query_context **context);

/**
 * Makes the tables events, spans, threads, sites, metrics, snapshots and args
 * over files[0..nfiles-1] in db's main schema. Returns an SQLite result
 * code; the message is db's (sqlite3_errmsg).
 */
int query_create_tables(sqlite3 *db, char *const *files, int nfiles);

/** The totals so far. */
const struct query_totals *query_context_totals(const struct query_context *context);

/**
 * The problems found in files (unreadable, damaged), one per file and in
 * the order they were found: the reader's own message ("FILE: offset N:
 * expected ..."). Returns the number of them, and message i or NULL.
 */
size_t query_context_error_count(const struct query_context *context);
const char *query_context_error(const struct query_context *context, size_t i);

#endif /* TTLOG__QUERY_QUERY_H */
