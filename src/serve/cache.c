/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the answers of /api/overview that the page asks for when it
 * opens a source (no filter: the whole source's lanes, ticks and spans),
 * computed once per state of the source's files and reused.
 *
 * The overview is one pass over every event of a source (about 0.7 s for
 * a million events); its answer is a few thousand numbers plus the spans.
 * An entry is keyed by source, bins and spans=0/1, and holds the
 * fingerprint of the source's files when it was computed: for a file its
 * device, inode, size and modification time; for a directory or pattern
 * the same of every *.ttlog and *.ttseg file it holds, in name order. A
 * request whose fingerprint differs (a segment grew, a file came or went)
 * computes the answer again and replaces the entry. A live process is
 * never cached (it changes all the time), nor an answer cut short
 * (partial) or larger than CACHE_ENTRY_MAX; the cache holds at most
 * CACHE_BYTES_MAX bytes of answers (beyond, nothing more is added).
 *
 * When the server starts, a thread of its own (serve_cache_warm) computes
 * the page's overview of each source in turn, so that the first visitor of
 * a large snapshot finds it ready; it stops when the server stops.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve/internal.h"

#define CACHE_ENTRY_MAX (8u << 20)
#define CACHE_BYTES_MAX (64u << 20)

struct entry {
	size_t src;
	int64_t bins;
	int spans;
	uint64_t fingerprint;
	char *json;
	size_t len;
};

struct serve_cache {
	pthread_mutex_t lock;
	struct entry *e;
	size_t n;
	size_t bytes;
};

struct serve_cache *serve_cache_new(void)
{
	struct serve_cache *c = calloc(1, sizeof *c);
	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

void serve_cache_free(struct serve_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].json);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* FNV-1a over bytes, continued from h. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t mix_file(uint64_t h, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return mix(h, "?", 1);
	uint64_t v[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
			 (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec};
	h = mix(h, path, strlen(path) + 1);
	return mix(h, v, sizeof v);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The fingerprint of a source's files; 0 when it cannot be told. */
static uint64_t fingerprint(const struct serve_source *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	struct stat st;
	if (s->is_file)
		return mix_file(h, s->path);
	if (stat(s->path, &st) == 0 && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(s->path);
		if (!d)
			return 0;
		char **names = NULL;
		size_t n = 0, cap = 0;
		struct dirent *e;
		int ok = 1;
		while (ok && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' ||
			    !(has_suffix(e->d_name, ".ttlog") || has_suffix(e->d_name, ".ttseg")))
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				char **g = realloc(names, cap * sizeof *g);
				if (!g) {
					ok = 0;
					break;
				}
				names = g;
			}
			if (!(names[n] = malloc(strlen(s->path) + strlen(e->d_name) + 2))) {
				ok = 0;
				break;
			}
			strcpy(names[n], s->path);
			strcat(names[n], "/");
			strcat(names[n], e->d_name);
			n++;
		}
		closedir(d);
		if (ok && n > 1)
			qsort(names, n, sizeof *names, cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (ok)
				h = mix_file(h, names[i]);
			free(names[i]);
		}
		free(names);
		return ok ? h : 0;
	}
	glob_t g;
	if (glob(s->path, 0, NULL, &g) != 0)
		return 0;
	for (size_t i = 0; i < g.gl_pathc; i++)
		h = mix_file(h, g.gl_pathv[i]);
	globfree(&g);
	return h;
}

uint64_t serve_cache_key(const struct serve_source *s)
{
	if (s->pid)
		return 0;
	uint64_t h = fingerprint(s);
	return h ? h : 1; /* 0 means "do not cache" */
}

int serve_cache_get(struct serve_cache *c, size_t src, int64_t bins, int spans, uint64_t key,
		    struct render_buf *out)
{
	int hit = 0;
	if (!c || !key)
		return 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++) {
		struct entry *e = &c->e[i];
		if (e->src == src && e->bins == bins && e->spans == spans && e->fingerprint == key) {
			render_buf_reset(out);
			render_buf_put(out, e->json, e->len);
			hit = 1;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void serve_cache_put(struct serve_cache *c, size_t src, int64_t bins, int spans, uint64_t key,
		     const struct render_buf *answer)
{
	if (!c || !key || answer->len > CACHE_ENTRY_MAX)
		return;
	char *copy = malloc(answer->len ? answer->len : 1);
	if (!copy)
		return;
	memcpy(copy, answer->data, answer->len);
	pthread_mutex_lock(&c->lock);
	struct entry *e = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].src == src && c->e[i].bins == bins && c->e[i].spans == spans)
			e = &c->e[i];
	if (e) {
		/* The source changed: the new answer replaces the old one. */
		c->bytes -= e->len;
		free(e->json);
	} else if (c->bytes + answer->len <= CACHE_BYTES_MAX) {
		struct entry *g = realloc(c->e, (c->n + 1) * sizeof *g);
		if (g) {
			c->e = g;
			e = &c->e[c->n++];
		}
	}
	if (e && c->bytes + answer->len <= CACHE_BYTES_MAX) {
		*e = (struct entry){src, bins, spans, key, copy, answer->len};
		c->bytes += answer->len;
		copy = NULL;
	} else if (e) {
		/* No room for the new one: the old one is gone all the same. */
		*e = c->e[--c->n];
	}
	pthread_mutex_unlock(&c->lock);
	free(copy);
}

void serve_cache_warm(const struct serve_set *set, const struct serve_limits *lim,
		      struct serve_cache *c, volatile const int *stop)
{
	char src[32], bins[32];
	snprintf(bins, sizeof bins, "%d", SERVE_PAGE_BINS);
	for (size_t i = 0; i < set->n && !*stop; i++) {
		if (set->src[i].pid)
			continue;
		struct serve_request rq;
		memset(&rq, 0, sizeof rq);
		rq.set = set;
		rq.lim = lim;
		rq.cache = c;
		rq.stop = stop;
		/* No visitor waits for it: longer than a request may take. */
		rq.deadline_ns = serve_now_ns() + 60 * (int64_t)1000000000;
		snprintf(src, sizeof src, "%zu", i);
		rq.keys[0] = "src";
		rq.values[0] = src;
		rq.keys[1] = "bins";
		rq.values[1] = bins;
		rq.keys[2] = "spans";
		rq.values[2] = "1";
		rq.nparams = 3;
		struct render_buf out = {0};
		serve_api_overview(&rq, &out);
		render_buf_free(&out);
	}
}
