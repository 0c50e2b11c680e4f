/* SPDX-License-Identifier: MIT */
/*
 * scopes.c - spans and contexts whose name or key is known only at run
 * time (the C++ wrappers of <ttlog.hpp> use them).
 *
 * A span's name, or a context's key with its value's type, is a runtime
 * site of kind SPAN_BEGIN or CONTEXT_PUSH (src/rtfmt/intern.c); its record
 * is what TTLOG_SPAN_BEGIN or TTLOG_CONTEXT_PUSH writes for a literal
 * name (the four span ids, or the value), and the library then keeps a
 * copy to re-state it, as for theirs. When the table is full the name or
 * key is not lost: the span begins as "ttlog.span" with the name as its
 * field "name", and the context is pushed as "ttlog.context" with the text
 * "KEY=VALUE"; both are counted in ttlog_runtime_stats.overflowed.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

#include "common/internal.h"
#include "rtfmt/intern.h"
#include "rtfmt/record.h"

TTLOG_API unsigned ttlog_span_begin_named(const char *name)
{
	if (!name)
		name = "";
	struct ttlog__rt_key key = {name, 0, 0, TTLOG__KIND_SPAN_BEGIN, TTLOG_LEVEL_INFO, 0};
	ttlog__rt_key_hash(&key);
	static const uint8_t ids[4] = {TTLOG_ARG_U64, TTLOG_ARG_U64, TTLOG_ARG_U64, TTLOG_ARG_U64};
	struct ttlog_site *s = ttlog__rt_intern(&key, ids, 4);
	if (!s) {
		atomic_fetch_add_explicit(&ttlog__rt_overflowed, 1, memory_order_relaxed);
		return TTLOG__SPAN_BEGIN("ttlog.span", TTLOG_F("name", name));
	}
	struct ttlog__span_ids id;
	uint32_t depth = ttlog__span_prepare(&id);
	if (!id.id)
		return depth;
	uint64_t word = ttlog__rt_word(s);
	if (!word)
		return 0;
	union ttlog__rt_value v[4];
	v[0].u = id.id;
	v[1].u = id.parent;
	v[2].u = id.trace_hi;
	v[3].u = id.trace_lo;
	uint32_t len;
	const unsigned char *rec = ttlog__rt_record(word, ids, 4, v, &len);
	return rec ? ttlog__span_begun(&id, rec, len) : 0;
}

/* A context of a runtime key whose value has type t. */
static unsigned push(const char *key_text, uint8_t t, union ttlog__rt_value v)
{
	struct ttlog__rt_key key = {key_text ? key_text : "", 0, 0, TTLOG__KIND_CONTEXT_PUSH,
				    TTLOG_LEVEL_INFO, t};
	ttlog__rt_key_hash(&key);
	struct ttlog_site *s = ttlog__rt_intern(&key, &t, 1);
	if (!s) {
		char text[TTLOG__MAX_STRING_LIMIT + 1];
		switch (t) {
		case TTLOG_ARG_STR: snprintf(text, sizeof text, "%s=%s", key.text, v.s ? v.s : "(null)"); break;
		case TTLOG_ARG_I64: snprintf(text, sizeof text, "%s=%" PRId64, key.text, (int64_t)v.u); break;
		case TTLOG_ARG_U64: snprintf(text, sizeof text, "%s=%" PRIu64, key.text, v.u); break;
		default: snprintf(text, sizeof text, "%s=%.17g", key.text, v.d); break;
		}
		atomic_fetch_add_explicit(&ttlog__rt_overflowed, 1, memory_order_relaxed);
		const char *value = text;
		return TTLOG__CONTEXT_PUSH("ttlog.context", value);
	}
	uint64_t word = ttlog__rt_word(s);
	if (!word)
		return 0;
	uint32_t len;
	const unsigned char *rec = ttlog__rt_record(word, &t, 1, &v, &len);
	return rec ? ttlog__context_pushed(rec, len) : 0;
}

TTLOG_API unsigned ttlog_context_push_str(const char *key, const char *value)
{
	union ttlog__rt_value v;
	v.s = value;
	return push(key, TTLOG_ARG_STR, v);
}

TTLOG_API unsigned ttlog_context_push_i64(const char *key, int64_t value)
{
	union ttlog__rt_value v;
	v.u = (uint64_t)value;
	return push(key, TTLOG_ARG_I64, v);
}

TTLOG_API unsigned ttlog_context_push_u64(const char *key, uint64_t value)
{
	union ttlog__rt_value v;
	v.u = value;
	return push(key, TTLOG_ARG_U64, v);
}

TTLOG_API unsigned ttlog_context_push_f64(const char *key, double value)
{
	union ttlog__rt_value v;
	v.d = value;
	return push(key, TTLOG_ARG_F64, v);
}
