/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency_snapshot_parallel.c - ttlog_snapshot() with its blocks
 * compressed on the `ttlog-snapzip` thread (src/snapshot/offload.c).
 *
 * - With TTLOG_SNAPSHOT_THREADS=2 the thread exists; a snapshot taken
 *   with it and one taken of the same, unchanged rings on one thread
 *   (the thread stopped in between) have the same SITE, SITX, EVTS and
 *   THRD chunks, in the same order, byte for byte, and read back the same events (thread, ticks, text),
 *   with lz4, zstd and packed blocks.
 * - TTLOG_SNAPSHOT_THREADS=1 starts no thread; a bad value is refused by
 *   ttlog_init().
 * - Snapshots taken while four threads log (under TSan: the hand-over
 *   between the writer and the thread) all open as complete files.
 *
 * Each case runs in a child forked before ttlog_init(), so that each gets
 * its own settings and rings.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "snapshot/writer.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define LOGGERS 4
#define RING (256u << 10)

/* A failed check in a child: message on stderr, exit status 1. */
#define CHECK(cond, ...)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                      \
			fprintf(stderr, __VA_ARGS__);                                        \
			fputc('\n', stderr);                                                 \
			_exit(1);                                                            \
		}                                                                            \
	} while (0)

static char dir[PATH_MAX];

/* Whether this process has a thread named ttlog-snapzip. */
static int has_zip_thread(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], name[64] = "";
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof name, f) && strncmp(name, "ttlog-snapzip", 13) == 0)
			found = 1;
		fclose(f);
	}
	closedir(d);
	return found;
}

static void init_with(const char *threads, const char *codec)
{
	setenv("TTLOG_SNAPSHOT_THREADS", threads, 1);
	setenv("TTLOG_COMPRESSION", codec, 1);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	cfg.ring_size = RING;
	int rc = ttlog_init(&cfg);
	CHECK(rc == TTLOG_OK, "ttlog_init: %s", ttlog_init_error());
}

static void *logger(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	/* Enough to wrap the ring: many blocks per thread. */
	for (unsigned i = 0; i < 40000; i++)
		TTLOG_INFO("logger %u event %u value=%f path=%s", id, i, i * 0.25,
			   (i & 7) ? "GET /api/v1/items" : "POST /api/v1/orders");
	return NULL;
}

/* Loggers that have logged their first events. */
static _Atomic unsigned loggers_started;

static void *logger_forever(void *arg)
{
	_Atomic int *stop = arg;
	unsigned i = 0;
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		TTLOG_INFO("busy %u", i++);
		if (i == 1000)
			atomic_fetch_add_explicit(&loggers_started, 1, memory_order_relaxed);
	}
	return NULL;
}

/* Whole file into memory; *n its size. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	CHECK(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)len);
	CHECK(buf && fread(buf, 1, (size_t)len, f) == (size_t)len, "%s: read", path);
	fclose(f);
	*n = (size_t)len;
	return buf;
}

/* The file's chunks of the types the rings decide (SITE, SITX, EVTS,
 * THRD), concatenated with their headers, into a malloc'd buffer of *len
 * bytes; HEAD, the metrics and END hold times and counters that differ
 * from one snapshot to the next. */
static unsigned char *ring_chunks(const unsigned char *b, size_t n, size_t *len)
{
	unsigned char *out = malloc(n);
	CHECK(out, "out of memory");
	*len = 0;
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	unsigned evts = 0;
	while (off + TTLOG__FMT_CHUNK_HEADER_SIZE <= n) {
		uint32_t type = ttlog__get_u32(b + off + TTLOG__FMT_CH_TYPE_OFF);
		uint32_t clen = ttlog__get_u32(b + off + TTLOG__FMT_CH_LENGTH_OFF);
		size_t whole = TTLOG__FMT_CHUNK_HEADER_SIZE + (size_t)clen;
		CHECK(off + whole <= n, "a chunk runs past the end");
		if (type == TTLOG__FMT_CHUNK_SITE || type == TTLOG__FMT_CHUNK_SITX ||
		    type == TTLOG__FMT_CHUNK_EVTS || type == TTLOG__FMT_CHUNK_THRD) {
			memcpy(out + *len, b + off, whole);
			*len += whole;
			evts += type == TTLOG__FMT_CHUNK_EVTS;
		}
		off += whole;
	}
	CHECK(evts > LOGGERS, "only %u EVTS chunks", evts);
	return out;
}

/* Each event as "thread ticks text", one per line, into a malloc'd string. */
static char *events_text(const char *path, uint64_t *count)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(path, &r);
	CHECK(rc == TTLOG_OK, "%s: %s", path, r ? ttlog_reader_error(r) : ttlog_strerror(rc));
	CHECK(ttlog_reader_info(r)->complete, "%s: not complete", path);
	size_t cap = 1 << 20, len = 0;
	char *out = malloc(cap);
	CHECK(out, "out of memory");
	struct ttlog_event ev;
	char msg[512];
	*count = 0;
	while ((rc = ttlog_reader_next(r, &ev)) == 1) {
		ttlog_event_format(&ev, msg, sizeof msg);
		if (len + sizeof msg + 64 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			CHECK(out, "out of memory");
		}
		len += (size_t)snprintf(out + len, cap - len, "%u %llu %s\n", ev.thread->tid,
					(unsigned long long)ev.ticks, msg);
		(*count)++;
	}
	CHECK(rc == 0, "%s: reading stopped: %s", path, ttlog_reader_error(r));
	ttlog_reader_close(r);
	return out;
}

/* Child: logs from LOGGERS threads, then compares a snapshot written with
 * the compression thread to one written without it. */
static void same_file_child(const char *codec)
{
	init_with("2", codec);
	CHECK(has_zip_thread() == 1, "no ttlog-snapzip thread with TTLOG_SNAPSHOT_THREADS=2");
	pthread_t t[LOGGERS];
	for (unsigned i = 0; i < LOGGERS; i++)
		CHECK(pthread_create(&t[i], NULL, logger, (void *)(uintptr_t)i) == 0, "pthread_create");
	for (unsigned i = 0; i < LOGGERS; i++)
		pthread_join(t[i], NULL);

	char two[PATH_MAX], one[PATH_MAX];
	int rc = ttlog_snapshot_path("two", two, sizeof two);
	CHECK(rc == TTLOG_OK, "snapshot with the thread: %s", ttlog_strerror(rc));
	CHECK(ttlog__snapshot_threads(1) == 0, "stopping the thread");
	CHECK(has_zip_thread() == 0, "ttlog-snapzip still there after it was stopped");
	rc = ttlog_snapshot_path("one", one, sizeof one);
	CHECK(rc == TTLOG_OK, "snapshot without the thread: %s", ttlog_strerror(rc));

	size_t n2, n1;
	unsigned char *b2 = slurp(two, &n2), *b1 = slurp(one, &n1);
	size_t l2, l1;
	unsigned char *r2 = ring_chunks(b2, n2, &l2), *r1 = ring_chunks(b1, n1, &l1);
	CHECK(l2 == l1, "%s: ring chunks: %zu bytes with the thread, %zu without", codec, l2, l1);
	CHECK(memcmp(r2, r1, l2) == 0, "%s: the ring chunks differ between the two snapshots",
	      codec);
	free(r1);
	free(r2);
	uint64_t c2, c1;
	char *e2 = events_text(two, &c2), *e1 = events_text(one, &c1);
	CHECK(c2 > (uint64_t)LOGGERS * 1000, "%s: only %llu events", codec, (unsigned long long)c2);
	CHECK(c2 == c1 && strcmp(e2, e1) == 0, "%s: the events differ (%llu and %llu)", codec,
	      (unsigned long long)c2, (unsigned long long)c1);
	free(e1);
	free(e2);
	free(b1);
	free(b2);
	ttlog_shutdown();
	_exit(0);
}

static void run_child(void (*fn)(const char *), const char *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fn(arg);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the child for %s failed (status %#x)", arg, status);
}

static void test_same_file_lz4(void **state)
{
	(void)state;
	run_child(same_file_child, "lz4");
}

static void test_same_file_zstd(void **state)
{
	(void)state;
	run_child(same_file_child, "zstd");
}

static void test_same_file_packed(void **state)
{
	(void)state;
	run_child(same_file_child, "packed");
}

static void one_thread_child(const char *value)
{
	init_with(value, "lz4");
	CHECK(has_zip_thread() == 0, "a ttlog-snapzip thread with TTLOG_SNAPSHOT_THREADS=%s", value);
	TTLOG_INFO("one event");
	CHECK(ttlog_snapshot("one") == TTLOG_OK, "snapshot");
	ttlog_shutdown();
	_exit(0);
}

static void test_one_thread(void **state)
{
	(void)state;
	run_child(one_thread_child, "1");
}

static void bad_value_child(const char *value)
{
	setenv("TTLOG_SNAPSHOT_THREADS", value, 1);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = dir;
	int rc = ttlog_init(&cfg);
	CHECK(rc == TTLOG_E_CONFIG, "TTLOG_SNAPSHOT_THREADS=%s: ttlog_init gave %d", value, rc);
	CHECK(strstr(ttlog_init_error(), "TTLOG_SNAPSHOT_THREADS") != NULL,
	      "the error does not name the variable: %s", ttlog_init_error());
	_exit(0);
}

static void test_bad_value(void **state)
{
	(void)state;
	run_child(bad_value_child, "3");
}

static void while_logging_child(const char *codec)
{
	init_with("2", codec);
	_Atomic int stop = 0;
	pthread_t t[LOGGERS];
	for (unsigned i = 0; i < LOGGERS; i++)
		CHECK(pthread_create(&t[i], NULL, logger_forever, (void *)&stop) == 0, "pthread_create");
	while (atomic_load_explicit(&loggers_started, memory_order_relaxed) < LOGGERS)
		usleep(1000);
	for (int k = 0; k < 8; k++) {
		char path[PATH_MAX];
		int rc = ttlog_snapshot_path("busy", path, sizeof path);
		CHECK(rc == TTLOG_OK, "snapshot %d: %s", k, ttlog_strerror(rc));
		uint64_t n;
		free(events_text(path, &n));
		CHECK(n > 0, "snapshot %d has no events", k);
		unlink(path);
	}
	atomic_store_explicit(&stop, 1, memory_order_relaxed);
	for (unsigned i = 0; i < LOGGERS; i++)
		pthread_join(t[i], NULL);
	ttlog_shutdown();
	CHECK(has_zip_thread() == 0, "ttlog-snapzip still there after ttlog_shutdown()");
	_exit(0);
}

static void test_while_logging(void **state)
{
	(void)state;
	run_child(while_logging_child, "lz4");
}

int main(void)
{
	const char *tmp = getenv("TTLOG_TEST_TMP");
	snprintf(dir, sizeof dir, "%s/snapdir", tmp ? tmp : ".");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_file_lz4),   cmocka_unit_test(test_same_file_zstd),
		cmocka_unit_test(test_same_file_packed), cmocka_unit_test(test_one_thread),
		cmocka_unit_test(test_bad_value),       cmocka_unit_test(test_while_logging),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
