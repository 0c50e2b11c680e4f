/* SPDX-License-Identifier: MIT */
/*
 * diff.c - `ttlog diff A B`: what changed from run A to run B. Each side
 * is a snapshot, a segment, a directory or a glob, read as one store into
 * a corpus (departure.c); B is compared with A and the results ranked by
 * the score of departure.h: sites new in B or gone from it, rate ratios,
 * shifts of numeric arguments' distributions, span duration shifts.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "departure.h"
#include "numbers.h"
#include "report.h"

#define COMMAND "diff"
#define DEFAULT_TOP 20
#define MAX_TOP 1000000

void cli_diff_usage(FILE *out)
{
	fputs("Usage: ttlog diff [OPTIONS] A B\n"
	      "\n"
	      "Compares the events of B with those of A (two runs, two versions, before\n"
	      "and after) and ranks what changed: call sites new in B or gone from it,\n"
	      "the rate of each site (events per second of each side's time span),\n"
	      "the distribution of each numeric argument of each site (by position,\n"
	      "and field name when it has one: latency_ms=%f), and the durations of\n"
	      "spans by name. A and B are each a snapshot, a stream segment, a\n"
	      "directory or a glob pattern (its *.ttlog and *.ttseg files, read as one).\n"
	      "Sites are matched by file, function, format, level and kind (not by id\n"
	      "or line).\n"
	      "\n"
	      "Options:\n"
	      "      --top N           show the N highest scores (default 20; 0: all)\n"
	      "  -o, --output FORMAT   text (the default: a ranked table) or json\n"
	      "      --json            the same as -o json\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "The score is the size of the change in doublings, |log2(B/A)|, times the\n"
	      "evidence n/(n+20), n the smaller of the two sample counts:\n"
	      "  rate   events per second of B over A\n"
	      "  arg    the largest shift of the argument's p50, p90 and p99\n"
	      "  span   the larger shift of the span's p50 and p99 duration\n"
	      "  new, gone  the side without the site counts as half an event over\n"
	      "         its time span\n"
	      "A change of sign, or from or to zero, counts as |rank| doublings (the\n"
	      "rank statistic below: at most one). A score of 2.3 is a value 5 times\n"
	      "larger (or smaller) in B with many samples.\n"
	      "Columns: A and B give the count and rate, or p50/p90/p99 and the count\n"
	      "n; CHANGE gives the ratio of the figure that decided the score and, for\n"
	      "arguments and spans, a rank statistic: P(B > A) - P(B < A) over all\n"
	      "pairs (Cliff's delta, -1 to +1: +1 means every B value is larger).\n"
	      "Arguments whose values only grow (counters, ids, clocks: 90% of steps\n"
	      "up) are not compared; they are named after the table.\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read\n"
	      "completely (the comparison uses the events that survived) or a side has\n"
	      "no events.\n",
	      out);
}

enum { OPT_TOP = 256, OPT_JSON };

#define SHORT_OPTIONS ":ho:"

static const struct option long_options[] = {
	{"top", required_argument, NULL, OPT_TOP},
	{"output", required_argument, NULL, 'o'},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

int cli_departure_options(const char *command, void (*usage)(FILE *), int argc, char **argv,
			  size_t *top, int *json, const char **window, int *status)
{
	int c;
	unsigned long n;
	static const struct option with_window[] = {
		{"top", required_argument, NULL, OPT_TOP},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, OPT_JSON},
		{"window", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *shorts = window ? ":ho:w:" : SHORT_OPTIONS;

	*top = DEFAULT_TOP;
	*json = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, window ? with_window : long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'o':
			if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
				*json = optarg[0] == 'j';
				break;
			}
			*status = cli_report_usage_error(command, "unknown output format '%s' (use "
								  "text or json)", optarg);
			return -1;
		case OPT_JSON:
			*json = 1;
			break;
		case 'w':
			*window = optarg;
			break;
		case OPT_TOP:
			if (cli_parse_count(optarg, 0, MAX_TOP, &n) != 0) {
				*status = cli_report_usage_error(command, "bad count '%s' for --top (use "
									  "a number from 0 to %d)",
								 optarg, MAX_TOP);
				return -1;
			}
			*top = n;
			break;
		default:
			*status = cli_report_bad_option(command, c, argv, shorts);
			return -1;
		}
	}
	return 0;
}

static double side_seconds(const struct dep_corpus *c)
{
	double s = (double)(c->last_ns - c->first_ns) / 1e9;
	return s < 0.001 ? 0.001 : s;
}

int cli_diff_main(int argc, char **argv)
{
	size_t top;
	int json, status = CLI_EXIT_OK;
	if (cli_departure_options(COMMAND, cli_diff_usage, argc, argv, &top, &json, NULL, &status) != 0)
		return status;
	if (argc - optind != 2)
		return cli_report_usage_error(COMMAND, "expected two arguments, A and B (files, "
						       "directories or globs); got %d",
					      argc - optind);
	const char *pa = argv[optind], *pb = argv[optind + 1];

	struct dep_corpus ca = {0}, cb = {0};
	int sa = dep_read_source("ttlog diff", pa, &ca);
	int sb = dep_read_source("ttlog diff", pb, &cb);
	if (sa >= 0 && sb >= 0) {
		struct dep_side a = {&ca, INT64_MIN, INT64_MAX, side_seconds(&ca), pa, 0, ca.lost};
		struct dep_side b = {&cb, INT64_MIN, INT64_MAX, side_seconds(&cb), pb, 0, cb.lost};
		dep_side_count(&a);
		dep_side_count(&b);
		struct dep_report r;
		struct render_buf line = {0};
		dep_compare(&a, &b, &r);
		dep_print(&r, &a, &b, top, json, &line);
		dep_report_free(&r);
		render_buf_free(&line);
		status = sa > sb ? sa : sb;
	} else {
		status = CLI_EXIT_DATA;
	}
	dep_corpus_free(&ca);
	dep_corpus_free(&cb);
	return status;
}
