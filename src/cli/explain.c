/* SPDX-License-Identifier: MIT */
/*
 * explain.c - `ttlog explain FILE`: what departed in the last moments of a
 * snapshot. The events of FILE (a snapshot, a segment, a directory or a
 * glob) are read once into a corpus (departure.c); its last window (from
 * the last event back) is compared with the earlier part of its history,
 * as `ttlog diff` compares two runs, and the results ranked by the same
 * score.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "default_file.h"
#include "departure.h"
#include "report.h"
#include "time_args.h"

#define COMMAND "explain"
#define DEFAULT_SHARE 5 /* the window is 1/DEFAULT_SHARE of the history */

void cli_explain_usage(FILE *out)
{
	fputs("Usage: ttlog explain [OPTIONS] [FILE]\n"
	      "\n"
	      "Compares the last window of FILE's history (a snapshot, a stream\n"
	      "segment, a directory or a glob pattern, read as one) with the part\n"
	      "before it, and ranks what departed: call sites that appeared or went\n"
	      "quiet, rates that changed, numeric arguments whose distribution\n"
	      "shifted (latency_ms=%f five times higher), spans that got slower. The\n"
	      "ranking and its score are those of 'ttlog diff' (see 'ttlog diff\n"
	      "--help'), with A the earlier part and B the window. Without FILE: the\n"
	      "newest snapshot of the default directory (as 'ttlog ls' lists it).\n"
	      "\n"
	      "Options:\n"
	      "  -w, --window DURATION the last DURATION before the last event (2s,\n"
	      "                        500ms, 1m; default: the last fifth of the\n"
	      "                        history)\n"
	      "      --top N           show the N highest scores (default 20; 0: all)\n"
	      "  -o, --output FORMAT   text (the default: a ranked table) or json\n"
	      "      --json            the same as -o json\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error (also a window as long as the\n"
	      "whole history), 2 a file could not be read completely (the comparison\n"
	      "uses the events that survived) or it has no events.\n",
	      out);
}

int cli_explain_main(int argc, char **argv)
{
	size_t top;
	int json, status = CLI_EXIT_OK;
	const char *window = NULL;
	if (cli_departure_options(COMMAND, cli_explain_usage, argc, argv, &top, &json, &window,
				  &status) != 0)
		return status;
	int64_t window_ns = 0;
	if (window) {
		const char *why;
		if (cli_duration_parse(window, &window_ns, &why) != 0)
			return cli_report_usage_error(COMMAND, "bad duration '%s' for --window: %s",
						      window, why);
		if (window_ns <= 0)
			return cli_report_usage_error(COMMAND, "--window must be longer than 0");
	}
	if (argc - optind > 1)
		return cli_report_usage_error(COMMAND, "expected one FILE (a file, directory or "
						       "glob); got %d",
					      argc - optind);
	char path[8192];
	const char *source = argv[optind];
	if (!source) {
		if (cli_default_snapshot(COMMAND, path, sizeof path) != 0)
			return CLI_EXIT_USAGE;
		source = path;
	}

	struct dep_corpus c = {0};
	int st = dep_read_source("ttlog explain", source, &c);
	if (st < 0) {
		dep_corpus_free(&c);
		return CLI_EXIT_DATA;
	}
	int64_t span = c.last_ns - c.first_ns;
	if (!window)
		window_ns = span / DEFAULT_SHARE;
	if (window_ns >= span || window_ns <= 0) {
		dep_corpus_free(&c);
		return cli_report_usage_error(COMMAND, "the window (%.3f s) leaves nothing before it: "
						       "the history of %s is %.3f s long",
					      (double)window_ns / 1e9, source, (double)span / 1e9);
	}
	int64_t cut = c.last_ns - window_ns;
	char label_a[8400], label_b[8400];
	snprintf(label_a, sizeof label_a, "%s before the window", source);
	snprintf(label_b, sizeof label_b, "%s, the window (its last %.3f s)", source,
		 (double)window_ns / 1e9);
	/* What a ring lost is its oldest history: it is shown with the part
	 * before the window. */
	struct dep_side before = {&c, INT64_MIN, cut, (double)(cut - c.first_ns) / 1e9, label_a, 0, c.lost};
	struct dep_side last = {&c, cut, INT64_MAX, (double)window_ns / 1e9, label_b, 0, 0};
	if (before.seconds < 0.001)
		before.seconds = 0.001;
	if (last.seconds < 0.001)
		last.seconds = 0.001;
	dep_side_count(&before);
	dep_side_count(&last);

	struct dep_report r;
	struct render_buf line = {0};
	dep_compare(&before, &last, &r);
	dep_print(&r, &before, &last, top, json, &line);
	dep_report_free(&r);
	render_buf_free(&line);
	dep_corpus_free(&c);
	return st;
}
