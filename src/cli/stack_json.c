/* SPDX-License-Identifier: MIT */
/*
 * stack_json.c - a stack as the JSON array of its frames, symbolised as
 * `ttlog view` symbolises backtraces (symbolize.c: function, file:line,
 * inlined frames), for the web viewer's crash panel (`ttlog serve`,
 * `ttlog report`). Each call opens its own symboliser over the file's
 * modules, so calls from several server threads share nothing.
 */
#include <inttypes.h>

#include "render/json_text.h"
#include "stack_json.h"
#include "symbolize.h"

#define MAX_INLINED 8

void cli_stack_json(void *arg, const ttlog_reader *r, const struct ttlog_stack *st,
		    struct render_buf *out)
{
	(void)arg;
	const struct ttlog_module *mods;
	size_t nmods = ttlog_reader_modules(r, &mods);
	struct cli_sym *sym = nmods ? cli_sym_open(mods, nmods, NULL, 0, 0) : NULL;
	render_buf_putc(out, '[');
	for (uint32_t i = 0; i < st->nframes; i++) {
		if (i)
			render_buf_putc(out, ',');
		struct cli_sym_frame f[MAX_INLINED];
		int is_return = !(i == 0 && (st->flags & TTLOG_STACK_PC_FIRST));
		size_t n = sym ? cli_sym_lookup(sym, st->frames[i], is_return, f, MAX_INLINED) : 0;
		if (n > MAX_INLINED)
			n = MAX_INLINED;
		render_buf_printf(out, "{\"pc\":\"0x%" PRIx64 "\"", st->frames[i]);
		if (n) {
			/* The outermost of the inlined chain is the frame; the
			 * others are named in "inlined". */
			const struct cli_sym_frame *o = &f[0];
			render_buf_puts(out, ",\"module\":");
			render_json_cstring(out, o->module ? o->module : "");
			render_buf_printf(out, ",\"offset\":\"0x%" PRIx64 "\",\"function\":", o->offset);
			render_json_cstring(out, o->function ? o->function : "");
			render_buf_puts(out, ",\"file\":");
			render_json_cstring(out, o->file ? o->file : "");
			render_buf_printf(out, ",\"line\":%u,\"inlined\":[", o->line);
			for (size_t k = 1; k < n; k++) {
				render_buf_puts(out, k > 1 ? ",{\"function\":" : "{\"function\":");
				render_json_cstring(out, f[k].function ? f[k].function : "");
				render_buf_puts(out, ",\"file\":");
				render_json_cstring(out, f[k].file ? f[k].file : "");
				render_buf_printf(out, ",\"line\":%u}", f[k].line);
			}
			render_buf_putc(out, ']');
		}
		render_buf_putc(out, '}');
	}
	render_buf_putc(out, ']');
	cli_sym_close(sym);
}
