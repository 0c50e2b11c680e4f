/* SPDX-License-Identifier: MIT */
/*
 * sealed.h - the on-disk constants of the encrypted container (FORMAT.md
 * section 21, revision 10), the code side of that section.
 *
 * An encrypted snapshot or segment is the plain file, cut into runs of
 * bytes, each run one message of libsodium's secretstream
 * (XChaCha20-Poly1305), behind a header that carries the file key sealed
 * to the recipient's X25519 public key (crypto_box_seal):
 *
 *   header (136 bytes)
 *     0   8  magic "\x89TTENC\r\n"
 *     8   2  version (1)
 *    10   2  header_size (136)
 *    12   4  flags (0; a reader refuses a file with a bit it does not know)
 *    16   8  reserved (0)
 *    24   8  key_id: the first 8 bytes of BLAKE2b-256 of the public key
 *    32  80  sealed file key: crypto_box_seal() of the 32-byte key
 *   112  24  secretstream header
 *   messages, each
 *     0   4  length n of what follows (17 .. 17 + 1 MiB)
 *     4   n  crypto_secretstream_xchacha20poly1305_push() output of a run
 *            of plain bytes, with the 136 header bytes as additional data;
 *            tag MESSAGE, except the last message: empty, tag FINAL
 *
 * Key files: one line, the word below, a space, 64 lowercase hex digits
 * (32 bytes), a newline.
 */
#ifndef TTLOG__FORMAT_SEALED_H
#define TTLOG__FORMAT_SEALED_H

#define TTLOG__SEAL_MAGIC "\x89TTENC\r\n"
#define TTLOG__SEAL_MAGIC_LEN 8
#define TTLOG__SEAL_VERSION 1
#define TTLOG__SEAL_VERSION_OFF 8
#define TTLOG__SEAL_HEADER_SIZE_OFF 10
#define TTLOG__SEAL_FLAGS_OFF 12
#define TTLOG__SEAL_KEY_ID_OFF 24
#define TTLOG__SEAL_KEY_ID_LEN 8
#define TTLOG__SEAL_SEALED_KEY_OFF 32
#define TTLOG__SEAL_SEALED_KEY_LEN 80  /* crypto_box_SEALBYTES + 32 */
#define TTLOG__SEAL_STREAM_HEADER_OFF 112
#define TTLOG__SEAL_STREAM_HEADER_LEN 24 /* crypto_secretstream_xchacha20poly1305_HEADERBYTES */
#define TTLOG__SEAL_HEADER_SIZE 136

#define TTLOG__SEAL_LENGTH_SIZE 4
#define TTLOG__SEAL_ABYTES 17           /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define TTLOG__SEAL_MAX_RUN (1u << 20)  /* plain bytes of one message at most (readers) */
#define TTLOG__SEAL_WRITE_RUN (16u << 10) /* plain bytes of one message, as written */

#define TTLOG__SEAL_PUBLIC_WORD "ttlog-x25519-public"
#define TTLOG__SEAL_PRIVATE_WORD "ttlog-x25519-private"
#define TTLOG__SEAL_KEY_LEN 32

#endif
