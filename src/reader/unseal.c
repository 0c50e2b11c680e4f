/* SPDX-License-Identifier: MIT */
/*
 * unseal.c - reading an encrypted snapshot or segment (FORMAT.md section
 * 21; the layout is in format/sealed.h): the private key a tool gives
 * (ttlog_reader_set_key_file), and the decryption of a container into the
 * plain file that open.c then parses as any other.
 *
 * The container is read as hostile input like the rest: its header is
 * checked (magic, version, size, flags), the key id says whether the key
 * given is the one the file was sealed to, the sealed file key is opened
 * (crypto_box_seal_open), and then each message in turn: its length is
 * checked against what the format allows and against the bytes that are
 * left before it is used, and it is authenticated before any of its bytes
 * are kept. The first message that fails ends the decryption: the bytes of
 * every message before it are parsed as usual, and the failure is the
 * file's first problem (a changed or damaged byte, or a file cut inside a
 * message). A file that ends after a whole message but without the final
 * one was cut at a message boundary: truncated, unless it is a segment
 * still being written (open, as a plain segment without END is).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/key_text.h"
#include "format/sealed.h"
#include "reader/impl.h"
#include "ttlog_reader.h"

static unsigned char secret_key[crypto_box_SECRETKEYBYTES];
static unsigned char public_key[crypto_box_PUBLICKEYBYTES];
static unsigned char given_id[TTLOG__SEAL_KEY_ID_LEN];
static int have_key;

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

TTLOG_API int ttlog_reader_set_key_file(const char *path, char *err, size_t errsize)
{
	char dummy[1];
	if (!err || !errsize) {
		err = dummy;
		errsize = sizeof dummy;
	}
	sodium_memzero(secret_key, sizeof secret_key);
	have_key = 0;
	if (!path)
		return TTLOG_OK;
	if (sodium_init() < 0) {
		snprintf(err, errsize, "%s: libsodium cannot start", path);
		return TTLOG_E_KEY;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "%s: cannot open the key file: %s", path, strerror(errno));
		return TTLOG_E_OPEN;
	}
	char text[256];
	size_t len = 0;
	ssize_t got;
	while (len < sizeof text && (got = read(fd, text + len, sizeof text - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errsize, "%s: cannot read the key file: %s", path,
				 strerror(errno));
			close(fd);
			return TTLOG_E_OPEN;
		}
		len += (size_t)got;
	}
	close(fd);
	const char *why = NULL;
	if (len == sizeof text)
		why = "too long for a key file";
	else if (len >= sizeof TTLOG__SEAL_PUBLIC_WORD - 1 &&
		 memcmp(text, TTLOG__SEAL_PUBLIC_WORD, sizeof TTLOG__SEAL_PUBLIC_WORD - 1) == 0)
		why = "this is the public key; reading needs the private one (the .key file)";
	int bad = why || ttlog__key_text_parse(text, len, TTLOG__SEAL_PRIVATE_WORD, secret_key,
					       sizeof secret_key, &why) != 0;
	sodium_memzero(text, sizeof text);
	if (bad) {
		sodium_memzero(secret_key, sizeof secret_key);
		snprintf(err, errsize, "%s: not a ttlog private key file (%s)", path, why);
		return TTLOG_E_KEY;
	}
	crypto_scalarmult_base(public_key, secret_key);
	unsigned char h[32];
	crypto_generichash(h, sizeof h, public_key, sizeof public_key, NULL, 0);
	memcpy(given_id, h, sizeof given_id);
	have_key = 1;
	return TTLOG_OK;
}

int ttlog__reader_unseal(struct ttlog_reader *r)
{
	const unsigned char *d = r->data;
	size_t size = r->size;
	if (size < TTLOG__SEAL_MAGIC_LEN || memcmp(d, TTLOG__SEAL_MAGIC, TTLOG__SEAL_MAGIC_LEN) != 0)
		return 1;
	r->sealed = 1;
	if (size < TTLOG__SEAL_HEADER_SIZE) {
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, size,
				     "encrypted file: expected its %u-byte header, the file ends",
				     TTLOG__SEAL_HEADER_SIZE);
		return 0;
	}
	/* The header and each message are copied before they are checked and
	 * used: a mapped file's bytes can change under the reader
	 * (reader/map.c), and a message is authenticated and decrypted in two
	 * passes over its bytes. */
	unsigned char head[TTLOG__SEAL_HEADER_SIZE];
	memcpy(head, d, sizeof head);
	unsigned version = ttlog__get_u16(head + TTLOG__SEAL_VERSION_OFF);
	unsigned hsize = ttlog__get_u16(head + TTLOG__SEAL_HEADER_SIZE_OFF);
	uint32_t flags = ttlog__get_u32(head + TTLOG__SEAL_FLAGS_OFF);
	if (version != TTLOG__SEAL_VERSION || hsize != TTLOG__SEAL_HEADER_SIZE || flags != 0) {
		ttlog__reader_report(r, TTLOG_E_VERSION, TTLOG__SEAL_VERSION_OFF,
				     "encrypted file of container version %u, header size %u, flags "
				     "0x%x: this reader knows version %u, size %u, no flags",
				     version, hsize, (unsigned)flags, TTLOG__SEAL_VERSION,
				     TTLOG__SEAL_HEADER_SIZE);
		return 0;
	}
	char file_id[2 * TTLOG__SEAL_KEY_ID_LEN + 1], key_id[2 * TTLOG__SEAL_KEY_ID_LEN + 1];
	hex(head + TTLOG__SEAL_KEY_ID_OFF, TTLOG__SEAL_KEY_ID_LEN, file_id);
	if (!have_key) {
		ttlog__reader_report_plain(r, TTLOG_E_KEY,
					   "encrypted; give --key PRIVATE-KEY-FILE (or TTLOG_KEY): "
					   "the file is sealed to key %s",
					   file_id);
		return 0;
	}
	hex(given_id, sizeof given_id, key_id);
	if (memcmp(head + TTLOG__SEAL_KEY_ID_OFF, given_id, sizeof given_id) != 0) {
		ttlog__reader_report_plain(r, TTLOG_E_KEY,
					   "encrypted to key %s, and the key given is %s: wrong key",
					   file_id, key_id);
		return 0;
	}
	unsigned char fkey[32];
	if (crypto_box_seal_open(fkey, head + TTLOG__SEAL_SEALED_KEY_OFF, TTLOG__SEAL_SEALED_KEY_LEN,
				 public_key, secret_key) != 0) {
		ttlog__reader_report(r, TTLOG_E_CORRUPT, TTLOG__SEAL_SEALED_KEY_OFF,
				     "the sealed file key does not open with key %s, whose id the "
				     "file names: the header was changed or damaged",
				     key_id);
		return 0;
	}
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_secretstream_xchacha20poly1305_init_pull(&st, head + TTLOG__SEAL_STREAM_HEADER_OFF, fkey);
	sodium_memzero(fkey, sizeof fkey);

	unsigned char *out = malloc(size);
	unsigned char *msg = malloc(TTLOG__SEAL_MAX_RUN + TTLOG__SEAL_ABYTES);
	if (!out || !msg) {
		free(out);
		free(msg);
		sodium_memzero(&st, sizeof st);
		r->oom = 1;
		return 0;
	}
	size_t plen = 0, off = TTLOG__SEAL_HEADER_SIZE;
	uint64_t n = 0;
	while (off < size) {
		size_t left = size - off;
		if (r->seal_final) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "%zu bytes after the encrypted file's final message",
					     left);
			break;
		}
		if (left < TTLOG__SEAL_LENGTH_SIZE) {
			r->seal_torn = 1;
			break;
		}
		uint32_t clen = ttlog__get_u32(d + off);
		if (clen < TTLOG__SEAL_ABYTES || clen > TTLOG__SEAL_MAX_RUN + TTLOG__SEAL_ABYTES) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "encrypted message %llu: expected a length of %u to %u, "
					     "found %u (the file was changed or damaged); the %zu bytes "
					     "before it are read",
					     (unsigned long long)n + 1, TTLOG__SEAL_ABYTES,
					     TTLOG__SEAL_MAX_RUN + TTLOG__SEAL_ABYTES, (unsigned)clen,
					     plen);
			break;
		}
		if (clen > left - TTLOG__SEAL_LENGTH_SIZE) {
			r->seal_torn = 1;
			break;
		}
		unsigned long long mlen = 0;
		unsigned char tag = 0;
		memcpy(msg, d + off + TTLOG__SEAL_LENGTH_SIZE, clen);
		if (crypto_secretstream_xchacha20poly1305_pull(&st, out + plen, &mlen, &tag, msg,
							       clen, head, sizeof head) != 0) {
			ttlog__reader_report(r, TTLOG_E_CORRUPT, off,
					     "encrypted message %llu fails authentication (the file "
					     "was changed or damaged); the %zu bytes before it are read",
					     (unsigned long long)n + 1, plen);
			break;
		}
		plen += (size_t)mlen;
		off += TTLOG__SEAL_LENGTH_SIZE + clen;
		n++;
		if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
			r->seal_final = 1;
	}
	sodium_memzero(&st, sizeof st);
	free(msg);
	r->seal_end = off;
	ttlog__reader_drop_data(r);
	r->data = out;
	r->size = plen;
	return 1;
}

void ttlog__reader_unseal_check_end(struct ttlog_reader *r)
{
	if (!r->sealed || r->seal_final || r->info.open || r->oom)
		return;
	if (r->status != TTLOG_OK && r->status != TTLOG_E_TRUNCATED)
		return; /* a problem of its own came first */
	/* The decrypted file's "expected END" says less than this. */
	free(r->error);
	r->error = NULL;
	r->status = TTLOG_OK;
	if (r->seal_torn)
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, r->seal_end,
				     "the encrypted file ends inside a message (it was cut short); "
				     "the %zu bytes of the messages before it are read",
				     r->size);
	else
		ttlog__reader_report(r, TTLOG_E_TRUNCATED, r->seal_end,
				     "the encrypted file ends without its final message (it was "
				     "cut short); the %zu bytes of its messages are read",
				     r->size);
}
