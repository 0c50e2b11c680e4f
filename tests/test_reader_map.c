/* SPDX-License-Identifier: MIT */
/*
 * test_reader_map.c - files mapped instead of read (ttlog_reader_map_files(),
 * reader/map.c).
 *
 * The library writes a snapshot of many blocks. With mapping on, a reader
 * of it holds a mapping of the file (seen in /proc/self/maps) and reads
 * every event; a file under 64 KiB is read, not mapped. A copy that
 * another hand shortens while a reader holds it does not end the process:
 * the reader returns the events before the cut and reports
 * TTLOG_E_TRUNCATED with "the file shrank", and so does a second reader of
 * the same bytes. In child processes: a SIGBUS that is not a reader's (a
 * fault in a mapping of the program's own, a signal sent by kill) still
 * ends the process with SIGBUS, or reaches the handler the program had
 * installed before. A file written over in place while it is read gives
 * events and an error, not a crash.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog_reader.h"

#define EVENTS 40000

static char snap[4096];
static long long total; /* the snapshot's events */

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 8u << 20; /* the whole history fits */
	if (tu_start(&cfg) != 0)
		return -1;
	for (int i = 0; i < EVENTS; i++)
		TTLOG_INFO("event i=%d pad=%s", i, "abcdefghijklmnop");
	if (ttlog_snapshot_path("map", snap, sizeof snap) != TTLOG_OK)
		return -1;
	/* Read, not mapped, before mapping is switched on. */
	ttlog_reader *r = NULL;
	if (ttlog_reader_open(snap, &r) != TTLOG_OK)
		return -1;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev))
		total++;
	ttlog_reader_close(r);
	return ttlog_reader_map_files() == TTLOG_OK && total >= EVENTS ? 0 : -1;
}

static int teardown(void **state)
{
	unlink(snap);
	return tu_stop(state);
}

/* Whether this process maps path now. */
static int mapped(const char *path)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[8192];
	int found = 0;
	size_t n = strlen(path);
	while (fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		if (len >= n && memcmp(line + len - n, path, n) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

/* Copies from to a new file to (its first size bytes, or all: SIZE_MAX). */
static void copy_file(const char *from, const char *to, size_t size)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while (size && (n = fread(buf, 1, size < sizeof buf ? size : sizeof buf, in)) > 0) {
		assert_int_equal(fwrite(buf, 1, n, out), n);
		size -= n;
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static long long count_events(ttlog_reader *r)
{
	struct ttlog_event ev;
	long long n = 0;
	while (ttlog_reader_next(r, &ev))
		n++;
	return n;
}

static void test_mapped_file_reads_whole(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(stat(snap, &st), 0);
	assert_true(st.st_size > (64 << 10));
	for (int lazy = 0; lazy <= 1; lazy++) {
		ttlog_reader *r = NULL;
		assert_int_equal(ttlog_reader_open_ex(snap, lazy ? TTLOG_READER_LAZY : 0, &r), TTLOG_OK);
		assert_true(mapped(snap));
		assert_int_equal(count_events(r), total);
		assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
		ttlog_reader_release(r);
		assert_false(mapped(snap));
		ttlog_reader_close(r);
	}
	/* Twice on, still one handler and the same result. */
	assert_int_equal(ttlog_reader_map_files(), TTLOG_OK);
}

static void test_small_file_is_read(void **state)
{
	(void)state;
	char small[4200];
	snprintf(small, sizeof small, "%s.small", snap);
	copy_file(snap, small, 32 << 10); /* a truncated copy: read, not mapped */
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(small, &r), TTLOG_E_TRUNCATED);
	assert_non_null(r);
	assert_false(mapped(small));
	assert_true(count_events(r) > 0);
	ttlog_reader_close(r);
	unlink(small);
}

static void test_file_shrinks_while_read(void **state)
{
	(void)state;
	/* cmocka puts a SIGBUS handler of its own in place for each test:
	 * the reader's goes back in front of it. */
	assert_int_equal(ttlog_reader_map_files(), TTLOG_OK);
	char copy[4200];
	snprintf(copy, sizeof copy, "%s.copy", snap);
	copy_file(snap, copy, SIZE_MAX);
	struct stat st;
	assert_int_equal(stat(copy, &st), 0);
	ttlog_reader *r = NULL, *same = NULL;
	assert_int_equal(ttlog_reader_open_ex(copy, TTLOG_READER_LAZY, &r), TTLOG_OK);
	assert_true(mapped(copy));
	assert_int_equal(ttlog_reader_open_same(r, TTLOG_READER_LAZY, &same), TTLOG_OK);
	/* Another hand cuts the file to a quarter, in whole pages. */
	off_t cut = (st.st_size / 4) & ~(off_t)4095;
	assert_int_equal(truncate(copy, cut), 0);

	long long n = count_events(r);
	assert_true(n > 0);
	assert_true(n < total);
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_TRUNCATED);
	const char *err = ttlog_reader_error(r);
	assert_non_null(err);
	if (!strstr(err, "the file shrank while it was read"))
		fail_msg("unexpected error: %s", err);
	char offset[64];
	snprintf(offset, sizeof offset, "from offset %lld on", (long long)cut);
	if (!strstr(err, offset))
		fail_msg("the error does not name the offset (%s): %s", offset, err);

	/* The reader of the same bytes finds the zeros too. */
	assert_int_equal(count_events(same), n);
	assert_int_equal(ttlog_reader_status(same), TTLOG_E_TRUNCATED);
	assert_non_null(strstr(ttlog_reader_error(same), "the file shrank"));
	ttlog_reader_close(same);
	ttlog_reader_close(r);
	assert_false(mapped(copy));

	/* Opened again, the shortened file is an ordinary truncated one. */
	assert_int_equal(ttlog_reader_open(copy, &r), TTLOG_E_TRUNCATED);
	assert_int_equal(count_events(r), n);
	assert_null(strstr(ttlog_reader_error(r), "shrank"));
	ttlog_reader_close(r);
	unlink(copy);
}

/* Writes over the second half of path in place: each byte xor'ed with
 * 0x5a (how == 0), or the first half's bytes (how == 1: chunks that look
 * whole, at places where others were). */
static void rewrite_second_half(const char *path, int how)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f), half = size / 2;
	unsigned char *b = malloc((size_t)size);
	assert_non_null(b);
	rewind(f);
	assert_int_equal(fread(b, 1, (size_t)size, f), (size_t)size);
	for (long i = half; i < size; i++)
		b[i] = how == 0 ? (unsigned char)(b[i] ^ 0x5a) : b[i - half];
	assert_int_equal(fseek(f, half, SEEK_SET), 0);
	assert_int_equal(fwrite(b + half, 1, (size_t)(size - half), f), (size_t)(size - half));
	assert_int_equal(fclose(f), 0);
	free(b);
}

/* A mapped file that another hand writes over in place while readers hold
 * it (a private mapping shows such writes): a lazy reader that has read
 * some events, and a reader opened on the same bytes afterwards (which
 * takes the first one's checksums on trust and parses the new bytes),
 * return events and report damage, and neither crashes. */
static void test_file_rewritten_while_read(void **state)
{
	(void)state;
	assert_int_equal(ttlog_reader_map_files(), TTLOG_OK);
	char copy[4200];
	snprintf(copy, sizeof copy, "%s.rewritten", snap);
	for (int how = 0; how <= 1; how++) {
		copy_file(snap, copy, SIZE_MAX);
		ttlog_reader *r = NULL, *same = NULL;
		assert_int_equal(ttlog_reader_open_ex(copy, TTLOG_READER_LAZY, &r), TTLOG_OK);
		assert_true(mapped(copy));
		struct ttlog_event ev;
		for (int i = 0; i < 100; i++)
			assert_int_equal(ttlog_reader_next(r, &ev), 1);
		rewrite_second_half(copy, how);
		long long n = 100 + count_events(r);
		assert_true(n < total);
		assert_int_not_equal(ttlog_reader_status(r), TTLOG_OK);
		assert_non_null(ttlog_reader_error(r));

		(void)ttlog_reader_open_same(r, 0, &same);
		assert_non_null(same);
		assert_true(count_events(same) < total);
		assert_int_not_equal(ttlog_reader_status(same), TTLOG_OK);
		ttlog_reader_close(same);
		ttlog_reader_close(r);
		unlink(copy);
	}
}

/* A SIGBUS that is not a reader's, in a new process (tests/progs/map_sigbus):
 * a fault in a mapping of the program's own ends it with SIGBUS, or goes
 * to the handler the program had installed before mapping was switched on
 * (which exits 42); a SIGBUS sent by kill ends it with SIGBUS. */
static void test_other_sigbus_not_ours(void **state)
{
	(void)state;
	char path[4200];
	snprintf(path, sizeof path, "%s.own", snap);
	const char *modes[] = {"fault", "fault-own-handler", "kill"};
	for (int i = 0; i < 3; i++) {
		char *argv[] = {(char *)tu_prog("map_sigbus"), (char *)modes[i], path, NULL};
		int status;
		char out[4096];
		assert_int_equal(tu_run(argv, 60, &status, out, sizeof out), 0);
		if (i == 1) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
				fail_msg("%s: status %#x, output: %s", modes[i], status, out);
		} else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS) {
			fail_msg("%s: status %#x, output: %s", modes[i], status, out);
		}
	}
	unlink(path);
}

int main(void)
{
	tu_let_crashes_through();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapped_file_reads_whole),
		cmocka_unit_test(test_small_file_is_read),
		cmocka_unit_test(test_file_shrinks_while_read),
		cmocka_unit_test(test_file_rewritten_while_read),
		cmocka_unit_test(test_other_sigbus_not_ours),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
