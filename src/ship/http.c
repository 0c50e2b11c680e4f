/* SPDX-License-Identifier: MIT */
/*
 * http.c - ClickHouse's HTTP interface through libcurl (see http.h).
 *
 * The URL of a request is BASE/?[database=D&][query=Q], both escaped by
 * libcurl. Credentials go as HTTP basic authentication, which ClickHouse
 * takes for its user and password. The answer's body is collected whatever
 * the status, because ClickHouse puts its exception text there.
 */
#include "ship/http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct ship_http {
	CURL *curl;
	char *base;              /* BASE/? */
	struct curl_slist *headers, *gzip_headers;
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
	/* Without this header curl waits a second for "100 Continue" before
	 * sending a large body. */
	h->headers = curl_slist_append(NULL, "Expect:");
	h->headers = curl_slist_append(h->headers, "Content-Type: application/octet-stream");
	h->gzip_headers = curl_slist_append(NULL, "Expect:");
	h->gzip_headers = curl_slist_append(h->gzip_headers, "Content-Type: application/octet-stream");
	h->gzip_headers = curl_slist_append(h->gzip_headers, "Content-Encoding: gzip");
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, collect);
	return h;
}

int ship_http_post(struct ship_http *h, const char *database, const char *query, const void *body,
		   size_t len, struct render_buf *answer, struct render_buf *err)
{
	struct render_buf url = {0}, got = {0};
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
	/* A body too large for one uInt goes uncompressed. */
	int packed = h->gzip && len > 0 && len <= 0xffffffffu && pack(h, body, len) == 0;
	if (packed) {
		body = h->packed.data;
		len = h->packed.len;
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, packed ? h->gzip_headers : h->headers);
	curl_easy_setopt(h->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, len ? body : "");
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &got);
	render_buf_puts(&got, "");
	CURLcode rc = curl_easy_perform(h->curl);
	int result = SHIP_HTTP_OK;
	h->sent += len;
	if (rc != CURLE_OK) {
		size_t n = strlen(h->base) - 2; /* without "/?" */
		render_buf_printf(err, "%.*s: %s", (int)n, h->base, curl_easy_strerror(rc));
		result = SHIP_HTTP_RETRY;
	} else {
		long status = 0;
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			/* The server's message, without its trailing newline. */
			size_t n = got.len;
			while (n && (got.data[n - 1] == '\n' || got.data[n - 1] == '\r'))
				n--;
			render_buf_printf(err, "ClickHouse answered %ld: ", status);
			render_buf_put(err, got.data, n > 2000 ? 2000 : n);
			result = status == 502 || status == 503 || status == 504 ? SHIP_HTTP_RETRY
										 : SHIP_HTTP_FAILED;
		}
	}
	if (answer && result == SHIP_HTTP_OK) {
		render_buf_reset(answer);
		render_buf_put(answer, got.data, got.len);
	}
	render_buf_free(&got);
	render_buf_free(&url);
	return result;
}

void ship_http_close(struct ship_http *h)
{
	if (!h)
		return;
	curl_slist_free_all(h->headers);
	curl_slist_free_all(h->gzip_headers);
	render_buf_free(&h->packed);
	curl_easy_cleanup(h->curl);
	free(h->base);
	free(h);
}
