/* SPDX-License-Identifier: MIT */
/*
 * redact_opt.h - the redaction rules of the commands that write snapshots
 * from a shared mapping (ttlog snap, ttlog recover): --redact RULES, else
 * TTLOG_REDACT of the command's environment, in the syntax of the
 * library's TTLOG_REDACT, set as the rules the snapshot writer of this
 * process applies (ttlog__snapshot_redact).
 */
#ifndef TTLOG_CLI_REDACT_OPT_H
#define TTLOG_CLI_REDACT_OPT_H

/* Sets the rules from option (NULL: not given) or TTLOG_REDACT. 0, or -1
 * with the error printed for command (a usage error). */
int cli_redact_setup(const char *command, const char *option);

#endif
