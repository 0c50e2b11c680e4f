/* SPDX-License-Identifier: MIT */
/*
 * prometheus.c - GET /metrics: the metrics of the served files in the
 * Prometheus text exposition format 0.0.4, for a Prometheus server to
 * scrape.
 *
 * A live process of the served set (pid:PID) is read through a snapshot of
 * its shared mapping, taken for the request: its metrics as they are now
 * (layout 1.3 of docs/SHM-FORMAT.md puts them in the mapping).
 *
 * What is exposed: per process (host name, service and pid of a file's
 * header), the metrics of its newest file that has any (a snapshot or
 * segment holds the values at the time it was written; a streaming
 * process's open segment gets newer ones as it goes). Each sample carries
 * the labels of the metric and then service, host and pid (a label the
 * metric already has keeps the metric's value). Next to them, the gauge
 * ttlog_file_timestamp_seconds says when each process's values were
 * taken, so that a stale process can be told from a quiet one. No sample
 * has a timestamp: Prometheus stamps them with the scrape.
 *
 * Names follow the rules of the in-process writer (src/metrics/prometheus.c):
 * '.' becomes '_', a counter gets the suffix "_total" unless it ends in it.
 * A histogram's buckets are its powers of two, from the lowest to the
 * highest that holds values, then +Inf: ttlog's buckets hold (L, U], so the
 * cumulative counts at those edges are exact for Prometheus' "le".
 *
 * Every name and label key comes from a file, which may be damaged or
 * hand-made: one that the format cannot carry, or a family name that two
 * metrics of different types claim, is left out, and a comment line
 * (# ttlog: ...) at the end counts what was left out and why.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/internal.h"

#define NAME_MAX_LEN 300

/* The newest file of one process. */
struct pick {
	const ttlog_reader *reader;
	int64_t t;                 /* ns: the file's last event, or its creation */
};

/* One metric of one process, with its name as exposed. */
struct sample {
	const struct ttlog_metric_value *m;
	const struct pick *p;
	char name[NAME_MAX_LEN];
	size_t order;              /* its place before sorting: keeps files' order in a family */
};

static int name_ok(const char *s, int colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || (colon && (*s == ':' || *s == '.'))))
			return 0;
	return 1;
}

/* The exposed name of m into name: '.' to '_', and _total for a counter
 * without it. 0, or -1 when the name cannot be carried. */
static int expose_name(const struct ttlog_metric_value *m, char *name, size_t cap)
{
	if (!name_ok(m->name, 1))
		return -1;
	size_t n = strlen(m->name);
	if (n + 7 > cap)
		return -1;
	for (size_t i = 0; i <= n; i++)
		name[i] = m->name[i] == '.' ? '_' : m->name[i];
	if (m->type == TTLOG_METRIC_COUNTER && (n < 6 || strcmp(name + n - 6, "_total") != 0))
		memcpy(name + n, "_total", 7);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static void put_escaped(struct render_buf *out, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			render_buf_puts(out, "\\\\");
		else if (*s == '\n')
			render_buf_puts(out, "\\n");
		else if (*s == '"' && quote)
			render_buf_puts(out, "\\\"");
		else
			render_buf_putc(out, *s);
	}
}

static void put_label(struct render_buf *out, int *first, const char *k, const char *v)
{
	render_buf_puts(out, *first ? "{" : ",");
	*first = 0;
	render_buf_puts(out, k);
	render_buf_puts(out, "=\"");
	put_escaped(out, v, 1);
	render_buf_putc(out, '"');
}

static int has_label(const struct ttlog_metric_value *m, const char *k)
{
	for (unsigned i = 0; m && i < m->nlabels; i++)
		if (strcmp(m->labels[i].key, k) == 0)
			return 1;
	return 0;
}

/* {labels of m,service,host,pid[,le="]: le's value and "} are the caller's
 * when le is set. */
static void put_labels(struct render_buf *out, const struct ttlog_metric_value *m,
		       const struct pick *p, int le)
{
	int first = 1;
	const struct ttlog_file_info *fi = ttlog_reader_info(p->reader);
	for (unsigned i = 0; m && i < m->nlabels; i++)
		put_label(out, &first, m->labels[i].key, m->labels[i].value);
	if (!has_label(m, "service"))
		put_label(out, &first, "service", fi->service ? fi->service : "");
	if (!has_label(m, "host"))
		put_label(out, &first, "host", fi->hostname ? fi->hostname : "");
	if (!has_label(m, "pid")) {
		char pid[16];
		snprintf(pid, sizeof pid, "%" PRIu32, fi->pid);
		put_label(out, &first, "pid", pid);
	}
	render_buf_puts(out, le ? ",le=\"" : "}");
}

/* A value as Go's ParseFloat reads it. */
static void put_double(struct render_buf *out, double d)
{
	if (isnan(d))
		render_buf_puts(out, "NaN");
	else if (isinf(d))
		render_buf_puts(out, d > 0 ? "+Inf" : "-Inf");
	else
		render_buf_printf(out, "%.17g", d);
}

static void put_histogram(struct render_buf *out, const struct sample *s)
{
	const struct ttlog_metric_value *m = s->m;
	/* Cumulative count at each power of two 2^e, e in [-24, 40]. */
	uint64_t below = 0; /* counts of the buckets at or below the edge */
	int started = 0;
	uint64_t regular = 0;
	for (size_t i = 0; i < m->hist.nbuckets; i++)
		if (!isinf(m->hist.buckets[i].upper))
			regular += m->hist.buckets[i].count;
	size_t bi = 0;
	for (int e = -24; e <= 40 && regular && below < regular; e++) {
		double edge = ldexp(1.0, e);
		while (bi < m->hist.nbuckets && m->hist.buckets[bi].upper <= edge)
			below += m->hist.buckets[bi++].count;
		if (!below && !started)
			continue;
		started = 1;
		render_buf_printf(out, "%s_bucket", s->name);
		put_labels(out, m, s->p, 1);
		put_double(out, edge);
		render_buf_printf(out, "\"} %" PRIu64 "\n", below);
	}
	render_buf_printf(out, "%s_bucket", s->name);
	put_labels(out, m, s->p, 1);
	render_buf_printf(out, "+Inf\"} %" PRIu64 "\n", m->hist.count);
	render_buf_printf(out, "%s_sum", s->name);
	put_labels(out, m, s->p, 0);
	render_buf_putc(out, ' ');
	put_double(out, m->hist.sum);
	render_buf_printf(out, "\n%s_count", s->name);
	put_labels(out, m, s->p, 0);
	render_buf_printf(out, " %" PRIu64 "\n", m->hist.count);
}

static const char *type_name(int type)
{
	return type == TTLOG_METRIC_COUNTER ? "counter" : type == TTLOG_METRIC_GAUGE ? "gauge" : "histogram";
}

/* Labels a histogram cannot carry (le) or that are not names. */
static int labels_ok(const struct ttlog_metric_value *m)
{
	for (unsigned i = 0; i < m->nlabels; i++)
		if (!name_ok(m->labels[i].key, 0) || strcmp(m->labels[i].key, "le") == 0)
			return 0;
	return 1;
}

/* The newest file with metrics of each process, from the top-level sources. */
static size_t pick_files(const struct ttlog_store_file *const *files, size_t nf, struct pick *picks)
{
	size_t np = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t nm = 0;
		if (!files[i]->reader || !ttlog_reader_metrics(files[i]->reader, &nm) || !nm)
			continue;
		const struct ttlog_file_info *fi = ttlog_reader_info(files[i]->reader);
		int64_t t = fi->last_ns > fi->created_ns ? fi->last_ns : fi->created_ns;
		size_t k = 0;
		for (; k < np; k++) {
			const struct ttlog_file_info *o = ttlog_reader_info(picks[k].reader);
			if (o->pid == fi->pid && strcmp(o->hostname ? o->hostname : "", fi->hostname ? fi->hostname : "") == 0 &&
			    strcmp(o->service ? o->service : "", fi->service ? fi->service : "") == 0)
				break;
		}
		if (k == np)
			picks[np++] = (struct pick){files[i]->reader, t};
		else if (t > picks[k].t)
			picks[k] = (struct pick){files[i]->reader, t};
	}
	return np;
}

/* The metrics of the files paths (the newest of each process that has
 * any) into out, rendered. 0, or -1 with the reason in err. */
int serve_prometheus_files(const char *const *paths, size_t npaths, struct render_buf *out, char *err,
			   size_t errlen)
{
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	opt.flags = TTLOG_READER_LAZY;
	ttlog_store *st = NULL;
	int rc = ttlog_store_open((const char **)paths, npaths, &opt, &st);
	if (!st) {
		snprintf(err, errlen, "cannot open the served files: %s", ttlog_strerror(rc));
		return -1;
	}
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(st, &files);
	struct pick *picks = calloc(nf ? nf : 1, sizeof *picks);
	size_t cap = 0, ns = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t nm = 0;
		if (files[i]->reader)
			ttlog_reader_metrics(files[i]->reader, &nm);
		cap += nm;
	}
	struct sample *s = calloc(cap ? cap : 1, sizeof *s);
	if (!picks || !s) {
		free(picks);
		free(s);
		ttlog_store_close(st);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t np = pick_files(files, nf, picks);
	uint64_t bad_names = 0, type_clash = 0;
	for (size_t k = 0; k < np; k++) {
		size_t nm = 0;
		const struct ttlog_metric_value *m = ttlog_reader_metrics(picks[k].reader, &nm);
		for (size_t j = 0; j < nm; j++) {
			if (m[j].type == TTLOG_METRIC_GAUGE && !m[j].gauge_set)
				continue; /* never set: no value to expose */
			if (m[j].type < TTLOG_METRIC_COUNTER || m[j].type > TTLOG_METRIC_HISTOGRAM ||
			    expose_name(&m[j], s[ns].name, sizeof s[ns].name) != 0 || !labels_ok(&m[j]) ||
			    strcmp(s[ns].name, "ttlog_file_timestamp_seconds") == 0) {
				bad_names++;
				continue;
			}
			s[ns].m = &m[j];
			s[ns].p = &picks[k];
			s[ns].order = ns;
			ns++;
		}
	}
	qsort(s, ns, sizeof *s, by_name);

	render_buf_reset(out);
	for (size_t i = 0; i < ns;) {
		size_t end = i + 1;
		while (end < ns && strcmp(s[end].name, s[i].name) == 0)
			end++;
		int type = s[i].m->type;
		render_buf_printf(out, "# HELP %s ", s[i].name);
		if (s[i].m->self) {
			render_buf_puts(out, "ttlog's own metric");
		} else {
			const char *f = s[i].m->file ? s[i].m->file : "";
			const char *slash = strrchr(f, '/');
			render_buf_puts(out, "ttlog metric (");
			put_escaped(out, slash ? slash + 1 : f, 0);
			render_buf_printf(out, ":%" PRIu32 ")", s[i].m->line);
		}
		render_buf_printf(out, "\n# TYPE %s %s\n", s[i].name, type_name(type));
		for (size_t j = i; j < end; j++) {
			if (s[j].m->type != type) {
				type_clash++;
				continue;
			}
			if (type == TTLOG_METRIC_HISTOGRAM) {
				put_histogram(out, &s[j]);
				continue;
			}
			render_buf_puts(out, s[j].name);
			put_labels(out, s[j].m, s[j].p, 0);
			render_buf_putc(out, ' ');
			if (type == TTLOG_METRIC_COUNTER)
				render_buf_put_u64(out, s[j].m->counter);
			else
				put_double(out, s[j].m->gauge);
			render_buf_putc(out, '\n');
		}
		i = end;
	}
	if (np) {
		render_buf_puts(out, "# HELP ttlog_file_timestamp_seconds Time of the newest file the "
				     "values of this process come from (its last event, or its creation)\n"
				     "# TYPE ttlog_file_timestamp_seconds gauge\n");
		for (size_t k = 0; k < np; k++) {
			render_buf_puts(out, "ttlog_file_timestamp_seconds");
			put_labels(out, NULL, &picks[k], 0);
			render_buf_putc(out, ' ');
			put_double(out, (double)picks[k].t / 1e9);
			render_buf_putc(out, '\n');
		}
	}
	if (bad_names)
		render_buf_printf(out, "# ttlog: %" PRIu64 " metrics left out: a name or label key "
				       "Prometheus cannot carry\n", bad_names);
	if (type_clash)
		render_buf_printf(out, "# ttlog: %" PRIu64 " metrics left out: their name is a family "
				       "of another type\n", type_clash);
	free(picks);
	free(s);
	ttlog_store_close(st);
	return 0;
}

/*
 * GET /metrics: the top-level sources' files, and for each live process a
 * snapshot of its mapping taken now (process.c), whose MTRC chunk holds
 * the values its shards have at this moment (a mapping of layout 1.3;
 * an earlier one has none to give).
 */
int serve_prometheus(const struct serve_request *rq, struct render_buf *out)
{
	size_t n = rq->set->n;
	const char **paths = calloc(n ? n : 1, sizeof *paths);
	char **snaps = calloc(n ? n : 1, sizeof *snaps);
	if (!paths || !snaps) {
		free(paths);
		free(snaps);
		return serve_fail(out, 500, "out of memory");
	}
	size_t npaths = 0, nsnaps = 0;
	char err[600] = "";
	int status = 200;
	for (size_t i = 0; i < n && status == 200; i++) {
		const struct serve_source *src = &rq->set->src[i];
		if (src->parent >= 0)
			continue;
		if (!src->pid) {
			paths[npaths++] = src->path;
			continue;
		}
		char path[PATH_MAX];
		if (serve_process_snapshot(src, path, sizeof path, err, sizeof err) != 0) {
			status = 503;
			break;
		}
		snaps[nsnaps] = strdup(path);
		if (!snaps[nsnaps]) {
			unlink(path);
			snprintf(err, sizeof err, "out of memory");
			status = 500;
			break;
		}
		paths[npaths++] = snaps[nsnaps++];
	}
	if (status == 200 && serve_prometheus_files(paths, npaths, out, err, sizeof err) != 0)
		status = 500;
	for (size_t i = 0; i < nsnaps; i++) {
		unlink(snaps[i]);
		free(snaps[i]);
	}
	free(paths);
	free(snaps);
	if (status != 200)
		return serve_fail(out, status, "%s", err);
	if (out->len > rq->lim->out_bytes)
		return serve_fail(out, 413, "the metrics exceed the response cap of %zu bytes",
				  rq->lim->out_bytes);
	return 200;
}
