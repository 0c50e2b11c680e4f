/* SPDX-License-Identifier: MIT */
/*
 * redact.h - TTLOG_REDACT: argument values that never reach a file.
 *
 * A spec is a comma-separated list of rules:
 *   KEY-GLOB          a structured field (TTLOG_F) whose name matches the
 *                     glob (`*` any run of characters, `?` one), such as
 *                     password, token, card*, ssn
 *   arg:N@FILE:LINE   argument N (1 = the first) of the log call at
 *                     FILE:LINE (FILE: the site's path or its last
 *                     components, such as db.c:42 or src/db.c:42)
 *
 * The writers (the snapshot writer and the stream, through the emitter)
 * apply the rules to each record as they copy it into a block, before it
 * is packed or compressed; the log call is not involved and costs the
 * same. A string value becomes the marker "[REDACTED n]", n its length in
 * bytes; a number becomes 0. Each value replaced is counted (the
 * metric ttlog_redacted_values_total of every file).
 *
 * A field is a TTLOG_F() argument, or one whose conversion follows "key="
 * in the format (as the reader finds field keys).
 *
 * Matching is pure computation over the rules, which are copied at init
 * into memory of their own and never change while a writer runs: no
 * malloc, no lock, no system call, so it runs in signal context (the crash
 * handler writes the crash snapshot through it). There is no regular
 * expression mode: regexec() may allocate and is not async-signal-safe.
 */
#ifndef TTLOG__SNAPSHOT_REDACT_H
#define TTLOG__SNAPSHOT_REDACT_H

#include <stddef.h>
#include <stdint.h>

struct ttlog__site_desc;

#define TTLOG__REDACT_MAX_RULES 32
#define TTLOG__REDACT_PATTERN_MAX 64
#define TTLOG__REDACT_FILE_MAX 256
/* The longest marker: "[REDACTED 1073741823]". */
#define TTLOG__REDACT_MARKER_MAX 24

struct ttlog__redact_rule {
	uint8_t arg;        /* 0: a key glob; else the argument's number, from 1 */
	uint32_t line;
	char pattern[TTLOG__REDACT_PATTERN_MAX + 1]; /* the key glob */
	char file[TTLOG__REDACT_FILE_MAX + 1];
};

struct ttlog__redact {
	unsigned n;
	struct ttlog__redact_rule rule[TTLOG__REDACT_MAX_RULES];
};

/* Parses spec (NULL or "": no rules) into *out. 0, or -1 with a message
 * (naming the bad rule) in err. */
int ttlog__redact_parse(const char *spec, struct ttlog__redact *out, char *err, size_t errsize);

/* The rules the writers of this process apply (set at init; none before). */
void ttlog__redact_set(const struct ttlog__redact *rules);
const struct ttlog__redact *ttlog__redact_rules(void);

/* The arguments of site d that the rules redact: bit i for argument i.
 * Runs in signal context. */
uint32_t ttlog__redact_mask(const struct ttlog__redact *rules, const struct ttlog__site_desc *d);

/* The size of record rec (size bytes, of site d) once the arguments of
 * mask are redacted; 0 if its arguments do not fill it as d's types say.
 * Runs in signal context. */
uint32_t ttlog__redact_size(const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask);

/* Writes the redacted form of rec (size bytes) to out, which has room for
 * the size ttlog__redact_size() gave; returns the values replaced. Runs in signal context. */
uint32_t ttlog__redact_copy(unsigned char *out, const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask);

#endif
