/* SPDX-License-Identifier: MIT */
/*
 * crash_text.c - what a file says about its crash, in words: the thread it
 * names and the signal's description (see crash_text.h).
 */
#include <inttypes.h>

#include "crash_text.h"
#include "sigcode.h"

const struct ttlog_thread_info *cli_find_thread(const ttlog_reader *r, uint32_t index, uint32_t tid)
{
	size_t n = ttlog_reader_thread_count(r);

	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->index == index)
			return t;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		if (t && t->tid == tid)
			return t;
	}
	return NULL;
}

void cli_crash_text(struct render_buf *b, const struct ttlog_file_info *info)
{
	int signo = info->crash.signo, code = info->crash.code;
	const char *signame = info->crash.signal_name;
	const char *what, *codename = cli_sigcode_name(signo, code, &what);

	if (!signame || !*signame)
		signame = cli_signal_name(signo);
	if (signame)
		render_buf_puts(b, signame);
	else
		render_buf_printf(b, "signal %d", signo);
	if (codename)
		render_buf_printf(b, " (%s: %s)", codename, what);
	else
		render_buf_printf(b, " (code %d)", code);
	if (cli_sigcode_has_address(signo, code))
		render_buf_printf(b, " at address 0x%" PRIx64, info->crash.address);
}
