/* SPDX-License-Identifier: MIT */
/*
 * otlp_pb_build.h - a batch of the OTLP shipper as protobuf-c messages of
 * otlp_pb.proto: the export requests of the three signals, one resource
 * (with one scope, "ttlog") per source file.
 *
 * Logs: every event is a LogRecord (a span's begin and end too, with the
 * attribute ttlog.event.kind, so that the records of a service are the
 * events `ttlog stats` counts), and a file's crash one more (severity
 * FATAL, OpenTelemetry's exception.* attributes). Traces: a Span for each
 * span end whose trace is known (ends without one are counted as left
 * out). Metrics: one Metric with one data point per metric of a complete
 * file: a counter as a monotonic cumulative Sum, a gauge as a Gauge, a
 * histogram as an explicit-bucket Histogram whose bounds are the edges of
 * its buckets that hold values (the ranges between them count 0).
 *
 * Every string and array lives in the signal's arena, so a request stays
 * valid after the reader moved on, until the signal is reset.
 */
#ifndef TTLOG__SHIP_OTLP_PB_BUILD_H
#define TTLOG__SHIP_OTLP_PB_BUILD_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ship/rows.h"
#include "ttlog_reader.h"

enum otlp_signal { OTLP_LOGS, OTLP_TRACES, OTLP_METRICS, OTLP_SIGNALS };

struct otlp_batch;

/* What a signal of the batch holds. */
struct otlp_counts {
	uint64_t items;          /* log records, spans or data points */
	uint64_t events;         /* logs: records of events */
	uint64_t crashes;        /* logs: records of crashes */
};

/** An empty batch; service_name, when not NULL, names every resource's service. */
struct otlp_batch *otlp_batch_new(const char *service_name);
void otlp_batch_free(struct otlp_batch *b);

/** Adds an event of f (its log record, and its span when it ends one);
 *  returns 1 when a span end was left out for want of a trace id, else 0. */
int otlp_batch_event(struct otlp_batch *b, struct ship_file_rows *f, const struct ttlog_event *ev,
		     uint64_t id);

/** Adds the metrics of f's reader r and, when the file crashed, its crash record. */
void otlp_batch_extras(struct otlp_batch *b, struct ship_file_rows *f, const ttlog_reader *r,
		       const char *summary, const char *stack);

/** What signal sig holds. */
const struct otlp_counts *otlp_batch_counts(const struct otlp_batch *b, enum otlp_signal sig);

/** The export request of sig (Export{Logs,Trace,Metrics}ServiceRequest),
 *  valid until the signal is reset. */
const ProtobufCMessage *otlp_batch_request(struct otlp_batch *b, enum otlp_signal sig);

/** Empties sig. */
void otlp_batch_reset(struct otlp_batch *b, enum otlp_signal sig);

#endif /* TTLOG__SHIP_OTLP_PB_BUILD_H */
