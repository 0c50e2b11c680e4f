/* SPDX-License-Identifier: MIT */
/*
 * gate.c - what `ttlog serve` does with a request once libmicrohttpd has
 * parsed it: the gate every request passes and the route that answers it.
 *
 * libmicrohttpd reads the raw bytes (request line, headers, chunked body)
 * and hands over the method, the URL path (percent-decoded), each query
 * parameter (decoded; a key without '=' has no value), the header values
 * and whether a body came. Everything ttlog decides from those is here,
 * apart from the transport, so that the server (server.c) and the fuzz
 * target of the HTTP side (fuzz/fuzz_http.c) run the same code. In order:
 *   method    GET or HEAD, else 405 (nothing here writes);
 *   params    each known, once, at most SERVE_MAX_PARAM_LEN bytes and at
 *             most SERVE_MAX_PARAMS of them; the first problem is kept
 *             and answered with 400 after the checks below;
 *   body      none allowed: 413;
 *   token     when the server has one: "Authorization: Bearer T" or
 *             token=T, compared in constant time, else 401;
 *   host      without a token (loopback only), the Host header must be
 *             one of the names of the loopback address and port, else 421:
 *             a page elsewhere that makes the browser resolve its own name
 *             to 127.0.0.1 (DNS rebinding) gets nothing;
 * then the route: "/" or "/index.html" (the page), "/app.js",
 * "/style.css", "/api/NAME" (api.c's table), "/api/tail" (server-sent
 * events, streamed by server.c) and "/metrics" (prometheus.c). Anything
 * else is 404; no path reaches the file system.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "serve/internal.h"

static const char *const known_params[] = {
	"src", "since", "until", "level", "pid", "tid", "thread", "text", "field", "trace",
	"kind", "limit", "cursor", "bins", "self", "spans", "q", "token", NULL,
};

int serve_gate_method(const char *method, struct render_buf *out)
{
	if (method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		return 0;
	return serve_fail(out, 405, "only GET and HEAD: the viewer is read-only");
}

int serve_param_add(struct serve_request *rq, const char *key, const char *value, char *problem,
		    size_t len)
{
	if (!key)
		key = "";
	if (!value)
		value = "";
	int known = 0;
	for (size_t i = 0; known_params[i]; i++)
		known |= strcmp(known_params[i], key) == 0;
	if (!known) {
		snprintf(problem, len, "unknown parameter '%.60s'", key);
		return -1;
	}
	if (strlen(value) > SERVE_MAX_PARAM_LEN) {
		snprintf(problem, len, "parameter %s is longer than %d bytes", key,
			 SERVE_MAX_PARAM_LEN);
		return -1;
	}
	if (serve_param(rq, key)) {
		snprintf(problem, len, "parameter %s given twice", key);
		return -1;
	}
	if (rq->nparams == SERVE_MAX_PARAMS) {
		snprintf(problem, len, "more than %d parameters", SERVE_MAX_PARAMS);
		return -1;
	}
	rq->keys[rq->nparams] = key;
	rq->values[rq->nparams++] = value;
	return 0;
}

/* Constant-time comparison of a presented token with the server's. */
static int token_ok(const char *given, const char *want)
{
	if (!given)
		return 0;
	size_t n = strlen(want), m = strlen(given);
	unsigned diff = (unsigned)(n ^ m);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? given[i] : 0);
	return diff == 0;
}

int serve_gate_check(const struct serve_gate *g, const struct serve_headers *h,
		     const struct serve_request *rq, const char *param_problem,
		     struct render_buf *out)
{
	if (h->had_body)
		return serve_fail(out, 413, "a request has no body here");
	if (g->token) {
		const char *given = serve_param(rq, "token");
		if (h->authorization && strncasecmp(h->authorization, "Bearer ", 7) == 0)
			given = h->authorization + 7;
		if (!token_ok(given, g->token))
			return serve_fail(out, 401,
					  "a token is required (Authorization: Bearer T, or token=T)");
	} else {
		int ok = 0;
		for (size_t i = 0; i < g->nhosts && h->host; i++)
			ok |= strcasecmp(h->host, g->hosts[i]) == 0;
		if (!ok)
			return serve_fail(out, 421, "the Host header does not name this server");
	}
	if (param_problem)
		return serve_fail(out, 400, "%s", param_problem);
	return 0;
}

int serve_answer(struct serve_request *rq, const char *url, struct render_buf *out,
		 const char **type, const struct serve_asset **asset)
{
	static const char json[] = "application/json; charset=utf-8";
	*type = json;
	*asset = NULL;
	if (!url)
		url = "";
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0 ||
	    strcmp(url, "/app.js") == 0 || strcmp(url, "/style.css") == 0) {
		const struct serve_asset *a =
			serve_asset_find(strcmp(url, "/") == 0 ? "index.html" : url + 1);
		if (!a)
			return serve_fail(out, 404, "no such page");
		render_buf_reset(out);
		*asset = a;
		*type = a->type;
		return 200;
	}
	if (strcmp(url, "/api/tail") == 0)
		return 0;
	if (strcmp(url, "/metrics") == 0) {
		int status = serve_prometheus(rq, out);
		if (status == 200)
			*type = "text/plain; version=0.0.4; charset=utf-8";
		return status;
	}
	if (strncmp(url, "/api/", 5) == 0) {
		serve_handler_fn fn = serve_api_handler(url + 5);
		if (!fn)
			return serve_fail(out, 404, "no such endpoint");
		int status = fn(rq, out);
		if (status == 200 && out->len > rq->lim->out_bytes)
			status = serve_fail(out, 413, "the answer exceeds %zu bytes: narrow the range",
					    rq->lim->out_bytes);
		return status;
	}
	return serve_fail(out, 404, "not found");
}
