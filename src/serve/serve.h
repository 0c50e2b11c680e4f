/* SPDX-License-Identifier: MIT */
/*
 * serve.h - the web viewer: the HTTP server of `ttlog serve`, its JSON API
 * and the page compiled into the binary, and the self-contained HTML file
 * of `ttlog report`.
 *
 * The served set is fixed when the server starts: every command-line
 * argument is a source (a directory or pattern is read as one store, a file
 * as itself, pid:PID as a live process in shared-memory mode, read through
 * its mapping), and every file a directory holds when the server starts is
 * a source of its own too. Requests name a source by its number in that list
 * (`src=N`), never by a path, so no request can reach a file outside it.
 * The API (docs/SERVE.md) is read-only; every handler opens its own readers
 * and never reads more than its caps allow (events scanned, rows, bytes,
 * time), so a 10 M-event store is paged, never loaded.
 *
 * What the command owns and the server does not (symbolising stacks with
 * libdw) comes in through a callback, so that this folder depends only on
 * the reader API, the presentation layer and the SQL module.
 */
#ifndef TTLOG__SERVE_SERVE_H
#define TTLOG__SERVE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

/* Appends the JSON array of the frames of one stack (objects with pc and,
 * when known, function, file, line, module, offset, inlined). */
typedef void (*serve_stack_json_fn)(void *arg, const ttlog_reader *r,
				    const struct ttlog_stack *stack, struct render_buf *out);

/* Caps of one request. Zero-filled: the defaults (serve_limits_default). */
struct serve_limits {
	unsigned page_max;        /* events in one page (default 1000) */
	uint64_t scan_max;        /* events one request may read (default 5 M) */
	unsigned time_ms;         /* time one request may take (default 5000) */
	unsigned sql_rows;        /* rows of an SQL result (default 10000) */
	size_t out_bytes;         /* bytes of one response (default 32 MiB) */
	unsigned spans_max;       /* spans of one response (default 100000) */
};

struct serve_config {
	char *const *paths;       /* the DIR|FILE arguments */
	size_t npaths;
	const char *host;         /* numeric address to bind (default 127.0.0.1) */
	unsigned port;            /* 0: any free port (printed) */
	const char *token;        /* NULL: none (only on loopback) */
	int open_browser;         /* --open: run xdg-open on the URL */
	const char *port_file;    /* write the bound port here once listening (tests) */
	const char *shm_base;     /* base directory of the mappings of pid:PID; NULL: default */
	serve_stack_json_fn stack_json;
	void *stack_arg;
	struct serve_limits limits;
};

/** Fills in the defaults of the caps left 0. */
void serve_limits_default(struct serve_limits *l);

/**
 * Runs the server until SIGINT or SIGTERM. Returns an exit code of the
 * command (0, 1 for a usage problem such as a bad address, 2 when it
 * cannot start).
 */
int serve_run(const struct serve_config *cfg);

/**
 * The metrics of the files paths (of each process, the newest file that has
 * any) in the Prometheus text format of GET /metrics into out: every sample
 * labelled with its process's service, host and pid. 0, or -1 with the
 * reason in err. (`ttlog metrics` renders live processes' snapshots with it.)
 */
int serve_prometheus_files(const char *const *paths, size_t npaths, struct render_buf *out, char *err,
			   size_t errlen);

/* The offline report: the page with the data of one source embedded. */
struct serve_report_config {
	char *const *paths;
	size_t npaths;
	uint64_t last_events;     /* the last N events (default 100000) */
	const char *shm_base;     /* base directory of the mappings of pid:PID; NULL: default */
	serve_stack_json_fn stack_json;
	void *stack_arg;
};

/** Writes the report's HTML to out (which it does not close). Returns 0, or
 *  an exit code with a message on stderr. */
int serve_report_write(const struct serve_report_config *cfg, FILE *out);

#endif /* TTLOG__SERVE_SERVE_H */
