/* SPDX-License-Identifier: MIT */
/*
 * services.c - the shop's twelve services and the three processes that run
 * them: each service's worker threads and request handler (with its
 * database connection pool), the gateway's load generators with the load
 * balancer over the two search instances, the health-check thread, the
 * business-moment snapshots, and the end of each process (a clean exit, a
 * crash on a rare path, or waiting to be killed).
 */
#define _GNU_SOURCE
#define TTLOG_TARGET "shop"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "shop.h"
#include "ttlog.h"

static enum proc me;
static const struct shop_options *opts;
static _Atomic int stopping; /* this process's background threads end */

/* Once per "day" per reason: business snapshots are rare events. */
static _Atomic int snap_day[4] = {-1, -1, -1, -1};
enum { SNAP_PAYMENT_FAILED, SNAP_CIRCUIT_OPEN, SNAP_SECURITY, SNAP_HIGH_LOAD };
static const char *const snap_reasons[] = {"payment_failed", "circuit_open_payment",
					   "security_risk_high", "high_load"};

static void business_snapshot(int which)
{
	int day = atomic_load(&shop->day);
	int seen = atomic_load(&snap_day[which]);
	if (seen == day || !atomic_compare_exchange_strong(&snap_day[which], &seen, day))
		return;
	shop_snapshot(me, snap_reasons[which]);
}

/* ---- database connection pools --------------------------------------------- */

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int size, in_use;
	uint64_t waits, exhausted;
};
static struct pool pools[NSVC];

static void pool_gauge(enum svc s, int in_use)
{
	switch (s) {
#define SHOP__GAUGE(id, name, proc, workers)                                         \
	case SVC_##id:                                                               \
		TTLOG_GAUGE_SET("shop.db_pool_in_use", in_use, "service=" #name);    \
		break;
		SHOP_SERVICES(SHOP__GAUGE)
#undef SHOP__GAUGE
	default:
		break;
	}
}

/* Takes a connection of service s's pool, waiting up to wait_ms; 0 or -1. */
static int pool_acquire(enum svc s, int wait_ms)
{
	struct pool *p = &pools[s];
	pthread_mutex_lock(&p->mu);
	if (p->in_use >= p->size) {
		p->waits++;
		TTLOG_DEBUG("db pool %s full in_use=%d size=%d: waiting", svc_names[s], p->in_use, p->size);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)wait_ms * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (p->in_use >= p->size) {
			if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT)
				break;
		}
		if (p->in_use >= p->size) {
			p->exhausted++;
			TTLOG_WARN("db pool %s exhausted after wait_ms=%d waits=%llu", svc_names[s], wait_ms,
				   (unsigned long long)p->waits);
			pthread_mutex_unlock(&p->mu);
			return -1;
		}
	}
	int n = ++p->in_use;
	pthread_mutex_unlock(&p->mu);
	pool_gauge(s, n);
	TTLOG_DEBUG("db pool %s acquired in_use=%d", svc_names[s], n);
	return 0;
}

static void pool_release(enum svc s)
{
	struct pool *p = &pools[s];
	pthread_mutex_lock(&p->mu);
	int n = --p->in_use;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pool_gauge(s, n);
}

/* A query on service s's database: a pool connection, some latency that
 * grows with load. Returns 0, or -1 when the pool is exhausted or the
 * database is down (payment's, when the chaos monkey says so). */
static int db_query(enum svc s, const char *what)
{
	if (pool_acquire(s, 40) != 0)
		return -1;
	/* The database slows down at the peaks, and now and then a query
	 * waits for a lock: the pool fills, callers wait, some give up. */
	double load = (double)atomic_load(&shop->load_milli) / 1000.0;
	double ms = (0.3 + rnd01() * 1.5) * (load > 2.2 ? 10.0 : 0.5 + load * 0.3);
	if (rnd01() < 0.02) {
		ms += 60 + rnd01() * 90;
		TTLOG_DEBUG("db %s: lock wait, slow query=%s", svc_names[s], what);
	}
	TTLOG_DEBUG("db %s query=%s est_ms=%.2f", svc_names[s], what, ms);
	sleep_ms(ms);
	int rc = 0;
	if (s == SVC_PAYMENT && atomic_load(&shop->db_down)) {
		TTLOG_ERROR("db payment: connection refused (database down) query=%s", what);
		rc = -1;
	}
	pool_release(s);
	return rc;
}

/* ---- checkout state: orders whose payment did not go through -------------- */

struct receipt {
	double amount;
	char ref[24];
};
struct failed_order {
	unsigned long long id;
	double amount;
	int attempts;
	struct receipt *receipt; /* set when a retry's charge went through */
};
#define FAILED_MAX 512
static struct failed_order failed_orders[FAILED_MAX];
static int failed_count;
static pthread_mutex_t failed_mu = PTHREAD_MUTEX_INITIALIZER;

static struct breaker payment_breaker, reco_breaker;

/* ---- audit: risk per user ---------------------------------------------------- */

#define RISK_USERS 64
static struct {
	char user[32];
	int risk;
	int day;
} risks[RISK_USERS];
static pthread_mutex_t risk_mu = PTHREAD_MUTEX_INITIALIZER;

static int add_risk(const char *user, int score)
{
	int day = atomic_load(&shop->day), total = score;
	pthread_mutex_lock(&risk_mu);
	int slot = (int)(strlen(user) * 31u + (unsigned char)user[0]) % RISK_USERS;
	if (strcmp(risks[slot].user, user) != 0 || risks[slot].day != day) {
		snprintf(risks[slot].user, sizeof risks[slot].user, "%s", user);
		risks[slot].risk = 0;
		risks[slot].day = day;
	}
	risks[slot].risk += score;
	total = risks[slot].risk;
	pthread_mutex_unlock(&risk_mu);
	return total;
}

/* ---- request handlers ---------------------------------------------------------- */

static const char *const users[] = {"ada", "grace", "linus", "margaret", "ken", "barbara",
				    "dennis", "frances", "alan", "radia"};
#define NUSERS (sizeof users / sizeof users[0])

static enum svc ep_service(int ep)
{
	return ep == EP_SEARCH2 ? SVC_SEARCH : (enum svc)ep;
}

/* The sampled call site: one debug line per search hit. Its selector is
 * this file and line (set in shop_process_main). */
enum { NOISY_LINE = __LINE__ + 4 };
static void log_hit(const char *q, int i, unsigned pid)
{
	atomic_fetch_add(&shop->noisy_calls, 1);
	TTLOG_DEBUG("search hit q=%s rank=%d product=%u", q, i, pid);
}

/* Handles one request for service s; writes the answer into out. */
static int handle(int ep, const char *op, const char *arg, char *out, size_t outsz)
{
	enum svc s = ep_service(ep);
	struct reply r;
	char a[256];
	switch (s) {
	case SVC_USER: {
		char user[32] = "", pw[32] = "";
		sscanf(arg, "%31s %31s", user, pw);
		if (strcmp(op, "register") == 0) {
			if (db_query(s, "insert user") != 0)
				return snprintf(out, outsz, "unavailable db"), 0;
			TTLOG_INFO("user registered user=%s", user);
			snprintf(a, sizeof a, "%s registered 1", user);
			net_call(SVC_AUDIT, "record", a, 150, &r);
			return snprintf(out, outsz, "welcome %s", user), 1;
		}
		if (db_query(s, "select user") != 0)
			return snprintf(out, outsz, "unavailable db"), 0;
		if (strcmp(pw, "secret") != 0) {
			TTLOG_WARN("login failed user=%s", user);
			snprintf(a, sizeof a, "%s bruteforce 12", user);
			net_call(SVC_AUDIT, "security", a, 150, &r);
			return snprintf(out, outsz, "denied"), 0;
		}
		TTLOG_DEBUG("login ok user=%s", user);
		return snprintf(out, outsz, "token-%llx", (unsigned long long)(rnd() & 0xffffff)), 1;
	}
	case SVC_SEARCH: {
		char user[32] = "", q[64] = "";
		sscanf(arg, "%31s %63[^\n]", user, q);
		if (strchr(q, '\'') || strstr(q, "--")) {
			TTLOG_WARN("search: injection attempt user=%s q=%s", user, q);
			snprintf(a, sizeof a, "%s injection 35", user);
			net_call(SVC_AUDIT, "security", a, 150, &r);
			return snprintf(out, outsz, "rejected"), 0;
		}
		if (db_query(s, "full-text search") != 0)
			return snprintf(out, outsz, "unavailable index"), 0;
		int hits = 3 + (int)(rnd() % 8);
		for (int i = 0; i < hits; i++)
			log_hit(q, i, (unsigned)(rnd() % 5000));
		net_call(SVC_PRODUCT, "lookup", q, 150, &r);
		return snprintf(out, outsz, "%d hits", hits), 1;
	}
	case SVC_PRODUCT:
		if (db_query(s, strcmp(op, "get") == 0 ? "select product" : "select products") != 0)
			return snprintf(out, outsz, "unavailable db"), 0;
		return snprintf(out, outsz, "product %s", arg), 1;
	case SVC_RECOMMENDATION:
		TTLOG_DEBUG("recommendation: scoring user=%s", arg);
		sleep_ms(0.5 + rnd01());
		return snprintf(out, outsz, "try product %u", (unsigned)(rnd() % 5000)), 1;
	case SVC_PRICING: {
		unsigned pid = 0, qty = 1;
		sscanf(arg, "%u %u", &pid, &qty);
		double price = 5.0 + (double)(pid % 97) * 0.5;
		TTLOG_DEBUG("pricing product=%u qty=%u unit=%.2f", pid, qty, price);
		return snprintf(out, outsz, "%.2f", price * qty), 1;
	}
	case SVC_INVENTORY: {
		if (db_query(s, "update stock") != 0)
			return snprintf(out, outsz, "unavailable db"), 0;
		if (rnd01() < 0.02) {
			TTLOG_INFO("inventory: out of stock %s", arg);
			return snprintf(out, outsz, "out of stock"), 0;
		}
		return snprintf(out, outsz, "reserved"), 1;
	}
	case SVC_PAYMENT: {
		unsigned long long oid = 0;
		double amount = 0;
		sscanf(arg, "%llu %lf", &oid, &amount);
		TTLOG_DEBUG("payment: charging order_id=%llu amount=%.2f", oid, amount);
		if (db_query(s, "insert charge") != 0) {
			TTLOG_ERROR("payment failed order_id=%llu amount=%.2f: database unavailable", oid, amount);
			return snprintf(out, outsz, "unavailable db"), 0;
		}
		if (rnd01() < 0.03) {
			TTLOG_WARN("payment declined order_id=%llu amount=%.2f", oid, amount);
			return snprintf(out, outsz, "declined"), 0;
		}
		return snprintf(out, outsz, "charged %llu", oid), 1;
	}
	case SVC_ORDER: {
		char user[32] = "";
		unsigned long long oid = 0;
		unsigned pid = 0, qty = 1;
		sscanf(arg, "%31s %llu %u %u", user, &oid, &pid, &qty);
		TTLOG_INFO("order placing order_id=%llu user=%s product=%u qty=%u", oid, user, pid, qty);
		snprintf(a, sizeof a, "%u %u", pid, qty);
		call_retry(SVC_INVENTORY, "reserve", a, 150, 2, NULL, &r);
		if (!r.ok)
			return snprintf(out, outsz, "%s", r.text), 0;
		net_call(SVC_PRICING, "quote", a, 150, &r);
		double amount = r.ok ? atof(r.text) : 0;
		snprintf(a, sizeof a, "%llu %.2f", oid, amount);
		call_retry(SVC_PAYMENT, "charge", a, 200, 3, &payment_breaker, &r);
		if (!r.ok) {
			TTLOG_ERROR("order failed order_id=%llu user=%s amount=%.2f reason=%s", oid, user,
				    amount, r.text);
			if (strncmp(r.text, "unavailable", 11) == 0) {
				pthread_mutex_lock(&failed_mu);
				if (failed_count < FAILED_MAX)
					failed_orders[failed_count++] =
						(struct failed_order){oid, amount, 3, NULL};
				pthread_mutex_unlock(&failed_mu);
				business_snapshot(SNAP_PAYMENT_FAILED);
				if (breaker_state(&payment_breaker) == CB_OPEN)
					business_snapshot(SNAP_CIRCUIT_OPEN);
			}
			snprintf(a, sizeof a, "%s payment_failed", user);
			net_call(SVC_NOTIFICATION, "send", a, 150, &r);
			return snprintf(out, outsz, "payment failed"), 0;
		}
		snprintf(a, sizeof a, "%llu", oid);
		net_call(SVC_SHIPPING, "create", a, 150, &r);
		snprintf(a, sizeof a, "%s order_confirmed", user);
		net_call(SVC_NOTIFICATION, "send", a, 150, &r);
		snprintf(a, sizeof a, "order %llu", oid);
		net_call(SVC_ANALYTICS, "track", a, 150, &r);
		TTLOG_INFO("order placed order_id=%llu user=%s amount=%.2f", oid, user, amount);
		return snprintf(out, outsz, "order %llu placed", oid), 1;
	}
	case SVC_SHIPPING:
		if (db_query(s, "insert shipment") != 0)
			return snprintf(out, outsz, "unavailable db"), 0;
		TTLOG_INFO("shipment created order_id=%s", arg);
		return snprintf(out, outsz, "shipment for %s", arg), 1;
	case SVC_NOTIFICATION:
		TTLOG_DEBUG("notification queued to=%s", arg);
		return snprintf(out, outsz, "queued"), 1;
	case SVC_ANALYTICS:
		TTLOG_DEBUG("analytics event=%s", arg);
		return snprintf(out, outsz, "tracked"), 1;
	case SVC_AUDIT: {
		char user[32] = "", kind[32] = "";
		int score = 0;
		sscanf(arg, "%31s %31s %d", user, kind, &score);
		if (strcmp(op, "security") != 0) {
			TTLOG_DEBUG("audit record user=%s event=%s", user, kind);
			return snprintf(out, outsz, "recorded"), 1;
		}
		int risk = add_risk(user, score);
		TTLOG_WARN("security event user=%s kind=%s score=%d risk=%d", user, kind, score, risk);
		if (risk >= 80 && risk - score < 80) {
			TTLOG_ERROR("security risk high user=%s risk=%d", user, risk);
			business_snapshot(SNAP_SECURITY);
		}
		return snprintf(out, outsz, "risk %d", risk), 1;
	}
	default:
		return snprintf(out, outsz, "unknown service"), 0;
	}
}

/* ---- servers ---------------------------------------------------------------------- */

struct worker_arg {
	int ep, idx, fd;
};

static int chaos_hangs(int ep)
{
	return (ep == SVC_RECOMMENDATION && atomic_load(&shop->reco_hang)) ||
	       (ep == EP_SEARCH2 && atomic_load(&shop->search2_down));
}

static void serve(int ep, int fd)
{
	char tp[TTLOG_TRACEPARENT_SIZE], rid[40], op[32], arg[256], out[MSG_MAX];
	if (net_read_request(fd, tp, rid, op, arg) != 0) {
		TTLOG_DEBUG("%s: unreadable request", svc_names[ep]);
		return;
	}
	if (chaos_hangs(ep)) {
		TTLOG_DEBUG("chaos: %s does not answer op=%s", svc_names[ep], op);
		sleep_ms(300);
		return;
	}
	if (strcmp(op, "health") == 0) {
		net_write_reply(fd, 1, "up");
		return;
	}
	if (shop->chaos && rnd01() < 0.004 * shop->chaos) {
		TTLOG_DEBUG("chaos: %s drops the message op=%s rid=%s", svc_names[ep], op, rid);
		return;
	}
	enum svc s = ep_service(ep);
	if (ttlog_trace_continue(tp) != TTLOG_OK)
		TTLOG_WARN("%s: request without a valid traceparent tp=%s", svc_names[ep], tp);
	snprintf(cur_rid, sizeof cur_rid, "%s", rid);
	{
		TTLOG_CONTEXT("request_id", rid);
		TTLOG_SPAN("rpc.serve", TTLOG_F("svc", svc_names[s]), TTLOG_F("op", op),
			   TTLOG_F("instance", svc_names[ep]));
		char mine[TTLOG_TRACEPARENT_SIZE];
		if (ttlog_traceparent(mine, sizeof mine) != TTLOG_OK || strlen(tp) != 55 ||
		    memcmp(mine + 3, tp + 3, 32) != 0) {
			atomic_fetch_add(&shop->invariant_broken, 1);
			TTLOG_ERROR("invariant broken: %s serves in trace %s, the caller sent %s", svc_names[ep],
				    mine, tp);
		}
		TTLOG_DEBUG("%s: request op=%s arg=%s", svc_names[ep], op, arg);
		if (shop->chaos && rnd01() < 0.03 * shop->chaos) {
			double extra = 20 + rnd01() * 60;
			TTLOG_DEBUG("chaos: latency ms=%.1f", extra);
			sleep_ms(extra);
		}
		uint64_t t0 = now_ns();
		int ok = handle(ep, op, arg, out, sizeof out);
		double ms = (double)(now_ns() - t0) / 1e6;
		count_request(s, !ok, ms);
		TTLOG_SPAN_FIELD("ok", ok);
		if (ok)
			TTLOG_DEBUG("%s: done op=%s ms=%.2f", svc_names[ep], op, ms);
		else
			TTLOG_INFO("%s: error op=%s ms=%.2f answer=%s", svc_names[ep], op, ms, out);
		net_write_reply(fd, ok, out);
	}
	ttlog_trace_continue(NULL);
	cur_rid[0] = 0;
}

static void *worker(void *p)
{
	struct worker_arg *w = p;
	char name[16];
	snprintf(name, sizeof name, "%.12s.%d", svc_names[w->ep], w->idx);
	pthread_setname_np(pthread_self(), name);
	rnd_seed(shop->seed ^ ((uint64_t)w->ep << 32) ^ (uint64_t)w->idx ^ ((uint64_t)me << 48));
	TTLOG_CONTEXT("service", svc_names[ep_service(w->ep)]);
	TTLOG_DEBUG("worker %s started", name);
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			TTLOG_ERROR("accept on %s: %s", svc_names[w->ep], strerror(errno));
			return NULL;
		}
		serve(w->ep, fd);
		close(fd);
	}
}

static void start_endpoint(int ep, int workers)
{
	int fd = net_listen(ep);
	if (fd < 0) {
		fprintf(stderr, "shop: cannot listen for %s: %s\n", svc_names[ep], strerror(errno));
		_exit(2);
	}
	enum svc s = ep_service(ep);
	pools[s].size = 2;
	pthread_mutex_init(&pools[s].mu, NULL);
	pthread_cond_init(&pools[s].cv, NULL);
	for (int i = 0; i < workers; i++) {
		struct worker_arg *w = malloc(sizeof *w);
		*w = (struct worker_arg){ep, i + 1, fd};
		pthread_t t;
		pthread_create(&t, NULL, worker, w);
		pthread_detach(t);
	}
	TTLOG_INFO("service %s listening with workers=%d", svc_names[ep], workers);
}

/* ---- health checks ------------------------------------------------------------------ */

static int health_eps[NENDPOINT], health_n;

static void *health_thread(void *unused)
{
	(void)unused;
	pthread_setname_np(pthread_self(), "health");
	while (!atomic_load(&stopping)) {
		health_check_all(health_eps, health_n);
		for (int i = 0; i < 10 && !atomic_load(&stopping); i++)
			sleep_ms(25);
	}
	return NULL;
}

/* ---- the gateway ------------------------------------------------------------------------ */

#define GENERATORS 8
static _Atomic int gw_seq;
static _Atomic int lb_next;
static _Atomic int inflight;

/* The load balancer: round robin over the healthy search instances, the
 * other instance when the first one fails. */
static void search_lb(const char *arg, struct reply *r)
{
	static const int instances[2] = {SVC_SEARCH, EP_SEARCH2};
	int first = atomic_fetch_add(&lb_next, 1) & 1;
	for (int k = 0; k < 2; k++) {
		int ep = instances[(first + k) & 1];
		if (!atomic_load(&healthy[ep]) && k == 0) {
			TTLOG_DEBUG("lb: skipping %s (unhealthy)", svc_names[ep]);
			continue;
		}
		TTLOG_DEBUG("lb: search -> %s", svc_names[ep]);
		net_call(ep, "query", arg, 120, r);
		if (r->answered)
			return;
		TTLOG_WARN("lb: %s failed (%s), trying the other instance", svc_names[ep], r->text);
	}
}

enum route { R_SEARCH, R_CART, R_LOGIN, R_ORDER, R_REGISTER, R_ATTACK_LOGIN, R_ATTACK_SEARCH };
static const char *const route_names[] = {"/search", "/cart", "/login", "/order", "/register",
					  "/login", "/search"};

static int do_request(enum route rt, const char *user, unsigned long long oid)
{
	struct reply r;
	char a[256];
	unsigned pid = (unsigned)(rnd() % 5000);
	switch (rt) {
	case R_SEARCH:
		snprintf(a, sizeof a, "%s shoes size %u", user, pid % 12 + 36);
		search_lb(a, &r);
		if (!r.ok)
			return 0;
		call_retry(SVC_RECOMMENDATION, "suggest", user, 100, 1, &reco_breaker, &r);
		if (!r.ok)
			TTLOG_DEBUG("recommendations unavailable (%s): showing bestsellers", r.text);
		return 1;
	case R_CART:
		snprintf(a, sizeof a, "%u", pid);
		call_retry(SVC_PRODUCT, "get", a, 150, 2, NULL, &r);
		if (!r.ok)
			return 0;
		snprintf(a, sizeof a, "%u %u", pid, 1 + (unsigned)(rnd() % 3));
		net_call(SVC_PRICING, "quote", a, 150, &r);
		return r.ok;
	case R_LOGIN:
		snprintf(a, sizeof a, "%s secret", user);
		net_call(SVC_USER, "login", a, 150, &r);
		return r.ok;
	case R_REGISTER:
		snprintf(a, sizeof a, "%s-%u", user, pid);
		net_call(SVC_USER, "register", a, 150, &r);
		return r.ok;
	case R_ORDER:
		snprintf(a, sizeof a, "%s %llu %u %u", user, oid, pid, 1 + (unsigned)(rnd() % 3));
		net_call(SVC_ORDER, "place", a, 900, &r);
		return r.ok;
	case R_ATTACK_LOGIN:
		snprintf(a, sizeof a, "%s hunter%u", user, pid % 100);
		net_call(SVC_USER, "login", a, 150, &r);
		return r.ok;
	case R_ATTACK_SEARCH:
		snprintf(a, sizeof a, "%s ' OR 1=1 --", user);
		search_lb(a, &r);
		return r.ok;
	}
	return 0;
}

static void *generator(void *p)
{
	int g = (int)(long)p;
	char name[16];
	snprintf(name, sizeof name, "gateway-%d", g);
	pthread_setname_np(pthread_self(), name);
	rnd_seed(shop->seed * 7919u + (uint64_t)g);
	int mallory_this_second = 0;
	uint64_t second = 0;
	while (atomic_load(&shop->phase) == PHASE_RUN) {
		double load = (double)atomic_load(&shop->load_milli) / 1000.0;
		double per_thread = opts->rate * load / GENERATORS;
		sleep_ms(-log(1.0 - rnd01()) * 1000.0 / (per_thread > 0.1 ? per_thread : 0.1));
		if (atomic_load(&shop->phase) != PHASE_RUN)
			break;
		int seq = atomic_fetch_add(&gw_seq, 1) + 1;
		unsigned long long oid = 100000ull + (unsigned long long)seq;
		const char *user = users[rnd() % NUSERS];
		double x = rnd01() * 100;
		enum route rt = x < 35 ? R_SEARCH : x < 55 ? R_CART : x < 70 ? R_LOGIN : x < 93 ? R_ORDER : R_REGISTER;
		if (atomic_load(&shop->security_burst) && rnd01() < 0.5) {
			user = "mallory";
			rt = rnd01() < 0.6 ? R_ATTACK_LOGIN : R_ATTACK_SEARCH;
		}
		uint64_t sec = now_ns() / 1000000000u;
		if (sec != second) {
			second = sec;
			mallory_this_second = 0;
		}
		snprintf(cur_rid, sizeof cur_rid, "req-%d-%d", g, seq);
		TTLOG_CONTEXT("request_id", cur_rid);
		int ok;
		double ms;
		{
			TTLOG_SPAN("http.request", TTLOG_F("route", route_names[rt]), TTLOG_F("user", user));
			atomic_fetch_add(&shop->gw_requests, 1);
			int n = atomic_fetch_add(&inflight, 1) + 1;
			TTLOG_GAUGE_SET("shop.gateway_inflight", n);
			TTLOG_COUNTER_ADD("shop.gateway_requests", 1);
			uint64_t t0 = now_ns();
			if (strcmp(user, "mallory") == 0 && ++mallory_this_second > 3) {
				TTLOG_WARN("rate limit hit user=%s route=%s", user, route_names[rt]);
				struct reply r;
				char a[64];
				snprintf(a, sizeof a, "%s ratelimit 8", user);
				net_call(SVC_AUDIT, "security", a, 150, &r);
				ok = 0;
			} else {
				ok = do_request(rt, user, oid);
			}
			ms = (double)(now_ns() - t0) / 1e6;
			atomic_fetch_sub(&inflight, 1);
			TTLOG_HISTOGRAM_RECORD("shop.gateway_latency_ms", ms);
			TTLOG_SPAN_FIELD("ok", ok);
			if (!ok) {
				atomic_fetch_add(&shop->gw_errors, 1);
				TTLOG_COUNTER_ADD("shop.gateway_errors", 1);
			}
		}
		TTLOG_INFO("request done route=%s user=%s ms=%.1f ok=%d", route_names[rt], user, ms, ok);
		atomic_fetch_add(&shop->gw_done_logged, 1);
	}
	cur_rid[0] = 0;
	return NULL;
}

/* ---- end of day: reconciliation (checkout) -------------------------------------------------- */

/* Refunds an order whose charge was retried. The assumption that a
 * retried charge always left a receipt is wrong when every attempt failed:
 * this is the bug the demo's crash snapshot shows. */
#if defined(__clang__) || __GNUC__ >= 8
/* Sanitizer builds (the test suite's) must see the same SIGSEGV as
 * everyone else, not UBSan's report of the null pointer. */
#define SHOP_NO_UBSAN __attribute__((no_sanitize("undefined")))
#else
#define SHOP_NO_UBSAN
#endif
__attribute__((noinline)) SHOP_NO_UBSAN static double reconcile_refund(const struct failed_order *f)
{
	TTLOG_WARN("reconcile: refunding order_id=%llu amount=%.2f attempts=%d", f->id, f->amount,
		   f->attempts);
	return f->receipt->amount;
}

__attribute__((noinline)) static void reconcile(void)
{
	TTLOG_INFO("end of day: reconciling failed_orders=%d", failed_count);
	double refunded = 0;
	for (int i = 0; i < failed_count; i++) {
		struct failed_order *f = &failed_orders[i];
		TTLOG_DEBUG("reconcile order_id=%llu attempts=%d receipt=%p", f->id, f->attempts,
			    (void *)f->receipt);
		if (f->attempts > 1)
			refunded += reconcile_refund(f);
	}
	TTLOG_INFO("end of day: refunded=%.2f", refunded);
}

/* ---- the processes ------------------------------------------------------------------------------ */

static void wait_phase(int phase)
{
	while (atomic_load(&shop->phase) < phase)
		sleep_ms(20);
}

void shop_process_main(enum proc p, const struct shop_options *opt)
{
	me = p;
	opts = opt;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != (pid_t)atoi(shop->run_id))
		_exit(1); /* the supervisor died before the line above */
	prctl(PR_SET_NAME, proc_names[p]);
	rnd_seed(shop->seed + (uint64_t)p);

	char shm_dir[1024];
	snprintf(shm_dir, sizeof shm_dir, "%s/shm", opt->dir);
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.dir = opt->dir;
	if (p == PROC_BACK) {
		/* backoffice keeps its rings in a shared mapping, so that its
		 * history survives the chaos monkey's SIGKILL (ttlog recover). */
		cfg.shared_memory = 1;
		cfg.shared_dir = shm_dir;
	}
	/* Streaming: every process streams INFO and above to segments in the
	 * stream directory (DIR/stream unless --stream says otherwise), named
	 * after its service (edge, checkout, backoffice: `--service` filters
	 * on it). Around each error the stream also gets the debug records of
	 * the 2 s before and 500 ms after, of every thread in that request's
	 * trace (the default promotion scope), so a failed payment's detail
	 * across the three processes is in the stream; the rings still keep
	 * everything for the snapshots. TTLOG_* variables override these. */
	cfg.service = proc_names[p];
	if (opt->stream_dir) {
		cfg.stream = opt->stream_dir;
		cfg.stream_level = "info";
	}
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "shop %s: ttlog_init: %s: %s\n", proc_names[p], ttlog_strerror(rc),
			ttlog_init_error());
		_exit(2);
	}
	TTLOG_INFO("process %s starting pid=%d seed=%llu", proc_names[p], (int)getpid(),
		   (unsigned long long)shop->seed);

	breaker_init(&payment_breaker, "payment", 5, 600);
	breaker_init(&reco_breaker, "recommendation", 4, 500);
	if (p == PROC_EDGE) {
		char sel[128];
		snprintf(sel, sizeof sel, "%s:%d", __FILE__, (int)NOISY_LINE);
		if (ttlog_set_sampling(sel, 20, 0) != TTLOG_OK)
			TTLOG_WARN("sampling rule %s refused", sel);
	}

	for (int s = 0; s < NSVC; s++) {
		if (svc_proc[s] != (int)p)
			continue;
		static const int workers[NSVC] = {
#define SHOP__W(id, name, proc, w) w,
			SHOP_SERVICES(SHOP__W)
#undef SHOP__W
		};
		start_endpoint(s, workers[s]);
	}
	if (p == PROC_EDGE)
		start_endpoint(EP_SEARCH2, 2);

	/* What this process's health thread watches: the services it calls. */
	static const int edge_deps[] = {SVC_USER, SVC_SEARCH, EP_SEARCH2, SVC_PRODUCT, SVC_PRICING,
					SVC_ORDER, SVC_RECOMMENDATION, SVC_AUDIT};
	static const int checkout_deps[] = {SVC_INVENTORY, SVC_PRICING, SVC_PAYMENT, SVC_SHIPPING,
					    SVC_NOTIFICATION, SVC_ANALYTICS};
	static const int back_deps[] = {SVC_PRODUCT, SVC_AUDIT, SVC_SHIPPING};
	const int *deps = p == PROC_EDGE ? edge_deps : p == PROC_CHECKOUT ? checkout_deps : back_deps;
	health_n = p == PROC_EDGE ? 8 : p == PROC_CHECKOUT ? 6 : 3;
	for (int i = 0; i < health_n; i++) {
		health_eps[i] = deps[i];
		atomic_store(&healthy[deps[i]], 1);
	}
	atomic_store(&shop->ready[p], 1);
	for (int i = 0; i < NPROC; i++)
		while (!atomic_load(&shop->ready[i]))
			sleep_ms(5);
	pthread_t health;
	pthread_create(&health, NULL, health_thread, NULL);

	if (p == PROC_EDGE) {
		pthread_t gen[GENERATORS];
		for (long i = 0; i < GENERATORS; i++)
			pthread_create(&gen[i], NULL, generator, (void *)(i + 1));
		while (atomic_load(&shop->phase) == PHASE_RUN) {
			if (atomic_load(&shop->load_milli) > 2500) {
				TTLOG_WARN("high load factor=%.2f inflight=%d",
					   (double)atomic_load(&shop->load_milli) / 1000.0, atomic_load(&inflight));
				business_snapshot(SNAP_HIGH_LOAD);
			}
			sleep_ms(50);
		}
		for (int i = 0; i < GENERATORS; i++)
			pthread_join(gen[i], NULL);
		atomic_store(&stopping, 1);
		pthread_join(health, NULL);
		TTLOG_INFO("gateway stopped: requests=%llu errors=%llu",
			   (unsigned long long)atomic_load(&shop->gw_requests),
			   (unsigned long long)atomic_load(&shop->gw_errors));
		shop_snapshot(p, "end_of_run");
		atomic_store(&shop->ready[p], 2);
		ttlog_shutdown();
		_exit(0);
	}

	wait_phase(PHASE_END_OF_DAY);
	atomic_store(&stopping, 1);
	pthread_join(health, NULL);
	TTLOG_INFO("process %s: end of day", proc_names[p]);
	if (p == PROC_CHECKOUT) {
		atomic_store(&shop->ready[p], 2);
		reconcile();
		ttlog_shutdown();
		_exit(0);
	}
	/* backoffice: quiet now; the chaos monkey kills it. Snapshots that
	 * `ttlog recover` makes of a shared mapping hold no metrics (this
	 * version of ttlog keeps metric shards in private memory), so the
	 * day's metrics are written out first. */
	shop_snapshot(p, "end_of_day");
	atomic_store(&shop->ready[p], 2);
	for (;;)
		pause();
}
