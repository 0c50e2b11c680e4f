/* SPDX-License-Identifier: MIT */
/*
 * stack.h - a thread's stack as raw addresses, and the registers of a
 * crash, captured for the STCK chunk (docs/FORMAT.md, STCK).
 *
 * The crash handler captures the crashing thread's stack from the signal's
 * context before it writes the snapshot, into a struct reserved at init;
 * ttlog_snapshot_with_stack() captures the calling thread's stack in normal
 * context. Symbolisation is left to the tools that read the file.
 */
#ifndef TTLOG__PROC_STACK_H
#define TTLOG__PROC_STACK_H

#include <stdint.h>

#include "format/format.h"

#define TTLOG__STACK_MAX_FRAMES 128u   /* frames kept; more sets TTLOG__FMT_STACK_TRUNCATED */
#define TTLOG__STACK_MAX_REGS 34u      /* aarch64: pc, sp, x0..x30, pstate */

struct ttlog__stack {
	uint32_t tid;
	uint32_t thread_index;          /* the thread's ring index, 0xffffffff if it has none */
	uint32_t flags;                 /* TTLOG__FMT_STACK_* */
	uint32_t arch;                  /* TTLOG__FMT_ARCH_* */
	uint32_t nframes;
	uint32_t nregs;
	uint64_t frames[TTLOG__STACK_MAX_FRAMES];  /* innermost first */
	uint32_t reg_ids[TTLOG__STACK_MAX_REGS];   /* TTLOG__FMT_REG_<arch>_* */
	uint64_t reg_values[TTLOG__STACK_MAX_REGS];
	uint32_t origin;                /* TTLOG__FMT_STACK_ORIGIN_*; SELF writes no name */
	char name[TTLOG__FMT_STCK_NAME_MAX]; /* the thread's name (origin not SELF); "" if unknown */
};

/*
 * Sets libunwind up for use in signal context and unwinds once from here,
 * so that lazy binding and libunwind's one-time set-up are done before a
 * crash needs them. Normal context, from ttlog_init(). Idempotent.
 */
void ttlog__stack_init(void);

/*
 * The crashing thread's stack from the signal's ucontext (uc): frame 0 is
 * the interrupted pc, and the registers are copied from uc. A fault while
 * unwinding (a corrupt stack) ends the walk with the frames found so far
 * and TTLOG__FMT_STACK_FAULTED, through ttlog__stack_fault_escape().
 * Runs in signal context.
 */
void ttlog__stack_capture_crash(struct ttlog__stack *st, void *uc, uint32_t tid);

/*
 * A stalled thread's stack, from its own handler of the watchdog's signal
 * (src/watchdog/): as ttlog__stack_capture_crash() from the signal's
 * context uc, frame 0 the interrupted pc, but no registers and no CRASH
 * flag. It shares the crash capture's fault escape, so the watchdog asks
 * one thread at a time. Runs in signal context.
 */
void ttlog__stack_capture_signal(struct ttlog__stack *st, void *uc, uint32_t tid);

/*
 * Called first thing by the crash handler: if this thread (tid) is inside
 * ttlog__stack_capture_crash(), the fault came from the unwinder and this
 * does not return (it jumps back into the capture, which stops there).
 * Returns otherwise. Runs in signal context.
 */
void ttlog__stack_fault_escape(uint32_t tid);

/*
 * The calling thread's stack, normal context, no registers: frames[0] is
 * return_address (the caller of the public entry point, which passes its
 * __builtin_return_address(0)); the frames inside ttlog are dropped.
 */
void ttlog__stack_capture_here(struct ttlog__stack *st, const void *return_address);

/*
 * Tests only: when set, called by the crash capture after each frame it
 * stores, so that a test can make the unwind fault at a known point (the
 * unwinder itself checks the stack memory it reads, so a corrupt stack
 * rarely makes it fault). NULL in programs.
 */
extern void (*ttlog__stack_test_hook)(void);

#endif
