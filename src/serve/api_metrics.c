/* SPDX-License-Identifier: MIT */
/*
 * api_metrics.c - GET /api/metrics: the metrics of each file of a source
 * (a snapshot or segment holds the values at the time it was written), as
 * points in time order: {"t", "pid", "metrics":[...]}. The page joins the
 * points of one name and label set into a series: a counter's total (it
 * draws the rate between points), a gauge's value, a histogram's count,
 * sum and quantiles. ttlog's own metrics are left out unless self=1.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "render/json_text.h"
#include "serve/internal.h"

static void num(struct render_buf *out, const char *key, double d)
{
	render_buf_printf(out, ",\"%s\":", key);
	if (isfinite(d))
		render_json_double(out, d);
	else
		render_buf_puts(out, "null");
}

int serve_api_metrics(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	const struct serve_source *src = serve_source_param(rq, out, &status);
	if (!src)
		return status;
	const char *self = serve_param(rq, "self");
	int with_self = self && strcmp(self, "1") == 0;
	if (self && !with_self && strcmp(self, "0") != 0)
		return serve_fail(out, 400, "self must be 0 or 1");
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	opt.flags = TTLOG_READER_LAZY;
	ttlog_store *st = serve_open_store(src, &opt, out, &status);
	if (!st)
		return status;
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(st, &files);
	render_buf_reset(out);
	render_buf_puts(out, "{\"points\":[");
	int np = 0;
	for (size_t i = 0; i < nf; i++) {
		if (!files[i]->reader)
			continue;
		size_t nm = 0;
		const struct ttlog_metric_value *m = ttlog_reader_metrics(files[i]->reader, &nm);
		if (!nm)
			continue;
		const struct ttlog_file_info *fi = ttlog_reader_info(files[i]->reader);
		if (np++)
			render_buf_putc(out, ',');
		render_buf_printf(out, "{\"t\":%" PRId64 ",\"pid\":%" PRIu32 ",\"metrics\":[",
				  fi->last_ns > fi->created_ns ? fi->last_ns : fi->created_ns, fi->pid);
		int k = 0;
		for (size_t j = 0; j < nm; j++) {
			if (m[j].self && !with_self)
				continue;
			if (k++)
				render_buf_putc(out, ',');
			static const char *const types[] = {"?", "counter", "gauge", "histogram"};
			render_buf_puts(out, "{\"name\":");
			render_json_cstring(out, m[j].name);
			render_buf_printf(out, ",\"type\":\"%s\",\"labels\":",
					  types[m[j].type >= 1 && m[j].type <= 3 ? m[j].type : 0]);
			render_json_labels(out, m[j].labels, m[j].nlabels);
			switch (m[j].type) {
			case TTLOG_METRIC_COUNTER:
				render_buf_printf(out, ",\"value\":%" PRIu64, m[j].counter);
				break;
			case TTLOG_METRIC_GAUGE:
				if (m[j].gauge_set)
					num(out, "value", m[j].gauge);
				else
					render_buf_puts(out, ",\"value\":null");
				break;
			case TTLOG_METRIC_HISTOGRAM:
				render_buf_printf(out, ",\"count\":%" PRIu64, m[j].hist.count);
				num(out, "sum", m[j].hist.sum);
				num(out, "min", m[j].hist.min);
				num(out, "max", m[j].hist.max);
				num(out, "p50", m[j].hist.p50);
				num(out, "p90", m[j].hist.p90);
				num(out, "p99", m[j].hist.p99);
				break;
			default:
				break;
			}
			render_buf_putc(out, '}');
		}
		render_buf_puts(out, "]}");
		if (out->len > rq->lim->out_bytes || serve_out_of_time(rq)) {
			ttlog_store_close(st);
			return serve_fail(out, 413, "the metrics of this source exceed the response cap");
		}
	}
	render_buf_puts(out, "]}");
	ttlog_store_close(st);
	return 200;
}
