/* SPDX-License-Identifier: MIT */
/*
 * departure.h - what `ttlog diff` and `ttlog explain` share: reading
 * events into a corpus of time-ordered series, comparing two parts of one
 * corpus or two corpora, and ranking what departed by one score.
 *
 * A corpus holds, per call site, the times of its events; per numeric
 * argument of a site (its position, and field key when it has one), the
 * values with their times; per span name, the durations of its spans with
 * their end times. Events come from a store in time order, so every series
 * is sorted by time and a part of it (a time range) is found by binary
 * search: `ttlog explain` compares two ranges of one corpus, `ttlog diff`
 * the whole of two.
 *
 * Sites are matched across files and runs by what they are, not by their
 * id (which depends on the order of registration): file, function, format,
 * level and kind. Lines are left out, so that an edit above a site does
 * not make it new.
 *
 * The score (docs/DIFF.md, both commands' --help): the size of a change in
 * doublings, |log2(B / A)|, weighted by the evidence w = n / (n + 20),
 * n the smaller of the two sample counts:
 *   rate      B's events per second over A's (each over its side's time)
 *   argument  the largest of the shifts of p50, p90 and p99
 *   span      the larger of the shifts of p50 and p99 of its durations
 *   new/gone  the side without events counts as half an event over its
 *             time; n is the other side's count
 * A shift between values of opposite signs, or from or to zero, counts as
 * |Cliff's delta| doublings (how far the ranks moved: at most one). Arguments whose values only grow (sequence numbers, ids,
 * clocks: 90 % of steps up, at least 10 values) are not compared; they
 * are counted and named in the output instead.
 */
#ifndef TTLOG__CLI_DEPARTURE_H
#define TTLOG__CLI_DEPARTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render/text_buf.h"
#include "ttlog_reader.h"

struct dep_sample {
	int64_t ts;
	double v;
};

/* Samples in time order. */
struct dep_series {
	struct dep_sample *s;
	size_t n, cap;
	uint64_t up, steps;  /* consecutive pairs that rose, and all of them */
};

/* A call site, by what it is. */
struct dep_site {
	char *key;           /* file, function, format, level, kind: the match key */
	char *file, *function, *format;
	unsigned line;
	int level, kind;     /* TTLOG_LEVEL_*, enum ttlog_site_kind */
	struct dep_series events;
	size_t *args;        /* per position: index into the corpus' args, or SIZE_MAX */
	unsigned nargs;
};

/* A numeric argument of a site. */
struct dep_arg {
	size_t site;
	unsigned position;
	char *field;         /* NULL without one */
	struct dep_series values;
};

/* The durations of the spans of one name. */
struct dep_span {
	char *name;
	struct dep_series durations; /* ns */
};

struct dep_map {
	uint64_t *hashes;
	size_t *slots;       /* index + 1; 0: empty */
	size_t cap, count;
};

struct dep_corpus {
	struct dep_site *sites;
	size_t nsites, sites_cap;
	struct dep_arg *args;
	size_t nargs, args_cap;
	struct dep_span *spans;
	size_t nspans, spans_cap;
	struct dep_map site_keys, span_names;
	/* Site info pointers, with their file, to sites (while reading). */
	struct dep_map site_ptrs;
	struct dep_ptr {
		const void *ptr, *file; /* a site info pointer of the store's file */
		size_t site;
	} *ptrs;
	size_t nptrs, ptrs_cap;
	uint64_t events;
	int64_t first_ns, last_ns; /* valid when events > 0 */
	uint64_t lost;       /* events the files say were lost: overwritten, torn, dropped,
				never streamed (dep_read_source() sums them) */
};

/**
 * Reads every event of the store into c (zero-filled). Returns 0, or -1
 * when out of memory (said on stderr).
 */
int dep_corpus_read(struct dep_corpus *c, ttlog_store *store);
void dep_corpus_free(struct dep_corpus *c);

/* One side of a comparison: a corpus, the time range [from, to) of it
 * that counts, and the length of time its rates are over. */
struct dep_side {
	const struct dep_corpus *c;
	int64_t from, to;
	double seconds;      /* at least 1 ms */
	const char *label;   /* what the output calls it (a path, "before") */
	uint64_t events;     /* events in the range (dep_side_count() sets it) */
	uint64_t lost;       /* events lost from its files, shown with it */
};

/**
 * Reads the events of source (a file, directory or glob) into c, as
 * `who` ("ttlog diff"). Problems of its files are said on stderr (the
 * events that survived are kept). Returns CLI_EXIT_OK, CLI_EXIT_DATA
 * after a problem with a file, or -1 when nothing could be read (said).
 */
int dep_read_source(const char *who, const char *source, struct dep_corpus *c);

/** Counts the side's events in its range (s->events). */
void dep_side_count(struct dep_side *s);

enum dep_kind { DEP_NEW, DEP_GONE, DEP_RATE, DEP_ARG, DEP_SPAN };

/* The figures of one side of a result. */
struct dep_stats {
	uint64_t n;
	double rate;         /* events per second (sites) */
	double p50, p90, p99; /* arguments and spans */
};

struct dep_result {
	int kind;            /* enum dep_kind */
	double score;
	const struct dep_site *site;  /* sites, arguments (the side that has it: B's first) */
	const struct dep_arg *arg;    /* arguments */
	const struct dep_span *span;  /* spans */
	struct dep_stats a, b;
	double ratio;        /* B / A of the figure that decided the score (0: none) */
	const char *figure;  /* its name: "rate", "p50", "p90", "p99" */
	double delta;        /* arguments and spans: Cliff's delta, P(B > A) - P(B < A) */
};

/* An argument left out: its values only grow. */
struct dep_skipped {
	const struct dep_site *site;
	const struct dep_arg *arg;
};

struct dep_report {
	struct dep_result *results; /* by score, highest first */
	size_t nresults;
	struct dep_skipped *skipped;
	size_t nskipped;
};

/** Compares side b with side a. Returns 0, or -1 when out of memory. */
int dep_compare(const struct dep_side *a, const struct dep_side *b, struct dep_report *out);
void dep_report_free(struct dep_report *r);

/**
 * Prints the report: text (a ranked table of the top results, 0: all) or
 * one JSON object. who is "ttlog diff" or "ttlog explain".
 */
void dep_print(const struct dep_report *r, const struct dep_side *a, const struct dep_side *b,
	       size_t top, int json, struct render_buf *line);

/**
 * The options of both commands (diff.c): --top, -o/--output, --json,
 * --help, and with window not NULL -w/--window (its text). Returns 0, or
 * -1 when the command should exit with *status (usage error, --help).
 */
int cli_departure_options(const char *command, void (*usage)(FILE *), int argc, char **argv,
			  size_t *top, int *json, const char **window, int *status);

#endif /* TTLOG__CLI_DEPARTURE_H */
