/* SPDX-License-Identifier: MIT */
/*
 * server.c - the HTTP side of `ttlog serve`, on libmicrohttpd.
 *
 * One thread per connection (at most CONNECTION_LIMIT), started by
 * libmicrohttpd; each request runs its handler on its own readers, so
 * requests share nothing but the served set, which never changes. What
 * libmicrohttpd hands over (method, path, decoded parameters, headers,
 * whether a body came) goes through the gate and the routes of gate.c;
 * this file streams "/api/tail" (server-sent events) itself. Oversized
 * headers and URLs are refused by libmicrohttpd itself (its
 * per-connection memory limit).
 * Every response carries a Content-Security-Policy that allows only the
 * page's own script and style, nosniff, no-referrer and no-store.
 *
 * SIGINT and SIGTERM are blocked before the threads start and taken by
 * the main thread with sigwait(); it then sets the stop flag (which ends
 * tails and cuts long handlers short) and stops the daemon, which joins
 * every connection's thread, then joins the thread that fills the
 * overview cache at start (cache.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "render/json_text.h"
#include "serve/internal.h"

#define CONNECTION_LIMIT 64
#define PER_IP_LIMIT 32
#define TAIL_LIMIT 16
#define TAIL_WAIT_MS 500
#define KEEPALIVE_MS 15000

extern char **environ;

struct server {
	struct serve_set set;
	const struct serve_config *cfg;
	struct serve_limits lim;
	int loopback;
	unsigned port;
	char host_names[3][80];   /* the Host values a loopback server accepts */
	volatile int stop;
	int tails;                /* tails open (atomic) */
	struct serve_cache *cache; /* the page's overviews (cache.c) */
	pthread_t warm;           /* computes them at start */
	int warming;
};

static void *warm_main(void *arg)
{
	struct server *srv = arg;
	serve_cache_warm(&srv->set, &srv->lim, srv->cache, &srv->stop);
	return NULL;
}

static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
			  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
			  "form-action 'none'; frame-ancestors 'none'";

static void add_headers(struct MHD_Response *r, const char *type)
{
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_buf(struct MHD_Connection *c, int status, struct render_buf *b,
				const char *type)
{
	struct MHD_Response *r;
	if (b->data) {
		r = MHD_create_response_from_buffer(b->len, b->data, MHD_RESPMEM_MUST_FREE);
		if (r)
			memset(b, 0, sizeof *b); /* the response owns the bytes now */
	} else {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	add_headers(r, type);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *message)
{
	struct render_buf b = {0};
	serve_fail(&b, status, "%s", message);
	return send_buf(c, status, &b, "application/json; charset=utf-8");
}

/* ---- Parameters ------------------------------------------------------------ */

struct collect {
	struct serve_request *rq;
	int problem;
	char detail[120];
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	(void)kind;
	struct collect *col = cls;
	if (col->problem)
		return MHD_NO;
	if (serve_param_add(col->rq, key, value, col->detail, sizeof col->detail) != 0) {
		col->problem = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/* ---- Live tail (server-sent events) ----------------------------------------- */

struct tail {
	struct server *srv;
	const struct serve_source *src;
	ttlog_store *store;      /* a file or a store; NULL for a process */
	struct serve_ptail pt;   /* a process: where its threads are */
	struct serve_filter f;
	char *param_copy;        /* the filter's strings, copied: the request's die with it */
	struct render_buf pending, msg;
	struct serve_event_cache ec;
	size_t sent;
	int64_t quiet_ms;
	int started;
	int ended;               /* a process's tail said its last */
};

static void tail_free(void *cls)
{
	struct tail *t = cls;
	ttlog_store_close(t->store);
	serve_ptail_free(&t->pt);
	render_buf_free(&t->pending);
	render_buf_free(&t->msg);
	serve_event_cache_free(&t->ec);
	free(t->param_copy);
	__atomic_fetch_sub(&t->srv->tails, 1, __ATOMIC_RELAXED);
	free(t);
}

/* Appends the events the store has now, as "data:" lines. */
static void tail_drain(struct tail *t)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	unsigned n = 0;
	while (n < 10000 && ttlog_store_next(t->store, &ev, &from)) {
		if (!serve_filter_match(&t->f, &ev, from, &t->msg))
			continue;
		render_buf_puts(&t->pending, "data: ");
		serve_event_json(&t->pending, &ev, from, &t->msg, &t->ec);
		render_buf_puts(&t->pending, "\n\n");
		n++;
	}
}

/* A process: waits for the next poll, then polls its mapping. Returns 0,
 * or -1 when the tail ends (the server stops, the process ended, or its
 * mapping cannot be read: said in pending). */
static int tail_poll_process(struct tail *t)
{
	char err[600];
	if (t->pt.primed) {
		for (int ms = 0; ms < SERVE_PROCESS_POLL_MS && !t->srv->stop; ms += 50) {
			struct timespec ts = {0, 50 * 1000000L};
			nanosleep(&ts, NULL);
		}
		if (t->srv->stop)
			return -1;
	}
	int alive = serve_process_alive(t->src);
	size_t before = t->pending.len;
	int polled = serve_process_poll(&t->pt, t->src, &t->f, &t->pending, &t->msg, &t->ec, err,
					sizeof err);
	if (polled != 0 && alive) {
		render_buf_puts(&t->pending, "event: error\ndata: {\"error\":");
		render_json_cstring(&t->pending, err);
		render_buf_puts(&t->pending, "}\n\n");
		return -1;
	}
	if (!alive) {
		/* Its last events were in the snapshot just read, if its
		 * mapping was still there (a clean exit removes it). */
		render_buf_printf(&t->pending, "event: ended\ndata: {\"pid\":%d}\n\n", t->src->pid);
		return -1;
	}
	if (t->pending.len > before)
		t->quiet_ms = 0;
	else if ((t->quiet_ms += SERVE_PROCESS_POLL_MS) >= KEEPALIVE_MS) {
		render_buf_puts(&t->pending, ": keepalive\n\n");
		t->quiet_ms = 0;
	}
	return 0;
}

static ssize_t tail_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct tail *t = cls;
	while (t->src->pid && t->sent == t->pending.len) {
		render_buf_reset(&t->pending);
		t->sent = 0;
		if (t->srv->stop || t->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int first = !t->started;
		if (first) {
			t->started = 1;
			render_buf_puts(&t->pending, "retry: 2000\n: ttlog tail\n\n");
		}
		if (tail_poll_process(t) != 0)
			t->ended = 1;
		else if (first) /* what the process logs from now on is new */
			render_buf_puts(&t->pending, "event: ready\ndata: {}\n\n");
	}
	while (t->sent == t->pending.len) {
		render_buf_reset(&t->pending);
		t->sent = 0;
		if (t->srv->stop)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!t->started) {
			t->started = 1;
			render_buf_puts(&t->pending, "retry: 2000\n: ttlog tail\n\n");
			tail_drain(t);
			break;
		}
		int rc = ttlog_store_follow(t->store, TAIL_WAIT_MS);
		if (rc < 0) {
			render_buf_printf(&t->pending, "event: error\ndata: {\"error\":\"%s\"}\n\n",
					  ttlog_strerror(-rc));
			break;
		}
		if (rc > 0) {
			tail_drain(t);
			t->quiet_ms = 0;
		} else if ((t->quiet_ms += TAIL_WAIT_MS) >= KEEPALIVE_MS) {
			render_buf_puts(&t->pending, ": keepalive\n\n");
			t->quiet_ms = 0;
		}
	}
	size_t n = t->pending.len - t->sent;
	if (n > max)
		n = max;
	memcpy(buf, t->pending.data + t->sent, n);
	t->sent += n;
	return (ssize_t)n;
}

static enum MHD_Result start_tail(struct server *srv, struct MHD_Connection *c,
				  struct serve_request *rq)
{
	struct render_buf out = {0};
	int status = 200;
	const struct serve_source *src = serve_source_param(rq, &out, &status);
	if (!src)
		return send_buf(c, status, &out, "application/json; charset=utf-8");
	struct tail *t = calloc(1, sizeof *t);
	if (!t)
		return send_error(c, 503, "out of memory");
	t->srv = srv;
	__atomic_fetch_add(&srv->tails, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&srv->tails, __ATOMIC_RELAXED) > TAIL_LIMIT) {
		tail_free(t);
		return send_error(c, 503, "too many live tails open");
	}
	/* The filter keeps pointers to the request's strings: copy them all. */
	size_t total = 0;
	for (size_t i = 0; i < rq->nparams; i++)
		total += strlen(rq->values[i]) + 1;
	t->param_copy = malloc(total + 1);
	if (!t->param_copy) {
		tail_free(t);
		return send_error(c, 503, "out of memory");
	}
	char *p = t->param_copy;
	for (size_t i = 0; i < rq->nparams; i++) {
		size_t n = strlen(rq->values[i]) + 1;
		memcpy(p, rq->values[i], n);
		rq->values[i] = p;
		p += n;
	}
	if ((status = serve_filter_parse(rq, &t->f, &out)) != 0) {
		tail_free(t);
		return send_buf(c, status, &out, "application/json; charset=utf-8");
	}
	t->src = src;
	if (src->pid)
		goto respond; /* its first poll notes where its threads are */
	/* Start at the end of what the source holds now: the newest time of
	 * its files (their headers; nothing decoded). */
	struct ttlog_store_options opt;
	serve_filter_store_options(&t->f, &opt);
	ttlog_store *probe = serve_open_store(src, &opt, &out, &status);
	if (!probe) {
		tail_free(t);
		return send_buf(c, status, &out, "application/json; charset=utf-8");
	}
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(probe, &files);
	int64_t last = INT64_MIN;
	for (size_t i = 0; i < nf; i++)
		if (files[i]->reader && ttlog_reader_info(files[i]->reader)->last_ns > last)
			last = ttlog_reader_info(files[i]->reader)->last_ns;
	ttlog_store_close(probe);
	if (last > opt.since_ns)
		opt.since_ns = last + 1;
	opt.flags = 0;
	t->store = serve_open_store(src, &opt, &out, &status);
	if (!t->store) {
		tail_free(t);
		return send_buf(c, status, &out, "application/json; charset=utf-8");
	}
respond:
	render_buf_free(&out);
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, tail_read,
								   t, tail_free);
	if (!r) {
		tail_free(t);
		return MHD_NO;
	}
	add_headers(r, "text/event-stream; charset=utf-8");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- The gate and the routes ------------------------------------------------- */

static int marker, had_body;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	struct server *srv = cls;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		struct render_buf out = {0};
		int status = serve_gate_method(method, &out);
		if (status)
			return send_buf(c, status, &out, "application/json; charset=utf-8");
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		*con_cls = &had_body; /* remember: a body came */
		return MHD_YES;
	}

	struct serve_request rq;
	memset(&rq, 0, sizeof rq);
	rq.set = &srv->set;
	rq.lim = &srv->lim;
	rq.stack_json = srv->cfg->stack_json;
	rq.stack_arg = srv->cfg->stack_arg;
	rq.stop = &srv->stop;
	rq.cache = srv->cache;
	rq.deadline_ns = serve_now_ns() + (int64_t)srv->lim.time_ms * 1000000;
	struct collect col = {&rq, 0, ""};
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &col);

	const char *hosts[3] = {srv->host_names[0], srv->host_names[1], srv->host_names[2]};
	struct serve_gate gate = {srv->cfg->token, hosts, 3};
	struct serve_headers h = {
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
		*con_cls == &had_body,
	};
	struct render_buf out = {0};
	int status = serve_gate_check(&gate, &h, &rq, col.problem ? col.detail : NULL, &out);
	if (status)
		return send_buf(c, status, &out, "application/json; charset=utf-8");

	const char *type;
	const struct serve_asset *a;
	status = serve_answer(&rq, url, &out, &type, &a);
	if (status == 0) {
		render_buf_free(&out);
		return start_tail(srv, c, &rq);
	}
	if (a) {
		render_buf_free(&out);
		struct MHD_Response *r = MHD_create_response_from_buffer(a->len, (void *)a->data,
									 MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		add_headers(r, a->type);
		enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	return send_buf(c, status, &out, type);
}

/* ---- Starting and stopping ----------------------------------------------------- */

static void open_browser(const char *url)
{
	char *argv[] = {(char *)"xdg-open", (char *)url, NULL};
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0)
		fprintf(stderr, "ttlog serve: --open: cannot run xdg-open; open %s yourself\n", url);
	posix_spawn_file_actions_destroy(&fa);
}

int serve_run(const struct serve_config *cfg)
{
	struct server *srv = calloc(1, sizeof *srv);
	if (!srv) {
		fprintf(stderr, "ttlog serve: out of memory\n");
		return 2;
	}
	srv->cfg = cfg;
	srv->lim = cfg->limits;
	serve_limits_default(&srv->lim);
	char err[512];
	if (serve_set_build(&srv->set, cfg->paths, cfg->npaths, cfg->shm_base, err, sizeof err) != 0) {
		fprintf(stderr, "ttlog serve: %s\n", err);
		free(srv);
		return 2;
	}

	const char *host = cfg->host ? cfg->host : "127.0.0.1";
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_ERROR_LOG;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)cfg->port);
		srv->loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)cfg->port);
		srv->loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
		flags |= MHD_USE_IPv6;
	} else {
		fprintf(stderr, "ttlog serve: '%s' is not a numeric IPv4 or IPv6 address\n", host);
		serve_set_free(&srv->set);
		free(srv);
		return 1;
	}
	if (!srv->loopback && !cfg->token) {
		fprintf(stderr, "ttlog serve: internal error: a non-loopback address needs a token\n");
		serve_set_free(&srv->set);
		free(srv);
		return 1;
	}

	/* The threads libmicrohttpd starts inherit this mask: the signals
	 * that stop the server reach only sigwait() below. */
	sigset_t stop_set, old;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_set, &old);

	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)cfg->port, NULL, NULL, handle, srv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)(96 * 1024), MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "ttlog serve: cannot listen on %s port %u: %s\n", host, cfg->port,
			strerror(errno ? errno : EADDRINUSE));
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		serve_set_free(&srv->set);
		free(srv);
		return 2;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : cfg->port;
	snprintf(srv->host_names[0], sizeof srv->host_names[0], "127.0.0.1:%u", srv->port);
	snprintf(srv->host_names[1], sizeof srv->host_names[1], "localhost:%u", srv->port);
	snprintf(srv->host_names[2], sizeof srv->host_names[2], "[::1]:%u", srv->port);

	char url[256];
	int v6 = strchr(host, ':') != NULL;
	snprintf(url, sizeof url, "http://%s%s%s:%u/%s%s", v6 ? "[" : "", host, v6 ? "]" : "",
		 srv->port, cfg->token ? "?token=" : "", cfg->token ? cfg->token : "");
	printf("%s\n", url);
	fflush(stdout);
	fprintf(stderr, "ttlog serve: %zu source%s on %s (Ctrl-C stops)\n", srv->set.n,
		srv->set.n == 1 ? "" : "s", url);
	if (cfg->port_file) {
		/* Written whole, then renamed: a reader never sees half of it. */
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s.tmp", cfg->port_file);
		int pfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		FILE *pf = pfd >= 0 ? fdopen(pfd, "w") : NULL;
		if (pfd >= 0 && !pf)
			close(pfd);
		if (pf) {
			fprintf(pf, "%u\n", srv->port);
			if (fclose(pf) == 0)
				rename(tmp, cfg->port_file);
		}
	}
	/* The page's overview of each source, computed while nobody asks. */
	srv->cache = serve_cache_new();
	if (srv->cache)
		srv->warming = pthread_create(&srv->warm, NULL, warm_main, srv) == 0;
	if (cfg->open_browser)
		open_browser(url);

	int sig = 0;
	while (sigwait(&stop_set, &sig) != 0)
		;
	fprintf(stderr, "ttlog serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
	srv->stop = 1;
	MHD_stop_daemon(d);
	if (srv->warming)
		pthread_join(srv->warm, NULL);
	serve_cache_free(srv->cache);
	serve_process_cleanup();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	serve_set_free(&srv->set);
	free(srv);
	return 0;
}
