/* SPDX-License-Identifier: MIT */
/*
 * ship_otlp.c - the OTLP/HTTP sink of the shipper (sink.h), for `ttlog
 * ship otlp`: a batch (otlp_pb_build.c) is sent as up to three requests,
 * one per signal, POSTed to ENDPOINT/v1/logs, /v1/traces and /v1/metrics
 * as protobuf (application/x-protobuf, packed by protobuf-c) or, with
 * --json, as OTLP/JSON (application/json, otlp_pb_json.c); gzip and the
 * user's headers as http.c sends them.
 *
 * Answers: a 2xx is acknowledged; its body, an Export*ServiceResponse,
 * may carry a partial success (items the collector refused, and why),
 * which is counted (totals.rejected) and said on stderr: those items are
 * not sent again, since the collector said they will never be taken. 429,
 * 502, 503 and 504 are tried again (ship.c, after Retry-After when the
 * answer has one); another status fails with the message of its body: a
 * google.rpc.Status in protobuf, its "message" in JSON, else the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_pb.pb-c.h"
#include "ship/http.h"
#include "ship/otlp_pb_build.h"
#include "ship/otlp_pb_json.h"
#include "ship/sink.h"

struct otlp_sink {
	struct ship_sink base;
	const struct ship_options *opt;
	struct ship_http *http;
	struct otlp_batch *batch;
	struct render_buf body;
	struct ship_http_answer ans;
	uint64_t left_out;         /* span ends without a trace id, not yet counted in the totals */
	char key[16];
};

static const char *const paths[OTLP_SIGNALS] = {"/v1/logs", "/v1/traces", "/v1/metrics"};
static const char *const item_names[OTLP_SIGNALS] = {"log records", "spans", "metric data points"};

static struct otlp_sink *ot(struct ship_sink *s)
{
	return (struct otlp_sink *)s;
}

static void ot_event(struct ship_sink *sink, struct ship_file_rows *f, const struct ttlog_event *ev, uint64_t id)
{
	struct otlp_sink *s = ot(sink);
	s->left_out += (uint64_t)otlp_batch_event(s->batch, f, ev, id);
}

static void ot_extras(struct ship_sink *sink, struct ship_file_rows *f, const ttlog_reader *r,
		      const char *summary, const char *stack)
{
	otlp_batch_extras(ot(sink)->batch, f, r, summary, stack);
}

static uint64_t ot_pending(struct ship_sink *sink, int part)
{
	return otlp_batch_counts(ot(sink)->batch, part)->items;
}

/* The value of the JSON member "name" after the first "container" in text
 * (a number, or a string unquoted, without its escapes undone), or "". */
static void json_member(const char *text, const char *container, const char *name, struct render_buf *out)
{
	const char *p = container ? strstr(text, container) : text;
	char key[64];
	snprintf(key, sizeof key, "\"%s\"", name);
	p = p ? strstr(p, key) : NULL;
	if (!p)
		return;
	p += strlen(key);
	while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '"') {
		const char *e = ++p;
		while (*e && *e != '"')
			e += e[0] == '\\' && e[1] ? 2 : 1;
		render_buf_put(out, p, (size_t)(e - p));
	} else {
		const char *e = p;
		while ((*e >= '0' && *e <= '9') || *e == '-')
			e++;
		render_buf_put(out, p, (size_t)(e - p));
	}
}

static int is_protobuf(const struct ship_http_answer *ans)
{
	return strstr(ans->content_type, "protobuf") != NULL;
}

static int is_json(const struct ship_http_answer *ans)
{
	return strstr(ans->content_type, "json") != NULL;
}

/* The refused items of a 2xx answer and the collector's message. */
static uint64_t partial_success(struct otlp_sink *s, int sig, struct render_buf *message)
{
	const struct ship_http_answer *ans = &s->ans;
	if (!ans->body.len)
		return 0;
	if (is_protobuf(ans) || (!is_json(ans) && !s->opt->json)) {
		static const ProtobufCMessageDescriptor *const desc[OTLP_SIGNALS] = {
			&ttlog_otlp__export_logs_service_response__descriptor,
			&ttlog_otlp__export_trace_service_response__descriptor,
			&ttlog_otlp__export_metrics_service_response__descriptor,
		};
		ProtobufCMessage *m = protobuf_c_message_unpack(desc[sig], NULL, ans->body.len,
								 (const uint8_t *)ans->body.data);
		if (!m)
			return 0;
		int64_t rejected = 0;
		const char *text = NULL;
		if (sig == OTLP_LOGS) {
			TtlogOtlp__ExportLogsPartialSuccess *p = ((TtlogOtlp__ExportLogsServiceResponse *)m)->partial_success;
			if (p) {
				rejected = p->rejected_log_records;
				text = p->error_message;
			}
		} else if (sig == OTLP_TRACES) {
			TtlogOtlp__ExportTracePartialSuccess *p = ((TtlogOtlp__ExportTraceServiceResponse *)m)->partial_success;
			if (p) {
				rejected = p->rejected_spans;
				text = p->error_message;
			}
		} else {
			TtlogOtlp__ExportMetricsPartialSuccess *p =
				((TtlogOtlp__ExportMetricsServiceResponse *)m)->partial_success;
			if (p) {
				rejected = p->rejected_data_points;
				text = p->error_message;
			}
		}
		if (text)
			render_buf_puts(message, text);
		protobuf_c_message_free_unpacked(m, NULL);
		return rejected > 0 ? (uint64_t)rejected : 0;
	}
	static const char *const names[OTLP_SIGNALS] = {"rejectedLogRecords", "rejectedSpans", "rejectedDataPoints"};
	struct render_buf n = {0};
	json_member(ans->body.data, "\"partialSuccess\"", names[sig], &n);
	json_member(ans->body.data, "\"partialSuccess\"", "errorMessage", message);
	uint64_t rejected = n.len ? strtoull(n.data, NULL, 10) : 0;
	render_buf_free(&n);
	return rejected;
}

/* The message of an error answer, appended to err. */
static void error_message(struct otlp_sink *s, struct render_buf *err)
{
	const struct ship_http_answer *ans = &s->ans;
	struct render_buf msg = {0};
	if (!ans->body.len)
		return;
	if (is_protobuf(ans)) {
		TtlogOtlp__RpcStatus *st = ttlog_otlp__rpc_status__unpack(NULL, ans->body.len,
									   (const uint8_t *)ans->body.data);
		if (st && st->message)
			render_buf_puts(&msg, st->message);
		if (st)
			ttlog_otlp__rpc_status__free_unpacked(st, NULL);
	} else if (is_json(ans)) {
		json_member(ans->body.data, NULL, "message", &msg);
	}
	if (!msg.len) {
		/* Text: the first 2000 bytes without the trailing newline. */
		size_t n = ans->body.len;
		while (n && (ans->body.data[n - 1] == '\n' || ans->body.data[n - 1] == '\r'))
			n--;
		render_buf_put(&msg, ans->body.data, n > 2000 ? 2000 : n);
	}
	render_buf_puts(err, ": ");
	render_buf_put(err, msg.data ? msg.data : "", msg.len);
	render_buf_free(&msg);
}

static int ot_send(struct ship_sink *sink, int sig, struct ship_totals *tot, struct render_buf *what,
		   struct render_buf *err, unsigned *retry_after_s)
{
	struct otlp_sink *s = ot(sink);
	const ProtobufCMessage *req = otlp_batch_request(s->batch, sig);
	const struct otlp_counts *c = otlp_batch_counts(s->batch, sig);
	render_buf_reset(&s->body);
	if (s->opt->json) {
		otlp_pb_json(req, &s->body);
	} else {
		size_t n = protobuf_c_message_get_packed_size(req);
		render_buf_reserve(&s->body, n);
		s->body.len = protobuf_c_message_pack(req, (uint8_t *)s->body.data);
	}
	*retry_after_s = 0;
	int rc = ship_http_send(s->http, paths[sig], s->body.data, s->body.len, &s->ans, err);
	if (rc != SHIP_HTTP_OK) {
		render_buf_printf(what, "sending %llu %s to %s%s", (unsigned long long)c->items, item_names[sig],
				  s->opt->url, paths[sig]);
		if (s->ans.status)
			error_message(s, err);
		*retry_after_s = s->ans.retry_after;
		return rc;
	}
	struct render_buf msg = {0};
	uint64_t rejected = partial_success(s, sig, &msg);
	if (rejected || msg.len) {
		fprintf(stderr, "ttlog ship: %s%s: the collector refused %llu of %llu %s%s%s\n", s->opt->url,
			paths[sig], (unsigned long long)rejected, (unsigned long long)c->items, item_names[sig],
			msg.len ? ": " : "", msg.len ? msg.data : "");
		tot->rejected += rejected;
	}
	render_buf_free(&msg);
	if (sig == OTLP_LOGS) {
		tot->events += c->events;
		tot->crashes += c->crashes;
		tot->left_out += s->left_out;
		s->left_out = 0;
	} else if (sig == OTLP_TRACES) {
		tot->spans += c->items;
	} else {
		tot->metrics += c->items;
	}
	otlp_batch_reset(s->batch, sig);
	return SHIP_HTTP_OK;
}

static unsigned long long ot_bytes(struct ship_sink *sink)
{
	return ship_http_bytes_sent(ot(sink)->http);
}

static void ot_close(struct ship_sink *sink)
{
	struct otlp_sink *s = ot(sink);
	otlp_batch_free(s->batch);
	render_buf_free(&s->body);
	render_buf_free(&s->ans.body);
	ship_http_close(s->http);
	free(s);
}

static const struct ship_sink_ops otlp_ops = {
	.nparts = OTLP_SIGNALS,
	.event = ot_event,
	.extras = ot_extras,
	.pending = ot_pending,
	.send = ot_send,
	.bytes_sent = ot_bytes,
	.close = ot_close,
};

struct ship_sink *ship_otlp_sink(const struct ship_options *opt, struct render_buf *err)
{
	struct ship_http *http = ship_http_open(opt->url, NULL, NULL, err);
	if (!http)
		return NULL;
	for (size_t i = 0; i < opt->nheaders; i++)
		if (ship_http_add_header(http, opt->headers[i], err) != 0) {
			ship_http_close(http);
			return NULL;
		}
	ship_http_set_gzip(http, opt->gzip);
	ship_http_set_server(http, "the collector");
	ship_http_set_content_type(http, opt->json ? "application/json" : "application/x-protobuf");
	struct otlp_sink *s = render_xrealloc(NULL, sizeof *s);
	memset(s, 0, sizeof *s);
	s->base.ops = &otlp_ops;
	s->opt = opt;
	s->http = http;
	s->batch = otlp_batch_new(opt->service_name);
	/* One cursor per endpoint and encoding is not needed: both encodings
	 * carry the same data, so they share the endpoint's cursors. */
	snprintf(s->key, sizeof s->key, "otlp");
	s->base.cursor_key = s->key;
	return &s->base;
}
