/* SPDX-License-Identifier: MIT */
/*
 * view.c - `ttlog view`: prints the events of snapshot files, as text lines
 * or JSON lines, filtered by level, time, thread and message, then what the
 * file says about a crash, about events that were lost, and about events
 * that sampling rules left out, and the stacks the file holds as a
 * debugger's backtraces (backtrace.c).
 *
 * Files are handled one after the other, in the order given, each with its
 * own reader: a damaged file prints every event that survived, then the
 * reader's error, and the next file is read all the same. When an argument
 * is a directory or a glob pattern, all the arguments are read as one store
 * (ttlog_store_*): the events of every file merged in time order.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backtrace.h"
#include "cli.h"
#include "crash_text.h"
#include "default_file.h"
#include "filter.h"
#include "view_metrics.h"
#include "render/event_json.h"
#include "render/event_line.h"
#include "render/event_message.h"
#include "render/names.h"
#include "render/time_text.h"
#include "file_jobs.h"
#include "file_parts.h"
#include "open_ahead.h"
#include "render_pool.h"
#include "report.h"
#include "store_args.h"
#include "store_parts.h"
#include "ttlog_reader.h"


#define COLOR_CRASH "\033[1;31m"
#define COLOR_LOST "\033[33m"


struct view {
	/* Options. */
	struct cli_filter filter;
	int json, utc, color, header, sampling;
	int metrics;                 /* --metrics: the file's metrics instead of its events */
	int spans;                   /* show span begins and ends, indented (default) */
	struct cli_backtrace bt;     /* the stacks' printer, with its options */

	/* The file being printed. */
	const char *path;

	struct render_buf line;          /* the output line being built */
	struct render_message msg;       /* the current event's message, made when needed */
	struct render_line_style style;  /* how text lines look */
	struct render_buf events;        /* event lines not written yet (EVENT_BLOCK) */
	struct render_event_cache cache; /* JSON parts of the file's levels, sites and threads */

	/* -o json, --jobs N > 1 and no --grep: the JSON lines are made on N
	 * threads (cli/render_pool.h). */
	struct cli_render_pool *pool;
	int stopped;                     /* the output failed: read no further */
	struct cli_open_ahead ahead;     /* the next file, opened meanwhile */

	/* A list of files with --jobs N > 1: each file's events are printed
	 * on a thread of their own (cli/file_jobs.h). On the calling thread:
	 * the view of each worker thread and what each file's job left (read by the calling thread once the job has ended). On a
	 * worker's view: where its output goes. */
	struct view *workers;
	struct view_part *parts;
	char **files;
	struct cli_job_out *out;
	struct cli_file_parts *fparts; /* the files cut into parts (cli/file_parts.h) */

	/* A store with --jobs N > 1, cut into parts by time
	 * (cli/store_parts.h). */
	struct cli_store_parts sparts;
};

/* One file, from its open to its last event (view_file_events()); the
 * rest (view_file_end()) is done on the calling thread. */
struct view_part {
	ttlog_reader *r; /* NULL: it could not be opened (rc) */
	int rc;
	int wanted;      /* --service wants it: its events were printed */
	int described;   /* its details are worth showing */
};


/* Event lines are written in blocks of this many bytes or more, not one by
 * one: a write per line was a good part of the cost of a short line. The
 * block is written out before anything else goes to stdout or stderr. */
#define EVENT_BLOCK (64u << 10)

void cli_view_usage(FILE *out)
{
	fputs("Usage: ttlog view [OPTIONS] [FILE...]\n"
	      "\n"
	      "Prints the events of ttlog snapshot files, one line per event: the files in\n"
	      "the order given, the events of each file in time order. After a file's\n"
	      "events come its crash summary and, when events were lost or sampled out\n"
	      "(ttlog_set_sampling, TTLOG_SAMPLE), how many.\n"
	      "\n"
	      "Without a FILE: the newest snapshot of the default directory (the one\n"
	      "`ttlog ls` lists: TTLOG_DIR, $XDG_RUNTIME_DIR/ttlog or /tmp/ttlog-UID),\n"
	      "named on stderr.\n"
	      "\n"
	      "A FILE may be a stream's segment (*.ttseg). When a FILE is a directory or a\n"
	      "glob pattern ('logs/*.ttseg'), all the FILEs are read as one store: the\n"
	      "segments and snapshots in them merged in time order, an event that is in a\n"
	      "snapshot and in a segment shown once, files outside --since/--until or of\n"
	      "another --service left unread.\n"
	      "\n"
	      "Filters (an event is printed if it passes all of them):\n",
	      out);
	cli_filter_usage(out);
	fputs("\n", out);
	cli_filter_jobs_usage(out);
	fputs("\n"
	      "Output:\n"
	      "  -o, --output FORMAT   text (the default) or json: one JSON object per event\n"
	      "                        and line, summaries and errors on stderr\n"
	      "      --json-big-as-string\n"
	      "                        json: time_ns, duration_ns and integer arguments and\n"
	      "                        fields beyond +-2^53 as strings (\"1764982800123456789\"):\n"
	      "                        without it they are bare numbers, exact as text but\n"
	      "                        rounded by readers that use doubles (JavaScript, jq)\n"
	      "      --utc             show and read times in UTC instead of local time\n"
	      "      --color[=WHEN]    colour lines by level: auto (the default: when stdout\n"
	      "                        is a terminal and NO_COLOR is unset or empty), always\n"
	      "                        or never\n"
	      "      --header          print each file's details before its events\n"
	      "      --no-spans        leave out span begins and ends, and do not indent\n"
	      "      --sampling        the events, then one line per sampled call site of\n"
	      "                        each file: its rule (1/N, K/s), calls kept and dropped\n"
	      "      --metrics         print the file's metrics instead of its events: tables\n"
	      "                        of counters, gauges (value, time set) and histograms\n"
	      "                        (count, sum, min, max, p50, p90, p99, p99.9), then\n"
	      "                        ttlog's own; with -o json one object per metric and\n"
	      "                        line (name, type, labels, self, file, line, and value,\n"
	      "                        time or count, sum, min, max, p50..p999, buckets)\n"
	      "\n"
	      "Stack traces (of files that have stacks, such as crash snapshots):\n"
	      "      --no-symbols      show frames as module+offset only, opening no file\n"
	      "      --debug-dir DIR   look for debug files in DIR first (repeatable): by\n"
	      "                        build-id (DIR/.build-id/xx/rest.debug) and by name\n"
	      "      --registers       print the crashing thread's registers\n"
	      "      --modules         print the modules recorded with the stacks (path,\n"
	      "                        address range, build-id)\n"
	      "\n"
	      "  -h, --help            show this help and exit\n"
	      "\n",
	      out);
	cli_filter_usage_times(out);
	fputs("\n"
	      "Fields: a conversion right after \"key=\" in a format (\"user=%u\") is the\n"
	      "  field `key`; TTLOG_F(\"key\", value) adds a field that is not in the message.\n"
	      "\n"
	      "Spans: a span's begin prints \"begin NAME\" (with trace=ID for a span that\n"
	      "  has no parent on its thread) and its end \"end NAME DURATION\"; events are\n"
	      "  indented by two spaces per span open on their thread.\n"
	      "\n"
	      "Triggers: a snapshot a TTLOG_TRIGGER rule wrote (reason trigger) gets the\n"
	      "  line \"-- trigger fired: RULE\" before its first event at or after the\n"
	      "  moment the rule fired; --header also prints \"-- trigger: RULE, fired at\n"
	      "  TIME\" (in JSON mode, on stderr).\n"
	      "\n"
	      "Text lines: TIME LEVEL [TID NAME] FILE:LINE MESSAGE key=value... with the\n"
	      "  level followed by + for a promoted event (a segment's record below the\n"
	      "  stream's level, streamed because of an error near it), and with the\n"
	      "  TTLOG_F() fields after the message (the others are in it already); strings\n"
	      "  that are not plain words are quoted. Control characters in the message are\n"
	      "  shown as \\xNN, so that one event is one line.\n"
	      "JSON lines: fields time (UTC), time_ns, level, tid, thread, file, line,\n"
	      "  function, target, site, message, args, fields (an object of every field,\n"
	      "  typed like args), kind (log, span_begin, span_end); inside a span also\n"
	      "  trace_id and span_id, and for span begins and ends span_name,\n"
	      "  parent_span_id (null for a root) and, for ends, duration_ns (null if the\n"
	      "  begin is not in the file); \"promoted\":true for a promoted event, and\n"
	      "  service for a file that names its service. Arguments are typed: numbers,\n"
	      "  true/false, strings (null for a NULL string), pointers as \"0x...\" and\n"
	      "  NaN or infinities as \"nan\", \"inf\", \"-inf\". Strings are valid JSON for any\n"
	      "  bytes, and lossless: each byte that is not part of valid UTF-8 is written\n"
	      "  \\udcXX (U+DC80..U+DCFF, as Python's surrogateescape reads it back).\n"
	      "  In text, control characters and bytes that are not UTF-8 are shown as\n"
	      "  \\xNN.\n"
	      "\n"
	      "Backtraces: after the crash summary, each stack of the file, innermost frame\n"
	      "  first, one line per frame: \"  #N  0xADDRESS in FUNCTION at FILE:LINE\", or\n"
	      "  \"(MODULE+0xOFFSET)\" instead of \"at FILE:LINE\" without line information\n"
	      "  (OFFSET is the module's ELF address, for addr2line), or \"()\" when no module\n"
	      "  holds the address; FUNCTION is \"??\" when unknown. A function inlined at\n"
	      "  the address is a frame of its own, marked \"(inlined)\". Return addresses\n"
	      "  are looked up at ADDRESS-1, the call. A module whose file has another\n"
	      "  build-id than the recorded one is not used for lines (a note says so).\n"
	      "  With -o json one object per stack and line: kind \"stack\", tid, thread,\n"
	      "  crashed, origin (self, ptrace, watchdog), arch, truncated, faulted, frames\n"
	      "  (objects: index, address, function, file, line, module, offset,\n"
	      "  inlined; unknowns null) and, with --registers, registers (name:\n"
	      "  \"0x...\"); --modules adds an object of kind \"modules\" (modules: path,\n"
	      "  start, end, bias, build_id; missing).\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read completely\n"
	      "(its valid events are printed first) or the output could not be written.\n",
	      out);
}

/* ---- Notes: file details and summaries ------------------------------------
 * In text mode a note is a "-- " line on stdout (details before a file's
 * events, summaries after them); in JSON mode it goes to stderr as
 * "ttlog: FILE: ...", so that stdout stays pure JSON lines. */

static void note_begin(struct view *v, const char *color)
{
	render_buf_reset(&v->line);
	if (v->json) {
		render_buf_puts(&v->line, "ttlog: ");
		render_line_cstring(&v->line, v->path);
		render_buf_puts(&v->line, ": ");
	} else {
		if (v->color)
			render_buf_puts(&v->line, color);
		render_buf_puts(&v->line, "-- ");
	}
}

static void note_end(struct view *v, const char *color)
{
	if (!v->json && v->color && *color)
		render_buf_puts(&v->line, RENDER_COLOR_RESET);
	render_buf_putc(&v->line, '\n');
	if (v->out) {
		if (!cli_job_out_put(v->out, v->json ? 2 : 1, &v->line))
			v->stopped = 1;
	} else if (v->json) {
		cli_sync_stdout();
		render_buf_write(&v->line, stderr);
	} else {
		render_buf_write(&v->line, stdout);
	}
}

static void note(struct view *v, const char *color, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct view *v, const char *color, const char *format, ...)
{
	va_list ap;

	note_begin(v, color);
	va_start(ap, format);
	render_buf_vprintf(&v->line, format, ap);
	va_end(ap);
	note_end(v, color);
}

/* A note made of a label and a string from the file, shown safely. */
static void note_string(struct view *v, const char *label, const char *value)
{
	note_begin(v, "");
	render_buf_puts(&v->line, label);
	render_line_cstring(&v->line, value);
	note_end(v, "");
}

/* The backtraces' notes (struct cli_backtrace's symbols_note). */
static void symbols_note(void *view, const char *text)
{
	note_string(view, "symbols: ", text);
}

static void print_header(struct view *v, ttlog_reader *r, const struct ttlog_file_info *info)
{
	char t1[RENDER_TIME_BUF], t2[RENDER_TIME_BUF];
	enum render_time_style style = v->json  ? RENDER_TIME_ISO
				       : v->utc ? RENDER_TIME_UTC
						: RENDER_TIME_LOCAL;
	size_t nthreads = ttlog_reader_thread_count(r);
	unsigned wv = info->writer_version;

	if (!v->json) /* JSON-mode notes name the file already */
		note_string(v, "file: ", info->path ? info->path : v->path);
	note_begin(v, "");
	render_buf_printf(&v->line, "pid %" PRIu32 ", executable ", info->pid);
	render_line_cstring(&v->line, info->executable);
	render_buf_puts(&v->line, ", host ");
	render_line_cstring(&v->line, info->hostname);
	note_end(v, "");
	note_string(v, "reason: ", info->reason);
	if (info->trigger_rule && *info->trigger_rule) {
		note_begin(v, "");
		render_buf_puts(&v->line, "trigger: ");
		render_line_cstring(&v->line, info->trigger_rule);
		render_buf_printf(&v->line, ", fired at %s",
				  render_time_format(info->trigger_ns, style, t1));
		note_end(v, "");
	}
	note(v, "", "created: %s", render_time_format(info->created_ns, style, t1));
	note(v, "", "written by ttlog %u.%u.%u, format %u, clock %s%s", wv / 10000, wv / 100 % 100,
	     wv % 100, info->format_version,
	     render_clock_name(info->clock) ? render_clock_name(info->clock) : "unknown",
	     info->complete ? "" : info->open ? ", open (being written)" : ", incomplete");
	if (*info->service)
		note_string(v, "service: ", info->service);
	if (info->is_segment)
		note(v, "", "segment %" PRIu64 " of a stream started %s; stream lost %" PRIu64
			 ", filtered %" PRIu64 ", promoted %" PRIu64,
		     info->segment, render_time_format(info->stream_start_ns, style, t1),
		     info->stream_lost, info->filtered, info->promoted);
	if (info->events)
		note(v, "", "events: %" PRIu64 " in %zu thread%s, from %s to %s", info->events,
		     nthreads, nthreads == 1 ? "" : "s", render_time_format(info->first_ns, style, t1),
		     render_time_format(info->last_ns, style, t2));
	else
		note(v, "", "events: none, %zu threads", nthreads);
	for (size_t i = 0; i < nthreads; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (!t)
			continue;
		note_begin(v, "");
		render_buf_printf(&v->line, "thread %" PRIu32, t->tid);
		if (t->name && *t->name) {
			render_buf_putc(&v->line, ' ');
			render_line_cstring(&v->line, t->name);
		}
		render_buf_printf(&v->line, ": %" PRIu64 " event%s", t->events, t->events == 1 ? "" : "s");
		if ((t->overwritten && !info->is_segment) || t->torn)
			render_buf_printf(&v->line, ", lost %" PRIu64 " overwritten, %" PRIu64 " torn",
					  info->is_segment ? 0 : t->overwritten, t->torn);
		if (t->stream_lost)
			render_buf_printf(&v->line, ", lost %" PRIu64 " by the stream", t->stream_lost);
		if (t->exited)
			render_buf_puts(&v->line, ", exited");
		if (t->crashed)
			render_buf_puts(&v->line, ", crashed");
		note_end(v, "");
	}
}

static void print_summaries(struct view *v, ttlog_reader *r, const struct ttlog_file_info *info)
{
	if (info->crashed) {
		struct render_buf crash = {0};

		/* The signal name comes from the file: shown safely. */
		cli_crash_text(&crash, info);
		note_begin(v, COLOR_CRASH);
		render_buf_puts(&v->line, "crash: ");
		render_line_text(&v->line, crash.data, crash.len);
		render_buf_free(&crash);
		render_buf_printf(&v->line, " in thread %" PRIu32, info->crash.tid);
		const struct ttlog_thread_info *t =
			cli_find_thread(r, info->crash.thread_index, info->crash.tid);
		if (t && t->name && *t->name) {
			render_buf_puts(&v->line, " (");
			render_line_cstring(&v->line, t->name);
			render_buf_putc(&v->line, ')');
		}
		note_end(v, COLOR_CRASH);

		note_begin(v, COLOR_CRASH);
		render_buf_puts(&v->line, "reason: ");
		render_line_cstring(&v->line, info->reason);
		note_end(v, COLOR_CRASH);
	}
	/* JSON mode with --metrics has metric objects on stdout, of another
	 * shape: no stack objects among them. */
	if (!(v->json && v->metrics))
		cli_backtrace_print(&v->bt, r);
	if (info->trace_filtered)
		note(v, COLOR_LOST, "trace %016" PRIx64 "%016" PRIx64 " only: %" PRIu64 " events of "
			 "other requests (or of none) left out by the trace filter",
		     info->trace_hi, info->trace_lo, info->trace_left_events);
	/* Nothing is lost silently: any loss is reported, filters or not. A
	 * segment's overwritten count is its rings' and no loss: the stream
	 * had read those records (what it had not is stream_lost, below). */
	uint64_t overwritten = info->is_segment ? 0 : info->overwritten;
	if (overwritten || info->torn || info->torn_bytes || info->dropped)
		note(v, COLOR_LOST,
		     "lost: %" PRIu64 " overwritten, %" PRIu64 " torn (%" PRIu64 " bytes), %" PRIu64
		     " dropped",
		     overwritten, info->torn, info->torn_bytes, info->dropped);
	if (info->stream_lost)
		note(v, COLOR_LOST,
		     "lost by the stream: %" PRIu64 " events gone from the rings before the "
		     "stream read them",
		     info->stream_lost);
	const struct ttlog_reader_counters *rc = ttlog_reader_counters(r);
	if (rc && rc->chunks_unknown)
		note(v, COLOR_LOST,
		     "skipped: chunks of types this ttlog does not know: %" PRIu64 " (the "
		     "first, %s, at byte %" PRIu64 "); written by a newer ttlog, or damaged",
		     rc->chunks_unknown, rc->chunk_unknown_type, rc->chunk_unknown_offset);
	const struct ttlog_sampling_totals *sm = ttlog_reader_sampling_totals(r);
	if (sm && (sm->dropped_sampled || sm->dropped_rate_limited))
		note(v, COLOR_LOST,
		     "sampled out: %" PRIu64 " events (1-in-N: %" PRIu64 ", rate limit: %" PRIu64 ")",
		     sm->dropped_sampled + sm->dropped_rate_limited, sm->dropped_sampled,
		     sm->dropped_rate_limited);
}

/* --sampling: one line per sampled site, "FILE:LINE RULE: kept K, dropped
 * A by 1-in-N, B by the rate limit". */
static void print_sampling(struct view *v, const ttlog_reader *r)
{
	size_t n = ttlog_reader_sampling_count(r);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_sampling_site *s = ttlog_reader_sampling_site(r, i);
		if (!s)
			continue;
		note_begin(v, "");
		render_buf_puts(&v->line, "sampling: ");
		render_line_cstring(&v->line, render_base_name(s->file));
		render_buf_printf(&v->line, ":%" PRIu32 " ", s->line);
		if (s->keep_one_in > 1)
			render_buf_printf(&v->line, "1/%" PRIu32 "%s", s->keep_one_in,
					  s->max_per_second ? "+" : "");
		if (s->max_per_second)
			render_buf_printf(&v->line, "%" PRIu32 "/s", s->max_per_second);
		if (s->keep_one_in <= 1 && !s->max_per_second)
			render_buf_puts(&v->line, "no rule now");
		render_buf_printf(&v->line,
				  ": kept %" PRIu64 ", dropped %" PRIu64 " by 1-in-N, %" PRIu64
				  " by the rate limit",
				  s->kept, s->dropped_sampled, s->dropped_rate_limited);
		note_end(v, "");
	}
}

/* ---- Events ------------------------------------------------------------- */

/* Writes the event lines built so far (the pool's first). */
static void flush_events(struct view *v)
{
	if (v->out) { /* a worker's: handed to the writer */
		if (!cli_job_out_put(v->out, 1, &v->events))
			v->stopped = 1;
		return;
	}
	if (v->pool && !cli_render_pool_drain(v->pool)) {
		cli_stdout_note_errno(cli_render_pool_errno(v->pool));
		v->stopped = 1;
	}
	render_buf_write(&v->events, stdout);
	render_buf_reset(&v->events);
	if (cli_stdout_failed())
		v->stopped = 1;
}

static void print_text_event(struct view *v, const struct ttlog_event *ev)
{
	render_event_line(&v->events, ev, render_message_text(&v->msg), &v->style, &v->cache);
	if (v->events.len >= EVENT_BLOCK)
		flush_events(v);
}

static void print_json_event(struct view *v, const struct ttlog_event *ev)
{
	render_event_json(&v->events, ev, render_message_text(&v->msg), &v->cache);
	render_buf_putc(&v->events, '\n');
	if (v->events.len >= EVENT_BLOCK)
		flush_events(v);
}

/* One event of a file or a store: printed if the filters keep it. */
static void show_event(struct view *v, const struct ttlog_event *ev)
{
	if (v->pool) { /* no --grep: the filters do not need the message */
		if (cli_filter_keep(&v->filter, ev, NULL) &&
		    !cli_render_pool_add(v->pool, ev, v->cache.service))
			v->stopped = 1;
		return;
	}
	render_message_start(&v->msg, ev);
	if (!cli_filter_keep(&v->filter, ev, &v->msg))
		return;
	if (v->json)
		print_json_event(v, ev);
	else
		print_text_event(v, ev);
}

/* "-- trigger fired: RULE" between the events, at the trigger's time. */
static void print_trigger_mark(struct view *v, const struct ttlog_file_info *info)
{
	flush_events(v);
	note_begin(v, COLOR_LOST);
	render_buf_puts(&v->line, "trigger fired: ");
	render_line_cstring(&v->line, info->trigger_rule);
	note_end(v, COLOR_LOST);
}

/* ---- Files -------------------------------------------------------------- */

/* Whether the output has failed: stdout's, or on a worker the writer's. */
static int output_failed(struct view *v)
{
	return v->out ? cli_job_out_stopped(v->out) : cli_stdout_failed();
}

/*
 * The events r returns from its current range; read 0: none. With mark, the
 * trigger's mark before the first event at or after the rule's time, or
 * after the last event if none is.
 */
static void print_events(struct view *v, ttlog_reader *r, const struct ttlog_file_info *info,
			 int mark, int read)
{
	struct ttlog_event ev;
	v->stopped = output_failed(v);
	while (read && !v->stopped && ttlog_reader_next(r, &ev)) {
		if (mark && ev.time_ns >= info->trigger_ns) {
			print_trigger_mark(v, info);
			mark = 0;
		}
		show_event(v, &ev);
	}
	if (mark && !v->stopped)
		print_trigger_mark(v, info);
	flush_events(v);
}

/*
 * The first part of printing the file path: opening it, its details
 * (--header) and its events, into *p. next, if not NULL, is the file that
 * comes after it, opened meanwhile with --jobs N > 1 (cli/open_ahead.h).
 * On a worker thread (v->out set) for a list of files.
 */
static void view_file_events(struct view *v, const char *path, const char *next,
			     struct view_part *p)
{
	unsigned flags = cli_filter_reader_flags(&v->filter);
	*p = (struct view_part){0};
	/* On one thread, each block decoded once (TTLOG_READER_ONCE), as the
	 * parts of N threads are: not with what needs the file read first
	 * (--header, times counted from its end). */
	if (v->filter.jobs <= 1 && !v->header && !cli_filter_times_relative(&v->filter))
		p->rc = ttlog_reader_open_ex(path, flags | TTLOG_READER_ONCE, &p->r);
	else
		p->r = cli_open_ahead_take(&v->ahead, path, flags, &p->rc);
	if (next && v->filter.jobs > 1 && !v->metrics)
		cli_open_ahead_start(&v->ahead, next, flags);

	v->path = path;
	if (!p->r)
		return;
	ttlog_reader *r = p->r;
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	/* Only these errors leave file details worth showing. */
	p->described = info && (p->rc == TTLOG_OK || p->rc == TTLOG_E_TRUNCATED ||
				p->rc == TTLOG_E_CORRUPT);
	if (!cli_filter_file_wanted(&v->filter, r)) /* --service */
		return;
	p->wanted = 1;
	cli_filter_begin_file(&v->filter, r);
	render_event_cache_reset(&v->cache); /* the last file's sites are gone */
	v->cache.service = info ? info->service : NULL;
	cli_render_pool_new_file(v->pool); /* idle: the last file was flushed */

	if (v->header && p->described)
		print_header(v, r, info);

	if (v->metrics)
		cli_metrics_print(r, v->json,
				  v->json ? RENDER_TIME_ISO : v->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL);
	/* A trigger's snapshot: a line among the events where the rule fired
	 * (text mode; JSON has the header's note). */
	int mark = p->described && !v->json && !v->metrics && info->trigger_rule &&
		   *info->trigger_rule;
	print_events(v, r, info, mark, !v->metrics);
}

/*
 * One part of a file cut into parts (cli/file_parts.h), on a worker: the
 * events of the part's range through the worker's reader of the file, and
 * the trigger's mark if the part's range holds the rule's time (the mark
 * then comes where printing the whole file puts it). The file's details,
 * summaries and status are its end's (file_end()).
 */
static void view_part_events(struct view *v, const char *path, const struct cli_file_part *part)
{
	ttlog_reader *r = part->r;
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	v->path = path;
	cli_filter_begin_part(&v->filter, r);
	cli_filter_push_thread(&v->filter, r);
	int read = cli_file_part_begin(part, v->filter.since_ns, v->filter.until_ns,
				       cli_filter_levels(&v->filter));
	render_event_cache_reset(&v->cache); /* another reader's sites */
	v->cache.service = info->service;
	int mark = !v->json && info->trigger_rule && *info->trigger_rule &&
		   info->trigger_ns >= part->since && info->trigger_ns <= part->until;
	print_events(v, r, info, mark, read);
}

/*
 * The rest of printing the file path, after view_file_events(): what the
 * open found, the summaries after the events (crash, stacks, losses,
 * sampling) and the reader's status; closes the file. On the calling
 * thread: stacks are symbolised by one cli_backtrace.
 */
static int view_file_end(struct view *v, const char *path, struct view_part *p)
{
	ttlog_reader *r = p->r;
	p->r = NULL;
	v->path = path;
	if (!r) {
		cli_sync_stdout();
		fprintf(stderr, "ttlog: %s: %s\n", path, ttlog_strerror(p->rc));
		return CLI_EXIT_DATA;
	}
	if (!p->wanted || cli_stdout_failed()) {
		/* Not this --service's; or nobody reads the output any more (or
		 * it cannot be written): stop quietly, main() decides what to say. */
		ttlog_reader_close(r);
		return CLI_EXIT_OK;
	}
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	if (p->described && v->sampling)
		print_sampling(v, r);
	if (p->described)
		print_summaries(v, r, info);

	int status = cli_report_reader_status(r, path, "ttlog");
	ttlog_reader_close(r);
	return status;
}

/* Prints the file path, after whatever came before it; next as for
 * view_file_events(). */
static int view_file(struct view *v, const char *path, const char *next)
{
	struct view_part p;
	view_file_events(v, path, next, &p);
	return view_file_end(v, path, &p);
}

/* ---- A list of files on --jobs threads ---------------------------------- */

/* A job (cli_file_job_fn), on the worker's own view: a file's first part
 * of printing it, or one part of a file cut into parts. */
static void file_job(void *arg, unsigned worker, size_t job, struct cli_job_out *out)
{
	struct view *v = arg;
	struct view *w = &v->workers[worker];
	struct cli_file_part part;
	cli_file_parts_take(v->fparts, job, worker, &part);
	w->out = out;
	if (part.kind == CLI_PART_WHOLE) {
		view_file_events(w, v->files[part.file], NULL, &v->parts[part.file]);
	} else if (part.kind == CLI_PART_RANGE) {
		view_part_events(w, v->files[part.file], &part);
		cli_file_part_end(v->fparts, &part, worker);
	}
	w->out = NULL;
}

/* A job's end (cli_file_end_fn), once its output is written: after a
 * file's last part, the file's end. */
static int file_end(void *arg, size_t job)
{
	struct view *v = arg;
	if (!cli_file_parts_last(v->fparts, job))
		return CLI_EXIT_OK;
	size_t file = cli_file_parts_file(v->fparts, job);
	struct view_part *p = &v->parts[file];
	ttlog_reader *r;
	int rc;
	if (cli_file_parts_end_file(v->fparts, file, &r, &rc))
		*p = (struct view_part){.r = r, .rc = rc, .wanted = 1, .described = r != NULL};
	return view_file_end(v, v->files[file], p);
}

/* A worker's view: v's options, buffers of its own, and a filter whose
 * --thread matches are its own (cli_filter_worker()). */
static void worker_view(struct view *w, const struct view *v)
{
	*w = (struct view){0};
	cli_filter_worker(&w->filter, &v->filter);
	w->json = v->json;
	w->utc = v->utc;
	w->color = v->color;
	w->header = v->header;
	w->sampling = v->sampling;
	w->spans = v->spans;
	w->style = v->style;
	w->cache.big_as_string = v->cache.big_as_string;
}

static void worker_view_free(struct view *w, struct view *v)
{
	cli_filter_worker_end(&w->filter, &v->filter);
	render_buf_free(&w->line);
	render_message_free(&w->msg);
	render_buf_free(&w->events);
	render_event_cache_free(&w->cache);
}

/* The views of n workers of v (worker_view()), in v->workers. */
static void workers_start(struct view *v, unsigned n)
{
	v->workers = render_xrealloc(NULL, n * sizeof *v->workers);
	for (unsigned i = 0; i < n; i++)
		worker_view(&v->workers[i], v);
}

/* Frees what workers_start() made; their --thread matches go back into
 * v's filter. */
static void workers_end(struct view *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		worker_view_free(&v->workers[i], v);
	free(v->workers);
	v->workers = NULL;
}

/*
 * The files, n of them, with --jobs N > 1: each file's events made by
 * jobs (file_job()), one per part of the file where it is cut into parts
 * (cli/file_parts.h), else one for the file, written here in the order of
 * the list, each file's end done here after them. Returns the highest exit
 * status, or -1 if no thread could be started or the one file given is not
 * cut (the caller prints the files one by one).
 */
static int view_files_jobs(struct view *v, char **files, int n)
{
	/* Files are cut into parts unless something shown depends on the
	 * whole file read at once: its details before the events (counts,
	 * times), or times counted from its last event. */
	unsigned nparts = v->header || cli_filter_times_relative(&v->filter) ? 1 : CLI_FILE_PARTS;
	size_t njobs = (size_t)n * nparts;
	unsigned nworkers = v->filter.jobs < njobs ? v->filter.jobs : (unsigned)njobs;
	v->fparts = cli_file_parts_new(files, (size_t)n, nworkers, nparts, v->filter.service);
	if (!v->fparts)
		return -1;
	if (n == 1 && !cli_file_parts_probe(v->fparts, 0)) {
		/* One file that is not cut: the threads of the reader's open and
		 * of the render pool do better. Its bytes are not read again. */
		int rc;
		ttlog_reader *r = cli_file_parts_reopen(v->fparts, 0,
							cli_filter_reader_flags(&v->filter), &rc);
		if (r)
			cli_open_ahead_give(&v->ahead, files[0], r, rc);
		cli_file_parts_free(v->fparts);
		v->fparts = NULL;
		return -1;
	}
	v->files = files;
	v->parts = render_xrealloc(NULL, (size_t)n * sizeof *v->parts);
	memset(v->parts, 0, (size_t)n * sizeof *v->parts);
	workers_start(v, nworkers);
	int status = cli_file_jobs_run(nworkers, njobs, v->filter.jobs_memory, file_job, file_end,
				       v);
	for (int i = 0; i < n; i++) /* files opened but not ended: the output stopped */
		ttlog_reader_close(v->parts[i].r);
	cli_file_parts_free(v->fparts);
	v->fparts = NULL;
	workers_end(v, nworkers);
	free(v->parts);
	v->parts = NULL;
	v->files = NULL;
	return status;
}

/* ---- A store ------------------------------------------------------------ */

static void start_workers(struct view *v);

/* The events of store s (the whole store, or a part on a worker). */
static void show_store_events(struct view *v, ttlog_store *s)
{
	render_event_cache_reset(&v->cache); /* another store's sites */
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	v->stopped = output_failed(v);
	while (!v->stopped && ttlog_store_next(s, &ev, &from)) {
		v->cache.service = ttlog_reader_info(from->reader)->service;
		show_event(v, &ev);
	}
	flush_events(v);
}

/* A job of a store cut into parts, on the worker's own view: the events
 * of part `job` through a store of its own. */
static void store_part_job(void *arg, unsigned worker, size_t job, struct cli_job_out *out)
{
	struct view *v = arg;
	struct view *w = &v->workers[worker];
	ttlog_store *p = cli_store_parts_open(&v->sparts, job);
	if (!p)
		return;
	w->out = out;
	w->path = v->path;
	show_store_events(w, p);
	w->out = NULL;
	cli_store_parts_end(&v->sparts, job, p);
}

/*
 * The store s with --jobs N > 1: cut into parts by time, each part's
 * events read and made on a worker (store_part_job()), written here in
 * time order: byte for byte one thread's output. Returns CLI_EXIT_OK, or
 * -1 if s is not cut (see cli_store_parts_cut()) or no thread could be
 * started: it is then to be read on this thread, from its first event.
 */
static int view_store_jobs(struct view *v, ttlog_store *s)
{
	if (v->metrics)
		return -1;
	size_t njobs = cli_store_parts_cut(&v->sparts, s, v->filter.jobs);
	if (!njobs)
		return -1;
	unsigned nworkers = v->filter.jobs < njobs ? v->filter.jobs : (unsigned)njobs;
	workers_start(v, nworkers);
	int status = cli_file_jobs_run(nworkers, njobs, v->filter.jobs_memory, store_part_job,
				       NULL, v);
	workers_end(v, nworkers);
	return status < 0 ? -1 : CLI_EXIT_OK;
}

/* The file info of a store file that was read, else NULL. */
static const struct ttlog_file_info *read_info(const struct ttlog_store_file *f)
{
	return f->reader ? ttlog_reader_info(f->reader) : NULL;
}

/* A segment without END when its stream has a later segment: the stream
 * ends a segment before it begins the next, so this one's end is missing
 * (a copy or a truncation cut it, or a write failed), and the records
 * after its last whole chunk are not in the store. Said, not counted: how
 * many there were is not known. */
static void note_cut_segments(struct view *v, const struct ttlog_store_file *const *files,
			      size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		const struct ttlog_file_info *fi = read_info(files[i]);
		if (!fi || !fi->is_segment || fi->complete)
			continue;
		for (size_t j = 0; j < nf; j++) {
			const struct ttlog_file_info *g = read_info(files[j]);
			if (g && g->is_segment && g->pid == fi->pid &&
			    g->stream_start_ns == fi->stream_start_ns && g->segment > fi->segment &&
			    strcmp(g->service, fi->service) == 0) {
				note(v, COLOR_LOST,
				     "%s: segment %" PRIu64 " has no END, though segment %" PRIu64
				     " of its stream follows: its end is missing (cut by a copy or "
				     "a truncation, or a failed write), and so are the records "
				     "after its last whole chunk",
				     files[i]->path, fi->segment, g->segment);
				break;
			}
		}
	}
}

/* All the arguments as one store: events of every file in time order (on
 * --jobs threads where the store can be cut), then what was lost over the
 * files, then each file's problem. */
static int view_store(struct view *v, char **args, int n)
{
	ttlog_store *s = cli_store_open(&v->filter, args, n, "ttlog", INT64_MIN);
	if (!s)
		return CLI_EXIT_DATA;
	v->path = args[0];
	if (view_store_jobs(v, s) < 0) {
		start_workers(v);
		show_store_events(v, s);
	}
	if (cli_stdout_failed()) {
		cli_store_parts_free(&v->sparts);
		ttlog_store_close(s);
		return CLI_EXIT_OK;
	}
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(s, &files);
	uint64_t lost = 0, overwritten = 0, filtered = 0, trace_left = 0;
	size_t trace_files = 0, processes = 0;
	const struct ttlog_file_info *traced = NULL;
	for (size_t i = 0; i < nf; i++) {
		if (!files[i]->reader)
			continue;
		const struct ttlog_file_info *ti = ttlog_reader_info(files[i]->reader);
		processes++;
		if (ti->trace_filtered) {
			trace_files++;
			trace_left += ti->trace_left_events;
			traced = ti;
		}
		/* --sampling: each file's table after the events of all. */
		if (v->sampling)
			print_sampling(v, files[i]->reader);
		const struct ttlog_file_info *fi = ttlog_reader_info(files[i]->reader);
		lost += fi->stream_lost + fi->torn;
		/* A ring overwrites what a stream has already written: only a
		 * snapshot's overwritten records are missing from the store. */
		if (!fi->is_segment)
			overwritten += fi->overwritten;
		filtered += fi->filtered;
	}
	for (size_t i = 0; i < nf; i++) {
		const struct ttlog_reader_counters *rc =
			files[i]->reader ? ttlog_reader_counters(files[i]->reader) : NULL;
		if (rc && rc->chunks_unknown)
			note(v, COLOR_LOST,
			     "%s: skipped chunks of types this ttlog does not know: %" PRIu64
			     " (the first, %s, at byte %" PRIu64 "); written by a newer ttlog, "
			     "or damaged",
			     files[i]->path, rc->chunks_unknown, rc->chunk_unknown_type,
			     rc->chunk_unknown_offset);
	}
	note_cut_segments(v, files, nf);
	struct ttlog_store_counters c = ttlog_store_counters(s);
	if (traced)
		note(v, COLOR_LOST, "trace %016" PRIx64 "%016" PRIx64 " only (%zu of %zu "
			 "snapshots): %" PRIu64 " events of other requests (or of none) left out "
			 "by the trace filter",
		     traced->trace_hi, traced->trace_lo, trace_files, processes, trace_left);
	if (lost)
		note(v, COLOR_LOST, "%" PRIu64 " events lost by the stream or torn while copied "
			 "(ttlog stats)", lost);
	if (overwritten && !lost)
		note(v, COLOR_LOST, "%" PRIu64 " events overwritten in the rings before they "
			 "were written", overwritten);
	(void)filtered; /* below the stream's level: not lost, left in the rings */
	if (c.files_skipped && v->header)
		note(v, "", "%" PRIu64 " of %" PRIu64 " files left unread (outside the time "
			 "range or another service)", c.files_skipped, c.files);
	int status = cli_store_report(s, "ttlog");
	int parts = cli_store_parts_report(&v->sparts, "ttlog");
	cli_store_parts_free(&v->sparts);
	ttlog_store_close(s);
	return parts > status ? parts : status;
}

/* ---- Options ------------------------------------------------------------ */

enum {
	OPT_UTC = 256, /* long options without a short form */
	OPT_COLOR,
	OPT_HEADER,
	OPT_NO_SPANS,
	OPT_SAMPLING,
	OPT_JSON_BIG,
	OPT_METRICS,
	OPT_REGISTERS,
	OPT_MODULES,
	OPT_NO_SYMBOLS,
	OPT_DEBUG_DIR,
};

/* ':' first: a missing argument is reported as ':' rather than '?'. */
#define SHORT_OPTIONS ":ho:" CLI_FILTER_SHORT_OPTIONS

static const struct option long_options[] = {
	CLI_FILTER_LONG_OPTIONS,
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"color", optional_argument, NULL, OPT_COLOR},
	{"header", no_argument, NULL, OPT_HEADER},
	{"no-spans", no_argument, NULL, OPT_NO_SPANS},
	{"sampling", no_argument, NULL, OPT_SAMPLING},
	{"json-big-as-string", no_argument, NULL, OPT_JSON_BIG},
	{"metrics", no_argument, NULL, OPT_METRICS},
	{"registers", no_argument, NULL, OPT_REGISTERS},
	{"modules", no_argument, NULL, OPT_MODULES},
	{"no-symbols", no_argument, NULL, OPT_NO_SYMBOLS},
	{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* --jobs N > 1 with -o json: N threads render the events (not with --grep,
 * which needs the message where the filters run). Not for text: handing
 * each event to another core cost the reading thread more than a text
 * line costs to make (docs/PERFORMANCE.md, "Reader: lines made on both
 * cores"). Each event goes with its file's service, which a store's
 * events change. Without the threads, or when
 * they cannot be had, the events are rendered on this thread: the same
 * bytes. A store's files stay open (their sites and threads with them)
 * until it is closed, after the last drain. */
static void start_workers(struct view *v)
{
	if (v->filter.jobs >= 2 && v->json && !v->filter.ngreps && !v->metrics)
		v->pool = cli_render_pool_start(v->filter.jobs, v->cache.big_as_string, stdout);
}

static void view_free(struct view *v)
{
	cli_open_ahead_cancel(&v->ahead);
	cli_render_pool_stop(v->pool);
	cli_filter_free(&v->filter);
	render_buf_free(&v->line);
	render_message_free(&v->msg);
	render_buf_free(&v->events);
	render_event_cache_free(&v->cache);
	cli_backtrace_free(&v->bt);
}

/* Parses the options into *v; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct view *v, int argc, char **argv, int *status)
{
	int color_mode = -1; /* -1 auto, 0 never, 1 always */
	char err[512];
	int c;

	cli_filter_init(&v->filter, argc);
	v->spans = 1;

	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		int handled = cli_filter_option(&v->filter, c, optarg, err, sizeof err);
		if (handled < 0) {
			*status = cli_report_usage_error("view", "%s", err);
			return -1;
		}
		if (handled)
			continue;
		switch (c) {
		case 'h':
			cli_view_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'o':
			if (strcmp(optarg, "text") == 0) {
				v->json = 0;
			} else if (strcmp(optarg, "json") == 0) {
				v->json = 1;
			} else {
				*status = cli_report_usage_error("view", "unknown output format '%s' (use text or json)",
						      optarg);
				return -1;
			}
			break;
		case OPT_UTC:
			v->utc = 1;
			break;
		case OPT_COLOR:
			if (!optarg || strcmp(optarg, "always") == 0) {
				color_mode = 1;
			} else if (strcmp(optarg, "never") == 0) {
				color_mode = 0;
			} else if (strcmp(optarg, "auto") == 0) {
				color_mode = -1;
			} else {
				*status = cli_report_usage_error("view", "bad value '%s' for --color (use auto, always "
						      "or never)",
						      optarg);
				return -1;
			}
			break;
		case OPT_HEADER:
			v->header = 1;
			break;
		case OPT_NO_SPANS:
			v->spans = 0;
			break;
		case OPT_JSON_BIG:
			v->cache.big_as_string = 1;
			break;
		case OPT_SAMPLING:
			v->sampling = 1;
			break;
		case OPT_METRICS:
			v->metrics = 1;
			break;
		case OPT_REGISTERS:
			v->bt.registers = 1;
			break;
		case OPT_MODULES:
			v->bt.modules = 1;
			break;
		case OPT_NO_SYMBOLS:
			v->bt.no_symbols = 1;
			break;
		case OPT_DEBUG_DIR:
			if (!*optarg) {
				*status = cli_report_usage_error("view", "--debug-dir needs a directory");
				return -1;
			}
			v->bt.debug_dirs = render_xrealloc(v->bt.debug_dirs,
							   (v->bt.ndebug_dirs + 1) * sizeof *v->bt.debug_dirs);
			v->bt.debug_dirs[v->bt.ndebug_dirs++] = optarg;
			break;
		default:
			*status = cli_report_bad_option("view", c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	if (cli_filter_finish(&v->filter, err, sizeof err) != 0) {
		*status = cli_report_usage_error("view", "%s", err);
		return -1;
	}
	v->filter.utc = v->utc;
	v->filter.logs_only = !v->spans;
	if (v->cache.big_as_string && !v->json) {
		*status = cli_report_usage_error("view", "--json-big-as-string is for -o json only");
		return -1;
	}
	if (color_mode < 0) {
		const char *no_color = getenv("NO_COLOR");
		color_mode = !v->json && isatty(STDOUT_FILENO) && !(no_color && *no_color);
	}
	/* JSON lines are never coloured. */
	v->color = color_mode && !v->json;
	render_line_style_init(&v->style, v->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL, v->color,
			       v->spans);
	v->bt.json = v->json;
	v->bt.symbols_note = symbols_note;
	v->bt.note_arg = v;
	return 0;
}

int cli_view_main(int argc, char **argv)
{
	struct view v = {0};
	int status = CLI_EXIT_OK;

	int parsed = parse_options(&v, argc, argv, &status) == 0;
	char **args = argv + optind, *newest[1], path[8192];
	int nargs = argc - optind;
	if (parsed && nargs == 0) {
		if (cli_default_snapshot("view", path, sizeof path) != 0) {
			status = CLI_EXIT_USAGE;
			parsed = 0;
		}
		newest[0] = path;
		args = newest;
		nargs = 1;
	}
	if (parsed && (status = cli_store_check_service("ttlog view", args, nargs, v.filter.service)) !=
			      CLI_EXIT_OK)
		parsed = 0;
	if (parsed && !v.metrics && cli_store_args(args, nargs)) {
		status = view_store(&v, args, nargs);
	} else if (parsed) {
		/* --metrics of a directory: each of its files. */
		char **files;
		int bad = 0;
		int n = cli_store_expand(args, nargs, "ttlog", &files, &bad);
		if (bad)
			status = CLI_EXIT_DATA;
		int done = 0;
		if (n >= 1 && v.filter.jobs > 1 && !v.metrics) {
			int st = view_files_jobs(&v, files, n);
			done = st >= 0;
			if (st > status)
				status = st;
		}
		if (!done)
			start_workers(&v);
		for (int i = 0; !done && i < n && !cli_stdout_failed(); i++) {
			int st = view_file(&v, files[i], i + 1 < n ? files[i + 1] : NULL);
			if (st > status)
				status = st;
		}
		/* A file may still be opening (the output stopped early): it has
		 * its name from the list. */
		cli_open_ahead_cancel(&v.ahead);
		cli_store_free_list(files, n);
	}
	if (parsed && status == CLI_EXIT_OK && !v.metrics && !cli_stdout_failed())
		status = cli_filter_report_threads(&v.filter, "view");
	view_free(&v);
	return status;
}
