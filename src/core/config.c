/* SPDX-License-Identifier: MIT */
/*
 * config.c - turning struct ttlog_config and TTLOG_* environment variables
 * into settings, with an error message that names the bad value.
 *
 * Precedence: defaults < struct ttlog_config < environment. Nothing here
 * changes global state; ttlog_init() applies the result. The variables are
 * one table, config_vars[], which also documents them.
 */
#define _GNU_SOURCE
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dir_rules.h"
#include "common/internal.h"
#include "crash/crash.h"
#include "sites/sampling.h"
#include "sites/sites.h"
#include "snapshot/compression.h"
#include "snapshot/redact.h"
#include "snapshot/retention.h"
#include "stream/stream.h"

static int fail(char *err, size_t errsize, const char *var, const char *expected, const char *got)
{
	snprintf(err, errsize, "%s: expected %s, got '%s'", var, expected, got);
	return TTLOG_E_CONFIG;
}

/* "1048576", "1024K", "1M", "1MiB", "2G": bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1ull << 10, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1ull << 20, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1ull << 30, end++;
	if (mult > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
		end += strlen(end);
	if (*end || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

/* TTLOG_MAX_SNAPSHOTS: a count of files from 1 up, or "unlimited". */
static int parse_max_snapshots(const char *s, uint32_t *out)
{
	if (strcasecmp(s, "unlimited") == 0) {
		*out = TTLOG__NO_MAX_SNAPSHOTS;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-' || *s == '+' || v == 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* TTLOG_MAX_SNAPSHOT_BYTES: a size from 1 byte up, or "unlimited". */
static int parse_max_snapshot_bytes(const char *s, uint64_t *out)
{
	if (strcasecmp(s, "unlimited") == 0) {
		*out = TTLOG__NO_MAX_SNAPSHOT_BYTES;
		return 0;
	}
	uint64_t v;
	if (parse_size(s, &v) != 0 || v == 0)
		return -1;
	*out = v;
	return 0;
}

/*
 * Durations, the same rule as the ttlog command's: one or more NUMBER UNIT
 * parts ("250ms", "1.5s", "1h30m", "7d"), units ns, us, ms, s, m or min, h
 * and d, the number optionally with a fraction; a bare number is seconds
 * ("5" is 5s, "0" is 0). Nothing else: no sign, no exponent, no space.
 */
int ttlog__parse_duration(const char *s, uint64_t *out)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		/* Longer names first: "ms" and "min" are not "m" then more. */
		{"ns", 1ull},
		{"us", 1000ull},
		{"ms", 1000000ull},
		{"min", 60000000000ull},
		{"s", 1000000000ull},
		{"m", 60000000000ull},
		{"h", 3600000000000ull},
		{"d", 86400000000000ull},
	};
	const char *p = s;
	uint64_t total = 0;
	if (*p == '\0')
		return -1;
	while (*p) {
		const char *part_start = p;
		uint64_t whole = 0, frac = 0, scale = 1;
		int any = 0;
		for (; *p >= '0' && *p <= '9'; p++, any = 1) {
			if (whole > (UINT64_MAX - 9) / 10)
				return -1;
			whole = whole * 10 + (uint64_t)(*p - '0');
		}
		if (*p == '.')
			for (p++; *p >= '0' && *p <= '9'; p++, any = 1)
				if (scale < 1000000000ull) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
		if (!any)
			return -1;
		uint64_t unit = 0;
		if (*p == '\0' && part_start == s) {
			unit = 1000000000ull; /* the whole text is a number: seconds */
		} else {
			for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
				size_t n = strlen(units[u].name);
				if (strncmp(p, units[u].name, n) == 0) {
					unit = units[u].ns;
					p += n;
					break;
				}
			}
			if (!unit)
				return -1;
		}
		if (whole > UINT64_MAX / unit)
			return -1;
		uint64_t part = whole * unit + (uint64_t)((unsigned __int128)frac * unit / scale);
		if (part > UINT64_MAX - total)
			return -1;
		total += part;
	}
	*out = total;
	return 0;
}

/* "SEGV", "SIGSEGV" or "11". */
static int parse_signal(const char *s, size_t len)
{
	char name[16];
	if (len == 0 || len >= sizeof name)
		return -1;
	memcpy(name, s, len);
	name[len] = '\0';
	char *end;
	long n = strtol(name, &end, 10);
	if (*end == '\0')
		return n >= 1 && n <= 63 ? (int)n : -1;
	const char *bare = strncasecmp(name, "SIG", 3) == 0 ? name + 3 : name;
	for (int sig = 1; sig <= 63; sig++) {
		const char *known = ttlog__signal_name(sig);
		if (known && strcasecmp(known + 3, bare) == 0)
			return sig;
	}
	return -1;
}

/* "default", "none", or a comma-separated list of signals. */
static int parse_signal_list(const char *s, uint64_t *mask)
{
	if (strcasecmp(s, "default") == 0) {
		*mask = ttlog__crash_default_mask();
		return 0;
	}
	if (strcasecmp(s, "none") == 0 || strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*mask = 0;
		return 0;
	}
	uint64_t m = 0;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		int sig = parse_signal(s, len);
		if (sig < 0 || sig == SIGKILL || sig == SIGSTOP)
			return -1;
		m |= 1ull << sig;
		s += len + (comma ? 1 : 0);
	}
	*mask = m;
	return 0;
}

static int default_dir(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (xdg && xdg[0] == '/')
		n = snprintf(out, cap, "%s/ttlog", xdg);
	else
		n = snprintf(out, cap, "/tmp/ttlog-%u", (unsigned)geteuid());
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* dir as an absolute path: itself, or relative to the working directory. */
static int absolute_dir(const char *dir, char *out, size_t cap)
{
	int n;
	if (dir[0] == '/') {
		n = snprintf(out, cap, "%s", dir);
	} else {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return -1;
		n = snprintf(out, cap, "%s/%s", cwd, dir);
	}
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static void strip_trailing_slashes(char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
}

/*
 * The TTLOG_* variables, one entry each, in the order ttlog__config_resolve()
 * reads them: when several are bad, the first is the one reported. The
 * same entries describe the variables to people (ttlog_config_var() for
 * `ttlog help env`; tests/test_config.c holds the error messages and the
 * defaults to them, tests/config_doc.sh README.md's table), so that what
 * is accepted and what is documented cannot drift apart. An entry's `values` is also the "expected ..." of the message for
 * a value its parser refuses.
 */

/* What the parsers fill in: the settings, and what can only be checked
 * once struct and environment are both read (the ring size against the
 * memory cap, the directories made absolute). */
struct resolving {
	struct ttlog__settings *st;
	const char *var; /* the variable being read, for messages */
	uint64_t ring, cap, max_string;
	const char *dir, *shared_dir, *stream_dir;
	/* The compression settings: the struct's, then the variables'. */
	const char *compression, *stream_compression;
	char *err;
	size_t errsize;
};

/* A parser's answer. REFUSED: the caller reports the value with the
 * entry's `values`; REPORTED: the parser wrote a more precise message. */
enum { TAKEN = 0, REFUSED = -1, REPORTED = -2 };

static int take_dir(const char *v, struct resolving *r)
{
	r->dir = v;
	return TAKEN;
}

static int take_ring_size(const char *v, struct resolving *r)
{
	return parse_size(v, &r->ring) == 0 ? TAKEN : REFUSED;
}

static int take_memory_cap(const char *v, struct resolving *r)
{
	return parse_size(v, &r->cap) == 0 ? TAKEN : REFUSED;
}

static int take_max_string(const char *v, struct resolving *r)
{
	return parse_size(v, &r->max_string) == 0 ? TAKEN : REFUSED;
}

static int take_window(const char *v, struct resolving *r)
{
	return ttlog__parse_duration(v, &r->st->window_ns) == 0 ? TAKEN : REFUSED;
}

static int take_watchdog(const char *v, struct resolving *r)
{
	if (strcmp(v, "none") == 0 || strcmp(v, "off") == 0) {
		r->st->watchdog_ns = 0;
		return TAKEN;
	}
	uint64_t ns;
	if (ttlog__parse_duration(v, &ns) != 0 || (ns && ns < TTLOG__WATCHDOG_MIN_NS))
		return REFUSED;
	r->st->watchdog_ns = ns;
	return TAKEN;
}

/* Bad rules do not stop ttlog_init: they are reported there, one by one,
 * and left out. */
static int take_trigger(const char *v, struct resolving *r)
{
	r->st->trigger_env = strcmp(v, "none") == 0 ? NULL : v;
	return TAKEN;
}

/* TTLOG_MAX_SITES: a count of call sites from 1 to TTLOG__MAX_SITES. */
static int parse_max_sites(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || *end || errno || *s == '-' || *s == '+' || v == 0 || v > TTLOG__MAX_SITES)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int take_max_sites(const char *v, struct resolving *r)
{
	return parse_max_sites(v, &r->st->max_sites) == 0 ? TAKEN : REFUSED;
}

static int take_max_snapshots(const char *v, struct resolving *r)
{
	return parse_max_snapshots(v, &r->st->max_snapshots) == 0 ? TAKEN : REFUSED;
}

static int take_max_snapshot_bytes(const char *v, struct resolving *r)
{
	return parse_max_snapshot_bytes(v, &r->st->max_snapshot_bytes) == 0 ? TAKEN : REFUSED;
}

/* Levels name targets, which only exist once ttlog_init() runs: the value
 * is checked there, with the same `values` in its message. */
static int take_level(const char *v, struct resolving *r)
{
	r->st->levels_env = v;
	return TAKEN;
}

/* The struct's rules are checked where the variable's would be, so that a
 * program's bad rules are reported in the same order as before the table. */
static int check_struct_sample(struct resolving *r)
{
	if (ttlog__sampling_check(r->st->sample, "sample", r->err, r->errsize) != TTLOG_OK)
		return REPORTED;
	return TAKEN;
}

/* The sampling parser says which rule of a list is wrong, which the
 * generic message could not. */
static int take_sample(const char *v, struct resolving *r)
{
	if (ttlog__sampling_check(v, r->var, r->err, r->errsize) != TTLOG_OK)
		return REPORTED;
	r->st->sample_env = v;
	return TAKEN;
}

static int take_signals(const char *v, struct resolving *r)
{
	return parse_signal_list(v, &r->st->crash_mask) == 0 ? TAKEN : REFUSED;
}

static int take_snapshot_signal(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "none") == 0 || strcmp(v, "0") == 0) {
		r->st->snapshot_signal = 0;
		return TAKEN;
	}
	int sig = parse_signal(v, strlen(v));
	if (sig < 0)
		return REFUSED;
	r->st->snapshot_signal = sig;
	return TAKEN;
}

static int take_shared_memory(const char *v, struct resolving *r)
{
	if (strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0)
		r->st->shared_memory = 1;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0)
		r->st->shared_memory = 0;
	else
		return REFUSED;
	return TAKEN;
}

static int take_shared_dir(const char *v, struct resolving *r)
{
	r->shared_dir = v;
	return TAKEN;
}

/* "tsc" is the counter's older name, still accepted. */
static int take_clock(const char *v, struct resolving *r)
{
	if (strcmp(v, "auto") == 0)
		r->st->clock = TTLOG__CLOCK_AUTO;
	else if (strcmp(v, "tsc") == 0 || strcmp(v, "counter") == 0)
		r->st->clock = TTLOG__CLOCK_COUNTER;
	else if (strcmp(v, "monotonic") == 0)
		r->st->clock = TTLOG__CLOCK_MONO;
	else if (strcmp(v, "fake") == 0)
		r->st->clock = TTLOG__CLOCK_FAKE;
	else
		return REFUSED;
	return TAKEN;
}

/* Any bytes but NUL, 1 to 64 of them; file names get a sanitised copy. */
static int set_service(const char *v, struct resolving *r)
{
	size_t n = strlen(v);
	if (n > TTLOG__SERVICE_MAX)
		return REFUSED;
	memcpy(r->st->service, v, n + 1);
	return TAKEN;
}

static int take_service(const char *v, struct resolving *r)
{
	return set_service(v, r);
}

static int is_off(const char *v)
{
	return strcasecmp(v, "none") == 0 || strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0;
}

static int take_stream(const char *v, struct resolving *r)
{
	r->stream_dir = is_off(v) ? NULL : v;
	return TAKEN;
}

static int take_encrypt_key(const char *v, struct resolving *r)
{
	r->st->encrypt_key = is_off(v) ? NULL : v;
	return TAKEN;
}

static int take_stream_level(const char *v, struct resolving *r)
{
	if (ttlog__stream_check_level(v) != TTLOG_OK)
		return REFUSED;
	r->st->stream.level = v;
	return TAKEN;
}

/* A segment holds at least its header, a block and its closing chunks. */
#define MIN_SEGMENT_SIZE (64u << 10)

static int take_segment_size(const char *v, struct resolving *r)
{
	uint64_t n;
	if (parse_size(v, &n) != 0 || n < MIN_SEGMENT_SIZE)
		return REFUSED;
	r->st->stream.segment_size = n;
	return TAKEN;
}

static int take_segment_age(const char *v, struct resolving *r)
{
	uint64_t n;
	if (ttlog__parse_duration(v, &n) != 0 || n == 0)
		return REFUSED;
	r->st->stream.segment_age_ns = n;
	return TAKEN;
}

/* "none", "segment" or "interval:DURATION". */
static int parse_sync(const char *v, struct ttlog__stream_settings *st)
{
	if (strcasecmp(v, "none") == 0) {
		st->sync = TTLOG__SYNC_NONE;
	} else if (strcasecmp(v, "segment") == 0) {
		st->sync = TTLOG__SYNC_SEGMENT;
	} else if (strncasecmp(v, "interval:", 9) == 0) {
		uint64_t ns;
		if (ttlog__parse_duration(v + 9, &ns) != 0 || ns == 0)
			return REFUSED;
		st->sync = TTLOG__SYNC_INTERVAL;
		st->sync_interval_ns = ns;
	} else {
		return REFUSED;
	}
	return TAKEN;
}

static int take_stream_sync(const char *v, struct resolving *r)
{
	return parse_sync(v, &r->st->stream);
}

static int take_stream_max_bytes(const char *v, struct resolving *r)
{
	uint64_t n;
	if (strcasecmp(v, "unlimited") == 0 || strcmp(v, "0") == 0)
		n = 0;
	else if (parse_size(v, &n) != 0)
		return REFUSED;
	r->st->stream.max_bytes = n;
	return TAKEN;
}

static int take_stream_max_age(const char *v, struct resolving *r)
{
	uint64_t n;
	if (strcasecmp(v, "unlimited") == 0)
		n = 0;
	else if (ttlog__parse_duration(v, &n) != 0)
		return REFUSED;
	r->st->stream.max_age_ns = n;
	return TAKEN;
}

static int take_stream_max_files(const char *v, struct resolving *r)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || *end || errno || *v == '-' || *v == '+' || n > UINT32_MAX)
		return REFUSED;
	r->st->stream.max_files = (uint32_t)n;
	return TAKEN;
}

static int take_stream_policy(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "drop") == 0)
		r->st->stream.policy = TTLOG__POLICY_DROP;
	else if (strcasecmp(v, "block") == 0)
		r->st->stream.policy = TTLOG__POLICY_BLOCK;
	else
		return REFUSED;
	return TAKEN;
}

static int take_flush_signals(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "auto") == 0)
		r->st->flush_signals = 0;
	else if (strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0)
		r->st->flush_signals = 1;
	else if (strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0)
		r->st->flush_signals = -1;
	else
		return REFUSED;
	return TAKEN;
}

static int take_promote_level(const char *v, struct resolving *r)
{
	int level = ttlog_level_parse(v);
	if (level < TTLOG_LEVEL_DEBUG)
		return REFUSED;
	r->st->stream.promote_level = level;
	return TAKEN;
}

static int take_promote_scope(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "thread") == 0)
		r->st->stream.promote_scope = TTLOG__FMT_PROMOTE_THREAD;
	else if (strcasecmp(v, "process") == 0)
		r->st->stream.promote_scope = TTLOG__FMT_PROMOTE_PROCESS;
	else if (strcasecmp(v, "trace") == 0)
		r->st->stream.promote_scope = TTLOG__FMT_PROMOTE_TRACE;
	else
		return REFUSED;
	return TAKEN;
}

static int take_promote_before(const char *v, struct resolving *r)
{
	return ttlog__parse_duration(v, &r->st->stream.promote_before_ns) == 0 ? TAKEN : REFUSED;
}

static int take_promote_after(const char *v, struct resolving *r)
{
	return ttlog__parse_duration(v, &r->st->stream.promote_after_ns) == 0 ? TAKEN : REFUSED;
}

/* "10/s", "unlimited". */
static int take_promote_max(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "unlimited") == 0) {
		r->st->stream.promote_max = 0;
		return TAKEN;
	}
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || errno || *v == '-' || *v == '+' || strcmp(end, "/s") != 0 || n == 0 ||
	    n > UINT32_MAX)
		return REFUSED;
	r->st->stream.promote_max = (uint32_t)n;
	return TAKEN;
}

static int take_snapshot_threads(const char *v, struct resolving *r)
{
	if (strcasecmp(v, "auto") == 0)
		r->st->snapshot_threads = TTLOG__SNAPSHOT_THREADS_AUTO;
	else if (strcmp(v, "1") == 0)
		r->st->snapshot_threads = 0; /* the default, as when unset */
	else if (strcmp(v, "2") == 0)
		r->st->snapshot_threads = 2;
	else
		return REFUSED;
	return TAKEN;
}

/* Both settings are checked here and resolved once both are read (the
 * stream's falls back to the general one). */
static int take_compression(const char *v, struct resolving *r)
{
	struct ttlog__compression c;
	if (ttlog__compression_parse(v, &c) != 0)
		return REFUSED;
	r->compression = v;
	return TAKEN;
}

static int take_stream_compression(const char *v, struct resolving *r)
{
	struct ttlog__compression c;
	if (ttlog__compression_parse(v, &c) != 0)
		return REFUSED;
	r->stream_compression = v;
	return TAKEN;
}

/* The rules' parser names the rule that is wrong. */
static int take_redact(const char *v, struct resolving *r)
{
	return ttlog__redact_parse(v, &r->st->redact, r->err, r->errsize) == 0 ? TAKEN : REPORTED;
}

#define COMPRESSION_VALUES "lz4, packed, zstd, zstd:LEVEL (1 to 19) or none"

static const struct config_var {
	struct ttlog_config_var doc; /* name, field, default, values, summary */
	/* Called with the variable's value when it is set and not empty. */
	int (*parse)(const char *value, struct resolving *r);
	/* Called when the entry is reached, whether the variable is set or not. */
	int (*check_struct)(struct resolving *r);
} config_vars[] = {
	{{"TTLOG_DIR", "dir", "$XDG_RUNTIME_DIR/ttlog, else /tmp/ttlog-UID", "a directory path",
	  "where snapshots go; created with mode 0700; must be owned by you and not writable "
	  "by everyone (a default one that is not is replaced by a private one, with a "
	  "warning)"},
	 take_dir, NULL},
	{{"TTLOG_RING_SIZE", "ring_size", "1M", "a size such as 1M or 65536",
	  "bytes of history per thread, 1K to 1G; suffixes K, M, G"},
	 take_ring_size, NULL},
	{{"TTLOG_MEMORY_CAP", "memory_cap", "64M", "a size such as 64M",
	  "bytes for all rings; past it, new threads reuse the rings of exited ones"},
	 take_memory_cap, NULL},
	{{"TTLOG_MAX_STRING", "max_string", "256", "a byte count such as 256",
	  "%s arguments are cut after this many bytes, 1 to 4000"},
	 take_max_string, NULL},
	{{"TTLOG_MAX_SITES", "max_sites", "65535", "a number of call sites from 1 to 65535",
	  "call sites that get an id; a site past it is disabled for good and counted "
	  "(sites without an id)"},
	 take_max_sites, NULL},
	{{"TTLOG_WINDOW", "window_ns", "0", "a duration such as 5s, 250ms or 0",
	  "snapshots keep only this much recent history; 0 keeps all of it"},
	 take_window, NULL},
	{{"TTLOG_MAX_SNAPSHOTS", "max_snapshots", "100",
	  "a number of files such as 100 (at least 1) or 'unlimited'",
	  "snapshot files kept in the directory; the oldest go first, crash ones last"},
	 take_max_snapshots, NULL},
	{{"TTLOG_MAX_SNAPSHOT_BYTES", "max_snapshot_bytes", "256M",
	  "a size such as 512M (at least 1 byte) or 'unlimited'",
	  "the same limit for the total size of those files"},
	 take_max_snapshot_bytes, NULL},
	{{"TTLOG_LEVEL", "min_level, levels", "trace", "'LEVEL' or 'target=LEVEL,...'",
	  "runtime minimum level, and levels per target: info,net=trace"},
	 take_level, NULL},
	{{"TTLOG_SAMPLE", "sample", "none",
	  "SELECTOR=RULE, such as net=1/100, db.c:42=500/s or *=1/10+200/s",
	  "sampling rules: SELECTOR a target, FILE:LINE or *; RULE 1/N, K/s or 1/N+K/s"},
	 take_sample, check_struct_sample},
	{{"TTLOG_SIGNALS", "crash_signals, signal_mask", "default",
	  "'default', 'none' or signals such as SEGV,ABRT",
	  "crash signals handled; default: SEGV, BUS, ILL, FPE, ABRT, TRAP, SYS"},
	 take_signals, NULL},
	{{"TTLOG_SNAPSHOT_SIGNAL", "snapshot_signal", "none", "a signal such as USR2 or none",
	  "a signal that takes a snapshot without stopping the program"},
	 take_snapshot_signal, NULL},
	{{"TTLOG_SHARED_MEMORY", "shared_memory", "0", "1, 0, on, off, yes or no",
	  "rings in a shared mapping, which `ttlog snap` and `ttlog recover` read"},
	 take_shared_memory, NULL},
	{{"TTLOG_SHARED_DIR", "shared_dir", "/dev/shm", "a directory path",
	  "base directory of the shared mappings"},
	 take_shared_dir, NULL},
	{{"TTLOG_CLOCK", "", "auto", "auto, counter, monotonic or fake",
	  "auto: the CPU's counter if invariant, else monotonic; fake: for tests"},
	 take_clock, NULL},
	{{"TTLOG_SERVICE", "service", "the executable's base name", "a name of 1 to 64 bytes",
	  "the service's name, in every snapshot and segment header and segment file name"},
	 take_service, NULL},
	{{"TTLOG_STREAM", "stream", "none", "a directory path, or none",
	  "streaming: a background thread writes the log to rotating segment files there"},
	 take_stream, NULL},
	{{"TTLOG_STREAM_LEVEL", "stream_level", "info", "'LEVEL' or 'target=LEVEL,...'",
	  "records below this level stay in the rings only (counted as filtered)"},
	 take_stream_level, NULL},
	{{"TTLOG_SEGMENT_SIZE", "segment_size", "64M", "a size of at least 64K, such as 64M",
	  "a segment is closed and the next begun at this size"},
	 take_segment_size, NULL},
	{{"TTLOG_SEGMENT_AGE", "segment_age_ns", "1h", "a duration such as 1h or 10m, not 0",
	  "... or at this age, whichever comes first"},
	 take_segment_age, NULL},
	{{"TTLOG_STREAM_SYNC", "stream_sync", "segment", "none, segment or interval:DURATION",
	  "fsync of segments: never, when one is closed, or every DURATION too"},
	 take_stream_sync, NULL},
	{{"TTLOG_STREAM_MAX_BYTES", "stream_max_bytes", "1G", "a size such as 1G, or unlimited",
	  "segments of this service kept in the directory; the oldest go first"},
	 take_stream_max_bytes, NULL},
	{{"TTLOG_STREAM_MAX_AGE", "stream_max_age_ns", "7d", "a duration such as 7d or 12h, or unlimited",
	  "segments older than this are removed"},
	 take_stream_max_age, NULL},
	{{"TTLOG_STREAM_MAX_FILES", "stream_max_files", "0", "a number of files; 0 = no limit",
	  "at most this many segments of this service are kept"},
	 take_stream_max_files, NULL},
	{{"TTLOG_STREAM_POLICY", "stream_policy", "drop", "drop or block",
	  "drop: records the stream could not read in time are lost and counted; block: the thread waits"},
	 take_stream_policy, NULL},
	{{"TTLOG_FLUSH_SIGNALS", "flush_signals", "auto", "auto, 1, 0, on, off, yes or no",
	  "SIGTERM and SIGINT close the stream before they act; auto: when streaming"},
	 take_flush_signals, NULL},
	{{"TTLOG_PROMOTE_LEVEL", "promote_level", "error", "a level from debug to fatal, or off",
	  "a log call at this level or above also streams the records below the stream level around it"},
	 take_promote_level, NULL},
	{{"TTLOG_PROMOTE_SCOPE", "promote_scope", "trace", "thread, process or trace",
	  "whose records a promotion streams: the thread's, every thread's, or also those of its trace"},
	 take_promote_scope, NULL},
	{{"TTLOG_PROMOTE_BEFORE", "promote_before_ns", "2s", "a duration such as 2s",
	  "a promotion streams the records from this long before the call"},
	 take_promote_before, NULL},
	{{"TTLOG_PROMOTE_AFTER", "promote_after_ns", "500ms", "a duration such as 500ms",
	  "... to this long after it"},
	 take_promote_after, NULL},
	{{"TTLOG_PROMOTE_MAX", "promote_max", "10/s", "N/s such as 10/s, or unlimited",
	  "promotions a second; the others are counted (ttlog_stream_promotions_suppressed_total)"},
	 take_promote_max, NULL},
	{{"TTLOG_ENCRYPT_KEY", "encrypt_key", "none", "a public key file (ttlog keygen), or none",
	  "seal every snapshot and segment to this key; reading them needs its private key (--key)"},
	 take_encrypt_key, NULL},

	{{"TTLOG_COMPRESSION", "compression", "lz4 (snapshots), packed (segments)", COMPRESSION_VALUES,
	  "how event blocks are stored in snapshots and segments; zstd packs, then compresses"},
	 take_compression, NULL},
	{{"TTLOG_SNAPSHOT_THREADS", "", "1", "auto, 1 or 2",
	  "threads that compress a ttlog_snapshot(): 2 adds the ttlog-snapzip thread; auto: 2 when "
	  "more than one CPU is online (crash snapshots always use one)"},
	 take_snapshot_threads, NULL},
	{{"TTLOG_STREAM_COMPRESSION", "stream_compression", "TTLOG_COMPRESSION, else packed",
	  COMPRESSION_VALUES, "the same for stream segments only"},
	 take_stream_compression, NULL},
	{{"TTLOG_REDACT", "redact", "none",
	  "field keys (globs such as card*), arg:N@FILE:LINE or re:PATTERN, separated by commas",
	  "values that never reach a snapshot, segment or export: replaced by [REDACTED n], "
	  "pattern matches by '*' bytes"},
	 take_redact, NULL},
	{{"TTLOG_WATCHDOG", "watchdog_ns", "none", "a duration of at least 100ms such as 2s, or none",
	  "a thread inside a span whose ring has not moved this long is stalled: one snapshot "
	  "(reason watchdog) with the stalled threads' stacks"},
	 take_watchdog, NULL},
	{{"TTLOG_TRIGGER", "trigger", "none",
	  "rules separated by ';' such as 'level>=error post=2s action=snapshot,stderr'",
	  "conditions (level, span, metric quantile, counter rate, gauge) evaluated by a timer "
	  "inside the process: a snapshot after a post-roll, a stderr line, a command, a metric"},
	 take_trigger, NULL},
};

#define CONFIG_VARS (sizeof config_vars / sizeof config_vars[0])

TTLOG_API const struct ttlog_config_var *ttlog_config_var(size_t index)
{
	return index < CONFIG_VARS ? &config_vars[index].doc : NULL;
}

int ttlog__config_resolve(const struct ttlog_config *cfg, struct ttlog__settings *st, char *err,
			  size_t errsize)
{
	struct ttlog_config zero;
	ttlog_config_init(&zero);
	if (!cfg)
		cfg = &zero;
	if (cfg->struct_size < offsetof(struct ttlog_config, snapshot_signal) + sizeof(int)) {
		snprintf(err, errsize, "struct ttlog_config: struct_size %zu is too small; "
				       "fill it with ttlog_config_init()", cfg->struct_size);
		return TTLOG_E_INVALID;
	}
	memset(st, 0, sizeof *st);
	struct resolving r = {.st = st, .err = err, .errsize = errsize};
	r.ring = cfg->ring_size ? cfg->ring_size : TTLOG__DEFAULT_RING;
	r.cap = cfg->memory_cap ? cfg->memory_cap : TTLOG__DEFAULT_CAP;
	r.max_string = cfg->max_string ? cfg->max_string : TTLOG__DEFAULT_MAX_STRING;
	st->window_ns = cfg->window_ns;
	st->min_level = cfg->min_level;
	st->levels = cfg->levels;
	st->crash_mask = cfg->crash_signals < 0 ? 0
			 : cfg->signal_mask     ? cfg->signal_mask
						: ttlog__crash_default_mask();
	st->snapshot_signal = cfg->snapshot_signal;
	st->clock = TTLOG__CLOCK_AUTO;
	if (cfg->struct_size >= offsetof(struct ttlog_config, sample) + sizeof cfg->sample)
		st->sample = cfg->sample;
	st->max_snapshots = TTLOG__DEFAULT_MAX_SNAPSHOTS;
	st->max_snapshot_bytes = TTLOG__DEFAULT_MAX_SNAPSHOT_BYTES;
	if (cfg->struct_size >= offsetof(struct ttlog_config, max_snapshots) + sizeof cfg->max_snapshots &&
	    cfg->max_snapshots)
		st->max_snapshots = cfg->max_snapshots;
	if (cfg->struct_size >= offsetof(struct ttlog_config, max_snapshot_bytes) +
				    sizeof cfg->max_snapshot_bytes &&
	    cfg->max_snapshot_bytes)
		st->max_snapshot_bytes = cfg->max_snapshot_bytes;
	r.dir = cfg->dir;
	char numbuf[32];
	st->stream.level = NULL;
	st->stream.segment_size = 64ull << 20;
	st->stream.segment_age_ns = 3600ull * 1000000000ull;
	st->stream.sync = TTLOG__SYNC_SEGMENT;
	st->stream.max_bytes = 1ull << 30;
	st->stream.max_age_ns = 7ull * 86400ull * 1000000000ull;
	st->stream.flush_ns = 50ull * 1000000ull;
	st->stream.promote_level = TTLOG_LEVEL_ERROR;
	st->stream.promote_scope = TTLOG__FMT_PROMOTE_TRACE;
	st->stream.promote_before_ns = 2000000000ull;
	st->stream.promote_after_ns = 500000000ull;
	st->stream.promote_max = 10;
	if (cfg->struct_size >= offsetof(struct ttlog_config, flush_signals) + sizeof cfg->flush_signals) {
		r.stream_dir = cfg->stream && *cfg->stream ? cfg->stream : NULL;
		if (cfg->stream_level && *cfg->stream_level) {
			if (ttlog__stream_check_level(cfg->stream_level) != TTLOG_OK)
				return fail(err, errsize, "stream_level", "'LEVEL' or 'target=LEVEL,...'",
					    cfg->stream_level);
			st->stream.level = cfg->stream_level;
		}
		if (cfg->segment_size) {
			if (cfg->segment_size < MIN_SEGMENT_SIZE) {
				snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)cfg->segment_size);
				return fail(err, errsize, "segment_size", "at least 64K", numbuf);
			}
			st->stream.segment_size = cfg->segment_size;
		}
		if (cfg->segment_age_ns)
			st->stream.segment_age_ns = cfg->segment_age_ns;
		if (cfg->stream_sync && *cfg->stream_sync && parse_sync(cfg->stream_sync, &st->stream) != TAKEN)
			return fail(err, errsize, "stream_sync", "none, segment or interval:DURATION",
				    cfg->stream_sync);
		if (cfg->stream_max_bytes)
			st->stream.max_bytes = cfg->stream_max_bytes == UINT64_MAX ? 0 : cfg->stream_max_bytes;
		if (cfg->stream_max_age_ns)
			st->stream.max_age_ns = cfg->stream_max_age_ns == UINT64_MAX ? 0 : cfg->stream_max_age_ns;
		st->stream.max_files = cfg->stream_max_files;
		st->stream.policy = cfg->stream_policy == 1 ? TTLOG__POLICY_BLOCK : TTLOG__POLICY_DROP;
		st->flush_signals = cfg->flush_signals < 0 ? -1 : cfg->flush_signals > 0 ? 1 : 0;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, promote_max) + sizeof cfg->promote_max) {
		if (cfg->promote_level) {
			if (cfg->promote_level < TTLOG_LEVEL_DEBUG || cfg->promote_level > TTLOG_LEVEL_OFF) {
				snprintf(numbuf, sizeof numbuf, "%d", cfg->promote_level);
				return fail(err, errsize, "promote_level", "a TTLOG_LEVEL_* from DEBUG", numbuf);
			}
			st->stream.promote_level = cfg->promote_level;
		}
		if (cfg->promote_scope == 1)
			st->stream.promote_scope = TTLOG__FMT_PROMOTE_THREAD;
		else if (cfg->promote_scope == 2)
			st->stream.promote_scope = TTLOG__FMT_PROMOTE_PROCESS;
		if (cfg->promote_before_ns)
			st->stream.promote_before_ns = cfg->promote_before_ns;
		if (cfg->promote_after_ns)
			st->stream.promote_after_ns = cfg->promote_after_ns;
		if (cfg->promote_max)
			st->stream.promote_max = cfg->promote_max == UINT32_MAX ? 0 : cfg->promote_max;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, stream_compression) +
				    sizeof cfg->stream_compression) {
		struct ttlog__compression c;
		if (cfg->compression && *cfg->compression &&
		    ttlog__compression_parse(cfg->compression, &c) != 0)
			return fail(err, errsize, "compression", COMPRESSION_VALUES, cfg->compression);
		if (cfg->stream_compression && *cfg->stream_compression &&
		    ttlog__compression_parse(cfg->stream_compression, &c) != 0)
			return fail(err, errsize, "stream_compression", COMPRESSION_VALUES,
				    cfg->stream_compression);
		r.compression = cfg->compression && *cfg->compression ? cfg->compression : NULL;
		r.stream_compression =
			cfg->stream_compression && *cfg->stream_compression ? cfg->stream_compression : NULL;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, watchdog_ns) + sizeof cfg->watchdog_ns &&
	    cfg->watchdog_ns) {
		if (cfg->watchdog_ns < TTLOG__WATCHDOG_MIN_NS) {
			snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)cfg->watchdog_ns);
			return fail(err, errsize, "watchdog_ns", "at least 100ms (100000000)", numbuf);
		}
		st->watchdog_ns = cfg->watchdog_ns;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, trigger) + sizeof cfg->trigger &&
	    cfg->trigger && *cfg->trigger)
		st->trigger = cfg->trigger;
	st->max_sites = TTLOG__MAX_SITES;
	if (cfg->struct_size >= offsetof(struct ttlog_config, max_sites) + sizeof cfg->max_sites &&
	    cfg->max_sites) {
		if (cfg->max_sites > TTLOG__MAX_SITES) {
			snprintf(numbuf, sizeof numbuf, "%u", (unsigned)cfg->max_sites);
			return fail(err, errsize, "max_sites", "a number of call sites from 1 to 65535",
				    numbuf);
		}
		st->max_sites = cfg->max_sites;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, redact) + sizeof cfg->redact &&
	    cfg->redact && *cfg->redact &&
	    ttlog__redact_parse(cfg->redact, &st->redact, err, errsize) != 0) {
		/* The struct's field, named as such. */
		char msg[256];
		snprintf(msg, sizeof msg, "redact%s", err + strlen("TTLOG_REDACT"));
		snprintf(err, errsize, "%s", msg);
		return TTLOG_E_CONFIG;
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, service) + sizeof cfg->service &&
	    cfg->service && *cfg->service) {
		r.var = "service";
		if (set_service(cfg->service, &r) != TAKEN)
			return fail(err, errsize, "service", "a name of 1 to 64 bytes", cfg->service);
	}
	if (cfg->struct_size >= offsetof(struct ttlog_config, shared_dir) + sizeof cfg->shared_dir) {
		st->shared_memory = cfg->shared_memory == 1;
		r.shared_dir = cfg->shared_dir;
	}

	if (cfg->struct_size >= offsetof(struct ttlog_config, encrypt_key) + sizeof cfg->encrypt_key &&
	    cfg->encrypt_key && *cfg->encrypt_key)
		st->encrypt_key = cfg->encrypt_key;

	for (size_t i = 0; i < CONFIG_VARS; i++) {
		const struct config_var *var = &config_vars[i];
		r.var = var->doc.name;
		if (var->check_struct && var->check_struct(&r) != TAKEN)
			return TTLOG_E_CONFIG;
		const char *v = getenv(var->doc.name);
		if (!v || !*v)
			continue;
		int rc = var->parse(v, &r);
		if (rc == REFUSED)
			return fail(err, errsize, var->doc.name, var->doc.values, v);
		if (rc != TAKEN)
			return TTLOG_E_CONFIG;
	}
	uint64_t ring = r.ring, cap = r.cap, max_string = r.max_string;
	const char *dir = r.dir, *shared_dir = r.shared_dir;
	/* Checked when read: these parse. */
	st->compression.codec = TTLOG__FMT_CODEC_LZ4;
	st->stream.compression.codec = TTLOG__FMT_CODEC_PACKED;
	if (r.compression)
		ttlog__compression_parse(r.compression, &st->compression);
	if (r.stream_compression)
		ttlog__compression_parse(r.stream_compression, &st->stream.compression);
	else if (r.compression)
		ttlog__compression_parse(r.compression, &st->stream.compression);

	if (ring < TTLOG__MIN_RING || ring > TTLOG__MAX_RING) {
		snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)ring);
		return fail(err, errsize, "ring size", "between 1K and 1G bytes", numbuf);
	}
	if (cap < ring) {
		snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)cap);
		return fail(err, errsize, "memory cap", "at least the ring size", numbuf);
	}
	if (max_string == 0 || max_string > TTLOG__MAX_MAX_STRING) {
		snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)max_string);
		return fail(err, errsize, "max string", "between 1 and 4000 bytes", numbuf);
	}
	if (st->min_level < TTLOG_LEVEL_TRACE || st->min_level > TTLOG_LEVEL_OFF) {
		snprintf(numbuf, sizeof numbuf, "%d", st->min_level);
		return fail(err, errsize, "min_level", "a TTLOG_LEVEL_* value", numbuf);
	}
	if (st->snapshot_signal < 0 || st->snapshot_signal > 63 ||
	    (st->snapshot_signal && (st->crash_mask >> st->snapshot_signal & 1u))) {
		snprintf(numbuf, sizeof numbuf, "%d", st->snapshot_signal);
		return fail(err, errsize, "snapshot signal", "a signal that is not a crash signal", numbuf);
	}
	st->ring_size = (uint32_t)((ring + 7) & ~7ull);
	st->memory_cap = (size_t)cap;
	st->max_string = (uint32_t)max_string;

	if (dir && *dir) {
		if (absolute_dir(dir, st->dir, sizeof st->dir) != 0)
			return fail(err, errsize, "snapshot directory", "a shorter path", dir);
		st->dir_is_default = 0;
	} else {
		if (default_dir(st->dir, sizeof st->dir) != 0)
			return fail(err, errsize, "XDG_RUNTIME_DIR", "a shorter path", getenv("XDG_RUNTIME_DIR"));
		st->dir_is_default = 1;
	}
	strip_trailing_slashes(st->dir);
	if (!shared_dir || !*shared_dir)
		shared_dir = "/dev/shm";
	if (absolute_dir(shared_dir, st->shared_dir, sizeof st->shared_dir) != 0)
		return fail(err, errsize, "shared memory directory", "a shorter path", shared_dir);
	strip_trailing_slashes(st->shared_dir);
	if (r.stream_dir) {
		if (absolute_dir(r.stream_dir, st->stream.dir, sizeof st->stream.dir) != 0)
			return fail(err, errsize, "stream directory", "a shorter path", r.stream_dir);
		strip_trailing_slashes(st->stream.dir);
	}
	st->stream.flush_signals = st->stream.dir[0] && st->flush_signals >= 0;
	return TTLOG_OK;
}

/* The same rules as ttlog__config_resolve() for the directory alone, so
 * that tools find snapshots where a program would have written them. */
int ttlog_default_dir(char *buf, size_t size)
{
	if (!buf || size == 0)
		return TTLOG_E_INVALID;
	const char *dir = getenv("TTLOG_DIR");
	int rc = dir && *dir ? absolute_dir(dir, buf, size) : default_dir(buf, size);
	if (rc != 0) {
		buf[0] = '\0';
		return TTLOG_E_RANGE;
	}
	strip_trailing_slashes(buf);
	return TTLOG_OK;
}

/* Creates dir's missing parents and dir itself, each with mode 0700 (an
 * existing one is left as it is). 0, or -1 with a message in err. */
static int make_path(const char *dir, char *err, size_t errsize)
{
	char path[TTLOG__DIR_MAX];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errsize, "snapshot directory %s: cannot create %s: %s", dir, path,
				 strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * The default directory refused (another user made it, or it is a link, a
 * file, or others can write it): snapshots go to a new directory beside it,
 * DIR-XXXXXX, made by mkdtemp (unpredictable, ours, 0700), or nowhere.
 * Init goes on either way; one stderr line says what happened.
 */
static void fall_back(struct ttlog__settings *st, const char *why)
{
	char refused[TTLOG__DIR_MAX], made[TTLOG__DIR_MAX], check[256];
	snprintf(refused, sizeof refused, "%s", st->dir);
	int n = snprintf(made, sizeof made, "%s-XXXXXX", st->dir);
	ttlog__dir_refused_set(TTLOG_REFUSED_SNAPSHOT_DIR);
	if (n > 0 && (size_t)n < sizeof made && mkdtemp(made) &&
	    ttlog__dir_check(made, TTLOG__DIR_OWN, check, sizeof check) == 0) {
		memcpy(st->dir, made, (size_t)n + 1);
		fprintf(stderr, "ttlog: snapshot directory %s refused: it %s; snapshots go to %s instead\n",
			refused, why, made);
		return;
	}
	st->dir[0] = '\0';
	fprintf(stderr,
		"ttlog: snapshot directory %s refused: it %s; no other could be made (%s), so no "
		"snapshot will be written\n",
		refused, why, strerror(errno));
}

/*
 * Creates the snapshot directory (and its parents) with mode 0700, and
 * checks it (common/dir_rules.h): ours, and not open to everyone. A
 * directory the user named that fails is an error; the default one that
 * fails, which any local user could have made first, is worked around
 * (fall_back()), so that nobody can switch ttlog off for another user.
 */
int ttlog__config_prepare_dir(struct ttlog__settings *st, char *err, size_t errsize)
{
	char why[256];
	if (make_path(st->dir, err, errsize) != 0)
		return TTLOG_E_DIR;
	if (ttlog__dir_check(st->dir, st->dir_is_default ? TTLOG__DIR_OWN : TTLOG__DIR_NAMED, why,
			     sizeof why) != 0) {
		if (!why[0])
			snprintf(why, sizeof why, "cannot be examined: %s", strerror(errno));
		if (!st->dir_is_default) {
			snprintf(err, errsize,
				 "snapshot directory %s: refused: it %s (it must be owned by this user "
				 "and not writable by every user)",
				 st->dir, why);
			return TTLOG_E_DIR;
		}
		fall_back(st, why);
		return TTLOG_OK;
	}
	if (access(st->dir, W_OK | X_OK) != 0) {
		snprintf(err, errsize, "snapshot directory %s: not writable: %s", st->dir,
			 strerror(errno));
		return TTLOG_E_DIR;
	}
	return TTLOG_OK;
}
