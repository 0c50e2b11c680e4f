/* SPDX-License-Identifier: MIT */
/*
 * log.c - ttlog_log() and ttlog_vlog(): log calls whose format is known
 * only at run time.
 *
 * A call hashes its format and looks it up in the runtime site table
 * (src/rtfmt/intern.c). Found (every call but the first of a format): the
 * site's argument types, worked out when it was made, say what to read
 * from the va_list; the record is written like a macro's, so the reader
 * formats it as it formats any other. Not found: the format is walked
 * (src/rtfmt/walk.c) and its site made, once.
 *
 * Nothing is lost silently when a format cannot have a site of its own:
 *   - refused formats (%n, wide strings, bad "n$" use) are recorded as the
 *     format's text and the reason, without reading any argument, on a
 *     site "ttlog_log: format refused (REASON): FORMAT"; counted in
 *     ttlog_runtime_stats.refused, and the call returns TTLOG_E_INVALID;
 *   - formats that do not fit (the table is full, the text is longer than
 *     TTLOG__RT_TEXT_MAX, or more than 16 arguments) are formatted here
 *     with vsnprintf and recorded as one string argument of a site whose
 *     format is "%s" (the text then is the message, cut at the ring's
 *     string limit like any string argument); counted in
 *     ttlog_runtime_stats.overflowed.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "common/internal.h"
#include "rtfmt/intern.h"
#include "rtfmt/record.h"
#include "rtfmt/walk.h"

static _Atomic uint64_t refused;

/* The message formatted here, as a macro's log call of a constant level. */
static void log_formatted(int level, const char *fmt, va_list ap)
{
	char buf[TTLOG__MAX_STRING_LIMIT + 1];
	vsnprintf(buf, sizeof buf, fmt, ap);
	atomic_fetch_add_explicit(&ttlog__rt_overflowed, 1, memory_order_relaxed);
	const char *msg = buf;
	switch (level) {
	case TTLOG_LEVEL_TRACE: TTLOG_TRACE("%s", msg); break;
	case TTLOG_LEVEL_DEBUG: TTLOG_DEBUG("%s", msg); break;
	case TTLOG_LEVEL_INFO: TTLOG_INFO("%s", msg); break;
	case TTLOG_LEVEL_WARN: TTLOG_WARN("%s", msg); break;
	case TTLOG_LEVEL_ERROR: TTLOG_ERROR("%s", msg); break;
	default: TTLOG_FATAL("%s", msg); break;
	}
}

/* A refused format, as its text and the reason; no argument is read. */
static void log_refused(int level, const char *fmt, const char *why)
{
	atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed);
#define REFUSED "ttlog_log: format refused (%s): %s"
	switch (level) {
	case TTLOG_LEVEL_TRACE: TTLOG_TRACE(REFUSED, why, fmt); break;
	case TTLOG_LEVEL_DEBUG: TTLOG_DEBUG(REFUSED, why, fmt); break;
	case TTLOG_LEVEL_INFO: TTLOG_INFO(REFUSED, why, fmt); break;
	case TTLOG_LEVEL_WARN: TTLOG_WARN(REFUSED, why, fmt); break;
	case TTLOG_LEVEL_ERROR: TTLOG_ERROR(REFUSED, why, fmt); break;
	default: TTLOG_FATAL(REFUSED, why, fmt); break;
	}
#undef REFUSED
}

TTLOG_API int ttlog_vlog(int level, const char *fmt, va_list ap)
{
	if (level < TTLOG_LEVEL_TRACE || level > TTLOG_LEVEL_FATAL || !fmt)
		return TTLOG_E_INVALID;
	struct ttlog__rt_key key = {fmt, 0, 0, TTLOG__KIND_LOG, (uint8_t)level, 0};
	ttlog__rt_key_hash(&key);
	struct ttlog_site *s = ttlog__rt_find(&key);
	if (TTLOG__UNLIKELY(!s)) {
		uint8_t types[TTLOG__RT_MAX_ARGS];
		unsigned nargs = 0;
		int walked = ttlog__rt_walk(fmt, types, &nargs);
		if (walked != TTLOG__RT_WALK_OK && walked != TTLOG__RT_WALK_TOO_MANY) {
			log_refused(level, fmt, ttlog__rt_walk_reason(walked));
			return TTLOG_E_INVALID;
		}
		if (walked == TTLOG__RT_WALK_OK)
			s = ttlog__rt_intern(&key, types, nargs);
		if (!s) {
			log_formatted(level, fmt, ap);
			return TTLOG_OK;
		}
	}
	uint64_t word = ttlog__rt_word(s);
	if (!word)
		return TTLOG_OK; /* below its level, sampled out, or ttlog is off */
	union ttlog__rt_value v[TTLOG__RT_MAX_ARGS];
	const uint8_t *types = s->arg_types;
	for (unsigned i = 0; i < s->nargs; i++) {
		switch (types[i]) {
		case TTLOG_ARG_I32: v[i].u = (uint64_t)(int64_t)va_arg(ap, int); break;
		case TTLOG_ARG_U32: v[i].u = va_arg(ap, unsigned); break;
		case TTLOG_ARG_I64: v[i].u = (uint64_t)va_arg(ap, long long); break;
		case TTLOG_ARG_U64: v[i].u = va_arg(ap, unsigned long long); break;
		case TTLOG_ARG_F64: v[i].d = va_arg(ap, double); break;
		case TTLOG_ARG_LD80:
		case TTLOG_ARG_LDBL: v[i].ld = va_arg(ap, long double); break;
		case TTLOG_ARG_STR: v[i].s = va_arg(ap, const char *); break;
		default: v[i].u = (uint64_t)(uintptr_t)va_arg(ap, void *); break; /* PTR */
		}
	}
	uint32_t len;
	ttlog__rt_record(word, types, s->nargs, v, &len);
	return TTLOG_OK;
}

TTLOG_API int ttlog_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ttlog_vlog(level, fmt, ap);
	va_end(ap);
	return rc;
}

TTLOG_API int ttlog_log_enabled(int level)
{
	if (level < TTLOG_LEVEL_TRACE || level > TTLOG_LEVEL_FATAL)
		return 0;
	static const uint8_t one_string = TTLOG_ARG_STR;
	struct ttlog__rt_key key = {"%s", 0, 0, TTLOG__KIND_LOG, (uint8_t)level, 0};
	ttlog__rt_key_hash(&key);
	struct ttlog_site *s = ttlog__rt_intern(&key, &one_string, 1);
	if (!s)
		return 1; /* the table is full: ttlog_log() formats such events itself */
	uint64_t word = TTLOG__LOAD(*s->word, relaxed);
	if (word == 0)
		word = ttlog__register(s);
	return (word & (TTLOG__WORD_ENABLED | TTLOG__WORD_ASK)) != 0;
}

TTLOG_API int ttlog_get_runtime_stats(struct ttlog_runtime_stats *st)
{
	if (!st)
		return TTLOG_E_INVALID;
	st->formats = ttlog__rt_count();
	st->formats_max = TTLOG_RUNTIME_FORMATS_MAX;
	st->overflowed = atomic_load_explicit(&ttlog__rt_overflowed, memory_order_relaxed);
	st->refused = atomic_load_explicit(&refused, memory_order_relaxed);
	return TTLOG_OK;
}
