/* SPDX-License-Identifier: MIT */
/*
 * anchor.c - the core anchor: one static struct (format/core_anchor.h,
 * docs/CORE-FORMAT.md) in libttlog's .data that a core dump carries with
 * the process's writable memory, and from which `ttlog recover --core`
 * finds everything else. Its magic is in the initialiser; ttlog_init()
 * fills the rest once (ttlog__anchor_fill), writing the version last, so
 * that an anchor with a version is whole. Nothing on the log path reads or
 * writes it. `used`: kept even though no code reads it.
 */
#include "core/anchor.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "common/state.h"
#include "format/core_anchor.h"
#include "ring/ring.h"
#include "shm/path.h"
#include "sites/desc.h"
#include "sites/sites.h"
#include "thread/thread.h"
#include "ttlog.h"

__attribute__((used, aligned(64))) struct ttlog__core_anchor ttlog__core_anchor = {
	.magic = TTLOG__ANCHOR_MAGIC,
};

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

void ttlog__anchor_fill(void)
{
	struct ttlog__core_anchor *a = &ttlog__core_anchor;
	if (a->version)
		return;
	a->size = sizeof *a;
	a->self = ADDR(a);
	a->writer_version = TTLOG_VERSION_NUMBER;
	a->pointer_size = sizeof(void *);
	a->pid = ADDR(&ttlog__g.pid);
	a->executable = ADDR(ttlog__g.executable);
	a->executable_max = sizeof ttlog__g.executable;
	a->hostname = ADDR(ttlog__g.hostname);
	a->hostname_max = sizeof ttlog__g.hostname;
	a->ring_list = ADDR(ttlog__ring_list_address());
	a->ring_struct_size = sizeof(struct ttlog__ring);
	a->ring_off_data = offsetof(struct ttlog__ring, data);
	a->ring_off_size = offsetof(struct ttlog__ring, size);
	a->ring_off_next = offsetof(struct ttlog__ring, next);
	a->ring_off_state = offsetof(struct ttlog__ring, state);
	a->ring_off_name = offsetof(struct ttlog__ring, name);
	a->ring_off_head = offsetof(struct ttlog__ring, w.head);
	a->ring_off_tail = offsetof(struct ttlog__ring, pub_tail);
	uint32_t capacity;
	const void *next_id;
	a->site_descs = ADDR(ttlog__site_desc_table(&capacity, &next_id));
	a->site_desc_size = sizeof(struct ttlog__site_desc);
	a->site_capacity = capacity;
	a->site_next_id = ADDR(next_id);
	a->calibration = ADDR(ttlog__clock_point0());
	a->calibration_size = sizeof(struct ttlog__calibration);
	if (ttlog__shm_boot_id(a->boot_id, sizeof a->boot_id) != 0)
		a->boot_id[0] = '\0';
	a->dropped[0] = ADDR(&ttlog__g.dropped_uninitialized);
	a->dropped[1] = ADDR(&ttlog__g.dropped_no_ring);
	a->dropped[2] = ADDR(&ttlog__g.dropped_frozen);
	/* Last: a version says the rest is there (a core of a process that
	 * crashed inside ttlog_init() has a version 0 anchor, refused). */
	atomic_signal_fence(memory_order_seq_cst);
	a->version = TTLOG__ANCHOR_VERSION;
}
