/*
 * test_stream.c - the service identity in every file, and the stream
 * (TTLOG_STREAM): segments written by the background drainer, their chunk
 * order and counters, the stream level, rotation, retention, losses and
 * shutdown. Segments are checked through their raw chunks (the layout of
 * docs/FORMAT.md section 17) and, for their events, with the public reader.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "format/format.h"
#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* ---- Raw files ----------------------------------------------------------- */

struct raw {
	unsigned char *p;
	size_t n;
};

static struct raw raw_load(const char *path)
{
	struct raw r = {NULL, 0};
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	r.p = malloc((size_t)n + 1);
	assert_non_null(r.p);
	r.n = fread(r.p, 1, (size_t)n, f);
	fclose(f);
	return r;
}

/* The chunk at *off (validated: CRC and bounds); 0 at the end of the
 * file. The payload goes in *payload, its length in *len. */
static uint32_t raw_chunk(const struct raw *r, size_t *off, const unsigned char **payload,
			  uint32_t *len, uint32_t *flags)
{
	if (*off + TTLOG__FMT_CHUNK_HEADER_SIZE > r->n)
		return 0;
	const unsigned char *h = r->p + *off;
	uint32_t type = ttlog__get_u32(h + TTLOG__FMT_CH_TYPE_OFF);
	*len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
	if (flags)
		*flags = ttlog__get_u32(h + TTLOG__FMT_CH_FLAGS_OFF);
	if (*len > r->n - *off - TTLOG__FMT_CHUNK_HEADER_SIZE)
		return 0;
	*payload = h + TTLOG__FMT_CHUNK_HEADER_SIZE;
	assert_int_equal(ttlog__get_u32(h + TTLOG__FMT_CH_CRC_OFF), ttlog__chunk_crc(h, *payload, *len));
	*off += TTLOG__FMT_CHUNK_HEADER_SIZE + *len;
	return type;
}

/* The HEAD of a file: its appended revision 5 fields. */
struct head5 {
	uint32_t flags;
	char service[80];
	uint64_t segment;
	int64_t stream_start;
};

static void raw_head(const struct raw *r, struct head5 *h)
{
	size_t off = TTLOG__FMT_FILE_HEADER_SIZE;
	const unsigned char *p;
	uint32_t len;
	assert_int_equal(raw_chunk(r, &off, &p, &len, NULL), TTLOG__FMT_CHUNK_HEAD);
	h->flags = ttlog__get_u32(p + TTLOG__FMT_HEAD_FLAGS_OFF);
	size_t at = TTLOG__FMT_HEAD_FIXED_SIZE;
	for (int i = 0; i < 3; i++) /* executable, hostname, reason */
		at += 4 + ttlog__get_u32(p + at);
	uint32_t n = ttlog__get_u32(p + at);
	assert_true(n < sizeof h->service);
	assert_true(at + 4 + n + 16 == len);
	memcpy(h->service, p + at + 4, n);
	h->service[n] = '\0';
	at += 4 + n;
	h->segment = ttlog__get_u64(p + at);
	h->stream_start = (int64_t)ttlog__get_u64(p + at + 8);
}

/* ---- Service identity ------------------------------------------------------ */

static void head_of_new_snapshot(struct head5 *h)
{
	char path[4096];
	assert_int_equal(ttlog_snapshot_path("service", path, sizeof path), TTLOG_OK);
	struct raw r = raw_load(path);
	raw_head(&r, h);
	free(r.p);
	unlink(path);
}

static void test_service_in_snapshot_head(void **state)
{
	(void)state;
	struct head5 h;
	unsetenv("TTLOG_SERVICE");
	assert_int_equal(tu_start(NULL), 0);
	TTLOG_INFO("one event");
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "test_stream"); /* the executable's base name */
	assert_int_equal(h.segment, 0);
	assert_int_equal(h.stream_start, 0);
	assert_int_equal(h.flags & TTLOG__FMT_HEAD_FLAG_SEGMENT, 0);
	ttlog_shutdown();

	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.service = "billing";
	assert_int_equal(tu_start(&cfg), 0);
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "billing");
	ttlog_shutdown();

	setenv("TTLOG_SERVICE", "billing-eu", 1); /* the environment wins */
	assert_int_equal(tu_start(&cfg), 0);
	head_of_new_snapshot(&h);
	assert_string_equal(h.service, "billing-eu");
	ttlog_shutdown();
	unsetenv("TTLOG_SERVICE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_in_snapshot_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
