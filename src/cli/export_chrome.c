/* SPDX-License-Identifier: MIT */
/*
 * export_chrome.c - `ttlog export --format chrome`: the Chrome Trace Event
 * format (JSON object form), which Perfetto and chrome://tracing open.
 *
 *   {"traceEvents":[
 *     {"name":"process_name","ph":"M","pid":P,"tid":0,"args":{"name":"app"}},
 *     {"name":"thread_name","ph":"M","pid":P,"tid":T,"args":{"name":"worker"}},
 *     {"name":"thread_sort_index","ph":"M",...,"args":{"sort_index":I}},
 *     {"name":MESSAGE,"cat":TARGET,"ph":"i","s":"t","ts":..,"pid":P,"tid":T,"args":{..}},
 *     {"name":SPAN,"cat":TARGET,"ph":"X","ts":..,"dur":..,"pid":P,"tid":T,"args":{..}},
 *     {"name":METRIC,"ph":"C","ts":..,"pid":P,"tid":P,"args":{"value":..}},
 *     {"name":"crash: SIGSEGV ...","ph":"i","s":"g","ts":..,"pid":P,"tid":T,"args":{..}}
 *   ],"displayTimeUnit":"ns","otherData":{...}}
 *
 * Times are microseconds (the format's unit) as decimals with the
 * nanoseconds kept ("ts":1234.567), counted from a base: the first whole
 * second of the earliest file, so that the numbers stay small enough for
 * the double a JSON reader keeps them in (an absolute time in microseconds
 * would lose the nanoseconds). otherData says what the base is.
 *
 * A span whose begin is not in the export starts at the start of its file;
 * one whose end is not ends at the end of its file, both with an arg
 * "clipped" that says which: complete events must have both ends.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crash_text.h"
#include "export.h"
#include "render/event_message.h"
#include "render/field_text.h"
#include "render/json_text.h"
#include "render/names.h"
#include "render/time_text.h"

#define NS_PER_SECOND 1000000000

struct chrome {
	int64_t base_ns;   /* ts 0 */
	int have_base;
	int first;         /* no trace event written yet */
	int64_t file_first_ns, file_last_ns; /* the file's range, for clipping */
	uint32_t pid;
	struct export_spans spans;
};

/* Args the exporter writes itself; fields with these keys become
 * "field.KEY". */
static const char *const reserved_args[] = {
	"level", "file", "line", "function", "trace_id", "span_id", "parent_span_id", "clipped", NULL,
};

static struct chrome *chrome_state(struct export *x)
{
	if (!x->state) {
		struct chrome *c = render_xrealloc(NULL, sizeof *c);
		memset(c, 0, sizeof *c);
		x->state = c;
	}
	return x->state;
}

/* The file's time range: its first and last event, or the time it was
 * written if it has none. */
static void file_range(const struct ttlog_file_info *info, int64_t *first, int64_t *last)
{
	*first = info->events ? info->first_ns : info->created_ns;
	*last = info->events ? info->last_ns : info->created_ns;
	if (info->created_ns > *last)
		*last = info->created_ns; /* metrics and the crash are at created_ns */
}

static void chrome_survey_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	struct chrome *c = chrome_state(x);
	int64_t first, last;

	(void)r;
	file_range(info, &first, &last);
	if (!c->have_base || first < c->base_ns) {
		c->base_ns = first;
		c->have_base = 1;
	}
}

/* Appends a time as microseconds since the base, with three decimals. */
static void put_ts(struct render_buf *b, const struct chrome *c, int64_t ns)
{
	/* Both are in the int64_t range: the difference fits in 64 bits
	 * unsigned, and is printed with its sign. */
	uint64_t d = ns >= c->base_ns ? (uint64_t)ns - (uint64_t)c->base_ns
				      : (uint64_t)c->base_ns - (uint64_t)ns;
	render_buf_printf(b, "%s%" PRIu64 ".%03u", ns >= c->base_ns ? "" : "-", d / 1000,
			  (unsigned)(d % 1000));
}

static void put_dur(struct render_buf *b, int64_t ns)
{
	uint64_t d = ns > 0 ? (uint64_t)ns : 0;
	render_buf_printf(b, "%" PRIu64 ".%03u", d / 1000, (unsigned)(d % 1000));
}

/* Starts a trace event: the separator, then {"name":NAME. */
static void event_start(struct export *x, struct chrome *c, const char *name, size_t len)
{
	render_buf_puts(&x->out, c->first ? "\n" : ",\n");
	c->first = 0;
	render_buf_puts(&x->out, "{\"name\":");
	render_json_string(&x->out, name ? name : "", name ? len : 0);
}

static void put_cstring_member(struct render_buf *b, const char *key, const char *value)
{
	render_buf_printf(b, ",\"%s\":", key);
	render_json_cstring(b, value ? value : "");
}

/* Appends the fields of an event as args members, each after a comma. */
static void put_fields(struct render_buf *b, const struct ttlog_event *ev)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		render_buf_putc(b, ',');
		cli_export_json_key(b, ev->fields[i].key, reserved_args);
		render_buf_putc(b, ':');
		render_field_json(b, ev->fields[i].value);
	}
}

static void chrome_begin(struct export *x)
{
	struct chrome *c = chrome_state(x);
	c->first = 1;
	/* A whole second, so that ts reads as the time within it. */
	c->base_ns -= ((c->base_ns % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND;
	render_buf_puts(&x->out, "{\"traceEvents\":[");
}

static void metadata(struct export *x, struct chrome *c, const char *what, uint32_t tid,
		     const char *arg, const char *value, int64_t number)
{
	event_start(x, c, what, strlen(what));
	render_buf_printf(&x->out, ",\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"args\":{\"%s\":",
			  c->pid, tid, arg);
	if (value)
		render_json_cstring(&x->out, value);
	else
		render_buf_printf(&x->out, "%" PRId64, number);
	render_buf_puts(&x->out, "}}");
}

static void chrome_begin_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	struct chrome *c = chrome_state(x);
	size_t n = ttlog_reader_thread_count(r);

	c->pid = info->pid;
	/* Spans cut by the file end at its last event, as in every export
	 * (docs/EXPORT.md); the crash and the metrics are at created_ns. */
	c->file_first_ns = info->events ? info->first_ns : info->created_ns;
	c->file_last_ns = info->events ? info->last_ns : info->created_ns;
	metadata(x, c, "process_name", 0, "name", render_base_name(info->executable), 0);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		char name[32];
		if (!t)
			continue;
		snprintf(name, sizeof name, "thread %" PRIu32, t->tid);
		metadata(x, c, "thread_name", t->tid, "name", t->name && *t->name ? t->name : name, 0);
		metadata(x, c, "thread_sort_index", t->tid, "sort_index", NULL, (int64_t)t->index);
	}
	cli_export_flush(x);
}

/* The members after "name" that every event of a thread has. */
static void put_where(struct export *x, const struct chrome *c, const char *ph, int64_t ts,
		      const struct ttlog_thread_info *thread)
{
	render_buf_printf(&x->out, ",\"ph\":\"%s\",\"ts\":", ph);
	put_ts(&x->out, c, ts);
	render_buf_printf(&x->out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32, c->pid, thread ? thread->tid : 0);
}

static void put_site_args(struct render_buf *b, const struct ttlog_site_info *site)
{
	put_cstring_member(b, "file", site ? site->file : NULL);
	render_buf_printf(b, ",\"line\":%" PRIu32, site ? site->line : 0);
	put_cstring_member(b, "function", site ? site->function : NULL);
}

static void put_span(struct export *x, struct chrome *c, const struct export_span *sp,
		     const struct ttlog_event *end)
{
	struct render_buf *b = &x->out;
	const char *clipped = NULL;
	int64_t begin = sp->begin_ns, finish;

	if (end) {
		finish = end->time_ns;
	} else {
		finish = c->file_last_ns > begin ? c->file_last_ns : begin;
		clipped = "end";
	}
	if (begin == 0 || begin > finish) {
		begin = c->file_first_ns < finish ? c->file_first_ns : finish;
		clipped = "begin";
	}
	event_start(x, c, *sp->name ? sp->name : "span", strlen(*sp->name ? sp->name : "span"));
	render_buf_puts(b, ",\"cat\":");
	render_json_cstring(b, sp->site ? ttlog_site_target(sp->site) : "span");
	put_where(x, c, "X", begin, sp->thread);
	render_buf_puts(b, ",\"dur\":");
	put_dur(b, finish - begin);
	render_buf_puts(b, ",\"args\":{\"level\":");
	render_json_cstring(b, ttlog_level_name(sp->site ? sp->site->level : -1));
	put_site_args(b, sp->site);
	if (sp->trace_hi | sp->trace_lo)
		render_buf_printf(b, ",\"trace_id\":\"%016" PRIx64 "%016" PRIx64 "\"", sp->trace_hi,
				  sp->trace_lo);
	render_buf_printf(b, ",\"span_id\":\"%016" PRIx64 "\"", sp->id);
	if (sp->parent)
		render_buf_printf(b, ",\"parent_span_id\":\"%016" PRIx64 "\"", sp->parent);
	if (clipped)
		render_buf_printf(b, ",\"clipped\":\"%s\"", clipped);
	for (size_t i = 0; i < sp->fields.n; i++) {
		render_buf_putc(b, ',');
		cli_export_json_key(b, sp->fields.f[i].key, reserved_args);
		render_buf_putc(b, ':');
		render_buf_put(b, sp->fields.f[i].value.data, sp->fields.f[i].value.len);
	}
	render_buf_puts(b, "}}");
	cli_export_flush(x);
}

static void chrome_event(struct export *x, const struct ttlog_event *ev)
{
	struct chrome *c = chrome_state(x);
	struct render_buf *b = &x->out;

	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		struct export_span *sp = cli_export_span_begin(&c->spans, ev);
		render_span_fields_add(&sp->fields, ev, 0, render_field_json);
		return;
	}
	if (ev->kind == TTLOG_EVENT_SPAN_END) {
		struct export_span sp;
		cli_export_span_end(&c->spans, ev, &sp);
		render_span_fields_add(&sp.fields, ev, 1, render_field_json);
		put_span(x, c, &sp, ev);
		cli_export_span_free(&sp);
		return;
	}
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	const struct render_buf *msg = render_message_text(&x->msg);
	event_start(x, c, msg->data, msg->len);
	render_buf_puts(b, ",\"cat\":");
	render_json_cstring(b, site ? ttlog_site_target(site) : "log");
	put_where(x, c, "i", ev->time_ns, ev->thread);
	render_buf_puts(b, ",\"s\":\"t\",\"args\":{\"level\":");
	render_json_cstring(b, ttlog_level_name(render_event_level(ev)));
	put_site_args(b, site);
	if (ev->span && (ev->span->trace_hi | ev->span->trace_lo))
		render_buf_printf(b, ",\"trace_id\":\"%016" PRIx64 "%016" PRIx64 "\"", ev->span->trace_hi,
				  ev->span->trace_lo);
	if (ev->span)
		render_buf_printf(b, ",\"span_id\":\"%016" PRIx64 "\"", ev->span->id);
	put_fields(b, ev);
	render_buf_puts(b, "}}");
	cli_export_flush(x);
}

/* A metric's track name: NAME, or NAME{k=v,...} with its labels. */
static void metric_name(struct render_buf *name, const struct ttlog_metric_value *m)
{
	render_buf_reset(name);
	render_buf_puts(name, m->name ? m->name : "");
	for (unsigned i = 0; i < m->nlabels; i++) {
		render_buf_putc(name, i ? ',' : '{');
		render_buf_puts(name, m->labels[i].key ? m->labels[i].key : "");
		render_buf_putc(name, '=');
		render_buf_puts(name, m->labels[i].value ? m->labels[i].value : "");
	}
	if (m->nlabels)
		render_buf_putc(name, '}');
}

/* A finite double as a JSON number (counter values must be numbers). */
static void put_number(struct render_buf *b, double d)
{
	render_json_double(b, isfinite(d) ? d : 0);
}

static void put_metrics(struct export *x, struct chrome *c, ttlog_reader *r,
			const struct ttlog_file_info *info)
{
	size_t n = 0;
	const struct ttlog_metric_value *metrics = ttlog_reader_metrics(r, &n);
	struct render_buf name = {0};

	for (size_t i = 0; i < n; i++) {
		const struct ttlog_metric_value *m = &metrics[i];
		if (m->self)
			continue; /* ttlog's own: `ttlog view --metrics` shows them */
		if (m->type == TTLOG_METRIC_GAUGE && (!m->gauge_set || !isfinite(m->gauge)))
			continue; /* nothing to draw */
		metric_name(&name, m);
		event_start(x, c, name.data, name.len);
		render_buf_puts(&x->out, ",\"ph\":\"C\",\"ts\":");
		put_ts(&x->out, c, info->created_ns);
		/* Counters belong to the process; tid is the main thread's. */
		render_buf_printf(&x->out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"args\":{", c->pid,
				  c->pid);
		if (m->type == TTLOG_METRIC_COUNTER) {
			render_buf_printf(&x->out, "\"value\":%" PRIu64, m->counter);
		} else if (m->type == TTLOG_METRIC_GAUGE) {
			render_buf_puts(&x->out, "\"value\":");
			put_number(&x->out, m->gauge);
		} else {
			render_buf_printf(&x->out, "\"count\":%" PRIu64 ",\"sum\":", m->hist.count);
			put_number(&x->out, m->hist.sum);
		}
		render_buf_puts(&x->out, "}}");
		cli_export_flush(x);
	}
	render_buf_free(&name);
}

static void put_crash(struct export *x, struct chrome *c, ttlog_reader *r,
		      const struct ttlog_file_info *info)
{
	struct render_buf name = {0};
	const struct ttlog_thread_info *t = cli_find_thread(r, info->crash.thread_index, info->crash.tid);

	render_buf_puts(&name, "crash: ");
	cli_crash_text(&name, info);
	event_start(x, c, name.data, name.len);
	render_buf_puts(&x->out, ",\"cat\":\"crash\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
	put_ts(&x->out, c, info->created_ns);
	render_buf_printf(&x->out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"args\":{\"thread\":",
			  c->pid, info->crash.tid);
	render_json_cstring(&x->out, t && t->name ? t->name : "");
	put_cstring_member(&x->out, "reason", info->reason);
	render_buf_puts(&x->out, "}}");
	render_buf_free(&name);
	cli_export_flush(x);
}

static void chrome_end_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	struct chrome *c = chrome_state(x);

	/* Spans still open: they had not ended when the snapshot was taken
	 * (or their end was filtered out). Outermost first. */
	for (size_t i = 0; i < c->spans.n; i++)
		put_span(x, c, &c->spans.open[i], NULL);
	cli_export_spans_clear(&c->spans);
	put_metrics(x, c, r, info);
	if (info->crashed)
		put_crash(x, c, r, info);
}

static void chrome_end(struct export *x)
{
	struct chrome *c = chrome_state(x);
	char tb[RENDER_TIME_BUF];

	render_buf_printf(&x->out,
			  "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"ttlog export\","
			  "\"time_base\":\"%s\",\"time_base_ns\":\"%" PRId64 "\"}}\n",
			  render_time_format(c->base_ns, RENDER_TIME_ISO, tb), c->base_ns);
	cli_export_flush(x);
	cli_export_spans_clear(&c->spans);
	free(c);
	x->state = NULL;
}

const struct export_format cli_export_chrome = {
	.name = "chrome",
	.survey_file = chrome_survey_file,
	.begin = chrome_begin,
	.begin_file = chrome_begin_file,
	.event = chrome_event,
	.end_file = chrome_end_file,
	.end = chrome_end,
};
