/* SPDX-License-Identifier: MIT */
/*
 * backtrace.c - the stacks of a snapshot as backtraces, and the modules
 * recorded with them, for `ttlog view` (see backtrace.h).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtrace.h"
#include "crash_text.h"
#include "render/event_line.h"
#include "render/json_text.h"
#include "render/names.h"

#define MAX_INLINED 16u /* functions inlined into one another at one address */
#define REGS_PER_LINE 4u

/* Output: stdout, or bt->capture when set. */
static void emit(struct cli_backtrace *bt, const struct render_buf *b)
{
	if (bt->capture)
		render_buf_put(bt->capture, b->data, b->len);
	else
		render_buf_write(b, stdout);
}

/* A line of a backtrace that is not a frame: on stdout, in text mode only. */
static void stack_line(struct cli_backtrace *bt, const char *text)
{
	render_buf_reset(&bt->line);
	render_buf_puts(&bt->line, text);
	render_buf_putc(&bt->line, '\n');
	emit(bt, &bt->line);
}

/* The notes the symboliser made since the last call (a module it could not
 * use, and why), each once. */
static void print_symbol_notes(struct cli_backtrace *bt, struct cli_sym *sym)
{
	const char *n;
	while ((n = cli_sym_next_note(sym)) != NULL)
		bt->symbols_note(bt->note_arg, n);
}

static void put_hex_json(struct render_buf *b, const char *key, uint64_t value)
{
	render_buf_printf(b, ",\"%s\":\"0x%" PRIx64 "\"", key, value);
}

/* One frame of a backtrace: "  #N  0xADDR in FUNCTION at FILE:LINE", or
 * " (MODULE+0xOFF)" without a line, or " ()" without a module. */
static void text_frame(struct cli_backtrace *bt, unsigned index, uint64_t address,
		       const struct cli_sym_frame *f)
{
	struct render_buf *b = &bt->line;

	render_buf_reset(b);
	render_buf_printf(b, "  #%u  0x%016" PRIx64 " in ", index, address);
	render_line_cstring(b, f->function ? f->function : "??");
	if (f->file) {
		render_buf_puts(b, " at ");
		render_line_cstring(b, f->file);
		render_buf_printf(b, ":%u", f->line);
	} else if (f->module) {
		render_buf_puts(b, " (");
		render_line_cstring(b, render_base_name(f->module));
		render_buf_printf(b, "+0x%" PRIx64 ")", f->offset);
	} else {
		render_buf_puts(b, " ()");
	}
	if (f->inlined)
		render_buf_puts(b, " (inlined)");
	render_buf_putc(b, '\n');
	emit(bt, b);
}

static void json_frame(struct render_buf *b, unsigned index, uint64_t address,
		       const struct cli_sym_frame *f)
{
	if (index)
		render_buf_putc(b, ',');
	render_buf_printf(b, "{\"index\":%u", index);
	put_hex_json(b, "address", address);
	render_buf_puts(b, ",\"function\":");
	render_json_cstring(b, f->function);
	render_buf_puts(b, ",\"file\":");
	render_json_cstring(b, f->file);
	if (f->file)
		render_buf_printf(b, ",\"line\":%u", f->line);
	else
		render_buf_puts(b, ",\"line\":null");
	render_buf_puts(b, ",\"module\":");
	render_json_cstring(b, f->module);
	if (f->module)
		put_hex_json(b, "offset", f->offset);
	else
		render_buf_puts(b, ",\"offset\":null");
	render_buf_printf(b, ",\"inlined\":%s}", f->inlined ? "true" : "false");
}

/* The width of the longest register name, to line the values up. */
static int register_name_width(const struct ttlog_stack *st)
{
	size_t w = 1;
	for (uint32_t i = 0; i < st->nregs; i++) {
		size_t n = st->regs[i].name ? strlen(st->regs[i].name) : 1;
		if (n > w)
			w = n;
	}
	return w > 16 ? 16 : (int)w;
}

static void text_registers(struct cli_backtrace *bt, const struct ttlog_stack *st)
{
	struct render_buf *b = &bt->line;
	int width = register_name_width(st);

	render_buf_reset(b);
	render_buf_puts(b, "  registers:\n");
	for (uint32_t i = 0; i < st->nregs; i++) {
		const char *name = st->regs[i].name ? st->regs[i].name : "?";
		render_buf_puts(b, i % REGS_PER_LINE ? "  " : "    ");
		render_line_cstring(b, name);
		for (size_t pad = strlen(name); pad < (size_t)width; pad++)
			render_buf_putc(b, ' ');
		render_buf_printf(b, " 0x%016" PRIx64, st->regs[i].value);
		if (i % REGS_PER_LINE == REGS_PER_LINE - 1 || i + 1 == st->nregs)
			render_buf_putc(b, '\n');
	}
	emit(bt, b);
}

static void print_stack(struct cli_backtrace *bt, const ttlog_reader *r, const struct ttlog_stack *st,
			struct cli_sym *sym)
{
	const struct ttlog_thread_info *t = cli_find_thread(r, st->thread_index, st->tid);
	const char *name = t && t->name && *t->name ? t->name : NULL;
	int crash = (st->flags & TTLOG_STACK_CRASH) != 0;
	/* The name it had when the stack was taken, for a thread without a
	 * ring or one renamed since. */
	if (st->name && *st->name)
		name = st->name;
	const char *origin = st->origin == TTLOG_STACK_ORIGIN_PTRACE     ? "ptrace"
			     : st->origin == TTLOG_STACK_ORIGIN_WATCHDOG ? "watchdog"
									 : "self";
	struct render_buf json = {0};
	struct cli_sym_frame f[MAX_INLINED];
	unsigned index = 0;

	if (bt->json) {
		render_buf_printf(&json, "{\"kind\":\"stack\",\"tid\":%" PRIu32 ",\"thread\":", st->tid);
		render_json_cstring(&json, name ? name : "");
		render_buf_printf(&json, ",\"crashed\":%s,\"origin\":\"%s\",\"arch\":",
				  crash ? "true" : "false", origin);
		render_json_cstring(&json, st->arch);
		render_buf_printf(&json, ",\"truncated\":%s,\"faulted\":%s,\"frames\":[",
				  st->flags & TTLOG_STACK_TRUNCATED ? "true" : "false",
				  st->flags & TTLOG_STACK_FAULTED ? "true" : "false");
	} else {
		render_buf_reset(&bt->line);
		render_buf_printf(&bt->line, "%s of thread %" PRIu32, crash ? "backtrace" : "stack",
				  st->tid);
		if (name) {
			render_buf_puts(&bt->line, " (");
			render_line_cstring(&bt->line, name);
			render_buf_putc(&bt->line, ')');
		}
		render_buf_puts(&bt->line,
				crash ? ", crashed:\n"
				: st->origin == TTLOG_STACK_ORIGIN_PTRACE
					? ", stopped from outside (ptrace):\n"
				: st->origin == TTLOG_STACK_ORIGIN_WATCHDOG
					? ", stalled (watchdog):\n"
					: ", at snapshot:\n");
		emit(bt, &bt->line);
	}

	for (uint32_t i = 0; i < st->nframes && !cli_stdout_failed(); i++) {
		/* Every frame but an exact pc is a return address: the call
		 * is the instruction before it. */
		int is_return = !(i == 0 && (st->flags & TTLOG_STACK_PC_FIRST));
		size_t n = cli_sym_lookup(sym, st->frames[i], is_return, f, MAX_INLINED);
		for (size_t k = 0; k < n; k++, index++) {
			if (bt->json)
				json_frame(&json, index, st->frames[i], &f[k]);
			else
				text_frame(bt, index, st->frames[i], &f[k]);
		}
	}

	if (bt->json) {
		render_buf_putc(&json, ']');
		if (bt->registers && st->nregs) {
			render_buf_puts(&json, ",\"registers\":{");
			for (uint32_t i = 0; i < st->nregs; i++) {
				if (i)
					render_buf_putc(&json, ',');
				render_json_cstring(&json, st->regs[i].name ? st->regs[i].name : "?");
				render_buf_printf(&json, ":\"0x%" PRIx64 "\"", st->regs[i].value);
			}
			render_buf_putc(&json, '}');
		}
		render_buf_puts(&json, "}\n");
		emit(bt, &json);
		render_buf_free(&json);
	} else {
		/* Nothing is lost silently: say where the stack was cut. */
		if (!st->nframes)
			stack_line(bt, st->origin == TTLOG_STACK_ORIGIN_WATCHDOG
					       ? "  (no frames: the thread did not answer the watchdog's "
						 "signal in time)"
					       : "  (no frames)");
		if (st->flags & TTLOG_STACK_TRUNCATED) {
			render_buf_reset(&bt->line);
			render_buf_printf(&bt->line, "  (stack truncated at %" PRIu32 " frames)\n",
					  st->nframes);
			emit(bt, &bt->line);
		}
		if (st->flags & TTLOG_STACK_FAULTED)
			stack_line(bt, "  (unwinding stopped: unreadable memory)");
		if (bt->registers && st->nregs)
			text_registers(bt, st);
	}
	print_symbol_notes(bt, sym);
}

static void put_build_id(struct render_buf *b, const struct ttlog_module *m)
{
	for (uint32_t k = 0; k < m->build_id_len; k++)
		render_buf_printf(b, "%02x", m->build_id[k]);
}

/* --modules: the modules recorded with the stacks. */
static void print_modules(struct cli_backtrace *bt, const struct ttlog_module *mods, size_t n,
			  uint32_t missing)
{
	struct render_buf *b = &bt->line;

	render_buf_reset(b);
	if (bt->json)
		render_buf_puts(b, "{\"kind\":\"modules\",\"modules\":[");
	else
		render_buf_printf(b, "modules (%zu):\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_module *m = &mods[i];
		int has_id = m->build_id && m->build_id_len;
		if (bt->json) {
			render_buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
			render_json_cstring(b, m->path);
			put_hex_json(b, "start", m->start);
			put_hex_json(b, "end", m->end);
			put_hex_json(b, "bias", m->bias);
			render_buf_puts(b, ",\"build_id\":");
			if (has_id) {
				render_buf_putc(b, '"');
				put_build_id(b, m);
				render_buf_puts(b, "\"}");
			} else {
				render_buf_puts(b, "null}");
			}
		} else {
			render_buf_printf(b, "  0x%016" PRIx64 "-0x%016" PRIx64 "  ", m->start, m->end);
			render_line_cstring(b, m->path);
			render_buf_puts(b, has_id ? "  build-id " : "  no build-id");
			if (has_id)
				put_build_id(b, m);
			render_buf_putc(b, '\n');
		}
	}
	if (bt->json)
		render_buf_printf(b, "],\"missing\":%" PRIu32 "}\n", missing);
	else if (missing)
		render_buf_printf(b, "  (%" PRIu32 " more module%s loaded but not recorded)\n", missing,
				  missing == 1 ? " was" : "s were");
	emit(bt, b);
}

void cli_backtrace_print(struct cli_backtrace *bt, const ttlog_reader *r)
{
	const struct ttlog_stack *stacks = NULL;
	const struct ttlog_module *mods = NULL;
	size_t nstacks = ttlog_reader_stacks(r, &stacks);
	size_t nmods = ttlog_reader_modules(r, &mods);
	uint32_t missing = ttlog_reader_modules_missing(r);

	if (!mods)
		nmods = 0;
	if (nstacks && stacks) {
		/* Snapshots of one process share their modules: each file is
		 * opened once for all of them. */
		if (!cli_sym_reuse(bt->sym, mods, nmods)) {
			cli_sym_close(bt->sym);
			bt->sym = cli_sym_open(mods, nmods, bt->debug_dirs, bt->ndebug_dirs,
					      bt->no_symbols ? CLI_SYM_NO_FILES : 0);
			if (!bt->sym)
				bt->symbols_note(bt->note_arg,
						 "out of memory: frames are shown as bare addresses");
		}
		for (size_t i = 0; i < nstacks && !cli_stdout_failed(); i++)
			if (!bt->crash_only || (stacks[i].flags & TTLOG_STACK_CRASH))
				print_stack(bt, r, &stacks[i], bt->sym);
		/* A frame outside every recorded module may be in one that did
		 * not fit the capture. */
		if (missing && !bt->modules) {
			char text[64];
			snprintf(text, sizeof text, "%" PRIu32 " loaded module%s not recorded", missing,
				 missing == 1 ? " was" : "s were");
			bt->symbols_note(bt->note_arg, text);
		}
	}
	if (bt->modules && (nmods || missing) && !cli_stdout_failed())
		print_modules(bt, mods, nmods, missing);
}

void cli_backtrace_free(struct cli_backtrace *bt)
{
	free(bt->debug_dirs);
	bt->debug_dirs = NULL;
	bt->ndebug_dirs = 0;
	cli_sym_close(bt->sym);
	bt->sym = NULL;
	render_buf_free(&bt->line);
}
