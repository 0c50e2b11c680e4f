/* SPDX-License-Identifier: MIT */
/*
 * render_pool.h - events made into JSON lines on worker threads and written
 * in the order they came, for `ttlog view -o json` and `ttlog export
 * --format jsonl` (--jobs N).
 *
 * The thread that reads the file keeps calling ttlog_reader_next() and
 * hands each event it keeps to cli_render_pool_add(), which copies it
 * (cli/event_copy.h) into the batch being filled. A full batch is queued;
 * a worker takes the oldest queued batch, renders its events one after the
 * other into the batch's text, and then writes the texts of every
 * rendered batch whose turn it is, oldest first: batch k's text goes out
 * only after batch k - 1's. So the output is the same, byte for byte, as
 * rendering on one thread.
 *
 * Batches are used in a ring; the reading thread waits for the oldest one
 * to be written before it refills it, so memory stays bounded (a few
 * batches per worker) whatever the file's size.
 *
 * Each worker has its own message buffer and JSON cache. Between
 * cli_render_pool_drain() and the next add the workers are idle, and the
 * caller may empty the caches (a new file) or write to the output itself.
 */
#ifndef TTLOG__CLI_RENDER_POOL_H
#define TTLOG__CLI_RENDER_POOL_H

#include <stdio.h>

#include "ttlog_reader.h"

struct cli_render_pool;

/**
 * Starts `workers` threads (1 to 255) that make each event's JSON line
 * (render_event_json() and a newline; big numbers as strings if
 * big_as_string) and write them to out. Returns NULL if a thread or memory
 * could not be had (the caller then renders on its own thread).
 */
struct cli_render_pool *cli_render_pool_start(unsigned workers, int big_as_string, FILE *out);

/** Empties the workers' JSON caches for a new file, whose sites are not
 *  the last file's. Only between a drain and the next add. */
void cli_render_pool_new_file(struct cli_render_pool *p);

/** Copies ev for rendering, with the service of its file (shown in its
 *  line when not empty; not copied: it must stay valid until the next
 *  drain). Returns 0 once writing to the output has failed (the caller
 *  stops reading), else 1. */
int cli_render_pool_add(struct cli_render_pool *p, const struct ttlog_event *ev,
			const char *service);

/** Renders and writes every event added so far, then returns with the
 *  workers idle. Returns 0 if writing to the output failed, else 1. */
int cli_render_pool_drain(struct cli_render_pool *p);

/** The errno of the write that failed, 0 if none did. */
int cli_render_pool_errno(struct cli_render_pool *p);

/** Drains the pool, stops its threads and frees it. NULL is allowed. */
void cli_render_pool_stop(struct cli_render_pool *p);

#endif /* TTLOG__CLI_RENDER_POOL_H */
