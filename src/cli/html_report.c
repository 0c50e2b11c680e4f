/* SPDX-License-Identifier: MIT */
/*
 * html_report.c - `ttlog report`: the options of the offline report, and
 * the report (src/serve/report.c) written to stdout.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mapping.h"
#include "report.h"
#include "serve/serve.h"
#include "stack_json.h"

#define COMMAND "report"

void cli_htmlreport_usage(FILE *out)
{
	fputs("Usage: ttlog report [OPTIONS] FILE|DIR > report.html\n"
	      "\n"
	      "Writes the page of `ttlog serve` as one self-contained HTML file with the\n"
	      "data of FILE (a snapshot or segment) or DIR (a stream directory, read as\n"
	      "one store) embedded: the timeline, the events, every span, the metrics,\n"
	      "the crash and its symbolised stacks. It opens from disk in a browser with\n"
	      "no server and no network, so that a crash can be attached to a ticket.\n"
	      "SQL needs `ttlog serve`.\n"
	      "\n"
	      "Options:\n"
	      "  -n, --last N   embed the last N events (default 100000); the events\n"
	      "                 left out are counted in the file\n"
	      "  -h, --help     show this help and exit\n"
	      "\n"
	      "Exit status: 0 written, 1 usage error (also: stdout is a terminal), 2 the\n"
	      "file cannot be read or the output failed.\n",
	      out);
}

static const struct option long_options[] = {
	{"last", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTIONS ":n:h"

int cli_htmlreport_main(int argc, char **argv)
{
	struct serve_report_config cfg;
	memset(&cfg, 0, sizeof cfg);
	cfg.last_events = 100000;
	cfg.shm_base = cli_shm_base(NULL);
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			if (!*optarg || *optarg == '-')
				return cli_report_usage_error(COMMAND, "--last takes a count");
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || v == 0 || v > 100000000ULL)
				return cli_report_usage_error(COMMAND, "--last takes 1 to 100000000");
			cfg.last_events = v;
			break;
		}
		case 'h':
			cli_htmlreport_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
		}
	}
	if (optind >= argc)
		return cli_report_usage_error(COMMAND, "expected a FILE or DIR");
	if (argc - optind > 1)
		return cli_report_usage_error(COMMAND, "expected one FILE or DIR, got %d", argc - optind);
	if (isatty(STDOUT_FILENO))
		return cli_report_usage_error(COMMAND, "the report is HTML: redirect it to a file "
				   "(ttlog report FILE > report.html)");
	cfg.paths = argv + optind;
	cfg.npaths = 1;
	cfg.stack_json = cli_stack_json;
	int rc = serve_report_write(&cfg, stdout);
	return rc ? CLI_EXIT_DATA : CLI_EXIT_OK;
}
