/* SPDX-License-Identifier: MIT */
/*
 * span.c - spans (TTLOG_SPAN and friends, ttlog.h): their ids, their end,
 * and W3C Trace Context (`traceparent`) in and out.
 *
 * A span is a scope (see context.c): its begin record opens it, its end
 * record closes it, and the thread's scope stack keeps its ids while it is
 * open. Ids follow W3C Trace Context: a trace id of 128 bits shared by all
 * the spans of one request, in every thread and process it crosses, and a
 * span id of 64 bits; neither may be all zeros. A begin record carries
 * (span id, parent span id or 0, trace id high half, low half), so a reader
 * needs nothing else to join spans across threads and files.
 *
 * Ids are drawn from a per-thread splitmix64 sequence seeded from
 * getrandom() (once per thread, and again in a forked child, which would
 * otherwise repeat its parent's ids). That is not cryptographic, and need
 * not be: W3C asks for ids that are unique with high probability, which 64
 * random-seeded bits per draw give.
 *
 * Where a span with no open parent gets its trace, in order: the thread's
 * own ttlog_trace_continue(), then the TRACEPARENT environment variable
 * read at ttlog_init() (the convention OpenTelemetry uses to hand a trace
 * to a child process), then a new random trace.
 */
#include "context/context.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "common/state.h"
#include "sites/sites.h"
#include "thread/scopes.h"
#include "thread/thread.h"

static const uint8_t end_types[] = {TTLOG_ARG_U64, 0};
static _Atomic uint64_t end_site_word;
static struct ttlog_site end_site = {
	&end_site_word, TTLOG_LEVEL_INFO, 1, TTLOG__KIND_SPAN_END, 0, 0, end_types, "",
	"ttlog", "span_end", "ttlog", ""};

/* A trace handed in from elsewhere: new root spans become its children. */
struct remote_parent {
	uint64_t trace_hi, trace_lo, span_id;
};

/* What ttlog_trace_continue() left for this thread. */
enum { REMOTE_DEFAULT = 0, REMOTE_OWN = 1, REMOTE_NONE = 2 };

/* initial-exec, like ttlog__tls_writer: a direct access instead of a call
 * to __tls_get_addr per use, which was a third of a span's cost. */
static __thread struct {
	uint64_t state;      /* splitmix64 state */
	int seeded_pid;      /* the process it was seeded in; 0: not seeded */
	int remote_mode;     /* REMOTE_* */
	struct remote_parent remote;
} tls_span __attribute__((tls_model("initial-exec")));

/* From TRACEPARENT at ttlog_init(); valid when process_remote_set is 1.
 * Written before ttlog_init() publishes the state (release), read after. */
static struct remote_parent process_remote;
static int process_remote_set;

/* ---- Ids ------------------------------------------------------------------- */

static void seed_thread(void)
{
	uint64_t seed = 0;
	ssize_t got;
	do
		got = getrandom(&seed, sizeof seed, GRND_NONBLOCK);
	while (got < 0 && errno == EINTR);
	/* Without entropy (very early boot), mix what differs between threads
	 * and runs: the time, the process id and where the thread's TLS lives. */
	seed ^= ttlog__clock_ticks() ^ (uint64_t)(uintptr_t)&tls_span ^
		(uint64_t)(uint32_t)ttlog__g.pid << 32;
	tls_span.state = seed;
	tls_span.seeded_pid = ttlog__g.pid;
}

/* The next non-zero 64-bit id of the calling thread. */
static uint64_t next_id(void)
{
	if (tls_span.seeded_pid != ttlog__g.pid || tls_span.seeded_pid == 0)
		seed_thread();
	uint64_t z;
	do {
		tls_span.state += 0x9e3779b97f4a7c15u; /* splitmix64: 2^64 / golden ratio */
		z = tls_span.state;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
		z ^= z >> 31;
	} while (z == 0);
	return z;
}

static const struct remote_parent *current_remote(void)
{
	switch (tls_span.remote_mode) {
	case REMOTE_OWN: return &tls_span.remote;
	case REMOTE_NONE: return NULL;
	default: return process_remote_set ? &process_remote : NULL;
	}
}

/* ---- Begin and end ------------------------------------------------------- */

TTLOG_API uint32_t ttlog__span_prepare(struct ttlog__span_ids *ids)
{
	ids->id = 0;
	/* LMM(init:B) pairs with LMM(init:A) in ttlog_init(). */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON)
		return 0;
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st) {
		/* The first record of the thread: its ring is needed now, to
		 * keep the span once it is recorded. */
		if (!ttlog__thread_attach())
			return 0; /* counted as a dropped event */
		st = ttlog__scopes_self();
		if (!st)
			return 0;
	}
	if (st->n >= TTLOG__SCOPE_MAX) {
		st->over_spans++;
		return st->spans + st->over_spans;
	}
	int p = ttlog__scopes_innermost(st, TTLOG__KIND_SPAN_BEGIN);
	const struct remote_parent *rp;
	if (p >= 0) {
		ids->parent = st->entry[p].span_id;
		ids->trace_hi = st->entry[p].trace_hi;
		ids->trace_lo = st->entry[p].trace_lo;
	} else if ((rp = current_remote()) != NULL) {
		ids->parent = rp->span_id;
		ids->trace_hi = rp->trace_hi;
		ids->trace_lo = rp->trace_lo;
	} else {
		ids->parent = 0;
		ids->trace_hi = next_id();
		ids->trace_lo = next_id();
	}
	ids->id = next_id();
	return 0;
}

TTLOG_API uint32_t ttlog__span_begun(const struct ttlog__span_ids *ids, const unsigned char *rec,
				      uint32_t len)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st)
		return 0; /* cannot happen: prepare gave the thread its ring */
	if (ttlog__scopes_push(st, TTLOG__KIND_SPAN_BEGIN, rec, len)) {
		struct ttlog__scope *e = &st->entry[st->n - 1];
		e->span_id = ids->id;
		e->trace_hi = ids->trace_hi;
		e->trace_lo = ids->trace_lo;
	} else {
		st->over_spans++;
	}
	return st->spans + st->over_spans;
}

TTLOG_API void ttlog_span_end(void)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st || st->spans + st->over_spans == 0)
		return;
	if (st->over_spans > 0) {
		st->over_spans--; /* not recorded: nothing to end */
		return;
	}
	uint32_t i = (uint32_t)ttlog__scopes_innermost(st, TTLOG__KIND_SPAN_BEGIN);
	ttlog__scopes_close_record(&end_site, &st->entry[i].span_id);
	ttlog__scopes_remove(st, i);
}

TTLOG_API void ttlog__span_end_to(uint32_t depth)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	while (st && st->spans + st->over_spans > depth)
		ttlog_span_end();
}

TTLOG_API unsigned ttlog_span_depth(void)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	return st ? st->spans + st->over_spans : 0;
}

TTLOG_API uint64_t ttlog__span_current(void)
{
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	if (!st)
		return 0;
	int i = ttlog__scopes_innermost(st, TTLOG__KIND_SPAN_BEGIN);
	return i >= 0 ? st->entry[i].span_id : 0;
}

/* ---- traceparent ------------------------------------------------------------ */

static const char hex_digits[] = "0123456789abcdef";

static void put_hex(char *out, uint64_t v, int digits)
{
	for (int i = digits - 1; i >= 0; i--) {
		out[i] = hex_digits[v & 15];
		v >>= 4;
	}
}

/* Lower-case hex only, as W3C requires; -1 for anything else. */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int get_hex(const char *s, int digits, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0; i < digits; i++) {
		int d = hex_value(s[i]);
		if (d < 0)
			return 0;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return 1;
}

TTLOG_API int ttlog_traceparent(char *buf, size_t size)
{
	if (!buf)
		return TTLOG_E_INVALID;
	if (size < TTLOG_TRACEPARENT_SIZE) {
		if (size)
			buf[0] = '\0';
		return TTLOG_E_RANGE;
	}
	struct remote_parent cur;
	struct ttlog__scope_stack *st = ttlog__scopes_self();
	int i = st ? ttlog__scopes_innermost(st, TTLOG__KIND_SPAN_BEGIN) : -1;
	const struct remote_parent *rp;
	if (i >= 0) {
		cur.trace_hi = st->entry[i].trace_hi;
		cur.trace_lo = st->entry[i].trace_lo;
		cur.span_id = st->entry[i].span_id;
	} else if ((rp = current_remote()) != NULL) {
		cur = *rp;
	} else {
		buf[0] = '\0';
		return TTLOG_E_NO_TRACE;
	}
	/* "00-" trace "-" span "-01": version 00, flags: sampled (ttlog
	 * records every span). */
	memcpy(buf, "00-", 3);
	put_hex(buf + 3, cur.trace_hi, 16);
	put_hex(buf + 19, cur.trace_lo, 16);
	buf[35] = '-';
	put_hex(buf + 36, cur.span_id, 16);
	memcpy(buf + 52, "-01", 4); /* with the NUL */
	return TTLOG_OK;
}

/*
 * Parses a traceparent: "VV-TTTT...(32)-SSSS...(16)-FF". Version ff is
 * invalid; version 00 is exactly 55 characters; a later version may add
 * fields after a '-', which are ignored. Ids of all zeros are invalid.
 */
static int parse_traceparent(const char *s, struct remote_parent *out)
{
	size_t len = strnlen(s, 1024);
	uint64_t version, flags;
	if (len < 55 || !get_hex(s, 2, &version) || version == 0xff || s[2] != '-' ||
	    !get_hex(s + 3, 16, &out->trace_hi) || !get_hex(s + 19, 16, &out->trace_lo) ||
	    s[35] != '-' || !get_hex(s + 36, 16, &out->span_id) || s[52] != '-' ||
	    !get_hex(s + 53, 2, &flags))
		return 0;
	if (version == 0 ? len != 55 : len > 55 && s[55] != '-')
		return 0;
	if ((out->trace_hi | out->trace_lo) == 0 || out->span_id == 0)
		return 0;
	return 1;
}

int ttlog__trace_id_parse(const char *s, uint64_t *hi, uint64_t *lo)
{
	struct remote_parent rp;
	if (!s)
		return 0;
	if (strnlen(s, 33) == 32 && get_hex(s, 16, &rp.trace_hi) && get_hex(s + 16, 16, &rp.trace_lo)) {
		if ((rp.trace_hi | rp.trace_lo) == 0)
			return 0;
	} else if (!parse_traceparent(s, &rp)) {
		return 0;
	}
	*hi = rp.trace_hi;
	*lo = rp.trace_lo;
	return 1;
}

TTLOG_API int ttlog_trace_continue(const char *traceparent)
{
	if (!traceparent || !*traceparent) {
		tls_span.remote_mode = REMOTE_NONE;
		return TTLOG_OK;
	}
	struct remote_parent rp;
	if (!parse_traceparent(traceparent, &rp))
		return TTLOG_E_INVALID;
	tls_span.remote = rp;
	tls_span.remote_mode = REMOTE_OWN;
	return TTLOG_OK;
}

void ttlog__spans_init(void)
{
	const char *env = getenv("TRACEPARENT");
	process_remote_set = env && parse_traceparent(env, &process_remote);
}
