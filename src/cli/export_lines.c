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
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "render/event_json.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/time_text.h"

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

static void nothing(struct export *x)
{
	(void)x;
}

static void no_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)x;
	(void)r;
	(void)info;
}

/* Lines are written in blocks of this many bytes or more, not one by one:
 * a write per line was a good part of the cost of a small line. */
#define JSONL_BLOCK (64u << 10)

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
	if (x->out.len >= JSONL_BLOCK)
		cli_export_flush(x);
}

/* The last block of a file, before anything is said about the file. */
static void jsonl_end_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	(void)r;
	(void)info;
	cli_export_flush(x);
}

const struct export_format cli_export_jsonl = {
	.name = "jsonl",
	.begin = jsonl_begin,
	.begin_file = jsonl_begin_file,
	.event = jsonl_event,
	.end_file = jsonl_end_file,
	.end = jsonl_end,
};

/* ---- csv ---------------------------------------------------------------- */

/* The field keys found by the first pass, in the order first seen: one
 * column each after the fixed ones. */
struct csv_state {
	char **keys;
	size_t nkeys, cap;
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

static void csv_survey_event(struct export *x, const struct ttlog_event *ev)
{
	struct csv_state *s = csv_state(x);

	for (unsigned i = 0; i < ev->nfields; i++) {
		const char *key = ev->fields[i].key;
		size_t k = 0;
		while (k < s->nkeys && strcmp(s->keys[k], key) != 0)
			k++;
		if (k < s->nkeys)
			continue;
		if (s->nkeys == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			s->keys = render_xrealloc(s->keys, s->cap * sizeof *s->keys);
		}
		size_t len = strlen(key);
		s->keys[s->nkeys] = render_xrealloc(NULL, len + 1);
		memcpy(s->keys[s->nkeys++], key, len + 1);
	}
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
 * quotes, with '"' doubled) if it holds a comma, a quote or a line break. */
static void csv_cell(struct render_buf *b, struct render_buf *tmp, const char *s, size_t len)
{
	render_buf_reset(tmp);
	put_csv_text(tmp, s ? s : "", s ? len : 0);
	if (tmp->len == 0 || strcspn(tmp->data, ",\"\r\n") == tmp->len) {
		render_buf_put(b, tmp->data, tmp->len);
		return;
	}
	render_buf_putc(b, '"');
	for (size_t i = 0; i < tmp->len; i++) {
		if (tmp->data[i] == '"')
			render_buf_putc(b, '"');
		render_buf_putc(b, tmp->data[i]);
	}
	render_buf_putc(b, '"');
}

static void csv_cstring(struct render_buf *b, struct render_buf *tmp, const char *s)
{
	csv_cell(b, tmp, s, s ? strlen(s) : 0);
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

static void csv_begin(struct export *x)
{
	struct csv_state *s = csv_state(x);
	struct render_buf tmp = {0}, name = {0};

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
		csv_cell(&x->out, &tmp, name.data, name.len);
	}
	render_buf_puts(&x->out, "\r\n");
	render_buf_free(&tmp);
	render_buf_free(&name);
	cli_export_flush(x);
}

static void csv_event(struct export *x, const struct ttlog_event *ev)
{
	struct csv_state *s = csv_state(x);
	struct render_buf *b = &x->out;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	const struct ttlog_thread_info *thread = ev->thread;
	const struct ttlog_span *sp = ev->span;
	struct render_buf tmp = {0}, value = {0};
	char tb[RENDER_TIME_BUF];

	render_buf_printf(b, "%s,%" PRId64 ",", render_time_format(ev->time_ns, RENDER_TIME_ISO, tb), ev->time_ns);
	render_buf_printf(b, "%s,%" PRIu32 ",", ttlog_level_name(render_event_level(ev)),
			  thread ? thread->tid : 0);
	csv_cstring(b, &tmp, thread ? thread->name : NULL);
	render_buf_putc(b, ',');
	csv_cstring(b, &tmp, site ? site->file : NULL);
	render_buf_printf(b, ",%" PRIu32 ",", site ? site->line : 0);
	csv_cstring(b, &tmp, site ? site->function : NULL);
	render_buf_putc(b, ',');
	csv_cstring(b, &tmp, ttlog_site_target(site));
	render_buf_printf(b, ",%s,", ttlog_event_kind_name(ev->kind));
	const struct render_buf *msg = render_message_text(&x->msg);
	csv_cell(b, &tmp, msg->data, msg->len);
	render_buf_putc(b, ',');
	if (sp && (sp->trace_hi | sp->trace_lo))
		render_buf_printf(b, "%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
	render_buf_putc(b, ',');
	if (sp)
		render_buf_printf(b, "%016" PRIx64, sp->id);
	for (size_t k = 0; k < s->nkeys; k++) {
		render_buf_putc(b, ',');
		for (unsigned i = 0; i < ev->nfields; i++) {
			if (strcmp(ev->fields[i].key, s->keys[k]) != 0)
				continue;
			value_text(&value, ev->fields[i].value);
			csv_cell(b, &tmp, value.data, value.len);
			break;
		}
	}
	render_buf_puts(b, "\r\n");
	render_buf_free(&tmp);
	render_buf_free(&value);
	cli_export_flush(x);
}

static void csv_end(struct export *x)
{
	struct csv_state *s = x->state;

	if (!s)
		return;
	for (size_t k = 0; k < s->nkeys; k++)
		free(s->keys[k]);
	free(s->keys);
	free(s);
	x->state = NULL;
}

const struct export_format cli_export_csv = {
	.name = "csv",
	.survey_event = csv_survey_event,
	.begin = csv_begin,
	.begin_file = no_file,
	.event = csv_event,
	.end_file = no_file,
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
 * characters as \u00XX and bytes that are not UTF-8 as \ufffd.
 */
static void logfmt_value(struct render_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int plain = len > 0;

	for (size_t i = 0; i < len && plain;) {
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

static void logfmt_cstring(struct render_buf *b, const char *key, const char *s)
{
	render_buf_printf(b, " %s=", key);
	logfmt_value(b, s ? s : "", s ? strlen(s) : 0);
}

static void logfmt_event(struct export *x, const struct ttlog_event *ev)
{
	struct render_buf *b = &x->out;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	const struct ttlog_thread_info *thread = ev->thread;
	const struct ttlog_span *sp = ev->span;
	struct render_buf value = {0};
	char tb[RENDER_TIME_BUF];

	render_buf_printf(b, "time=%s level=%s tid=%" PRIu32,
			  render_time_format(ev->time_ns, RENDER_TIME_ISO, tb),
			  ttlog_level_name(render_event_level(ev)), thread ? thread->tid : 0);
	logfmt_cstring(b, "thread", thread ? thread->name : NULL);
	logfmt_cstring(b, "file", site ? site->file : NULL);
	render_buf_printf(b, " line=%" PRIu32, site ? site->line : 0);
	logfmt_cstring(b, "function", site ? site->function : NULL);
	logfmt_cstring(b, "target", ttlog_site_target(site));
	render_buf_printf(b, " kind=%s msg=", ttlog_event_kind_name(ev->kind));
	const struct render_buf *msg = render_message_text(&x->msg);
	logfmt_value(b, msg->data, msg->len);
	if (sp && (sp->trace_hi | sp->trace_lo))
		render_buf_printf(b, " trace_id=%016" PRIx64 "%016" PRIx64, sp->trace_hi, sp->trace_lo);
	if (sp)
		render_buf_printf(b, " span_id=%016" PRIx64, sp->id);
	for (unsigned i = 0; i < ev->nfields; i++) {
		const struct ttlog_field *f = &ev->fields[i];
		render_buf_putc(b, ' ');
		if (reserved(f->key, logfmt_keys))
			render_buf_puts(b, "field.");
		logfmt_key(b, f->key);
		render_buf_putc(b, '=');
		if (f->value->type == TTLOG_ARG_STR && (f->value->str_null || !f->value->str)) {
			render_buf_puts(b, "null");
			continue;
		}
		value_text(&value, f->value);
		logfmt_value(b, value.data, value.len);
	}
	render_buf_putc(b, '\n');
	render_buf_free(&value);
	cli_export_flush(x);
}

const struct export_format cli_export_logfmt = {
	.name = "logfmt",
	.begin = nothing,
	.begin_file = no_file,
	.event = logfmt_event,
	.end_file = no_file,
	.end = nothing,
};
