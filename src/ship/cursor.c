/* SPDX-License-Identifier: MIT */
/*
 * cursor.c - the cursor files of the shipper (see cursor.h). A cursor file
 * is text, one item a line:
 *
 *   ttlog-ship-cursor 1
 *   source PATH            (for people; not read back)
 *   done 0|1
 *   extras 0|1
 *   thread INDEX TICKS RANK    (one line a thread with an acknowledged event)
 *
 * Anything else, or a number out of range, makes the cursor damaged: the
 * command says so and stops rather than guess what was shipped.
 */
#include "ship/cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

char *ship_cursor_path(const char *state_dir, const char *source, const char *url, const char *database)
{
	char real[PATH_MAX];
	const char *full = realpath(source, real) ? real : source;
	const char *base = strrchr(full, '/');
	base = base ? base + 1 : full;
	uint64_t h = fnv(fnv(fnv(0xcbf29ce484222325ull, full), url), database);
	struct render_buf b = {0};
	render_buf_printf(&b, "%s/%s.%016" PRIx64 ".cursor", state_dir, base, h);
	return b.data;
}

struct ship_pos *ship_cursor_thread(struct ship_cursor *c, size_t i)
{
	if (i >= SHIP_CURSOR_DENSE) {
		for (size_t k = 0; k < c->nfar; k++)
			if (c->far[k].index == i)
				return &c->far[k].pos;
		c->far = render_xrealloc(c->far, (c->nfar + 1) * sizeof *c->far);
		c->far[c->nfar] = (struct ship_far){.index = (uint32_t)i};
		return &c->far[c->nfar++].pos;
	}
	if (i >= c->nthreads) {
		size_t n = i + 1 > c->nthreads * 2 ? i + 1 : c->nthreads * 2;
		c->threads = render_xrealloc(c->threads, n * sizeof *c->threads);
		memset(c->threads + c->nthreads, 0, (n - c->nthreads) * sizeof *c->threads);
		c->nthreads = n;
	}
	return &c->threads[i];
}

int ship_cursor_load(struct ship_cursor *c, struct render_buf *err)
{
	FILE *f = fopen(c->path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		render_buf_printf(err, "%s: %s", c->path, strerror(errno));
		return -1;
	}
	char line[8192];
	unsigned lineno = 0;
	int ok = 1;
	while (ok && fgets(line, sizeof line, f)) {
		lineno++;
		unsigned long long a, b, d;
		int v;
		char tail;
		if (lineno == 1)
			ok = strcmp(line, "ttlog-ship-cursor 1\n") == 0;
		else if (strncmp(line, "source ", 7) == 0)
			continue;
		else if (sscanf(line, "done %d %c", &v, &tail) == 1 && (v == 0 || v == 1))
			c->done = v;
		else if (sscanf(line, "extras %d %c", &v, &tail) == 1 && (v == 0 || v == 1))
			c->extras = v;
		else if (sscanf(line, "thread %llu %llu %llu %c", &a, &b, &d, &tail) == 3 &&
			 a <= UINT32_MAX && d <= UINT32_MAX) {
			struct ship_pos *p = ship_cursor_thread(c, (size_t)a);
			p->ticks = b;
			p->rank = (uint32_t)d;
			p->have = 1;
		} else
			ok = 0;
	}
	fclose(f);
	if (!ok || lineno == 0) {
		render_buf_printf(err, "%s: line %u: not a cursor of ttlog ship (remove it to ship the file again)",
				  c->path, lineno);
		return -1;
	}
	return 0;
}

int ship_cursor_save(const struct ship_cursor *c, const char *source, struct render_buf *err)
{
	struct render_buf b = {0}, tmp = {0};
	render_buf_printf(&b, "ttlog-ship-cursor 1\nsource %s\ndone %d\nextras %d\n", source, c->done,
			  c->extras);
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].have)
			render_buf_printf(&b, "thread %zu %" PRIu64 " %" PRIu32 "\n", i, c->threads[i].ticks,
					  c->threads[i].rank);
	for (size_t k = 0; k < c->nfar; k++)
		if (c->far[k].pos.have)
			render_buf_printf(&b, "thread %" PRIu32 " %" PRIu64 " %" PRIu32 "\n", c->far[k].index,
					  c->far[k].pos.ticks, c->far[k].pos.rank);
	render_buf_printf(&tmp, "%s.tmp", c->path);
	int rc = -1;
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		render_buf_printf(err, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	ssize_t w = write(fd, b.data, b.len);
	if (w != (ssize_t)b.len || fdatasync(fd) != 0) {
		render_buf_printf(err, "%s: %s", tmp.data, w < 0 ? strerror(errno) : "short write");
		close(fd);
		unlink(tmp.data);
		goto out;
	}
	close(fd);
	if (rename(tmp.data, c->path) != 0) {
		render_buf_printf(err, "%s: %s", c->path, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	rc = 0;
out:
	render_buf_free(&b);
	render_buf_free(&tmp);
	return rc;
}

void ship_cursor_free(struct ship_cursor *c)
{
	free(c->path);
	free(c->threads);
	free(c->far);
	memset(c, 0, sizeof *c);
}
