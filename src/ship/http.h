/* SPDX-License-Identifier: MIT */
/*
 * http.h - the requests the shipper makes to ClickHouse's HTTP interface,
 * through libcurl: a statement in the body (DDL, SELECT), or an INSERT in
 * the URL's query parameter with its rows as the body. One connection is
 * kept open between requests (keep-alive). An answer that is not 200 is an
 * error with the server's own message ("Code: 60, ... Table x doesn't
 * exist"); bodies may go gzip-compressed; errors are sorted into those worth trying again (no connection,
 * a timeout, 502/503/504) and the others.
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

void ship_http_close(struct ship_http *h);

#endif /* TTLOG__SHIP_HTTP_H */
