/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency_handover.c - a ring handed to a new thread while a
 * snapshot reads it.
 *
 * A ring changes hands when its thread has exited and a new thread finds no
 * free ring. A snapshot that is reading it at that moment keeps what it had
 * confirmed of the old owner's records, and must count the rest as lost
 * (torn), with the old owner's identity: nothing lost silently. The
 * handover is made to happen at a chosen point, not left to chance: the
 * process has room for one ring only, and the test starts the new thread
 * itself, between two pieces of the read (ring level) or from the
 * snapshot writer's site lookup, when it meets the old thread's second
 * call site (file level).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "ring/ring.h"
#include "sites/sites.h"
#include "snapshot/writer.h"
#include "support/self_source.h"
#include "support/testutil.h"
#include "thread/thread.h"
#include "ttlog_reader.h"

#define RING_SIZE (1u << 20)
#define RECORD_SIZE 24u /* header, time and one u32, rounded to 8 */

struct job {
	const char *name;
	uint32_t a_calls, b_calls; /* calls of the first site, then of the second */
	uint32_t tid;
};

static void *job_main(void *arg)
{
	struct job *job = arg;
	pthread_setname_np(pthread_self(), job->name);
	job->tid = (uint32_t)syscall(SYS_gettid);
	for (uint32_t i = 0; i < job->a_calls; i++)
		TTLOG_INFO("handover a %u", i);
	for (uint32_t i = 0; i < job->b_calls; i++)
		TTLOG_INFO("handover b %u", i);
	return NULL;
}

static void run_job(struct job *job)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, job_main, job), 0);
	pthread_join(t, NULL);
}

/* The process's one ring; its thread has exited. */
static struct ttlog__ring *the_ring(void)
{
	struct ttlog__ring *r = ttlog__ring_first();
	assert_non_null(r);
	assert_null(r->next);
	assert_int_equal(atomic_load(&r->state), TTLOG__RING_EXITED);
	return r;
}

static uint64_t records_in(const unsigned char *piece, size_t n)
{
	uint64_t k = 0;
	for (size_t off = 0; off < n;) {
		uint32_t size, id;
		memcpy(&size, piece + off, 4);
		memcpy(&id, piece + off + 4, 4);
		k += id != 0;
		off += size;
	}
	return k;
}

static unsigned char piece[(64u << 10) + 64u];

/* Read one piece, hand the ring over, read on: the read stops, and counts
 * the rest of the old owner's records, exactly (its thread had exited, so
 * its count no longer moved), from its own counters, not the new
 * owner's. */
static void test_read_counts_what_the_handover_took(void **state)
{
	(void)state;
	/* 60 000 records of 24 bytes in 1 MiB: the ring wrapped. */
	struct job old = {"old", 60000, 0, 0};
	run_job(&old);
	struct ttlog__ring *r = the_ring();

	struct ttlog__ring_cursor cur;
	assert_int_equal(ttlog__ring_read_begin(r, &cur), 1);
	assert_true(cur.overwritten_begin > 0);
	size_t n = ttlog__ring_read(&cur, piece, sizeof piece);
	assert_true(n > 0);
	uint64_t first = records_in(piece, n);
	uint64_t pos = cur.pos, end = cur.end;
	assert_true(pos < end);

	struct job next = {"new", 1, 0, 0};
	run_job(&next); /* takes the ring: the only one, its thread gone */
	assert_int_not_equal(atomic_load(&r->gen), cur.gen);

	assert_int_equal(ttlog__ring_read(&cur, piece, sizeof piece), 0);
	assert_int_equal(cur.aborted, 1);
	assert_int_equal(cur.handed_over, 1);
	assert_int_equal(cur.damaged, 0);
	assert_int_equal(cur.confirmed, 1);
	assert_int_equal(cur.tid, old.tid);
	assert_memory_equal(cur.name, "old", 4);
	assert_int_equal(cur.torn_bytes, end - pos);
	assert_int_equal(cur.torn, 60000 - cur.overwritten_begin - first);
	/* The old owner's overwritten count, though the ring now says 0. */
	assert_int_equal(ttlog__ring_overwritten(r), 0);
	assert_int_equal(ttlog__ring_read_overwritten(&cur), cur.overwritten_begin);
}

/* Handed over before the first piece: nothing was confirmed to be the old
 * owner's, and the read says so. */
static void test_handover_before_any_piece(void **state)
{
	(void)state;
	struct job old = {"old2", 100, 0, 0};
	run_job(&old);
	struct ttlog__ring *r = the_ring();
	struct ttlog__ring_cursor cur;
	assert_int_equal(ttlog__ring_read_begin(r, &cur), 1);
	struct job next = {"new2", 1, 0, 0};
	run_job(&next);
	assert_int_equal(ttlog__ring_read(&cur, piece, sizeof piece), 0);
	assert_int_equal(cur.handed_over, 1);
	assert_int_equal(cur.confirmed, 0);
}

/* ---- A whole snapshot ---------------------------------------------------- */

/* This process as a snapshot source, whose site lookup hands the ring over
 * when it is first asked for a second site (the writer asks when it meets
 * a site's first record). */
struct handover_source {
	uint32_t first_site;
	int handed;
	struct job next;
};

static struct handover_source hs;

static int src_read_begin(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	(void)ctx;
	return ttlog__ring_read_begin(r, cur);
}

static const struct ttlog__site_desc *src_site(void *ctx, uint32_t id)
{
	struct handover_source *s = ctx;
	if (!s->first_site)
		s->first_site = id;
	if (id != s->first_site && !s->handed) {
		s->handed = 1;
		run_job(&s->next);
	}
	return ttlog__site_desc_lookup(id);
}

/* The file keeps the old owner's events read before the handover, then
 * its THRD: its tid and name, exited, and the rest of its records counted
 * as torn, so that events + torn = what it wrote. */
static void test_snapshot_of_a_ring_handed_over(void **state)
{
	(void)state;
	/* 40 000 records of 24 bytes: 59 of the ring's 64 segments, no wrap;
	 * the second site's first record is far past the first piece. */
	struct job old = {"old3", 30000, 10000, 0};
	run_job(&old);
	(void)the_ring();

	char dir[] = "handover";
	memset(&hs, 0, sizeof hs);
	hs.next = (struct job){"new3", 1, 0, 0};
	struct ttlog__snapshot_source src = tu_self_source(&hs, src_read_begin, tu_snapshot_dir());
	src.site = src_site; /* hands the ring over */
	src.names_pid = 0;
	char path[4096];
	assert_int_equal(ttlog__snapshot_write_source(&src, dir, path, sizeof path), TTLOG_OK);
	assert_int_equal(hs.handed, 1);

	ttlog_reader *rd = NULL;
	assert_int_equal(ttlog_reader_open(path, &rd), TTLOG_OK);
	assert_int_equal(ttlog_reader_thread_count(rd), 1);
	const struct ttlog_thread_info *t = ttlog_reader_thread(rd, 0);
	assert_string_equal(t->name, "old3");
	assert_int_equal(t->tid, old.tid);
	assert_int_equal(t->exited, 1);
	assert_int_equal(t->overwritten, 0);
	assert_true(t->events > 30000 && t->events < 40000);
	assert_int_equal(t->events + t->torn, 40000);
	assert_true(t->torn_bytes >= t->torn * RECORD_SIZE);

	/* The events are the old owner's first ones, in order, none missing. */
	struct ttlog_event ev;
	uint64_t n = 0;
	while (ttlog_reader_next(rd, &ev) == 1) {
		assert_int_equal(ev.nargs, 1);
		uint64_t want = n < 30000 ? n : n - 30000;
		assert_int_equal(ev.args[0].v.u, want);
		assert_string_equal(ev.site->format, n < 30000 ? "handover a %u" : "handover b %u");
		n++;
	}
	assert_int_equal(ttlog_reader_status(rd), TTLOG_OK);
	assert_int_equal(n, t->events);
	const struct ttlog_file_info *info = ttlog_reader_info(rd);
	assert_int_equal(info->torn, t->torn);
	assert_int_equal(info->torn_bytes, t->torn_bytes);
	ttlog_reader_close(rd);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = RING_SIZE;
	cfg.memory_cap = RING_SIZE; /* one ring: a new thread takes the old one's */
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_counts_what_the_handover_took),
		cmocka_unit_test(test_handover_before_any_piece),
		cmocka_unit_test(test_snapshot_of_a_ring_handed_over),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
