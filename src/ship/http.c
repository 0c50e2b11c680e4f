/* SPDX-License-Identifier: MIT */
/*
 * http.c - HTTP requests of the shipper through libcurl (see http.h).
 *
 * The URL of a request is BASE/?[database=D&][query=Q], both escaped by
 * libcurl. Credentials go as HTTP basic authentication, which ClickHouse
 * takes for its user and password. The answer's body is collected whatever
 * the status, because ClickHouse puts its exception text there, and an
 * OTLP receiver its Status message. The headers of a request are made for
 * it: Expect: (empty: no wait for "100 Continue"), Content-Type, maybe
 * Content-Encoding: gzip, then the user's.
 */
#include "ship/http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

struct ship_http {
	CURL *curl;
	char *base;              /* BASE/? */
	struct curl_slist *headers;  /* of the request being made */
	char **extra;            /* the user's headers */
	size_t nextra;
	char *content_type;
	const char *server;
	int gzip;
	unsigned long long sent;
	struct render_buf packed; /* the compressed body */
};

/* Compresses len bytes into h->packed as one gzip member. Returns 0, or -1. */
static int pack(struct ship_http *h, const void *body, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, (uLong)len) + 64;
	render_buf_reset(&h->packed);
	render_buf_reserve(&h->packed, bound);
	z.next_in = (Bytef *)(uintptr_t)body;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)h->packed.data;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	h->packed.len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

void ship_http_set_gzip(struct ship_http *h, int on)
{
	h->gzip = on;
}

unsigned long long ship_http_bytes_sent(const struct ship_http *h)
{
	return h->sent;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	render_buf_put(arg, data, size * n);
	return size * n;
}

struct ship_http *ship_http_open(const char *base_url, const char *user, const char *password,
				 struct render_buf *err)
{
	if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) {
		render_buf_printf(err, "--url must start with http:// or https:// (got \"%s\")", base_url);
		return NULL;
	}
	static int global_done;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			render_buf_puts(err, "libcurl could not be initialised");
			return NULL;
		}
		global_done = 1;
	}
	struct ship_http *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		render_buf_puts(err, "libcurl could not make a handle");
		return NULL;
	}
	struct render_buf b = {0};
	size_t blen = strlen(base_url);
	while (blen && base_url[blen - 1] == '/')
		blen--;
	render_buf_put(&b, base_url, blen);
	render_buf_puts(&b, "/?");
	h->base = b.data;
	if (user) {
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD, password ? password : "");
	}
	h->server = "ClickHouse";
	h->content_type = strdup("application/octet-stream");
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, collect);
	return h;
}

void ship_http_set_server(struct ship_http *h, const char *name)
{
	h->server = name;
}

void ship_http_set_content_type(struct ship_http *h, const char *type)
{
	free(h->content_type);
	h->content_type = strdup(type);
}

int ship_http_add_header(struct ship_http *h, const char *header, struct render_buf *err)
{
	const char *colon = strchr(header, ':');
	size_t n = colon ? (size_t)(colon - header) : 0;
	int ok = n > 0 && !strpbrk(header, "\r\n");
	for (size_t i = 0; ok && i < n; i++)
		ok = header[i] > ' ' && header[i] < 127;
	if (!ok) {
		render_buf_printf(err, "--header takes 'Name: value' (got \"%s\")", header);
		return -1;
	}
	h->extra = render_xrealloc(h->extra, (h->nextra + 1) * sizeof *h->extra);
	h->extra[h->nextra] = strdup(header);
	if (!h->extra[h->nextra]) {
		render_buf_puts(err, "out of memory");
		return -1;
	}
	h->nextra++;
	return 0;
}

static size_t take_header(char *data, size_t size, size_t n, void *arg)
{
	struct ship_http_answer *ans = arg;
	size_t len = size * n;
	static const char name[] = "content-type:";
	if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		size_t i = sizeof name - 1;
		while (i < len && (data[i] == ' ' || data[i] == '\t'))
			i++;
		size_t k = 0;
		while (i < len && data[i] != '\r' && data[i] != '\n' && k + 1 < sizeof ans->content_type)
			ans->content_type[k++] = data[i++];
		ans->content_type[k] = '\0';
	}
	return len;
}

/* POSTs body to url; fills ans (may be NULL for the status alone). */
static int perform(struct ship_http *h, const char *url, const void *body, size_t len,
		   struct ship_http_answer *ans, struct render_buf *err)
{
	/* A body too large for one uInt goes uncompressed. */
	int packed = h->gzip && len > 0 && len <= 0xffffffffu && pack(h, body, len) == 0;
	if (packed) {
		body = h->packed.data;
		len = h->packed.len;
	}
	struct render_buf ct = {0};
	render_buf_printf(&ct, "Content-Type: %s", h->content_type ? h->content_type : "application/octet-stream");
	curl_slist_free_all(h->headers);
	h->headers = curl_slist_append(NULL, "Expect:");
	h->headers = curl_slist_append(h->headers, ct.data);
	render_buf_free(&ct);
	if (packed)
		h->headers = curl_slist_append(h->headers, "Content-Encoding: gzip");
	for (size_t i = 0; i < h->nextra; i++)
		h->headers = curl_slist_append(h->headers, h->extra[i]);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, len ? body : "");
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	render_buf_reset(&ans->body);
	render_buf_puts(&ans->body, "");
	ans->status = 0;
	ans->retry_after = 0;
	ans->content_type[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &ans->body);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, take_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, ans);
	CURLcode rc = curl_easy_perform(h->curl);
	h->sent += len;
	if (rc != CURLE_OK) {
		size_t n = strlen(h->base) - 2; /* without "/?" */
		render_buf_printf(err, "%.*s: %s", (int)n, h->base, curl_easy_strerror(rc));
		return SHIP_HTTP_RETRY;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &ans->status);
	curl_off_t wait = 0;
	if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &wait) == CURLE_OK && wait > 0)
		ans->retry_after = wait > 86400 ? 86400 : (unsigned)wait;
	if (ans->status >= 200 && ans->status < 300)
		return SHIP_HTTP_OK;
	render_buf_printf(err, "%s answered %ld", h->server, ans->status);
	long st = ans->status;
	return st == 429 || st == 502 || st == 503 || st == 504 ? SHIP_HTTP_RETRY : SHIP_HTTP_FAILED;
}

int ship_http_send(struct ship_http *h, const char *path, const void *body, size_t len,
		   struct ship_http_answer *ans, struct render_buf *err)
{
	struct render_buf url = {0};
	size_t n = strlen(h->base) - 2; /* without "/?" */
	render_buf_put(&url, h->base, n);
	render_buf_puts(&url, path);
	int rc = perform(h, url.data, body, len, ans, err);
	render_buf_free(&url);
	return rc;
}

int ship_http_post(struct ship_http *h, const char *database, const char *query, const void *body,
		   size_t len, struct render_buf *answer, struct render_buf *err)
{
	struct render_buf url = {0};
	struct ship_http_answer got;
	memset(&got, 0, sizeof got);
	render_buf_puts(&url, h->base);
	if (database) {
		char *d = curl_easy_escape(h->curl, database, 0);
		render_buf_printf(&url, "database=%s&", d ? d : "");
		curl_free(d);
	}
	if (query) {
		char *q = curl_easy_escape(h->curl, query, 0);
		render_buf_printf(&url, "query=%s", q ? q : "");
		curl_free(q);
	}
	int result = perform(h, url.data, body, len, &got, err);
	if (result != SHIP_HTTP_OK && got.status) {
		/* The server's message, without its trailing newline. */
		size_t n = got.body.len;
		while (n && (got.body.data[n - 1] == '\n' || got.body.data[n - 1] == '\r'))
			n--;
		render_buf_puts(err, ": ");
		render_buf_put(err, got.body.data, n > 2000 ? 2000 : n);
	}
	if (answer && result == SHIP_HTTP_OK) {
		render_buf_reset(answer);
		render_buf_put(answer, got.body.data, got.body.len);
	}
	render_buf_free(&got.body);
	render_buf_free(&url);
	return result;
}

void ship_http_close(struct ship_http *h)
{
	if (!h)
		return;
	curl_slist_free_all(h->headers);
	for (size_t i = 0; i < h->nextra; i++)
		free(h->extra[i]);
	free(h->extra);
	free(h->content_type);
	render_buf_free(&h->packed);
	curl_easy_cleanup(h->curl);
	free(h->base);
	free(h);
}
