/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the files of the web viewer share: the served set, a
 * request as the API handlers see it (its parameters, caps and deadline),
 * the event filter of the events, timeline and tail endpoints, and the
 * handlers themselves.
 *
 * A handler fills `out` with a JSON body and returns the HTTP status; on an
 * error the body is {"error":"..."} (serve_fail). Handlers know nothing of
 * HTTP otherwise, so `ttlog report` calls the same ones to embed their
 * answers in its file.
 */
#ifndef TTLOG__SERVE_INTERNAL_H
#define TTLOG__SERVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "render/event_json.h"
#include "render/text_buf.h"
#include "serve/serve.h"
#include "ttlog_reader.h"

/* ---- The served set (set.c) ---------------------------------------------- */

struct serve_source {
	char *label;      /* what the page shows: the argument, or DIR/NAME */
	char *path;       /* what the store opens (never shown to a request's choice) */
	int is_file;      /* a file (else a directory or pattern: a store) */
	int parent;       /* for a file found in a directory: that source's number; -1 */
	int pid;          /* a live process (path: its mapping); 0 for files and stores */
};

struct serve_set {
	struct serve_source *src;
	size_t n;
};

/** Builds the set from the arguments (shm_base: the base directory of the
 *  mappings of `pid:PID` sources, NULL for the default). Returns 0, or -1
 *  with a message in err. */
int serve_set_build(struct serve_set *set, char *const *paths, size_t npaths,
		    const char *shm_base, char *err, size_t errlen);
void serve_set_free(struct serve_set *set);

/* ---- Requests ------------------------------------------------------------ */

#define SERVE_MAX_PARAMS 24
#define SERVE_MAX_PARAM_LEN 8192 /* bytes of one value (an SQL statement) */

struct serve_request {
	const struct serve_set *set;
	const struct serve_limits *lim;
	serve_stack_json_fn stack_json;
	void *stack_arg;
	const char *keys[SERVE_MAX_PARAMS];
	const char *values[SERVE_MAX_PARAMS];
	size_t nparams;
	int64_t deadline_ns;      /* CLOCK_MONOTONIC time by which to answer */
	struct serve_cache *cache; /* the server's overview cache (cache.c); NULL: none */
	volatile const int *stop; /* the server is stopping: end early */
};

/** The value of parameter key, or NULL. */
const char *serve_param(const struct serve_request *rq, const char *key);
/** CLOCK_MONOTONIC now, in ns. */
int64_t serve_now_ns(void);
/** The request ran out of time (or the server is stopping). */
int serve_out_of_time(const struct serve_request *rq);

/** Replaces out with {"error":MESSAGE} and returns status. */
int serve_fail(struct render_buf *out, int status, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/** Parses a decimal integer that must be the whole of s, in [min, max]. */
int serve_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v);

/**
 * The source named by parameter src. Returns it, or NULL with out set to a
 * 400 (missing or malformed) or 404 (no such source) and *status set.
 */
const struct serve_source *serve_source_param(const struct serve_request *rq,
					      struct render_buf *out, int *status);

/** Opens the source as a store with the options given. NULL with a 404/500 in out. */
ttlog_store *serve_open_store(const struct serve_source *s, const struct ttlog_store_options *opt,
			      struct render_buf *out, int *status);

/* ---- The event filter (filter.c) ------------------------------------------ */

struct serve_filter {
	int64_t since, until;      /* INT64_MIN, INT64_MAX: none */
	unsigned level_mask;       /* levels kept (min level and up) */
	int64_t pid, tid;          /* -1: any */
	const char *thread;        /* thread name, exact; NULL: any */
	const char *text;          /* substring of the message (case-insensitive); NULL */
	const char *field_key;     /* field=KEY=VALUE: the field's text equals VALUE */
	size_t field_key_len;
	const char *field_value;
	int trace;                 /* trace id given */
	uint64_t trace_hi, trace_lo;
	int spans;                 /* span events too (kind=all); else log events only */
};

/** Reads the filter parameters. Returns 0, or a 400 with out set. */
int serve_filter_parse(const struct serve_request *rq, struct serve_filter *f,
		       struct render_buf *out);
/**
 * The source of parameter src and the filter parameters into *f, as the
 * event endpoints all begin. NULL with out and *status set on a bad one.
 */
const struct serve_source *serve_filtered_source(const struct serve_request *rq,
						 struct serve_filter *f, struct render_buf *out,
						 int *status);
/** Store options for the filter's time and level range. */
void serve_filter_store_options(const struct serve_filter *f, struct ttlog_store_options *opt);
/** The event passes the filter; msg is scratch space for the message. */
int serve_filter_match(const struct serve_filter *f, const struct ttlog_event *ev,
		       const struct ttlog_store_file *from, struct render_buf *msg);
/** Parses 32 hex digits of a trace id. Returns 0, or -1. */
int serve_parse_trace(const char *s, uint64_t *hi, uint64_t *lo);

/* The presentation layer's cache of per-site texts, for the events of one
 * request; a zeroed struct is empty. */
struct serve_event_cache {
	struct render_event_cache cache;
	const ttlog_reader *reader;   /* the file the cache holds texts of */
};

/** Appends an event's JSON object: render_event_json's members (service
 *  among them), then pid of its file, and promoted. */
void serve_event_json(struct render_buf *out, const struct ttlog_event *ev,
		      const struct ttlog_store_file *from, struct render_buf *msg,
		      struct serve_event_cache *ec);
void serve_event_cache_free(struct serve_event_cache *ec);

/* ---- The overview cache (cache.c) ------------------------------------------ */

#define SERVE_PAGE_BINS 800 /* the bins of the page's overview (app.js asks for as many) */

struct serve_cache;
struct serve_cache *serve_cache_new(void);
void serve_cache_free(struct serve_cache *c);
/** The fingerprint of the source's files now; 0: not to be cached. */
uint64_t serve_cache_key(const struct serve_source *s);
/** Copies the cached answer into out: 1, or 0 if there is none for key. */
int serve_cache_get(struct serve_cache *c, size_t src, int64_t bins, int spans, uint64_t key,
		    struct render_buf *out);
/** Keeps a copy of answer, computed when the source's key was key. */
void serve_cache_put(struct serve_cache *c, size_t src, int64_t bins, int spans, uint64_t key,
		     const struct render_buf *answer);
/** Computes the page's overview of every source into c, until *stop. */
void serve_cache_warm(const struct serve_set *set, const struct serve_limits *lim,
		      struct serve_cache *c, volatile const int *stop);

/* ---- Live processes (process.c) ------------------------------------------- */

#define SERVE_PROCESS_POLL_MS 300 /* the live tail's look at a process's mapping */

/** Opens a snapshot of the process's mapping, taken now, as a store.
 *  Returns a TTLOG_* code; *st NULL with a message in err when it failed. */
int serve_process_open(const struct serve_source *s, const struct ttlog_store_options *opt,
		       ttlog_store **st, char *err, size_t errlen);
/** 1 if the process still runs and maps its file. */
int serve_process_alive(const struct serve_source *s);
/* A snapshot of the process's mapping, taken now, into the server's scratch
 * directory: its path in path, which the caller unlinks. 0, or -1 with err. */
int serve_process_snapshot(const struct serve_source *s, char *path, size_t size, char *err,
			   size_t errlen);
/** Removes the scratch directory of the snapshots (the server stops). */
void serve_process_cleanup(void);

/* Where the live tail of a process is, per thread. Zeroed: not started. */
struct serve_ptail_thread;
struct serve_ptail {
	struct serve_ptail_thread *th;
	size_t n;
	int primed;   /* the first poll was made: later events are new */
};
/** One poll: appends to out an "event: lost" message per thread that lost
 *  events since the last poll, then a "data:" message per new event that
 *  passes f (the first poll only notes where each thread is). Returns 0,
 *  or -1 with err. */
int serve_process_poll(struct serve_ptail *pt, const struct serve_source *s,
		       const struct serve_filter *f, struct render_buf *out, struct render_buf *msg,
		       struct serve_event_cache *ec, char *err, size_t errlen);
void serve_ptail_free(struct serve_ptail *pt);

/* ---- Handlers ------------------------------------------------------------ */

int serve_api_files(const struct serve_request *rq, struct render_buf *out);    /* api_files.c */
int serve_api_events(const struct serve_request *rq, struct render_buf *out);   /* api_events.c */
int serve_api_overview(const struct serve_request *rq, struct render_buf *out); /* api_timeline.c */
int serve_api_spans(const struct serve_request *rq, struct render_buf *out);    /* api_timeline.c */
int serve_api_metrics(const struct serve_request *rq, struct render_buf *out);  /* api_metrics.c */
int serve_api_crash(const struct serve_request *rq, struct render_buf *out);    /* api_crash.c */
int serve_api_sql(const struct serve_request *rq, struct render_buf *out);      /* api_sql.c */
/* GET /metrics: Prometheus text, not JSON (on an error, the usual JSON body). */
int serve_prometheus(const struct serve_request *rq, struct render_buf *out);   /* prometheus.c */

/* The handler of /api/NAME, or NULL (api.c). */
typedef int (*serve_handler_fn)(const struct serve_request *rq, struct render_buf *out);
serve_handler_fn serve_api_handler(const char *name);

/* ---- The page (assets generated from src/serve/page/ at build time) ------ */

struct serve_asset {
	const char *name;      /* "index.html", "app.js", "style.css" */
	const char *type;      /* its Content-Type */
	const unsigned char *data;
	size_t len;
};
extern const struct serve_asset serve_assets[];
extern const size_t serve_nassets;
/** The asset called name, or NULL. */
const struct serve_asset *serve_asset_find(const char *name);

/* ---- The gate and the routes (gate.c) ------------------------------------- */

/* What the server accepts: its token, or (none: loopback only) the Host
 * values that name it. */
struct serve_gate {
	const char *token;
	const char *const *hosts;
	size_t nhosts;
};

/* What the gate reads of a request besides its parameters. */
struct serve_headers {
	const char *authorization; /* the Authorization header, or NULL */
	const char *host;          /* the Host header, or NULL */
	int had_body;              /* a body came */
};

/** 0 for GET and HEAD; else a 405 in out. */
int serve_gate_method(const char *method, struct render_buf *out);
/** Adds one query parameter as the transport decoded it (NULL key or value:
 *  empty). Returns 0, or -1 with the reason in problem (unknown, too long,
 *  given twice, too many): the request is then answered 400. */
int serve_param_add(struct serve_request *rq, const char *key, const char *value, char *problem,
		    size_t len);
/** The gate after the method: body, token or Host, then param_problem (the
 *  first of serve_param_add, or NULL). Returns 0, or the status with out
 *  set. */
int serve_gate_check(const struct serve_gate *g, const struct serve_headers *h,
		     const struct serve_request *rq, const char *param_problem,
		     struct render_buf *out);
/** Answers a request that passed the gate, for every route but the live
 *  tail: the status, the body in out and its type in *type; for a file of
 *  the page, 200 with *asset set (its bytes are the body) and out empty;
 *  0 for /api/tail, which the transport streams. */
int serve_answer(struct serve_request *rq, const char *url, struct render_buf *out,
		 const char **type, const struct serve_asset **asset);

#endif /* TTLOG__SERVE_INTERNAL_H */
