/* SPDX-License-Identifier: MIT */
/*
 * export.h - what the files of `ttlog export` share: the state of one
 * export, and the interface each output format implements (export.c reads
 * the files and filters the events; export_lines.c, export_chrome.c and
 * export_otlp.c turn the kept events into their format).
 *
 * Order of the calls for one run:
 *   survey_file() for every file, when the format has it (a first pass,
 *   before any output: e.g. the CSV columns, the Chrome time base);
 *   begin();
 *   per file that could be opened: begin_file(), event() per kept event
 *   (render_message_text(&x->msg) gives its message, made once, when first
 *   asked for), end_file();
 *   end().
 * Output goes through x->out, written to stdout with render_buf_write(), so
 * that write errors are tracked (cli_stdout_failed).
 */
#ifndef TTLOG__CLI_EXPORT_H
#define TTLOG__CLI_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "filter.h"
#include "render/event_message.h"
#include "render/span_fields.h"
#include "file_jobs.h"
#include "open_ahead.h"
#include "render_pool.h"
#include "ttlog_reader.h"

/* A signal of otlp-json (--signals); EXPORT_SIGNAL_BIT(s) in a set. */
enum export_signal { EXPORT_SIGNAL_LOGS, EXPORT_SIGNAL_TRACES, EXPORT_SIGNAL_METRICS, EXPORT_NSIGNALS };
#define EXPORT_SIGNAL_BIT(s) (1u << (s))

struct export {
	const struct export_format *format;
	struct cli_filter filter;
	const char *service_name; /* --service-name, or NULL: the executable's */
	enum export_signal signal; /* the one being written */
	unsigned signals;       /* --signals: the set to write, one pass each */
	int one_line;           /* otlp-json: each request on one line (several signals) */
	int repeat_pass;        /* a second or later pass over the same files: the
				   reader's and the symboliser's messages were given */

	const char *path;     /* the file being read */
	struct render_buf out;   /* output being built */
	struct render_message msg; /* the current event's message, made when needed */
	void *state;          /* the format's own, from its begin() */
	int json_big_as_string; /* --json-big-as-string (jsonl) */

	/* jsonl with --jobs N > 1 and no --grep: a file's events rendered on
	 * N threads (cli/render_pool.h), the next file opened meanwhile. */
	struct cli_render_pool *pool;
	struct cli_open_ahead ahead;
	/* A list of files in jsonl with --jobs N > 1: on a worker thread of
	 * the file jobs (cli/file_jobs.h), where its output goes. */
	struct cli_job_out *job;
	int job_stopped;       /* its output failed: read no further */
};

struct export_format {
	const char *name;
	/* Optional: a first pass over a file (r is the open reader; with
	 * survey_events set, the kept events are passed too). */
	void (*survey_file)(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info);
	void (*survey_event)(struct export *x, const struct ttlog_event *ev);
	/* Optional, with survey_event: what a part of a store surveyed on an
	 * export of its own (part), added to x's after what x has, parts in
	 * time order; without it, a store is surveyed on one thread. */
	void (*survey_merge)(struct export *x, const struct export *part);
	void (*begin)(struct export *x);
	/* Optional: begin() of a worker's export w of the list's files on
	 * --jobs threads (what the command's x found in its first pass, no
	 * header written); without it, begin(w). */
	void (*begin_worker)(struct export *w, const struct export *x);
	/* Around each file's events; for a store (jsonl, csv, logfmt: a
	 * directory or a glob), around each run of events of one file, with r
	 * NULL. */
	void (*begin_file)(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info);
	void (*event)(struct export *x, const struct ttlog_event *ev);
	void (*end_file)(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info);
	void (*end)(struct export *x); /* also frees the state */
};

extern const struct export_format cli_export_jsonl, cli_export_csv, cli_export_logfmt;
extern const struct export_format cli_export_chrome, cli_export_otlp;

/** Writes x->out to stdout and empties it. */
void cli_export_flush(struct export *x);

/* ---- Spans from their begins and ends (export_spans.c) -------------------
 * Chrome and OTLP write a span as one record with a start and an end: the
 * begin event is kept here, with its fields rendered by the format, until
 * the span's end arrives; what is left at the end of a file never ended in
 * it (or its end was filtered out). */

struct export_span {
	uint64_t id, parent, trace_hi, trace_lo;
	const struct ttlog_thread_info *thread; /* valid until the reader is closed */
	const struct ttlog_site_info *site;     /* where it began; likewise */
	int64_t begin_ns;
	char *name;
	struct render_span_fields fields; /* the begin's and end's, rendered by the format */
};

struct export_spans {
	struct export_span *open;
	size_t n, cap;
};

/** Keeps a span begin event; returns its record, for the format to fill
 *  attrs. Valid until the next call on s. */
struct export_span *cli_export_span_begin(struct export_spans *s, const struct ttlog_event *ev);

/**
 * Takes the begin of the span that a span end event ends out of s into
 * *out (which the caller then frees with cli_export_span_free). Returns 1,
 * or 0 if its begin was not kept: *out is then filled from what the end
 * knows (begin_ns 0 when the reader does not know it either).
 */
int cli_export_span_end(struct export_spans *s, const struct ttlog_event *ev, struct export_span *out);

void cli_export_span_free(struct export_span *sp);

/** Frees every span kept. */
void cli_export_spans_clear(struct export_spans *s);

/** Appends the crashing thread's backtrace of r's file as `ttlog view`
 *  prints it (symbolised, one frame a line); nothing if it has none. The
 *  symboliser's notes go to stderr, naming path. */
void cli_export_stack_text(const ttlog_reader *r, const char *path, struct render_buf *out);

/* ---- Values ------------------------------------------------------------- */

/** Appends "KEY" as a JSON string, as "field.KEY" if reserved (NULL-ended)
 *  names it, so that the keys of an object stay unique. */
void cli_export_json_key(struct render_buf *b, const char *key, const char *const *reserved);

#endif /* TTLOG__CLI_EXPORT_H */
