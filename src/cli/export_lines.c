/* SPDX-License-Identifier: MIT */
/*
 * export_lines.c - the line formats of `ttlog export`: jsonl (the object of
 * `ttlog view -o json`), csv (RFC 4180, one column per field key) and
 * logfmt (key=value pairs, quoted and escaped as go-logfmt does).
 *
 * Messages and string fields may hold any bytes. Each format stays valid
 * whatever they are: JSON escapes them (render/json_text.c); CSV keeps tabs and line
 * breaks inside its quotes, shows other control characters as \xNN and
 * bytes that are not UTF-8 as U+FFFD, so that the file is UTF-8 text;
 * logfmt escapes them inside quotes.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "render/event_json.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/time_text.h"
#include "render/word_scan.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD in UTF-8 */

/* The fixed columns of CSV and keys of logfmt; a field with one of these
 * keys is written as "field.KEY" instead, so that names stay unique. */
static const char *const csv_columns[] = {
	"time", "time_ns", "level",  "tid",  "thread",   "file",    "line",
	"function", "target", "kind", "message", "trace_id", "span_id", NULL,
};
static const char *const logfmt_keys[] = {
	"time", "level", "tid", "thread", "file", "line", "function",
	"target", "kind", "msg", "trace_id", "span_id", NULL,
};

static int reserved(const char *key, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(key, *names) == 0)
			return 1;
	return 0;
}

/* ---- jsonl -------------------------------------------------------------- */

/* Lines are written in blocks of this many bytes or more, not one by one:
 * a write per line was a good part of the cost of a small line. */
#define LINES_BLOCK (64u << 10)

/* Writes the lines made so far once they are a block. */
static void lines_made(struct export *x)
{
	if (x->out.len >= LINES_BLOCK)
		cli_export_flush(x);
}

/* The last block of a file, before anything is said about the file. */
static void lines_end_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)r;
	(void)info;
	cli_export_flush(x);
}

/* The state of jsonl: the JSON parts of the file's sites and threads. */
static void jsonl_begin(struct export *x)
{
	x->state = render_xrealloc(NULL, sizeof(struct render_event_cache));
	memset(x->state, 0, sizeof(struct render_event_cache));
}

static void jsonl_begin_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)r;
	render_event_cache_reset(x->state); /* the last file's sites are gone */
	((struct render_event_cache *)x->state)->service = info ? info->service : NULL;
	((struct render_event_cache *)x->state)->big_as_string = x->json_big_as_string;
}

static void jsonl_end(struct export *x)
{
	render_event_cache_free(x->state);
	free(x->state);
	x->state = NULL;
}

static void jsonl_event(struct export *x, const struct ttlog_event *ev)
{
	render_event_json(&x->out, ev, render_message_text(&x->msg), x->state);
	render_buf_putc(&x->out, '\n');
	lines_made(x);
}


const struct export_format cli_export_jsonl = {
	.name = "jsonl",
	.begin = jsonl_begin,
	.begin_file = jsonl_begin_file,
	.event = jsonl_event,
	.end_file = lines_end_file,
	.end = jsonl_end,
};

/* ---- csv and logfmt: what they share ------------------------------------ */

/* Nonzero if a byte of w needs a look in a quoted logfmt value or a JSON
 * string: a control character, '"', '\', DEL or a byte from 0x80. */
static uint64_t quoted_look(uint64_t w)
{
	return render_word_look(w, '"', '\\');
}

/* Nonzero if a byte of w keeps a CSV cell from being copied as it is: a
 * control character, ',', '"', DEL or a byte from 0x80. */
static uint64_t csv_look(uint64_t w)
{
	return render_word_look(w, ',', '"');
}

/* Nonzero if a byte of w keeps a logfmt value from being bare as it is: a
 * control character, ' ', '=', '"', '\', DEL or a byte from 0x80. */
static uint64_t logfmt_bare_look(uint64_t w)
{
	return render_word_look(w, '"', '\\') | render_word_has(w, ' ') | render_word_has(w, '=');
}

/* Appends ns as the ISO time of the time= and time columns. */
static void put_iso_time(struct render_buf *b, int64_t ns)
{
	if (b->cap - b->len <= RENDER_TIME_BUF)
		render_buf_reserve(b, RENDER_TIME_BUF);
	b->len += render_time_text(ns, RENDER_TIME_ISO, b->data + b->len);
	b->data[b->len] = '\0';
}

/* A value as text: a string's bytes (with "..." if cut), else as in view's
 * text lines (numbers, true/false, 0x... pointers, nan/inf). A NULL string
 * gives nothing. */
static void value_text(struct render_buf *t, const struct ttlog_arg *a)
{
	render_buf_reset(t);
	render_buf_reserve(t, 0);
	if (a->type == TTLOG_ARG_STR) {
		if (a->str_null || !a->str)
			return;
		render_buf_put(t, a->str, a->str_len);
		if (a->str_truncated)
			render_buf_puts(t, "...");
		return;
	}
	render_field_text(t, a);
}


/* ---- csv ---------------------------------------------------------------- */

/* The columns of one event's fields, kept while the events that follow
 * have the same keys (the same pointers: a site's fields, and the contexts
 * open): which field each key column shows. */
#define CSV_MEMO_FIELDS 32

/* The field keys found by the first pass, in the order first seen: one
 * column each after the fixed ones. */
struct csv_state {
	char **keys;
	size_t nkeys, cap;
	int keys_shared;                 /* a worker's: the command's keys, not its own */
	struct render_event_cache cache; /* the thread and site cells of a file */
	struct render_buf value;
	const char *memo_keys[CSV_MEMO_FIELDS]; /* the keys of the last event's fields */
	unsigned memo_nfields;                  /* how many; 0: no memo */
	unsigned *memo_field;                   /* per key column: its field, or UINT_MAX */
};

static struct csv_state *csv_state(struct export *x)
{
	if (!x->state) {
		struct csv_state *s = render_xrealloc(NULL, sizeof *s);
		memset(s, 0, sizeof *s);
		x->state = s;
	}
	return x->state;
}

/* Adds key as the last column, unless it is one already. */
static void csv_add_key(struct csv_state *s, const char *key)
{
	size_t k = 0;
	while (k < s->nkeys && strcmp(s->keys[k], key) != 0)
		k++;
	if (k < s->nkeys)
		return;
	if (s->nkeys == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->keys = render_xrealloc(s->keys, s->cap * sizeof *s->keys);
	}
	size_t len = strlen(key);
	s->keys[s->nkeys] = render_xrealloc(NULL, len + 1);
	memcpy(s->keys[s->nkeys++], key, len + 1);
}

static void csv_survey_event(struct export *x, const struct ttlog_event *ev)
{
	struct csv_state *s = csv_state(x);

	for (unsigned i = 0; i < ev->nfields; i++)
		csv_add_key(s, ev->fields[i].key);
}

/* The keys part surveyed, after x's: those of a later part of a store
 * come after those of the parts before it. */
static void csv_survey_merge(struct export *x, const struct export *part)
{
	struct csv_state *s = csv_state(x);
	const struct csv_state *from = part->state;

	for (size_t k = 0; from && k < from->nkeys; k++)
		csv_add_key(s, from->keys[k]);
}

/* Appends text as CSV text: tabs and line breaks as they are, other control
 * characters as \xNN, bytes that are not UTF-8 as U+FFFD. */
static void put_csv_text(struct render_buf *b, const char *s, size_t len)
{
	size_t i = 0, run = 0; /* s[run..i-1] is copied as it is */

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = render_utf8_length(s + i, len - i);
		if (n > 1 || (n == 1 && ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r'))) {
			i += n;
			continue;
		}
		render_buf_put(b, s + run, i - run);
		if (n == 1)
			render_buf_printf(b, "\\x%02x", c);
		else
			render_buf_puts(b, REPLACEMENT);
		run = ++i;
	}
	render_buf_put(b, s + run, i - run);
}

/* Appends one cell: the text made safe, then quoted (RFC 4180: in double
 * quotes, with '"' doubled) if it holds a comma, a quote or a line break.
 * Most cells are printable ASCII without either: copied as they are. */
static void csv_cell(struct render_buf *b, const char *s, size_t len)
{
	if (!s)
		return;
	if (render_plain_prefix_wide(s, len, ',', '"', csv_look) == len) {
		render_buf_put(b, s, len);
		return;
	}
	struct render_buf tmp = {0};
	put_csv_text(&tmp, s, len);
	if (tmp.len == 0 || strcspn(tmp.data, ",\"\r\n") == tmp.len) {
		if (tmp.len)
			render_buf_put(b, tmp.data, tmp.len);
		render_buf_free(&tmp);
		return;
	}
	render_buf_putc(b, '"');
	for (size_t i = 0; i < tmp.len; i++) {
		if (tmp.data[i] == '"')
			render_buf_putc(b, '"');
		render_buf_putc(b, tmp.data[i]);
	}
	render_buf_putc(b, '"');
	render_buf_free(&tmp);
}

static void csv_cstring(struct render_buf *b, const char *s)
{
	csv_cell(b, s, s ? strlen(s) : 0);
}

static void csv_begin(struct export *x)
{
	struct csv_state *s = csv_state(x);
	struct render_buf name = {0};

	for (size_t i = 0; csv_columns[i]; i++) {
		if (i)
			render_buf_putc(&x->out, ',');
		render_buf_puts(&x->out, csv_columns[i]);
	}
	for (size_t k = 0; k < s->nkeys; k++) {
		render_buf_reset(&name);
		if (reserved(s->keys[k], csv_columns))
			render_buf_puts(&name, "field.");
		render_buf_puts(&name, s->keys[k]);
		render_buf_putc(&x->out, ',');
		csv_cell(&x->out, name.data, name.len);
	}
	render_buf_puts(&x->out, "\r\n");
	render_buf_free(&name);
	s->memo_field = render_xrealloc(NULL, (s->nkeys ? s->nkeys : 1) * sizeof *s->memo_field);
	s->memo_nfields = 0;
	cli_export_flush(x);
}

/* A worker's: the columns the command's first pass found, shared. */
static void csv_begin_worker(struct export *w, const struct export *x)
{
	struct csv_state *s = csv_state(w);
	const struct csv_state *from = x->state;
	if (from) {
		s->keys = from->keys;
		s->nkeys = from->nkeys;
		s->keys_shared = 1;
	}
	s->memo_field = render_xrealloc(NULL, (s->nkeys ? s->nkeys : 1) * sizeof *s->memo_field);
}

static void csv_begin_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)r;
	(void)info;
	struct csv_state *s = csv_state(x);
	render_event_cache_reset(&s->cache); /* the last file's sites are gone */
	s->memo_nfields = 0;                 /* and their keys */
}

/* "TID,NAME," */
static void csv_part_thread(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_thread_info *thread = ev->thread;
	render_buf_put_u64(b, thread ? thread->tid : 0);
	render_buf_putc(b, ',');
	csv_cstring(b, thread ? thread->name : NULL);
	render_buf_putc(b, ',');
}

/* "FILE,LINE,FUNCTION,TARGET" */
static void csv_part_site(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	csv_cstring(b, site ? site->file : NULL);
	render_buf_putc(b, ',');
	render_buf_put_u64(b, site ? site->line : 0);
	render_buf_putc(b, ',');
	csv_cstring(b, site ? site->function : NULL);
	render_buf_putc(b, ',');
	csv_cstring(b, ttlog_site_target(site));
}

/* Whether field f's key is its site's, which lives as long as the file
 * (a context's or span's may not outlive its scope, and another key may
 * come to have its address). */
static int site_key(const struct ttlog_field *f)
{
	return f->source != TTLOG_FIELD_CONTEXT && f->source != TTLOG_FIELD_SPAN;
}

/* Which of ev's fields each key column shows: the memo's, when ev's fields
 * have the keys of the event it was made for (pointer by pointer, all its
 * site's), else found by name, and kept when they are all its site's. */
static const unsigned *csv_columns_of(struct csv_state *s, const struct ttlog_event *ev)
{
	unsigned n = ev->nfields;
	int same = n && n == s->memo_nfields;
	for (unsigned i = 0; same && i < n; i++)
		same = ev->fields[i].key == s->memo_keys[i] && site_key(&ev->fields[i]);
	if (same)
		return s->memo_field;
	for (size_t k = 0; k < s->nkeys; k++) {
		s->memo_field[k] = UINT_MAX;
		for (unsigned i = 0; i < n; i++) {
			if (strcmp(ev->fields[i].key, s->keys[k]) == 0) {
				s->memo_field[k] = i;
				break;
			}
		}
	}
	s->memo_nfields = n <= CSV_MEMO_FIELDS ? n : 0;
	for (unsigned i = 0; i < s->memo_nfields; i++) {
		s->memo_keys[i] = ev->fields[i].key;
		if (!site_key(&ev->fields[i]))
			s->memo_nfields = 0;
	}
	return s->memo_field;
}

static void csv_event(struct export *x, const struct ttlog_event *ev)
{
	struct csv_state *s = csv_state(x);
	struct render_buf *b = &x->out;
	const struct ttlog_span *sp = ev->span;

	put_iso_time(b, ev->time_ns);
	render_buf_putc(b, ',');
	render_buf_put_i64(b, ev->time_ns);
	render_buf_putc(b, ',');
	render_buf_puts(b, ttlog_level_name(render_event_level(ev)));
	render_buf_putc(b, ',');
	render_event_cache_put(b, &s->cache, RENDER_PART_CSV_THREAD, ev->thread, csv_part_thread, ev);
	render_event_cache_put(b, &s->cache, RENDER_PART_CSV_SITE, ttlog_event_display_site(ev),
			       csv_part_site, ev);
	render_buf_putc(b, ',');
	render_buf_puts(b, ttlog_event_kind_name(ev->kind));
	render_buf_putc(b, ',');
	const struct render_buf *msg = render_message_text(&x->msg);
	csv_cell(b, msg->data, msg->len);
	render_buf_putc(b, ',');
	if (sp && (sp->trace_hi | sp->trace_lo))
		render_buf_printf(b, "%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
	render_buf_putc(b, ',');
	if (sp)
		render_buf_printf(b, "%016" PRIx64, sp->id);
	const unsigned *field = s->nkeys ? csv_columns_of(s, ev) : NULL;
	for (size_t k = 0; k < s->nkeys; k++) {
		render_buf_putc(b, ',');
		if (field[k] == UINT_MAX)
			continue;
		value_text(&s->value, ev->fields[field[k]].value);
		csv_cell(b, s->value.data, s->value.len);
	}
	render_buf_puts(b, "\r\n");
	lines_made(x);
}


static void csv_end(struct export *x)
{
	struct csv_state *s = x->state;

	if (!s)
		return;
	if (!s->keys_shared) {
		for (size_t k = 0; k < s->nkeys; k++)
			free(s->keys[k]);
		free(s->keys);
	}
	free(s->memo_field);
	render_event_cache_free(&s->cache);
	render_buf_free(&s->value);
	free(s);
	x->state = NULL;
}

const struct export_format cli_export_csv = {
	.name = "csv",
	.survey_event = csv_survey_event,
	.survey_merge = csv_survey_merge,
	.begin = csv_begin,
	.begin_worker = csv_begin_worker,
	.begin_file = csv_begin_file,
	.event = csv_event,
	.end_file = lines_end_file,
	.end = csv_end,
};

/* ---- logfmt ------------------------------------------------------------- */

/* Appends a key: bytes that would end it or make it ambiguous (spaces and
 * controls, '=', '"', '\', and anything not ASCII) become '_'. */
static void logfmt_key(struct render_buf *b, const char *key)
{
	if (!*key)
		render_buf_putc(b, '_');
	for (; *key; key++) {
		unsigned char c = (unsigned char)*key;
		render_buf_putc(b, c <= ' ' || c >= 0x7f || c == '=' || c == '"' || c == '\\' ? '_' : (char)c);
	}
}

/*
 * Appends a value: as it is when it is a plain run of printable UTF-8
 * without '=', '"' or '\'; else in double quotes with '"', '\', newline,
 * carriage return and tab escaped as \" \\ \n \r \t, other control
 * characters as \u00XX and bytes that are not UTF-8 as \ufffd. The runs
 * of printable ASCII are found a word (or sixteen bytes) at a time.
 */
static void logfmt_value(struct render_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int plain = len > 0;

	for (size_t i = render_plain_prefix(s, len, logfmt_bare_look); i < len && plain;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = render_utf8_length(s + i, len - i);
		plain = n > 1 || (n == 1 && c > ' ' && c != 0x7f && c != '=' && c != '"' && c != '\\');
		i += n ? n : 1;
	}
	if (plain) {
		render_buf_put(b, s, len);
		return;
	}
	render_buf_putc(b, '"');
	for (size_t i = 0; i < len;) {
		size_t run = render_plain_prefix_wide(s + i, len - i, '"', '\\', quoted_look);
		render_buf_put(b, s + i, run);
		i += run;
		if (i == len)
			break;
		unsigned char c = (unsigned char)s[i];
		size_t n = render_utf8_length(s + i, len - i);
		if (n == 0) {
			render_buf_puts(b, "\\ufffd");
			i++;
			continue;
		}
		if (n > 1) {
			render_buf_put(b, s + i, n);
			i += n;
			continue;
		}
		i++;
		switch (c) {
		case '"': render_buf_puts(b, "\\\""); break;
		case '\\': render_buf_puts(b, "\\\\"); break;
		case '\n': render_buf_puts(b, "\\n"); break;
		case '\r': render_buf_puts(b, "\\r"); break;
		case '\t': render_buf_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				render_buf_put(b, esc, 6);
			} else {
				render_buf_putc(b, (char)c);
			}
		}
	}
	render_buf_putc(b, '"');
}

/* " KEY=VALUE" of a fixed key. */
static void logfmt_cstring(struct render_buf *b, const char *key, const char *s)
{
	render_buf_putc(b, ' ');
	render_buf_puts(b, key);
	render_buf_putc(b, '=');
	logfmt_value(b, s ? s : "", s ? strlen(s) : 0);
}

/* The state of logfmt: the thread, site and key texts of a file, and a
 * value's text. */
struct logfmt_state {
	struct render_event_cache cache;
	struct render_buf value;
};

static void logfmt_begin(struct export *x)
{
	x->state = render_xrealloc(NULL, sizeof(struct logfmt_state));
	memset(x->state, 0, sizeof(struct logfmt_state));
}

static void logfmt_begin_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)r;
	(void)info;
	render_event_cache_reset(&((struct logfmt_state *)x->state)->cache);
}

static void logfmt_end(struct export *x)
{
	struct logfmt_state *s = x->state;
	if (!s)
		return;
	render_event_cache_free(&s->cache);
	render_buf_free(&s->value);
	free(s);
	x->state = NULL;
}

/* " tid=TID thread=NAME" */
static void logfmt_part_thread(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_thread_info *thread = ev->thread;
	render_buf_puts(b, " tid=");
	render_buf_put_u64(b, thread ? thread->tid : 0);
	logfmt_cstring(b, "thread", thread ? thread->name : NULL);
}

/* " file=FILE line=LINE function=FUNCTION target=TARGET" */
static void logfmt_part_site(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)key;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	logfmt_cstring(b, "file", site ? site->file : NULL);
	render_buf_puts(b, " line=");
	render_buf_put_u64(b, site ? site->line : 0);
	logfmt_cstring(b, "function", site ? site->function : NULL);
	logfmt_cstring(b, "target", ttlog_site_target(site));
}

/* " KEY=" of a field, "field.KEY" for a key of the fixed ones. */
static void logfmt_part_key(struct render_buf *b, const struct ttlog_event *ev, const void *key)
{
	(void)ev;
	render_buf_putc(b, ' ');
	if (reserved(key, logfmt_keys))
		render_buf_puts(b, "field.");
	logfmt_key(b, key);
	render_buf_putc(b, '=');
}

static void logfmt_event(struct export *x, const struct ttlog_event *ev)
{
	struct logfmt_state *s = x->state;
	struct render_buf *b = &x->out;
	const struct ttlog_span *sp = ev->span;

	render_buf_puts(b, "time=");
	put_iso_time(b, ev->time_ns);
	render_buf_puts(b, " level=");
	render_buf_puts(b, ttlog_level_name(render_event_level(ev)));
	render_event_cache_put(b, &s->cache, RENDER_PART_LOGFMT_THREAD, ev->thread,
			       logfmt_part_thread, ev);
	render_event_cache_put(b, &s->cache, RENDER_PART_LOGFMT_SITE, ttlog_event_display_site(ev),
			       logfmt_part_site, ev);
	render_buf_puts(b, " kind=");
	render_buf_puts(b, ttlog_event_kind_name(ev->kind));
	render_buf_puts(b, " msg=");
	const struct render_buf *msg = render_message_text(&x->msg);
	logfmt_value(b, msg->data, msg->len);
	if (sp && (sp->trace_hi | sp->trace_lo))
		render_buf_printf(b, " trace_id=%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
	if (sp)
		render_buf_printf(b, " span_id=%016" PRIx64, sp->id);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		/* A context's or span's key is made each time, as JSON does. */
		if (site_key(f))
			render_event_cache_put(b, &s->cache,
					       i < RENDER_PART_LOGFMT_KEY_LAST - RENDER_PART_LOGFMT_KEY
						       ? RENDER_PART_LOGFMT_KEY + i
						       : RENDER_PART_LOGFMT_KEY_LAST,
					       f->key, logfmt_part_key, ev);
		else
			logfmt_part_key(b, ev, f->key);
		if (f->value->type == TTLOG_ARG_STR && (f->value->str_null || !f->value->str)) {
			render_buf_puts(b, "null");
			continue;
		}
		value_text(&s->value, f->value);
		logfmt_value(b, s->value.data, s->value.len);
	}
	render_buf_putc(b, '\n');
	lines_made(x);
}

const struct export_format cli_export_logfmt = {
	.name = "logfmt",
	.begin = logfmt_begin,
	.begin_file = logfmt_begin_file,
	.event = logfmt_event,
	.end_file = lines_end_file,
	.end = logfmt_end,
};
