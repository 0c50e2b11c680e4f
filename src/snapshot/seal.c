/* SPDX-License-Identifier: MIT */
/*
 * seal.c - encrypted snapshots and segments (FORMAT.md section 21): the
 * recipient's public key, and the sink through which the writer's bytes
 * become secretstream messages.
 *
 * The process holds the recipient's public key only, so what it wrote
 * stays unreadable to whoever takes the host later. Each file has its own
 * 32-byte key, sealed to the recipient (the same bytes crypto_box_seal()
 * writes) in the container header.
 *
 * Keys without randomness in a signal handler. A crash snapshot is written
 * from a signal handler, and so may be any snapshot (the snapshot signal)
 * and the stream's last segment; libsodium's randombytes_buf() is not
 * documented as async-signal-safe (it may open /dev/urandom, and its
 * implementation can be replaced), and crypto_box_seal() and
 * crypto_secretstream_xchacha20poly1305_init_push() call it. So every
 * writer (each snapshot workspace, the stream) keeps a key chain: 32 bytes
 * taken from randombytes_buf() in normal context (ttlog__seal_seed(): at
 * ttlog_init, at the stream's start, in the child after fork), from which
 * each file derives, with crypto_kdf_derive_from_key() (BLAKE2b, pure
 * computation), the seed of its ephemeral key pair, its file key and its
 * secretstream header, and the chain's next value, which replaces the
 * chain (the old value wiped). Then, all pure computation on the caller's
 * memory and stack:
 *   - the ephemeral pair: crypto_box_seed_keypair();
 *   - the sealed box exactly as crypto_box_seal() makes it: nonce =
 *     BLAKE2b-192(ephemeral public || recipient public)
 *     (crypto_generichash), then the ephemeral public key and
 *     crypto_box_easy() of the file key, so that the reader opens it with
 *     crypto_box_seal_open();
 *   - the stream state: crypto_secretstream_xchacha20poly1305_init_pull()
 *     with the derived header, which sets the state init_push() would set
 *     with that header (both are HChaCha20 of the key and the header's
 *     first 16 bytes, the counter 1, the last 8 header bytes as nonce; the
 *     unit test test_seal checks it against init_push);
 *   - each message: crypto_secretstream_xchacha20poly1305_push().
 * A chain is moved on before its file is written, so no two files share a
 * key, and the values it had are gone: a later look into the process's
 * memory finds the next file's key, never an earlier one's. The ephemeral
 * secret key and the file key are wiped with sodium_memzero() once used.
 * libsodium picks its implementations in sodium_init(), called by
 * ttlog__seal_configure() in normal context; after that none of these
 * calls allocates, locks or makes a system call.
 */
#include "snapshot/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/key_text.h"

_Static_assert(TTLOG__SEAL_SEALED_KEY_LEN == crypto_box_SEALBYTES + 32, "sealed key size");
_Static_assert(TTLOG__SEAL_STREAM_HEADER_LEN == crypto_secretstream_xchacha20poly1305_HEADERBYTES,
	       "stream header size");
_Static_assert(TTLOG__SEAL_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES, "tag size");
_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == 32, "file key size");

#define KDF_CONTEXT "ttlogenc" /* crypto_kdf_CONTEXTBYTES: 8 */
enum { KDF_NEXT = 1, KDF_EPHEMERAL = 2, KDF_FILE_KEY = 3, KDF_HEADER = 4 };

static unsigned char recipient[crypto_box_PUBLICKEYBYTES];
static unsigned char key_id[TTLOG__SEAL_KEY_ID_LEN];
/* Written in normal context by ttlog_init before the writers run (the
 * release store); read by every writer. */
static _Atomic int sealing;

int ttlog__seal_configure(const char *path, char *err, size_t errsize)
{
	if (!path || !path[0]) {
		atomic_store_explicit(&sealing, 0, memory_order_release);
		return TTLOG_OK;
	}
	if (sodium_init() < 0) {
		snprintf(err, errsize, "TTLOG_ENCRYPT_KEY: libsodium cannot start");
		return TTLOG_E_CONFIG;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "TTLOG_ENCRYPT_KEY: %s: cannot open: %s", path, strerror(errno));
		return TTLOG_E_CONFIG;
	}
	char text[256];
	size_t len = 0;
	ssize_t got;
	while (len < sizeof text && (got = read(fd, text + len, sizeof text - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errsize, "TTLOG_ENCRYPT_KEY: %s: cannot read: %s", path,
				 strerror(errno));
			close(fd);
			return TTLOG_E_CONFIG;
		}
		len += (size_t)got;
	}
	close(fd);
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	const char *why = NULL;
	if (len == sizeof text)
		why = "too long for a key file";
	else if (len >= sizeof TTLOG__SEAL_PRIVATE_WORD - 1 &&
		 memcmp(text, TTLOG__SEAL_PRIVATE_WORD, sizeof TTLOG__SEAL_PRIVATE_WORD - 1) == 0)
		why = "this is a private key: the program needs the public one (the .pub file)";
	if (why || ttlog__key_text_parse(text, len, TTLOG__SEAL_PUBLIC_WORD, pk, sizeof pk, &why) != 0) {
		snprintf(err, errsize,
			 "TTLOG_ENCRYPT_KEY: %s: not a ttlog public key file (%s); "
			 "make one with 'ttlog keygen'",
			 path, why);
		return TTLOG_E_CONFIG;
	}
	unsigned char h[32];
	crypto_generichash(h, sizeof h, pk, sizeof pk, NULL, 0);
	memcpy(recipient, pk, sizeof pk);
	memcpy(key_id, h, sizeof key_id);
	atomic_store_explicit(&sealing, 1, memory_order_release);
	return TTLOG_OK;
}

/* Runs in signal context. */
int ttlog__seal_on(void)
{
	return atomic_load_explicit(&sealing, memory_order_acquire);
}

void ttlog__seal_seed(struct ttlog__seal *s)
{
	randombytes_buf(s->chain, sizeof s->chain);
	s->seeded = 1;
}

/* The sink: n plain bytes as messages of at most TTLOG__SEAL_WRITE_RUN
 * bytes each. Runs in signal context: secretstream push, write(2). */
static int seal_write(void *ctx, int fd, const void *data, size_t n)
{
	struct ttlog__seal *s = ctx;
	const unsigned char *p = data;
	do {
		size_t k = n < TTLOG__SEAL_WRITE_RUN ? n : TTLOG__SEAL_WRITE_RUN;
		unsigned char *c = s->msg + TTLOG__SEAL_LENGTH_SIZE;
		crypto_secretstream_xchacha20poly1305_push(
			&s->st, c, NULL, p, k, s->header, sizeof s->header,
			k || n ? crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
			       : crypto_secretstream_xchacha20poly1305_TAG_FINAL);
		size_t clen = k + TTLOG__SEAL_ABYTES;
		ttlog__put_u32(s->msg, (uint32_t)clen);
		if (ttlog__write_all(fd, s->msg, TTLOG__SEAL_LENGTH_SIZE + clen) != 0)
			return -1;
		s->written += TTLOG__SEAL_LENGTH_SIZE + clen;
		p += k;
		n -= k;
	} while (n);
	return 0;
}

/* Runs in signal context: pure computation (see the top of this file),
 * then write(2). */
void ttlog__seal_begin(struct ttlog__seal *s, struct ttlog__fdbuf *f)
{
	f->sink = seal_write;
	f->sink_ctx = s;
	if (!s->seeded) { /* never a file under a key anyone could compute */
		f->failed = 1;
		return;
	}
	unsigned char next[32], eseed[crypto_box_SEEDBYTES], fkey[32];
	unsigned char epk[crypto_box_PUBLICKEYBYTES], esk[crypto_box_SECRETKEYBYTES];
	unsigned char nonce[crypto_box_NONCEBYTES];
	unsigned char *h = s->header;
	crypto_kdf_derive_from_key(next, sizeof next, KDF_NEXT, KDF_CONTEXT, s->chain);
	crypto_kdf_derive_from_key(eseed, sizeof eseed, KDF_EPHEMERAL, KDF_CONTEXT, s->chain);
	crypto_kdf_derive_from_key(fkey, sizeof fkey, KDF_FILE_KEY, KDF_CONTEXT, s->chain);
	crypto_kdf_derive_from_key(h + TTLOG__SEAL_STREAM_HEADER_OFF, TTLOG__SEAL_STREAM_HEADER_LEN,
				   KDF_HEADER, KDF_CONTEXT, s->chain);
	memcpy(s->chain, next, sizeof next); /* the chain moves on before anything is written */
	sodium_memzero(next, sizeof next);

	memcpy(h, TTLOG__SEAL_MAGIC, TTLOG__SEAL_MAGIC_LEN);
	ttlog__put_u16(h + TTLOG__SEAL_VERSION_OFF, TTLOG__SEAL_VERSION);
	ttlog__put_u16(h + TTLOG__SEAL_HEADER_SIZE_OFF, TTLOG__SEAL_HEADER_SIZE);
	memset(h + TTLOG__SEAL_FLAGS_OFF, 0, TTLOG__SEAL_KEY_ID_OFF - TTLOG__SEAL_FLAGS_OFF);
	memcpy(h + TTLOG__SEAL_KEY_ID_OFF, key_id, TTLOG__SEAL_KEY_ID_LEN);

	/* crypto_box_seal() with the derived ephemeral pair. */
	crypto_box_seed_keypair(epk, esk, eseed);
	crypto_generichash_state gh;
	crypto_generichash_init(&gh, NULL, 0, sizeof nonce);
	crypto_generichash_update(&gh, epk, sizeof epk);
	crypto_generichash_update(&gh, recipient, sizeof recipient);
	crypto_generichash_final(&gh, nonce, sizeof nonce);
	unsigned char *sealed = h + TTLOG__SEAL_SEALED_KEY_OFF;
	memcpy(sealed, epk, sizeof epk);
	int boxed = crypto_box_easy(sealed + sizeof epk, fkey, sizeof fkey, nonce, recipient, esk);
	sodium_memzero(esk, sizeof esk);
	sodium_memzero(eseed, sizeof eseed);

	/* The state init_push() would set with this header. */
	crypto_secretstream_xchacha20poly1305_init_pull(&s->st, h + TTLOG__SEAL_STREAM_HEADER_OFF,
							fkey);
	sodium_memzero(fkey, sizeof fkey);

	s->written = 0;
	if (boxed != 0) /* a recipient key that is not a curve point */
		f->failed = 1;
	if (!f->failed && ttlog__write_all(f->fd, h, TTLOG__SEAL_HEADER_SIZE) != 0)
		f->failed = 1;
	if (!f->failed)
		s->written = TTLOG__SEAL_HEADER_SIZE;
}

/* Runs in signal context. */
void ttlog__seal_end(struct ttlog__seal *s, struct ttlog__fdbuf *f)
{
	ttlog__fdbuf_flush(f);
	if (!f->failed && seal_write(s, f->fd, NULL, 0) != 0)
		f->failed = 1;
	ttlog__seal_abandon(s, f);
}

/* Runs in signal context. */
void ttlog__seal_abandon(struct ttlog__seal *s, struct ttlog__fdbuf *f)
{
	sodium_memzero(&s->st, sizeof s->st);
	f->sink = NULL;
	f->sink_ctx = NULL;
}
