/* SPDX-License-Identifier: MIT */
/*
 * api_crash.c - GET /api/crash: for each file of a source that recorded a
 * crash or stacks, the crash (signal, code, address, thread), the crashing
 * thread's registers and every stack, symbolised to function and file:line
 * by the command's symboliser (the stack_json callback, as `ttlog view`
 * prints them); without it, raw addresses.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "render/json_text.h"
#include "render/names.h"
#include "serve/internal.h"

static const char *thread_name(const ttlog_reader *r, uint32_t index, uint32_t tid)
{
	size_t n = ttlog_reader_thread_count(r);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t->index == index || t->tid == tid)
			return t->name;
	}
	return "";
}

int serve_api_crash(const struct serve_request *rq, struct render_buf *out)
{
	int status = 200;
	const struct serve_source *src = serve_source_param(rq, out, &status);
	if (!src)
		return status;
	struct ttlog_store_options opt;
	ttlog_store_options_init(&opt);
	opt.flags = TTLOG_READER_LAZY;
	ttlog_store *st = serve_open_store(src, &opt, out, &status);
	if (!st)
		return status;
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(st, &files);
	render_buf_reset(out);
	render_buf_puts(out, "{\"files\":[");
	int nc = 0;
	for (size_t i = 0; i < nf; i++) {
		const ttlog_reader *r = files[i]->reader;
		if (!r)
			continue;
		const struct ttlog_file_info *fi = ttlog_reader_info(r);
		const struct ttlog_stack *stacks;
		size_t ns = ttlog_reader_stacks(r, &stacks);
		if (!fi->crashed && !ns)
			continue;
		if (nc++)
			render_buf_putc(out, ',');
		render_buf_puts(out, "{\"file\":");
		render_json_cstring(out, render_base_name(files[i]->path));
		render_buf_printf(out, ",\"pid\":%" PRIu32 ",\"executable\":", fi->pid);
		render_json_cstring(out, fi->executable);
		render_buf_puts(out, ",\"reason\":");
		render_json_cstring(out, fi->reason);
		render_buf_printf(out, ",\"crashed\":%s", fi->crashed ? "true" : "false");
		if (fi->crashed) {
			render_buf_printf(out, ",\"signo\":%d,\"code\":%d,\"address\":\"0x%" PRIx64
					  "\",\"tid\":%" PRIu32 ",\"signal\":",
					  fi->crash.signo, fi->crash.code, fi->crash.address, fi->crash.tid);
			render_json_cstring(out, fi->crash.signal_name ? fi->crash.signal_name : "");
			render_buf_puts(out, ",\"thread\":");
			render_json_cstring(out, thread_name(r, fi->crash.thread_index, fi->crash.tid));
		}
		render_buf_puts(out, ",\"stacks\":[");
		for (size_t s = 0; s < ns; s++) {
			const struct ttlog_stack *k = &stacks[s];
			if (s)
				render_buf_putc(out, ',');
			render_buf_printf(out, "{\"tid\":%" PRIu32 ",\"crash\":%s,\"truncated\":%s,\"thread\":",
					  k->tid, (k->flags & TTLOG_STACK_CRASH) ? "true" : "false",
					  (k->flags & TTLOG_STACK_TRUNCATED) ? "true" : "false");
			render_json_cstring(out, thread_name(r, k->thread_index, k->tid));
			render_buf_puts(out, ",\"registers\":[");
			for (uint32_t g = 0; g < k->nregs; g++) {
				if (g)
					render_buf_putc(out, ',');
				render_buf_puts(out, "{\"name\":");
				render_json_cstring(out, k->regs[g].name);
				render_buf_printf(out, ",\"value\":\"0x%016" PRIx64 "\"}", k->regs[g].value);
			}
			render_buf_puts(out, "],\"frames\":");
			if (rq->stack_json) {
				rq->stack_json(rq->stack_arg, r, k, out);
			} else {
				render_buf_putc(out, '[');
				for (uint32_t j = 0; j < k->nframes; j++)
					render_buf_printf(out, "%s{\"pc\":\"0x%" PRIx64 "\"}", j ? "," : "",
							  k->frames[j]);
				render_buf_putc(out, ']');
			}
			render_buf_putc(out, '}');
		}
		render_buf_puts(out, "]}");
		if (out->len > rq->lim->out_bytes) {
			ttlog_store_close(st);
			return serve_fail(out, 413, "the stacks of this source exceed the response cap");
		}
	}
	render_buf_puts(out, "]}");
	ttlog_store_close(st);
	return 200;
}
