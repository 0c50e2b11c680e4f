/* SPDX-License-Identifier: MIT */
/*
 * test_reader.c - the snapshot reader against files built by hand.
 *
 * The files are made by a small writer in this file that follows
 * src/format/format.h field by field, independently of the library's own
 * writer, so the test is also a second reading of the format. The reference
 * file has two threads (indexes 0 and 7), three sites in two SITE chunks,
 * an uncompressed and an LZ4 block, THRD, CRSH and END chunks. Then come
 * hostile files: every truncation of the reference, random byte flips, a
 * damaged block, a damaged length, unknown chunks, other versions, garbage.
 *
 * Run with `--write-corpus DIR` to write the fuzz corpus (fuzz/corpus/reader)
 * instead of running the tests.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lz4.h>

#include "common/crc32c.h"
#include "reader/reader_internal.h"
#include "format/format.h"
#include "ttlog.h"
#include "ttlog_reader.h"
#include "support/testutil.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- A test-only writer -------------------------------------------------- */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
};

static void w_bytes(struct wbuf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void w_u8(struct wbuf *b, uint8_t v) { w_bytes(b, &v, 1); }

static void w_u16(struct wbuf *b, uint16_t v)
{
	unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	w_bytes(b, c, 2);
}

static void w_u32(struct wbuf *b, uint32_t v)
{
	unsigned char c[4];
	for (int i = 0; i < 4; i++)
		c[i] = (unsigned char)(v >> (8 * i));
	w_bytes(b, c, 4);
}

static void w_u64(struct wbuf *b, uint64_t v)
{
	w_u32(b, (uint32_t)v);
	w_u32(b, (uint32_t)(v >> 32));
}

static void w_strn(struct wbuf *b, const char *s, size_t n)
{
	w_u32(b, (uint32_t)n);
	w_bytes(b, s, n);
}

static void w_str(struct wbuf *b, const char *s) { w_strn(b, s, strlen(s)); }

static void set_u32(struct wbuf *b, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->p[at + i] = (unsigned char)(v >> (8 * i));
}

static uint32_t crc(const void *p, size_t n) { return ttlog__crc32c(0, p, n); }

static void w_file_header(struct wbuf *b, uint16_t version, uint16_t size)
{
	w_bytes(b, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN);
	w_u16(b, version);
	w_u16(b, size);
	w_u32(b, 0); /* incompatible flags */
	w_u32(b, 0); /* compatible flags */
	w_u32(b, crc(b->p + b->len - 20, 20));
	for (unsigned i = 24; i < size; i++)
		w_u8(b, 0xa5);
}

/* Starts a chunk; chunk_end() fills in its length and CRC. */
static size_t chunk_begin(struct wbuf *b, uint32_t type, uint32_t flags)
{
	size_t at = b->len;
	w_u32(b, type);
	w_u32(b, flags);
	w_u32(b, 0);
	w_u32(b, 0);
	return at;
}

static void chunk_end(struct wbuf *b, size_t at)
{
	size_t len = b->len - at - 16;
	set_u32(b, at + 8, (uint32_t)len);
	set_u32(b, at + 12, ttlog__chunk_crc(b->p + at, b->p + at + 16, len));
}

/* Recomputes a chunk's CRC after a test changed its payload. */
static void rechunk(struct wbuf *b, size_t at)
{
	size_t len = (size_t)b->p[at + 8] | (size_t)b->p[at + 9] << 8 | (size_t)b->p[at + 10] << 16;
	set_u32(b, at + 12, ttlog__chunk_crc(b->p + at, b->p + at + 16, len));
}

struct calib {
	uint64_t tick0, tick1;
	int64_t ns0, ns1;
};

static const struct calib ref_calib = {1000, 1000 + 3000000000ull, 1700000000000000000ll,
				       1700000001000000000ll};

static void w_head(struct wbuf *b, const struct calib *c)
{
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_HEAD, 0);
	w_u32(b, 4242);                                   /* pid */
	w_u32(b, TTLOG__FMT_HEAD_FLAG_CRASH);              /* flags */
	w_u64(b, (uint64_t)1700000000123456789ll);        /* created */
	w_u64(b, c->tick0);
	w_u64(b, (uint64_t)c->ns0);
	w_u64(b, c->tick1);
	w_u64(b, (uint64_t)c->ns1);
	w_u32(b, TTLOG__FMT_CLOCK_TSC);
	w_u32(b, TTLOG_VERSION_NUMBER);
	w_u64(b, 0);                                      /* window */
	w_str(b, "/usr/bin/demo");
	w_str(b, "testhost");
	w_str(b, "crash");
	chunk_end(b, at);
}

static void w_site(struct wbuf *b, uint32_t id, int level, const uint8_t *types, unsigned n,
		   uint32_t line, const char *format, const char *function)
{
	w_u32(b, id);
	w_u8(b, (uint8_t)level);
	w_u8(b, (uint8_t)n);
	w_u16(b, 0);
	w_u32(b, line);
	w_bytes(b, types, n);
	w_str(b, format);
	w_str(b, "demo.c");
	w_str(b, function);
	w_str(b, "app");
}

/* Records: rec_begin(), the arguments with w_*, rec_end(). */
static size_t rec_begin(struct wbuf *b, uint32_t site, uint64_t ticks)
{
	size_t at = b->len;
	w_u32(b, 0);
	w_u32(b, site);
	w_u64(b, ticks);
	return at;
}

static void rec_end(struct wbuf *b, size_t at)
{
	while ((b->len - at) % 8)
		w_u8(b, 0xee); /* padding: ignored by readers */
	set_u32(b, at, (uint32_t)(b->len - at));
}

static void w_f64(struct wbuf *b, double d)
{
	uint64_t bits;
	memcpy(&bits, &d, 8);
	w_u64(b, bits);
}

static void w_arg_str(struct wbuf *b, const char *s, size_t n, uint32_t flags)
{
	w_u32(b, (uint32_t)n | flags);
	w_bytes(b, s, n);
}

/* An EVTS chunk around the records in data. */
static size_t w_evts(struct wbuf *b, uint32_t thread, uint32_t tid, uint32_t count,
		     const struct wbuf *data, uint64_t first, uint64_t last, int lz4)
{
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_EVTS, 0);
	w_u32(b, thread);
	w_u32(b, tid);
	w_u32(b, count);
	w_u32(b, (uint32_t)data->len);
	w_u64(b, first);
	w_u64(b, last);
	w_u8(b, lz4 ? TTLOG__FMT_CODEC_LZ4 : TTLOG__FMT_CODEC_NONE);
	for (int i = 0; i < 7; i++)
		w_u8(b, 0);
	if (lz4) {
		int bound = LZ4_compressBound((int)data->len);
		char *z = malloc((size_t)bound);
		assert_non_null(z);
		int n = LZ4_compress_default((const char *)data->p, z, (int)data->len, bound);
		assert_true(n > 0);
		assert_true((size_t)n < data->len); /* the block really is compressed */
		w_bytes(b, z, (size_t)n);
		free(z);
	} else {
		w_bytes(b, data->p, data->len);
	}
	chunk_end(b, at);
	return at;
}

static void w_thrd(struct wbuf *b, uint32_t index, uint32_t tid, uint32_t flags, uint64_t events,
		   uint64_t overwritten, uint64_t torn, uint64_t torn_bytes, const char *name)
{
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_THRD, 0);
	w_u32(b, index);
	w_u32(b, tid);
	w_u32(b, flags);
	w_u32(b, 0);
	w_u64(b, events);
	w_u64(b, overwritten);
	w_u64(b, torn);
	w_u64(b, torn_bytes);
	w_str(b, name);
	chunk_end(b, at);
}

static void w_end(struct wbuf *b, uint64_t events, uint64_t overwritten, uint64_t torn,
		  uint64_t torn_bytes, uint32_t threads, uint32_t sites, uint32_t blocks)
{
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_END, 0);
	w_u64(b, events);
	w_u64(b, overwritten);
	w_u64(b, torn);
	w_u64(b, torn_bytes);
	w_u64(b, 5); /* dropped */
	w_u32(b, threads);
	w_u32(b, sites);
	w_u32(b, blocks);
	w_u32(b, 0);
	chunk_end(b, at);
}

/* ---- The reference file -------------------------------------------------- */

enum { REF_EVENTS = 27, REF_LZ4_RECORDS = 22 };

struct ref_options {
	uint16_t version;
	uint16_t header_size;      /* 0: 24 */
	int extra_chunk;           /* 0 none, 1 unknown optional, 2 unknown required */
	int no_thrd7;              /* leave out thread 7's THRD (and count it out of END) */
};

struct ref_file {
	struct wbuf b;
	size_t off_site1, off_evts_a, off_site2, off_evts_lz4, off_evts_c, off_end;
};

static const uint8_t all_types[14] = {
	TTLOG_ARG_BOOL, TTLOG_ARG_CHAR, TTLOG_ARG_I8,  TTLOG_ARG_U8,   TTLOG_ARG_I16,
	TTLOG_ARG_U16,  TTLOG_ARG_I32,  TTLOG_ARG_U32, TTLOG_ARG_I64,  TTLOG_ARG_U64,
	TTLOG_ARG_F64,  TTLOG_ARG_LDBL, TTLOG_ARG_PTR, TTLOG_ARG_STR};
static const uint8_t site3_types[3] = {TTLOG_ARG_STR, TTLOG_ARG_STR, TTLOG_ARG_I32};

#define SITE2_FORMAT \
	"b=%d c=%c i8=%d u8=%u i16=%d u16=%u i32=%d u32=%u i64=%lld u64=%llu f=%f ld=%f p=%p s=%s"

struct all_values {
	uint8_t b;
	char c;
	int8_t i8;
	uint8_t u8;
	int16_t i16;
	uint16_t u16;
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	double f, ld;
	uint64_t ptr;
	const char *s;
};

static const struct all_values values_a = {1, 'x', -5, 250, -12345, 54321, -2000000000,
					   4000000000u, -9000000000000000000ll,
					   18000000000000000000ull, 3.25, -0.5, 0x7fff12345678ull,
					   "hello"};
static const struct all_values values_b = {0, 'A', 127, 0, 32767, 0, INT32_MAX, 0, INT64_MIN,
					   UINT64_MAX, 1e300, -0.0, 0, ""};
static const struct all_values values_c = {1, '\n', -128, 1, -1, 1, -1, 1, -1, 1, -1.5, 2.5,
					   0x1000, "third block"};

static void rec_all(struct wbuf *d, uint64_t ticks, const struct all_values *v)
{
	size_t r = rec_begin(d, 2, ticks);
	w_u8(d, v->b);
	w_u8(d, (uint8_t)v->c);
	w_u8(d, (uint8_t)v->i8);
	w_u8(d, v->u8);
	w_u16(d, (uint16_t)v->i16);
	w_u16(d, v->u16);
	w_u32(d, (uint32_t)v->i32);
	w_u32(d, v->u32);
	w_u64(d, (uint64_t)v->i64);
	w_u64(d, v->u64);
	w_f64(d, v->f);
	w_f64(d, v->ld);
	w_u64(d, v->ptr);
	w_arg_str(d, v->s, strlen(v->s), 0);
	rec_end(d, r);
}

static void rec_plain(struct wbuf *d, uint64_t ticks)
{
	rec_end(d, rec_begin(d, 1, ticks));
}

static const char nul_string[] = "hello\0world";

static void build_ref(struct ref_file *f, const struct ref_options *o)
{
	struct wbuf *b = &f->b;
	memset(f, 0, sizeof *f);
	w_file_header(b, o->version ? o->version : 1, o->header_size ? o->header_size : 24);
	w_head(b, &ref_calib);

	f->off_site1 = chunk_begin(b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(b, 2);
	w_site(b, 1, TTLOG_LEVEL_INFO, NULL, 0, 10, "service started", "main");
	w_site(b, 2, TTLOG_LEVEL_DEBUG, all_types, 14, 20, SITE2_FORMAT, "work");
	chunk_end(b, f->off_site1);

	if (o->extra_chunk) {
		size_t at = chunk_begin(b, TTLOG__FMT_FOURCC('X', 'T', 'R', 'A'),
					o->extra_chunk == 2 ? TTLOG__FMT_CHUNK_REQUIRED : 0x30u);
		w_str(b, "from a later version");
		chunk_end(b, at);
	}

	/* Thread 0, block A, uncompressed. */
	struct wbuf d = {0};
	rec_plain(&d, 2000);
	rec_all(&d, 5000, &values_a);
	rec_plain(&d, 9000);
	f->off_evts_a = w_evts(b, 0, 100, 3, &d, 2000, 9000, 0);

	f->off_site2 = chunk_begin(b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(b, 1);
	w_site(b, 3, TTLOG_LEVEL_WARN, site3_types, 3, 30, "a=%s b=%s n=%d", "poll");
	chunk_end(b, f->off_site2);

	/* Thread 7, one LZ4 block; its first record ties with thread 0's. */
	d.len = 0;
	size_t r = rec_begin(&d, 3, 5000);
	w_arg_str(&d, "", 0, TTLOG__STR_NULL);
	w_arg_str(&d, "trunc", 5, TTLOG__STR_TRUNCATED);
	w_u32(&d, 7);
	rec_end(&d, r);
	rec_all(&d, 6000, &values_b);
	for (uint32_t i = 0; i < 20; i++) {
		r = rec_begin(&d, 3, 7000 + 10 * i);
		w_arg_str(&d, nul_string, sizeof nul_string - 1, 0);
		w_arg_str(&d, "x", 1, 0);
		w_u32(&d, i);
		rec_end(&d, r);
	}
	f->off_evts_lz4 = w_evts(b, 7, 200, REF_LZ4_RECORDS, &d, 5000, 7190, 1);

	/* Thread 0, block C. */
	d.len = 0;
	rec_all(&d, 9500, &values_c);
	rec_plain(&d, 20000);
	f->off_evts_c = w_evts(b, 0, 100, 2, &d, 9500, 20000, 0);
	free(d.p);

	w_thrd(b, 0, 100, TTLOG__FMT_THREAD_EXITED, 5, 10, 1, 48, "main");
	if (!o->no_thrd7)
		w_thrd(b, 7, 200, TTLOG__FMT_THREAD_CRASHED, 22, 0, 2, 64, "worker-7");

	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_CRSH, 0);
	w_u32(b, 11);
	w_u32(b, 1);
	w_u64(b, 0xdeadbeef);
	w_u32(b, 200);
	w_u32(b, 7);
	w_str(b, "SIGSEGV");
	chunk_end(b, at);

	f->off_end = b->len;
	if (o->no_thrd7)
		w_end(b, REF_EVENTS, 10, 1, 48, 1, 3, 3);
	else
		w_end(b, REF_EVENTS, 10, 3, 112, 2, 3, 3);
}

static const struct ref_options plain = {0};

/* ---- Files and events ---------------------------------------------------- */

static char tmp_dir[4096];
static int tmp_made;

static const char *tmp_path(const char *name)
{
	static char path[4200];
	snprintf(path, sizeof path, "%s/%s", tmp_dir, name);
	return path;
}

static const char *write_tmp(const char *name, const void *data, size_t n)
{
	const char *path = tmp_path(name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	if (n)
		assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Opens bytes through a real file, checks the reader's basic contract. */
static ttlog_reader *open_bytes(const void *data, size_t n, int *status)
{
	const char *path = write_tmp("t.ttlog", data, n);
	ttlog_reader *r = NULL;
	*status = ttlog_reader_open(path, &r);
	assert_non_null(r);
	assert_int_equal(ttlog_reader_status(r), *status);
	if (*status != TTLOG_OK) {
		/* "PATH: offset N: expected ..." */
		const char *err = ttlog_reader_error(r);
		size_t n_path = strlen(path);
		assert_int_equal(strncmp(err, path, n_path), 0);
		assert_int_equal(strncmp(err + n_path, ": ", 2), 0);
	}
	unlink(path);
	return r;
}

/* An event copied out of the reader, comparable across readers. */
struct evc {
	uint32_t thread;
	uint64_t ticks;
	int64_t time_ns;
	uint32_t site;
	unsigned nargs;
	struct ttlog_arg args[TTLOG__FMT_MAX_ARGS];
	char str[TTLOG__FMT_MAX_ARGS][32];
};

static size_t collect(ttlog_reader *r, struct evc *out, size_t max)
{
	struct ttlog_event e;
	size_t n = 0;
	while (ttlog_reader_next(r, &e)) {
		assert_true(n < max);
		struct evc *c = &out[n++];
		memset(c, 0, sizeof *c);
		c->thread = e.thread->index;
		c->ticks = e.ticks;
		c->time_ns = e.time_ns;
		c->site = e.site->id;
		c->nargs = e.nargs;
		assert_int_equal(e.nargs, e.site->nargs);
		for (unsigned i = 0; i < e.nargs; i++) {
			c->args[i] = e.args[i];
			assert_int_equal(e.args[i].type, e.site->arg_types[i]);
			if (e.args[i].type == TTLOG_ARG_STR && e.args[i].str) {
				assert_int_equal(e.args[i].str[e.args[i].str_len], '\0');
				assert_true(e.args[i].str_len < sizeof c->str[i]);
				memcpy(c->str[i], e.args[i].str, e.args[i].str_len);
			}
			c->args[i].str = NULL; /* not valid after this call */
		}
	}
	return n;
}

static int evc_equal(const struct evc *a, const struct evc *b)
{
	if (a->thread != b->thread || a->ticks != b->ticks || a->site != b->site ||
	    a->nargs != b->nargs)
		return 0; /* not time_ns: a damaged HEAD loses the calibration */
	for (unsigned i = 0; i < a->nargs; i++) {
		const struct ttlog_arg *x = &a->args[i], *y = &b->args[i];
		if (x->type != y->type || x->v.u != y->v.u || x->str_len != y->str_len ||
		    x->str_null != y->str_null || x->str_truncated != y->str_truncated ||
		    memcmp(a->str[i], b->str[i], sizeof a->str[i]) != 0)
			return 0;
	}
	return 1;
}

static struct evc ref_events[REF_EVENTS];

/* Each thread's events in got are, in order, taken from its events in the
 * reference; with prefix set, they are the first ones. */
static void check_subsequence(const struct evc *got, size_t n, int prefix)
{
	const uint32_t threads[2] = {0, 7};
	for (int t = 0; t < 2; t++) {
		size_t j = 0;
		for (size_t i = 0; i < n; i++) {
			if (got[i].thread != threads[t])
				continue;
			while (j < REF_EVENTS &&
			       (ref_events[j].thread != threads[t] || !evc_equal(&ref_events[j], &got[i]))) {
				assert_false(prefix && ref_events[j].thread == threads[t]);
				j++;
			}
			assert_true(j < REF_EVENTS);
			j++;
		}
	}
	for (size_t i = 0; i < n; i++)
		assert_true(got[i].thread == 0 || got[i].thread == 7);
}

static void check_error_form(ttlog_reader *r, int status)
{
	const char *err = ttlog_reader_error(r);
	assert_non_null(err);
	assert_true(strstr(err, "offset ") != NULL);
	assert_true(strstr(err, "expected ") != NULL);
	assert_true(status == TTLOG_E_TRUNCATED || status == TTLOG_E_CORRUPT ||
		    status == TTLOG_E_VERSION || status == TTLOG_E_NOT_TTLOG);
}

/* ---- Tests: the valid file ----------------------------------------------- */

static void check_all(const struct ttlog_arg *a, const struct all_values *v)
{
	assert_int_equal(a[0].v.i, v->b);
	assert_int_equal(a[1].v.i, v->c);
	assert_int_equal(a[2].v.i, v->i8);
	assert_int_equal(a[3].v.u, v->u8);
	assert_int_equal(a[4].v.i, v->i16);
	assert_int_equal(a[5].v.u, v->u16);
	assert_int_equal(a[6].v.i, v->i32);
	assert_int_equal(a[7].v.u, v->u32);
	assert_true(a[8].v.i == v->i64);
	assert_true(a[9].v.u == v->u64);
	assert_memory_equal(&a[10].v.d, &v->f, sizeof(double));
	assert_memory_equal(&a[11].v.d, &v->ld, sizeof(double));
	assert_true(a[12].v.u == v->ptr);
	assert_int_equal(a[13].str_len, strlen(v->s));
	assert_string_equal(a[13].str, v->s);
	assert_false(a[13].str_null);
	assert_false(a[13].str_truncated);
}

static void test_valid_file(void **state)
{
	(void)state;
	struct ref_file f;
	build_ref(&f, &plain);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	assert_null(ttlog_reader_error(r));

	const struct ttlog_file_info *in = ttlog_reader_info(r);
	assert_int_equal(in->format_version, 1);
	assert_int_equal(in->pid, 4242);
	assert_string_equal(in->executable, "/usr/bin/demo");
	assert_string_equal(in->hostname, "testhost");
	assert_string_equal(in->reason, "crash");
	assert_true(in->created_ns == 1700000000123456789ll);
	assert_int_equal(in->writer_version, TTLOG_VERSION_NUMBER);
	assert_int_equal(in->clock, TTLOG__FMT_CLOCK_TSC);
	assert_true(in->complete);
	assert_int_equal(in->events, REF_EVENTS);
	assert_int_equal(in->overwritten, 10);
	assert_int_equal(in->torn, 3);
	assert_int_equal(in->torn_bytes, 112);
	assert_int_equal(in->dropped, 5);
	assert_true(in->first_ns == ref_calib.ns0 + 333);   /* (2000 - 1000) / 3 */
	assert_true(in->last_ns == ref_calib.ns0 + 6333);   /* (20000 - 1000) / 3 */
	assert_true(in->crashed);
	assert_int_equal(in->crash.signo, 11);
	assert_int_equal(in->crash.code, 1);
	assert_int_equal(in->crash.address, 0xdeadbeef);
	assert_int_equal(in->crash.tid, 200);
	assert_int_equal(in->crash.thread_index, 7);
	assert_string_equal(in->crash.signal_name, "SIGSEGV");

	assert_int_equal(ttlog_reader_thread_count(r), 2);
	const struct ttlog_thread_info *t0 = ttlog_reader_thread(r, 0);
	const struct ttlog_thread_info *t7 = ttlog_reader_thread(r, 1);
	assert_null(ttlog_reader_thread(r, 2));
	assert_int_equal(t0->index, 0);
	assert_int_equal(t0->tid, 100);
	assert_string_equal(t0->name, "main");
	assert_true(t0->exited);
	assert_false(t0->crashed);
	assert_int_equal(t0->events, 5);
	assert_int_equal(t0->overwritten, 10);
	assert_int_equal(t7->index, 7);
	assert_int_equal(t7->tid, 200);
	assert_string_equal(t7->name, "worker-7");
	assert_false(t7->exited);
	assert_true(t7->crashed);
	assert_int_equal(t7->events, 22);
	assert_int_equal(t7->torn_bytes, 64);

	/* Time order; the tie at 5000 goes to the lower thread index. */
	static const struct {
		uint32_t thread, site;
		uint64_t ticks;
	} order[] = {{0, 1, 2000}, {0, 2, 5000}, {7, 3, 5000}, {7, 2, 6000}};
	struct ttlog_event e;
	for (size_t i = 0; i < COUNT_OF(order); i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_int_equal(e.thread->index, order[i].thread);
		assert_int_equal(e.site->id, order[i].site);
		assert_int_equal(e.ticks, order[i].ticks);
		assert_true(e.time_ns == ref_calib.ns0 + (int64_t)(order[i].ticks - 1000) / 3);
		if (i == 0) {
			assert_int_equal(e.nargs, 0);
			assert_string_equal(e.site->format, "service started");
			assert_string_equal(e.site->file, "demo.c");
			assert_string_equal(e.site->function, "main");
			assert_string_equal(e.site->target, "app");
			assert_int_equal(e.site->level, TTLOG_LEVEL_INFO);
			assert_int_equal(e.site->line, 10);
		}
		if (i == 1) {
			assert_int_equal(e.nargs, 14);
			assert_string_equal(e.site->format, SITE2_FORMAT);
			assert_memory_equal(e.site->arg_types, all_types, 14);
			check_all(e.args, &values_a);
		}
		if (i == 2) {
			assert_int_equal(e.nargs, 3);
			assert_true(e.args[0].str_null);
			assert_null(e.args[0].str);
			assert_int_equal(e.args[0].str_len, 0);
			assert_true(e.args[1].str_truncated);
			assert_string_equal(e.args[1].str, "trunc");
			assert_int_equal(e.args[2].v.i, 7);
			assert_int_equal(e.site->level, TTLOG_LEVEL_WARN);
		}
		if (i == 3)
			check_all(e.args, &values_b);
	}
	for (uint32_t i = 0; i < 20; i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_int_equal(e.thread->index, 7);
		assert_int_equal(e.ticks, 7000 + 10 * i);
		/* Embedded NUL: str_len is authoritative, the copy is terminated. */
		assert_int_equal(e.args[0].str_len, sizeof nul_string - 1);
		assert_memory_equal(e.args[0].str, nul_string, sizeof nul_string);
		assert_int_equal(e.args[2].v.u, i);
	}
	static const uint64_t tail[] = {9000, 9500, 20000};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_int_equal(e.thread->index, 0);
		assert_int_equal(e.ticks, tail[i]);
		if (tail[i] == 9500)
			check_all(e.args, &values_c);
	}
	assert_int_equal(ttlog_reader_next(r, &e), 0);
	assert_int_equal(ttlog_reader_next(r, &e), 0);

	/* Rewind gives the same events again. */
	ttlog_reader_rewind(r);
	struct evc again[REF_EVENTS];
	assert_int_equal(collect(r, again, REF_EVENTS), REF_EVENTS);
	for (size_t i = 0; i < REF_EVENTS; i++) {
		assert_true(evc_equal(&again[i], &ref_events[i]));
		assert_true(again[i].time_ns ==
			    ref_calib.ns0 + (int64_t)(again[i].ticks - ref_calib.tick0) / 3);
	}
	ttlog_reader_close(r);

	/* The in-memory entry point reads the same. */
	assert_int_equal(ttlog__reader_open_memory(f.b.p, f.b.len, "mem", &r), TTLOG_OK);
	assert_string_equal(ttlog_reader_info(r)->path, "mem");
	assert_int_equal(collect(r, again, REF_EVENTS), REF_EVENTS);
	for (size_t i = 0; i < REF_EVENTS; i++)
		assert_true(evc_equal(&again[i], &ref_events[i]));
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_larger_header_and_unknown_chunk(void **state)
{
	(void)state;
	struct ref_options o = {0};
	o.header_size = 40;
	o.extra_chunk = 1;
	struct ref_file f;
	build_ref(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	struct evc got[REF_EVENTS];
	assert_int_equal(collect(r, got, REF_EVENTS), REF_EVENTS);
	for (size_t i = 0; i < REF_EVENTS; i++)
		assert_true(evc_equal(&got[i], &ref_events[i]));
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_unknown_required_chunk(void **state)
{
	(void)state;
	struct ref_options o = {0};
	o.extra_chunk = 2;
	struct ref_file f;
	build_ref(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_VERSION);
	assert_non_null(strstr(ttlog_reader_error(r), "required chunk XTRA"));
	check_error_form(r, st);
	assert_false(ttlog_reader_info(r)->complete);
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_version_2(void **state)
{
	(void)state;
	struct ref_options o = {0};
	o.version = 2;
	struct ref_file f;
	build_ref(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_VERSION);
	assert_non_null(strstr(ttlog_reader_error(r), "offset 8: expected format version 1, found 2"));
	struct ttlog_event e;
	assert_int_equal(ttlog_reader_next(r, &e), 0);
	ttlog_reader_close(r);

	/* An unknown incompatible flag is refused too. */
	f.b.p[TTLOG__FMT_FH_VERSION_OFF] = 1;
	f.b.p[TTLOG__FMT_FH_INCOMPAT_OFF] = 0x8; /* bits 0 to 2 are known (PACKED, ZSTD, BUNDLE) */
	set_u32(&f.b, TTLOG__FMT_FH_CRC_OFF, crc(f.b.p, 20));
	r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_VERSION);
	ttlog_reader_close(r);

	/* An unknown compatible flag is not. */
	f.b.p[TTLOG__FMT_FH_INCOMPAT_OFF] = 0;
	f.b.p[TTLOG__FMT_FH_COMPAT_OFF] = 0x80;
	set_u32(&f.b, TTLOG__FMT_FH_CRC_OFF, crc(f.b.p, 20));
	r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_thread_without_thrd(void **state)
{
	(void)state;
	struct ref_options o = {0};
	o.no_thrd7 = 1;
	struct ref_file f;
	build_ref(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	assert_int_equal(ttlog_reader_thread_count(r), 2);
	const struct ttlog_thread_info *t = ttlog_reader_thread(r, 1);
	assert_int_equal(t->index, 7);
	assert_int_equal(t->tid, 200); /* from the EVTS header */
	assert_string_equal(t->name, "");
	assert_int_equal(t->events, 22);
	assert_int_equal(t->overwritten, 0);
	assert_int_equal(t->torn, 0);
	assert_int_equal(ttlog_reader_info(r)->events, REF_EVENTS);
	ttlog_reader_close(r);
	free(f.b.p);
}

/* ---- Tests: hostile files ------------------------------------------------ */

static void test_every_truncation(void **state)
{
	(void)state;
	struct ref_file f;
	build_ref(&f, &plain);
	struct evc got[REF_EVENTS];
	for (size_t n = 0; n < f.b.len; n++) {
		int st;
		ttlog_reader *r = open_bytes(f.b.p, n, &st);
		assert_int_not_equal(st, TTLOG_OK);
		check_error_form(r, st);
		assert_false(ttlog_reader_info(r)->complete);
		/* Cut inside the last chunk or at a chunk boundary: the file was
		 * not finished. Cut inside the magic: still recognisably ours. */
		assert_int_equal(st, TTLOG_E_TRUNCATED);
		size_t k = collect(r, got, REF_EVENTS);
		assert_int_equal(k, ttlog_reader_info(r)->events);
		check_subsequence(got, k, 1);
		if (n >= f.off_end)
			assert_int_equal(k, REF_EVENTS);
		ttlog_reader_close(r);
	}
	free(f.b.p);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: a fixed seed makes the run reproducible. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void test_random_flips(void **state)
{
	(void)state;
	struct ref_file f;
	build_ref(&f, &plain);
	unsigned char *copy = malloc(f.b.len);
	assert_non_null(copy);
	struct evc got[REF_EVENTS];
	int outcomes[16] = {0};
	for (int i = 0; i < 3000; i++) {
		memcpy(copy, f.b.p, f.b.len);
		int flips = 1 + (int)(rng() % 4);
		for (int k = 0; k < flips; k++)
			copy[rng() % f.b.len] ^= (unsigned char)(1 + rng() % 255);
		int st;
		ttlog_reader *r = open_bytes(copy, f.b.len, &st);
		outcomes[st & 15]++;
		size_t k = collect(r, got, REF_EVENTS);
		assert_int_equal(k, ttlog_reader_info(r)->events);
		if (st == TTLOG_OK) {
			assert_null(ttlog_reader_error(r));
			assert_int_equal(k, REF_EVENTS);
		} else {
			check_error_form(r, st);
		}
		check_subsequence(got, k, 0);
		ttlog_reader_close(r);
	}
	/* Nearly every flip is found; the few that are not hit bytes no check
	 * covers (unknown chunk flag bits). */
	assert_true(outcomes[TTLOG_E_CORRUPT] > 2500);
	free(copy);
	free(f.b.p);
}

/* Makes every checksum right again, following the chunk lengths. */
static void repair(unsigned char *p, size_t n)
{
	struct wbuf b = {p, n, n};
	set_u32(&b, TTLOG__FMT_FH_CRC_OFF, crc(p, 20));
	size_t off = 24;
	while (n - off >= 16) {
		size_t len = (size_t)p[off + 8] | (size_t)p[off + 9] << 8 |
			     (size_t)p[off + 10] << 16 | (size_t)p[off + 11] << 24;
		if (len > n - off - 16)
			break;
		rechunk(&b, off);
		off += 16 + len;
	}
}

/* Flips behind valid checksums reach every check of the chunk contents;
 * the values may be wrong, but the reader's promises hold. */
static void test_random_flips_repaired(void **state)
{
	(void)state;
	struct ref_file f;
	build_ref(&f, &plain);
	unsigned char *copy = malloc(f.b.len);
	assert_non_null(copy);
	struct evc got[REF_EVENTS + 8];
	for (int i = 0; i < 3000; i++) {
		memcpy(copy, f.b.p, f.b.len);
		int flips = 1 + (int)(rng() % 4);
		for (int k = 0; k < flips; k++)
			copy[24 + rng() % (f.b.len - 24)] ^= (unsigned char)(1 + rng() % 255);
		repair(copy, f.b.len);
		ttlog_reader *r;
		int st = ttlog__reader_open_memory(copy, f.b.len, "flipped", &r);
		assert_non_null(r);
		if (st != TTLOG_OK)
			check_error_form(r, st);
		assert_int_equal(collect(r, got, COUNT_OF(got)), ttlog_reader_info(r)->events);
		ttlog_reader_close(r);
	}
	free(copy);
	free(f.b.p);
}

static void test_damaged_block(void **state)
{
	(void)state;
	struct ref_file f;
	build_ref(&f, &plain);
	f.b.p[f.off_evts_lz4 + 16 + 40 + 5] ^= 0x10; /* inside the LZ4 data */
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	char want[64];
	snprintf(want, sizeof want, ": offset %zu: expected chunk CRC 0x", f.off_evts_lz4);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	/* Only that block's events are lost. */
	struct evc got[REF_EVENTS];
	size_t k = collect(r, got, REF_EVENTS);
	assert_int_equal(k, REF_EVENTS - REF_LZ4_RECORDS);
	for (size_t i = 0; i < k; i++)
		assert_int_equal(got[i].thread, 0);
	check_subsequence(got, k, 0);
	assert_true(ttlog_reader_info(r)->complete);
	assert_true(ttlog_reader_info(r)->crashed);
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_damaged_length(void **state)
{
	(void)state;
	static const uint32_t lengths[] = {3, 0x10000, 0xffffff00u};
	for (size_t i = 0; i < COUNT_OF(lengths); i++) {
		struct ref_file f;
		build_ref(&f, &plain);
		size_t at = f.off_evts_lz4 + 8;
		uint32_t len = (uint32_t)f.b.p[at] | (uint32_t)f.b.p[at + 1] << 8;
		set_u32(&f.b, at, len + lengths[i]);
		int st;
		ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
		assert_int_equal(st, TTLOG_E_CORRUPT);
		check_error_form(r, st);
		/* The scan finds the next chunk: thread 0's last block, THRD, END. */
		struct evc got[REF_EVENTS];
		assert_int_equal(collect(r, got, REF_EVENTS), REF_EVENTS - REF_LZ4_RECORDS);
		assert_true(ttlog_reader_info(r)->complete);
		assert_string_equal(ttlog_reader_thread(r, 1)->name, "worker-7");
		ttlog_reader_close(r);
		free(f.b.p);
	}
}

static void test_not_ttlog(void **state)
{
	(void)state;
	static const char garbage[] = "\x7f" "ELF this is not a snapshot at all, but long enough";
	int st;
	ttlog_reader *r = open_bytes(garbage, sizeof garbage, &st);
	assert_int_equal(st, TTLOG_E_NOT_TTLOG);
	static const char want[] =
		"offset 0: expected the ttlog magic 89 54 54 4c 4f 47 0d 0a, found 7f 45 4c 46 20 74 68 69";
	assert_non_null(strstr(ttlog_reader_error(r), want));
	assert_int_equal(ttlog_reader_thread_count(r), 0);
	ttlog_reader_close(r);

	r = open_bytes("ab", 2, &st);
	assert_int_equal(st, TTLOG_E_NOT_TTLOG);
	ttlog_reader_close(r);
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	int st;
	ttlog_reader *r = open_bytes("", 0, &st);
	assert_int_equal(st, TTLOG_E_TRUNCATED);
	static const char want[] = "offset 0: expected a 24-byte file header, found 0 bytes";
	assert_non_null(strstr(ttlog_reader_error(r), want));
	struct ttlog_event e;
	assert_int_equal(ttlog_reader_next(r, &e), 0);
	assert_int_equal(ttlog_reader_info(r)->events, 0);
	ttlog_reader_close(r);

	r = NULL;
	st = ttlog_reader_open(tmp_path("does-not-exist.ttlog"), &r);
	assert_int_equal(st, TTLOG_E_OPEN);
	assert_non_null(r);
	assert_non_null(strstr(ttlog_reader_error(r), "does-not-exist.ttlog: cannot open: "));
	ttlog_reader_close(r);

	assert_int_equal(ttlog_reader_open(NULL, &r), TTLOG_E_INVALID);
	assert_null(r);
	assert_int_equal(ttlog_reader_open("x", NULL), TTLOG_E_INVALID);
	assert_int_equal(ttlog_reader_next(NULL, &e), 0);
	assert_null(ttlog_reader_error(NULL));
	assert_null(ttlog_reader_info(NULL));
	assert_int_equal(ttlog_reader_thread_count(NULL), 0);
	ttlog_reader_rewind(NULL);
	ttlog_reader_close(NULL);
}

/* A small file: HEAD with the given calibration, one site, one raw block. */
static void build_small(struct wbuf *b, const struct calib *c, const uint64_t *ticks, size_t n)
{
	memset(b, 0, sizeof *b);
	w_file_header(b, 1, 24);
	w_head(b, c);
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(b, 1);
	w_site(b, 1, TTLOG_LEVEL_INFO, NULL, 0, 1, "tick", "f");
	chunk_end(b, at);
	struct wbuf d = {0};
	for (size_t i = 0; i < n; i++)
		rec_plain(&d, ticks[i]);
	w_evts(b, 3, 33, (uint32_t)n, &d, ticks[0], ticks[n - 1], 0);
	free(d.p);
	w_thrd(b, 3, 33, 0, n, 0, 0, 0, "");
	w_end(b, n, 0, 0, 0, 1, 1, 1);
}

/* A block whose log records go back in time (docs/FORMAT.md 9.2: readers
 * take it): a whole read gives every record without a complaint; a read
 * with a time range, which relies on the order to end a thread's part and
 * to pass blocks over by their headers, reports the first record out of
 * order instead of losing what it cannot place without a word. */
static void test_disorder_ranged(void **state)
{
	(void)state;
	/* 3 ticks a ns from tick 1000: record 3 beyond the block's last. */
	const uint64_t ticks[] = {1300, 1600, 9100, 1900, 2200};
	struct wbuf b;
	build_small(&b, &ref_calib, ticks, COUNT_OF(ticks));
	int st;
	ttlog_reader *r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	struct ttlog_event e;
	size_t n = 0;
	while (ttlog_reader_next(r, &e))
		n++;
	assert_int_equal(n, COUNT_OF(ticks));
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	/* Up to tick 2000 (ns0 + 333): the third record ends the thread's
	 * part, the fourth is in the range but behind it. */
	ttlog_reader_set_range(r, INT64_MIN, ref_calib.ns0 + 333, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r);
	n = 0;
	while (ttlog_reader_next(r, &e))
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_CORRUPT);
	const char *err = ttlog_reader_error(r);
	assert_non_null(strstr(err, "expected ticks from 1300 to 2200 as the EVTS header states, "
				    "found a log record at 9100"));
	assert_non_null(strstr(err, "may miss events"));
	ttlog_reader_close(r);
	free(b.p);

	/* Going back in time inside the range: reported too. */
	const uint64_t back[] = {1300, 1900, 1600, 2200};
	build_small(&b, &ref_calib, back, COUNT_OF(back));
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	ttlog_reader_set_range(r, ref_calib.ns0, INT64_MAX, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_rewind(r);
	n = 0;
	while (ttlog_reader_next(r, &e))
		n++;
	assert_int_equal(n, COUNT_OF(back));
	assert_int_equal(ttlog_reader_status(r), TTLOG_E_CORRUPT);
	assert_non_null(strstr(ttlog_reader_error(r), "expected the log records of thread 3 in "
						       "time order, found ticks 1600 after 1900"));
	ttlog_reader_close(r);
	free(b.p);
}

static void test_calibration(void **state)
{
	(void)state;
	/* 3 ticks per ns; ticks far from both anchors and below tick0. */
	const uint64_t ticks[] = {1, 999, 1000, 1010, 1000 + 3000000000000000000ull,
				  UINT64_MAX};
	struct wbuf b;
	build_small(&b, &ref_calib, ticks, COUNT_OF(ticks));
	int st;
	ttlog_reader *r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	const int64_t ns0 = ref_calib.ns0;
	const int64_t want[] = {ns0 - 333, ns0 - 0, ns0, ns0 + 3, ns0 + 1000000000000000000ll,
				ns0 + 6148914691236516871ll}; /* (2^64 - 1 - 1000) / 3 */
	struct ttlog_event e;
	for (size_t i = 0; i < COUNT_OF(ticks); i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_int_equal(e.ticks, ticks[i]);
		assert_true(e.time_ns == want[i]);
	}
	ttlog_reader_close(r);
	free(b.p);

	/* A clock that runs at 1 GHz exactly, ticks 2^63 away: no overflow. */
	const struct calib ghz = {1ull << 62, (1ull << 62) + 1000000000, 0, 1000000000};
	const uint64_t far[] = {0, 1ull << 62, (1ull << 62) + 123456789};
	build_small(&b, &ghz, far, 3);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	const int64_t far_want[] = {-(1ll << 62), 0, 123456789};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_true(e.time_ns == far_want[i]);
	}
	ttlog_reader_close(r);
	free(b.p);

	/* Both ways of scaling the remainder: a calibration whose span times
	 * its nanoseconds fits 64 bits (1 s at 3 GHz) and one that does not
	 * (100 s at 3.3 GHz), against the exact quotient in 128 bits, at
	 * ticks on both sides of tick0 and beyond tick1. */
	const struct calib cals[] = {
		{5000, 5000 + 3000000000ull, 1700000000000000000ll, 1700000001000000000ll},
		{5000, 5000 + 330000000007ull, 1700000000000000000ll, 1700000100000000000ll},
	};
	for (size_t k = 0; k < COUNT_OF(cals); k++) {
		const struct calib *c = &cals[k];
		uint64_t ts[64];
		uint64_t x = 0x9e3779b97f4a7c15ull;
		for (size_t i = 0; i < COUNT_OF(ts); i++) /* put in order below */
			ts[i] = c->tick0 + tu_random(&x) % (4 * (c->tick1 - c->tick0));
		ts[0] = 0;
		ts[1] = c->tick0 - 1;
		for (size_t i = 1; i < COUNT_OF(ts); i++) /* the ticks of one thread ascend */
			for (size_t j = i; j > 0 && ts[j] < ts[j - 1]; j--) {
				uint64_t t = ts[j];
				ts[j] = ts[j - 1];
				ts[j - 1] = t;
			}
		build_small(&b, c, ts, COUNT_OF(ts));
		r = open_bytes(b.p, b.len, &st);
		assert_int_equal(st, TTLOG_OK);
		const unsigned __int128 span = c->tick1 - c->tick0, dns = (uint64_t)(c->ns1 - c->ns0);
		for (size_t i = 0; i < COUNT_OF(ts); i++) {
			assert_int_equal(ttlog_reader_next(r, &e), 1);
			int before = ts[i] < c->tick0;
			unsigned __int128 dt = before ? c->tick0 - ts[i] : ts[i] - c->tick0;
			int64_t off = (int64_t)(dt * dns / span);
			int64_t want_ns = before ? c->ns0 - off : c->ns0 + off;
			if (e.time_ns != want_ns)
				fail_msg("calibration %zu, ticks %llu: %lld ns, want %lld", k,
					 (unsigned long long)ts[i], (long long)e.time_ns, (long long)want_ns);
		}
		ttlog_reader_close(r);
		free(b.p);
	}

	/* Spans from 1 tick to above 2^63, clocks running forwards and
	 * backwards, ticks anywhere in 64 bits and at whole multiples of the
	 * span and one off them (where the quotient found through the span's
	 * reciprocal is one low and must be corrected), each against the
	 * 128-bit quotient, saturated as the reader saturates. */
	const struct calib wide[] = {
		{7, 8, 0, 1000000007},
		{7, 10, 1000, 0},
		{1ull << 40, (1ull << 40) + 4294967311ull, -5, 2147483642},
		{3, 3 + 0xfffffffffffbull, 1700000000000000000ll, 1700000000000000001ll},
		{11, 11 + (1ull << 63) + 12345, 0, 1000000007},
		{1, UINT64_MAX, INT64_MAX, INT64_MAX - 3},
	};
	for (size_t k = 0; k < COUNT_OF(wide); k++) {
		const struct calib *c = &wide[k];
		const uint64_t span = c->tick1 - c->tick0;
		uint64_t ts[96];
		size_t n = 0;
		uint64_t x = 0x2545f4914f6cdd1dull + k;
		for (uint64_t m = 1; m <= 4 && n + 3 <= COUNT_OF(ts); m++) {
			if (span > (UINT64_MAX - c->tick0) / m)
				break;
			ts[n++] = c->tick0 + m * span - 1;
			ts[n++] = c->tick0 + m * span;
			ts[n++] = c->tick0 + m * span + (m * span < UINT64_MAX - c->tick0);
		}
		ts[n++] = 0;
		ts[n++] = UINT64_MAX;
		while (n < COUNT_OF(ts))
			ts[n++] = tu_random(&x) >> (tu_random(&x) % 64);
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && ts[j] < ts[j - 1]; j--) {
				uint64_t t = ts[j];
				ts[j] = ts[j - 1];
				ts[j - 1] = t;
			}
		build_small(&b, c, ts, n);
		r = open_bytes(b.p, b.len, &st);
		assert_int_equal(st, TTLOG_OK);
		const int backwards = c->ns1 < c->ns0;
		const unsigned __int128 dns = backwards ? (uint64_t)c->ns0 - (uint64_t)c->ns1
							: (uint64_t)c->ns1 - (uint64_t)c->ns0;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(ttlog_reader_next(r, &e), 1);
			const int before = ts[i] < c->tick0;
			const uint64_t dt = before ? c->tick0 - ts[i] : ts[i] - c->tick0;
			const unsigned __int128 off = (unsigned __int128)dt * dns / span;
			const int down_side = before != backwards;
			int64_t want_ns;
			if (off > UINT64_MAX) {
				want_ns = down_side ? INT64_MIN : INT64_MAX;
			} else {
				__int128 v = (__int128)c->ns0 + (down_side ? -(__int128)off : (__int128)off);
				want_ns = v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
			}
			if (e.time_ns != want_ns)
				fail_msg("span %llu, ticks %llu: %lld ns, want %lld",
					 (unsigned long long)span, (unsigned long long)ts[i],
					 (long long)e.time_ns, (long long)want_ns);
		}
		ttlog_reader_close(r);
		free(b.p);
	}

	/* Times beyond the int64 range saturate. */
	const struct calib edge = {10, 11, INT64_MAX - 100, INT64_MAX - 99};
	const uint64_t edge_ticks[] = {0, 10, 200};
	build_small(&b, &edge, edge_ticks, 3);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	const int64_t edge_want[] = {INT64_MAX - 110, INT64_MAX - 100, INT64_MAX};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		assert_true(e.time_ns == edge_want[i]);
	}
	ttlog_reader_close(r);
	free(b.p);
	const struct calib down = {1ull << 63, (1ull << 63) + 1, INT64_MIN + 5, INT64_MIN + 1005};
	const uint64_t down_ticks[] = {0, 1ull << 63};
	build_small(&b, &down, down_ticks, 2);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	assert_int_equal(ttlog_reader_next(r, &e), 1);
	assert_true(e.time_ns == INT64_MIN);
	assert_int_equal(ttlog_reader_next(r, &e), 1);
	assert_true(e.time_ns == INT64_MIN + 5);
	ttlog_reader_close(r);
	free(b.p);

	/* tick1 <= tick0: a corrupt header, times fall back to the ticks. */
	const struct calib bad = {5000, 5000, 10, 20};
	build_small(&b, &bad, ticks, 4);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	assert_non_null(strstr(ttlog_reader_error(r), "tick1 > tick0"));
	assert_int_equal(ttlog_reader_next(r, &e), 1);
	assert_true(e.time_ns == 1);
	ttlog_reader_close(r);
	free(b.p);
}

static void test_bad_sites(void **state)
{
	(void)state;
	struct wbuf b = {0};
	w_file_header(&b, 1, 24);
	w_head(&b, &ref_calib);
	size_t chunk1 = chunk_begin(&b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(&b, 2);
	w_site(&b, 1, TTLOG_LEVEL_INFO, NULL, 0, 1, "first", "f");
	size_t dup = b.len;
	w_site(&b, 1, TTLOG_LEVEL_INFO, NULL, 0, 2, "second", "f");
	chunk_end(&b, chunk1);
	size_t chunk2 = chunk_begin(&b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(&b, 1);
	size_t bad = b.len;
	w_site(&b, 2, 9, NULL, 0, 1, "bad level", "f");
	chunk_end(&b, chunk2);
	struct wbuf d = {0};
	rec_plain(&d, 2000);
	rec_plain(&d, 3000);
	rec_end(&d, rec_begin(&d, 2, 4000));
	rec_plain(&d, 5000);
	w_evts(&b, 0, 1, 4, &d, 2000, 5000, 0);
	free(d.p);
	w_end(&b, 4, 0, 0, 0, 0, 3, 1);

	/* A duplicate site id: the first definition is kept. */
	int st;
	char want[128];
	ttlog_reader *r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	snprintf(want, sizeof want, "offset %zu: expected a new site id, found site 1 defined again",
		 dup);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	struct ttlog_event e;
	assert_int_equal(ttlog_reader_next(r, &e), 1);
	assert_string_equal(e.site->format, "first");
	assert_int_equal(ttlog_reader_next(r, &e), 1);
	assert_int_equal(ttlog_reader_next(r, &e), 0); /* the block stops at site 2 */
	assert_int_equal(ttlog_reader_info(r)->events, 2);
	ttlog_reader_close(r);

	/* Without the duplicate, the first problem is the level. */
	b.p[dup] = 9;
	rechunk(&b, chunk1);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	snprintf(want, sizeof want, "offset %zu: expected a site level 0..5, found 9", bad + 4);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	ttlog_reader_close(r);

	/* With a valid level everything reads. */
	b.p[bad + 4] = TTLOG_LEVEL_ERROR;
	rechunk(&b, chunk2);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	assert_int_equal(ttlog_reader_info(r)->events, 4);
	ttlog_reader_close(r);

	/* A type byte out of range, then an argument count over 16. */
	b.p[bad + 5] = 1;
	memmove(b.p + bad + 12 + 1, b.p + bad + 12, b.len - bad - 12);
	b.p[bad + 12] = 16;
	b.len += 1;
	set_u32(&b, chunk2 + 8, (uint32_t)(b.p[chunk2 + 8] + 1));
	rechunk(&b, chunk2);
	r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	snprintf(want, sizeof want, "offset %zu: expected an argument type 1..15, found 16",
		 bad + 12);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	ttlog_reader_close(r);
	free(b.p);
}

/* Three good records and one naming an unknown site, in one block. */
static void build_bad_record(struct wbuf *b, int lz4, size_t *evts, size_t *bad)
{
	memset(b, 0, sizeof *b);
	w_file_header(b, 1, 24);
	w_head(b, &ref_calib);
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(b, 1);
	w_site(b, 1, TTLOG_LEVEL_INFO, site3_types + 2, 1, 1, "n=%d", "f");
	chunk_end(b, at);
	struct wbuf d = {0};
	for (int i = 0; i < 3; i++) {
		size_t r = rec_begin(&d, 1, 2000 + (uint64_t)i);
		w_u32(&d, (uint32_t)i);
		rec_end(&d, r);
	}
	*bad = d.len;
	for (int i = 0; i < 8; i++)
		rec_end(&d, rec_begin(&d, 77, 2100)); /* an unknown site */
	*evts = w_evts(b, 0, 1, 11, &d, 2000, 2100, lz4);
	free(d.p);
	w_end(b, 3, 0, 0, 0, 0, 1, 1);
}

static void test_bad_record(void **state)
{
	(void)state;
	for (int lz4 = 0; lz4 < 2; lz4++) {
		struct wbuf b;
		size_t evts, bad;
		build_bad_record(&b, lz4, &evts, &bad);
		int st;
		ttlog_reader *r = open_bytes(b.p, b.len, &st);
		assert_int_equal(st, TTLOG_E_CORRUPT);
		char want[160];
		if (lz4)
			snprintf(want, sizeof want,
				 "offset %zu (LZ4 block, record at raw offset %zu): expected the id "
				 "of a site defined in a SITE chunk, found 77",
				 evts, bad);
		else
			snprintf(want, sizeof want,
				 "offset %zu: expected the id of a site defined in a SITE chunk, "
				 "found 77",
				 evts + 16 + 40 + bad);
		assert_non_null(strstr(ttlog_reader_error(r), want));
		/* The records before the bad one are kept. */
		assert_int_equal(ttlog_reader_info(r)->events, 3);
		struct evc got[4];
		assert_int_equal(collect(r, got, 4), 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(got[i].args[0].v.i, i);
		ttlog_reader_close(r);

		/* A lazy open takes the block header's count (11) at its word,
		 * so the END chunk's count (3) disagrees at once; reading the
		 * block gives the same 3 events. */
		const char *path = write_tmp("bad-record.ttlog", b.p, b.len);
		assert_int_equal(ttlog_reader_open_ex(path, TTLOG_READER_LAZY, &r), TTLOG_E_CORRUPT);
		assert_int_equal(ttlog_reader_info(r)->events, 11);
		assert_non_null(strstr(ttlog_reader_error(r), "END event count"));
		assert_int_equal(collect(r, got, 4), 3);
		for (int i = 0; i < 3; i++)
			assert_int_equal(got[i].args[0].v.i, i);
		ttlog_reader_close(r);
		unlink(path);
		free(b.p);
	}
}

static void test_short_record(void **state)
{
	(void)state;
	struct wbuf b = {0};
	w_file_header(&b, 1, 24);
	w_head(&b, &ref_calib);
	size_t at = chunk_begin(&b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(&b, 1);
	w_site(&b, 1, TTLOG_LEVEL_INFO, NULL, 0, 1, "x", "f");
	chunk_end(&b, at);
	struct wbuf d = {0};
	rec_plain(&d, 2000);
	w_u64(&d, 0); /* 8 bytes: not even a record header */
	size_t evts = w_evts(&b, 0, 1, 1, &d, 2000, 2000, 0);
	free(d.p);
	w_end(&b, 1, 0, 0, 0, 0, 1, 1);
	int st;
	ttlog_reader *r = open_bytes(b.p, b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	char want[128];
	snprintf(want, sizeof want,
		 "offset %zu: expected a 16-byte record header, found 8 bytes left in the block",
		 evts + 16 + 40 + 16);
	assert_non_null(strstr(ttlog_reader_error(r), want));
	assert_int_equal(ttlog_reader_info(r)->events, 1);
	ttlog_reader_close(r);
	free(b.p);
}

/* A file that would make a naive resynchronisation quadratic: after one bad
 * chunk, a header that claims the rest of the file every 16 bytes. */
static void test_resync_budget(void **state)
{
	(void)state;
	struct wbuf b = {0};
	w_file_header(&b, 1, 24);
	w_head(&b, &ref_calib);
	const size_t size = 4u << 20;
	while (b.len + 16 <= size) {
		w_u32(&b, TTLOG__FMT_CHUNK_EVTS);
		w_u32(&b, 0);
		w_u32(&b, (uint32_t)(size - b.len - 8 - 16 - 40));
		w_u32(&b, 0x12345678);
	}
	ttlog_reader *r;
	int st = ttlog__reader_open_memory(b.p, b.len, "many", &r);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	assert_non_null(strstr(ttlog_reader_error(r), "expected chunk CRC 0x12345678"));
	ttlog_reader_close(r);
	free(b.p);
}

/* More threads with compressed blocks than the decoded-block budget holds:
 * buffers are given up and blocks decompressed again, and nothing changes. */
static void test_many_threads(void **state)
{
	(void)state;
	enum { THREADS = 1100, PER_BLOCK = 62 };
	struct wbuf b = {0};
	w_file_header(&b, 1, 24);
	w_head(&b, &ref_calib);
	size_t at = chunk_begin(&b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(&b, 1);
	w_site(&b, 1, TTLOG_LEVEL_INFO, site3_types, 1, 1, "%s", "f");
	chunk_end(&b, at);
	static char text[1024];
	memset(text, 'a', sizeof text);
	struct wbuf d = {0};
	for (uint32_t t = 0; t < THREADS; t++) {
		d.len = 0;
		for (uint32_t i = 0; i < PER_BLOCK; i++) {
			size_t r = rec_begin(&d, 1, 1000000 + 10000 * (uint64_t)i + t);
			text[0] = (char)('A' + t % 26);
			text[1] = (char)('A' + i % 26);
			w_arg_str(&d, text, sizeof text, 0);
			rec_end(&d, r);
		}
		assert_true(d.len > 64000);
		w_evts(&b, t, t + 1, PER_BLOCK, &d, 1000000 + t, 1000000 + 10000 * (PER_BLOCK - 1) + t,
		       1);
	}
	free(d.p);
	w_end(&b, (uint64_t)THREADS * PER_BLOCK, 0, 0, 0, 0, 1, THREADS);
	assert_true(b.len * 16 < (size_t)THREADS * 64000); /* the budget is 64 MiB */

	ttlog_reader *r;
	int st = ttlog__reader_open_memory(b.p, b.len, "threads", &r);
	if (st != TTLOG_OK)
		fprintf(stderr, "%s\n", ttlog_reader_error(r));
	assert_int_equal(st, TTLOG_OK);
	/* Interleaved: each thread's records are 10000 ticks apart. */
	struct ttlog_event e;
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < PER_BLOCK; i++) {
			for (uint32_t t = 0; t < THREADS; t++) {
				assert_int_equal(ttlog_reader_next(r, &e), 1);
				assert_int_equal(e.thread->index, t);
				assert_int_equal(e.ticks, 1000000 + 10000 * (uint64_t)i + t);
				assert_int_equal(e.args[0].str_len, sizeof text);
				assert_int_equal(e.args[0].str[0], 'A' + t % 26);
				assert_int_equal(e.args[0].str[1], 'A' + i % 26);
			}
			if (pass == 1 && i == 2)
				break;
		}
		ttlog_reader_rewind(r);
	}
	ttlog_reader_close(r);
	free(b.p);
}

/* ---- SITX: fields of sites ------------------------------------------------ */

/*
 * A file whose one site, "n=%d", has three arguments; a SITX entry can name
 * arguments 1 and 2 as explicit fields "tag" and "count". The options make
 * the entry wrong in one way each.
 */
struct sitx_options {
	int none;            /* no SITX chunk: a file of ttlog 0.2 */
	int before_site;     /* the SITX chunk comes before the SITE chunk */
	uint32_t id;         /* 0: 1, the site's id */
	uint8_t kind;
	uint8_t reserved;
	uint16_t mask;       /* 0: 0x6 */
	int second;          /* a second entry for the same site, naming argument 1 "other" */
	int cut_name;        /* the last name claims 100 bytes, 3 are left */
	int short_count;     /* the count says one entry more than there is */
};

struct sitx_file {
	struct wbuf b;
	size_t entry, entry2;  /* file offsets of the SITX entries */
};

static const uint8_t sitx_types[3] = {TTLOG_ARG_I32, TTLOG_ARG_STR, TTLOG_ARG_U32};
static const char *const sitx_names[4] = {"first", "tag", "count", "ghost"};

static void w_sitx(struct sitx_file *f, const struct sitx_options *o)
{
	struct wbuf *b = &f->b;
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_SITX,
				o->kind != TTLOG__FMT_KIND_LOG ? TTLOG__FMT_CHUNK_REQUIRED : 0);
	w_u32(b, 1 + (o->second || o->short_count));
	f->entry = b->len;
	uint16_t mask = o->mask ? o->mask : 0x6;
	w_u32(b, o->id ? o->id : 1);
	w_u8(b, o->kind);
	w_u8(b, o->reserved);
	w_u16(b, mask);
	unsigned left = (unsigned)__builtin_popcount(mask);
	for (unsigned i = 0; i < 16; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (--left == 0 && o->cut_name) {
			w_u32(b, 100);
			w_bytes(b, "cou", 3);
		} else {
			w_str(b, sitx_names[i]);
		}
	}
	if (o->second) {
		f->entry2 = b->len;
		w_u32(b, 1);
		w_u8(b, TTLOG__FMT_KIND_LOG);
		w_u8(b, 0);
		w_u16(b, 0x2);
		w_str(b, "other");
	}
	chunk_end(b, at);
}

static void build_sitx(struct sitx_file *f, const struct sitx_options *o)
{
	struct wbuf *b = &f->b;
	memset(f, 0, sizeof *f);
	w_file_header(b, 1, 24);
	w_head(b, &ref_calib);
	if (!o->none && o->before_site)
		w_sitx(f, o);
	size_t at = chunk_begin(b, TTLOG__FMT_CHUNK_SITE, 0);
	w_u32(b, 1);
	w_site(b, 1, TTLOG_LEVEL_INFO, sitx_types, 3, 40, "n=%d", "fields");
	chunk_end(b, at);
	if (!o->none && !o->before_site)
		w_sitx(f, o);
	struct wbuf d = {0};
	size_t r = rec_begin(&d, 1, 2000);
	w_u32(&d, 5);
	w_arg_str(&d, "blue", 4, 0);
	w_u32(&d, 7);
	rec_end(&d, r);
	r = rec_begin(&d, 1, 3000);
	w_u32(&d, (uint32_t)-6);
	w_arg_str(&d, "", 0, TTLOG__STR_NULL);
	w_u32(&d, 8);
	rec_end(&d, r);
	w_evts(b, 0, 100, 2, &d, 2000, 3000, 0);
	free(d.p);
	w_thrd(b, 0, 100, 0, 2, 0, 0, 0, "main");
	w_end(b, 2, 0, 0, 0, 1, 1, 1);
}

/* Field i of the site is argument arg, named key, from source. */
static void check_site_field(const struct ttlog_site_info *s, unsigned i, const char *key,
			     unsigned arg, int source)
{
	assert_true(i < s->nfields);
	assert_string_equal(s->fields[i].key, key);
	assert_int_equal(s->fields[i].arg, arg);
	assert_int_equal(s->fields[i].source, source);
}

/* The two events of a sitx file, with the fields the SITX entry gives
 * (named) or the fields a site without one has. */
static void check_sitx_events(ttlog_reader *r, int named)
{
	static const int32_t n[2] = {5, -6};
	static const uint32_t count[2] = {7, 8};
	struct ttlog_event e;
	char text[64], want[32];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ttlog_reader_next(r, &e), 1);
		const struct ttlog_site_info *s = e.site;
		assert_int_equal(e.nfields, 3);
		assert_int_equal(s->nfields, 3);
		check_site_field(s, 0, "n", 0, TTLOG_FIELD_FORMAT);
		if (named) {
			assert_int_equal(s->explicit_args, 0x6);
			check_site_field(s, 1, "tag", 1, TTLOG_FIELD_EXPLICIT);
			check_site_field(s, 2, "count", 2, TTLOG_FIELD_EXPLICIT);
		} else {
			/* Arguments the format does not print: arg2, arg3. */
			assert_int_equal(s->explicit_args, 0);
			check_site_field(s, 1, "arg2", 1, TTLOG_FIELD_UNUSED);
			check_site_field(s, 2, "arg3", 2, TTLOG_FIELD_UNUSED);
		}
		for (unsigned k = 0; k < 3; k++) {
			assert_string_equal(e.fields[k].key, s->fields[k].key);
			assert_int_equal(e.fields[k].source, s->fields[k].source);
			assert_ptr_equal(e.fields[k].value, &e.args[k]);
		}
		assert_int_equal(e.fields[0].value->v.i, n[i]);
		if (i == 0)
			assert_string_equal(e.fields[1].value->str, "blue");
		else
			assert_true(e.fields[1].value->str_null);
		assert_int_equal(e.fields[2].value->v.u, count[i]);
		/* The message is the same either way: printf ignores extra
		 * arguments, and explicit ones are not passed. */
		ttlog_event_format(&e, text, sizeof text);
		snprintf(want, sizeof want, "n=%d", n[i]);
		assert_string_equal(text, want);
	}
	assert_int_equal(ttlog_reader_next(r, &e), 0);
}

static void test_sitx_fields(void **state)
{
	(void)state;
	struct sitx_file f;
	const struct sitx_options o = {0};
	build_sitx(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	if (st != TTLOG_OK)
		fprintf(stderr, "%s\n", ttlog_reader_error(r));
	assert_int_equal(st, TTLOG_OK);
	check_sitx_events(r, 1);
	ttlog_reader_close(r);

	/* Every truncation: no crash, the reader's promises hold, and the
	 * events that survive are whole. */
	struct evc got[2];
	for (size_t n = 0; n < f.b.len; n++) {
		r = open_bytes(f.b.p, n, &st);
		assert_int_equal(st, TTLOG_E_TRUNCATED);
		check_error_form(r, st);
		assert_int_equal(collect(r, got, 2), ttlog_reader_info(r)->events);
		ttlog_reader_close(r);
	}

	/* Flips behind valid checksums reach every SITX check. */
	unsigned char *copy = malloc(f.b.len);
	assert_non_null(copy);
	for (int i = 0; i < 2000; i++) {
		memcpy(copy, f.b.p, f.b.len);
		copy[24 + rng() % (f.b.len - 24)] ^= (unsigned char)(1 + rng() % 255);
		repair(copy, f.b.len);
		st = ttlog__reader_open_memory(copy, f.b.len, "flipped", &r);
		assert_non_null(r);
		if (st != TTLOG_OK)
			check_error_form(r, st);
		struct ttlog_event e;
		size_t k = 0;
		while (ttlog_reader_next(r, &e)) {
			/* fields: up to 16 named by the format, one per other
			 * argument, and contexts if a flip made a context site */
			assert_true(e.nfields <= 2 * TTLOG__FMT_MAX_ARGS + 64);
			for (unsigned j = 0; j < e.nfields; j++) {
				assert_non_null(e.fields[j].key);
				assert_non_null(e.fields[j].value);
				if (e.fields[j].source <= TTLOG_FIELD_UNUSED) /* an argument's field */
					assert_true(e.fields[j].value >= e.args &&
						    e.fields[j].value < e.args + e.nargs);
			}
			k++;
		}
		/* A flip may turn a site into one of another kind, whose
		 * records are not events. */
		assert_true(k <= ttlog_reader_info(r)->events);
		ttlog_reader_close(r);
	}
	free(copy);
	free(f.b.p);
}

/* A file with a bad SITX entry: its status, its message at its offset, and
 * the fields the site ends up with. */
static void check_bad_sitx(const struct sitx_options *o, int status, size_t field_off,
			   const char *what, int named)
{
	struct sitx_file f;
	build_sitx(&f, o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, status);
	check_error_form(r, st);
	char want[256];
	snprintf(want, sizeof want, "offset %zu: %s", (o->second ? f.entry2 : f.entry) + field_off,
		 what);
	if (!strstr(ttlog_reader_error(r), want))
		fail_msg("error \"%s\", expected one containing \"%s\"", ttlog_reader_error(r), want);
	check_sitx_events(r, named);
	ttlog_reader_close(r);
	free(f.b.p);
}

static void test_sitx_bad_entries(void **state)
{
	(void)state;
	struct sitx_options o;

	/* An id no SITE entry defined, or not yet. */
	o = (struct sitx_options){0};
	o.id = 9;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_ID_OFF,
		       "expected the id of a site defined by an earlier SITE entry, found 9", 0);
	o = (struct sitx_options){0};
	o.before_site = 1;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_ID_OFF,
		       "expected the id of a site defined by an earlier SITE entry, found 1", 0);

	/* A field bit at or above nargs. */
	o = (struct sitx_options){0};
	o.mask = 0xa;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_FIELDS_OFF,
		       "expected field bits for the 3 arguments of site 1, found 0x000a", 0);

	/* A second entry for the site: the first is kept. */
	o = (struct sitx_options){0};
	o.second = 1;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_ID_OFF,
		       "expected one SITX entry per site, found site 1 extended again", 1);

	/* Span kinds on a site whose arguments are not span ids: refused, and
	 * its records stay log events. */
	o = (struct sitx_options){0};
	o.kind = TTLOG__FMT_KIND_SPAN_BEGIN;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_KIND_OFF,
		       "expected the arguments of a span begin site, found site 1 with 3 arguments", 0);
	o = (struct sitx_options){0};
	o.kind = TTLOG__FMT_KIND_SPAN_END;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_KIND_OFF,
		       "expected the arguments of a span end site, found site 1 with 3 arguments", 0);
	o = (struct sitx_options){0};
	o.kind = TTLOG__FMT_KIND_SPAN_FIELD;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_KIND_OFF,
		       "expected the arguments of a span field site, found site 1 with 3 arguments", 0);

	/* A kind this reader does not know: a newer reader is needed. */
	o = (struct sitx_options){0};
	o.kind = TTLOG__FMT_KIND_MAX + 1;
	char what[128];
	snprintf(what, sizeof what, "expected a site kind this reader knows (0..%u), found %u",
		 (unsigned)TTLOG__FMT_KIND_MAX, (unsigned)TTLOG__FMT_KIND_MAX + 1);
	struct sitx_file f;
	build_sitx(&f, &o);
	int st;
	ttlog_reader *r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_VERSION);
	char want[256];
	snprintf(want, sizeof want, "offset %zu: %s", f.entry + TTLOG__FMT_SITX_KIND_OFF, what);
	if (!strstr(ttlog_reader_error(r), want))
		fail_msg("error \"%s\", expected one containing \"%s\"", ttlog_reader_error(r), want);
	/* Its records are not log calls: none is returned as an event. */
	struct ttlog_event e;
	size_t returned = 0;
	while (ttlog_reader_next(r, &e))
		returned++;
	assert_int_equal(ttlog_reader_info(r)->events, 0); /* events count what is returned */
	assert_int_equal(returned, 0);
	ttlog_reader_close(r);
	free(f.b.p);

	/* A name running past the payload: the entry is lost, its chunk
	 * damaged from there on. The name starts at the entry's last string. */
	o = (struct sitx_options){0};
	o.cut_name = 1;
	build_sitx(&f, &o);
	r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	snprintf(want, sizeof want,
		 "offset %zu: expected a field name string of 100 bytes, found 3 bytes left in the "
		 "SITX chunk",
		 f.entry + TTLOG__FMT_SITX_FIXED_SIZE + 4 + strlen("tag"));
	if (!strstr(ttlog_reader_error(r), want))
		fail_msg("error \"%s\", expected one containing \"%s\"", ttlog_reader_error(r), want);
	check_sitx_events(r, 0);
	ttlog_reader_close(r);
	free(f.b.p);

	/* A count one too high: the entry that is there still counts. */
	o = (struct sitx_options){0};
	o.short_count = 1;
	build_sitx(&f, &o);
	r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_E_CORRUPT);
	assert_non_null(strstr(ttlog_reader_error(r),
			       "expected 8 bytes of a SITX entry, found 0 left in the SITX chunk"));
	check_sitx_events(r, 1);
	ttlog_reader_close(r);
	free(f.b.p);

	/* A reserved byte that is not zero is reported, and the entry kept. */
	o = (struct sitx_options){0};
	o.reserved = 0x5;
	check_bad_sitx(&o, TTLOG_E_CORRUPT, TTLOG__FMT_SITX_RESERVED_OFF,
		       "expected a zero reserved field, found 0x05", 1);
}

/* Files written before SITX have the fields their formats name. */
static void test_no_sitx_format_fields(void **state)
{
	(void)state;
	struct sitx_file sf;
	const struct sitx_options none = {.none = 1};
	build_sitx(&sf, &none);
	int st;
	ttlog_reader *r = open_bytes(sf.b.p, sf.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	check_sitx_events(r, 0);
	ttlog_reader_close(r);
	free(sf.b.p);

	/* The reference file: site 1 names nothing, site 2 all 14 of its
	 * arguments, site 3 three. */
	struct ref_file f;
	build_ref(&f, &plain);
	r = open_bytes(f.b.p, f.b.len, &st);
	assert_int_equal(st, TTLOG_OK);
	static const char *const site2_keys[14] = {"b",   "c",   "i8",  "u8", "i16", "u16", "i32",
						   "u32", "i64", "u64", "f",  "ld",  "p",   "s"};
	static const char *const site3_keys[3] = {"a", "b", "n"};
	struct ttlog_event e;
	int seen[4] = {0};
	while (ttlog_reader_next(r, &e)) {
		const struct ttlog_site_info *s = e.site;
		assert_int_equal(s->explicit_args, 0);
		assert_int_equal(e.nfields, s->nfields);
		if (s->id == 1) {
			assert_int_equal(s->nfields, 0);
		} else if (s->id == 2) {
			assert_int_equal(s->nfields, 14);
			for (unsigned k = 0; k < 14; k++)
				check_site_field(s, k, site2_keys[k], k, TTLOG_FIELD_FORMAT);
		} else {
			assert_int_equal(s->id, 3);
			assert_int_equal(s->nfields, 3);
			for (unsigned k = 0; k < 3; k++)
				check_site_field(s, k, site3_keys[k], k, TTLOG_FIELD_FORMAT);
		}
		for (unsigned k = 0; k < e.nfields; k++) {
			assert_string_equal(e.fields[k].key, s->fields[k].key);
			assert_ptr_equal(e.fields[k].value, &e.args[s->fields[k].arg]);
		}
		/* The first event of site 2 carries values_a: s=hello. */
		if (s->id == 2 && !seen[2])
			assert_string_equal(e.fields[13].value->str, values_a.s);
		seen[s->id]++;
	}
	assert_int_equal(seen[1], 3);
	assert_int_equal(seen[2], 3);
	assert_int_equal(seen[3], 21);
	ttlog_reader_close(r);
	free(f.b.p);
}

/* ---- Corpus ---------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(p, 1, n, fp) != n || fclose(fp) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* The fuzz corpus: valid files in several shapes and a few damaged ones. */
static int write_corpus(const char *dir)
{
	int bad = 0;
	struct ref_file f;
	struct ref_options o = {0};
	build_ref(&f, &o);
	bad |= write_file(dir, "valid.ttlog", f.b.p, f.b.len);
	bad |= write_file(dir, "cut-in-lz4.ttlog", f.b.p, f.off_evts_lz4 + 40);
	bad |= write_file(dir, "cut-before-end.ttlog", f.b.p, f.off_end);
	f.b.p[f.off_evts_lz4 + 16 + 40 + 5] ^= 0x10;
	bad |= write_file(dir, "bad-lz4-crc.ttlog", f.b.p, f.b.len);
	f.b.p[f.off_evts_lz4 + 16 + 40 + 5] ^= 0x10;
	f.b.p[f.off_evts_lz4 + 9] ^= 0x01;
	bad |= write_file(dir, "bad-length.ttlog", f.b.p, f.b.len);
	free(f.b.p);

	o.header_size = 32;
	o.extra_chunk = 1;
	o.no_thrd7 = 1;
	build_ref(&f, &o);
	bad |= write_file(dir, "extras.ttlog", f.b.p, f.b.len);
	free(f.b.p);

	o = (struct ref_options){0};
	o.extra_chunk = 2;
	build_ref(&f, &o);
	bad |= write_file(dir, "required-chunk.ttlog", f.b.p, f.b.len);
	free(f.b.p);

	struct wbuf b;
	const uint64_t ticks[] = {1, 1000, 1000 + 3000000000000000000ull};
	build_small(&b, &ref_calib, ticks, 3);
	bad |= write_file(dir, "small.ttlog", b.p, b.len);
	free(b.p);
	return bad;
}

/* ---- Setup ---------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	const char *env = getenv("TTLOG_TEST_TMP");
	if (env && *env) {
		snprintf(tmp_dir, sizeof tmp_dir, "%s", env);
	} else {
		snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ttlog-test-reader-XXXXXX");
		if (!mkdtemp(tmp_dir))
			return -1;
		tmp_made = 1;
	}
	/* The reference events, read once; test_valid_file checks them. */
	struct ref_file f;
	build_ref(&f, &plain);
	ttlog_reader *r;
	if (ttlog__reader_open_memory(f.b.p, f.b.len, "ref", &r) != TTLOG_OK)
		return -1;
	size_t n = collect(r, ref_events, REF_EVENTS);
	ttlog_reader_close(r);
	free(f.b.p);
	return n == REF_EVENTS ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(tmp_path("t.ttlog"));
	if (tmp_made)
		rmdir(tmp_dir);
	return 0;
}

/* CRC-32C (the hardware instruction or the tables, whichever this machine
 * uses) against a bit-at-a-time reference, at every length and alignment
 * up to 64 bytes, and chained over two calls. */
static uint32_t crc_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(ttlog__crc32c(0, "123456789", 9), 0xE3069283u);
	unsigned char buf[80];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 64; n++) {
			uint32_t want = crc_bitwise(0, buf + off, n);
			assert_int_equal(ttlog__crc32c(0, buf + off, n), want);
			size_t half = n / 3;
			assert_int_equal(ttlog__crc32c(ttlog__crc32c(0, buf + off, half), buf + off + half,
						       n - half),
					 want);
		}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
		return write_corpus(argv[2]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_valid_file),
		cmocka_unit_test(test_larger_header_and_unknown_chunk),
		cmocka_unit_test(test_unknown_required_chunk),
		cmocka_unit_test(test_version_2),
		cmocka_unit_test(test_thread_without_thrd),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_flips),
		cmocka_unit_test(test_random_flips_repaired),
		cmocka_unit_test(test_damaged_block),
		cmocka_unit_test(test_damaged_length),
		cmocka_unit_test(test_not_ttlog),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_calibration),
		cmocka_unit_test(test_disorder_ranged),
		cmocka_unit_test(test_bad_sites),
		cmocka_unit_test(test_bad_record),
		cmocka_unit_test(test_short_record),
		cmocka_unit_test(test_resync_budget),
		cmocka_unit_test(test_many_threads),
		cmocka_unit_test(test_sitx_fields),
		cmocka_unit_test(test_sitx_bad_entries),
		cmocka_unit_test(test_no_sitx_format_fields),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
