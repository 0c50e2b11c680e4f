/* SPDX-License-Identifier: MIT */
/*
 * shop.h - what the parts of the shop example share: the twelve services
 * and the three processes they live in, the run's options, the state the
 * supervisor shares with its children (counters, chaos switches, phase),
 * and the calls between services (net.c) and the service code (services.c).
 */
#ifndef SHOP_H
#define SHOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* X(ID, name, process, workers) for each of the twelve services. */
#define SHOP_SERVICES(X)                         \
	X(USER, user, PROC_EDGE, 2)               \
	X(PRODUCT, product, PROC_BACK, 2)         \
	X(ORDER, order, PROC_CHECKOUT, 4)         \
	X(PAYMENT, payment, PROC_CHECKOUT, 3)     \
	X(INVENTORY, inventory, PROC_CHECKOUT, 2) \
	X(NOTIFICATION, notification, PROC_BACK, 2) \
	X(ANALYTICS, analytics, PROC_BACK, 2)     \
	X(AUDIT, audit, PROC_BACK, 2)             \
	X(RECOMMENDATION, recommendation, PROC_BACK, 2) \
	X(SEARCH, search, PROC_EDGE, 2)           \
	X(PRICING, pricing, PROC_CHECKOUT, 2)     \
	X(SHIPPING, shipping, PROC_BACK, 2)

enum svc {
#define SHOP__ENUM(id, name, proc, workers) SVC_##id,
	SHOP_SERVICES(SHOP__ENUM)
#undef SHOP__ENUM
	NSVC
};

/* The OS processes. edge: the gateway (load generator), user and two
 * instances of search; checkout: order, payment, pricing, inventory;
 * backoffice: the rest, in shared-memory mode. */
enum proc { PROC_EDGE, PROC_CHECKOUT, PROC_BACK, NPROC };

/* Phases of a run, set by the supervisor. */
enum phase { PHASE_RUN, PHASE_STOP_TRAFFIC, PHASE_END_OF_DAY };

/* Search runs as two instances behind the gateway's load balancer: the
 * endpoint of instance 2 is the extra one. */
#define EP_SEARCH2 NSVC
#define NENDPOINT (NSVC + 1)

struct shop_options {
	double duration_s;
	uint64_t seed;
	double rate; /* requests per second at base load */
	int chaos;   /* 0 none, 1 normal, 2 heavy */
	const char *dir;
	const char *stream_dir; /* streaming, when the library has it */
};

/* Shared (MAP_SHARED) between the supervisor and the three processes. */
struct shop_shared {
	_Atomic uint64_t requests[NSVC]; /* handled by each service */
	_Atomic uint64_t errors[NSVC];   /* of which answered with an error */
	_Atomic uint64_t gw_requests;    /* requests the gateway issued */
	_Atomic uint64_t gw_errors;      /* ... that failed */
	_Atomic uint64_t gw_done_logged; /* "request done" events logged */
	_Atomic uint64_t noisy_calls;    /* calls of the sampled site */
	_Atomic uint64_t snapshots[NPROC];
	_Atomic uint64_t snapshot_failures;
	_Atomic uint64_t invariant_broken;
	_Atomic int phase;
	_Atomic int ready[NPROC]; /* 1: up; 2: quiesced at the end */
	/* Chaos switches, flipped by the supervisor's chaos monkey. */
	_Atomic int db_down;       /* payment's database fails */
	_Atomic int reco_hang;     /* recommendation stops answering */
	_Atomic int search2_down;  /* search instance 2 stops answering */
	_Atomic int security_burst; /* attackers are active */
	_Atomic int day;           /* day number (a "day" is up to 20 s) */
	_Atomic uint64_t load_milli; /* load factor x1000 */
	pid_t pids[NPROC];
	uint64_t seed;
	int chaos;
	double rate;
	char run_id[32]; /* names the sockets of this run */
};

extern struct shop_shared *shop;
extern const char *const svc_names[NENDPOINT];
extern const int svc_proc[NSVC];
extern const char *const proc_names[NPROC];

/* ---- services.c ---- */
/* Runs process p (after fork); never returns. */
void shop_process_main(enum proc p, const struct shop_options *opt) __attribute__((noreturn));

/* ---- net.c ---- */
#define MSG_MAX 512
struct reply {
	int ok;             /* 1: the service answered "ok" */
	int answered;       /* 0: timeout, dropped, refused */
	char text[MSG_MAX]; /* the answer's text */
};
/* The request id of the calling thread's current request ("" if none). */
extern _Thread_local char cur_rid[40];
/* Listening socket of endpoint ep (abstract Unix socket), or -1. */
int net_listen(int ep);
/* One request: connect to endpoint ep, send op and arg with the calling
 * thread's traceparent and request id, wait up to timeout_ms. Opens the
 * client span "rpc.call". Checks that the answer carries the same trace. */
void net_call(int ep, const char *op, const char *arg, int timeout_ms, struct reply *r);
/* Server side of one connection: reads one request into the arguments
 * (traceparent, request id, op, arg), returns 0, or -1 on a bad request. */
int net_read_request(int fd, char *tp, char *rid, char *op, char *arg);
int net_write_reply(int fd, int ok, const char *text);

/* Circuit breaker. */
enum cb_state { CB_CLOSED, CB_OPEN, CB_HALF_OPEN };
struct breaker {
	const char *name;
	int state;
	int failures;
	int threshold;
	uint64_t open_until_ns;
	uint64_t open_ns;
	int probing;
	uint64_t opened; /* times it opened */
	pthread_mutex_t mu;
};
void breaker_init(struct breaker *b, const char *name, int threshold, int open_ms);
int breaker_allow(struct breaker *b);               /* 0: fail fast */
int breaker_result(struct breaker *b, int success); /* 1: it just opened */
int breaker_state(struct breaker *b);

/* A call with retries, backoff and a breaker. */
void call_retry(int ep, const char *op, const char *arg, int timeout_ms, int attempts,
		struct breaker *b, struct reply *r);

/* Per-process health of each endpoint, kept by the health thread. */
extern _Atomic int healthy[NENDPOINT];
void health_check_all(const int *eps, int n);

uint64_t now_ns(void);
void sleep_ms(double ms);
/* A per-thread random generator seeded from the run's seed. */
uint64_t rnd(void);
double rnd01(void);
void rnd_seed(uint64_t s);

/* Counters, shop-side and as ttlog metrics, in one place. */
void count_request(enum svc s, int error, double ms);
void shop_snapshot(enum proc p, const char *reason);

#endif
