/* SPDX-License-Identifier: MIT */
/*
 * owner.c - shared-memory mode, the owner's side: the process's rings, ring
 * table and call-site dictionary in a file-backed MAP_SHARED mapping
 * (layout: src/format/shm_layout.h, docs/SHM-FORMAT.md), so that another process
 * can write a snapshot from it while this one runs, hangs, or after it was
 * killed without a chance to write one (SIGKILL, the OOM killer).
 *
 * The hot path does not know: a ring in the mapping is written exactly as a
 * private one. Only three slow places change: ring_new() takes its memory
 * from the arena here (ttlog__shm_alloc) and enters the ring in the table
 * once its geometry is set (ttlog__shm_ring_publish); a call site's first
 * call copies the site's resolved description (src/sites/desc.h) into the
 * dictionary (shm_site_added); and the slow path refreshes the clock
 * calibration at most once a second.
 *
 * Memory: the file is sized once (ftruncate) and is sparse; the header,
 * table, site index and dictionary are backed at creation and each ring
 * when it is handed out, so that no store of a log call can ever meet a
 * full file system (on tmpfs that would be a SIGBUS).
 *
 * The current mapping is described by one struct published through `cur`
 * (written once, then only read, never freed): a reader in a signal handler
 * sees either the whole of it or nothing. In this process:
 *   ttlog__shm_open, ttlog__shm_after_fork     active()
 *   fill the struct; store cur    LMM(cur:A)   load shm_on    LMM(on:B)
 *   store shm_on = 1              LMM(on:A)    load cur       LMM(cur:B)
 * LMM(on:A) pairs with LMM(on:B) and LMM(cur:A) with LMM(cur:B): whoever
 * sees the mode on sees the struct cur points to whole (cur:A/B alone
 * covers the child's new struct, stored while the mode stays on).
 *
 * Publication to other processes (the reader is src/shm/map_snapshot.c):
 *   ring:  table entry fields, then commit = 1 (release)       LMM(table:A)
 *   site:  entry bytes, then index[id] = offset (release CAS)  LMM(dict:A)
 *   clock: calib_seq odd, tick1/ns1, calib_seq even (release)  LMM(cal:A/B)
 *   stream: entry seq odd, gen/pos/index, seq even (release)  LMM(spos:A/B)
 *   metric: entry fields, then commit = 1 (release)            LMM(mtab:A)
 * each paired with the reader's acquire load of the same word
 * (LMM(table:B), LMM(dict:B), LMM(cal:C/D), LMM(spos:C/D), LMM(mtab:B)).
 *
 * Metric shards (1.3) live in the mapping's shard part: a thread's first
 * metric update takes the next shard (shards_used) and backs it up to
 * layout_used; a new metric raises layout_used and then backs every
 * shard handed out up to its end, before the registry lets anyone use it.
 * Both sides store first and load second, sequentially consistent
 * (LMM(mshard:A) in shm_metrics_shard, LMM(mshard:B) in shm_metric_added),
 * so at least one of them sees the other: no shard is left with an
 * unbacked slot that a thread writes (a store there could meet a full
 * file system as a SIGBUS). The header's magic is written
 * last, after a release fence (LMM(magic:A)), which no acquire pairs
 * with: the reader copies the header and checks every field, so one that
 * sees the magic early rejects what it read, no worse. Everything else in
 * the header (counters, state, the refresh deadline) is relaxed: each
 * word stands alone.
 */
#define _GNU_SOURCE
#include "shm/owner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/dir_rules.h"
#include "common/internal.h"
#include "common/state.h"
#include "format/shm_layout.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "shm/path.h"
#include "shm/shm.h"
#include "snapshot/redact.h"
#include "thread/thread.h"

_Static_assert(TTLOG__SHM_DIR_MAX == TTLOG__DIR_MAX, "snapshot dir fits");
#include "sites/desc.h"
#include "sites/sites.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

struct mapping {
	unsigned char *base;
	size_t size;
	struct ttlog__shm_header *hdr;
	int fd;                      /* kept for fallocate; checked against dev/ino before use */
	dev_t dev;
	ino_t ino;
	int pid;                     /* the process the file is named after */
	char base_dir[TTLOG__DIR_MAX]; /* the configured base (for a forked child's file) */
	char path[PATH_MAX];
};

static _Atomic(struct mapping *) cur;
static _Atomic int shm_on;

static struct ttlog__shm_metrics *metrics_part(const struct mapping *m);
static unsigned char *shard_at(const struct mapping *m, const struct ttlog__shm_metrics *mp, uint32_t k);

static size_t round_page(size_t n)
{
	return (n + TTLOG__SHM_PAGE - 1) & ~(size_t)(TTLOG__SHM_PAGE - 1);
}

/* Runs in signal context. */
static struct mapping *active(void)
{
	/* LMM(on:B) pairs with LMM(on:A): the mapping's description is
	 * complete before shm_on says so. */
	if (!atomic_load_explicit(&shm_on, memory_order_acquire))
		return NULL;
	/* LMM(cur:B) pairs with LMM(cur:A). */
	return atomic_load_explicit(&cur, memory_order_acquire);
}

/* Runs in signal context. */
static int shm_active(void)
{
	return active() != NULL;
}

/* Backs [p, p + len) of the mapping with memory now. Prefaulting for
 * writing (Linux >= 5.14) fails with EFAULT where a store would raise
 * SIGBUS; older kernels get fallocate() on the file. */
static int back_range(struct mapping *m, void *p, size_t len)
{
	uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(TTLOG__SHM_PAGE - 1);
	uintptr_t hi = round_page((uintptr_t)p + len);
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	struct stat sb;
	if (fstat(m->fd, &sb) != 0 || sb.st_dev != m->dev || sb.st_ino != m->ino)
		return -1; /* the program closed our descriptor */
	return fallocate(m->fd, 0, (off_t)(lo - (uintptr_t)m->base), (off_t)(hi - lo)) == 0 ? 0 : -1;
}

static int make_dirs(const char *dir, char *err, size_t errsize)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
		snprintf(err, errsize, "shared memory directory %s: path too long", dir);
		return -1;
	}
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errsize, "shared memory directory %s: cannot create %s: %s", dir,
				 path, strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* The per-user directory must be ours alone (common/dir_rules.h), and
 * readable by nobody else either: others could otherwise plant or read
 * mappings in it. 0; -1 with a message in err when it cannot be made;
 * 1 with the reason in why when it exists but is refused. */
static int prepare_user_dir(const char *base, char *dir, size_t size, char *why, size_t whysize,
			    char *err, size_t errsize)
{
	if (ttlog__shm_user_dir(base, dir, size) != 0) {
		snprintf(err, errsize, "shared memory directory %s: path too long", base);
		return -1;
	}
	if (make_dirs(dir, err, errsize) != 0)
		return -1;
	if (ttlog__dir_check(dir, TTLOG__DIR_OWN, why, whysize) != 0) {
		if (!why[0])
			snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return 1;
	}
	struct stat sb;
	if (lstat(dir, &sb) != 0) {
		snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return 1;
	}
	if (sb.st_mode & 077) {
		snprintf(why, whysize, "is open to others (mode %04o, not 0700)",
			 (unsigned)(sb.st_mode & 07777));
		return 1;
	}
	return 0;
}

/*
 * Creates path for this process. A file already there names this pid: it
 * was left by an earlier process that had the same pid (killed), or by this
 * process before it called exec (same pid and start time, but exec dropped
 * the mapping: ttlog__shm_owner() says EXECED, which is not alive), and is
 * replaced unless its owner still runs, which only another pid namespace
 * sharing the directory could make true. The start-time test keeps this
 * process from refusing a file of its own even when its maps cannot be
 * read.
 */
static int create_file(const char *path, char *err, size_t errsize)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		struct ttlog__shm_info info;
		char why[256];
		uint64_t self_start = 0;
		ttlog__shm_start_time(0, &self_start);
		if (ttlog__shm_inspect(path, &info, why, sizeof why) == 0 && ttlog__shm_owner_alive(&info) &&
		    info.start_time != self_start) {
			snprintf(err, errsize, "shared memory mapping %s: in use by a running process %d",
				 path, info.pid);
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT)
			break;
	}
	snprintf(err, errsize, "shared memory mapping %s: cannot create: %s", path, strerror(errno));
	return -1;
}

static void fill_header(struct mapping *m, int snapshot_signal, uint64_t table_off,
			uint32_t table_cap, uint64_t index_off, uint64_t dict_off, uint64_t arena_off)
{
	struct ttlog__shm_header *h = m->hdr;
	h->major = TTLOG__SHM_MAJOR;
	h->minor = TTLOG__SHM_MINOR;
	h->header_size = TTLOG__SHM_HEADER_SIZE;
	h->file_size = m->size;
	h->byte_order = TTLOG__SHM_BYTE_ORDER;
	h->ring_struct_size = sizeof(struct ttlog__ring);
	h->pid = m->pid;
	h->uid = (uint32_t)geteuid();
	uint64_t start = 0;
	ttlog__shm_start_time(0, &start);
	h->start_time = start;
	h->created_ns = ttlog__clock_wall_ns();
	atomic_store_explicit(&h->state, TTLOG_SHM_RUNNING, memory_order_relaxed);
	h->snapshot_signal = snapshot_signal;
	h->window_ns = ttlog__g.window_ns;
	struct ttlog__calibration cal;
	ttlog__clock_calibrate(&cal, 0);
	h->clock_kind = cal.kind;
	h->tick0 = cal.tick0;
	h->ns0 = cal.ns0;
	atomic_store_explicit(&h->tick1, cal.tick1, memory_order_relaxed);
	atomic_store_explicit(&h->ns1, cal.ns1, memory_order_relaxed);
	h->table_off = table_off;
	h->table_cap = table_cap;
	h->site_index_off = index_off;
	h->site_index_cap = TTLOG__SHM_SITE_IDS;
	h->dict_off = dict_off;
	h->dict_size = TTLOG__SHM_DICT_SIZE;
	h->arena_off = arena_off;
	h->arena_size = m->size - arena_off;
	if (ttlog__shm_boot_id(h->boot_id, sizeof h->boot_id) != 0)
		h->boot_id[0] = '\0';
	snprintf(h->hostname, sizeof h->hostname, "%s", ttlog__g.hostname);
	snprintf(h->executable, sizeof h->executable, "%s", ttlog__g.executable);
	snprintf(h->snapshot_dir, sizeof h->snapshot_dir, "%s", ttlog__g.dir);
	/* The redaction rules, for the tools that write snapshots from the
	 * mapping (ttlog snap, ttlog recover) to apply them too. */
	const struct ttlog__redact *rules = ttlog__redact_rules();
	if (rules->spec_cut) {
		h->redact_len = TTLOG__SHM_REDACT_CUT;
	} else if (rules->spec[0]) {
		_Static_assert(TTLOG__REDACT_SPEC_MAX < TTLOG__SHM_REDACT_MAX, "the rules fit");
		h->redact_len = (uint32_t)strlen(rules->spec);
		memcpy(h->redact, rules->spec, h->redact_len + 1);
	}
}

static void shm_site_added(const struct ttlog__site_desc *d);

/* Copies the sites registered before the mapping existed. */
static void add_known_sites(void)
{
	uint32_t limit = ttlog__site_id_limit();
	for (uint32_t id = 1; id < limit; id++) {
		const struct ttlog__site_desc *d = ttlog__site_desc_lookup(id);
		if (d)
			shm_site_added(d);
	}
}

int ttlog__shm_open(int on, const char *base_dir, int snapshot_signal, char *err, size_t errsize)
{
	/* A mapping from an earlier ttlog_init is closed by ttlog_shutdown;
	 * its memory stays mapped for the rings threads still hold. */
	atomic_store_explicit(&shm_on, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__publish_next_refresh, UINT64_MAX, memory_order_relaxed);
	if (!on)
		return TTLOG_OK;

	struct mapping *m = calloc(1, sizeof *m);
	char dir[PATH_MAX];
	if (!m) {
		snprintf(err, errsize, "shared memory: out of memory");
		return TTLOG_E_NOMEM;
	}
	m->fd = -1;
	m->pid = (int)getpid();
	snprintf(m->base_dir, sizeof m->base_dir, "%s", base_dir);
	char why[256];
	int prepared = prepare_user_dir(base_dir, dir, sizeof dir, why, sizeof why, err, errsize);
	if (prepared > 0) {
		/* Another user made it first, or it is a link, a file, or open
		 * to others: that must not switch ttlog off. The rings stay in
		 * private memory. */
		ttlog__dir_refused_set(TTLOG_REFUSED_SHARED_DIR);
		fprintf(stderr,
			"ttlog: shared memory directory %s refused: it %s; the rings are in private "
			"memory, so ttlog snap and ttlog recover cannot reach this process\n",
			dir, why);
		free(m);
		return TTLOG_OK;
	}
	if (prepared < 0 || ttlog__shm_path(base_dir, m->pid, m->path, sizeof m->path) != 0) {
		if (!err[0])
			snprintf(err, errsize, "shared memory directory %s: path too long", base_dir);
		free(m);
		return TTLOG_E_DIR;
	}

	/* Sizes: room in the arena for as many rings as memory_cap allows
	 * (a ring is its struct and its bytes, each on its own pages). */
	size_t slot = round_page(sizeof(struct ttlog__ring)) + round_page(ttlog__g.ring_size);
	size_t nmax = ttlog__g.memory_cap / ttlog__g.ring_size;
	uint32_t table_cap = (uint32_t)TTLOG__MIN(TTLOG__MAX(nmax, (size_t)1), (size_t)TTLOG__SHM_MAX_TABLE);
	uint64_t table_off = TTLOG__SHM_HEADER_SIZE;
	uint64_t index_off = table_off + round_page((size_t)table_cap * sizeof(struct ttlog__shm_ring_entry));
	uint64_t dict_off = index_off + round_page((size_t)TTLOG__SHM_SITE_IDS * 4u);
	uint64_t stream_off = dict_off + TTLOG__SHM_DICT_SIZE;
	uint64_t metrics_off =
		stream_off + round_page((size_t)table_cap * sizeof(struct ttlog__shm_stream_entry));
	uint64_t arena_off = metrics_off + round_page(sizeof(struct ttlog__shm_metrics) +
						      (size_t)TTLOG_METRICS_MAX * TTLOG__SHM_METRIC_ENTRY_SIZE);
	uint64_t shards_off = arena_off + (uint64_t)table_cap * slot;
	/* Shards are 4 MiB of address space each, which a file must hold as
	 * its size: at most TTLOG__SHM_SHARDS_MAX of them (threads past that
	 * have private shards, counted in shards_private). */
	uint32_t shard_cap = TTLOG__MIN(table_cap, (uint32_t)TTLOG__SHM_SHARDS_MAX);
	m->size = (size_t)shards_off + (size_t)shard_cap * TTLOG__METRICS_SHARD_BYTES;

	int rc = TTLOG_E_DIR;
	m->fd = create_file(m->path, err, errsize);
	if (m->fd < 0)
		goto fail;
	struct stat sb;
	if (fstat(m->fd, &sb) != 0 || ftruncate(m->fd, (off_t)m->size) != 0) {
		snprintf(err, errsize, "shared memory mapping %s: cannot size it to %zu bytes: %s",
			 m->path, m->size, strerror(errno));
		goto fail_file;
	}
	m->dev = sb.st_dev;
	m->ino = sb.st_ino;
	void *base = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (base == MAP_FAILED) {
		snprintf(err, errsize, "shared memory mapping %s: cannot map %zu bytes: %s", m->path,
			 m->size, strerror(errno));
		rc = TTLOG_E_NOMEM;
		goto fail_file;
	}
	m->base = base;
	m->hdr = base;
	/* The fixed parts but the metric table, whose entries are backed as
	 * metrics come (a process with few metrics pays for few pages). */
	if (back_range(m, base, (size_t)metrics_off + sizeof(struct ttlog__shm_metrics)) != 0) {
		snprintf(err, errsize, "shared memory mapping %s: no room for %llu bytes in %s",
			 m->path, (unsigned long long)arena_off, dir);
		rc = TTLOG_E_NOMEM;
		goto fail_map;
	}
	fill_header(m, snapshot_signal, table_off, table_cap, index_off, dict_off, arena_off);
	m->hdr->stream_off = stream_off;
	m->hdr->arena_size = shards_off - arena_off;
	m->hdr->metrics_off = metrics_off;
	struct ttlog__shm_metrics *mp = (struct ttlog__shm_metrics *)(m->base + metrics_off);
	mp->entry_size = TTLOG__SHM_METRIC_ENTRY_SIZE;
	mp->entry_cap = TTLOG_METRICS_MAX;
	mp->shard_cap = shard_cap;
	mp->shards_off = shards_off;
	mp->shard_size = TTLOG__METRICS_SHARD_BYTES;
	_Static_assert(TTLOG__SERVICE_MAX < TTLOG__SHM_SERVICE_MAX, "the service fits");
	snprintf(mp->service, sizeof mp->service, "%s", ttlog__g.service);
	/* The magic last: a reader that sees it sees a filled header (it
	 * checks every field anyway). LMM(magic:A), paired with no acquire
	 * (see the top of this file). */
	atomic_thread_fence(memory_order_release);
	memcpy(m->hdr->magic, TTLOG__SHM_MAGIC, TTLOG__SHM_MAGIC_LEN);

	/* LMM(cur:A) pairs with LMM(cur:B) in active(): the struct is whole. */
	atomic_store_explicit(&cur, m, memory_order_release);
	/* LMM(on:A) pairs with LMM(on:B) in active(). */
	atomic_store_explicit(&shm_on, 1, memory_order_release);
	add_known_sites();
	ttlog__metrics_republish();
	atomic_store_explicit(&ttlog__publish_next_refresh, 0, memory_order_relaxed);
	static int atexit_done;
	if (!atexit_done && atexit(ttlog__shm_close) == 0)
		atexit_done = 1;
	return TTLOG_OK;

fail_map:
	munmap(m->base, m->size);
fail_file:
	close(m->fd);
	unlink(m->path);
fail:
	free(m);
	return rc;
}

static void *shm_alloc(size_t size, size_t align)
{
	struct mapping *m = active();
	if (!m)
		return NULL;
	struct ttlog__shm_header *h = m->hdr;
	uint64_t used = atomic_load_explicit(&h->arena_used, memory_order_relaxed), start;
	do {
		start = (used + align - 1) & ~(uint64_t)(align - 1);
		if (start + size > h->arena_size)
			return NULL;
	} while (!atomic_compare_exchange_weak_explicit(&h->arena_used, &used, start + size,
							memory_order_relaxed, memory_order_relaxed));
	unsigned char *p = m->base + h->arena_off + start;
	return back_range(m, p, size) == 0 ? p : NULL;
}

static int in_mapping(const struct mapping *m, const void *p)
{
	return (const unsigned char *)p >= m->base && (const unsigned char *)p < m->base + m->size;
}

static int shm_ring_publish(struct ttlog__ring *r)
{
	struct mapping *m = active();
	if (!m || !in_mapping(m, r))
		return 0;
	struct ttlog__shm_header *h = m->hdr;
	uint32_t slot = atomic_fetch_add_explicit(&h->table_used, 1, memory_order_relaxed);
	if (slot >= h->table_cap)
		return -1;
	struct ttlog__shm_ring_entry *e =
		(struct ttlog__shm_ring_entry *)(m->base + h->table_off) + slot;
	e->nseg = r->nseg;
	e->ring_off = (uint64_t)((unsigned char *)r - m->base);
	e->data_off = (uint64_t)(r->data - m->base);
	e->size = r->size;
	e->seg_size = r->seg_size;
	/* LMM(table:A) pairs with LMM(table:B) in map_snapshot.c: the entry, and the
	 * ring's geometry stored by ring_new(), are visible with commit. */
	atomic_store_explicit(&e->commit, 1, memory_order_release);
	return 0;
}

static int shm_ring_claimed(struct ttlog__ring *r)
{
	struct mapping *m = active();
	if (!m || !in_mapping(m, r))
		return 0;
	return back_range(m, r, sizeof *r) == 0 && back_range(m, r->data, r->size) == 0 ? 0 : -1;
}

/* ---- Call-site dictionary (runs in signal context) --------------------- */

static size_t clamp(uint32_t n)
{
	return n > TTLOG__SHM_STRING_MAX ? TTLOG__SHM_STRING_MAX : n;
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;
	memcpy(p, &len, 4);
	if (n)
		memcpy(p + 4, s, n);
	return p + 4 + n;
}

/* Copies a site's description into the dictionary: what sites.c resolved
 * at registration, as it is, so nothing is parsed here. Runs in signal
 * context. */
static void shm_site_added(const struct ttlog__site_desc *d)
{
	struct mapping *m = active();
	if (!m)
		return;
	struct ttlog__shm_header *h = m->hdr;
	_Atomic uint32_t *index = (_Atomic uint32_t *)(m->base + h->site_index_off);
	uint32_t id = d->id;
	if (id == 0 || id >= h->site_index_cap ||
	    atomic_load_explicit(&index[id], memory_order_relaxed) != 0)
		return;
	size_t size = sizeof(struct ttlog__shm_site_entry) + d->nargs + 16 + clamp(d->format_len) +
		      clamp(d->file_len) + clamp(d->function_len) + clamp(d->target_len);
	for (unsigned i = 0; i < TTLOG__SITE_DESC_MAX_FIELDS; i++)
		if (d->fields & (1u << i))
			size += 4 + (size_t)d->name_len[i];
	size = (size + 7) & ~(size_t)7;
	uint64_t off = atomic_fetch_add_explicit(&h->dict_used, size, memory_order_relaxed);
	if (off + size > h->dict_size) {
		atomic_fetch_add_explicit(&h->dict_dropped, 1, memory_order_relaxed);
		return;
	}
	unsigned char *e = m->base + h->dict_off + off;
	struct ttlog__shm_site_entry fixed = {
		.size = (uint32_t)size, .id = id, .level = d->level, .nargs = d->nargs,
		.kind = d->kind, .line = d->line, .fields = d->fields,
	};
	memcpy(e, &fixed, sizeof fixed);
	unsigned char *p = e + sizeof fixed;
	memcpy(p, d->arg_types, d->nargs);
	p += d->nargs;
	p = put_str(p, d->format, clamp(d->format_len));
	p = put_str(p, d->file, clamp(d->file_len));
	p = put_str(p, d->function, clamp(d->function_len));
	p = put_str(p, d->target, clamp(d->target_len));
	for (unsigned i = 0; i < TTLOG__SITE_DESC_MAX_FIELDS; i++) {
		if (!(d->fields & (1u << i)))
			continue;
		size_t n;
		const char *name = ttlog__site_desc_name(d, i, &n);
		p = put_str(p, name, n);
	}
	memset(p, 0, (size_t)(e + size - p));
	uint32_t unset = 0;
	/* LMM(dict:A) pairs with LMM(dict:B) in map_snapshot.c: the entry's bytes are
	 * visible to whoever sees its offset. Losing the race (another thread
	 * entered the id) leaves this entry unreferenced. */
	atomic_compare_exchange_strong_explicit(&index[id], &unset, (uint32_t)(h->dict_off + off),
						memory_order_release, memory_order_relaxed);
	uint32_t lim = atomic_load_explicit(&h->site_id_limit, memory_order_relaxed);
	while (lim < id + 1 &&
	       !atomic_compare_exchange_weak_explicit(&h->site_id_limit, &lim, id + 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* ---- Clock and counters (runs in signal context) ----------------------- */

/* The owner's drop counters into the header. Runs in signal context:
 * relaxed atomics. */
static void copy_counters(struct ttlog__shm_header *h)
{
	atomic_store_explicit(&h->dropped_uninitialized,
			      atomic_load_explicit(&ttlog__g.dropped_uninitialized, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&h->dropped_no_ring,
			      atomic_load_explicit(&ttlog__g.dropped_no_ring, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&h->dropped_sites,
			      atomic_load_explicit(&ttlog__g.dropped_sites, memory_order_relaxed),
			      memory_order_relaxed);
}

/* Runs in signal context. */
static void shm_note_calibration(const struct ttlog__calibration *cal)
{
	struct mapping *m = active();
	if (!m)
		return;
	struct ttlog__shm_header *h = m->hdr;
	copy_counters(h);
	uint32_t seq = atomic_load_explicit(&h->calib_seq, memory_order_relaxed);
	/* Odd: another writer is at it (a snapshot and the slow path at once);
	 * its pair is as good as ours. */
	if ((seq & 1u) || !atomic_compare_exchange_strong_explicit(&h->calib_seq, &seq, seq + 1,
								   memory_order_relaxed,
								   memory_order_relaxed))
		return;
	/* LMM(cal:A) the odd count is visible before the new pair; pairs
	 * with LMM(cal:C), the reader's fence before it reads the count again. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&h->tick1, cal->tick1, memory_order_relaxed);
	atomic_store_explicit(&h->ns1, cal->ns1, memory_order_relaxed);
	/* LMM(cal:B) the pair is visible before the even count; pairs with
	 * LMM(cal:D), the reader's acquire load of the count. */
	atomic_store_explicit(&h->calib_seq, seq + 2, memory_order_release);
}

/* Runs in signal context. */
static void shm_refresh(uint64_t ticks)
{
	uint64_t next = atomic_load_explicit(&ttlog__publish_next_refresh, memory_order_relaxed);
	if (ticks < next ||
	    !atomic_compare_exchange_strong_explicit(&ttlog__publish_next_refresh, &next,
						     ticks + ttlog__clock_ticks_per_second(),
						     memory_order_relaxed, memory_order_relaxed))
		return;
	struct ttlog__calibration cal;
	ttlog__clock_calibrate(&cal, 0);
	shm_note_calibration(&cal);
}

/* ---- Fork, exit, crash ------------------------------------------------- */

/* The child's private copy when it cannot have a file: anonymous memory
 * with the header, tables and ring structs copied, moved over the same
 * addresses so every pointer stays valid. The ring bytes are not copied:
 * the child resets its own ring and frees the others. */
static int fork_private(struct mapping *m)
{
	struct ttlog__shm_header *h = m->hdr;
	void *tmp = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (tmp == MAP_FAILED)
		return -1;
	memcpy(tmp, m->base, (size_t)h->arena_off + (size_t)TTLOG__MIN(
		atomic_load_explicit(&h->arena_used, memory_order_relaxed), h->arena_size));
	/* The metric shards handed out, up to the slots given out: the
	 * child's threads keep adding to their own. */
	const struct ttlog__shm_metrics *mp = metrics_part(m);
	if (mp) {
		uint32_t ns = TTLOG__MIN(atomic_load_explicit(&mp->shards_used, memory_order_relaxed), mp->shard_cap);
		uint32_t lay = atomic_load_explicit(&mp->layout_used, memory_order_relaxed);
		for (uint32_t k = 0; k < ns && lay; k++) {
			size_t off = (size_t)(shard_at(m, mp, k) - m->base);
			memcpy((unsigned char *)tmp + off, m->base + off, lay);
		}
	}
	if (mremap(tmp, m->size, m->size, MREMAP_MAYMOVE | MREMAP_FIXED, m->base) == MAP_FAILED) {
		munmap(tmp, m->size);
		return -1;
	}
	return 0;
}

/* The child's own file, holding a copy of what the child keeps. */
static int fork_own_file(struct mapping *m, struct mapping *c)
{
	struct ttlog__shm_header *h = m->hdr;
	char err[512];
	*c = *m;
	c->pid = (int)getpid();
	if (ttlog__shm_path(m->base_dir, c->pid, c->path, sizeof c->path) != 0)
		return -1;
	err[0] = '\0';
	c->fd = create_file(c->path, err, sizeof err);
	if (c->fd < 0)
		return -1;
	struct stat sb;
	uint64_t fixed = h->arena_off;
	uint64_t used = TTLOG__MIN(atomic_load_explicit(&h->arena_used, memory_order_relaxed),
				  h->arena_size);
	if (fstat(c->fd, &sb) != 0 || ftruncate(c->fd, (off_t)c->size) != 0 ||
	    fallocate(c->fd, 0, 0, (off_t)fixed) != 0)
		goto fail;
	c->dev = sb.st_dev;
	c->ino = sb.st_ino;
	/* The fixed part, then every ring's struct, straight from the parent's
	 * pages. The struct of a ring being set up in the parent right now is
	 * copied half done; the child does not know that ring (it was not in
	 * the list at fork time) and never uses it. The magic is left out
	 * until the file is mapped and its header is the child's
	 * (ttlog__shm_after_fork): until then a reader sees no mapping yet,
	 * rather than the parent's header in a file the parent does not map,
	 * which would look like the mapping of a parent that exec'd. */
	static const char no_magic[TTLOG__SHM_MAGIC_LEN];
	if (pwrite(c->fd, no_magic, sizeof no_magic, 0) != (ssize_t)sizeof no_magic ||
	    pwrite(c->fd, m->base + sizeof no_magic, (size_t)fixed - sizeof no_magic,
		   (off_t)sizeof no_magic) != (ssize_t)fixed - (ssize_t)sizeof no_magic)
		goto fail;
	struct ttlog__shm_ring_entry *table = (struct ttlog__shm_ring_entry *)(m->base + h->table_off);
	uint32_t n = TTLOG__MIN(atomic_load_explicit(&h->table_used, memory_order_relaxed), h->table_cap);
	for (uint32_t i = 0; i < n; i++) {
		/* LMM(table:B), as in map_snapshot.c: a committed entry is whole. */
		if (!atomic_load_explicit(&table[i].commit, memory_order_acquire))
			continue;
		uint64_t off = table[i].ring_off;
		if (off < fixed || off + sizeof(struct ttlog__ring) > fixed + used)
			continue;
		if (pwrite(c->fd, m->base + off, sizeof(struct ttlog__ring), (off_t)off) !=
		    (ssize_t)sizeof(struct ttlog__ring))
			goto fail;
	}
	/* The metric shards handed out, backed and with their values: the
	 * child's threads keep adding to them. */
	const struct ttlog__shm_metrics *mp = metrics_part(m);
	if (mp) {
		uint32_t ns = TTLOG__MIN(atomic_load_explicit(&mp->shards_used, memory_order_relaxed), mp->shard_cap);
		uint32_t lay = atomic_load_explicit(&mp->layout_used, memory_order_relaxed);
		for (uint32_t k = 0; k < ns && lay; k++) {
			off_t off = (off_t)(shard_at(m, mp, k) - m->base);
			if (fallocate(c->fd, 0, off, (off_t)round_page(lay)) != 0 ||
			    pwrite(c->fd, m->base + off, lay, off) != (ssize_t)lay)
				goto fail;
		}
	}
	/* The calling thread's ring is used at once, without a claim. */
	struct ttlog__ring *self = ttlog__ring_self();
	if (self && in_mapping(m, self) &&
	    fallocate(c->fd, 0, (off_t)(self->data - m->base), (off_t)self->size) != 0)
		goto fail;
	if (mmap(m->base, m->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, c->fd, 0) ==
	    MAP_FAILED)
		goto fail;
	return 0;
fail:
	close(c->fd);
	unlink(c->path);
	return -1;
}

void ttlog__shm_after_fork(void)
{
	struct mapping *m = active();
	if (!m)
		return;
	struct mapping *c = malloc(sizeof *c);
	if (c && fork_own_file(m, c) == 0) {
		struct ttlog__shm_header *h = c->hdr;
		h->pid = c->pid;
		uint64_t start = 0;
		ttlog__shm_start_time(0, &start);
		h->start_time = start;
		h->created_ns = ttlog__clock_wall_ns();
		atomic_store_explicit(&h->state, TTLOG_SHM_RUNNING, memory_order_relaxed);
		atomic_store_explicit(&h->dropped_uninitialized, 0, memory_order_relaxed);
		atomic_store_explicit(&h->dropped_no_ring, 0, memory_order_relaxed);
		/* The parent's stream is not the child's: no positions. */
		atomic_store_explicit(&h->stream_state, TTLOG__SHM_STREAM_NONE, memory_order_relaxed);
		if (h->stream_off)
			memset(c->base + h->stream_off, 0,
			       (size_t)h->table_cap * sizeof(struct ttlog__shm_stream_entry));
		/* The magic last, as at creation: a reader that sees it sees
		 * the child's header, in a file the child maps. The fence pairs
		 * with no acquire of the reader, as at creation: the reader
		 * copies the header and checks every field, so one that sees
		 * the magic too early reads a header it rejects, no worse.
		 * LMM(magic:A) */
		atomic_thread_fence(memory_order_release);
		memcpy(h->magic, TTLOG__SHM_MAGIC, TTLOG__SHM_MAGIC_LEN);
		close(m->fd);
		/* LMM(cur:A) pairs with LMM(cur:B): the child's struct is whole
		 * for the threads it starts and for its signal handlers. */
		atomic_store_explicit(&cur, c, memory_order_release);
		return;
	}
	free(c);
	/* No file of its own: the child goes on in private memory, and its
	 * history cannot be recovered from outside. */
	atomic_store_explicit(&shm_on, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__publish_next_refresh, UINT64_MAX, memory_order_relaxed);
	if (fork_private(m) != 0)
		abort(); /* the parent's mapping cannot be left shared with the child */
	close(m->fd);
}

void ttlog__shm_close(void)
{
	struct mapping *m = active();
	if (!m || m->pid != (int)getpid())
		return;
	atomic_store_explicit(&m->hdr->state, TTLOG_SHM_EXITING, memory_order_relaxed);
	copy_counters(m->hdr);
	atomic_store_explicit(&shm_on, 0, memory_order_relaxed);
	atomic_store_explicit(&ttlog__publish_next_refresh, UINT64_MAX, memory_order_relaxed);
	unlink(m->path);
	close(m->fd);
	m->fd = -1;
}

/* Runs in signal context: an atomic store, getpid and unlink. */
static void shm_crashed(void)
{
	struct mapping *m = active();
	if (!m || m->pid != (int)getpid())
		return;
	/* Relaxed, like the other stores of state: the word stands alone (the
	 * reader loads it relaxed), and what it announces, the crash snapshot,
	 * is a file already fsync'd and linked, not memory. */
	atomic_store_explicit(&m->hdr->state, TTLOG_SHM_CRASHED, memory_order_relaxed);
	unlink(m->path);
}

/* The stream's state, for a reader of the mapping. Relaxed, like state:
 * the word stands alone; each entry carries its own publication. */
static void shm_stream_state(int on)
{
	struct mapping *m = active();
	if (!m || !m->hdr->stream_off)
		return;
	atomic_store_explicit(&m->hdr->stream_state, on ? TTLOG__SHM_STREAM_ON : TTLOG__SHM_STREAM_NONE,
			      memory_order_relaxed);
}

/* Ring r's stream position, under the entry's sequence count. One writer:
 * the drainer, or the signal handler that took the segment from it.
 * Runs in signal context: atomics only. */
static void shm_stream_done(struct ttlog__ring *r, uint32_t gen, uint64_t pos, uint64_t index)
{
	struct mapping *m = active();
	if (!m || !m->hdr->stream_off || !in_mapping(m, r) || r->index >= m->hdr->table_cap)
		return;
	struct ttlog__shm_stream_entry *e =
		(struct ttlog__shm_stream_entry *)(m->base + m->hdr->stream_off) + r->index;
	uint32_t seq = atomic_load_explicit(&e->seq, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq | 1u, memory_order_relaxed);
	/* LMM(spos:A) the odd count is visible before the new position; pairs
	 * with LMM(spos:C), the reader's fence before it reads the count again. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&e->gen, gen, memory_order_relaxed);
	atomic_store_explicit(&e->pos, pos, memory_order_relaxed);
	atomic_store_explicit(&e->index, index, memory_order_relaxed);
	/* LMM(spos:B) the position is visible before the even count; pairs
	 * with LMM(spos:D), the reader's acquire load of the count. */
	atomic_store_explicit(&e->seq, (seq | 1u) + 1u, memory_order_release);
}

/* ---- Metrics (1.3) ------------------------------------------------------ */

static struct ttlog__shm_metrics *metrics_part(const struct mapping *m)
{
	return m->hdr->metrics_off ? (struct ttlog__shm_metrics *)(m->base + m->hdr->metrics_off) : NULL;
}

/* Shard k of the mapping. */
static unsigned char *shard_at(const struct mapping *m, const struct ttlog__shm_metrics *mp, uint32_t k)
{
	return m->base + mp->shards_off + (size_t)k * (size_t)mp->shard_size;
}

/* A thread's first metric update: the next shard of the mapping. */
static unsigned char *shm_metrics_shard(void)
{
	struct mapping *m = active();
	struct ttlog__shm_metrics *mp = m ? metrics_part(m) : NULL;
	if (!mp)
		return NULL;
	/* LMM(mshard:A) the shard is handed out before layout_used is read;
	 * pairs with LMM(mshard:B) (see the top of this file). */
	uint32_t k = atomic_fetch_add_explicit(&mp->shards_used, 1, memory_order_seq_cst);
	if (k >= mp->shard_cap) {
		atomic_fetch_add_explicit(&mp->shards_private, 1, memory_order_relaxed);
		return NULL;
	}
	uint32_t need = atomic_load_explicit(&mp->layout_used, memory_order_seq_cst);
	unsigned char *shard = shard_at(m, mp, k);
	if (back_range(m, shard, need ? need : 8) != 0) {
		/* Left unused: it reads as zeros. */
		atomic_fetch_add_explicit(&mp->shards_private, 1, memory_order_relaxed);
		return NULL;
	}
	return shard;
}

/* Copies the end of s that fits in cap bytes (a path's file name matters
 * most); its length. */
static size_t copy_tail(char *dst, size_t cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *from = n > cap ? s + (n - cap) : s;
	n = TTLOG__MIN(n, cap);
	if (n)
		memcpy(dst, from, n);
	return n;
}

/* A new metric enters the table, once every shard has room for it. */
static int shm_metric_added(uint32_t i, const struct ttlog__metric_entry *e, uint32_t end)
{
	struct mapping *m = active();
	struct ttlog__shm_metrics *mp = m ? metrics_part(m) : NULL;
	if (!mp || i >= mp->entry_cap)
		return 0;
	/* LMM(mshard:B) layout_used is raised before the shards are counted;
	 * pairs with LMM(mshard:A). */
	uint32_t had = atomic_load_explicit(&mp->layout_used, memory_order_relaxed);
	if (end > had)
		atomic_store_explicit(&mp->layout_used, end, memory_order_seq_cst);
	uint32_t n = TTLOG__MIN(atomic_load_explicit(&mp->shards_used, memory_order_seq_cst), mp->shard_cap);
	for (uint32_t k = 0; k < n; k++)
		if (back_range(m, shard_at(m, mp, k), end) != 0)
			return -1;
	struct ttlog__shm_metric_entry *x = (struct ttlog__shm_metric_entry *)((unsigned char *)mp + sizeof *mp) + i;
	if (back_range(m, x, sizeof *x) != 0)
		return -1;
	x->type = e->type;
	x->offset = e->offset;
	x->line = e->line;
	size_t name_len = TTLOG__MIN(strlen(e->name), (size_t)TTLOG__SHM_METRIC_NAME_MAX);
	memcpy(x->name, e->name, name_len);
	x->name_len = (uint16_t)name_len;
	x->file_len = (uint16_t)copy_tail(x->file, sizeof x->file, e->file);
	_Static_assert(TTLOG__METRIC_LABELS_MAX == TTLOG__SHM_METRIC_LABELS_MAX, "labels fit");
	x->labels_len = (uint32_t)e->labels_len;
	if (e->labels_len)
		memcpy(x->labels, e->labels, e->labels_len);
	/* LMM(mtab:A) pairs with LMM(mtab:B) in map_snapshot.c: the entry is
	 * whole for whoever sees commit. */
	atomic_store_explicit(&x->commit, 1, memory_order_release);
	uint32_t count = atomic_load_explicit(&mp->entry_count, memory_order_relaxed);
	if (count < i + 1)
		atomic_store_explicit(&mp->entry_count, i + 1, memory_order_relaxed);
	return 0;
}

const struct ttlog__publisher ttlog__shm_publisher = {
	.active = shm_active,
	.alloc = shm_alloc,
	.ring_publish = shm_ring_publish,
	.ring_claimed = shm_ring_claimed,
	.site_added = shm_site_added,
	.refresh = shm_refresh,
	.note_calibration = shm_note_calibration,
	.crashed = shm_crashed,
	.stream_state = shm_stream_state,
	.stream_done = shm_stream_done,
	.metrics_shard = shm_metrics_shard,
	.metric_added = shm_metric_added,
};
