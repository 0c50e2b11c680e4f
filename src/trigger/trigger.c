/* SPDX-License-Identifier: MIT */
/*
 * trigger.c - evaluating the triggers on the timer (see trigger.h).
 *
 * Who runs what: ttlog__trigger_tick() runs only on the timer thread (the
 * watchdog's, src/watchdog/), every TTLOG__TRIGGER_STEP_NS. Rules are added
 * under ttlog_init's lock, by ttlog_init (before the timer starts) or by
 * ttlog_trigger_add() (while it runs): an added rule is filled completely,
 * then published by the release store of `nrules` (LMM(trig:A)), which the
 * tick's acquire load pairs with (LMM(trig:B)); rules never change or go
 * once published, so the tick reads them without a lock. Everything else
 * below belongs to the tick alone, and to ttlog__trigger_stop() once the
 * timer has stopped.
 *
 * Events: each ring is read from where the tick stopped last time, as the
 * stream reads it (ttlog__ring_read_from: a consumer of its own, records
 * the ring dropped before the look are counted exactly into
 * trigger_records_missed). A record's site decides which rules it concerns;
 * that answer is cached per site id (a word per id: the rules' generation
 * and a mask). Span rules keep the begins of the spans they watch, a few per
 * ring, and measure each at its end record.
 *
 * Metrics: each metric rule keeps HISTORY samples of its metric's sums, one
 * every over/(HISTORY-1), so that the oldest is about `over` old: a rate or
 * a quantile over the window is the difference between now and the oldest
 * sample (for a histogram, bucket by bucket). A condition is
 * edge-triggered: a rule matches when it becomes true, and again only after
 * it was false at a look.
 *
 * Firing: a match passes the rate policy (every N-th match, at most N fires
 * per period, once), then the actions run. A snapshot is due once the
 * post-roll has passed; matches of the same rule during the post-roll are
 * held back (that snapshot holds them). A snapshot refused as busy (another
 * is being written) is tried again at the next looks, for up to
 * BUSY_RETRY_NS.
 */
#define _GNU_SOURCE
#include "trigger/trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/histogram.h"
#include "common/internal.h"
#include "common/sigsafe.h"
#include "common/state.h"
#include "metrics/metrics.h"
#include "ring/ring.h"
#include "sites/desc.h"
#include "sites/sites.h"
#include "snapshot/writer.h"
#include "thread/thread.h"
#include "ttlog.h"

extern char **environ;

#define MAX_RINGS 1024u               /* rings looked at, by index; more are not */
#define OPEN_SPANS 8u                 /* watched spans open at once per ring */
#define HISTORY 17u                   /* samples per metric rule */
#define MAX_ENTRIES 8u                /* metrics of one name (label sets) summed */
#define MAX_CHILDREN 16u              /* commands running at once */
#define BUSY_RETRY_NS 5000000000ull
#define STAGE_BYTES (64u * 1024u + 64u)
#define BUCKET_BYTES (8u * (size_t)TTLOG__HIST_BUCKETS)

struct open_span {
	uint64_t id, ticks;
	uint64_t rules;                   /* the span rules its name matched */
};

struct ring_look {
	struct ttlog__ring_consumer c;
	struct open_span spans[OPEN_SPANS];
	uint32_t next;                    /* the slot to reuse when all are taken */
};

struct sample {
	uint64_t mono;
	uint64_t counter;
	unsigned char *buckets;           /* quantile rules: BUCKET_BYTES */
};

struct rule_state {
	struct ttlog__trigger_rule r;
	uint64_t added_ticks;             /* events before it do not concern it */
	uint64_t matches, fires;
	uint64_t fire_mono[TTLOG__TRIGGER_MAX_BURST];
	uint32_t fire_next;
	int active;                       /* metric rules: true at the last look */
	int pending;                      /* a snapshot waits for its post-roll */
	uint64_t due_mono;
	int64_t trig_ns;
	uint32_t metrics_seen, nentries;
	uint32_t entries[MAX_ENTRIES];
	struct sample hist[HISTORY];
	uint32_t nhist, hist_next;
	unsigned char *bucket_mem;        /* HISTORY * BUCKET_BYTES, quantile rules */
};

struct memory {
	struct rule_state rules[TTLOG__TRIGGER_MAX];
	struct ring_look rings[MAX_RINGS];
	uint64_t site_rules[TTLOG__MAX_SITES + 1]; /* generation << 32 | mask */
	unsigned char stage[STAGE_BYTES];
	unsigned char now_buckets[BUCKET_BYTES];
	unsigned char one_buckets[BUCKET_BYTES];
	struct ttlog__trigger_fired fired;
	pid_t children[MAX_CHILDREN];
};

static struct memory *mem;
/* The tick's state against ttlog__trigger_flush_at_exit(), which may run in
 * the thread that calls exit() while the timer still runs. */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t nrules;
static uint32_t seen_rules;           /* the tick's: nrules at its last look */
static uint64_t last_look;            /* the tick's: monotonic ns */
static uint64_t generation = 1;       /* the tick's: of site_rules */
static uint64_t event_rules;          /* the tick's: the event and span rules */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int reserve(char *err, size_t errsize)
{
	if (mem)
		return TTLOG_OK;
	/* MAP_NORESERVE: the site table's pages cost memory only for the ids
	 * in use. */
	void *m = mmap(NULL, sizeof *mem, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errsize, "triggers: cannot reserve memory: %s", strerror(errno));
		return TTLOG_E_NOMEM;
	}
	mem = m;
	atomic_store_explicit(&ttlog__g.trigger_fired, &mem->fired, memory_order_release);
	return TTLOG_OK;
}

static int is_metric_rule(int kind)
{
	return kind == TTLOG__TRIG_QUANTILE || kind == TTLOG__TRIG_GAUGE ||
	       kind == TTLOG__TRIG_RATE || kind == TTLOG__TRIG_TOTAL;
}

int ttlog__trigger_add(const struct ttlog__trigger_rule *rules, uint32_t n, char *err, size_t errsize)
{
	int rc = reserve(err, errsize);
	if (rc != TTLOG_OK)
		return rc;
	uint32_t have = atomic_load_explicit(&nrules, memory_order_relaxed);
	if (n > TTLOG__TRIGGER_MAX - have) {
		snprintf(err, errsize, "triggers: at most %u rules, %u are set already",
			 TTLOG__TRIGGER_MAX, have);
		return TTLOG_E_NOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct rule_state *s = &mem->rules[have + i];
		memset(s, 0, sizeof *s);
		s->r = rules[i];
		s->added_ticks = ttlog__clock_now();
		if (s->r.kind == TTLOG__TRIG_QUANTILE) {
			void *m = mmap(NULL, HISTORY * BUCKET_BYTES, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED) {
				snprintf(err, errsize, "triggers: cannot reserve memory for '%s': %s",
					 s->r.text, strerror(errno));
				for (uint32_t j = 0; j < i; j++)
					if (mem->rules[have + j].bucket_mem)
						munmap(mem->rules[have + j].bucket_mem,
						       HISTORY * BUCKET_BYTES);
				return TTLOG_E_NOMEM;
			}
			s->bucket_mem = m;
			for (uint32_t k = 0; k < HISTORY; k++)
				s->hist[k].buckets = s->bucket_mem + k * BUCKET_BYTES;
		}
		/* The metric's label: "rule=" and the rule's label. */
		struct ttlog__sbuf sb;
		ttlog__sb_init(&sb, mem->fired.rule[have + i].label, sizeof mem->fired.rule[0].label);
		ttlog__sb_str(&sb, "rule=");
		ttlog__sb_str(&sb, s->r.label);
		mem->fired.rule[have + i].metric = (s->r.actions & TTLOG__ACT_METRIC) != 0;
		atomic_store_explicit(&mem->fired.rule[have + i].fired, 0, memory_order_relaxed);
	}
	atomic_store_explicit(&mem->fired.n, have + n, memory_order_release);
	/* LMM(trig:A) pairs with LMM(trig:B): the rules are whole. */
	atomic_store_explicit(&nrules, have + n, memory_order_release);
	return TTLOG_OK;
}

int ttlog__trigger_set(const struct ttlog__trigger_rule *rules, uint32_t n, char *err, size_t errsize)
{
	/* The timer is not running: the table may be emptied. */
	uint32_t have = atomic_load_explicit(&nrules, memory_order_relaxed);
	for (uint32_t i = 0; mem && i < have; i++)
		if (mem->rules[i].bucket_mem)
			munmap(mem->rules[i].bucket_mem, HISTORY * BUCKET_BYTES);
	atomic_store_explicit(&nrules, 0, memory_order_relaxed);
	if (mem) {
		atomic_store_explicit(&mem->fired.n, 0, memory_order_relaxed);
		memset(mem->rings, 0, sizeof mem->rings);
	}
	seen_rules = 0;
	if (!n)
		return TTLOG_OK;
	return ttlog__trigger_add(rules, n, err, errsize);
}

uint32_t ttlog__trigger_count(void)
{
	return atomic_load_explicit(&nrules, memory_order_relaxed);
}

/* ---- Actions ---------------------------------------------------------------- */

static void reap(int wait_briefly)
{
	uint64_t until = mono_ns() + (wait_briefly ? 2000000000ull : 0);
	for (;;) {
		int left = 0;
		for (uint32_t i = 0; i < MAX_CHILDREN; i++) {
			if (!mem->children[i])
				continue;
			int status;
			pid_t p = waitpid(mem->children[i], &status, WNOHANG);
			if (p == mem->children[i] || (p < 0 && errno == ECHILD))
				mem->children[i] = 0; /* reaped (or by the program's own handler) */
			else
				left++;
		}
		if (!left || mono_ns() >= until)
			return;
		struct timespec ts = {0, 10000000L};
		nanosleep(&ts, NULL);
	}
}

/* "NAME=value" into a new string; NULL without memory. */
static char *env_entry(const char *name, const char *value)
{
	size_t a = strlen(name), b = strlen(value);
	char *e = malloc(a + b + 2);
	if (e) {
		memcpy(e, name, a);
		e[a] = '=';
		memcpy(e + a + 1, value, b + 1);
	}
	return e;
}

/* Starts the rule's command with /bin/sh -c, its environment the
 * process's plus TTLOG_TRIGGER_RULE, TTLOG_TRIGGER_TIME (ns since the
 * epoch) and TTLOG_TRIGGER_FILE (the snapshot, "" if none), stdin from
 * /dev/null, every signal at its default and none blocked. */
static void run_command(const struct rule_state *s, const char *file)
{
	uint32_t slot = MAX_CHILDREN;
	for (uint32_t i = 0; i < MAX_CHILDREN && slot == MAX_CHILDREN; i++)
		if (!mem->children[i])
			slot = i;
	if (slot == MAX_CHILDREN) {
		atomic_fetch_add_explicit(&ttlog__g.trigger_exec_failed, 1, memory_order_relaxed);
		return;
	}
	size_t nenv = 0;
	while (environ && environ[nenv])
		nenv++;
	char **envp = calloc(nenv + 4, sizeof *envp);
	char when[32];
	snprintf(when, sizeof when, "%lld", (long long)s->trig_ns);
	char *added[3] = {env_entry("TTLOG_TRIGGER_RULE", s->r.text),
			  env_entry("TTLOG_TRIGGER_TIME", when),
			  env_entry("TTLOG_TRIGGER_FILE", file ? file : "")};
	int ok = envp && added[0] && added[1] && added[2];
	pid_t pid = 0;
	if (ok) {
		size_t k = 0;
		for (size_t i = 0; i < nenv; i++)
			if (strncmp(environ[i], "TTLOG_TRIGGER_RULE=", 19) != 0 &&
			    strncmp(environ[i], "TTLOG_TRIGGER_TIME=", 19) != 0 &&
			    strncmp(environ[i], "TTLOG_TRIGGER_FILE=", 19) != 0)
				envp[k++] = environ[i];
		for (int i = 0; i < 3; i++)
			envp[k++] = added[i];
		envp[k] = NULL;
		posix_spawnattr_t attr;
		posix_spawn_file_actions_t fa;
		posix_spawnattr_init(&attr);
		posix_spawn_file_actions_init(&fa);
		sigset_t none, all;
		sigemptyset(&none);
		sigfillset(&all);
		posix_spawnattr_setsigmask(&attr, &none);
		posix_spawnattr_setsigdefault(&attr, &all);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
		char *argv[] = {"/bin/sh", "-c", (char *)s->r.exec, NULL};
		ok = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp) == 0;
		posix_spawn_file_actions_destroy(&fa);
		posix_spawnattr_destroy(&attr);
	}
	for (int i = 0; i < 3; i++)
		free(added[i]);
	free(envp);
	if (ok)
		mem->children[slot] = pid;
	else
		atomic_fetch_add_explicit(&ttlog__g.trigger_exec_failed, 1, memory_order_relaxed);
}

/* One line on stderr: "ttlog: trigger fired: RULE (DETAIL) at TIME". */
static void say(const struct rule_state *s, const char *detail)
{
	char line[TTLOG__TRIGGER_TEXT_MAX + 256];
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, line, sizeof line - 1);
	ttlog__sb_str(&sb, "ttlog: trigger fired: ");
	ttlog__sb_str(&sb, s->r.text);
	if (detail[0]) {
		ttlog__sb_str(&sb, " (");
		ttlog__sb_str(&sb, detail);
		ttlog__sb_str(&sb, ")");
	}
	ttlog__sb_str(&sb, " at ");
	ttlog__sb_utc_stamp(&sb, s->trig_ns);
	if (s->r.actions & TTLOG__ACT_SNAPSHOT) {
		ttlog__sb_str(&sb, "; snapshot after ");
		ttlog__sb_u64(&sb, s->r.post_ns / 1000000ull, 0);
		ttlog__sb_str(&sb, " ms");
	}
	line[sb.len] = '\n';
	ttlog__write_all(2, line, sb.len + 1);
}

static void write_snapshot(struct rule_state *s, uint64_t now, int last_try)
{
	char path[PATH_MAX];
	int rc = ttlog__snapshot_write_trigger(TTLOG__WS_NORMAL, "trigger", s->r.text, s->trig_ns,
					       path, sizeof path);
	if (rc == TTLOG_E_BUSY && !last_try && now - s->due_mono < BUSY_RETRY_NS)
		return; /* again at the next look */
	s->pending = 0;
	atomic_fetch_add_explicit(rc == TTLOG_OK ? &ttlog__g.trigger_snapshots
						 : &ttlog__g.trigger_snapshots_failed,
				  1, memory_order_relaxed);
	if (s->r.actions & TTLOG__ACT_EXEC)
		run_command(s, rc == TTLOG_OK ? path : "");
}

/* The rate policy, then the actions. */
static void matched(uint32_t i, uint64_t now, int64_t trig_ns, const char *detail)
{
	struct rule_state *s = &mem->rules[i];
	s->matches++;
	int held = 0;
	if (s->r.every > 1 && s->matches % s->r.every != 0)
		held = 1;
	else if (s->pending || (s->r.once && s->fires))
		held = 1;
	else if (s->r.max_n && s->fires >= s->r.max_n &&
		 now - s->fire_mono[s->fire_next] < s->r.max_period_ns)
		held = 1;
	if (held) {
		atomic_fetch_add_explicit(&ttlog__g.triggers_suppressed, 1, memory_order_relaxed);
		return;
	}
	s->fires++;
	if (s->r.max_n) {
		s->fire_mono[s->fire_next] = now;
		s->fire_next = (s->fire_next + 1) % s->r.max_n;
	}
	s->trig_ns = trig_ns;
	atomic_fetch_add_explicit(&ttlog__g.triggers_fired, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mem->fired.rule[i].fired, 1, memory_order_relaxed);
	if (s->r.actions & TTLOG__ACT_STDERR)
		say(s, detail);
	if (s->r.actions & TTLOG__ACT_SNAPSHOT) {
		s->pending = 1;
		s->due_mono = now + s->r.post_ns;
	} else if (s->r.actions & TTLOG__ACT_EXEC) {
		run_command(s, NULL);
	}
}

/* ---- Events ----------------------------------------------------------------- */

/* Whether the description's string (s, len bytes, not '\0'-ended) is text. */
static int same(const char *s, uint32_t len, const char *text)
{
	return strlen(text) == len && memcmp(s, text, len) == 0;
}

/* The base name of a description's file: its offset in d->file. */
static uint32_t base_off(const struct ttlog__site_desc *d)
{
	uint32_t b = d->file_len;
	while (b > 0 && d->file[b - 1] != '/')
		b--;
	return b;
}

/* The event and span rules that records of site id concern. */
static uint64_t site_rules(uint32_t id, uint32_t n)
{
	uint64_t w = mem->site_rules[id];
	if (w >> 32 == generation)
		return w & 0xffffffffu;
	const struct ttlog__site_desc *d = ttlog__site_desc_lookup(id);
	uint64_t mask = 0;
	for (uint32_t i = 0; d && i < n; i++) {
		const struct ttlog__trigger_rule *r = &mem->rules[i].r;
		if (r->kind == TTLOG__TRIG_LEVEL) {
			if (d->kind != TTLOG__KIND_LOG || d->level < r->level)
				continue;
			if (r->target[0] && !same(d->target, d->target_len, r->target))
				continue;
			if (r->site_file[0]) {
				uint32_t b = base_off(d);
				if (d->line != r->site_line ||
				    (!same(d->file, d->file_len, r->site_file) &&
				     !same(d->file + b, d->file_len - b, r->site_file)))
					continue;
			}
			mask |= 1ull << i;
		} else if (r->kind == TTLOG__TRIG_SPAN) {
			if (d->kind == TTLOG__KIND_SPAN_END ||
			    (d->kind == TTLOG__KIND_SPAN_BEGIN && same(d->format, d->format_len, r->name)))
				mask |= 1ull << i;
		}
	}
	mem->site_rules[id] = generation << 32 | mask;
	return mask;
}

struct look {
	uint64_t now;                     /* monotonic ns */
	struct ttlog__calibration cal;
	uint64_t tps;                     /* ticks per second */
	uint32_t n;
};

static int64_t wall_of(const struct look *lk, uint64_t ticks)
{
	const struct ttlog__calibration *c = &lk->cal;
	__int128 d = (__int128)((int64_t)(ticks - c->tick0)) * (c->ns1 - c->ns0) /
		     (__int128)(c->tick1 - c->tick0);
	return c->ns0 + (int64_t)d;
}

static int holds(int cmp, double v, double bound)
{
	switch (cmp) {
	case TTLOG__CMP_GT: return v > bound;
	case TTLOG__CMP_GE: return v >= bound;
	case TTLOG__CMP_LT: return v < bound;
	default: return v <= bound;
	}
}

static void span_end(const struct look *lk, struct ring_look *rl, uint64_t id, uint64_t ticks,
		     uint64_t mask)
{
	for (uint32_t k = 0; k < OPEN_SPANS; k++) {
		struct open_span *o = &rl->spans[k];
		if (!o->rules || o->id != id)
			continue;
		uint64_t dt = ticks > o->ticks ? ticks - o->ticks : 0;
		double ns = (double)dt * 1e9 / (double)lk->tps;
		for (uint32_t i = 0; i < lk->n; i++) {
			if (!(o->rules & mask & (1ull << i)) || !holds(mem->rules[i].r.cmp, ns,
									 mem->rules[i].r.value))
				continue;
			char detail[64];
			snprintf(detail, sizeof detail, "lasted %.3f ms", ns / 1e6);
			matched(i, lk->now, wall_of(lk, ticks), detail);
		}
		o->rules = 0;
		return;
	}
}

static void record(const struct look *lk, struct ring_look *rl, const unsigned char *rec,
		   uint32_t size, uint32_t id)
{
	uint64_t mask = site_rules(id, lk->n);
	if (!mask)
		return;
	uint64_t ticks = ttlog__get_u64(rec + 8);
	const struct ttlog__site_desc *d = ttlog__site_desc_lookup(id);
	if (!d)
		return;
	if (d->kind == TTLOG__KIND_LOG) {
		for (uint32_t i = 0; i < lk->n; i++) {
			if (!(mask & (1ull << i)) || ticks < mem->rules[i].added_ticks)
				continue;
			char detail[TTLOG__TRIGGER_NAME_MAX + 32];
			uint32_t b = base_off(d);
			snprintf(detail, sizeof detail, "%s at %.*s:%u", ttlog_level_name(d->level),
				 (int)(d->file_len - b), d->file + b, d->line);
			matched(i, lk->now, wall_of(lk, ticks), detail);
		}
		return;
	}
	if (size < 24)
		return;
	uint64_t span = ttlog__get_u64(rec + 16);
	if (d->kind == TTLOG__KIND_SPAN_END) {
		span_end(lk, rl, span, ticks, mask);
		return;
	}
	if (d->kind != TTLOG__KIND_SPAN_BEGIN)
		return;
	for (uint32_t j = 0; j < OPEN_SPANS; j++)
		if (rl->spans[j].rules && rl->spans[j].id == span)
			return; /* a re-statement of a begin seen already (RESTATE) */
	uint32_t k = 0;
	while (k < OPEN_SPANS && rl->spans[k].rules)
		k++;
	if (k == OPEN_SPANS) { /* all taken: the oldest watched span is forgotten */
		k = rl->next;
		rl->next = (rl->next + 1) % OPEN_SPANS;
	}
	uint64_t keep = 0;
	for (uint32_t i = 0; i < lk->n; i++)
		if ((mask & (1ull << i)) && ticks >= mem->rules[i].added_ticks)
			keep |= 1ull << i;
	rl->spans[k] = (struct open_span){span, ticks, keep};
}

static void scan_rings(const struct look *lk)
{
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		if (r->index >= MAX_RINGS)
			continue;
		struct ring_look *rl = &mem->rings[r->index];
		struct ttlog__ring_cursor cur;
		uint64_t lost = 0;
		int more = ttlog__ring_read_from(r, &rl->c, &cur, &lost);
		if (!cur.exact)
			continue;
		if (!rl->c.valid || rl->c.gen != cur.gen)
			memset(rl->spans, 0, sizeof rl->spans); /* a new owner */
		size_t got;
		while (more && (got = ttlog__ring_read(&cur, mem->stage, sizeof mem->stage)) > 0) {
			for (size_t off = 0; off + 16 <= got;) {
				uint32_t size = ttlog__get_u32(mem->stage + off);
				uint32_t id = ttlog__get_u32(mem->stage + off + 4);
				if (size < 8 || size > got - off)
					break; /* cannot happen: read() returns whole records */
				if (id != 0 && id <= TTLOG__MAX_SITES && size >= 16)
					record(lk, rl, mem->stage + off, size, id);
				off += size;
			}
		}
		ttlog__ring_read_end(&cur, &rl->c);
		lost += cur.torn;
		if (lost)
			atomic_fetch_add_explicit(&ttlog__g.trigger_records_missed, lost,
						  memory_order_relaxed);
	}
}

/* ---- Metrics ---------------------------------------------------------------- */

static uint8_t metric_type(int kind)
{
	return kind == TTLOG__TRIG_QUANTILE ? TTLOG__METRIC_HISTOGRAM
	       : kind == TTLOG__TRIG_GAUGE  ? TTLOG__METRIC_GAUGE
					    : TTLOG__METRIC_COUNTER;
}

/* The metric's entries (every label set of the name), found as they are
 * registered. */
static void find_entries(struct rule_state *s)
{
	uint32_t n = ttlog__metrics_count();
	for (; s->metrics_seen < n && s->nentries < MAX_ENTRIES; s->metrics_seen++) {
		const struct ttlog__metric_entry *e = ttlog__metrics_entry(s->metrics_seen);
		if (e && e->type == metric_type(s->r.kind) && strcmp(e->name, s->r.name) == 0)
			s->entries[s->nentries++] = s->metrics_seen;
	}
}

/* The sum over the entries now: the counter, the gauge (have: one was
 * set), or the histogram's buckets into now_buckets and its min and max. */
static void read_now(struct rule_state *s, uint64_t *counter, double *gauge, int *have,
		     double *mn, double *mx)
{
	*counter = 0;
	*have = 0;
	uint64_t gticks = 0;
	int seen = 0;
	if (s->r.kind == TTLOG__TRIG_QUANTILE)
		memset(mem->now_buckets, 0, BUCKET_BYTES);
	for (uint32_t k = 0; k < s->nentries; k++) {
		struct ttlog__metric_sum sum;
		const struct ttlog__metric_entry *e = ttlog__metrics_entry(s->entries[k]);
		if (s->r.kind == TTLOG__TRIG_QUANTILE) {
			ttlog__metric_read(e, &sum, mem->one_buckets, NULL);
			for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++) {
				uint64_t c = ttlog__get_u64(mem->one_buckets + 8 * i);
				if (c)
					ttlog__put_u64(mem->now_buckets + 8 * i,
						       ttlog__get_u64(mem->now_buckets + 8 * i) + c);
			}
			if (sum.count) {
				*mn = !seen || sum.min < *mn ? sum.min : *mn;
				*mx = !seen || sum.max > *mx ? sum.max : *mx;
				seen = 1;
			}
			*counter += sum.count;
		} else {
			ttlog__metric_read(e, &sum, NULL, NULL);
			*counter += sum.counter;
			if (sum.gauge_ticks && sum.gauge_ticks >= gticks) {
				gticks = sum.gauge_ticks;
				*gauge = sum.gauge;
				*have = 1;
			}
		}
	}
}

/* The quantile q of the observations since sample b: the differences of
 * the buckets. 0 with *count 0 if there were none. */
static double window_quantile(const struct sample *b, double q, double mn, double mx,
			      uint64_t *count)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++)
		total += ttlog__get_u64(mem->now_buckets + 8 * i) - ttlog__get_u64(b->buckets + 8 * i);
	*count = total;
	if (!total)
		return 0;
	double want = q * (double)total;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want || rank == 0)
		rank++;
	uint64_t cum = 0;
	for (uint32_t i = 0; i < TTLOG__HIST_BUCKETS; i++) {
		cum += ttlog__get_u64(mem->now_buckets + 8 * i) - ttlog__get_u64(b->buckets + 8 * i);
		if (cum >= rank)
			return ttlog__hist_point(i, mn, mx);
	}
	return mx;
}

static void eval_metric(const struct look *lk, uint32_t i)
{
	struct rule_state *s = &mem->rules[i];
	find_entries(s);
	/* A metric not registered yet is 0: a windowed rule keeps its history
	 * from the start, so that the first updates count in its rate. */
	if (!s->nentries && (s->r.kind == TTLOG__TRIG_GAUGE || s->r.kind == TTLOG__TRIG_TOTAL))
		return;
	uint64_t counter;
	double gauge = 0, mn = 0, mx = 0;
	int have;
	read_now(s, &counter, &gauge, &have, &mn, &mx);
	int cond = 0;
	char detail[96] = "";
	if (s->r.kind == TTLOG__TRIG_GAUGE) {
		cond = have && holds(s->r.cmp, gauge, s->r.value);
		snprintf(detail, sizeof detail, "%s = %g", s->r.name, gauge);
	} else if (s->r.kind == TTLOG__TRIG_TOTAL) {
		cond = holds(s->r.cmp, (double)counter, s->r.value);
		snprintf(detail, sizeof detail, "%s = %llu", s->r.name, (unsigned long long)counter);
	} else {
		/* Windowed: against the oldest sample, then a new sample if one
		 * is due. */
		const struct sample *b = NULL;
		if (s->nhist)
			b = &s->hist[s->nhist < HISTORY ? 0 : s->hist_next];
		if (b && lk->now > b->mono) {
			if (s->r.kind == TTLOG__TRIG_RATE) {
				double secs = (double)(lk->now - b->mono) / 1e9;
				double rate = (double)(counter - b->counter) / secs;
				cond = holds(s->r.cmp, rate, s->r.value);
				snprintf(detail, sizeof detail, "%.3g/s over %.1f s", rate, secs);
			} else {
				uint64_t count;
				double v = window_quantile(b, s->r.quantile, mn, mx, &count);
				cond = count && holds(s->r.cmp, v, s->r.value);
				snprintf(detail, sizeof detail, "p%g = %g of %llu over %.1f s",
					 s->r.quantile * 100.0, v, (unsigned long long)count,
					 (double)(lk->now - b->mono) / 1e9);
			}
		}
		uint64_t step = s->r.over_ns / (HISTORY - 1);
		const struct sample *last =
			s->nhist ? &s->hist[(s->hist_next + HISTORY - 1) % HISTORY] : NULL;
		if (!last || lk->now - last->mono >= step) {
			struct sample *to = &s->hist[s->hist_next];
			to->mono = lk->now;
			to->counter = counter;
			if (to->buckets)
				memcpy(to->buckets, mem->now_buckets, BUCKET_BYTES);
			s->hist_next = (s->hist_next + 1) % HISTORY;
			if (s->nhist < HISTORY)
				s->nhist++;
		}
	}
	if (cond && !s->active)
		matched(i, lk->now, ttlog__clock_realtime_ns(), detail);
	s->active = cond;
}

/* ---- The tick --------------------------------------------------------------- */

static void tick_locked(void);

void ttlog__trigger_tick(void)
{
	if (!mem)
		return;
	pthread_mutex_lock(&tick_lock);
	tick_locked();
	pthread_mutex_unlock(&tick_lock);
}

static void tick_locked(void)
{
	/* LMM(trig:B) pairs with LMM(trig:A). */
	uint32_t n = atomic_load_explicit(&nrules, memory_order_acquire);
	if (n != seen_rules) {
		seen_rules = n;
		generation++;
		event_rules = 0;
		for (uint32_t i = 0; i < n; i++)
			if (!is_metric_rule(mem->rules[i].r.kind))
				event_rules |= 1ull << i;
	}
	if (!n)
		return;
	struct look lk;
	lk.now = mono_ns();
	/* The drainer calls more often when busy: one look a step. */
	if (lk.now - last_look < TTLOG__TRIGGER_STEP_NS * 9 / 10)
		return;
	last_look = lk.now;
	lk.n = n;
	lk.tps = ttlog__clock_ticks_per_second();
	ttlog__clock_calibrate(&lk.cal, 0);
	if (event_rules)
		scan_rings(&lk);
	for (uint32_t i = 0; i < n; i++)
		if (is_metric_rule(mem->rules[i].r.kind))
			eval_metric(&lk, i);
	for (uint32_t i = 0; i < n; i++)
		if (mem->rules[i].pending && lk.now >= mem->rules[i].due_mono)
			write_snapshot(&mem->rules[i], lk.now, 0);
	reap(0);
}

/* The snapshots still in their post-roll, written now. */
static void write_pending(void)
{
	uint32_t n = atomic_load_explicit(&nrules, memory_order_acquire);
	uint64_t now = mono_ns();
	for (uint32_t i = 0; i < n; i++)
		if (mem->rules[i].pending)
			write_snapshot(&mem->rules[i], now, 1);
}

void ttlog__trigger_stop(void)
{
	if (!mem)
		return;
	pthread_mutex_lock(&tick_lock);
	write_pending();
	reap(1);
	memset(mem->children, 0, sizeof mem->children);
	pthread_mutex_unlock(&tick_lock);
}

void ttlog__trigger_flush_at_exit(void)
{
	if (!mem)
		return;
	pthread_mutex_lock(&tick_lock);
	write_pending();
	pthread_mutex_unlock(&tick_lock);
}

void ttlog__trigger_after_fork(void)
{
	pthread_mutex_init(&tick_lock, NULL);
	if (!mem)
		return;
	uint32_t n = atomic_load_explicit(&nrules, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++)
		mem->rules[i].pending = 0;
	memset(mem->children, 0, sizeof mem->children);
}
