/* SPDX-License-Identifier: MIT */
/*
 * export_otlp.c - `ttlog export --format otlp-json`: an OpenTelemetry
 * ExportLogsServiceRequest (signal logs), ExportTraceServiceRequest
 * (traces) or ExportMetricsServiceRequest (metrics) in the JSON encoding
 * OTLP/HTTP uses: the protobuf JSON mapping with lowerCamelCase names,
 * 64-bit integers as decimal strings, enums as numbers, and (OTLP's
 * exception to the mapping) trace and span ids as lowercase hex instead of
 * base64. export.c runs one pass over the files per signal asked for; with
 * more than one, each request is written on a line of its own (x->one_line),
 * the JSON Lines that the OpenTelemetry Collector's file exporter writes
 * and its otlpjsonfile receiver reads.
 *
 * One resource per file: service.name (--service-name, else the
 * executable's base name), host.name, process.pid, process.executable.path
 * and ttlog.snapshot.reason, the same in every signal; one scope, "ttlog"
 * with the version of the writer. Code and thread attributes follow the
 * semantic conventions (code.file.path, code.line.number,
 * code.function.name, thread.id, thread.name); an event's fields are
 * attributes under their own keys.
 *
 * Logs: one logRecord per log event (span begins and ends are the spans of
 * the traces signal), and one for the crash (severity FATAL). Traces: one
 * span per span whose trace is known, with the attributes of its begin and
 * its end; see export_chrome.c for spans cut by the file's ends, which get
 * the attribute ttlog.clipped here.
 *
 * Metrics: the file's metrics (its MTRC chunks) at the time the file was
 * written, one Metric per name with a data point per label set (the labels
 * are its attributes): a counter is a monotonic cumulative sum (asInt, or
 * asDouble beyond int64), a gauge a gauge stamped with the time it was set
 * (no data point if it never was), a histogram an explicit-bucket
 * histogram. ttlog's buckets hold (L, U], which is what OTLP's bounds mean
 * ((bounds[i-1], bounds[i]]), so the bounds are the edges of the buckets
 * that hold values, with empty buckets for the gaps between them: every
 * count stays in its exact range. (OTLP's exponential histogram cannot say
 * this: its buckets grow by a constant factor, ttlog's split each power of
 * two into 64 equal parts.) The start of the cumulation is not in the file
 * and is left out.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "crash_text.h"
#include "export.h"
#include "render/event_message.h"
#include "render/json_text.h"
#include "render/names.h"

struct otlp {
	int first_resource, first_record;
	const ttlog_reader *r;       /* the file's, for its crash */
	const struct ttlog_file_info *info;
	int64_t file_first_ns, file_last_ns, created_ns;
	uint64_t spans_left_out; /* of the file: no trace id known */
	struct export_spans spans;
};

/* Attributes the exporter writes itself; fields with these keys become
 * "field.KEY". */
static const char *const reserved_attributes[] = {
	"code.file.path", "code.line.number", "code.function.name", "thread.id", "thread.name",
	"ttlog.target", "ttlog.clipped", NULL,
};

/* SeverityNumber of each level, TRACE..FATAL (the first of each range). */
static const int severity_numbers[] = {1, 5, 9, 13, 17, 21};
_Static_assert(sizeof severity_numbers / sizeof severity_numbers[0] == TTLOG_LEVEL_FATAL + 1,
	       "one severity per level");

static struct otlp *otlp_state(struct export *x)
{
	if (!x->state) {
		struct otlp *o = render_xrealloc(NULL, sizeof *o);
		memset(o, 0, sizeof *o);
		x->state = o;
	}
	return x->state;
}

/* A time as fixed64 nanoseconds: a decimal string; times before 1970,
 * which fixed64 cannot hold, become 0. */
static void put_nanos(struct render_buf *b, const char *key, int64_t ns)
{
	render_buf_printf(b, "\"%s\":\"%" PRIu64 "\"", key, ns > 0 ? (uint64_t)ns : 0);
}

/* Starts an attribute: the separator, {"key":KEY,"value":. */
static void attr_start(struct render_buf *b, int *first, const char *key, const char *const *reserved)
{
	render_buf_puts(b, *first ? "{\"key\":" : ",{\"key\":");
	*first = 0;
	/* A reserved key becomes "field.KEY", as cli_export_json_key() does. */
	for (; reserved && *reserved; reserved++) {
		if (strcmp(key, *reserved) == 0) {
			render_buf_puts(b, "\"field.");
			render_buf_puts(b, key); /* reserved names are plain ASCII */
			render_buf_puts(b, "\",\"value\":");
			return;
		}
	}
	render_json_cstring_utf8(b, key);
	render_buf_puts(b, ",\"value\":");
}

static void attr_string(struct render_buf *b, int *first, const char *key, const char *value)
{
	attr_start(b, first, key, NULL);
	render_buf_puts(b, "{\"stringValue\":");
	render_json_cstring_utf8(b, value ? value : "");
	render_buf_puts(b, "}}");
}

static void attr_int(struct render_buf *b, int *first, const char *key, int64_t value)
{
	attr_start(b, first, key, NULL);
	render_buf_printf(b, "{\"intValue\":\"%" PRId64 "\"}}", value);
}

/* A double as the JSON mapping writes it: a number, or "NaN", "Infinity",
 * "-Infinity". */
static void put_double(struct render_buf *b, double d)
{
	if (isnan(d))
		render_buf_puts(b, "\"NaN\"");
	else if (isinf(d))
		render_buf_puts(b, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		render_json_double(b, d);
}

/* An argument as an AnyValue. */
static void any_value(struct render_buf *b, const struct ttlog_arg *a)
{
	switch (a->type) {
	case TTLOG_ARG_BOOL:
		render_buf_printf(b, "{\"boolValue\":%s}", a->v.i ? "true" : "false");
		break;
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		render_buf_printf(b, "{\"intValue\":\"%" PRId64 "\"}", a->v.i);
		break;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
		/* intValue is an int64: larger values keep every digit as text. */
		if (a->v.u <= INT64_MAX)
			render_buf_printf(b, "{\"intValue\":\"%" PRIu64 "\"}", a->v.u);
		else
			render_buf_printf(b, "{\"stringValue\":\"%" PRIu64 "\"}", a->v.u);
		break;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
	case TTLOG_ARG_LD80: /* OTLP has doubles only */
		render_buf_puts(b, "{\"doubleValue\":");
		put_double(b, a->v.d);
		render_buf_putc(b, '}');
		break;
	case TTLOG_ARG_PTR:
		render_buf_printf(b, "{\"stringValue\":\"0x%" PRIx64 "\"}", a->v.u);
		break;
	case TTLOG_ARG_STR:
		if (a->str_null || !a->str) {
			render_buf_puts(b, "{}"); /* an empty AnyValue: no value */
			break;
		}
		render_buf_puts(b, "{\"stringValue\":");
		if (a->str_truncated) {
			struct render_buf cut = {0};
			render_buf_put(&cut, a->str, a->str_len);
			render_buf_puts(&cut, "...");
			render_json_string_utf8(b, cut.data, cut.len);
			render_buf_free(&cut);
		} else {
			render_json_string_utf8(b, a->str, a->str_len);
		}
		render_buf_putc(b, '}');
		break;
	default:
		render_buf_puts(b, "{}");
		break;
	}
}

static void attr_fields(struct render_buf *b, int *first, const struct ttlog_event *ev)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		attr_start(b, first, ev->fields[i].key, reserved_attributes);
		any_value(b, ev->fields[i].value);
		render_buf_putc(b, '}');
	}
}

static void attr_site(struct render_buf *b, int *first, const struct ttlog_site_info *site,
		      const struct ttlog_thread_info *thread)
{
	if (site) {
		attr_string(b, first, "code.file.path", site->file);
		attr_int(b, first, "code.line.number", site->line);
		attr_string(b, first, "code.function.name", site->function);
		attr_string(b, first, "ttlog.target", ttlog_site_target(site));
	}
	if (thread) {
		attr_int(b, first, "thread.id", thread->tid);
		if (thread->name && *thread->name)
			attr_string(b, first, "thread.name", thread->name);
	}
}

static const char *service_name(const struct export *x, const struct ttlog_file_info *info)
{
	if (x->service_name)
		return x->service_name;
	return info->executable && *info->executable ? render_base_name(info->executable) : "unknown_service";
}

/* What each signal's request calls its parts. */
static const struct {
	const char *upper; /* resourceLogs, scopeLogs */
	const char *items; /* the records of a scope */
} signal_names[EXPORT_NSIGNALS] = {
	[EXPORT_SIGNAL_LOGS] = {"Logs", "logRecords"},
	[EXPORT_SIGNAL_TRACES] = {"Spans", "spans"},
	[EXPORT_SIGNAL_METRICS] = {"Metrics", "metrics"},
};

/* The line break between records: none when a request is one line. */
static const char *nl(const struct export *x)
{
	return x->one_line ? "" : "\n";
}

static void otlp_begin(struct export *x)
{
	struct otlp *o = otlp_state(x);

	o->first_resource = 1;
	render_buf_printf(&x->out, "{\"resource%s\":[", signal_names[x->signal].upper);
}

static void otlp_begin_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	struct otlp *o = otlp_state(x);
	struct render_buf *b = &x->out;
	unsigned wv = info->writer_version;
	int first = 1;

	o->first_record = 1;
	o->spans_left_out = 0;
	o->r = r;
	o->info = info;
	o->created_ns = info->created_ns;
	o->file_first_ns = info->events ? info->first_ns : info->created_ns;
	o->file_last_ns = info->events ? info->last_ns : info->created_ns;
	if (!o->first_resource)
		render_buf_putc(b, ',');
	render_buf_puts(b, nl(x));
	o->first_resource = 0;
	render_buf_puts(b, "{\"resource\":{\"attributes\":[");
	attr_string(b, &first, "service.name", service_name(x, info));
	attr_string(b, &first, "host.name", info->hostname);
	attr_int(b, &first, "process.pid", info->pid);
	attr_string(b, &first, "process.executable.path", info->executable);
	attr_string(b, &first, "ttlog.snapshot.reason", info->reason);
	render_buf_printf(b,
			  "]},\"scope%s\":[{\"scope\":{\"name\":\"ttlog\",\"version\":\"%u.%u.%u\"},"
			  "\"%s\":[",
			  signal_names[x->signal].upper, wv / 10000, wv / 100 % 100, wv % 100,
			  signal_names[x->signal].items);
	cli_export_flush(x);
}

/* The file's crash as OpenTelemetry's exception attributes: exception.type
 * (the signal's name), exception.message (what the crash record says) and
 * exception.stacktrace (the crashing thread's backtrace as `ttlog view`
 * prints it; left out when the file has no stack). */
static void attr_exception(struct export *x, struct otlp *o, struct render_buf *b, int *first)
{
	const struct ttlog_file_info *info = o->info;
	struct render_buf text = {0};
	char type[32];
	const char *name = info->crash.signal_name;
	if (!name || !*name) {
		snprintf(type, sizeof type, "signal %d", info->crash.signo);
		name = type;
	}
	attr_string(b, first, "exception.type", name);
	cli_crash_text(&text, info);
	attr_start(b, first, "exception.message", NULL);
	render_buf_puts(b, "{\"stringValue\":");
	render_json_string_utf8(b, text.data, text.len);
	render_buf_puts(b, "}}");
	render_buf_reset(&text);
	cli_export_stack_text(o->r, x->path, &text);
	if (text.len) {
		attr_start(b, first, "exception.stacktrace", NULL);
		render_buf_puts(b, "{\"stringValue\":");
		render_json_string_utf8(b, text.data, text.len);
		render_buf_puts(b, "}}");
	}
	render_buf_free(&text);
}

static void record_start(struct export *x, struct otlp *o)
{
	if (!o->first_record)
		render_buf_putc(&x->out, ',');
	render_buf_puts(&x->out, nl(x));
	render_buf_putc(&x->out, '{');
	o->first_record = 0;
}

static void put_severity(struct render_buf *b, int level)
{
	if (level < 0 || level > TTLOG_LEVEL_FATAL)
		return; /* unspecified: both left out */
	render_buf_printf(b, ",\"severityNumber\":%d,\"severityText\":\"%s\"", severity_numbers[level],
			  ttlog_level_name(level));
}

static void log_record(struct export *x, struct otlp *o, const struct ttlog_event *ev)
{
	struct render_buf *b = &x->out;
	const struct ttlog_span *sp = ev->span;
	int first = 1;

	record_start(x, o);
	put_nanos(b, "timeUnixNano", ev->time_ns);
	render_buf_putc(b, ',');
	/* Observed when the snapshot was written, which is never before the
	 * event (but a clock may say otherwise). */
	put_nanos(b, "observedTimeUnixNano", o->created_ns > ev->time_ns ? o->created_ns : ev->time_ns);
	put_severity(b, render_event_level(ev));
	render_buf_puts(b, ",\"body\":{\"stringValue\":");
	const struct render_buf *msg = render_message_text(&x->msg);
	render_json_string_utf8(b, msg->data, msg->len);
	render_buf_puts(b, "},\"attributes\":[");
	attr_site(b, &first, ttlog_event_display_site(ev), ev->thread);
	attr_fields(b, &first, ev);
	render_buf_putc(b, ']');
	/* Ids only where both are known: a span id needs its trace. */
	if (sp && (sp->trace_hi | sp->trace_lo) && sp->id)
		render_buf_printf(b, ",\"traceId\":\"%016" PRIx64 "%016" PRIx64 "\",\"spanId\":\"%016" PRIx64 "\"",
				  sp->trace_hi, sp->trace_lo, sp->id);
	render_buf_putc(b, '}');
	cli_export_flush(x);
}

static void span_record(struct export *x, struct otlp *o, const struct export_span *sp,
			const struct ttlog_event *end, int crashed)
{
	struct render_buf *b = &x->out;
	const char *clipped = NULL;
	int64_t begin = sp->begin_ns, finish;
	int first = 1;

	if (!(sp->trace_hi | sp->trace_lo) || !sp->id) {
		o->spans_left_out++; /* a span needs a trace id */
		return;
	}
	if (end) {
		finish = end->time_ns;
	} else {
		finish = o->file_last_ns > begin ? o->file_last_ns : begin;
		clipped = "end";
	}
	if (begin == 0 || begin > finish) {
		begin = o->file_first_ns < finish ? o->file_first_ns : finish;
		clipped = "begin";
	}
	record_start(x, o);
	render_buf_printf(b, "\"traceId\":\"%016" PRIx64 "%016" PRIx64 "\",\"spanId\":\"%016" PRIx64 "\"",
			  sp->trace_hi, sp->trace_lo, sp->id);
	if (sp->parent)
		render_buf_printf(b, ",\"parentSpanId\":\"%016" PRIx64 "\"", sp->parent);
	render_buf_puts(b, ",\"name\":");
	render_json_cstring_utf8(b, *sp->name ? sp->name : "span");
	render_buf_puts(b, ",\"kind\":1,"); /* SPAN_KIND_INTERNAL */
	put_nanos(b, "startTimeUnixNano", begin);
	render_buf_putc(b, ',');
	put_nanos(b, "endTimeUnixNano", finish);
	render_buf_puts(b, ",\"attributes\":[");
	attr_site(b, &first, sp->site, sp->thread);
	if (clipped) {
		attr_start(b, &first, "ttlog.clipped", NULL);
		render_buf_printf(b, "{\"stringValue\":\"%s\"}}", clipped);
	}
	for (size_t i = 0; i < sp->fields.n; i++) {
		attr_start(b, &first, sp->fields.f[i].key, reserved_attributes);
		render_buf_put(b, sp->fields.f[i].value.data, sp->fields.f[i].value.len);
		render_buf_putc(b, '}');
	}
	if (!crashed) {
		render_buf_puts(b, "],\"status\":{}}");
		cli_export_flush(x);
		return;
	}
	/* The span the crash ended: an exception event at its end, and the
	 * status ERROR with the crash's description. */
	render_buf_puts(b, "],\"events\":[{");
	put_nanos(b, "timeUnixNano", finish);
	render_buf_puts(b, ",\"name\":\"exception\",\"attributes\":[");
	first = 1;
	attr_exception(x, o, b, &first);
	render_buf_puts(b, "]}],\"status\":{\"code\":2,\"message\":");
	struct render_buf text = {0};
	cli_crash_text(&text, o->info);
	render_json_string_utf8(b, text.data, text.len);
	render_buf_free(&text);
	render_buf_puts(b, "}}");
	cli_export_flush(x);
}

static void otlp_event(struct export *x, const struct ttlog_event *ev)
{
	struct otlp *o = otlp_state(x);

	if (x->signal == EXPORT_SIGNAL_LOGS) {
		if (ev->kind == TTLOG_EVENT_LOG)
			log_record(x, o, ev);
		return;
	}
	if (x->signal != EXPORT_SIGNAL_TRACES)
		return;
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		struct export_span *sp = cli_export_span_begin(&o->spans, ev);
		render_span_fields_add(&sp->fields, ev, 0, any_value);
	} else if (ev->kind == TTLOG_EVENT_SPAN_END) {
		struct export_span sp;
		cli_export_span_end(&o->spans, ev, &sp);
		render_span_fields_add(&sp.fields, ev, 1, any_value);
		span_record(x, o, &sp, ev, 0);
		cli_export_span_free(&sp);
	}
}

static void crash_record(struct export *x, struct otlp *o, ttlog_reader *r,
			 const struct ttlog_file_info *info)
{
	struct render_buf *b = &x->out;
	struct render_buf text = {0};
	const struct ttlog_thread_info *t = cli_find_thread(r, info->crash.thread_index, info->crash.tid);
	int first = 1;

	render_buf_puts(&text, "crash: ");
	cli_crash_text(&text, info);
	record_start(x, o);
	put_nanos(b, "timeUnixNano", info->created_ns);
	render_buf_putc(b, ',');
	put_nanos(b, "observedTimeUnixNano", info->created_ns);
	put_severity(b, TTLOG_LEVEL_FATAL);
	render_buf_puts(b, ",\"body\":{\"stringValue\":");
	render_json_string_utf8(b, text.data, text.len);
	render_buf_puts(b, "},\"attributes\":[");
	attr_int(b, &first, "thread.id", info->crash.tid);
	if (t && t->name && *t->name)
		attr_string(b, &first, "thread.name", t->name);
	attr_int(b, &first, "signal.number", info->crash.signo);
	attr_exception(x, o, b, &first);
	render_buf_puts(b, "]}");
	render_buf_free(&text);
	cli_export_flush(x);
}

/* ---- Metrics ------------------------------------------------------------- */

/* A data point's start: its attributes (the metric's labels; a key given
 * twice, which a hand-made file may hold, is kept once), then its time. */
static void point_start(struct render_buf *b, const struct ttlog_metric_value *m, int64_t ns)
{
	render_buf_putc(b, '{');
	if (m->nlabels) {
		int first = 1;
		render_buf_puts(b, "\"attributes\":[");
		for (unsigned i = 0; i < m->nlabels; i++) {
			int seen = 0;
			for (unsigned j = 0; j < i && !seen; j++)
				seen = strcmp(m->labels[j].key, m->labels[i].key) == 0;
			if (!seen)
				attr_string(b, &first, m->labels[i].key, m->labels[i].value);
		}
		render_buf_puts(b, "],");
	}
	put_nanos(b, "timeUnixNano", ns);
}

static void number_point(struct render_buf *b, const struct ttlog_metric_value *m, int64_t file_ns)
{
	if (m->type == TTLOG_METRIC_COUNTER) {
		point_start(b, m, file_ns);
		/* asInt is an int64: a larger count goes as a double. */
		if (m->counter <= INT64_MAX)
			render_buf_printf(b, ",\"asInt\":\"%" PRIu64 "\"}", m->counter);
		else
			render_buf_printf(b, ",\"asDouble\":%.17g}", (double)m->counter);
		return;
	}
	point_start(b, m, m->gauge_time_ns);
	render_buf_puts(b, ",\"asDouble\":");
	put_double(b, m->gauge);
	render_buf_putc(b, '}');
}

/*
 * A histogram data point with explicit bounds: the buckets that hold values,
 * each (L, U] with L and U as bounds, and a bucket of count 0 for each gap
 * between them (and below the first, above the last). The lowest bucket's
 * L (-inf) and the highest's U (+inf) are OTLP's own outer ends.
 */
static void histogram_point(struct render_buf *b, const struct ttlog_metric_value *m, int64_t ns)
{
	struct render_buf counts = {0}, bounds = {0};
	double prev = -INFINITY;
	int closed = 0;
	size_t nb = 0;

	point_start(b, m, ns);
	render_buf_printf(b, ",\"count\":\"%" PRIu64 "\",\"sum\":", m->hist.count);
	put_double(b, m->hist.sum);
	for (size_t i = 0; i < m->hist.nbuckets && !closed; i++) {
		const struct ttlog_metric_bucket *k = &m->hist.buckets[i];
		if (!(k->lower >= prev) || !(k->upper > k->lower))
			continue; /* out of order: the reader gives them in order */
		if (k->lower > prev) { /* the gap below it: empty */
			render_buf_puts(&counts, nb ? ",\"0\"" : "\"0\"");
			if (nb)
				render_buf_putc(&bounds, ',');
			render_json_double(&bounds, k->lower);
			nb++;
		}
		render_buf_printf(&counts, nb ? ",\"%" PRIu64 "\"" : "\"%" PRIu64 "\"", k->count);
		if (isinf(k->upper)) {
			closed = 1;
		} else {
			if (nb)
				render_buf_putc(&bounds, ',');
			render_json_double(&bounds, k->upper);
			prev = k->upper;
		}
		nb++;
	}
	if (!closed)
		render_buf_puts(&counts, nb ? ",\"0\"" : "\"0\"");
	render_buf_puts(b, ",\"bucketCounts\":[");
	render_buf_put(b, counts.data, counts.len);
	render_buf_puts(b, "],\"explicitBounds\":[");
	render_buf_put(b, bounds.data, bounds.len);
	render_buf_putc(b, ']');
	if (m->hist.count) {
		render_buf_puts(b, ",\"min\":");
		put_double(b, m->hist.min);
		render_buf_puts(b, ",\"max\":");
		put_double(b, m->hist.max);
	}
	render_buf_putc(b, '}');
	render_buf_free(&counts);
	render_buf_free(&bounds);
}

/* The file's metrics: one Metric per name and type, in the order of their
 * first appearance, with a data point per label set. */
static void metrics_records(struct export *x, struct otlp *o, ttlog_reader *r,
			    const struct ttlog_file_info *info)
{
	struct render_buf *b = &x->out;
	size_t n = 0;
	const struct ttlog_metric_value *ms = ttlog_reader_metrics(r, &n);

	for (size_t i = 0; i < n; i++) {
		const struct ttlog_metric_value *m = &ms[i];
		int seen = 0;
		if (m->type < TTLOG_METRIC_COUNTER || m->type > TTLOG_METRIC_HISTOGRAM)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = ms[j].type == m->type && strcmp(ms[j].name, m->name) == 0;
		if (seen)
			continue; /* written with the first of its name */
		record_start(x, o);
		render_buf_puts(b, "\"name\":");
		render_json_cstring_utf8(b, m->name);
		if (m->self) {
			render_buf_puts(b, ",\"description\":\"ttlog's own metric\"");
		} else if (m->file && *m->file) {
			struct render_buf d = {0};
			render_buf_printf(&d, "registered at %s:%" PRIu32, m->file, m->line);
			render_buf_puts(b, ",\"description\":");
			render_json_string_utf8(b, d.data, d.len);
			render_buf_free(&d);
		}
		render_buf_puts(b, m->type == TTLOG_METRIC_COUNTER ? ",\"sum\":{\"dataPoints\":["
				   : m->type == TTLOG_METRIC_GAUGE ? ",\"gauge\":{\"dataPoints\":["
								   : ",\"histogram\":{\"dataPoints\":[");
		int first = 1;
		for (size_t j = i; j < n; j++) {
			const struct ttlog_metric_value *p = &ms[j];
			if (p->type != m->type || strcmp(p->name, m->name) != 0)
				continue;
			if (p->type == TTLOG_METRIC_GAUGE && !p->gauge_set)
				continue; /* never set: no value to give */
			if (!first)
				render_buf_putc(b, ',');
			first = 0;
			if (p->type == TTLOG_METRIC_HISTOGRAM)
				histogram_point(b, p, info->created_ns);
			else
				number_point(b, p, info->created_ns);
		}
		render_buf_putc(b, ']');
		/* AGGREGATION_TEMPORALITY_CUMULATIVE: totals since the start. */
		if (m->type == TTLOG_METRIC_COUNTER)
			render_buf_puts(b, ",\"aggregationTemporality\":2,\"isMonotonic\":true");
		else if (m->type == TTLOG_METRIC_HISTOGRAM)
			render_buf_puts(b, ",\"aggregationTemporality\":2");
		render_buf_puts(b, "}}");
		cli_export_flush(x);
	}
}

static void otlp_end_file(struct export *x, ttlog_reader *r, const struct ttlog_file_info *info)
{
	struct otlp *o = otlp_state(x);

	if (x->signal == EXPORT_SIGNAL_TRACES) {
		/* Spans that had not ended when the snapshot was taken; the
		 * crashing thread's innermost (the last begun there) carries
		 * the crash. */
		size_t crashed = o->spans.n;
		for (size_t i = 0; info->crashed && i < o->spans.n; i++)
			if (o->spans.open[i].thread && o->spans.open[i].thread->tid == info->crash.tid)
				crashed = i;
		for (size_t i = 0; i < o->spans.n; i++)
			span_record(x, o, &o->spans.open[i], NULL, i == crashed);
		cli_export_spans_clear(&o->spans);
	} else if (x->signal == EXPORT_SIGNAL_METRICS) {
		metrics_records(x, o, r, info);
	} else if (info->crashed) {
		crash_record(x, o, r, info);
	}
	render_buf_puts(&x->out, "]}]}");
	cli_export_flush(x);
	if (o->spans_left_out) {
		cli_sync_stdout();
		fprintf(stderr, "ttlog: %s: %" PRIu64 " span%s left out: %s trace is not in the file\n",
			x->path, o->spans_left_out, o->spans_left_out == 1 ? "" : "s",
			o->spans_left_out == 1 ? "its" : "their");
	}
}

static void otlp_end(struct export *x)
{
	struct otlp *o = otlp_state(x);

	render_buf_puts(&x->out, nl(x));
	render_buf_puts(&x->out, "]}\n");
	cli_export_flush(x);
	cli_export_spans_clear(&o->spans);
	free(o);
	x->state = NULL;
}

const struct export_format cli_export_otlp = {
	.name = "otlp-json",
	.begin = otlp_begin,
	.begin_file = otlp_begin_file,
	.event = otlp_event,
	.end_file = otlp_end_file,
	.end = otlp_end,
};
