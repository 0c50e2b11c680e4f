/* SPDX-License-Identifier: MIT */
/*
 * sink.h - a destination of the shipper. ship.c reads the sources, keeps
 * the cursors, makes batches, retries and follows; a sink turns events and
 * the extras of complete files (metrics, the crash record) into what its
 * server takes, and sends it. Its data is in parts (ClickHouse: a table
 * each; OTLP: a signal each), each sent with one request, tried again by
 * ship.c when the sink says the server is away or busy. The cursors of a
 * batch are saved once every part of it was acknowledged.
 */
#ifndef TTLOG__SHIP_SINK_H
#define TTLOG__SHIP_SINK_H

#include <stdint.h>

#include "render/text_buf.h"
#include "ship/rows.h"
#include "ship/ship.h"
#include "ttlog_reader.h"

struct ship_sink;

struct ship_sink_ops {
	int nparts;
	/** Makes what the destination needs before the first batch (ClickHouse's
	 *  --create). Returns 0, or -1 (said on stderr). May be NULL. */
	int (*prepare)(struct ship_sink *s);
	/** Adds an event of file f, with its stable id, to the batch. */
	void (*event)(struct ship_sink *s, struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id);
	/** Adds the metrics and (when r's file crashed) the crash record of a
	 *  complete file; summary and stack describe the crash. */
	void (*extras)(struct ship_sink *s, struct ship_file_rows *f, const ttlog_reader *r,
		       const char *summary, const char *stack);
	/** Items of a part waiting to be sent. */
	uint64_t (*pending)(struct ship_sink *s, int part);
	/**
	 * Sends a part. On SHIP_HTTP_OK the part is emptied and what the server
	 * took is added to *tot. Otherwise *what says what was being done
	 * ("sending 3000 log records to URL"), *err what went wrong, and for
	 * SHIP_HTTP_RETRY *retry_after_s the wait the server asked for (0: none).
	 */
	int (*send)(struct ship_sink *s, int part, struct ship_totals *tot, struct render_buf *what,
		    struct render_buf *err, unsigned *retry_after_s);
	/** Bytes of request bodies sent, as on the wire. */
	unsigned long long (*bytes_sent)(struct ship_sink *s);
	void (*close)(struct ship_sink *s);
};

struct ship_sink {
	const struct ship_sink_ops *ops;
	const char *cursor_key;   /* what, with the URL, names the destination in cursor files */
};

/** Runs the shipper with sink s (the work of ship_clickhouse and ship_otlp).
 *  Returns SHIP_OK or SHIP_FAILED; closes s. */
int ship_run(const struct ship_options *opt, struct ship_sink *s, struct ship_totals *totals);

/** The ClickHouse sink; NULL (said in err) when the URL is not usable. */
struct ship_sink *ship_clickhouse_sink(const struct ship_options *opt, struct render_buf *err);

/** The OTLP/HTTP sink; NULL (said in err) when the endpoint is not usable. */
struct ship_sink *ship_otlp_sink(const struct ship_options *opt, struct render_buf *err);

#endif /* TTLOG__SHIP_SINK_H */
