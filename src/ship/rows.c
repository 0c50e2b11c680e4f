/* SPDX-License-Identifier: MIT */
/*
 * rows.c - events, spans, metrics and crash records as RowBinary rows (see
 * rows.h; the column order is schema.c's).
 *
 * Row ids are 64-bit hashes (a multiply-xorshift mix, the finaliser of
 * splitmix64, over each part in turn): an event's from the process (host
 * name, pid), thread id, ticks, site id and rank; a metric sample's from
 * the process, the file's creation time and the metric's position; a
 * crash's from the process, signal, thread and address. None depends on
 * the file's path, so copies of a record in several files collapse.
 */
#include "ship/rows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render/event_message.h"
#include "render/field_text.h"

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	uint64_t v = 0xcbf29ce484222325ull; /* FNV-1a of the bytes, then mixed in */
	for (; s && *s; s++)
		v = (v ^ (unsigned char)*s) * 0x100000001b3ull;
	return mix(h, v);
}

/* ---- RowBinary --------------------------------------------------------- */

static void put_u8(struct render_buf *b, uint8_t v)
{
	render_buf_putc(b, (char)v);
}

static void put_le(struct render_buf *b, uint64_t v, unsigned bytes)
{
	char tmp[8];
	if (bytes > sizeof tmp)
		bytes = sizeof tmp; /* the callers' 4 and 8; said for the compiler */
	for (unsigned i = 0; i < bytes; i++)
		tmp[i] = (char)(v >> (8 * i));
	render_buf_put(b, tmp, bytes);
}

static void put_u32(struct render_buf *b, uint32_t v) { put_le(b, v, 4); }
static void put_u64(struct render_buf *b, uint64_t v) { put_le(b, v, 8); }
static void put_i64(struct render_buf *b, int64_t v) { put_le(b, (uint64_t)v, 8); }

static void put_f64(struct render_buf *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_le(b, v, 8);
}

static void put_len(struct render_buf *b, uint64_t n)
{
	while (n >= 0x80) {
		put_u8(b, (uint8_t)(n | 0x80));
		n >>= 7;
	}
	put_u8(b, (uint8_t)n);
}

static void put_bytes(struct render_buf *b, const char *s, size_t n)
{
	put_len(b, n);
	render_buf_put(b, s, n);
}

static void put_str(struct render_buf *b, const char *s)
{
	put_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

/* DateTime: seconds since the epoch as UInt32 (0 before 1970, saturated). */
static void put_datetime(struct render_buf *b, int64_t ns)
{
	int64_t s = ns > 0 ? ns / 1000000000 : 0;
	put_u32(b, s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s);
}

static void put_hex_id(struct render_buf *b, uint64_t hi, uint64_t lo, int wide)
{
	char tmp[33];
	if (!hi && !lo) {
		put_str(b, "");
		return;
	}
	if (wide)
		snprintf(tmp, sizeof tmp, "%016llx%016llx", (unsigned long long)hi,
			 (unsigned long long)lo);
	else
		snprintf(tmp, sizeof tmp, "%016llx", (unsigned long long)lo);
	put_str(b, tmp);
}

/* ---- Rows -------------------------------------------------------------- */

void ship_rows_start(struct ship_file_rows *f)
{
	f->process = mix(mix_str(0, f->info->hostname), f->info->pid);
}

void ship_rows_free(struct ship_file_rows *f)
{
	render_buf_free(&f->scratch);
	render_buf_free(&f->text);
}

uint64_t ship_event_id(const struct ship_file_rows *f, const struct ttlog_event *ev, uint32_t rank)
{
	uint64_t h = mix(f->process, ev->thread ? ev->thread->tid : 0);
	h = mix(h, ev->ticks);
	h = mix(h, ev->site ? ev->site->id : 0);
	return mix(h, rank);
}

static double arg_number(const struct ttlog_arg *a)
{
	switch (a->type) {
	case TTLOG_ARG_BOOL:
	case TTLOG_ARG_CHAR:
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		return (double)a->v.i;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
		return (double)a->v.u;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
		return a->v.d;
	default:
		return NAN;
	}
}

/* The three arrays of a Nested(key, value, num) of fields. */
static void put_fields(struct ship_file_rows *f, struct render_buf *b, const struct ttlog_field *fields,
		       unsigned n)
{
	put_len(b, n);
	for (unsigned i = 0; i < n; i++)
		put_str(b, fields[i].key);
	put_len(b, n);
	for (unsigned i = 0; i < n; i++) {
		render_buf_reset(&f->scratch);
		render_field_text(&f->scratch, fields[i].value);
		put_bytes(b, f->scratch.data ? f->scratch.data : "", f->scratch.len);
	}
	put_len(b, n);
	for (unsigned i = 0; i < n; i++)
		put_f64(b, arg_number(fields[i].value));
}

static void put_thread(struct render_buf *b, const struct ttlog_event *ev)
{
	put_u32(b, ev->thread ? ev->thread->tid : 0);
	put_str(b, ev->thread ? ev->thread->name : "");
}

int ship_rows_event(struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id,
		    struct render_buf *logs, struct render_buf *spans)
{
	const struct ttlog_file_info *info = f->info;
	const struct ttlog_site_info *site = ttlog_event_display_site(ev);
	const struct ttlog_span *sp = ev->span;
	int level = ev->site ? ev->site->level : -1;

	put_u64(logs, id);
	put_u64(logs, ev->time_ns > 0 ? (uint64_t)ev->time_ns : 0);
	put_datetime(logs, ev->time_ns);
	put_str(logs, ttlog_event_kind_name(ev->kind));
	put_str(logs, level >= 0 ? ttlog_level_name(level) : "");
	put_str(logs, info->service);
	put_str(logs, info->hostname);
	put_u32(logs, info->pid);
	put_thread(logs, ev);
	put_str(logs, site ? site->file : "");
	put_u32(logs, site ? site->line : 0);
	put_str(logs, site ? site->function : "");
	put_str(logs, site ? ttlog_site_target(site) : "");
	render_event_message(&f->text, ev);
	put_bytes(logs, f->text.data ? f->text.data : "", f->text.len);
	put_fields(f, logs, ev->fields, ev->nfields);
	put_hex_id(logs, sp ? sp->trace_hi : 0, sp ? sp->trace_lo : 0, 1);
	put_hex_id(logs, 0, sp ? sp->id : 0, 0);
	put_hex_id(logs, 0, sp ? sp->parent : 0, 0);
	put_i64(logs, ev->kind == TTLOG_EVENT_SPAN_END && sp ? sp->duration_ns : -1);
	put_u8(logs, (ev->flags & TTLOG_EVENT_PROMOTED) ? 1 : 0);
	put_str(logs, info->reason);
	put_str(logs, f->source);

	if (ev->kind != TTLOG_EVENT_SPAN_END || !sp)
		return 0;
	const struct ttlog_site_info *bs = sp->site;
	int64_t begin = sp->begin_ns ? sp->begin_ns : ev->time_ns;
	put_u64(spans, id);
	put_datetime(spans, begin);
	put_u64(spans, begin > 0 ? (uint64_t)begin : 0);
	put_u64(spans, ev->time_ns > 0 ? (uint64_t)ev->time_ns : 0);
	put_i64(spans, sp->duration_ns);
	put_hex_id(spans, sp->trace_hi, sp->trace_lo, 1);
	put_hex_id(spans, 0, sp->id, 0);
	put_hex_id(spans, 0, sp->parent, 0);
	put_str(spans, sp->name);
	put_str(spans, info->service);
	put_str(spans, info->hostname);
	put_u32(spans, info->pid);
	put_thread(spans, ev);
	put_str(spans, bs ? bs->file : "");
	put_u32(spans, bs ? bs->line : 0);
	put_str(spans, bs ? bs->function : "");
	put_fields(f, spans, ev->fields, ev->nfields);
	put_str(spans, f->source);
	return 1;
}

static const char *metric_type(int type)
{
	switch (type) {
	case TTLOG_METRIC_COUNTER:
		return "counter";
	case TTLOG_METRIC_GAUGE:
		return "gauge";
	case TTLOG_METRIC_HISTOGRAM:
		return "histogram";
	default:
		return "?";
	}
}

uint64_t ship_rows_metrics(struct ship_file_rows *f, const ttlog_reader *r, struct render_buf *out)
{
	const struct ttlog_file_info *info = f->info;
	size_t n = 0;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	for (size_t i = 0; i < n; i++, m++) {
		put_u64(out, mix(mix(mix(f->process, 0x6d657472ull), (uint64_t)info->created_ns), i));
		put_u64(out, info->created_ns > 0 ? (uint64_t)info->created_ns : 0);
		put_datetime(out, info->created_ns);
		put_str(out, info->service);
		put_str(out, info->hostname);
		put_u32(out, info->pid);
		put_str(out, m->name);
		put_str(out, metric_type(m->type));
		put_len(out, m->nlabels);
		for (unsigned k = 0; k < m->nlabels; k++)
			put_str(out, m->labels[k].key);
		put_len(out, m->nlabels);
		for (unsigned k = 0; k < m->nlabels; k++)
			put_str(out, m->labels[k].value);
		int hist = m->type == TTLOG_METRIC_HISTOGRAM;
		put_u64(out, m->type == TTLOG_METRIC_COUNTER ? m->counter : 0);
		put_f64(out, m->type == TTLOG_METRIC_GAUGE ? m->gauge : 0);
		put_u64(out, hist ? m->hist.count : 0);
		put_f64(out, hist ? m->hist.sum : 0);
		put_f64(out, hist ? m->hist.min : 0);
		put_f64(out, hist ? m->hist.max : 0);
		put_f64(out, hist ? m->hist.p50 : NAN);
		put_f64(out, hist ? m->hist.p90 : NAN);
		put_f64(out, hist ? m->hist.p99 : NAN);
		put_f64(out, hist ? m->hist.p999 : NAN);
		put_str(out, info->reason);
		put_str(out, f->source);
	}
	return n;
}

void ship_rows_crash(struct ship_file_rows *f, const ttlog_reader *r, const char *summary,
		     const char *stack, struct render_buf *out)
{
	const struct ttlog_file_info *info = f->info;
	const char *thread = "";
	size_t nt = ttlog_reader_thread_count(r);
	for (size_t i = 0; i < nt; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && (t->index == info->crash.thread_index || t->tid == info->crash.tid)) {
			thread = t->name;
			break;
		}
	}
	uint64_t id = mix(mix(mix(mix(f->process, 0x63726173ull), (uint64_t)info->crash.signo),
			      info->crash.tid),
			  info->crash.address);
	put_u64(out, id);
	put_u64(out, info->created_ns > 0 ? (uint64_t)info->created_ns : 0);
	put_datetime(out, info->created_ns);
	put_str(out, info->service);
	put_str(out, info->hostname);
	put_u32(out, info->pid);
	put_str(out, info->executable);
	put_le(out, (uint32_t)info->crash.signo, 4);
	put_str(out, info->crash.signal_name);
	put_le(out, (uint32_t)info->crash.code, 4);
	put_u64(out, info->crash.address);
	put_u32(out, info->crash.tid);
	put_str(out, thread);
	put_str(out, summary);
	put_str(out, stack);
	put_str(out, f->source);
}
