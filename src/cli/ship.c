/* SPDX-License-Identifier: MIT */
/*
 * ship.c - `ttlog ship clickhouse`: the command line of the shipper
 * (src/ship/), and what the command owns for it: the crash's one-line
 * description and its symbolised stack (libdw, symbolize.c), handed to the
 * shipper as callbacks.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "numbers.h"
#include "crash_text.h"
#include "render/names.h"
#include "report.h"
#include "ship/ship.h"
#include "symbolize.h"

#define COMMAND "ship"

void cli_ship_usage(FILE *out)
{
	fputs("Usage: ttlog ship clickhouse --url http://HOST:8123 [OPTIONS] DIR|FILE...\n"
	      "\n"
	      "Insert the events, spans, metrics and crash records of snapshot files and\n"
	      "stream directories into ClickHouse, over its HTTP interface, in batches\n"
	      "(RowBinary). Each row has a stable id (host, pid, thread, ticks, call site):\n"
	      "the tables (ReplacingMergeTree) keep one row per id, and a cursor per file\n"
	      "records what the server acknowledged, so a re-run ships only what is new\n"
	      "and a run killed in the middle, run again, leaves exact counts (count with\n"
	      "SELECT ... FINAL). Local files are only read, never changed or removed.\n"
	      "Tables: logs (every event), spans, metrics, crashes; docs/FLEET.md.\n"
	      "\n"
	      "Options:\n"
	      "      --url URL         the server's HTTP interface (required)\n"
	      "  -d, --database NAME   the database (default ttlog)\n"
	      "      --create          create the database and the tables if missing\n"
	      "      --user NAME       user (default: $TTLOG_CLICKHOUSE_USER, else the\n"
	      "                        server's default user)\n"
	      "      --password PASS   password (default: $TTLOG_CLICKHOUSE_PASSWORD, which\n"
	      "                        keeps it off the command line)\n"
	      "      --state DIR       where the cursors are kept (default:\n"
	      "                        $XDG_STATE_HOME/ttlog/ship, else\n"
	      "                        ~/.local/state/ttlog/ship)\n"
	      "  -f, --follow          keep shipping what the files gain (new segments, the\n"
	      "                        growing open one) until SIGINT or SIGTERM; a server\n"
	      "                        that is away is tried again, backing off from 0.5 s\n"
	      "                        to 30 s, as long as it takes\n"
	      "      --interval MS     with --follow: how often to look (default 1000)\n"
	      "      --batch N         events a batch holds at most (default 100000)\n"
	      "      --retries N       without --follow: tries again of a batch the server\n"
	      "                        could not take because it was away (default 3)\n"
	      "  -z, --gzip            compress request bodies (gzip, Content-Encoding):\n"
	      "                        about 10x fewer bytes on the wire for more CPU\n"
	      "  -q, --quiet           no summary line\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Prints on stdout, at the end: shipped events=N spans=N metrics=N crashes=N\n"
	      "skipped=N (acknowledged by an earlier run) files=N batches=N bytes=N\n"
	      "retries=N.\n"
	      "\n"
	      "Exit status: 0 done, 1 usage error or a DIR|FILE that does not exist,\n"
	      "2 the server refused or could not be reached, or a file was damaged (its\n"
	      "valid events were shipped).\n",
	      out);
}

/* The crash's description, as `ttlog view` gives it. */
static void crash_text(void *arg, const struct ttlog_file_info *info, struct render_buf *out)
{
	(void)arg;
	cli_crash_text(out, info);
}

/* The crashing thread's stack, one frame a line:
 * "#N 0xADDR FUNCTION at FILE:LINE" or "(MODULE+0xOFF)". */
static void stack_text(void *arg, const ttlog_reader *r, struct render_buf *out)
{
	(void)arg;
	const struct ttlog_stack *stacks;
	size_t n = ttlog_reader_stacks(r, &stacks);
	const struct ttlog_stack *st = NULL;
	for (size_t i = 0; i < n && !st; i++)
		if (stacks[i].flags & TTLOG_STACK_CRASH)
			st = &stacks[i];
	if (!st)
		return;
	const struct ttlog_module *mods;
	size_t nmods = ttlog_reader_modules(r, &mods);
	struct cli_sym *sym = cli_sym_open(mods, nmods, NULL, 0, 0);
	if (!sym)
		return;
	struct cli_sym_frame f[8];
	unsigned index = 0;
	for (uint32_t i = 0; i < st->nframes; i++) {
		int is_return = !(i == 0 && (st->flags & TTLOG_STACK_PC_FIRST));
		size_t k = cli_sym_lookup(sym, st->frames[i], is_return, f, 8);
		for (size_t j = 0; j < k; j++, index++) {
			render_buf_printf(out, "#%u 0x%016" PRIx64 " %s", index, st->frames[i],
					  f[j].function ? f[j].function : "??");
			if (f[j].file)
				render_buf_printf(out, " at %s:%u", f[j].file, f[j].line);
			else if (f[j].module)
				render_buf_printf(out, " (%s+0x%" PRIx64 ")", render_base_name(f[j].module),
						  f[j].offset);
			render_buf_puts(out, f[j].inlined ? " (inlined)\n" : "\n");
		}
	}
	if (st->flags & TTLOG_STACK_TRUNCATED)
		render_buf_printf(out, "(stack truncated at %" PRIu32 " frames)\n", st->nframes);
	cli_sym_close(sym);
}

enum { OPT_URL = 256, OPT_CREATE, OPT_USER, OPT_PASSWORD, OPT_STATE, OPT_INTERVAL, OPT_BATCH, OPT_RETRIES };

static const struct option long_options[] = {
	{"url", required_argument, NULL, OPT_URL},
	{"database", required_argument, NULL, 'd'},
	{"create", no_argument, NULL, OPT_CREATE},
	{"user", required_argument, NULL, OPT_USER},
	{"password", required_argument, NULL, OPT_PASSWORD},
	{"state", required_argument, NULL, OPT_STATE},
	{"follow", no_argument, NULL, 'f'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"retries", required_argument, NULL, OPT_RETRIES},
	{"gzip", no_argument, NULL, 'z'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTIONS ":d:fzqh"

int cli_ship_main(int argc, char **argv)
{
	struct ship_options opt;
	memset(&opt, 0, sizeof opt);
	opt.batch_rows = 100000;
	opt.retries = 3;
	opt.interval_ms = 1000;
	int quiet = 0;
	unsigned long n;
	opt.user = getenv("TTLOG_CLICKHOUSE_USER");
	opt.password = getenv("TTLOG_CLICKHOUSE_PASSWORD");
	if (opt.user && !*opt.user)
		opt.user = NULL;
	int c;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		cli_ship_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "clickhouse") != 0)
		return cli_report_usage_error(COMMAND, "expected a destination: ttlog ship clickhouse ...%s%s%s",
					      argc >= 2 ? " (not '" : "", argc >= 2 ? argv[1] : "",
					      argc >= 2 ? "')" : "");
	argc--;
	argv++;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
			opt.url = optarg;
			break;
		case 'd':
			if (!*optarg || strpbrk(optarg, "`\\'\" \t\r\n"))
				return cli_report_usage_error(COMMAND, "--database takes a name without "
						   "blanks, quotes or backquotes");
			opt.database = optarg;
			break;
		case OPT_CREATE:
			opt.create = 1;
			break;
		case OPT_USER:
			opt.user = optarg;
			break;
		case OPT_PASSWORD:
			opt.password = optarg;
			break;
		case OPT_STATE:
			opt.state_dir = optarg;
			break;
		case 'f':
			opt.follow = 1;
			break;
		case OPT_INTERVAL:
			if (cli_parse_count(optarg, 10, 3600000, &n) != 0)
				return cli_report_usage_error(COMMAND, "--interval takes 10 to 3600000 (ms)");
			opt.interval_ms = (unsigned)n;
			break;
		case OPT_BATCH:
			if (cli_parse_count(optarg, 1, 10000000, &n) != 0)
				return cli_report_usage_error(COMMAND, "--batch takes 1 to 10000000");
			opt.batch_rows = (unsigned)n;
			break;
		case OPT_RETRIES:
			if (cli_parse_count(optarg, 0, 1000, &n) != 0)
				return cli_report_usage_error(COMMAND, "--retries takes 0 to 1000");
			opt.retries = (unsigned)n;
			break;
		case 'z':
			opt.gzip = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			cli_ship_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
		}
	}
	if (!opt.url)
		return cli_report_usage_error(COMMAND, "--url http://HOST:8123 is required");
	if (optind >= argc)
		return cli_report_usage_error(COMMAND, "expected one or more DIR|FILE");
	opt.sources = (const char *const *)(argv + optind);
	opt.nsources = (size_t)(argc - optind);
	opt.crash_text = crash_text;
	opt.stack_text = stack_text;

	struct ship_totals t;
	int rc = ship_clickhouse(&opt, &t);
	if (!quiet && rc != SHIP_USAGE) {
		printf("shipped events=%" PRIu64 " spans=%" PRIu64 " metrics=%" PRIu64 " crashes=%" PRIu64
		       " skipped=%" PRIu64 " files=%" PRIu64 " batches=%" PRIu64
		       " bytes=%" PRIu64 " retries=%" PRIu64 "\n",
		       t.events, t.spans, t.metrics, t.crashes, t.skipped, t.files, t.batches,
		       t.bytes, t.retries);
	}
	return rc == SHIP_OK ? CLI_EXIT_OK : rc == SHIP_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
}
