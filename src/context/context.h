/*
 * context.h - thread contexts: the push copies and their re-statement.
 *
 * The public side is in ttlog.h (TTLOG_CONTEXT, TTLOG_CONTEXT_PUSH,
 * ttlog_context_pop); the records are described in docs/FORMAT.md (site
 * kinds CONTEXT_PUSH, CONTEXT_POP and RESTATE).
 */
#ifndef TTLOG_CONTEXT_CONTEXT_H
#define TTLOG_CONTEXT_CONTEXT_H

#include <stdint.h>

#include "ring/ring.h"

/*
 * Called by the ring's slow path right after it entered a new segment at
 * logical offset h: writes a RESTATE record and a copy of each open
 * context's push record there, using at most room bytes, publishes them and
 * returns the offset after them (h if there is nothing to re-state).
 * Runs on the ring's owning thread.
 */
uint64_t ttlog__context_restate(struct ttlog__ring *r, uint64_t h, uint32_t room);

#endif
