/*
 * config.c - turning struct ttlog_config and TTLOG_* environment variables
 * into settings, with an error message that names the bad value.
 *
 * Precedence: defaults < struct ttlog_config < environment. Nothing here
 * changes global state; ttlog_init() applies the result.
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

#include "common/internal.h"
#include "crash/crash.h"
#include "sites/sampling.h"

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

/* "5s", "250ms", "1.5s", "2m", "100us", "0": nanoseconds. A bare number is seconds. */
int ttlog__parse_duration(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s == '-' || *s == '+')
		return -1;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	double mult = 1e9;
	if (strcmp(end, "ns") == 0)
		mult = 1;
	else if (strcmp(end, "us") == 0)
		mult = 1e3;
	else if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1e9;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60e9;
	else if (strcmp(end, "h") == 0)
		mult = 3600e9;
	else
		return -1;
	double ns = v * mult;
	if (ns >= 1.8e19)
		return -1;
	*out = (uint64_t)ns;
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
	uint64_t ring = cfg->ring_size ? cfg->ring_size : TTLOG_DEFAULT_RING;
	uint64_t cap = cfg->memory_cap ? cfg->memory_cap : TTLOG_DEFAULT_CAP;
	uint64_t max_string = cfg->max_string ? cfg->max_string : TTLOG_DEFAULT_MAX_STRING;
	st->window_ns = cfg->window_ns;
	st->min_level = cfg->min_level;
	st->levels = cfg->levels;
	st->crash_mask = cfg->crash_signals < 0 ? 0
			 : cfg->signal_mask     ? cfg->signal_mask
						: ttlog__crash_default_mask();
	st->snapshot_signal = cfg->snapshot_signal;
	st->clock = TTLOG_CLOCK_AUTO;
	if (cfg->struct_size >= offsetof(struct ttlog_config, sample) + sizeof cfg->sample)
		st->sample = cfg->sample;
	const char *dir = cfg->dir;
	char numbuf[32];
	const char *shared_dir = NULL;
	if (cfg->struct_size >= offsetof(struct ttlog_config, shared_dir) + sizeof cfg->shared_dir) {
		st->shared_memory = cfg->shared_memory == 1;
		shared_dir = cfg->shared_dir;
	}

	const char *v;
	if ((v = getenv("TTLOG_DIR")) && *v)
		dir = v;
	if ((v = getenv("TTLOG_RING_SIZE")) && *v && parse_size(v, &ring) != 0)
		return fail(err, errsize, "TTLOG_RING_SIZE", "a size such as 1M or 65536", v);
	if ((v = getenv("TTLOG_MEMORY_CAP")) && *v && parse_size(v, &cap) != 0)
		return fail(err, errsize, "TTLOG_MEMORY_CAP", "a size such as 64M", v);
	if ((v = getenv("TTLOG_MAX_STRING")) && *v && parse_size(v, &max_string) != 0)
		return fail(err, errsize, "TTLOG_MAX_STRING", "a byte count such as 256", v);
	if ((v = getenv("TTLOG_WINDOW")) && *v && ttlog__parse_duration(v, &st->window_ns) != 0)
		return fail(err, errsize, "TTLOG_WINDOW", "a duration such as 5s, 250ms or 0", v);
	if ((v = getenv("TTLOG_LEVEL")) && *v)
		st->levels_env = v;
	if (ttlog__sampling_check(st->sample, "sample", err, errsize) != TTLOG_OK)
		return TTLOG_E_CONFIG;
	if ((v = getenv("TTLOG_SAMPLE")) && *v) {
		if (ttlog__sampling_check(v, "TTLOG_SAMPLE", err, errsize) != TTLOG_OK)
			return TTLOG_E_CONFIG;
		st->sample_env = v;
	}
	if ((v = getenv("TTLOG_SIGNALS")) && *v && parse_signal_list(v, &st->crash_mask) != 0)
		return fail(err, errsize, "TTLOG_SIGNALS",
			    "'default', 'none' or signals such as SEGV,ABRT", v);
	if ((v = getenv("TTLOG_SNAPSHOT_SIGNAL")) && *v) {
		if (strcasecmp(v, "none") == 0 || strcmp(v, "0") == 0)
			st->snapshot_signal = 0;
		else if ((st->snapshot_signal = parse_signal(v, strlen(v))) < 0)
			return fail(err, errsize, "TTLOG_SNAPSHOT_SIGNAL", "a signal such as USR2 or none", v);
	}
	if ((v = getenv("TTLOG_SHARED_MEMORY")) && *v) {
		if (strcmp(v, "1") == 0 || strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0)
			st->shared_memory = 1;
		else if (strcmp(v, "0") == 0 || strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0)
			st->shared_memory = 0;
		else
			return fail(err, errsize, "TTLOG_SHARED_MEMORY", "1, 0, on, off, yes or no", v);
	}
	if ((v = getenv("TTLOG_SHARED_DIR")) && *v)
		shared_dir = v;
	if ((v = getenv("TTLOG_CLOCK")) && *v) {
		if (strcmp(v, "auto") == 0)
			st->clock = TTLOG_CLOCK_AUTO;
		else if (strcmp(v, "tsc") == 0 || strcmp(v, "counter") == 0)
			st->clock = TTLOG_CLOCK_COUNTER;
		else if (strcmp(v, "monotonic") == 0)
			st->clock = TTLOG_CLOCK_MONO;
		else if (strcmp(v, "fake") == 0)
			st->clock = TTLOG_CLOCK_FAKE;
		else
			return fail(err, errsize, "TTLOG_CLOCK", "auto, counter, monotonic or fake", v);
	}

	if (ring < TTLOG_MIN_RING || ring > TTLOG_MAX_RING) {
		snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)ring);
		return fail(err, errsize, "ring size", "between 1K and 1G bytes", numbuf);
	}
	if (cap < ring) {
		snprintf(numbuf, sizeof numbuf, "%llu", (unsigned long long)cap);
		return fail(err, errsize, "memory cap", "at least the ring size", numbuf);
	}
	if (max_string == 0 || max_string > TTLOG_MAX_MAX_STRING) {
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

/* Creates dir (and its parents) with mode 0700. The default directory must
 * also be ours alone: a directory, not a symlink, owned by us, and writable
 * by nobody else, since other users could otherwise plant files in it. */
int ttlog__config_prepare_dir(const struct ttlog__settings *st, char *err, size_t errsize)
{
	char path[sizeof st->dir];
	strcpy(path, st->dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errsize, "snapshot directory %s: cannot create %s: %s", st->dir, path,
				 strerror(errno));
			return TTLOG_E_DIR;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errsize, "snapshot directory %s: cannot create it: %s", st->dir,
			 strerror(errno));
		return TTLOG_E_DIR;
	}
	struct stat sb;
	if ((st->dir_is_default ? lstat(path, &sb) : stat(path, &sb)) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errsize, "snapshot directory %s: not a directory", st->dir);
		return TTLOG_E_DIR;
	}
	if (st->dir_is_default && (sb.st_uid != geteuid() || (sb.st_mode & 022))) {
		snprintf(err, errsize,
			 "snapshot directory %s: must be owned by uid %u and not writable by others",
			 st->dir, (unsigned)geteuid());
		return TTLOG_E_DIR;
	}
	if (access(path, W_OK | X_OK) != 0) {
		snprintf(err, errsize, "snapshot directory %s: not writable: %s", st->dir,
			 strerror(errno));
		return TTLOG_E_DIR;
	}
	return TTLOG_OK;
}
