/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sql.c - libFuzzer target for the SQL module over a hostile file.
 *
 * The input is written to a memory file and made the one file of the seven
 * tables (query_create_tables(), as `ttlog query` does); then statements
 * that read every column of every table run to the end: what `ttlog
 * query` users run, over whatever the bytes are. SQLite's answer may be
 * an error; a crash, a leak or a sanitizer report is the finding. Each
 * statement has a step budget (a progress handler), so a runaway scan is
 * a finding too (it aborts).
 *
 * The seed corpus, fuzz/corpus/sql, is a few snapshots with spans,
 * contexts, metrics and a crash, and a packed segment.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sqlite3.h>

#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const statements[] = {
	"SELECT count(*), sum(length(message)), max(ts), min(ts) FROM events",
	"SELECT * FROM events",
	"SELECT * FROM spans",
	"SELECT * FROM threads",
	"SELECT * FROM sites",
	"SELECT * FROM metrics",
	"SELECT * FROM snapshots",
	"SELECT * FROM args",
	"SELECT level, count(*) FROM events WHERE level_num >= 2 GROUP BY level",
	"SELECT s.name, e.message FROM spans s JOIN events e ON e.span_id = s.id LIMIT 100",
	"SELECT ttlog_stats()",
};

/* Far more than the seeds need (a few thousand rows). */
#define STEP_BUDGET 20000000

static int progress(void *arg)
{
	long *steps = arg;
	if (++*steps > STEP_BUDGET / 1000)
		abort(); /* a runaway scan */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_sql", 0);
	if (fd < 0)
		return 0;
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	sqlite3 *db = NULL;
	if (sqlite3_open(":memory:", &db) == SQLITE_OK && query_register(db, NULL) == SQLITE_OK) {
		char *files[] = {path};
		if (query_create_tables(db, files, 1) == SQLITE_OK) {
			long steps = 0;
			sqlite3_progress_handler(db, 1000, progress, &steps);
			for (size_t i = 0; i < sizeof statements / sizeof *statements; i++) {
				sqlite3_stmt *st = NULL;
				steps = 0;
				if (sqlite3_prepare_v2(db, statements[i], -1, &st, NULL) != SQLITE_OK)
					abort(); /* the statements are fixed: they must prepare */
				while (sqlite3_step(st) == SQLITE_ROW) {
					for (int c = 0; c < sqlite3_column_count(st); c++)
						(void)sqlite3_column_text(st, c);
				}
				sqlite3_finalize(st);
			}
		}
	}
	sqlite3_close(db);
	close(fd);
	return 0;
}
