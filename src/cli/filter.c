/* SPDX-License-Identifier: MIT */
/*
 * filter.c - the event filters of `ttlog view` and `ttlog export`: parsing
 * their options, resolving times per file, and deciding whether an event is
 * kept (see filter.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "numbers.h"
#include "report.h"
#include "render/event_message.h"

void cli_filter_init(struct cli_filter *f, int max_filters)
{
	size_t n = max_filters > 0 ? (size_t)max_filters : 1;

	memset(f, 0, sizeof *f);
	f->min_level = -1;
	f->greps = render_xrealloc(NULL, n * sizeof *f->greps);
	f->threads = render_xrealloc(NULL, n * sizeof *f->threads);
	f->fields = render_xrealloc(NULL, n * sizeof *f->fields);
	f->since_ns = INT64_MIN;
	f->until_ns = INT64_MAX;
	unsigned cpus = ttlog_reader_cpu_count();
	f->jobs = cpus > 255 ? 255 : cpus;
	f->jobs_memory = CLI_JOBS_MEMORY_DEFAULT;
}

void cli_filter_free(struct cli_filter *f)
{
	for (size_t i = 0; i < f->ngreps; i++)
		regfree(&f->greps[i]);
	free(f->greps);
	free(f->threads);
	for (size_t i = 0; i < f->nfields; i++)
		cli_field_filter_free(&f->fields[i]);
	free(f->fields);
	memset(f, 0, sizeof *f);
}

void cli_filter_worker(struct cli_filter *w, const struct cli_filter *f)
{
	*w = *f;
	w->jobs = 1; /* the files are the unit of work */
	w->threads = NULL;
	if (f->nthreads) {
		size_t size = f->nthreads * sizeof *w->threads;
		w->threads = render_xrealloc(NULL, size);
		memcpy(w->threads, f->threads, size);
	}
}

void cli_filter_worker_end(struct cli_filter *w, struct cli_filter *f)
{
	for (size_t i = 0; i < f->nthreads; i++)
		f->threads[i].matched |= w->threads[i].matched;
	free(w->threads);
	w->threads = NULL;
}

static void parse_thread(struct cli_thread_filter *t, const char *text)
{
	uint64_t tid = 0;
	const char *p = text;

	t->name = text;
	t->is_tid = 0;
	t->matched = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		tid = tid * 10 + (uint64_t)(*p - '0');
		if (tid > UINT32_MAX)
			return; /* too large for an id: only a name */
	}
	if (p != text && *p == '\0') {
		t->is_tid = 1;
		t->tid = (uint32_t)tid;
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

/* Whether an extended regular expression has a repetition operator right
 * after another ("a++", "b*{2}"): glibc's regcomp copies the repeated
 * tree for each, so 30 of them took 4 GB (found by fuzz_options). Bracket
 * expressions and escaped characters are not operators. */
static int stacked_repetition(const char *re)
{
	int after_repeat = 0;
	for (const char *p = re; *p; p++) {
		if (*p == '\\') {
			after_repeat = 0;
			if (!*++p)
				break;
			continue;
		}
		if (*p == '[') {
			/* Skip the bracket expression: a ']' first is a member. */
			const char *q = p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']')
				q++;
			if (!*q)
				break;
			p = q;
			after_repeat = 0;
			continue;
		}
		int repeat = *p == '*' || *p == '+' || *p == '?' || *p == '{';
		if (repeat && after_repeat)
			return 1;
		if (*p == '{') {
			while (p[1] && p[1] != '}')
				p++;
			if (p[1])
				p++;
		}
		after_repeat = repeat;
	}
	return 0;
}

int cli_filter_option(struct cli_filter *f, int c, const char *arg, char *err, size_t err_size)
{
	const char *why;

	switch (c) {
	case 'l':
		f->min_level = ttlog_level_parse(arg);
		if (f->min_level < 0) {
			snprintf(err, err_size,
				 "unknown level '%s' (use trace, debug, info, warn, error, fatal or off)",
				 arg);
			return -1;
		}
		return 1;
	case CLI_OPT_SINCE:
	case CLI_OPT_UNTIL: {
		struct cli_time *t = c == CLI_OPT_SINCE ? &f->since : &f->until;
		if (cli_time_parse(arg, t, &why) != 0) {
			snprintf(err, err_size, "bad time '%s' for --%s: %s", arg,
				 c == CLI_OPT_SINCE ? "since" : "until", why);
			return -1;
		}
		f->have_since |= c == CLI_OPT_SINCE;
		return 1;
	}
	case CLI_OPT_LAST:
		if (cli_duration_parse(arg, &f->last_ns, &why) != 0) {
			snprintf(err, err_size, "bad duration '%s' for --last: %s", arg, why);
			return -1;
		}
		f->have_last = 1;
		return 1;
	case 'g': {
		if (stacked_repetition(arg)) {
			snprintf(err, err_size,
				 "bad regular expression '%s': a repetition ('*', '+', '?' or "
				 "'{...}') right after another is undefined in POSIX, and the C "
				 "library needs memory exponential in how many there are; "
				 "group them with ( ) or escape them with \\",
				 arg);
			return -1;
		}
		int rc = regcomp(&f->greps[f->ngreps], arg, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char text[256];
			regerror(rc, &f->greps[f->ngreps], text, sizeof text);
			snprintf(err, err_size, "bad regular expression '%s': %s", arg, text);
			return -1;
		}
		f->ngreps++;
		return 1;
	}
	case 't':
		parse_thread(&f->threads[f->nthreads++], arg);
		return 1;
	case 'f':
		if (cli_field_filter_parse(arg, &f->fields[f->nfields], err, err_size) != 0)
			return -1;
		f->nfields++;
		return 1;
	case CLI_OPT_SERVICE:
		f->service = arg;
		return 1;
	case CLI_OPT_JOBS: {
		char *end;
		errno = 0;
		unsigned long n = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || n < 1 || n > 255) {
			snprintf(err, err_size,
				 "bad value '%s' for --jobs (use a number of threads from 1 to 255)",
				 arg);
			return -1;
		}
		f->jobs = (unsigned)n;
		return 1;
	}
	case CLI_OPT_JOBS_MEMORY: {
		unsigned long mib;
		if (cli_parse_count(arg, 1, 1u << 20, &mib) != 0) {
			snprintf(err, err_size,
				 "bad value '%s' for --jobs-memory (use a number of MiB from 1 to "
				 "1048576)",
				 arg);
			return -1;
		}
		f->jobs_memory = (size_t)mib << 20;
		return 1;
	}
	case CLI_OPT_TRACE:
		if (parse_trace_id(arg, &f->trace_hi, &f->trace_lo) != 0) {
			snprintf(err, err_size,
				 "bad trace id '%s' for --trace (use 32 hex digits, or a traceparent "
				 "00-<32 hex>-<16 hex>-<2 hex>)",
				 arg);
			return -1;
		}
		f->have_trace = 1;
		return 1;
	default:
		return 0;
	}
}

int cli_filter_finish(struct cli_filter *f, char *err, size_t err_size)
{
	if (f->have_since && f->have_last) {
		snprintf(err, err_size, "--since and --last cannot be used together");
		return -1;
	}
	if (f->have_last) {
		f->since.kind = CLI_TIME_BEFORE_END;
		f->since.before_ns = f->last_ns;
	}
	return 0;
}

static int thread_matches(const struct cli_filter *f, const struct ttlog_thread_info *t);

void cli_filter_begin_part(struct cli_filter *f, const ttlog_reader *r)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	for (size_t i = 0, n = f->nthreads ? ttlog_reader_thread_count(r) : 0; i < n; i++)
		thread_matches(f, ttlog_reader_thread(r, i));
	/* Relative times count back from the last event (per file). */
	int64_t end = info ? (info->events ? info->last_ns : info->created_ns) : 0;

	f->since_ns = INT64_MIN;
	f->until_ns = INT64_MAX;
	if (f->since.kind != CLI_TIME_UNSET)
		f->since_ns = cli_time_resolve(&f->since, end, f->utc);
	if (f->until.kind != CLI_TIME_UNSET)
		f->until_ns = cli_time_resolve(&f->until, end, f->utc);
}

/* Whether thread t is the one --thread argument tf names (id or name). */
static int thread_is(const struct cli_thread_filter *tf, const struct ttlog_thread_info *t)
{
	return (tf->is_tid && tf->tid == t->tid) || (t->name && strcmp(t->name, tf->name) == 0);
}

/* Whether thread t is one of the --thread arguments (no note of it). */
static int thread_wanted(const struct cli_filter *f, const struct ttlog_thread_info *t)
{
	for (size_t i = 0; t && i < f->nthreads; i++)
		if (thread_is(&f->threads[i], t))
			return 1;
	return 0;
}

void cli_filter_push_thread(const struct cli_filter *f, ttlog_reader *r)
{
	uint32_t tid = 0;
	int one = 1, any = 0;
	for (size_t i = 0, n = f->nthreads ? ttlog_reader_thread_count(r) : 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (!thread_wanted(f, t))
			continue;
		one = one && (!any || t->tid == tid);
		tid = t->tid;
		any = 1;
	}
	/* No thread of the file: an id no thread has (Linux's stay below
	 * 2^22). Threads of several ids: all, and the events are filtered
	 * one by one as always. */
	if (f->nthreads && !any)
		ttlog_reader_set_tid(r, UINT32_MAX);
	else
		ttlog_reader_set_tid(r, f->nthreads && one ? tid : 0);
}

void cli_filter_begin_file(struct cli_filter *f, ttlog_reader *r)
{
	cli_filter_begin_part(f, r);
	cli_filter_push_thread(f, r);
	ttlog_reader_set_range(r, f->since_ns, f->until_ns, cli_filter_levels(f));
	ttlog_reader_rewind(r);
}

int cli_filter_times_relative(const struct cli_filter *f)
{
	return f->since.kind == CLI_TIME_OF_DAY || f->since.kind == CLI_TIME_BEFORE_END ||
	       f->until.kind == CLI_TIME_OF_DAY || f->until.kind == CLI_TIME_BEFORE_END;
}

unsigned cli_filter_levels(const struct cli_filter *f)
{
	unsigned levels = TTLOG_READER_ALL_LEVELS;
	if (f->min_level > 0)
		levels &= ~((1u << f->min_level) - 1);
	return levels;
}

int cli_filter_file_wanted(const struct cli_filter *f, const ttlog_reader *r)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	return !f->service || !info || strcmp(info->service, f->service) == 0;
}

/* Whether t is one of the --thread arguments; notes each that it is. */
static int thread_matches(const struct cli_filter *f, const struct ttlog_thread_info *t)
{
	int match = 0;
	if (!t)
		return 0;
	for (size_t i = 0; i < f->nthreads; i++) {
		struct cli_thread_filter *tf = &f->threads[i];
		if (thread_is(tf, t)) {
			tf->matched = 1;
			match = 1;
		}
	}
	return match;
}

int cli_filter_report_threads(const struct cli_filter *f, const char *who)
{
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < f->nthreads; i++) {
		if (f->threads[i].matched)
			continue;
		cli_report_usage_error(who, "--thread '%s' matches no thread (id or name) of the files read",
				       f->threads[i].name);
		status = CLI_EXIT_USAGE;
	}
	return status;
}

int cli_filter_keep(const struct cli_filter *f, const struct ttlog_event *ev,
		    struct render_message *msg)
{
	/* The thread first, so that every thread an event shows is noted. */
	if (f->nthreads && !thread_matches(f, ev->thread))
		return 0;
	if (f->min_level >= 0 && render_event_level(ev) < f->min_level)
		return 0;
	if (ev->time_ns < f->since_ns || ev->time_ns > f->until_ns)
		return 0;
	if (f->logs_only && ev->kind != TTLOG_EVENT_LOG)
		return 0;
	if (f->have_trace && (!ev->span || ev->span->trace_hi != f->trace_hi ||
			      ev->span->trace_lo != f->trace_lo))
		return 0;
	for (size_t i = 0; i < f->nfields; i++)
		if (!cli_field_filter_match(&f->fields[i], ev))
			return 0;
	/* The message last, and only when a --grep needs it: the costliest step. */
	for (size_t i = 0; i < f->ngreps; i++)
		if (regexec(&f->greps[i], render_message_text(msg)->data, 0, NULL, 0) != 0)
			return 0;
	return 1;
}

void cli_filter_jobs_usage(FILE *out)
{
	fputs("Reading:\n"
	      "      --jobs N          use N threads (1 to 255; the default is the number of\n"
	      "                        CPUs). view, and export's jsonl, logfmt and csv,\n"
	      "                        read a list of files, and a file cut into parts by\n"
	      "                        time, N jobs at a time: each file or part on a\n"
	      "                        thread of its own, its output held until what comes\n"
	      "                        before it is written (see --jobs-memory). A file is\n"
	      "                        cut when it is complete, unless --header or a time\n"
	      "                        counted from the file's end is given; with contexts\n"
	      "                        or spans, each thread follows them through the parts\n"
	      "                        before its own. A store (a directory or a glob) is\n"
	      "                        cut into parts by time the same way, each part read\n"
	      "                        through a store of its own. Where nothing is cut,\n"
	      "                        each file's blocks are decompressed and checked\n"
	      "                        on N threads,\n"
	      "                        and JSON lines are made on N threads (view -o json,\n"
	      "                        export's jsonl; not with --grep). 1 does all of it\n"
	      "                        on one thread. The output is the same for every N\n"
	      "      --jobs-memory MIB the output of files and parts read ahead held at\n"
	      "                        most, in MiB\n"
	      "                        (default 256; 256 KiB a thread at least)\n",
	      out);
}

unsigned cli_filter_reader_flags(const struct cli_filter *f)
{
	return TTLOG_READER_JOBS(f->jobs ? f->jobs : 1);
}

void cli_filter_usage(FILE *out)
{
	fputs("  -l, --level LEVEL     events at LEVEL or above: trace, debug, info, warn,\n"
	      "                        error, fatal\n"
	      "      --since T         events at time T or later\n"
	      "      --until T         events at time T or earlier\n"
	      "      --last DURATION   the last DURATION of the file (--since -DURATION)\n"
	      "  -g, --grep REGEX      events whose message matches the POSIX extended\n"
	      "                        regular expression REGEX (repeatable: all must match)\n"
	      "  -t, --thread ID|NAME  events of the thread with this id or exact name\n"
	      "                        (repeatable: any may match; one that matches no\n"
	      "                        thread of the files read is an error)\n"
	      "  -f, --field KEY=VALUE events with field KEY equal to VALUE (numbers compare\n"
	      "                        as numbers, booleans as true/false); also KEY!=VALUE,\n"
	      "                        and KEY<N, KEY<=N, KEY>N, KEY>=N for numeric fields\n"
	      "                        (repeatable: all must match)\n"
	      "      --trace ID        events of the trace ID (32 hex digits, or a whole\n"
	      "                        traceparent) on every thread: its spans' begins and\n"
	      "                        ends and the events inside them\n"
	      "      --service NAME    only files (segments and snapshots) of the service\n"
	      "                        NAME (TTLOG_SERVICE of the program that wrote them);\n"
	      "                        a NAME that no file has is an error (exit 1)\n",
	      out);
}

void cli_filter_usage_times(FILE *out)
{
	fputs("Times (T), in local time unless --utc is given or the time ends in Z:\n"
	      "  YYYY-MM-DD HH:MM[:SS[.F]]   a date and a time; T may replace the space\n"
	      "  HH:MM[:SS[.F]]              a time on the date of the file's last event\n"
	      "  -DURATION                   DURATION before the file's last event\n"
	      "  F is a fraction of a second, 1 to 9 digits. Examples: 08:15:00.25,\n"
	      "  '2026-01-31 08:15:00', 2026-01-31T08:15:00Z, -2s.\n"
	      "\n"
	      "Durations: a number and a unit (ns, us, ms, s, m or min, h, d), fractions\n"
	      "  allowed, parts may be combined: 500ms, 1.5s, 1h30m, 7d; a number alone is\n"
	      "  seconds (5 is 5s). The same rule as the TTLOG_* variables that programs read.\n",
	      out);
}
