/* SPDX-License-Identifier: MIT */
/*
 * instrument.c - libttlog-instrument: a span per function call of code
 * built with -finstrument-functions.
 *
 * The compiler calls __cyg_profile_func_enter(fn, site) at the entry of
 * every instrumented function and __cyg_profile_func_exit(fn, site) at its
 * exit. Entry begins a span named after fn (ttlog_span_begin_named()),
 * exit ends it (ttlog_span_end()). The hooks themselves, and everything
 * they call in this file, are no_instrument_function; the library is built
 * without -finstrument-functions, and so is libttlog.
 *
 * Names. An address is resolved once: dladdr() gives the symbol ("parse")
 * or, when the address has none (a static function, a program not linked
 * with -rdynamic), "MODULE+0xOFFSET" (the module's base name and the offset
 * from its load address, which addr2line -e MODULE turns into a name). The
 * result is kept in a fixed table of TABLE_SIZE slots, open addressing on
 * the address, lock-free: a slot's address is claimed with a
 * compare-and-swap, its name and decision are written, then its state is
 * published with a release store. A thread that finds a slot claimed but
 * not yet published resolves the name itself, without caching. Names are
 * copied into a fixed text area. When the table or the text area is full,
 * the function's span begins at the generic site "ttlog.function" with its
 * address as the field "addr"; such calls are counted
 * (ttlog_instrument_stats().uncached) and the first one logs a warning.
 *
 * Include/exclude. TTLOG_INSTRUMENT_INCLUDE and TTLOG_INSTRUMENT_EXCLUDE
 * are comma-separated fnmatch(3) globs, each matched against the symbol
 * name, the module's path and the module's base name. A function is
 * recorded when INCLUDE is unset or one of its globs matches, and none of
 * EXCLUDE's does. The decision is made once per address, with its name,
 * and cached beside it; an excluded function costs the table look-up.
 *
 * Depth. Each thread keeps its call depth and one bit per level up to
 * DEPTH_BITS saying whether the entry began a span, so that an exit ends
 * only what its entry began (an excluded function, or a call made while
 * ttlog was off, ends nothing). Calls deeper than DEPTH_BITS are counted
 * (ttlog_instrument_stats().too_deep) and not recorded; beyond
 * TTLOG_SCOPES_MAX open scopes ttlog itself stops recording spans, as for
 * any span.
 *
 * Recursion. A thread-local flag is set while a hook runs: a hook entered
 * from within a hook (an instrumented function reached through dladdr, a
 * callback, a signal handler) returns at once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog.h"
#include "ttlog_instrument.h"

#define NOI __attribute__((no_instrument_function))
#define EXPORT __attribute__((visibility("default")))

/* A power of two; the tests build a copy with a small table. */
#ifdef TTLOG_INSTRUMENT_TABLE_SIZE
#define TABLE_SIZE TTLOG_INSTRUMENT_TABLE_SIZE
#else
#define TABLE_SIZE 8192
#endif
#define PROBES 32
#define TEXT_SIZE (512 * 1024)
#define NAME_MAX_LEN 255
#define DEPTH_BITS 256
#define GLOBS_MAX 64

enum { SLOT_EMPTY, SLOT_CLAIMED, SLOT_READY };

struct slot {
	_Atomic uintptr_t addr;
	_Atomic int state;
	int recorded; /* the include/exclude decision */
	const char *name;
};

static struct slot table[TABLE_SIZE];
static char text[TEXT_SIZE];
static atomic_size_t text_used;
static atomic_uint_fast64_t n_uncached, n_too_deep, n_excluded_cached, n_resolved;
static atomic_int warned;

/* initial-exec: the hooks reach their thread's state without a call to
 * __tls_get_addr (the library is linked or preloaded, not dlopen()ed). */
#define TLS static _Thread_local __attribute__((tls_model("initial-exec")))
TLS int in_hook;
TLS unsigned depth;
TLS uint64_t began[DEPTH_BITS / 64];

/* ---- include/exclude lists, read once ------------------------------------- */

struct globs {
	int n;
	char *item[GLOBS_MAX];
};
static struct globs include_globs, exclude_globs;
static int have_include;
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

NOI static void parse_globs(const char *var, struct globs *g, int *set)
{
	const char *v = getenv(var);
	if (!v || !*v)
		return;
	if (set)
		*set = 1;
	char *copy = strdup(v);
	if (!copy)
		return;
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && g->n < GLOBS_MAX;
	     t = strtok_r(NULL, ",", &save))
		if (*t)
			g->item[g->n++] = t;
}

NOI static void read_lists(void)
{
	parse_globs("TTLOG_INSTRUMENT_INCLUDE", &include_globs, &have_include);
	parse_globs("TTLOG_INSTRUMENT_EXCLUDE", &exclude_globs, NULL);
}

NOI static int matches(const struct globs *g, const char *sym, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path;
	for (int i = 0; i < g->n; i++) {
		const char *p = g->item[i];
		if ((sym && fnmatch(p, sym, 0) == 0) || (path && fnmatch(p, path, 0) == 0) ||
		    (base && fnmatch(p, base, 0) == 0))
			return 1;
	}
	return 0;
}

/* ---- resolving an address --------------------------------------------------- */

/* Writes fn's name into out; returns whether it is to be recorded. */
NOI static int resolve(void *fn, char *out, size_t size)
{
	pthread_once(&lists_once, read_lists);
	Dl_info info;
	memset(&info, 0, sizeof info);
	const char *sym = NULL, *path = NULL;
	if (dladdr(fn, &info)) {
		path = info.dli_fname;
		if (info.dli_sname && info.dli_saddr == fn)
			sym = info.dli_sname;
	}
	if (sym) {
		snprintf(out, size, "%s", sym);
	} else if (path) {
		const char *base = strrchr(path, '/');
		snprintf(out, size, "%s+0x%jx", base ? base + 1 : path,
			 (uintmax_t)((uintptr_t)fn - (uintptr_t)info.dli_fbase));
	} else {
		snprintf(out, size, "0x%jx", (uintmax_t)(uintptr_t)fn);
	}
	atomic_fetch_add_explicit(&n_resolved, 1, memory_order_relaxed);
	if (have_include && !matches(&include_globs, sym ? sym : out, path))
		return 0;
	return !matches(&exclude_globs, sym ? sym : out, path);
}

NOI static const char *keep_text(const char *name)
{
	size_t len = strlen(name) + 1;
	size_t at = atomic_fetch_add_explicit(&text_used, len, memory_order_relaxed);
	if (at + len > TEXT_SIZE)
		return NULL;
	memcpy(text + at, name, len);
	return text + at;
}

NOI static void note_uncached(void)
{
	atomic_fetch_add_explicit(&n_uncached, 1, memory_order_relaxed);
	if (!atomic_exchange_explicit(&warned, 1, memory_order_relaxed))
		TTLOG_WARN("instrument: the address table (" TTLOG__STR(TABLE_SIZE) " functions) or its "
			   "name area is full: further functions are recorded as ttlog.function with "
			   "their address");
}

/* The span of a function whose name is not cached: counted. */
NOI static int generic(uintptr_t a)
{
	note_uncached();
	return TTLOG__SPAN_BEGIN("ttlog.function", TTLOG_F("addr", (uint64_t)a)) != 0;
}

/* Begins fn's span; returns whether one began. */
NOI static int begin(void *fn)
{
	uintptr_t a = (uintptr_t)fn;
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 40) & (TABLE_SIZE - 1);
	char name[NAME_MAX_LEN + 1];
	for (int probe = 0; probe < PROBES; probe++, i = (i + 1) & (TABLE_SIZE - 1)) {
		struct slot *s = &table[i];
		uintptr_t cur = atomic_load_explicit(&s->addr, memory_order_acquire);
		if (cur == a) {
			if (atomic_load_explicit(&s->state, memory_order_acquire) == SLOT_READY) {
				if (!s->recorded)
					return 0;
				if (s->name)
					return ttlog_span_begin_named(s->name) != 0;
				return generic(a);
			}
			/* Being filled by another thread: resolve without caching. */
			return resolve(fn, name, sizeof name) ? ttlog_span_begin_named(name) != 0 : 0;
		}
		if (cur != 0)
			continue;
		uintptr_t expected = 0;
		if (!atomic_compare_exchange_strong_explicit(&s->addr, &expected, a, memory_order_acq_rel,
							     memory_order_acquire)) {
			if (expected != a)
				continue;
			return resolve(fn, name, sizeof name) ? ttlog_span_begin_named(name) != 0 : 0;
		}
		int rec = resolve(fn, name, sizeof name);
		/* An excluded function needs no name; when the name area is
		 * full the slot keeps the decision and no name (generic site). */
		const char *kept = rec ? keep_text(name) : NULL;
		s->name = kept;
		s->recorded = rec;
		if (!rec)
			atomic_fetch_add_explicit(&n_excluded_cached, 1, memory_order_relaxed);
		atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
		if (!rec)
			return 0;
		return kept ? ttlog_span_begin_named(kept) != 0 : generic(a);
	}
	/* No free slot within PROBES: the table is full around this address;
	 * the decision is made again at each call. */
	if (!resolve(fn, name, sizeof name))
		return 0;
	return generic(a);
}

/* ---- the hooks ------------------------------------------------------------------ */

NOI void __cyg_profile_func_enter(void *fn, void *site);
NOI void __cyg_profile_func_exit(void *fn, void *site);

EXPORT NOI void __cyg_profile_func_enter(void *fn, void *site)
{
	(void)site;
	if (in_hook)
		return;
	in_hook = 1;
	unsigned d = depth++;
	if (d < DEPTH_BITS) {
		uint64_t bit = 1ull << (d & 63);
		if (begin(fn))
			began[d >> 6] |= bit;
		else
			began[d >> 6] &= ~bit;
	} else {
		atomic_fetch_add_explicit(&n_too_deep, 1, memory_order_relaxed);
	}
	in_hook = 0;
}

EXPORT NOI void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)fn;
	(void)site;
	if (in_hook || depth == 0)
		return;
	in_hook = 1;
	unsigned d = --depth;
	if (d < DEPTH_BITS && (began[d >> 6] >> (d & 63) & 1)) {
		began[d >> 6] &= ~(1ull << (d & 63));
		ttlog_span_end();
	}
	in_hook = 0;
}

EXPORT NOI void ttlog_instrument_stats(struct ttlog_instrument_stats *out)
{
	if (!out)
		return;
	size_t used = atomic_load_explicit(&text_used, memory_order_relaxed);
	out->resolved = atomic_load_explicit(&n_resolved, memory_order_relaxed);
	out->excluded = atomic_load_explicit(&n_excluded_cached, memory_order_relaxed);
	out->uncached = atomic_load_explicit(&n_uncached, memory_order_relaxed);
	out->too_deep = atomic_load_explicit(&n_too_deep, memory_order_relaxed);
	out->text_used = used < TEXT_SIZE ? used : TEXT_SIZE;
}
