/* SPDX-License-Identifier: MIT */
/*
 * test_pack.c - EVTS codec 2 (docs/FORMAT.md section 9.5): the encoder
 * (snapshot/pack.c) and the decoder (reader/unpack.c) round-trip random
 * records of every argument type byte for byte, escapes included; the
 * benchmark's record shape packs to at most 8 bytes; and damaged data
 * (truncated anywhere, bad varints, lengths past the end, unknown sites,
 * references to records that are not there, random flips) gives an error
 * that keeps exactly the whole records before the damage. Buffers are
 * allocated to their exact sizes, so an ASan build catches any read or
 * write out of bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/internal.h"
#include "reader/unpack.h"
#include "snapshot/pack.h"
#include "ttlog.h"

/* The sites: id, types. Ids 44 and 300 share slot 44; site 9 is one the
 * encoder is not told about (its records are escaped), 1000 one that no
 * side knows. */
struct tsite {
	uint32_t id;
	unsigned nargs;
	uint8_t types[16];
	int encoder_knows;
};

static const struct tsite sites[] = {
	{1, 3, {TTLOG_ARG_I32, TTLOG_ARG_F64, TTLOG_ARG_STR}, 1},
	{2, 0, {0}, 1},
	{3, 14, {TTLOG_ARG_BOOL, TTLOG_ARG_CHAR, TTLOG_ARG_I8, TTLOG_ARG_U8, TTLOG_ARG_I16,
		 TTLOG_ARG_U16, TTLOG_ARG_I32, TTLOG_ARG_U32, TTLOG_ARG_I64, TTLOG_ARG_U64,
		 TTLOG_ARG_F64, TTLOG_ARG_LDBL, TTLOG_ARG_PTR, TTLOG_ARG_STR}, 1},
	{44, 2, {TTLOG_ARG_STR, TTLOG_ARG_STR}, 1},
	{300, 2, {TTLOG_ARG_U64, TTLOG_ARG_STR}, 1},
	{7, 16, {TTLOG_ARG_STR, TTLOG_ARG_F64, TTLOG_ARG_I64, TTLOG_ARG_STR, TTLOG_ARG_U8,
		 TTLOG_ARG_STR, TTLOG_ARG_F64, TTLOG_ARG_PTR, TTLOG_ARG_I16, TTLOG_ARG_STR,
		 TTLOG_ARG_U32, TTLOG_ARG_LDBL, TTLOG_ARG_STR, TTLOG_ARG_I8, TTLOG_ARG_STR,
		 TTLOG_ARG_U64}, 1},
	{9, 2, {TTLOG_ARG_I32, TTLOG_ARG_STR}, 0},
	{70000, 1, {TTLOG_ARG_U16}, 1},
	/* An exact long double: a type the encoder keeps raw (an escape). */
	{71, 3, {TTLOG_ARG_I32, TTLOG_ARG_LD80, TTLOG_ARG_STR}, 1},
};
#define NSITES (sizeof sites / sizeof sites[0])

static const struct tsite *find_site(uint32_t id)
{
	for (size_t i = 0; i < NSITES; i++)
		if (sites[i].id == id)
			return &sites[i];
	return NULL;
}

static const uint8_t *decoder_types(void *ctx, uint32_t id, unsigned *nargs)
{
	(void)ctx;
	const struct tsite *s = find_site(id);
	if (!s)
		return NULL;
	*nargs = s->nargs;
	return s->types;
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *const pool[] = {"", "/api/v1/orders", "x", "a somewhat longer path string",
				   "/api/v1/orders/12345/items"};

/* Appends one record of site s to raw at *len; counters make runs. */
static void make_record(unsigned char *raw, size_t *len, const struct tsite *s, uint64_t ticks,
			uint64_t seq)
{
	unsigned char *r = raw + *len;
	size_t pos = 16;
	for (unsigned i = 0; i < s->nargs; i++) {
		unsigned char *q = r + pos;
		uint64_t v = rnd() % 4 ? seq * (i + 1) : rnd(); /* runs and noise */
		if (rnd() % 8 == 0)
			v = (uint64_t)0 - v; /* negatives */
		switch (s->types[i]) {
		case TTLOG_ARG_BOOL: q[0] = v & 1; pos += 1; break;
		case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: q[0] = (unsigned char)v; pos += 1; break;
		case TTLOG_ARG_I16: case TTLOG_ARG_U16: ttlog__put_u16(q, (uint16_t)v); pos += 2; break;
		case TTLOG_ARG_I32: case TTLOG_ARG_U32: ttlog__put_u32(q, (uint32_t)v); pos += 4; break;
		case TTLOG_ARG_F64: case TTLOG_ARG_LDBL: {
			double d;
			switch (rnd() % 5) {
			case 0: d = (double)seq * 0.5; break;
			case 1: d = (double)(int64_t)v / 7.0; break;
			case 2: d = -0.0; break;
			case 3: d = 1e300 * (double)(seq % 3); break;
			default: d = 0; memcpy(&d, &v, 8); break; /* any bits, NaNs too */
			}
			uint64_t b;
			memcpy(&b, &d, 8);
			ttlog__put_u64(q, b);
			pos += 8;
			break;
		}
		case TTLOG_ARG_LD80:
			ttlog__put_u64(q, v);
			ttlog__put_u16(q + 8, (uint16_t)rnd());
			pos += 10;
			break;
		case TTLOG_ARG_STR: {
			uint32_t word, n;
			unsigned pick = (unsigned)(rnd() % 10);
			if (pick == 0) {
				word = TTLOG__STR_NULL;
				n = 0;
			} else if (pick == 1) {
				n = (uint32_t)(rnd() % 200);
				for (uint32_t k = 0; k < n; k++)
					q[4 + k] = (unsigned char)(1 + rnd() % 255);
				word = n | (rnd() % 2 ? TTLOG__STR_TRUNCATED : 0);
			} else {
				const char *p = pool[pick % 5];
				n = (uint32_t)strlen(p);
				memcpy(q + 4, p, n);
				word = n;
			}
			ttlog__put_u32(q, word);
			pos += 4 + n;
			break;
		}
		default: ttlog__put_u64(q, v); pos += 8; break;
		}
	}
	size_t size = (pos + 7) & ~(size_t)7;
	memset(r + pos, 0, size - pos);
	ttlog__put_u32(r, (uint32_t)size);
	ttlog__put_u32(r + 4, s->id);
	ttlog__put_u64(r + 8, ticks);
	*len += size;
}

/* The strings of record r (site s) whose word says TRUNCATED. */
static uint32_t count_cut(const unsigned char *r, const struct tsite *s)
{
	uint32_t cut = 0;
	size_t pos = 16;
	for (unsigned i = 0; i < s->nargs; i++) {
		switch (s->types[i]) {
		case TTLOG_ARG_BOOL: case TTLOG_ARG_CHAR: case TTLOG_ARG_I8: case TTLOG_ARG_U8: pos += 1; break;
		case TTLOG_ARG_I16: case TTLOG_ARG_U16: pos += 2; break;
		case TTLOG_ARG_I32: case TTLOG_ARG_U32: pos += 4; break;
		case TTLOG_ARG_STR: {
			uint32_t word = ttlog__get_u32(r + pos);
			cut += (word & TTLOG__STR_TRUNCATED) != 0;
			pos += 4 + (word & TTLOG__STR_LEN_MASK);
			break;
		}
		default: pos += 8; break;
		}
	}
	return cut;
}

struct block {
	unsigned char *raw;  /* raw_size bytes of records */
	size_t raw_size;
	uint32_t count;
	unsigned char *data; /* the packed data */
	size_t len;
};

static struct ttlog__pack pk;
static struct ttlog__unpack_state ust;

/* Packs raw the way the emitter does, record by record. */
static void pack_block(struct block *b)
{
	size_t cap = TTLOG__FMT_PK_BOUND(b->raw_size) + 16 * TTLOG__FMT_PK_VARINT_MAX + 16;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	ttlog__pack_reset(&pk);
	size_t len = 0;
	b->count = 0;
	for (size_t pos = 0; pos < b->raw_size;) {
		uint32_t size = ttlog__get_u32(b->raw + pos);
		const struct tsite *s = find_site(ttlog__get_u32(b->raw + pos + 4));
		const uint8_t *ty = s && s->encoder_knows ? s->types : NULL;
		uint32_t cut;
		size_t n = ttlog__pack_record(&pk, out + len, b->raw + pos, size, ty, s ? s->nargs : 0,
					      &cut);
		assert_true(n <= (size_t)size + 4);
		/* Typed: the strings cut are counted; escaped: not looked at. */
		if (!ty)
			assert_int_equal(cut, TTLOG__PACK_ESCAPED);
		else if (cut != TTLOG__PACK_ESCAPED)
			assert_int_equal(cut, count_cut(b->raw + pos, s));
		len += n;
		pos += size;
		b->count++;
	}
	assert_true(len <= TTLOG__FMT_PK_BOUND(b->raw_size));
	b->data = malloc(len ? len : 1);
	memcpy(b->data, out, len);
	b->len = len;
	free(out);
}

/* A random block of up to 64 KiB. */
static void random_block(struct block *b, size_t target)
{
	b->raw = malloc(TTLOG__FMT_MAX_BLOCK_RAW);
	b->raw_size = 0;
	uint64_t ticks = rnd() >> 8;
	uint64_t seq = 0;
	while (b->raw_size + 16 * 12 + 16 * 200 < target) {
		const struct tsite *s = &sites[rnd() % NSITES];
		size_t before = b->raw_size;
		if (rnd() % 50 == 0) {
			/* A site no side knows: stored raw. */
			struct tsite u = sites[0];
			u.id = 1000;
			make_record(b->raw, &b->raw_size, &u, ticks, seq);
		} else {
			make_record(b->raw, &b->raw_size, s, ticks, seq);
		}
		assert_true(b->raw_size > before);
		ticks += rnd() % 8 ? rnd() % 500 : (uint64_t)0 - rnd() % 1000; /* backwards too */
		seq++;
	}
	pack_block(b);
}

static void free_block(struct block *b)
{
	free(b->raw);
	free(b->data);
}

/* Decodes data[0..len) into a buffer of exactly raw_size bytes. */
static int decode(const unsigned char *data, size_t len, size_t raw_size, unsigned char **outp,
		  struct ttlog__unpacked *res)
{
	unsigned char *in = malloc(len ? len : 1);
	memcpy(in, data, len);
	unsigned char *out = malloc(raw_size ? raw_size : 1);
	int ok = ttlog__reader_unpack(&ust, in, len, out, raw_size, decoder_types, NULL, res);
	free(in);
	*outp = out;
	return ok;
}

static void test_round_trip(void **state)
{
	(void)state;
	for (int round = 0; round < 60; round++) {
		struct block b;
		random_block(&b, round % 3 ? TTLOG__FMT_MAX_BLOCK_RAW : 2000 + (size_t)round * 100);
		unsigned char *out;
		struct ttlog__unpacked res;
		int ok = decode(b.data, b.len, b.raw_size, &out, &res);
		if (!ok)
			fail_msg("round %d: %s at %zu", round, res.why, res.err_off);
		assert_int_equal(res.records, b.count);
		assert_int_equal(res.out_len, b.raw_size);
		assert_memory_equal(out, b.raw, b.raw_size);
		free(out);
		free_block(&b);
	}
}

/* TTLOG_INFO("request id=%d latency=%f path=%s", i, i * 0.5, path): at most
 * 8 bytes a record once the block is under way. */
static void test_benchmark_shape(void **state)
{
	(void)state;
	struct block b;
	b.raw = malloc(TTLOG__FMT_MAX_BLOCK_RAW);
	b.raw_size = 0;
	uint64_t ticks = 123456789012345u;
	for (int i = 1000000; b.raw_size + 48 <= TTLOG__FMT_MAX_BLOCK_RAW; i++) {
		unsigned char *r = b.raw + b.raw_size;
		memset(r, 0, 48);
		ttlog__put_u32(r, 48);
		ttlog__put_u32(r + 4, 1);
		ttlog__put_u64(r + 8, ticks);
		ttlog__put_u32(r + 16, (uint32_t)i);
		double d = i * 0.5;
		memcpy(r + 20, &d, 8);
		ttlog__put_u32(r + 28, 14);
		memcpy(r + 32, "/api/v1/orders", 14);
		b.raw_size += 48;
		ticks += 200 + (uint64_t)(i % 7) * 30; /* a few hundred ticks apart */
	}
	pack_block(&b);
	assert_true(b.len <= 8 * (size_t)b.count);
	unsigned char *out;
	struct ttlog__unpacked res;
	assert_true(decode(b.data, b.len, b.raw_size, &out, &res));
	assert_memory_equal(out, b.raw, b.raw_size);
	free(out);
	free_block(&b);
}

/* The example of docs/FORMAT.md 9.5.5, byte for byte both ways. */
static void test_format_example(void **state)
{
	(void)state;
	static const unsigned char expect[] = {0x00, 0x01, 0xd0, 0x0f, 0x0e, 0x62, 0x0c, 0x40, 0x03,
					       0x61, 0x62, 0x03, 0xf4, 0x03, 0x02, 0x61, 0x1c};
	struct block b;
	b.raw = calloc(1, 80);
	const double d[2] = {3.5, 4.0};
	for (int k = 0; k < 2; k++) {
		unsigned char *r = b.raw + 40 * k;
		ttlog__put_u32(r, 40);
		ttlog__put_u32(r + 4, 1);
		ttlog__put_u64(r + 8, k ? 1250 : 1000);
		ttlog__put_u32(r + 16, (uint32_t)(7 + k));
		memcpy(r + 20, &d[k], 8);
		ttlog__put_u32(r + 28, 2);
		memcpy(r + 32, "ab", 2);
	}
	b.raw_size = 80;
	pack_block(&b);
	assert_int_equal(b.len, sizeof expect);
	assert_memory_equal(b.data, expect, sizeof expect);
	unsigned char *out;
	struct ttlog__unpacked res;
	assert_true(decode(expect, sizeof expect, 80, &out, &res));
	assert_memory_equal(out, b.raw, 80);
	free(out);
	free_block(&b);
}

/* The records of raw whose sizes add up to len: whole ones only. */
static uint32_t records_in(const unsigned char *raw, size_t len)
{
	uint32_t n = 0;
	for (size_t pos = 0; pos < len; n++)
		pos += ttlog__get_u32(raw + pos);
	return n;
}

static void test_truncated(void **state)
{
	(void)state;
	struct block b;
	random_block(&b, 6000);
	for (size_t cut = 0; cut < b.len; cut++) {
		unsigned char *out;
		struct ttlog__unpacked res;
		assert_false(decode(b.data, cut, b.raw_size, &out, &res));
		assert_true(res.why[0] != 0);
		assert_true(res.err_off <= cut);
		assert_true(res.out_len < b.raw_size);
		/* What was kept is exactly the first whole records. */
		assert_memory_equal(out, b.raw, res.out_len);
		assert_int_equal(res.records, records_in(b.raw, res.out_len));
		free(out);
	}
	/* raw_size smaller or larger than the data decodes to */
	unsigned char *out;
	struct ttlog__unpacked res;
	assert_false(decode(b.data, b.len, b.raw_size - 8, &out, &res));
	assert_memory_equal(out, b.raw, res.out_len);
	free(out);
	assert_false(decode(b.data, b.len, b.raw_size + 8, &out, &res));
	assert_int_equal(res.out_len, b.raw_size);
	assert_non_null(strstr(res.why, "raw_size"));
	free(out);
	free_block(&b);
}

static void test_flips(void **state)
{
	(void)state;
	struct block b;
	random_block(&b, 8000);
	for (int k = 0; k < 4000; k++) {
		unsigned char *d = malloc(b.len);
		memcpy(d, b.data, b.len);
		for (int f = 0; f < 1 + k % 3; f++)
			d[rnd() % b.len] ^= (unsigned char)(1u << (rnd() % 8));
		unsigned char *out;
		struct ttlog__unpacked res;
		if (!decode(d, b.len, b.raw_size, &out, &res)) {
			assert_true(res.why[0] != 0);
			assert_true(res.out_len < b.raw_size);
			assert_true(res.err_off <= b.len);
		}
		free(out);
		free(d);
	}
	free_block(&b);
}

/* One hand-made block: expects failure with `what` in the message after
 * `keep` records. */
static void expect_bad(const unsigned char *data, size_t len, size_t raw_size, uint32_t keep,
		       const char *what)
{
	unsigned char *out;
	struct ttlog__unpacked res;
	assert_false(decode(data, len, raw_size, &out, &res));
	if (!strstr(res.why, what))
		fail_msg("expected '%s' in: %s", what, res.why);
	assert_int_equal(res.records, keep);
	free(out);
}

static void test_hand_made(void **state)
{
	(void)state;
	/* A good record of site 2 (no arguments): header 0, id 2, ticks 5. */
	const unsigned char good[] = {0x00, 0x02, 0x0a};
	unsigned char *out;
	struct ttlog__unpacked res;
	assert_true(decode(good, sizeof good, 16, &out, &res));
	assert_int_equal(ttlog__get_u32(out), 16);
	assert_int_equal(ttlog__get_u32(out + 4), 2);
	assert_int_equal(ttlog__get_u64(out + 8), 5);
	free(out);

	/* Bad varints: 11 bytes, and a 10th byte past 64 bits. */
	const unsigned char long_id[] = {0x00, 0x02, 0x0a, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0x01};
	expect_bad(long_id, sizeof long_id, 32, 1, "site id");
	const unsigned char wide_ticks[] = {0x00, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0x02};
	expect_bad(wide_ticks, sizeof wide_ticks, 16, 0, "ticks delta");
	const unsigned char big_id[] = {0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
	expect_bad(big_id, sizeof big_id, 16, 0, "site id");
	/* Unknown site, site 0. */
	const unsigned char unknown[] = {0x00, 0x02, 0x0a, 0x00, 0xe8, 0x07, 0x00};
	expect_bad(unknown, sizeof unknown, 32, 1, "site defined");
	const unsigned char zero[] = {0x00, 0x00, 0x00};
	expect_bad(zero, sizeof zero, 16, 0, "site id");
	/* Unknown header bits; an escape with other bits. */
	const unsigned char hbits[] = {0x04, 0x02, 0x00};
	expect_bad(hbits, sizeof hbits, 16, 0, "header byte");
	const unsigned char esc_bits[] = {0x81, 0x10};
	expect_bad(esc_bits, sizeof esc_bits, 16, 0, "escape");
	/* Same site / same strings with nothing before. */
	const unsigned char same_first[] = {0x01, 0x00};
	expect_bad(same_first, sizeof same_first, 16, 0, "repeats its site");
	const unsigned char strs_first[] = {0x02, 0x2c, 0x00};
	expect_bad(strs_first, sizeof strs_first, 16, 0, "repeated strings");
	/* A string that repeats in a record whose slot is empty. */
	const unsigned char str_repeat[] = {0x00, 0x2c, 0x00, 0x00, 0x00};
	expect_bad(str_repeat, sizeof str_repeat, 64, 0, "found a repeat");
	/* Lengths past the end: string bytes past the data, a string past
	 * raw_size, an escape past the data and past raw_size. */
	const unsigned char str_data[] = {0x00, 0x2c, 0x00, 0x0b, 'a', 'b'};
	expect_bad(str_data, sizeof str_data, 64, 0, "data left");
	const unsigned char str_raw[] = {0x00, 0x2c, 0x00, 0x81, 0x01, 'a'};
	expect_bad(str_raw, sizeof str_raw, 64, 0, "within");
	const unsigned char esc_data[] = {0x80, 0x18, 1, 2, 3};
	expect_bad(esc_data, sizeof esc_data, 24, 0, "data left");
	const unsigned char esc_raw[] = {0x80, 0x20};
	expect_bad(esc_raw, sizeof esc_raw, 24, 0, "escaped record");
	const unsigned char esc_odd[] = {0x80, 0x11};
	expect_bad(esc_odd, sizeof esc_odd, 24, 0, "multiple of 8");
	/* A double's control byte: more than 8 bytes, bytes past the data. */
	const unsigned char ctl[] = {0x00, 0x01, 0x00, 0x02, 0x75};
	expect_bad(ctl, sizeof ctl, 48, 0, "control byte");
	const unsigned char ctl_short[] = {0x00, 0x01, 0x00, 0x02, 0x04, 1, 2};
	expect_bad(ctl_short, sizeof ctl_short, 48, 0, "data left");
	/* A record larger than raw_size. */
	expect_bad(good, sizeof good, 8, 0, "record header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_benchmark_shape),
		cmocka_unit_test(test_truncated),  cmocka_unit_test(test_flips),
		cmocka_unit_test(test_hand_made),  cmocka_unit_test(test_format_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
