/* SPDX-License-Identifier: MIT */
/*
 * test_file_parts.c - the files of a list cut into parts for the command's
 * file jobs (src/cli/file_parts.c), built with its source file: which
 * files are cut (complete, found sound by the lazy open, of the --service
 * wanted), what each job is to do, that the parts' ranges follow each
 * other without a gap or an overlap and together read every event of the
 * file in order (with contexts and spans too, each event in the span a
 * whole read puts it in), and which reader the file's end gets.
 * The snapshots are the library's own, written with the fake clock.
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

#include "cli/file_parts.h"
#include "clock/clock.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

#define EVENTS 40000

static char plain[4096], spans[4096];

/* An event as a part must give it: its record, its span and depth. */
struct part_event {
	uint64_t key;
	uint64_t span;
	unsigned depth;
};

static struct part_event part_event(const ttlog_reader *r, const struct ttlog_event *ev)
{
	return (struct part_event){ttlog_reader_event_key(r), ev->span ? ev->span->id : 0, ev->depth};
}

/* Every event of a file, in the order of a whole read. */
static size_t whole_keys(const char *path, struct part_event **keys)
{
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	size_t cap = ttlog_reader_info(r)->events, n = 0;
	*keys = calloc(cap ? cap : 1, sizeof **keys);
	assert_non_null(*keys);
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		assert_true(n < cap);
		(*keys)[n++] = part_event(r, &ev);
	}
	ttlog_reader_close(r);
	return n;
}

static int setup(void **state)
{
	(void)state;
	setenv("TTLOG_CLOCK", "fake", 1);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 8u << 20;
	cfg.service = "parts-test";
	if (tu_start(&cfg) != 0)
		return -1;
	for (int i = 0; i < EVENTS; i++) {
		TTLOG_INFO("event i=%d pad=%s", i, "abcdefghijkl");
		ttlog__clock_advance_fake(100000);
	}
	if (ttlog_snapshot_path("plain", plain, sizeof plain) != TTLOG_OK)
		return -1;
	/* Spans and contexts over the events, a long one around them all:
	 * every segment re-states its opening. */
	TTLOG_SPAN_BEGIN("work");
	for (int i = 0; i < EVENTS; i++) {
		if (i % 50 == 0) {
			if (i) {
				TTLOG_SPAN_END();
				ttlog_context_pop();
			}
			TTLOG_CONTEXT_PUSH("batch", i / 50);
			TTLOG_SPAN_BEGIN("batch.work");
		}
		TTLOG_INFO("in a span i=%d pad=%s", i, "abcdefghijkl");
		ttlog__clock_advance_fake(100000);
	}
	TTLOG_SPAN_END();
	ttlog_context_pop();
	TTLOG_SPAN_END();
	return ttlog_snapshot_path("spans", spans, sizeof spans) == TTLOG_OK ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(plain);
	unlink(spans);
	return tu_stop(state);
}

/* A file cut: the parts, taken by two workers in turn, read every event
 * once and in order, in its span; the end gets a reader. */
static void check_cut(char *path, size_t spans_min)
{
	struct part_event *keys;
	size_t n = whole_keys(path, &keys), in_span = 0;
	assert_true(n >= EVENTS);
	for (size_t i = 0; i < n; i++)
		in_span += keys[i].span != 0;
	assert_true(in_span >= spans_min);
	char *files[] = {path, path};
	struct cli_file_parts *p = cli_file_parts_new(files, 2, 2, CLI_FILE_PARTS, NULL);
	assert_non_null(p);
	assert_int_equal(cli_file_parts_jobs(p), 2 * CLI_FILE_PARTS);
	assert_int_equal(cli_file_parts_probe(p, 0), 1);
	for (size_t f = 0; f < 2; f++) {
		size_t got = 0, ranges = 0;
		int64_t next = INT64_MIN;
		for (size_t k = 0; k < CLI_FILE_PARTS; k++) {
			size_t job = f * CLI_FILE_PARTS + k;
			struct cli_file_part part;
			cli_file_parts_take(p, job, (unsigned)(k % 2), &part);
			assert_int_equal(cli_file_parts_file(p, job), f);
			assert_int_equal(cli_file_parts_last(p, job), k == CLI_FILE_PARTS - 1);
			assert_int_equal(part.file, f);
			assert_int_equal(part.part, k);
			if (part.kind == CLI_PART_NONE) { /* past the cuts: the rest too */
				assert_int_equal(next, INT64_MAX);
				continue;
			}
			assert_int_equal(part.kind, CLI_PART_RANGE);
			assert_true(part.since == next); /* no gap, no overlap */
			assert_true(part.until >= part.since);
			next = part.until == INT64_MAX ? INT64_MAX : part.until + 1;
			ranges++;
			assert_int_equal(cli_file_part_begin(&part, INT64_MIN, INT64_MAX,
							     TTLOG_READER_ALL_LEVELS), 1);
			struct ttlog_event ev;
			size_t before = got;
			while (ttlog_reader_next(part.r, &ev)) {
				assert_true(got < n);
				struct part_event e = part_event(part.r, &ev);
				assert_true(e.key == keys[got].key);
				assert_true(e.span == keys[got].span);
				assert_int_equal(e.depth, keys[got].depth);
				got++;
			}
			assert_true(got > before); /* no part is empty */
			cli_file_part_end(p, &part, (unsigned)(k % 2));
			/* A range that misses the part: nothing to read. */
			if (part.since > INT64_MIN)
				assert_int_equal(cli_file_part_begin(&part, INT64_MIN, part.since - 1,
								     TTLOG_READER_ALL_LEVELS), 0);
		}
		assert_int_equal(next, INT64_MAX);
		assert_true(ranges >= CLI_FILE_PARTS / 2);
		assert_int_equal(got, n);
		ttlog_reader *r = NULL;
		int rc = -1;
		assert_int_equal(cli_file_parts_end_file(p, f, &r, &rc), 1);
		assert_non_null(r);
		assert_int_equal(rc, TTLOG_OK);
		assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
		ttlog_reader_close(r);
	}
	cli_file_parts_free(p);
	free(keys);
}

static void test_cut(void **state)
{
	(void)state;
	check_cut(plain, 0);
	check_cut(spans, EVENTS);
}

/* Files that are not cut: part 0 reads the whole file, the others
 * nothing, and the end is the file's as without parts. */
static void test_not_cut(void **state)
{
	(void)state;
	char missing[] = "/nonexistent/parts.ttlog";
	char *files[] = {spans, missing, plain};
	/* The missing file, and files of a --service not the one asked for. */
	struct cli_file_parts *p = cli_file_parts_new(files, 3, 2, CLI_FILE_PARTS, "other");
	assert_non_null(p);
	assert_int_equal(cli_file_parts_probe(p, 0), 0);
	for (size_t f = 0; f < 3; f++) {
		for (size_t k = 0; k < CLI_FILE_PARTS; k++) {
			struct cli_file_part part;
			cli_file_parts_take(p, f * CLI_FILE_PARTS + k, (unsigned)(k % 2), &part);
			assert_int_equal(part.kind, k == 0 ? CLI_PART_WHOLE : CLI_PART_NONE);
			assert_null(part.r);
		}
		ttlog_reader *r = (ttlog_reader *)1;
		int rc = -1;
		assert_int_equal(cli_file_parts_end_file(p, f, &r, &rc), 0);
		assert_null(r);
	}
	cli_file_parts_free(p);

	/* The service of the file: cut. */
	p = cli_file_parts_new(files + 2, 1, 2, CLI_FILE_PARTS, "parts-test");
	assert_int_equal(cli_file_parts_probe(p, 0), 1);
	cli_file_parts_free(p); /* its readers closed unread */

	/* One part a file (--header): every job is a whole file. */
	p = cli_file_parts_new(files + 2, 1, 2, 1, NULL);
	assert_int_equal(cli_file_parts_jobs(p), 1);
	assert_int_equal(cli_file_parts_probe(p, 0), 0);
	struct cli_file_part part;
	cli_file_parts_take(p, 0, 0, &part);
	assert_int_equal(part.kind, CLI_PART_WHOLE);
	assert_int_equal(cli_file_parts_last(p, 0), 1);
	cli_file_parts_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_not_cut),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
