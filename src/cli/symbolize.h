/* SPDX-License-Identifier: MIT */
/*
 * symbolize.h - turns the raw addresses of a snapshot's stacks into
 * function names and source lines, for `ttlog view`.
 *
 * A snapshot records the modules the process had mapped (path, load bias,
 * address range, build-id) and its stacks as bare addresses; the symboliser
 * finds the ELF file of each module on this machine, checks that it is the
 * same build (by build-id), and asks elfutils' libdwfl for the symbol, the
 * line and the inlined calls at each address. Whatever cannot be found or
 * trusted falls back to "module+offset", never to a wrong line: a missing
 * or rebuilt file, a file that is not ELF or is cut short, a module the
 * snapshot did not record.
 *
 * Only the command links libdw; the library (libttlog) does not.
 */
#ifndef TTLOG__CLI_SYMBOLIZE_H
#define TTLOG__CLI_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog_reader.h"

/** The symboliser of one snapshot's modules. */
struct cli_sym;

/** Flags of cli_sym_open(). */
#define CLI_SYM_NO_FILES 1u /* open no file: every frame is module+offset (--no-symbols) */

/**
 * Makes a symboliser for these modules (copied: the array may go away).
 * debug_dirs are extra directories to search for separate debug files and
 * for files by build-id, before the standard ones (DIR/.build-id/xx/rest.debug,
 * DIR/.build-id/xx/rest, and the .gnu_debuglink name under DIR). No file
 * is opened until an address needs it, and each one is opened once.
 * Returns NULL when memory runs out.
 */
struct cli_sym *cli_sym_open(const struct ttlog_module *modules, size_t nmodules,
			     const char *const *debug_dirs, size_t ndebug_dirs, unsigned flags);

/**
 * 1 if s was made for exactly these modules (paths, biases, ranges and
 * build-ids): the snapshots of one process can share a symboliser, and so
 * open each file once. Then the notes start again from the first, so that
 * each snapshot's output has them.
 */
int cli_sym_reuse(struct cli_sym *s, const struct ttlog_module *modules, size_t nmodules);

/** Frees the symboliser and every string it returned. NULL is allowed. */
void cli_sym_close(struct cli_sym *s);

/** What an address is, as one frame of a backtrace. */
struct cli_sym_frame {
	const char *module;     /* the recorded path; NULL if no module contains the address */
	uint64_t offset;        /* address - the module's bias: its ELF virtual address,
				   what `addr2line -e MODULE` takes */
	const char *function;   /* NULL if unknown */
	const char *file;       /* source file; NULL if there is no line information */
	unsigned line;
	int inlined;            /* the code of this frame was inlined into the next
				   frame, which has the same address */
};

/**
 * Resolves an address into out[0..max-1]: the innermost inlined function
 * first, then the functions it was inlined into, the last being the real
 * function. A return address (is_return: every frame of a stack but an
 * exact pc) is looked up at address - 1, so that the line is the call's,
 * not the next statement's. Returns how many frames were written: at least
 * 1 when max >= 1 (a frame with only module and offset, or nothing at all,
 * when nothing more is known). The strings stay valid until cli_sym_close().
 */
size_t cli_sym_lookup(struct cli_sym *s, uint64_t address, int is_return,
		      struct cli_sym_frame *out, size_t max);

/**
 * The next remark about the symbols not yet taken, such as "build-id
 * mismatch for PATH (...)", made once per module when its file cannot be
 * used; NULL when there is none. Valid until cli_sym_close().
 */
const char *cli_sym_next_note(struct cli_sym *s);

#endif /* TTLOG__CLI_SYMBOLIZE_H */
