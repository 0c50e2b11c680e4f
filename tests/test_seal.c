/* SPDX-License-Identifier: MIT */
/*
 * test_seal.c - the writer's side of encryption at rest
 * (src/snapshot/seal.c, FORMAT.md section 21): the two libsodium facts the
 * crash path relies on (init_pull on a header gives the state init_push
 * makes with it; the sealed box built from a derived ephemeral key opens
 * with crypto_box_seal_open), a container written through an fdbuf and
 * decrypted here message by message, each file's keys new (the chain moves
 * on), and an unseeded chain refused.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/internal.h"
#include "common/sigsafe.h"
#include "format/sealed.h"
#include "snapshot/seal.h"
#include "ttlog.h"

static unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	crypto_box_keypair(pk, sk);
	FILE *f = fopen("test.pub", "w");
	if (!f)
		return -1;
	fprintf(f, "%s ", TTLOG__SEAL_PUBLIC_WORD);
	for (size_t i = 0; i < sizeof pk; i++)
		fprintf(f, "%02x", pk[i]);
	fprintf(f, "\n");
	fclose(f);
	char err[256];
	if (ttlog__seal_configure("test.pub", err, sizeof err) != TTLOG_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/* The state init_pull() sets from a header is the one init_push() set
 * when it chose that header: both encrypt a message to the same bytes. */
static void test_init_pull_is_init_push(void **state)
{
	(void)state;
	unsigned char key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	crypto_secretstream_xchacha20poly1305_state a, b;
	randombytes_buf(key, sizeof key);
	crypto_secretstream_xchacha20poly1305_init_push(&a, header, key);
	crypto_secretstream_xchacha20poly1305_init_pull(&b, header, key);
	const unsigned char msg[] = "the same state, the same ciphertext";
	unsigned char ca[sizeof msg + crypto_secretstream_xchacha20poly1305_ABYTES];
	unsigned char cb[sizeof ca];
	for (int i = 0; i < 3; i++) {
		crypto_secretstream_xchacha20poly1305_push(&a, ca, NULL, msg, sizeof msg, NULL, 0, 0);
		crypto_secretstream_xchacha20poly1305_push(&b, cb, NULL, msg, sizeof msg, NULL, 0, 0);
		assert_memory_equal(ca, cb, sizeof ca);
	}
}

/* Writes `len` bytes of p through a sealed file at path; returns the
 * container's bytes in *out (malloc'd), its size in *size. */
static void write_sealed(struct ttlog__seal *s, const char *path, const unsigned char *p,
			 size_t len, unsigned char **out, size_t *size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	unsigned char buf[1000];
	struct ttlog__fdbuf f = {.fd = fd, .buf = buf, .cap = sizeof buf};
	ttlog__seal_begin(s, &f);
	ttlog__fdbuf_put(&f, p, len);
	ttlog__seal_end(s, &f);
	assert_false(f.failed);
	assert_null(f.sink);
	off_t n = lseek(fd, 0, SEEK_END);
	assert_true(n > 0);
	*size = (size_t)n;
	*out = malloc(*size);
	assert_int_equal(pread(fd, *out, *size, 0), (ssize_t)*size);
	close(fd);
	assert_int_equal(s->written, *size);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct ttlog__seal *s = calloc(1, sizeof *s);
	ttlog__seal_seed(s);
	size_t len = 3 * TTLOG__SEAL_WRITE_RUN + 123;
	unsigned char *plain = malloc(len);
	for (size_t i = 0; i < len; i++)
		plain[i] = (unsigned char)(i * 7 + 3);
	unsigned char *c;
	size_t size;
	write_sealed(s, "a.sealed", plain, len, &c, &size);

	assert_memory_equal(c, TTLOG__SEAL_MAGIC, TTLOG__SEAL_MAGIC_LEN);
	assert_int_equal(ttlog__get_u16(c + TTLOG__SEAL_VERSION_OFF), TTLOG__SEAL_VERSION);
	assert_int_equal(ttlog__get_u16(c + TTLOG__SEAL_HEADER_SIZE_OFF), TTLOG__SEAL_HEADER_SIZE);
	unsigned char h[32];
	crypto_generichash(h, sizeof h, pk, sizeof pk, NULL, 0);
	assert_memory_equal(c + TTLOG__SEAL_KEY_ID_OFF, h, TTLOG__SEAL_KEY_ID_LEN);
	unsigned char fkey[32];
	assert_int_equal(crypto_box_seal_open(fkey, c + TTLOG__SEAL_SEALED_KEY_OFF,
					      TTLOG__SEAL_SEALED_KEY_LEN, pk, sk),
			 0);
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_secretstream_xchacha20poly1305_init_pull(&st, c + TTLOG__SEAL_STREAM_HEADER_OFF, fkey);

	unsigned char *got = malloc(len + 1);
	size_t glen = 0, off = TTLOG__SEAL_HEADER_SIZE;
	int messages = 0, final = 0;
	while (off < size) {
		assert_false(final);
		uint32_t clen = ttlog__get_u32(c + off);
		assert_true(clen >= TTLOG__SEAL_ABYTES &&
			    clen <= TTLOG__SEAL_WRITE_RUN + TTLOG__SEAL_ABYTES);
		unsigned long long mlen;
		unsigned char tag;
		assert_int_equal(crypto_secretstream_xchacha20poly1305_pull(
					 &st, got + glen, &mlen, &tag, c + off + 4, clen, c,
					 TTLOG__SEAL_HEADER_SIZE),
				 0);
		glen += mlen;
		off += 4 + clen;
		messages++;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
			final = 1;
			assert_int_equal(mlen, 0);
		}
	}
	assert_true(final);
	assert_int_equal(glen, len);
	assert_memory_equal(got, plain, len);
	/* the buffer of 1000 bytes: each flush is its own message */
	assert_true(messages > (int)(len / 1000));

	/* A changed header byte (in the reserved field) fails the first message. */
	c[20] ^= 1;
	crypto_secretstream_xchacha20poly1305_init_pull(&st, c + TTLOG__SEAL_STREAM_HEADER_OFF, fkey);
	unsigned long long mlen;
	assert_int_not_equal(crypto_secretstream_xchacha20poly1305_pull(
				     &st, got, &mlen, NULL, c + TTLOG__SEAL_HEADER_SIZE + 4,
				     ttlog__get_u32(c + TTLOG__SEAL_HEADER_SIZE), c,
				     TTLOG__SEAL_HEADER_SIZE),
			     0);
	free(got);
	free(c);
	free(plain);
	free(s);
}

/* Two files of one chain, and the first file of two chains: every key,
 * header and sealed key differs, and the chain is not what it was. */
static void test_each_file_new_keys(void **state)
{
	(void)state;
	struct ttlog__seal *s = calloc(1, sizeof *s), *t = calloc(1, sizeof *t);
	ttlog__seal_seed(s);
	ttlog__seal_seed(t);
	const unsigned char msg[] = "x";
	unsigned char *c1, *c2, *c3;
	size_t n1, n2, n3;
	unsigned char chain0[32];
	memcpy(chain0, s->chain, sizeof chain0);
	write_sealed(s, "1.sealed", msg, sizeof msg, &c1, &n1);
	assert_memory_not_equal(s->chain, chain0, sizeof chain0);
	write_sealed(s, "2.sealed", msg, sizeof msg, &c2, &n2);
	write_sealed(t, "3.sealed", msg, sizeof msg, &c3, &n3);
	const size_t from = TTLOG__SEAL_SEALED_KEY_OFF;
	const size_t len = TTLOG__SEAL_SEALED_KEY_LEN + TTLOG__SEAL_STREAM_HEADER_LEN;
	assert_memory_not_equal(c1 + from, c2 + from, len);
	assert_memory_not_equal(c1 + from, c3 + from, len);
	unsigned char k1[32], k2[32], k3[32];
	assert_int_equal(crypto_box_seal_open(k1, c1 + from, TTLOG__SEAL_SEALED_KEY_LEN, pk, sk), 0);
	assert_int_equal(crypto_box_seal_open(k2, c2 + from, TTLOG__SEAL_SEALED_KEY_LEN, pk, sk), 0);
	assert_int_equal(crypto_box_seal_open(k3, c3 + from, TTLOG__SEAL_SEALED_KEY_LEN, pk, sk), 0);
	assert_memory_not_equal(k1, k2, 32);
	assert_memory_not_equal(k1, k3, 32);
	free(c1);
	free(c2);
	free(c3);
	free(s);
	free(t);
}

/* A chain never seeded would give keys anyone could compute: no file. */
static void test_unseeded_refused(void **state)
{
	(void)state;
	struct ttlog__seal *s = calloc(1, sizeof *s);
	int fd = open("u.sealed", O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	unsigned char buf[64];
	struct ttlog__fdbuf f = {.fd = fd, .buf = buf, .cap = sizeof buf};
	ttlog__seal_begin(s, &f);
	assert_true(f.failed);
	ttlog__seal_end(s, &f);
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_pull_is_init_push),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_each_file_new_keys),
		cmocka_unit_test(test_unseeded_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
