/* SPDX-License-Identifier: MIT */
/*
 * test_sampling.c - sampling and rate limits (ttlog_set_sampling,
 * TTLOG_SAMPLE): exactly 1 in N kept for a site, a target and "*" rule,
 * across threads too; the rate limit keeps K a window and counts the rest;
 * rules set before and after a site's first call, and removed; levels
 * first; the environment variable's good and bad values; the SMPL chunk
 * through the reader, and damaged SMPL chunks.
 *
 * The fake clock (TTLOG_CLOCK=fake) makes rate-limit windows deterministic:
 * it moves 1 us per recorded event, and the tests move it to the start of a
 * second before a burst, so no burst crosses a window unless a test says so.
 */
#define _GNU_SOURCE
#define TTLOG_TARGET "smp_main"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock/clock.h"
#include "common/crc32c.h"
#include "reader/reader_internal.h"
#include "sites/sites.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

#define SITE_FILE "test_sampling.c"

/* ---- Call sites (each helper records the line of its log call) ---------- */

/* The line of log_site_rule's call, known before its first call. */
enum { SITE_RULE_LINE = __LINE__ + 8 };

static unsigned line_site_rule, line_prec_site, line_threaded, line_rate, line_both, line_late,
	line_debug, line_env;

static void log_site_rule(int i)
{
	line_site_rule = __LINE__ + 1;
	TTLOG_INFO("site rule %d", i);
}

/* Called from several threads: only the first call (i < 0, from the
 * test's own thread) records the line. */
static void log_threaded(int i)
{
	if (i < 0)
		line_threaded = __LINE__ + 1;
	TTLOG_INFO("threaded %d", i);
}

static void log_rate(int i)
{
	line_rate = __LINE__ + 1;
	TTLOG_INFO("rate %d", i);
}

static void log_both(int i)
{
	line_both = __LINE__ + 1;
	TTLOG_INFO("both %d", i);
}

static void log_late(int i)
{
	line_late = __LINE__ + 1;
	TTLOG_INFO("late %d", i);
}

static void log_debug(int i)
{
	line_debug = __LINE__ + 1;
	TTLOG_DEBUG("debug %d", i);
}

static void log_env(int i)
{
	line_env = __LINE__ + 1;
	TTLOG_INFO("env site %d", i);
}

#undef TTLOG_TARGET
#define TTLOG_TARGET "smp_target"
static void log_target(int i)
{
	TTLOG_INFO("target rule %d", i);
}

#undef TTLOG_TARGET
#define TTLOG_TARGET "smp_prec"
static void log_prec_site(int i)
{
	line_prec_site = __LINE__ + 1;
	TTLOG_INFO("prec site %d", i);
}

static void log_prec_target(int i)
{
	TTLOG_INFO("prec target %d", i);
}

#undef TTLOG_TARGET
#define TTLOG_TARGET "smp_star"
static void log_star(int i)
{
	TTLOG_INFO("prec star %d", i);
}

#undef TTLOG_TARGET
#define TTLOG_TARGET "smp_env"
static void log_env_target(int i)
{
	TTLOG_INFO("env target %d", i);
}

#undef TTLOG_TARGET
#define TTLOG_TARGET "smp_main"

/* ---- Helpers ------------------------------------------------------------- */

static void calls(void (*fn)(int), int n)
{
	for (int i = 0; i < n; i++)
		fn(i);
}

static const char *site_selector(unsigned line)
{
	static char buf[64];
	snprintf(buf, sizeof buf, "%s:%u", SITE_FILE, line);
	return buf;
}

static void stats(uint64_t *sampled, uint64_t *rate)
{
	struct ttlog_stats st;
	assert_int_equal(ttlog_get_stats(&st), TTLOG_OK);
	*sampled = st.dropped_sampled;
	*rate = st.dropped_rate_limited;
}

/* The SMPL entry of the site whose format is `format`, or NULL. */
static const struct ttlog_sampling_site *entry(ttlog_reader *r, const char *format)
{
	for (size_t i = 0; i < ttlog_reader_sampling_count(r); i++) {
		const struct ttlog_sampling_site *s = ttlog_reader_sampling_site(r, i);
		if (s && strcmp(s->format, format) == 0)
			return s;
	}
	return NULL;
}

/* Events with this format in a new snapshot. */
static int events(const char *format)
{
	ttlog_reader *r = tu_snapshot_open("sampling");
	assert_non_null(r);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	int n = tu_count_format(r, format);
	ttlog_reader_close(r);
	return n;
}

/* Moves the fake clock to the start of its next second. */
static void next_second(void)
{
	uint64_t now = ttlog__clock_now();
	ttlog__clock_advance_fake(1000000000u - now % 1000000000u);
}

static int setup(void **state)
{
	(void)state;
	setenv("TTLOG_CLOCK", "fake", 1);
	unsetenv("TTLOG_SAMPLE");
	return tu_start(NULL);
}

/* ---- 1-in-N -------------------------------------------------------------- */

/* The self-metric ttlog_events_dropped_total{reason=REASON} of a snapshot. */
static uint64_t dropped_metric(ttlog_reader *r, const char *reason)
{
	size_t n;
	const struct ttlog_metric_value *m = ttlog_reader_metrics(r, &n);
	for (size_t i = 0; i < n; i++)
		if (m[i].self && strcmp(m[i].name, "ttlog_events_dropped_total") == 0 &&
		    m[i].nlabels == 1 && strcmp(m[i].labels[0].key, "reason") == 0 &&
		    strcmp(m[i].labels[0].value, reason) == 0)
			return m[i].counter;
	fail_msg("no ttlog_events_dropped_total{reason=%s}", reason);
	return 0;
}

static void test_site_rule_keeps_exactly_one_in_n(void **state)
{
	(void)state;
	uint64_t s0, r0, s1, r1;
	stats(&s0, &r0);
	/* The rule comes before the site's first call: the site registers
	 * as sampled. */
	assert_int_equal(ttlog_set_sampling(site_selector(SITE_RULE_LINE), 10, 0), TTLOG_OK);
	calls(log_site_rule, 1000);
	assert_int_equal(line_site_rule, SITE_RULE_LINE);
	stats(&s1, &r1);
	assert_int_equal(s1 - s0, 900);
	assert_int_equal(r1 - r0, 0);

	ttlog_reader *r = tu_snapshot_open("site-rule");
	assert_non_null(r);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	assert_int_equal(tu_count_format(r, "site rule %d"), 100);
	const struct ttlog_sampling_site *e = entry(r, "site rule %d");
	assert_non_null(e);
	assert_int_equal(e->line, SITE_RULE_LINE);
	assert_non_null(strstr(e->file, SITE_FILE));
	assert_int_equal(e->keep_one_in, 10);
	assert_int_equal(e->max_per_second, 0);
	assert_int_equal(e->kept, 100);
	assert_int_equal(e->dropped_sampled, 900);
	assert_int_equal(e->dropped_rate_limited, 0);
	/* The totals are the sums of the entries. */
	const struct ttlog_sampling_totals *t = ttlog_reader_sampling_totals(r);
	uint64_t kept = 0, sampled = 0, rate = 0;
	for (size_t i = 0; i < ttlog_reader_sampling_count(r); i++) {
		kept += ttlog_reader_sampling_site(r, i)->kept;
		sampled += ttlog_reader_sampling_site(r, i)->dropped_sampled;
		rate += ttlog_reader_sampling_site(r, i)->dropped_rate_limited;
	}
	assert_int_equal(t->sites, ttlog_reader_sampling_count(r));
	assert_int_equal(t->kept, kept);
	assert_int_equal(t->dropped_sampled, sampled);
	assert_int_equal(t->dropped_rate_limited, rate);
	assert_int_equal(t->dropped_sampled, s1);
	/* ttlog's own metrics say the same. */
	assert_int_equal(dropped_metric(r, "sampled"), s1);
	assert_int_equal(dropped_metric(r, "rate_limited"), r1);
	ttlog_reader_close(r);
	assert_int_equal(ttlog_set_sampling(site_selector(SITE_RULE_LINE), 1, 0), TTLOG_OK);
}

static void test_target_rule_keeps_exactly_one_in_n(void **state)
{
	(void)state;
	assert_int_equal(ttlog_set_sampling("smp_target", 10, 0), TTLOG_OK);
	calls(log_target, 1000);
	assert_int_equal(events("target rule %d"), 100);
	assert_int_equal(ttlog_set_sampling("smp_target", 1, 0), TTLOG_OK);
	calls(log_target, 10);
	assert_int_equal(events("target rule %d"), 110);
}

/* Site > target > "*", and "*" alone keeps exactly 1 in N too. */
static void test_star_rule_and_precedence(void **state)
{
	(void)state;
	log_prec_site(-1); /* registers it, so that its line is known */
	assert_int_equal(ttlog_set_sampling("*", 10, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling("smp_prec", 5, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling(site_selector(line_prec_site), 4, 0), TTLOG_OK);
	calls(log_star, 1000);
	calls(log_prec_target, 1000);
	calls(log_prec_site, 1000);
	assert_int_equal(events("prec star %d"), 100);
	assert_int_equal(events("prec target %d"), 200);
	assert_int_equal(events("prec site %d"), 1 + 250);

	/* Removing the site's rule leaves its target's. */
	assert_int_equal(ttlog_set_sampling(site_selector(line_prec_site), 1, 0), TTLOG_OK);
	calls(log_prec_site, 100);
	assert_int_equal(events("prec site %d"), 251 + 20);
	assert_int_equal(ttlog_set_sampling("smp_prec", 0, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling("*", 1, 0), TTLOG_OK);
	calls(log_star, 10);
	calls(log_prec_site, 10);
	assert_int_equal(events("prec star %d"), 110);
	assert_int_equal(events("prec site %d"), 281);
}

struct thread_arg {
	int calls;
};

static void *thread_main(void *p)
{
	const struct thread_arg *a = p;
	calls(log_threaded, a->calls);
	return NULL;
}

static void test_threads_share_one_exact_counter(void **state)
{
	(void)state;
	enum { THREADS = 4, CALLS = 10000, N = 10 };
	log_threaded(-1); /* one call before the rule: kept, not counted */
	assert_int_equal(ttlog_set_sampling(site_selector(line_threaded), N, 0), TTLOG_OK);
	pthread_t t[THREADS];
	struct thread_arg a = {CALLS};
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &a), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	ttlog_reader *r = tu_snapshot_open("threads");
	assert_non_null(r);
	assert_int_equal(tu_count_format(r, "threaded %d"), 1 + THREADS * CALLS / N);
	const struct ttlog_sampling_site *e = entry(r, "threaded %d");
	assert_non_null(e);
	assert_int_equal(e->kept, THREADS * CALLS / N);
	assert_int_equal(e->dropped_sampled, THREADS * CALLS - THREADS * CALLS / N);
	ttlog_reader_close(r);
	assert_int_equal(ttlog_set_sampling(site_selector(line_threaded), 1, 0), TTLOG_OK);
}

/* ---- Rate limit ---------------------------------------------------------- */

static void test_rate_limit_keeps_k_per_window_and_counts_the_rest(void **state)
{
	(void)state;
	log_rate(-1);
	log_both(-1);
	uint64_t s0, r0, s1, r1;
	stats(&s0, &r0);
	assert_int_equal(ttlog_set_sampling(site_selector(line_rate), 0, 50), TTLOG_OK);
	next_second();
	calls(log_rate, 1000);
	stats(&s1, &r1);
	assert_int_equal(r1 - r0, 950);
	assert_int_equal(s1 - s0, 0);
	assert_int_equal(events("rate %d"), 1 + 50);
	/* The next window keeps 50 more. */
	next_second();
	calls(log_rate, 1000);
	assert_int_equal(events("rate %d"), 1 + 100);

	/* Both kinds: 1-in-N first (100 of 1000), then 20 of those. */
	assert_int_equal(ttlog_set_sampling(site_selector(line_both), 10, 20), TTLOG_OK);
	next_second();
	calls(log_both, 1000);
	ttlog_reader *r = tu_snapshot_open("rate");
	assert_non_null(r);
	assert_int_equal(tu_count_format(r, "both %d"), 1 + 20);
	const struct ttlog_sampling_site *e = entry(r, "both %d");
	assert_non_null(e);
	assert_int_equal(e->keep_one_in, 10);
	assert_int_equal(e->max_per_second, 20);
	assert_int_equal(e->kept, 20);
	assert_int_equal(e->dropped_sampled, 900);
	assert_int_equal(e->dropped_rate_limited, 80);
	assert_int_equal(e->kept + e->dropped_sampled + e->dropped_rate_limited, 1000);
	e = entry(r, "rate %d");
	assert_non_null(e);
	assert_int_equal(e->kept + e->dropped_rate_limited, 2000);
	assert_int_equal(e->kept, 100);
	ttlog_reader_close(r);
	assert_int_equal(ttlog_set_sampling(site_selector(line_rate), 1, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling(site_selector(line_both), 1, 0), TTLOG_OK);
}

/* ---- Rules over a site's life ---------------------------------------------- */

static void test_rule_after_first_call_then_removed(void **state)
{
	(void)state;
	calls(log_late, 5); /* enabled: every call logs */
	assert_int_equal(events("late %d"), 5);
	assert_int_equal(ttlog_set_sampling(site_selector(line_late), 10, 0), TTLOG_OK);
	calls(log_late, 100);
	assert_int_equal(events("late %d"), 5 + 10);
	assert_int_equal(ttlog_set_sampling(site_selector(line_late), 1, 0), TTLOG_OK);
	calls(log_late, 20);

	ttlog_reader *r = tu_snapshot_open("late");
	assert_non_null(r);
	assert_int_equal(tu_count_format(r, "late %d"), 5 + 10 + 20);
	/* Still listed without a rule, so that its drops stay counted. */
	const struct ttlog_sampling_site *e = entry(r, "late %d");
	assert_non_null(e);
	assert_int_equal(e->keep_one_in, 1);
	assert_int_equal(e->max_per_second, 0);
	assert_int_equal(e->kept, 10);
	assert_int_equal(e->dropped_sampled, 90);
	ttlog_reader_close(r);
}

static void test_levels_apply_before_sampling(void **state)
{
	(void)state;
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_INFO), TTLOG_OK);
	log_debug(-1);
	assert_int_equal(ttlog_set_sampling(site_selector(line_debug), 2, 0), TTLOG_OK);
	calls(log_debug, 100);
	ttlog_reader *r = tu_snapshot_open("levels");
	assert_non_null(r);
	assert_int_equal(tu_count_format(r, "debug %d"), 0);
	const struct ttlog_sampling_site *e = entry(r, "debug %d");
	assert_non_null(e); /* the rule is listed, nothing was decided */
	assert_int_equal(e->keep_one_in, 2);
	assert_int_equal(e->kept + e->dropped_sampled + e->dropped_rate_limited, 0);
	ttlog_reader_close(r);
	assert_int_equal(ttlog_set_level(TTLOG_LEVEL_TRACE), TTLOG_OK);
	calls(log_debug, 100);
	assert_int_equal(events("debug %d"), 50);
	assert_int_equal(ttlog_set_sampling(site_selector(line_debug), 1, 0), TTLOG_OK);
}

static void test_bad_selectors_and_a_full_table(void **state)
{
	(void)state;
	char longname[80];
	memset(longname, 'a', 64);
	longname[64] = '\0';
	assert_int_equal(ttlog_set_sampling(NULL, 2, 0), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_sampling("", 2, 0), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_sampling("x.c:0", 2, 0), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_sampling(":12", 2, 0), TTLOG_E_INVALID);
	assert_int_equal(ttlog_set_sampling(longname, 2, 0), TTLOG_E_INVALID);
	longname[63] = '\0';
	assert_int_equal(ttlog_set_sampling(longname, 2, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling(longname, 1, 0), TTLOG_OK);

	int added = 0, rc = TTLOG_OK;
	char name[32];
	while (added <= 64) {
		snprintf(name, sizeof name, "full_%d", added);
		rc = ttlog_set_sampling(name, 3, 0);
		if (rc != TTLOG_OK)
			break;
		added++;
	}
	assert_int_equal(rc, TTLOG_E_NOMEM);
	assert_true(added <= 64);
	for (int i = 0; i < added; i++) {
		snprintf(name, sizeof name, "full_%d", i);
		assert_int_equal(ttlog_set_sampling(name, 1, 0), TTLOG_OK);
	}
	assert_int_equal(ttlog_set_sampling("full_again", 3, 0), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling("full_again", 1, 0), TTLOG_OK);
}

/* A "table full" word has no id and no ASK bit: it is never sampled. */
static void test_given_up_word_is_plain_disabled(void **state)
{
	(void)state;
	assert_int_equal(TTLOG__SITE_GIVEN_UP & TTLOG__WORD_ASK, 0);
	assert_int_not_equal(TTLOG__SITE_GIVEN_UP & TTLOG__WORD_OFF, 0);
	static _Atomic uint64_t word = TTLOG__SITE_GIVEN_UP;
	static struct ttlog_site s = {&word, TTLOG_LEVEL_INFO, 0, 0, 0, 1, NULL,
				      "x", "x.c", "f", NULL, ""};
	uint64_t s0, r0, s1, r1;
	stats(&s0, &r0);
	assert_int_equal(ttlog__register(&s), TTLOG__SITE_GIVEN_UP);
	stats(&s1, &r1);
	assert_int_equal(s1, s0);
	assert_int_equal(r1, r0);
}

/* ---- TTLOG_SAMPLE and config.sample, in child processes ------------------ */

/*
 * Runs fn in a child process that has shut ttlog down first, so that it
 * can call ttlog_init() again; fn's text comes back through a pipe.
 * Returns the child's exit code.
 */
static int in_child(int (*fn)(const char *arg, char *out, size_t cap), const char *arg, char *out,
		    size_t cap)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char text[1024] = "";
		close(fds[0]);
		ttlog_shutdown();
		int code = fn(arg, text, sizeof text);
		ssize_t n = write(fds[1], text, strlen(text));
		(void)n;
		_exit(code);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t n;
	while (len + 1 < cap && (n = read(fds[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ttlog_init() as tu_start() does it, without printing the error. */
static int init_quiet(const char *sample, char *out, size_t cap)
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = tu_snapshot_dir();
	cfg.crash_signals = -1;
	cfg.sample = sample;
	int rc = ttlog_init(&cfg);
	snprintf(out, cap, "%s", ttlog_init_error());
	return rc;
}

static int init_env(const char *value, char *out, size_t cap)
{
	setenv("TTLOG_SAMPLE", value, 1);
	return init_quiet(NULL, out, cap);
}

static int init_struct(const char *value, char *out, size_t cap)
{
	unsetenv("TTLOG_SAMPLE");
	return init_quiet(value, out, cap);
}

/* With the good value below: the target keeps 1 in 4, the site 3 a second. */
static int env_applies(const char *value, char *out, size_t cap)
{
	if (init_env(value, out, cap) != TTLOG_OK)
		return 10;
	uint64_t s0, r0, s1, r1;
	stats(&s0, &r0);
	next_second();
	calls(log_env_target, 100);
	calls(log_env, 100);
	stats(&s1, &r1);
	snprintf(out, cap, "sampled %llu, rate limited %llu", (unsigned long long)(s1 - s0),
		 (unsigned long long)(r1 - r0));
	return s1 - s0 == 75 && r1 - r0 == 97 ? 0 : 11;
}

static void test_env_good_value(void **state)
{
	(void)state;
	char out[1024], value[256];
	log_env(-1); /* its line */
	snprintf(value, sizeof value, "smp_env=1/4,%s=3/s,http=1/10+200/s,*.c:7=1/2,db=5/s+1/3",
		 site_selector(line_env));
	assert_int_equal(in_child(env_applies, value, out, sizeof out), 0);
	/* Empty and trivial rules are fine too. */
	assert_int_equal(in_child(init_env, "", out, sizeof out), TTLOG_OK);
	assert_int_equal(in_child(init_env, "net=1/1", out, sizeof out), TTLOG_OK);
	assert_int_equal(in_child(init_struct, "net=1/100,db.c:42=500/s", out, sizeof out), TTLOG_OK);
}

static void test_env_bad_values_name_the_problem(void **state)
{
	(void)state;
	static const struct {
		const char *value, *item, *expected;
	} cases[] = {
		{"net", "'net'", "expected SELECTOR=RULE"},
		{"net=1/0", "'net=1/0'", "1/N with N a whole number"},
		{"net=2/10", "'net=2/10'", "a rule made of 1/N"},
		{"net=0/s", "'net=0/s'", "K/s with K a whole number"},
		{"=1/10", "'=1/10'", "a selector"},
		{"net=1/10+1/20", "'net=1/10+1/20'", "at most one 1/N"},
		{"net=5/s+7/s", "'net=5/s+7/s'", "at most one K/s"},
		{"net=", "'net='", "a rule (1/N, K/s or 1/N+K/s)"},
		{"net=1/10+", "'net=1/10+'", "1/N or K/s after '+'"},
		{"db.c:0=1/2", "'db.c:0=1/2'", "a line number of at least 1"},
		{"net=1/99999999999", "'net=1/99999999999'", "1/N with N a whole number"},
		{"a=1/2,net=abc", "'net=abc' in 'a=1/2,net=abc'", "a rule made of"},
		{"a=1/2,", "'' in 'a=1/2,'", "expected SELECTOR=RULE"},
	};
	char out[1024];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = in_child(init_env, cases[i].value, out, sizeof out);
		if (rc != TTLOG_E_CONFIG || !strstr(out, "TTLOG_SAMPLE: expected") ||
		    !strstr(out, cases[i].item) || !strstr(out, cases[i].expected))
			fail_msg("TTLOG_SAMPLE=%s: rc %d, message: %s", cases[i].value, rc, out);
	}
	int rc = in_child(init_struct, "net=1/0", out, sizeof out);
	if (rc != TTLOG_E_CONFIG || !strstr(out, "sample: expected") || !strstr(out, "'net=1/0'"))
		fail_msg("config.sample: rc %d, message: %s", rc, out);
}

static int counts_are_zero(const char *arg, char *out, size_t cap)
{
	(void)arg;
	uint64_t sampled, rate;
	stats(&sampled, &rate);
	snprintf(out, cap, "sampled %llu, rate limited %llu", (unsigned long long)sampled,
		 (unsigned long long)rate);
	return sampled == 0 && rate == 0 ? 0 : 1;
}

/* A forked child counts its own drops, like its other counters. */
static void test_fork_child_counts_from_zero(void **state)
{
	(void)state;
	char out[256];
	uint64_t sampled, rate;
	stats(&sampled, &rate);
	assert_true(sampled > 0 && rate > 0); /* from the tests before */
	if (in_child(counts_are_zero, NULL, out, sizeof out) != 0)
		fail_msg("child: %s", out);
}

/* ---- SMPL through the reader, damaged -------------------------------------- */

struct file {
	unsigned char *p;
	size_t n;
	size_t smpl;      /* offset of the (first) SMPL chunk header */
};

/* A snapshot's bytes, with at least two SMPL entries. */
static void snapshot_bytes(struct file *f)
{
	assert_int_equal(ttlog_set_sampling(site_selector(line_rate), 7, 0), TTLOG_OK);
	calls(log_rate, 10);
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("smpl", path, sizeof path), TTLOG_OK);
	assert_int_equal(ttlog_set_sampling(site_selector(line_rate), 1, 0), TTLOG_OK);
	FILE *in = fopen(path, "rb");
	assert_non_null(in);
	f->p = malloc(1 << 24);
	assert_non_null(f->p);
	f->n = fread(f->p, 1, 1 << 24, in);
	fclose(in);
	unlink(path);
	f->smpl = 0;
	for (size_t off = TTLOG__FMT_FILE_HEADER_SIZE; off + TTLOG__FMT_CHUNK_HEADER_SIZE <= f->n;) {
		uint32_t type, len;
		memcpy(&type, f->p + off, 4);
		memcpy(&len, f->p + off + TTLOG__FMT_CH_LENGTH_OFF, 4);
		if (type == TTLOG__FMT_CHUNK_SMPL) {
			f->smpl = off;
			break;
		}
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + len;
	}
	assert_true(f->smpl != 0);
	uint32_t count;
	memcpy(&count, f->p + f->smpl + TTLOG__FMT_CHUNK_HEADER_SIZE, 4);
	assert_true(count >= 2);
}

static unsigned char *smpl_entry(struct file *f, unsigned i)
{
	return f->p + f->smpl + TTLOG__FMT_CHUNK_HEADER_SIZE + 4 + i * TTLOG__FMT_SMPL_ENTRY_SIZE;
}

static void fix_crc(struct file *f)
{
	unsigned char *h = f->p + f->smpl;
	uint32_t len;
	memcpy(&len, h + TTLOG__FMT_CH_LENGTH_OFF, 4);
	uint32_t crc = ttlog__chunk_crc(h, h + TTLOG__FMT_CHUNK_HEADER_SIZE, len);
	memcpy(h + TTLOG__FMT_CH_CRC_OFF, &crc, 4);
}

/* Opens the bytes; checks the status and that the message has want. */
static ttlog_reader *open_expect(const struct file *f, int status, const char *want)
{
	ttlog_reader *r = NULL;
	int rc = ttlog__reader_open_memory(f->p, f->n, "smpl.ttlog", &r);
	assert_non_null(r);
	const char *err = ttlog_reader_error(r);
	if (rc != status || (want && (!err || !strstr(err, want))))
		fail_msg("status %d (want %d), error: %s (want '%s')", rc, status, err ? err : "-",
			 want ? want : "-");
	if (want && !strstr(err, "offset "))
		fail_msg("no offset in: %s", err);
	return r;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void test_smpl_damaged(void **state)
{
	(void)state;
	struct file f;
	snapshot_bytes(&f);
	unsigned char *copy = malloc(f.n);
	assert_non_null(copy);
	memcpy(copy, f.p, f.n);
	uint32_t count;
	memcpy(&count, f.p + f.smpl + TTLOG__FMT_CHUNK_HEADER_SIZE, 4);

	/* Intact: every entry, totals equal to the sums. */
	ttlog_reader *r = open_expect(&f, TTLOG_OK, NULL);
	assert_int_equal(ttlog_reader_sampling_count(r), count);
	ttlog_reader_close(r);

#define RESTORE() memcpy(f.p, copy, f.n)
	/* A count larger than the entries: those that exist are kept. */
	put32(f.p + f.smpl + TTLOG__FMT_CHUNK_HEADER_SIZE, count + 1);
	fix_crc(&f);
	r = open_expect(&f, TTLOG_E_CORRUPT, "SMPL entries of 40 bytes, found room for");
	assert_int_equal(ttlog_reader_sampling_count(r), count);
	ttlog_reader_close(r);
	RESTORE();

	/* Site id 0, and an id no SITE entry defines: that entry is skipped. */
	put32(smpl_entry(&f, 0) + TTLOG__FMT_SMPL_ID_OFF, 0);
	fix_crc(&f);
	r = open_expect(&f, TTLOG_E_CORRUPT, "defined by an earlier SITE entry, found 0");
	assert_int_equal(ttlog_reader_sampling_count(r), count - 1);
	ttlog_reader_close(r);
	RESTORE();
	put32(smpl_entry(&f, 0) + TTLOG__FMT_SMPL_ID_OFF, 65000);
	fix_crc(&f);
	ttlog_reader_close(open_expect(&f, TTLOG_E_CORRUPT, "found 65000 in the SMPL chunk"));
	RESTORE();

	/* An id listed twice. */
	memcpy(smpl_entry(&f, 1), smpl_entry(&f, 0), 4);
	fix_crc(&f);
	r = open_expect(&f, TTLOG_E_CORRUPT, "expected SMPL site ids in increasing order");
	assert_int_equal(ttlog_reader_sampling_count(r), count - 1);
	ttlog_reader_close(r);
	RESTORE();

	/* 1-in-0. */
	put32(smpl_entry(&f, 0) + TTLOG__FMT_SMPL_ONE_IN_OFF, 0);
	fix_crc(&f);
	ttlog_reader_close(open_expect(&f, TTLOG_E_CORRUPT, "expected a 1-in-N of at least 1"));
	RESTORE();

	/* Counts whose sum overflows. */
	put64(smpl_entry(&f, 0) + TTLOG__FMT_SMPL_KEPT_OFF, UINT64_MAX);
	put64(smpl_entry(&f, 1) + TTLOG__FMT_SMPL_KEPT_OFF, 2);
	fix_crc(&f);
	ttlog_reader_close(open_expect(&f, TTLOG_E_CORRUPT, "whose sums fit in 64 bits"));
	RESTORE();

	/* A reserved field that is not zero: reported, the entry kept. */
	put32(smpl_entry(&f, 0) + TTLOG__FMT_SMPL_RESERVED_OFF, 9);
	fix_crc(&f);
	r = open_expect(&f, TTLOG_E_CORRUPT, "expected a zero reserved field, found 0x00000009");
	assert_int_equal(ttlog_reader_sampling_count(r), count);
	ttlog_reader_close(r);
	RESTORE();

	/* A damaged CRC: the chunk is dropped, the events are still read. */
	smpl_entry(&f, 0)[TTLOG__FMT_SMPL_KEPT_OFF] ^= 1;
	r = open_expect(&f, TTLOG_E_CORRUPT, "expected chunk CRC");
	assert_int_equal(ttlog_reader_sampling_count(r), 0);
	assert_true(ttlog_reader_info(r)->events > 0);
	ttlog_reader_close(r);
	RESTORE();

	/* A payload too short for its count. */
	uint32_t len;
	memcpy(&len, f.p + f.smpl + TTLOG__FMT_CH_LENGTH_OFF, 4);
	size_t payload = f.smpl + TTLOG__FMT_CHUNK_HEADER_SIZE;
	memmove(f.p + payload + 2, f.p + payload + len, f.n - payload - len);
	f.n -= len - 2;
	put32(f.p + f.smpl + TTLOG__FMT_CH_LENGTH_OFF, 2);
	fix_crc(&f);
	r = open_expect(&f, TTLOG_E_CORRUPT, "expected 4 bytes of the SMPL entry count, found 2");
	assert_int_equal(ttlog_reader_sampling_count(r), 0);
	ttlog_reader_close(r);
	f.n += len - 2;
	RESTORE();

	/* What a reader without SMPL sees: an optional chunk it skips. */
	put32(f.p + f.smpl, TTLOG__FMT_FOURCC('S', 'M', 'P', 'Z'));
	fix_crc(&f);
	r = open_expect(&f, TTLOG_OK, NULL);
	assert_int_equal(ttlog_reader_sampling_count(r), 0);
	assert_true(ttlog_reader_info(r)->events > 0);
	ttlog_reader_close(r);
#undef RESTORE
	free(copy);
	free(f.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_rule_keeps_exactly_one_in_n),
		cmocka_unit_test(test_target_rule_keeps_exactly_one_in_n),
		cmocka_unit_test(test_star_rule_and_precedence),
		cmocka_unit_test(test_threads_share_one_exact_counter),
		cmocka_unit_test(test_rate_limit_keeps_k_per_window_and_counts_the_rest),
		cmocka_unit_test(test_rule_after_first_call_then_removed),
		cmocka_unit_test(test_levels_apply_before_sampling),
		cmocka_unit_test(test_bad_selectors_and_a_full_table),
		cmocka_unit_test(test_given_up_word_is_plain_disabled),
		cmocka_unit_test(test_env_good_value),
		cmocka_unit_test(test_env_bad_values_name_the_problem),
		cmocka_unit_test(test_fork_child_counts_from_zero),
		cmocka_unit_test(test_smpl_damaged),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
