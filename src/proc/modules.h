/* SPDX-License-Identifier: MIT */
/*
 * modules.h - the modules (executable, shared objects) mapped in the
 * process, kept for the MODS chunk (docs/FORMAT.md, MODS) so that the raw
 * addresses of a stack can be symbolised later, on another machine.
 *
 * The list is read with dl_iterate_phdr() in normal context: at
 * ttlog_init() and when ttlog_snapshot_with_stack() finds that the loader's
 * add/remove counters moved. The crash handler cannot call it; it brings
 * the last list up to date by walking the dynamic linker's link map
 * (ttlog__modules_at_crash()), so a library loaded with dlopen() after the
 * last refresh is in a crash snapshot too. All lists live in memory
 * reserved at init.
 */
#ifndef TTLOG__PROC_MODULES_H
#define TTLOG__PROC_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "format/format.h"

#define TTLOG__MAX_MODULES 512u          /* more are counted in `missing` */
#define TTLOG__MODULE_PATHS (96u << 10)  /* bytes of paths per list */
#define TTLOG__MODULES_WALK_MAX 8192u   /* link-map entries followed per namespace at crash time */

struct ttlog__module {
	uint64_t bias, start, end;
	uint32_t path_off, path_len;     /* in the list's paths[] */
	uint32_t build_id_len;
	uint8_t build_id[TTLOG__FMT_MOD_MAX_BUILD_ID];
};

struct ttlog__module_list {
	uint32_t count;
	uint32_t missing;                /* modules that did not fit (count or paths) */
	uint64_t adds, subs;             /* the loader's counters when it was read */
	struct ttlog__module mods[TTLOG__MAX_MODULES];
	uint32_t paths_len;
	char paths[TTLOG__MODULE_PATHS];
};

/* Reserves the lists and reads the modules. Normal context.
 * TTLOG_OK or TTLOG_E_NOMEM. Idempotent (then it refreshes). */
int ttlog__modules_init(void);

/* Reads the modules again if the loader's counters say the list changed.
 * Normal context (dl_iterate_phdr takes the loader's lock). */
void ttlog__modules_refresh(void);

/* The last complete list, or NULL before ttlog__modules_init(). Runs in
 * signal context. */
const struct ttlog__module_list *ttlog__modules_current(void);

/*
 * The current list brought up to date from the dynamic linker's link map
 * (modules loaded since the last refresh added, modules unloaded since left
 * out), built in a list reserved for the crash path; or the current list
 * itself when the link map is being changed or cannot be read safely; NULL
 * before ttlog__modules_init(). Only the thread that owns the crash calls
 * it (src/crash/crash.c), and the list stays valid until its next call.
 * Runs in signal context.
 */
const struct ttlog__module_list *ttlog__modules_at_crash(void);

/*
 * For the tests: fills out from the link-map chain starting at head (a
 * struct link_map *, one namespace), as ttlog__modules_at_crash() does,
 * taking the modules old has (may be NULL) from it. Modules that cannot be
 * read are counted in out->missing. Returns how many modules were read from
 * memory, or -1 if the chain cannot be followed (unreadable entry, l_prev
 * not the previous entry, a cycle) or checked reads do not work here.
 * Not thread-safe (shares the crash path's scratch memory). Runs in signal
 * context.
 */
int ttlog__modules_walk(struct ttlog__module_list *out, const struct ttlog__module_list *old,
			const void *head);

#endif
