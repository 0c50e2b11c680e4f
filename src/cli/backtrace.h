/* SPDX-License-Identifier: MIT */
/*
 * backtrace.h - the stacks a snapshot holds, printed by `ttlog view` after
 * a file's crash summary as a debugger's backtraces: each stack innermost
 * frame first, symbolised (symbolize.c), as text lines on stdout or one
 * JSON object per stack; then, on request, the crashing thread's registers
 * and the modules recorded with the stacks.
 */
#ifndef TTLOG__CLI_BACKTRACE_H
#define TTLOG__CLI_BACKTRACE_H

#include <stddef.h>

#include "cli.h"
#include "symbolize.h"
#include "ttlog_reader.h"

/* The backtraces of one `ttlog view`, over all its files. A zeroed struct
 * with the options and symbols_note set is ready. */
struct cli_backtrace {
	/* Options. */
	int json;                /* one JSON object per stack and line, else text */
	int registers;           /* --registers: the crashing thread's registers */
	int modules;             /* --modules: the modules recorded with the stacks */
	int no_symbols;          /* --no-symbols: addresses as module+offset only */
	int crash_only;          /* only the crashing thread's stack */
	struct render_buf *capture; /* not NULL: the output is appended here, not
				       written to stdout */
	const char **debug_dirs; /* --debug-dir, in the order given; the array is owned */
	size_t ndebug_dirs;
	/* Says "symbols: TEXT" where the command's other notes go (TEXT may
	 * come from a file: the callee shows it safely). */
	void (*symbols_note)(void *note_arg, const char *text);
	void *note_arg;

	struct cli_sym *sym;     /* the last file's symboliser, kept for the next
				    file if it has the same modules */
	struct render_buf line;  /* the text line being built */
};

/** Prints the stacks of r's file and, with modules, the modules recorded
 *  with them. */
void cli_backtrace_print(struct cli_backtrace *bt, const ttlog_reader *r);

/** Frees what bt holds (debug_dirs' array included). */
void cli_backtrace_free(struct cli_backtrace *bt);

#endif /* TTLOG__CLI_BACKTRACE_H */
