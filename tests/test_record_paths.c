/* SPDX-License-Identifier: MIT */
/*
 * test_record_paths.c - a log call's record is the same whichever path
 * writes it.
 *
 * A TTLOG_* call with arguments writes its common case inline and hands
 * every other case to ttlog__log_slow() (<ttlog/impl.h>): a site's first
 * call, strings that are NULL, truncated, shorter than 8 or longer than 32
 * bytes or whose end is not in the blocks scanned inline. The slow call
 * writes the whole record itself from the values the site passes it, so
 * both must give the same bytes. Checked here through a snapshot read back
 * with the reader API:
 *
 *  - every argument type at once, called twice at one site (the first call
 *    registers the site and takes the slow path, the second the inline
 *    one): both events carry the same arguments and record size, and the
 *    values logged;
 *  - strings of every length from 0 to 40 bytes and 100, at each of the 16
 *    alignments, NULL, and longer than max_string (36 here), between an int
 *    and a double: the string's bytes, length and flags, the neighbours'
 *    values and the record's size are what they must be, whichever path
 *    wrote them;
 *  - two strings in one call, one taken inline and one not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define MAX_STRING 36u

static int same_arg(const struct ttlog_arg *a, const struct ttlog_arg *b)
{
	if (a->type != b->type || a->v.u != b->v.u || a->str_len != b->str_len ||
	    a->str_null != b->str_null || a->str_truncated != b->str_truncated)
		return 0;
	if ((a->str == NULL) != (b->str == NULL))
		return 0;
	return !a->str || memcmp(a->str, b->str, a->str_len) == 0;
}

/* The record size of an int, a string of n bytes and a double. */
static uint32_t str_record_size(uint32_t n)
{
	return (16u + 4u + 4u + n + 8u + 7u) & ~7u;
}

static char *snapshot_of(const char *dir, const char *name)
{
	(void)dir;
	static char path[4096];
	assert_int_equal(ttlog_snapshot_path(name, path, sizeof path), TTLOG_OK);
	return path;
}

/* A NULL that the compiler cannot see through (it would warn about %s). */
static const char *volatile null_string;

static void log_all_types(void)
{
	long double ld = 1.0L / 3.0L;
	for (int i = 0; i < 2; i++)
		TTLOG_INFO("b=%d c=%c sc=%hhd uc=%hhu s=%hd us=%hu i=%d u=%u l=%ld ul=%lu ll=%lld "
			   "ull=%llu f=%f d=%f ld=%Lf str=%s",
			   (_Bool)1, 'x', (signed char)-5, (unsigned char)250, (short)-1234,
			   (unsigned short)65000, -123456789, 4000000000u, -1234567890123L,
			   18000000000000000000ul, -9876543210LL, 12345678901234ULL, 1.5f, -2.25, ld,
			   "seventeen bytes!!");
	for (int i = 0; i < 2; i++)
		TTLOG_INFO("p=%p str=%s", (void *)&ld, "eight by");
}

static void test_every_type_both_paths(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("recpaths");
	assert_non_null(dir);
	struct ttlog_config config;
	ttlog_config_init(&config);
	config.dir = dir;
	config.crash_signals = -1;
	config.ring_size = 4u << 20;
	config.max_string = MAX_STRING;
	assert_int_equal(ttlog_init(&config), TTLOG_OK);

	log_all_types();

	/* Strings: every length, alignment and flag, between an int and a double. */
	static char buf[16 + 128 + 16] __attribute__((aligned(16)));
	static const uint32_t lens[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
					14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
					28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 100};
	const size_t nlens = sizeof lens / sizeof lens[0];
	for (uint32_t off = 0; off < 16; off++)
		for (size_t k = 0; k < nlens; k++) {
			memset(buf, '#', sizeof buf);
			for (uint32_t j = 0; j < lens[k]; j++)
				buf[off + j] = (char)('a' + (j + off) % 26);
			buf[off + lens[k]] = '\0';
			TTLOG_INFO("i=%d s=%s d=%f", (int)(off * 1000 + lens[k]), buf + off, 0.5 + off);
		}
	TTLOG_INFO("i=%d s=%s d=%f", -1, null_string, -1.0);
	for (int i = 0; i < 2; i++)
		TTLOG_INFO("a=%s b=%s", "twelve bytes", "tiny");

	struct ttlog_stats stats;
	assert_int_equal(ttlog_get_stats(&stats), TTLOG_OK);
	assert_int_equal(stats.events_overwritten, 0);

	char *path = snapshot_of(dir, "recpaths");
	ttlog_reader *reader = NULL;
	assert_int_equal(ttlog_reader_open(path, &reader), TTLOG_OK);

	struct ttlog_event ev;
	/* Every type: two calls, the slow path's record and the inline one's. */
	for (int site = 0; site < 2; site++) {
		struct ttlog_arg first[16];
		uint32_t first_size = 0;
		unsigned first_n = 0;
		for (int i = 0; i < 2; i++) {
			assert_true(ttlog_reader_next(reader, &ev));
			if (i == 0) {
				first_n = ev.nargs;
				first_size = ev.size;
				assert_true(first_n <= 16);
				memcpy(first, ev.args, first_n * sizeof first[0]);
				continue;
			}
			assert_int_equal(ev.nargs, first_n);
			assert_int_equal(ev.size, first_size);
			for (unsigned a = 0; a < first_n; a++)
				if (!same_arg(&first[a], &ev.args[a]))
					fail_msg("site %d, argument %u differs between the two paths", site, a);
		}
		if (site == 0) {
			assert_int_equal(ev.nargs, 16);
			assert_int_equal(ev.args[0].type, TTLOG_ARG_BOOL);
			assert_int_equal(ev.args[0].v.i, 1);
			assert_int_equal(ev.args[1].v.i, 'x');
			assert_int_equal(ev.args[2].type, TTLOG_ARG_I8);
			assert_int_equal(ev.args[2].v.i, -5);
			assert_int_equal(ev.args[3].type, TTLOG_ARG_U8);
			assert_int_equal(ev.args[3].v.u, 250);
			assert_int_equal(ev.args[4].type, TTLOG_ARG_I16);
			assert_int_equal(ev.args[4].v.i, -1234);
			assert_int_equal(ev.args[5].type, TTLOG_ARG_U16);
			assert_int_equal(ev.args[5].v.u, 65000);
			assert_int_equal(ev.args[6].type, TTLOG_ARG_I32);
			assert_int_equal(ev.args[6].v.i, -123456789);
			assert_int_equal(ev.args[7].type, TTLOG_ARG_U32);
			assert_int_equal(ev.args[7].v.u, 4000000000u);
			assert_int_equal(ev.args[8].type, TTLOG_ARG_I64);
			assert_true(ev.args[8].v.i == -1234567890123LL);
			assert_int_equal(ev.args[9].type, TTLOG_ARG_U64);
			assert_true(ev.args[9].v.u == 18000000000000000000ull);
			assert_true(ev.args[10].v.i == -9876543210LL);
			assert_true(ev.args[11].v.u == 12345678901234ULL);
			assert_int_equal(ev.args[12].type, TTLOG_ARG_F64);
			assert_true(ev.args[12].v.d == 1.5);
			assert_true(ev.args[13].v.d == -2.25);
			assert_true(ttlog_arg_long_double(&ev.args[14]) == 1.0L / 3.0L);
			assert_int_equal(ev.args[15].type, TTLOG_ARG_STR);
			assert_int_equal(ev.args[15].str_len, 17);
			assert_memory_equal(ev.args[15].str, "seventeen bytes!!", 17);
		} else {
			assert_int_equal(ev.args[0].type, TTLOG_ARG_PTR);
			assert_int_equal(ev.args[1].str_len, 8);
			assert_memory_equal(ev.args[1].str, "eight by", 8);
		}
	}

	/* Strings. */
	char want[128];
	for (uint32_t off = 0; off < 16; off++)
		for (size_t k = 0; k < nlens; k++) {
			assert_true(ttlog_reader_next(reader, &ev));
			uint32_t len = lens[k], kept = len <= MAX_STRING ? len : MAX_STRING;
			for (uint32_t j = 0; j < kept; j++)
				want[j] = (char)('a' + (j + off) % 26);
			assert_int_equal(ev.nargs, 3);
			assert_int_equal(ev.args[0].v.i, (int64_t)(off * 1000 + len));
			assert_int_equal(ev.args[1].type, TTLOG_ARG_STR);
			if (ev.args[1].str_len != kept || memcmp(ev.args[1].str, want, kept) != 0)
				fail_msg("string of %u bytes at offset %u: recorded %u bytes \"%.*s\"", len, off,
					 ev.args[1].str_len, (int)ev.args[1].str_len, ev.args[1].str);
			assert_int_equal(ev.args[1].str_truncated, len > MAX_STRING);
			assert_int_equal(ev.args[1].str_null, 0);
			assert_true(ev.args[2].v.d == 0.5 + off);
			assert_int_equal(ev.size, str_record_size(kept));
		}
	assert_true(ttlog_reader_next(reader, &ev));
	assert_int_equal(ev.args[0].v.i, -1);
	assert_int_equal(ev.args[1].str_null, 1);
	assert_int_equal(ev.args[1].str_len, 0);
	assert_true(ev.args[2].v.d == -1.0);
	assert_int_equal(ev.size, str_record_size(0));
	for (int i = 0; i < 2; i++) {
		assert_true(ttlog_reader_next(reader, &ev));
		assert_int_equal(ev.nargs, 2);
		assert_int_equal(ev.args[0].str_len, 12);
		assert_memory_equal(ev.args[0].str, "twelve bytes", 12);
		assert_int_equal(ev.args[1].str_len, 4);
		assert_memory_equal(ev.args[1].str, "tiny", 4);
		assert_int_equal(ev.size, (16u + 4u + 12u + 4u + 4u + 7u) & ~7u);
	}
	assert_false(ttlog_reader_next(reader, &ev));
	assert_int_equal(ttlog_reader_status(reader), TTLOG_OK);
	ttlog_reader_close(reader);
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	unlink(path);
	rmdir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_both_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
