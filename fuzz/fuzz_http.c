/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c - libFuzzer target for the HTTP side of `ttlog serve`.
 *
 * libmicrohttpd parses the raw request; what ttlog does with what it hands
 * over is src/serve/gate.c and the handlers behind it. The input is a
 * request as text:
 *
 *   METHOD TARGET [VERSION]\n         TARGET: PATH[?QUERY]
 *   Name: value\n                     headers, up to an empty line
 *   \n
 *   body
 *
 * and is taken apart as libmicrohttpd does (MHD_http_unescape for the path
 * and each key and value of the query, split on '&' and the first '=',
 * '+' a space in those, a key without '=' has no value; header names case-insensitive, the first
 * Authorization and Host count, leading blanks of a value dropped; a NUL
 * ends a string). Then the request goes through the method check, the
 * parameters, the gate twice (a server with a token, and a loopback
 * server without one that checks Host) and, if either lets it in, its
 * route, with small caps, over a served set of real files: a directory
 * (a store) holding a crash snapshot with a stack, metrics and spans and
 * a packed segment with contexts and promotion (copied from the reader's
 * seeds), and each of those files as a source of its own. The tail route
 * runs what the server does before it streams (source and filters).
 *
 * Checks beyond "no crash, no leak": a refused parameter has a reason;
 * every JSON answer is well-formed JSON in valid UTF-8 (the page parses
 * it); an error is {"error":TEXT,"status":STATUS} with the answer's
 * status; /metrics text is valid UTF-8 with no NUL; an asset has bytes.
 *
 * The seed corpus, fuzz/corpus/http, has a request of every route with
 * every parameter, and refused ones (methods, bodies, tokens, hosts,
 * unknown, repeated, too many and too long parameters).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <microhttpd.h>

#include "serve/internal.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef TTLOG_FUZZ_SEEDS
#error "TTLOG_FUZZ_SEEDS (the directory of the reader's seeds) is set by the build"
#endif

static const char *const served[] = {"crash-spans-metrics.ttlog", "segment-packed-contexts.ttseg"};

static struct serve_set set;
static struct serve_limits lim;
static char dir[256];
static int ready;
static int trace; /* FUZZ_HTTP_TRACE=1: each answer's status and start on stderr */

static void cleanup(void)
{
	char path[512];
	for (size_t i = 0; i < sizeof served / sizeof *served; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, served[i]);
		unlink(path);
	}
	rmdir(dir);
	serve_set_free(&set);
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	if (!in) {
		fprintf(stderr, "fuzz_http: cannot read %s\n", from);
		exit(1);
	}
	FILE *out = fopen(to, "wb");
	if (!out) {
		fprintf(stderr, "fuzz_http: cannot write %s\n", to);
		exit(1);
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		CHECK(fwrite(buf, 1, n, out) == n);
	fclose(in);
	CHECK(fclose(out) == 0);
}

/* The served set: a directory of its own with the two files. */
static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/fuzz_http.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "fuzz_http: cannot make a directory in %s\n", tmp ? tmp : "/tmp");
		exit(1);
	}
	for (size_t i = 0; i < sizeof served / sizeof *served; i++) {
		char from[512], to[512];
		snprintf(from, sizeof from, "%s/%s", TTLOG_FUZZ_SEEDS, served[i]);
		snprintf(to, sizeof to, "%s/%s", dir, served[i]);
		copy_file(from, to);
	}
	char *paths[] = {dir};
	char err[512];
	if (serve_set_build(&set, paths, 1, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		exit(1);
	}
	CHECK(set.n == 3);
	lim.page_max = 50;
	lim.scan_max = 20000;
	lim.time_ms = 300;
	lim.sql_rows = 100;
	lim.out_bytes = 1u << 20;
	lim.spans_max = 500;
	serve_limits_default(&lim);
	atexit(cleanup);
	trace = getenv("FUZZ_HTTP_TRACE") != NULL;
	ready = 1;
}

/* ---- Checks of an answer ---------------------------------------------------- */

static int utf8_valid(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xbf;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += len;
	}
	return 1;
}

struct json {
	const char *p, *end;
	int depth;
};

static void ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int lit(struct json *j, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int hex4(struct json *j)
{
	if (j->end - j->p < 4)
		return 0;
	for (int i = 0; i < 4; i++)
		if (!strchr("0123456789abcdefABCDEF", j->p[i]) || !j->p[i])
			return 0;
	j->p += 4;
	return 1;
}

static int string(struct json *j)
{
	if (j->p >= j->end || *j->p != '"')
		return 0;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p++;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return 0;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			if (!hex4(j))
				return 0;
		} else if (!strchr("\"\\/bfnrt", c) || !c) {
			return 0;
		}
	}
	if (j->p >= j->end)
		return 0;
	j->p++;
	return 1;
}

static int digits(struct json *j)
{
	const char *s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static int number(struct json *j)
{
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (!digits(j))
		return 0;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digits(j))
			return 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digits(j))
			return 0;
	}
	return 1;
}

static int value(struct json *j)
{
	ws(j);
	if (j->p >= j->end || ++j->depth > 200)
		return 0;
	int ok;
	char c = *j->p;
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 1;
		}
		for (;;) {
			if (c == '{') {
				ws(j);
				if (!string(j))
					return 0;
				ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return 0;
			}
			if (!value(j))
				return 0;
			ws(j);
			if (j->p >= j->end)
				return 0;
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != close)
				return 0;
			break;
		}
		ok = 1;
	} else if (c == '"') {
		ok = string(j);
	} else if (c == 't') {
		ok = lit(j, "true");
	} else if (c == 'f') {
		ok = lit(j, "false");
	} else if (c == 'n') {
		ok = lit(j, "null");
	} else {
		ok = number(j);
	}
	j->depth--;
	return ok;
}

static void check_json(const struct render_buf *b)
{
	CHECK(b->data && b->len);
	CHECK(utf8_valid((const unsigned char *)b->data, b->len));
	struct json j = {b->data, b->data + b->len, 0};
	CHECK(value(&j));
	ws(&j);
	CHECK(j.p == j.end);
}

/* {"error":TEXT,"status":STATUS}, valid JSON. */
static void check_error(const struct render_buf *b, int status)
{
	check_json(b);
	CHECK(b->len > 9 && memcmp(b->data, "{\"error\":\"", 10) == 0);
	char tail[32];
	int n = snprintf(tail, sizeof tail, ",\"status\":%d}", status);
	CHECK(b->len > (size_t)n && memcmp(b->data + b->len - n, tail, (size_t)n) == 0);
}

static void check_answer(int status, const struct render_buf *b, const char *type)
{
	CHECK(status >= 200 && status <= 599);
	if (status != 200) {
		CHECK(strncmp(type, "application/json", 16) == 0);
		check_error(b, status);
	} else if (strncmp(type, "application/json", 16) == 0) {
		check_json(b);
	} else {
		CHECK(strncmp(type, "text/plain", 10) == 0); /* /metrics */
		CHECK(utf8_valid((const unsigned char *)b->data, b->len));
		CHECK(!b->len || !memchr(b->data, '\0', b->len));
	}
}

/* ---- The request, taken apart ------------------------------------------------- */

#define MAX_ARGS 64 /* beyond SERVE_MAX_PARAMS: the refusal is tried too */

/* The next line of [*p, end): NUL-terminated in place (its '\r' dropped);
 * NULL at the end. */
static char *next_line(char **p, char *end)
{
	if (*p >= end)
		return NULL;
	char *line = *p;
	char *nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl)
		nl = end;
	*nl = '\0';
	*p = nl < end ? nl + 1 : end;
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	return line;
}

/* A key or value of the query as libmicrohttpd decodes it: '+' is a
 * space, then %XX. */
static void unescape_arg(char *s)
{
	for (char *q = s; *q; q++)
		if (*q == '+')
			*q = ' ';
	MHD_http_unescape(s);
}

static void run(char *text, size_t size)
{
	char *p = text, *end = text + size;
	char *line = next_line(&p, end);
	if (!line)
		return;
	char *method = line;
	char *target = strchr(line, ' ');
	if (target) {
		*target++ = '\0';
		char *sp = strchr(target, ' ');
		if (sp)
			*sp = '\0';
	} else {
		target = line + strlen(line);
	}
	struct serve_headers h = {NULL, NULL, 0};
	while ((line = next_line(&p, end)) != NULL && *line) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Authorization") == 0 && !h.authorization)
			h.authorization = v;
		else if (strcasecmp(line, "Host") == 0 && !h.host)
			h.host = v;
	}
	h.had_body = p < end;

	struct render_buf out = {0};
	int status = serve_gate_method(method, &out);
	if (status) {
		CHECK(status == 405);
		check_error(&out, status);
		render_buf_free(&out);
		return;
	}

	char *query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	MHD_http_unescape(target);

	struct serve_request rq;
	memset(&rq, 0, sizeof rq);
	rq.set = &set;
	rq.lim = &lim;
	rq.deadline_ns = serve_now_ns() + (int64_t)lim.time_ms * 1000000;
	char problem[120] = "";
	int refused = 0;
	for (char *arg = query; arg && !refused;) {
		char *amp = strchr(arg, '&');
		if (amp)
			*amp = '\0';
		char *eq = strchr(arg, '=');
		if (eq)
			*eq++ = '\0';
		unescape_arg(arg);
		if (eq)
			unescape_arg(eq);
		if (*arg || eq) { /* libmicrohttpd passes no empty key without '=' */
			refused = serve_param_add(&rq, arg, eq, problem, sizeof problem) != 0;
			CHECK(!refused || *problem);
		}
		arg = amp ? amp + 1 : NULL;
	}
	CHECK(rq.nparams <= SERVE_MAX_PARAMS);

	static const char *const hosts[] = {"127.0.0.1:8080", "localhost:8080", "[::1]:8080"};
	const struct serve_gate with_token = {"fuzz-token", NULL, 0};
	const struct serve_gate loopback = {NULL, hosts, 3};
	int passed = 0;
	for (int i = 0; i < 2; i++) {
		status = serve_gate_check(i ? &loopback : &with_token, &h, &rq,
					  refused ? problem : NULL, &out);
		if (status == 0) {
			CHECK(!refused && !h.had_body);
			passed = 1;
			continue;
		}
		CHECK(status == 400 || status == 401 || status == 413 || status == 421);
		check_error(&out, status);
	}
	render_buf_reset(&out);
	if (!passed) {
		render_buf_free(&out);
		return;
	}

	const char *type = NULL;
	const struct serve_asset *asset = NULL;
	status = serve_answer(&rq, target, &out, &type, &asset);
	if (status == 0) {
		/* The tail: what the server checks before it streams. */
		struct serve_filter f;
		const struct serve_source *src = serve_filtered_source(&rq, &f, &out, &status);
		if (src)
			CHECK(out.len == 0);
		else
			check_error(&out, status);
	} else if (asset) {
		CHECK(status == 200 && asset->len > 0 && out.len == 0);
	} else {
		check_answer(status, &out, type);
	}
	if (trace)
		fprintf(stderr, "fuzz_http: %s %s -> %d %.*s\n", method, target, status,
			(int)(out.len < 160 ? out.len : 160), out.data ? out.data : "");
	render_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	run(text, size);
	free(text);
	return 0;
}
