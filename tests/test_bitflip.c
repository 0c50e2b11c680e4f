/* SPDX-License-Identifier: MIT */
/*
 * test_bitflip.c - every single-bit change and every truncation of a
 * reference crash snapshot, read back: the reader never crashes or runs
 * away, and it never reports a clean read of fewer events than the file
 * holds.
 *
 * The reference comes from a child process that logs events with fields,
 * opens a context and nested spans, records a counter, a gauge and a
 * histogram, and dies of SIGSEGV: a snapshot with HEAD, SITE/SITX, EVTS,
 * THRD, CRSH, MTRC, STCK, MODS and END, a few KB. Then, in memory:
 *
 *  - each bit of the file flipped in turn (CRCs left as they are: nearly
 *    every flip is caught by a checksum, and the chunks around the damaged
 *    one must still be read);
 *  - the same flips with the damaged chunk's CRC recomputed, so the
 *    parsers behind the checksum see the change;
 *  - the file cut at every length.
 *
 * For each: an error message exactly when the status is not TTLOG_OK; the
 * events iterate with sane sites, threads and arguments, within a bound
 * (a runaway iteration fails); with the checksums as written, TTLOG_OK
 * with fewer events than the clean file fails (a loss must be reported);
 * every cut is reported. Under
 * ASan+UBSan in CI, a bad read fails the run as well.
 */
#include "common/internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/format.h"
#include "reader/reader_internal.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* The child: everything a crash snapshot can hold, then a crash. */
static void write_reference(const char *dir)
{
	setenv("TTLOG_DIR", dir, 1);
	setenv("TTLOG_RING_SIZE", "64K", 1);
	unsetenv("TTLOG_STREAM");
	unsetenv("TTLOG_SHARED_MEMORY");
	signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch the crash */
	if (ttlog_init(NULL) != TTLOG_OK)
		_exit(3);
	TTLOG_CONTEXT_PUSH("request", 42);
	for (int i = 0; i < 6; i++) {
		TTLOG_SPAN("outer", TTLOG_F("i", i));
		TTLOG_INFO("step %d of %s", i, "work", TTLOG_F("user", "ann"));
		{
			TTLOG_SPAN("inner");
			TTLOG_DEBUG("value %f", 0.5 * i);
		}
		TTLOG_COUNTER_ADD("steps", 1);
		TTLOG_GAUGE_SET("depth", (double)i);
		TTLOG_HISTOGRAM_RECORD("latency_ms", 1.5 * i);
	}
	ttlog_context_pop();
	TTLOG_ERROR("about to crash at %p", (void *)0);
	*(volatile int *)(uintptr_t)8 = 1; /* SIGSEGV */
	_exit(4);
}

struct reference {
	unsigned char *data;
	size_t size;
	uint64_t events;
};

static struct reference ref;

static int setup(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("bitflip");
	assert_non_null(dir);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		write_reference(dir);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
		fail_msg("the reference program ended with status %#x, not SIGSEGV", status);
	char **snaps;
	assert_int_equal(tu_list_snapshots(dir, &snaps), 1);
	FILE *f = fopen(snaps[0], "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0 && n < 64 * 1024);
	rewind(f);
	ref.size = (size_t)n;
	ref.data = malloc(ref.size);
	assert_non_null(ref.data);
	assert_int_equal(fread(ref.data, 1, ref.size, f), ref.size);
	fclose(f);
	free(snaps[0]);
	free(snaps);
	free(dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ref.data);
	return 0;
}

/* Reads a file from memory as a command would: every event, the stacks,
 * the metrics. Returns the events, or UINT64_MAX when the iteration ran
 * past any sane bound; *status gets the reader's status. */
static uint64_t read_all(const unsigned char *data, size_t size, int *status)
{
	ttlog_reader *r = NULL;
	*status = ttlog__reader_open_memory(data, size, "bitflip", &r);
	if (!r) {
		assert_int_equal(*status, TTLOG_E_NOMEM);
		return 0;
	}
	assert_int_equal(ttlog_reader_status(r), *status);
	assert_true((ttlog_reader_error(r) != NULL) == (*status != TTLOG_OK));
	const struct ttlog_stack *stacks;
	size_t nstacks = ttlog_reader_stacks(r, &stacks);
	for (size_t i = 0; i < nstacks; i++)
		for (uint32_t k = 0; k < stacks[i].nframes; k++)
			(void)stacks[i].frames[k];
	size_t nmetrics = 0;
	(void)ttlog_reader_metrics(r, &nmetrics);
	struct ttlog_event ev;
	char text[256];
	uint64_t n = 0, bound = 64 * (uint64_t)size + 1024;
	while (ttlog_reader_next(r, &ev) == 1) {
		if (++n > bound) {
			ttlog_reader_close(r);
			return UINT64_MAX;
		}
		assert_non_null(ev.site);
		assert_non_null(ev.thread);
		assert_true(ev.nargs == ev.site->nargs);
		for (unsigned i = 0; i < ev.nargs; i++)
			if (ev.args[i].type == TTLOG_ARG_STR && ev.args[i].str)
				assert_true(ev.args[i].str[ev.args[i].str_len] == '\0');
		(void)ttlog_event_format(&ev, text, sizeof text);
	}
	*status = ttlog_reader_status(r);
	ttlog_reader_close(r);
	return n;
}

static void test_reference_reads_clean(void **state)
{
	(void)state;
	int status;
	ref.events = read_all(ref.data, ref.size, &status);
	assert_int_equal(status, TTLOG_OK);
	assert_true(ref.events >= 20);
	/* Everything the test is about is in the file. */
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog__reader_open_memory(ref.data, ref.size, "ref", &r), TTLOG_OK);
	const struct ttlog_stack *stacks;
	assert_true(ttlog_reader_stacks(r, &stacks) >= 1);
	size_t nm = 0;
	assert_non_null(ttlog_reader_metrics(r, &nm));
	assert_true(nm >= 3);
	assert_true(ttlog_reader_info(r)->crash.signo == SIGSEGV);
	struct ttlog_event ev;
	unsigned spans = 0;
	while (ttlog_reader_next(r, &ev) == 1)
		spans += ev.kind == TTLOG_EVENT_SPAN_BEGIN;
	assert_int_equal(spans, 12);
	ttlog_reader_close(r);
}

/* The offset of the chunk holding byte `at`, or SIZE_MAX (file header). */
static size_t chunk_of(const unsigned char *p, size_t size, size_t at)
{
	size_t off = ttlog__get_u16(p + TTLOG__FMT_FH_HEADER_SIZE_OFF);
	while (off + TTLOG__FMT_CHUNK_HEADER_SIZE <= size) {
		size_t end = off + TTLOG__FMT_CHUNK_HEADER_SIZE +
			     (size_t)ttlog__get_u32(p + off + TTLOG__FMT_CH_LENGTH_OFF);
		if (at < end)
			return at >= off ? off : SIZE_MAX;
		off = end;
	}
	return SIZE_MAX;
}

/* With its checksums as written, a changed file that reads without an
 * error has every event. With a checksum recomputed, the change is one
 * the file allows (a SITX entry naming another site turns that site's
 * records into context pushes: fewer events, rightly), so only a crash
 * or a runaway counts. */
static void check_flip(const unsigned char *copy, size_t bit, int crc_fixed)
{
	int status;
	uint64_t n = read_all(copy, ref.size, &status);
	const char *how = crc_fixed ? "checksum recomputed" : "checksums as written";
	if (n == UINT64_MAX)
		fail_msg("bit %zu (%s): the iteration ran away", bit, how);
	if (!crc_fixed && status == TTLOG_OK && n < ref.events)
		fail_msg("bit %zu (%s): %llu events of %llu and no error", bit, how,
			 (unsigned long long)n, (unsigned long long)ref.events);
}

static void test_every_bit_flipped(void **state)
{
	(void)state;
	assert_true(ref.events > 0);
	unsigned char *copy = malloc(ref.size);
	assert_non_null(copy);
	size_t header = ttlog__get_u16(ref.data + TTLOG__FMT_FH_HEADER_SIZE_OFF);
	assert_true(header >= TTLOG__FMT_FILE_HEADER_SIZE && header < ref.size);
	unsigned recomputed = 0;
	for (size_t bit = 0; bit < ref.size * 8; bit++) {
		memcpy(copy, ref.data, ref.size);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		check_flip(copy, bit, 0);
		/* The damaged chunk's CRC made right again, unless the flip
		 * is in its length or its CRC (then there is nothing to fix). */
		size_t at = bit / 8, off = chunk_of(ref.data, ref.size, at);
		if (off == SIZE_MAX || (at >= off + TTLOG__FMT_CH_LENGTH_OFF &&
					at < off + TTLOG__FMT_CHUNK_HEADER_SIZE))
			continue;
		uint32_t len = ttlog__get_u32(copy + off + TTLOG__FMT_CH_LENGTH_OFF);
		ttlog__put_u32(copy + off + TTLOG__FMT_CH_CRC_OFF,
			       ttlog__chunk_crc(copy + off, copy + off + TTLOG__FMT_CHUNK_HEADER_SIZE, len));
		check_flip(copy, bit, 1);
		recomputed++;
	}
	assert_true(recomputed > ref.size * 8 / 2);
	free(copy);
}

static void test_every_truncation(void **state)
{
	(void)state;
	assert_true(ref.events > 0);
	for (size_t len = 0; len < ref.size; len++) {
		unsigned char *cut = malloc(len ? len : 1);
		assert_non_null(cut);
		memcpy(cut, ref.data, len);
		int status;
		uint64_t n = read_all(cut, len, &status);
		free(cut);
		if (n == UINT64_MAX)
			fail_msg("cut at %zu: the iteration ran away", len);
		if (status == TTLOG_OK)
			fail_msg("cut at %zu of %zu bytes: read as a whole file (%llu events)", len,
				 ref.size, (unsigned long long)n);
		assert_true(n <= ref.events);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_reads_clean),
		cmocka_unit_test(test_every_bit_flipped),
		cmocka_unit_test(test_every_truncation),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
