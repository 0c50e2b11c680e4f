/* SPDX-License-Identifier: MIT */
/*
 * chunks.c - pass 1 of opening a file (see reader/open.c): walks the chunks
 * from the file header to END. Every payload is checked against its CRC-32C
 * before anything in it is used. HEAD, SITE, SITX, THRD, TNAM, CRSH and END are
 * decoded here, SMPL, MTRC, STCK and MODS by reader/smpl_read.c, mtrc_read.c
 * and stacks.c; EVTS chunks only have their fixed fields checked and their
 * place remembered for pass 2 (reader/records.c). A damaged chunk is
 * dropped and the walk resynchronises (resync_after()), so one bad chunk
 * costs only its own contents. The hooks that smpl_read.c calls back are at
 * the end.
 */
#include <stdio.h>
#include <string.h>

#include "common/crc32c.h"
#include "common/internal.h"
#include "reader/impl.h"
#include "reader/reader_internal.h"
#include "format/format.h"
#include "ttlog_reader.h"

_Static_assert(TTLOG__FMT_MAX_ARGS <= 255, "nargs is a byte");

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

/* A chunk type for messages: its four letters, or hex if they are not text. */
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

static int known_type(uint32_t type)
{
	return type == TTLOG__FMT_CHUNK_HEAD || type == TTLOG__FMT_CHUNK_SITE ||
	       type == TTLOG__FMT_CHUNK_EVTS || type == TTLOG__FMT_CHUNK_THRD ||
	       type == TTLOG__FMT_CHUNK_CRSH || type == TTLOG__FMT_CHUNK_END ||
	       type == TTLOG__FMT_CHUNK_SITX || type == TTLOG__FMT_CHUNK_SMPL ||
	       type == TTLOG__FMT_CHUNK_MTRC || type == TTLOG__FMT_CHUNK_STCK ||
	       type == TTLOG__FMT_CHUNK_MODS || type == TTLOG__FMT_CHUNK_PRMT ||
	       type == TTLOG__FMT_CHUNK_INDX || type == TTLOG__FMT_CHUNK_TNAM;
}

/* The smallest payload a valid chunk of a known type can have. */
static size_t min_payload(uint32_t type)
{
	switch (type) {
	case TTLOG__FMT_CHUNK_HEAD: return TTLOG__FMT_HEAD_FIXED_SIZE + 12;
	case TTLOG__FMT_CHUNK_SITE: return 4;
	case TTLOG__FMT_CHUNK_SITX: return 4;
	case TTLOG__FMT_CHUNK_SMPL: return 4;
	case TTLOG__FMT_CHUNK_MTRC: return TTLOG__FMT_MTRC_HEADER_SIZE;
	case TTLOG__FMT_CHUNK_EVTS: return TTLOG__FMT_EVTS_FIXED_SIZE;
	case TTLOG__FMT_CHUNK_THRD: return TTLOG__FMT_THRD_FIXED_SIZE + 4;
	case TTLOG__FMT_CHUNK_CRSH: return TTLOG__FMT_CRSH_FIXED_SIZE + 4;
	case TTLOG__FMT_CHUNK_STCK: return TTLOG__FMT_STCK_FIXED_SIZE;
	case TTLOG__FMT_CHUNK_MODS: return TTLOG__FMT_MODS_FIXED_SIZE;
	case TTLOG__FMT_CHUNK_PRMT: return TTLOG__FMT_PRMT_SIZE;
	case TTLOG__FMT_CHUNK_INDX: return TTLOG__FMT_INDX_FIXED_SIZE;
	case TTLOG__FMT_CHUNK_TNAM: return TTLOG__FMT_TNAM_FIXED_SIZE + 4;
	default: return TTLOG__FMT_END_SIZE;
	}
}

/* Whether a chunk of a known type, with a plausible length and a matching
 * CRC, starts at off. Spends the scan budget. */
static int chunk_valid_at(struct ttlog_reader *r, size_t off)
{
	size_t left = r->size - off;
	if (left < TTLOG__FMT_CHUNK_HEADER_SIZE)
		return 0;
	const unsigned char *h = r->data + off;
	uint32_t type = ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF);
	if (!known_type(type))
		return 0;
	uint32_t len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
	if (len > TTLOG__FMT_MAX_CHUNK || len > left - TTLOG__FMT_CHUNK_HEADER_SIZE ||
	    len < min_payload(type))
		return 0;
	if (r->scan_budget < len)
		return 0;
	r->scan_budget -= len;
	return ttlog__chunk_crc(h, h + TTLOG__FMT_CHUNK_HEADER_SIZE, len) ==
	       ttlog__get_u32(h + TTLOG__FMT_CH_CRC_OFF);
}

/* The next offset after `from` where a valid chunk starts, or NOWHERE. */
static size_t resync_scan(struct ttlog_reader *r, size_t from)
{
	for (size_t p = from; p < r->size && r->size - p >= TTLOG__FMT_CHUNK_HEADER_SIZE; p++) {
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
	size_t left = r->size - off - TTLOG__FMT_CHUNK_HEADER_SIZE;
	if (len <= left) {
		size_t next = off + TTLOG__FMT_CHUNK_HEADER_SIZE + len;
		if (next == r->size)
			return next;
		if (r->size - next >= TTLOG__FMT_CHUNK_HEADER_SIZE &&
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
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "HEAD"};
	if (!cur_need(r, &c, TTLOG__FMT_HEAD_FIXED_SIZE, "fixed HEAD fields"))
		return;
	r->have_head = 1;
	r->info.pid = ttlog__get_u32(p + TTLOG__FMT_HEAD_PID_OFF);
	r->info.created_ns = (int64_t)ttlog__get_u64(p + TTLOG__FMT_HEAD_CREATED_OFF);
	r->tick0 = ttlog__get_u64(p + TTLOG__FMT_HEAD_TICK0_OFF);
	r->ns0 = (int64_t)ttlog__get_u64(p + TTLOG__FMT_HEAD_NS0_OFF);
	r->tick1 = ttlog__get_u64(p + TTLOG__FMT_HEAD_TICK1_OFF);
	r->ns1 = (int64_t)ttlog__get_u64(p + TTLOG__FMT_HEAD_NS1_OFF);
	r->info.clock = (int)ttlog__get_u32(p + TTLOG__FMT_HEAD_CLOCK_OFF);
	r->info.writer_version = ttlog__get_u32(p + TTLOG__FMT_HEAD_TTLOG_VER_OFF);
	r->info.window_ns = ttlog__get_u64(p + TTLOG__FMT_HEAD_WINDOW_OFF);
	const uint32_t head_flags = ttlog__get_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF); /* read once */
	r->info.is_segment = (head_flags & TTLOG__FMT_HEAD_FLAG_SEGMENT) != 0;
	if (!ttlog__reader_calibrate(r)) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG__FMT_HEAD_TICK1_OFF,
				     "expected calibration ticks tick1 > tick0 = %llu, found %llu "
				     "(times are shown as raw ticks)",
				     (unsigned long long)r->tick0, (unsigned long long)r->tick1);
	}
	cur_skip(&c, TTLOG__FMT_HEAD_FIXED_SIZE);
	if (!cur_str(r, &c, "executable", &r->info.executable) ||
	    !cur_str(r, &c, "hostname", &r->info.hostname) ||
	    !cur_str(r, &c, "reason", &r->info.reason))
		return;
	/* Revision 5: service, segment, stream_start_ns. A file of revision 4
	 * or earlier ends here. */
	if (c.left == 0) {
		if (r->info.is_segment)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off,
					     "expected the service, segment and stream start of a "
					     "segment's HEAD, found the end of the chunk");
		return;
	}
	if (!cur_str(r, &c, "service", &r->info.service) ||
	    !cur_need(r, &c, TTLOG__FMT_HEAD_SEGMENT_SIZE + TTLOG__FMT_HEAD_STREAM_START_SIZE,
		      "the segment number and stream start"))
		return;
	r->info.segment = ttlog__get_u64(c.p);
	r->info.stream_start_ns = (int64_t)ttlog__get_u64(c.p + TTLOG__FMT_HEAD_SEGMENT_SIZE);
	if (r->info.is_segment && r->info.segment == 0)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off,
				     "expected a segment number of at least 1 in a segment, "
				     "found 0");
	cur_skip(&c, TTLOG__FMT_HEAD_SEGMENT_SIZE + TTLOG__FMT_HEAD_STREAM_START_SIZE);
	/* Revision 14: with the flag TRIGGER, trigger_ns and the rule follow;
	 * without it, what follows is left for later versions. */
	if (!(head_flags & TTLOG__FMT_HEAD_FLAG_TRIGGER))
		return;
	if (!cur_need(r, &c, TTLOG__FMT_HEAD_TRIGGER_NS_SIZE, "the trigger's time"))
		return;
	int64_t when = (int64_t)ttlog__get_u64(c.p);
	cur_skip(&c, TTLOG__FMT_HEAD_TRIGGER_NS_SIZE);
	const char *rule = NULL;
	if (!cur_str(r, &c, "trigger rule", &rule))
		return;
	r->info.trigger_ns = when;
	r->info.trigger_rule = rule;
	/* Bytes after these fields are left for later versions. */
}

static const char *const site_string_names[4] = {"format", "file", "function", "target"};

static void parse_site(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "SITE"};
	if (!cur_need(r, &c, 4, "the SITE entry count"))
		return;
	uint32_t count = ttlog__get_u32(c.p);
	cur_skip(&c, 4);
	/* count is only a loop bound: every entry needs bytes that exist. */
	for (uint32_t i = 0; i < count && !r->oom; i++) {
		size_t at = c.off;
		if (!cur_need(r, &c, TTLOG__FMT_SITE_FIXED_SIZE, "a SITE entry"))
			return;
		uint32_t id = ttlog__get_u32(c.p + TTLOG__FMT_SITE_ID_OFF);
		unsigned level = c.p[TTLOG__FMT_SITE_LEVEL_OFF];
		unsigned nargs = c.p[TTLOG__FMT_SITE_NARGS_OFF];
		unsigned reserved = ttlog__get_u16(c.p + TTLOG__FMT_SITE_RESERVED_OFF);
		uint32_t line = ttlog__get_u32(c.p + TTLOG__FMT_SITE_LINE_OFF);
		cur_skip(&c, TTLOG__FMT_SITE_FIXED_SIZE);
		if (!cur_need(r, &c, nargs, "argument types"))
			return;
		/* Copied, then checked: what is checked is what is kept (a
		 * mapped file's bytes can change meanwhile). */
		unsigned char types[256];
		memcpy(types, c.p, nargs);
		cur_skip(&c, nargs);
		const unsigned char *s[4];
		size_t n[4];
		for (int k = 0; k < 4; k++)
			if (!cur_str_raw(r, &c, site_string_names[k], &s[k], &n[k]))
				return;
		r->site_entries++;

		/* The entry is framed; now check what it says. */
		if (id == 0) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_ID_OFF,
					     "expected a site id of at least 1, found 0");
			continue;
		}
		if (level > TTLOG_LEVEL_FATAL) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_LEVEL_OFF,
					     "expected a site level 0..5, found %u", level);
			continue;
		}
		if (nargs > TTLOG__FMT_MAX_ARGS) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_NARGS_OFF,
					     "expected at most %u arguments, found %u",
					     TTLOG__FMT_MAX_ARGS, nargs);
			continue;
		}
		unsigned k;
		for (k = 0; k < nargs; k++)
			if (types[k] < TTLOG_ARG_BOOL || types[k] > TTLOG_ARG_LD80)
				break;
		if (k < nargs) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_FIXED_SIZE + k,
					     "expected an argument type 1..15, found %u",
					     (unsigned)types[k]);
			continue;
		}
		if (ttlog__reader_idmap_find(&r->site_map, id) != NOWHERE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_ID_OFF,
					     "expected a new site id, found site %u defined again",
					     (unsigned)id);
			continue;
		}
		if (reserved != 0)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITE_RESERVED_OFF,
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
	return kind < TTLOG__ARRAY_SIZE(names) ? names[kind] : "?";
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
	case TTLOG__FMT_KIND_CONTEXT_PUSH: return st->info.nargs == 1 && mask == 0;
	case TTLOG__FMT_KIND_CONTEXT_POP: return st->info.nargs == 0;
	case TTLOG__FMT_KIND_RESTATE: return st->info.nargs == 1 && st->types[0] == TTLOG_ARG_U32;
	case TTLOG__FMT_KIND_SPAN_BEGIN:
		return u64_arg(st, 0) && u64_arg(st, 1) && u64_arg(st, 2) && u64_arg(st, 3) &&
		       (mask & 0xfu) == 0;
	case TTLOG__FMT_KIND_SPAN_END: return st->info.nargs == 1 && u64_arg(st, 0);
	case TTLOG__FMT_KIND_SPAN_FIELD: return st->info.nargs == 2 && u64_arg(st, 0) && mask == 0;
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
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "SITX"};
	if (!cur_need(r, &c, 4, "the SITX entry count"))
		return;
	uint32_t count = ttlog__get_u32(c.p);
	cur_skip(&c, 4);
	for (uint32_t i = 0; i < count && !r->oom; i++) {
		size_t at = c.off;
		if (!cur_need(r, &c, TTLOG__FMT_SITX_FIXED_SIZE, "a SITX entry"))
			return;
		uint32_t id = ttlog__get_u32(c.p + TTLOG__FMT_SITX_ID_OFF);
		unsigned kind = c.p[TTLOG__FMT_SITX_KIND_OFF];
		unsigned reserved = c.p[TTLOG__FMT_SITX_RESERVED_OFF];
		unsigned mask = ttlog__get_u16(c.p + TTLOG__FMT_SITX_FIELDS_OFF);
		cur_skip(&c, TTLOG__FMT_SITX_FIXED_SIZE);
		const unsigned char *names[TTLOG__FMT_MAX_ARGS];
		size_t name_len[TTLOG__FMT_MAX_ARGS];
		unsigned nnames = (unsigned)__builtin_popcount(mask);
		for (unsigned k = 0; k < nnames; k++)
			if (!cur_str_raw(r, &c, "field name", &names[k], &name_len[k]))
				return;

		size_t si = ttlog__reader_idmap_find(&r->site_map, id);
		if (si == NOWHERE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITX_ID_OFF,
					     "expected the id of a site defined by an earlier "
					     "SITE entry, found %u",
					     (unsigned)id);
			continue;
		}
		struct rsite *st = &r->sites[si];
		if (st->extended) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITX_ID_OFF,
					     "expected one SITX entry per site, found site %u "
					     "extended again",
					     (unsigned)id);
			continue;
		}
		if (kind > TTLOG__FMT_KIND_MAX) {
			ttlog__reader_report(r, TTLOG_E_VERSION, at + TTLOG__FMT_SITX_KIND_OFF,
					     "expected a site kind this reader knows (0..%u), "
					     "found %u",
					     TTLOG__FMT_KIND_MAX, kind);
			/* Its records are not log calls: never shown as events. */
			st->extended = 1;
			st->info.kind = READER_KIND_UNKNOWN;
			continue;
		}
		if (mask >> st->info.nargs) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITX_FIELDS_OFF,
					     "expected field bits for the %u arguments of site "
					     "%u, found 0x%04x",
					     st->info.nargs, (unsigned)id, mask);
			continue;
		}
		if (!kind_fits(st, kind, mask)) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITX_KIND_OFF,
					     "expected the arguments of a %s site, found site %u "
					     "with %u arguments",
					     kind_name(kind), (unsigned)id, st->info.nargs);
			continue;
		}
		if (reserved != 0)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SITX_RESERVED_OFF,
					     "expected a zero reserved field, found 0x%02x",
					     reserved);
		st->extended = 1;
		st->info.kind = (int)kind;
		/* Span ids are not arguments of the format (a span's name). */
		st->info.explicit_args = mask | (kind == TTLOG__FMT_KIND_SPAN_BEGIN ? 0xfu
						 : kind == TTLOG__FMT_KIND_SPAN_END ? 0x1u
						 : kind == TTLOG__FMT_KIND_SPAN_FIELD ? 0x3u
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
	char name[TTLOG__FMT_SITX_NAME_MAX + 16];
	if (st->info.nfields >= TTLOG__ARRAY_SIZE(st->fields))
		return; /* cannot happen: see struct rsite */
	len = TTLOG__MIN(len, (size_t)TTLOG__FMT_SITX_NAME_MAX);
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

void ttlog__reader_site_fields(struct ttlog_reader *r, struct rsite *st)
{
	unsigned to_arg[TTLOG__FMT_MAX_ARGS], nformat = 0;
	for (unsigned a = 0; a < st->info.nargs; a++)
		if (!(st->info.explicit_args & (1u << a)))
			to_arg[nformat++] = a;
	struct ttlog__format_key keys[TTLOG__FMT_MAX_ARGS];
	unsigned used;
	unsigned nkeys = ttlog__format_keys(st->info.format, keys, TTLOG__FMT_MAX_ARGS, &used);
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

/* An EVTS chunk. After a PRMT chunk (prmt set), the block is promoted when
 * its thread is the one PRMT names, and the mismatch reported otherwise;
 * the thread is read once for both. */
static void parse_evts(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len,
		       int prmt)
{
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "EVTS"};
	r->evts_chunks++;
	uint32_t thread =
		len >= TTLOG__FMT_EVTS_FIXED_SIZE ? ttlog__get_u32(p + TTLOG__FMT_EVTS_THREAD_OFF) : 0;
	int promoted = prmt && thread == r->prmt_thread;
	if (prmt && !promoted)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, r->prmt_off,
				     "expected the PRMT chunk to be followed by an EVTS "
				     "chunk of thread %u, found one of thread %u (the "
				     "PRMT chunk is dropped)",
				     (unsigned)r->prmt_thread, (unsigned)thread);
	if (!cur_need(r, &c, TTLOG__FMT_EVTS_FIXED_SIZE, "fixed EVTS fields"))
		return;
	struct rblock b;
	memset(&b, 0, sizeof b);
	b.chunk_off = off;
	b.data_off = c.off + TTLOG__FMT_EVTS_FIXED_SIZE;
	b.data_len = len - TTLOG__FMT_EVTS_FIXED_SIZE;
	b.thread = thread;
	uint32_t tid = ttlog__get_u32(p + TTLOG__FMT_EVTS_TID_OFF);
	b.count = ttlog__get_u32(p + TTLOG__FMT_EVTS_COUNT_OFF);
	b.raw_size = ttlog__get_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF);
	b.first_ticks = ttlog__get_u64(p + TTLOG__FMT_EVTS_FIRST_OFF);
	b.last_ticks = ttlog__get_u64(p + TTLOG__FMT_EVTS_LAST_OFF);
	b.codec = p[TTLOG__FMT_EVTS_CODEC_OFF];

	if (b.raw_size > TTLOG__FMT_MAX_BLOCK_RAW) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG__FMT_EVTS_RAW_SIZE_OFF,
				     "expected a block raw size of at most %u bytes, found %u",
				     TTLOG__FMT_MAX_BLOCK_RAW, (unsigned)b.raw_size);
		return;
	}
	if (b.codec == TTLOG__FMT_CODEC_NONE) {
		if (b.raw_size != b.data_len) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT,
					     c.off + TTLOG__FMT_EVTS_RAW_SIZE_OFF,
					     "expected the raw size of an uncompressed block to "
					     "be its %zu data bytes, found %u",
					     b.data_len, (unsigned)b.raw_size);
			return;
		}
	} else if (b.codec != TTLOG__FMT_CODEC_LZ4 && b.codec != TTLOG__FMT_CODEC_PACKED &&
		   b.codec != TTLOG__FMT_CODEC_ZSTD) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG__FMT_EVTS_CODEC_OFF,
				     "expected block codec 0 (none), 1 (LZ4), 2 (packed) or 3 (zstd), "
				     "found %u",
				     (unsigned)b.codec);
		return;
	}
	for (size_t i = TTLOG__FMT_EVTS_CODEC_OFF + 1; i < TTLOG__FMT_EVTS_FIXED_SIZE; i++) {
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
	b.promoted = promoted;
	r->prmt_found += (unsigned)promoted;
	r->blocks[r->nblocks++] = b;
}

static void parse_thrd(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "THRD"};
	r->thrd_chunks++;
	if (!cur_need(r, &c, TTLOG__FMT_THRD_FIXED_SIZE, "fixed THRD fields"))
		return;
	uint32_t index = ttlog__get_u32(p + TTLOG__FMT_THRD_INDEX_OFF);
	size_t slot = ttlog__reader_idmap_find(&r->thread_map, index);
	if (slot != NOWHERE && r->threads[slot].thrd_off != NOWHERE) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one THRD chunk per thread, found a second one for "
				     "thread %u",
				     (unsigned)index);
		return;
	}
	uint32_t tid = ttlog__get_u32(p + TTLOG__FMT_THRD_TID_OFF);
	slot = thread_get(r, index, tid);
	if (slot == NOWHERE)
		return;
	struct rthread *t = &r->threads[slot];
	uint32_t flags = ttlog__get_u32(p + TTLOG__FMT_THRD_FLAGS_OFF);
	t->thrd_off = off;
	t->info.tid = tid;
	t->info.exited = (flags & TTLOG__FMT_THREAD_EXITED) != 0;
	t->info.crashed = (flags & TTLOG__FMT_THREAD_CRASHED) != 0;
	t->thrd_events = ttlog__get_u64(p + TTLOG__FMT_THRD_EVENTS_OFF);
	t->info.overwritten = ttlog__get_u64(p + TTLOG__FMT_THRD_OVERWRITTEN_OFF);
	t->info.torn = ttlog__get_u64(p + TTLOG__FMT_THRD_TORN_OFF);
	t->info.torn_bytes = ttlog__get_u64(p + TTLOG__FMT_THRD_TORN_BYTES_OFF);
	uint32_t reserved = ttlog__get_u32(p + TTLOG__FMT_THRD_RESERVED_OFF);
	if (reserved)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG__FMT_THRD_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x",
				     (unsigned)reserved);
	cur_skip(&c, TTLOG__FMT_THRD_FIXED_SIZE);
	if (!cur_str(r, &c, "thread name", &t->info.name))
		return;
	/* Revision 5, segments: stream_lost and filtered. */
	if (c.left == 0 || !cur_need(r, &c, 16, "the stream_lost and filtered counts"))
		return;
	t->info.stream_lost = ttlog__get_u64(c.p);
	t->info.filtered = ttlog__get_u64(c.p + 8);
}

/* A thread's name in a segment before its THRD (FORMAT.md 17.1, revision
 * 6): the name of a thread whose THRD never came (the writer was killed).
 * A THRD, which comes later, has the last word. */
static void parse_tnam(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "TNAM"};
	if (!cur_need(r, &c, TTLOG__FMT_TNAM_FIXED_SIZE, "fixed TNAM fields"))
		return;
	uint32_t index = ttlog__get_u32(p + TTLOG__FMT_TNAM_INDEX_OFF);
	uint32_t tid = ttlog__get_u32(p + TTLOG__FMT_TNAM_TID_OFF);
	size_t slot = thread_get(r, index, tid);
	if (slot == NOWHERE)
		return;
	struct rthread *t = &r->threads[slot];
	cur_skip(&c, TTLOG__FMT_TNAM_FIXED_SIZE);
	const char *name = "";
	if (!cur_str(r, &c, "thread name", &name) || t->thrd_off != NOWHERE)
		return;
	t->info.tid = tid;
	t->info.name = name;
}

static void parse_crsh(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	if (r->have_crash) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one CRSH chunk, found a second one");
		return;
	}
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "CRSH"};
	if (!cur_need(r, &c, TTLOG__FMT_CRSH_FIXED_SIZE, "fixed CRSH fields"))
		return;
	r->have_crash = 1;
	r->info.crashed = 1;
	r->info.crash.signo = (int32_t)ttlog__get_u32(p + TTLOG__FMT_CRSH_SIGNO_OFF);
	r->info.crash.code = (int32_t)ttlog__get_u32(p + TTLOG__FMT_CRSH_CODE_OFF);
	r->info.crash.address = ttlog__get_u64(p + TTLOG__FMT_CRSH_ADDR_OFF);
	r->info.crash.tid = ttlog__get_u32(p + TTLOG__FMT_CRSH_TID_OFF);
	r->info.crash.thread_index = ttlog__get_u32(p + TTLOG__FMT_CRSH_THREAD_OFF);
	cur_skip(&c, TTLOG__FMT_CRSH_FIXED_SIZE);
	cur_str(r, &c, "signal name", &r->info.crash.signal_name);
}

static void parse_end(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct cur c = {p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, "END"};
	if (!cur_need(r, &c, TTLOG__FMT_END_SIZE, "END fields"))
		return;
	r->have_end = 1;
	r->end_off = off;
	r->end_events = ttlog__get_u64(p + TTLOG__FMT_END_EVENTS_OFF);
	r->end_overwritten = ttlog__get_u64(p + TTLOG__FMT_END_OVERWRITTEN_OFF);
	r->end_torn = ttlog__get_u64(p + TTLOG__FMT_END_TORN_OFF);
	r->end_torn_bytes = ttlog__get_u64(p + TTLOG__FMT_END_TORN_BYTES_OFF);
	r->info.dropped = ttlog__get_u64(p + TTLOG__FMT_END_DROPPED_OFF);
	r->end_threads = ttlog__get_u32(p + TTLOG__FMT_END_THREADS_OFF);
	r->end_sites = ttlog__get_u32(p + TTLOG__FMT_END_SITES_OFF);
	r->end_blocks = ttlog__get_u32(p + TTLOG__FMT_END_BLOCKS_OFF);
	if (len >= TTLOG__FMT_END_SEGMENT_SIZE) {
		r->end_long = 1;
		r->end_index_off = ttlog__get_u64(p + TTLOG__FMT_END_INDEX_OFF);
		r->end_stream_lost = ttlog__get_u64(p + TTLOG__FMT_END_STREAM_LOST_OFF);
		r->end_filtered = ttlog__get_u64(p + TTLOG__FMT_END_FILTERED_OFF);
		r->end_promoted = ttlog__get_u64(p + TTLOG__FMT_END_PROMOTED_OFF);
		if (len >= TTLOG__FMT_END_FULL_SIZE) {
			r->end_has_log_events = 1;
			r->end_log_events = ttlog__get_u64(p + TTLOG__FMT_END_LOG_EVENTS_OFF);
		}
		if (len >= TTLOG__FMT_END_SNAPSHOT_SIZE)
			r->info.dropped_sites = ttlog__get_u64(p + TTLOG__FMT_END_DROPPED_SITES_OFF);
	} else if (r->info.is_segment) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off + TTLOG__FMT_CH_LENGTH_OFF,
				     "expected a segment's END of %u bytes, found %zu",
				     TTLOG__FMT_END_SEGMENT_SIZE, len);
	}
	uint32_t reserved = ttlog__get_u32(p + TTLOG__FMT_END_RESERVED_OFF);
	if (reserved)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, c.off + TTLOG__FMT_END_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x",
				     (unsigned)reserved);
}

/* PRMT: the next chunk must be an EVTS of the thread it names (checked by
 * the walk, note_chunk()). */
static void parse_prmt(struct ttlog_reader *r, size_t off, const unsigned char *p)
{
	size_t f = off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	uint32_t scope = ttlog__get_u32(p + TTLOG__FMT_PRMT_SCOPE_OFF);
	uint32_t reserved = ttlog__get_u32(p + TTLOG__FMT_PRMT_RESERVED_OFF);
	if (scope > TTLOG__FMT_PROMOTE_TRACE)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, f + TTLOG__FMT_PRMT_SCOPE_OFF,
				     "expected a promotion scope 0..2, found %u", (unsigned)scope);
	if (reserved)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, f + TTLOG__FMT_PRMT_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x",
				     (unsigned)reserved);
	r->prmt_pending = 1;
	r->prmt_off = off;
	r->prmt_thread = ttlog__get_u32(p + TTLOG__FMT_PRMT_THREAD_OFF);
}

/* INDX, met by the walk: its size and its entry count are checked here; its
 * entries are used only by an indexed open (reader/index.c). */
static void parse_indx(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	size_t f = off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	uint32_t count = ttlog__get_u32(p + TTLOG__FMT_INDX_COUNT_OFF);
	if (r->indx_off) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
				     "expected one INDX chunk, found a second one");
		return;
	}
	r->indx_off = off;
	if ((len - TTLOG__FMT_INDX_FIXED_SIZE) / TTLOG__FMT_INDX_ENTRY_SIZE != count ||
	    (len - TTLOG__FMT_INDX_FIXED_SIZE) % TTLOG__FMT_INDX_ENTRY_SIZE != 0)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, f + TTLOG__FMT_INDX_COUNT_OFF,
				     "expected %u index entries of %u bytes to fill the INDX "
				     "chunk's %zu bytes",
				     (unsigned)count, TTLOG__FMT_INDX_ENTRY_SIZE, len);
	else if (count != r->chunks_after_head)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, f + TTLOG__FMT_INDX_COUNT_OFF,
				     "expected an index entry for each of the %llu chunks after "
				     "HEAD, found %u",
				     (unsigned long long)r->chunks_after_head, (unsigned)count);
}

/* MTRC: metric values, parsed by reader/mtrc_read.c; gauge times are
 * converted here, where the calibration is known. */
static void parse_mtrc(struct ttlog_reader *r, size_t off, const unsigned char *p, size_t len)
{
	struct ttlog__mtrc_problem pb;
	size_t first = r->metrics.n;
	if (ttlog__mtrc_parse(&r->metrics, p, len, off + TTLOG__FMT_CHUNK_HEADER_SIZE, &pb) != 0) {
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
	size_t at = off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	int rc = type == TTLOG__FMT_CHUNK_STCK ? ttlog__stck_parse(&r->stacks, p, len, at, &pb)
					      : ttlog__mods_parse(&r->stacks, p, len, at, &pb);
	if (rc == 0)
		return;
	if (pb.status == TTLOG_E_NOMEM)
		r->oom = 1;
	else
		ttlog__reader_report(r, pb.status, pb.off, "%s", pb.what);
}

int ttlog__reader_chunk(struct ttlog_reader *r, size_t off, uint32_t type, uint32_t flags,
			uint32_t len)
{
	const unsigned char *payload = r->data + off + TTLOG__FMT_CHUNK_HEADER_SIZE;
	char name[16];
	fourcc_name(type, name);
	if (r->prmt_pending) {
		r->prmt_pending = 0;
		if (type == TTLOG__FMT_CHUNK_EVTS) {
			r->chunks_after_head++;
			parse_evts(r, off, payload, len, 1);
			return 1;
		}
		ttlog__reader_report(r, TTLOG_E_CORRUPT, r->prmt_off,
					     "expected the PRMT chunk to be followed by an EVTS "
					     "chunk of thread %u, found %s (the PRMT chunk is "
					     "dropped)",
					     (unsigned)r->prmt_thread, name);
	}
	if (type != TTLOG__FMT_CHUNK_HEAD && type != TTLOG__FMT_CHUNK_INDX &&
	    type != TTLOG__FMT_CHUNK_END)
		r->chunks_after_head++;
	switch (type) {
	case TTLOG__FMT_CHUNK_HEAD: parse_head(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_SITE: parse_site(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_SITX: parse_sitx(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_EVTS: parse_evts(r, off, payload, len, 0); break;
	case TTLOG__FMT_CHUNK_THRD: parse_thrd(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_TNAM: parse_tnam(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_CRSH: parse_crsh(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_SMPL:
		ttlog__smpl_parse(r, &r->smpl, off + TTLOG__FMT_CHUNK_HEADER_SIZE, payload, len);
		break;
	case TTLOG__FMT_CHUNK_MTRC: parse_mtrc(r, off, payload, len); break;
	case TTLOG__FMT_CHUNK_STCK:
	case TTLOG__FMT_CHUNK_MODS: parse_stacks(r, type, off, payload, len); break;
	case TTLOG__FMT_CHUNK_PRMT:
		if (len < TTLOG__FMT_PRMT_SIZE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off + TTLOG__FMT_CH_LENGTH_OFF,
					     "expected a PRMT chunk of %u bytes, found %u",
					     TTLOG__FMT_PRMT_SIZE, (unsigned)len);
			break;
		}
		parse_prmt(r, off, payload);
		break;
	case TTLOG__FMT_CHUNK_INDX:
		if (len < TTLOG__FMT_INDX_FIXED_SIZE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off + TTLOG__FMT_CH_LENGTH_OFF,
					     "expected an INDX chunk of at least %u bytes, found %u",
					     TTLOG__FMT_INDX_FIXED_SIZE, (unsigned)len);
			break;
		}
		parse_indx(r, off, payload, len);
		break;
	case TTLOG__FMT_CHUNK_END:
		parse_end(r, off, payload, len);
		if (r->have_end) {
			/* Whatever follows END is not part of the file; in a
			 * bundle, it is the next member (FORMAT.md 22). */
			size_t next = off + TTLOG__FMT_CHUNK_HEADER_SIZE + len;
			if (r->bundle && next < r->size)
				r->info.bundle_next = r->info.bundle_offset + next;
			return 0;
		}
		break;
	case TTLOG__FMT_CHUNK_TRCE:
		if (len < TTLOG__FMT_TRCE_SIZE) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off + TTLOG__FMT_CH_LENGTH_OFF,
					     "expected a TRCE chunk of %u bytes, found %u",
					     TTLOG__FMT_TRCE_SIZE, (unsigned)len);
			break;
		}
		r->info.trace_filtered = 1;
		r->info.trace_hi = ttlog__get_u64(payload + TTLOG__FMT_TRCE_TRACE_HI_OFF);
		r->info.trace_lo = ttlog__get_u64(payload + TTLOG__FMT_TRCE_TRACE_LO_OFF);
		r->info.trace_left_events = ttlog__get_u64(payload + TTLOG__FMT_TRCE_LEFT_EVENTS_OFF);
		r->info.trace_left_records = ttlog__get_u64(payload + TTLOG__FMT_TRCE_LEFT_RECORDS_OFF);
		break;
	default:
		if (flags & TTLOG__FMT_CHUNK_REQUIRED) {
			ttlog__reader_report(r, TTLOG_E_VERSION, off,
					     "expected a chunk type this reader knows, "
					     "found required chunk %s",
					     name);
			return 0;
		}
		/* Unknown and optional: skipped, and counted (a damaged type
		 * byte under a valid checksum would otherwise hide a chunk
		 * without a word). */
		if (!r->counters.chunks_unknown++) {
			r->counters.chunk_unknown_offset = off;
			memcpy(r->counters.chunk_unknown_type, name,
			       sizeof r->counters.chunk_unknown_type);
		}
		break;
	}
	return 1;
}

size_t ttlog__reader_parse_file_header(struct ttlog_reader *r)
{
	const unsigned char *d = r->data;
	size_t n = r->size, m = TTLOG__MIN(n, (size_t)TTLOG__FMT_MAGIC_LEN);
	if (memcmp(d, TTLOG__FMT_MAGIC, m) != 0) {
		char found[3 * TTLOG__FMT_MAGIC_LEN + 1] = "";
		for (size_t i = 0; i < m; i++)
			snprintf(found + 3 * i, 4, "%02x ", (unsigned)d[i]);
		found[3 * m - 1] = '\0'; /* m > 0: an empty file matches any prefix */
		ttlog__reader_report(r, TTLOG_E_NOT_TTLOG, 0,
				     "expected the ttlog magic 89 54 54 4c 4f 47 0d 0a, found %s",
				     found);
		return 0;
	}
	if (n < TTLOG__FMT_FILE_HEADER_SIZE) {
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, 0,
				     "expected a %u-byte file header, found %zu bytes",
				     TTLOG__FMT_FILE_HEADER_SIZE, n);
		return 0;
	}
	uint32_t stored = ttlog__get_u32(d + TTLOG__FMT_FH_CRC_OFF);
	uint32_t crc = ttlog__crc32c(0, d, TTLOG__FMT_FH_CRC_OFF);
	unsigned version = ttlog__get_u16(d + TTLOG__FMT_FH_VERSION_OFF);
	unsigned hsize = ttlog__get_u16(d + TTLOG__FMT_FH_HEADER_SIZE_OFF);
	uint32_t incompat = ttlog__get_u32(d + TTLOG__FMT_FH_INCOMPAT_OFF);
	if (stored != crc) {
		/* The version may be what is damaged: read on as version 1. */
		ttlog__reader_report(r, TTLOG_E_CORRUPT, TTLOG__FMT_FH_CRC_OFF,
				     "expected file header CRC 0x%08x, found 0x%08x",
				     (unsigned)stored, (unsigned)crc);
		r->info.format_version = TTLOG__FMT_VERSION;
		return TTLOG__FMT_FILE_HEADER_SIZE;
	}
	r->info.format_version = version;
	if (version != TTLOG__FMT_VERSION) {
		ttlog__reader_report(r,
				     version > TTLOG__FMT_VERSION ? TTLOG_E_VERSION : TTLOG_E_CORRUPT,
				     TTLOG__FMT_FH_VERSION_OFF,
				     "expected format version %u, found %u", TTLOG__FMT_VERSION,
				     version);
		return 0;
	}
	if (incompat & ~TTLOG__FMT_INCOMPAT_KNOWN) {
		ttlog__reader_report(r, TTLOG_E_VERSION, TTLOG__FMT_FH_INCOMPAT_OFF,
				     "expected no incompatible feature flags this reader does not "
				     "know, found 0x%08x",
				     (unsigned)incompat);
		return 0;
	}
	r->bundle = (incompat & TTLOG__FMT_INCOMPAT_BUNDLE) != 0;
	r->info.bundle = r->bundle;
	if (hsize < TTLOG__FMT_FILE_HEADER_SIZE) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, TTLOG__FMT_FH_HEADER_SIZE_OFF,
				     "expected a file header size of at least %u, found %u",
				     TTLOG__FMT_FILE_HEADER_SIZE, hsize);
		return TTLOG__FMT_FILE_HEADER_SIZE;
	}
	if (hsize > n) {
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, TTLOG__FMT_FH_HEADER_SIZE_OFF,
				     "expected a %u-byte file header, found %zu bytes", hsize, n);
		return 0;
	}
	return hsize;
}

void ttlog__reader_parse_chunks(struct ttlog_reader *r, size_t off)
{
	int first = 1;
	while (off < r->size && !r->oom) {
		size_t left = r->size - off;
		if (left < TTLOG__FMT_CHUNK_HEADER_SIZE) {
			r->prmt_pending = 0;
			if (r->info.is_segment)
				return; /* a segment being written: not damage */
			ttlog__reader_report(r, TTLOG_E_TRUNCATED, off,
					     "expected a %u-byte chunk header, found %zu bytes "
					     "before the end of the file",
					     TTLOG__FMT_CHUNK_HEADER_SIZE, left);
			return;
		}
		const unsigned char *h = r->data + off;
		/* Each read once: a mapped file can change under the reader
		 * (reader/map.c), so what is checked here is what is used. */
		uint32_t type = ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF);
		uint32_t flags = ttlog__get_u32(h + TTLOG__FMT_CH_FLAGS_OFF);
		uint32_t len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
		uint32_t stored = ttlog__get_u32(h + TTLOG__FMT_CH_CRC_OFF);
		char name[16];
		fourcc_name(type, name);
		left -= TTLOG__FMT_CHUNK_HEADER_SIZE;

		if (len > TTLOG__FMT_MAX_CHUNK || len > left) {
			/* A damaged length, or the end of a cut file: a valid chunk
			 * further on tells them apart. */
			size_t next = resync_scan(r, off + 1);
			r->prmt_pending = 0;
			if (next == NOWHERE && len <= TTLOG__FMT_MAX_CHUNK && r->info.is_segment)
				return; /* the chunk a growing segment is being given */
			if (len > TTLOG__FMT_MAX_CHUNK)
				ttlog__reader_report(r, TTLOG_E_CORRUPT,
						     off + TTLOG__FMT_CH_LENGTH_OFF,
						     "expected a chunk payload length of at most "
						     "%u bytes, found %u",
						     TTLOG__FMT_MAX_CHUNK, (unsigned)len);
			else if (next != NOWHERE)
				ttlog__reader_report(r, TTLOG_E_CORRUPT,
						     off + TTLOG__FMT_CH_LENGTH_OFF,
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
		const unsigned char *payload = h + TTLOG__FMT_CHUNK_HEADER_SIZE;
		uint32_t crc = r->trust_crcs ? stored : ttlog__chunk_crc(h, payload, len);
		if (crc != stored) {
			r->crc_bad = 1;
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "expected chunk CRC 0x%08x, found 0x%08x",
					     (unsigned)stored, (unsigned)crc);
			r->prmt_pending = 0;
			off = resync_after(r, off, len);
			if (off == NOWHERE)
				return;
			first = 0;
			continue;
		}
		if (first && type != TTLOG__FMT_CHUNK_HEAD)
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "expected a HEAD chunk first, found %s", name);
		first = 0;
		r->info.read_size = off + TTLOG__FMT_CHUNK_HEADER_SIZE + (size_t)len;
		if (!ttlog__reader_chunk(r, off, type, flags, len))
			return;
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + (size_t)len;
	}
}

/* ---- Hooks for reader/smpl_read.c ----------------------------------------- */

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
