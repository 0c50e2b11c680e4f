/* SPDX-License-Identifier: MIT */
/*
 * vtab.h - what the files of the query module share: the virtual table
 * and cursor structures, and the table definitions that the generic cursor
 * (cursor.c) drives.
 *
 * A cursor reads its table's files one after the other. For each file the
 * table's definition turns the file's reader into rows: `start` prepares
 * them, `next` moves to the next one (returning 0 after the last),
 * `column` gives a value of the current row, `clear` frees what `start`
 * made. The readers stay open for the cursor's life, so that a scan that
 * SQLite repeats (the inner loop of a join) rewinds instead of reopening.
 */
#ifndef TTLOG__QUERY_VTAB_H
#define TTLOG__QUERY_VTAB_H

#include <stddef.h>
#include <stdint.h>

#include "render/text_buf.h"
#include "query/query.h"
#include "ttlog_reader.h"

struct query_cursor;

struct query_table_def {
	const char *module;  /* "ttlog_events" */
	const char *table;   /* "events": its name in `ttlog query` */
	const char *schema;  /* CREATE TABLE x(...) for sqlite3_declare_vtab() */
	int ranged;          /* ts and level constraints push down (events) */
	/* Rows made up front from the whole file (spans, sites): kept per
	 * file for the cursor's life, so that a scan SQLite repeats (the
	 * inner loop of a join) reads the file once, not once per outer row.
	 * The cursor steps through them itself (`next` is not used). With
	 * parse_key, an = constraint on key_column finds rows by key. */
	int cached;
	int key_column;
	/* The key in a constraint's value: 1 with *key set; 0 if no row can
	 * match; -1 if rows cannot be found by it (every row is handed to
	 * SQLite, which checks the constraint itself). */
	int (*parse_key)(sqlite3_value *value, uint64_t *key);
	uint64_t (*row_key)(const void *row);
	/* A column of a cached table that costs much to make (spans.fields),
	 * made only when the statement reads it (colUsed); 0: none. */
	int costly_column;
	/* The reader is c->r, rewound; returns an SQLite result code. */
	int (*start)(struct query_cursor *c);
	/* 1: the cursor is on a row; 0: the file has no more rows. */
	int (*next)(struct query_cursor *c);
	/* The row's rowid, the same for the same row in every scan of the
	 * statement (SQLite's OR by union drops a row whose rowid an earlier
	 * scan returned), made only when SQLite asks for it; NULL: rows are
	 * numbered in the order of the scan (c->rowid), which is only right
	 * for tables every scan reads whole. */
	sqlite3_int64 (*rowid)(const struct query_cursor *c);
	int (*column)(struct query_cursor *c, sqlite3_context *ctx, int col);
	void (*clear)(struct query_cursor *c);
};

/* Columns of events that the plan and the grouped scan look at (the
 * order of its schema). */
enum {
	QUERY_EVENTS_TS = 0,
	QUERY_EVENTS_LEVEL = 2,
	QUERY_EVENTS_LEVEL_NUM = 3,
	QUERY_EVENTS_KIND = 4,
	QUERY_EVENTS_TID = 5,     /* also the args table's */
	QUERY_EVENTS_TARGET = 7,
	QUERY_EVENTS_FILE = 8,
	QUERY_EVENTS_LINE = 9,
	QUERY_EVENTS_FUNC = 10,
	QUERY_EVENTS_SITE = 11,
	QUERY_EVENTS_SNAPSHOT = 17,
	QUERY_EVENTS_SERVICE = 18,
	QUERY_EVENTS_PID = 19,
	QUERY_ARGS_SITE = 6,      /* the args table's site column */
};

/* Columns of events whose value follows from the event's file, record
 * site and shown site alone: a scan that reads no other may group rows
 * (grouped.c). A mask of bits 1 << column, as colUsed has them. */
#define QUERY_EVENTS_SITE_COLUMNS                                                              \
	((1ull << QUERY_EVENTS_LEVEL) | (1ull << QUERY_EVENTS_LEVEL_NUM) |                     \
	 (1ull << QUERY_EVENTS_KIND) | (1ull << QUERY_EVENTS_TARGET) |                         \
	 (1ull << QUERY_EVENTS_FILE) | (1ull << QUERY_EVENTS_LINE) |                           \
	 (1ull << QUERY_EVENTS_FUNC) | (1ull << QUERY_EVENTS_SITE) |                           \
	 (1ull << QUERY_EVENTS_SNAPSHOT) | (1ull << QUERY_EVENTS_SERVICE) |                    \
	 (1ull << QUERY_EVENTS_PID))

/* In a cached table's idxNum: the statement does not read the costly
 * column. */
#define QUERY_PLAN_NO_COSTLY 0x100

/* Grouped columns a plan hands to the grouped scan, at most. */
#define QUERY_MAX_GROUPED 16

struct query_group;

/* The rowid of the event c->ev from file c->file (ttlog_reader_event_key()),
 * times per_event plus within (0 <= within < per_event): events.c and args.c. */
sqlite3_int64 query_event_rowid(const struct query_cursor *c, unsigned per_event, unsigned within);

extern const struct query_table_def query_events_table;
extern const struct query_table_def query_spans_table;
extern const struct query_table_def query_sites_table;
extern const struct query_table_def query_threads_table;
extern const struct query_table_def query_metrics_table;
extern const struct query_table_def query_snapshots_table;
extern const struct query_table_def query_args_table;

struct query_file_error {
	char *path;
	char *message;
};

struct query_context {
	int refs;            /* one per module registered with it */
	struct query_totals totals;
	struct query_file_error *errors;
	size_t nerrors;
};

/** Records the first problem of a file (later ones of the same file are
 *  dropped); returns an SQLite result code. */
int query_context_add_error(struct query_context *context, const char *path, const char *message);

struct query_vtab {
	sqlite3_vtab base;   /* first: SQLite sees this */
	const struct query_table_def *def;
	struct query_context *context;
	int nfiles;
	char **files;        /* the arguments, unquoted */
};

/* What a scan of events asks the reader for (ttlog_reader_set_range()). */
struct query_range {
	int64_t since_ns, until_ns;
	unsigned level_mask;
	uint32_t tid;   /* only this thread's events (ttlog_reader_set_tid()); 0: all */
	uint32_t pid;   /* only the files of this process; 0: all */
	uint32_t site;  /* only this call site's log events (ttlog_reader_set_site()); 0: all */
	int none;       /* the constraints contradict each other: no row */
};

/* Rows that a table makes up front, one array per file (spans, sites). */
struct query_rows {
	void *items;
	size_t count, cap, size; /* size: bytes of one item */
};

/* A cached table's rows of one file, and their keys in order. */
struct query_key_row {
	uint64_t key;
	size_t row;
};

struct query_file_rows {
	struct query_rows rows;
	int built;                  /* rows made (also after an error) */
	int costly;                 /* ... with the costly column */
	struct query_key_row *keys; /* sorted by key, then row; NULL until a lookup */
	/* Where each key first is in keys[], by hash (.row: index + 1, 0
	 * empty). */
	struct query_key_row *first;
	size_t first_cap;           /* a power of two */
};

struct query_cursor {
	sqlite3_vtab_cursor base; /* first: SQLite sees this */
	struct query_vtab *vt;
	ttlog_reader **readers;   /* one per file, opened when first scanned */
	int file;                 /* the file being read */
	ttlog_reader *r;          /* its reader; NULL between files */
	int eof;
	sqlite3_int64 rowid;
	struct query_range range;
	/* The current row: */
	struct ttlog_event ev;    /* events */
	size_t row;               /* the other tables: an index */
	struct query_rows rows;
	struct render_buf text;      /* scratch for formatting a value */
	/* Cached tables: */
	struct query_file_rows *cache; /* one per file */
	int lookup;                  /* 1: only the rows with key `key` */
	int other_process;           /* the current file is not of range.pid: no rows */
	int costly;                  /* 1: the statement reads the costly column */
	uint64_t key;
	size_t match, match_end;     /* the current file's matching keys[] */
	/* A grouped scan of events (grouped.c): */
	int grouped;
	char group_spec[2 * QUERY_MAX_GROUPED + 1];
	struct query_group *groups;
	size_t ngroups, group;       /* the groups, and the current one */
	uint64_t group_left;         /* rows of the current group still to come, this one included */
	const struct ttlog_site_info *shown; /* the current row's shown site */
};

/* ---- Helpers of the row builders (columns.c) ---------------------------- */

/** Sets the result to the text of b (copied). */
/* The generic cursor (cursor.c): the sqlite3_module methods of every table. */
int query_cursor_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out);
int query_cursor_close(sqlite3_vtab_cursor *base);
int query_cursor_filter(sqlite3_vtab_cursor *base, int idx_num, const char *idx_str, int argc,
			sqlite3_value **argv);
int query_cursor_next(sqlite3_vtab_cursor *base);
int query_cursor_eof(sqlite3_vtab_cursor *base);
int query_cursor_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col);
int query_cursor_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid);
/** Closes file f's reader if its bytes were released (ttlog_reader_release),
 *  adding what it did to the totals, so that the next scan opens the file
 *  again. */
void query_cursor_reopen_released(struct query_cursor *c, int f);
/** Records the problem of the file of c->r, if it has one; an SQLite code. */
int query_cursor_note_status(struct query_cursor *c, const char *path);

/* The grouped scan (grouped.c). start: counts the files' events with the
 * cursor's range and moves to the first row (spec: the plan's grouped
 * columns); next: to the following row (step 1) or stays (step 0), setting
 * c->eof after the last; clear: frees the counts. */
int query_grouped_start(struct query_cursor *c, const char *spec);
int query_grouped_next(struct query_cursor *c, int step);
void query_grouped_clear(struct query_cursor *c);
/** The grouped plan of an events scan: writes the grouped columns to spec
 *  (2 * QUERY_MAX_GROUPED + 1 bytes) and returns 1 when the scan may use it. */
int query_events_group_plan(sqlite3_index_info *info, char *spec);

void query_result_buf(sqlite3_context *ctx, const struct render_buf *b);
/** Sets the result to s (copied), or NULL for a NULL s. */
void query_result_text(sqlite3_context *ctx, const char *s);
/** Sets the result to ns as ISO-8601 UTC text. */
void query_result_time(sqlite3_context *ctx, int64_t ns);
/** Writes id as 16 lower-case hex digits (no NUL). */
void query_hex16(char out[16], uint64_t id);
/** Sets the result to a 16-digit hex id, or NULL for 0 when zero_is_null. */
void query_result_id(sqlite3_context *ctx, uint64_t id, int zero_is_null);
/** Sets the result to a 32-digit trace id, or NULL for 0:0. */
void query_result_trace(sqlite3_context *ctx, uint64_t hi, uint64_t lo);
/** A level as the level column has it: "trace" .. "fatal"; NULL if unknown. */
const char *query_level_name(int level);
/** Sets the result to the level name of site (static text), or NULL for
 *  no site or an unknown level. */
void query_result_level(sqlite3_context *ctx, const struct ttlog_site_info *site);

/** Adds an item of rows->size bytes (zeroed); NULL when memory runs out. */
void *query_rows_add(struct query_rows *rows);
void query_rows_free(struct query_rows *rows);
/** A slot for a 64-bit key in a table of cap slots (a power of two). */
static inline size_t query_hash64(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

static inline void *query_rows_at(const struct query_rows *rows, size_t i)
{
	return (char *)rows->items + i * rows->size;
}

#endif /* TTLOG__QUERY_VTAB_H */
