/*
 * view.c - `ttlog view`: prints the events of snapshot files, as text lines
 * or JSON lines, filtered by level, time, thread and message, then what the
 * file says about a crash, about events that were lost, and about events
 * that sampling rules left out.
 *
 * Files are handled one after the other, in the order given, each with its
 * own reader: a damaged file prints every event that survived, then the
 * reader's error, and the next file is read all the same.
 */
#include <getopt.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fields.h"
#include "json.h"
#include "metrics.h"
#include "sigcode.h"
#include "timefmt.h"
#include "ttlog_reader.h"

/* The message buffer grows to at least this size; a message that does not
 * fit even then is cut and marked (see format_message). */
#define MAX_MESSAGE (16u << 20)
#define CUT_MARK "[...]"
#define MAX_INDENT 64u     /* deeper spans are indented as deep as this */

/* SGR colour sequences per level, TRACE..FATAL; "" leaves the line alone. */
static const char *const level_colors[] = {
	"\033[2m",    /* TRACE: dim */
	"",           /* DEBUG */
	"",           /* INFO */
	"\033[33m",   /* WARN: yellow */
	"\033[31m",   /* ERROR: red */
	"\033[1;31m", /* FATAL: bold red */
};
_Static_assert(sizeof level_colors / sizeof level_colors[0] == TTLOG_LEVEL_FATAL + 1,
	       "one colour per level");
#define COLOR_CRASH "\033[1;31m"
#define COLOR_LOST "\033[33m"
#define COLOR_RESET "\033[0m"

/* Indexed by the clock field of the file (TTLOG_FMT_CLOCK_* in the format). */
static const char *const clock_names[] = {"tsc", "cntvct", "monotonic", "fake"};
#define NCLOCKS ((int)(sizeof clock_names / sizeof clock_names[0]))

/* One --thread argument. */
struct thread_filter {
	const char *name; /* the argument, compared with thread names */
	int is_tid;       /* the argument is also a decimal thread id: */
	uint32_t tid;
};

struct view {
	/* Options. */
	int min_level; /* -1: no level filter */
	struct cli_time since, until;
	int have_last;
	int64_t last_ns;
	regex_t *greps;
	size_t ngreps;
	struct thread_filter *threads;
	size_t nthreads;
	struct cli_field_filter *fields;
	size_t nfields;
	int json, utc, color, header, sampling;
	int metrics;                 /* --metrics: the file's metrics instead of its events */
	int spans;                   /* show span begins and ends, indented (default) */
	int have_trace;              /* --trace: only events of this trace */
	uint64_t trace_hi, trace_lo;

	/* The file being printed. */
	const char *path;
	int64_t since_ns, until_ns; /* --since/--until/--last resolved for it */

	struct cli_buf line; /* the output line being built */
	struct cli_buf msg;  /* the current event's formatted message */
};

void cli_view_usage(FILE *out)
{
	fputs("Usage: ttlog view [OPTIONS] FILE...\n"
	      "\n"
	      "Prints the events of ttlog snapshot files, one line per event: the files in\n"
	      "the order given, the events of each file in time order. After a file's\n"
	      "events come its crash summary and, when events were lost or sampled out\n"
	      "(ttlog_set_sampling, TTLOG_SAMPLE), how many.\n"
	      "\n"
	      "Filters (an event is printed if it passes all of them):\n"
	      "  -l, --level LEVEL     events at LEVEL or above: trace, debug, info, warn,\n"
	      "                        error, fatal\n"
	      "      --since T         events at time T or later\n"
	      "      --until T         events at time T or earlier\n"
	      "      --last DURATION   the last DURATION of the file (--since -DURATION)\n"
	      "  -g, --grep REGEX      events whose message matches the POSIX extended\n"
	      "                        regular expression REGEX (repeatable: all must match)\n"
	      "  -t, --thread ID|NAME  events of the thread with this id or exact name\n"
	      "                        (repeatable: any may match)\n"
	      "  -f, --field KEY=VALUE events with field KEY equal to VALUE (numbers compare\n"
	      "                        as numbers, booleans as true/false); also KEY!=VALUE,\n"
	      "                        and KEY<N, KEY<=N, KEY>N, KEY>=N for numeric fields\n"
	      "                        (repeatable: all must match)\n"
	      "      --trace ID        events of the trace ID (32 hex digits, or a whole\n"
	      "                        traceparent) on every thread: its spans' begins and\n"
	      "                        ends and the events inside them\n"
	      "\n"
	      "Output:\n"
	      "  -o, --output FORMAT   text (the default) or json: one JSON object per event\n"
	      "                        and line, summaries and errors on stderr\n"
	      "      --utc             show and read times in UTC instead of local time\n"
	      "      --color[=WHEN]    colour lines by level: auto (the default: when stdout\n"
	      "                        is a terminal and NO_COLOR is unset or empty), always\n"
	      "                        or never\n"
	      "      --header          print each file's details before its events\n"
	      "      --no-spans        leave out span begins and ends, and do not indent\n"
	      "      --sampling        after a file's events, one line per sampled call site:\n"
	      "                        its rule (1/N, K/s), calls kept and dropped\n"
	      "      --metrics         print the file's metrics instead of its events: tables\n"
	      "                        of counters, gauges (value, time set) and histograms\n"
	      "                        (count, sum, min, max, p50, p90, p99, p99.9), then\n"
	      "                        ttlog's own; with -o json one object per metric and\n"
	      "                        line (name, type, labels, self, file, line, and value,\n"
	      "                        time or count, sum, min, max, p50..p999, buckets)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Times (T), in local time unless --utc is given or the time ends in Z:\n"
	      "  YYYY-MM-DD HH:MM[:SS[.F]]   a date and a time; T may replace the space\n"
	      "  HH:MM[:SS[.F]]              a time on the date of the file's last event\n"
	      "  -DURATION                   DURATION before the file's last event\n"
	      "  F is a fraction of a second, 1 to 9 digits. Examples: 08:15:00.25,\n"
	      "  '2026-01-31 08:15:00', 2026-01-31T08:15:00Z, -2s.\n"
	      "\n"
	      "Durations: a number and a unit (ns, us, ms, s, m, h), fractions allowed,\n"
	      "  parts may be combined: 500ms, 1.5s, 1h30m.\n"
	      "\n"
	      "Fields: a conversion right after \"key=\" in a format (\"user=%u\") is the\n"
	      "  field `key`; TTLOG_F(\"key\", value) adds a field that is not in the message.\n"
	      "\n"
	      "Spans: a span's begin prints \"begin NAME\" (with trace=ID for a span that\n"
	      "  has no parent on its thread) and its end \"end NAME DURATION\"; events are\n"
	      "  indented by two spaces per span open on their thread.\n"
	      "\n"
	      "Text lines: TIME LEVEL [TID NAME] FILE:LINE MESSAGE key=value... with the\n"
	      "  TTLOG_F() fields after the message (the others are in it already); strings\n"
	      "  that are not plain words are quoted. Control characters in the message are\n"
	      "  shown as \\xNN, so that one event is one line.\n"
	      "JSON lines: fields time (UTC), time_ns, level, tid, thread, file, line,\n"
	      "  function, target, site, message, args, fields (an object of every field,\n"
	      "  typed like args), kind (log, span_begin, span_end); inside a span also\n"
	      "  trace_id and span_id, and for span begins and ends span_name,\n"
	      "  parent_span_id (null for a root) and, for ends, duration_ns (null if the\n"
	      "  begin is not in the file). Arguments are typed: numbers,\n"
	      "  true/false, strings (null for a NULL string), pointers as \"0x...\" and\n"
	      "  NaN or infinities as \"nan\", \"inf\", \"-inf\". Strings are valid JSON for any\n"
	      "  bytes: bytes that are not valid UTF-8 become U+FFFD.\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read completely\n"
	      "(its valid events are printed first) or the output could not be written.\n",
	      out);
}

static int usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *format, ...)
{
	va_list ap;

	cli_sync_stdout();
	fputs("ttlog view: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputs("\nRun 'ttlog view --help' for usage.\n", stderr);
	return CLI_EXIT_USAGE;
}

static const char *base_name(const char *path)
{
	if (!path)
		return "?";
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Appends text with control characters (except tab) shown as \xNN. */
static void put_text(struct cli_buf *b, const char *s, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			continue;
		cli_buf_put(b, s + run, i - run);
		cli_buf_printf(b, "\\x%02x", c);
		run = i + 1;
	}
	cli_buf_put(b, s + run, len - run);
}

static void put_text_cstring(struct cli_buf *b, const char *s)
{
	if (s)
		put_text(b, s, strlen(s));
}

static int event_level(const struct ttlog_event *ev)
{
	return ev->site ? ev->site->level : -1;
}

/* ---- Notes: file details and summaries ------------------------------------
 * In text mode a note is a "-- " line on stdout (details before a file's
 * events, summaries after them); in JSON mode it goes to stderr as
 * "ttlog: FILE: ...", so that stdout stays pure JSON lines. */

static void note_begin(struct view *v, const char *color)
{
	cli_buf_reset(&v->line);
	if (v->json) {
		cli_buf_puts(&v->line, "ttlog: ");
		put_text_cstring(&v->line, v->path);
		cli_buf_puts(&v->line, ": ");
	} else {
		if (v->color)
			cli_buf_puts(&v->line, color);
		cli_buf_puts(&v->line, "-- ");
	}
}

static void note_end(struct view *v, const char *color)
{
	if (!v->json && v->color && *color)
		cli_buf_puts(&v->line, COLOR_RESET);
	cli_buf_putc(&v->line, '\n');
	if (v->json) {
		cli_sync_stdout();
		cli_buf_write(&v->line, stderr);
	} else {
		cli_buf_write(&v->line, stdout);
	}
}

static void note(struct view *v, const char *color, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct view *v, const char *color, const char *format, ...)
{
	va_list ap;

	note_begin(v, color);
	va_start(ap, format);
	cli_buf_vprintf(&v->line, format, ap);
	va_end(ap);
	note_end(v, color);
}

/* A note made of a label and a string from the file, shown safely. */
static void note_string(struct view *v, const char *label, const char *value)
{
	note_begin(v, "");
	cli_buf_puts(&v->line, label);
	put_text_cstring(&v->line, value);
	note_end(v, "");
}

static void print_header(struct view *v, ttlog_reader *r, const struct ttlog_file_info *info)
{
	char t1[CLI_TIME_BUF], t2[CLI_TIME_BUF];
	enum cli_time_style style = v->json ? CLI_TIME_ISO : v->utc ? CLI_TIME_UTC : CLI_TIME_LOCAL;
	size_t nthreads = ttlog_reader_thread_count(r);
	unsigned wv = info->writer_version;

	if (!v->json) /* JSON-mode notes name the file already */
		note_string(v, "file: ", info->path ? info->path : v->path);
	note_begin(v, "");
	cli_buf_printf(&v->line, "pid %" PRIu32 ", executable ", info->pid);
	put_text_cstring(&v->line, info->executable);
	cli_buf_puts(&v->line, ", host ");
	put_text_cstring(&v->line, info->hostname);
	note_end(v, "");
	note_string(v, "reason: ", info->reason);
	note(v, "", "created: %s", cli_time_format(info->created_ns, style, t1));
	note(v, "", "written by ttlog %u.%u.%u, format %u, clock %s%s", wv / 10000, wv / 100 % 100,
	     wv % 100, info->format_version,
	     info->clock >= 0 && info->clock < NCLOCKS ? clock_names[info->clock] : "unknown",
	     info->complete ? "" : ", incomplete");
	if (info->events)
		note(v, "", "events: %" PRIu64 " in %zu thread%s, from %s to %s", info->events,
		     nthreads, nthreads == 1 ? "" : "s", cli_time_format(info->first_ns, style, t1),
		     cli_time_format(info->last_ns, style, t2));
	else
		note(v, "", "events: none, %zu threads", nthreads);
	for (size_t i = 0; i < nthreads; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (!t)
			continue;
		note_begin(v, "");
		cli_buf_printf(&v->line, "thread %" PRIu32, t->tid);
		if (t->name && *t->name) {
			cli_buf_putc(&v->line, ' ');
			put_text_cstring(&v->line, t->name);
		}
		cli_buf_printf(&v->line, ": %" PRIu64 " event%s", t->events, t->events == 1 ? "" : "s");
		if (t->overwritten || t->torn)
			cli_buf_printf(&v->line, ", lost %" PRIu64 " overwritten, %" PRIu64 " torn",
				       t->overwritten, t->torn);
		if (t->exited)
			cli_buf_puts(&v->line, ", exited");
		if (t->crashed)
			cli_buf_puts(&v->line, ", crashed");
		note_end(v, "");
	}
}

static const struct ttlog_thread_info *find_thread(ttlog_reader *r, uint32_t index, uint32_t tid)
{
	size_t n = ttlog_reader_thread_count(r);

	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->index == index)
			return t;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->tid == tid)
			return t;
	}
	return NULL;
}

static void print_summaries(struct view *v, ttlog_reader *r, const struct ttlog_file_info *info)
{
	if (info->crashed) {
		int signo = info->crash.signo, code = info->crash.code;
		const char *signame = info->crash.signal_name;
		const char *what, *codename = cli_sigcode_name(signo, code, &what);

		if (!signame || !*signame)
			signame = cli_signal_name(signo);
		note_begin(v, COLOR_CRASH);
		cli_buf_puts(&v->line, "crash: ");
		if (signame)
			put_text_cstring(&v->line, signame);
		else
			cli_buf_printf(&v->line, "signal %d", signo);
		if (codename)
			cli_buf_printf(&v->line, " (%s: %s)", codename, what);
		else
			cli_buf_printf(&v->line, " (code %d)", code);
		if (cli_sigcode_has_address(signo, code))
			cli_buf_printf(&v->line, " at address 0x%" PRIx64, info->crash.address);
		cli_buf_printf(&v->line, " in thread %" PRIu32, info->crash.tid);
		const struct ttlog_thread_info *t =
			find_thread(r, info->crash.thread_index, info->crash.tid);
		if (t && t->name && *t->name) {
			cli_buf_puts(&v->line, " (");
			put_text_cstring(&v->line, t->name);
			cli_buf_putc(&v->line, ')');
		}
		note_end(v, COLOR_CRASH);

		note_begin(v, COLOR_CRASH);
		cli_buf_puts(&v->line, "reason: ");
		put_text_cstring(&v->line, info->reason);
		note_end(v, COLOR_CRASH);
	}
	/* Nothing is lost silently: any loss is reported, filters or not. */
	if (info->overwritten || info->torn || info->torn_bytes || info->dropped)
		note(v, COLOR_LOST,
		     "lost: %" PRIu64 " overwritten, %" PRIu64 " torn (%" PRIu64 " bytes), %" PRIu64
		     " dropped",
		     info->overwritten, info->torn, info->torn_bytes, info->dropped);
	const struct ttlog_sampling_totals *sm = ttlog_reader_sampling_totals(r);
	if (sm && (sm->dropped_sampled || sm->dropped_rate_limited))
		note(v, COLOR_LOST,
		     "sampled out: %" PRIu64 " events (1-in-N: %" PRIu64 ", rate limit: %" PRIu64 ")",
		     sm->dropped_sampled + sm->dropped_rate_limited, sm->dropped_sampled,
		     sm->dropped_rate_limited);
}

/* --sampling: one line per sampled site, "FILE:LINE RULE: kept K, dropped
 * A by 1-in-N, B by the rate limit". */
static void print_sampling(struct view *v, ttlog_reader *r)
{
	size_t n = ttlog_reader_sampling_count(r);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_sampling_site *s = ttlog_reader_sampling_site(r, i);
		if (!s)
			continue;
		note_begin(v, "");
		cli_buf_puts(&v->line, "sampling: ");
		put_text_cstring(&v->line, base_name(s->file));
		cli_buf_printf(&v->line, ":%" PRIu32 " ", s->line);
		if (s->keep_one_in > 1)
			cli_buf_printf(&v->line, "1/%" PRIu32 "%s", s->keep_one_in,
				       s->max_per_second ? "+" : "");
		if (s->max_per_second)
			cli_buf_printf(&v->line, "%" PRIu32 "/s", s->max_per_second);
		if (s->keep_one_in <= 1 && !s->max_per_second)
			cli_buf_puts(&v->line, "no rule now");
		cli_buf_printf(&v->line,
			       ": kept %" PRIu64 ", dropped %" PRIu64 " by 1-in-N, %" PRIu64
			       " by the rate limit",
			       s->kept, s->dropped_sampled, s->dropped_rate_limited);
		note_end(v, "");
	}
}

/* ---- Events ------------------------------------------------------------- */

/* Appends a duration: 850ns, 12.345us, 1.250ms, 3.000s. */
static void put_duration(struct cli_buf *b, int64_t ns)
{
	if (ns < 1000)
		cli_buf_printf(b, "%" PRId64 "ns", ns);
	else if (ns < 1000000)
		cli_buf_printf(b, "%.3fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		cli_buf_printf(b, "%.3fms", (double)ns / 1e6);
	else
		cli_buf_printf(b, "%.3fs", (double)ns / 1e9);
}

/*
 * The message of a span event, from the span's name (in m, formatted like
 * any message): "begin NAME [trace=ID]" or "end NAME DURATION". The trace
 * is shown where a trace enters the thread, so that --trace can be given it.
 */
static void span_message(struct cli_buf *m, const struct ttlog_event *ev)
{
	const struct ttlog_span *sp = ev->span;
	static const char begin[] = "begin ";
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		cli_buf_reserve(m, sizeof begin);
		memmove(m->data + sizeof begin - 1, m->data, m->len + 1);
		memcpy(m->data, begin, sizeof begin - 1);
		m->len += sizeof begin - 1;
		if (sp && sp->depth == 0)
			cli_buf_printf(m, " trace=%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
		return;
	}
	cli_buf_reset(m);
	if (!sp || !*sp->name) {
		cli_buf_printf(m, "end span %016" PRIx64 " (its begin is not in the file)",
			       sp ? sp->id : 0);
		return;
	}
	cli_buf_puts(m, "end ");
	cli_buf_puts(m, sp->name);
	cli_buf_putc(m, ' ');
	if (sp->duration_ns >= 0)
		put_duration(m, sp->duration_ns);
	else
		cli_buf_puts(m, "?");
}

/* Formats the event's message into v->msg, growing it as needed. */
static void format_message(struct view *v, const struct ttlog_event *ev)
{
	struct cli_buf *m = &v->msg;

	cli_buf_reset(m);
	cli_buf_reserve(m, 255);
	size_t n = ttlog_event_format(ev, m->data, m->cap);
	if (n >= m->cap) {
		size_t want = n < MAX_MESSAGE ? n : MAX_MESSAGE;
		cli_buf_reserve(m, want);
		n = ttlog_event_format(ev, m->data, m->cap);
	}
	if (n >= m->cap) {
		/* Longer than MAX_MESSAGE: keep what fits, and say so. */
		m->len = m->cap - 1 - strlen(CUT_MARK);
		memcpy(m->data + m->len, CUT_MARK, strlen(CUT_MARK) + 1);
		n = m->len + strlen(CUT_MARK);
	}
	m->len = n;
	m->data[n] = '\0';
	if (ev->kind != TTLOG_EVENT_LOG)
		span_message(m, ev);
}

static int thread_matches(const struct view *v, const struct ttlog_thread_info *t)
{
	if (!t)
		return 0;
	for (size_t i = 0; i < v->nthreads; i++) {
		const struct thread_filter *f = &v->threads[i];
		if (f->is_tid && f->tid == t->tid)
			return 1;
		if (t->name && strcmp(t->name, f->name) == 0)
			return 1;
	}
	return 0;
}

/* Applies the filters; formats the message into v->msg if it passes the
 * cheap ones. --grep sees the message up to its first NUL byte, if any
 * (a %c of 0), as regexec() does. */
static int keep_event(struct view *v, const struct ttlog_event *ev)
{
	if (v->min_level >= 0 && event_level(ev) < v->min_level)
		return 0;
	if (ev->time_ns < v->since_ns || ev->time_ns > v->until_ns)
		return 0;
	if (v->nthreads && !thread_matches(v, ev->thread))
		return 0;
	if (!v->spans && ev->kind != TTLOG_EVENT_LOG)
		return 0;
	if (v->have_trace && (!ev->span || ev->span->trace_hi != v->trace_hi ||
			      ev->span->trace_lo != v->trace_lo))
		return 0;
	for (size_t i = 0; i < v->nfields; i++)
		if (!cli_field_filter_match(&v->fields[i], ev))
			return 0;
	format_message(v, ev);
	for (size_t i = 0; i < v->ngreps; i++)
		if (regexec(&v->greps[i], v->msg.data, 0, NULL, 0) != 0)
			return 0;
	return 1;
}

/* The call site an event is shown at: a span's end is shown where the span
 * began (its own site is the library's). */
static const struct ttlog_site_info *shown_site(const struct ttlog_event *ev)
{
	if (ev->kind == TTLOG_EVENT_SPAN_END && ev->span && ev->span->site)
		return ev->span->site;
	return ev->site;
}

static void print_text_event(struct view *v, const struct ttlog_event *ev)
{
	struct cli_buf *b = &v->line;
	const struct ttlog_site_info *site = shown_site(ev);
	const struct ttlog_thread_info *thread = ev->thread;
	int level = event_level(ev);
	const char *color = v->color && level >= 0 && level <= TTLOG_LEVEL_FATAL
				    ? level_colors[level]
				    : "";
	char tb[CLI_TIME_BUF];

	cli_buf_reset(b);
	cli_buf_puts(b, color);
	cli_buf_puts(b, cli_time_format(ev->time_ns, v->utc ? CLI_TIME_UTC : CLI_TIME_LOCAL, tb));
	cli_buf_printf(b, " %-5s [%" PRIu32, ttlog_level_name(level), thread ? thread->tid : 0);
	if (thread && thread->name && *thread->name) {
		cli_buf_putc(b, ' ');
		put_text_cstring(b, thread->name);
	}
	cli_buf_puts(b, "] ");
	put_text_cstring(b, base_name(site ? site->file : NULL));
	cli_buf_printf(b, ":%" PRIu32 " ", site ? site->line : 0);
	if (v->spans)
		for (unsigned i = 0; i < ev->depth && i < MAX_INDENT; i++)
			cli_buf_puts(b, "  ");
	put_text(b, v->msg.data, v->msg.len);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		if (f->source == TTLOG_FIELD_FORMAT)
			continue; /* already in the message */
		cli_buf_putc(b, ' ');
		put_text_cstring(b, f->key);
		cli_buf_putc(b, '=');
		cli_field_text(b, f->value); /* quotes anything but plain words */
	}
	if (*color)
		cli_buf_puts(b, COLOR_RESET);
	cli_buf_putc(b, '\n');
	cli_buf_write(b, stdout);
}

/* The span members of a JSON event line. */
static void json_span(struct cli_buf *b, const struct ttlog_event *ev)
{
	static const char *const kinds[] = {"log", "span_begin", "span_end"};
	const struct ttlog_span *sp = ev->span;
	cli_buf_printf(b, ",\"kind\":\"%s\"",
		       ev->kind >= 0 && ev->kind <= TTLOG_EVENT_SPAN_END ? kinds[ev->kind] : "log");
	if (!sp)
		return;
	if (sp->trace_hi | sp->trace_lo)
		cli_buf_printf(b, ",\"trace_id\":\"%016" PRIx64 "%016" PRIx64 "\"", sp->trace_hi,
			       sp->trace_lo);
	else
		cli_buf_puts(b, ",\"trace_id\":null");
	cli_buf_printf(b, ",\"span_id\":\"%016" PRIx64 "\"", sp->id);
	if (ev->kind == TTLOG_EVENT_LOG)
		return;
	cli_buf_puts(b, ",\"span_name\":");
	cli_json_cstring(b, sp->name);
	if (sp->parent)
		cli_buf_printf(b, ",\"parent_span_id\":\"%016" PRIx64 "\"", sp->parent);
	else
		cli_buf_puts(b, ",\"parent_span_id\":null");
	if (ev->kind != TTLOG_EVENT_SPAN_END)
		return;
	if (sp->duration_ns >= 0)
		cli_buf_printf(b, ",\"duration_ns\":%" PRId64, sp->duration_ns);
	else
		cli_buf_puts(b, ",\"duration_ns\":null");
}

static void print_json_event(struct view *v, const struct ttlog_event *ev)
{
	struct cli_buf *b = &v->line;
	const struct ttlog_site_info *site = shown_site(ev);
	const struct ttlog_thread_info *thread = ev->thread;
	char tb[CLI_TIME_BUF];

	cli_buf_reset(b);
	cli_buf_printf(b, "{\"time\":\"%s\",\"time_ns\":%" PRId64 ",\"level\":",
		       cli_time_format(ev->time_ns, CLI_TIME_ISO, tb), ev->time_ns);
	cli_json_cstring(b, ttlog_level_name(event_level(ev)));
	cli_buf_printf(b, ",\"tid\":%" PRIu32 ",\"thread\":", thread ? thread->tid : 0);
	cli_json_cstring(b, thread && thread->name ? thread->name : "");
	cli_buf_puts(b, ",\"file\":");
	cli_json_cstring(b, site ? site->file : NULL);
	cli_buf_printf(b, ",\"line\":%" PRIu32 ",\"function\":", site ? site->line : 0);
	cli_json_cstring(b, site ? site->function : NULL);
	cli_buf_puts(b, ",\"target\":");
	/* A site without a target of its own belongs to its file's base name. */
	if (site && site->target && *site->target)
		cli_json_cstring(b, site->target);
	else
		cli_json_cstring(b, site ? base_name(site->file) : NULL);
	cli_buf_printf(b, ",\"site\":%" PRIu32 ",\"message\":", site ? site->id : 0);
	cli_json_string(b, v->msg.data, v->msg.len);
	cli_buf_puts(b, ",\"args\":[");
	/* A span's ids are its own members, not arguments. */
	unsigned first = ev->kind == TTLOG_EVENT_SPAN_BEGIN ? 4 : ev->kind == TTLOG_EVENT_SPAN_END ? 1 : 0;
	for (unsigned i = first; i < ev->nargs && ev->args; i++) {
		if (i > first)
			cli_buf_putc(b, ',');
		cli_field_json(b, &ev->args[i]);
	}
	cli_buf_puts(b, "],\"fields\":{");
	for (unsigned i = 0; i < ev->nfields; i++) {
		if (i)
			cli_buf_putc(b, ',');
		cli_json_cstring(b, ev->fields[i].key);
		cli_buf_putc(b, ':');
		cli_field_json(b, ev->fields[i].value);
	}
	cli_buf_putc(b, '}');
	json_span(b, ev);
	cli_buf_puts(b, "}\n");
	cli_buf_write(b, stdout);
}

/* ---- Files -------------------------------------------------------------- */

static int view_file(struct view *v, const char *path)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);

	v->path = path;
	if (!r) {
		cli_sync_stdout();
		fprintf(stderr, "ttlog: %s: %s\n", path, ttlog_strerror(rc));
		return CLI_EXIT_DATA;
	}
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	/* Only these errors leave file details worth showing. */
	int described = info && (rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT);

	/* Relative times count back from the last event (per file). */
	int64_t end = info ? (info->events ? info->last_ns : info->created_ns) : 0;
	v->since_ns = INT64_MIN;
	v->until_ns = INT64_MAX;
	if (v->since.kind != CLI_TIME_UNSET)
		v->since_ns = cli_time_resolve(&v->since, end, v->utc);
	if (v->until.kind != CLI_TIME_UNSET)
		v->until_ns = cli_time_resolve(&v->until, end, v->utc);

	if (v->header && described)
		print_header(v, r, info);

	if (v->metrics)
		cli_metrics_print(r, v->json, v->json ? CLI_TIME_ISO : v->utc ? CLI_TIME_UTC : CLI_TIME_LOCAL);
	struct ttlog_event ev;
	while (!v->metrics && !cli_stdout_failed() && ttlog_reader_next(r, &ev)) {
		if (!keep_event(v, &ev))
			continue;
		if (v->json)
			print_json_event(v, &ev);
		else
			print_text_event(v, &ev);
	}
	if (cli_stdout_failed()) {
		/* Nobody reads the output any more (or it cannot be written):
		 * stop quietly, main() decides what to say. */
		ttlog_reader_close(r);
		return CLI_EXIT_OK;
	}
	if (described && v->sampling)
		print_sampling(v, r);
	if (described)
		print_summaries(v, r, info);

	int status = CLI_EXIT_OK;
	int st = ttlog_reader_status(r);
	if (st != TTLOG_OK) {
		const char *error = ttlog_reader_error(r);
		cli_sync_stdout();
		if (error && *error)
			fprintf(stderr, "ttlog: %s\n", error);
		else
			fprintf(stderr, "ttlog: %s: %s\n", path, ttlog_strerror(st));
		status = CLI_EXIT_DATA;
	}
	ttlog_reader_close(r);
	return status;
}

/* ---- Options ------------------------------------------------------------ */

enum {
	OPT_SINCE = 256, /* long options without a short form */
	OPT_UNTIL,
	OPT_LAST,
	OPT_UTC,
	OPT_COLOR,
	OPT_HEADER,
	OPT_TRACE,
	OPT_NO_SPANS,
	OPT_SAMPLING,
	OPT_METRICS,
};

/* ':' first: a missing argument is reported as ':' rather than '?'. */
#define SHORT_OPTIONS ":hl:g:t:f:o:"

static const struct option long_options[] = {
	{"level", required_argument, NULL, 'l'},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"last", required_argument, NULL, OPT_LAST},
	{"grep", required_argument, NULL, 'g'},
	{"thread", required_argument, NULL, 't'},
	{"field", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"color", optional_argument, NULL, OPT_COLOR},
	{"header", no_argument, NULL, OPT_HEADER},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"no-spans", no_argument, NULL, OPT_NO_SPANS},
	{"sampling", no_argument, NULL, OPT_SAMPLING},
	{"metrics", no_argument, NULL, OPT_METRICS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The message for an option getopt_long() refused. */
static int bad_option(int c, char **argv)
{
	/* getopt_long() has moved optind past the word it refused, except
	 * inside a group of short options, where optopt says which one. */
	const char *word = optind > 0 ? argv[optind - 1] : "";

	if (c == ':')
		return usage_error("option '%s' needs an argument", word);
	if (optopt == 0)
		return usage_error("unknown option '%s'", word);
	if (optopt < 256 && (optopt == ':' || !strchr(SHORT_OPTIONS, optopt)))
		return usage_error("unknown option '-%c'", optopt);
	/* A known option refused: only "--name=value" for a flag does that. */
	return usage_error("option '%s' takes no argument", word);
}

static void parse_thread(struct thread_filter *f, const char *text)
{
	uint64_t tid = 0;
	const char *p = text;

	f->name = text;
	f->is_tid = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		tid = tid * 10 + (uint64_t)(*p - '0');
		if (tid > UINT32_MAX)
			return; /* too large for an id: only a name */
	}
	if (p != text && *p == '\0') {
		f->is_tid = 1;
		f->tid = (uint32_t)tid;
	}
}

/* A trace id: 32 hex digits (either case), alone or inside a traceparent
 * ("00-" id "-" span "-" flags). Returns 0, or -1 if text is neither. */
static int parse_trace_id(const char *text, uint64_t *hi, uint64_t *lo)
{
	size_t len = strlen(text);
	if (len >= 55 && text[2] == '-' && text[35] == '-')
		text += 3; /* a traceparent: its second field */
	else if (len != 32)
		return -1;
	uint64_t half[2] = {0, 0};
	for (int i = 0; i < 32; i++) {
		int c = text[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		half[i / 16] = half[i / 16] << 4 | (uint64_t)d;
	}
	*hi = half[0];
	*lo = half[1];
	return 0;
}

static void view_free(struct view *v)
{
	for (size_t i = 0; i < v->ngreps; i++)
		regfree(&v->greps[i]);
	free(v->greps);
	free(v->threads);
	for (size_t i = 0; i < v->nfields; i++)
		cli_field_filter_free(&v->fields[i]);
	free(v->fields);
	cli_buf_free(&v->line);
	cli_buf_free(&v->msg);
}

/* Parses the options into *v; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct view *v, int argc, char **argv, int *status)
{
	int color_mode = -1; /* -1 auto, 0 never, 1 always */
	int have_since = 0;
	const char *why;
	int c;

	v->min_level = -1;
	v->spans = 1;
	/* Each argument adds at most one filter. */
	v->greps = cli_xrealloc(NULL, (size_t)argc * sizeof *v->greps);
	v->threads = cli_xrealloc(NULL, (size_t)argc * sizeof *v->threads);
	v->fields = cli_xrealloc(NULL, (size_t)argc * sizeof *v->fields);

	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_view_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'l':
			v->min_level = ttlog_level_parse(optarg);
			if (v->min_level < 0) {
				*status = usage_error("unknown level '%s' (use trace, debug, info, "
						      "warn, error, fatal or off)",
						      optarg);
				return -1;
			}
			break;
		case OPT_SINCE:
		case OPT_UNTIL: {
			struct cli_time *t = c == OPT_SINCE ? &v->since : &v->until;
			if (cli_time_parse(optarg, t, &why) != 0) {
				*status = usage_error("bad time '%s' for --%s: %s", optarg,
						      c == OPT_SINCE ? "since" : "until", why);
				return -1;
			}
			have_since |= c == OPT_SINCE;
			break;
		}
		case OPT_LAST:
			if (cli_duration_parse(optarg, &v->last_ns, &why) != 0) {
				*status = usage_error("bad duration '%s' for --last: %s", optarg, why);
				return -1;
			}
			v->have_last = 1;
			break;
		case 'g': {
			int err = regcomp(&v->greps[v->ngreps], optarg, REG_EXTENDED | REG_NOSUB);
			if (err != 0) {
				char text[256];
				regerror(err, &v->greps[v->ngreps], text, sizeof text);
				*status = usage_error("bad regular expression '%s': %s", optarg, text);
				return -1;
			}
			v->ngreps++;
			break;
		}
		case 't':
			parse_thread(&v->threads[v->nthreads++], optarg);
			break;
		case 'f': {
			char err[512];
			if (cli_field_filter_parse(optarg, &v->fields[v->nfields], err, sizeof err) != 0) {
				*status = usage_error("%s", err);
				return -1;
			}
			v->nfields++;
			break;
		}
		case 'o':
			if (strcmp(optarg, "text") == 0) {
				v->json = 0;
			} else if (strcmp(optarg, "json") == 0) {
				v->json = 1;
			} else {
				*status = usage_error("unknown output format '%s' (use text or json)",
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
				*status = usage_error("bad value '%s' for --color (use auto, always "
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
		case OPT_TRACE:
			if (parse_trace_id(optarg, &v->trace_hi, &v->trace_lo) != 0) {
				*status = usage_error("bad trace id '%s' for --trace (use 32 hex "
						      "digits, or a traceparent "
						      "00-<32 hex>-<16 hex>-<2 hex>)",
						      optarg);
				return -1;
			}
			v->have_trace = 1;
			break;
		case OPT_SAMPLING:
			v->sampling = 1;
			break;
		case OPT_METRICS:
			v->metrics = 1;
			break;
		default:
			*status = bad_option(c, argv);
			return -1;
		}
	}
	if (have_since && v->have_last) {
		*status = usage_error("--since and --last cannot be used together");
		return -1;
	}
	if (v->have_last) {
		v->since.kind = CLI_TIME_BEFORE_END;
		v->since.before_ns = v->last_ns;
	}
	if (optind >= argc) {
		*status = usage_error("no FILE given");
		return -1;
	}
	if (color_mode < 0) {
		const char *no_color = getenv("NO_COLOR");
		color_mode = !v->json && isatty(STDOUT_FILENO) && !(no_color && *no_color);
	}
	/* JSON lines are never coloured. */
	v->color = color_mode && !v->json;
	return 0;
}

int cli_view_main(int argc, char **argv)
{
	struct view v = {0};
	int status = CLI_EXIT_OK;

	if (parse_options(&v, argc, argv, &status) == 0) {
		for (int i = optind; i < argc && !cli_stdout_failed(); i++) {
			int st = view_file(&v, argv[i]);
			if (st > status)
				status = st;
		}
	}
	view_free(&v);
	return status;
}
