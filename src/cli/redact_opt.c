/* SPDX-License-Identifier: MIT */
/*
 * redact_opt.c - --redact RULES / TTLOG_REDACT for the commands that write
 * snapshots from a mapping (see redact_opt.h). The library parses the rules
 * and hands them to its snapshot writer (ttlog__snapshot_redact), which
 * applies them to every record it copies, before compression.
 */
#include "redact_opt.h"

#include <stdlib.h>

#include "report.h"
#define TTLOG_TOOLS_UNSTABLE
#include "ttlog_tools.h"

int cli_redact_setup(const char *command, const char *option)
{
	char err[512];
	const char *spec = option ? option : getenv("TTLOG_REDACT");
	if (ttlog__snapshot_redact(spec, err, sizeof err) != TTLOG_OK) {
		cli_report_usage_error(command, "%s%s", option ? "--redact: " : "", err);
		return -1;
	}
	return 0;
}
