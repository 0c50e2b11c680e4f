/* SPDX-License-Identifier: MIT */
/*
 * render_pool.h - events rendered to text on worker threads and written in
 * the order they came, for `ttlog view` and `ttlog export --format jsonl`
 * (--jobs N).
 *
 * The thread that reads the file keeps calling ttlog_reader_next() and
 * hands each event it keeps to cli_render_pool_add(), which copies it
 * (cli/event_copy.h) into the batch being filled. A full batch is queued;
 * a worker takes the oldest queued batch, renders its events one after the
 * other into the batch's text with the caller's function, and then writes
 * the texts of every rendered batch whose turn it is, oldest first: batch
 * k's text goes out only after batch k - 1's. So the output is the same,
 * byte for byte, as rendering on one thread.
 *
 * Batches are used in a ring; the reading thread waits for the oldest one
 * to be written before it refills it, so memory stays bounded (a few
 * batches per worker) whatever the file's size.
 *
 * Each worker has its own context (the caller's: a message buffer, a JSON
 * cache), passed to the render function. Between cli_render_pool_drain()
 * and the next add the workers are idle, and the caller may change the
 * contexts (a new file) or write to the output itself.
 */
#ifndef TTLOG__CLI_RENDER_POOL_H
#define TTLOG__CLI_RENDER_POOL_H

#include <stdio.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

struct cli_render_pool;

/* Appends the text of ev to out, with a worker's context; tag is what was
 * added with the event. */
typedef void (*cli_render_fn)(void *ctx, struct render_buf *out, const struct ttlog_event *ev,
			      const void *tag);

/**
 * Starts `workers` threads (1 to 255) that render with render(ctx[i], ...)
 * and write to out. Returns NULL if a thread or memory could not be had
 * (the caller then renders on its own thread).
 */
struct cli_render_pool *cli_render_pool_start(unsigned workers, cli_render_fn render, void **ctx,
					      FILE *out);

/** Copies ev for rendering, with a tag of the caller's that the render
 *  function gets with it (not copied: it must stay valid until the next
 *  drain). Returns 0 once writing to the output has failed (the caller
 *  stops reading), else 1. */
int cli_render_pool_add(struct cli_render_pool *p, const struct ttlog_event *ev, const void *tag);

/** Renders and writes every event added so far, then returns with the
 *  workers idle. Returns 0 if writing to the output failed, else 1. */
int cli_render_pool_drain(struct cli_render_pool *p);

/** The errno of the write that failed, 0 if none did. */
int cli_render_pool_errno(struct cli_render_pool *p);

/** Drains the pool, stops its threads and frees it. NULL is allowed. */
void cli_render_pool_stop(struct cli_render_pool *p);

#endif /* TTLOG__CLI_RENDER_POOL_H */
