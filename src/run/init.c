/* SPDX-License-Identifier: MIT */
/*
 * init.c - the shim's start and end in the program it was preloaded into.
 *
 * The constructor runs before the program's main(): it takes the shim and
 * libttlog (TTLOG_RUN_PRELOAD) out of LD_PRELOAD unless TTLOG_RUN_FOLLOW=1 (so that the programs this one
 * executes run without it), reads TTLOG_RUN_STDOUT and
 * TTLOG_RUN_LEVEL_REGEX, and calls ttlog_init(NULL), which reads the
 * TTLOG_* variables `ttlog run` set from its options, reserves what the
 * crash path needs and installs the crash handlers. Only then is the
 * capture switched on. When ttlog_init() fails, the program still runs,
 * unrecorded, after one line on stderr saying why.
 *
 * --level-regex, "REGEX=LEVEL,...": a stderr line gets the level of the
 * first POSIX extended regular expression that matches somewhere in it,
 * else warn. A regex cannot contain ','; the last '=' of an item starts
 * its level. `ttlog run` checks the text before it starts the program.
 *
 * The destructor (the program's exit) writes out stdio's buffers and logs
 * the unfinished lines of the exiting thread before ttlog stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog.h"

#include "shim.h"

#define RULES_MAX 16

int run_capture_stdout;
int run_active;

static struct rule {
	regex_t re;
	int level;
} rules[RULES_MAX];
static int nrules;

static void say(const char *a, const char *b, const char *c)
{
	char text[1024];
	int n = snprintf(text, sizeof text, "ttlog run: %s%s%s\n", a, b, c);
	if (n > 0)
		run_real_write(2, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

static int level_of(const char *name)
{
	static const char *const names[] = {"trace", "debug", "info", "warn", "error", "fatal"};
	for (int i = 0; i < 6; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	if (strcmp(name, "warning") == 0)
		return TTLOG_LEVEL_WARN;
	return -1;
}

int run_levels_init(const char *spec)
{
	char *copy = strdup(spec);
	if (!copy)
		return -1;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(item, '=');
		int level = eq ? level_of(eq + 1) : -1;
		if (!eq || eq == item || level < 0 || nrules == RULES_MAX) {
			say("--level-regex: ignored '", item, "' (REGEX=LEVEL, at most 16)");
			continue;
		}
		*eq = '\0';
		if (regcomp(&rules[nrules].re, item, REG_EXTENDED | REG_NOSUB) != 0) {
			say("--level-regex: ignored the invalid regular expression '", item, "'");
			continue;
		}
		rules[nrules++].level = level;
	}
	free(copy);
	return 0;
}

int run_stderr_level(const char *line)
{
	for (int i = 0; i < nrules; i++)
		if (regexec(&rules[i].re, line, 0, NULL, 0) == 0)
			return rules[i].level;
	return TTLOG_LEVEL_WARN;
}

/* Whether item is one of the ':'-separated entries of list. */
static int listed(const char *list, const char *item)
{
	size_t len = strlen(item);
	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && strncmp(p, item, len) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Takes the entries `ours` out of LD_PRELOAD (separated by ':' or ' '). */
static void leave_preload(const char *ours)
{
	const char *preload = getenv("LD_PRELOAD");
	if (!ours || !*ours || !preload)
		return;
	size_t size = strlen(preload) + 1;
	char *out = malloc(size);
	char *copy = strdup(preload);
	if (!out || !copy) {
		free(out);
		free(copy);
		return;
	}
	out[0] = '\0';
	char *save = NULL;
	for (char *item = strtok_r(copy, ": ", &save); item; item = strtok_r(NULL, ": ", &save)) {
		if (listed(ours, item))
			continue;
		if (out[0])
			strcat(out, ":");
		strcat(out, item);
	}
	if (out[0])
		setenv("LD_PRELOAD", out, 1);
	else
		unsetenv("LD_PRELOAD");
	free(out);
	free(copy);
}

static int env_is_1(const char *name)
{
	const char *v = getenv(name);
	return v && strcmp(v, "1") == 0;
}

__attribute__((constructor)) static void run_start(void)
{
	if (!env_is_1("TTLOG_RUN_FOLLOW"))
		leave_preload(getenv("TTLOG_RUN_PRELOAD"));
	run_capture_stdout = env_is_1("TTLOG_RUN_STDOUT");
	const char *spec = getenv("TTLOG_RUN_LEVEL_REGEX");
	if (spec && *spec)
		run_levels_init(spec);

	run_capture_resolve();
	run_calls_resolve();
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		const char *why = ttlog_init_error();
		say("not recording ", program_invocation_short_name, ": ttlog_init failed:");
		say("  ", why && *why ? why : ttlog_strerror(rc), "");
		return;
	}
	run_active = 1;
	run_capture_init();
}

__attribute__((destructor)) static void run_end(void)
{
	run_capture_flush();
}
