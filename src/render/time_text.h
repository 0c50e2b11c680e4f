/* SPDX-License-Identifier: MIT */
/*
 * time_text.h - the text of event times, and the calendar that text is in.
 *
 * A time is an int64_t count of nanoseconds since the Unix epoch (UTC), as
 * the reader returns it. "Local" is the time zone of the process (TZ), as
 * localtime_r() sees it.
 */
#ifndef TTLOG__RENDER_TIME_TEXT_H
#define TTLOG__RENDER_TIME_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Size of the buffer render_time_format() writes into. */
#define RENDER_TIME_BUF 64

enum render_time_style {
	RENDER_TIME_LOCAL, /* "2026-11-21 12:34:56.123456789", local time */
	RENDER_TIME_UTC,   /* the same layout, in UTC */
	RENDER_TIME_ISO    /* "2026-11-21T12:34:56.123456789Z", always UTC */
};

/**
 * Writes ns in the given style into buf (RENDER_TIME_BUF bytes) and returns
 * buf. A time the C library cannot break down prints as "@NS".
 */
const char *render_time_format(int64_t ns, enum render_time_style style, char *buf);

/**
 * render_time_format() that returns the length of the text. The date and
 * time of day are worked out once per second and style (a cache of the
 * last second of each style, per thread), so that a run of events in time
 * order costs only the fraction's digits each. (A program that changes TZ
 * while running sees the new zone once it formats a time in another
 * second.)
 */
size_t render_time_text(int64_t ns, enum render_time_style style, char *buf);

/* The calendar of the texts above, for a program that reads times typed
 * by its user: a time of day is then taken in the zone it is shown in. */

/** Splits ns into whole seconds (rounded down) and 0..999999999 ns. */
void render_time_split(int64_t ns, int64_t *sec, int32_t *nsec);

/** Breaks sec down in UTC (utc != 0) or local time; 0, or -1 when the C
 *  library cannot. */
int render_time_break_down(int64_t sec, int utc, struct tm *tm);

#endif /* TTLOG__RENDER_TIME_TEXT_H */
