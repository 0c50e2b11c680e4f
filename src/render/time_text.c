/* SPDX-License-Identifier: MIT */
/*
 * time_text.c - event times as text, in local time, UTC or ISO 8601 (see
 * time_text.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/decimal.h"
#include "render/time_text.h"

#define NS_PER_SEC 1000000000LL

void render_time_split(int64_t ns, int64_t *sec, int32_t *nsec)
{
	int64_t s = ns / NS_PER_SEC, r = ns % NS_PER_SEC;
	if (r < 0) {
		r += NS_PER_SEC;
		s -= 1;
	}
	*sec = s;
	*nsec = (int32_t)r;
}

int render_time_break_down(int64_t sec, int utc, struct tm *tm)
{
	time_t t = (time_t)sec;
	return (utc ? gmtime_r(&t, tm) : localtime_r(&t, tm)) ? 0 : -1;
}

/* The text of one second in one style, up to and including the '.' */
struct second_text {
	int valid;
	int64_t sec;
	size_t len;
	char text[RENDER_TIME_BUF];
};

/*
 * The last second formatted in each style. Events come in time order, many
 * per second, so breaking the time down (gmtime_r, localtime_r and the TZ
 * rules behind it) and printing the date once per second leaves only the
 * nine digits of the fraction per event. Per thread: the command has one,
 * but this file is also part of the SQLite extension, which an application
 * may call from several.
 */
static _Thread_local struct second_text last_second[RENDER_TIME_ISO + 1];

/* Fills s with the date and time of day of sec, as render_time_format()'s
 * layout has it; returns -1 when the C library cannot break sec down. */
static int format_second(struct second_text *s, int64_t sec, enum render_time_style style)
{
	struct tm tm;

	if (render_time_break_down(sec, style != RENDER_TIME_LOCAL, &tm) != 0)
		return -1;
	int n = snprintf(s->text, sizeof s->text, "%04d-%02d-%02d%c%02d:%02d:%02d.",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 style == RENDER_TIME_ISO ? 'T' : ' ', tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* The fraction, "Z" and the NUL must fit after it in RENDER_TIME_BUF. */
	if (n < 0 || (size_t)n + 9 + (style == RENDER_TIME_ISO) >= RENDER_TIME_BUF)
		return -1;
	s->len = (size_t)n;
	s->sec = sec;
	s->valid = 1;
	return 0;
}

size_t render_time_text(int64_t ns, enum render_time_style style, char *buf)
{
	int64_t sec;
	int32_t nsec;
	struct second_text *s = &last_second[style];

	render_time_split(ns, &sec, &nsec);
	if (!(s->valid && s->sec == sec) && format_second(s, sec, style) != 0) {
		s->valid = 0;
		return (size_t)snprintf(buf, RENDER_TIME_BUF, "@%" PRId64, ns);
	}
	/* All of s->text, a size known when compiling (a few moves, not a
	 * call): buf has RENDER_TIME_BUF bytes too, and the fraction goes
	 * over what follows the text. */
	memcpy(buf, s->text, sizeof s->text);
	char *end = ttlog__decimal_fixed(buf + s->len, (uint64_t)nsec, 9);
	if (style == RENDER_TIME_ISO)
		*end++ = 'Z';
	*end = '\0';
	return (size_t)(end - buf);
}

const char *render_time_format(int64_t ns, enum render_time_style style, char *buf)
{
	render_time_text(ns, style, buf);
	return buf;
}

