/* SPDX-License-Identifier: MIT */
/*
 * fuzz_options.c - libFuzzer target for option and configuration parsing:
 * the filter options `ttlog view` and `export` share (--level, --since,
 * --until, --last, --grep, --thread, --field, --trace, --service), the
 * duration and time parsers behind them, and the TTLOG_* environment
 * variables the library reads at ttlog_init() (ttlog__config_resolve()).
 *
 * The input is lines. A line "TTLOG_NAME=VALUE" sets that variable for
 * the configuration round at the end; any other line is an option: its
 * first byte picks which (option_code()), the rest is the argument, and
 * it also goes to the duration and time parsers. Checked on the way: a parser that says
 * no gives a message; a time or duration it accepts resolves without
 * overflow reports. --grep patterns are kept short (glibc's regcomp of a
 * long pathological pattern is slow, and not ours).
 */
#define _GNU_SOURCE
#include "common/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/filter.h"
#include "cli/time_args.h"
#include "core/config.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The command's standard output, which src/cli/report.c reaches for: the
 * target writes nothing to it. */
int cli_stdout_failed(void)
{
	return 0;
}

void cli_sync_stdout(void)
{
}

#define MAX_LINES 16
#define MAX_LINE 256

static const int option_codes[] = {
	'l', 'g', 't', 'f', CLI_OPT_SINCE, CLI_OPT_UNTIL, CLI_OPT_LAST, CLI_OPT_TRACE, CLI_OPT_SERVICE,
};

/* The option a line's first byte names: l g t f as on the command line,
 * s u L T S for --since --until --last --trace --service, any other byte
 * one of them by its value. */
static int option_code(char c)
{
	switch (c) {
	case 'l': case 'g': case 't': case 'f': return c;
	case 's': return CLI_OPT_SINCE;
	case 'u': return CLI_OPT_UNTIL;
	case 'L': return CLI_OPT_LAST;
	case 'T': return CLI_OPT_TRACE;
	case 'S': return CLI_OPT_SERVICE;
	default:
		return option_codes[(unsigned char)c % (sizeof option_codes / sizeof *option_codes)];
	}
}

static void parsers(const char *arg)
{
	int64_t ns = 0;
	const char *why = NULL;
	if (cli_duration_parse(arg, &ns, &why) != 0)
		CHECK(why && *why);
	struct cli_time t;
	why = NULL;
	if (cli_time_parse(arg, &t, &why) == 0) {
		(void)cli_time_resolve(&t, INT64_C(1767225600000000000), 1);
		(void)cli_time_resolve(&t, INT64_C(1767225600000000000), 0);
	} else {
		CHECK(why && *why);
	}
	uint64_t u = 0;
	(void)ttlog__parse_duration(arg, &u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char lines[MAX_LINES][MAX_LINE];
	size_t nlines = 0, at = 0;
	while (at < size && nlines < MAX_LINES) {
		size_t end = at;
		while (end < size && data[end] != '\n')
			end++;
		size_t len = end - at < MAX_LINE - 1 ? end - at : MAX_LINE - 1;
		memcpy(lines[nlines], data + at, len);
		lines[nlines][len] = '\0';
		nlines++;
		at = end + 1;
	}

	struct cli_filter f;
	cli_filter_init(&f, MAX_LINES);
	char err[512];
	const char *set[MAX_LINES];
	char names[MAX_LINES][MAX_LINE];
	size_t nset = 0;
	for (size_t i = 0; i < nlines; i++) {
		char *line = lines[i];
		char *eq = strchr(line, '=');
		if (strncmp(line, "TTLOG_", 6) == 0 && eq) {
			/* putenv, not setenv: glibc's setenv keeps every
			 * NAME=value string it ever made, so millions of runs
			 * with new values grow without bound (an out-of-memory
			 * report that is the C library's, not ours). putenv
			 * uses the line itself, removed before it goes away. */
			size_t n = (size_t)(eq - line);
			memcpy(names[nset], line, n);
			names[nset][n] = '\0';
			if (putenv(line) == 0) {
				set[nset] = names[nset];
				nset++;
			}
			continue;
		}
		if (!*line)
			continue;
		int code = option_code(line[0]);
		const char *arg = line + 1;
		parsers(arg);
		if (code == 'g' && strlen(arg) > 32)
			continue;
		err[0] = '\0';
		int rc = cli_filter_option(&f, code, arg, err, sizeof err);
		CHECK(rc == 1 || (rc == -1 && err[0]));
	}
	err[0] = '\0';
	if (cli_filter_finish(&f, err, sizeof err) != 0)
		CHECK(err[0]);
	cli_filter_free(&f);

	struct ttlog__settings st;
	err[0] = '\0';
	if (ttlog__config_resolve(NULL, &st, err, sizeof err) != 0)
		CHECK(err[0]);
	for (size_t i = 0; i < nset; i++)
		unsetenv(set[i]);
	return 0;
}
