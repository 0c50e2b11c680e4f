/* SPDX-License-Identifier: MIT */
/*
 * tail.c - `ttlog tail`: the last events of a store (a directory, a glob, a
 * segment or a snapshot), and with -f the new ones as they are written,
 * across rotation (ttlog_store_follow: inotify, no polling). With a PID it
 * reads the live rings of a process in shared-memory mode instead, through
 * a snapshot of its mapping taken every --interval, showing each event
 * once.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TTLOG_TOOLS_UNSTABLE
#include "cli.h"
#include "filter.h"
#include "mapping.h"
#include "render/event_json.h"
#include "render/event_line.h"
#include "render/event_message.h"
#include "report.h"
#include "store_args.h"
#include "time_args.h"
#include "ttlog_reader.h"
#include "ttlog_tools.h"

struct tail {
	struct cli_filter filter;
	int json, utc, follow;
	long count;                 /* -n */
	int64_t interval_ns;        /* --interval, PID mode */
	const char *shm_dir;
	struct render_message msg;
	struct render_line_style style;
	struct render_event_cache cache;
	/* The last count lines, a ring. */
	struct render_buf *lines;
	long nlines, first;
};

void cli_tail_usage(FILE *out)
{
	fputs("Usage: ttlog tail [OPTIONS] DIR|FILE|PID\n"
	      "\n"
	      "Prints the last events of a store (a directory of segments and snapshots, a\n"
	      "glob pattern, or one file), in time order, and with -f goes on printing new\n"
	      "events as they are written: a segment that grows, a new segment after a\n"
	      "rotation (the directory is watched with inotify; nothing is polled). An\n"
	      "event that is in a snapshot and in a segment is shown once. Without --since\n"
	      "and --until, the newest files are read first, older ones only as far back\n"
	      "as the last N events need.\n"
	      "With a PID (a number that is no file name), reads the rings of that process\n"
	      "in shared-memory mode directly, with no stream: its mapping is read every\n"
	      "--interval and each event is shown once.\n"
	      "\n"
	      "Options:\n"
	      "  -n, --lines N         the last N events (default 10; 0: none, only new ones\n"
	      "                        with -f)\n"
	      "  -F, --follow          (also -f) go on with new events until interrupted\n"
	      "      --interval D      PID mode: how often the mapping is read (default\n"
	      "                        200ms)\n"
	      "      --shm-dir DIR     PID mode: the base directory of the mappings\n"
	      "  -o, --output FORMAT   text (the default) or json, as `ttlog view`\n"
	      "      --utc             show and read times in UTC instead of local time\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Filters, as `ttlog view` (-f is --follow here: use --field for fields):\n",
	      out);
	cli_filter_usage(out);
	fputs("\n"
	      "Lines are those of `ttlog view`: a promoted event (streamed because of an\n"
	      "error near it) has + after its level in text, \"promoted\":true in JSON.\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read completely\n"
	      "(its valid events are printed) or the output could not be written.\n",
	      out);
}

/* ---- Output ------------------------------------------------------------- */

static void render(struct tail *t, struct render_buf *b, const struct ttlog_event *ev,
		   const char *service)
{
	t->cache.service = service;
	if (t->json) {
		render_event_json(b, ev, render_message_text(&t->msg), &t->cache);
		render_buf_putc(b, '\n');
	} else {
		render_event_line(b, ev, render_message_text(&t->msg), &t->style, &t->cache);
	}
}

/* Keeps the event as one of the last count lines. */
static void keep_last(struct tail *t, const struct ttlog_event *ev, const char *service)
{
	if (t->count <= 0)
		return;
	long slot;
	if (t->nlines < t->count) {
		slot = (t->first + t->nlines++) % t->count;
	} else {
		slot = t->first;
		t->first = (t->first + 1) % t->count;
	}
	render_buf_reset(&t->lines[slot]);
	render(t, &t->lines[slot], ev, service);
}

static void print_last(struct tail *t)
{
	for (long i = 0; i < t->nlines && !cli_stdout_failed(); i++)
		render_buf_write(&t->lines[(t->first + i) % t->count], stdout);
	fflush(stdout);
}

static void print_now(struct tail *t, const struct ttlog_event *ev, const char *service)
{
	struct render_buf b = {0};
	render(t, &b, ev, service);
	render_buf_write(&b, stdout);
	render_buf_free(&b);
}

/* ---- A store ------------------------------------------------------------ */

static int by_time_down(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x < y) - (x > y);
}

/* A file name's time minus this holds no event of a later file: the names'
 * clock is not the events', and a segment goes on being written a little
 * after the next one is created. */
#define TAIL_NAME_SLACK_NS (10 * 1000000000LL)

/*
 * Opens the store for its last count events without reading all of it:
 * from the newest file's name time on, then from the next older one's, ...
 * until count events pass the filters (or every file is in). Exact: when
 * count events are at or after a time, the last count events all are.
 * Leaves the kept events in t's ring.
 */
static ttlog_store *open_newest(struct tail *t, char *arg)
{
	int64_t *times = NULL;
	int n = 0;
	if (t->count > 0 && t->filter.since.kind == CLI_TIME_UNSET &&
	    t->filter.until.kind == CLI_TIME_UNSET && cli_store_arg(arg)) {
		char **files;
		int bad = 0;
		int nf = cli_store_expand(&arg, 1, NULL, &files, &bad);
		times = render_xrealloc(NULL, (size_t)(nf + 1) * sizeof *times);
		for (int i = 0; i < nf; i++) {
			int64_t ns = cli_store_name_time(files[i]);
			if (ns > INT64_MIN + TAIL_NAME_SLACK_NS)
				times[n++] = ns - TAIL_NAME_SLACK_NS;
		}
		cli_store_free_list(files, nf);
		qsort(times, (size_t)n, sizeof *times, by_time_down);
	}
	for (int k = 0;; k++) {
		int last_try = k >= n;
		int64_t floor = last_try ? INT64_MIN : times[k];
		if (!last_try && k > 0 && floor == times[k - 1])
			continue;
		ttlog_store *s = cli_store_open(&t->filter, &arg, 1, "ttlog", floor);
		if (!s)
			break;
		t->nlines = t->first = 0;
		struct ttlog_event ev;
		const struct ttlog_store_file *from;
		long kept = 0;
		while (ttlog_store_next(s, &ev, &from)) {
			render_message_start(&t->msg, &ev);
			if (!cli_filter_keep(&t->filter, &ev, &t->msg))
				continue;
			keep_last(t, &ev, ttlog_reader_info(from->reader)->service);
			kept++;
		}
		if (kept >= t->count || last_try) {
			free(times);
			return s;
		}
		ttlog_store_close(s);
		render_event_cache_reset(&t->cache);
	}
	free(times);
	return NULL;
}

static int tail_store(struct tail *t, char *arg)
{
	ttlog_store *s = open_newest(t, arg);
	if (!s)
		return CLI_EXIT_DATA;
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	print_last(t);
	int status = cli_store_report(s, "ttlog");
	/* A source that names no file is an error, not something to wait on. */
	while (t->follow && !cli_stdout_failed() && ttlog_store_files(s, NULL)) {
		int rc = ttlog_store_follow(s, -1);
		if (rc < 0) {
			cli_sync_stdout();
			fprintf(stderr, "ttlog: %s: cannot follow: %s\n", arg, ttlog_strerror(-rc));
			status = CLI_EXIT_DATA;
			break;
		}
		render_event_cache_reset(&t->cache); /* files were opened again */
		while (!cli_stdout_failed() && ttlog_store_next(s, &ev, &from)) {
			render_message_start(&t->msg, &ev);
			if (cli_filter_keep(&t->filter, &ev, &t->msg))
				print_now(t, &ev, ttlog_reader_info(from->reader)->service);
		}
		fflush(stdout);
	}
	ttlog_store_close(s);
	return status;
}

/* ---- A live process ----------------------------------------------------- */

/* The newest ticks shown per thread id, so that each event shows once. */
struct shown {
	uint32_t tid;
	uint64_t ticks;
	int any;
};

static int tail_pid(struct tail *t, int pid)
{
	char map[4096], err[512], file[4096];
	const char *base = cli_shm_base(t->shm_dir);
	if (ttlog__shm_path(base, pid, map, sizeof map) != 0) {
		fprintf(stderr, "ttlog: tail: the mapping path of %d is too long\n", pid);
		return CLI_EXIT_USAGE;
	}
	struct ttlog__shm_info info;
	if (ttlog__shm_inspect(map, &info, err, sizeof err) != 0) {
		fprintf(stderr, "ttlog: tail: process %d: %s\n", pid, err);
		return CLI_EXIT_DATA;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/ttlog-tail-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "ttlog: tail: cannot make a scratch directory in %s\n",
			tmp && *tmp ? tmp : "/tmp");
		return CLI_EXIT_DATA;
	}
	struct shown *shown = NULL;
	size_t nshown = 0;
	int status = CLI_EXIT_OK, first = 1;
	for (;;) {
		file[0] = '\0';
		err[0] = '\0';
		int rc = ttlog__shm_snapshot(map, dir, "tail", file, sizeof file, err, sizeof err);
		if (rc != TTLOG_OK && !file[0]) {
			cli_sync_stdout();
			fprintf(stderr, "ttlog: tail: process %d: %s\n", pid, err);
			status = CLI_EXIT_DATA;
			break;
		}
		ttlog_reader *r = NULL;
		ttlog_reader_open(file, &r);
		unlink(file);
		if (r) {
			cli_filter_begin_file(&t->filter, r);
			render_event_cache_reset(&t->cache);
			struct ttlog_event ev;
			while (!cli_stdout_failed() && ttlog_reader_next(r, &ev)) {
				uint32_t tid = ev.thread ? ev.thread->tid : 0;
				size_t k = 0;
				while (k < nshown && shown[k].tid != tid)
					k++;
				if (k == nshown) {
					shown = render_xrealloc(shown, (nshown + 1) * sizeof *shown);
					shown[nshown++] = (struct shown){tid, 0, 0};
				}
				if (shown[k].any && ev.ticks <= shown[k].ticks)
					continue;
				shown[k].any = 1;
				shown[k].ticks = ev.ticks;
				render_message_start(&t->msg, &ev);
				if (!cli_filter_keep(&t->filter, &ev, &t->msg))
					continue;
				if (first)
					keep_last(t, &ev, ttlog_reader_info(r)->service);
				else
					print_now(t, &ev, ttlog_reader_info(r)->service);
			}
			ttlog_reader_close(r);
		}
		if (first)
			print_last(t);
		fflush(stdout);
		first = 0;
		if (!t->follow || cli_stdout_failed())
			break;
		if (!ttlog__shm_owner_alive(&info)) {
			cli_sync_stdout();
			fprintf(stderr, "ttlog: tail: process %d has ended\n", pid);
			break;
		}
		struct timespec ts = {(time_t)(t->interval_ns / 1000000000),
				      (long)(t->interval_ns % 1000000000)};
		nanosleep(&ts, NULL);
	}
	free(shown);
	rmdir(dir);
	return status;
}

/* ---- Options ------------------------------------------------------------ */

enum { OPT_UTC = 256, OPT_INTERVAL, OPT_SHM_DIR };

#define SHORT_OPTIONS ":hn:Ffo:l:g:t:"

static const struct option long_options[] = {
	{"level", required_argument, NULL, 'l'},
	{"since", required_argument, NULL, CLI_OPT_SINCE},
	{"until", required_argument, NULL, CLI_OPT_UNTIL},
	{"last", required_argument, NULL, CLI_OPT_LAST},
	{"grep", required_argument, NULL, 'g'},
	{"thread", required_argument, NULL, 't'},
	{"field", required_argument, NULL, 'f' + 1000},
	{"trace", required_argument, NULL, CLI_OPT_TRACE},
	{"service", required_argument, NULL, CLI_OPT_SERVICE},
	{"lines", required_argument, NULL, 'n'},
	{"follow", no_argument, NULL, 'F'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_options(struct tail *t, int argc, char **argv, int *status)
{
	char err[512];
	int c;
	cli_filter_init(&t->filter, argc);
	t->count = 10;
	t->interval_ns = 200000000;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		if (c == 'f' + 1000)
			c = 'f'; /* --field: the filter's -f */
		else if (c == 'f')
			c = 'F'; /* -f: follow, as tail(1) */
		int handled = cli_filter_option(&t->filter, c, optarg, err, sizeof err);
		if (handled < 0) {
			*status = cli_report_usage_error("tail", "%s", err);
			return -1;
		}
		if (handled)
			continue;
		char *end;
		const char *why;
		switch (c) {
		case 'h':
			cli_tail_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'n':
			t->count = strtol(optarg, &end, 10);
			if (!*optarg || *end || t->count < 0 || t->count > 10000000) {
				*status = cli_report_usage_error("tail", "bad count '%s' for -n (use 0 "
								 "to 10000000)", optarg);
				return -1;
			}
			break;
		case 'F':
			t->follow = 1;
			break;
		case OPT_INTERVAL:
			if (cli_duration_parse(optarg, &t->interval_ns, &why) != 0 ||
			    t->interval_ns < 1000000) {
				*status = cli_report_usage_error("tail", "bad --interval '%s' (a "
								 "duration of at least 1ms)", optarg);
				return -1;
			}
			break;
		case OPT_SHM_DIR:
			t->shm_dir = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
				t->json = optarg[0] == 'j';
			} else {
				*status = cli_report_usage_error("tail", "unknown output format '%s' "
								 "(use text or json)", optarg);
				return -1;
			}
			break;
		case OPT_UTC:
			t->utc = 1;
			break;
		default:
			*status = cli_report_bad_option("tail", c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	if (cli_filter_finish(&t->filter, err, sizeof err) != 0) {
		*status = cli_report_usage_error("tail", "%s", err);
		return -1;
	}
	t->filter.utc = t->utc;
	if (optind != argc - 1) {
		*status = cli_report_usage_error("tail", "%s",
						 optind >= argc ? "no DIR, FILE or PID given"
								: "one DIR, FILE or PID only");
		return -1;
	}
	render_line_style_init(&t->style, t->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL, 0, 1);
	return 0;
}

/* A PID: digits only, and no file of that name. */
static int pid_arg(const char *arg, int *pid)
{
	struct stat st;
	char *end;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || v <= 0 || v > 0x3fffffff || stat(arg, &st) == 0)
		return 0;
	*pid = (int)v;
	return 1;
}

int cli_tail_main(int argc, char **argv)
{
	struct tail t = {0};
	int status = CLI_EXIT_OK;
	if (parse_options(&t, argc, argv, &status) == 0) {
		if (t.count)
			t.lines = render_xrealloc(NULL, (size_t)t.count * sizeof *t.lines);
		for (long i = 0; i < t.count; i++)
			t.lines[i] = (struct render_buf){0};
		int pid;
		if (pid_arg(argv[optind], &pid))
			status = tail_pid(&t, pid);
		else if ((status = cli_store_check_service("ttlog tail", argv + optind, 1,
							   t.filter.service)) == CLI_EXIT_OK)
			status = tail_store(&t, argv[optind]);
		for (long i = 0; i < t.count; i++)
			render_buf_free(&t.lines[i]);
		free(t.lines);
	}
	cli_filter_free(&t.filter);
	render_message_free(&t.msg);
	render_event_cache_free(&t.cache);
	return status;
}
