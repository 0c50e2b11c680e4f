/* SPDX-License-Identifier: MIT */
/*
 * trace_filter.h - a snapshot of one trace: the records of a thread's ring
 * that belong to one W3C trace, with the contexts and spans that enclose
 * them (docs/FORMAT.md 8.2, and 22 for the count it leaves in TRCE).
 *
 * The writer hands every record of a thread, in ring order, to
 * ttlog__trace_filter_record() instead of the emitter; the filter passes on
 * what is kept. It keeps the state a reader would build (the open contexts
 * and spans, through RESTATE groups too) so that what it passes on reads
 * back with the same scopes:
 *   - a log record, kept when the innermost open span is of the trace;
 *   - a span's begin, end and fields, kept when the span is of the trace;
 *   - a context push, held back until a kept record comes while it is open,
 *     then written before it (its pop is kept if the push was);
 *   - RESTATE groups are not passed on as they come: where the reader's
 *     scopes would differ from the filter's, the filter writes a RESTATE
 *     group of its own (the thread's last RESTATE record with its count set)
 *     holding the kept scopes open at that point, copies of their records.
 * Everything else is left out and counted: the events among it (as END's
 * log_events counts them) and all records.
 *
 * It allocates (copies of the records of open scopes): it is for snapshots
 * written on request from normal context (ttlog_trace_dump(), `ttlog snap
 * --trace`), never from a signal handler.
 */
#ifndef TTLOG__SNAPSHOT_TRACE_FILTER_H
#define TTLOG__SNAPSHOT_TRACE_FILTER_H

#include <stddef.h>
#include <stdint.h>

struct ttlog__emit;

/* What the writer is asked for and what it reports (ttlog__snapshot_source). */
struct ttlog__trace_want {
	uint64_t trace_hi, trace_lo;  /* the trace; never both 0 */
	uint64_t left_events;         /* out: events left out */
	uint64_t left_records;        /* out: records left out, events and scope records */
	uint64_t kept_events;         /* out: events of the trace written */
};

struct ttlog__trace_scope;

struct ttlog__trace_filter {
	struct ttlog__trace_want *want;
	struct ttlog__trace_scope *stack, *old; /* the open scopes, outermost first */
	size_t n, cap, nold, oldcap;
	unsigned char *restate;       /* the thread's last RESTATE record */
	uint32_t restate_size, restate_cap;
	uint32_t group_left;          /* members of a RESTATE group still to come */
	int in_group;
	int stale;                    /* the reader's scopes differ from the filter's */
	uint64_t seen, passed;        /* records of the rings, and those written */
	int oom;                      /* out of memory: everything is passed on */
};

void ttlog__trace_filter_init(struct ttlog__trace_filter *f, struct ttlog__trace_want *want);
/* A new thread's records follow. */
void ttlog__trace_filter_thread(struct ttlog__trace_filter *f);
/* One record of the current thread (as ttlog__emit_record takes it). */
void ttlog__trace_filter_record(struct ttlog__trace_filter *f, struct ttlog__emit *em,
				const unsigned char *rec, uint32_t size, uint32_t id, uint64_t ticks);
void ttlog__trace_filter_free(struct ttlog__trace_filter *f);

#endif
