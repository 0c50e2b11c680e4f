/* SPDX-License-Identifier: MIT */
/*
 * api_files.c - GET /api/files: the served set with the columns of
 * `ttlog ls` (created, pid, executable, reason, signal, events, size,
 * status) for each file, and for a directory or pattern the number of files
 * and the sums. Files are opened lazily (no event block is decoded).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "render/json_text.h"
#include "render/names.h"
#include "render/time_text.h"
#define TTLOG_TOOLS_UNSTABLE
#include "serve/internal.h"
#include "ttlog_tools.h"

static const char *status_name(int rc, const struct ttlog_file_info *fi)
{
	switch (rc) {
	case TTLOG_OK:
		return fi && fi->open ? "open" : "ok";
	case TTLOG_E_TRUNCATED:
		return "truncated";
	case TTLOG_E_CORRUPT:
		return "corrupt";
	case TTLOG_E_VERSION:
		return "newer-version";
	case TTLOG_E_NOT_TTLOG:
		return "not-ttlog";
	default:
		return "unreadable";
	}
}

static void str_member(struct render_buf *b, const char *key, const char *v)
{
	render_buf_printf(b, ",\"%s\":", key);
	if (v)
		render_json_cstring(b, v);
	else
		render_buf_puts(b, "null");
}

static void describe_file(struct render_buf *b, const struct serve_source *s)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open_ex(s->path, TTLOG_READER_LAZY, &r);
	const struct ttlog_file_info *fi = r ? ttlog_reader_info(r) : NULL;
	struct stat st;
	render_buf_printf(b, ",\"size\":%lld",
			  stat(s->path, &st) == 0 ? (long long)st.st_size : -1LL);
	render_buf_printf(b, ",\"status\":\"%s\"", status_name(rc, fi));
	str_member(b, "error", r ? ttlog_reader_error(r) : ttlog_strerror(rc));
	if (fi && rc != TTLOG_E_NOT_TTLOG && rc != TTLOG_E_OPEN) {
		char tb[RENDER_TIME_BUF];
		render_time_text(fi->created_ns, RENDER_TIME_ISO, tb);
		render_buf_printf(b, ",\"created_ns\":%" PRId64, fi->created_ns);
		str_member(b, "created", tb);
		render_buf_printf(b, ",\"pid\":%" PRIu32, fi->pid);
		str_member(b, "executable", render_base_name(fi->executable));
		str_member(b, "hostname", fi->hostname);
		str_member(b, "reason", fi->reason);
		str_member(b, "service", fi->service);
		render_buf_printf(b, ",\"segment\":%" PRIu64 ",\"events\":%" PRIu64
				  ",\"first_ns\":%" PRId64 ",\"last_ns\":%" PRId64 ",\"crashed\":%s",
				  fi->segment, fi->events, fi->first_ns, fi->last_ns,
				  fi->crashed ? "true" : "false");
		str_member(b, "signal", fi->crashed ? fi->crash.signal_name : NULL);
	}
	ttlog_reader_close(r);
}

/* A live process: its mapping's header, and whether it still runs. */
static void describe_process(struct render_buf *b, const struct serve_source *s)
{
	struct ttlog__shm_info info;
	char err[512];
	if (ttlog__shm_inspect(s->path, &info, err, sizeof err) != 0) {
		render_buf_printf(b, ",\"pid\":%d,\"status\":\"unreadable\"", s->pid);
		str_member(b, "error", err);
		return;
	}
	char tb[RENDER_TIME_BUF];
	render_time_text(info.created_ns, RENDER_TIME_ISO, tb);
	render_buf_printf(b, ",\"created_ns\":%" PRId64, info.created_ns);
	str_member(b, "created", tb);
	render_buf_printf(b, ",\"pid\":%d", info.pid);
	str_member(b, "executable", render_base_name(info.executable));
	render_buf_printf(b, ",\"threads\":%" PRIu32 ",\"size\":%" PRIu64, info.threads,
			  info.bytes);
	int alive = ttlog__shm_owner_alive(&info);
	const char *state = !alive ? "ended"
			    : info.state == TTLOG_SHM_CRASHED ? "crashed"
			    : info.state == TTLOG_SHM_EXITING ? "exiting"
							      : "running";
	str_member(b, "status", state);
	render_buf_puts(b, ",\"error\":null");
}

int serve_api_files(const struct serve_request *rq, struct render_buf *out)
{
	render_buf_reset(out);
	render_buf_puts(out, "{\"sources\":[");
	for (size_t i = 0; i < rq->set->n; i++) {
		const struct serve_source *s = &rq->set->src[i];
		if (i)
			render_buf_putc(out, ',');
		render_buf_printf(out, "{\"id\":%zu,\"kind\":\"%s\",\"parent\":%d", i,
				  s->pid ? "process" : s->is_file ? "file" : "store", s->parent);
		str_member(out, "label", s->label);
		str_member(out, "name", render_base_name(s->label));
		if (s->pid) {
			describe_process(out, s);
		} else if (s->is_file) {
			describe_file(out, s);
		} else {
			size_t nfiles = 0;
			for (size_t j = 0; j < rq->set->n; j++)
				nfiles += rq->set->src[j].parent == (int)i;
			render_buf_printf(out, ",\"files\":%zu", nfiles);
		}
		render_buf_putc(out, '}');
		if (serve_out_of_time(rq))
			return serve_fail(out, 503, "listing the files took too long");
	}
	render_buf_puts(out, "]}");
	return 200;
}
