/* SPDX-License-Identifier: MIT */
/*
 * filter.h - the event filters that `ttlog view` and `ttlog export` share:
 * --level, --since, --until, --last, --grep, --thread, --field and --trace,
 * their parsing from getopt_long(), their help text, resolving the times
 * for each file, and the test of one event.
 *
 * A command adds CLI_FILTER_SHORT_OPTIONS to its short options and
 * CLI_FILTER_LONG_OPTIONS to its long ones, hands every option it does not
 * know itself to cli_filter_option(), calls cli_filter_finish() after the
 * options and cli_filter_begin_file() before each file's events.
 */
#ifndef TTLOG__CLI_FILTER_H
#define TTLOG__CLI_FILTER_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "field_filter.h"
#include "render/event_message.h"
#include "time_args.h"
#include "ttlog_reader.h"

/* One --thread argument. */
struct cli_thread_filter {
	const char *name; /* the argument, compared with thread names */
	int is_tid;       /* the argument is also a decimal thread id: */
	uint32_t tid;
	int matched;      /* a thread of a file read so far, or of an event, is it */
};

struct cli_filter {
	/* Options. */
	int min_level; /* -1: no level filter */
	struct cli_time since, until;
	int have_since, have_last;
	int64_t last_ns;
	regex_t *greps;
	size_t ngreps;
	struct cli_thread_filter *threads;
	size_t nthreads;
	struct cli_field_filter *fields;
	size_t nfields;
	int have_trace; /* --trace: only events of this trace */
	uint64_t trace_hi, trace_lo;
	int logs_only;  /* set by the command: leave out span begins and ends */
	int utc;        /* set by the command: times without Z are UTC, not local */
	const char *service; /* --service: only files of this service; NULL: all */
	unsigned jobs;  /* --jobs: threads that decode a file's blocks (1 to 255) */
	size_t jobs_memory; /* --jobs-memory: output held for files read ahead, bytes */

	/* The file being read: --since/--until/--last resolved for it. */
	int64_t since_ns, until_ns;
};

/* --jobs-memory's default: 256 MiB. */
#define CLI_JOBS_MEMORY_DEFAULT ((size_t)256 << 20)

/* Option codes of the long options without a short form; above the codes
 * commands use for their own (256 and up), so both fit in one switch. */
enum {
	CLI_OPT_SINCE = 0x1000,
	CLI_OPT_UNTIL,
	CLI_OPT_LAST,
	CLI_OPT_TRACE,
	CLI_OPT_SERVICE,
	CLI_OPT_JOBS,
	CLI_OPT_JOBS_MEMORY,
};

#define CLI_FILTER_SHORT_OPTIONS "l:g:t:f:"

#define CLI_FILTER_LONG_OPTIONS                                   \
	{"level", required_argument, NULL, 'l'},                  \
	{"since", required_argument, NULL, CLI_OPT_SINCE},        \
	{"until", required_argument, NULL, CLI_OPT_UNTIL},        \
	{"last", required_argument, NULL, CLI_OPT_LAST},          \
	{"grep", required_argument, NULL, 'g'},                   \
	{"thread", required_argument, NULL, 't'},                 \
	{"field", required_argument, NULL, 'f'},                  \
	{"trace", required_argument, NULL, CLI_OPT_TRACE},        \
	{"service", required_argument, NULL, CLI_OPT_SERVICE},    \
	{"jobs", required_argument, NULL, CLI_OPT_JOBS},          \
	{"jobs-memory", required_argument, NULL, CLI_OPT_JOBS_MEMORY}

/**
 * Prepares f for at most max_filters filter options (argc is always
 * enough: each argument adds at most one).
 */
void cli_filter_init(struct cli_filter *f, int max_filters);

/**
 * Handles option c (from getopt_long()) with its argument. Returns 1 if it
 * was a filter option, 0 if it is not one (the command handles it), or -1
 * for a bad argument, with the message in err (err_size bytes).
 */
int cli_filter_option(struct cli_filter *f, int c, const char *arg, char *err, size_t err_size);

/** The --jobs option's help (a section of its own: it filters nothing). */
void cli_filter_jobs_usage(FILE *out);

/** The flags that open a file with f's --jobs (ttlog_reader_open_ex). */
unsigned cli_filter_reader_flags(const struct cli_filter *f);

/**
 * Checks the options together once all are read (--since with --last).
 * Returns 0, or -1 with the message in err.
 */
int cli_filter_finish(struct cli_filter *f, char *err, size_t err_size);

/*
 * What --thread asks of r's file, handed to its reader
 * (ttlog_reader_set_tid(), from its next rewind): when the threads it
 * names in the file all have one id, only that id's blocks are read; when
 * it names none of them, none is. Otherwise every thread is read, and the
 * events are filtered one by one, as they always are (this only saves
 * reading what they would drop).
 */
void cli_filter_push_thread(const struct cli_filter *f, ttlog_reader *r);

/**
 * Resolves the times of f for the file of reader r and hands the time range
 * and levels to the reader (ttlog_reader_set_range, then a rewind), so that
 * blocks outside them are passed over. cli_filter_keep() still checks every
 * event.
 */
void cli_filter_begin_file(struct cli_filter *f, ttlog_reader *r);

/**
 * cli_filter_begin_file() for a part of a file (cli/file_parts.h), whose
 * range the part gives the reader: resolves the times of f for the file
 * of r and leaves the reader as it is.
 */
void cli_filter_begin_part(struct cli_filter *f, const ttlog_reader *r);

/**
 * Whether the event passes every filter: a test of the event, which
 * changes neither f nor ev (but notes which --thread arguments matched the
 * event's thread, for cli_filter_report_threads()). msg is ev's message, not made yet
 * (render_message_start() for ev): the filter asks for its text only for
 * --grep, and only once the cheaper tests passed, so that an event is
 * formatted at most once, whether the filter or the output needs its
 * message first, and not at all when neither does. --grep sees the message
 * up to its first NUL byte, if any (a %c of 0), as regexec() does.
 */
int cli_filter_keep(const struct cli_filter *f, const struct ttlog_event *ev,
		    struct render_message *msg);

void cli_filter_free(struct cli_filter *f);

/**
 * A copy of f for a thread that reads files of its own (cli/file_jobs.h):
 * the same options, opening each file on one thread, and its own --thread
 * matches. Free it with cli_filter_worker_end(), which adds its matches to
 * f's.
 */
void cli_filter_worker(struct cli_filter *w, const struct cli_filter *f);
void cli_filter_worker_end(struct cli_filter *w, struct cli_filter *f);

/**
 * After the files were read: each --thread argument that matched no
 * thread of a file read (its thread table, or an event's thread) is a
 * usage error, said on stderr as "ttlog WHO: --thread 'X' matches no
 * thread ...". Returns CLI_EXIT_USAGE if there was one, else CLI_EXIT_OK.
 */
int cli_filter_report_threads(const struct cli_filter *f, const char *who);

/** Whether the file of reader r is one --service wants (always without it). */
int cli_filter_file_wanted(const struct cli_filter *f, const ttlog_reader *r);

/** Whether --since or --until counts from a file's end (a time of day, a
 * duration before the end): their times depend on the file's last event. */
int cli_filter_times_relative(const struct cli_filter *f);

/** The levels --level keeps, as a level mask for the reader. */
unsigned cli_filter_levels(const struct cli_filter *f);

/** The help text of the filter options ("  -l, --level ..." lines). */
void cli_filter_usage(FILE *out);

/** The help text on times and durations (the "Times (T)" paragraphs). */
void cli_filter_usage_times(FILE *out);

#endif /* TTLOG__CLI_FILTER_H */
