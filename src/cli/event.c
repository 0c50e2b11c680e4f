/*
 * event.c - the message, site, target and JSON object of one event, as
 * `ttlog view` and `ttlog export` show them (see event.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "sigcode.h"
#include "render/time_text.h"

/* The message buffer grows to at least this size; a message that does not
 * fit even then is cut and marked (see cli_event_message). */
#define MAX_MESSAGE (16u << 20)
#define CUT_MARK "[...]"

int cli_event_level(const struct ttlog_event *ev)
{
	return ev->site ? ev->site->level : -1;
}

const char *cli_base_name(const char *path)
{
	if (!path)
		return "?";
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void cli_put_duration(struct render_buf *b, int64_t ns)
{
	if (ns < 1000)
		render_buf_printf(b, "%" PRId64 "ns", ns);
	else if (ns < 1000000)
		render_buf_printf(b, "%.3fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		render_buf_printf(b, "%.3fms", (double)ns / 1e6);
	else
		render_buf_printf(b, "%.3fs", (double)ns / 1e9);
}

/*
 * The message of a span event, from the span's name (in m, formatted like
 * any message): "begin NAME [trace=ID]" or "end NAME DURATION". The trace
 * is shown where a trace enters the thread, so that --trace can be given it.
 */
static void span_message(struct render_buf *m, const struct ttlog_event *ev)
{
	const struct ttlog_span *sp = ev->span;
	static const char begin[] = "begin ";
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		render_buf_reserve(m, sizeof begin);
		memmove(m->data + sizeof begin - 1, m->data, m->len + 1);
		memcpy(m->data, begin, sizeof begin - 1);
		m->len += sizeof begin - 1;
		if (sp && sp->depth == 0)
			render_buf_printf(m, " trace=%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
		return;
	}
	render_buf_reset(m);
	if (!sp || !*sp->name) {
		render_buf_printf(m, "end span %016" PRIx64 " (its begin is not in the file)",
			       sp ? sp->id : 0);
		return;
	}
	render_buf_puts(m, "end ");
	render_buf_puts(m, sp->name);
	render_buf_putc(m, ' ');
	if (sp->duration_ns >= 0)
		cli_put_duration(m, sp->duration_ns);
	else
		render_buf_puts(m, "?");
}

void cli_event_message(struct render_buf *m, const struct ttlog_event *ev)
{
	render_buf_reset(m);
	render_buf_reserve(m, 255);
	size_t n = ttlog_event_format(ev, m->data, m->cap);
	if (n >= m->cap) {
		size_t want = n < MAX_MESSAGE ? n : MAX_MESSAGE;
		render_buf_reserve(m, want);
		n = ttlog_event_format(ev, m->data, m->cap);
	}
	if (n >= m->cap) {
		/* Longer than MAX_MESSAGE: keep what fits, and say so. */
		m->len = m->cap - 1 - strlen(CUT_MARK);
		memcpy(m->data + m->len, CUT_MARK, strlen(CUT_MARK) + 1);
		n = m->len + strlen(CUT_MARK);
	}
	m->len = n;
	m->data[n] = '\0';
	if (ev->kind != TTLOG_EVENT_LOG)
		span_message(m, ev);
}

const struct ttlog_site_info *cli_event_site(const struct ttlog_event *ev)
{
	if (ev->kind == TTLOG_EVENT_SPAN_END && ev->span && ev->span->site)
		return ev->span->site;
	return ev->site;
}

const char *cli_site_target(const struct ttlog_site_info *site)
{
	if (!site)
		return NULL;
	/* A site without a target of its own belongs to its file's base name. */
	if (site->target && *site->target)
		return site->target;
	return cli_base_name(site->file);
}

const char *cli_event_kind_name(int kind)
{
	static const char *const kinds[] = {"log", "span_begin", "span_end"};
	return kind >= 0 && kind <= TTLOG_EVENT_SPAN_END ? kinds[kind] : "log";
}

unsigned cli_event_first_arg(const struct ttlog_event *ev)
{
	return ev->kind == TTLOG_EVENT_SPAN_BEGIN ? 4 : ev->kind == TTLOG_EVENT_SPAN_END ? 1 : 0;
}

/* Appends v as 16 lowercase hex digits: printf's %016" PRIx64 ". */
static void put_hex16(struct render_buf *b, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char text[16];
	for (int i = 15; i >= 0; i--, v >>= 4)
		text[i] = hex[v & 15];
	render_buf_put(b, text, sizeof text);
}

/* Appends a member name and its hex id: ,"NAME":"0123456789abcdef". */
static void put_hex_member(struct render_buf *b, const char *name, uint64_t v)
{
	render_buf_puts(b, name);
	put_hex16(b, v);
	render_buf_putc(b, '"');
}

/* The span members of a JSON event object. */
static void json_span(struct render_buf *b, const struct ttlog_event *ev)
{
	const struct ttlog_span *sp = ev->span;
	render_buf_puts(b, ",\"kind\":\"");
	render_buf_puts(b, cli_event_kind_name(ev->kind));
	render_buf_putc(b, '"');
	if (!sp)
		return;
	if (sp->trace_hi | sp->trace_lo) {
		render_buf_puts(b, ",\"trace_id\":\"");
		put_hex16(b, sp->trace_hi);
		put_hex16(b, sp->trace_lo);
		render_buf_putc(b, '"');
	} else {
		render_buf_puts(b, ",\"trace_id\":null");
	}
	put_hex_member(b, ",\"span_id\":\"", sp->id);
	if (ev->kind == TTLOG_EVENT_LOG)
		return;
	render_buf_puts(b, ",\"span_name\":");
	render_json_cstring(b, sp->name);
	if (sp->parent)
		put_hex_member(b, ",\"parent_span_id\":\"", sp->parent);
	else
		render_buf_puts(b, ",\"parent_span_id\":null");
	if (ev->kind != TTLOG_EVENT_SPAN_END)
		return;
	if (sp->duration_ns >= 0) {
		render_buf_puts(b, ",\"duration_ns\":");
		render_buf_put_i64(b, sp->duration_ns);
	} else {
		render_buf_puts(b, ",\"duration_ns\":null");
	}
}

/* ---- An event as a JSON object ------------------------------------------
 * Every member is appended by hand, without printf: this runs once per
 * event of `ttlog view -o json` and `ttlog export --format jsonl`, and
 * vfprintf was most of its cost. The bytes are those the printf formats
 * gave (the golden tests hold them).
 *
 * Two runs of members depend only on the event's site, one only on its
 * thread; with a cache they are built once per site and thread of a file
 * and copied afterwards. */

enum part {
	PART_LEVEL,  /* ,"level":L,"tid":        from ev->site */
	PART_THREAD, /* TID,"thread":NAME        from ev->thread */
	PART_SITE,   /* ,"file":..."message":    from cli_event_site(ev) */
};

static void part_level(struct render_buf *b, const struct ttlog_event *ev)
{
	render_buf_puts(b, ",\"level\":");
	render_json_cstring(b, ttlog_level_name(cli_event_level(ev)));
	render_buf_puts(b, ",\"tid\":");
}

static void part_thread(struct render_buf *b, const struct ttlog_event *ev)
{
	const struct ttlog_thread_info *thread = ev->thread;
	render_buf_put_u64(b, thread ? thread->tid : 0);
	render_buf_puts(b, ",\"thread\":");
	render_json_cstring(b, thread && thread->name ? thread->name : "");
}

static void part_site(struct render_buf *b, const struct ttlog_event *ev)
{
	const struct ttlog_site_info *site = cli_event_site(ev);
	render_buf_puts(b, ",\"file\":");
	render_json_cstring(b, site ? site->file : NULL);
	render_buf_puts(b, ",\"line\":");
	render_buf_put_u64(b, site ? site->line : 0);
	render_buf_puts(b, ",\"function\":");
	render_json_cstring(b, site ? site->function : NULL);
	render_buf_puts(b, ",\"target\":");
	render_json_cstring(b, cli_site_target(site));
	render_buf_puts(b, ",\"site\":");
	render_buf_put_u64(b, site ? site->id : 0);
	render_buf_puts(b, ",\"message\":");
}

static void (*const part_writers[])(struct render_buf *, const struct ttlog_event *) = {
	[PART_LEVEL] = part_level,
	[PART_THREAD] = part_thread,
	[PART_SITE] = part_site,
};

struct cli_event_cache_slot {
	const void *key; /* the site or thread; NULL: a free slot */
	int part;
	size_t off, len; /* the text, in the cache's arena */
};

void cli_event_cache_reset(struct cli_event_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		c->slots[i].key = NULL;
	c->used = 0;
	render_buf_reset(&c->text);
}

void cli_event_cache_free(struct cli_event_cache *c)
{
	free(c->slots);
	render_buf_free(&c->text);
	memset(c, 0, sizeof *c);
}

static size_t slot_index(const struct cli_event_cache *c, const void *key, int part)
{
	uintptr_t h = ((uintptr_t)key >> 4) * 3 + (uintptr_t)part;
	size_t i = (size_t)(h ^ h >> 11) & (c->cap - 1);
	while (c->slots[i].key && !(c->slots[i].key == key && c->slots[i].part == part))
		i = (i + 1) & (c->cap - 1); /* never full: kept at most half full */
	return i;
}

/* Doubles the table (from 64 slots) and places the entries again. */
static void cache_grow(struct cli_event_cache *c)
{
	struct cli_event_cache_slot *old = c->slots;
	size_t old_cap = c->cap;

	c->cap = old_cap ? old_cap * 2 : 64;
	c->slots = render_xrealloc(NULL, c->cap * sizeof *c->slots);
	for (size_t i = 0; i < c->cap; i++)
		c->slots[i].key = NULL;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			c->slots[slot_index(c, old[i].key, old[i].part)] = old[i];
	free(old);
}

/* Appends one part of the event's JSON, from the cache when it has it. */
static void put_part(struct render_buf *b, const struct ttlog_event *ev, struct cli_event_cache *c,
		     int part, const void *key)
{
	if (!c || !key) {
		part_writers[part](b, ev);
		return;
	}
	if ((c->used + 1) * 2 > c->cap)
		cache_grow(c);
	struct cli_event_cache_slot *slot = &c->slots[slot_index(c, key, part)];
	if (!slot->key) {
		size_t off = c->text.len;
		part_writers[part](&c->text, ev);
		*slot = (struct cli_event_cache_slot){key, part, off, c->text.len - off};
		c->used++;
	}
	render_buf_put(b, c->text.data + slot->off, slot->len);
}

/* Arguments whose JSON text a field can reuse: the first ARG_TEXTS. */
#define ARG_TEXTS 32u

/* The index of the argument that value is, if it is one printed in "args"
 * and among the first ARG_TEXTS; otherwise ARG_TEXTS. */
static unsigned printed_arg(const struct ttlog_event *ev, unsigned first,
			    const struct ttlog_arg *value)
{
	unsigned n = ev->nargs < ARG_TEXTS ? ev->nargs : ARG_TEXTS;
	/* Addresses as integers: value may point outside the array. */
	uintptr_t at = (uintptr_t)value, base = (uintptr_t)ev->args;
	if (!ev->args || at < base || (at - base) % sizeof *value != 0)
		return ARG_TEXTS;
	uintptr_t k = (at - base) / sizeof *value;
	return k >= first && k < n ? (unsigned)k : ARG_TEXTS;
}

/* Appends b->data[at..at+len-1] again (room first: growing moves it). */
static void put_again(struct render_buf *b, size_t at, size_t len)
{
	if (b->cap - b->len <= len)
		render_buf_reserve(b, len);
	memcpy(b->data + b->len, b->data + at, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void cli_event_json_cached(struct render_buf *b, const struct ttlog_event *ev,
			   const struct render_buf *msg, struct cli_event_cache *c)
{
	char tb[RENDER_TIME_BUF];

	render_buf_puts(b, "{\"time\":\"");
	render_buf_put(b, tb, render_time_text(ev->time_ns, RENDER_TIME_ISO, tb));
	render_buf_puts(b, "\",\"time_ns\":");
	render_buf_put_i64(b, ev->time_ns);
	put_part(b, ev, c, PART_LEVEL, ev->site);
	put_part(b, ev, c, PART_THREAD, ev->thread);
	put_part(b, ev, c, PART_SITE, cli_event_site(ev));
	render_json_string(b, msg->data, msg->len);
	render_buf_puts(b, ",\"args\":[");
	/* Where each argument's text is in b: a field is mostly one of the
	 * arguments (the same struct ttlog_arg), whose text is copied. */
	size_t arg_at[ARG_TEXTS], arg_len[ARG_TEXTS];
	unsigned first = cli_event_first_arg(ev);
	for (unsigned i = first; i < ev->nargs && ev->args; i++) {
		if (i > first)
			render_buf_putc(b, ',');
		size_t at = b->len;
		render_field_json(b, &ev->args[i]);
		if (i < ARG_TEXTS) {
			arg_at[i] = at;
			arg_len[i] = b->len - at;
		}
	}
	render_buf_puts(b, "],\"fields\":{");
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_arg *value = ev->fields[i].value;
		unsigned k = printed_arg(ev, first, value);
		if (i)
			render_buf_putc(b, ',');
		render_json_cstring(b, ev->fields[i].key);
		render_buf_putc(b, ':');
		if (k < ARG_TEXTS)
			put_again(b, arg_at[k], arg_len[k]);
		else
			render_field_json(b, value);
	}
	render_buf_putc(b, '}');
	json_span(b, ev);
	render_buf_putc(b, '}');
}

void cli_event_json(struct render_buf *b, const struct ttlog_event *ev, const struct render_buf *msg)
{
	cli_event_json_cached(b, ev, msg, NULL);
}

/* ---- The crash ----------------------------------------------------------- */

const struct ttlog_thread_info *cli_find_thread(ttlog_reader *r, uint32_t index, uint32_t tid)
{
	size_t n = ttlog_reader_thread_count(r);

	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->index == index)
			return t;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->tid == tid)
			return t;
	}
	return NULL;
}

void cli_crash_text(struct render_buf *b, const struct ttlog_file_info *info)
{
	int signo = info->crash.signo, code = info->crash.code;
	const char *signame = info->crash.signal_name;
	const char *what, *codename = cli_sigcode_name(signo, code, &what);

	if (!signame || !*signame)
		signame = cli_signal_name(signo);
	if (signame)
		render_buf_puts(b, signame);
	else
		render_buf_printf(b, "signal %d", signo);
	if (codename)
		render_buf_printf(b, " (%s: %s)", codename, what);
	else
		render_buf_printf(b, " (code %d)", code);
	if (cli_sigcode_has_address(signo, code))
		render_buf_printf(b, " at address 0x%" PRIx64, info->crash.address);
}
