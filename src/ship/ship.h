/* SPDX-License-Identifier: MIT */
/*
 * ship.h - shipping snapshots and stream segments into ClickHouse
 * (`ttlog ship clickhouse`) or to an OpenTelemetry collector (`ttlog ship
 * otlp`). A tool over the public reader API: it reads each file with
 * ttlog_reader_open(), and a sink (sink.h) turns its events, spans,
 * metrics and crash record into rows of four tables (docs/FLEET.md has the
 * schema) inserted in batches over ClickHouse's HTTP interface (libcurl)
 * in the RowBinary format, or into OTLP export requests (logs, traces,
 * metrics) POSTed over OTLP/HTTP in protobuf or JSON.
 *
 * Exactly once: every row carries a stable id made from what the row is,
 * not from where it was read (an event: host, pid, thread, tick count, call
 * site and its rank among equal ticks), so the same record read from a
 * snapshot and from a segment of the same process gets the same id, and
 * the tables (ReplacingMergeTree ordered by service, time and id) keep one
 * row of each id. A cursor file per source file and destination (cursor.c)
 * records what the server acknowledged; a re-run reads only what comes
 * after it, and a kill between an insert and its cursor write leaves rows
 * that the id makes collapse (SELECT ... FINAL counts them once). An OTLP
 * collector has no such ids: there a kill between a request and its
 * cursor write sends that batch again.
 *
 * What the command owns and the shipper does not: symbolising a crash's
 * stack (a callback, as for serve).
 */
#ifndef TTLOG__SHIP_SHIP_H
#define TTLOG__SHIP_SHIP_H

#include <stddef.h>
#include <stdint.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/* Appends the symbolised text of a file's crash stack (one frame a line). */
typedef void (*ship_stack_text_fn)(void *arg, const ttlog_reader *r, struct render_buf *out);
/* Appends the one-line description of a file's crash ("SIGSEGV (...) at address 0x0"). */
typedef void (*ship_crash_text_fn)(void *arg, const struct ttlog_file_info *info,
				   struct render_buf *out);

struct ship_options {
	const char *url;         /* http://HOST:8123, or the OTLP endpoint http://HOST:4318 */
	const char *url_option;  /* its option's name, for messages ("--url") */
	const char *database;    /* default "ttlog" */
	const char *user;        /* NULL: none (the server's default user) */
	const char *password;
	const char *state_dir;   /* where cursors are kept; NULL: the default */
	const char *const *sources; /* directories, patterns or files */
	size_t nsources;
	int create;              /* CREATE DATABASE and TABLE IF NOT EXISTS first */
	int follow;              /* ship new data until SIGINT or SIGTERM */
	unsigned batch_rows;     /* rows of the events table a batch holds */
	unsigned retries;        /* without follow: tries of a batch before giving up */
	unsigned interval_ms;    /* follow: how often the sources are looked at */
	int gzip;                /* request bodies gzip-compressed */
	/* OTLP: */
	const char *const *headers; /* "Name: value" sent with every request */
	size_t nheaders;
	int json;                /* OTLP/JSON instead of protobuf */
	const char *service_name; /* service.name of every resource; NULL: each file's */
	ship_stack_text_fn stack_text;
	ship_crash_text_fn crash_text;
	void *text_arg;
};

/* What a run did. */
struct ship_totals {
	uint64_t files;          /* source files */
	/* Rows the server acknowledged: */
	uint64_t events;         /* event rows (all kinds) */
	uint64_t skipped;        /* events left out: acknowledged by an earlier run */
	uint64_t spans, metrics, crashes;
	uint64_t batches;        /* successful inserts */
	uint64_t bytes;          /* request bodies sent, as on the wire (RowBinary, maybe gzip) */
	uint64_t retries;        /* failed attempts that were tried again */
	uint64_t damaged;        /* files with damage (their valid events were shipped) */
	/* OTLP: */
	uint64_t rejected;       /* items the collector took but refused (partial success) */
	uint64_t left_out;       /* span ends without a trace id, which OTLP cannot carry */
};

/* Exit codes (the command's): 0 done, 1 usage, 2 data or server error. */
#define SHIP_OK 0
#define SHIP_USAGE 1
#define SHIP_FAILED 2

/** Runs the shipper; errors go to stderr. Returns SHIP_OK, SHIP_USAGE or SHIP_FAILED. */
int ship_clickhouse(const struct ship_options *opt, struct ship_totals *totals);

/** The same for an OTLP/HTTP endpoint (`ttlog ship otlp`). */
int ship_otlp(const struct ship_options *opt, struct ship_totals *totals);

#endif /* TTLOG__SHIP_SHIP_H */
