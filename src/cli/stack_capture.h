/* SPDX-License-Identifier: MIT */
/*
 * stack_capture.h - every thread's stack of another running process, for
 * `ttlog snap --stacks`: each thread is stopped briefly with ptrace, unwound
 * from outside with elfutils' libdwfl, and let go.
 */
#ifndef TTLOG__CLI_STACK_CAPTURE_H
#define TTLOG__CLI_STACK_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#ifndef TTLOG_TOOLS_UNSTABLE
#define TTLOG_TOOLS_UNSTABLE
#endif
#include "ttlog_tools.h"

/** What cli_stacks_capture() found; cli_stacks_free() releases it. */
struct cli_stacks {
	struct ttlog__ext_stacks ext;      /* for ttlog__shm_snapshot_stacks() */
	struct ttlog__thread_stack *stacks;
	struct ttlog__thread_module *modules;
	void *frames_mem, *names_mem;      /* what the stacks point into */
	int64_t stopped_ns;                /* first thread stopped to last one let go */
	unsigned gone;                     /* threads that ended before they could be stopped */
	unsigned failed;                   /* threads stopped but not unwound (no frames) */
	char note[512];                    /* the first unwinding problem, "" if none */
	void *dwfl;                        /* owns the module paths and build-ids */
};

/**
 * Stops every thread of process pid (PTRACE_SEIZE, PTRACE_INTERRUPT), unwinds
 * each, and detaches from all of them, into *out. The modules are read from
 * /proc/PID/maps and their unwind tables loaded before any thread is
 * stopped, so that the process stands still only for the unwinding itself.
 * 0, or -1 with a one-line message in err that says what to do (ptrace not
 * permitted: Yama's ptrace_scope, another user, a debugger attached, a
 * container without CAP_SYS_PTRACE).
 */
int cli_stacks_capture(int pid, struct cli_stacks *out, char *err, size_t err_size);

void cli_stacks_free(struct cli_stacks *s);

#endif
