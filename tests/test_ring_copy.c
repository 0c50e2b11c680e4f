/* SPDX-License-Identifier: MIT */
/*
 * test_ring_copy.c - a ring copied whole before it is read
 * (ttlog__ring_read_copy, what `ttlog snap` does with the rings of a busy
 * shared-memory process), while its owner goes on writing.
 *
 * The owner's writing is played at chosen points, not left to chance: the
 * copy reads a view of the ring's bytes that the test keeps inaccessible,
 * one segment after another; the first touch of a segment faults, and the
 * fault handler moves the ring on as an owner writing a lap and a segment
 * would (head, tail, the records count and the segment's count of the
 * records before it), then opens that segment. Each attempt of the copy
 * begins at a newer segment, which faults in its turn, so an owner that
 * laps the copy every time is played exactly.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "ring/ring.h"
#include "support/self_source.h"
#include "support/testutil.h"
#include "thread/thread.h"
#include "ttlog_reader.h"

#define RING_SIZE (1u << 20)
#define RECORD_SIZE 24u /* header, time and one u32, rounded to 8 */
#define RECORDS 60000u  /* 1.4 MiB of records: the ring wrapped */

struct job {
	const char *name;
	uint32_t tid;
};

static void *job_main(void *arg)
{
	struct job *job = arg;
	pthread_setname_np(pthread_self(), job->name);
	job->tid = (uint32_t)syscall(SYS_gettid);
	for (uint32_t i = 0; i < RECORDS; i++)
		TTLOG_INFO("copy %u", i);
	return NULL;
}

/* Runs a thread that fills the process's one ring and exits; returns the
 * ring, which keeps its records. */
static struct ttlog__ring *filled_ring(struct job *job)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, job_main, job), 0);
	pthread_join(t, NULL);
	struct ttlog__ring *r = ttlog__ring_first();
	assert_non_null(r);
	assert_null(r->next);
	assert_int_equal(atomic_load(&r->state), TTLOG__RING_EXITED);
	return r;
}

/* ---- The owner, played from the fault handler ----------------------------- */

static struct {
	struct ttlog__ring *ring;
	unsigned char *view;  /* the ring's bytes, inaccessible until touched */
	size_t size, seg;
	unsigned laps;        /* the faults that moved the ring on */
	unsigned lap_limit;   /* from this many on, a fault only opens */
	uint64_t lap_records; /* records a lap and a segment are played as */
} owner;

/* The owner writes a lap and a segment: every byte the copy is reading is
 * overwritten, and the newest segment is the next one. Each segment
 * entered counts the records before it (seg_first), as the owner's slow
 * path does. */
static void play_a_lap(void)
{
	struct ttlog__ring *r = owner.ring;
	uint64_t step = owner.size + owner.seg;
	uint64_t tail = atomic_load(&r->pub_tail);
	uint32_t nseg = r->nseg;
	uint64_t before = atomic_load(&r->seg_first[tail / owner.seg % nseg]);
	r->w.records += owner.lap_records;
	atomic_store(&r->w.head, atomic_load(&r->w.head) + step);
	atomic_store(&r->seg_first[(tail + step) / owner.seg % nseg], before + owner.lap_records);
	atomic_store(&r->pub_tail, tail + step);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	uintptr_t at = (uintptr_t)si->si_addr, base = (uintptr_t)owner.view;
	if (at < base || at >= base + owner.size) {
		/* Not the view: a real fault, which fails the test. */
		signal(sig, SIG_DFL);
		return;
	}
	uintptr_t seg = base + (at - base) / owner.seg * owner.seg;
	if (owner.laps < owner.lap_limit) {
		play_a_lap();
		owner.laps++;
	}
	if (mprotect((void *)seg, owner.seg, PROT_READ) != 0)
		signal(sig, SIG_DFL);
}

/* A view of r's bytes that faults at each segment's first touch, and the
 * handler that plays the owner at each fault, up to lap_limit times. */
static void watch_ring(struct ttlog__ring *r, unsigned lap_limit)
{
	owner.ring = r;
	owner.size = r->size;
	owner.seg = r->seg_size;
	assert_int_equal(owner.seg % (size_t)sysconf(_SC_PAGESIZE), 0);
	owner.laps = 0;
	owner.lap_limit = lap_limit;
	owner.lap_records = (owner.size + owner.seg) / RECORD_SIZE;
	owner.view = mmap(NULL, owner.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(owner.view != MAP_FAILED);
	memcpy(owner.view, r->data, owner.size);
	assert_int_equal(mprotect(owner.view, owner.size, PROT_NONE), 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, NULL), 0);
}

static void unwatch_ring(void)
{
	signal(SIGSEGV, SIG_DFL);
	munmap(owner.view, owner.size);
	owner.view = NULL;
}

static unsigned char copy_buf[RING_SIZE];
static unsigned char piece[(64u << 10) + 64u];

/* ---- The ring level ------------------------------------------------------ */

/* An owner that writes nothing during the copy: every record from the
 * tail to the head is read, in order, and none counted lost. */
static void test_copy_of_a_quiet_ring(void **state)
{
	(void)state;
	struct job job = {"quiet", 0};
	struct ttlog__ring *r = filled_ring(&job);
	watch_ring(r, 0);
	struct ttlog__ring_cursor cur;
	assert_int_equal(ttlog__ring_read_begin_at(r, owner.view, r->size, r->seg_size, r->nseg, &cur), 1);
	uint64_t overwritten = ttlog__ring_overwritten(r);
	assert_true(overwritten > 0);
	assert_int_equal(ttlog__ring_read_copy(&cur, copy_buf), 1);
	assert_int_equal(owner.laps, 0);
	uint64_t want = overwritten, n;
	while ((n = ttlog__ring_read(&cur, piece, sizeof piece)) > 0) {
		for (size_t off = 0; off < n;) {
			uint32_t size, id, value;
			memcpy(&size, piece + off, 4);
			memcpy(&id, piece + off + 4, 4);
			if (id) {
				memcpy(&value, piece + off + 16, 4);
				assert_int_equal(value, want);
				want++;
			}
			off += size;
		}
	}
	assert_int_equal(want, RECORDS);
	assert_int_equal(cur.torn, 0);
	assert_int_equal(ttlog__ring_read_overwritten(&cur), overwritten);
	unwatch_ring();
}

/* An owner that laps the copy on every one of its 8 attempts: nothing is
 * left to read, but the read still says the ring is to be told (1), with
 * every record before the tail counted as overwritten. It used to say 0,
 * and the thread and its count were left out of the snapshot. */
static void test_copy_lapped_every_time(void **state)
{
	(void)state;
	struct job job = {"lapped", 0};
	struct ttlog__ring *r = filled_ring(&job);
	watch_ring(r, ~0u);
	struct ttlog__ring_cursor cur;
	assert_int_equal(ttlog__ring_read_begin_at(r, owner.view, r->size, r->seg_size, r->nseg, &cur), 1);
	uint64_t overwritten = ttlog__ring_overwritten(r);
	assert_int_equal(ttlog__ring_read_copy(&cur, copy_buf), 1);
	assert_int_equal(owner.laps, 8);
	assert_int_equal(cur.aborted, 0);
	assert_int_equal(cur.pos, cur.end);
	assert_int_equal(ttlog__ring_read(&cur, piece, sizeof piece), 0);
	assert_int_equal(ttlog__ring_read_overwritten(&cur), overwritten + 8 * owner.lap_records);
	assert_int_equal(cur.torn, 0);
	unwatch_ring();
}

/* ---- A whole snapshot ---------------------------------------------------- */

/* This process's rings copied before they are read, as the shared-memory
 * source (src/shm/map_snapshot.c) copies them, from the watched view. */
static int src_read_begin(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	(void)ctx;
	if (!ttlog__ring_read_begin_at(r, owner.view, r->size, r->seg_size, r->nseg, cur))
		return 0;
	return ttlog__ring_read_copy(cur, copy_buf);
}

/* The snapshot of a ring lapped on every attempt has its thread, with no
 * event and everything counted as overwritten: nothing lost silently. */
static void test_snapshot_of_a_ring_lapped_every_time(void **state)
{
	(void)state;
	struct job job = {"lapped2", 0};
	struct ttlog__ring *r = filled_ring(&job);
	watch_ring(r, ~0u);
	uint64_t overwritten = ttlog__ring_overwritten(r);
	struct ttlog__snapshot_source src = tu_self_source(NULL, src_read_begin, tu_snapshot_dir());
	char path[4096];
	assert_int_equal(ttlog__snapshot_write_source(&src, "lapped", path, sizeof path), TTLOG_OK);
	assert_int_equal(owner.laps, 8);
	unwatch_ring();

	ttlog_reader *rd = NULL;
	assert_int_equal(ttlog_reader_open(path, &rd), TTLOG_OK);
	assert_int_equal(ttlog_reader_thread_count(rd), 1);
	const struct ttlog_thread_info *t = ttlog_reader_thread(rd, 0);
	assert_string_equal(t->name, "lapped2");
	assert_int_equal(t->tid, job.tid);
	assert_int_equal(t->exited, 1);
	assert_int_equal(t->events, 0);
	assert_int_equal(t->torn, 0);
	assert_int_equal(t->overwritten, overwritten + 8 * owner.lap_records);
	const struct ttlog_file_info *info = ttlog_reader_info(rd);
	assert_int_equal(info->overwritten, t->overwritten);
	struct ttlog_event ev;
	assert_int_equal(ttlog_reader_next(rd, &ev), 0);
	assert_int_equal(ttlog_reader_status(rd), TTLOG_OK);
	ttlog_reader_close(rd);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = RING_SIZE;
	cfg.memory_cap = RING_SIZE; /* one ring, taken again by each test's thread */
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_of_a_quiet_ring),
		cmocka_unit_test(test_copy_lapped_every_time),
		cmocka_unit_test(test_snapshot_of_a_ring_lapped_every_time),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
