/* SPDX-License-Identifier: MIT */
/*
 * http.h - the requests the shipper makes, through libcurl: to ClickHouse's
 * HTTP interface a statement in the body (DDL, SELECT), or an INSERT in
 * the URL's query parameter with its rows as the body (ship_http_post);
 * to an OTLP/HTTP endpoint a POST of an export request to a path
 * (ship_http_send), with the user's extra headers. One connection is
 * kept open between requests (keep-alive). An answer that is not 200 is an
 * error with the server's own message ("Code: 60, ... Table x doesn't
 * exist"); bodies may go gzip-compressed; errors are sorted into those
 * worth trying again (no connection, a timeout, 429, 502, 503, 504) and the
 * others.
 */
#ifndef TTLOG__SHIP_HTTP_H
#define TTLOG__SHIP_HTTP_H

#include <stddef.h>

#include "render/text_buf.h"

struct ship_http;

/* Results of ship_http_post(). */
#define SHIP_HTTP_OK 0
#define SHIP_HTTP_RETRY 1   /* the server is away or busy: try again later */
#define SHIP_HTTP_FAILED 2  /* the server refused the request: trying again will not help */

/** A client for base_url (http://HOST:PORT); user may be NULL. NULL when
 *  libcurl cannot start or the URL is not http(s). */
struct ship_http *ship_http_open(const char *base_url, const char *user, const char *password,
				 struct render_buf *err);

/** Sends the bodies of later requests gzip-compressed (level 1, zlib),
 *  with Content-Encoding: gzip, which ClickHouse decompresses. */
void ship_http_set_gzip(struct ship_http *h, int on);

/** Bytes of request bodies sent so far, as they went on the wire. */
unsigned long long ship_http_bytes_sent(const struct ship_http *h);

/**
 * POSTs body to the server, in database (NULL: the user's default);
 * query, when not NULL, goes in the URL (an INSERT whose data is the
 * body), else body is the statement. The answer's
 * body is put in *answer (may be NULL); on failure *err holds what went
 * wrong. Returns SHIP_HTTP_*.
 */
int ship_http_post(struct ship_http *h, const char *database, const char *query, const void *body,
		   size_t len, struct render_buf *answer, struct render_buf *err);

/** Names the server in messages ("ClickHouse answered 404: ..."); the
 *  default is "ClickHouse". */
void ship_http_set_server(struct ship_http *h, const char *name);

/** Sends header ("Name: value") with every later request. Returns 0, or
 *  -1 with the reason in err when it is not of that form. */
int ship_http_add_header(struct ship_http *h, const char *header, struct render_buf *err);

/** The Content-Type of the bodies of ship_http_send(). */
void ship_http_set_content_type(struct ship_http *h, const char *type);

/* What a server answered to ship_http_send(). */
struct ship_http_answer {
	long status;             /* 0 when no answer came */
	unsigned retry_after;    /* Retry-After in seconds (a date is made a wait); 0 when none */
	char content_type[128];  /* "" when none */
	struct render_buf body;
};

/**
 * POSTs body to BASE/path. Returns SHIP_HTTP_OK for a 2xx answer,
 * SHIP_HTTP_RETRY when the server could not be reached or answered 429,
 * 502, 503 or 504, else SHIP_HTTP_FAILED; *ans gets the answer in every
 * case, *err what went wrong ("SERVER answered 400"; the caller adds the
 * message it finds in the body).
 */
int ship_http_send(struct ship_http *h, const char *path, const void *body, size_t len,
		   struct ship_http_answer *ans, struct render_buf *err);

void ship_http_close(struct ship_http *h);

#endif /* TTLOG__SHIP_HTTP_H */
