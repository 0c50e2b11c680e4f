/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency_decode.c - a file opened with TTLOG_READER_JOBS(4)
 * (pass 2 on four threads, reader/pass2.c) reads exactly as with one: the
 * same events in the same order with the same text, the same counts,
 * counters, status and message, on a snapshot of four threads and on the
 * same snapshot with two blocks damaged (the first of them in file order
 * is the one reported, whichever thread checked it first). CI runs it
 * under ThreadSanitizer (label concurrency), which checks the workers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define THREADS 4
#define EVENTS 20000 /* per thread: several blocks each */

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	static const char *const words[] = {"alpha", "beta", "gamma delta", ""};
	for (int k = 0; k < EVENTS; k++)
		TTLOG_INFO("decode t=%d k=%d v=%f s=%s", t, k, k * 0.25, words[k % 4]);
	return NULL;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	unsigned char *p = malloc((size_t)n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void write_file(const char *path, const unsigned char *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Opens path with one job and with four and compares everything they
 * give. Returns the events and sets *status to the open's result. */
static uint64_t compare_jobs(const char *path, int *status)
{
	ttlog_reader *a = NULL, *b = NULL;
	int sa = ttlog_reader_open_ex(path, TTLOG_READER_JOBS(1), &a);
	int sb = ttlog_reader_open_ex(path, TTLOG_READER_JOBS(4), &b);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(sa, sb);
	const char *ea = ttlog_reader_error(a), *eb = ttlog_reader_error(b);
	assert_true((ea == NULL) == (eb == NULL));
	if (ea)
		assert_string_equal(ea, eb);
	const struct ttlog_file_info *ia = ttlog_reader_info(a), *ib = ttlog_reader_info(b);
	assert_int_equal(ia->events, ib->events);
	assert_int_equal(ia->records, ib->records);
	assert_int_equal(ia->first_ns, ib->first_ns);
	assert_int_equal(ia->last_ns, ib->last_ns);
	assert_int_equal(ia->blocks, ib->blocks);
	assert_int_equal(ttlog_reader_thread_count(a), ttlog_reader_thread_count(b));
	for (size_t i = 0; i < ttlog_reader_thread_count(a); i++)
		assert_int_equal(ttlog_reader_thread(a, i)->events, ttlog_reader_thread(b, i)->events);

	struct ttlog_event x, y;
	char tx[256], ty[256];
	uint64_t n = 0;
	for (;;) {
		int gx = ttlog_reader_next(a, &x), gy = ttlog_reader_next(b, &y);
		assert_int_equal(gx, gy);
		if (!gx)
			break;
		n++;
		assert_int_equal(x.time_ns, y.time_ns);
		assert_int_equal(x.thread->index, y.thread->index);
		assert_int_equal(x.site->line, y.site->line);
		ttlog_event_format(&x, tx, sizeof tx);
		ttlog_event_format(&y, ty, sizeof ty);
		assert_string_equal(tx, ty);
	}
	assert_int_equal(n, ia->events);
	const struct ttlog_reader_counters *ca = ttlog_reader_counters(a);
	const struct ttlog_reader_counters *cb = ttlog_reader_counters(b);
	assert_int_equal(ca->blocks_decoded, cb->blocks_decoded);
	assert_int_equal(ca->records_decoded, cb->records_decoded);
	assert_int_equal(ttlog_reader_status(a), ttlog_reader_status(b));
	*status = sa;
	ttlog_reader_close(a);
	ttlog_reader_close(b);
	return n;
}

static void test_jobs_same(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("decode", path, sizeof path), TTLOG_OK);

	int st;
	uint64_t events = compare_jobs(path, &st);
	assert_int_equal(st, TTLOG_OK);
	assert_true(events >= THREADS * 1000);

	/* Two blocks damaged: each EVTS header states one record more than
	 * the block holds (the CRC made right again), so the chunk pass
	 * accepts them and only pass 2 finds it. */
	size_t len;
	unsigned char *p = read_file(path, &len);
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE, first_bad = 0;
	unsigned evts = 0, damaged = 0;
	while (off + TTLOG__FMT_CHUNK_HEADER_SIZE <= len && damaged < 2) {
		unsigned char *h = p + off;
		uint32_t clen = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
		assert_true(clen <= len - off - TTLOG__FMT_CHUNK_HEADER_SIZE);
		if (ttlog__get_u32(h) == TTLOG__FMT_CHUNK_EVTS && (++evts == 3 || evts == 7)) {
			unsigned char *q = h + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_EVTS_COUNT_OFF;
			uint32_t c = ttlog__get_u32(q) + 1;
			q[0] = (unsigned char)c;
			q[1] = (unsigned char)(c >> 8);
			q[2] = (unsigned char)(c >> 16);
			q[3] = (unsigned char)(c >> 24);
			uint32_t crc = ttlog__chunk_crc(h, h + TTLOG__FMT_CHUNK_HEADER_SIZE, clen);
			for (int i = 0; i < 4; i++)
				h[TTLOG__FMT_CH_CRC_OFF + i] = (unsigned char)(crc >> (8 * i));
			if (!damaged++)
				first_bad = off;
		}
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + clen;
	}
	assert_int_equal(damaged, 2);
	char bad[4200];
	snprintf(bad, sizeof bad, "%s.damaged", path);
	write_file(bad, p, len);
	free(p);
	assert_int_equal(compare_jobs(bad, &st), events); /* every record still decodes */
	assert_int_equal(st, TTLOG_E_CORRUPT);
	ttlog_reader *r = NULL;
	ttlog_reader_open_ex(bad, TTLOG_READER_JOBS(4), &r);
	char want[128];
	snprintf(want, sizeof want, "offset %zu: expected the ",
		 first_bad + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_EVTS_COUNT_OFF);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	assert_non_null(strstr(ttlog_reader_error(r), "records the EVTS header states"));
	ttlog_reader_close(r);
	unlink(bad);
	unlink(path);
}

/* Flags beyond the jobs' byte are refused. */
static void test_jobs_flags(void **state)
{
	(void)state;
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open_ex("x", TTLOG_READER_JOBS(4) | 0x10000u, &r),
			 TTLOG_E_INVALID);
	assert_null(r);
	assert_true(ttlog_reader_cpu_count() >= 1);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = (size_t)1 << 20;
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_same),
		cmocka_unit_test(test_jobs_flags),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
