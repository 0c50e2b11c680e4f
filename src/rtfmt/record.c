/* SPDX-License-Identifier: MIT */
/*
 * record.c - one record of a runtime site, from its argument types (see
 * record.h). The layout is the macros' (docs/FORMAT.md, "Records" and
 * "Argument encoding"): u32 size, u32 site id, u64 ticks, then each
 * argument at its type's width (strings as a length word and the bytes,
 * cut at the ring's string limit), the whole padded to 8 bytes.
 */
#include "rtfmt/record.h"

#include "common/internal.h"

uint64_t ttlog__rt_word(struct ttlog_site *s)
{
	uint64_t word = TTLOG__LOAD(*s->word, relaxed);
	if (TTLOG__LIKELY(word & TTLOG__WORD_ENABLED))
		return word;
	if (word & TTLOG__WORD_OFF)
		return 0;
	word = ttlog__register(s);
	return word & TTLOG__WORD_ENABLED ? word : 0;
}

/* The bytes argument type t takes, for a fixed-size type. */
static uint32_t fixed_size(uint8_t t)
{
	switch (t) {
	case TTLOG_ARG_I32:
	case TTLOG_ARG_U32:
		return 4;
	case TTLOG_ARG_LD80:
		return 10;
	default:
		return 8; /* I64, U64, F64, LDBL, PTR */
	}
}

const unsigned char *ttlog__rt_record(uint64_t word, const uint8_t *types, unsigned nargs,
				      const union ttlog__rt_value *v, uint32_t *len_out)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	uint32_t n[16];
	uint32_t len = 16;
	for (unsigned i = 0; i < nargs; i++) {
		n[i] = types[i] == TTLOG_ARG_STR ? ttlog__len_str(v[i].s, w->max_string)
						 : fixed_size(types[i]);
		len += TTLOG__ARG_SIZE(n[i]);
	}
	len = (len + 7u) & ~7u;
	uint64_t head;
	unsigned char *p = ttlog__reserve(&w, word - 1u + len, len, &head);
	if (TTLOG__UNLIKELY(!p))
		return NULL;
	unsigned char *const rec = p;
	p += 16;
	for (unsigned i = 0; i < nargs; i++) {
		switch (types[i]) {
		case TTLOG_ARG_STR:
			p = ttlog__put_str(p, v[i].s, n[i]);
			break;
		case TTLOG_ARG_I32:
		case TTLOG_ARG_U32: {
			uint32_t x = (uint32_t)v[i].u;
			memcpy(p, &x, 4);
			p += 4;
			break;
		}
		case TTLOG_ARG_F64:
			memcpy(p, &v[i].d, 8);
			p += 8;
			break;
		case TTLOG_ARG_LD80:
			memcpy(p, &v[i].ld, 10);
			p += 10;
			break;
		case TTLOG_ARG_LDBL: {
			double d = (double)v[i].ld;
			memcpy(p, &d, 8);
			p += 8;
			break;
		}
		default: /* I64, U64, PTR */
			memcpy(p, &v[i].u, 8);
			p += 8;
			break;
		}
	}
	ttlog__commit(w, head, len);
	*len_out = len;
	return rec;
}
