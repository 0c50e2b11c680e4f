/* SPDX-License-Identifier: MIT */
/*
 * facts.c - what the reader says about a site or an event beyond the
 * file's bytes: a site's target with its default, the site a span end is
 * shown at, an event kind's name (see "What an event shows" in
 * ttlog_reader.h). Every program that shows events asks these; answered
 * here, the command, the SQL tables and any other reader cannot drift apart.
 *
 * It also holds the checks that the public enums of ttlog_reader.h are the
 * values the file format stores: the reader hands those fields through
 * unchanged, so a reader's program compares them with the public names.
 */
#include <string.h>

#include "common/internal.h"
#include "format/format.h"
#include "ttlog_reader.h"

_Static_assert(TTLOG_SITE_KIND_LOG == TTLOG__FMT_KIND_LOG &&
		       TTLOG_SITE_KIND_SPAN_BEGIN == TTLOG__FMT_KIND_SPAN_BEGIN &&
		       TTLOG_SITE_KIND_SPAN_END == TTLOG__FMT_KIND_SPAN_END,
	       "enum ttlog_site_kind is the file's site kinds");
_Static_assert(TTLOG_FILE_CLOCK_TSC == TTLOG__FMT_CLOCK_TSC &&
		       TTLOG_FILE_CLOCK_CNTVCT == TTLOG__FMT_CLOCK_CNTVCT &&
		       TTLOG_FILE_CLOCK_MONOTONIC == TTLOG__FMT_CLOCK_MONOTONIC &&
		       TTLOG_FILE_CLOCK_FAKE == TTLOG__FMT_CLOCK_FAKE,
	       "enum ttlog_file_clock is the file's clock sources");

TTLOG_API const char *ttlog_site_target(const struct ttlog_site_info *site)
{
	if (!site)
		return NULL;
	/* The writer stores the default already; an empty target comes from a
	 * file written otherwise, and gets the same default. */
	if (site->target && *site->target)
		return site->target;
	if (!site->file)
		return NULL;
	const char *slash = strrchr(site->file, '/');
	return slash ? slash + 1 : site->file;
}

TTLOG_API const struct ttlog_site_info *ttlog_event_display_site(const struct ttlog_event *event)
{
	if (!event)
		return NULL;
	if (event->kind == TTLOG_EVENT_SPAN_END && event->span && event->span->site)
		return event->span->site;
	return event->site;
}

TTLOG_API const char *ttlog_event_kind_name(int kind)
{
	static const char *const names[] = {
		[TTLOG_EVENT_LOG] = "log",
		[TTLOG_EVENT_SPAN_BEGIN] = "span_begin",
		[TTLOG_EVENT_SPAN_END] = "span_end",
	};
	if (kind < 0 || (size_t)kind >= TTLOG__ARRAY_SIZE(names))
		return "?";
	return names[kind];
}
