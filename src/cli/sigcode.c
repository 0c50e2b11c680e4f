/* SPDX-License-Identifier: MIT */
/*
 * sigcode.c - tables of Linux signal numbers and si_code values for the
 * crash summary of `ttlog view` (see sigcode.h).
 *
 * Values are those of the Linux UAPI (asm-generic/signal.h and
 * asm-generic/siginfo.h) on x86-64 and aarch64, the targets ttlog supports.
 */
#include <stddef.h>

#include "sigcode.h"

enum {
	LX_SIGILL = 4,
	LX_SIGTRAP = 5,
	LX_SIGBUS = 7,
	LX_SIGFPE = 8,
	LX_SIGSEGV = 11,
};

static const struct {
	int signo;
	const char *name;
} signals[] = {
	{1, "SIGHUP"},   {2, "SIGINT"},   {3, "SIGQUIT"},  {4, "SIGILL"},  {5, "SIGTRAP"},
	{6, "SIGABRT"},  {7, "SIGBUS"},   {8, "SIGFPE"},   {9, "SIGKILL"}, {10, "SIGUSR1"},
	{11, "SIGSEGV"}, {12, "SIGUSR2"}, {13, "SIGPIPE"}, {14, "SIGALRM"}, {15, "SIGTERM"},
	{16, "SIGSTKFLT"}, {24, "SIGXCPU"}, {25, "SIGXFSZ"}, {31, "SIGSYS"},
};

const char *cli_signal_name(int signo)
{
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return NULL;
}

/* signo 0: the code means the same for every signal. */
static const struct {
	int signo;
	int code;
	const char *name;
	const char *what;
} codes[] = {
	{0, 0, "SI_USER", "sent by kill()"},
	{0, 0x80, "SI_KERNEL", "sent by the kernel"},
	{0, -1, "SI_QUEUE", "sent by sigqueue()"},
	{0, -2, "SI_TIMER", "a POSIX timer expired"},
	{0, -3, "SI_MESGQ", "a message queue changed state"},
	{0, -4, "SI_ASYNCIO", "asynchronous I/O completed"},
	{0, -5, "SI_SIGIO", "queued SIGIO"},
	{0, -6, "SI_TKILL", "sent by tkill() or raise()"},
	{0, -7, "SI_DETHREAD", "sent by execve() ending other threads"},

	{LX_SIGSEGV, 1, "SEGV_MAPERR", "address not mapped"},
	{LX_SIGSEGV, 2, "SEGV_ACCERR", "invalid permissions for mapped object"},
	{LX_SIGSEGV, 3, "SEGV_BNDERR", "failed address bound checks"},
	{LX_SIGSEGV, 4, "SEGV_PKUERR", "access denied by memory protection keys"},
	{LX_SIGSEGV, 5, "SEGV_ACCADI", "ADI not enabled for mapped object"},
	{LX_SIGSEGV, 6, "SEGV_ADIDERR", "disrupting MCD error"},
	{LX_SIGSEGV, 7, "SEGV_ADIPERR", "precise MCD exception"},
	{LX_SIGSEGV, 8, "SEGV_MTEAERR", "asynchronous MTE tag check fault"},
	{LX_SIGSEGV, 9, "SEGV_MTESERR", "synchronous MTE tag check fault"},
	{LX_SIGSEGV, 10, "SEGV_CPERR", "control protection fault"},

	{LX_SIGBUS, 1, "BUS_ADRALN", "invalid address alignment"},
	{LX_SIGBUS, 2, "BUS_ADRERR", "nonexistent physical address"},
	{LX_SIGBUS, 3, "BUS_OBJERR", "object-specific hardware error"},
	{LX_SIGBUS, 4, "BUS_MCEERR_AR", "hardware memory error, action required"},
	{LX_SIGBUS, 5, "BUS_MCEERR_AO", "hardware memory error, action optional"},

	{LX_SIGFPE, 1, "FPE_INTDIV", "integer divide by zero"},
	{LX_SIGFPE, 2, "FPE_INTOVF", "integer overflow"},
	{LX_SIGFPE, 3, "FPE_FLTDIV", "floating-point divide by zero"},
	{LX_SIGFPE, 4, "FPE_FLTOVF", "floating-point overflow"},
	{LX_SIGFPE, 5, "FPE_FLTUND", "floating-point underflow"},
	{LX_SIGFPE, 6, "FPE_FLTRES", "floating-point inexact result"},
	{LX_SIGFPE, 7, "FPE_FLTINV", "floating-point invalid operation"},
	{LX_SIGFPE, 8, "FPE_FLTSUB", "subscript out of range"},
	{LX_SIGFPE, 14, "FPE_FLTUNK", "undiagnosed floating-point exception"},
	{LX_SIGFPE, 15, "FPE_CONDTRAP", "trap on condition"},

	{LX_SIGILL, 1, "ILL_ILLOPC", "illegal opcode"},
	{LX_SIGILL, 2, "ILL_ILLOPN", "illegal operand"},
	{LX_SIGILL, 3, "ILL_ILLADR", "illegal addressing mode"},
	{LX_SIGILL, 4, "ILL_ILLTRP", "illegal trap"},
	{LX_SIGILL, 5, "ILL_PRVOPC", "privileged opcode"},
	{LX_SIGILL, 6, "ILL_PRVREG", "privileged register"},
	{LX_SIGILL, 7, "ILL_COPROC", "coprocessor error"},
	{LX_SIGILL, 8, "ILL_BADSTK", "internal stack error"},
	{LX_SIGILL, 9, "ILL_BADIADDR", "unimplemented instruction address"},

	{LX_SIGTRAP, 1, "TRAP_BRKPT", "process breakpoint"},
	{LX_SIGTRAP, 2, "TRAP_TRACE", "process trace trap"},
	{LX_SIGTRAP, 3, "TRAP_BRANCH", "process taken branch trap"},
	{LX_SIGTRAP, 4, "TRAP_HWBKPT", "hardware breakpoint or watchpoint"},
	{LX_SIGTRAP, 5, "TRAP_UNK", "undiagnosed trap"},
	{LX_SIGTRAP, 6, "TRAP_PERF", "perf event"},
};

static int is_fault_signal(int signo)
{
	return signo == LX_SIGSEGV || signo == LX_SIGBUS || signo == LX_SIGFPE ||
	       signo == LX_SIGILL || signo == LX_SIGTRAP;
}

const char *cli_sigcode_name(int signo, int code, const char **what)
{
	/* Codes <= 0 and SI_KERNEL mean the same for every signal; positive
	 * codes are per signal, and only fault signals are in the table. */
	int generic = code <= 0 || code == 0x80;

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		if (codes[i].code != code)
			continue;
		if (generic ? codes[i].signo == 0 : codes[i].signo == signo) {
			*what = codes[i].what;
			return codes[i].name;
		}
	}
	*what = NULL;
	return NULL;
}

int cli_sigcode_has_address(int signo, int code)
{
	/* A signal sent by a process carries the sender's pid and uid where a
	 * fault carries the address: only kernel-generated faults have one. */
	return is_fault_signal(signo) && code > 0 && code != 0x80;
}
