/* SPDX-License-Identifier: MIT */
/*
 * map_snapshot.c - shared-memory mode, the reader's side: writing a normal snapshot
 * file from a mapping (ttlog__shm_snapshot), for `ttlog snap PID` and
 * `ttlog recover`. Part of libttlog-read; the header check it starts with
 * (header.c) is libttlog's, because the owner uses it too.
 *
 * The mapping may come from a process that crashed, had a bug or means
 * harm, so nothing in it is trusted: the header is copied and checked
 * field by field before any offset in it is used; every ring table entry
 * and dictionary entry is checked before use and skipped with a precise
 * error (its offset, what was expected) if it is wrong; ring geometry comes
 * from the checked table entry, never from the ring's own struct, and the
 * ring reader (src/ring/ring.c) validates every record it copies. Pointers
 * stored in the mapping are never followed.
 *
 * The file is mapped read-only and shared, so a live owner's rings are read
 * with the same lock-free protocol as in-process snapshots: records
 * overwritten while being copied are counted as torn. The call-site
 * dictionary is copied into this process's memory, and each entry in it is
 * checked and described (struct ttlog__site_desc, what the writer takes)
 * by pointers into that copy: the strings and field names the owner stored
 * are used as they are.
 *
 * Publication: LMM(table:B) and LMM(dict:B) below pair with LMM(table:A)
 * and LMM(dict:A) in owner.c; LMM(cal:C) with LMM(cal:A), LMM(cal:D) with
 * LMM(cal:B).
 */
#define _GNU_SOURCE
#include "shm/shm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/histogram.h"
#include "common/internal.h"
#include "common/state.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "format/shm_layout.h"
#include "shm/header.h"
#include "shm/path.h"
#include "format/format.h"
#include "proc/modules.h"
#include "proc/stack.h"
#include "sites/desc.h"
#include "snapshot/redact.h"
#include "snapshot/trace_filter.h"
#include "snapshot/writer.h"
#include "ttlog.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

/* ---- Reading a file that may shrink -------------------------------------- */

/*
 * A load from a page of a file mapping that lies wholly past the file's end
 * raises SIGBUS. The owner never resizes its file, but any process of the
 * user may truncate it while it is read, and a reading command killed by a
 * signal would tell nothing of why. So while a mapping is read, this handler
 * is installed: for a fault past the file's current end inside the mapping,
 * it maps zero pages over the rest of the mapping (MAP_FIXED, private,
 * read-only) and returns, so the load is made again and reads zeros. The
 * reading goes on to its normal end, without any jump out of the snapshot
 * writer (whose workspace flag, temporary file and descriptor a siglongjmp
 * would leave behind): zeros are no more than one more kind of bad input,
 * which the checks of every table entry, dictionary entry and record already
 * reject, and the caller is told that the file shrank.
 *
 * Any other SIGBUS (another address, a fault inside the file's current size
 * such as a memory error, a signal sent by a process) is not ours: the
 * previous disposition is put back and gets it, as if this handler had never
 * been there; a fault recurs when the handler returns, a sent signal is sent
 * again. The previous disposition is restored in any case once the mapping
 * is no longer read, so a program's own handler (ttlog's crash handler in a
 * program that reads a mapping, not the command) is unaffected afterwards.
 *
 * sigaction is process-wide: the ttlog command is single-threaded, so no
 * other thread's SIGBUS can arrive in between. A second reader in another
 * thread of some other program finds the guard taken and reads unguarded
 * rather than change the first one's state.
 */
static struct {
	const unsigned char *base;   /* the mapping being read */
	size_t size;
	uintptr_t page;              /* the system's page size */
	int fd;                      /* the file, for its current size */
	struct sigaction prev;
	volatile sig_atomic_t shrank;
	volatile uint64_t shrank_to; /* the file's size seen at the first fault */
	volatile uint64_t zero_from; /* the first offset read as zeros */
} guard;
/* A lock that is never waited for: taken with an acquire exchange,
 * LMM(guard:B), given back with a release store, LMM(guard:A), so each
 * user of `guard` sees it as the previous one left it. */
static _Atomic int guard_taken;
void (*ttlog__shm_read_test_hook)(const char *map_path);

/*
 * Runs in signal context: fstat, mmap, sigaction, raise. mmap is not on
 * POSIX's list of async-signal-safe functions, but on Linux it is a bare
 * system call that touches no state of this process's C library (no lock,
 * no buffer), which is what the list guards against; errno is kept.
 */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	uintptr_t lo = (uintptr_t)guard.base, at = (uintptr_t)si->si_addr;
	struct stat sb;
	if (si->si_code > 0 && guard.base && at >= lo && at - lo < guard.size &&
	    fstat(guard.fd, &sb) == 0 && (uint64_t)sb.st_size <= at - lo) {
		uintptr_t from = at & ~(guard.page - 1);
		if (mmap((void *)from, lo + guard.size - from, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
			if (!guard.shrank) {
				guard.shrank_to = (uint64_t)sb.st_size;
				guard.zero_from = from - lo;
			}
			guard.shrank = 1;
			errno = saved;
			return; /* the load is made again, from a zero page */
		}
	}
	sigaction(SIGBUS, &guard.prev, NULL);
	if (si->si_code <= 0)
		raise(sig); /* blocked until this handler returns, then delivered */
	errno = saved;
}

/* Installs the guard for the mapping base of size bytes of file fd. 0, or
 * -1 if it could not be (taken by another thread, or sigaction failed):
 * the mapping is then read unguarded. */
static int guard_install(const void *base, size_t size, int fd)
{
	/* LMM(guard:B) pairs with LMM(guard:A). */
	if (atomic_exchange_explicit(&guard_taken, 1, memory_order_acquire))
		return -1;
	long page = sysconf(_SC_PAGESIZE);
	guard.base = base;
	guard.size = size;
	guard.page = page > 0 ? (uintptr_t)page : TTLOG__SHM_PAGE;
	guard.fd = fd;
	guard.shrank = 0;
	guard.shrank_to = 0;
	guard.zero_from = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &guard.prev) != 0) {
		guard.base = NULL;
		/* LMM(guard:A) pairs with LMM(guard:B). */
		atomic_store_explicit(&guard_taken, 0, memory_order_release);
		return -1;
	}
	return 0;
}

/* Puts the previous disposition back. 1 if the file shrank while it was
 * read (*to: its size then, *from: the first offset read as zeros). */
static int guard_remove(uint64_t *to, uint64_t *from)
{
	sigaction(SIGBUS, &guard.prev, NULL);
	guard.base = NULL;
	int shrank = guard.shrank;
	*to = guard.shrank_to;
	*from = guard.zero_from;
	/* LMM(guard:A) pairs with LMM(guard:B). */
	atomic_store_explicit(&guard_taken, 0, memory_order_release);
	return shrank;
}

/* ---- Snapshot from a mapping --------------------------------------------- */

struct ring_ref {
	struct ttlog__ring *ring;      /* in our read-only mapping */
	const unsigned char *data;
	uint32_t size, seg_size, nseg;
};

struct source {
	const char *path;
	const unsigned char *map;
	uint64_t size;
	struct ttlog__shm_header h;   /* the checked copy; atomics are read from map */
	const struct ttlog__shm_header *live;
	struct ring_ref *rings;
	size_t nrings, pos;
	struct ttlog__site_desc *sites; /* by id, site_limit entries, in one block with: */
	unsigned char *valid;         /* bit id: sites[id] is a valid entry's */
	unsigned char *dict;          /* a private copy of the dictionary's used part */
	size_t dict_len;
	char *names;                  /* the sites' field names, gathered (dict_len bytes) */
	size_t names_used;
	uint32_t site_limit;
	uint64_t rings_uncommitted, sites_uncommitted;
	int alive, same_boot;
	const struct ttlog__shm_stream_entry *stream; /* a dead owner's stream table, or NULL */
	uint64_t after_stream;        /* rings whose stream place was used */
	uint64_t *claimed;            /* thread indexes written, + 1, open addressing */
	size_t claimed_cap;           /* a power of 2 above twice the rings; 0: none */
	unsigned char *copy;          /* a private copy of the ring being read */
	size_t copy_cap;
	char problem[512];            /* the first entry skipped, for the caller */
	/* The metrics (layout 1.3): checked entries whose strings point into
	 * metric_text, and the shards to sum them over. */
	struct ttlog__metric_entry *metrics;
	uint32_t nmetrics;
	char *metric_text;
	const unsigned char *shards;  /* shard k at shards + k * shard_size */
	uint32_t nshards;
	uint64_t shard_size;
	uint64_t shards_private;      /* the owner's threads with private shards */
	char service[TTLOG__SHM_SERVICE_MAX]; /* the owner's (1.3), else "" */
};

static void problem(struct source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct source *s, const char *fmt, ...)
{
	if (s->problem[0])
		return;
	int n = snprintf(s->problem, sizeof s->problem, "%s: ", s->path);
	if (n < 0 || (size_t)n >= sizeof s->problem)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->problem + n, sizeof s->problem - (size_t)n, fmt, ap);
	va_end(ap);
}

static void collect_rings(struct source *s)
{
	const struct ttlog__shm_header *h = &s->h;
	uint32_t n = TTLOG__MIN(atomic_load_explicit(&s->live->table_used, memory_order_relaxed),
			       h->table_cap);
	s->rings = calloc(n ? n : 1, sizeof *s->rings);
	if (!s->rings) {
		problem(s, "out of memory for %u rings", n);
		return;
	}
	size_t cap = 16;
	while (cap < 2 * (size_t)n)
		cap *= 2;
	s->claimed = calloc(cap, sizeof *s->claimed);
	s->claimed_cap = s->claimed ? cap : 0;
	uint64_t arena_end = h->arena_off + h->arena_size;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t at = h->table_off + (uint64_t)i * sizeof(struct ttlog__shm_ring_entry);
		const struct ttlog__shm_ring_entry *le = (const void *)(s->map + at);
		/* LMM(table:B) pairs with LMM(table:A): a committed entry is whole. */
		if (!atomic_load_explicit(&le->commit, memory_order_acquire)) {
			s->rings_uncommitted++;
			continue;
		}
		struct ttlog__shm_ring_entry e;
		memcpy(&e, le, sizeof e); /* checked and used from this copy only */
		const char *why = NULL;
		if (e.ring_off % 64 || e.ring_off < h->arena_off ||
		    !ttlog__shm_fits(e.ring_off, sizeof(struct ttlog__ring), arena_end))
			why = "ring offset is not a 64-byte aligned place in the arena";
		else if (e.data_off % 8 || e.data_off < h->arena_off || !ttlog__shm_fits(e.data_off, e.size, arena_end))
			why = "ring data is not within the arena";
		else if (e.nseg < TTLOG__RING_MIN_SEGMENTS || e.nseg > TTLOG__RING_MAX_SEGMENTS)
			why = "segment count is not between 2 and 64";
		else if (e.seg_size == 0 || e.seg_size % 8 || (uint64_t)e.nseg * e.seg_size != e.size)
			why = "ring size is not segments x segment size (a multiple of 8)";
		else if (e.size > TTLOG__MAX_RING) /* the reader copies a ring whole */
			why = "ring size is above the largest a process makes (1 GiB)";
		if (why) {
			problem(s, "offset %llu: ring table entry %u (ring at %llu, data at %llu, size %u, "
				   "%u x %u): %s",
				(unsigned long long)at, i, (unsigned long long)e.ring_off,
				(unsigned long long)e.data_off, e.size, e.nseg, e.seg_size, why);
			continue;
		}
		struct ring_ref *ref = &s->rings[s->nrings++];
		ref->ring = (struct ttlog__ring *)(uintptr_t)(s->map + e.ring_off);
		ref->data = s->map + e.data_off;
		ref->size = e.size;
		ref->seg_size = e.seg_size;
		ref->nseg = e.nseg;
	}
}

/*
 * Takes the u32-length string of the entry copy at *p (end: its end): *text
 * points at its bytes there and *len counts them up to the first NUL, if
 * any (the owner stores C strings; a NUL inside one is damage, and the
 * string ends there). 0 if it runs past the end or is longer than
 * TTLOG__SHM_STRING_MAX.
 */
static int take_text(const unsigned char **p, const unsigned char *end, const char **text,
		     uint32_t *len)
{
	uint32_t n;
	if (end - *p < 4)
		return 0;
	memcpy(&n, *p, 4);
	if (n > TTLOG__SHM_STRING_MAX || (size_t)(end - *p - 4) < n)
		return 0;
	*text = (const char *)*p + 4;
	*len = (uint32_t)strnlen(*text, n);
	*p += 4 + n;
	return 1;
}

/*
 * Parses the dictionary entry of id at file offset off, in the private
 * copy of the dictionary, into d: its strings point into that copy, and its
 * field names, cut to TTLOG__FIELD_NAME_MAX bytes as a snapshot keeps them,
 * are gathered in s->names so that 16-bit offsets reach them (the copy is
 * not written to: a damaged index may make entries overlap). 0 with the
 * reason in why.
 */
static int parse_site(struct source *s, uint32_t id, uint64_t off, struct ttlog__site_desc *d,
		      const char **why)
{
	const struct ttlog__shm_header *h = &s->h;
	struct ttlog__shm_site_entry fixed;
	if (off % 8 || off < h->dict_off || !ttlog__shm_fits(off - h->dict_off, sizeof fixed, s->dict_len)) {
		*why = "entry offset is not an 8-byte aligned place in the dictionary";
		return 0;
	}
	const unsigned char *e = s->dict + (off - h->dict_off);
	memcpy(&fixed, e, sizeof fixed);
	if (fixed.size < sizeof fixed || fixed.size % 8 ||
	    !ttlog__shm_fits(off - h->dict_off, fixed.size, s->dict_len)) {
		*why = "entry size runs past the dictionary";
		return 0;
	}
	if (fixed.id != id) {
		*why = "entry holds another site id";
		return 0;
	}
	if (fixed.level > TTLOG_LEVEL_FATAL || fixed.nargs > TTLOG__FMT_MAX_ARGS ||
	    fixed.kind > TTLOG__FMT_KIND_MAX || (fixed.fields >> fixed.nargs) != 0) {
		*why = "level, argument count, kind or field bits out of range";
		return 0;
	}
	const unsigned char *p = e + sizeof fixed, *end = e + fixed.size;
	if ((size_t)(end - p) < fixed.nargs) {
		*why = "argument types run past the entry";
		return 0;
	}
	for (unsigned i = 0; i < fixed.nargs; i++) {
		if (p[i] < TTLOG_ARG_BOOL || p[i] > TTLOG_ARG_LD80) {
			*why = "an argument type is unknown";
			return 0;
		}
	}
	d->arg_types = p;
	p += fixed.nargs;
	if (!take_text(&p, end, &d->format, &d->format_len) ||
	    !take_text(&p, end, &d->file, &d->file_len) ||
	    !take_text(&p, end, &d->function, &d->function_len) ||
	    !take_text(&p, end, &d->target, &d->target_len)) {
		*why = "a string runs past the entry or is longer than 4096 bytes";
		return 0;
	}
	/* A name of n bytes took 4 + n in its entry, so the names of entries
	 * that do not overlap fit in s->names, as long as the copy; checked
	 * all the same, since a damaged index can make entries overlap. */
	char *names = s->names + s->names_used;
	size_t at = 0;
	for (unsigned i = 0; i < fixed.nargs; i++) {
		if (!(fixed.fields & (1u << i)))
			continue;
		const char *name;
		uint32_t n;
		if (!take_text(&p, end, &name, &n) || n == 0) {
			*why = "a field name runs past the entry or is empty";
			return 0;
		}
		n = TTLOG__MIN(n, (uint32_t)TTLOG__FIELD_NAME_MAX);
		if (n > s->dict_len - s->names_used - at) {
			*why = "entries overlap: more field names than the dictionary holds";
			return 0;
		}
		memcpy(names + at, name, n);
		d->name_off[i] = (uint16_t)at;
		d->name_len[i] = (uint8_t)n;
		at += n;
	}
	s->names_used += at;
	d->names_base = names;
	d->line = fixed.line;
	d->level = fixed.level;
	d->nargs = fixed.nargs;
	d->kind = fixed.kind;
	d->fields = fixed.fields;
	d->id = id;
	return 1;
}

/*
 * Describes every site the index names. The index is read first, each
 * slot with acquire, and the dictionary copied after, in one piece: an
 * entry whose offset was seen is whole in the copy (the owner reserved its
 * bytes before it published the offset, so dict_used covers them), and
 * from then on a live owner (or anyone) changing the mapping cannot make
 * an entry inconsistent.
 */
static void collect_sites(struct source *s)
{
	const struct ttlog__shm_header *h = &s->h;
	uint32_t limit = TTLOG__MIN(atomic_load_explicit(&s->live->site_id_limit, memory_order_relaxed),
				   h->site_index_cap);
	uint32_t *offs = malloc((limit ? limit : 1) * sizeof *offs);
	if (!offs) {
		problem(s, "out of memory for %u sites", limit);
		return;
	}
	const _Atomic uint32_t *index = (const _Atomic uint32_t *)(s->map + h->site_index_off);
	for (uint32_t id = 1; id < limit; id++)
		/* LMM(dict:B) pairs with LMM(dict:A): the entry an offset names
		 * is whole. */
		offs[id] = atomic_load_explicit(&index[id], memory_order_acquire);
	size_t len = (size_t)TTLOG__MIN(atomic_load_explicit(&s->live->dict_used, memory_order_relaxed),
				       h->dict_size);
	/* One block: the descriptions by id (only those of valid entries are
	 * written, and marked in `valid`), the copy, the names. */
	size_t descs = (size_t)limit * sizeof *s->sites, valid = (size_t)limit / 8 + 1;
	unsigned char *block = malloc(descs + valid + 2 * len);
	if (!block) {
		problem(s, "out of memory for %u sites and a dictionary of %zu bytes", limit, len);
		free(offs);
		return;
	}
	s->sites = (struct ttlog__site_desc *)(void *)block;
	s->valid = block + descs;
	s->dict = s->valid + valid;
	s->names = (char *)s->dict + len;
	memset(s->valid, 0, valid);
	memcpy(s->dict, s->map + h->dict_off, len);
	s->dict_len = len;
	s->site_limit = limit;
	for (uint32_t id = 1; id < limit; id++) {
		if (!offs[id]) {
			s->sites_uncommitted++; /* an id lost to a race, or a copy not made */
			continue;
		}
		const char *why = NULL;
		if (parse_site(s, id, offs[id], &s->sites[id], &why))
			s->valid[id / 8] |= (unsigned char)(1u << (id % 8));
		else
			problem(s, "offset %u: dictionary entry of site %u: %s", offs[id], id, why);
	}
	free(offs);
}

static struct ttlog__ring *src_ring_next(void *ctx, struct ttlog__ring *prev)
{
	struct source *s = ctx;
	s->pos = prev ? s->pos + 1 : 0;
	return s->pos < s->nrings ? s->rings[s->pos].ring : NULL;
}

/*
 * The stream's place in the ring cur reads, for the owner cur->gen (docs/SHM-FORMAT.md
 * 6.5): 1 with *pos set if the entry was written, whole, for that owner.
 * LMM(spos:D) and LMM(spos:C) pair with LMM(spos:B) and LMM(spos:A) in
 * owner.c. The owner is gone, so an odd count stays odd (it was killed
 * while writing): no place, everything is kept.
 */
static int stream_place(const struct source *s, const struct ttlog__ring_cursor *cur,
			uint64_t *pos)
{
	uint32_t idx = cur->thread; /* hostile: only an index, checked */
	if (!s->stream || idx >= s->h.table_cap)
		return 0;
	const struct ttlog__shm_stream_entry *e = &s->stream[idx];
	for (int tries = 0; tries < 4; tries++) {
		/* LMM(spos:D) */
		uint32_t q1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		uint32_t gen = atomic_load_explicit(&e->gen, memory_order_relaxed);
		uint64_t p = atomic_load_explicit(&e->pos, memory_order_relaxed);
		/* LMM(spos:C) */
		atomic_thread_fence(memory_order_acquire);
		uint32_t q2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (q1 != q2 || (q1 & 1u))
			continue;
		if (q1 == 0 || gen != cur->gen || p % 8)
			return 0;
		*pos = p;
		return 1;
	}
	return 0;
}

/* A dead owner that was streaming: the snapshot keeps the whole ring, as a
 * crash snapshot does, because the stream's place is where its consumer
 * stopped reading, and records below the stream level before it may still
 * have been waiting for a promotion decision (in neither the segments nor,
 * from the place on, the snapshot). The store drops the events the
 * segments hold too. The place says what the ring's overwritten count
 * means: a place at or after the oldest record kept means the stream read
 * everything the ring overwrote (a loss of the stream's, if any, is counted
 * in its segments), so the snapshot counts none; a place before it, or
 * none, leaves the count. A place past head cannot be this owner's. */
static void note_streamed(struct source *s, struct ttlog__ring_cursor *cur)
{
	uint64_t pos;
	if (!stream_place(s, cur, &pos) || pos < cur->pos || pos > cur->end)
		return;
	if (cur->copied)
		cur->overwritten_copied = 0; /* the stream had read it */
	s->after_stream++;
}

/*
 * A snapshot has one THRD per thread index (docs/FORMAT.md 10), and an
 * owner gives each ring an index of its own: a second ring with an index
 * already written (or the same ring named twice by the table) is damage,
 * skipped and said. 1 if index is new, now taken. Without the memory for
 * the set, every ring is taken as it comes.
 */
static int claim_index(struct source *s, uint32_t index)
{
	if (!s->claimed_cap)
		return 1;
	uint64_t key = (uint64_t)index + 1;
	size_t mask = s->claimed_cap - 1, at = (index * 2654435761u) & mask;
	while (s->claimed[at] && s->claimed[at] != key)
		at = (at + 1) & mask;
	if (s->claimed[at])
		return 0;
	s->claimed[at] = key; /* at most one per ring: the set never fills */
	return 1;
}

static int src_read_begin(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	struct source *s = ctx;
	const struct ring_ref *ref = &s->rings[s->pos];
	if (ref->ring != r)
		return 0;
	if (!ttlog__ring_read_begin_at(r, ref->data, ref->size, ref->seg_size, ref->nseg, cur))
		return 0;
	if (!claim_index(s, cur->thread)) {
		problem(s, "a second ring (table entry %zu of those kept) says it is thread %u: skipped",
			s->pos, cur->thread);
		return 0;
	}
	/* A live owner that logs faster than the snapshot is written would
	 * overwrite a busy ring from its oldest end all the while it is read,
	 * and could leave nothing of it: the ring is copied first, newest
	 * segment first, in one go. Without the memory for that, the ring is
	 * read in place. */
	if (s->copy_cap < ref->size) {
		unsigned char *p = realloc(s->copy, ref->size);
		if (!p) {
			note_streamed(s, cur);
			return 1;
		}
		memset(p, 0, ref->size); /* its pages are faulted in now, not during the copy */
		s->copy = p;
		s->copy_cap = ref->size;
	}
	int more = ttlog__ring_read_copy(cur, s->copy);
	if (more)
		note_streamed(s, cur);
	return more;
}

/* ---- Metrics (layout 1.3) ------------------------------------------------ */

/* Bytes of slots of a metric of this type in every shard; 0: no type. */
static uint64_t metric_slot_bytes(uint8_t type)
{
	switch (type) {
	case TTLOG__METRIC_COUNTER: return 8;
	case TTLOG__METRIC_GAUGE: return 16;
	case TTLOG__METRIC_HISTOGRAM: return 8 * (uint64_t)TTLOG__HIST_SLOTS;
	default: return 0;
	}
}

/* Why a metric entry (a checked copy) cannot be used, or NULL. */
static const char *metric_entry_problem(const struct ttlog__shm_metric_entry *e, uint64_t shard_size)
{
	uint64_t slots = metric_slot_bytes(e->type);
	if (!slots)
		return "type is not 1 (counter), 2 (gauge) or 3 (histogram)";
	if (e->offset % 8 || !ttlog__shm_fits(e->offset, slots, shard_size))
		return "its slots are not an 8-byte aligned place within a shard";
	if (e->name_len == 0 || e->name_len > TTLOG__SHM_METRIC_NAME_MAX)
		return "name length is not 1..128";
	if (e->name[0] >= '0' && e->name[0] <= '9')
		return "name starts with a digit";
	for (uint32_t i = 0; i < e->name_len; i++) {
		char c = e->name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == ':'))
			return "name has a character other than [A-Za-z0-9_.:]";
	}
	if (e->file_len > TTLOG__SHM_METRIC_FILE_MAX)
		return "file length is more than 104";
	if (e->labels_len > TTLOG__SHM_METRIC_LABELS_MAX)
		return "labels length is more than 1024";
	if (e->labels_len && e->labels[e->labels_len - 1] != '\0')
		return "labels do not end with a NUL";
	for (uint32_t at = 0; at < e->labels_len;) {
		size_t n = strnlen(e->labels + at, e->labels_len - at);
		const char *eq = memchr(e->labels + at, '=', n);
		if (!eq || eq == e->labels + at)
			return "a label is not key=value";
		at += (uint32_t)n + 1;
	}
	return NULL;
}

/*
 * Reads the metrics part (section 6.6 of docs/SHM-FORMAT.md): its header
 * checked against the file, then each committed entry copied and checked
 * before any of it is used. A bad part leaves the snapshot without metrics,
 * a bad entry without that metric; either is named (problem()).
 */
static void collect_metrics(struct source *s)
{
	const struct ttlog__shm_header *h = &s->h;
	if (h->minor < 3 || !h->metrics_off)
		return; /* an earlier layout: no metrics in the mapping */
	struct ttlog__shm_metrics mp;
	const struct ttlog__shm_metrics *live = (const void *)(s->map + h->metrics_off);
	memcpy(&mp, live, sizeof mp);
	uint64_t table = h->metrics_off + sizeof mp;
	const char *why = NULL;
	if (mp.entry_size != TTLOG__SHM_METRIC_ENTRY_SIZE)
		why = "entry size is not 1280";
	else if (mp.entry_cap > TTLOG__SHM_METRICS_CAP_MAX ||
		 !ttlog__shm_fits(table, (uint64_t)mp.entry_cap * mp.entry_size, s->size))
		why = "the metric table is not within the file (or has more than 4096 entries)";
	else if (mp.shard_size == 0 || mp.shard_size % TTLOG__SHM_PAGE || mp.shard_size > TTLOG__SHM_SHARD_SIZE_MAX)
		why = "shard size is not a multiple of 4096 up to 64 MiB";
	else if (mp.shard_cap > TTLOG__SHM_MAX_TABLE || mp.shards_off % TTLOG__SHM_PAGE ||
		 mp.shards_off < h->header_size ||
		 !ttlog__shm_fits(mp.shards_off, (uint64_t)mp.shard_cap * mp.shard_size, s->size))
		why = "the shards are not within the file (or more than 16384)";
	if (why) {
		problem(s, "offset %llu: metrics part (%u entries of %u bytes, %u shards of %llu bytes at "
			   "%llu): %s",
			(unsigned long long)h->metrics_off, mp.entry_cap, mp.entry_size, mp.shard_cap,
			(unsigned long long)mp.shard_size, (unsigned long long)mp.shards_off, why);
		return;
	}
	uint32_t n = TTLOG__MIN(atomic_load_explicit(&live->entry_count, memory_order_relaxed), mp.entry_cap);
	size_t text = TTLOG__SHM_METRIC_NAME_MAX + 1 + TTLOG__SHM_METRIC_FILE_MAX + 1 +
		      TTLOG__SHM_METRIC_LABELS_MAX + 1;
	s->metrics = calloc(n ? n : 1, sizeof *s->metrics);
	s->metric_text = malloc((n ? n : 1) * text);
	if (!s->metrics || !s->metric_text) {
		problem(s, "out of memory for %u metrics", n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t at = table + (uint64_t)i * mp.entry_size;
		const struct ttlog__shm_metric_entry *le = (const void *)(s->map + at);
		/* LMM(mtab:B) pairs with LMM(mtab:A) in owner.c: a committed
		 * entry is whole. */
		if (!atomic_load_explicit(&le->commit, memory_order_acquire))
			continue; /* registered in the owner while it was read, or refused */
		struct ttlog__shm_metric_entry e;
		memcpy(&e, le, sizeof e); /* checked and used from this copy only */
		const char *bad = metric_entry_problem(&e, mp.shard_size);
		if (bad) {
			problem(s, "offset %llu: metric entry %u (type %u, slots at %u): %s",
				(unsigned long long)at, i, e.type, e.offset, bad);
			continue;
		}
		char *t = s->metric_text + (size_t)s->nmetrics * text;
		char *name = t, *file = name + e.name_len + 1, *labels = file + e.file_len + 1;
		memcpy(name, e.name, e.name_len);
		name[e.name_len] = '\0';
		memcpy(file, e.file, e.file_len);
		file[e.file_len] = '\0';
		memcpy(labels, e.labels, e.labels_len);
		labels[e.labels_len] = '\0';
		struct ttlog__metric_entry *m = &s->metrics[s->nmetrics++];
		m->name = name;
		m->file = file;
		m->labels = labels;
		m->labels_len = e.labels_len;
		m->line = e.line;
		m->type = e.type;
		m->offset = e.offset;
	}
	if (memchr(mp.service, '\0', sizeof mp.service))
		memcpy(s->service, mp.service, sizeof s->service);
	else
		problem(s, "offset %llu: metrics part: the service name is not terminated",
			(unsigned long long)h->metrics_off + 64);
	s->shards = s->map + mp.shards_off;
	s->shard_size = mp.shard_size;
	s->nshards = TTLOG__MIN(atomic_load_explicit(&live->shards_used, memory_order_relaxed), mp.shard_cap);
	s->shards_private = atomic_load_explicit(&live->shards_private, memory_order_relaxed);
}

/* Metric e summed over the mapping's shards, as the owner sums its own
 * (src/metrics/sum.c). */
static void src_metric_read(void *ctx, const struct ttlog__metric_entry *e, struct ttlog__metric_sum *out,
			    unsigned char *buckets)
{
	struct source *s = ctx;
	memset(out, 0, sizeof *out);
	if (buckets)
		memset(buckets, 0, 8 * (size_t)TTLOG__HIST_BUCKETS);
	for (uint32_t k = 0; k < s->nshards; k++)
		ttlog__metric_add_shard(s->shards + (size_t)k * s->shard_size, e, out, buckets, NULL);
	if (out->capped)
		problem(s, "metrics part: histogram '%s': its bucket counts add up to more than 64 bits; "
			   "the snapshot keeps them cut to fit",
			e->name);
}

static const struct ttlog__site_desc *src_site(void *ctx, uint32_t id)
{
	struct source *s = ctx;
	return id < s->site_limit && (s->valid[id / 8] & (1u << (id % 8))) ? &s->sites[id] : NULL;
}

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The owner's tick source read here, if this process can: the same boot,
 * and a clock it can read (the CPU's counter of this architecture, or
 * CLOCK_MONOTONIC). 0 if not. */
static int local_ticks(const struct source *s, uint64_t *ticks)
{
	if (!s->same_boot)
		return 0;
	if (s->h.clock_kind == TTLOG__FMT_CLOCK_MONOTONIC) {
		*ticks = (uint64_t)ns_of(CLOCK_MONOTONIC);
		return 1;
	}
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
	if (s->h.clock_kind == TTLOG__FMT_CLOCK_TSC) {
#else
	if (s->h.clock_kind == TTLOG__FMT_CLOCK_CNTVCT) {
#endif
		unsigned char b[8];
		TTLOG__STORE_TICKS(b);
		memcpy(ticks, b, 8);
		return 1;
	}
#endif
	return 0;
}

static void src_clock(void *ctx, int may_wait, struct ttlog__calibration *cal, int64_t *created,
		      uint64_t *now)
{
	struct source *s = ctx;
	(void)may_wait;
	cal->kind = s->h.clock_kind;
	cal->tick0 = s->h.tick0;
	cal->ns0 = s->h.ns0;
	*created = ns_of(CLOCK_REALTIME);
	*now = 0;
	uint64_t a, b = 0;
	if (s->h.clock_kind != TTLOG__FMT_CLOCK_FAKE && local_ticks(s, &a)) {
		/* Point 1 taken now, like the owner would: the best rate. */
		int64_t ns = ns_of(CLOCK_REALTIME);
		local_ticks(s, &b);
		cal->tick1 = a + (b - a) / 2;
		cal->ns1 = ns;
		*now = b;
	} else {
		/* The owner's latest point 1, read under its sequence count. */
		for (int attempt = 0; attempt < 100; attempt++) {
			/* LMM(cal:D) pairs with LMM(cal:B): an even count
			 * comes with the pair stored before it. */
			uint32_t q = atomic_load_explicit(&s->live->calib_seq, memory_order_acquire);
			cal->tick1 = atomic_load_explicit(&s->live->tick1, memory_order_relaxed);
			cal->ns1 = atomic_load_explicit(&s->live->ns1, memory_order_relaxed);
			/* LMM(cal:C) pairs with LMM(cal:A): a pair mixed from two
			 * updates shows up as a changed count. */
			atomic_thread_fence(memory_order_acquire);
			if (!(q & 1u) &&
			    atomic_load_explicit(&s->live->calib_seq, memory_order_relaxed) == q)
				break;
		}
		*now = cal->tick1;
	}
	if (cal->tick1 <= cal->tick0 || cal->ns1 <= cal->ns0) {
		/* No usable second point: assume one tick per nanosecond, which
		 * is exact for the monotonic and fake clocks. */
		cal->tick1 = cal->tick0 + 1000000000u;
		cal->ns1 = cal->ns0 + 1000000000LL;
	}
}

static uint64_t src_dropped(void *ctx)
{
	struct source *s = ctx;
	return atomic_load_explicit(&s->live->dropped_uninitialized, memory_order_relaxed) +
	       atomic_load_explicit(&s->live->dropped_no_ring, memory_order_relaxed);
}

static uint64_t src_dropped_sites(void *ctx)
{
	struct source *s = ctx;
	return atomic_load_explicit(&s->live->dropped_sites, memory_order_relaxed);
}

/* ---- Stacks taken from outside (ttlog snap --stacks) -------------------- */

/* The writer's forms of ext's stacks and modules, in *stacks and *mods
 * (calloc'd; the caller frees them). 0, or -1 when out of memory. */
static int convert_stacks(const struct ttlog__ext_stacks *ext, struct ttlog__stack **stacks,
			  struct ttlog__module_list **mods)
{
	*stacks = calloc(ext->nstacks ? ext->nstacks : 1, sizeof **stacks);
	*mods = calloc(1, sizeof **mods);
	if (!*stacks || !*mods)
		return -1;
	for (size_t i = 0; i < ext->nstacks; i++) {
		const struct ttlog__thread_stack *e = &ext->stacks[i];
		struct ttlog__stack *st = &(*stacks)[i];
		st->tid = e->tid;
		st->thread_index = 0xffffffffu; /* the writer finds the ring by tid */
		st->flags = e->flags & (TTLOG__FMT_STACK_PC_FIRST | TTLOG__FMT_STACK_TRUNCATED |
					TTLOG__FMT_STACK_FAULTED);
#if defined(__x86_64__)
		st->arch = TTLOG__FMT_ARCH_X86_64;
#elif defined(__aarch64__)
		st->arch = TTLOG__FMT_ARCH_AARCH64;
#endif
		st->nframes = e->frames ? e->nframes : 0;
		if (st->nframes > TTLOG__STACK_MAX_FRAMES) {
			st->nframes = TTLOG__STACK_MAX_FRAMES;
			st->flags |= TTLOG__FMT_STACK_TRUNCATED;
		}
		if (st->nframes)
			memcpy(st->frames, e->frames, st->nframes * sizeof *st->frames);
		st->origin = ext->origin;
		if (e->name)
			snprintf(st->name, sizeof st->name, "%s", e->name);
	}
	struct ttlog__module_list *l = *mods;
	for (size_t i = 0; i < ext->nmodules; i++) {
		const struct ttlog__thread_module *m = &ext->modules[i];
		size_t plen = m->path ? strlen(m->path) : 0;
		if (l->count == TTLOG__MAX_MODULES || plen > PATH_MAX ||
		    plen > TTLOG__MODULE_PATHS - l->paths_len || m->start > m->end ||
		    m->build_id_len > TTLOG__FMT_MOD_MAX_BUILD_ID) {
			l->missing++;
			continue;
		}
		struct ttlog__module *d = &l->mods[l->count++];
		d->bias = m->bias;
		d->start = m->start;
		d->end = m->end;
		d->build_id_len = m->build_id ? m->build_id_len : 0;
		if (d->build_id_len) /* memcpy from NULL is undefined even for 0 bytes */
			memcpy(d->build_id, m->build_id, d->build_id_len);
		d->path_off = l->paths_len;
		d->path_len = (uint32_t)plen;
		if (plen)
			memcpy(l->paths + l->paths_len, m->path, plen);
		l->paths_len += (uint32_t)plen;
	}
	return 0;
}

int ttlog__shm_snapshot(const char *map_path, const char *dir, const char *reason, char *path,
			size_t path_size, char *err, size_t err_size)
{
	return ttlog__shm_snapshot_stacks(map_path, dir, reason, NULL, path, path_size, err,
					  err_size);
}

static int snapshot_from(const char *map_path, const char *dir, const char *reason,
			 const struct ttlog__ext_stacks *ext, struct ttlog__trace_want *want,
			 char *path, size_t path_size, char *err, size_t err_size);

int ttlog__shm_snapshot_stacks(const char *map_path, const char *dir, const char *reason,
			       const struct ttlog__ext_stacks *ext, char *path, size_t path_size,
			       char *err, size_t err_size)
{
	return snapshot_from(map_path, dir, reason, ext, NULL, path, path_size, err, err_size);
}

int ttlog__shm_snapshot_trace(const char *map_path, const char *dir, const char *reason,
			      uint64_t trace_hi, uint64_t trace_lo, uint64_t *kept_events,
			      uint64_t *left_events, char *path, size_t path_size, char *err,
			      size_t err_size)
{
	struct ttlog__trace_want want;
	memset(&want, 0, sizeof want);
	want.trace_hi = trace_hi;
	want.trace_lo = trace_lo;
	int rc = snapshot_from(map_path, dir, reason, NULL, &want, path, path_size, err, err_size);
	if (kept_events)
		*kept_events = want.kept_events;
	if (left_events)
		*left_events = want.left_events;
	return rc;
}

static int snapshot_from(const char *map_path, const char *dir, const char *reason,
			 const struct ttlog__ext_stacks *ext, struct ttlog__trace_want *want,
			 char *path, size_t path_size, char *err, size_t err_size)
{
	struct ttlog__stack *stacks = NULL;
	struct ttlog__module_list *mods = NULL;
	struct source *s = calloc(1, sizeof *s);
	struct stat sb;
	int rc, guarded = 0;
	if (err && err_size)
		err[0] = '\0';
	if (path && path_size)
		path[0] = '\0';
	if (!s) {
		ttlog__shm_say(err, err_size, "%s: out of memory", map_path);
		return TTLOG_E_NOMEM;
	}
	s->path = map_path;
	int fd = ttlog__shm_open_mapping(map_path, &s->h, &sb, &rc, err, err_size);
	if (fd < 0)
		goto out;
	s->size = (uint64_t)sb.st_size;
	/* Populated: a busy ring is copied faster without a page fault per
	 * page; but not the metric shards of layout 1.3 (address space mostly:
	 * a read of a page the owner never backed would back it). */
	uint64_t populate = s->size;
	if (s->h.minor >= 3 && s->h.metrics_off)
		populate = TTLOG__MIN(populate, s->h.arena_off + s->h.arena_size);
	void *map = mmap(NULL, (size_t)s->size, PROT_READ,
			 MAP_SHARED | (populate == s->size ? MAP_POPULATE : 0), fd, 0);
	if (map != MAP_FAILED && populate < s->size)
		madvise(map, (size_t)populate, MADV_POPULATE_READ); /* kernels before 5.14: not populated */
	if (map == MAP_FAILED) {
		ttlog__shm_say(err, err_size, "%s: cannot map %llu bytes: %s", map_path,
		    (unsigned long long)s->size, strerror(errno));
		rc = TTLOG_E_NOMEM;
		goto out;
	}
	s->map = map;
	s->live = map;
	/* From here until the end, every read of the mapping is guarded. */
	guarded = guard_install(map, (size_t)s->size, fd) == 0;
	if (ttlog__shm_read_test_hook)
		ttlog__shm_read_test_hook(map_path);
	/* The header again, from the mapping this time, checked again: the
	 * file may have changed since it was read. */
	memcpy(&s->h, s->map, sizeof s->h);
	rc = ttlog__shm_check_header(map_path, &s->h, s->size, err, err_size);
	if (rc != TTLOG_OK)
		goto out;

	struct ttlog__shm_info info;
	ttlog__shm_fill_info(&s->h, &sb, &info);
	s->alive = ttlog__shm_owner_alive(&info);
	char boot[TTLOG__SHM_BOOT_ID_MAX];
	s->same_boot = s->h.boot_id[0] && ttlog__shm_boot_id(boot, sizeof boot) == 0 &&
		       strcmp(boot, s->h.boot_id) == 0;
	collect_rings(s);
	collect_sites(s);
	collect_metrics(s);
	/* A live owner's snapshot keeps the whole rings, like any snapshot;
	 * a dead one's that was streaming uses the stream's places for the
	 * overwritten counts (note_streamed). */
	if (!s->alive && s->h.minor >= 1 && s->h.stream_off &&
	    atomic_load_explicit(&s->live->stream_state, memory_order_relaxed) == TTLOG__SHM_STREAM_ON)
		s->stream = (const struct ttlog__shm_stream_entry *)(s->map + s->h.stream_off);

	const char *out_dir = dir && *dir ? dir : s->h.snapshot_dir;
	if (out_dir[0] != '/') {
		ttlog__shm_say(err, err_size, "%s: offset 5120: snapshot directory \"%s\" is not an absolute path; "
				   "give a directory", map_path, out_dir);
		rc = TTLOG_E_DIR;
		goto out;
	}
	if (ext && ext->nstacks && convert_stacks(ext, &stacks, &mods) != 0) {
		ttlog__shm_say(err, err_size, "%s: out of memory", map_path);
		rc = TTLOG_E_NOMEM;
		goto out;
	}
	const struct ttlog__snapshot_source src = {
		.stacks = stacks,
		.nstacks = stacks ? (uint32_t)ext->nstacks : 0,
		.modules = mods,
		.ctx = s,
		.ring_next = src_ring_next,
		.read_begin = src_read_begin,
		.site = src_site,
		.clock = src_clock,
		.dropped = src_dropped,
		.dropped_sites = src_dropped_sites,
		.pid = s->h.pid,
		/* A dead owner's pid may belong to someone else by now, and
		 * an exec'd one's threads are another program's. */
		.names_pid = s->alive ? s->h.pid : -1,
		.executable = s->h.executable,
		.hostname = s->h.hostname,
		.service = s->service[0] ? s->service : NULL,
		.dir = out_dir,
		/* The window counts back from now, which for a process that is
		 * gone is no moment of its life: keep everything. */
		.window_ns = s->alive ? s->h.window_ns : 0,
		.in_process = 0,
		.nmetrics = s->nmetrics,
		.metrics = s->metrics,
		.metric_read = src_metric_read,
		.metric_shards_private = s->shards_private,
		.trace = want,
		/* `ttlog snap --trace ID --all` puts the files of every
		 * process together into one bundle. */
		.bundle = want != NULL,
	};
	/* The owner's redaction rules (layout 1.2) apply, with this
	 * process's own (ttlog__snapshot_redact: the tool's --redact). */
	int swapped = 0;
	if (s->h.minor >= 2 && s->h.redact_len) {
		char msg[600];
		int cut = s->h.redact_len == TTLOG__SHM_REDACT_CUT;
		if (!cut && (s->h.redact_len >= TTLOG__SHM_REDACT_MAX ||
			     s->h.redact[s->h.redact_len] != '\0')) {
			ttlog__shm_say(err, err_size,
			    "%s: not written: offset 560: expected a redaction rules length below %u "
			    "that ends the text, found %u",
			    map_path, TTLOG__SHM_REDACT_MAX, (unsigned)s->h.redact_len);
			rc = TTLOG_E_CORRUPT;
			goto out;
		}
		rc = ttlog__snapshot_redact_owner(cut ? NULL : s->h.redact, cut, msg, sizeof msg);
		if (rc != TTLOG_OK) {
			ttlog__shm_say(err, err_size, "%s: not written: %s", map_path, msg);
			goto out;
		}
		swapped = !cut;
	}
	/* The reason says that the snapshot is to be read with the stream's
	 * segments, which hold some of its events too (the writer asks for
	 * the reason before reading any ring). */
	char why[128];
	snprintf(why, sizeof why, "%s%s", reason ? reason : "recovered",
		 s->stream ? "-after-stream" : "");
	rc = ttlog__snapshot_write_source(&src, why, path, path_size);
	if (swapped)
		ttlog__snapshot_redact_owner(NULL, 0, NULL, 0);
	if (rc == TTLOG_E_CONFIG) {
		ttlog__shm_say(err, err_size,
		    "%s: not written: TTLOG_ENCRYPT_KEY=%s is not a readable ttlog public key file "
		    "(make one with 'ttlog keygen')",
		    map_path, getenv("TTLOG_ENCRYPT_KEY"));
	} else if (rc != TTLOG_OK) {
		ttlog__shm_say(err, err_size, "%s: writing the snapshot into %s: %s", map_path, out_dir,
		    ttlog_strerror(rc));
	} else if (s->problem[0]) {
		/* Written, from everything that was valid. */
		ttlog__shm_say(err, err_size, "%s", s->problem);
		rc = TTLOG_E_CORRUPT;
	}
out:;
	uint64_t shrank_to, zero_from;
	if (guarded && guard_remove(&shrank_to, &zero_from)) {
		/* Whatever else was found, this is why: what was read past the
		 * new end (zeros) is bound to look damaged. */
		ttlog__shm_say(err, err_size,
		    "%s: the mapping shrank to %llu bytes while it was read (it had %llu): offset "
		    "%llu on read as zeros",
		    map_path, (unsigned long long)shrank_to, (unsigned long long)s->size,
		    (unsigned long long)zero_from);
		rc = TTLOG_E_TRUNCATED;
	}
	if (fd >= 0)
		close(fd);
	if (s->map)
		munmap((void *)s->map, (size_t)s->size);
	free(s->sites);
	free(s->rings);
	free(s->claimed);
	free(s->copy);
	free(s->metrics);
	free(s->metric_text);
	free(s);
	free(stacks);
	free(mods);
	return rc;
}
