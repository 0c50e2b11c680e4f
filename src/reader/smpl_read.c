/* SPDX-License-Identifier: MIT */
/*
 * smpl_read.c - decoding and checking SMPL chunks: which call sites were
 * sampled or rate-limited, and how many of their calls were kept and
 * dropped (docs/FORMAT.md, SMPL); and the ttlog_reader_sampling_*() API.
 *
 * Checks, each reported with the file offset of the field: the entry count
 * against the bytes of the payload, a site id that an earlier SITE entry
 * defines, ids increasing over the whole file (so an id is listed once), a
 * 1-in-N of at least 1, a zero reserved field, and totals that fit in 64
 * bits. An entry that fails is skipped; the entries before and after it
 * are kept.
 */
#include "reader/smpl_read.h"

#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "format/format.h"

/* a + b, or 0 with *overflow set. */
static uint64_t add_checked(uint64_t a, uint64_t b, int *overflow)
{
	if (b > UINT64_MAX - a) {
		*overflow = 1;
		return 0;
	}
	return a + b;
}

/* Checks one framed entry at e (file offset at) and keeps it. */
static void parse_entry(struct ttlog_reader *r, struct ttlog__smpl *sm, const unsigned char *e,
			size_t at)
{
	uint32_t id = ttlog__get_u32(e + TTLOG__FMT_SMPL_ID_OFF);
	uint32_t one_in = ttlog__get_u32(e + TTLOG__FMT_SMPL_ONE_IN_OFF);
	uint32_t reserved = ttlog__get_u32(e + TTLOG__FMT_SMPL_RESERVED_OFF);
	uint64_t kept = ttlog__get_u64(e + TTLOG__FMT_SMPL_KEPT_OFF);
	uint64_t sampled = ttlog__get_u64(e + TTLOG__FMT_SMPL_SAMPLED_OFF);
	uint64_t rate = ttlog__get_u64(e + TTLOG__FMT_SMPL_RATE_OFF);

	const struct ttlog_site_info *site = ttlog__reader_site(r, id);
	if (!site) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SMPL_ID_OFF,
				     "expected the id of a site defined by an earlier SITE entry, "
				     "found %u in the SMPL chunk",
				     (unsigned)id);
		return;
	}
	if (id <= sm->last_id) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SMPL_ID_OFF,
				     "expected SMPL site ids in increasing order, found %u after %u",
				     (unsigned)id, (unsigned)sm->last_id);
		return;
	}
	if (one_in == 0) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SMPL_ONE_IN_OFF,
				     "expected a 1-in-N of at least 1 for site %u, found 0",
				     (unsigned)id);
		return;
	}
	int overflow = 0;
	struct ttlog_sampling_totals t = sm->totals;
	t.kept = add_checked(t.kept, kept, &overflow);
	t.dropped_sampled = add_checked(t.dropped_sampled, sampled, &overflow);
	t.dropped_rate_limited = add_checked(t.dropped_rate_limited, rate, &overflow);
	if (overflow) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SMPL_KEPT_OFF,
				     "expected SMPL counts whose sums fit in 64 bits, found site %u's "
				     "counts overflowing them",
				     (unsigned)id);
		return;
	}
	if (reserved != 0) /* reported, and the entry still used (FORMAT.md 2) */
		ttlog__reader_report(r, TTLOG_E_CORRUPT, at + TTLOG__FMT_SMPL_RESERVED_OFF,
				     "expected a zero reserved field, found 0x%08x", (unsigned)reserved);

	if (sm->totals.sites == sm->cap) {
		size_t cap = sm->cap ? sm->cap * 2 : 16;
		void *p = realloc(sm->sites, cap * sizeof *sm->sites);
		if (!p) {
			ttlog__reader_oom(r);
			return;
		}
		sm->sites = p;
		sm->cap = cap;
	}
	struct ttlog_sampling_site *s = &sm->sites[sm->totals.sites];
	s->site_id = id;
	s->file = site->file;
	s->line = site->line;
	s->function = site->function;
	s->format = site->format;
	s->target = site->target;
	s->keep_one_in = one_in;
	s->max_per_second = ttlog__get_u32(e + TTLOG__FMT_SMPL_PER_SECOND_OFF);
	s->kept = kept;
	s->dropped_sampled = sampled;
	s->dropped_rate_limited = rate;
	t.sites++;
	sm->totals = t;
	sm->last_id = id;
}

void ttlog__smpl_parse(struct ttlog_reader *r, struct ttlog__smpl *sm, size_t payload_off,
		       const unsigned char *p, size_t len)
{
	if (len < 4) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, payload_off,
				     "expected 4 bytes of the SMPL entry count, found %zu", len);
		return;
	}
	uint32_t count = ttlog__get_u32(p);
	size_t room = (len - 4) / TTLOG__FMT_SMPL_ENTRY_SIZE;
	if (count > room)
		ttlog__reader_report(r, TTLOG_E_CORRUPT, payload_off,
				     "expected %u SMPL entries of %u bytes, found room for %zu in "
				     "the chunk",
				     (unsigned)count, TTLOG__FMT_SMPL_ENTRY_SIZE, room);
	/* count is only a loop bound: every entry needs bytes that exist. */
	for (size_t i = 0; i < count && i < room; i++) {
		size_t at = 4 + i * TTLOG__FMT_SMPL_ENTRY_SIZE;
		parse_entry(r, sm, p + at, payload_off + at);
	}
	/* Bytes after the last entry are left for later versions. */
}

void ttlog__smpl_free(struct ttlog__smpl *sm)
{
	free(sm->sites);
	memset(sm, 0, sizeof *sm);
}

TTLOG_API size_t ttlog_reader_sampling_count(const ttlog_reader *r)
{
	return r ? ttlog__reader_smpl(r)->totals.sites : 0;
}

TTLOG_API const struct ttlog_sampling_site *ttlog_reader_sampling_site(const ttlog_reader *r,
								       size_t i)
{
	if (!r || i >= ttlog__reader_smpl(r)->totals.sites)
		return NULL;
	return &ttlog__reader_smpl(r)->sites[i];
}

TTLOG_API const struct ttlog_sampling_totals *ttlog_reader_sampling_totals(const ttlog_reader *r)
{
	return r ? &ttlog__reader_smpl(r)->totals : NULL;
}
