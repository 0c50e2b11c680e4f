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
 *  - two strings in one call, one taken inline and one not;
 *  - long strings (every length to 80, then around the 32-byte chunks and
 *    the limit, to 300) at each of 32 alignments, with the default
 *    max_string (256), at a site whose only argument is the string (which
 *    the slow call writes in one pass, measuring the string while it copies
 *    it) and at a site with an int and a double around it;
 *  - strings of 0 to 300 bytes that end on the last byte of a page followed
 *    by an unmapped page, and that start on a page preceded by one, so that
 *    a read past the terminator or before the string faults;
 *  - the copy routines of ring/str_copy.h themselves (the plain one, and
 *    SSE2 and AVX2 where the build and the processor have them, whichever
 *    the slow call uses on this machine), against strnlen and memcpy: every
 *    length to max + 40 at 64 alignments, strings against a page's end and
 *    start, limits below, at and above the 32-byte chunk, and no byte of
 *    the destination written outside the string's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ring/str_copy.h"
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

/* ttlog initialised with snapshots in a new directory named after prefix
 * (returned, for the caller to free), 4 MiB rings, strings cut at
 * max_string and no crash handler. */
static char *init_in(const char *prefix, uint32_t max_string)
{
	char *dir = tu_tmpdir(prefix);
	assert_non_null(dir);
	struct ttlog_config config;
	ttlog_config_init(&config);
	config.dir = dir;
	config.crash_signals = -1;
	config.ring_size = 4u << 20;
	config.max_string = max_string;
	assert_int_equal(ttlog_init(&config), TTLOG_OK);
	return dir;
}

static void test_every_type_both_paths(void **state)
{
	(void)state;
	char *dir = init_in("recpaths", MAX_STRING);

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

/* ---- Long strings ------------------------------------------------------ */

#define LONG_MAX_STRING 256u

/* Every length to 80, then around the 32-byte chunks and the limit. */
static const uint32_t long_lens[] = {
	0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  16,
	17,  18,  19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,
	34,  35,  36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,
	51,  52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  62,  63,  64,  65,  66,  67,
	68,  69,  70,  71,  72,  73,  74,  75,  76,  77,  78,  79,  80,  95,  96,  97,  127,
	128, 129, 159, 160, 161, 191, 192, 193, 200, 223, 224, 225, 250, 251, 252, 253, 254,
	255, 256, 257, 258, 259, 260, 287, 288, 289, 300};
#define N_LONG_LENS (sizeof long_lens / sizeof long_lens[0])

/* The byte j of a test string with seed k: never 0, never '#'. */
static char long_byte(uint32_t j, uint32_t k)
{
	return (char)('0' + (j * 7u + k) % 64u);
}

/* len bytes of the string with seed k at p, then its terminator. */
static void long_fill(char *p, uint32_t len, uint32_t k)
{
	for (uint32_t j = 0; j < len; j++)
		p[j] = long_byte(j, k);
	p[len] = '\0';
}

/* An event of one of the two long-string sites holds the string of len
 * bytes with seed k, cut at LONG_MAX_STRING, and the record has its size. */
static void long_check(const struct ttlog_event *ev, int site, uint32_t len, uint32_t k,
		       const char *where)
{
	uint32_t kept = len <= LONG_MAX_STRING ? len : LONG_MAX_STRING;
	const struct ttlog_arg *str = &ev->args[site ? 1 : 0];
	if (ev->nargs != (site ? 3u : 1u))
		fail_msg("%s: string of %u bytes: %u arguments", where, len, ev->nargs);
	assert_int_equal(str->type, TTLOG_ARG_STR);
	int same = str->str_len == kept && str->str_truncated == (len > LONG_MAX_STRING) &&
		   !str->str_null;
	for (uint32_t j = 0; same && j < kept; j++)
		same = str->str[j] == long_byte(j, k);
	if (!same) {
		tu_show_bytes("recorded", str->str, str->str_len);
		fail_msg("%s: string of %u bytes (seed %u), site %d: recorded %u bytes, truncated %d", where,
			 len, k, site, str->str_len, str->str_truncated);
	}
	if (site) {
		assert_int_equal(ev->args[0].v.i, (int64_t)(len * 100 + k));
		assert_true(ev->args[2].v.d == 0.25 * k);
		assert_int_equal(ev->size, str_record_size(kept));
	} else {
		assert_int_equal(ev->size, (16u + 4u + kept + 7u) & ~7u);
	}
}

/* The next event of the two long-string sites (the ring may still hold the
 * events of the test before, written under an earlier ttlog_init()). */
static int next_long(ttlog_reader *reader, struct ttlog_event *ev)
{
	while (ttlog_reader_next(reader, ev))
		if (!strcmp(ev->site->format, "payload=%s") ||
		    !strcmp(ev->site->format, "long i=%d s=%s d=%f"))
			return 1;
	return 0;
}

static void log_long(const char *s, uint32_t len, uint32_t k)
{
	TTLOG_INFO("payload=%s", s);
	TTLOG_INFO("long i=%d s=%s d=%f", (int)(len * 100 + k), s, 0.25 * k);
}

/* The calls, on a thread of their own: the test thread's ring keeps the
 * string limit of the ttlog_init() it was attached under (the test before
 * ran with MAX_STRING), a new thread's ring takes this one's. */
static void *log_long_strings(void *arg)
{
	(void)arg;
	/* Every length at each of 32 alignments, '#' after the terminator. */
	static char buf[32 + 320 + 64] __attribute__((aligned(64)));
	for (uint32_t off = 0; off < 32; off++)
		for (size_t i = 0; i < N_LONG_LENS; i++) {
			memset(buf, '#', sizeof buf);
			long_fill(buf + off, long_lens[i], off);
			log_long(buf + off, long_lens[i], off);
		}

	/* Against unmapped pages: the terminator on a page's last byte, and
	 * the string at a page's first. */
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map, pg, PROT_NONE) || mprotect(map + 2 * pg, pg, PROT_NONE))
		return (void *)"mmap";
	char *page = map + pg;
	for (uint32_t len = 0; len <= 300; len++) {
		memset(page, '#', pg);
		long_fill(page + pg - 1 - len, len, 1);
		log_long(page + pg - 1 - len, len, 1);
		memset(page, '#', pg);
		long_fill(page, len, 2);
		log_long(page, len, 2);
	}
	munmap(map, 3 * pg);
	return NULL;
}

static void test_long_strings(void **state)
{
	(void)state;
	char *dir = init_in("recpaths-long", LONG_MAX_STRING);

	pthread_t t;
	void *failed = NULL;
	assert_int_equal(pthread_create(&t, NULL, log_long_strings, NULL), 0);
	assert_int_equal(pthread_join(t, &failed), 0);
	assert_null(failed);

	struct ttlog_stats stats;
	assert_int_equal(ttlog_get_stats(&stats), TTLOG_OK);
	assert_int_equal(stats.events_overwritten, 0);

	char *path = snapshot_of(dir, "recpaths-long");
	ttlog_reader *reader = NULL;
	assert_int_equal(ttlog_reader_open(path, &reader), TTLOG_OK);
	struct ttlog_event ev;
	for (uint32_t off = 0; off < 32; off++)
		for (size_t i = 0; i < N_LONG_LENS; i++)
			for (int site = 0; site < 2; site++) {
				assert_true(next_long(reader, &ev));
				long_check(&ev, site, long_lens[i], off, "aligned");
			}
	for (uint32_t len = 0; len <= 300; len++)
		for (uint32_t k = 1; k <= 2; k++)
			for (int site = 0; site < 2; site++) {
				assert_true(next_long(reader, &ev));
				long_check(&ev, site, len, k, k == 1 ? "at a page's end" : "at a page's start");
			}
	assert_false(next_long(reader, &ev));
	assert_int_equal(ttlog_reader_status(reader), TTLOG_OK);
	ttlog_reader_close(reader);
	assert_int_equal(ttlog_shutdown(), TTLOG_OK);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* ---- The string limit across ttlog_init() ----------------------------- */

/* Logs a 100-byte string through a one-string site and a three-argument
 * site, snapshots, and checks what each kept: the whole string up to
 * max_string, cut there beyond it. The calling thread keeps its ring
 * across ttlog_shutdown() and ttlog_init(). */
static void log_and_check_limit(const char *dir, uint32_t max_string)
{
	char s[101];
	for (int i = 0; i < 100; i++)
		s[i] = (char)('a' + i % 26);
	s[100] = '\0';
	TTLOG_INFO("only=%s", s);
	TTLOG_INFO("n=%d s=%s d=%f", 7, s, 0.5);

	char *path = snapshot_of(dir, "recpaths-reinit");
	ttlog_reader *reader = NULL;
	assert_int_equal(ttlog_reader_open(path, &reader), TTLOG_OK);
	struct ttlog_event ev;
	/* The ring keeps what earlier rounds and tests logged on this thread:
	 * the last event of each site is this round's. */
	uint32_t len[2] = {0, 0};
	int truncated[2] = {0, 0}, same[2] = {0, 0}, seen[2] = {0, 0};
	const uint32_t kept = max_string < 100 ? max_string : 100;
	while (ttlog_reader_next(reader, &ev)) {
		int k;
		if (strcmp(ev.site->format, "only=%s") == 0)
			k = 0;
		else if (strcmp(ev.site->format, "n=%d s=%s d=%f") == 0)
			k = 1;
		else
			continue;
		const struct ttlog_arg *a = &ev.args[k];
		assert_int_equal(a->type, TTLOG_ARG_STR);
		seen[k] = 1;
		len[k] = a->str_len;
		truncated[k] = a->str_truncated;
		same[k] = a->str_len <= 100 && memcmp(a->str, s, a->str_len) == 0;
	}
	for (int k = 0; k < 2; k++) {
		assert_true(seen[k]);
		if (len[k] != kept || !same[k] || truncated[k] != (kept < 100))
			fail_msg("max_string %u, %s site: a string of %u bytes%s, want %u%s", max_string,
				 k ? "three-argument" : "one-string", len[k], truncated[k] ? " (cut)" : "",
				 kept, kept < 100 ? " (cut)" : "");
	}
	assert_int_equal(ttlog_reader_status(reader), TTLOG_OK);
	ttlog_reader_close(reader);
	unlink(path);
}

static void test_string_limit_follows_init(void **state)
{
	(void)state;
	static const uint32_t limits[] = {16, 200, 40, 16};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		char *dir = init_in("recpaths-reinit", limits[i]);
		log_and_check_limit(dir, limits[i]);
		assert_int_equal(ttlog_shutdown(), TTLOG_OK);
		rmdir(dir);
		free(dir);
	}
}

/* ---- The copy routines ------------------------------------------------ */

typedef uint32_t (*copy_fn)(unsigned char *d, const char *s, uint32_t max);

static uint32_t copy_plain(unsigned char *d, const char *s, uint32_t max)
{
	return ttlog__str_copy_plain(d, s, max);
}

#ifdef TTLOG__STR_COPY_AVX2
static uint32_t copy_sse2(unsigned char *d, const char *s, uint32_t max)
{
	return ttlog__str_copy_sse2(d, s, max);
}

__attribute__((target("avx2"))) static uint32_t copy_avx2(unsigned char *d, const char *s, uint32_t max)
{
	return ttlog__str_copy_avx2(d, s, max);
}
#endif

#define SENTINEL 0xa5

/* Copies the string at s (len bytes) with limit max into a destination at
 * offset doff of a buffer of sentinel bytes; checks the size word, the bytes,
 * and that nothing around them was written. */
static void copy_check(const char *name, copy_fn fn, const char *s, uint32_t len, uint32_t max,
		       uint32_t doff, unsigned char *dbuf, size_t dsize)
{
	memset(dbuf, SENTINEL, dsize);
	unsigned char *d = dbuf + 64 + doff;
	uint32_t kept = len <= max ? len : max;
	uint32_t want = kept | (len > max ? TTLOG__STR_TRUNCATED : 0u);
	uint32_t got = fn(d, s, max);
	int ok = got == want && memcmp(d, s, kept) == 0;
	for (size_t j = 0; ok && j < dsize; j++)
		if (dbuf + j < d || dbuf + j >= d + kept)
			ok = dbuf[j] == SENTINEL;
	if (!ok)
		fail_msg("%s: string of %u bytes at %p, max %u, destination offset %u: got 0x%x, want 0x%x%s",
			 name, len, (const void *)s, max, doff, got, want,
			 got == want ? " (bytes differ, or written outside)" : "");
}

static void test_copy_routines(void **state)
{
	(void)state;
	struct {
		const char *name;
		copy_fn fn;
	} fns[3];
	int nfns = 0;
	fns[nfns].name = "plain";
	fns[nfns++].fn = copy_plain;
#ifdef TTLOG__STR_COPY_AVX2
	fns[nfns].name = "sse2";
	fns[nfns++].fn = copy_sse2;
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		fns[nfns].name = "avx2";
		fns[nfns++].fn = copy_avx2;
	} else {
		print_message("no AVX2 on this processor: its copy is not tested\n");
	}
#endif
	static const uint32_t maxes[] = {1, 5, 31, 32, 33, 36, 63, 64, 65, 100, 255, 256, 257, 1000};
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	assert_true(pg >= 2048);
	char *map = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map, pg, PROT_NONE), 0);
	assert_int_equal(mprotect(map + 2 * pg, pg, PROT_NONE), 0);
	char *page = map + pg;
	static unsigned char dbuf[64 + 8 + 1100 + 64];
	for (int f = 0; f < nfns; f++)
		for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
			uint32_t max = maxes[mi];
			for (uint32_t len = 0; len <= max + 40; len++)
				for (uint32_t off = 0; off < 64; off++) {
					/* From a page's start plus off ('#' after the terminator). */
					char *s = page + off;
					memset(page, '#', pg);
					long_fill(s, len, off);
					copy_check(fns[f].name, fns[f].fn, s, len, max, off & 7u, dbuf, sizeof dbuf);
					/* Ending off bytes before the page's end (at its last byte
					 * when off is 0). */
					s = page + pg - 1 - off - len;
					memset(page, '#', pg);
					long_fill(s, len, off);
					copy_check(fns[f].name, fns[f].fn, s, len, max, (off + 3u) & 7u, dbuf, sizeof dbuf);
				}
		}
	assert_int_equal(munmap(map, 3 * pg), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_both_paths),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_string_limit_follows_init),
		cmocka_unit_test(test_copy_routines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
