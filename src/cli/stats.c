/* SPDX-License-Identifier: MIT */
/*
 * stats.c - `ttlog stats`: what is in snapshot files, counted: events by
 * level, by thread and by call site (by count and by bytes), the time range
 * and event rate, what was lost (overwritten, torn, dropped, sampled out,
 * strings truncated) and how well the event blocks compressed.
 *
 * Each file is read on its own, in the order given, and reported on its own
 * (a report per file; no totals across files, whose processes and clocks
 * have nothing in common). The counts are of the events the reader returns,
 * so a damaged file is counted up to its damage: its report comes first,
 * then the reader's error, and the exit status is 2.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "default_file.h"
#include "store_args.h"
#include "render/event_message.h"
#include "render/json_text.h"
#include "render/names.h"
#include "render/time_text.h"
#include "report.h"
#include "sigcode.h"
#include "ttlog_reader.h"

#define COMMAND "stats"
#define DEFAULT_TOP 10
#define MAX_TOP 1000000
#define NLEVELS (TTLOG_LEVEL_FATAL + 1)

/* The counts of one call site. */
struct site_count {
	const struct ttlog_site_info *site; /* NULL: a free slot of the table */
	uint64_t events;
	uint64_t bytes;
};

/* The events of one thread, found by its info pointer (stable until the
 * reader is closed) in an array sorted by that pointer. */
struct thread_count {
	const struct ttlog_thread_info *thread;
	uint64_t events;
};

/* Everything counted over one file's events. */
struct tally {
	uint64_t events;
	uint64_t by_level[NLEVELS];
	uint64_t other_level;        /* events whose site has no valid level */
	uint64_t spans_begun, spans_ended;
	uint64_t truncated_strings;  /* string arguments cut at the writer's limit */
	uint64_t bytes;              /* sum of the records' sizes */
	int64_t first_ns, last_ns;   /* valid when events > 0 */

	/* Open addressing, linear probing; the capacity is a power of two
	 * and at most half full, so every probe ends at a free slot. */
	struct site_count *sites;
	size_t site_cap, nsites;

	struct thread_count *threads;
	size_t nthreads;
};

struct stats {
	int json, utc;
	size_t top;
	const char *service; /* --service: only files of this service */
	unsigned reports;  /* text reports printed so far */
	struct render_buf line;
};

void cli_stats_usage(FILE *out)
{
	fputs("Usage: ttlog stats [OPTIONS] [FILE...]\n"
	      "\n"
	      "Reads every event of each snapshot file and reports, per file (a FILE may be\n"
	      "a segment, or a directory or glob of segments and snapshots):\n"
	      "  - the process, the reason and whether the file is complete;\n"
	      "  - events: the count, the time of the first and the last, the time between\n"
	      "    them and the event rate over it (events/s), span begins and ends;\n"
	      "  - redacted: the values TTLOG_REDACT replaced, for a file written with it;\n"
	      "  - refused dirs: default directories the process's ttlog_init refused as\n"
	      "    unsafe (snapshot, shared_memory), for a file written by such a process;\n"
	      "  - lost: events overwritten in their ring, torn while the snapshot copied\n"
	      "    them (records and bytes), log calls dropped by the process, calls left\n"
	      "    out by sampling rules (1-in-N and rate limits), string arguments\n"
	      "    truncated at the writer's limit, and for a segment the events its\n"
	      "    stream lost (gone from the ring before the stream read them; what the\n"
	      "    ring overwrote after the stream read it is no loss and counts 0); and\n"
	      "    the call sites the process disabled for want of a site id (its\n"
	      "    TTLOG_MAX_SITES was reached; their calls are not counted), shown\n"
	      "    when there are any;\n"
	      "  - size: the file, the event records (decompressed and as stored, in how\n"
	      "    many blocks), the compression ratio (decompressed / stored), the\n"
	      "    codecs of the blocks (none, lz4, packed, zstd: blocks and stored bytes\n"
	      "    of each) and the bytes per event (stored records, and the whole file);\n"
	      "  - events by level (count and share), by thread (id, name, events, events\n"
	      "    overwritten and torn, or for a segment lost by the stream, exited or\n"
	      "    crashed);\n"
	      "  - the call sites with the most events and those with the most bytes of\n"
	      "    records (FILE:LINE, level and format). A span's begin and end both count\n"
	      "    at the site where the span began.\n"
	      "Files are reported one after the other, each on its own: there are no totals\n"
	      "across files. Without a FILE: the newest snapshot of the default directory\n"
	      "(the one `ttlog ls` lists), named on stderr.\n"
	      "\n"
	      "Options:\n"
	      "      --top N           show N call sites in each top list (default 10; 0\n"
	      "                        leaves the lists out)\n"
	      "  -o, --output FORMAT   text (the default) or json: one JSON object per file\n"
	      "                        and line\n"
	      "      --utc             show times in UTC instead of local time\n"
	      "      --service NAME    only files (segments and snapshots) of service NAME;\n"
	      "                        a NAME that no file has is an error (exit 1)\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "JSON lines: path, complete, error (the reader's message or null), pid,\n"
	      "  executable, hostname, reason, created_ns, crashed, signal, events,\n"
	      "  first_ns, last_ns, duration_ns, rate (events/s, null below two events or\n"
	      "  with no time between them), spans_begun, spans_ended, lost {overwritten,\n"
	      "  torn, torn_bytes, dropped, sampled_out, dropped_sampled,\n"
	      "  dropped_rate_limited, truncated_strings, stream_lost, dropped_sites},\n"
	      "  for a segment service, segment, open and stream {lost, filtered,\n"
	      "  promoted, ring_overwritten (no loss: the stream had read them)}, size,\n"
	      "  record_bytes, raw_bytes, stored_bytes, blocks, compression_ratio (null\n"
	      "  when nothing is stored), codecs {none, lz4, packed, zstd: {blocks,\n"
	      "  stored_bytes}, the codecs with blocks only}, bytes_per_event {stored,\n"
	      "  file} (null without events), levels {TRACE..FATAL: count}, threads [{tid,\n"
	      "  name, events, overwritten, torn, torn_bytes, stream_lost, exited,\n"
	      "  crashed}], top_by_count and top_by_bytes [{file, line, function, level,\n"
	      "  format, events, bytes}].\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error, 2 a file could not be read\n"
	      "completely (its report covers the events before the damage, then the\n"
	      "reader's error follows on stderr) or the output could not be written.\n",
	      out);
}

/* ---- Counting ------------------------------------------------------------ */

static size_t hash_pointer(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	/* A 64-bit multiplicative hash; the high bits are the well-mixed ones. */
	x *= 0x9e3779b97f4a7c15ull;
	return (size_t)(x >> 32);
}

static struct site_count *site_slot(struct tally *t, const struct ttlog_site_info *site)
{
	if (2 * (t->nsites + 1) > t->site_cap) {
		size_t cap = t->site_cap ? 2 * t->site_cap : 64;
		struct site_count *old = t->sites;
		size_t old_cap = t->site_cap;
		t->sites = render_xrealloc(NULL, cap * sizeof *t->sites);
		memset(t->sites, 0, cap * sizeof *t->sites);
		t->site_cap = cap;
		for (size_t i = 0; i < old_cap; i++) {
			if (!old[i].site)
				continue;
			size_t j = hash_pointer(old[i].site) & (cap - 1);
			while (t->sites[j].site)
				j = (j + 1) & (cap - 1);
			t->sites[j] = old[i];
		}
		free(old);
	}
	size_t j = hash_pointer(site) & (t->site_cap - 1);
	while (t->sites[j].site && t->sites[j].site != site)
		j = (j + 1) & (t->site_cap - 1);
	if (!t->sites[j].site) {
		t->sites[j].site = site;
		t->nsites++;
	}
	return &t->sites[j];
}

static int by_thread_pointer(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct thread_count *)a)->thread;
	uintptr_t y = (uintptr_t)((const struct thread_count *)b)->thread;
	return x < y ? -1 : x > y;
}

static void tally_init(struct tally *t, ttlog_reader *r)
{
	memset(t, 0, sizeof *t);
	size_t n = ttlog_reader_thread_count(r);
	t->threads = render_xrealloc(NULL, n * sizeof *t->threads);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *thread = ttlog_reader_thread(r, i);
		if (thread)
			t->threads[t->nthreads++] = (struct thread_count){thread, 0};
	}
	qsort(t->threads, t->nthreads, sizeof *t->threads, by_thread_pointer);
}

static void tally_free(struct tally *t)
{
	free(t->sites);
	free(t->threads);
}

static struct thread_count *find_thread(struct tally *t, const struct ttlog_thread_info *thread)
{
	struct thread_count key = {thread, 0};
	if (!t->nthreads)
		return NULL;
	return bsearch(&key, t->threads, t->nthreads, sizeof *t->threads, by_thread_pointer);
}

static void count_event(struct tally *t, const struct ttlog_event *ev)
{
	/* A span's end has the library's site: count it where the span began. */
	const struct ttlog_site_info *site = ev->site;
	if (ev->kind == TTLOG_EVENT_SPAN_END && ev->span && ev->span->site)
		site = ev->span->site;

	if (t->events == 0 || ev->time_ns < t->first_ns)
		t->first_ns = ev->time_ns;
	if (t->events == 0 || ev->time_ns > t->last_ns)
		t->last_ns = ev->time_ns;
	t->events++;
	t->bytes += ev->size;

	int level = site ? site->level : -1;
	if (level >= 0 && level < NLEVELS)
		t->by_level[level]++;
	else
		t->other_level++;
	t->spans_begun += ev->kind == TTLOG_EVENT_SPAN_BEGIN;
	t->spans_ended += ev->kind == TTLOG_EVENT_SPAN_END;
	for (unsigned i = 0; i < ev->nargs && ev->args; i++)
		t->truncated_strings += ev->args[i].type == TTLOG_ARG_STR && ev->args[i].str_truncated;

	if (site) {
		struct site_count *s = site_slot(t, site);
		s->events++;
		s->bytes += ev->size;
	}
	struct thread_count *tc = ev->thread ? find_thread(t, ev->thread) : NULL;
	if (tc)
		tc->events++;
}

/* ---- Top lists ------------------------------------------------------------ */

static int more_events(const void *a, const void *b)
{
	const struct site_count *x = *(const struct site_count *const *)a;
	const struct site_count *y = *(const struct site_count *const *)b;
	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	/* Ties in site id order, so that the lists are the same every run. */
	return x->site->id < y->site->id ? -1 : x->site->id > y->site->id;
}

static int more_bytes(const void *a, const void *b)
{
	const struct site_count *x = *(const struct site_count *const *)a;
	const struct site_count *y = *(const struct site_count *const *)b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return more_events(a, b);
}

/* The used slots of the site table, sorted with cmp; *n gets how many. */
static struct site_count **sorted_sites(const struct tally *t, int (*cmp)(const void *, const void *),
					size_t *n)
{
	struct site_count **list = render_xrealloc(NULL, (t->nsites ? t->nsites : 1) * sizeof *list);
	size_t k = 0;
	for (size_t i = 0; i < t->site_cap; i++)
		if (t->sites[i].site)
			list[k++] = &t->sites[i];
	qsort(list, k, sizeof *list, cmp);
	*n = k;
	return list;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Events per second between the first and the last event; < 0 if there is
 * no such time (fewer than two events, or all at the same time). */
static double event_rate(const struct tally *t)
{
	if (t->events < 2 || t->last_ns <= t->first_ns)
		return -1;
	return (double)(t->events - 1) * 1e9 / (double)(t->last_ns - t->first_ns);
}

static double compression_ratio(const struct ttlog_file_info *info)
{
	return info->stored_bytes ? (double)info->raw_bytes / (double)info->stored_bytes : -1;
}

/* The values the writer's redaction rules replaced (the metric
 * ttlog_redacted_values), or -1 for a file written without rules. */
static int64_t redacted_values(ttlog_reader *r)
{
	size_t n = 0;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	for (size_t i = 0; m && i < n; i++)
		if (m[i].self && strcmp(m[i].name, "ttlog_redacted_values") == 0)
			return (int64_t)m[i].gauge;
	return -1;
}

/* The directories the writing process's ttlog_init refused (the metric
 * ttlog_dirs_refused, one per directory, label dir=snapshot or
 * dir=shared_memory), as "shared_memory, snapshot"; "" when none was. */
static void refused_dirs(ttlog_reader *r, struct render_buf *out)
{
	size_t n = 0;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	render_buf_reset(out);
	for (size_t i = 0; m && i < n; i++) {
		if (!m[i].self || strcmp(m[i].name, "ttlog_dirs_refused") != 0 || m[i].nlabels != 1)
			continue;
		render_buf_printf(out, "%s%s", out->len ? ", " : "", m[i].labels[0].value);
	}
}

/* The codecs of docs/FORMAT.md 9.1, by number, as TTLOG_COMPRESSION names them. */
static const char *const codec_names[4] = {"none", "lz4", "packed", "zstd"};

/* ---- Text report ---------------------------------------------------------- */

static void put_line(struct stats *s, const char *text)
{
	render_buf_reset(&s->line);
	render_buf_puts(&s->line, text);
	render_buf_putc(&s->line, '\n');
	render_buf_write(&s->line, stdout);
}

static void print_signal(struct cli_table *t, const struct ttlog_file_info *info)
{
	const char *name = info->crash.signal_name;
	if (!name || !*name)
		name = cli_signal_name(info->crash.signo);
	if (name)
		cli_table_cell(t, "crashed: %s (signal %d) in thread %" PRIu32, name,
			       info->crash.signo, info->crash.tid);
	else
		cli_table_cell(t, "crashed: signal %d in thread %" PRIu32, info->crash.signo,
			       info->crash.tid);
}

static void print_summary(struct stats *s, ttlog_reader *r, const struct tally *t,
			  uint64_t file_size)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	const struct ttlog_sampling_totals *sm = ttlog_reader_sampling_totals(r);
	enum render_time_style style = s->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL;
	char tb[RENDER_TIME_BUF], sb[CLI_SIZE_BUF];
	struct render_buf text = {0};
	struct cli_table kv;

	cli_table_init(&kv, 2, 0);
	cli_table_cell(&kv, "process");
	render_buf_printf(&text, "pid %" PRIu32 ", ", info->pid);
	cli_report_text(&text, info->executable);
	render_buf_puts(&text, ", host ");
	cli_report_text(&text, info->hostname);
	cli_table_cell(&kv, "%s", text.data);
	cli_table_cell(&kv, "reason");
	cli_table_text(&kv, info->reason);
	cli_table_cell(&kv, "created");
	cli_table_cell(&kv, "%s", render_time_format(info->created_ns, style, tb));
	if (*info->service || info->is_segment) {
		cli_table_cell(&kv, "service");
		cli_table_text(&kv, info->service);
	}
	if (info->is_segment) {
		cli_table_cell(&kv, "segment");
		cli_table_cell(&kv, "%" PRIu64 " of the stream started %s", info->segment,
			       render_time_format(info->stream_start_ns, style, tb));
	}
	cli_table_cell(&kv, "state");
	if (info->crashed)
		print_signal(&kv, info);
	else if (info->open)
		cli_table_cell(&kv, "open (no END chunk yet: being written, or its writer died)");
	else
		cli_table_cell(&kv, "%s", info->complete ? "complete" : "incomplete (no END chunk)");
	if (info->crashed && !info->complete) {
		cli_table_cell(&kv, "%s", "");
		cli_table_cell(&kv, "incomplete (no END chunk)");
	}

	cli_table_cell(&kv, "events");
	if (t->spans_begun || t->spans_ended)
		cli_table_cell(&kv, "%" PRIu64 " (span begins %" PRIu64 ", span ends %" PRIu64 ")",
			       t->events, t->spans_begun, t->spans_ended);
	else
		cli_table_cell(&kv, "%" PRIu64, t->events);
	if (t->events) {
		cli_table_cell(&kv, "first");
		cli_table_cell(&kv, "%s", render_time_format(t->first_ns, style, tb));
		cli_table_cell(&kv, "last");
		cli_table_cell(&kv, "%s", render_time_format(t->last_ns, style, tb));
		render_buf_reset(&text);
		render_duration(&text, t->last_ns - t->first_ns);
		cli_table_cell(&kv, "duration");
		cli_table_cell(&kv, "%s", text.data);
		double rate = event_rate(t);
		cli_table_cell(&kv, "rate");
		if (rate >= 0)
			cli_table_cell(&kv, "%.1f events/s", rate);
		else
			cli_table_cell(&kv, "-");
	}

	/* A segment's overwritten count is its rings' and no loss: the stream
	 * had read those records; what it had not is stream lost, below. */
	cli_table_cell(&kv, "overwritten");
	if (info->is_segment)
		cli_table_cell(&kv, "0 (%" PRIu64 " in the rings after the stream read them)",
			       info->overwritten);
	else
		cli_table_cell(&kv, "%" PRIu64, info->overwritten);
	cli_table_cell(&kv, "torn");
	cli_table_cell(&kv, "%" PRIu64 " (%" PRIu64 " bytes)", info->torn, info->torn_bytes);
	cli_table_cell(&kv, "dropped");
	cli_table_cell(&kv, "%" PRIu64, info->dropped);
	if (info->dropped_sites) {
		/* Their calls were never counted: only the sites are. */
		cli_table_cell(&kv, "sites without an id");
		cli_table_cell(&kv, "%" PRIu64 " (disabled for good: max_sites reached; their "
				    "calls are not counted)", info->dropped_sites);
	}
	if (info->is_segment) {
		cli_table_cell(&kv, "stream lost");
		cli_table_cell(&kv, "%" PRIu64 " (gone from the rings before the stream read them)",
			       info->stream_lost);
		cli_table_cell(&kv, "filtered");
		cli_table_cell(&kv, "%" PRIu64 " (below the stream's level, left in the rings)",
			       info->filtered);
		cli_table_cell(&kv, "promoted");
		cli_table_cell(&kv, "%" PRIu64 " (streamed because of an error near them)",
			       info->promoted);
	}
	cli_table_cell(&kv, "sampled out");
	cli_table_cell(&kv, "%" PRIu64 " (1-in-N %" PRIu64 ", rate limit %" PRIu64 ")",
		       sm->dropped_sampled + sm->dropped_rate_limited, sm->dropped_sampled,
		       sm->dropped_rate_limited);
	cli_table_cell(&kv, "truncated strings");
	cli_table_cell(&kv, "%" PRIu64, t->truncated_strings);
	int64_t redacted = redacted_values(r);
	if (redacted >= 0) {
		cli_table_cell(&kv, "redacted");
		cli_table_cell(&kv, "%" PRId64 " values (TTLOG_REDACT)", redacted);
	}
	render_buf_reset(&text);
	refused_dirs(r, &text);
	if (text.len) {
		cli_table_cell(&kv, "refused dirs");
		cli_table_cell(&kv, "%s (unsafe at ttlog_init: another user's, a link, or open to "
			       "others; see ttlog_refused_dirs())", text.data);
	}
	const struct ttlog_reader_counters *rc = ttlog_reader_counters(r);
	if (rc && rc->chunks_unknown) {
		cli_table_cell(&kv, "unknown chunks");
		cli_table_cell(&kv,
			       "%" PRIu64 " skipped (the first, %s, at byte %" PRIu64
			       "): from a newer ttlog, or damaged",
			       rc->chunks_unknown, rc->chunk_unknown_type, rc->chunk_unknown_offset);
	}

	cli_table_cell(&kv, "file size");
	if (file_size < 1024)
		cli_table_cell(&kv, "%" PRIu64 " bytes", file_size);
	else
		cli_table_cell(&kv, "%" PRIu64 " bytes (%s)", file_size, cli_report_size(file_size, sb));
	cli_table_cell(&kv, "records");
	cli_table_cell(&kv, "%" PRIu64 " bytes decompressed, %" PRIu64 " stored, in %" PRIu64 " blocks",
		       info->raw_bytes, info->stored_bytes, info->blocks);
	cli_table_cell(&kv, "compression");
	double ratio = compression_ratio(info);
	if (ratio >= 0)
		cli_table_cell(&kv, "%.2f", ratio);
	else
		cli_table_cell(&kv, "-");
	cli_table_cell(&kv, "codecs");
	{
		struct render_buf cb = {0};
		for (int c = 0; rc && c < 4; c++)
			if (rc->codec_blocks[c])
				render_buf_printf(&cb, "%s%s %" PRIu64 " block%s, %" PRIu64 " bytes",
						  cb.len ? "; " : "", codec_names[c], rc->codec_blocks[c],
						  rc->codec_blocks[c] == 1 ? "" : "s", rc->codec_stored[c]);
		cli_table_cell(&kv, "%s", cb.len ? cb.data : "-");
		render_buf_free(&cb);
	}
	cli_table_cell(&kv, "bytes per event");
	if (t->events)
		cli_table_cell(&kv, "%.2f stored, %.2f in the file",
			       (double)info->stored_bytes / (double)t->events,
			       (double)file_size / (double)t->events);
	else
		cli_table_cell(&kv, "-");

	cli_table_print(&kv, "  ", &s->line);
	cli_table_free(&kv);
	render_buf_free(&text);
}

static void print_levels(struct stats *s, const struct tally *t)
{
	struct cli_table tab;

	put_line(s, "");
	put_line(s, "Levels:");
	cli_table_init(&tab, 3, 1u << 1 | 1u << 2);
	cli_table_cell(&tab, "LEVEL");
	cli_table_cell(&tab, "EVENTS");
	cli_table_cell(&tab, "%%");
	for (int level = 0; level < NLEVELS; level++) {
		cli_table_cell(&tab, "%s", ttlog_level_name(level));
		cli_table_cell(&tab, "%" PRIu64, t->by_level[level]);
		cli_table_cell(&tab, "%.1f", percent(t->by_level[level], t->events));
	}
	if (t->other_level) {
		cli_table_cell(&tab, "other");
		cli_table_cell(&tab, "%" PRIu64, t->other_level);
		cli_table_cell(&tab, "%.1f", percent(t->other_level, t->events));
	}
	cli_table_print(&tab, "  ", &s->line);
	cli_table_free(&tab);
}

static void print_threads(struct stats *s, ttlog_reader *r, struct tally *t)
{
	struct cli_table tab;
	size_t n = ttlog_reader_thread_count(r);
	const struct ttlog_file_info *info = ttlog_reader_info(r);

	put_line(s, "");
	if (!t->nthreads) {
		put_line(s, "Threads: none");
		return;
	}
	put_line(s, "Threads:");
	/* Right-aligned: TID, EVENTS, OVERWRITTEN, TORN. */
	cli_table_init(&tab, 6, 1u << 0 | 1u << 2 | 1u << 3 | 1u << 4);
	tab.min_width[0] = 7; /* Linux thread ids have at most 7 digits (pid_max <= 2^22) */
	const char *const heads[] = {"TID", "NAME", "EVENTS",
				     info->is_segment ? "STREAM LOST" : "OVERWRITTEN", "TORN", "STATE"};
	for (size_t i = 0; i < 6; i++)
		cli_table_cell(&tab, "%s", heads[i]);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *thread = ttlog_reader_thread(r, i);
		const struct thread_count *tc = thread ? find_thread(t, thread) : NULL;
		if (!thread)
			continue;
		cli_table_cell(&tab, "%" PRIu32, thread->tid);
		cli_table_text(&tab, thread->name && *thread->name ? thread->name : "-");
		cli_table_cell(&tab, "%" PRIu64, tc ? tc->events : 0);
		cli_table_cell(&tab, "%" PRIu64,
			       info->is_segment ? thread->stream_lost : thread->overwritten);
		cli_table_cell(&tab, "%" PRIu64, thread->torn);
		cli_table_cell(&tab, "%s", thread->crashed ? "crashed" : thread->exited ? "exited" : "");
	}
	cli_table_print(&tab, "  ", &s->line);
	cli_table_free(&tab);
}

static void print_top(struct stats *s, const struct tally *t, int by_bytes)
{
	size_t n;
	struct site_count **list = sorted_sites(t, by_bytes ? more_bytes : more_events, &n);
	struct cli_table tab;
	struct render_buf where = {0};

	if (n > s->top)
		n = s->top;
	put_line(s, "");
	render_buf_reset(&s->line);
	if (n)
		render_buf_printf(&s->line, "Top %zu call site%s by %s:\n", n, n == 1 ? "" : "s",
				  by_bytes ? "bytes" : "events");
	else
		render_buf_printf(&s->line, "Top call sites by %s: none\n", by_bytes ? "bytes" : "events");
	render_buf_write(&s->line, stdout);
	if (!n) {
		free(list);
		return;
	}
	/* The list by events leaves out the bytes: the list by bytes has both. */
	size_t ncols = by_bytes ? 6 : 5;
	cli_table_init(&tab, ncols, by_bytes ? 1u << 0 | 1u << 1 | 1u << 2 : 1u << 0 | 1u << 1);
	static const char *const heads_bytes[] = {"BYTES", "%", "EVENTS", "LEVEL", "SITE", "FORMAT"};
	static const char *const heads_events[] = {"EVENTS", "%", "LEVEL", "SITE", "FORMAT"};
	for (size_t i = 0; i < ncols; i++)
		cli_table_cell(&tab, "%s", by_bytes ? heads_bytes[i] : heads_events[i]);
	for (size_t i = 0; i < n; i++) {
		const struct site_count *c = list[i];
		if (by_bytes) {
			cli_table_cell(&tab, "%" PRIu64, c->bytes);
			cli_table_cell(&tab, "%.1f", percent(c->bytes, t->bytes));
		}
		cli_table_cell(&tab, "%" PRIu64, c->events);
		if (!by_bytes)
			cli_table_cell(&tab, "%.1f", percent(c->events, t->events));
		cli_table_cell(&tab, "%s", ttlog_level_name(c->site->level));
		render_buf_reset(&where);
		cli_report_text(&where, render_base_name(c->site->file));
		render_buf_printf(&where, ":%" PRIu32, c->site->line);
		cli_table_cell(&tab, "%s", where.data);
		cli_table_text(&tab, c->site->format);
	}
	cli_table_print(&tab, "  ", &s->line);
	cli_table_free(&tab);
	render_buf_free(&where);
	free(list);
}

static void print_text(struct stats *s, const char *path, ttlog_reader *r, struct tally *t,
		       uint64_t file_size)
{
	if (s->reports++)
		put_line(s, ""); /* between the reports of two files */
	render_buf_reset(&s->line);
	render_buf_puts(&s->line, "File ");
	cli_report_text(&s->line, path);
	render_buf_puts(&s->line, ":\n");
	render_buf_write(&s->line, stdout);
	print_summary(s, r, t, file_size);
	print_levels(s, t);
	print_threads(s, r, t);
	if (s->top) {
		print_top(s, t, 0);
		print_top(s, t, 1);
	}
}

/* ---- JSON report ---------------------------------------------------------- */

static void json_top(struct stats *s, const struct tally *t, int by_bytes)
{
	struct render_buf *b = &s->line;
	size_t n;
	struct site_count **list = sorted_sites(t, by_bytes ? more_bytes : more_events, &n);

	if (n > s->top)
		n = s->top;
	render_buf_printf(b, ",\"%s\":[", by_bytes ? "top_by_bytes" : "top_by_count");
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_site_info *site = list[i]->site;
		render_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
		render_json_cstring(b, site->file);
		render_buf_printf(b, ",\"line\":%" PRIu32 ",\"function\":", site->line);
		render_json_cstring(b, site->function);
		render_buf_puts(b, ",\"level\":");
		render_json_cstring(b, ttlog_level_name(site->level));
		render_buf_puts(b, ",\"format\":");
		render_json_cstring(b, site->format);
		render_buf_printf(b, ",\"events\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", list[i]->events,
				  list[i]->bytes);
	}
	render_buf_putc(b, ']');
	free(list);
}

static void print_json(struct stats *s, const char *path, ttlog_reader *r, struct tally *t,
		       uint64_t file_size)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	const struct ttlog_sampling_totals *sm = ttlog_reader_sampling_totals(r);
	const char *error = ttlog_reader_status(r) != TTLOG_OK ? ttlog_reader_error(r) : NULL;
	struct render_buf *b = &s->line;

	render_buf_reset(b);
	render_buf_puts(b, "{\"path\":");
	render_json_cstring(b, path);
	render_buf_printf(b, ",\"complete\":%s,\"error\":", info->complete ? "true" : "false");
	render_json_cstring(b, error);
	render_buf_printf(b, ",\"pid\":%" PRIu32 ",\"executable\":", info->pid);
	render_json_cstring(b, info->executable);
	render_buf_puts(b, ",\"hostname\":");
	render_json_cstring(b, info->hostname);
	render_buf_puts(b, ",\"reason\":");
	render_json_cstring(b, info->reason);
	render_buf_printf(b, ",\"created_ns\":%" PRId64 ",\"crashed\":%s,\"signal\":", info->created_ns,
			  info->crashed ? "true" : "false");
	if (info->crashed) {
		const char *name = info->crash.signal_name;
		render_json_cstring(b, name && *name ? name : cli_signal_name(info->crash.signo));
	} else {
		render_buf_puts(b, "null");
	}
	render_buf_printf(b, ",\"events\":%" PRIu64, t->events);
	if (t->events)
		render_buf_printf(b, ",\"first_ns\":%" PRId64 ",\"last_ns\":%" PRId64
				  ",\"duration_ns\":%" PRId64,
			       t->first_ns, t->last_ns, t->last_ns - t->first_ns);
	else
		render_buf_puts(b, ",\"first_ns\":null,\"last_ns\":null,\"duration_ns\":null");
	double rate = event_rate(t);
	render_buf_puts(b, ",\"rate\":");
	if (rate >= 0)
		render_json_double(b, rate);
	else
		render_buf_puts(b, "null");
	render_buf_printf(b,
			  ",\"spans_begun\":%" PRIu64 ",\"spans_ended\":%" PRIu64
			  ",\"lost\":{\"overwritten\":%" PRIu64 ",\"torn\":%" PRIu64
			  ",\"torn_bytes\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"sampled_out\":%" PRIu64
			  ",\"dropped_sampled\":%" PRIu64 ",\"dropped_rate_limited\":%" PRIu64
			  ",\"truncated_strings\":%" PRIu64 ",\"stream_lost\":%" PRIu64
			  ",\"dropped_sites\":%" PRIu64 "}",
			  t->spans_begun, t->spans_ended, info->is_segment ? 0 : info->overwritten,
			  info->torn, info->torn_bytes, info->dropped,
			  sm->dropped_sampled + sm->dropped_rate_limited, sm->dropped_sampled,
			  sm->dropped_rate_limited, t->truncated_strings, info->stream_lost,
			  info->dropped_sites);
	if (*info->service || info->is_segment) {
		render_buf_puts(b, ",\"service\":");
		render_json_cstring(b, info->service);
	}
	if (info->is_segment)
		render_buf_printf(b,
				  ",\"segment\":%" PRIu64 ",\"open\":%s,\"stream\":{\"lost\":%" PRIu64
				  ",\"filtered\":%" PRIu64 ",\"promoted\":%" PRIu64
				  ",\"ring_overwritten\":%" PRIu64 "}",
				  info->segment, info->open ? "true" : "false", info->stream_lost,
				  info->filtered, info->promoted, info->overwritten);
	render_buf_printf(b,
			  ",\"size\":%" PRIu64 ",\"record_bytes\":%" PRIu64 ",\"raw_bytes\":%" PRIu64
			  ",\"stored_bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"compression_ratio\":",
			  file_size, t->bytes, info->raw_bytes, info->stored_bytes, info->blocks);
	double ratio = compression_ratio(info);
	if (ratio >= 0)
		render_json_double(b, ratio);
	else
		render_buf_puts(b, "null");
	const struct ttlog_reader_counters *rc = ttlog_reader_counters(r);
	render_buf_puts(b, ",\"codecs\":{");
	for (int c = 0, any_codec = 0; rc && c < 4; c++)
		if (rc->codec_blocks[c]) {
			render_buf_printf(b, "%s\"%s\":{\"blocks\":%" PRIu64 ",\"stored_bytes\":%" PRIu64 "}",
					  any_codec++ ? "," : "", codec_names[c], rc->codec_blocks[c],
					  rc->codec_stored[c]);
		}
	render_buf_puts(b, "},\"bytes_per_event\":");
	if (t->events) {
		render_buf_puts(b, "{\"stored\":");
		render_json_double(b, (double)info->stored_bytes / (double)t->events);
		render_buf_puts(b, ",\"file\":");
		render_json_double(b, (double)file_size / (double)t->events);
		render_buf_puts(b, "}");
	} else {
		render_buf_puts(b, "null");
	}
	render_buf_printf(b, ",\"chunks_unknown\":%" PRIu64, rc ? rc->chunks_unknown : 0);
	struct render_buf dirs = {0};
	refused_dirs(r, &dirs);
	render_buf_puts(b, ",\"refused_dirs\":[");
	for (const char *p = dirs.len ? dirs.data : ""; *p;) {
		size_t len = strcspn(p, ",");
		render_buf_printf(b, "%s\"%.*s\"", p == dirs.data ? "" : ",", (int)len, p);
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	render_buf_puts(b, "]");
	render_buf_free(&dirs);
	render_buf_puts(b, ",\"levels\":{");
	for (int level = 0; level < NLEVELS; level++)
		render_buf_printf(b, "%s\"%s\":%" PRIu64, level ? "," : "", ttlog_level_name(level),
				  t->by_level[level]);
	render_buf_puts(b, "},\"threads\":[");
	size_t n = ttlog_reader_thread_count(r);
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *thread = ttlog_reader_thread(r, i);
		const struct thread_count *tc = thread ? find_thread(t, thread) : NULL;
		if (!thread)
			continue;
		render_buf_printf(b, "%s{\"tid\":%" PRIu32 ",\"name\":", any ? "," : "", thread->tid);
		render_json_cstring(b, thread->name ? thread->name : "");
		render_buf_printf(b,
				  ",\"events\":%" PRIu64 ",\"overwritten\":%" PRIu64 ",\"torn\":%" PRIu64
				  ",\"torn_bytes\":%" PRIu64 ",\"stream_lost\":%" PRIu64
				  ",\"exited\":%s,\"crashed\":%s}",
				  tc ? tc->events : 0, info->is_segment ? 0 : thread->overwritten,
				  thread->torn, thread->torn_bytes, thread->stream_lost,
				  thread->exited ? "true" : "false",
				  thread->crashed ? "true" : "false");
		any = 1;
	}
	render_buf_putc(b, ']');
	json_top(s, t, 0);
	json_top(s, t, 1);
	render_buf_puts(b, "}\n");
	render_buf_write(b, stdout);
}

/* ---- Files ---------------------------------------------------------------- */

static int stats_file(struct stats *s, const char *path)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);

	const struct ttlog_file_info *info = r ? ttlog_reader_info(r) : NULL;
	if (s->service && info && strcmp(info->service, s->service) != 0) {
		ttlog_reader_close(r);
		return CLI_EXIT_OK;
	}
	/* Nothing to count: not a snapshot, or cut before its HEAD chunk
	 * (every real HEAD has a writer version and a creation time). */
	if (!info || !(rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT) ||
	    (info->writer_version == 0 && info->created_ns == 0)) {
		const char *error = r ? ttlog_reader_error(r) : NULL;
		cli_sync_stdout();
		if (error && *error)
			fprintf(stderr, "ttlog stats: %s\n", error);
		else
			fprintf(stderr, "ttlog stats: %s: %s\n", path, ttlog_strerror(rc));
		ttlog_reader_close(r);
		return CLI_EXIT_DATA;
	}

	struct tally t;
	struct ttlog_event ev;
	struct stat st;
	uint64_t file_size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;

	tally_init(&t, r);
	while (ttlog_reader_next(r, &ev))
		count_event(&t, &ev);
	if (s->json)
		print_json(s, path, r, &t, file_size);
	else
		print_text(s, path, r, &t, file_size);
	tally_free(&t);

	int status = cli_report_reader_status(r, path, "ttlog stats");
	ttlog_reader_close(r);
	return status;
}

/* ---- Options -------------------------------------------------------------- */

enum { OPT_UTC = 256, OPT_TOP, OPT_SERVICE };

#define SHORT_OPTIONS ":ho:"

static const struct option long_options[] = {
	{"top", required_argument, NULL, OPT_TOP},
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"service", required_argument, NULL, OPT_SERVICE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* A count for --top: decimal digits only, at most MAX_TOP. */
static int parse_top(const char *text, size_t *top)
{
	size_t n = 0;
	if (!*text)
		return -1;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (size_t)(*p - '0');
		if (n > MAX_TOP)
			return -1;
	}
	*top = n;
	return 0;
}

/* Parses the options into *s; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct stats *s, int argc, char **argv, int *status)
{
	int c;

	s->top = DEFAULT_TOP;
	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_stats_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'o':
			if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
				s->json = optarg[0] == 'j';
				break;
			}
			*status = cli_report_usage_error(COMMAND, "unknown output format '%s' (use "
								  "text or json)", optarg);
			return -1;
		case OPT_UTC:
			s->utc = 1;
			break;
		case OPT_SERVICE:
			s->service = optarg;
			break;
		case OPT_TOP:
			if (parse_top(optarg, &s->top) != 0) {
				*status = cli_report_usage_error(COMMAND, "bad count '%s' for --top (use "
									  "a number from 0 to %d)",
								 optarg, MAX_TOP);
				return -1;
			}
			break;
		default:
			*status = cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	return 0;
}

int cli_stats_main(int argc, char **argv)
{
	struct stats s = {0};
	int status = CLI_EXIT_OK;

	int parsed = parse_options(&s, argc, argv, &status) == 0;
	char **args = argv + optind, *newest[1], path[8192];
	int nargs = argc - optind;
	if (parsed && nargs == 0) {
		if (cli_default_snapshot("stats", path, sizeof path) != 0) {
			status = CLI_EXIT_USAGE;
			parsed = 0;
		}
		newest[0] = path;
		args = newest;
		nargs = 1;
	}
	if (parsed && (status = cli_store_check_service("ttlog stats", args, nargs, s.service)) ==
			      CLI_EXIT_OK) {
		/* A directory or a glob stands for its segments and snapshots. */
		char **files;
		int bad = 0;
		int n = cli_store_expand(args, nargs, "ttlog stats", &files, &bad);
		if (bad)
			status = CLI_EXIT_DATA;
		for (int i = 0; i < n && !cli_stdout_failed(); i++) {
			int st = stats_file(&s, files[i]);
			if (st > status)
				status = st;
		}
		cli_store_free_list(files, n);
	}
	render_buf_free(&s.line);
	return status;
}
