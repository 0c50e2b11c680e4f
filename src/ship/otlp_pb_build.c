/* SPDX-License-Identifier: MIT */
/*
 * otlp_pb_build.c - events, metrics and crashes as OTLP messages (see
 * otlp_pb_build.h; the messages are protoc-c's of otlp_pb.proto).
 *
 * Each signal has an arena (chunks of 64 KiB and up, bump-allocated,
 * freed whole at reset) and a list of groups, one per source file: its
 * resource and the pointers of its records, kept in a growing buffer and
 * put into the request's arrays when the request is made. Events of many
 * files interleave, so a group is found by the file's path pointer (ship.c
 * keeps one per file; the last group found is tried first).
 *
 * Attribute names follow OpenTelemetry's semantic conventions where they
 * have one (service.name, host.name, process.pid, process.executable.path,
 * code.file.path, code.line.number, code.function.name, thread.id,
 * thread.name, log.record.uid, exception.*); ttlog's own are ttlog.*. An
 * event field whose key is one of these becomes "field.KEY".
 */
#include "ship/otlp_pb_build.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_pb.pb-c.h"
#include "render/event_message.h"
#include "render/names.h"
#include "render/text_buf.h"

/* ---- Arena ------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	_Alignas(16) char data[];
};

struct arena {
	struct chunk *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		struct chunk *c = render_xrealloc(NULL, sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static char *arena_strn(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *arena_str(struct arena *a, const char *s)
{
	return arena_strn(a, s ? s : "", s ? strlen(s) : 0);
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* ---- Batch ------------------------------------------------------------- */

struct group {
	const char *source;        /* the file's path (ship.c's copy, which outlives readers) */
	TtlogOtlp__Resource *resource;
	struct render_buf items;   /* pointers to its records */
};

struct signal {
	struct arena arena;
	struct group *groups;
	size_t ngroups, cap;
	size_t last;               /* the group found last */
	struct otlp_counts counts;
	/* The request, made by otlp_batch_request(). */
	union {
		TtlogOtlp__ExportLogsServiceRequest logs;
		TtlogOtlp__ExportTraceServiceRequest traces;
		TtlogOtlp__ExportMetricsServiceRequest metrics;
	} req;
};

struct otlp_batch {
	const char *service_name;
	struct signal sig[OTLP_SIGNALS];
	struct render_buf text;
	TtlogOtlp__InstrumentationScope scope;
	char scope_version[32];
};

struct otlp_batch *otlp_batch_new(const char *service_name)
{
	struct otlp_batch *b = render_xrealloc(NULL, sizeof *b);
	memset(b, 0, sizeof *b);
	b->service_name = service_name;
	TtlogOtlp__InstrumentationScope scope = TTLOG_OTLP__INSTRUMENTATION_SCOPE__INIT;
	b->scope = scope;
	b->scope.name = (char *)"ttlog";
	return b;
}

void otlp_batch_reset(struct otlp_batch *b, enum otlp_signal sig)
{
	struct signal *s = &b->sig[sig];
	for (size_t i = 0; i < s->ngroups; i++) {
		render_buf_free(&s->groups[i].items);
	}
	s->ngroups = 0;
	s->last = 0;
	arena_free(&s->arena);
	memset(&s->counts, 0, sizeof s->counts);
}

void otlp_batch_free(struct otlp_batch *b)
{
	if (!b)
		return;
	for (int i = 0; i < OTLP_SIGNALS; i++) {
		otlp_batch_reset(b, i);
		free(b->sig[i].groups);
	}
	render_buf_free(&b->text);
	free(b);
}

const struct otlp_counts *otlp_batch_counts(const struct otlp_batch *b, enum otlp_signal sig)
{
	return &b->sig[sig].counts;
}

/* ---- Attributes -------------------------------------------------------- */

/* A growing list of attributes, put into a message at the end. */
struct attrs {
	TtlogOtlp__KeyValue *kv[64];
	size_t n;
};

static TtlogOtlp__AnyValue *any(struct arena *a)
{
	TtlogOtlp__AnyValue *v = arena_alloc(a, sizeof *v);
	TtlogOtlp__AnyValue init = TTLOG_OTLP__ANY_VALUE__INIT;
	*v = init;
	return v;
}

static TtlogOtlp__AnyValue *any_str(struct arena *a, const char *s, size_t n)
{
	TtlogOtlp__AnyValue *v = any(a);
	v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = arena_strn(a, s, n);
	return v;
}

static void attr(struct arena *a, struct attrs *at, const char *key, TtlogOtlp__AnyValue *v)
{
	if (at->n == sizeof at->kv / sizeof at->kv[0])
		return; /* more than 64 attributes: the rest are left out */
	TtlogOtlp__KeyValue *kv = arena_alloc(a, sizeof *kv);
	TtlogOtlp__KeyValue init = TTLOG_OTLP__KEY_VALUE__INIT;
	*kv = init;
	kv->key = arena_str(a, key);
	kv->value = v;
	at->kv[at->n++] = kv;
}

static void attr_str(struct arena *a, struct attrs *at, const char *key, const char *value)
{
	attr(a, at, key, any_str(a, value ? value : "", value ? strlen(value) : 0));
}

static void attr_int(struct arena *a, struct attrs *at, const char *key, int64_t value)
{
	TtlogOtlp__AnyValue *v = any(a);
	v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_INT_VALUE;
	v->int_value = value;
	attr(a, at, key, v);
}

/* The attributes as a message's array (in the arena). */
static TtlogOtlp__KeyValue **attrs_array(struct arena *a, const struct attrs *at)
{
	TtlogOtlp__KeyValue **p = arena_alloc(a, (at->n ? at->n : 1) * sizeof *p);
	memcpy(p, at->kv, at->n * sizeof *p);
	return p;
}

/* An argument as an AnyValue: integers as int_value (an unsigned one above
 * INT64_MAX as its decimal text), floating point as double_value, a string
 * as string_value ("..." after a truncated one), a pointer as hex text, a
 * NULL string as an empty AnyValue. */
static TtlogOtlp__AnyValue *arg_value(struct arena *a, const struct ttlog_arg *arg)
{
	TtlogOtlp__AnyValue *v = any(a);
	char tmp[32];
	switch (arg->type) {
	case TTLOG_ARG_BOOL:
		v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = arg->v.i != 0;
		break;
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = arg->v.i;
		break;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
		if (arg->v.u <= INT64_MAX) {
			v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_INT_VALUE;
			v->int_value = (int64_t)arg->v.u;
		} else {
			snprintf(tmp, sizeof tmp, "%" PRIu64, arg->v.u);
			return any_str(a, tmp, strlen(tmp));
		}
		break;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
	case TTLOG_ARG_LD80:
		v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE;
		v->double_value = arg->v.d;
		break;
	case TTLOG_ARG_PTR:
		snprintf(tmp, sizeof tmp, "0x%" PRIx64, arg->v.u);
		return any_str(a, tmp, strlen(tmp));
	case TTLOG_ARG_STR:
		if (arg->str_null || !arg->str)
			break;
		if (arg->str_truncated) {
			char *s = arena_alloc(a, arg->str_len + 4);
			memcpy(s, arg->str, arg->str_len);
			memcpy(s + arg->str_len, "...", 4);
			v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_STRING_VALUE;
			v->string_value = s;
		} else {
			return any_str(a, arg->str, arg->str_len);
		}
		break;
	default:
		break;
	}
	return v;
}

/* Attributes this file writes itself: a field with one of these keys is
 * put under "field.KEY". */
static const char *const reserved[] = {
	"code.file.path", "code.line.number", "code.function.name", "thread.id", "thread.name",
	"ttlog.target", "ttlog.event.kind", "log.record.uid", "ttlog.promoted", NULL,
};

static void attr_fields(struct arena *a, struct attrs *at, const struct ttlog_event *ev)
{
	for (unsigned i = 0; i < ev->nfields; i++) {
		const char *key = ev->fields[i].key ? ev->fields[i].key : "";
		char buf[256];
		for (const char *const *r = reserved; *r; r++)
			if (strcmp(*r, key) == 0) {
				snprintf(buf, sizeof buf, "field.%s", key);
				key = buf;
				break;
			}
		/* A key already there (one set at the span's begin and end): the last wins. */
		TtlogOtlp__AnyValue *v = arg_value(a, ev->fields[i].value);
		size_t k = 0;
		while (k < at->n && strcmp(at->kv[k]->key, key) != 0)
			k++;
		if (k < at->n)
			at->kv[k]->value = v;
		else
			attr(a, at, key, v);
	}
}

static void attr_site(struct arena *a, struct attrs *at, const struct ttlog_site_info *site,
		      const struct ttlog_thread_info *thread)
{
	if (site) {
		attr_str(a, at, "code.file.path", site->file);
		attr_int(a, at, "code.line.number", site->line);
		attr_str(a, at, "code.function.name", site->function);
		attr_str(a, at, "ttlog.target", ttlog_site_target(site));
	}
	if (thread) {
		attr_int(a, at, "thread.id", thread->tid);
		if (thread->name && *thread->name)
			attr_str(a, at, "thread.name", thread->name);
	}
}

/* ---- Groups ------------------------------------------------------------ */

static const char *service_of(const struct otlp_batch *b, const struct ttlog_file_info *info)
{
	if (b->service_name)
		return b->service_name;
	if (info->service && *info->service)
		return info->service;
	return info->executable && *info->executable ? render_base_name(info->executable) : "unknown_service";
}

static struct group *group_of(struct otlp_batch *b, enum otlp_signal sig, struct ship_file_rows *f)
{
	struct signal *s = &b->sig[sig];
	if (s->last < s->ngroups && s->groups[s->last].source == f->source)
		return &s->groups[s->last];
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i].source == f->source) {
			s->last = i;
			return &s->groups[i];
		}
	if (s->ngroups == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->groups = render_xrealloc(s->groups, s->cap * sizeof *s->groups);
	}
	struct group *g = &s->groups[s->ngroups];
	memset(g, 0, sizeof *g);
	g->source = f->source;
	struct arena *a = &s->arena;
	const struct ttlog_file_info *info = f->info;
	struct attrs at = {.n = 0};
	attr_str(a, &at, "service.name", service_of(b, info));
	attr_str(a, &at, "host.name", info->hostname);
	attr_int(a, &at, "process.pid", info->pid);
	attr_str(a, &at, "process.executable.path", info->executable);
	attr_str(a, &at, "ttlog.snapshot.reason", info->reason);
	attr_str(a, &at, "ttlog.source.file", f->source);
	g->resource = arena_alloc(a, sizeof *g->resource);
	TtlogOtlp__Resource init = TTLOG_OTLP__RESOURCE__INIT;
	*g->resource = init;
	g->resource->n_attributes = at.n;
	g->resource->attributes = attrs_array(a, &at);
	unsigned wv = info->writer_version;
	snprintf(b->scope_version, sizeof b->scope_version, "%u.%u.%u", wv / 10000, wv / 100 % 100, wv % 100);
	b->scope.version = b->scope_version;
	s->last = s->ngroups++;
	return g;
}

static void push(struct render_buf *list, void *p)
{
	render_buf_put(list, (const char *)&p, sizeof p);
}

/* ---- Records ----------------------------------------------------------- */

/* SeverityNumber of each level, TRACE..FATAL (the first of each range). */
static const int severity_numbers[] = {1, 5, 9, 13, 17, 21};
_Static_assert(sizeof severity_numbers / sizeof severity_numbers[0] == TTLOG_LEVEL_FATAL + 1,
	       "one severity per level");

static ProtobufCBinaryData id_bytes(struct arena *a, uint64_t hi, uint64_t lo, int wide)
{
	ProtobufCBinaryData d;
	d.len = wide ? 16 : 8;
	d.data = arena_alloc(a, d.len);
	for (size_t i = 0; i < d.len; i++) {
		uint64_t w = wide && i < 8 ? hi : lo;
		d.data[i] = (uint8_t)(w >> (8 * (7 - i % 8)));
	}
	return d;
}

static uint64_t nanos(int64_t ns)
{
	return ns > 0 ? (uint64_t)ns : 0;
}

int otlp_batch_event(struct otlp_batch *b, struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id)
{
	struct signal *s = &b->sig[OTLP_LOGS];
	struct arena *a = &s->arena;
	struct group *g = group_of(b, OTLP_LOGS, f);
	const struct ttlog_span *sp = ev->span;
	struct attrs at = {.n = 0};
	char uid[17];

	TtlogOtlp__LogRecord *r = arena_alloc(a, sizeof *r);
	TtlogOtlp__LogRecord init = TTLOG_OTLP__LOG_RECORD__INIT;
	*r = init;
	r->has_time_unix_nano = 1;
	r->time_unix_nano = nanos(ev->time_ns);
	r->has_observed_time_unix_nano = 1;
	r->observed_time_unix_nano = nanos(f->info->created_ns > ev->time_ns ? f->info->created_ns : ev->time_ns);
	int level = render_event_level(ev);
	if (level >= 0 && level <= TTLOG_LEVEL_FATAL) {
		r->has_severity_number = 1;
		r->severity_number = severity_numbers[level];
		r->severity_text = arena_str(a, ttlog_level_name(level));
	}
	render_buf_reset(&b->text);
	render_event_message(&b->text, ev);
	r->body = any_str(a, b->text.data ? b->text.data : "", b->text.len);
	attr_site(a, &at, ttlog_event_display_site(ev), ev->thread);
	if (ev->kind != TTLOG_EVENT_LOG)
		attr_str(a, &at, "ttlog.event.kind", ttlog_event_kind_name(ev->kind));
	snprintf(uid, sizeof uid, "%016" PRIx64, id);
	attr_str(a, &at, "log.record.uid", uid);
	if (ev->flags & TTLOG_EVENT_PROMOTED) {
		TtlogOtlp__AnyValue *v = any(a);
		v->value_case = TTLOG_OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
		v->bool_value = 1;
		attr(a, &at, "ttlog.promoted", v);
	}
	attr_fields(a, &at, ev);
	r->n_attributes = at.n;
	r->attributes = attrs_array(a, &at);
	if (sp && (sp->trace_hi | sp->trace_lo) && sp->id) {
		r->has_trace_id = r->has_span_id = 1;
		r->trace_id = id_bytes(a, sp->trace_hi, sp->trace_lo, 1);
		r->span_id = id_bytes(a, 0, sp->id, 0);
	}
	push(&g->items, r);
	s->counts.items++;
	s->counts.events++;

	if (ev->kind != TTLOG_EVENT_SPAN_END || !sp)
		return 0;
	if (!(sp->trace_hi | sp->trace_lo) || !sp->id)
		return 1;
	s = &b->sig[OTLP_TRACES];
	a = &s->arena;
	g = group_of(b, OTLP_TRACES, f);
	TtlogOtlp__Span *span = arena_alloc(a, sizeof *span);
	TtlogOtlp__Span sinit = TTLOG_OTLP__SPAN__INIT;
	*span = sinit;
	span->has_trace_id = span->has_span_id = 1;
	span->trace_id = id_bytes(a, sp->trace_hi, sp->trace_lo, 1);
	span->span_id = id_bytes(a, 0, sp->id, 0);
	if (sp->parent) {
		span->has_parent_span_id = 1;
		span->parent_span_id = id_bytes(a, 0, sp->parent, 0);
	}
	span->name = arena_str(a, sp->name && *sp->name ? sp->name : "span");
	span->has_kind = 1;
	span->kind = 1; /* SPAN_KIND_INTERNAL */
	int64_t begin = sp->begin_ns ? sp->begin_ns : ev->time_ns;
	span->has_start_time_unix_nano = span->has_end_time_unix_nano = 1;
	span->start_time_unix_nano = nanos(begin);
	span->end_time_unix_nano = nanos(ev->time_ns > begin ? ev->time_ns : begin);
	at.n = 0;
	attr_site(a, &at, sp->site, ev->thread);
	attr_fields(a, &at, ev);
	span->n_attributes = at.n;
	span->attributes = attrs_array(a, &at);
	push(&g->items, span);
	s->counts.items++;
	return 0;
}

/* ---- Metrics and the crash --------------------------------------------- */

static TtlogOtlp__Metric *metric_msg(struct arena *a, const struct ttlog_metric_value *m)
{
	TtlogOtlp__Metric *mm = arena_alloc(a, sizeof *mm);
	TtlogOtlp__Metric init = TTLOG_OTLP__METRIC__INIT;
	*mm = init;
	mm->name = arena_str(a, m->name);
	return mm;
}

static TtlogOtlp__KeyValue **labels(struct arena *a, const struct ttlog_metric_value *m, size_t *n)
{
	struct attrs at = {.n = 0};
	for (unsigned k = 0; k < m->nlabels; k++)
		attr_str(a, &at, m->labels[k].key, m->labels[k].value);
	*n = at.n;
	return attrs_array(a, &at);
}

/* Bounds and counts of a histogram from its buckets that hold values,
 * each (lower, upper]: the bounds are their edges in order, an edge
 * shared by two neighbours once; the count of a range between two
 * buckets is 0. */
static void histogram_buckets(struct arena *a, const struct ttlog_metric_value *m, TtlogOtlp__HistogramDataPoint *p)
{
	size_t nb = m->hist.nbuckets;
	double *bounds = arena_alloc(a, (2 * nb + 1) * sizeof *bounds);
	uint64_t *counts = arena_alloc(a, (2 * nb + 2) * sizeof *counts);
	size_t n = 0; /* bounds so far; counts[i] is that of (bounds[i-1], bounds[i]] */
	uint64_t above = 0; /* above the last bound */
	for (size_t i = 0; i < nb; i++) {
		const struct ttlog_metric_bucket *bk = &m->hist.buckets[i];
		if (isfinite(bk->lower) && (n == 0 || bounds[n - 1] < bk->lower)) {
			bounds[n] = bk->lower; /* the range up to it holds nothing */
			counts[n++] = 0;
		}
		if (!isfinite(bk->upper)) {
			above += bk->count;
			break;
		}
		bounds[n] = bk->upper;
		counts[n++] = bk->count;
	}
	counts[n] = above;
	p->n_explicit_bounds = n;
	p->explicit_bounds = bounds;
	p->n_bucket_counts = n + 1;
	p->bucket_counts = counts;
}

void otlp_batch_extras(struct otlp_batch *b, struct ship_file_rows *f, const ttlog_reader *r,
		       const char *summary, const char *stack)
{
	const struct ttlog_file_info *info = f->info;
	size_t nm = 0;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &nm);
	struct signal *s = &b->sig[OTLP_METRICS];
	struct arena *a = &s->arena;
	struct group *g = nm ? group_of(b, OTLP_METRICS, f) : NULL;
	uint64_t now = nanos(info->created_ns);
	for (size_t i = 0; i < nm; i++, m++) {
		TtlogOtlp__Metric *mm = metric_msg(a, m);
		if (m->type == TTLOG_METRIC_COUNTER || m->type == TTLOG_METRIC_GAUGE) {
			TtlogOtlp__NumberDataPoint *p = arena_alloc(a, sizeof *p);
			TtlogOtlp__NumberDataPoint pinit = TTLOG_OTLP__NUMBER_DATA_POINT__INIT;
			*p = pinit;
			p->attributes = labels(a, m, &p->n_attributes);
			p->has_time_unix_nano = 1;
			p->time_unix_nano = now;
			TtlogOtlp__NumberDataPoint **pp = arena_alloc(a, sizeof *pp);
			*pp = p;
			if (m->type == TTLOG_METRIC_COUNTER) {
				p->value_case = TTLOG_OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
				p->as_int = m->counter > INT64_MAX ? INT64_MAX : (int64_t)m->counter;
				TtlogOtlp__Sum *sum = arena_alloc(a, sizeof *sum);
				TtlogOtlp__Sum sinit = TTLOG_OTLP__SUM__INIT;
				*sum = sinit;
				sum->n_data_points = 1;
				sum->data_points = pp;
				sum->has_aggregation_temporality = sum->has_is_monotonic = 1;
				sum->aggregation_temporality = 2; /* CUMULATIVE */
				sum->is_monotonic = 1;
				mm->data_case = TTLOG_OTLP__METRIC__DATA_SUM;
				mm->sum = sum;
			} else {
				p->value_case = TTLOG_OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
				p->as_double = m->gauge;
				if (m->gauge_set && m->gauge_time_ns > 0)
					p->time_unix_nano = nanos(m->gauge_time_ns);
				TtlogOtlp__Gauge *gauge = arena_alloc(a, sizeof *gauge);
				TtlogOtlp__Gauge ginit = TTLOG_OTLP__GAUGE__INIT;
				*gauge = ginit;
				gauge->n_data_points = 1;
				gauge->data_points = pp;
				mm->data_case = TTLOG_OTLP__METRIC__DATA_GAUGE;
				mm->gauge = gauge;
			}
		} else if (m->type == TTLOG_METRIC_HISTOGRAM) {
			TtlogOtlp__HistogramDataPoint *p = arena_alloc(a, sizeof *p);
			TtlogOtlp__HistogramDataPoint pinit = TTLOG_OTLP__HISTOGRAM_DATA_POINT__INIT;
			*p = pinit;
			p->attributes = labels(a, m, &p->n_attributes);
			p->has_time_unix_nano = 1;
			p->time_unix_nano = now;
			p->has_count = p->has_sum = 1;
			p->count = m->hist.count;
			p->sum = m->hist.sum;
			if (m->hist.count) {
				p->has_min = p->has_max = 1;
				p->min = m->hist.min;
				p->max = m->hist.max;
			}
			histogram_buckets(a, m, p);
			TtlogOtlp__HistogramDataPoint **pp = arena_alloc(a, sizeof *pp);
			*pp = p;
			TtlogOtlp__Histogram *h = arena_alloc(a, sizeof *h);
			TtlogOtlp__Histogram hinit = TTLOG_OTLP__HISTOGRAM__INIT;
			*h = hinit;
			h->n_data_points = 1;
			h->data_points = pp;
			h->has_aggregation_temporality = 1;
			h->aggregation_temporality = 2; /* CUMULATIVE */
			mm->data_case = TTLOG_OTLP__METRIC__DATA_HISTOGRAM;
			mm->histogram = h;
		} else {
			continue;
		}
		push(&g->items, mm);
		s->counts.items++;
	}
	if (!info->crashed)
		return;

	/* The crash: a FATAL record of the crashing thread. */
	s = &b->sig[OTLP_LOGS];
	a = &s->arena;
	g = group_of(b, OTLP_LOGS, f);
	struct attrs at = {.n = 0};
	TtlogOtlp__LogRecord *rec = arena_alloc(a, sizeof *rec);
	TtlogOtlp__LogRecord init = TTLOG_OTLP__LOG_RECORD__INIT;
	*rec = init;
	rec->has_time_unix_nano = rec->has_observed_time_unix_nano = 1;
	rec->time_unix_nano = rec->observed_time_unix_nano = now;
	rec->has_severity_number = 1;
	rec->severity_number = severity_numbers[TTLOG_LEVEL_FATAL];
	rec->severity_text = arena_str(a, ttlog_level_name(TTLOG_LEVEL_FATAL));
	render_buf_reset(&b->text);
	render_buf_printf(&b->text, "crash: %s", summary);
	rec->body = any_str(a, b->text.data, b->text.len);
	attr_int(a, &at, "thread.id", info->crash.tid);
	size_t nt = ttlog_reader_thread_count(r);
	for (size_t i = 0; i < nt; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && (t->index == info->crash.thread_index || t->tid == info->crash.tid)) {
			if (t->name && *t->name)
				attr_str(a, &at, "thread.name", t->name);
			break;
		}
	}
	attr_int(a, &at, "signal.number", info->crash.signo);
	char type[32];
	const char *name = info->crash.signal_name;
	if (!name || !*name) {
		snprintf(type, sizeof type, "signal %d", info->crash.signo);
		name = type;
	}
	attr_str(a, &at, "exception.type", name);
	attr_str(a, &at, "exception.message", summary);
	if (stack && *stack)
		attr_str(a, &at, "exception.stacktrace", stack);
	rec->n_attributes = at.n;
	rec->attributes = attrs_array(a, &at);
	push(&g->items, rec);
	s->counts.items++;
	s->counts.crashes++;
}

/* ---- Requests ---------------------------------------------------------- */

static void **items_of(struct group *g, size_t *n)
{
	*n = g->items.len / sizeof(void *);
	return (void **)g->items.data;
}

const ProtobufCMessage *otlp_batch_request(struct otlp_batch *b, enum otlp_signal sig)
{
	struct signal *s = &b->sig[sig];
	struct arena *a = &s->arena;
	size_t ng = s->ngroups;
	size_t n;
	switch (sig) {
	case OTLP_LOGS: {
		TtlogOtlp__ExportLogsServiceRequest init = TTLOG_OTLP__EXPORT_LOGS_SERVICE_REQUEST__INIT;
		s->req.logs = init;
		TtlogOtlp__ResourceLogs **rl = arena_alloc(a, (ng ? ng : 1) * sizeof *rl);
		for (size_t i = 0; i < ng; i++) {
			TtlogOtlp__ResourceLogs *r = arena_alloc(a, sizeof *r);
			TtlogOtlp__ResourceLogs rinit = TTLOG_OTLP__RESOURCE_LOGS__INIT;
			TtlogOtlp__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
			TtlogOtlp__ScopeLogs sinit = TTLOG_OTLP__SCOPE_LOGS__INIT;
			*r = rinit;
			*sl = sinit;
			r->resource = s->groups[i].resource;
			r->n_scope_logs = 1;
			r->scope_logs = arena_alloc(a, sizeof *r->scope_logs);
			r->scope_logs[0] = sl;
			sl->scope = &b->scope;
			sl->log_records = (TtlogOtlp__LogRecord **)items_of(&s->groups[i], &n);
			sl->n_log_records = n;
			rl[i] = r;
		}
		s->req.logs.n_resource_logs = ng;
		s->req.logs.resource_logs = rl;
		return &s->req.logs.base;
	}
	case OTLP_TRACES: {
		TtlogOtlp__ExportTraceServiceRequest init = TTLOG_OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
		s->req.traces = init;
		TtlogOtlp__ResourceSpans **rs = arena_alloc(a, (ng ? ng : 1) * sizeof *rs);
		for (size_t i = 0; i < ng; i++) {
			TtlogOtlp__ResourceSpans *r = arena_alloc(a, sizeof *r);
			TtlogOtlp__ResourceSpans rinit = TTLOG_OTLP__RESOURCE_SPANS__INIT;
			TtlogOtlp__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
			TtlogOtlp__ScopeSpans sinit = TTLOG_OTLP__SCOPE_SPANS__INIT;
			*r = rinit;
			*ss = sinit;
			r->resource = s->groups[i].resource;
			r->n_scope_spans = 1;
			r->scope_spans = arena_alloc(a, sizeof *r->scope_spans);
			r->scope_spans[0] = ss;
			ss->scope = &b->scope;
			ss->spans = (TtlogOtlp__Span **)items_of(&s->groups[i], &n);
			ss->n_spans = n;
			rs[i] = r;
		}
		s->req.traces.n_resource_spans = ng;
		s->req.traces.resource_spans = rs;
		return &s->req.traces.base;
	}
	default: {
		TtlogOtlp__ExportMetricsServiceRequest init = TTLOG_OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
		s->req.metrics = init;
		TtlogOtlp__ResourceMetrics **rm = arena_alloc(a, (ng ? ng : 1) * sizeof *rm);
		for (size_t i = 0; i < ng; i++) {
			TtlogOtlp__ResourceMetrics *r = arena_alloc(a, sizeof *r);
			TtlogOtlp__ResourceMetrics rinit = TTLOG_OTLP__RESOURCE_METRICS__INIT;
			TtlogOtlp__ScopeMetrics *sm = arena_alloc(a, sizeof *sm);
			TtlogOtlp__ScopeMetrics sinit = TTLOG_OTLP__SCOPE_METRICS__INIT;
			*r = rinit;
			*sm = sinit;
			r->resource = s->groups[i].resource;
			r->n_scope_metrics = 1;
			r->scope_metrics = arena_alloc(a, sizeof *r->scope_metrics);
			r->scope_metrics[0] = sm;
			sm->scope = &b->scope;
			sm->metrics = (TtlogOtlp__Metric **)items_of(&s->groups[i], &n);
			sm->n_metrics = n;
			rm[i] = r;
		}
		s->req.metrics.n_resource_metrics = ng;
		s->req.metrics.resource_metrics = rm;
		return &s->req.metrics.base;
	}
	}
}
