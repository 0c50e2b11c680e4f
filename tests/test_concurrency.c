/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency.c - writers log while snapshots are taken.
 *
 * Four writer threads log self-validating events (the last argument is a
 * checksum of the others, the string included) into small rings, so they
 * wrap many times while a fifth thread takes snapshots in a loop. Every
 * event read back must be intact and each writer's events must be in order.
 * Records overwritten while a snapshot copied them must be skipped and
 * counted, never returned. Runs under ThreadSanitizer in CI.
 *
 * The second test reads busy rings as `ttlog snap` reads a shared-memory
 * process's (ttlog__ring_read_copy: newest segment first into a private
 * copy, the owner never stopped): every copy must hold records, in an
 * unbroken run up to the newest, and the overwritten count must be exactly
 * the number of records before the first one kept.
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
#include <unistd.h>

#include <cmocka.h>

#include "ring/ring.h"
#include "support/testutil.h"
#include "thread/thread.h"
#include "ttlog_reader.h"

#define WRITERS 4
#define SNAPSHOTS 25
#define RING_SIZE (1u << 20) /* copying one takes long enough to be lapped */
#define MAX_EVENTS_PER_WRITER 20000000u

static atomic_int stop_writers;

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void make_text(uint64_t value, char *buf)
{
	size_t n = value % 24;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('A' + (value >> (i % 60)) % 26);
	buf[n] = '\0';
}

static uint64_t checksum(uint32_t writer, uint32_t seq, uint64_t value, const char *text, size_t len)
{
	uint64_t h = mix(writer * 0x100000001ull + seq) ^ mix(value);
	for (size_t i = 0; i < len; i++)
		h = mix(h ^ (unsigned char)text[i]);
	return h;
}

static void *writer_main(void *arg)
{
	uint32_t writer = (uint32_t)(uintptr_t)arg;
	char name[16];
	snprintf(name, sizeof name, "writer-%u", writer);
	pthread_setname_np(pthread_self(), name);
	char text[32];
	for (uint32_t seq = 0; seq < MAX_EVENTS_PER_WRITER && !atomic_load(&stop_writers); seq++) {
		uint64_t value = mix(((uint64_t)writer << 32) | seq);
		make_text(value, text);
		uint64_t check = checksum(writer, seq, value, text, strlen(text));
		TTLOG_INFO("w=%u seq=%u v=%lu s=%s check=%lu", writer, seq, value, text, check);
	}
	return NULL;
}

struct verdict {
	uint64_t events, torn, torn_bytes, overwritten;
};

/* Reads one snapshot and checks every writer event in it. */
static void verify_snapshot(const char *path, struct verdict *v)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", path, r ? ttlog_reader_error(r) : ttlog_strerror(rc));
	int64_t last_seq[WRITERS];
	for (int i = 0; i < WRITERS; i++)
		last_seq[i] = -1;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (strncmp(ev.site->format, "w=%u", 4) != 0)
			continue;
		assert_int_equal(ev.nargs, 5);
		uint32_t writer = (uint32_t)ev.args[0].v.u, seq = (uint32_t)ev.args[1].v.u;
		uint64_t value = ev.args[2].v.u, check = ev.args[4].v.u;
		const struct ttlog_arg *s = &ev.args[3];
		assert_true(writer < WRITERS);
		if (checksum(writer, seq, value, s->str, s->str_len) != check)
			fail_msg("%s: damaged event: writer %u seq %u", path, writer, seq);
		if ((int64_t)seq <= last_seq[writer])
			fail_msg("%s: writer %u: seq %u after %lld", path, writer, seq,
				 (long long)last_seq[writer]);
		last_seq[writer] = seq;
		v->events++;
	}
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	v->torn += info->torn;
	v->torn_bytes += info->torn_bytes;
	v->overwritten += info->overwritten;
	ttlog_reader_close(r);
}

static void test_writers_and_snapshots(void **state)
{
	(void)state;
	pthread_t w[WRITERS];
	atomic_store(&stop_writers, 0);
	for (uintptr_t i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer_main, (void *)i), 0);
	usleep(20 * 1000);

	struct verdict v = {0};
	for (int i = 0; i < SNAPSHOTS; i++) {
		char path[4096];
		char reason[32];
		snprintf(reason, sizeof reason, "loop-%d", i);
		assert_int_equal(ttlog_snapshot_path(reason, path, sizeof path), TTLOG_OK);
		verify_snapshot(path, &v);
		unlink(path);
	}
	atomic_store(&stop_writers, 1);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);

	printf("# %d snapshots: %llu events verified, %llu overwritten, %llu torn (%llu bytes) skipped\n",
	       SNAPSHOTS, (unsigned long long)v.events, (unsigned long long)v.overwritten,
	       (unsigned long long)v.torn, (unsigned long long)v.torn_bytes);
	assert_true(v.events > 0);
	assert_true(v.overwritten > 0); /* the rings wrapped: the test did test wrapping */
	struct ttlog_stats st;
	assert_int_equal(ttlog_get_stats(&st), TTLOG_OK);
	assert_int_equal(st.torn_records >= v.torn, 1);
}

#define COPY_WRITERS 3
#define COPY_ROUNDS 20

static struct ttlog__ring *_Atomic copy_rings[COPY_WRITERS];

/* Logs seq = 0, 1, ... as fast as it can: the ring's records are exactly
 * these, so the n-th record written carries seq n. */
static void *copy_writer_main(void *arg)
{
	uint32_t writer = (uint32_t)(uintptr_t)arg;
	for (uint64_t seq = 0; !atomic_load_explicit(&stop_writers, memory_order_relaxed); seq++) {
		TTLOG_INFO("copy seq=%lu", seq);
		if (seq == 0)
			atomic_store(&copy_rings[writer], ttlog__ring_self());
	}
	return NULL;
}

/* One copy of ring r, read back and checked. Returns the records kept. */
static uint64_t check_copy(struct ttlog__ring *r, unsigned char *copy, uint64_t *overwritten)
{
	static unsigned char piece[(64u << 10) + 64u];
	struct ttlog__ring_cursor cur;
	assert_int_equal(ttlog__ring_read_begin(r, &cur), 1);
	if (!ttlog__ring_read_copy(&cur, copy))
		fail_msg("a busy ring's copy kept no record (aborted %d)", cur.aborted);
	uint64_t first = ttlog__ring_read_overwritten(&cur), kept = 0, next = first;
	uint32_t site = 0;
	size_t n;
	while ((n = ttlog__ring_read(&cur, piece, sizeof piece)) > 0) {
		for (size_t off = 0; off < n;) {
			uint32_t size, id;
			memcpy(&size, piece + off, 4);
			memcpy(&id, piece + off + 4, 4);
			if (id != 0) {
				uint64_t seq;
				assert_int_equal(size, 24);
				memcpy(&seq, piece + off + 16, 8);
				if (site == 0)
					site = id;
				assert_int_equal(id, site);
				if (seq != next)
					fail_msg("record %llu of the copy holds seq %llu, not %llu "
						 "(overwritten %llu)", (unsigned long long)kept,
						 (unsigned long long)seq, (unsigned long long)next,
						 (unsigned long long)first);
				next++;
				kept++;
			}
			off += size;
		}
	}
	assert_int_equal(cur.aborted, 0);
	assert_int_equal(cur.torn, 0);
	*overwritten = first;
	return kept;
}

static void test_copies_of_busy_rings(void **state)
{
	(void)state;
	pthread_t w[COPY_WRITERS];
	atomic_store(&stop_writers, 0);
	for (uintptr_t i = 0; i < COPY_WRITERS; i++) {
		atomic_store(&copy_rings[i], NULL);
		assert_int_equal(pthread_create(&w[i], NULL, copy_writer_main, (void *)i), 0);
	}
	/* Copies start once every ring has wrapped, whatever the machine's
	 * load: from then on each copy races with an owner that overwrites. */
	for (int i = 0; i < COPY_WRITERS; i++) {
		while (!atomic_load(&copy_rings[i]))
			usleep(1000);
		while (ttlog__ring_overwritten(atomic_load(&copy_rings[i])) == 0)
			usleep(1000);
	}
	unsigned char *copy = malloc(RING_SIZE);
	assert_non_null(copy);
	uint64_t kept = 0, least = UINT64_MAX, overwritten = 0;
	for (int round = 0; round < COPY_ROUNDS; round++) {
		for (int i = 0; i < COPY_WRITERS; i++) {
			uint64_t o;
			uint64_t k = check_copy(atomic_load(&copy_rings[i]), copy, &o);
			kept += k;
			least = k < least ? k : least;
			overwritten = o > overwritten ? o : overwritten;
		}
	}
	atomic_store(&stop_writers, 1);
	for (int i = 0; i < COPY_WRITERS; i++)
		pthread_join(w[i], NULL);
	free(copy);
	printf("# %d copies: %llu records kept, at least %llu per copy; up to %llu overwritten\n",
	       COPY_ROUNDS * COPY_WRITERS, (unsigned long long)kept, (unsigned long long)least,
	       (unsigned long long)overwritten);
	assert_true(overwritten > 0); /* the rings wrapped while they were copied */
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = RING_SIZE;
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writers_and_snapshots),
		cmocka_unit_test(test_copies_of_busy_rings),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
