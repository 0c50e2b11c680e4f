/* SPDX-License-Identifier: MIT */
/*
 * time_args.c - the time and duration arguments of the ttlog command:
 * parsing them, and resolving a time for a file (see time_args.h for the
 * accepted forms).
 *
 * Parsing is strict and explains itself: a time argument that is not exactly
 * one of the documented forms is a usage error with a reason, never a guess.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "render/time_text.h"
#include "time_args.h"

#define NS_PER_SEC 1000000000LL

/* sec * 1e9 + nsec, clamped to the int64_t range. */
static int64_t join_ns(int64_t sec, int32_t nsec)
{
	if (sec > INT64_MAX / NS_PER_SEC - 1)
		return INT64_MAX;
	if (sec < INT64_MIN / NS_PER_SEC + 1)
		return INT64_MIN;
	return sec * NS_PER_SEC + nsec;
}

/* ---- Durations ----------------------------------------------------------- */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	/* Two-letter units first, so that "ms" is not read as "m" then "s". */
	{"ns", 1},
	{"us", 1000},
	{"ms", 1000000},
	{"min", 60 * NS_PER_SEC},
	{"s", NS_PER_SEC},
	{"m", 60 * NS_PER_SEC},
	{"h", 3600 * NS_PER_SEC},
	{"d", 86400 * NS_PER_SEC},
};

int cli_duration_parse(const char *text, int64_t *ns, const char **why)
{
	const char *p = text;
	int64_t total = 0;

	if (*p == '\0') {
		*why = "empty duration";
		return -1;
	}
	while (*p) {
		const char *part_start = p;
		uint64_t whole = 0, frac = 0, frac_scale = 1;
		int any = 0;

		for (; is_digit(*p); p++, any = 1) {
			if (whole > (UINT64_MAX - 9) / 10) {
				*why = "duration too large";
				return -1;
			}
			whole = whole * 10 + (uint64_t)(*p - '0');
		}
		if (*p == '.') {
			/* Digits beyond the ninth cannot matter for any unit >= 1 ns
			 * by more than the one nanosecond they are truncated to. */
			for (p++; is_digit(*p); p++, any = 1) {
				if (frac_scale < (uint64_t)NS_PER_SEC) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					frac_scale *= 10;
				}
			}
		}
		if (!any) {
			*why = "expected NUMBER UNIT, as in 2s, 1.5ms or 1h30m";
			return -1;
		}
		/* The whole text a number: seconds, as the library takes it. */
		int64_t bare = *p == '\0' && part_start == text ? NS_PER_SEC : 0;
		size_t u, len = 0;
		for (u = 0; u < sizeof units / sizeof units[0]; u++) {
			len = 0;
			while (units[u].name[len] && p[len] == units[u].name[len])
				len++;
			if (units[u].name[len] == '\0')
				break;
		}
		if (u == sizeof units / sizeof units[0] && !bare) {
			*why = "missing or unknown unit (use ns, us, ms, s, m or min, h or d; a number "
			       "alone is seconds)";
			return -1;
		}
		p += bare ? 0 : len;

		uint64_t unit = bare ? (uint64_t)bare : (uint64_t)units[u].ns;
		if (whole > (uint64_t)INT64_MAX / unit) {
			*why = "duration too large";
			return -1;
		}
		/* frac < frac_scale <= 1e9 and unit <= 3.6e12: 128 bits hold the product. */
		uint64_t part = whole * unit +
				(uint64_t)((unsigned __int128)frac * unit / frac_scale);
		if (part > (uint64_t)(INT64_MAX - total)) {
			*why = "duration too large";
			return -1;
		}
		total += (int64_t)part;
	}
	*ns = total;
	return 0;
}

/* ---- Times ------------------------------------------------------------- */

/* Reads exactly n digits. */
static int take_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return 29;
	return days[month - 1];
}

/* HH:MM[:SS[.F]], then an optional Z, then the end of the text. */
static int parse_clock(const char *p, struct cli_time *t, const char **why)
{
	static const char bad[] = "expected HH:MM[:SS[.FRACTION]]";

	if (take_digits(&p, 2, &t->hour) || *p++ != ':' || take_digits(&p, 2, &t->minute)) {
		*why = bad;
		return -1;
	}
	t->second = 0;
	t->nsec = 0;
	if (*p == ':') {
		p++;
		if (take_digits(&p, 2, &t->second)) {
			*why = bad;
			return -1;
		}
		if (*p == '.') {
			int digits = 0;
			int32_t v = 0;
			for (p++; is_digit(*p); p++, digits++) {
				if (digits == 9) {
					*why = "at most 9 digits after the decimal point";
					return -1;
				}
				v = v * 10 + (*p - '0');
			}
			if (digits == 0) {
				*why = "expected digits after the decimal point";
				return -1;
			}
			for (int i = digits; i < 9; i++)
				v *= 10;
			t->nsec = v;
		}
	}
	t->zulu = 0;
	if (*p == 'Z' || *p == 'z') {
		t->zulu = 1;
		p++;
	}
	if (*p != '\0') {
		*why = "unexpected text after the time";
		return -1;
	}
	if (t->hour > 23 || t->minute > 59 || t->second > 59) {
		*why = "hour, minute or second out of range";
		return -1;
	}
	return 0;
}

int cli_time_parse(const char *text, struct cli_time *t, const char **why)
{
	const char *p = text;
	struct cli_time r = {0};

	if (*p == '-') {
		r.kind = CLI_TIME_BEFORE_END;
		if (cli_duration_parse(p + 1, &r.before_ns, why) != 0)
			return -1;
		*t = r;
		return 0;
	}
	if (is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) && p[4] == '-') {
		r.kind = CLI_TIME_ABSOLUTE;
		if (take_digits(&p, 4, &r.year) || *p++ != '-' || take_digits(&p, 2, &r.month) ||
		    *p++ != '-' || take_digits(&p, 2, &r.day)) {
			*why = "expected a date as YYYY-MM-DD";
			return -1;
		}
		if (r.year < 1 || r.month < 1 || r.month > 12 || r.day < 1 ||
		    r.day > days_in_month(r.year, r.month)) {
			*why = "no such date";
			return -1;
		}
		if (*p != ' ' && *p != 'T' && *p != 't') {
			*why = "expected a space or T between the date and the time";
			return -1;
		}
		p++;
	} else {
		r.kind = CLI_TIME_OF_DAY;
	}
	if (parse_clock(p, &r, why) != 0)
		return -1;
	*t = r;
	return 0;
}

int64_t cli_time_resolve(const struct cli_time *t, int64_t end_ns, int utc)
{
	struct tm tm = {0};
	int64_t sec;
	int32_t nsec;

	switch (t->kind) {
	case CLI_TIME_UNSET:
		return 0;
	case CLI_TIME_BEFORE_END:
		if (end_ns < INT64_MIN + t->before_ns)
			return INT64_MIN;
		return end_ns - t->before_ns;
	case CLI_TIME_OF_DAY:
	case CLI_TIME_ABSOLUTE:
		break;
	}
	utc = utc || t->zulu;
	if (t->kind == CLI_TIME_OF_DAY) {
		render_time_split(end_ns, &sec, &nsec);
		if (render_time_break_down(sec, utc, &tm) != 0)
			return end_ns;
	} else {
		tm.tm_year = t->year - 1900;
		tm.tm_mon = t->month - 1;
		tm.tm_mday = t->day;
	}
	tm.tm_hour = t->hour;
	tm.tm_min = t->minute;
	tm.tm_sec = t->second;
	tm.tm_isdst = -1; /* let mktime() decide whether DST applies */
	/* (time_t)-1 is also a valid time (one second before the epoch), and
	 * the fields are validated already: use the value as it is. */
	time_t secs = utc ? timegm(&tm) : mktime(&tm);
	return join_ns((int64_t)secs, t->nsec);
}
