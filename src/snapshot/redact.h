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
 *   re:PATTERN        every match of PATTERN inside any string argument
 *                     (a field's value or not), such as re:[0-9]{13,19}
 *                     or re:AKIA[A-Z0-9]{16}
 *
 * A pattern is a sequence of atoms, each optionally followed by one
 * quantifier; it matches anywhere in the string:
 *   atoms        a literal byte; \X the byte X (for any of . [ ] { } ? * + \);
 *                . any byte; [abc] [a-z0-9] a class, [^...] its negation
 *                (\X inside a class is X)
 *   quantifiers  ? (0 or 1), * (0 or more), + (1 or more), {m}, {m,n},
 *                {m,} with m, n <= 64
 * Limits: at most 64 bytes of pattern, 32 atoms, 64 states once counted
 * repetitions are unrolled ({m,n} costs n states, * and + one more), and
 * TTLOG__REDACT_MAX_PATTERNS patterns; a pattern that matches the empty
 * string is refused. No groups, alternation or anchors. A comma inside
 * {m,n} or [...] belongs to the pattern; elsewhere it ends the rule.
 *
 * Each match is replaced in place by '*' bytes of the same length (the
 * text around it stays, the record keeps its size); overlapping matches
 * merge, and each run of replaced bytes counts as one value replaced.
 *
 * The matcher is a Thompson simulation over the unrolled states with the
 * earliest start kept per state: one pass over the string, at most 64
 * state steps a byte, no backtracking, no allocation (the states live on
 * the stack), so its cost is linear in the string's length.
 *
 * Matching is pure computation over the rules, which are compiled and
 * copied at init into memory of their own and never change while a
 * writer runs: no malloc, no lock, no system call, so it runs in signal
 * context (the crash handler writes the crash snapshot through it).
 * regexec() is not used: it may allocate and is not async-signal-safe.
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

#define TTLOG__REDACT_MAX_PATTERNS 8
#define TTLOG__REDACT_PAT_ATOMS 32
#define TTLOG__REDACT_PAT_STATES 64

/* A compiled re: pattern: states in order, each matching one byte of its
 * atom's class; a state may be skipped (optional) and may repeat (loop). */
struct ttlog__redact_pat {
	uint8_t nstates;
	uint8_t natoms;
	uint8_t cls[TTLOG__REDACT_PAT_STATES];   /* the atom of each state */
	uint8_t opt[TTLOG__REDACT_PAT_STATES];   /* 1: may be skipped */
	uint8_t loop[TTLOG__REDACT_PAT_STATES];  /* 1: may match again */
	uint8_t set[TTLOG__REDACT_PAT_ATOMS][32]; /* bit b: byte b is in the class */
};

/* Longest rules text a shared mapping carries (SHM-FORMAT.md 4: its
 * `redact` field holds 460 bytes, the NUL included). */
#define TTLOG__REDACT_SPEC_MAX 459

struct ttlog__redact {
	/* The rules as given, for a shared mapping to carry to the tools that
	 * write snapshots from it; spec_cut: longer than SPEC_MAX, not kept. */
	char spec[TTLOG__REDACT_SPEC_MAX + 1];
	uint8_t spec_cut;
	unsigned n;
	struct ttlog__redact_rule rule[TTLOG__REDACT_MAX_RULES];
	unsigned npat;
	struct ttlog__redact_pat pat[TTLOG__REDACT_MAX_PATTERNS];
};

/* Parses spec (NULL or "": no rules) into *out. 0, or -1 with a message
 * (naming the bad rule) in err. */
int ttlog__redact_parse(const char *spec, struct ttlog__redact *out, char *err, size_t errsize);

/* The rules the writers of this process apply (set at init; none before). */
void ttlog__redact_set(const struct ttlog__redact *rules);

/* Adds the rules and patterns of `more` to `into`. 0, or -1 when together
 * they are more than a rule set holds. */
int ttlog__redact_merge(struct ttlog__redact *into, const struct ttlog__redact *more);

/* Exported for libttlog-read's mapping reader: see redact.c. */
int ttlog__snapshot_redact_owner(const char *owner_spec, int cut, char *err, size_t err_size);
const struct ttlog__redact *ttlog__redact_rules(void);

/* The arguments of site d that the rules redact: bit i for argument i.
 * Runs in signal context. */
uint32_t ttlog__redact_mask(const struct ttlog__redact *rules, const struct ttlog__site_desc *d);

/* The size of record rec (size bytes, of site d) once the arguments of
 * mask are redacted; 0 if its arguments do not fill it as d's types say.
 * Runs in signal context. */
uint32_t ttlog__redact_size(const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask);

/* Whether the patterns of rules apply to site d's records (d has a string
 * argument and rules have a pattern). Runs in signal context. */
int ttlog__redact_scans(const struct ttlog__redact *rules, const struct ttlog__site_desc *d);

/* Writes the redacted form of rec (size bytes) to out, which has room for
 * the size ttlog__redact_size() gave: the arguments of mask replaced, and
 * with rules (NULL: none) every match of their patterns in the other
 * strings; returns the values replaced. Runs in signal context. */
uint32_t ttlog__redact_copy(unsigned char *out, const unsigned char *rec, uint32_t size,
			    const struct ttlog__site_desc *d, uint32_t mask,
			    const struct ttlog__redact *rules);

/* Replaces every match of the patterns of rules in the n bytes at s with
 * '*' bytes; returns the runs replaced. Runs in signal context. */
uint32_t ttlog__redact_scrub(const struct ttlog__redact *rules, unsigned char *s, uint32_t n);

#endif
