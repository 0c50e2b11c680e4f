/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - the table of TTLOG_* variables (ttlog_config_var()) says
 * what ttlog_init() does: each variable's documented default is what
 * applies when it is unset, and a value it refuses is reported with the
 * table's `values` text, also where the message is written outside the
 * table's parsers (TTLOG_LEVEL, TTLOG_SAMPLE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "ttlog.h"

static size_t count_vars(void)
{
	size_t n = 0;
	while (ttlog_config_var(n))
		n++;
	return n;
}

/* Every variable of the table unset, so that the environment the tests
 * were started in cannot change their outcome. */
static int unset_all(void **state)
{
	(void)state;
	const struct ttlog_config_var *v;
	for (size_t i = 0; (v = ttlog_config_var(i)) != NULL; i++)
		unsetenv(v->name);
	return 0;
}

static void test_table_shape(void **state)
{
	(void)state;
	size_t n = count_vars();
	assert_true(n >= 14);
	assert_null(ttlog_config_var(n + 1));
	assert_null(ttlog_config_var(SIZE_MAX));
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_config_var *v = ttlog_config_var(i);
		assert_non_null(v->name);
		assert_non_null(v->field);
		assert_non_null(v->default_value);
		assert_non_null(v->values);
		assert_non_null(v->summary);
		assert_int_equal(strncmp(v->name, "TTLOG_", 6), 0);
		assert_true(*v->default_value && *v->values && *v->summary);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(ttlog_config_var(j)->name, v->name);
	}
}

/* A value each variable refuses. Variables that take any value (a path)
 * are listed with NULL; every variable of the table must be here, so a
 * new one cannot be added without saying how it fails. */
static const struct {
	const char *name;
	const char *bad;
} bad_values[] = {
	{"TTLOG_DIR", NULL},
	{"TTLOG_RING_SIZE", "lots"},
	{"TTLOG_MEMORY_CAP", "-1"},
	{"TTLOG_MAX_STRING", "12X"},
	{"TTLOG_MAX_SITES", "65536"},
	{"TTLOG_WINDOW", "soon"},
	{"TTLOG_MAX_SNAPSHOTS", "0"},
	{"TTLOG_MAX_SNAPSHOT_BYTES", "0"},
	{"TTLOG_LEVEL", "loud"},
	{"TTLOG_SAMPLE", "net"},
	{"TTLOG_SIGNALS", "SEGV,NOPE"},
	{"TTLOG_SNAPSHOT_SIGNAL", "NOPE"},
	{"TTLOG_SHARED_MEMORY", "maybe"},
	{"TTLOG_SHARED_DIR", NULL},
	{"TTLOG_CLOCK", "sundial"},
	{"TTLOG_SERVICE", "a-service-name-of-sixty-five-bytes-which-is-one-more-than-allowed"},
	{"TTLOG_STREAM", NULL},
	{"TTLOG_STREAM_LEVEL", "net=chatty"},
	{"TTLOG_SEGMENT_SIZE", "1K"},
	{"TTLOG_SEGMENT_AGE", "0"},
	{"TTLOG_STREAM_SYNC", "interval:never"},
	{"TTLOG_STREAM_MAX_BYTES", "lots"},
	{"TTLOG_STREAM_MAX_AGE", "forever"},
	{"TTLOG_STREAM_MAX_FILES", "-3"},
	{"TTLOG_STREAM_POLICY", "wait"},
	{"TTLOG_FLUSH_SIGNALS", "sometimes"},
	{"TTLOG_PROMOTE_LEVEL", "trace"},
	{"TTLOG_PROMOTE_SCOPE", "galaxy"},
	{"TTLOG_PROMOTE_BEFORE", "a while"},
	{"TTLOG_PROMOTE_AFTER", "later"},
	{"TTLOG_PROMOTE_MAX", "10"},
	{"TTLOG_ENCRYPT_KEY", NULL}, /* a path; its errors: tests/seal.sh */

	{"TTLOG_COMPRESSION", "zstd:20"},
	{"TTLOG_SNAPSHOT_THREADS", "3"},
	{"TTLOG_STREAM_COMPRESSION", "gzip"},
	{"TTLOG_REDACT", NULL}, /* its own message: tests/redact.sh */
	{"TTLOG_WATCHDOG", "50ms"}, /* below its 100 ms floor */
	{"TTLOG_TRIGGER", NULL}, /* a bad rule is left out, init goes on: tests/triggers.sh */
};

static void test_refused_values_quote_the_table(void **state)
{
	(void)state;
	size_t n = count_vars();
	assert_int_equal(n, sizeof bad_values / sizeof bad_values[0]);
	for (size_t i = 0; i < n; i++) {
		const struct ttlog_config_var *v = ttlog_config_var(i);
		size_t k = 0;
		while (k < n && strcmp(bad_values[k].name, v->name) != 0)
			k++;
		if (k == n)
			fail_msg("%s has no case in bad_values[]", v->name);
		if (!bad_values[k].bad)
			continue;
		char want[512];
		snprintf(want, sizeof want, "%s: expected %s, got '%s'", v->name, v->values,
			 bad_values[k].bad);
		setenv(v->name, bad_values[k].bad, 1);
		int rc = ttlog_init(NULL);
		unsetenv(v->name);
		if (rc == TTLOG_OK) {
			ttlog_shutdown();
			fail_msg("%s=%s was accepted", v->name, bad_values[k].bad);
		}
		assert_int_equal(rc, TTLOG_E_CONFIG);
		assert_string_equal(ttlog_init_error(), want);
	}
}

/* Durations: the one rule of every TTLOG_* duration and of the ttlog
 * command's options (src/cli/time_args.c): NUMBER UNIT parts, a number
 * alone is seconds, nothing else. */
static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t ns;
	} good[] = {
		{"0", 0},
		{"5", 5000000000ull},
		{"1.5", 1500000000ull},
		{"5s", 5000000000ull},
		{"250ms", 250000000ull},
		{"100us", 100000ull},
		{"7ns", 7},
		{"2m", 120000000000ull},
		{"2min", 120000000000ull},
		{"1h30m", 5400000000000ull},
		{"7d", 604800000000000ull},
		{"0.5ms", 500000},
	};
	static const char *const bad[] = {"", "-5", "+5s", " 5s", "5x", "1h5", "0s5", "1e3", "0x10",
					  "inf", "5 s", "s", ".", "99999999999999999999d"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint64_t ns = 12345;
		if (ttlog__parse_duration(good[i].text, &ns) != 0)
			fail_msg("'%s' was refused", good[i].text);
		if (ns != good[i].ns)
			fail_msg("'%s' gave %llu ns, expected %llu", good[i].text, (unsigned long long)ns,
				 (unsigned long long)good[i].ns);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t ns;
		if (ttlog__parse_duration(bad[i], &ns) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

/* The settings, without the pointers to the environment's own strings
 * (which differ between "set" and "unset" whatever the value). */
static void resolve(struct ttlog__settings *st)
{
	char err[256];
	int rc = ttlog__config_resolve(NULL, st, err, sizeof err);
	if (rc != TTLOG_OK)
		fail_msg("%s", err);
	st->levels_env = NULL;
	st->sample_env = NULL;
}

static void test_documented_defaults_apply(void **state)
{
	(void)state;
	struct ttlog__settings unset, set;
	resolve(&unset);
	for (size_t i = 0; ttlog_config_var(i); i++) {
		const struct ttlog_config_var *v = ttlog_config_var(i);
		/* These two defaults describe a rule or an absence rather than
		 * give a value: the directory is tested in test_default_dir.c,
		 * and "none" is no rule at all. */
		if (strcmp(v->name, "TTLOG_DIR") == 0 || strcmp(v->name, "TTLOG_SAMPLE") == 0)
			continue;
		/* The service's default is the executable's name, set by
		 * ttlog_init(); tests/test_stream.c checks it. */
		if (strcmp(v->name, "TTLOG_SERVICE") == 0)
			continue;
		/* The stream level, like TTLOG_LEVEL, is kept as text and read
		 * when the stream starts: its default is the level it names. */
		if (strcmp(v->name, "TTLOG_STREAM_LEVEL") == 0) {
			assert_int_equal(ttlog_level_parse(v->default_value), TTLOG_LEVEL_INFO);
			continue;
		}
		/* The codecs' defaults differ for snapshots and segments (the
		 * documented text says so); the stream's follows TTLOG_COMPRESSION
		 * (tests/test_compression.c). */
		if (strcmp(v->name, "TTLOG_COMPRESSION") == 0) {
			assert_int_equal(unset.compression.codec, TTLOG__FMT_CODEC_LZ4);
			continue;
		}
		if (strcmp(v->name, "TTLOG_STREAM_COMPRESSION") == 0) {
			assert_int_equal(unset.stream.compression.codec, TTLOG__FMT_CODEC_PACKED);
			setenv(v->name, "packed", 1);
			resolve(&set);
			unsetenv(v->name);
			assert_memory_equal(&set, &unset, sizeof set);
			continue;
		}
		/* TTLOG_LEVEL is applied by ttlog_init(), after resolving: its
		 * default is checked as the level it names. */
		if (strcmp(v->name, "TTLOG_LEVEL") == 0) {
			assert_int_equal(ttlog_level_parse(v->default_value), unset.min_level);
			continue;
		}
		setenv(v->name, v->default_value, 1);
		resolve(&set);
		unsetenv(v->name);
		if (memcmp(&set, &unset, sizeof set) != 0)
			fail_msg("%s=%s is not the default", v->name, v->default_value);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_table_shape, unset_all),
		cmocka_unit_test(test_durations),
		cmocka_unit_test_setup(test_refused_values_quote_the_table, unset_all),
		cmocka_unit_test_setup(test_documented_defaults_apply, unset_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
