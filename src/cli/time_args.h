/* SPDX-License-Identifier: MIT */
/*
 * time_args.h - the times and durations that the ttlog command's options
 * take (`ttlog view --since/--until/--last`, `ttlog snap --timeout`).
 *
 * A time is an int64_t count of nanoseconds since the Unix epoch (UTC), as
 * the reader returns it. "Local" is the time zone of the process (TZ), as
 * localtime_r() and mktime() see it: the zone times are shown in
 * (render/time_text.h).
 */
#ifndef TTLOG__CLI_TIME_ARGS_H
#define TTLOG__CLI_TIME_ARGS_H

#include <stddef.h>
#include <stdint.h>

/**
 * Parses a duration: one or more NUMBER UNIT parts ("2s", "1.5ms", "1h30m"),
 * units ns, us, ms, s, m or min, h, d, the number optionally with a
 * fraction; a number alone is seconds ("5" is 5s), as the library reads
 * TTLOG_WINDOW and its other durations. Returns 0 and sets *ns, or -1 and
 * points *why at a static reason.
 */
int cli_duration_parse(const char *text, int64_t *ns, const char **why);

enum cli_time_kind {
	CLI_TIME_UNSET = 0,
	CLI_TIME_ABSOLUTE,  /* a date and a time of day */
	CLI_TIME_OF_DAY,    /* a time of day on the date of the snapshot's end */
	CLI_TIME_BEFORE_END /* a duration before the snapshot's end */
};

/*
 * A parsed time argument. What it means depends on the file (the end of the
 * snapshot) and on --utc, so it is resolved per file by cli_time_resolve().
 */
struct cli_time {
	enum cli_time_kind kind;
	int year, month, day;     /* ABSOLUTE */
	int hour, minute, second; /* ABSOLUTE and OF_DAY */
	int32_t nsec;             /* ABSOLUTE and OF_DAY */
	int zulu;                 /* ended in 'Z': UTC whatever --utc says */
	int64_t before_ns;        /* BEFORE_END */
};

/**
 * Parses "YYYY-MM-DD HH:MM[:SS[.F]]", "YYYY-MM-DDTHH:MM[:SS[.F]]",
 * "HH:MM[:SS[.F]]" (each optionally followed by Z) or "-DURATION".
 * F has 1 to 9 digits. Returns 0, or -1 and points *why at a static reason.
 */
int cli_time_parse(const char *text, struct cli_time *t, const char **why);

/**
 * The time t stands for in a file whose last event is at end_ns, in local
 * time or (utc != 0) UTC. Times outside the int64_t range are clamped.
 */
int64_t cli_time_resolve(const struct cli_time *t, int64_t end_ns, int utc);

#endif /* TTLOG__CLI_TIME_ARGS_H */
