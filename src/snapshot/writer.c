/* SPDX-License-Identifier: MIT */
/*
 * writer.c - the snapshot writer: rings in, one checksummed file out.
 *
 * Everything in this file runs in signal context (it is the crash path as
 * well as the on-demand path): no malloc, no stdio, no locks. Memory comes
 * from two workspaces reserved at init, one for on-demand snapshots and one
 * kept for the crash handler, each guarded by a busy flag taken with a
 * compare-and-swap (a second request gets TTLOG_E_BUSY, never waits). The
 * flag is a lock that is never waited for: write_from() takes it with an
 * acquire CAS, LMM(ws:B), and gives it back with a release store, LMM(ws:A),
 * so each writer sees the workspace as the previous one left it.
 *
 * The file is written in one pass, in the order docs/FORMAT.md describes:
 *   HEAD, then per thread: [SITE] EVTS [SITE] EVTS ... THRD, then
 *   [SITE] SMPL (sampling, if any site has a rule), CRSH, STCK, MODS, END
 * The chunks, the call-site dictionary and the event blocks go through the
 * emitter (src/snapshot/emit.c), which the stream (src/stream/) shares:
 * each EVTS block is preceded by a SITE chunk holding the call sites that
 * block uses and no earlier chunk defined, so a file cut anywhere still
 * decodes up to its last whole chunk. Records are copied from the rings as
 * they are (the ring record layout is the file's record layout).

 * What is written comes from a source (struct ttlog__snapshot_source in
 * writer.h): this process's rings, sites and settings for ttlog_snapshot()
 * and the crash handler, or another process's shared-memory mapping for
 * src/shm/map_snapshot.c. The in-process source calls straight into the library.
 *
 * An encrypted file (TTLOG_ENCRYPT_KEY; FORMAT.md 21) is the same bytes
 * through the workspace's encrypting sink (src/snapshot/seal.c): the
 * container header right after the temporary is created, the final
 * message after END.
 *
 * The file appears atomically. Where the file system allows, it is written
 * as an unnamed file (O_TMPFILE, mode 0600), fsync'd, and given its final
 * name with linkat() through /proc/self/fd (which fails rather than replace
 * an existing file): it has no name another user could plant or guess, and
 * a process killed while writing leaves nothing behind. Elsewhere it is
 * written as .ttlog-<pid>-<tid>-<16 hex digits>.tmp (O_EXCL, O_NOFOLLOW,
 * mode 0600), whose digits come from random bytes reserved at init (no
 * getrandom() in signal context), hard-linked to its final name, and the
 * temporary unlinked.
 */
#define _GNU_SOURCE
#include "snapshot/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/crc32c.h"
#include "common/internal.h"
#include "common/live.h"
#include "common/publish.h"
#include "common/sigsafe.h"
#include "common/state.h"
#include "format/format.h"
#include "proc/modules.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "sites/desc.h"
#include "sites/fields.h"
#include "sites/sampling.h"
#include "sites/sites.h"
#include "snapshot/compression.h"
#include "snapshot/emit.h"
#include "snapshot/metrics_chunk.h"
#include "snapshot/offload.h"
#include "snapshot/redact.h"
#include "snapshot/retention.h"
#include "snapshot/seal.h"
#include "snapshot/trace_filter.h"
#include "thread/thread.h"

#define STAGE_CAP (TTLOG__FMT_MAX_BLOCK_RAW + 64u)
#define SMALL_BUF (PATH_MAX + 2048u)
#define OUT_BUF (64u << 10)

struct workspace {
	_Atomic int busy;
	_Atomic uint32_t busy_tid;      /* the thread holding busy (0: none) */
	_Atomic int tmp_named;          /* tmp_path names a temporary this use created */
	int unnamed;                    /* fd is an O_TMPFILE file: no tmp_path */
	const struct ttlog__snapshot_source *src; /* what this snapshot is written from */
	struct ttlog__trace_filter *trace;       /* src->trace's filter, or NULL */
	int fd;                         /* the temporary file */
	/* totals for END beside the emitter's */
	uint64_t overwritten, torn, torn_bytes;
	uint32_t threads;
	unsigned char stage[STAGE_CAP];
	unsigned char small[SMALL_BUF];
	unsigned char out[OUT_BUF];
	char tmp_path[TTLOG__DIR_MAX + 96];
	char final_path[TTLOG__DIR_MAX + 160];
	/* The chunks, the dictionary and the blocks (em.file.failed: a write
	 * failed, give up and remove the file). */
	struct ttlog__emit em;
	struct ttlog__seal seal;        /* this workspace's encryption state */
	struct ttlog__pack pack;        /* codecs 2 and 3 */
	unsigned char zbuf[TTLOG__EMIT_ZBUF_SIZE]; /* codec 3's output */
	void *zstd;                     /* codec 3: the context in `tail` */
	/* LZ4_sizeofState() bytes at lz4_off, then the zstd context's memory
	 * at zstd_off (compression.h). */
	_Alignas(64) unsigned char tail[];
};

static struct workspace *workspaces[2];
/* Live inspection's own, mapped at its first use (_Atomic: a live read in
 * one thread may race a first one in another; the mapping is published with
 * release, LMM(live:A), and read with acquire, LMM(live:B)). */
static struct workspace *_Atomic live_ws;
/* The last failure of each workspace: the TTLOG_E_* code and the errno of
 * the system call that failed (0 if none did), for the crash handler's
 * message. Written by the workspace's owner only. */
static int last_rc[2], last_errno[2];
static size_t workspace_size;
static size_t lz4_off, zstd_off, zstd_size; /* in a workspace's tail */
/* The codec of snapshots (TTLOG_COMPRESSION); set at init, before any
 * snapshot is written. */
static struct ttlog__compression compression = {TTLOG__FMT_CODEC_LZ4, 0};
static _Atomic uint32_t tmp_counter;
/* The random parts of temporary names: bytes from getrandom() at init
 * (and in a forked child), mixed with the counter in signal context. */
#define TMP_RANDOM 64
static uint64_t tmp_random[TMP_RANDOM];
/* O_TMPFILE files can be linked: /proc/self/fd is there (checked at init). */
static int tmp_unnamed_ok;
/* Set while a crash is being written (and after it, unless the program's
 * own handler may survive it): on-demand snapshots of this process are
 * refused, so that none starts a temporary the dying process would leave
 * behind. LMM(refuse:A/B). */
static _Atomic int refuse_normal;

static void unmap_workspaces(void)
{
	for (int i = 0; i < 2; i++) {
		if (workspaces[i])
			munmap(workspaces[i], workspace_size);
		workspaces[i] = NULL;
	}
}

/* Normal context: getrandom() may block until the pool is ready (early
 * boot); a short read leaves the clock and the pid mixed in instead. */
static void seed_temporary_names(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t salt = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
			((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&salt;
	size_t got = 0;
	while (got < sizeof tmp_random) {
		ssize_t n = getrandom((unsigned char *)tmp_random + got, sizeof tmp_random - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (size_t i = 0; i < TMP_RANDOM; i++)
		tmp_random[i] ^= salt * (2 * i + 1);
	tmp_unnamed_ok = access("/proc/self/fd", X_OK) == 0;
}

int ttlog__snapshot_init(const struct ttlog__compression *comp)
{
	seed_temporary_names();
	if (comp)
		compression = *comp;
	else if (workspaces[0])
		return TTLOG_OK;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t need_zstd = ttlog__zstd_reserve_size(&compression);
	if (workspaces[0] && need_zstd > zstd_size)
		unmap_workspaces(); /* too small for this level: new ones */
	if (!workspaces[0]) {
		lz4_off = 0;
		zstd_off = ((size_t)LZ4_sizeofState() + 63) & ~(size_t)63;
		zstd_size = need_zstd;
		workspace_size = (sizeof(struct workspace) + zstd_off + zstd_size + page - 1) & ~(page - 1);
		for (int i = 0; i < 2; i++) {
			void *m = mmap(NULL, workspace_size, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (m == MAP_FAILED) {
				unmap_workspaces();
				return TTLOG_E_NOMEM;
			}
			workspaces[i] = m;
			workspaces[i]->fd = -1;
		}
	}
	for (int i = 0; i < 2; i++) {
		struct workspace *ws = workspaces[i];
		ws->zstd = NULL;
		if (compression.codec == TTLOG__FMT_CODEC_ZSTD) {
			ws->zstd = ttlog__zstd_prepare(ws->tail + zstd_off, zstd_size, &compression);
			if (!ws->zstd)
				return TTLOG_E_CONFIG;
		}
	}
	return TTLOG_OK;
}

void ttlog__snapshot_seal_seed(void)
{
	for (int i = 0; i < 2; i++)
		if (workspaces[i] && ttlog__seal_on())
			ttlog__seal_seed(&workspaces[i]->seal);
}

/* Relaxed: the child has one thread. Its key chains are seeded anew: the
 * parent goes on with the ones it has, and two files must never share a
 * key (randombytes_buf() in the child after fork(), normal context). */
void ttlog__snapshot_after_fork(void)
{
	ttlog__offload_after_fork();
	ttlog__snapshot_seal_seed();
	seed_temporary_names(); /* the parent's names are not the child's to know */
	for (int i = 0; i < 2; i++)
		if (workspaces[i]) {
			atomic_store_explicit(&workspaces[i]->busy, 0, memory_order_relaxed);
			atomic_store_explicit(&workspaces[i]->busy_tid, 0, memory_order_relaxed);
			atomic_store_explicit(&workspaces[i]->tmp_named, 0, memory_order_relaxed);
		}
	atomic_store_explicit(&refuse_normal, 0, memory_order_relaxed);
	struct workspace *live = atomic_load_explicit(&live_ws, memory_order_relaxed);
	if (live) /* a live read of another thread of the parent's is not the child's */
		atomic_store_explicit(&live->busy, 0, memory_order_relaxed);
}

/* Runs in signal context. */
void ttlog__snapshot_refuse(int on)
{
	/* LMM(refuse:A) pairs with LMM(refuse:B) in write_from(): seq_cst,
	 * a store then a load on each side (ttlog__snapshot_settle() loads
	 * busy after this store; write_from() loads the flag after taking
	 * busy), so either the writer sees the flag or the crash sees busy. */
	atomic_store_explicit(&refuse_normal, on, memory_order_seq_cst);
}

/* Runs in signal context: atomic loads, nanosleep, unlink. */
void ttlog__snapshot_settle(uint32_t tid, unsigned max_wait_ms)
{
	struct workspace *ws = workspaces[TTLOG__WS_NORMAL];
	if (!ws)
		return;
	struct timespec step = {0, 2 * 1000 * 1000};
	for (unsigned waited = 0;; waited += 2) {
		/* LMM(refuse:A) (seq_cst): see ttlog__snapshot_refuse(). */
		if (!atomic_load_explicit(&ws->busy, memory_order_seq_cst))
			return; /* finished (or failed, and removed its temporary) */
		if (atomic_load_explicit(&ws->busy_tid, memory_order_relaxed) == tid ||
		    waited >= max_wait_ms)
			break; /* interrupted by this very crash, or stuck */
		nanosleep(&step, NULL);
	}
	/* LMM(tmp:B) pairs with LMM(tmp:A): the name is whole. The writer may
	 * still run; its link() then fails, and it removes nothing else. */
	if (atomic_load_explicit(&ws->tmp_named, memory_order_acquire))
		unlink(ws->tmp_path);
}

/* ---- Output, through the emitter (src/snapshot/emit.c) ----------------- */

/* A chunk without flags. Runs in signal context. */
static void emit_chunk(struct workspace *ws, uint32_t type, const void *payload, size_t len)
{
	ttlog__emit_chunk(&ws->em, type, 0, payload, len);
}

/* Runs in signal context. */
static void put_string(unsigned char *buf, size_t *len, const char *s, size_t max)
{
	ttlog__emit_put_string(buf, len, s, max);
}

/* The description of a site, for the emitter: the source's. Runs in
 * signal context. */
static const struct ttlog__site_desc *source_site(void *ctx, uint32_t id)
{
	const struct ttlog__snapshot_source *src = ctx;
	return src->site(src->ctx, id);
}

/* See writer.h. Runs in signal context. */
void ttlog__live_thread_name(int pid, uint32_t tid, char *out, size_t cap)
{
	char path[64];
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, path, sizeof path);
	if (pid > 0) {
		ttlog__sb_str(&sb, "/proc/");
		ttlog__sb_u64(&sb, (uint64_t)pid, 0);
		ttlog__sb_str(&sb, "/task/");
	} else {
		ttlog__sb_str(&sb, "/proc/self/task/");
	}
	ttlog__sb_u64(&sb, tid, 0);
	ttlog__sb_str(&sb, "/comm");
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n;
	do {
		n = read(fd, out, cap - 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return;
	out[n] = '\0';
	if (out[n - 1] == '\n')
		out[n - 1] = '\0';
}

/* Whether a record outside the snapshot window is kept all the same: a
 * context push or pop, without which the window's events would lose their
 * contexts. Runs in signal context. */
static int keeps_state(struct workspace *ws, uint32_t id)
{
	const struct ttlog__site_desc *d = ws->src->site(ws->src->ctx, id);
	return d && d->kind != TTLOG__KIND_LOG;
}

/* One ring: its records as EVTS blocks, then its THRD chunk. Runs in
 * signal context. */
static void write_thread(struct workspace *ws, struct ttlog__ring *r, uint64_t cutoff,
			 const struct ttlog__crash_info *crash)
{
	struct ttlog__ring_cursor cur;
	if (!ws->src->read_begin(ws->src->ctx, r, &cur))
		return;
	/* The owner's tid and kept name, loaded by begin: what the records
	 * read are confirmed to be (cur.confirmed) confirms them too. */
	uint32_t tid = cur.tid;
	/* LMM(state:B) pairs with LMM(exit:A) (src/thread/thread.c): the name
	 * an exited thread left is whole. */
	uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
	char name[TTLOG__THREAD_NAME_MAX + 1];
	name[0] = '\0';
	if (state == TTLOG__RING_LIVE && ws->src->names_pid >= 0)
		ttlog__live_thread_name(ws->src->names_pid, tid, name, sizeof name);
	if (!name[0]) {
		/* published by EXITED; for a ring of a process that is gone, the
		 * name its thread had when it took the ring */
		memcpy(name, cur.name, TTLOG__THREAD_NAME_MAX);
		name[TTLOG__THREAD_NAME_MAX] = '\0';
	}

	ttlog__emit_thread(&ws->em, cur.thread, tid);
	if (ws->trace)
		ttlog__trace_filter_thread(ws->trace);
	uint64_t unknown_before = ws->em.unknown;
	uint64_t events_before = ws->em.events;
	size_t n;
	while ((n = ttlog__ring_read(&cur, ws->stage, STAGE_CAP)) > 0) {
		for (size_t off = 0; off < n;) {
			uint32_t size = ttlog__get_u32(ws->stage + off);
			uint32_t id = ttlog__get_u32(ws->stage + off + 4);
			if (id != 0) {
				uint64_t ticks = ttlog__get_u64(ws->stage + off + 8);
				if (!(ticks >= cutoff || keeps_state(ws, id)))
					;
				else if (ws->trace) /* not in signal context: see writer.h */
					ttlog__trace_filter_record(ws->trace, &ws->em, ws->stage + off,
								   size, id, ticks);
				else
					ttlog__emit_record(&ws->em, ws->stage + off, size, id, ticks);
			}
			off += size;
		}
	}
	ttlog__emit_flush_block(&ws->em);
	/* Handed to a new thread while it was read: what was written is the
	 * old owner's, and the THRD is too (its thread had exited: a ring
	 * changes hands only then), with the rest of its range counted as
	 * torn. If not one piece was confirmed, nothing of it was written:
	 * the ring is left out, as if it had changed hands before the
	 * snapshot. Damaged (bytes that are not records: a mapping another
	 * process wrote): written with what it lost counted as torn. */
	if (cur.aborted && !cur.damaged && !(cur.handed_over && cur.confirmed))
		return;
	if (cur.handed_over)
		state = TTLOG__RING_EXITED;

	uint64_t overwritten = ttlog__ring_read_overwritten(&cur);
	cur.torn += ws->em.unknown - unknown_before;
	size_t len = TTLOG__FMT_THRD_FIXED_SIZE;
	unsigned char *p = ws->small;
	uint32_t flags = 0;
	if (state == TTLOG__RING_EXITED)
		flags |= TTLOG__FMT_THREAD_EXITED;
	if (crash && crash->tid == tid)
		flags |= TTLOG__FMT_THREAD_CRASHED;
	memset(p, 0, TTLOG__FMT_THRD_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_THRD_INDEX_OFF, cur.thread);
	ttlog__put_u32(p + TTLOG__FMT_THRD_TID_OFF, tid);
	ttlog__put_u32(p + TTLOG__FMT_THRD_FLAGS_OFF, flags);
	ttlog__put_u64(p + TTLOG__FMT_THRD_EVENTS_OFF, ws->em.events - events_before);
	ttlog__put_u64(p + TTLOG__FMT_THRD_OVERWRITTEN_OFF, overwritten);
	ttlog__put_u64(p + TTLOG__FMT_THRD_TORN_OFF, cur.torn);
	ttlog__put_u64(p + TTLOG__FMT_THRD_TORN_BYTES_OFF, cur.torn_bytes);
	put_string(p, &len, name, TTLOG__THREAD_NAME_MAX);
	emit_chunk(ws, TTLOG__FMT_CHUNK_THRD, p, len);
	ws->threads++;
	ws->overwritten += overwritten;
	ws->torn += cur.torn;
	ws->torn_bytes += cur.torn_bytes;
}

/* Emits the SMPL entries gathered in buf (len bytes, count entries), after
 * the SITE entries they refer to. Runs in signal context. */
static void flush_sampling(struct workspace *ws, unsigned char *buf, size_t len, uint32_t count)
{
	ttlog__emit_flush_sites(&ws->em);
	ttlog__put_u32(buf, count);
	emit_chunk(ws, TTLOG__FMT_CHUNK_SMPL, buf, len);
}

/*
 * SMPL chunks: the rule and counts of every site that has a sampling rule
 * or had one, in increasing id order. A site with no record in the file
 * gets its SITE entry here, so that the reader can name it. The entries
 * are gathered in the block buffer, which every thread's last flush_block
 * left empty. Runs in signal context.
 */
static void write_sampling(struct workspace *ws)
{
	unsigned char *buf = ws->em.block;
	size_t len = 4;
	uint32_t count = 0;
	uint32_t limit = ttlog__site_id_limit();
	for (uint32_t id = 1; id < limit && !ws->em.file.failed; id++) {
		struct ttlog__sampling_counts c;
		if (!ttlog__sampling_get(id, &c))
			continue;
		if (!ttlog__emit_has_site(&ws->em, id)) {
			const struct ttlog__site_desc *d = ws->src->site(ws->src->ctx, id);
			if (!d)
				continue; /* an id whose registration lost its race */
			ttlog__emit_add_site(&ws->em, id, d);
		}
		unsigned char *e = buf + len;
		ttlog__put_u32(e + TTLOG__FMT_SMPL_ID_OFF, id);
		ttlog__put_u32(e + TTLOG__FMT_SMPL_ONE_IN_OFF, c.keep_one_in);
		ttlog__put_u32(e + TTLOG__FMT_SMPL_PER_SECOND_OFF, c.max_per_second);
		ttlog__put_u32(e + TTLOG__FMT_SMPL_RESERVED_OFF, 0);
		ttlog__put_u64(e + TTLOG__FMT_SMPL_KEPT_OFF, c.kept);
		ttlog__put_u64(e + TTLOG__FMT_SMPL_SAMPLED_OFF, c.dropped_sampled);
		ttlog__put_u64(e + TTLOG__FMT_SMPL_RATE_OFF, c.dropped_rate_limited);
		len += TTLOG__FMT_SMPL_ENTRY_SIZE;
		count++;
		if (len + TTLOG__FMT_SMPL_ENTRY_SIZE > sizeof ws->em.block) {
			flush_sampling(ws, buf, len, count);
			len = 4;
			count = 0;
		}
	}
	if (count)
		flush_sampling(ws, buf, len, count);
}

/* HEAD: the process, the clock, the reason. Runs in signal context. */
static void write_head(struct workspace *ws, const char *reason, int crashed,
		       const struct ttlog__calibration *cal, int64_t created)
{
	unsigned char *p = ws->small;
	memset(p, 0, TTLOG__FMT_HEAD_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_PID_OFF, (uint32_t)ws->src->pid);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF,
		       (crashed ? TTLOG__FMT_HEAD_FLAG_CRASH : 0) |
			       (ws->src->trigger_rule ? TTLOG__FMT_HEAD_FLAG_TRIGGER : 0));
	ttlog__put_u64(p + TTLOG__FMT_HEAD_CREATED_OFF, (uint64_t)created);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_TICK0_OFF, cal->tick0);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_NS0_OFF, (uint64_t)cal->ns0);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_TICK1_OFF, cal->tick1);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_NS1_OFF, (uint64_t)cal->ns1);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_CLOCK_OFF, cal->kind);
	ttlog__put_u32(p + TTLOG__FMT_HEAD_TTLOG_VER_OFF, TTLOG_VERSION_NUMBER);
	ttlog__put_u64(p + TTLOG__FMT_HEAD_WINDOW_OFF, ws->src->window_ns);
	size_t len = TTLOG__FMT_HEAD_FIXED_SIZE;
	put_string(p, &len, ws->src->executable, PATH_MAX);
	put_string(p, &len, ws->src->hostname, 255);
	put_string(p, &len, reason, TTLOG__REASON_MAX);
	/* Revision 5: the service; segment and stream start are 0 in a
	 * snapshot. */
	put_string(p, &len, ws->src->service, TTLOG__SERVICE_MAX);
	ttlog__put_u64(p + len, 0);
	ttlog__put_u64(p + len + TTLOG__FMT_HEAD_SEGMENT_SIZE, 0);
	len += TTLOG__FMT_HEAD_SEGMENT_SIZE + TTLOG__FMT_HEAD_STREAM_START_SIZE;
	/* Revision 14, a trigger's snapshot only (flag TRIGGER): when the
	 * rule fired, and the rule. Other files end HEAD above, as in
	 * revision 13. */
	if (ws->src->trigger_rule) {
		ttlog__put_u64(p + len, (uint64_t)ws->src->trigger_ns);
		len += TTLOG__FMT_HEAD_TRIGGER_NS_SIZE;
		put_string(p, &len, ws->src->trigger_rule, TTLOG__FMT_HEAD_TRIGGER_MAX);
	}
	emit_chunk(ws, TTLOG__FMT_CHUNK_HEAD, p, len);
}

/* CRSH: the signal and the thread it hit. Runs in signal context. */
static void write_crash(struct workspace *ws, const struct ttlog__crash_info *c)
{
	unsigned char *p = ws->small;
	struct ttlog__ring *self = ttlog__ring_self();
	ttlog__put_u32(p + TTLOG__FMT_CRSH_SIGNO_OFF, (uint32_t)c->signo);
	ttlog__put_u32(p + TTLOG__FMT_CRSH_CODE_OFF, (uint32_t)c->code);
	ttlog__put_u64(p + TTLOG__FMT_CRSH_ADDR_OFF, c->address);
	ttlog__put_u32(p + TTLOG__FMT_CRSH_TID_OFF, c->tid);
	ttlog__put_u32(p + TTLOG__FMT_CRSH_THREAD_OFF, self ? self->index : 0xffffffffu);
	size_t len = TTLOG__FMT_CRSH_FIXED_SIZE;
	put_string(p, &len, c->signal_name, 32);
	emit_chunk(ws, TTLOG__FMT_CHUNK_CRSH, p, len);
}

/* STCK: one thread's stack, in the small buffer. Runs in signal context. */
static void write_stack(struct workspace *ws, const struct ttlog__stack *st)
{
	_Static_assert(TTLOG__FMT_STCK_FIXED_SIZE + TTLOG__STACK_MAX_FRAMES * TTLOG__FMT_STCK_FRAME_SIZE +
			       TTLOG__STACK_MAX_REGS * TTLOG__FMT_STCK_REG_SIZE + 8 +
				       TTLOG__FMT_STCK_NAME_MAX <= SMALL_BUF,
		       "a stack fits the small buffer");
	unsigned char *p = ws->small;
	uint32_t nframes = TTLOG__MIN(st->nframes, TTLOG__STACK_MAX_FRAMES);
	uint32_t nregs = TTLOG__MIN(st->nregs, TTLOG__STACK_MAX_REGS);
	uint32_t index = st->thread_index;
	/* A stack taken from outside the thread names it by tid only. */
	for (struct ttlog__ring *r = index == 0xffffffffu ? ws->src->ring_next(ws->src->ctx, NULL) : NULL;
	     r; r = ws->src->ring_next(ws->src->ctx, r)) {
		if (atomic_load_explicit(&r->tid, memory_order_relaxed) == st->tid) {
			index = r->index;
			break;
		}
	}
	ttlog__put_u32(p + TTLOG__FMT_STCK_TID_OFF, st->tid);
	ttlog__put_u32(p + TTLOG__FMT_STCK_THREAD_OFF, index);
	ttlog__put_u32(p + TTLOG__FMT_STCK_FLAGS_OFF, st->flags);
	ttlog__put_u32(p + TTLOG__FMT_STCK_ARCH_OFF, st->arch);
	ttlog__put_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF, nframes);
	ttlog__put_u32(p + TTLOG__FMT_STCK_NREGS_OFF, nregs);
	size_t len = TTLOG__FMT_STCK_FIXED_SIZE;
	for (uint32_t i = 0; i < nframes; i++, len += TTLOG__FMT_STCK_FRAME_SIZE)
		ttlog__put_u64(p + len, st->frames[i]);
	for (uint32_t i = 0; i < nregs; i++, len += TTLOG__FMT_STCK_REG_SIZE) {
		ttlog__put_u32(p + len + TTLOG__FMT_STCK_REG_ID_OFF, st->reg_ids[i]);
		ttlog__put_u32(p + len + TTLOG__FMT_STCK_REG_RESERVED_OFF, 0);
		ttlog__put_u64(p + len + TTLOG__FMT_STCK_REG_VALUE_OFF, st->reg_values[i]);
	}
	if (st->origin != TTLOG__FMT_STACK_ORIGIN_SELF) { /* revision 13 */
		uint32_t n = 0;
		while (n < TTLOG__FMT_STCK_NAME_MAX && st->name[n])
			n++;
		ttlog__put_u32(p + len, st->origin);
		ttlog__put_u32(p + len + 4, n);
		memcpy(p + len + 8, st->name, n);
		len += 8 + n;
	}
	emit_chunk(ws, TTLOG__FMT_CHUNK_STCK, p, len);
}

/*
 * MODS: the module list l (src/proc/modules.c: the one the crash handler
 * brought up to date, or the last refresh's), in as many chunks as it
 * takes, gathered in the block buffer (free once the threads are written).
 * The first chunk carries the count of modules the list does not hold (no
 * room, or unreadable at crash time). Runs in signal context.
 */
static void write_modules(struct workspace *ws, const struct ttlog__module_list *l)
{
	/* An entry is at most 28 + 64 + 4 + PATH_MAX bytes (modules.c keeps
	 * no longer path), so it always fits an empty chunk. */
	_Static_assert(TTLOG__FMT_MODS_FIXED_SIZE + TTLOG__FMT_MOD_FIXED_SIZE + TTLOG__FMT_MOD_MAX_BUILD_ID +
			       4 + PATH_MAX <= sizeof ws->em.block,
		       "a module entry fits the block buffer");
	unsigned char *buf = ws->em.block;
	size_t len = TTLOG__FMT_MODS_FIXED_SIZE;
	uint32_t count = 0, missing = l ? l->missing : 0, chunks = 0;
	uint32_t n = l ? TTLOG__MIN(l->count, TTLOG__MAX_MODULES) : 0;
	for (uint32_t i = 0; i <= n; i++) {
		const struct ttlog__module *m = i < n ? &l->mods[i] : NULL;
		size_t need = m ? TTLOG__FMT_MOD_FIXED_SIZE + m->build_id_len + 4 + m->path_len : 0;
		if (!m || len + need > sizeof ws->em.block) {
			ttlog__put_u32(buf + TTLOG__FMT_MODS_COUNT_OFF, count);
			ttlog__put_u32(buf + TTLOG__FMT_MODS_MISSING_OFF, missing);
			if (count || !chunks) {
				emit_chunk(ws, TTLOG__FMT_CHUNK_MODS, buf, len);
				chunks++;
			}
			len = TTLOG__FMT_MODS_FIXED_SIZE;
			count = missing = 0;
			if (!m)
				break;
		}
		unsigned char *e = buf + len;
		ttlog__put_u64(e + TTLOG__FMT_MOD_BIAS_OFF, m->bias);
		ttlog__put_u64(e + TTLOG__FMT_MOD_START_OFF, m->start);
		ttlog__put_u64(e + TTLOG__FMT_MOD_END_OFF, m->end);
		ttlog__put_u32(e + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF, m->build_id_len);
		len += TTLOG__FMT_MOD_FIXED_SIZE;
		memcpy(buf + len, m->build_id, m->build_id_len);
		len += m->build_id_len;
		ttlog__put_u32(buf + len, m->path_len);
		memcpy(buf + len + 4, l->paths + m->path_off, m->path_len);
		len += 4 + m->path_len;
		count++;
	}
}

/* TRCE: the trace the records were filtered by, and what that left out
 * (FORMAT.md 22). Not in signal context: only a trace's snapshot has it. */
static void write_trace(struct workspace *ws)
{
	const struct ttlog__trace_want *t = ws->src->trace;
	unsigned char *p = ws->small;
	memset(p, 0, TTLOG__FMT_TRCE_SIZE);
	ttlog__put_u64(p + TTLOG__FMT_TRCE_TRACE_HI_OFF, t->trace_hi);
	ttlog__put_u64(p + TTLOG__FMT_TRCE_TRACE_LO_OFF, t->trace_lo);
	ttlog__put_u64(p + TTLOG__FMT_TRCE_LEFT_EVENTS_OFF, t->left_events);
	ttlog__put_u64(p + TTLOG__FMT_TRCE_LEFT_RECORDS_OFF, t->left_records);
	emit_chunk(ws, TTLOG__FMT_CHUNK_TRCE, p, TTLOG__FMT_TRCE_SIZE);
}

/* END: the totals. Runs in signal context. */
static void write_end(struct workspace *ws)
{
	unsigned char *p = ws->small;
	memset(p, 0, TTLOG__FMT_END_SNAPSHOT_SIZE);
	uint64_t dropped = ws->src->dropped(ws->src->ctx);
	uint64_t dropped_sites = ws->src->dropped_sites ? ws->src->dropped_sites(ws->src->ctx) : 0;
	ttlog__put_u64(p + TTLOG__FMT_END_EVENTS_OFF, ws->em.events);
	ttlog__put_u64(p + TTLOG__FMT_END_OVERWRITTEN_OFF, ws->overwritten);
	ttlog__put_u64(p + TTLOG__FMT_END_TORN_OFF, ws->torn);
	ttlog__put_u64(p + TTLOG__FMT_END_TORN_BYTES_OFF, ws->torn_bytes);
	ttlog__put_u64(p + TTLOG__FMT_END_DROPPED_OFF, dropped);
	ttlog__put_u32(p + TTLOG__FMT_END_THREADS_OFF, ws->threads);
	ttlog__put_u32(p + TTLOG__FMT_END_SITES_OFF, ws->em.sites);
	ttlog__put_u32(p + TTLOG__FMT_END_BLOCKS_OFF, ws->em.blocks);
	ttlog__put_u64(p + TTLOG__FMT_END_LOG_EVENTS_OFF, ws->em.log_events);
	ttlog__put_u64(p + TTLOG__FMT_END_DROPPED_SITES_OFF, dropped_sites);
	emit_chunk(ws, TTLOG__FMT_CHUNK_END, p, TTLOG__FMT_END_SNAPSHOT_SIZE);
}


/* ---- File names --------------------------------------------------------- */

/* <dir>/ttlog-<pid>-<YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<reason>[-N].ttlog
 * Runs in signal context. */
static void final_name(struct workspace *ws, int64_t now_ns, const char *reason, unsigned n)
{
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, ws->final_path, sizeof ws->final_path);
	ttlog__sb_str(&sb, ws->src->dir);
	ttlog__sb_str(&sb, "/ttlog-");
	ttlog__sb_u64(&sb, (uint64_t)ws->src->pid, 0);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_utc_stamp(&sb, now_ns);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_str(&sb, reason);
	if (n) {
		ttlog__sb_str(&sb, "-");
		ttlog__sb_u64(&sb, n, 0);
	}
	ttlog__sb_str(&sb, ".ttlog");
}

/* 64 bits no other process can tell: the n-th name's random bytes,
 * stirred (splitmix64's finaliser) with n. Runs in signal context. */
static uint64_t name_bits(uint32_t n)
{
	uint64_t z = tmp_random[n % TMP_RANDOM] + (uint64_t)n * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Creates the temporary: an unnamed file in the directory (O_TMPFILE) if
 * its file system has them, else <dir>/.ttlog-<pid>-<tid>-<16 hex>.tmp.
 * Its descriptor, or -1. Runs in signal context: open(2). */
static int open_temporary(struct workspace *ws, uint32_t tid)
{
	ws->unnamed = 0;
	ws->tmp_path[0] = '\0';
	if (!ws->src->dir[0]) { /* the default directory was refused, no other made */
		errno = ENOENT;
		return -1;
	}
	if (tmp_unnamed_ok) {
		int fd = open(ws->src->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ws->unnamed = 1;
			return fd;
		}
		/* EOPNOTSUPP, EISDIR, EINVAL: not on this file system; anything
		 * else the named file meets too, and reports. */
	}
	static const char hex[] = "0123456789abcdef";
	for (int attempt = 0; attempt < 100; attempt++) {
		struct ttlog__sbuf sb;
		ttlog__sb_init(&sb, ws->tmp_path, sizeof ws->tmp_path);
		ttlog__sb_str(&sb, ws->src->dir);
		ttlog__sb_str(&sb, "/.ttlog-");
		ttlog__sb_u64(&sb, (uint64_t)ws->src->pid, 0);
		ttlog__sb_str(&sb, "-");
		ttlog__sb_u64(&sb, tid, 0);
		ttlog__sb_str(&sb, "-");
		/* Relaxed: only the value must differ from every other call's. */
		uint64_t bits = name_bits(atomic_fetch_add_explicit(&tmp_counter, 1, memory_order_relaxed));
		char digits[16];
		for (int k = 0; k < 16; k++)
			digits[k] = hex[(bits >> (60 - 4 * k)) & 15];
		ttlog__sb_mem(&sb, digits, sizeof digits);
		ttlog__sb_str(&sb, ".tmp");
		if (sb.overflow) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(ws->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			/* LMM(tmp:A) pairs with LMM(tmp:B) in
			 * ttlog__snapshot_settle(): the name, then the flag. */
			atomic_store_explicit(&ws->tmp_named, 1, memory_order_release);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Links the temporary to ws->final_path: linkat() of the unnamed file
 * through /proc/self/fd (or by its descriptor, which needs
 * CAP_DAC_READ_SEARCH), or link() of the named one. Runs in signal
 * context. */
static int link_temporary(struct workspace *ws)
{
	if (!ws->unnamed)
		return link(ws->tmp_path, ws->final_path);
	char proc[48];
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, proc, sizeof proc);
	ttlog__sb_str(&sb, "/proc/self/fd/");
	ttlog__sb_u64(&sb, (uint64_t)ws->fd, 0);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, ws->final_path, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return linkat(ws->fd, "", AT_FDCWD, ws->final_path, AT_EMPTY_PATH);
}

/* Removes a named temporary. Runs in signal context. */
static void drop_temporary(struct workspace *ws)
{
	if (!ws->unnamed)
		unlink(ws->tmp_path);
}

/* Gives the finished temporary (still open) its final name without
 * replacing anything. Runs in signal context. */
static int publish(struct workspace *ws, int64_t now_ns, const char *reason)
{
	for (unsigned n = 0; n < 1000; n++) {
		final_name(ws, now_ns, reason, n);
		if (link_temporary(ws) == 0) {
			drop_temporary(ws);
			int dfd = open(ws->src->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) { /* make the new name itself durable */
				fsync(dfd);
				close(dfd);
			}
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	int saved = errno;
	drop_temporary(ws);
	errno = saved;
	return -1;
}

/* ---- Metrics ------------------------------------------------------------ */

/* Runs in signal context. */
static void emit_metrics_chunk(void *ctx, const unsigned char *payload, size_t len)
{
	emit_chunk(ctx, TTLOG__FMT_CHUNK_MTRC, payload, len);
}

/* Writes the MTRC chunks (src/snapshot/metrics_chunk.c) with the block
 * buffers, free once the threads are written. Runs in signal context. */
static void write_metrics(struct workspace *ws)
{
	struct ttlog__mtrc_scratch s = {ws->em.packed, sizeof ws->em.packed, ws->em.block,
					emit_metrics_chunk, ws};
	_Static_assert(sizeof ws->em.block >= 8 * (size_t)TTLOG__HIST_BUCKETS, "bucket sums fit");
	ttlog__metrics_snapshot(&s, ws->em.strings_truncated,
				ws->em.redact && (ws->em.redact->n || ws->em.redact->npat) ? ws->em.redacted : UINT64_MAX);
}

/* The MTRC chunks of another process's metrics (a mapping's), with the
 * same buffers. */
static void write_source_metrics(struct workspace *ws, const struct ttlog__snapshot_source *src)
{
	struct ttlog__mtrc_scratch s = {ws->em.packed, sizeof ws->em.packed, ws->em.block,
					emit_metrics_chunk, ws};
	ttlog__metrics_snapshot_of(&s, src->metrics, src->nmetrics, src->metric_read, src->ctx,
				   src->metric_shards_private);
}

/* ---- Entry point -------------------------------------------------------- */

/* Runs in signal context. */
static void reset_workspace(struct workspace *ws)
{
	ttlog__emit_reset(&ws->em, -1, ws->out, sizeof ws->out);
	ws->em.whole_chunks = 0;
	ws->em.site = source_site;
	ws->em.site_ctx = (void *)ws->src;
	ws->em.chunk_done = NULL;
	ws->em.codec = compression.codec;
	ws->em.lz4_state = ws->tail + lz4_off;
	ws->em.pack = compression.codec == TTLOG__FMT_CODEC_PACKED ||
				      compression.codec == TTLOG__FMT_CODEC_ZSTD
			      ? &ws->pack
			      : NULL;
	ws->em.zstd = ws->zstd;
	ws->em.redact = ttlog__redact_rules();
	ws->em.zbuf = ws->zbuf;
	ws->overwritten = ws->torn = ws->torn_bytes = 0;
	ws->threads = 0;
}

/* ---- The in-process source: this process's rings, sites and settings --- */

/* Runs in signal context. */
static struct ttlog__ring *self_ring_next(void *ctx, struct ttlog__ring *prev)
{
	(void)ctx;
	return prev ? prev->next : ttlog__ring_first();
}

/* Runs in signal context. */
static int self_read_begin(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	(void)ctx;
	return ttlog__ring_read_begin(r, cur);
}

/* The description sites.c filled when the site registered. Runs in signal
 * context. */
static const struct ttlog__site_desc *self_site(void *ctx, uint32_t id)
{
	(void)ctx;
	return ttlog__site_desc_lookup(id);
}

/* Runs in signal context. */
static void self_clock(void *ctx, int may_wait, struct ttlog__calibration *cal, int64_t *created,
		       uint64_t *now)
{
	(void)ctx;
	ttlog__clock_calibrate(cal, may_wait);
	ttlog__publish_calibration(cal); /* shared-memory mode: a fresh pair for readers */
	*created = ttlog__clock_realtime_ns();
	*now = ttlog__clock_now();
}

/* Runs in signal context. */
static uint64_t self_dropped(void *ctx)
{
	(void)ctx;
	return atomic_load_explicit(&ttlog__g.dropped_no_ring, memory_order_relaxed) +
	       atomic_load_explicit(&ttlog__g.dropped_uninitialized, memory_order_relaxed) +
	       atomic_load_explicit(&ttlog__g.dropped_frozen, memory_order_relaxed);
}

/* Runs in signal context. */
static uint64_t self_dropped_sites(void *ctx)
{
	(void)ctx;
	return atomic_load_explicit(&ttlog__g.dropped_sites, memory_order_relaxed);
}

static int write_from(enum ttlog__workspace which, const struct ttlog__snapshot_source *src,
		      const char *reason_in, const struct ttlog__crash_info *crash,
		      const struct ttlog__stack *stack, char *path, size_t path_size);

/* Runs in signal context. */
int ttlog__snapshot_write(enum ttlog__workspace which, const char *reason,
			  const struct ttlog__crash_info *crash, char *path, size_t path_size)
{
	return ttlog__snapshot_write_stack(which, reason, crash, NULL, path, path_size);
}

/* This process as a snapshot source: its rings, sites, clock and
 * settings; in_process and live are the caller's. Runs in signal context. */
static struct ttlog__snapshot_source self_source(void)
{
	return (struct ttlog__snapshot_source){
		.ring_next = self_ring_next,
		.read_begin = self_read_begin,
		.site = self_site,
		.clock = self_clock,
		.dropped = self_dropped,
		.dropped_sites = self_dropped_sites,
		.pid = ttlog__g.pid,
		.names_pid = 0,
		.executable = ttlog__g.executable,
		.hostname = ttlog__g.hostname,
		.service = ttlog__g.service,
		.dir = ttlog__g.dir,
		.window_ns = ttlog__g.window_ns,
	};
}

/* The source of a snapshot of this process into workspace `which`, if
 * ttlog is on: TTLOG_OK with *src filled, else the error, remembered as
 * the workspace's last. Runs in signal context. */
static int self_ready(enum ttlog__workspace which, struct ttlog__snapshot_source *src)
{
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(): the settings
	 * read by the writer. */
	if (!workspaces[which] ||
	    atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON) {
		last_rc[which] = TTLOG_E_NOT_INITIALIZED;
		last_errno[which] = 0;
		return TTLOG_E_NOT_INITIALIZED;
	}
	*src = self_source();
	src->in_process = 1;
	return TTLOG_OK;
}

/* Runs in signal context. */
int ttlog__snapshot_write_api(const char *reason, char *path, size_t path_size)
{
	struct ttlog__snapshot_source src;
	int rc = self_ready(TTLOG__WS_NORMAL, &src);
	if (rc != TTLOG_OK)
		return rc;
	src.may_offload = 1;
	return write_from(TTLOG__WS_NORMAL, &src, reason, NULL, NULL, path, path_size);
}

int ttlog__snapshot_threads(unsigned threads)
{
	struct workspace *ws = workspaces[TTLOG__WS_NORMAL];
	int expected = 0;
	/* The normal workspace is taken, so that no snapshot uses the
	 * thread while it starts or stops: LMM(ws:B)/LMM(ws:A) as in
	 * write_from(). */
	while (ws && !atomic_compare_exchange_weak_explicit(&ws->busy, &expected, 1,
							   memory_order_seq_cst,
							   memory_order_relaxed)) {
		expected = 0;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	int rc = ttlog__offload_start(threads, &compression);
	if (ws)
		atomic_store_explicit(&ws->busy, 0, memory_order_release);
	return rc;
}

/* Runs in signal context. */
int ttlog__snapshot_write_stack(enum ttlog__workspace which, const char *reason_in,
				const struct ttlog__crash_info *crash,
				const struct ttlog__stack *stack, char *path, size_t path_size)
{
	struct ttlog__snapshot_source src;
	int rc = self_ready(which, &src);
	if (rc != TTLOG_OK)
		return rc;
	return write_from(which, &src, reason_in, crash, stack, path, path_size);
}

/* Runs in signal context. */
int ttlog__snapshot_write_stacks(enum ttlog__workspace which, const char *reason,
				 const struct ttlog__stack *stacks, uint32_t nstacks, char *path,
				 size_t path_size)
{
	struct ttlog__snapshot_source src;
	int rc = self_ready(which, &src);
	if (rc != TTLOG_OK)
		return rc;
	src.stacks = stacks;
	src.nstacks = nstacks;
	return write_from(which, &src, reason, NULL, NULL, path, path_size);
}

/* Runs in signal context. */
int ttlog__snapshot_write_trigger(enum ttlog__workspace which, const char *reason,
				  const char *rule, int64_t trigger_ns, char *path, size_t path_size)
{
	struct ttlog__snapshot_source src;
	int rc = self_ready(which, &src);
	if (rc != TTLOG_OK)
		return rc;
	src.trigger_rule = rule ? rule : "";
	src.trigger_ns = trigger_ns;
	return write_from(which, &src, reason, NULL, NULL, path, path_size);
}

/* A snapshot of this process holding only the records of one trace
 * (ttlog_trace_dump()). Normal context only: the trace filter allocates. */
int ttlog__snapshot_write_trace(struct ttlog__trace_want *want, const char *reason, char *path,
				size_t path_size)
{
	struct ttlog__snapshot_source src;
	int rc = self_ready(TTLOG__WS_NORMAL, &src);
	if (rc != TTLOG_OK)
		return rc;
	src.trace = want;
	return write_from(TTLOG__WS_NORMAL, &src, reason, NULL, NULL, path, path_size);
}

/* A tool that writes snapshots from mappings (`ttlog snap`, `ttlog
 * recover`) encrypts them when its own environment has TTLOG_ENCRYPT_KEY,
 * as the process would have: read once, at the first snapshot. Normal
 * context. TTLOG_OK, or TTLOG_E_CONFIG for a key file that is not one. */
static int tool_seal_setup(void)
{
	static int done, rc = TTLOG_OK;
	if (done)
		return rc;
	done = 1;
	const char *v = getenv("TTLOG_ENCRYPT_KEY");
	if (!v || !*v || strcmp(v, "none") == 0 || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		return rc;
	char err[512];
	rc = ttlog__seal_configure(v, err, sizeof err);
	if (rc == TTLOG_OK)
		ttlog__snapshot_seal_seed();
	return rc;
}

/* Exported for libttlog-read: the mapping reader (src/shm/map_snapshot.c) writes
 * its snapshot with it. */
TTLOG_API int ttlog__snapshot_write_source(const struct ttlog__snapshot_source *src,
					   const char *reason, char *path, size_t path_size)
{
	if (ttlog__snapshot_init(NULL) != TTLOG_OK)
		return TTLOG_E_NOMEM;
	int rc = tool_seal_setup();
	if (rc != TTLOG_OK)
		return rc;
	return write_from(TTLOG__WS_NORMAL, src, reason, NULL, NULL, path, path_size);
}

/*
 * The body of a live read (write_from() took the live workspace's busy
 * flag): the same chunks as a snapshot of this process but for sampling,
 * metrics, crash and stack, written straight to the caller's descriptor.
 * Nothing is counted in the process's statistics: a live read is neither a
 * snapshot nor a loss of the program's (torn records are counted in the
 * file's THRD chunks, which the caller shows).
 */
static int write_live(struct workspace *ws, const struct ttlog__snapshot_source *src)
{
	int saved_errno = errno;
	int rc = TTLOG_OK;
	ws->src = src;
	reset_workspace(ws);
	ws->fd = src->live_fd;
	ws->em.file.fd = ws->fd;
	struct ttlog__calibration cal;
	int64_t created;
	uint64_t now;
	src->clock(src->ctx, 0, &cal, &created, &now); /* never waits for a rate */
	uint64_t cutoff = 0;
	if (src->window_ns) {
		unsigned __int128 wt = (unsigned __int128)src->window_ns * (cal.tick1 - cal.tick0) /
				       (uint64_t)(cal.ns1 - cal.ns0 > 0 ? cal.ns1 - cal.ns0 : 1);
		cutoff = wt < now ? now - (uint64_t)wt : 0;
	}
	ttlog__emit_file_header(&ws->em);
	write_head(ws, "live", 0, &cal, created);
	for (struct ttlog__ring *r = src->ring_next(src->ctx, NULL); r && !ws->em.file.failed;
	     r = src->ring_next(src->ctx, r))
		write_thread(ws, r, cutoff, NULL);
	write_end(ws);
	ttlog__emit_flush(&ws->em);
	if (ws->em.file.failed)
		rc = TTLOG_E_IO;
	ws->fd = -1;
	atomic_store_explicit(&ws->busy_tid, 0, memory_order_relaxed);
	/* LMM(ws:A) pairs with LMM(ws:B): this use is over before the next. */
	atomic_store_explicit(&ws->busy, 0, memory_order_release);
	errno = saved_errno;
	return rc;
}

/* Exported for libttlog-read (src/reader/live.c). Not for signal context. */
TTLOG_API int ttlog__snapshot_write_live(int fd)
{
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(): the settings
	 * read below. */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON)
		return TTLOG_E_NOT_INITIALIZED;
	if (fd < 0)
		return TTLOG_E_INVALID;
	/* LMM(live:B) pairs with LMM(live:A). */
	if (!atomic_load_explicit(&live_ws, memory_order_acquire)) {
		if (!workspace_size)
			return TTLOG_E_NOT_INITIALIZED;
		void *m = mmap(NULL, workspace_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return TTLOG_E_NOMEM;
		((struct workspace *)m)->fd = -1;
		struct workspace *none = NULL;
		/* LMM(live:A) pairs with LMM(live:B): the zeroed workspace is
		 * published whole. A racing first call keeps the other's. */
		if (!atomic_compare_exchange_strong_explicit(&live_ws, &none, m, memory_order_acq_rel,
							     memory_order_acquire))
			munmap(m, workspace_size);
	}
	struct ttlog__snapshot_source src = self_source();
	src.live = 1;
	src.live_fd = fd;
	return write_from(TTLOG__WS_NORMAL, &src, "live", NULL, NULL, NULL, 0);
}

/* Runs in signal context. */
static int write_from(enum ttlog__workspace which, const struct ttlog__snapshot_source *src,
		      const char *reason_in, const struct ttlog__crash_info *crash,
		      const struct ttlog__stack *stack, char *path, size_t path_size)
{
	struct workspace *ws = src->live ? atomic_load_explicit(&live_ws, memory_order_acquire)
					 : workspaces[which];
	int expected = 0;
	/* LMM(ws:B) pairs with LMM(ws:A): the previous writer's use of the
	 * workspace is over. seq_cst rather than acquire: it is also the
	 * store half of LMM(refuse:B). A failed attempt touches nothing:
	 * relaxed. */
	if (!atomic_compare_exchange_strong_explicit(&ws->busy, &expected, 1, memory_order_seq_cst,
						     memory_order_relaxed)) {
		if (src->in_process)
			atomic_fetch_add_explicit(&ttlog__g.snapshots_busy, 1, memory_order_relaxed);
		return TTLOG_E_BUSY;
	}
	int saved_errno = errno;
	int rc = TTLOG_OK;
	int failed_errno = 0;
	if (src->live)
		return write_live(ws, src);
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	atomic_store_explicit(&ws->busy_tid, tid, memory_order_relaxed);
	/* LMM(refuse:B) pairs with LMM(refuse:A): busy taken, then the flag
	 * read, both seq_cst. A crash is being written: no new temporary. */
	if (which == TTLOG__WS_NORMAL && src->in_process &&
	    atomic_load_explicit(&refuse_normal, memory_order_seq_cst)) {
		atomic_fetch_add_explicit(&ttlog__g.snapshots_busy, 1, memory_order_relaxed);
		atomic_store_explicit(&ws->busy_tid, 0, memory_order_relaxed);
		atomic_store_explicit(&ws->busy, 0, memory_order_release);
		return TTLOG_E_BUSY;
	}
	char reason[TTLOG__REASON_MAX + 1];
	ttlog__sanitize_reason(reason_in, reason, sizeof reason);
	ws->src = src;
	reset_workspace(ws);
	/* ttlog_snapshot(): blocks compressed on the second thread, if there
	 * is one (snapshot/offload.h). */
	if (which == TTLOG__WS_NORMAL && src->may_offload && !src->trace)
		ws->em.offload = ttlog__offload_get();

	ws->fd = open_temporary(ws, tid);
	ws->em.file.fd = ws->fd;
	if (ws->fd < 0) {
		failed_errno = errno;
		rc = TTLOG_E_DIR;
		goto out;
	}
	/* This process's key, or a tool's (tool_seal_setup()). */
	int sealed = ttlog__seal_on();
	if (sealed)
		ttlog__seal_begin(&ws->seal, &ws->em.file);

	struct ttlog__calibration cal;
	int64_t created;
	uint64_t now;
	/* A crash right after ttlog_init() must not wait for a precise rate:
	 * the process is dying. */
	src->clock(src->ctx, crash == NULL, &cal, &created, &now);
	uint64_t cutoff = 0;
	if (src->window_ns) {
		unsigned __int128 wt = (unsigned __int128)src->window_ns * (cal.tick1 - cal.tick0) /
				       (uint64_t)(cal.ns1 - cal.ns0 > 0 ? cal.ns1 - cal.ns0 : 1);
		cutoff = wt < now ? now - (uint64_t)wt : 0;
	}

	ws->em.bundle = src->bundle;
	ttlog__emit_file_header(&ws->em);
	ws->em.bundle = 0;
	write_head(ws, reason, crash != NULL, &cal, created);
	struct ttlog__trace_filter trace;
	ws->trace = NULL;
	if (src->trace) { /* never in signal context (writer.h) */
		ttlog__trace_filter_init(&trace, src->trace);
		ws->trace = &trace;
	}
	for (struct ttlog__ring *r = src->ring_next(src->ctx, NULL); r && !ws->em.file.failed;
	     r = src->ring_next(src->ctx, r))
		write_thread(ws, r, cutoff, crash);
	int trace_oom = 0;
	if (ws->trace) {
		trace_oom = trace.oom;
		ttlog__trace_filter_free(&trace);
		ws->trace = NULL;
		if (trace_oom) {
			close(ws->fd);
			drop_temporary(ws);
			rc = TTLOG_E_NOMEM;
			goto out;
		}
	}
	if (src->in_process) { /* a mapping has no sampling (docs/SHM-FORMAT.md) */
		write_sampling(ws);
		write_metrics(ws);
	} else if (src->nmetrics && src->metrics && src->metric_read) {
		write_source_metrics(ws, src); /* a mapping's metrics (layout 1.3) */
	}
	if (crash)
		write_crash(ws, crash);
	if (crash ? crash->stack != NULL : stack != NULL)
		write_stack(ws, crash ? crash->stack : stack);
	for (uint32_t i = 0; i < src->nstacks && src->stacks; i++)
		write_stack(ws, &src->stacks[i]);
	if ((crash ? crash->stack != NULL : stack != NULL) || (src->nstacks && src->stacks))
		write_modules(ws, crash && crash->modules ? crash->modules
				  : src->modules ? src->modules : ttlog__modules_current());
	if (src->trace)
		write_trace(ws);
	write_end(ws);
	ttlog__emit_flush(&ws->em);
	if (sealed)
		ttlog__seal_end(&ws->seal, &ws->em.file);
	if (src->in_process)
		atomic_fetch_add_explicit(&ttlog__g.torn_records, ws->torn, memory_order_relaxed);

	if (ws->em.file.failed || fsync(ws->fd) != 0) {
		failed_errno = errno;
		close(ws->fd);
		drop_temporary(ws);
		rc = TTLOG_E_IO;
		goto out;
	}
	int published = publish(ws, ttlog__clock_wall_ns(), reason);
	failed_errno = published != 0 ? errno : 0;
	close(ws->fd); /* an unnamed file that was not linked goes with it */
	if (published != 0) {
		rc = TTLOG_E_IO;
		goto out;
	}
	/* Retention (src/snapshot/retention.c), in the workspace of the same
	 * kind, never removing the file just published. A snapshot written
	 * from another process's mapping leaves the directory alone: its
	 * limits are that process's settings, not ours. */
	if (src->in_process) {
		const char *base = strrchr(ws->final_path, '/');
		ttlog__retention_prune(which, ttlog__g.dir, base ? base + 1 : ws->final_path,
				       ttlog__g.max_snapshots, ttlog__g.max_snapshot_bytes);
	}
	if (path && path_size) {
		size_t n = strlen(ws->final_path);
		if (n >= path_size) {
			rc = TTLOG_E_RANGE;
			n = path_size - 1;
		}
		memcpy(path, ws->final_path, n);
		path[n] = '\0';
	}
out:
	if (ws->em.offload) {
		/* A block still being compressed (a failed write left it):
		 * the thread is done with the job before the next use. */
		if (ws->em.offload->pending) {
			ws->em.offload->pending = 0;
			ws->em.offload->wait(ws->em.offload->ctx);
		}
		ws->em.offload = NULL;
	}
	ws->fd = -1;
	last_rc[which] = rc;
	last_errno[which] = failed_errno;
	if (src->in_process)
		atomic_fetch_add_explicit(rc == TTLOG_OK || rc == TTLOG_E_RANGE
						  ? &ttlog__g.snapshots_written
						  : &ttlog__g.snapshots_failed,
					  1, memory_order_relaxed);
	/* The temporary is gone, linked or not (its name is not reused until
	 * the next use sets the flag again). */
	atomic_store_explicit(&ws->tmp_named, 0, memory_order_relaxed);
	atomic_store_explicit(&ws->busy_tid, 0, memory_order_relaxed);
	/* LMM(ws:A) pairs with LMM(ws:B): this use is over before the next. */
	atomic_store_explicit(&ws->busy, 0, memory_order_release);
	errno = saved_errno;
	return rc;
}

/* Runs in signal context. */
int ttlog__snapshot_last_error(enum ttlog__workspace which, int *sys_errno)
{
	*sys_errno = last_errno[which];
	return last_rc[which];
}
