/* SPDX-License-Identifier: MIT */
/*
 * self.c - ttlog's own metrics, kept always: what was written, what was
 * lost and why, how full each ring is. Snapshots (MTRC) and the Prometheus
 * writer report them next to the program's metrics, under names that
 * start with "ttlog_" (which programs may not use).
 *
 * They are not slots in shards: each is computed when asked from counters
 * the library keeps anyway (struct ttlog__global, the rings), so they cost
 * nothing on any hot path.
 *
 * Everything in this file runs in signal context.
 */
#include <stdatomic.h>

#include "clock/clock.h"
#include "common/dir_rules.h"
#include "common/internal.h"
#include "common/sigsafe.h"
#include "common/state.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "sites/sampling.h"
#include "thread/thread.h"

/* Hands one counter to fn. Runs in signal context. */
static void emit_counter(void (*fn)(void *, const struct ttlog__self_metric *), void *ctx,
			 const char *name, const char *help, const char *labels, uint64_t value)
{
	struct ttlog__self_metric m = {0};
	m.name = name;
	m.help = help;
	m.labels = labels;
	m.labels_len = strlen(labels) ? strlen(labels) + 1 : 0; /* one label at most here */
	m.type = TTLOG__METRIC_COUNTER;
	m.counter = value;
	fn(ctx, &m);
}

/* One of the library's counters. Runs in signal context. */
static uint64_t g_load(_Atomic uint64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Bytes between a ring's tail and head over its size: how much of its
 * history the ring holds. Runs in signal context. */
static void ring_use(void (*fn)(void *, const struct ttlog__self_metric *), void *ctx,
		     uint64_t now)
{
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		/* Relaxed, all three: only the numbers are used, no byte or
		 * field is read through them, and a head and tail from two
		 * owners (a ring being reset) are clamped below. */
		uint32_t st = atomic_load_explicit(&r->state, memory_order_relaxed);
		if (st != TTLOG__RING_LIVE && st != TTLOG__RING_EXITED)
			continue;
		uint64_t head = atomic_load_explicit(&r->w.head, memory_order_relaxed);
		uint64_t tail = atomic_load_explicit(&r->pub_tail, memory_order_relaxed);
		uint64_t used = head >= tail ? head - tail : 0; /* a ring being reset */
		if (used > r->size)
			used = r->size;
		char label[32];
		struct ttlog__sbuf sb;
		ttlog__sb_init(&sb, label, sizeof label);
		ttlog__sb_str(&sb, "thread=");
		ttlog__sb_u64(&sb, r->index, 0);
		struct ttlog__self_metric m = {0};
		m.name = "ttlog_ring_used_ratio";
		m.help = "Bytes of history a thread's ring holds, over its size (thread: the "
			 "thread index of snapshots)";
		m.labels = label;
		m.labels_len = sb.len + 1;
		m.type = TTLOG__METRIC_GAUGE;
		m.gauge = r->size ? (double)used / (double)r->size : 0.0;
		m.gauge_ticks = now;
		fn(ctx, &m);
	}
}

/* The directories init refused (common/dir_rules.h), one gauge of 1 for
 * each; none when all were accepted, as in almost every process. Runs in
 * signal context. */
static void dirs_refused(void (*fn)(void *, const struct ttlog__self_metric *), void *ctx,
			 uint64_t now)
{
	static const struct {
		unsigned bit;
		const char *label;
	} dirs[] = {{TTLOG_REFUSED_SNAPSHOT_DIR, "dir=snapshot"},
		    {TTLOG_REFUSED_SHARED_DIR, "dir=shared_memory"}};
	unsigned refused = ttlog__dir_refused();
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!(refused & dirs[i].bit))
			continue;
		struct ttlog__self_metric m = {0};
		m.name = "ttlog_dirs_refused";
		m.help = "Default directories ttlog_init refused as unsafe (another user's, a link, "
			 "a file, or writable by others): snapshot, written to a private directory "
			 "beside it instead; shared_memory, rings kept in private memory";
		m.labels = dirs[i].label;
		m.labels_len = strlen(dirs[i].label) + 1;
		m.type = TTLOG__METRIC_GAUGE;
		m.gauge = 1.0;
		m.gauge_ticks = now;
		fn(ctx, &m);
	}
}

/* The triggers' metrics (TTLOG_TRIGGER, src/trigger/), only in a process
 * with rules or with rules refused, so that other files keep their
 * metrics as before: each rule with the metric action's fires, then the
 * totals. Runs in signal context. */
static void triggers(void (*fn)(void *, const struct ttlog__self_metric *), void *ctx)
{
	const struct ttlog__trigger_fired *t =
		atomic_load_explicit(&ttlog__g.trigger_fired, memory_order_acquire);
	uint32_t n = t ? atomic_load_explicit(&t->n, memory_order_acquire) : 0;
	uint64_t refused = g_load(&ttlog__g.triggers_refused);
	if (!n && !refused)
		return;
	for (uint32_t i = 0; i < n && i < TTLOG__TRIGGER_FIRED_MAX; i++)
		if (t->rule[i].metric)
			emit_counter(fn, ctx, "ttlog_triggers_fired_total",
				     "Fires of a trigger rule with the metric action (rule: its name= "
				     "or its text)",
				     t->rule[i].label, atomic_load_explicit(&t->rule[i].fired,
									   memory_order_relaxed));
	emit_counter(fn, ctx, "ttlog_trigger_fires_total", "Fires of every trigger rule", "",
		     g_load(&ttlog__g.triggers_fired));
	emit_counter(fn, ctx, "ttlog_trigger_matches_held_total",
		     "Trigger matches the rate policy held back (every:N, max=N/PERIOD, once, or "
		     "during the post-roll of the rule's last fire)", "",
		     g_load(&ttlog__g.triggers_suppressed));
	emit_counter(fn, ctx, "ttlog_trigger_snapshots_total", "Snapshots triggers wrote (reason trigger)",
		     "", g_load(&ttlog__g.trigger_snapshots));
	emit_counter(fn, ctx, "ttlog_trigger_snapshots_failed_total",
		     "Trigger snapshots that could not be written", "",
		     g_load(&ttlog__g.trigger_snapshots_failed));
	emit_counter(fn, ctx, "ttlog_trigger_commands_failed_total",
		     "Trigger commands (exec:) that could not be started", "",
		     g_load(&ttlog__g.trigger_exec_failed));
	emit_counter(fn, ctx, "ttlog_trigger_records_missed_total",
		     "Records the trigger timer never saw: gone from their ring before its look", "",
		     g_load(&ttlog__g.trigger_records_missed));
	emit_counter(fn, ctx, "ttlog_trigger_rules_refused_total",
		     "Trigger rules ttlog_init refused as bad (said on stderr)", "", refused);
}

/* See metrics.h. Runs in signal context. */
void ttlog__self_metrics(void (*fn)(void *ctx, const struct ttlog__self_metric *m), void *ctx,
			 uint64_t strings_truncated, uint64_t redacted)
{
	uint64_t now = ttlog__clock_now();
	emit_counter(fn, ctx, "ttlog_events_written_total", "Events written into the rings", "",
		     ttlog__rings_records());
	emit_counter(fn, ctx, "ttlog_events_overwritten_total",
		     "Events the rings dropped to make room for newer ones", "",
		     ttlog__rings_overwritten() + g_load(&ttlog__g.overwritten_retired));
	const char *dropped_help =
		"Events dropped: logged or updated before ttlog_init or after shutdown "
		"(uninitialized), by threads without a ring (no_ring), by a 1-in-N sampling rule "
		"(sampled) or a rate limit (rate_limited); site_table_full counts call sites "
		"disabled because the site table was full";
	emit_counter(fn, ctx, "ttlog_events_dropped_total", dropped_help, "reason=uninitialized",
		     g_load(&ttlog__g.dropped_uninitialized));
	emit_counter(fn, ctx, "ttlog_events_dropped_total", dropped_help, "reason=no_ring",
		     g_load(&ttlog__g.dropped_no_ring));
	emit_counter(fn, ctx, "ttlog_events_dropped_total", dropped_help, "reason=site_table_full",
		     g_load(&ttlog__g.dropped_sites));
	uint64_t sampled, rate_limited;
	ttlog__sampling_totals(&sampled, &rate_limited);
	emit_counter(fn, ctx, "ttlog_events_dropped_total", dropped_help, "reason=sampled", sampled);
	emit_counter(fn, ctx, "ttlog_events_dropped_total", dropped_help, "reason=rate_limited",
		     rate_limited);
	emit_counter(fn, ctx, "ttlog_torn_records_total",
		     "Records overwritten while a snapshot copied them", "",
		     g_load(&ttlog__g.torn_records));
	if (strings_truncated != UINT64_MAX) {
		struct ttlog__self_metric m = {0};
		m.name = "ttlog_strings_truncated";
		m.help = "String arguments cut at max_string among the events of this snapshot";
		m.labels = "";
		m.type = TTLOG__METRIC_GAUGE;
		m.gauge = (double)strings_truncated;
		m.gauge_ticks = now;
		fn(ctx, &m);
	}
	if (redacted != UINT64_MAX) {
		struct ttlog__self_metric m = {0};
		m.name = "ttlog_redacted_values";
		m.help = "Argument values of this file's events that TTLOG_REDACT replaced by a marker";
		m.labels = "";
		m.type = TTLOG__METRIC_GAUGE;
		m.gauge = (double)redacted;
		m.gauge_ticks = now;
		fn(ctx, &m);
	}
	emit_counter(fn, ctx, "ttlog_threads_without_signal_stack_total",
		     "Threads started without an alternate signal stack (its budget, a quarter "
		     "of the memory cap, was spent): a stack overflow there leaves no snapshot",
		     "", g_load(&ttlog__g.threads_without_altstack));
	emit_counter(fn, ctx, "ttlog_snapshots_written_total", "Snapshots written", "",
		     g_load(&ttlog__g.snapshots_written));
	emit_counter(fn, ctx, "ttlog_snapshots_failed_total", "Snapshots that could not be written", "",
		     g_load(&ttlog__g.snapshots_failed));
	emit_counter(fn, ctx, "ttlog_snapshots_busy_total",
		     "Snapshot requests refused because one was being written", "",
		     g_load(&ttlog__g.snapshots_busy));
	emit_counter(fn, ctx, "ttlog_watchdog_stalls_total",
		     "Threads the watchdog (TTLOG_WATCHDOG) found stalled inside a span, each "
		     "stall once", "", g_load(&ttlog__g.watchdog_stalls));
	emit_counter(fn, ctx, "ttlog_watchdog_snapshots_total",
		     "Snapshots the watchdog wrote (reason watchdog)", "",
		     g_load(&ttlog__g.watchdog_snapshots));
	emit_counter(fn, ctx, "ttlog_watchdog_snapshots_failed_total",
		     "Watchdog snapshots that could not be written", "",
		     g_load(&ttlog__g.watchdog_failed));
	emit_counter(fn, ctx, "ttlog_watchdog_unanswered_total",
		     "Stalled threads that did not run the watchdog's signal handler in time: "
		     "their stacks are empty", "", g_load(&ttlog__g.watchdog_unanswered));
	emit_counter(fn, ctx, "ttlog_metrics_refused_total",
		     "Metrics refused because the registry or the shards were full", "",
		     ttlog__metrics_refused());
	emit_counter(fn, ctx, "ttlog_metrics_rejected_total",
		     "Metric uses disabled for a bad name or labels, or a name used with "
		     "another type",
		     "", ttlog__metrics_rejected());
	emit_counter(fn, ctx, "ttlog_stream_promotions_suppressed_total",
		     "Promotions the stream left out: more than TTLOG_PROMOTE_MAX in a second", "",
		     g_load(&ttlog__g.promotions_suppressed));
	triggers(fn, ctx);
	dirs_refused(fn, ctx, now);
	ring_use(fn, ctx, now);
}
