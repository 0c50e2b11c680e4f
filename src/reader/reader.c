/*
 * reader.c - opens a snapshot file, checks every byte of it, and iterates
 * its events in time order.
 *
 * Opening reads the whole file into memory and then makes two passes:
 *
 *   1. The chunk pass walks the chunks from the file header to END. Every
 *      payload is checked against its CRC-32C before anything in it is
 *      used; HEAD, SITE, THRD, CRSH, END (and through their own files
 *      SMPL, MTRC, STCK and MODS) are decoded at once, EVTS
 *      chunks only have their fixed fields checked and their position
 *      remembered. A damaged chunk is dropped and the walk resynchronises
 *      (see resync_after()), so one bad chunk costs only its own contents.
 *   2. The block pass decodes every record of every block once, one block
 *      at a time through a single 64 KiB scratch buffer. It counts the
 *      events exactly (ttlog_file_info.events is the number of records the
 *      iteration will return, also for a damaged file), finds where a block
 *      stops being decodable, and finds the first and last times. Because
 *      it runs after the chunk pass, a site may be defined anywhere in the
 *      file, not only before the blocks that use it.
 *
 * A lazy open (TTLOG_READER_LAZY) skips pass 2: counts and times come from
 * the block headers, and each block gets pass 2's checks (check_block) when
 * the iteration first reaches it. With a range (ttlog_reader_set_range) the
 * iteration passes over blocks outside it by their header ticks (see
 * enter_block), so a lazy open and a range read only what they return.
 *
 * Iteration keeps one cursor per thread over that thread's blocks in file
 * order and merges the threads through a binary min-heap keyed by (ticks of
 * the cursor's next record, thread index). A compressed block is decoded
 * again when its thread's cursor reaches it; at most one block per thread is
 * held decoded, and a budget (READER_BUFFER_BUDGET) bounds them all together.
 *
 * Trust: every length, count and offset in the file is compared with the
 * bytes that remain (`len > left`, never `off + len > size`) before use; no
 * allocation is sized by a count read from the file, only by bytes that
 * exist. The first problem found is kept as the reader's status and message
 * ("PATH: offset N: expected ..."); later problems are usually its
 * consequences and are not reported.
 */
#include "common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>

#include "common/crc32c.h"
#include "reader/impl.h"
#include "reader/metrics.h"
#include "reader/reader_internal.h"
#include "reader/scopes.h"
#include "reader/sampling.h"
#include "reader/stacks.h"
#include "snapshot/format.h"
#include "sites/fields.h"
#include "ttlog_reader.h"

/* Bytes of decoded compressed blocks held at once, over all threads: this
 * many, or READER_BUFFER_FACTOR times the file's size if that is more. A real
 * file compresses far less than 16:1, so it never reaches the limit; a file
 * made of tiny blocks that inflate to 64 KiB each (LZ4 allows about 250:1)
 * does, and is then read correctly but more slowly: a block whose buffer was
 * given up is decompressed again when its thread's turn comes. */
#define READER_BUFFER_BUDGET ((size_t)64 << 20)
#define READER_BUFFER_FACTOR 16u

/* The resynchronisation scan computes at most this many CRC bytes per byte
 * of the file (plus a constant), then gives up on the rest of the file, so a
 * file built to make the scan quadratic is still read in linear time. */
#define READER_RESYNC_FACTOR 16u
#define READER_RESYNC_SLACK ((uint64_t)1 << 20)

_Static_assert(TTLOG_FMT_MAX_BLOCK_RAW <= (uint32_t)INT32_MAX, "LZ4 sizes are ints");
_Static_assert(TTLOG_FMT_MAX_CHUNK <= (uint32_t)INT32_MAX, "LZ4 sizes are ints");
_Static_assert(TTLOG_FMT_MAX_ARGS <= 255, "nargs is a byte");

static void fourcc_name(uint32_t type, char out[16])
{
	unsigned char c[4];
	ttlog__put_u32(c, type);
	for (int i = 0; i < 4; i++) {
		if (c[i] < 0x20 || c[i] > 0x7e) {
			snprintf(out, 16, "0x%08x", (unsigned)type);
			return;
		}
	}
	snprintf(out, 16, "%c%c%c%c", c[0], c[1], c[2], c[3]);
}

/* ---- Payload cursor ------------------------------------------------------ */

struct cur {
	const unsigned char *p;
	size_t left;
	size_t off;            /* file offset of p */
	const char *chunk;     /* for messages */
};

static int cur_need(struct ttlog_reader *r, const struct cur *c, size_t n, const char *what)
{
	if (n <= c->left)
		return 1;
	ttlog__reader_report(r, TTLOG_E_CORRUPT, c->off,
			     "expected %zu bytes of %s, found %zu left in the %s chunk", n, what,
			     c->left, c->chunk);
	return 0;
}

static void cur_skip(struct cur *c, size_t n)
{
	c->p += n;
	c->left -= n;
	c->off += n;
}

/* Finds a string (u32 length, bytes) without copying it. */
static int cur_str_raw(struct ttlog_reader *r, struct cur *c, const char *what,
		       const unsigned char **s, size_t *n)
{
	if (c->left < 4) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c->off,
				     "expected the 4-byte length of the %s string, found %zu "
				     "bytes left in the %s chunk",
				     what, c->left, c->chunk);
		return 0;
	}
	uint32_t len = ttlog__get_u32(c->p);
	if (len > c->left - 4) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c->off,
				     "expected a %s string of %u bytes, found %zu bytes left in "
				     "the %s chunk",
				     what, (unsigned)len, c->left - 4, c->chunk);
		return 0;
	}
	*s = c->p + 4;
	*n = len;
	cur_skip(c, 4 + (size_t)len);
	return 1;
}

/* Reads a string into the arena; *out stays "" on failure. */
static int cur_str(struct ttlog_reader *r, struct cur *c, const char *what, const char **out)
{
	const unsigned char *s;
	size_t n;
	if (!cur_str_raw(r, c, what, &s, &n))
		return 0;
	char *copy = ttlog__reader_arena_str(r, s, n);
	if (!copy)
		return 0;
	*out = copy;
	return 1;
}

/* ---- Chunks -------------------------------------------------------------- */

static int known_type(uint32_t type)
{
	return type == TTLOG_FMT_CHUNK_HEAD || type == TTLOG_FMT_CHUNK_SITE ||
	       type == TTLOG_FMT_CHUNK_EVTS || type == TTLOG_FMT_CHUNK_THRD ||
	       type == TTLOG_FMT_CHUNK_CRSH || type == TTLOG_FMT_CHUNK_END ||
	       type == TTLOG_FMT_CHUNK_SITX || type == TTLOG_FMT_CHUNK_SMPL ||
	       type == TTLOG_FMT_CHUNK_MTRC || type == TTLOG_FMT_CHUNK_STCK ||
	       type == TTLOG_FMT_CHUNK_MODS;
}

/* The smallest payload a valid chunk of a known type can have. */
static size_t min_payload(uint32_t type)
{
	switch (type) {
	case TTLOG_FMT_CHUNK_HEAD: return TTLOG_FMT_HEAD_FIXED_SIZE + 12;
	case TTLOG_FMT_CHUNK_SITE: return 4;
	case TTLOG_FMT_CHUNK_SITX: return 4;
	case TTLOG_FMT_CHUNK_SMPL: return 4;
	case TTLOG_FMT_CHUNK_MTRC: return TTLOG_FMT_MTRC_HEADER_SIZE;
	case TTLOG_FMT_CHUNK_EVTS: return TTLOG_FMT_EVTS_FIXED_SIZE;
	case TTLOG_FMT_CHUNK_THRD: return TTLOG_FMT_THRD_FIXED_SIZE + 4;
	case TTLOG_FMT_CHUNK_CRSH: return TTLOG_FMT_CRSH_FIXED_SIZE + 4;
	case TTLOG_FMT_CHUNK_STCK: return TTLOG_FMT_STCK_FIXED_SIZE;
	case TTLOG_FMT_CHUNK_MODS: return TTLOG_FMT_MODS_FIXED_SIZE;
	default: return TTLOG_FMT_END_SIZE;
	}
}

/* Whether a chunk of a known type, with a plausible length and a matching
 * CRC, starts at off. Spends the scan budget. */
static int chunk_valid_at(struct ttlog_reader *r, size_t off)
{
	size_t left = r->size - off;
	if (left < TTLOG_FMT_CHUNK_HEADER_SIZE)
		return 0;
	const unsigned char *h = r->data + off;
	uint32_t type = ttlog__get_u32(h + TTLOG_FMT_CH_TYPE_OFF);
	if (!known_type(type))
		return 0;
	uint32_t len = ttlog__get_u32(h + TTLOG_FMT_CH_LENGTH_OFF);
	if (len > TTLOG_FMT_MAX_CHUNK || len > left - TTLOG_FMT_CHUNK_HEADER_SIZE ||
	    len < min_payload(type))
		return 0;
	if (r->scan_budget < len)
		return 0;
	r->scan_budget -= len;
	return ttlog__chunk_crc(h, h + TTLOG_FMT_CHUNK_HEADER_SIZE, len) ==
	       ttlog__get_u32(h + TTLOG_FMT_CH_CRC_OFF);
}

/* The next offset after `from` where a valid chunk starts, or NOWHERE. */
static size_t resync_scan(struct ttlog_reader *r, size_t from)
{
	for (size_t p = from; p < r->size && r->size - p >= TTLOG_FMT_CHUNK_HEADER_SIZE; p++) {
		if (r->scan_budget == 0)
			return NOWHERE;
		if (chunk_valid_at(r, p))
			return p;
	}
	return NOWHERE;
}

/*
 * Where to continue after the chunk at off failed its CRC. The length field
 * may be what was damaged, so the boundary it gives is kept only if it looks
 * right: it is the end of the file or the start of a header of a known type.
 * Otherwise the scan looks for the next valid chunk byte by byte.
 */
static size_t resync_after(struct ttlog_reader *r, size_t off, uint32_t len)
{
	size_t left = r->size - off - TTLOG_FMT_CHUNK_HEADER_SIZE;
	if (len <= left) {
		size_t next = off + TTLOG_FMT_CHUNK_HEADER_SIZE + len;
		if (next == r->size)
			return next;
		if (r->size - next >= TTLOG_FMT_CHUNK_HEADER_SIZE &&
		    known_type(ttlog__get_u32(r->data + next)))
			return next;
	}
	return resync_scan(r, off + 1);
}

static void parse_head(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	if (r->have_head) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one HEAD chunk, found a second one");
		return;
	}
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "HEAD"};
	if (!cur_need(r, &c, TTLOG_FMT_HEAD_FIXED_SIZE, "fixed HEAD fields"))
		return;
	r->have_head = 1;
	r->info.pid = ttlog__get_u32(p + TTLOG_FMT_HEAD_PID_OFF);
	r->info.created_ns = (int64_t)ttlog__get_u64(p + TTLOG_FMT_HEAD_CREATED_OFF);
	r->tick0 = ttlog__get_u64(p + TTLOG_FMT_HEAD_TICK0_OFF);
	r->ns0 = (int64_t)ttlog__get_u64(p + TTLOG_FMT_HEAD_NS0_OFF);
	r->tick1 = ttlog__get_u64(p + TTLOG_FMT_HEAD_TICK1_OFF);
	r->ns1 = (int64_t)ttlog__get_u64(p + TTLOG_FMT_HEAD_NS1_OFF);
	r->info.clock = (int)ttlog__get_u32(p + TTLOG_FMT_HEAD_CLOCK_OFF);
	r->info.writer_version = ttlog__get_u32(p + TTLOG_FMT_HEAD_TTLOG_VER_OFF);
	r->info.window_ns = ttlog__get_u64(p + TTLOG_FMT_HEAD_WINDOW_OFF);
	if (r->tick1 > r->tick0) {
		r->cal_ok = 1;
	} else {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG_FMT_HEAD_TICK1_OFF,
				     "expected calibration ticks tick1 > tick0 = %llu, found %llu "
				     "(times are shown as raw ticks)",
				     (unsigned long long)r->tick0, (unsigned long long)r->tick1);
	}
	cur_skip(&c, TTLOG_FMT_HEAD_FIXED_SIZE);
	if (cur_str(r, &c, "executable", &r->info.executable) &&
	    cur_str(r, &c, "hostname", &r->info.hostname))
		cur_str(r, &c, "reason", &r->info.reason);
	/* Bytes after the strings are left for later versions. */
}

static const char *const site_string_names[4] = {"format", "file", "function", "target"};

static void parse_site(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "SITE"};
	if (!cur_need(r, &c, 4, "the SITE entry count"))
		return;
	uint32_t count = ttlog__get_u32(c.p);
	cur_skip(&c, 4);
	/* count is only a loop bound: every entry needs bytes that exist. */
	for (uint32_t i = 0; i < count && !r->oom; i++) {
		size_t at = c.off;
		if (!cur_need(r, &c, TTLOG_FMT_SITE_FIXED_SIZE, "a SITE entry"))
			return;
		uint32_t id = ttlog__get_u32(c.p + TTLOG_FMT_SITE_ID_OFF);
		unsigned level = c.p[TTLOG_FMT_SITE_LEVEL_OFF];
		unsigned nargs = c.p[TTLOG_FMT_SITE_NARGS_OFF];
		unsigned reserved = ttlog__get_u16(c.p + TTLOG_FMT_SITE_RESERVED_OFF);
		uint32_t line = ttlog__get_u32(c.p + TTLOG_FMT_SITE_LINE_OFF);
		cur_skip(&c, TTLOG_FMT_SITE_FIXED_SIZE);
		if (!cur_need(r, &c, nargs, "argument types"))
			return;
		const unsigned char *types = c.p;
		cur_skip(&c, nargs);
		const unsigned char *s[4];
		size_t n[4];
		for (int k = 0; k < 4; k++)
			if (!cur_str_raw(r, &c, site_string_names[k], &s[k], &n[k]))
				return;
		r->site_entries++;

		/* The entry is framed; now check what it says. */
		if (id == 0) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_ID_OFF,
					     "expected a site id of at least 1, found 0");
			continue;
		}
		if (level > TTLOG_LEVEL_FATAL) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_LEVEL_OFF,
					     "expected a site level 0..5, found %u", level);
			continue;
		}
		if (nargs > TTLOG_FMT_MAX_ARGS) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_NARGS_OFF,
					     "expected at most %u arguments, found %u",
					     TTLOG_FMT_MAX_ARGS, nargs);
			continue;
		}
		unsigned k;
		for (k = 0; k < nargs; k++)
			if (types[k] < TTLOG_ARG_BOOL || types[k] > TTLOG_ARG_STR)
				break;
		if (k < nargs) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_FIXED_SIZE + k,
					     "expected an argument type 1..14, found %u",
					     (unsigned)types[k]);
			continue;
		}
		if (ttlog__reader_idmap_find(&r->site_map, id) != NOWHERE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_ID_OFF,
					     "expected a new site id, found site %u defined again",
					     (unsigned)id);
			continue;
		}
		if (reserved != 0)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITE_RESERVED_OFF,
					     "expected a zero reserved field, found 0x%04x",
					     reserved);

		if (!ttlog__reader_grow(r, (void **)&r->sites, &r->sites_cap, r->nsites,
					sizeof *r->sites))
			return;
		struct rsite *st = &r->sites[r->nsites];
		memset(st, 0, sizeof *st);
		st->info.id = id;
		st->info.level = (int)level;
		st->info.line = line;
		st->info.nargs = nargs;
		if (nargs)
			memcpy(st->types, types, nargs);
		const char **dst[4] = {&st->info.format, &st->info.file, &st->info.function,
				       &st->info.target};
		for (int j = 0; j < 4; j++) {
			*dst[j] = ttlog__reader_arena_str(r, s[j], n[j]);
			if (!*dst[j])
				return;
		}
		if (!ttlog__reader_idmap_add(r, &r->site_map, id, r->nsites))
			return;
		r->nsites++;
	}
	/* Bytes after the last entry are left for later versions. */
}

static const char *kind_name(unsigned kind)
{
	static const char *const names[] = {"log",        "context push", "context pop", "restate",
					    "span begin", "span end",     "span field"};
	return kind < TTLOG_ARRAY_SIZE(names) ? names[kind] : "?";
}

/* Whether argument i of a site is a U64 (span ids). */
static int u64_arg(const struct rsite *st, unsigned i)
{
	return i < st->info.nargs && st->types[i] == TTLOG_ARG_U64;
}

/* Whether a site's arguments are what its kind needs. */
static int kind_fits(const struct rsite *st, unsigned kind, unsigned mask)
{
	switch (kind) {
	case TTLOG_FMT_KIND_CONTEXT_PUSH: return st->info.nargs == 1 && mask == 0;
	case TTLOG_FMT_KIND_CONTEXT_POP: return st->info.nargs == 0;
	case TTLOG_FMT_KIND_RESTATE: return st->info.nargs == 1 && st->types[0] == TTLOG_ARG_U32;
	case TTLOG_FMT_KIND_SPAN_BEGIN:
		return u64_arg(st, 0) && u64_arg(st, 1) && u64_arg(st, 2) && u64_arg(st, 3) &&
		       (mask & 0xfu) == 0;
	case TTLOG_FMT_KIND_SPAN_END: return st->info.nargs == 1 && u64_arg(st, 0);
	case TTLOG_FMT_KIND_SPAN_FIELD: return st->info.nargs == 2 && u64_arg(st, 0) && mask == 0;
	default: return 1;
	}
}

/*
 * SITX: the field names and kind of sites defined by earlier SITE entries.
 * A problem with one entry loses that entry's names (its events still
 * decode, with every argument given to the format).
 */
static void parse_sitx(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "SITX"};
	if (!cur_need(r, &c, 4, "the SITX entry count"))
		return;
	uint32_t count = ttlog__get_u32(c.p);
	cur_skip(&c, 4);
	for (uint32_t i = 0; i < count && !r->oom; i++) {
		size_t at = c.off;
		if (!cur_need(r, &c, TTLOG_FMT_SITX_FIXED_SIZE, "a SITX entry"))
			return;
		uint32_t id = ttlog__get_u32(c.p + TTLOG_FMT_SITX_ID_OFF);
		unsigned kind = c.p[TTLOG_FMT_SITX_KIND_OFF];
		unsigned reserved = c.p[TTLOG_FMT_SITX_RESERVED_OFF];
		unsigned mask = ttlog__get_u16(c.p + TTLOG_FMT_SITX_FIELDS_OFF);
		cur_skip(&c, TTLOG_FMT_SITX_FIXED_SIZE);
		const unsigned char *names[TTLOG_FMT_MAX_ARGS];
		size_t name_len[TTLOG_FMT_MAX_ARGS];
		unsigned nnames = (unsigned)__builtin_popcount(mask);
		for (unsigned k = 0; k < nnames; k++)
			if (!cur_str_raw(r, &c, "field name", &names[k], &name_len[k]))
				return;

		size_t si = ttlog__reader_idmap_find(&r->site_map, id);
		if (si == NOWHERE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITX_ID_OFF,
					     "expected the id of a site defined by an earlier "
					     "SITE entry, found %u",
					     (unsigned)id);
			continue;
		}
		struct rsite *st = &r->sites[si];
		if (st->extended) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITX_ID_OFF,
					     "expected one SITX entry per site, found site %u "
					     "extended again",
					     (unsigned)id);
			continue;
		}
		if (kind > TTLOG_FMT_KIND_MAX) {
			ttlog__reader_report(r, TTLOG_E_VERSION, at + TTLOG_FMT_SITX_KIND_OFF,
					     "expected a site kind this reader knows (0..%u), "
					     "found %u",
					     TTLOG_FMT_KIND_MAX, kind);
			/* Its records are not log calls: never shown as events. */
			st->extended = 1;
			st->info.kind = READER_KIND_UNKNOWN;
			continue;
		}
		if (mask >> st->info.nargs) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITX_FIELDS_OFF,
					     "expected field bits for the %u arguments of site "
					     "%u, found 0x%04x",
					     st->info.nargs, (unsigned)id, mask);
			continue;
		}
		if (!kind_fits(st, kind, mask)) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITX_KIND_OFF,
					     "expected the arguments of a %s site, found site %u "
					     "with %u arguments",
					     kind_name(kind), (unsigned)id, st->info.nargs);
			continue;
		}
		if (reserved != 0)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG_FMT_SITX_RESERVED_OFF,
					     "expected a zero reserved field, found 0x%02x",
					     reserved);
		st->extended = 1;
		st->info.kind = (int)kind;
		/* Span ids are not arguments of the format (a span's name). */
		st->info.explicit_args = mask | (kind == TTLOG_FMT_KIND_SPAN_BEGIN ? 0xfu
						 : kind == TTLOG_FMT_KIND_SPAN_END ? 0x1u
						 : kind == TTLOG_FMT_KIND_SPAN_FIELD ? 0x3u
										     : 0u);
		for (unsigned a = 0, k = 0; a < st->info.nargs; a++) {
			if (!(mask & (1u << a)))
				continue;
			st->explicit_names[a] = ttlog__reader_arena_str(r, names[k], name_len[k]);
			if (!st->explicit_names[a])
				return;
			k++;
		}
	}
}

/* Whether key (len bytes) is already a field of the site. */
static int key_taken(const struct rsite *st, const char *key, size_t len)
{
	for (unsigned i = 0; i < st->info.nfields; i++)
		if (strlen(st->fields[i].key) == len && memcmp(st->fields[i].key, key, len) == 0)
			return 1;
	return 0;
}

/* Adds a field, renaming a key that is taken to key_2, key_3, ... */
static void add_field(struct ttlog_reader *r, struct rsite *st, const char *key, size_t len,
		      unsigned arg, int source)
{
	char name[TTLOG_FIELD_NAME_MAX + 16];
	if (st->info.nfields >= TTLOG_ARRAY_SIZE(st->fields))
		return; /* cannot happen: see struct rsite */
	len = TTLOG_MIN(len, (size_t)TTLOG_FIELD_NAME_MAX);
	memcpy(name, key, len);
	size_t n = len;
	for (unsigned dup = 2; key_taken(st, name, n); dup++)
		n = len + (size_t)snprintf(name + len, sizeof name - len, "_%u", dup);
	const char *copy = ttlog__reader_arena_str(r, (const unsigned char *)name, n);
	if (!copy)
		return;
	struct ttlog_site_field *f = &st->fields[st->info.nfields++];
	f->key = copy;
	f->arg = arg;
	f->source = source;
}

/*
 * The fields of a site: the format's "key=%..." conversions, then the
 * TTLOG_F() fields. Format argument k is the k-th argument that is not an
 * explicit field.
 */
static void site_fields(struct ttlog_reader *r, struct rsite *st)
{
	unsigned to_arg[TTLOG_FMT_MAX_ARGS], nformat = 0;
	for (unsigned a = 0; a < st->info.nargs; a++)
		if (!(st->info.explicit_args & (1u << a)))
			to_arg[nformat++] = a;
	struct ttlog__format_key keys[TTLOG_FMT_MAX_ARGS];
	unsigned used;
	unsigned nkeys = ttlog__format_keys(st->info.format, keys, TTLOG_FMT_MAX_ARGS, &used);
	for (unsigned k = 0; k < nkeys && !r->oom; k++)
		if (keys[k].arg < nformat)
			add_field(r, st, keys[k].key, keys[k].len, to_arg[keys[k].arg],
				  TTLOG_FIELD_FORMAT);
	for (unsigned a = 0; a < st->info.nargs && !r->oom; a++)
		if ((st->info.explicit_args & (1u << a)) && st->explicit_names[a])
			add_field(r, st, st->explicit_names[a], strlen(st->explicit_names[a]), a,
				  TTLOG_FIELD_EXPLICIT);
	/* Arguments the format does not print are not dropped from view. */
	for (unsigned k = used; k < nformat && !r->oom; k++) {
		char name[16];
		int n = snprintf(name, sizeof name, "arg%u", to_arg[k] + 1);
		add_field(r, st, name, (size_t)n, to_arg[k], TTLOG_FIELD_UNUSED);
	}
}

/* The thread with this index, created (tid, no name) if new; NOWHERE on OOM. */
static size_t thread_get(struct ttlog_reader *r, uint32_t index, uint32_t tid)
{
	size_t slot = ttlog__reader_idmap_find(&r->thread_map, index);
	if (slot != NOWHERE)
		return slot;
	if (!ttlog__reader_grow(r, (void **)&r->threads, &r->threads_cap, r->nthreads,
				sizeof *r->threads))
		return NOWHERE;
	struct rthread *t = &r->threads[r->nthreads];
	memset(t, 0, sizeof *t);
	t->info.index = index;
	t->info.tid = tid;
	t->info.name = "";
	t->thrd_off = NOWHERE;
	t->loaded = NOWHERE;
	if (!ttlog__reader_idmap_add(r, &r->thread_map, index, r->nthreads))
		return NOWHERE;
	return r->nthreads++;
}

static void parse_evts(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "EVTS"};
	r->evts_chunks++;
	if (!cur_need(r, &c, TTLOG_FMT_EVTS_FIXED_SIZE, "fixed EVTS fields"))
		return;
	struct rblock b;
	memset(&b, 0, sizeof b);
	b.chunk_off = off;
	b.data_off = c.off + TTLOG_FMT_EVTS_FIXED_SIZE;
	b.data_len = len - TTLOG_FMT_EVTS_FIXED_SIZE;
	b.thread = ttlog__get_u32(p + TTLOG_FMT_EVTS_THREAD_OFF);
	uint32_t tid = ttlog__get_u32(p + TTLOG_FMT_EVTS_TID_OFF);
	b.count = ttlog__get_u32(p + TTLOG_FMT_EVTS_COUNT_OFF);
	b.raw_size = ttlog__get_u32(p + TTLOG_FMT_EVTS_RAW_SIZE_OFF);
	b.first_ticks = ttlog__get_u64(p + TTLOG_FMT_EVTS_FIRST_OFF);
	b.last_ticks = ttlog__get_u64(p + TTLOG_FMT_EVTS_LAST_OFF);
	b.codec = p[TTLOG_FMT_EVTS_CODEC_OFF];

	if (b.raw_size > TTLOG_FMT_MAX_BLOCK_RAW) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG_FMT_EVTS_RAW_SIZE_OFF,
				     "expected a block raw size of at most %u bytes, found %u",
				     TTLOG_FMT_MAX_BLOCK_RAW, (unsigned)b.raw_size);
		return;
	}
	if (b.codec == TTLOG_FMT_CODEC_NONE) {
		if (b.raw_size != b.data_len) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT,
					     c.off + TTLOG_FMT_EVTS_RAW_SIZE_OFF,
					     "expected the raw size of an uncompressed block to "
					     "be its %zu data bytes, found %u",
					     b.data_len, (unsigned)b.raw_size);
			return;
		}
	} else if (b.codec != TTLOG_FMT_CODEC_LZ4) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG_FMT_EVTS_CODEC_OFF,
				     "expected block codec 0 (none) or 1 (LZ4), found %u",
				     (unsigned)b.codec);
		return;
	}
	for (size_t i = TTLOG_FMT_EVTS_CODEC_OFF + 1; i < TTLOG_FMT_EVTS_FIXED_SIZE; i++) {
		if (p[i]) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + i,
					     "expected zero bytes after the codec, found 0x%02x",
					     (unsigned)p[i]);
			break;
		}
	}
	if (thread_get(r, b.thread, tid) == NOWHERE)
		return;
	if (!ttlog__reader_grow(r, (void **)&r->blocks, &r->blocks_cap, r->nblocks,
				sizeof *r->blocks))
		return;
	r->blocks[r->nblocks++] = b;
}

static void parse_thrd(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "THRD"};
	r->thrd_chunks++;
	if (!cur_need(r, &c, TTLOG_FMT_THRD_FIXED_SIZE, "fixed THRD fields"))
		return;
	uint32_t index = ttlog__get_u32(p + TTLOG_FMT_THRD_INDEX_OFF);
	size_t slot = ttlog__reader_idmap_find(&r->thread_map, index);
	if (slot != NOWHERE && r->threads[slot].thrd_off != NOWHERE) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one THRD chunk per thread, found a second one for "
				     "thread %u",
				     (unsigned)index);
		return;
	}
	uint32_t tid = ttlog__get_u32(p + TTLOG_FMT_THRD_TID_OFF);
	slot = thread_get(r, index, tid);
	if (slot == NOWHERE)
		return;
	struct rthread *t = &r->threads[slot];
	uint32_t flags = ttlog__get_u32(p + TTLOG_FMT_THRD_FLAGS_OFF);
	t->thrd_off = off;
	t->info.tid = tid;
	t->info.exited = (flags & TTLOG_FMT_THREAD_EXITED) != 0;
	t->info.crashed = (flags & TTLOG_FMT_THREAD_CRASHED) != 0;
	t->thrd_events = ttlog__get_u64(p + TTLOG_FMT_THRD_EVENTS_OFF);
	t->info.overwritten = ttlog__get_u64(p + TTLOG_FMT_THRD_OVERWRITTEN_OFF);
	t->info.torn = ttlog__get_u64(p + TTLOG_FMT_THRD_TORN_OFF);
	t->info.torn_bytes = ttlog__get_u64(p + TTLOG_FMT_THRD_TORN_BYTES_OFF);
	uint32_t reserved = ttlog__get_u32(p + TTLOG_FMT_THRD_RESERVED_OFF);
	if (reserved)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG_FMT_THRD_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x",
				     (unsigned)reserved);
	cur_skip(&c, TTLOG_FMT_THRD_FIXED_SIZE);
	cur_str(r, &c, "thread name", &t->info.name);
}

static void parse_crsh(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	if (r->have_crash) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one CRSH chunk, found a second one");
		return;
	}
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "CRSH"};
	if (!cur_need(r, &c, TTLOG_FMT_CRSH_FIXED_SIZE, "fixed CRSH fields"))
		return;
	r->have_crash = 1;
	r->info.crashed = 1;
	r->info.crash.signo = (int32_t)ttlog__get_u32(p + TTLOG_FMT_CRSH_SIGNO_OFF);
	r->info.crash.code = (int32_t)ttlog__get_u32(p + TTLOG_FMT_CRSH_CODE_OFF);
	r->info.crash.address = ttlog__get_u64(p + TTLOG_FMT_CRSH_ADDR_OFF);
	r->info.crash.tid = ttlog__get_u32(p + TTLOG_FMT_CRSH_TID_OFF);
	r->info.crash.thread_index = ttlog__get_u32(p + TTLOG_FMT_CRSH_THREAD_OFF);
	cur_skip(&c, TTLOG_FMT_CRSH_FIXED_SIZE);
	cur_str(r, &c, "signal name", &r->info.crash.signal_name);
}

static void parse_end(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, "END"};
	if (!cur_need(r, &c, TTLOG_FMT_END_SIZE, "END fields"))
		return;
	r->have_end = 1;
	r->end_off = off;
	r->end_events = ttlog__get_u64(p + TTLOG_FMT_END_EVENTS_OFF);
	r->end_overwritten = ttlog__get_u64(p + TTLOG_FMT_END_OVERWRITTEN_OFF);
	r->end_torn = ttlog__get_u64(p + TTLOG_FMT_END_TORN_OFF);
	r->end_torn_bytes = ttlog__get_u64(p + TTLOG_FMT_END_TORN_BYTES_OFF);
	r->info.dropped = ttlog__get_u64(p + TTLOG_FMT_END_DROPPED_OFF);
	r->end_threads = ttlog__get_u32(p + TTLOG_FMT_END_THREADS_OFF);
	r->end_sites = ttlog__get_u32(p + TTLOG_FMT_END_SITES_OFF);
	r->end_blocks = ttlog__get_u32(p + TTLOG_FMT_END_BLOCKS_OFF);
	uint32_t reserved = ttlog__get_u32(p + TTLOG_FMT_END_RESERVED_OFF);
	if (reserved)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG_FMT_END_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x",
				     (unsigned)reserved);
}

/* MTRC: metric values, parsed by reader/metrics.c; gauge times are
 * converted here, where the calibration is known. */
static void parse_mtrc(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct ttlog__mtrc_problem pb;
	size_t first = r->metrics.n;
	if (ttlog__mtrc_parse(&r->metrics, p, len, off + TTLOG_FMT_CHUNK_HEADER_SIZE, &pb) != 0) {
		if (pb.status == TTLOG_E_NOMEM)
			r->oom = 1;
		else
			ttlog__reader_report(r, pb.status, pb.off, "%s", pb.what);
	}
	for (size_t i = first; i < r->metrics.n; i++)
		if (r->metrics.items[i].gauge_set)
			r->metrics.items[i].gauge_time_ns =
				ttlog__reader_ticks_to_ns(r, r->metrics.ticks[i]);
}

/* STCK and MODS: stacks and modules, parsed by reader/stacks.c. A damaged
 * one is reported like any damage; the events are not affected. */
static void parse_stacks(struct ttlog_reader *r, uint32_t type, size_t off, const unsigned char *p,
			 size_t len)
{
	struct ttlog__stack_problem pb = {.status = TTLOG_OK};
	size_t at = off + TTLOG_FMT_CHUNK_HEADER_SIZE;
	int rc = type == TTLOG_FMT_CHUNK_STCK ? ttlog__stck_parse(&r->stacks, p, len, at, &pb)
					      : ttlog__mods_parse(&r->stacks, p, len, at, &pb);
	if (rc == 0)
		return;
	if (pb.status == TTLOG_E_NOMEM)
		r->oom = 1;
	else
		ttlog__reader_report(r, pb.status, pb.off, "%s", pb.what);
}

/* Returns the header size to start the chunks at, or 0 if the file cannot be
 * read further. */
static size_t parse_file_header(struct ttlog_reader *r)
{
	const unsigned char *d = r->data;
	size_t n = r->size, m = TTLOG_MIN(n, (size_t)TTLOG_FMT_MAGIC_LEN);
	if (memcmp(d, TTLOG_FMT_MAGIC, m) != 0) {
		char found[3 * TTLOG_FMT_MAGIC_LEN + 1] = "";
		for (size_t i = 0; i < m; i++)
			snprintf(found + 3 * i, 4, "%02x ", (unsigned)d[i]);
		found[3 * m - 1] = '\0'; /* m > 0: an empty file matches any prefix */
		ttlog__reader_report(r, TTLOG_E_NOT_TTLOG, 0,
				     "expected the ttlog magic 89 54 54 4c 4f 47 0d 0a, found %s",
				     found);
		return 0;
	}
	if (n < TTLOG_FMT_FILE_HEADER_SIZE) {
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, 0,
				     "expected a %u-byte file header, found %zu bytes",
				     TTLOG_FMT_FILE_HEADER_SIZE, n);
		return 0;
	}
	uint32_t stored = ttlog__get_u32(d + TTLOG_FMT_FH_CRC_OFF);
	uint32_t crc = ttlog__crc32c(0, d, TTLOG_FMT_FH_CRC_OFF);
	unsigned version = ttlog__get_u16(d + TTLOG_FMT_FH_VERSION_OFF);
	unsigned hsize = ttlog__get_u16(d + TTLOG_FMT_FH_HEADER_SIZE_OFF);
	uint32_t incompat = ttlog__get_u32(d + TTLOG_FMT_FH_INCOMPAT_OFF);
	if (stored != crc) {
		/* The version may be what is damaged: read on as version 1. */
		ttlog__reader_report(r, TTLOG_E_CORRUPT, TTLOG_FMT_FH_CRC_OFF,
				     "expected file header CRC 0x%08x, found 0x%08x",
				     (unsigned)stored, (unsigned)crc);
		r->info.format_version = TTLOG_FMT_VERSION;
		return TTLOG_FMT_FILE_HEADER_SIZE;
	}
	r->info.format_version = version;
	if (version != TTLOG_FMT_VERSION) {
		ttlog__reader_report(r,
				     version > TTLOG_FMT_VERSION ? TTLOG_E_VERSION : TTLOG_E_CORRUPT,
				     TTLOG_FMT_FH_VERSION_OFF,
				     "expected format version %u, found %u", TTLOG_FMT_VERSION,
				     version);
		return 0;
	}
	if (incompat & ~TTLOG_FMT_INCOMPAT_KNOWN) {
		ttlog__reader_report(r, TTLOG_E_VERSION, TTLOG_FMT_FH_INCOMPAT_OFF,
				     "expected no incompatible feature flags this reader does not "
				     "know, found 0x%08x",
				     (unsigned)incompat);
		return 0;
	}
	if (hsize < TTLOG_FMT_FILE_HEADER_SIZE) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, TTLOG_FMT_FH_HEADER_SIZE_OFF,
				     "expected a file header size of at least %u, found %u",
				     TTLOG_FMT_FILE_HEADER_SIZE, hsize);
		return TTLOG_FMT_FILE_HEADER_SIZE;
	}
	if (hsize > n) {
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, TTLOG_FMT_FH_HEADER_SIZE_OFF,
				     "expected a %u-byte file header, found %zu bytes", hsize, n);
		return 0;
	}
	return hsize;
}

static void parse_chunks(struct ttlog_reader *r, size_t off)
{
	int first = 1;
	while (off < r->size && !r->oom) {
		size_t left = r->size - off;
		if (left < TTLOG_FMT_CHUNK_HEADER_SIZE) {
			ttlog__reader_report(r, TTLOG_E_TRUNCATED, off,
					     "expected a %u-byte chunk header, found %zu bytes "
					     "before the end of the file",
					     TTLOG_FMT_CHUNK_HEADER_SIZE, left);
			return;
		}
		const unsigned char *h = r->data + off;
		uint32_t type = ttlog__get_u32(h + TTLOG_FMT_CH_TYPE_OFF);
		uint32_t flags = ttlog__get_u32(h + TTLOG_FMT_CH_FLAGS_OFF);
		uint32_t len = ttlog__get_u32(h + TTLOG_FMT_CH_LENGTH_OFF);
		uint32_t stored = ttlog__get_u32(h + TTLOG_FMT_CH_CRC_OFF);
		char name[16];
		fourcc_name(type, name);
		left -= TTLOG_FMT_CHUNK_HEADER_SIZE;

		if (len > TTLOG_FMT_MAX_CHUNK || len > left) {
			/* A damaged length, or the end of a cut file: a valid chunk
			 * further on tells them apart. */
			size_t next = resync_scan(r, off + 1);
			if (len > TTLOG_FMT_MAX_CHUNK)
				ttlog__reader_report(r, TTLOG_E_CORRUPT,
						     off + TTLOG_FMT_CH_LENGTH_OFF,
						     "expected a chunk payload length of at most "
						     "%u bytes, found %u",
						     TTLOG_FMT_MAX_CHUNK, (unsigned)len);
			else if (next != NOWHERE)
				ttlog__reader_report(r, TTLOG_E_CORRUPT,
						     off + TTLOG_FMT_CH_LENGTH_OFF,
						     "expected a chunk payload length that fits "
						     "in the file, found %u with %zu bytes left",
						     (unsigned)len, left);
			else
				ttlog__reader_report(r, TTLOG_E_TRUNCATED, off,
						     "expected %u payload bytes of %s chunk, "
						     "found %zu",
						     (unsigned)len, name, left);
			if (next == NOWHERE)
				return;
			off = next;
			first = 0;
			continue;
		}
		const unsigned char *payload = h + TTLOG_FMT_CHUNK_HEADER_SIZE;
		uint32_t crc = ttlog__chunk_crc(h, payload, len);
		if (crc != stored) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "expected chunk CRC 0x%08x, found 0x%08x",
					     (unsigned)stored, (unsigned)crc);
			off = resync_after(r, off, len);
			if (off == NOWHERE)
				return;
			first = 0;
			continue;
		}
		if (first && type != TTLOG_FMT_CHUNK_HEAD)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "expected a HEAD chunk first, found %s", name);
		first = 0;
		switch (type) {
		case TTLOG_FMT_CHUNK_HEAD: parse_head(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_SITE: parse_site(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_SITX: parse_sitx(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_EVTS: parse_evts(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_THRD: parse_thrd(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_CRSH: parse_crsh(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_SMPL:
			ttlog__smpl_parse(r, &r->smpl, off + TTLOG_FMT_CHUNK_HEADER_SIZE, payload, len);
			break;
		case TTLOG_FMT_CHUNK_MTRC: parse_mtrc(r, off, payload, len); break;
		case TTLOG_FMT_CHUNK_STCK:
		case TTLOG_FMT_CHUNK_MODS: parse_stacks(r, type, off, payload, len); break;
		case TTLOG_FMT_CHUNK_END:
			parse_end(r, off, payload, len);
			if (r->have_end)
				return; /* whatever follows END is not part of the file */
			break;
		default:
			if (flags & TTLOG_FMT_CHUNK_REQUIRED) {
				ttlog__reader_report(r, TTLOG_E_VERSION, off,
						     "expected a chunk type this reader knows, "
						     "found required chunk %s",
						     name);
				return;
			}
			break; /* unknown and optional: skipped */
		}
		off += TTLOG_FMT_CHUNK_HEADER_SIZE + (size_t)len;
	}
}

/* ---- Records ------------------------------------------------------------- */

static const char *arg_type_name(int type)
{
	static const char *const names[] = {"?",   "BOOL", "CHAR", "I8",  "U8",  "I16",
					    "U16", "I32",  "U32",  "I64", "U64", "F64",
					    "LDBL", "PTR", "STR"};
	return type >= 0 && (size_t)type < TTLOG_ARRAY_SIZE(names) ? names[type] : "?";
}

/* Bytes of an argument before any string bytes. */
static size_t arg_width(int type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: return 1;
	case TTLOG_ARG_I16: case TTLOG_ARG_U16: return 2;
	case TTLOG_ARG_I32: case TTLOG_ARG_U32: case TTLOG_ARG_STR: return 4;
	default: return 8;
	}
}

/*
 * Decodes the record at raw[pos..len). Returns 1, or 0 with the problem in
 * why ("expected ..."). Used by the block pass to validate and by the
 * iteration to decode, so both agree on every record.
 */
static int decode_record(const struct ttlog_reader *r, const unsigned char *raw, size_t len,
			 size_t pos, struct decoded *d, char *why, size_t why_size)
{
	size_t left = len - pos;
	const unsigned char *p = raw + pos;
	if (left < TTLOG_FMT_RECORD_HEADER_SIZE) {
		snprintf(why, why_size,
			 "expected a %u-byte record header, found %zu bytes left in the block",
			 TTLOG_FMT_RECORD_HEADER_SIZE, left);
		return 0;
	}
	uint32_t size = ttlog__get_u32(p);
	uint32_t id = ttlog__get_u32(p + 4);
	if (size < TTLOG_FMT_RECORD_HEADER_SIZE || size % 8 != 0 || size > left) {
		snprintf(why, why_size,
			 "expected a record size that is a multiple of 8 from 16 to %zu, found %u",
			 left, (unsigned)size);
		return 0;
	}
	size_t si = id ? ttlog__reader_idmap_find(&r->site_map, id) : NOWHERE;
	if (si == NOWHERE) {
		snprintf(why, why_size, "expected the id of a site defined in a SITE chunk, found %u",
			 (unsigned)id);
		return 0;
	}
	const struct rsite *site = &r->sites[si];
	d->size = size;
	d->ticks = ttlog__get_u64(p + 8);
	d->site = site;
	size_t at = TTLOG_FMT_RECORD_HEADER_SIZE;
	for (unsigned i = 0; i < site->info.nargs; i++) {
		struct ttlog_arg *a = &d->args[i];
		int type = site->types[i];
		size_t w = arg_width(type);
		memset(a, 0, sizeof *a);
		a->type = type;
		if (w > size - at) {
			snprintf(why, why_size,
				 "expected argument %u (%s) of site %u within the %u-byte record, "
				 "found %zu bytes left",
				 i + 1, arg_type_name(type), (unsigned)id, (unsigned)size, size - at);
			return 0;
		}
		const unsigned char *q = p + at;
		at += w;
		switch (type) {
		case TTLOG_ARG_BOOL: a->v.i = q[0]; break;
		case TTLOG_ARG_CHAR:
		case TTLOG_ARG_I8: a->v.i = (int8_t)q[0]; break;
		case TTLOG_ARG_U8: a->v.u = q[0]; break;
		case TTLOG_ARG_I16: a->v.i = (int16_t)ttlog__get_u16(q); break;
		case TTLOG_ARG_U16: a->v.u = ttlog__get_u16(q); break;
		case TTLOG_ARG_I32: a->v.i = (int32_t)ttlog__get_u32(q); break;
		case TTLOG_ARG_U32: a->v.u = ttlog__get_u32(q); break;
		case TTLOG_ARG_I64: a->v.i = (int64_t)ttlog__get_u64(q); break;
		case TTLOG_ARG_F64:
		case TTLOG_ARG_LDBL: {
			uint64_t bits = ttlog__get_u64(q); /* IEEE-754 binary64 */
			memcpy(&a->v.d, &bits, sizeof a->v.d);
			break;
		}
		case TTLOG_ARG_STR: {
			uint32_t word = ttlog__get_u32(q);
			uint32_t n = word & TTLOG__STR_LEN_MASK;
			if ((word & TTLOG__STR_NULL) && word != TTLOG__STR_NULL) {
				snprintf(why, why_size,
					 "expected string argument %u of a NULL pointer to have no "
					 "bytes, found length word 0x%08x",
					 i + 1, (unsigned)word);
				return 0;
			}
			if (n > size - at) {
				snprintf(why, why_size,
					 "expected string argument %u of %u bytes within the %u-byte "
					 "record, found %zu bytes left",
					 i + 1, (unsigned)n, (unsigned)size, size - at);
				return 0;
			}
			a->str = (const char *)(q + 4);
			a->str_len = n;
			a->str_null = (word & TTLOG__STR_NULL) != 0;
			a->str_truncated = (word & TTLOG__STR_TRUNCATED) != 0;
			at += n;
			break;
		}
		default: a->v.u = ttlog__get_u64(q); break; /* U64, PTR */
		}
	}
	if (((at + 7) & ~(size_t)7) != size) {
		snprintf(why, why_size,
			 "expected a record size of %zu for the arguments of site %u, found %u",
			 (at + 7) & ~(size_t)7, (unsigned)id, (unsigned)size);
		return 0;
	}
	return 1;
}

/* Decompresses a compressed block into dst (raw_size bytes). */
static int block_inflate(const struct ttlog_reader *r, const struct rblock *b, unsigned char *dst,
			 int *got)
{
	*got = LZ4_decompress_safe((const char *)r->data + b->data_off, (char *)dst,
				   (int)b->data_len, (int)b->raw_size);
	return *got == (int)b->raw_size;
}

static int cmp_thread(const void *a, const void *b)
{
	uint32_t x = ((const struct rthread *)a)->info.index;
	uint32_t y = ((const struct rthread *)b)->info.index;
	return (x > y) - (x < y);
}

static size_t thread_slot(const struct ttlog_reader *r, uint32_t index)
{
	size_t lo = 0, hi = r->nthreads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->threads[mid].info.index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Walks the records of block b (its decoded bytes at raw), checking each
 * one and the block header's count and ticks. Sets b->nrec to the records
 * that decode and b->rec_first; widens [*min_ticks, *max_ticks] by the
 * times of events (re-stated openings keep their old times, so they are
 * left out). Returns the number of records that decode.
 */
static uint32_t check_block(struct ttlog_reader *r, struct rblock *b, const unsigned char *raw,
			    uint64_t *min_ticks, uint64_t *max_ticks)
{
	struct decoded d;
	char why[300];
	uint64_t first = 0, last = 0;
	size_t pos = 0;
	uint32_t n = 0;
	int bad = 0;
	while (pos < b->raw_size) {
		if (!decode_record(r, raw, b->raw_size, pos, &d, why, sizeof why)) {
			ttlog__reader_report_record(r, b, pos, why);
			bad = 1;
			break;
		}
		if (n == 0)
			first = d.ticks;
		last = d.ticks;
		if (d.site->info.kind == TTLOG_FMT_KIND_LOG ||
		    d.site->info.kind == TTLOG_FMT_KIND_SPAN_END) {
			*min_ticks = TTLOG_MIN(*min_ticks, d.ticks);
			*max_ticks = TTLOG_MAX(*max_ticks, d.ticks);
		}
		n++;
		pos += d.size;
	}
	b->nrec = n;
	b->rec_first = first;
	b->checked = 1;
	size_t fields = b->chunk_off + TTLOG_FMT_CHUNK_HEADER_SIZE;
	if (!bad && n != b->count)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, fields + TTLOG_FMT_EVTS_COUNT_OFF,
				     "expected the %u records the EVTS header states, found %u",
				     (unsigned)b->count, (unsigned)n);
	else if (!bad && n && (first != b->first_ticks || last != b->last_ticks))
		ttlog__reader_report(r, TTLOG_E_CORRUPT, fields + TTLOG_FMT_EVTS_FIRST_OFF,
				     "expected first and last ticks %llu and %llu as the EVTS "
				     "header states, found %llu and %llu",
				     (unsigned long long)b->first_ticks,
				     (unsigned long long)b->last_ticks, (unsigned long long)first,
				     (unsigned long long)last);
	return n;
}

/* Reports a compressed block that does not decompress to its raw size. */
static void report_inflate(struct ttlog_reader *r, const struct rblock *b, int got)
{
	if (got < 0)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected LZ4 data that decompresses to %u bytes, found "
				     "invalid LZ4 data",
				     (unsigned)b->raw_size);
	else
		ttlog__reader_report(r, TTLOG_E_CORRUPT, b->data_off,
				     "expected LZ4 data that decompresses to %u bytes, found %d "
				     "bytes",
				     (unsigned)b->raw_size, got);
}

/* Pass 2: decodes every record once; see the top of the file. */
static void decode_blocks(struct ttlog_reader *r)
{
	unsigned char *scratch = NULL;
	uint64_t min_ticks = UINT64_MAX, max_ticks = 0;
	for (size_t i = 0; i < r->nblocks && !r->oom; i++) {
		struct rblock *b = &r->blocks[i];
		const unsigned char *raw = r->data + b->data_off;
		if (b->codec == TTLOG_FMT_CODEC_LZ4) {
			if (!scratch) {
				scratch = malloc(TTLOG_FMT_MAX_BLOCK_RAW);
				if (!scratch) {
					r->oom = 1;
					break;
				}
			}
			int got;
			if (!block_inflate(r, b, scratch, &got)) {
				report_inflate(r, b, got);
				b->checked = 1; /* nrec stays 0 */
				continue;
			}
			raw = scratch;
		}
		uint32_t n = check_block(r, b, raw, &min_ticks, &max_ticks);
		r->counters.blocks_decoded++;
		struct rthread *t = &r->threads[b->slot];
		t->info.events += n;
		r->info.events += n;
		if (n && b->codec == TTLOG_FMT_CODEC_LZ4)
			t->max_raw = TTLOG_MAX(t->max_raw, (size_t)b->raw_size);
	}
	free(scratch);
	if (r->info.events) {
		r->info.first_ns = ttlog__reader_ticks_to_ns(r, min_ticks);
		r->info.last_ns = ttlog__reader_ticks_to_ns(r, max_ticks);
	}
}

/*
 * Pass 2 of a lazy open (TTLOG_READER_LAZY): takes every block header at
 * its word. Counts and times come from the headers; each block is checked
 * by check_block() when the iteration first reaches it.
 */
static void count_blocks(struct ttlog_reader *r)
{
	uint64_t min_ticks = UINT64_MAX, max_ticks = 0;
	for (size_t i = 0; i < r->nblocks; i++) {
		struct rblock *b = &r->blocks[i];
		struct rthread *t = &r->threads[b->slot];
		b->nrec = b->count;
		b->rec_first = b->first_ticks;
		if (!b->count)
			continue;
		t->info.events += b->count;
		r->info.events += b->count;
		min_ticks = TTLOG_MIN(min_ticks, b->first_ticks);
		max_ticks = TTLOG_MAX(max_ticks, b->last_ticks);
		if (b->codec == TTLOG_FMT_CODEC_LZ4)
			t->max_raw = TTLOG_MAX(t->max_raw, (size_t)b->raw_size);
	}
	if (r->info.events) {
		r->info.first_ns = ttlog__reader_ticks_to_ns(r, min_ticks);
		r->info.last_ns = ttlog__reader_ticks_to_ns(r, max_ticks);
	}
}

/* Sorts the threads by index, points the blocks at their slots, and lists
 * each thread's blocks that have records. */
static void index_threads(struct ttlog_reader *r)
{
	if (r->nthreads > 1)
		qsort(r->threads, r->nthreads, sizeof *r->threads, cmp_thread);
	ttlog__reader_idmap_free(&r->thread_map); /* the slots moved; not needed any more */
	for (size_t i = 0; i < r->nblocks; i++)
		r->blocks[i].slot = thread_slot(r, r->blocks[i].thread);
}

static void list_blocks(struct ttlog_reader *r)
{
	if (!r->nblocks)
		return;
	r->tblocks = malloc(r->nblocks * sizeof *r->tblocks);
	if (!r->tblocks) {
		r->oom = 1;
		return;
	}
	size_t n = 0;
	for (size_t i = 0; i < r->nblocks; i++)
		if (r->blocks[i].nrec)
			r->threads[r->blocks[i].slot].blk_end++; /* a count for now */
	for (size_t t = 0; t < r->nthreads; t++) {
		size_t count = r->threads[t].blk_end;
		r->threads[t].blk_begin = r->threads[t].blk_end = n;
		n += count;
	}
	for (size_t i = 0; i < r->nblocks; i++)
		if (r->blocks[i].nrec)
			r->tblocks[r->threads[r->blocks[i].slot].blk_end++] = i;
}

/* What the file states about itself against what was found in it. A
 * mismatch after an earlier problem is that problem's consequence, and the
 * first problem is the one kept. */
static void cross_check(struct ttlog_reader *r)
{
	for (size_t i = 0; i < r->nthreads; i++) {
		struct rthread *t = &r->threads[i];
		r->info.overwritten += t->info.overwritten;
		r->info.torn += t->info.torn;
		r->info.torn_bytes += t->info.torn_bytes;
		if (t->thrd_off != NOWHERE && t->thrd_events != t->info.events)
			ttlog__reader_report(r, TTLOG_E_CORRUPT,
					     t->thrd_off + TTLOG_FMT_CHUNK_HEADER_SIZE + TTLOG_FMT_THRD_EVENTS_OFF,
					     "expected the event count of thread %u to be %llu "
					     "(its records), found %llu",
					     (unsigned)t->info.index,
					     (unsigned long long)t->info.events,
					     (unsigned long long)t->thrd_events);
	}
	if (!r->have_end)
		return;
	size_t f = r->end_off + TTLOG_FMT_CHUNK_HEADER_SIZE;
	const struct {
		uint64_t stated, found;
		size_t field;
		const char *what;
	} checks[] = {
		{r->end_events, r->info.events, TTLOG_FMT_END_EVENTS_OFF, "event count"},
		{r->end_overwritten, r->info.overwritten, TTLOG_FMT_END_OVERWRITTEN_OFF,
		 "overwritten count"},
		{r->end_torn, r->info.torn, TTLOG_FMT_END_TORN_OFF, "torn count"},
		{r->end_torn_bytes, r->info.torn_bytes, TTLOG_FMT_END_TORN_BYTES_OFF, "torn bytes"},
		{r->end_threads, r->thrd_chunks, TTLOG_FMT_END_THREADS_OFF, "THRD chunk count"},
		{r->end_sites, r->site_entries, TTLOG_FMT_END_SITES_OFF, "SITE entry count"},
		{r->end_blocks, r->evts_chunks, TTLOG_FMT_END_BLOCKS_OFF, "EVTS chunk count"},
	};
	for (size_t i = 0; i < TTLOG_ARRAY_SIZE(checks); i++)
		if (checks[i].stated != checks[i].found)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, f + checks[i].field,
					     "expected the END %s to be %llu (what the file "
					     "holds), found %llu",
					     checks[i].what, (unsigned long long)checks[i].found,
					     (unsigned long long)checks[i].stated);
}

static void parse(struct ttlog_reader *r)
{
	size_t off = parse_file_header(r);
	if (off) {
		parse_chunks(r, off);
		if (!r->have_end && !r->oom)
			ttlog__reader_report(r, TTLOG_E_TRUNCATED, r->size,
					     "expected an END chunk before the end of the file "
					     "(the file was not finished)");
	}
	if (r->oom)
		return;
	index_threads(r);
	for (size_t i = 0; i < r->nblocks; i++) {
		r->info.blocks++;
		r->info.raw_bytes += r->blocks[i].raw_size;
		r->info.stored_bytes += r->blocks[i].data_len;
	}
	if (r->flags & TTLOG_READER_LAZY)
		count_blocks(r);
	else
		decode_blocks(r);
	if (r->oom)
		return;
	list_blocks(r);
	r->counters.blocks = r->nthreads ? r->threads[r->nthreads - 1].blk_end : 0;
	cross_check(r);
	for (size_t i = 0; i < r->nsites && !r->oom; i++) {
		r->sites[i].info.arg_types = r->sites[i].types;
		site_fields(r, &r->sites[i]);
		r->sites[i].info.fields = r->sites[i].fields;
		if (r->sites[i].info.kind != TTLOG_FMT_KIND_LOG)
			r->has_scopes = 1;
	}
	r->info.complete = r->have_end;
}

/* ---- Iteration ----------------------------------------------------------- */

static int heap_before(const struct ttlog_reader *r, size_t a, size_t b)
{
	const struct rthread *x = &r->threads[a], *y = &r->threads[b];
	if (x->key != y->key)
		return x->key < y->key;
	return x->info.index < y->info.index;
}

static void heap_down(struct ttlog_reader *r, size_t i)
{
	size_t *h = r->heap, n = r->heap_len;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && heap_before(r, h[l], h[m]))
			m = l;
		if (l + 1 < n && heap_before(r, h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		size_t tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static void heap_pop(struct ttlog_reader *r)
{
	r->heap[0] = r->heap[--r->heap_len];
	heap_down(r, 0);
}

/*
 * Moves thread t's cursor to the first block from t->cur on that the range
 * wants, and sets its key. Returns 0 when the thread has nothing left to
 * give. Nothing is decoded here; only block headers are read.
 *
 * Without scopes in the file a thread's records are in time order, so a
 * block that ends before the range is passed over, and one that begins
 * after it ends the thread. With scopes, a segment's re-stated openings keep
 * their old times, so a block's header ticks do not bound its events, and
 * the blocks before the range must be read for the scopes they open and
 * close anyway: they are entered (and counted as scanned), and the range is
 * applied record by record (ttlog_reader_next).
 */
enum { COUNT_NONE, COUNT_DECODED, COUNT_SCANNED };

static int enter_block(struct ttlog_reader *r, struct rthread *t)
{
	for (; t->cur < t->blk_end; t->cur++) {
		const struct rblock *b = &r->blocks[r->tblocks[t->cur]];
		if (!r->has_scopes && ttlog__reader_ticks_to_ns(r, b->first_ticks) > r->until_ns) {
			r->counters.blocks_skipped += t->blk_end - t->cur;
			t->cur = t->blk_end;
			return 0;
		}
		int before = ttlog__reader_ticks_to_ns(r, b->last_ticks) < r->since_ns;
		if (before && !r->has_scopes) {
			r->counters.blocks_skipped++;
			continue;
		}
		t->pending = before ? COUNT_SCANNED : COUNT_DECODED;
		t->pos = 0;
		t->done = 0;
		t->key = b->rec_first;
		return 1;
	}
	return 0;
}

/* Ends thread t's iteration early: the rest of its blocks are not read. */
static void leave_thread(struct ttlog_reader *r, struct rthread *t)
{
	if (t->cur < t->blk_end)
		r->counters.blocks_skipped += t->blk_end - t->cur - 1;
	t->cur = t->blk_end;
	heap_pop(r);
}

TTLOG_API void ttlog_reader_rewind(ttlog_reader *r)
{
	if (!r)
		return;
	r->since_ns = r->want_since;
	r->until_ns = r->want_until;
	r->levels = r->want_levels;
	r->heap_len = 0;
	for (size_t i = 0; i < r->nthreads; i++) {
		struct rthread *t = &r->threads[i];
		t->cur = t->blk_begin;
		t->pending = COUNT_NONE;
		reader_scopes_reset(&t->scopes);
		if (r->heap && enter_block(r, t))
			r->heap[r->heap_len++] = i;
	}
	for (size_t i = r->heap_len / 2; i-- > 0;)
		heap_down(r, i);
}

/*
 * The decoded bytes of thread slot s's current block, or NULL (no memory,
 * or the block does not decompress). A block not checked yet (a lazy open)
 * is checked here, which may lower its record count.
 */
static const unsigned char *thread_block(struct ttlog_reader *r, size_t s)
{
	struct rthread *t = &r->threads[s];
	size_t bi = r->tblocks[t->cur];
	struct rblock *b = &r->blocks[bi];
	const unsigned char *raw = NULL;
	if (b->codec == TTLOG_FMT_CODEC_NONE) {
		raw = r->data + b->data_off;
	} else if (t->loaded == bi) {
		return t->buf;
	} else {
		if (!t->buf) {
			/* Give up other threads' buffers until this one fits the budget. */
			for (size_t j = 0;
			     j < r->nthreads && r->buf_total + t->max_raw > r->buf_budget; j++) {
				struct rthread *o = &r->threads[j];
				if (j != s && o->buf) {
					free(o->buf);
					o->buf = NULL;
					o->loaded = NOWHERE;
					r->buf_total -= o->max_raw;
				}
			}
			t->buf = malloc(t->max_raw);
			if (!t->buf) {
				ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
							   "out of memory decoding the events of "
							   "thread %u",
							   (unsigned)t->info.index);
				return NULL;
			}
			r->buf_total += t->max_raw;
		}
		int got;
		if (!block_inflate(r, b, t->buf, &got)) {
			/* Only a lazy open gets here: an eager one left such a
			 * block out of the thread's list. */
			t->loaded = NOWHERE;
			report_inflate(r, b, got);
			b->checked = 1;
			b->nrec = 0;
			return NULL;
		}
		t->loaded = bi;
		raw = t->buf;
	}
	if (!b->checked) {
		uint64_t lo = UINT64_MAX, hi = 0;
		check_block(r, b, raw, &lo, &hi);
	}
	return raw;
}

/* Copies the strings of an event to NUL-terminated storage. */
static int copy_strings(struct ttlog_reader *r, const struct decoded *d)
{
	size_t need = (size_t)d->size + TTLOG_FMT_MAX_ARGS;
	if (r->strbuf_cap < need) {
		char *p = realloc(r->strbuf, need);
		if (!p)
			return 0;
		r->strbuf = p;
		r->strbuf_cap = need;
	}
	char *out = r->strbuf;
	for (unsigned i = 0; i < d->site->info.nargs; i++) {
		r->args[i] = d->args[i];
		if (d->args[i].type != TTLOG_ARG_STR)
			continue;
		if (d->args[i].str_null) {
			r->args[i].str = NULL;
			continue;
		}
		memcpy(out, d->args[i].str, d->args[i].str_len);
		out[d->args[i].str_len] = '\0';
		r->args[i].str = out;
		out += d->args[i].str_len + 1;
	}
	return 1;
}

/* Fills r->fields for an event of site st on thread t: the site's fields,
 * then what its open scopes give it. Returns the count. */
static unsigned event_fields(struct ttlog_reader *r, const struct rthread *t,
			     const struct rsite *st)
{
	unsigned n = st->info.nfields;
	for (unsigned i = 0; i < n; i++) {
		const struct ttlog_site_field *f = &st->info.fields[i];
		r->fields[i].key = f->key;
		r->fields[i].value = &r->args[f->arg];
		r->fields[i].source = f->source;
	}
	return reader_scopes_fields(&t->scopes, st->info.kind, r->fields, n);
}

/* Moves thread heap[0]'s cursor past the record just read (size bytes). */
static void advance(struct ttlog_reader *r, struct rthread *t, const struct rblock *b,
		    const unsigned char *raw, uint32_t size)
{
	t->pos += size;
	if (++t->done < b->nrec) {
		t->key = ttlog__get_u64(raw + t->pos + 8);
		heap_down(r, 0);
		return;
	}
	t->cur++;
	if (enter_block(r, t))
		heap_down(r, 0);
	else
		heap_pop(r);
}

/* A log record's level is one the range wants. */
static int level_wanted(const struct ttlog_reader *r, int level)
{
	return level < 0 || level > TTLOG_LEVEL_FATAL || (r->levels >> level) & 1u;
}

TTLOG_API int ttlog_reader_next(ttlog_reader *r, struct ttlog_event *ev)
{
	if (!r || !ev)
		return 0;
	while (r->heap_len) {
		size_t s = r->heap[0];
		struct rthread *t = &r->threads[s];
		const unsigned char *raw = thread_block(r, s);
		const struct rblock *b = &r->blocks[r->tblocks[t->cur]];
		if (t->pending) {
			if (t->pending == COUNT_SCANNED)
				r->counters.blocks_scanned++;
			else
				r->counters.blocks_decoded++;
			t->pending = COUNT_NONE;
		}
		struct decoded d;
		char why[300];
		if (!raw && b->nrec) {
			leave_thread(r, t); /* out of memory, reported */
			continue;
		}
		if (!raw || t->done >= b->nrec) {
			/* A lazily checked block with no more usable records
			 * (reported): the thread goes on with its next block. */
			t->cur++;
			if (enter_block(r, t))
				heap_down(r, 0);
			else
				heap_pop(r);
			continue;
		}
		if (!decode_record(r, raw, b->raw_size, t->pos, &d, why, sizeof why)) {
			ttlog__reader_report_record(r, b, t->pos,
						    why); /* checked before; cannot happen */
			leave_thread(r, t);
			continue;
		}
		r->counters.records_decoded++;
		int64_t ns = ttlog__reader_ticks_to_ns(r, d.ticks);
		if (d.site->info.kind == TTLOG_FMT_KIND_LOG) {
			/* A thread's log records are in time order: the first one
			 * after the range ends the thread. Records the range does
			 * not want are passed over before their strings are copied. */
			if (ns > r->until_ns) {
				leave_thread(r, t);
				continue;
			}
			if (ns < r->since_ns || !level_wanted(r, d.site->info.level)) {
				advance(r, t, b, raw, d.size);
				continue;
			}
		}
		if (!copy_strings(r, &d)) {
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory decoding the events of thread %u",
						   (unsigned)t->info.index);
			leave_thread(r, t);
			continue;
		}
		const struct ttlog_span *span = NULL;
		unsigned depth = 0;
		int what = d.site->info.kind == READER_KIND_UNKNOWN
				   ? READER_SCOPES_STATE
				   : reader_scopes_record(&t->scopes, &d.site->info, r->args, ns, &span,
							  &depth);
		int is_event = what == READER_SCOPES_EVENT;
		if (what == READER_SCOPES_NOMEM)
			ttlog__reader_report_plain(r, TTLOG_E_NOMEM,
						   "out of memory rebuilding the scopes of thread "
						   "%u",
						   (unsigned)t->info.index);
		if (is_event && d.site->info.kind != TTLOG_FMT_KIND_LOG) {
			/* Span begins and ends: after their scope change. */
			if (ns > r->until_ns) {
				leave_thread(r, t);
				continue;
			}
			is_event = ns >= r->since_ns;
		}
		if (is_event) {
			ev->ticks = d.ticks;
			ev->time_ns = ns;
			ev->site = &d.site->info;
			ev->thread = &t->info;
			ev->nargs = d.site->info.nargs;
			ev->args = r->args;
			ev->fields = r->fields;
			ev->nfields = event_fields(r, t, d.site);
			ev->kind = d.site->info.kind == TTLOG_FMT_KIND_SPAN_BEGIN ? TTLOG_EVENT_SPAN_BEGIN
				   : d.site->info.kind == TTLOG_FMT_KIND_SPAN_END ? TTLOG_EVENT_SPAN_END
										 : TTLOG_EVENT_LOG;
			ev->span = span;
			ev->depth = depth;
			ev->size = d.size;
		}
		/* The cursor moves on before the event is returned; the event
		 * points into r->args and r->fields, not into the block. */
		advance(r, t, b, raw, d.size);
		if (is_event)
			return 1;
	}
	return 0;
}

/* ---- Opening and closing ------------------------------------------------- */

static struct ttlog_reader *reader_new(const char *name)
{
	struct ttlog_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->path = strdup(name);
	if (!r->path) {
		free(r);
		return NULL;
	}
	r->status = TTLOG_OK;
	r->want_since = r->since_ns = INT64_MIN;
	r->want_until = r->until_ns = INT64_MAX;
	r->want_levels = r->levels = TTLOG_READER_ALL_LEVELS;
	r->info.path = r->path;
	r->info.executable = "";
	r->info.hostname = "";
	r->info.reason = "";
	r->info.crash.signal_name = "";
	return r;
}

/* Reads the whole file; on failure sets the error (or oom) and returns 0. */
static int read_all(struct ttlog_reader *r, const char *path)
{
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		ttlog__reader_report_plain(r, TTLOG_E_OPEN, "cannot open: %s", strerror(errno));
		return 0;
	}
	struct stat st;
	size_t cap = 65536;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < SIZE_MAX)
		cap = (size_t)st.st_size + 1; /* + 1: the read that sees the end fits */
	unsigned char *buf = malloc(cap);
	size_t len = 0;
	while (buf) {
		if (len == cap) {
			unsigned char *p = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!p) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ttlog__reader_report_plain(r, TTLOG_E_OPEN, "cannot read: %s",
						   strerror(errno));
			free(buf);
			close(fd);
			return 0;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	if (!buf) {
		r->oom = 1;
		return 0;
	}
	r->data = buf;
	r->size = len;
	return 1;
}

static void reader_free(struct ttlog_reader *r)
{
	free(r->data);
	free(r->path);
	free(r->error);
	free(r->sites);
	ttlog__reader_idmap_free(&r->site_map);
	for (size_t i = 0; i < r->nthreads; i++) {
		free(r->threads[i].buf);
		reader_scopes_free(&r->threads[i].scopes);
	}
	free(r->threads);
	ttlog__reader_idmap_free(&r->thread_map);
	free(r->blocks);
	free(r->tblocks);
	free(r->heap);
	free(r->strbuf);
	ttlog__smpl_free(&r->smpl);
	ttlog__rmetrics_free(&r->metrics);
	ttlog__rstacks_free(&r->stacks);
	while (r->arena) {
		struct arena_block *next = r->arena->next;
		free(r->arena);
		r->arena = next;
	}
	free(r);
}

/* Parses r->data and hands the reader out (or frees it on OOM). */
static int finish_open(struct ttlog_reader *r, int have_data, ttlog_reader **out)
{
	if (have_data) {
		r->scan_budget = READER_RESYNC_SLACK + (uint64_t)r->size * READER_RESYNC_FACTOR;
		r->buf_budget = READER_BUFFER_BUDGET;
		if (r->size > READER_BUFFER_BUDGET / READER_BUFFER_FACTOR)
			r->buf_budget = r->size <= SIZE_MAX / READER_BUFFER_FACTOR
						? r->size * READER_BUFFER_FACTOR
						: SIZE_MAX;
		parse(r);
	}
	if (!r->oom && r->nthreads) {
		r->heap = malloc(r->nthreads * sizeof *r->heap);
		if (!r->heap)
			r->oom = 1;
	}
	if (r->oom) {
		reader_free(r);
		return TTLOG_E_NOMEM;
	}
	ttlog_reader_rewind(r);
	*out = r;
	return r->status;
}

TTLOG_API int ttlog_reader_open_ex(const char *path, unsigned flags, ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!path || (flags & ~TTLOG_READER_LAZY))
		return TTLOG_E_INVALID;
	struct ttlog_reader *r = reader_new(path);
	if (!r)
		return TTLOG_E_NOMEM;
	r->flags = flags;
	return finish_open(r, read_all(r, path), reader);
}

TTLOG_API int ttlog_reader_open(const char *path, ttlog_reader **reader)
{
	return ttlog_reader_open_ex(path, 0, reader);
}

TTLOG_API void ttlog_reader_set_range(ttlog_reader *r, int64_t since_ns, int64_t until_ns,
				      unsigned level_mask)
{
	if (!r)
		return;
	r->want_since = since_ns;
	r->want_until = until_ns;
	r->want_levels = level_mask & TTLOG_READER_ALL_LEVELS;
}

TTLOG_API const struct ttlog_reader_counters *ttlog_reader_counters(const ttlog_reader *r)
{
	return r ? &r->counters : NULL;
}

TTLOG_API size_t ttlog_reader_stacks(const ttlog_reader *r, const struct ttlog_stack **stacks)
{
	size_t n = r ? r->stacks.nstacks : 0;
	if (stacks)
		*stacks = n ? r->stacks.stacks : NULL;
	return n;
}

TTLOG_API size_t ttlog_reader_modules(const ttlog_reader *r, const struct ttlog_module **modules)
{
	size_t n = r ? r->stacks.nmods : 0;
	if (modules)
		*modules = n ? r->stacks.mods : NULL;
	return n;
}

TTLOG_API uint32_t ttlog_reader_modules_missing(const ttlog_reader *r)
{
	return r ? r->stacks.missing : 0;
}

int ttlog__reader_open_memory(const void *data, size_t size, const char *name,
			      ttlog_reader **reader)
{
	if (!reader)
		return TTLOG_E_INVALID;
	*reader = NULL;
	if (!data && size)
		return TTLOG_E_INVALID;
	struct ttlog_reader *r = reader_new(name ? name : "<memory>");
	if (!r)
		return TTLOG_E_NOMEM;
	r->data = malloc(size ? size : 1);
	if (!r->data) {
		reader_free(r);
		return TTLOG_E_NOMEM;
	}
	if (size)
		memcpy(r->data, data, size);
	r->size = size;
	return finish_open(r, 1, reader);
}

TTLOG_API void ttlog_reader_close(ttlog_reader *r)
{
	if (r)
		reader_free(r);
}

TTLOG_API const struct ttlog_file_info *ttlog_reader_info(const ttlog_reader *r)
{
	return r ? &r->info : NULL;
}

TTLOG_API size_t ttlog_reader_thread_count(const ttlog_reader *r)
{
	return r ? r->nthreads : 0;
}

TTLOG_API const struct ttlog_thread_info *ttlog_reader_thread(const ttlog_reader *r, size_t i)
{
	return r && i < r->nthreads ? &r->threads[i].info : NULL;
}

/* ---- Hooks for reader/sampling.c ----------------------------------------- */

void ttlog__reader_oom(struct ttlog_reader *r)
{
	r->oom = 1;
}

const struct ttlog_site_info *ttlog__reader_site(const struct ttlog_reader *r, uint32_t id)
{
	size_t i = ttlog__reader_idmap_find(&r->site_map, id);
	return i == NOWHERE ? NULL : &r->sites[i].info;
}

struct ttlog__smpl *ttlog__reader_smpl(const struct ttlog_reader *r)
{
	return (struct ttlog__smpl *)&r->smpl;
}

/* ---- Metrics ------------------------------------------------------------- */

TTLOG_API const struct ttlog_metric_value *ttlog_reader_metrics(const ttlog_reader *r, size_t *count)
{
	size_t n = r ? r->metrics.n : 0;
	if (count)
		*count = n;
	return n ? r->metrics.items : NULL;
}
