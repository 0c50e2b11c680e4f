/* SPDX-License-Identifier: MIT */
/*
 * export.c - `ttlog export`: reads snapshot files, keeps the events that
 * pass the filters (the same as `ttlog view`'s) and hands them to one
 * output format: jsonl, csv, logfmt (export_lines.c), chrome
 * (export_chrome.c) or otlp-json (export_otlp.c).
 *
 * The files are read in the order given into one output: lines are
 * concatenated, a Chrome trace or an OTLP request holds every file. A
 * damaged file gives every event that survived, then the reader's error on
 * stderr (exit 2), and the next file is read all the same. Formats that
 * need to know something before they write (the CSV header, the Chrome time
 * base) get a first, silent pass over the files. otlp-json reads the files
 * once per signal asked for (--signals), each pass writing one request;
 * the passes after the first keep quiet about what the first reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtrace.h"
#include "cli.h"
#include "default_file.h"
#include "store_args.h"
#include "store_parts.h"
#include "export.h"
#include "file_parts.h"
#include "filter.h"
#include "render/event_json.h"
#include "report.h"
#include "ttlog_reader.h"

static const struct export_format *const formats[] = {
	&cli_export_jsonl, &cli_export_csv, &cli_export_logfmt, &cli_export_chrome, &cli_export_otlp,
};
#define NFORMATS (sizeof formats / sizeof formats[0])

void cli_export_usage(FILE *out)
{
	fputs("Usage: ttlog export --format FORMAT [OPTIONS] [FILE...]\n"
	      "\n"
	      "Writes the events of ttlog snapshot files in a format other tools read:\n"
	      "the files in the order given, the events of each file in time order, all\n"
	      "in one output. A FILE may be a stream segment, a directory or a glob: with\n"
	      "jsonl, csv and logfmt the files are then read as one store (merged in time\n"
	      "order, a record in a snapshot and in a segment once), with chrome and\n"
	      "otlp-json file after file. Without a FILE: the newest snapshot of the\n"
	      "default directory (the one `ttlog ls` lists), named on stderr.\n"
	      "\n"
	      "Formats (-F, --format):\n"
	      "  jsonl       one JSON object per event and line, the same as\n"
	      "              `ttlog view -o json` prints, then the file's stacks (a\n"
	      "              crash's) as objects of kind \"stack\" (also: json)\n"
	      "  csv         RFC 4180 CSV with a header: time, time_ns, level, tid, thread,\n"
	      "              file, line, function, target, kind, message, trace_id, span_id,\n"
	      "              then one column per field key found in the events exported\n"
	      "  logfmt      one line of key=value pairs per event: time, level, tid,\n"
	      "              thread, file, line, function, target, kind, msg, trace_id and\n"
	      "              span_id (inside a span), then the fields\n"
	      "  chrome      Chrome Trace Event JSON (Perfetto, chrome://tracing): a track\n"
	      "              per thread, spans as complete events with their fields as\n"
	      "              args, log events as instant events, metrics as counters at\n"
	      "              the snapshot's time, a crash as a global instant event\n"
	      "  otlp-json   OpenTelemetry OTLP/JSON requests, as OTLP/HTTP posts them:\n"
	      "              ExportLogsServiceRequest (log events), ExportTraceService-\n"
	      "              Request (spans), ExportMetricsServiceRequest (the files'\n"
	      "              metrics: counters as monotonic cumulative sums, gauges,\n"
	      "              histograms with explicit bounds); see --signals. One\n"
	      "              resource per file, the same in each signal. A crash is an\n"
	      "              exception (exception.type, .message, .stacktrace) on its\n"
	      "              log record and on the span it ended\n"
	      "\n"
	      "Filters (an event is exported if it passes all of them):\n",
	      out);
	cli_filter_usage(out);
	fputs("\n", out);
	cli_filter_jobs_usage(out);
	fputs("\n"
	      "Output:\n"
	      "  -F, --format FORMAT   jsonl, csv, logfmt, chrome or otlp-json (required)\n"
	      "  -o, --output FILE     write to FILE instead of standard output\n"
	      "      --signals LIST    otlp-json: the signals to write, a comma-separated\n"
	      "                        list of logs, traces and metrics, or all (the\n"
	      "                        three); default logs. One signal: one request, a\n"
	      "                        JSON document to post to /v1/logs, /v1/traces or\n"
	      "                        /v1/metrics. Several: one request per line, in\n"
	      "                        the order logs, traces, metrics (the JSON Lines of\n"
	      "                        the Collector's file exporter and otlpjsonfile\n"
	      "                        receiver). The event filters do not apply to\n"
	      "                        metrics, which are the files' totals\n"
	      "      --signal SIGNAL   the same as --signals\n"
	      "      --service-name NAME\n"
	      "                        otlp-json: the service.name resource attribute\n"
	      "                        (default: the base name of the executable)\n"
	      "      --no-spans        leave out span begins and ends (jsonl, csv, logfmt)\n"
	      "      --json-big-as-string\n"
	      "                        jsonl: time_ns, duration_ns and integers beyond\n"
	      "                        +-2^53 as strings, as `ttlog view` documents it\n"
	      "      --utc             read times in UTC instead of local time\n"
	      "  -h, --help            show this help and exit\n"
	      "\n",
	      out);
	cli_filter_usage_times(out);
	fputs("\n"
	      "Messages and strings may hold any bytes: each format stays valid. JSON\n"
	      "escapes control characters (\\u00XX) and each byte that is not UTF-8 as\n"
	      "\\udcXX (U+DC80..U+DCFF, lossless: Python's surrogateescape gives the bytes\n"
	      "back); logfmt writes those bytes as \\ufffd; CSV keeps tabs and line breaks\n"
	      "in quoted cells, writes other control characters as \\xNN and bytes that\n"
	      "are not UTF-8 as U+FFFD.\n"
	      "See docs/EXPORT.md for where each part of an event goes in each format.\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read completely\n"
	      "(its valid events are exported first) or the output could not be written.\n",
	      out);
}

void cli_export_flush(struct export *x)
{
	if (x->job) { /* a worker's: handed to the writer */
		if (!cli_job_out_put(x->job, 1, &x->out))
			x->job_stopped = 1;
		return;
	}
	if (x->pool && !cli_render_pool_drain(x->pool))
		cli_stdout_note_errno(cli_render_pool_errno(x->pool));
	render_buf_write(&x->out, stdout);
	render_buf_reset(&x->out);
}

/* ---- Files -------------------------------------------------------------- */

/* The reader of a file opened with status rc; NULL (and the reader closed)
 * for one that gives nothing to export: the other errors leave the file's
 * details and events worth exporting. */
static ttlog_reader *usable_file(ttlog_reader *r, int rc)
{
	if (r && (rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT) &&
	    ttlog_reader_info(r))
		return r;
	ttlog_reader_close(r);
	return NULL;
}

/* Opens a file: usable_file() of what ttlog_reader_open_ex() gave. */
static ttlog_reader *open_file(const char *path, unsigned flags, int *rc)
{
	ttlog_reader *r = NULL;

	*rc = ttlog_reader_open_ex(path, flags, &r);
	return usable_file(r, *rc);
}

/* The first pass: silent, since the second reports every problem. */
static void survey_file(struct export *x, const char *path)
{
	int rc;
	unsigned flags = cli_filter_reader_flags(&x->filter);
	ttlog_reader *r;
	/* Events alone (csv's keys): each block decoded once. */
	if (!x->format->survey_file && !cli_filter_times_relative(&x->filter))
		flags |= TTLOG_READER_ONCE;
	r = open_file(path, flags, &rc);
	if (!r)
		return;
	const struct ttlog_file_info *info = ttlog_reader_info(r);

	x->path = path;
	if (x->format->survey_file)
		x->format->survey_file(x, r, info);
	if (x->format->survey_event) {
		struct ttlog_event ev;
		cli_filter_begin_file(&x->filter, r);
		while (ttlog_reader_next(r, &ev)) {
			render_message_start(&x->msg, &ev);
			if (cli_filter_keep(&x->filter, &ev, &x->msg))
				x->format->survey_event(x, &ev);
		}
	}
	ttlog_reader_close(r);
}

/* A note of the symboliser, on stderr: stdout holds only the export. */
static int quiet_notes; /* a repeated pass: the notes were given */

static void symbols_note(void *arg, const char *text)
{
	if (quiet_notes)
		return;
	cli_sync_stdout();
	fprintf(stderr, "ttlog: %s: symbols: %s\n", (const char *)arg, text);
}

void cli_export_stack_text(const ttlog_reader *r, const char *path, struct render_buf *out)
{
	struct cli_backtrace bt = {0};
	bt.crash_only = 1;
	bt.capture = out;
	bt.symbols_note = symbols_note;
	bt.note_arg = (void *)path;
	cli_backtrace_print(&bt, r);
	cli_backtrace_free(&bt);
}

/* jsonl carries a file's stacks (a crash's, or ttlog_snapshot_with_stack()'s)
 * after its events, as `ttlog view -o json` prints them: one object of kind
 * "stack" per stack and line. */
static void export_stacks(struct export *x, const ttlog_reader *r, const char *path)
{
	const struct ttlog_stack *stacks = NULL;
	if (x->format != &cli_export_jsonl || !r || !ttlog_reader_stacks(r, &stacks) ||
	    cli_stdout_failed())
		return;
	cli_export_flush(x);
	cli_sync_stdout();
	struct cli_backtrace bt = {0};
	bt.json = 1;
	bt.symbols_note = symbols_note;
	bt.note_arg = (void *)path;
	cli_backtrace_print(&bt, r);
	cli_backtrace_free(&bt);
}

/* jsonl with --jobs N > 1: N threads render the events (not with --grep,
 * which needs the message where the filters run). Without them the events
 * are rendered on this thread: the same bytes. */
static void start_workers(struct export *x)
{
	if (x->filter.jobs >= 2 && !x->filter.ngreps && x->format == &cli_export_jsonl)
		x->pool = cli_render_pool_start(x->filter.jobs, x->json_big_as_string, stdout);
}

static void stop_workers(struct export *x)
{
	cli_open_ahead_cancel(&x->ahead);
	cli_render_pool_stop(x->pool);
	x->pool = NULL;
}

/* One file, from its open to its last event (export_file_events()); the
 * rest (export_file_end()) is done on the calling thread. */
struct export_part {
	ttlog_reader *r; /* NULL: nothing to export (rc) */
	int rc;
	int wanted;      /* --service wants it: its events were exported */
};

/* Whether the output has failed: stdout's, or on a worker the writer's. */
static int output_failed(struct export *x)
{
	return x->job ? x->job_stopped : cli_stdout_failed();
}

/*
 * The first part of exporting the file path: opening it and its events,
 * into *p. next, if not NULL, is the file that comes after it, opened
 * meanwhile with --jobs N > 1 (cli/open_ahead.h). On a worker thread
 * (x->job set) for a list of files in jsonl.
 */
/* Whether f is one of the line formats (export_lines.c), whose lines show
 * no counts an eager open makes exact, and which are cut into parts. */
static int line_format(const struct export_format *f)
{
	return f == &cli_export_jsonl || f == &cli_export_logfmt || f == &cli_export_csv;
}

static void export_file_events(struct export *x, const char *path, const char *next,
			       struct export_part *p)
{
	unsigned flags = cli_filter_reader_flags(&x->filter);
	*p = (struct export_part){0};
	/* On one thread, each block decoded once (TTLOG_READER_ONCE): the
	 * line formats, whose lines do not show the counts an eager open
	 * makes exact; not with times counted from a file's end. */
	if (x->filter.jobs <= 1 && line_format(x->format) && !cli_filter_times_relative(&x->filter))
		p->rc = ttlog_reader_open_ex(path, flags | TTLOG_READER_ONCE, &p->r);
	else
		p->r = cli_open_ahead_take(&x->ahead, path, flags, &p->rc);
	p->r = usable_file(p->r, p->rc);
	if (next && x->filter.jobs > 1)
		cli_open_ahead_start(&x->ahead, next, flags);

	x->path = path;
	ttlog_reader *r = p->r;
	if (!r || !cli_filter_file_wanted(&x->filter, r)) /* --service */
		return;
	p->wanted = 1;
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	struct ttlog_event ev;
	cli_filter_begin_file(&x->filter, r);
	x->format->begin_file(x, r, info);
	cli_render_pool_new_file(x->pool); /* idle: the last file was flushed */
	/* Metrics are the file's, not its events'. With the threads, a write
	 * error is the pool's until it is drained (cli_export_flush()). */
	while ((x->pool || !output_failed(x)) &&
	       !(x->format == &cli_export_otlp && x->signal == EXPORT_SIGNAL_METRICS) &&
	       ttlog_reader_next(r, &ev)) {
		if (x->pool) {
			/* No --grep: the filters do not need the message. */
			if (cli_filter_keep(&x->filter, &ev, NULL) &&
			    !cli_render_pool_add(x->pool, &ev, info ? info->service : NULL))
				break;
			continue;
		}
		render_message_start(&x->msg, &ev);
		if (cli_filter_keep(&x->filter, &ev, &x->msg))
			x->format->event(x, &ev);
	}
	x->format->end_file(x, r, info);
}

/*
 * One part of a file cut into parts (cli/file_parts.h), on a worker: the
 * events of the part's range through the worker's reader of the file. The
 * file's stacks and status are its end's (export_job_end()).
 */
static void export_part_events(struct export *x, const char *path, const struct cli_file_part *part)
{
	ttlog_reader *r = part->r;
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	struct ttlog_event ev;
	x->path = path;
	cli_filter_begin_part(&x->filter, r);
	cli_filter_push_thread(&x->filter, r);
	int read = cli_file_part_begin(part, x->filter.since_ns, x->filter.until_ns,
				       cli_filter_levels(&x->filter));
	x->format->begin_file(x, r, info);
	while (read && !output_failed(x) && ttlog_reader_next(r, &ev)) {
		render_message_start(&x->msg, &ev);
		if (cli_filter_keep(&x->filter, &ev, &x->msg))
			x->format->event(x, &ev);
	}
	x->format->end_file(x, r, info);
}

/*
 * The rest of exporting the file path, after export_file_events(): what
 * the open found, the file's stacks (jsonl) and the reader's status;
 * closes the file. On the calling thread: stacks are symbolised there.
 */
static int export_file_end(struct export *x, const char *path, struct export_part *p)
{
	ttlog_reader *r = p->r;
	p->r = NULL;
	x->path = path;
	if (!r) {
		if (!x->repeat_pass) {
			cli_sync_stdout();
			fprintf(stderr, "ttlog: %s: %s\n", path, ttlog_strerror(p->rc));
		}
		return CLI_EXIT_DATA;
	}
	if (!p->wanted) {
		ttlog_reader_close(r);
		return CLI_EXIT_OK;
	}
	export_stacks(x, r, path);

	int status;
	if (x->repeat_pass) /* reported by the first pass */
		status = ttlog_reader_status(r) == TTLOG_OK ? CLI_EXIT_OK : CLI_EXIT_DATA;
	else
		status = cli_report_reader_status(r, path, "ttlog");
	ttlog_reader_close(r);
	return status;
}

/* Exports the file path; next as for export_file_events(). */
static int export_file(struct export *x, const char *path, const char *next)
{
	struct export_part p;
	export_file_events(x, path, next, &p);
	return export_file_end(x, path, &p);
}

/* ---- A list of files on --jobs threads (jsonl, logfmt, csv) --------------- */

/* What the file jobs of a list share: the command's export, each worker's
 * own, what each file's job left for export_file_end(), and the files'
 * parts. */
struct export_jobs {
	struct export *x;
	struct export *workers;
	struct export_part *parts;
	char **files;
	struct cli_file_parts *fparts;
};

/* A job (cli_file_job_fn), on the worker's own export: a whole file's
 * events, or one part of a file cut into parts. */
static void export_job(void *arg, unsigned worker, size_t job, struct cli_job_out *out)
{
	struct export_jobs *ej = arg;
	struct export *w = &ej->workers[worker];
	struct cli_file_part part;
	cli_file_parts_take(ej->fparts, job, worker, &part);
	w->job = out;
	w->job_stopped = cli_job_out_stopped(out);
	if (part.kind == CLI_PART_WHOLE) {
		export_file_events(w, ej->files[part.file], NULL, &ej->parts[part.file]);
	} else if (part.kind == CLI_PART_RANGE) {
		export_part_events(w, ej->files[part.file], &part);
		cli_file_part_end(ej->fparts, &part, worker);
	}
	w->job = NULL;
}

/* A job's end (cli_file_end_fn), once its output is written: after a
 * file's last part, the file's end. */
static int export_job_end(void *arg, size_t job)
{
	struct export_jobs *ej = arg;
	if (!cli_file_parts_last(ej->fparts, job))
		return CLI_EXIT_OK;
	size_t file = cli_file_parts_file(ej->fparts, job);
	struct export_part *p = &ej->parts[file];
	ttlog_reader *r;
	int rc;
	if (cli_file_parts_end_file(ej->fparts, file, &r, &rc))
		*p = (struct export_part){.r = r, .rc = rc, .wanted = 1};
	return export_file_end(ej->x, ej->files[file], p);
}

/* The exports of n workers of x: its format (begun as x's workers begin,
 * begin_worker()), its options, and a filter whose --thread matches are
 * their own (cli_filter_worker()). */
static struct export *workers_start(struct export *x, unsigned n)
{
	struct export *workers = render_xrealloc(NULL, n * sizeof *workers);
	for (unsigned i = 0; i < n; i++) {
		struct export *w = &workers[i];
		*w = (struct export){0};
		w->format = x->format;
		cli_filter_worker(&w->filter, &x->filter);
		w->signal = x->signal;
		w->json_big_as_string = x->json_big_as_string;
		if (w->format->begin_worker)
			w->format->begin_worker(w, x);
		else
			w->format->begin(w);
	}
	return workers;
}

/* Ends and frees what workers_start() made; their --thread matches go
 * back into x's filter. */
static void workers_end(struct export *x, struct export *workers, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct export *w = &workers[i];
		cli_filter_worker_end(&w->filter, &x->filter);
		w->format->end(w);
		render_buf_free(&w->out);
		render_message_free(&w->msg);
	}
	free(workers);
}

/*
 * jsonl, logfmt or csv of the files, n of them, with --jobs N > 1: each file's events
 * made by jobs (export_job()), one per part of the file where it is cut
 * into parts (cli/file_parts.h), else one for the file, each on a worker
 * export of its own (its buffers, the format's state, a filter whose
 * --thread matches are merged back), written here in list order, each
 * file's end done here after them. Returns the highest exit status, or -1
 * if no thread could be started or the one file given is not cut (the
 * caller exports the files one by one).
 */
static int export_files_jobs(struct export *x, char **files, int n)
{
	/* Files are cut into parts unless --since or --until count from each
	 * file's last event. */
	unsigned nparts = cli_filter_times_relative(&x->filter) ? 1 : CLI_FILE_PARTS;
	size_t njobs = (size_t)n * nparts;
	unsigned nworkers = x->filter.jobs < njobs ? x->filter.jobs : (unsigned)njobs;
	struct export_jobs ej = {x, NULL, NULL, files, NULL};
	ej.fparts = cli_file_parts_new(files, (size_t)n, nworkers, nparts, x->filter.service);
	if (!ej.fparts)
		return -1;
	if (n == 1 && !cli_file_parts_probe(ej.fparts, 0)) {
		/* One file that is not cut: the threads of the reader's open and
		 * of the render pool do better. Its bytes are not read again. */
		int rc;
		ttlog_reader *r = cli_file_parts_reopen(ej.fparts, 0,
							cli_filter_reader_flags(&x->filter), &rc);
		if (r)
			cli_open_ahead_give(&x->ahead, files[0], r, rc);
		cli_file_parts_free(ej.fparts);
		return -1;
	}
	ej.parts = render_xrealloc(NULL, (size_t)n * sizeof *ej.parts);
	memset(ej.parts, 0, (size_t)n * sizeof *ej.parts);
	ej.workers = workers_start(x, nworkers);
	int status = cli_file_jobs_run(nworkers, njobs, x->filter.jobs_memory, export_job,
				       export_job_end, &ej);
	for (int i = 0; i < n; i++) /* files opened but not ended: the output stopped */
		ttlog_reader_close(ej.parts[i].r);
	cli_file_parts_free(ej.fparts);
	workers_end(x, ej.workers, nworkers);
	free(ej.parts);
	return status;
}

/*
 * Directories and globs as one store, for the formats that are a stream of
 * lines (jsonl, csv, logfmt): the events of every file merged in time
 * order, a record in a snapshot and in a segment once. begin_file() and
 * end_file() come when the events move to another file; their reader is
 * NULL. Chrome and OTLP group events by file, so they export file after
 * file.
 */
static int store_format(const struct export_format *f)
{
	return !f->survey_file && f != &cli_export_chrome && f != &cli_export_otlp;
}

/* The events of store s (or of a part of it) through the format's hooks,
 * begin_file() and end_file() around each run of one file's events. */
static void export_store_events(struct export *x, ttlog_store *s)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from, *cur = NULL;
	while (!output_failed(x) && ttlog_store_next(s, &ev, &from)) {
		if (from != cur) {
			if (cur)
				x->format->end_file(x, NULL, ttlog_reader_info(cur->reader));
			x->path = from->path;
			x->format->begin_file(x, NULL, ttlog_reader_info(from->reader));
			cur = from;
		}
		render_message_start(&x->msg, &ev);
		if (cli_filter_keep(&x->filter, &ev, &x->msg))
			x->format->event(x, &ev);
	}
	if (cur)
		x->format->end_file(x, NULL, ttlog_reader_info(cur->reader));
}

/* What the jobs of a store cut into parts share. */
struct export_store_jobs {
	struct export *x;
	struct export *workers;
	struct cli_store_parts sp;
};

/* A job of a store cut into parts, on the worker's own export: the events
 * of part `job` through a store of its own. begin_file() and end_file()
 * make no lines in the formats of stores, so the runs of a file that a
 * cut splits in two change nothing. */
static void export_store_job(void *arg, unsigned worker, size_t job, struct cli_job_out *out)
{
	struct export_store_jobs *ej = arg;
	struct export *w = &ej->workers[worker];
	ttlog_store *p = cli_store_parts_open(&ej->sp, job);
	if (!p)
		return;
	w->job = out;
	w->job_stopped = cli_job_out_stopped(out);
	export_store_events(w, p);
	cli_export_flush(w);
	w->job = NULL;
	cli_store_parts_end(&ej->sp, job, p);
}

/* The events of store s on --jobs threads, cut into parts (store_parts.h);
 * the begin() of every worker is x's (begin_worker). Returns 0, or -1 if
 * s is not cut or no thread could be started (s then starts from its
 * first event). */
static int export_store_jobs(struct export *x, ttlog_store *s, struct cli_store_parts *sp)
{
	struct export_store_jobs ej = {x, NULL, {0}};
	size_t njobs = cli_store_parts_cut(&ej.sp, s, x->filter.jobs);
	if (!njobs)
		return -1;
	unsigned nworkers = x->filter.jobs < njobs ? x->filter.jobs : (unsigned)njobs;
	ej.workers = workers_start(x, nworkers);
	int status = cli_file_jobs_run(nworkers, njobs, x->filter.jobs_memory, export_store_job,
				       NULL, &ej);
	workers_end(x, ej.workers, nworkers);
	*sp = ej.sp;
	return status < 0 ? -1 : 0;
}

/* The first pass over a store cut into parts (csv's keys): each part
 * surveyed on a worker, into an export of its own (its format state, a
 * filter whose --thread matches are its own), and merged into x's on this
 * thread in part order, so that x has what one pass over the whole store
 * gives, in the same order. Silent, as the first pass over a file is: the
 * second reports every problem. */
struct survey_jobs {
	struct export *x;
	struct export *parts; /* one per part */
	struct cli_store_parts sp;
};

/* The events of store s (or of a part of it) the filters keep, through
 * the format's survey_event(). */
static void survey_store_events(struct export *x, ttlog_store *s)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	while (ttlog_store_next(s, &ev, &from)) {
		render_message_start(&x->msg, &ev);
		if (cli_filter_keep(&x->filter, &ev, &x->msg))
			x->format->survey_event(x, &ev);
	}
}

static void survey_store_job(void *arg, unsigned worker, size_t job, struct cli_job_out *out)
{
	(void)worker;
	(void)out; /* no output */
	struct survey_jobs *sj = arg;
	ttlog_store *p = cli_store_parts_open(&sj->sp, job);
	if (!p)
		return;
	survey_store_events(&sj->parts[job], p);
	cli_store_parts_end(&sj->sp, job, p);
}

static int survey_store_end(void *arg, size_t job)
{
	struct survey_jobs *sj = arg;
	sj->x->format->survey_merge(sj->x, &sj->parts[job]);
	return CLI_EXIT_OK;
}

/* Surveys store s in parts on --jobs threads. Returns 0, or -1 if the
 * format cannot merge parts, s is not cut or no thread could be started
 * (s then starts from its first event). */
static int survey_store_jobs(struct export *x, ttlog_store *s)
{
	if (!x->format->survey_merge || x->filter.jobs < 2)
		return -1;
	struct survey_jobs sj = {x, NULL, {0}};
	size_t njobs = cli_store_parts_cut(&sj.sp, s, x->filter.jobs);
	if (!njobs)
		return -1;
	sj.parts = render_xrealloc(NULL, njobs * sizeof *sj.parts);
	for (size_t i = 0; i < njobs; i++) {
		struct export *w = &sj.parts[i];
		*w = (struct export){0};
		w->format = x->format;
		cli_filter_worker(&w->filter, &x->filter);
	}
	unsigned nworkers = x->filter.jobs < njobs ? x->filter.jobs : (unsigned)njobs;
	int status = cli_file_jobs_run(nworkers, njobs, x->filter.jobs_memory, survey_store_job,
				       survey_store_end, &sj);
	for (size_t i = 0; i < njobs; i++) {
		struct export *w = &sj.parts[i];
		cli_filter_worker_end(&w->filter, &x->filter);
		w->format->end(w);
		render_message_free(&w->msg);
	}
	free(sj.parts);
	cli_store_parts_free(&sj.sp);
	return status < 0 ? -1 : 0;
}

static int export_store(struct export *x, char **args, int n)
{
	ttlog_store *s;
	x->path = args[0];
	if (x->format->survey_event) {
		s = cli_store_open(&x->filter, args, n, "ttlog", INT64_MIN);
		if (s && survey_store_jobs(x, s) != 0)
			survey_store_events(x, s);
		ttlog_store_close(s);
	}
	x->format->begin(x);
	s = cli_store_open(&x->filter, args, n, "ttlog", INT64_MIN);
	struct cli_store_parts sp = {0};
	if (s && export_store_jobs(x, s, &sp) != 0) {
		cli_store_parts_free(&sp);
		export_store_events(x, s);
	}
	if (s) { /* the stacks after every event, file by file */
		const struct ttlog_store_file *const *files;
		size_t nf = ttlog_store_files(s, &files);
		for (size_t i = 0; i < nf; i++)
			if (!files[i]->skipped)
				export_stacks(x, files[i]->reader, files[i]->path);
	}
	x->format->end(x);
	if (!s)
		return CLI_EXIT_DATA;
	int status = CLI_EXIT_OK, parts = CLI_EXIT_OK;
	if (!cli_stdout_failed()) {
		status = cli_store_report(s, "ttlog");
		parts = cli_store_parts_report(&sp, "ttlog");
	}
	cli_store_parts_free(&sp);
	ttlog_store_close(s);
	return parts > status ? parts : status;
}

/* ---- Options ------------------------------------------------------------ */

enum {
	OPT_SIGNAL = 256, /* long options without a short form */
	OPT_SERVICE_NAME,
	OPT_NO_SPANS,
	OPT_UTC,
	OPT_JSON_BIG,
};

/* ':' first: a missing argument is reported as ':' rather than '?'. */
#define SHORT_OPTIONS ":hF:o:" CLI_FILTER_SHORT_OPTIONS

static const struct option long_options[] = {
	CLI_FILTER_LONG_OPTIONS,
	{"format", required_argument, NULL, 'F'},
	{"output", required_argument, NULL, 'o'},
	{"signal", required_argument, NULL, OPT_SIGNAL},
	{"signals", required_argument, NULL, OPT_SIGNAL},
	{"service-name", required_argument, NULL, OPT_SERVICE_NAME},
	{"no-spans", no_argument, NULL, OPT_NO_SPANS},
	{"utc", no_argument, NULL, OPT_UTC},
	{"json-big-as-string", no_argument, NULL, OPT_JSON_BIG},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* --signals: "all", or names separated by commas, each once. */
static int parse_signals(const char *arg, unsigned *set, char *err, size_t err_size)
{
	static const char *const names[EXPORT_NSIGNALS] = {"logs", "traces", "metrics"};
	*set = 0;
	if (strcmp(arg, "all") == 0) {
		*set = EXPORT_SIGNAL_BIT(EXPORT_NSIGNALS) - 1;
		return 0;
	}
	for (const char *p = arg;; p++) {
		size_t len = strcspn(p, ",");
		int found = -1;
		for (int i = 0; i < EXPORT_NSIGNALS; i++)
			if (strlen(names[i]) == len && strncmp(p, names[i], len) == 0)
				found = i;
		if (found < 0) {
			snprintf(err, err_size, "unknown signal '%.*s' (use logs, traces, metrics or all, separated "
				 "by commas)",
				 (int)len, p);
			return -1;
		}
		if (*set & EXPORT_SIGNAL_BIT(found)) {
			snprintf(err, err_size, "signal '%s' given twice", names[found]);
			return -1;
		}
		*set |= EXPORT_SIGNAL_BIT(found);
		p += len;
		if (!*p)
			return 0;
	}
}

/* Options that only one format takes, to refuse them with another. */
struct format_options {
	const char *signal, *service_name, *output;
	const char *signal_option; /* "signal" or "signals", as given */
};

/* Parses the options into *x; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct export *x, struct format_options *fo, int argc, char **argv,
			 int *status)
{
	char err[512];
	int c;

	cli_filter_init(&x->filter, argc);
	opterr = 0; /* the messages below say which command and where to get help */
	int li = -1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, &li)) != -1) {
		int handled = cli_filter_option(&x->filter, c, optarg, err, sizeof err);
		if (handled < 0) {
			*status = cli_report_usage_error("export", "%s", err);
			return -1;
		}
		if (handled)
			continue;
		switch (c) {
		case 'h':
			cli_export_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'F':
			x->format = NULL;
			for (size_t i = 0; i < NFORMATS; i++)
				if (strcmp(optarg, formats[i]->name) == 0)
					x->format = formats[i];
			/* What `view -o json` calls it. */
			if (strcmp(optarg, "json") == 0)
				x->format = &cli_export_jsonl;
			if (!x->format) {
				*status = cli_report_usage_error("export", "unknown format '%s' (use jsonl, csv, logfmt, "
						      "chrome or otlp-json)",
						      optarg);
				return -1;
			}
			break;
		case 'o':
			fo->output = optarg;
			break;
		case OPT_SIGNAL:
			if (parse_signals(optarg, &x->signals, err, sizeof err) != 0) {
				*status = cli_report_usage_error("export", "%s", err);
				return -1;
			}
			fo->signal = optarg;
			fo->signal_option = li >= 0 ? long_options[li].name : "signals";
			break;
		case OPT_SERVICE_NAME:
			x->service_name = optarg;
			fo->service_name = optarg;
			break;
		case OPT_NO_SPANS:
			x->filter.logs_only = 1;
			break;
		case OPT_JSON_BIG:
			x->json_big_as_string = 1;
			break;
		case OPT_UTC:
			x->filter.utc = 1;
			break;
		default:
			*status = cli_report_bad_option("export", c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	if (cli_filter_finish(&x->filter, err, sizeof err) != 0) {
		*status = cli_report_usage_error("export", "%s", err);
		return -1;
	}
	if (!x->format) {
		*status = cli_report_usage_error("export", "no --format given (use jsonl, csv, logfmt, chrome or "
				      "otlp-json)");
		return -1;
	}
	if (x->json_big_as_string && x->format != &cli_export_jsonl) {
		*status = cli_report_usage_error("export", "--json-big-as-string is for --format jsonl only");
		return -1;
	}
	if (x->format != &cli_export_otlp && (fo->signal || fo->service_name)) {
		*status = cli_report_usage_error("export", "--%s is for --format otlp-json only",
				      fo->signal ? fo->signal_option : "service-name");
		return -1;
	}
	return 0;
}

/*
 * Makes path the standard output: the output file takes stdout's place, so
 * that its write errors are tracked and reported like stdout's. Nothing has
 * been written to stdout yet, so its buffer is empty. Returns 0, or -1 with
 * errno set.
 */
static int redirect_stdout(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); /* as private as the snapshots */
	if (fd < 0)
		return -1;
	if (fd != STDOUT_FILENO && dup2(fd, STDOUT_FILENO) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (fd != STDOUT_FILENO)
		close(fd);
	return 0;
}

int cli_export_main(int argc, char **argv)
{
	struct export x = {0};
	struct format_options fo = {0};
	int status = CLI_EXIT_OK;

	char **args = argv + optind, *newest[1], path[8192];
	int nargs = argc - optind;
	if (parse_options(&x, &fo, argc, argv, &status) != 0)
		goto out;
	args = argv + optind;
	nargs = argc - optind;
	if (nargs == 0) {
		if (cli_default_snapshot("export", path, sizeof path) != 0) {
			status = CLI_EXIT_USAGE;
			goto out;
		}
		newest[0] = path;
		args = newest;
		nargs = 1;
	}
	status = cli_store_check_service("ttlog export", args, nargs, x.filter.service);
	if (status != CLI_EXIT_OK)
		goto out;
	if (fo.output && redirect_stdout(fo.output) != 0) {
		fprintf(stderr, "ttlog export: cannot write '%s': %s\n", fo.output, strerror(errno));
		status = CLI_EXIT_DATA;
		goto out;
	}
	if (store_format(x.format) && cli_store_args(args, nargs)) {
		status = export_store(&x, args, nargs);
		if (status == CLI_EXIT_OK && !cli_stdout_failed())
			status = cli_filter_report_threads(&x.filter, "export");
		goto out;
	}
	/* A directory or a glob stands for its segments and snapshots. */
	char **files;
	int bad = 0;
	int n = cli_store_expand(args, nargs, "ttlog export", &files, &bad);
	if (bad)
		status = CLI_EXIT_DATA;
	if (x.format->survey_file || x.format->survey_event)
		for (int i = 0; i < n; i++)
			survey_file(&x, files[i]);
	/* One pass per signal (otlp-json); the other formats have one. */
	unsigned signals = x.signals ? x.signals : EXPORT_SIGNAL_BIT(EXPORT_SIGNAL_LOGS);
	x.one_line = (signals & (signals - 1)) != 0;
	for (int s = 0; s < EXPORT_NSIGNALS && !cli_stdout_failed(); s++) {
		if (!(signals & EXPORT_SIGNAL_BIT(s)))
			continue;
		x.signal = (enum export_signal)s;
		x.format->begin(&x);
		int done = 0;
		if (line_format(x.format) && n >= 1 && x.filter.jobs > 1) {
			int st = export_files_jobs(&x, files, n);
			done = st >= 0;
			if (st > status)
				status = st;
		}
		if (!done)
			start_workers(&x);
		for (int i = 0; !done && i < n && !cli_stdout_failed(); i++) {
			int st = export_file(&x, files[i], i + 1 < n ? files[i + 1] : NULL);
			if (st > status)
				status = st;
		}
		stop_workers(&x);
		x.format->end(&x);
		if (x.format != &cli_export_otlp)
			break;
		x.repeat_pass = 1;
		quiet_notes = 1;
	}
	cli_store_free_list(files, n);
	if (status == CLI_EXIT_OK && !cli_stdout_failed())
		status = cli_filter_report_threads(&x.filter, "export");
out:
	cli_filter_free(&x.filter);
	render_buf_free(&x.out);
	render_message_free(&x.msg);
	return status;
}
