/* SPDX-License-Identifier: MIT */
/*
 * net.c - how the shop's services reach one another: the message format on
 * local Unix sockets (one request, one reply, each carrying a W3C
 * traceparent), client calls with timeouts, retries with backoff, circuit
 * breakers, health checks, and the counters and snapshots every service
 * shares.
 *
 * A request is one line of tab-separated fields:
 *     1 <traceparent> <request id> <op> <argument>
 * and its reply one line:
 *     ok|err <traceparent of the serving span> <text>
 * Sockets are in the abstract namespace ("\0ttshop.<run>.<service>"), so
 * nothing is left on disk and nothing outside this machine can connect.
 */
#define _GNU_SOURCE
#define TTLOG_TARGET "net"
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shop.h"
#include "ttlog.h"

_Thread_local char cur_rid[40];
_Atomic int healthy[NENDPOINT];

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sleep_ms(double ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(fmod(ms, 1000.0) * 1e6)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static _Thread_local uint64_t rnd_state;

void rnd_seed(uint64_t s)
{
	rnd_state = s * 0x9E3779B97F4A7C15u + 0x632BE59BD9B4E019u;
	if (!rnd_state)
		rnd_state = 1;
}

uint64_t rnd(void)
{
	/* xorshift64* */
	uint64_t x = rnd_state ? rnd_state : 88172645463325252u;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rnd_state = x;
	return x * 0x2545F4914F6CDD1Du;
}

double rnd01(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- counters ---------------------------------------------------------- */

void count_request(enum svc s, int error, double ms)
{
	atomic_fetch_add(&shop->requests[s], 1);
	if (error)
		atomic_fetch_add(&shop->errors[s], 1);
	switch (s) {
#define SHOP__COUNT(id, name, proc, workers)                                             \
	case SVC_##id:                                                                   \
		TTLOG_COUNTER_ADD("shop.requests", 1, "service=" #name);                 \
		if (error)                                                               \
			TTLOG_COUNTER_ADD("shop.errors", 1, "service=" #name);           \
		TTLOG_HISTOGRAM_RECORD("shop.latency_ms", ms, "service=" #name);         \
		break;
		SHOP_SERVICES(SHOP__COUNT)
#undef SHOP__COUNT
	default:
		break;
	}
}

void shop_snapshot(enum proc p, const char *reason)
{
	char path[512];
	int rc = ttlog_snapshot_path(reason, path, sizeof path);
	/* Another thread's snapshot is being written: this moment deserves
	 * its own file, so wait for that one to finish. */
	for (int i = 0; i < 100 && rc == TTLOG_E_BUSY; i++) {
		sleep_ms(10);
		rc = ttlog_snapshot_path(reason, path, sizeof path);
	}
	if (rc == TTLOG_OK) {
		atomic_fetch_add(&shop->snapshots[p], 1);
		TTLOG_INFO("snapshot written reason=%s path=%s", reason, path);
	} else {
		atomic_fetch_add(&shop->snapshot_failures, 1);
		TTLOG_WARN("snapshot not written reason=%s error=%s", reason, ttlog_strerror(rc));
	}
}

/* ---- sockets ------------------------------------------------------------ */

static socklen_t endpoint_addr(int ep, struct sockaddr_un *a)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, "ttshop.%s.%s", shop->run_id,
			 svc_names[ep]);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int net_listen(int ep)
{
	struct sockaddr_un a;
	socklen_t len = endpoint_addr(ep, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, 256) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one line (without its '\n'); 0, or -1 on EOF, timeout or error
 * (errno EAGAIN for a timeout). */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		n += (size_t)r;
		buf[n] = 0;
		char *nl = memchr(buf, '\n', n);
		if (nl) {
			*nl = 0;
			return 0;
		}
	}
	errno = EMSGSIZE;
	return -1;
}

/* Splits s at tabs into at most max fields; returns how many. */
static int split(char *s, char **f, int max)
{
	int n = 0;
	while (n < max) {
		f[n++] = s;
		char *t = strchr(s, '\t');
		if (!t)
			break;
		*t = 0;
		s = t + 1;
	}
	return n;
}

int net_read_request(int fd, char *tp, char *rid, char *op, char *arg)
{
	char buf[MSG_MAX];
	set_timeout(fd, 1000);
	if (read_line(fd, buf, sizeof buf) != 0)
		return -1;
	char *f[5];
	if (split(buf, f, 5) != 5 || strcmp(f[0], "1") != 0)
		return -1;
	snprintf(tp, TTLOG_TRACEPARENT_SIZE, "%s", f[1]);
	snprintf(rid, 40, "%s", f[2]);
	snprintf(op, 32, "%s", f[3]);
	snprintf(arg, 256, "%s", f[4]);
	return 0;
}

int net_write_reply(int fd, int ok, const char *text)
{
	char tp[TTLOG_TRACEPARENT_SIZE], buf[MSG_MAX];
	if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK)
		strcpy(tp, "-");
	int n = snprintf(buf, sizeof buf, "%s\t%s\t%s\n", ok ? "ok" : "err", tp, text);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -1;
	return write_all(fd, buf, (size_t)n);
}

/* The 32 hex digits of a traceparent's trace id, or NULL. */
static const char *trace_id_of(const char *tp)
{
	return strlen(tp) == 55 ? tp + 3 : NULL;
}

static void call_raw(int ep, const char *op, const char *arg, int timeout_ms, const char *tp,
		     struct reply *r)
{
	r->ok = 0;
	r->answered = 0;
	r->text[0] = 0;
	struct sockaddr_un a;
	socklen_t len = endpoint_addr(ep, &a);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(r->text, sizeof r->text, "socket: %s", strerror(errno));
		return;
	}
	set_timeout(fd, timeout_ms);
	if (connect(fd, (struct sockaddr *)&a, len) != 0) {
		snprintf(r->text, sizeof r->text, "connect: %s", strerror(errno));
		TTLOG_DEBUG("connect to %s failed: %s", svc_names[ep], strerror(errno));
		close(fd);
		return;
	}
	char buf[MSG_MAX];
	int n = snprintf(buf, sizeof buf, "1\t%s\t%s\t%s\t%s\n", tp, cur_rid[0] ? cur_rid : "-", op, arg);
	if (n < 0 || (size_t)n >= sizeof buf || write_all(fd, buf, (size_t)n) != 0) {
		snprintf(r->text, sizeof r->text, "send failed");
		close(fd);
		return;
	}
	if (read_line(fd, buf, sizeof buf) != 0) {
		int e = errno;
		snprintf(r->text, sizeof r->text, "%s",
			 e == EAGAIN || e == EWOULDBLOCK ? "timeout" : "no reply (dropped)");
		close(fd);
		return;
	}
	close(fd);
	char *f[3];
	if (split(buf, f, 3) != 3) {
		snprintf(r->text, sizeof r->text, "bad reply");
		return;
	}
	r->answered = 1;
	r->ok = strcmp(f[0], "ok") == 0;
	snprintf(r->text, sizeof r->text, "%s", f[2]);
	/* Invariant: the serving span belongs to the trace we sent. */
	const char *mine = trace_id_of(tp), *theirs = trace_id_of(f[1]);
	if (mine && (!theirs || memcmp(mine, theirs, 32) != 0)) {
		atomic_fetch_add(&shop->invariant_broken, 1);
		TTLOG_ERROR("invariant broken: %s answered in trace %s, not in %s", svc_names[ep], f[1], tp);
	}
}

void net_call(int ep, const char *op, const char *arg, int timeout_ms, struct reply *r)
{
	TTLOG_SPAN("rpc.call", TTLOG_F("peer", svc_names[ep]), TTLOG_F("op", op));
	char tp[TTLOG_TRACEPARENT_SIZE];
	if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK) {
		atomic_fetch_add(&shop->invariant_broken, 1);
		TTLOG_ERROR("invariant broken: no traceparent inside span rpc.call to %s", svc_names[ep]);
		strcpy(tp, "-");
	}
	uint64_t t0 = now_ns();
	TTLOG_DEBUG("rpc send peer=%s op=%s arg=%s timeout_ms=%d", svc_names[ep], op, arg, timeout_ms);
	call_raw(ep, op, arg, timeout_ms, tp, r);
	double ms = (double)(now_ns() - t0) / 1e6;
	TTLOG_SPAN_FIELD("ms", ms);
	if (r->answered)
		TTLOG_DEBUG("rpc reply peer=%s ok=%d ms=%.2f text=%s", svc_names[ep], r->ok, ms, r->text);
	else
		TTLOG_WARN("rpc failed peer=%s op=%s ms=%.1f reason=%s", svc_names[ep], op, ms, r->text);
}

/* ---- circuit breakers ----------------------------------------------------- */

static const char *const cb_names[] = {"closed", "open", "half-open"};

void breaker_init(struct breaker *b, const char *name, int threshold, int open_ms)
{
	memset(b, 0, sizeof *b);
	b->name = name;
	b->threshold = threshold;
	b->open_ns = (uint64_t)open_ms * 1000000u;
	pthread_mutex_init(&b->mu, NULL);
}

int breaker_allow(struct breaker *b)
{
	pthread_mutex_lock(&b->mu);
	int allow = 1;
	if (b->state == CB_OPEN) {
		if (now_ns() >= b->open_until_ns) {
			b->state = CB_HALF_OPEN;
			b->probing = 0;
			TTLOG_INFO("breaker %s: open -> half-open, letting one probe through", b->name);
		} else {
			allow = 0;
		}
	}
	if (b->state == CB_HALF_OPEN) {
		if (b->probing)
			allow = 0;
		else
			b->probing = 1;
	}
	TTLOG_DEBUG("breaker %s state=%s allow=%d failures=%d", b->name, cb_names[b->state], allow,
		    b->failures);
	pthread_mutex_unlock(&b->mu);
	return allow;
}

int breaker_result(struct breaker *b, int success)
{
	int opened = 0;
	pthread_mutex_lock(&b->mu);
	if (success) {
		if (b->state != CB_CLOSED)
			TTLOG_INFO("breaker %s: %s -> closed", b->name, cb_names[b->state]);
		b->state = CB_CLOSED;
		b->failures = 0;
		b->probing = 0;
	} else {
		b->failures++;
		if (b->state == CB_HALF_OPEN || (b->state == CB_CLOSED && b->failures >= b->threshold)) {
			TTLOG_WARN("breaker %s: %s -> open after failures=%d", b->name, cb_names[b->state],
				   b->failures);
			b->state = CB_OPEN;
			b->open_until_ns = now_ns() + b->open_ns;
			b->probing = 0;
			b->opened++;
			opened = 1;
		}
	}
	pthread_mutex_unlock(&b->mu);
	return opened;
}

int breaker_state(struct breaker *b)
{
	pthread_mutex_lock(&b->mu);
	int st = b->state;
	pthread_mutex_unlock(&b->mu);
	return st;
}

/* A reply that says the service could not do it now ("unavailable ...")
 * counts as a failure for breakers and retries; a business "no" does not. */
static int transient(const struct reply *r)
{
	return !r->answered || (!r->ok && strncmp(r->text, "unavailable", 11) == 0);
}

void call_retry(int ep, const char *op, const char *arg, int timeout_ms, int attempts,
		struct breaker *b, struct reply *r)
{
	for (int i = 0; i < attempts; i++) {
		if (b && !breaker_allow(b)) {
			r->ok = 0;
			r->answered = 0;
			snprintf(r->text, sizeof r->text, "unavailable: circuit %s open", b->name);
			TTLOG_DEBUG("fail fast peer=%s: circuit open", svc_names[ep]);
			return;
		}
		net_call(ep, op, arg, timeout_ms, r);
		if (b)
			breaker_result(b, !transient(r));
		if (!transient(r))
			return;
		if (i + 1 < attempts) {
			double backoff = 10.0 * (double)(1 << i) * (0.5 + rnd01());
			TTLOG_INFO("retry peer=%s op=%s attempt=%d backoff_ms=%.1f after=%s", svc_names[ep], op,
				   i + 2, backoff, r->text);
			sleep_ms(backoff);
		}
	}
}

/* ---- health checks --------------------------------------------------------- */

void health_check_all(const int *eps, int n)
{
	for (int i = 0; i < n; i++) {
		struct reply r;
		call_raw(eps[i], "health", "-", 100, "-", &r);
		int up = r.answered && r.ok;
		int was = atomic_exchange(&healthy[eps[i]], up);
		TTLOG_DEBUG("health %s up=%d", svc_names[eps[i]], up);
		if (was != up) {
			if (up)
				TTLOG_INFO("health %s is up again", svc_names[eps[i]]);
			else
				TTLOG_WARN("health %s is down: %s", svc_names[eps[i]], r.text);
		}
	}
}
