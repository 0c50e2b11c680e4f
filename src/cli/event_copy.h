/* SPDX-License-Identifier: MIT */
/*
 * event_copy.h - an event of ttlog_reader_next() copied with everything it
 * points to that the reader reuses at its next call, so that another
 * thread can render it later (cli/render_pool.h).
 *
 * What is copied: the struct itself, its arguments with their strings (and
 * an LD80's ten bytes), its fields with their keys and the values that are
 * not among its arguments (a context's or a span's), and its span with the
 * span's name. What is not: the site and the thread, which are the
 * reader's tables and stay where they are until ttlog_reader_close().
 *
 * The copy is one run of bytes, 8-aligned: the struct ttlog_event first,
 * then the arguments, the fields, the fields' own values, the span, and
 * the strings. Its pointers point into the run, so the run must not move.
 */
#ifndef TTLOG__CLI_EVENT_COPY_H
#define TTLOG__CLI_EVENT_COPY_H

#include <stddef.h>

#include "ttlog_reader.h"

/** Bytes the copy of ev takes (a multiple of 8). */
size_t cli_event_copy_size(const struct ttlog_event *ev);

/** Copies ev into dst, which has cli_event_copy_size(ev) bytes and is
 *  8-aligned; returns the copy (dst). */
struct ttlog_event *cli_event_copy(void *dst, const struct ttlog_event *ev);

#endif /* TTLOG__CLI_EVENT_COPY_H */
