/* SPDX-License-Identifier: MIT */
/*
 * test_ring.c - what a ring keeps: the newest records, in whole segments
 * (the current one and every full one before it that has not been reused),
 * in order, across many wrap-arounds with records of mixed sizes, strings
 * cut at the configured limit with the cut recorded, and strings that end
 * right before an inaccessible page.
 *
 * Each test logs from a thread of its own, so it gets a fresh ring, and
 * reads back only that thread's events from a snapshot.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

/* 11 u64 arguments: 16 + 88 = 104 bytes a record. The ring is divided
 * into 2 segments of 4 KiB (src/ring/ring.c: segments are at least 4 KiB,
 * and at least 2), each holding 39 such records and 40 bytes of padding. */
#define RECORD_SIZE 104u
#define RING_SIZE 8192u
#define SEGMENT_RECORDS ((RING_SIZE / 2) / RECORD_SIZE)
#define THOUSAND 1000u
#define MAX_STRING 40u

struct run {
	void (*body)(void);
	uint32_t tid;
};

static void *thread_main(void *arg)
{
	struct run *run = arg;
	run->tid = (uint32_t)syscall(SYS_gettid);
	run->body();
	return NULL;
}

/* Runs body in a new thread, takes a snapshot, and opens it positioned
 * for reading; *thread gets that thread's info. */
static ttlog_reader *run_and_snapshot(void (*body)(void), const struct ttlog_thread_info **thread)
{
	struct run run = {body, 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, thread_main, &run), 0);
	pthread_join(t, NULL);
	ttlog_reader *r = tu_snapshot_open("ring-test");
	assert_non_null(r);
	*thread = NULL;
	for (size_t i = 0; i < ttlog_reader_thread_count(r); i++)
		if (ttlog_reader_thread(r, i)->tid == run.tid)
			*thread = ttlog_reader_thread(r, i);
	assert_non_null(*thread);
	return r;
}

static void log_thousand(void)
{
	for (uint64_t i = 0; i < THOUSAND; i++)
		TTLOG_INFO("ten %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu", i, i + 1, i + 2, i + 3, i + 4,
			   i + 5, i + 6, i + 7, i + 8, i + 9, i + 10);
}

/* 1000 records: 25 full segments, then 25 records in the 26th. The ring
 * keeps the 26th and the 25th: the newest 25 + 39 records, and counts the
 * rest as overwritten. */
static void test_keeps_whole_segments(void **state)
{
	(void)state;
	const struct ttlog_thread_info *th;
	ttlog_reader *r = run_and_snapshot(log_thousand, &th);
	struct ttlog_event ev;
	const uint64_t kept = THOUSAND % SEGMENT_RECORDS + SEGMENT_RECORDS;
	uint64_t expect = THOUSAND - kept;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.thread != th)
			continue;
		assert_int_equal(ev.nargs, 11);
		assert_int_equal(ev.args[0].v.u, expect);
		assert_int_equal(ev.args[10].v.u, expect + 10);
		expect++;
	}
	assert_int_equal(expect, THOUSAND); /* the newest, in order */
	assert_int_equal(th->events, kept);
	assert_int_equal(th->overwritten, THOUSAND - kept);
	assert_int_equal(th->torn, 0);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

#define MIXED_EVENTS 5000u

static size_t mixed_len(uint32_t seq)
{
	return (seq * 7u) % (MAX_STRING + 1);
}

static void mixed_text(uint32_t seq, char *buf)
{
	size_t n = mixed_len(seq);
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (seq + i) % 26);
	buf[n] = '\0';
}

static void log_mixed(void)
{
	char buf[MAX_STRING + 1];
	for (uint32_t seq = 0; seq < MIXED_EVENTS; seq++) {
		mixed_text(seq, buf);
		if (seq % 3 == 0)
			TTLOG_DEBUG("mixed %u %s", seq, buf);
		else if (seq % 3 == 1)
			TTLOG_DEBUG("mixed %u %s %d", seq, buf, (int)seq);
		else
			TTLOG_DEBUG("mixed %u %s %s %c", seq, buf, "x", (char)'y');
	}
}

static void test_mixed_sizes_across_wraps(void **state)
{
	(void)state;
	const struct ttlog_thread_info *th;
	ttlog_reader *r = run_and_snapshot(log_mixed, &th);
	struct ttlog_event ev;
	uint64_t n = 0;
	uint32_t prev = 0;
	char want[MAX_STRING + 1];
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.thread != th)
			continue;
		uint32_t seq = (uint32_t)ev.args[0].v.u;
		if (n > 0)
			assert_int_equal(seq, prev + 1); /* no holes, no reordering */
		mixed_text(seq, want);
		assert_int_equal(ev.args[1].type, TTLOG_ARG_STR);
		assert_int_equal(ev.args[1].str_len, strlen(want));
		assert_memory_equal(ev.args[1].str, want, strlen(want) + 1);
		assert_false(ev.args[1].str_truncated);
		prev = seq;
		n++;
	}
	assert_int_equal(prev, MIXED_EVENTS - 1); /* ends with the newest */
	assert_true(n >= RING_SIZE / 2 / 80);      /* at least a segment: records are <= 80 bytes */
	assert_int_equal(n + th->overwritten, MIXED_EVENTS);
	assert_int_equal(th->events, n);
	ttlog_reader_close(r);
}

static void log_strings(void)
{
	char long_text[1001];
	memset(long_text, 'x', 1000);
	long_text[1000] = '\0';
	const char *volatile none = NULL;
	TTLOG_INFO("long=%s", long_text);
	TTLOG_INFO("none=%s", none);
	TTLOG_INFO("empty=[%s]", "");
	TTLOG_INFO("exact=%s", "0123456789012345678901234567890123456789"); /* 40 bytes: fits */
}

static void test_strings_truncated_and_null(void **state)
{
	(void)state;
	const struct ttlog_thread_info *th;
	ttlog_reader *r = run_and_snapshot(log_strings, &th);
	struct ttlog_event ev;
	char text[256];
	int i = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.thread != th)
			continue;
		ttlog_event_format(&ev, text, sizeof text);
		const struct ttlog_arg *a = &ev.args[0];
		switch (i++) {
		case 0:
			assert_int_equal(a->str_len, MAX_STRING);
			assert_true(a->str_truncated);
			assert_string_equal(text, "long=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...");
			break;
		case 1:
			assert_true(a->str_null);
			assert_string_equal(text, "none=(null)");
			break;
		case 2:
			assert_int_equal(a->str_len, 0);
			assert_false(a->str_truncated);
			assert_string_equal(text, "empty=[]");
			break;
		case 3:
			assert_int_equal(a->str_len, MAX_STRING);
			assert_false(a->str_truncated);
			break;
		}
	}
	assert_int_equal(i, 4);
	ttlog_reader_close(r);
}

/*
 * The inline string scan reads whole aligned 16-byte blocks, past the
 * terminator. Every string here ends on the last byte of a page followed by
 * an inaccessible page, at every length up to 80 and so at every alignment:
 * a read beyond the block that holds the terminator would crash the test.
 */
#define EDGE_MAX_LEN 80u

static void log_strings_at_page_end(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + page, page, PROT_NONE), 0);
	for (uint32_t len = 0; len <= EDGE_MAX_LEN; len++) {
		char *s = m + page - 1 - len;
		for (uint32_t i = 0; i < len; i++)
			s[i] = (char)('A' + (len + i) % 26);
		s[len] = '\0';
		TTLOG_INFO("edge %u %s", len, s);
	}
	munmap(m, 2 * page);
}

static void test_strings_ending_at_a_page_boundary(void **state)
{
	(void)state;
	const struct ttlog_thread_info *th;
	ttlog_reader *r = run_and_snapshot(log_strings_at_page_end, &th);
	struct ttlog_event ev;
	uint32_t expect = 0;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.thread != th)
			continue;
		uint32_t len = (uint32_t)ev.args[0].v.u;
		assert_int_equal(len, expect);
		const struct ttlog_arg *a = &ev.args[1];
		uint32_t kept = len < MAX_STRING ? len : MAX_STRING;
		assert_int_equal(a->str_len, kept);
		assert_int_equal(a->str_truncated, len > MAX_STRING);
		for (uint32_t i = 0; i < kept; i++)
			assert_int_equal(a->str[i], 'A' + (len + i) % 26);
		expect++;
	}
	assert_int_equal(expect, EDGE_MAX_LEN + 1);
	ttlog_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = RING_SIZE;
	cfg.max_string = MAX_STRING;
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keeps_whole_segments),
		cmocka_unit_test(test_mixed_sizes_across_wraps),
		cmocka_unit_test(test_strings_truncated_and_null),
		cmocka_unit_test(test_strings_ending_at_a_page_boundary),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
