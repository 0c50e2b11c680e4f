/*
 * modules.h - the modules (executable, shared objects) mapped in the
 * process, kept for the MODS chunk (docs/FORMAT.md 10.2) so that the raw
 * addresses of a stack can be symbolised later, on another machine.
 *
 * The list is read with dl_iterate_phdr() in normal context only: at
 * ttlog_init() and when ttlog_snapshot_with_stack() finds that the loader's
 * add/remove counters moved. The crash handler only reads the last list,
 * which lives in memory reserved at init.
 */
#ifndef TTLOG_CRASH_MODULES_H
#define TTLOG_CRASH_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot/format.h"

#define TTLOG__MAX_MODULES 512u          /* more are counted in `missing` */
#define TTLOG__MODULE_PATHS (96u << 10)  /* bytes of paths per list */

struct ttlog__module {
	uint64_t bias, start, end;
	uint32_t path_off, path_len;     /* in the list's paths[] */
	uint32_t build_id_len;
	uint8_t build_id[TTLOG_FMT_MOD_MAX_BUILD_ID];
};

struct ttlog__module_list {
	uint32_t count;
	uint32_t missing;                /* modules that did not fit (count or paths) */
	uint64_t adds, subs;             /* the loader's counters when it was read */
	struct ttlog__module mods[TTLOG__MAX_MODULES];
	uint32_t paths_len;
	char paths[TTLOG__MODULE_PATHS];
};

/* Reserves the two lists and reads the modules. Normal context.
 * TTLOG_OK or TTLOG_E_NOMEM. Idempotent (then it refreshes). */
int ttlog__modules_init(void);

/* Reads the modules again if the loader's counters say the list changed.
 * Normal context (dl_iterate_phdr takes the loader's lock). */
void ttlog__modules_refresh(void);

/* The last complete list, or NULL before ttlog__modules_init(). Runs in
 * signal context. */
const struct ttlog__module_list *ttlog__modules_current(void);

#endif
