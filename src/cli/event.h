/*
 * event.h - how the ttlog command presents one event, shared by `ttlog
 * view` and `ttlog export`: its message (span begins and ends get one made
 * from the span), the call site it is shown at, its target, and the JSON
 * object of `ttlog view -o json` (also `ttlog export --format jsonl`); and
 * the description of a file's crash, which view prints as a summary and
 * exports as an event.
 */
#ifndef TTLOG_CLI_EVENT_H
#define TTLOG_CLI_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "ttlog_reader.h"

/** The level of the event's site, or -1 if it has none. */
int cli_event_level(const struct ttlog_event *ev);

/** The part of path after its last '/'; "?" for NULL. */
const char *cli_base_name(const char *path);

/**
 * Formats the event's message into m (replacing what it held). A log
 * event's message is its format with its arguments, as printf would print
 * it (cut with "[...]" past 16 MiB); a span begin's is "begin NAME", with
 * " trace=ID" for a span without a parent on its thread; a span end's is
 * "end NAME DURATION". The message may hold any bytes, NUL included:
 * m->len is its length.
 */
void cli_event_message(struct render_buf *m, const struct ttlog_event *ev);

/**
 * The call site an event is shown at: a span's end is shown where the span
 * began (its own site is the library's). NULL if unknown.
 */
const struct ttlog_site_info *cli_event_site(const struct ttlog_event *ev);

/** The target of a site: its own, or else its file's base name; NULL for
 *  a NULL site. */
const char *cli_site_target(const struct ttlog_site_info *site);

/** Appends a duration: 850ns, 12.345us, 1.250ms, 3.000s. */
void cli_put_duration(struct render_buf *b, int64_t ns);

/** The name of an event kind in JSON: "log", "span_begin", "span_end". */
const char *cli_event_kind_name(int kind);

/**
 * Appends the JSON object of an event (no newline), with msg as its
 * message (from cli_event_message()). Members in this order: time,
 * time_ns, level, tid, thread, file, line, function, target, site,
 * message, args, fields, kind; then inside a span trace_id and span_id, and
 * for span events span_name, parent_span_id and, for ends, duration_ns.
 */
void cli_event_json(struct render_buf *b, const struct ttlog_event *ev, const struct render_buf *msg);

/*
 * The JSON text of the members of an event object that depend only on its
 * site (level; file to site) or only on its thread (tid, thread), kept per
 * site and thread so that each is built once. The keys are the reader's
 * pointers: a cache serves one file at a time, and must be reset before
 * the events of the next file (its reader may reuse the last one's
 * addresses). A zeroed struct is an empty cache.
 */
struct cli_event_cache {
	struct cli_event_cache_slot *slots; /* open addressing, cap a power of two */
	size_t cap, used;
	struct render_buf text; /* the texts, one after the other */
};

/** Empties the cache (before a new file), keeping its memory. */
void cli_event_cache_reset(struct cli_event_cache *c);
/** Frees the cache's memory; it is then an empty cache again. */
void cli_event_cache_free(struct cli_event_cache *c);

/** cli_event_json() with a cache (NULL: none); the same bytes. */
void cli_event_json_cached(struct render_buf *b, const struct ttlog_event *ev,
			   const struct render_buf *msg, struct cli_event_cache *c);

/**
 * The arguments of an event that are its message's: a span's ids are
 * members of the span, not arguments. Returns the index of the first.
 */
unsigned cli_event_first_arg(const struct ttlog_event *ev);

/* ---- The crash of a file, which exports show as an event ---------------- */

/**
 * The thread of a file with this index, or else this tid (a crash record
 * names both), or NULL.
 */
const struct ttlog_thread_info *cli_find_thread(ttlog_reader *r, uint32_t index, uint32_t tid);

/**
 * Appends what the file's crash record says, as bytes from the file (the
 * signal name may hold any): "SIGSEGV (SEGV_MAPERR: address not mapped) at
 * address 0x0", or "signal N (code C)" for what is not known.
 */
void cli_crash_text(struct render_buf *b, const struct ttlog_file_info *info);

#endif /* TTLOG_CLI_EVENT_H */
