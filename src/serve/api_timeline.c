/* SPDX-License-Identifier: MIT */
/*
 * api_timeline.c - what the timeline draws.
 *
 * GET /api/overview: the lanes (one per process and thread) over a time
 * range cut into `bins` equal bins; for each lane the bins that hold
 * events, as [bin, count, highest level], so that the page draws a 1 M
 * event snapshot from a few thousand numbers; and the markers (a crash, a
 * snapshot's reason at its creation time). One pass over the range; with
 * spans=1 the same pass also gives the spans (as /api/spans), so that the
 * page reads the data once before it draws. The page's overview of a
 * whole source (no filter) is kept in the server's cache (cache.c) and
 * computed again only when the source's files change.
 *
 * GET /api/spans: spans as intervals (begin, end, depth, ids, thread,
 * where they began), those that end in the range or are still open at the
 * end of the data; a trace id gives one request's spans across processes
 * (the waterfall). At most spans_max of them, "truncated" beyond.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/json_text.h"
#include "render/time_text.h"
#include "serve/internal.h"

#define MAX_LANES 1024
#define MAX_BINS 4000

struct lane {
	uint32_t pid, tid;
	const char *name;       /* the first reader's; copied at the end */
	char *name_copy;
	char *service;
	uint64_t events;
	int crashed;
	uint32_t *count;
	int8_t *level;
};

static struct lane *find_lane(struct lane *lanes, size_t *n, uint32_t pid,
			      const struct ttlog_thread_info *t, const struct ttlog_file_info *fi,
			      unsigned nbins)
{
	for (size_t i = *n; i-- > 0;)
		if (lanes[i].pid == pid && lanes[i].tid == t->tid)
			return &lanes[i];
	if (*n == MAX_LANES)
		return NULL;
	struct lane *l = &lanes[(*n)++];
	memset(l, 0, sizeof *l);
	l->pid = pid;
	l->tid = t->tid;
	l->name_copy = strdup(t->name ? t->name : "");
	l->service = strdup(fi && fi->service ? fi->service : "");
	l->count = calloc(nbins, sizeof *l->count);
	l->level = malloc(nbins);
	if (l->level)
		memset(l->level, -1, nbins);
	if (!l->count || !l->level || !l->name_copy || !l->service) {
		free(l->count);
		free(l->level);
		free(l->name_copy);
		free(l->service);
		(*n)--;
		return NULL;
	}
	return l;
}

/* ---- Spans ---------------------------------------------------------------- */

struct open_span {
	uint64_t id;
	int64_t begin_ns;
	uint32_t pid, tid;
	unsigned depth;
	uint64_t parent, trace_hi, trace_lo;
	char name[96];
	char thread[32];
	char file[160];
	uint32_t line;
};

static void span_json(struct render_buf *out, uint64_t id, uint64_t parent, uint64_t thi,
		      uint64_t tlo, const char *name, uint32_t pid, uint32_t tid,
		      const char *thread, unsigned depth, int64_t begin, int64_t end,
		      const char *file, uint32_t line, int open)
{
	render_buf_printf(out,
			  "{\"id\":\"%016" PRIx64 "\",\"parent\":\"%016" PRIx64 "\",\"trace\":\"%016" PRIx64
			  "%016" PRIx64 "\",\"name\":",
			  id, parent, thi, tlo);
	render_json_cstring(out, name);
	render_buf_printf(out, ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"thread\":", pid, tid);
	render_json_cstring(out, thread);
	render_buf_printf(out,
			  ",\"depth\":%u,\"begin_ns\":%" PRId64 ",\"end_ns\":%" PRId64
			  ",\"duration_ns\":%" PRId64 ",\"file\":",
			  depth, begin, end, end - begin);
	render_json_cstring(out, file);
	render_buf_printf(out, ",\"line\":%" PRIu32 ",\"open\":%s}", line, open ? "true" : "false");
}

/* Spans found in one pass over a store's events (by the spans endpoint,
 * and by the overview when asked, so that the page reads the data once). */
struct span_collect {
	const struct serve_filter *f;
	unsigned max;
	struct render_buf out;    /* the span objects, comma-separated */
	struct open_span *open;   /* begun, not ended yet: a stack per thread, interleaved */
	size_t nopen, capopen;
	uint64_t n;
	int truncated;
	int64_t last_t;
};

static void collect_event(struct span_collect *sc, const struct ttlog_event *ev,
			  const struct ttlog_store_file *from)
{
	sc->last_t = ev->time_ns;
	if (ev->kind == TTLOG_EVENT_LOG || !ev->span)
		return;
	const struct serve_filter *f = sc->f;
	const struct ttlog_span *sp = ev->span;
	if (f->trace && (sp->trace_hi != f->trace_hi || sp->trace_lo != f->trace_lo))
		return;
	const struct ttlog_file_info *fi = from && from->reader ? ttlog_reader_info(from->reader) : NULL;
	uint32_t pid = fi ? fi->pid : 0, tid = ev->thread ? ev->thread->tid : 0;
	if ((f->pid >= 0 && pid != (uint32_t)f->pid) || (f->tid >= 0 && tid != (uint32_t)f->tid))
		return;
	if (ev->kind == TTLOG_EVENT_SPAN_BEGIN) {
		if (sc->nopen == sc->capopen) {
			size_t c = sc->capopen ? 2 * sc->capopen : 64;
			struct open_span *g = c <= 100000 ? realloc(sc->open, c * sizeof *g) : NULL;
			if (!g)
				return;
			sc->open = g;
			sc->capopen = c;
		}
		struct open_span *o = &sc->open[sc->nopen++];
		o->id = sp->id;
		o->begin_ns = ev->time_ns;
		o->pid = pid;
		o->tid = tid;
		o->depth = sp->depth;
		o->parent = sp->parent;
		o->trace_hi = sp->trace_hi;
		o->trace_lo = sp->trace_lo;
		snprintf(o->name, sizeof o->name, "%s", sp->name);
		snprintf(o->thread, sizeof o->thread, "%s", ev->thread ? ev->thread->name : "");
		snprintf(o->file, sizeof o->file, "%s", sp->site && sp->site->file ? sp->site->file : "");
		o->line = sp->site ? sp->site->line : 0;
		return;
	}
	for (size_t i = sc->nopen; i-- > 0;)
		if (sc->open[i].id == sp->id && sc->open[i].tid == tid && sc->open[i].pid == pid) {
			memmove(&sc->open[i], &sc->open[i + 1], (sc->nopen - i - 1) * sizeof *sc->open);
			sc->nopen--;
			break;
		}
	int64_t begin = sp->begin_ns ? sp->begin_ns : ev->time_ns;
	if (ev->time_ns < f->since || begin > f->until)
		return;
	if (sc->n == sc->max) {
		sc->truncated = 1;
		return;
	}
	if (sc->n++)
		render_buf_putc(&sc->out, ',');
	span_json(&sc->out, sp->id, sp->parent, sp->trace_hi, sp->trace_lo, sp->name, pid, tid,
		  ev->thread ? ev->thread->name : "", sp->depth, begin, ev->time_ns,
		  sp->site && sp->site->file ? sp->site->file : "", sp->site ? sp->site->line : 0, 0);
}

/* Adds the spans still open when the data ends (a crash inside them). */
static void collect_finish(struct span_collect *sc)
{
	for (size_t i = 0; i < sc->nopen; i++) {
		struct open_span *o = &sc->open[i];
		if (o->begin_ns > sc->f->until)
			continue;
		if (sc->n == sc->max) {
			sc->truncated = 1;
			break;
		}
		if (sc->n++)
			render_buf_putc(&sc->out, ',');
		span_json(&sc->out, o->id, o->parent, o->trace_hi, o->trace_lo, o->name, o->pid, o->tid,
			  o->thread, o->depth, o->begin_ns,
			  sc->last_t > o->begin_ns ? sc->last_t : o->begin_ns, o->file, o->line, 1);
	}
	free(sc->open);
	sc->open = NULL;
	sc->nopen = sc->capopen = 0;
}

int serve_api_overview(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	struct serve_filter f;
	const struct serve_source *src = serve_filtered_source(rq, &f, out, &status);
	if (!src)
		return status;
	int64_t nbins = 1000;
	const char *v = serve_param(rq, "bins");
	if (v && serve_parse_i64(v, 1, MAX_BINS, &nbins) != 0)
		return serve_fail(out, 400, "bins must be 1 to %d", MAX_BINS);
	int with_spans = 0;
	if ((v = serve_param(rq, "spans")) && (strcmp(v, "1") == 0 || strcmp(v, "0") == 0))
		with_spans = *v == '1';
	else if (v)
		return serve_fail(out, 400, "spans must be 0 or 1");
	/* The page's view of a whole source comes from the cache when its
	 * files have not changed since it was computed (cache.c). */
	int filtered = 0;
	for (size_t i = 0; i < rq->nparams; i++)
		filtered |= strcmp(rq->keys[i], "src") != 0 && strcmp(rq->keys[i], "bins") != 0 &&
			    strcmp(rq->keys[i], "spans") != 0 && strcmp(rq->keys[i], "token") != 0;
	uint64_t key = rq->cache && !filtered ? serve_cache_key(src) : 0;
	size_t src_id = (size_t)(src - rq->set->src);
	if (key && serve_cache_get(rq->cache, src_id, nbins, with_spans, key, out))
		return 200;
	struct span_collect sc;
	memset(&sc, 0, sizeof sc);
	sc.f = &f;
	sc.max = rq->lim->spans_max;
	struct ttlog_store_options opt;
	serve_filter_store_options(&f, &opt);
	ttlog_store *st = serve_open_store(src, &opt, out, &status);
	if (!st)
		return status;

	/* The range: the one asked for, else the files' bounds. */
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(st, &files);
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	render_buf_reset(out);
	render_buf_puts(out, "{\"markers\":[");
	int nm = 0;
	for (size_t i = 0; i < nf; i++) {
		if (!files[i]->reader)
			continue;
		const struct ttlog_file_info *fi = ttlog_reader_info(files[i]->reader);
		if (fi->events && fi->first_ns && fi->first_ns < lo)
			lo = fi->first_ns;
		if (fi->events && fi->last_ns > hi)
			hi = fi->last_ns;
		if (!fi->is_segment || fi->crashed) {
			if (nm++)
				render_buf_putc(out, ',');
			render_buf_printf(out, "{\"t\":%" PRId64 ",\"kind\":\"%s\",\"pid\":%" PRIu32,
					  fi->crashed && fi->last_ns ? fi->last_ns : fi->created_ns,
					  fi->crashed ? "crash" : "snapshot", fi->pid);
			render_buf_puts(out, ",\"text\":");
			if (fi->crashed) {
				render_json_cstring(out, fi->crash.signal_name && *fi->crash.signal_name
								 ? fi->crash.signal_name
								 : "crash");
				render_buf_printf(out, ",\"tid\":%" PRIu32, fi->crash.tid);
			} else {
				render_json_cstring(out, fi->reason);
			}
			render_buf_putc(out, '}');
		}
	}
	if (f.since != INT64_MIN)
		lo = f.since;
	if (f.until != INT64_MAX)
		hi = f.until;
	if (lo > hi)
		lo = hi = 0;
	/* In doubles: hi - lo and a time - lo overflow int64 for the extreme
	 * times a request may give. */
	double width = (double)hi - (double)lo + 1.0;

	struct lane *lanes = calloc(MAX_LANES, sizeof *lanes);
	size_t nl = 0;
	if (!lanes) {
		ttlog_store_close(st);
		return serve_fail(out, 503, "out of memory");
	}
	struct render_buf msg = {0};
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	uint64_t scanned = 0, total = 0;
	int partial = 0;
	const struct ttlog_thread_info *last_t = NULL;
	struct lane *last_l = NULL;
	while (ttlog_store_next(st, &ev, &from)) {
		if ((++scanned & 1023) == 0 && (scanned > rq->lim->scan_max || serve_out_of_time(rq))) {
			partial = 1;
			break;
		}
		if (with_spans)
			collect_event(&sc, &ev, from);
		if (!ev.thread || !serve_filter_match(&f, &ev, from, &msg))
			continue;
		struct lane *l = last_l;
		if (ev.thread != last_t) {
			const struct ttlog_file_info *fi = from && from->reader ? ttlog_reader_info(from->reader) : NULL;
			l = find_lane(lanes, &nl, fi ? fi->pid : 0, ev.thread, fi, (unsigned)nbins);
			last_t = ev.thread;
			last_l = l;
		}
		if (!l)
			continue;
		total++;
		l->events++;
		if (ev.thread->crashed)
			l->crashed = 1;
		/* Clamped before the conversion, which is undefined out of range. */
		double at = ((double)ev.time_ns - (double)lo) / width * (double)nbins;
		int64_t b = at < 0 ? 0 : at >= (double)nbins ? nbins - 1 : (int64_t)at;
		l->count[b]++;
		int lv = ev.site && ev.site->level >= 0 && ev.site->level <= TTLOG_LEVEL_FATAL ? ev.site->level : 0;
		if (lv > l->level[b])
			l->level[b] = (int8_t)lv;
	}
	render_buf_printf(out, "],\"first_ns\":%" PRId64 ",\"last_ns\":%" PRId64 ",\"bins\":%" PRId64
			  ",\"events\":%" PRIu64 ",\"partial\":%s,\"lanes\":[",
			  lo, hi, nbins, total, partial ? "true" : "false");
	for (size_t i = 0; i < nl; i++) {
		struct lane *l = &lanes[i];
		if (i)
			render_buf_putc(out, ',');
		render_buf_printf(out, "{\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":", l->pid, l->tid);
		render_json_cstring(out, l->name_copy);
		render_buf_puts(out, ",\"service\":");
		render_json_cstring(out, l->service);
		render_buf_printf(out, ",\"events\":%" PRIu64 ",\"crashed\":%s,\"bins\":[", l->events,
				  l->crashed ? "true" : "false");
		int first = 1;
		for (int64_t b = 0; b < nbins; b++) {
			if (!l->count[b])
				continue;
			render_buf_printf(out, "%s[%" PRId64 ",%" PRIu32 ",%d]", first ? "" : ",", b,
					  l->count[b], l->level[b]);
			first = 0;
		}
		render_buf_puts(out, "]}");
		free(l->count);
		free(l->level);
		free(l->name_copy);
		free(l->service);
	}
	render_buf_putc(out, ']');
	if (with_spans) {
		if (!partial)
			collect_finish(&sc);
		free(sc.open);
		render_buf_puts(out, ",\"spans\":[");
		if (sc.out.data)
			render_buf_put(out, sc.out.data, sc.out.len);
		render_buf_printf(out, "],\"spans_truncated\":%s", sc.truncated ? "true" : "false");
		render_buf_free(&sc.out);
	}
	render_buf_putc(out, '}');
	free(lanes);
	render_buf_free(&msg);
	ttlog_store_close(st);
	if (key && !partial)
		serve_cache_put(rq->cache, src_id, nbins, with_spans, key, out);
	return 200;
}

int serve_api_spans(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	struct serve_filter f;
	const struct serve_source *src = serve_filtered_source(rq, &f, out, &status);
	if (!src)
		return status;
	f.spans = 1;
	struct ttlog_store_options opt;
	serve_filter_store_options(&f, &opt);
	opt.until_ns = INT64_MAX; /* a span that ends after the range still crosses it */
	opt.level_mask = TTLOG_READER_ALL_LEVELS;
	ttlog_store *st = serve_open_store(src, &opt, out, &status);
	if (!st)
		return status;
	struct span_collect sc;
	memset(&sc, 0, sizeof sc);
	sc.f = &f;
	sc.max = rq->lim->spans_max;
	uint64_t scanned = 0;
	int partial = 0;
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	while (ttlog_store_next(st, &ev, &from)) {
		if ((++scanned & 1023) == 0 && (scanned > rq->lim->scan_max || serve_out_of_time(rq))) {
			partial = 1;
			break;
		}
		collect_event(&sc, &ev, from);
	}
	if (!partial)
		collect_finish(&sc);
	free(sc.open);
	render_buf_reset(out);
	render_buf_puts(out, "{\"spans\":[");
	if (sc.out.data)
		render_buf_put(out, sc.out.data, sc.out.len);
	render_buf_printf(out, "],\"truncated\":%s,\"partial\":%s}", sc.truncated ? "true" : "false",
			  partial ? "true" : "false");
	render_buf_free(&sc.out);
	ttlog_store_close(st);
	return 200;
}
