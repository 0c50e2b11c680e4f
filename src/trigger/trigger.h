/* SPDX-License-Identifier: MIT */
/*
 * trigger.h - triggers (TTLOG_TRIGGER): rules evaluated inside the process
 * on the data it already has, each with a rate policy and actions.
 *
 * A rule watches either the events in the rings (a level, optionally of one
 * target or call site; a span name whose duration exceeds a bound) or the
 * metric shards (a histogram quantile or a counter's rate over a window, a
 * gauge or a counter's total against a threshold). Everything is evaluated
 * on the watchdog's low-rate timer (src/watchdog/: the stream's drainer
 * thread when streaming, else one thread of its own), never on a log call:
 * event rules read each ring's new records since the timer's last look, as
 * the stream does, and metric rules sum the shards as a snapshot does.
 *
 * When a rule matches and its policy lets it fire, its actions run: a line
 * on stderr, an increment of ttlog_triggers_fired_total{rule=...}, a
 * snapshot written once the post-roll has passed (so that the file holds
 * the seconds before and after the trigger; its HEAD names the rule and the
 * trigger's time, docs/FORMAT.md section 6), and a command given at init,
 * started with posix_spawn from the timer thread and reaped there.
 *
 * The rule language is parsed by src/core/trigger_rules.c, which fills the
 * struct below.
 */
#ifndef TTLOG__TRIGGER_TRIGGER_H
#define TTLOG__TRIGGER_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

#define TTLOG__TRIGGER_MAX 32u          /* rules in one process */
#define TTLOG__TRIGGER_TEXT_MAX 256u    /* bytes of a rule's text, with its '\0' */
#define TTLOG__TRIGGER_NAME_MAX 128u    /* a metric's or span's name */
#define TTLOG__TRIGGER_EXEC_MAX 512u    /* an exec: command */
#define TTLOG__TRIGGER_MAX_BURST 64u    /* the N of max=N/PERIOD, at most */
#define TTLOG__TRIGGER_STEP_NS 100000000ull /* the timer's step with rules: 100 ms */

enum ttlog__trigger_kind {
	TTLOG__TRIG_LEVEL = 1,      /* an event at or above a level */
	TTLOG__TRIG_SPAN,           /* a span of a name that lasted longer than a bound */
	TTLOG__TRIG_QUANTILE,       /* a histogram's quantile over a window */
	TTLOG__TRIG_GAUGE,          /* a gauge against a threshold */
	TTLOG__TRIG_RATE,           /* a counter's rate per second over a window */
	TTLOG__TRIG_TOTAL           /* a counter's total against a threshold */
};

enum ttlog__trigger_cmp { TTLOG__CMP_GT = 0, TTLOG__CMP_GE, TTLOG__CMP_LT, TTLOG__CMP_LE };

enum {
	TTLOG__ACT_SNAPSHOT = 1u,
	TTLOG__ACT_STDERR = 2u,
	TTLOG__ACT_EXEC = 4u,
	TTLOG__ACT_METRIC = 8u
};

struct ttlog__trigger_rule {
	char text[TTLOG__TRIGGER_TEXT_MAX];  /* the rule as given, spaces trimmed */
	char label[TTLOG__TRIGGER_TEXT_MAX]; /* name=, else the text: the metric's label */
	int kind;                            /* enum ttlog__trigger_kind */
	/* TTLOG__TRIG_LEVEL: the lowest level, and optional filters */
	int level;
	char target[TTLOG__TRIGGER_NAME_MAX]; /* "": any */
	char site_file[TTLOG__TRIGGER_NAME_MAX]; /* "": any; a path or base name */
	uint32_t site_line;
	/* Span, metric: the name, and the condition */
	char name[TTLOG__TRIGGER_NAME_MAX];
	double quantile;                     /* TTLOG__TRIG_QUANTILE: 0 < q <= 1 */
	int cmp;                             /* enum ttlog__trigger_cmp */
	double value;                        /* the bound; span: ns; rate: per second */
	uint64_t over_ns;                    /* the window of a quantile or rate */
	uint64_t post_ns;                    /* the post-roll before the snapshot */
	/* The rate policy: every `every`-th match may fire; at most max_n
	 * fires per max_period_ns (max_n 0: no limit); once: one fire ever. */
	uint32_t every;
	uint32_t max_n;
	uint64_t max_period_ns;
	int once;
	unsigned actions;                    /* TTLOG__ACT_* */
	char exec[TTLOG__TRIGGER_EXEC_MAX];  /* the command of exec:, run by /bin/sh -c */
};

/* Reserves the evaluator's memory (once) and installs rules[0..n) in
 * place of any before; n may be 0. Normal context, under ttlog_init's
 * lock. TTLOG_OK or TTLOG_E_NOMEM (err says why). */
int ttlog__trigger_set(const struct ttlog__trigger_rule *rules, uint32_t n, char *err, size_t errsize);

/* Adds rules at run time. TTLOG_OK, TTLOG_E_NOMEM (the table is full or
 * no memory; err says which). Normal context, under ttlog_init's lock. */
int ttlog__trigger_add(const struct ttlog__trigger_rule *rules, uint32_t n, char *err, size_t errsize);

/* The number of rules installed. */
uint32_t ttlog__trigger_count(void);

/* The timer's step: looks at the rings and metrics, fires, writes the
 * snapshots whose post-roll has passed, reaps commands. Normal context,
 * on the timer thread. */
void ttlog__trigger_tick(void);

/* ttlog_shutdown (after the timer stopped): writes the snapshots still in
 * their post-roll now, so that none is lost; waits briefly for commands
 * still running, then forgets them. Normal context. */
void ttlog__trigger_stop(void);

/* exit() without ttlog_shutdown: writes the snapshots still in their
 * post-roll, as ttlog__trigger_stop() does (the timer may still run; they
 * take turns). Normal context. */
void ttlog__trigger_flush_at_exit(void);

/* In a forked child: its parent's pending snapshots and commands are not
 * its own. */
void ttlog__trigger_after_fork(void);

#endif
