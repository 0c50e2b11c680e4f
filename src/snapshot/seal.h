/* SPDX-License-Identifier: MIT */
/*
 * seal.h - encryption at rest, the writer's side: the recipient's public
 * key (TTLOG_ENCRYPT_KEY), and an encrypting sink that a snapshot or a
 * segment writes through (FORMAT.md section 21; the container's layout is
 * in format/sealed.h). See seal.c for how a file gets its key without
 * randomness in signal context.
 */
#ifndef TTLOG__SNAPSHOT_SEAL_H
#define TTLOG__SNAPSHOT_SEAL_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sigsafe.h"
#include "format/sealed.h"

/* One writer's encryption state: a workspace of the snapshot writer, or
 * the stream. Used by one writer at a time (the workspace's busy flag, the
 * stream's owner word). */
struct ttlog__seal {
	unsigned char chain[32];     /* the key chain: each file's keys come from it,
					then it moves on (seal.c) */
	int seeded;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[TTLOG__SEAL_HEADER_SIZE];
	uint64_t written;            /* container bytes written to this file */
	unsigned char msg[TTLOG__SEAL_LENGTH_SIZE + TTLOG__SEAL_WRITE_RUN + TTLOG__SEAL_ABYTES];
};

/* Reads the public key file at path and turns encryption on for every
 * file written from now on (NULL or empty: off). Normal context. Returns
 * TTLOG_OK or TTLOG_E_CONFIG with a message naming the file in err. */
int ttlog__seal_configure(const char *path, char *err, size_t errsize);

/* Whether files are encrypted. Runs in signal context. */
int ttlog__seal_on(void);

/* Gives s a fresh key chain from the system's randomness. Normal context
 * (ttlog_init, the stream's start, the child after fork). */
void ttlog__seal_seed(struct ttlog__seal *s);

/* Starts an encrypted file on f (empty, its fd open): the container header
 * is written and f's sink set, so every byte put into f after this is
 * encrypted. Sets f->failed on a failed write. Runs in signal context. */
void ttlog__seal_begin(struct ttlog__seal *s, struct ttlog__fdbuf *f);

/* Ends it: f flushed, the final message written, the file's key wiped.
 * Runs in signal context. */
void ttlog__seal_end(struct ttlog__seal *s, struct ttlog__fdbuf *f);

/* The same key wiped without a final message (a file given up). Runs in
 * signal context. */
void ttlog__seal_abandon(struct ttlog__seal *s, struct ttlog__fdbuf *f);

#endif
