/* SPDX-License-Identifier: MIT */
/*
 * sites.c - call-site registration and runtime level filtering.
 *
 * Each TTLOG_* use has a static struct ttlog_site whose `word` holds the
 * site id and its state bits: enabled, sampled (ASK) or off (layout in
 * ttlog.h; 0 until registered). The hot path reads only that word. This
 * file hands out ids, keeps the id -> site table and, beside it, each
 * site's resolved description (src/sites/desc.h, filled at registration),
 * from which the snapshot writer writes the call-site dictionary;
 * recomputes the state bits when levels or sampling rules
 * (src/sites/sampling.c) change, and hands the calls of sampled sites to
 * the sampler.
 *
 * Concurrency. Registration is lock-free (a first call may come from any
 * thread, even from a signal handler): an id is taken with fetch_add, the
 * word is set with one compare-and-swap (the loser's id is simply unused),
 * and the winner fills the id's description, then the table slot, whose
 * store publishes both. Level changes are rare and serialised by a mutex
 * among themselves. A registration racing with a level change is
 * settled by the sequence counter `levels_seq`: either the level change's
 * table walk sees the new site, or the registration sees the counter move
 * and recomputes its own bit.
 *
 *   registration (register_site)             level change (relevel_all_locked)
 *   fetch_add next_site_id -> id  seq_cst    (levels set, under levels_lock)
 *   load levels_seq -> q  LMM(sites:C)       fetch_add levels_seq LMM(sites:B)
 *   CAS word (state bits from the levels)    load next_site_id    LMM(sites:B)
 *   store site_table[id]  LMM(sites:A)       load site_table[1..] LMM(sites:B)
 *   load levels_seq != q? LMM(sites:A)       relevel each site found
 *
 *   LMM(sites:A) with LMM(sites:B) is a store-then-load on each side (a
 *       Dekker pair), which only sequential consistency settles: all of
 *       these operations, fetch_add of next_site_id included, are seq_cst,
 *       so they fall in one total order. If the registration's second
 *       load of levels_seq comes before the level change's fetch_add in
 *       it, so do its fetch_add of the id and its store of the slot, and
 *       the level change's loads, after its fetch_add, see both: its walk
 *       reaches the id and finds the site. Otherwise the registration sees
 *       the count move and relevels its own site.
 *   LMM(sites:C) pairs with the release half of LMM(sites:B): a
 *       registration that reads a count already moved sees the levels set
 *       before the move when it computes its state bits.
 *   LMM(lookup:A) (the release half of the slot's store, LMM(sites:A))
 *       pairs with LMM(lookup:B) in ttlog__site_lookup(): a reader that
 *       finds the site sees it as it was registered.
 *   LMM(target:A) pairs with LMM(target:B): a reader that sees a target's
 *       level (or the count of slots) sees the name stored before it.
 *
 * The site's word itself is relaxed throughout: the hot path needs only
 * its bits; a level change that relevels a site found it through the
 * table (LMM(sites:B) reads LMM(sites:A)), which orders the registration's
 * CAS before its own; and the global level and the master switch are set
 * under levels_lock before LMM(sites:B), which publishes them.
 */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include "sites/sites.h"

#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/internal.h"
#include "common/publish.h"
#include "common/state.h"
#include "sites/desc.h"
#include "sites/sampling.h"

#define MAX_TARGETS 64
#define MAX_TARGET_NAME TTLOG__TARGET_NAME_MAX

static _Atomic(struct ttlog_site *) site_table[TTLOG__MAX_SITES + 1];
/* The description of each registered id, written once by the thread that
 * registered it, before site_table[id]; 8 MiB of .bss, of which only the
 * pages of ids in use are ever touched. */
static struct ttlog__site_desc site_descs[TTLOG__MAX_SITES + 1];
static _Atomic uint32_t next_site_id = 1;
/* The highest id handed out (TTLOG_MAX_SITES, at most TTLOG__MAX_SITES):
 * a site that would get a higher one is given up on. The tables above are
 * reserved whole, in .bss, whatever the limit: registration, which may run
 * in a signal handler, and the crash path, which reads them, never see a
 * table move or grow. Relaxed: a registration racing with ttlog_init's
 * setting of it takes the old limit or the new one, either being valid. */
static _Atomic uint32_t site_limit = TTLOG__MAX_SITES;
/* Ids whose site was in a library since unloaded (dlclose): a level
 * change no longer touches their word. Under levels_lock. */
static uint8_t site_gone[TTLOG__MAX_SITES / 8 + 1];

static _Atomic int global_level = TTLOG_LEVEL_TRACE;
static _Atomic int master_on = 1;
static _Atomic uint32_t levels_seq;

/* Target levels: names are fixed-size copies so that readers need no lock;
 * an entry is published by storing its level last (release, LMM(target:A))
 * and removed by storing -1. Only writers (under levels_lock) change names. */
struct target_level {
	char name[MAX_TARGET_NAME];
	_Atomic int level;          /* -1: unused slot */
};
static struct target_level targets[MAX_TARGETS];
static _Atomic int ntargets;    /* slots ever used */
static pthread_mutex_t levels_lock = PTHREAD_MUTEX_INITIALIZER;

static int effective_level(const struct ttlog_site *s)
{
	const char *t = ttlog__site_target(s);
	/* LMM(target:B) pairs with LMM(target:A): the slots below the count,
	 * and the name of a slot whose level is set, are whole. */
	int n = atomic_load_explicit(&ntargets, memory_order_acquire);
	for (int i = 0; i < n; i++) {
		int lvl = atomic_load_explicit(&targets[i].level, memory_order_acquire);
		if (lvl >= 0 && strcmp(targets[i].name, t) == 0)
			return lvl;
	}
	return atomic_load_explicit(&global_level, memory_order_relaxed);
}

/*
 * The state bits of site id's word: OFF, ENABLED or ASK (sampled). The
 * sampling rule is bound to the site first, whatever its level, so that a
 * snapshot lists the rule of a site that is disabled for now. Levels come
 * before sampling: a site below its level is plain OFF.
 */
static uint64_t state_bits(const struct ttlog_site *s, uint32_t id)
{
	int sampled = s->kind == TTLOG__KIND_LOG && ttlog__sampling_bind(s, id, ttlog__site_target(s));
	if (!atomic_load_explicit(&master_on, memory_order_relaxed))
		return TTLOG__WORD_OFF;
	if (s->kind != TTLOG__KIND_LOG)
		return TTLOG__WORD_ENABLED; /* contexts: levels filter events, not the state they run in */
	if (s->level < effective_level(s))
		return TTLOG__WORD_OFF;
	return sampled ? TTLOG__WORD_ASK : TTLOG__WORD_ENABLED;
}

/* The word of a registered site: its id where a record header has it. */
static uint64_t site_word(uint32_t id, uint64_t state)
{
	return (uint64_t)id << 32 | state;
}

/* Rewrites the state bits of a registered site's word, keeping the id. */
static void relevel_site(struct ttlog_site *s)
{
	uint64_t w = atomic_load_explicit(s->word, memory_order_relaxed);
	uint64_t want;
	do {
		want = (w & ~(uint64_t)TTLOG__WORD_STATE) | state_bits(s, (uint32_t)(w >> 32));
	} while (w != want &&
		 !atomic_compare_exchange_weak_explicit(s->word, &w, want, memory_order_relaxed,
							memory_order_relaxed));
}

/* The first call of a site, from any thread, possibly several at once. */
static uint64_t register_site(struct ttlog_site *s)
{
	/* seq_cst: part of LMM(sites:A), so that a level change that misses
	 * this registration's move of levels_seq sees the id. */
	uint32_t id = atomic_fetch_add_explicit(&next_site_id, 1, memory_order_seq_cst);
	if (id > atomic_load_explicit(&site_limit, memory_order_relaxed)) {
		/* Table full: this site stays disabled for good (a non-zero
		 * word without an id), and says so, once. Relaxed: the CAS only
		 * decides who counts it. */
		uint64_t unset = 0;
		if (atomic_compare_exchange_strong_explicit(s->word, &unset, TTLOG__SITE_GIVEN_UP,
							    memory_order_relaxed,
							    memory_order_relaxed))
			atomic_fetch_add_explicit(&ttlog__g.dropped_sites, 1, memory_order_relaxed);
		return atomic_load_explicit(s->word, memory_order_relaxed);
	}
	/* LMM(sites:C) pairs with LMM(sites:B): the levels state_bits() reads
	 * are at least those of the count read here. */
	uint32_t seq = atomic_load_explicit(&levels_seq, memory_order_acquire);
	uint64_t unset = 0;
	/* Relaxed (see the top of this file); losing means another thread
	 * registered the site first, and our id stays unused. */
	if (!atomic_compare_exchange_strong_explicit(s->word, &unset,
						     site_word(id, state_bits(s, id)),
						     memory_order_relaxed, memory_order_relaxed))
		return unset;
	ttlog__site_desc_fill(&site_descs[id], id, s);
	/* LMM(sites:A) pairs with LMM(sites:B): the slot, then the count again,
	 * both seq_cst. The store is also LMM(lookup:A), and publishes the
	 * description filled above. */
	atomic_store_explicit(&site_table[id], s, memory_order_seq_cst);
	ttlog__publish_site(&site_descs[id]); /* shared-memory mode: a copy in the mapping */
	if (atomic_load_explicit(&levels_seq, memory_order_seq_cst) != seq)
		relevel_site(s);
	return atomic_load_explicit(s->word, memory_order_relaxed);
}

/* Called by the macro in ttlog.h when a site's word is neither ENABLED nor
 * OFF: 0 (the first call) or ASK (a sampled call). */
TTLOG_API uint64_t ttlog__register(struct ttlog_site *s)
{
	uint64_t w = atomic_load_explicit(s->word, memory_order_relaxed);
	if (w == 0)
		w = register_site(s);
	if (!(w & TTLOG__WORD_ASK))
		return w; /* enabled, disabled, or given up on */
	if (!ttlog__sampling_admit((uint32_t)(w >> 32)))
		return w; /* dropped (and counted): bit 0 is clear */
	return (w & ~(uint64_t)TTLOG__WORD_STATE) | TTLOG__WORD_ENABLED;
}

/* Declared in ttlog.h: a site without arguments that is neither ENABLED
 * nor OFF. */
TTLOG_API void ttlog__register_write_empty(struct ttlog_site *s)
{
	uint64_t w = ttlog__register(s);
	if (w & TTLOG__WORD_ENABLED)
		ttlog__write_empty(w - 1u + 16u);
}

/* The built-in sites of ttlog's own records (context pops, span ends,
 * re-statements) are always enabled while ttlog is on. */
uint64_t ttlog__site_builtin_word(struct ttlog_site *site)
{
	uint64_t word = atomic_load_explicit(site->word, memory_order_relaxed);
	if (word == 0)
		word = ttlog__register(site);
	return word & 1u ? word : 0;
}

void ttlog__sites_set_limit(uint32_t max)
{
	atomic_store_explicit(&site_limit, max && max < TTLOG__MAX_SITES ? max : TTLOG__MAX_SITES,
			      memory_order_relaxed);
}

/* Runs in signal context: one atomic load. */
const struct ttlog_site *ttlog__site_lookup(uint32_t id)
{
	if (id == 0 || id > TTLOG__MAX_SITES)
		return NULL;
	/* LMM(lookup:B) pairs with LMM(lookup:A) in register_site(). */
	return atomic_load_explicit(&site_table[id], memory_order_acquire);
}

/* One more than the highest id handed out, from a value of next_site_id.
 * Runs in signal context. */
static uint32_t id_limit(uint32_t next)
{
	return next > TTLOG__MAX_SITES + 1 ? TTLOG__MAX_SITES + 1 : next;
}

const void *ttlog__site_desc_table(uint32_t *capacity, const void **next_id)
{
	*capacity = (uint32_t)(sizeof site_descs / sizeof site_descs[0]);
	*next_id = &next_site_id;
	return site_descs;
}

/* Runs in signal context: two atomic loads. */
const struct ttlog__site_desc *ttlog__site_desc_lookup(uint32_t id)
{
	/* The acquire load of the slot (LMM(lookup:B)) pairs with its store in
	 * register_site(): a site seen there has its description filled. */
	return ttlog__site_lookup(id) ? &site_descs[id] : NULL;
}

/* Runs in signal context. Relaxed: a bound for walks that can do with a
 * recent value (a snapshot, statistics); relevel_all_locked() cannot, and
 * reads the count itself. */
uint32_t ttlog__site_id_limit(void)
{
	return id_limit(atomic_load_explicit(&next_site_id, memory_order_relaxed));
}

/* ---- Sites of unloaded libraries ----------------------------------------
 *
 * A site lives in the data of the module that made the call: once a
 * library is unloaded (dlclose), its sites' words are unmapped, or the
 * memory of another module. Its description (site_descs) is a copy and
 * stays; only a level change writes the word. So a level change first
 * checks, when a library has ever been unloaded (the loader's count of
 * removals, dlpi_subs), that each site still lies in the writable segment
 * of a loaded module and still holds its own id; a site that fails is gone
 * for good (the same library loaded again registers new sites). A library
 * that another thread unloads while the level changes is not covered: the
 * program must not unload a library while it changes levels.
 */

struct mapped {
	uintptr_t *range;   /* begin, end pairs of writable PT_LOAD segments */
	size_t n, cap;
	unsigned long long subs;
	int failed;
};

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct mapped *m = arg;
	(void)size;
	m->subs = info->dlpi_subs;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			uintptr_t *r = realloc(m->range, cap * 2 * sizeof *r);
			if (!r) {
				m->failed = 1;
				return 1;
			}
			m->range = r;
			m->cap = cap;
		}
		m->range[2 * m->n] = info->dlpi_addr + ph->p_vaddr;
		m->range[2 * m->n + 1] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		m->n++;
	}
	return 0;
}

/* Whether the n bytes at p lie in one of the mapped ranges. */
static int in_mapped(const struct mapped *m, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	for (size_t i = 0; i < m->n; i++)
		if (a >= m->range[2 * i] && a + n <= m->range[2 * i + 1])
			return 1;
	return 0;
}

/* Whether the word of site s, of id id, is still the site's: the site and
 * its word (a static of the same module, ttlog/impl.h) are still mapped. */
static int site_mapped(const struct mapped *m, const struct ttlog_site *s, uint32_t id)
{
	return in_mapped(m, s, sizeof *s) && in_mapped(m, s->word, sizeof *s->word) &&
	       (uint32_t)(atomic_load_explicit(s->word, memory_order_relaxed) >> 32) == id;
}

/* Caller holds levels_lock. */
static void relevel_all_locked(void)
{
	struct mapped m = {0};
	dl_iterate_phdr(add_module, &m);
	/* No library was ever unloaded (or the list could not be made: then
	 * as before, every site is taken as loaded). */
	int check = m.subs != 0 && !m.failed;
	/* LMM(sites:B) pairs with LMM(sites:A): the count moves, then the ids
	 * and the slots are read, all seq_cst (see the top of this file). Its
	 * release half pairs with LMM(sites:C). */
	atomic_fetch_add_explicit(&levels_seq, 1, memory_order_seq_cst);
	uint32_t limit = id_limit(atomic_load_explicit(&next_site_id, memory_order_seq_cst));
	for (uint32_t id = 1; id < limit; id++) {
		struct ttlog_site *s = atomic_load_explicit(&site_table[id], memory_order_seq_cst);
		if (!s || (site_gone[id / 8] & (1u << (id % 8))))
			continue;
		if (check && !site_mapped(&m, s, id)) {
			site_gone[id / 8] |= (uint8_t)(1u << (id % 8));
			continue;
		}
		relevel_site(s);
	}
	free(m.range);
}

static int set_target_locked(const char *name, size_t len, int level)
{
	int n = atomic_load_explicit(&ntargets, memory_order_relaxed);
	int free_slot = -1;
	for (int i = 0; i < n; i++) {
		int lvl = atomic_load_explicit(&targets[i].level, memory_order_relaxed);
		if (lvl < 0) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (strlen(targets[i].name) == len && memcmp(targets[i].name, name, len) == 0) {
			/* LMM(target:A) */
			atomic_store_explicit(&targets[i].level, level, memory_order_release);
			return TTLOG_OK;
		}
	}
	if (level < 0)
		return TTLOG_OK;
	if (free_slot < 0) {
		if (n == MAX_TARGETS)
			return TTLOG_E_NOMEM;
		free_slot = n;
	}
	/* The slot is unused (level -1 or beyond ntargets), so no reader
	 * compares its name while we write it. */
	memcpy(targets[free_slot].name, name, len);
	targets[free_slot].name[len] = '\0';
	/* LMM(target:A) pairs with LMM(target:B) in effective_level(): the
	 * name before the level, the slot before the count. */
	atomic_store_explicit(&targets[free_slot].level, level, memory_order_release);
	if (free_slot == n)
		atomic_store_explicit(&ntargets, n + 1, memory_order_release);
	return TTLOG_OK;
}

TTLOG_API int ttlog_set_level(int level)
{
	if (level < TTLOG_LEVEL_TRACE || level > TTLOG_LEVEL_OFF)
		return TTLOG_E_INVALID;
	pthread_mutex_lock(&levels_lock);
	atomic_store_explicit(&global_level, level, memory_order_relaxed);
	relevel_all_locked();
	pthread_mutex_unlock(&levels_lock);
	return TTLOG_OK;
}

TTLOG_API int ttlog_get_level(void)
{
	return atomic_load_explicit(&global_level, memory_order_relaxed);
}

TTLOG_API int ttlog_set_target_level(const char *target, int level)
{
	if (!target || !*target || strlen(target) >= MAX_TARGET_NAME || level < -1 ||
	    level > TTLOG_LEVEL_OFF)
		return TTLOG_E_INVALID;
	pthread_mutex_lock(&levels_lock);
	int rc = set_target_locked(target, strlen(target), level);
	if (rc == TTLOG_OK)
		relevel_all_locked();
	pthread_mutex_unlock(&levels_lock);
	return rc;
}

int ttlog__sites_change(int (*change)(void *arg), void *arg)
{
	pthread_mutex_lock(&levels_lock);
	int rc = change(arg);
	if (rc == TTLOG_OK)
		relevel_all_locked();
	pthread_mutex_unlock(&levels_lock);
	return rc;
}

void ttlog__sites_set_master(int on)
{
	pthread_mutex_lock(&levels_lock);
	atomic_store_explicit(&master_on, on, memory_order_relaxed);
	relevel_all_locked();
	pthread_mutex_unlock(&levels_lock);
}

/* Runs under levels_lock: sets a target's level, or the global one. */
static int apply_level(void *ctx, const char *target, size_t len, int level)
{
	(void)ctx;
	if (target)
		return set_target_locked(target, len, level);
	atomic_store_explicit(&global_level, level, memory_order_relaxed);
	return TTLOG_OK;
}

/* See sites.h. */
int ttlog__levels_walk(const char *spec,
		       int (*fn)(void *ctx, const char *target, size_t len, int level), void *ctx)
{
	for (const char *p = spec; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		const char *lv = eq ? eq + 1 : p;
		size_t lvlen = len - (size_t)(lv - p);
		size_t namelen = eq ? (size_t)(eq - p) : 0;
		char lvlname[16];
		if (len == 0 || lvlen == 0 || lvlen >= sizeof lvlname)
			return TTLOG_E_CONFIG;
		memcpy(lvlname, lv, lvlen);
		lvlname[lvlen] = '\0';
		int level = ttlog_level_parse(lvlname);
		if (level < 0 || (eq && (namelen == 0 || namelen >= TTLOG__TARGET_NAME_MAX)))
			return TTLOG_E_CONFIG;
		if (fn) {
			int rc = fn(ctx, eq ? p : NULL, namelen, level);
			if (rc != TTLOG_OK)
				return rc;
		}
		p += len + (end ? 1 : 0);
	}
	return TTLOG_OK;
}

/* Checks the whole spec first, then applies it, so a bad spec changes nothing. */
int ttlog__levels_apply(const char *spec)
{
	if (!spec)
		return TTLOG_OK;
	int rc = ttlog__levels_walk(spec, NULL, NULL);
	if (rc != TTLOG_OK)
		return rc;
	pthread_mutex_lock(&levels_lock);
	rc = ttlog__levels_walk(spec, apply_level, NULL);
	relevel_all_locked();
	pthread_mutex_unlock(&levels_lock);
	return rc;
}
