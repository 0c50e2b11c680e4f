/* SPDX-License-Identifier: MIT */
/*
 * test_compression.c - TTLOG_COMPRESSION and TTLOG_STREAM_COMPRESSION
 * (docs/FORMAT.md 9.1, README "Safe files"): a snapshot written with each
 * setting (lz4, packed, zstd, zstd:1, zstd:9, none) holds the same events,
 * formatted the same, as the LZ4 one, in blocks of the codec asked for (the
 * reader's per-codec counts); a stream's segments with zstd likewise; a
 * zstd block damaged behind a valid chunk CRC gives the events of the
 * blocks before it and an error that names the block and zstd; a record
 * damaged behind a valid CRC reads the same eagerly and lazily; the crash
 * handler writes zstd:9 blocks with the context reserved at init; bad values
 * of the settings are refused at init with the expected values named.
 *
 * Each file is written by a child process (fork, fake clock: the same
 * ticks in every child), so that every setting starts from a fresh library.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

#define EVENTS 6000

static const char *const paths[] = {"GET /api/v1/users", "POST /api/v1/orders",
				    "GET /static/app.js", "DELETE /api/v1/session"};

/* The workload: enough for several 64 KiB blocks of one thread. */
static void workload(void)
{
	for (int i = 0; i < EVENTS; i++) {
		TTLOG_INFO("request id=%d latency=%f path=%s", i, i * 0.5, paths[i % 4]);
		if (i % 7 == 0)
			TTLOG_WARN("slow: %llu us, user %s", (unsigned long long)(i * 977u), "alice");
	}
}

/* Writes one snapshot (and, with stream_dir, one closed segment) into dir
 * from a child process with these settings. */
static void write_file(const char *dir, const char *compression, const char *stream_dir,
		       const char *stream_compression)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("TTLOG_CLOCK", "fake", 1);
		struct ttlog_config cfg;
		ttlog_config_init(&cfg);
		cfg.dir = dir;
		cfg.crash_signals = -1;
		cfg.compression = compression;
		cfg.stream = stream_dir;
		cfg.stream_compression = stream_compression;
		if (ttlog_init(&cfg) != TTLOG_OK) {
			fprintf(stderr, "ttlog_init: %s\n", ttlog_init_error());
			_exit(2);
		}
		workload();
		int rc = ttlog_snapshot("compression");
		ttlog_shutdown();
		_exit(rc == TTLOG_OK ? 0 : 3);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The only file of dir whose name ends with suffix (malloc'd). */
static char *only_file(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	char *found = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), k = strlen(suffix);
		if (n > k && strcmp(e->d_name + n - k, suffix) == 0) {
			assert_null(found);
			found = malloc(strlen(dir) + n + 2);
			sprintf(found, "%s/%s", dir, e->d_name);
		}
	}
	closedir(d);
	assert_non_null(found);
	return found;
}

/* Every log event of the file, "ticks level message\n" each, and the
 * reader (left open for its counters). */
static char *events_text(ttlog_reader *r, size_t *count)
{
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap);
	struct ttlog_event ev;
	*count = 0;
	ttlog_reader_rewind(r);
	while (ttlog_reader_next(r, &ev) == 1) {
		if (ev.kind != TTLOG_EVENT_LOG)
			continue;
		char msg[512];
		ttlog_event_format(&ev, msg, sizeof msg);
		if (cap - len < 600) {
			cap *= 2;
			text = realloc(text, cap);
		}
		len += (size_t)snprintf(text + len, cap - len, "%llu %d %s\n",
					(unsigned long long)ev.ticks, ev.site->level, msg);
		++*count;
	}
	text[len] = '\0';
	return text;
}

static char *reference;
static size_t reference_count;

static int group_setup(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("ref");
	write_file(dir, "lz4", NULL, NULL);
	char *path = only_file(dir, ".ttlog");
	ttlog_reader *r;
	if (ttlog_reader_open(path, &r) != TTLOG_OK)
		return -1;
	reference = events_text(r, &reference_count);
	ttlog_reader_close(r);
	free(path);
	free(dir);
	return reference_count == EVENTS + (EVENTS + 6) / 7 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	free(reference);
	return 0;
}

/* Opens the file, checks it reads whole and holds the reference events,
 * and returns the reader's block counts by codec. */
static void check_same_events(const char *path, uint64_t blocks[4])
{
	ttlog_reader *r;
	int rc = ttlog_reader_open(path, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", path, r ? ttlog_reader_error(r) : "cannot open");
	size_t n;
	char *text = events_text(r, &n);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	assert_int_equal(n, reference_count);
	assert_string_equal(text, reference);
	const struct ttlog_reader_counters *c = ttlog_reader_counters(r);
	memcpy(blocks, c->codec_blocks, sizeof c->codec_blocks);
	free(text);
	ttlog_reader_close(r);
}

static void test_snapshot_round_trip(void **state)
{
	(void)state;
	static const struct {
		const char *setting;
		int codec; /* the codec of most blocks */
		uint32_t incompat;
	} cases[] = {
		{"lz4", TTLOG__FMT_CODEC_LZ4, 0},
		{"packed", TTLOG__FMT_CODEC_PACKED, TTLOG__FMT_INCOMPAT_PACKED},
		{"zstd", TTLOG__FMT_CODEC_ZSTD, TTLOG__FMT_INCOMPAT_PACKED | TTLOG__FMT_INCOMPAT_ZSTD},
		{"zstd:1", TTLOG__FMT_CODEC_ZSTD, TTLOG__FMT_INCOMPAT_PACKED | TTLOG__FMT_INCOMPAT_ZSTD},
		{"ZSTD:9", TTLOG__FMT_CODEC_ZSTD, TTLOG__FMT_INCOMPAT_PACKED | TTLOG__FMT_INCOMPAT_ZSTD},
		{"none", TTLOG__FMT_CODEC_NONE, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = tu_tmpdir("snap");
		write_file(dir, cases[i].setting, NULL, NULL);
		char *path = only_file(dir, ".ttlog");
		uint64_t blocks[4];
		check_same_events(path, blocks);
		print_message("%-7s none %llu, lz4 %llu, packed %llu, zstd %llu blocks\n",
			      cases[i].setting, (unsigned long long)blocks[0],
			      (unsigned long long)blocks[1], (unsigned long long)blocks[2],
			      (unsigned long long)blocks[3]);
		/* Every block of the workload compresses: all in the codec asked for. */
		uint64_t total = blocks[0] + blocks[1] + blocks[2] + blocks[3];
		assert_true(total >= 3);
		assert_int_equal(blocks[cases[i].codec], total);
		FILE *f = fopen(path, "rb");
		unsigned char h[TTLOG__FMT_FILE_HEADER_SIZE];
		assert_int_equal(fread(h, 1, sizeof h, f), sizeof h);
		fclose(f);
		assert_int_equal(ttlog__get_u32(h + TTLOG__FMT_FH_INCOMPAT_OFF), cases[i].incompat);
		free(path);
		free(dir);
	}
}

/* The crash handler writes with the context reserved at init: a child
 * that dies of SIGSEGV leaves a snapshot of zstd blocks with every event. */
/* The crash: a store through NULL, which UBSan would report and stop at
 * instead of letting it fault. */
static __attribute__((noinline, no_sanitize("undefined"))) void crash_here(void)
{
	volatile int *volatile nowhere = NULL;
	*nowhere = 1;
}

static void test_crash_snapshot_zstd(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("crash");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL); /* not cmocka's handler: the child dies */
		setenv("TTLOG_CLOCK", "fake", 1);
		setenv("TTLOG_COMPRESSION", "zstd:9", 1);
		struct ttlog_config cfg;
		ttlog_config_init(&cfg);
		cfg.dir = dir;
		if (ttlog_init(&cfg) != TTLOG_OK)
			_exit(2);
		workload();
		crash_here();
		_exit(3);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	char *path = only_file(dir, ".ttlog");
	uint64_t blocks[4];
	check_same_events(path, blocks);
	assert_int_not_equal(blocks[TTLOG__FMT_CODEC_ZSTD], 0);
	assert_int_equal(blocks[TTLOG__FMT_CODEC_LZ4] + blocks[TTLOG__FMT_CODEC_NONE], 0);
	ttlog_reader *r;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	assert_true(ttlog_reader_info(r)->crashed);
	ttlog_reader_close(r);
	free(path);
	free(dir);
}

static void test_stream_round_trip(void **state)
{
	(void)state;
	char *dir = tu_tmpdir("sdir");
	char *sdir = tu_tmpdir("stream");
	/* TTLOG_COMPRESSION's setting applies to the stream unless the stream
	 * has its own: none for the snapshot, zstd:1 for the segment. */
	write_file(dir, "none", sdir, "zstd:1");
	char *seg = only_file(sdir, ".ttseg");
	uint64_t blocks[4];
	check_same_events(seg, blocks);
	assert_int_not_equal(blocks[TTLOG__FMT_CODEC_ZSTD], 0);
	assert_int_equal(blocks[TTLOG__FMT_CODEC_LZ4], 0);
	char *snap = only_file(dir, ".ttlog");
	check_same_events(snap, blocks);
	assert_int_equal(blocks[TTLOG__FMT_CODEC_ZSTD] + blocks[TTLOG__FMT_CODEC_LZ4] +
				 blocks[TTLOG__FMT_CODEC_PACKED],
			 0);
	free(seg);
	free(snap);
	free(sdir);
	free(dir);

	/* Without a stream setting, the stream takes TTLOG_COMPRESSION's. */
	dir = tu_tmpdir("sdir2");
	sdir = tu_tmpdir("stream2");
	write_file(dir, "lz4", sdir, NULL);
	seg = only_file(sdir, ".ttseg");
	check_same_events(seg, blocks);
	assert_int_not_equal(blocks[TTLOG__FMT_CODEC_LZ4], 0);
	assert_int_equal(blocks[TTLOG__FMT_CODEC_PACKED] + blocks[TTLOG__FMT_CODEC_ZSTD], 0);
	free(seg);
	free(sdir);
	free(dir);
}

/* The file's bytes (malloc'd) and size. */
static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	*size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *d = malloc(*size);
	assert_int_equal(fread(d, 1, *size, f), *size);
	fclose(f);
	return d;
}

static void spit(const char *path, const unsigned char *d, size_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, size, f), size);
	fclose(f);
}

/* The offset of the nth (from 0) EVTS chunk of the codec in the file, and
 * the records of the ones before it. */
static size_t nth_block(const unsigned char *d, size_t size, int codec, int nth, uint64_t *before)
{
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	*before = 0;
	while (off + TTLOG__FMT_CHUNK_HEADER_SIZE <= size) {
		uint32_t type = ttlog__get_u32(d + off + TTLOG__FMT_CH_TYPE_OFF);
		uint32_t len = ttlog__get_u32(d + off + TTLOG__FMT_CH_LENGTH_OFF);
		const unsigned char *p = d + off + TTLOG__FMT_CHUNK_HEADER_SIZE;
		if (type == TTLOG__FMT_CHUNK_EVTS) {
			if (p[TTLOG__FMT_EVTS_CODEC_OFF] == codec && nth-- == 0)
				return off;
			*before += ttlog__get_u32(p + TTLOG__FMT_EVTS_COUNT_OFF);
		}
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + len;
	}
	fail_msg("no block %d of codec %d", nth, codec);
	return 0;
}

static void fix_crc(unsigned char *d, size_t off)
{
	uint32_t len = ttlog__get_u32(d + off + TTLOG__FMT_CH_LENGTH_OFF);
	ttlog__put_u32(d + off + TTLOG__FMT_CH_CRC_OFF,
		       ttlog__chunk_crc(d + off, d + off + TTLOG__FMT_CHUNK_HEADER_SIZE, len));
}

/* Reads the damaged copy: the events of the blocks before the damage come
 * out as they were, then an error about the block. */
static void check_damaged(const char *path, uint64_t before, size_t chunk_off, const char *why)
{
	ttlog_reader *r;
	int rc = ttlog_reader_open(path, &r);
	assert_non_null(r);
	(void)rc;
	size_t n;
	char *text = events_text(r, &n);
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_CORRUPT);
	const char *err = ttlog_reader_error(r);
	print_message("damaged: %s\n", err);
	char where[64];
	snprintf(where, sizeof where, "offset %zu", chunk_off + TTLOG__FMT_CHUNK_HEADER_SIZE +
							 TTLOG__FMT_EVTS_FIXED_SIZE);
	if (!strstr(err, where) || !strstr(err, why))
		fail_msg("expected '%s' and '%s' in: %s", where, why, err);
	/* The events before the block, exactly. */
	assert_true(n >= before);
	assert_true(n < reference_count);
	size_t k = 0;
	const char *e = reference;
	for (uint64_t i = 0; i < before; i++)
		e = strchr(e, '\n') + 1;
	k = (size_t)(e - reference);
	assert_memory_equal(text, reference, k);
	free(text);
	ttlog_reader_close(r);
}

/* A sample file written with codec, its bytes (orig), a copy to damage
 * (d) and the path to write the damaged copy to (bad). */
struct damage_kit {
	char *dir, *path;
	unsigned char *orig, *d;
	size_t size;
	char bad[4096];
};

static void damage_kit_open(struct damage_kit *k, const char *name, const char *codec)
{
	k->dir = tu_tmpdir(name);
	write_file(k->dir, codec, NULL, NULL);
	k->path = only_file(k->dir, ".ttlog");
	k->orig = slurp(k->path, &k->size);
	k->d = malloc(k->size);
	assert_non_null(k->d);
	snprintf(k->bad, sizeof k->bad, "%s/damaged.ttlog", k->dir);
}

static void damage_kit_close(struct damage_kit *k)
{
	free(k->d);
	free(k->orig);
	unlink(k->bad);
	unlink(k->path);
	free(k->path);
	rmdir(k->dir);
	free(k->dir);
}

static void test_damaged_zstd_block(void **state)
{
	(void)state;
	struct damage_kit k;
	damage_kit_open(&k, "bad", "zstd");
	unsigned char *orig = k.orig, *d = k.d;
	size_t size = k.size;
	const char *bad = k.bad;

	/* Bytes in the middle of the second block's frame changed, the chunk
	 * CRC made to match: zstd finds it (its checksum, or the data). */
	memcpy(d, orig, size);
	uint64_t before;
	size_t off = nth_block(d, size, TTLOG__FMT_CODEC_ZSTD, 1, &before);
	assert_true(before > 0);
	uint32_t len = ttlog__get_u32(d + off + TTLOG__FMT_CH_LENGTH_OFF);
	size_t data = off + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_EVTS_FIXED_SIZE;
	for (size_t i = 0; i < 8; i++)
		d[data + (len - TTLOG__FMT_EVTS_FIXED_SIZE) / 2 + i] ^= 0x5a;
	fix_crc(d, off);
	spit(bad, d, size);
	check_damaged(bad, before, off, "found invalid zstd data");

	/* A frame header that states no content: not a zstd frame. */
	memcpy(d, orig, size);
	memset(d + data, 0, 4);
	fix_crc(d, off);
	spit(bad, d, size);
	check_damaged(bad, before, off, "expected a zstd frame, found invalid zstd data");

	/* The frame's content size raised past what the raw size allows is
	 * refused before anything is decompressed: rewrite the raw size. */
	memcpy(d, orig, size);
	ttlog__put_u32(d + off + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_EVTS_RAW_SIZE_OFF, 16);
	fix_crc(d, off);
	spit(bad, d, size);
	check_damaged(bad, before, off, "packed bytes for a raw size of 16");

	damage_kit_close(&k);
}

/* Reads path eagerly, lazily, and lazily without arguments: the same
 * events, and the same error, which names want. */
static void check_record_damage(const char *path, const char *want)
{
	static const unsigned modes[] = {0, TTLOG_READER_LAZY,
					 TTLOG_READER_LAZY | TTLOG_READER_NO_ARGS};
	char first[1024] = "";
	size_t first_n = 0;
	for (unsigned m = 0; m < 3; m++) {
		ttlog_reader *r = NULL;
		(void)ttlog_reader_open_ex(path, modes[m], &r);
		assert_non_null(r);
		struct ttlog_event ev;
		size_t n = 0;
		while (ttlog_reader_next(r, &ev) == 1)
			n++;
		assert_int_equal(ttlog_reader_status(r), TTLOG_E_CORRUPT);
		const char *err = ttlog_reader_error(r);
		if (!strstr(err, want))
			fail_msg("mode %u: expected '%s' in: %s", m, want, err);
		if (m == 0) {
			snprintf(first, sizeof first, "%s", err);
			first_n = n;
			assert_true(n > 0 && n < reference_count);
		} else {
			assert_string_equal(err, first);
			assert_int_equal(n, first_n);
		}
		ttlog_reader_close(r);
	}
}

/* A record damaged behind a valid chunk CRC, in a block that is not
 * compressed: a lazy reader checks only the records' headers when it
 * enters a block and the arguments as it decodes each record, and still
 * gives the same events and the same error as the eager reader, whose
 * open checked every record whole. Once with a string's length too long
 * for its record (the headers after it are sound), once with a record's
 * size 8 bytes too large (the headers after it are not). */
static void test_damaged_record(void **state)
{
	(void)state;
	struct damage_kit k;
	damage_kit_open(&k, "record", "none");
	unsigned char *orig = k.orig, *d = k.d;
	size_t size = k.size;
	const char *bad = k.bad;

	/* The third block, and in it the first record with the path
	 * "GET /api/v1/users" (a string of 17). */
	uint64_t before;
	size_t evts = nth_block(orig, size, TTLOG__FMT_CODEC_NONE, 2, &before);
	assert_true(before > 0);
	const unsigned char *p = orig + evts + TTLOG__FMT_CHUNK_HEADER_SIZE;
	assert_int_equal(p[TTLOG__FMT_EVTS_CODEC_OFF], TTLOG__FMT_CODEC_NONE);
	size_t data = evts + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_EVTS_FIXED_SIZE;
	uint32_t raw = ttlog__get_u32(p + TTLOG__FMT_EVTS_RAW_SIZE_OFF);
	const unsigned char *str = memmem(orig + data, raw, "GET /api/v1/users", 17);
	assert_non_null(str);
	size_t word = (size_t)(str - orig) - 4;
	assert_int_equal(ttlog__get_u32(orig + word), 17);

	memcpy(d, orig, size);
	ttlog__put_u32(d + word, 4000);
	fix_crc(d, evts);
	spit(bad, d, size);
	check_record_damage(bad, "of 4000 bytes within the");

	/* The record that holds the string: walk the block's records. */
	size_t rec = data;
	while (rec + ttlog__get_u32(orig + rec) <= word)
		rec += ttlog__get_u32(orig + rec);
	memcpy(d, orig, size);
	ttlog__put_u32(d + rec, ttlog__get_u32(orig + rec) + 8);
	fix_crc(d, evts);
	spit(bad, d, size);
	check_record_damage(bad, "for the arguments of site");
	damage_kit_close(&k);
}

static void test_bad_settings(void **state)
{
	(void)state;
	static const char *const bad[] = {"gzip", "zstd:0", "zstd:20", "zstd:", "zstd:3x",
					  "zstd3", "lz4:1", "zstd:-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int stream = 0; stream < 2; stream++) {
			const char *var = stream ? "TTLOG_STREAM_COMPRESSION" : "TTLOG_COMPRESSION";
			setenv(var, bad[i], 1);
			int rc = ttlog_init(NULL);
			unsetenv(var);
			if (rc == TTLOG_OK) {
				ttlog_shutdown();
				fail_msg("%s=%s was accepted", var, bad[i]);
			}
			assert_int_equal(rc, TTLOG_E_CONFIG);
			char want[256];
			snprintf(want, sizeof want,
				 "%s: expected lz4, packed, zstd, zstd:LEVEL (1 to 19) or none, got '%s'",
				 var, bad[i]);
			assert_string_equal(ttlog_init_error(), want);
		}
		/* The struct's fields the same way, named by their field. */
		struct ttlog_config cfg;
		ttlog_config_init(&cfg);
		cfg.compression = bad[i];
		int rc = ttlog_init(&cfg);
		if (rc == TTLOG_OK)
			ttlog_shutdown();
		assert_int_equal(rc, TTLOG_E_CONFIG);
		assert_non_null(strstr(ttlog_init_error(), "compression: expected lz4"));
	}
}

int main(void)
{
	tu_let_crashes_through();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_crash_snapshot_zstd),
		cmocka_unit_test(test_stream_round_trip),
		cmocka_unit_test(test_damaged_zstd_block),
		cmocka_unit_test(test_damaged_record),
		cmocka_unit_test(test_bad_settings),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
