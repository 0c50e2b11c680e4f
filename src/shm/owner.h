/*
 * owner.h - the library side of shared-memory mode (src/shm/owner.c): the
 * calls the rest of the library makes so that its rings and call sites land
 * in the process's mapping. Every function is a no-op (or returns "not
 * here") while the mode is off, so the callers need no test of their own.
 */
#ifndef TTLOG_SHM_OWNER_H
#define TTLOG_SHM_OWNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "clock/clock.h"
#include "ttlog.h"

struct ttlog__ring;
struct ttlog__settings;

/* Creates the mapping for ttlog_init (st->shared_memory set), or drops
 * the previous one's role (mode off). TTLOG_OK, or TTLOG_E_DIR /
 * TTLOG_E_NOMEM with a message in err. Not signal-safe. */
int ttlog__shm_open(const struct ttlog__settings *st, char *err, size_t errsize);

/* 1 while rings are allocated in a mapping. Runs in signal context. */
int ttlog__shm_active(void);

/* size bytes aligned to align (a power of two, at most 4096) from the
 * mapping's ring arena, backed by memory now (never a SIGBUS later), or
 * NULL when the arena or the file system is full. Not signal-safe. */
void *ttlog__shm_alloc(size_t size, size_t align);

/* Enters a ring allocated by ttlog__shm_alloc, its geometry set, into the
 * ring table. Returns -1 (the ring stays out of the table and is not used)
 * if the table is full. Not signal-safe. */
int ttlog__shm_ring_publish(struct ttlog__ring *r);

/* A ring taken over for reuse: makes sure its memory is backed (after a
 * fork, only the rings the child used are). 0, or -1: do not use it. */
int ttlog__shm_ring_claimed(struct ttlog__ring *r);

/* A call site got id: copies it into the dictionary. Runs in signal context. */
void ttlog__shm_site_added(uint32_t id, const struct ttlog_site *s);

/* The slow path calls this with the ticks of its record; at most once a
 * second it refreshes calibration point 1 and the dropped counters in the
 * header. Runs in signal context. */
extern _Atomic uint64_t ttlog__shm_next_refresh;
void ttlog__shm_refresh(uint64_t ticks);
static inline void ttlog__shm_maybe_refresh(uint64_t ticks)
{
	if (ticks >= atomic_load_explicit(&ttlog__shm_next_refresh, memory_order_relaxed))
		ttlog__shm_refresh(ticks);
}

/* A snapshot took a calibration: keeps point 1 in the header. Runs in
 * signal context. */
void ttlog__shm_note_calibration(const struct ttlog__calibration *cal);

/* In a forked child, before the rings are reset: gives the child a mapping
 * of its own at the same address. Not signal-safe (atfork handler). */
void ttlog__shm_after_fork(void);

/* ttlog_shutdown and exit: state EXITING, the file removed. The memory
 * stays mapped (threads keep their rings). */
void ttlog__shm_close(void);

/* The crash snapshot was written: state CRASHED, the file removed. Runs in
 * signal context. */
void ttlog__shm_crashed(void);

#endif
