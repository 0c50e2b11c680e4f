/* SPDX-License-Identifier: MIT */
/*
 * cursor.h - what the server acknowledged of one source file, kept in a
 * small text file in the state directory so that a later run (or the same
 * run, following) ships only what comes after it.
 *
 * For each thread of the file: the last acknowledged event's ticks and
 * rank (its place among the thread's events of equal ticks). A thread's
 * events come in ticks order, so every event at or before that point was
 * acknowledged. Also whether its metrics and crash record were
 * acknowledged (extras), which happens once the file is complete (done).
 *
 * The file is STATE/NAME.HASH.cursor, NAME the source's base name and HASH
 * one of its real path, the URL and the database, so that shipping one
 * file to two servers keeps two cursors. It is replaced whole (written
 * beside it, then renamed over it), so a kill leaves the old or the new one.
 */
#ifndef TTLOG__SHIP_CURSOR_H
#define TTLOG__SHIP_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "render/text_buf.h"

struct ship_pos {
	uint64_t ticks;
	uint32_t rank;
	uint8_t have;            /* an event of the thread was acknowledged */
};

/* Thread indexes kept in an array by index: those of every ring a
 * process can have; a higher one (a damaged or made-up file's) is kept
 * apart, so that no index makes the array huge. */
#define SHIP_CURSOR_DENSE ((size_t)1 << 20)

struct ship_far {
	uint32_t index;
	struct ship_pos pos;
};

struct ship_cursor {
	char *path;              /* of the cursor file */
	int done;                /* complete: nothing more will be added to it */
	int extras;              /* its metrics and crash rows were acknowledged */
	size_t nthreads;
	struct ship_pos *threads; /* by thread index, below SHIP_CURSOR_DENSE */
	size_t nfar;              /* the threads of higher indexes (any file may
				     name any 32-bit index): found by search */
	struct ship_far *far;
};

/** The cursor file's path for a source, url and database (malloc'd). */
char *ship_cursor_path(const char *state_dir, const char *source, const char *url, const char *database);

/** Reads c->path into c (which has path set); a missing file is an empty
 *  cursor. Returns 0, or -1 with a message in err for a damaged one. */
int ship_cursor_load(struct ship_cursor *c, struct render_buf *err);

/** Writes c to c->path (replacing it). Returns 0, or -1 with a message. */
int ship_cursor_save(const struct ship_cursor *c, const char *source, struct render_buf *err);

/** Makes room for thread index i; returns its position (zeroed when new). */
struct ship_pos *ship_cursor_thread(struct ship_cursor *c, size_t i);

void ship_cursor_free(struct ship_cursor *c);

#endif /* TTLOG__SHIP_CURSOR_H */
