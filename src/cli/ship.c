/* SPDX-License-Identifier: MIT */
/*
 * ship.c - `ttlog ship clickhouse` and `ttlog ship otlp`: the command
 * lines of the shipper
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

/* The options every destination takes. */
static const char common_options[] =
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
	"  -h, --help            show this help\n";

static void clickhouse_usage(FILE *out)
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
	      "                        keeps it off the command line)\n",
	      out);
	fputs(common_options, out);
	fputs("\n"
	      "Prints on stdout, at the end: shipped events=N spans=N metrics=N crashes=N\n"
	      "skipped=N (acknowledged by an earlier run) files=N batches=N bytes=N\n"
	      "retries=N.\n"
	      "\n"
	      "Exit status: 0 done, 1 usage error or a DIR|FILE that does not exist,\n"
	      "2 the server refused or could not be reached, or a file was damaged (its\n"
	      "valid events were shipped).\n",
	      out);
}

static void otlp_usage(FILE *out)
{
	fputs("Usage: ttlog ship otlp --endpoint http://HOST:4318 [OPTIONS] DIR|FILE...\n"
	      "\n"
	      "Send the events, spans, metrics and crash records of snapshot files and\n"
	      "stream directories to an OpenTelemetry collector over OTLP/HTTP, in\n"
	      "batches: logs to ENDPOINT/v1/logs (every event a log record, the crash a\n"
	      "FATAL one with exception.* attributes), traces to /v1/traces (each ended\n"
	      "span) and metrics to /v1/metrics (counters as sums, gauges, histograms\n"
	      "with explicit buckets), in protobuf (application/x-protobuf) or OTLP/JSON.\n"
	      "A cursor per file records what the collector acknowledged (a 2xx answer),\n"
	      "so a re-run sends only what is new. Local files are only read, never\n"
	      "changed or removed. docs/FLEET.md.\n"
	      "\n"
	      "Options:\n"
	      "      --endpoint URL    the collector's OTLP/HTTP base URL (required)\n"
	      "  -H, --header 'NAME: VALUE'\n"
	      "                        a header for every request, such as an\n"
	      "                        Authorization (repeatable)\n"
	      "      --json            send OTLP/JSON instead of protobuf\n"
	      "      --service-name NAME\n"
	      "                        service.name of every resource (default: each\n"
	      "                        file's TTLOG_SERVICE, else its program's name)\n",
	      out);
	fputs(common_options, out);
	fputs("\n"
	      "Answers 429, 502, 503 and 504 are tried again after the Retry-After the\n"
	      "collector gave (seconds), else backing off from 0.5 s to 30 s; another\n"
	      "4xx or 5xx fails with the collector's message. Items a collector refuses\n"
	      "in a partial success are counted (rejected=N) and said on stderr.\n"
	      "\n"
	      "Prints on stdout, at the end: shipped events=N spans=N metrics=N crashes=N\n"
	      "rejected=N left_out=N (span ends whose trace is not in the file) skipped=N\n"
	      "(acknowledged by an earlier run) files=N batches=N (requests) bytes=N\n"
	      "retries=N.\n"
	      "\n"
	      "Exit status: 0 done, 1 usage error or a DIR|FILE that does not exist,\n"
	      "2 the collector refused a request or items of one, or could not be reached,\n"
	      "or a file was damaged (its valid events were shipped).\n",
	      out);
}

void cli_ship_usage(FILE *out)
{
	fputs("Usage: ttlog ship clickhouse --url http://HOST:8123 [OPTIONS] DIR|FILE...\n"
	      "       ttlog ship otlp --endpoint http://HOST:4318 [OPTIONS] DIR|FILE...\n"
	      "\n"
	      "Ship snapshot files and stream directories into ClickHouse or to an\n"
	      "OpenTelemetry collector, exactly once per file position.\n"
	      "`ttlog ship clickhouse --help` and `ttlog ship otlp --help` give the options.\n"
	      "\n",
	      out);
	clickhouse_usage(out);
	fputs("\n", out);
	otlp_usage(out);
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

enum {
	OPT_URL = 256,
	OPT_CREATE,
	OPT_USER,
	OPT_PASSWORD,
	OPT_STATE,
	OPT_INTERVAL,
	OPT_BATCH,
	OPT_RETRIES,
	OPT_ENDPOINT,
	OPT_JSON,
	OPT_SERVICE_NAME,
};

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

static const struct option otlp_long_options[] = {
	{"endpoint", required_argument, NULL, OPT_ENDPOINT},
	{"header", required_argument, NULL, 'H'},
	{"json", no_argument, NULL, OPT_JSON},
	{"service-name", required_argument, NULL, OPT_SERVICE_NAME},
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
#define OTLP_SHORT_OPTIONS ":H:fzqh"

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
	int otlp = argc >= 2 && strcmp(argv[1], "otlp") == 0;
	if (argc < 2 || (!otlp && strcmp(argv[1], "clickhouse") != 0))
		return cli_report_usage_error(COMMAND,
					      "expected a destination: ttlog ship clickhouse|otlp ...%s%s%s",
					      argc >= 2 ? " (not '" : "", argc >= 2 ? argv[1] : "",
					      argc >= 2 ? "')" : "");
	argc--;
	argv++;
	opterr = 0;
	optind = 1;
	const char *short_options = otlp ? OTLP_SHORT_OPTIONS : SHORT_OPTIONS;
	const char **headers = NULL;
	size_t nheaders = 0;
	while ((c = getopt_long(argc, argv, short_options, otlp ? otlp_long_options : long_options, NULL)) != -1) {
		switch (c) {
		case OPT_URL:
		case OPT_ENDPOINT:
			opt.url = optarg;
			break;
		case 'H':
			headers = realloc(headers, (nheaders + 1) * sizeof *headers);
			if (!headers) {
				fprintf(stderr, "ttlog ship: out of memory\n");
				return CLI_EXIT_DATA;
			}
			headers[nheaders++] = optarg;
			break;
		case OPT_JSON:
			opt.json = 1;
			break;
		case OPT_SERVICE_NAME:
			if (!*optarg)
				return cli_report_usage_error(COMMAND, "--service-name takes a name");
			opt.service_name = optarg;
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
			free(headers);
			if (otlp)
				otlp_usage(stdout);
			else
				clickhouse_usage(stdout);
			return CLI_EXIT_OK;
		default:
			free(headers);
			return cli_report_bad_option(COMMAND, c, argv, short_options);
		}
	}
	if (!opt.url) {
		free(headers);
		return cli_report_usage_error(COMMAND, otlp ? "--endpoint http://HOST:4318 is required"
							    : "--url http://HOST:8123 is required");
	}
	opt.url_option = otlp ? "--endpoint" : "--url";
	opt.headers = headers;
	opt.nheaders = nheaders;
	if (optind >= argc) {
		free(headers);
		return cli_report_usage_error(COMMAND, "expected one or more DIR|FILE");
	}
	opt.sources = (const char *const *)(argv + optind);
	opt.nsources = (size_t)(argc - optind);
	opt.crash_text = crash_text;
	opt.stack_text = stack_text;

	struct ship_totals t;
	int rc = otlp ? ship_otlp(&opt, &t) : ship_clickhouse(&opt, &t);
	free(headers);
	if (rc == SHIP_OK && (t.rejected || t.left_out)) {
		if (t.left_out)
			fprintf(stderr, "ttlog ship: %" PRIu64 " span end%s left out: %s trace is not in the file\n",
				t.left_out, t.left_out == 1 ? "" : "s", t.left_out == 1 ? "its" : "their");
		if (t.rejected)
			rc = SHIP_FAILED;
	}
	if (!quiet && rc != SHIP_USAGE && otlp) {
		printf("shipped events=%" PRIu64 " spans=%" PRIu64 " metrics=%" PRIu64 " crashes=%" PRIu64
		       " rejected=%" PRIu64 " left_out=%" PRIu64 " skipped=%" PRIu64 " files=%" PRIu64
		       " batches=%" PRIu64 " bytes=%" PRIu64 " retries=%" PRIu64 "\n",
		       t.events, t.spans, t.metrics, t.crashes, t.rejected, t.left_out, t.skipped, t.files,
		       t.batches, t.bytes, t.retries);
	} else if (!quiet && rc != SHIP_USAGE) {
		printf("shipped events=%" PRIu64 " spans=%" PRIu64 " metrics=%" PRIu64 " crashes=%" PRIu64
		       " skipped=%" PRIu64 " files=%" PRIu64 " batches=%" PRIu64
		       " bytes=%" PRIu64 " retries=%" PRIu64 "\n",
		       t.events, t.spans, t.metrics, t.crashes, t.skipped, t.files, t.batches,
		       t.bytes, t.retries);
	}
	return rc == SHIP_OK ? CLI_EXIT_OK : rc == SHIP_USAGE ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
}
