/* SPDX-License-Identifier: MIT */
/*
 * crash_text.h - the description of a file's crash, which `ttlog view`
 * prints as a summary and `ttlog export` writes as an event, and the thread
 * a crash record names.
 */
#ifndef TTLOG__CLI_CRASH_TEXT_H
#define TTLOG__CLI_CRASH_TEXT_H

#include <stdint.h>

#include "cli.h"
#include "ttlog_reader.h"

/**
 * The thread of a file with this index, or else this tid (a crash record
 * names both), or NULL.
 */
const struct ttlog_thread_info *cli_find_thread(const ttlog_reader *r, uint32_t index, uint32_t tid);

/**
 * Appends what the file's crash record says, as bytes from the file (the
 * signal name may hold any): "SIGSEGV (SEGV_MAPERR: address not mapped) at
 * address 0x0", or "signal N (code C)" for what is not known.
 */
void cli_crash_text(struct render_buf *b, const struct ttlog_file_info *info);

#endif /* TTLOG__CLI_CRASH_TEXT_H */
