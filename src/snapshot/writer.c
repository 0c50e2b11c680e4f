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
 * Each EVTS block is preceded by a SITE chunk holding the call sites that
 * block uses and no earlier chunk defined, so a file cut anywhere still
 * decodes up to its last whole chunk. Records are copied from the rings as
 * they are (the ring record layout is the file's record layout). A site's
 * SITE and SITX entries are copied from its resolved description
 * (src/sites/desc.h), which the source filled before: nothing is parsed
 * here.
 *
 * What is written comes from a source (struct ttlog__snapshot_source in
 * writer.h): this process's rings, sites and settings for ttlog_snapshot()
 * and the crash handler, or another process's shared-memory mapping for
 * src/shm/map_snapshot.c. The in-process source calls straight into the library.
 *
 * The file appears atomically: it is written as .ttlog-*.tmp (O_EXCL,
 * O_NOFOLLOW, mode 0600), fsync'd, hard-linked to its final name (link()
 * fails rather than replace an existing file), and the temporary unlinked.
 */
#define _GNU_SOURCE
#include "snapshot/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/crc32c.h"
#include "common/internal.h"
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
#include "snapshot/metrics_chunk.h"
#include "snapshot/retention.h"
#include "thread/thread.h"

#define STAGE_CAP (TTLOG__FMT_MAX_BLOCK_RAW + 64u)
#define SITE_BUF (64u << 10)
#define SITX_BUF (16u << 10)      /* holds at least 14 entries of 16 fields */
#define SMALL_BUF (PATH_MAX + 2048u)
#define OUT_BUF (64u << 10)
#define DICT_STRING_MAX 8192u   /* longest string stored in a SITE entry */

_Static_assert(TTLOG__SITE_DESC_MAX_FIELDS == TTLOG__FMT_MAX_ARGS,
	       "a description names the fields a SITX entry can");

struct workspace {
	_Atomic int busy;
	const struct ttlog__snapshot_source *src; /* what this snapshot is written from */
	struct ttlog__fdbuf file;       /* the temporary file, through out[]; file.failed:
					   a write failed, give up and remove the file */
	uint32_t site_count;            /* entries in site_buf */
	size_t site_len;
	uint32_t sitx_count;            /* entries in sitx_buf */
	size_t sitx_len;
	uint32_t sitx_flags;            /* chunk flags the pending SITX needs */
	uint32_t block_count;
	size_t block_len;
	uint64_t block_first, block_last;
	uint32_t block_thread, block_tid;
	uint64_t thread_unknown;        /* records of this thread with no known site */
	uint64_t strings_truncated;     /* cut string arguments in the records written */
	/* totals for END */
	uint64_t events, overwritten, torn, torn_bytes;
	uint32_t threads, sites, blocks;
	unsigned char stage[STAGE_CAP];
	unsigned char block[TTLOG__FMT_MAX_BLOCK_RAW];
	unsigned char packed[TTLOG__FMT_EVTS_FIXED_SIZE + LZ4_COMPRESSBOUND(TTLOG__FMT_MAX_BLOCK_RAW)];
	unsigned char site_buf[SITE_BUF];
	unsigned char sitx_buf[SITX_BUF];
	unsigned char small[SMALL_BUF];
	unsigned char out[OUT_BUF];
	uint8_t site_seen[TTLOG__MAX_SITES / 8 + 1];
	char tmp_path[TTLOG__DIR_MAX + 96];
	char final_path[TTLOG__DIR_MAX + 160];
	_Alignas(16) unsigned char lz4_state[]; /* LZ4_sizeofState() bytes */
};

static struct workspace *workspaces[2];
/* The last failure of each workspace: the TTLOG_E_* code and the errno of
 * the system call that failed (0 if none did), for the crash handler's
 * message. Written by the workspace's owner only. */
static int last_rc[2], last_errno[2];
static size_t workspace_size;
static _Atomic uint32_t tmp_counter;

int ttlog__snapshot_init(void)
{
	if (workspaces[0])
		return TTLOG_OK;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	workspace_size = (sizeof(struct workspace) + (size_t)LZ4_sizeofState() + page - 1) & ~(page - 1);
	for (int i = 0; i < 2; i++) {
		void *m = mmap(NULL, workspace_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED) {
			if (i == 1) {
				munmap(workspaces[0], workspace_size);
				workspaces[0] = NULL;
			}
			return TTLOG_E_NOMEM;
		}
		workspaces[i] = m;
		workspaces[i]->file.fd = -1;
	}
	return TTLOG_OK;
}

/* Relaxed: the child has one thread. */
void ttlog__snapshot_after_fork(void)
{
	for (int i = 0; i < 2; i++)
		if (workspaces[i])
			atomic_store_explicit(&workspaces[i]->busy, 0, memory_order_relaxed);
}

/* ---- Buffered output ---------------------------------------------------- */

/* Runs in signal context. */
static void out_bytes(struct workspace *ws, const void *data, size_t len)
{
	ttlog__fdbuf_put(&ws->file, data, len);
}

/* One chunk: its header, with the CRC, and its payload. Runs in signal
 * context. */
static void emit_chunk_flags(struct workspace *ws, uint32_t type, uint32_t flags,
			     const void *payload, size_t len)
{
	unsigned char hdr[TTLOG__FMT_CHUNK_HEADER_SIZE];
	ttlog__put_u32(hdr + TTLOG__FMT_CH_TYPE_OFF, type);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_FLAGS_OFF, flags);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_LENGTH_OFF, (uint32_t)len);
	ttlog__put_u32(hdr + TTLOG__FMT_CH_CRC_OFF, ttlog__chunk_crc(hdr, payload, len));
	out_bytes(ws, hdr, sizeof hdr);
	out_bytes(ws, payload, len);
}

/* A chunk without flags. Runs in signal context. */
static void emit_chunk(struct workspace *ws, uint32_t type, const void *payload, size_t len)
{
	emit_chunk_flags(ws, type, 0, payload, len);
}

/* Appends n bytes of p, cut at max bytes, with their u32 length before
 * them, to buf at *len. Runs in signal context. */
static void put_text(unsigned char *buf, size_t *len, const char *p, size_t n, size_t max)
{
	if (n > max)
		n = max;
	ttlog__put_u32(buf + *len, (uint32_t)n);
	if (n)
		memcpy(buf + *len + 4, p, n);
	*len += 4 + n;
}

/* put_text() of a NUL-terminated string (NULL: empty). Runs in signal
 * context. */
static void put_string(unsigned char *buf, size_t *len, const char *s, size_t max)
{
	put_text(buf, len, s, s ? strlen(s) : 0, max);
}

/* ---- Call-site dictionary ----------------------------------------------- */

/* Writes the pending SITE entries, then the SITX entries that extend them
 * (docs/FORMAT.md: a SITX entry follows the SITE entry of its id).
 * Runs in signal context. */
static void flush_sites(struct workspace *ws)
{
	if (!ws->site_count)
		return;
	ttlog__put_u32(ws->site_buf, ws->site_count);
	emit_chunk(ws, TTLOG__FMT_CHUNK_SITE, ws->site_buf, ws->site_len);
	ws->sites += ws->site_count;
	ws->site_count = 0;
	ws->site_len = 4;
	if (ws->sitx_count) {
		ttlog__put_u32(ws->sitx_buf, ws->sitx_count);
		emit_chunk_flags(ws, TTLOG__FMT_CHUNK_SITX, ws->sitx_flags, ws->sitx_buf,
				 ws->sitx_len);
		ws->sitx_count = 0;
		ws->sitx_len = 4;
		ws->sitx_flags = 0;
	}
}

/* Queues the SITX entry of a site that has fields or is not a plain log
 * call. The caller has made room. Runs in signal context. */
static void add_site_extension(struct workspace *ws, uint32_t id, const struct ttlog__site_desc *d)
{
	unsigned char *e = ws->sitx_buf + ws->sitx_len;
	ttlog__put_u32(e + TTLOG__FMT_SITX_ID_OFF, id);
	e[TTLOG__FMT_SITX_KIND_OFF] = d->kind;
	e[TTLOG__FMT_SITX_RESERVED_OFF] = 0;
	ttlog__put_u16(e + TTLOG__FMT_SITX_FIELDS_OFF, (uint16_t)d->fields);
	size_t len = ws->sitx_len + TTLOG__FMT_SITX_FIXED_SIZE;
	for (unsigned i = 0; i < TTLOG__SITE_DESC_MAX_FIELDS; i++) {
		if (!(d->fields & (1u << i)))
			continue;
		size_t n;
		const char *name = ttlog__site_desc_name(d, i, &n);
		put_text(ws->sitx_buf, &len, name, n, TTLOG__FIELD_NAME_MAX);
	}
	ws->sitx_len = len;
	ws->sitx_count++;
	if (d->kind != TTLOG__KIND_LOG)
		ws->sitx_flags |= TTLOG__FMT_CHUNK_REQUIRED;
}

/* A SITE string's length as written. Runs in signal context. */
static size_t clamp_len(uint32_t n)
{
	return n > DICT_STRING_MAX ? DICT_STRING_MAX : n;
}

/* Queues a site for the next SITE chunk, once per file. Runs in signal
 * context. */
static void add_site(struct workspace *ws, uint32_t id, const struct ttlog__site_desc *d)
{
	size_t need = TTLOG__FMT_SITE_FIXED_SIZE + d->nargs + 16 + clamp_len(d->format_len) +
		      clamp_len(d->file_len) + clamp_len(d->function_len) + clamp_len(d->target_len);
	int extended = d->fields != 0 || d->kind != TTLOG__KIND_LOG;
	size_t xneed = TTLOG__FMT_SITX_FIXED_SIZE +
		       (size_t)__builtin_popcount(d->fields) * (4 + TTLOG__FIELD_NAME_MAX);
	if (ws->site_len + need > SITE_BUF || (extended && ws->sitx_len + xneed > SITX_BUF))
		flush_sites(ws);
	if (extended)
		add_site_extension(ws, id, d);
	unsigned char *e = ws->site_buf + ws->site_len;
	ttlog__put_u32(e + TTLOG__FMT_SITE_ID_OFF, id);
	e[TTLOG__FMT_SITE_LEVEL_OFF] = d->level;
	e[TTLOG__FMT_SITE_NARGS_OFF] = d->nargs;
	ttlog__put_u16(e + TTLOG__FMT_SITE_RESERVED_OFF, 0);
	ttlog__put_u32(e + TTLOG__FMT_SITE_LINE_OFF, d->line);
	memcpy(e + TTLOG__FMT_SITE_FIXED_SIZE, d->arg_types, d->nargs);
	size_t len = ws->site_len + TTLOG__FMT_SITE_FIXED_SIZE + d->nargs;
	put_text(ws->site_buf, &len, d->format, d->format_len, DICT_STRING_MAX);
	put_text(ws->site_buf, &len, d->file, d->file_len, DICT_STRING_MAX);
	put_text(ws->site_buf, &len, d->function, d->function_len, DICT_STRING_MAX);
	put_text(ws->site_buf, &len, d->target, d->target_len, DICT_STRING_MAX);
	ws->site_len = len;
	ws->site_count++;
	ws->site_seen[id / 8] |= (uint8_t)(1u << (id % 8));
}

/* ---- Event blocks ------------------------------------------------------- */

/* Writes the pending block as an EVTS chunk, LZ4-compressed in the
 * workspace's state, after the SITE entries it needs. Runs in signal
 * context. */
static void flush_block(struct workspace *ws)
{
	if (!ws->block_count)
		return;
	flush_sites(ws); /* the dictionary entries this block needs come first */
	unsigned char *p = ws->packed;
	int packed = LZ4_compress_fast_extState(ws->lz4_state, (const char *)ws->block,
						(char *)p + TTLOG__FMT_EVTS_FIXED_SIZE,
						(int)ws->block_len, LZ4_COMPRESSBOUND(TTLOG__FMT_MAX_BLOCK_RAW), 1);
	uint8_t codec = TTLOG__FMT_CODEC_LZ4;
	if (packed <= 0 || (size_t)packed >= ws->block_len) {
		codec = TTLOG__FMT_CODEC_NONE; /* incompressible: store as is */
		memcpy(p + TTLOG__FMT_EVTS_FIXED_SIZE, ws->block, ws->block_len);
		packed = (int)ws->block_len;
	}
	memset(p, 0, TTLOG__FMT_EVTS_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_THREAD_OFF, ws->block_thread);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_TID_OFF, ws->block_tid);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_COUNT_OFF, ws->block_count);
	ttlog__put_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF, (uint32_t)ws->block_len);
	ttlog__put_u64(p + TTLOG__FMT_EVTS_FIRST_OFF, ws->block_first);
	ttlog__put_u64(p + TTLOG__FMT_EVTS_LAST_OFF, ws->block_last);
	p[TTLOG__FMT_EVTS_CODEC_OFF] = codec;
	emit_chunk(ws, TTLOG__FMT_CHUNK_EVTS, p, TTLOG__FMT_EVTS_FIXED_SIZE + (size_t)packed);
	ws->events += ws->block_count;
	ws->blocks++;
	ws->block_count = 0;
	ws->block_len = 0;
}

/* Adds one record (already validated by the ring reader) to the block.
 * Runs in signal context. */
static void add_record(struct workspace *ws, const unsigned char *rec, uint32_t size, uint32_t id,
		       uint64_t ticks)
{
	const struct ttlog__site_desc *d = ws->src->site(ws->src->ctx, id);
	if (!d) {
		/* A site id no site has: never happens with intact records
		 * (Req4 in ring.c); if it does, count it as lost. */
		ws->thread_unknown++;
		return;
	}
	if (id > TTLOG__MAX_SITES || !(ws->site_seen[id / 8] & (1u << (id % 8))))
		add_site(ws, id, d);
	ws->strings_truncated += ttlog__record_truncated_strings(rec, size, d);
	if (ws->block_len + size > TTLOG__FMT_MAX_BLOCK_RAW)
		flush_block(ws);
	if (!ws->block_count)
		ws->block_first = ticks;
	ws->block_last = ticks;
	memcpy(ws->block + ws->block_len, rec, size);
	ws->block_len += size;
	ws->block_count++;
}

/* The current name of a live thread, from /proc (of process pid, 0: this
 * one); "" if unavailable. Runs in signal context. */
static void live_thread_name(int pid, uint32_t tid, char *out, size_t cap)
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
	/* Relaxed: the reset that stored it is ordered before this load by
	 * LMM(gen:D) in read_begin(); a later one is caught by the gen check
	 * (cur.aborted). */
	uint32_t tid = atomic_load_explicit(&r->tid, memory_order_relaxed);
	/* LMM(state:B) pairs with LMM(exit:A) (src/thread/thread.c): the name
	 * an exited thread left is whole. */
	uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
	char name[TTLOG__THREAD_NAME_MAX + 1];
	name[0] = '\0';
	if (state == TTLOG__RING_LIVE && ws->src->names_pid >= 0)
		live_thread_name(ws->src->names_pid, tid, name, sizeof name);
	if (!name[0]) {
		/* published by EXITED; for a ring of a process that is gone, the
		 * name its thread had when it took the ring */
		memcpy(name, r->name, TTLOG__THREAD_NAME_MAX);
		name[TTLOG__THREAD_NAME_MAX] = '\0';
	}

	ws->block_thread = r->index;
	ws->block_tid = tid;
	ws->thread_unknown = 0;
	uint64_t events_before = ws->events;
	size_t n;
	while ((n = ttlog__ring_read(&cur, ws->stage, STAGE_CAP)) > 0) {
		for (size_t off = 0; off < n;) {
			uint32_t size = ttlog__get_u32(ws->stage + off);
			uint32_t id = ttlog__get_u32(ws->stage + off + 4);
			if (id != 0) {
				uint64_t ticks = ttlog__get_u64(ws->stage + off + 8);
				if (ticks >= cutoff || keeps_state(ws, id))
					add_record(ws, ws->stage + off, size, id, ticks);
			}
			off += size;
		}
	}
	flush_block(ws);
	if (cur.aborted)
		return; /* the ring changed owner: what we wrote is the old owner's */

	uint64_t overwritten = ttlog__ring_read_overwritten(&cur);
	cur.torn += ws->thread_unknown;
	size_t len = TTLOG__FMT_THRD_FIXED_SIZE;
	unsigned char *p = ws->small;
	uint32_t flags = 0;
	if (state == TTLOG__RING_EXITED)
		flags |= TTLOG__FMT_THREAD_EXITED;
	if (crash && crash->tid == tid)
		flags |= TTLOG__FMT_THREAD_CRASHED;
	memset(p, 0, TTLOG__FMT_THRD_FIXED_SIZE);
	ttlog__put_u32(p + TTLOG__FMT_THRD_INDEX_OFF, r->index);
	ttlog__put_u32(p + TTLOG__FMT_THRD_TID_OFF, tid);
	ttlog__put_u32(p + TTLOG__FMT_THRD_FLAGS_OFF, flags);
	ttlog__put_u64(p + TTLOG__FMT_THRD_EVENTS_OFF, ws->events - events_before);
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
	flush_sites(ws);
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
	unsigned char *buf = ws->block;
	size_t len = 4;
	uint32_t count = 0;
	uint32_t limit = ttlog__site_id_limit();
	for (uint32_t id = 1; id < limit && !ws->file.failed; id++) {
		struct ttlog__sampling_counts c;
		if (!ttlog__sampling_get(id, &c))
			continue;
		if (!(ws->site_seen[id / 8] & (1u << (id % 8)))) {
			const struct ttlog__site_desc *d = ws->src->site(ws->src->ctx, id);
			if (!d)
				continue; /* an id whose registration lost its race */
			add_site(ws, id, d);
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
		if (len + TTLOG__FMT_SMPL_ENTRY_SIZE > sizeof ws->block) {
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
	ttlog__put_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF, crashed ? TTLOG__FMT_HEAD_FLAG_CRASH : 0);
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
			       TTLOG__STACK_MAX_REGS * TTLOG__FMT_STCK_REG_SIZE <= SMALL_BUF,
		       "a stack fits the small buffer");
	unsigned char *p = ws->small;
	uint32_t nframes = TTLOG__MIN(st->nframes, TTLOG__STACK_MAX_FRAMES);
	uint32_t nregs = TTLOG__MIN(st->nregs, TTLOG__STACK_MAX_REGS);
	ttlog__put_u32(p + TTLOG__FMT_STCK_TID_OFF, st->tid);
	ttlog__put_u32(p + TTLOG__FMT_STCK_THREAD_OFF, st->thread_index);
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
			       4 + PATH_MAX <= sizeof ws->block,
		       "a module entry fits the block buffer");
	unsigned char *buf = ws->block;
	size_t len = TTLOG__FMT_MODS_FIXED_SIZE;
	uint32_t count = 0, missing = l ? l->missing : 0, chunks = 0;
	uint32_t n = l ? TTLOG__MIN(l->count, TTLOG__MAX_MODULES) : 0;
	for (uint32_t i = 0; i <= n; i++) {
		const struct ttlog__module *m = i < n ? &l->mods[i] : NULL;
		size_t need = m ? TTLOG__FMT_MOD_FIXED_SIZE + m->build_id_len + 4 + m->path_len : 0;
		if (!m || len + need > sizeof ws->block) {
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

/* END: the totals. Runs in signal context. */
static void write_end(struct workspace *ws)
{
	unsigned char *p = ws->small;
	memset(p, 0, TTLOG__FMT_END_SIZE);
	uint64_t dropped = ws->src->dropped(ws->src->ctx);
	ttlog__put_u64(p + TTLOG__FMT_END_EVENTS_OFF, ws->events);
	ttlog__put_u64(p + TTLOG__FMT_END_OVERWRITTEN_OFF, ws->overwritten);
	ttlog__put_u64(p + TTLOG__FMT_END_TORN_OFF, ws->torn);
	ttlog__put_u64(p + TTLOG__FMT_END_TORN_BYTES_OFF, ws->torn_bytes);
	ttlog__put_u64(p + TTLOG__FMT_END_DROPPED_OFF, dropped);
	ttlog__put_u32(p + TTLOG__FMT_END_THREADS_OFF, ws->threads);
	ttlog__put_u32(p + TTLOG__FMT_END_SITES_OFF, ws->sites);
	ttlog__put_u32(p + TTLOG__FMT_END_BLOCKS_OFF, ws->blocks);
	emit_chunk(ws, TTLOG__FMT_CHUNK_END, p, TTLOG__FMT_END_SIZE);
}

/* The file header. Runs in signal context. */
static void write_file_header(struct workspace *ws)
{
	unsigned char h[TTLOG__FMT_FILE_HEADER_SIZE];
	memcpy(h, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN);
	ttlog__put_u16(h + TTLOG__FMT_FH_VERSION_OFF, TTLOG__FMT_VERSION);
	ttlog__put_u16(h + TTLOG__FMT_FH_HEADER_SIZE_OFF, TTLOG__FMT_FILE_HEADER_SIZE);
	ttlog__put_u32(h + TTLOG__FMT_FH_INCOMPAT_OFF, 0);
	ttlog__put_u32(h + TTLOG__FMT_FH_COMPAT_OFF, 0);
	ttlog__put_u32(h + TTLOG__FMT_FH_CRC_OFF, ttlog__crc32c(0, h, TTLOG__FMT_FH_CRC_OFF));
	out_bytes(ws, h, sizeof h);
}

/* ---- File names --------------------------------------------------------- */

/* <dir>/ttlog-<pid>-<YYYYMMDDTHHMMSS.nnnnnnnnnZ>-<reason>[-N].ttlog
 * Runs in signal context. */
static void final_name(struct workspace *ws, int64_t now_ns, const char *reason, unsigned n)
{
	struct ttlog__sbuf sb;
	struct ttlog__civil c;
	int64_t secs = now_ns / 1000000000, frac = now_ns % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		secs--;
	}
	ttlog__civil_from_unix(secs, &c);
	ttlog__sb_init(&sb, ws->final_path, sizeof ws->final_path);
	ttlog__sb_str(&sb, ws->src->dir);
	ttlog__sb_str(&sb, "/ttlog-");
	ttlog__sb_u64(&sb, (uint64_t)ws->src->pid, 0);
	ttlog__sb_str(&sb, "-");
	ttlog__sb_u64(&sb, (uint64_t)c.year, 4);
	ttlog__sb_u64(&sb, (uint64_t)c.month, 2);
	ttlog__sb_u64(&sb, (uint64_t)c.day, 2);
	ttlog__sb_str(&sb, "T");
	ttlog__sb_u64(&sb, (uint64_t)c.hour, 2);
	ttlog__sb_u64(&sb, (uint64_t)c.minute, 2);
	ttlog__sb_u64(&sb, (uint64_t)c.second, 2);
	ttlog__sb_str(&sb, ".");
	ttlog__sb_u64(&sb, (uint64_t)frac, 9);
	ttlog__sb_str(&sb, "Z-");
	ttlog__sb_str(&sb, reason);
	if (n) {
		ttlog__sb_str(&sb, "-");
		ttlog__sb_u64(&sb, n, 0);
	}
	ttlog__sb_str(&sb, ".ttlog");
}

/* Creates the temporary, <dir>/.ttlog-<pid>-<tid>-<n>.tmp: its descriptor,
 * or -1. Runs in signal context: open(2). */
static int open_temporary(struct workspace *ws, uint32_t tid)
{
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
		uint32_t n = atomic_fetch_add_explicit(&tmp_counter, 1, memory_order_relaxed);
		ttlog__sb_u64(&sb, n, 0);
		ttlog__sb_str(&sb, ".tmp");
		if (sb.overflow)
			return -1;
		int fd = open(ws->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Gives the finished temporary its final name without replacing anything.
 * Runs in signal context. */
static int publish(struct workspace *ws, int64_t now_ns, const char *reason)
{
	for (unsigned n = 0; n < 1000; n++) {
		final_name(ws, now_ns, reason, n);
		if (link(ws->tmp_path, ws->final_path) == 0) {
			unlink(ws->tmp_path);
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
	unlink(ws->tmp_path);
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
	struct ttlog__mtrc_scratch s = {ws->packed, sizeof ws->packed, ws->block,
					emit_metrics_chunk, ws};
	_Static_assert(sizeof ws->block >= 8 * (size_t)TTLOG__HIST_BUCKETS, "bucket sums fit");
	ttlog__metrics_snapshot(&s, ws->strings_truncated);
}

/* ---- Entry point -------------------------------------------------------- */

/* Runs in signal context. */
static void reset_workspace(struct workspace *ws)
{
	ws->file.failed = 0;
	ws->file.len = 0;
	ws->file.buf = ws->out;
	ws->file.cap = sizeof ws->out;
	ws->site_count = 0;
	ws->site_len = 4;
	ws->sitx_count = 0;
	ws->sitx_len = 4;
	ws->sitx_flags = 0;
	ws->block_count = 0;
	ws->block_len = 0;
	ws->events = ws->overwritten = ws->torn = ws->torn_bytes = 0;
	ws->strings_truncated = 0;
	ws->threads = ws->sites = ws->blocks = 0;
	memset(ws->site_seen, 0, sizeof ws->site_seen);
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

static int write_from(enum ttlog__workspace which, const struct ttlog__snapshot_source *src,
		      const char *reason_in, const struct ttlog__crash_info *crash,
		      const struct ttlog__stack *stack, char *path, size_t path_size);

/* Runs in signal context. */
int ttlog__snapshot_write(enum ttlog__workspace which, const char *reason,
			  const struct ttlog__crash_info *crash, char *path, size_t path_size)
{
	return ttlog__snapshot_write_stack(which, reason, crash, NULL, path, path_size);
}

/* Runs in signal context. */
int ttlog__snapshot_write_stack(enum ttlog__workspace which, const char *reason_in,
				const struct ttlog__crash_info *crash,
				const struct ttlog__stack *stack, char *path, size_t path_size)
{
	struct workspace *ws = workspaces[which];
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(): the settings
	 * read below. */
	if (!ws || atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON) {
		last_rc[which] = TTLOG_E_NOT_INITIALIZED;
		last_errno[which] = 0;
		return TTLOG_E_NOT_INITIALIZED;
	}
	const struct ttlog__snapshot_source src = {
		.ring_next = self_ring_next,
		.read_begin = self_read_begin,
		.site = self_site,
		.clock = self_clock,
		.dropped = self_dropped,
		.pid = ttlog__g.pid,
		.names_pid = 0,
		.executable = ttlog__g.executable,
		.hostname = ttlog__g.hostname,
		.service = ttlog__g.service,
		.dir = ttlog__g.dir,
		.window_ns = ttlog__g.window_ns,
		.in_process = 1,
	};
	return write_from(which, &src, reason_in, crash, stack, path, path_size);
}

/* Exported for libttlog-read: the mapping reader (src/shm/map_snapshot.c) writes
 * its snapshot with it. */
TTLOG_API int ttlog__snapshot_write_source(const struct ttlog__snapshot_source *src,
					   const char *reason, char *path, size_t path_size)
{
	if (ttlog__snapshot_init() != TTLOG_OK)
		return TTLOG_E_NOMEM;
	return write_from(TTLOG__WS_NORMAL, src, reason, NULL, NULL, path, path_size);
}

/* Runs in signal context. */
static int write_from(enum ttlog__workspace which, const struct ttlog__snapshot_source *src,
		      const char *reason_in, const struct ttlog__crash_info *crash,
		      const struct ttlog__stack *stack, char *path, size_t path_size)
{
	struct workspace *ws = workspaces[which];
	int expected = 0;
	/* LMM(ws:B) pairs with LMM(ws:A): the previous writer's use of the
	 * workspace is over. A failed attempt touches nothing: relaxed. */
	if (!atomic_compare_exchange_strong_explicit(&ws->busy, &expected, 1, memory_order_acquire,
						     memory_order_relaxed)) {
		if (src->in_process)
			atomic_fetch_add_explicit(&ttlog__g.snapshots_busy, 1, memory_order_relaxed);
		return TTLOG_E_BUSY;
	}
	int saved_errno = errno;
	int rc = TTLOG_OK;
	int failed_errno = 0;
	char reason[TTLOG__REASON_MAX + 1];
	ttlog__sanitize_reason(reason_in, reason, sizeof reason);
	reset_workspace(ws);
	ws->src = src;

	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	ws->file.fd = open_temporary(ws, tid);
	if (ws->file.fd < 0) {
		failed_errno = errno;
		rc = TTLOG_E_DIR;
		goto out;
	}

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

	write_file_header(ws);
	write_head(ws, reason, crash != NULL, &cal, created);
	for (struct ttlog__ring *r = src->ring_next(src->ctx, NULL); r && !ws->file.failed;
	     r = src->ring_next(src->ctx, r))
		write_thread(ws, r, cutoff, crash);
	if (src->in_process) { /* a mapping has neither (docs/SHM-FORMAT.md) */
		write_sampling(ws);
		write_metrics(ws);
	}
	if (crash)
		write_crash(ws, crash);
	if (crash ? crash->stack != NULL : stack != NULL) {
		write_stack(ws, crash ? crash->stack : stack);
		write_modules(ws, crash && crash->modules ? crash->modules : ttlog__modules_current());
	}
	write_end(ws);
	ttlog__fdbuf_flush(&ws->file);
	if (src->in_process)
		atomic_fetch_add_explicit(&ttlog__g.torn_records, ws->torn, memory_order_relaxed);

	if (ws->file.failed || fsync(ws->file.fd) != 0) {
		failed_errno = errno;
		close(ws->file.fd);
		unlink(ws->tmp_path);
		rc = TTLOG_E_IO;
		goto out;
	}
	close(ws->file.fd);
	if (publish(ws, ttlog__clock_wall_ns(), reason) != 0) {
		failed_errno = errno;
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
	ws->file.fd = -1;
	last_rc[which] = rc;
	last_errno[which] = failed_errno;
	if (src->in_process)
		atomic_fetch_add_explicit(rc == TTLOG_OK || rc == TTLOG_E_RANGE
						  ? &ttlog__g.snapshots_written
						  : &ttlog__g.snapshots_failed,
					  1, memory_order_relaxed);
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
