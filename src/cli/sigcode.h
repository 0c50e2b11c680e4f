/* SPDX-License-Identifier: MIT */
/*
 * sigcode.h - names for the signal numbers and si_code values recorded in a
 * snapshot's crash record, for the crash summary of `ttlog view`.
 *
 * Files store Linux numbering (docs/FORMAT.md, CRSH), so the tables use the
 * Linux values themselves rather than the macros of the host's libc.
 */
#ifndef TTLOG__CLI_SIGCODE_H
#define TTLOG__CLI_SIGCODE_H

/** "SIGSEGV" for 11, ...; NULL for a number not in the table. */
const char *cli_signal_name(int signo);

/**
 * The name of an si_code ("SEGV_MAPERR") for a signal, and in *what a short
 * explanation ("address not mapped"). NULL (and *what NULL) if unknown.
 * Covers SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and the codes of signals
 * sent by a process (SI_USER, SI_TKILL, SI_QUEUE, ...) or the kernel.
 */
const char *cli_sigcode_name(int signo, int code, const char **what);

/** Whether si_addr is the faulting address for this signal and code. */
int cli_sigcode_has_address(int signo, int code);

#endif /* TTLOG__CLI_SIGCODE_H */
