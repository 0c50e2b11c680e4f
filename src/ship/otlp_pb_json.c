/* SPDX-License-Identifier: MIT */
/*
 * otlp_pb_json.c - protobuf-c messages as OTLP/JSON (see otlp_pb_json.h),
 * by walking their descriptors, so that --json sends the same messages as
 * the protobuf encoding, field for field.
 *
 * The rules are the protobuf JSON mapping's as OTLP/HTTP uses them: field
 * names in lowerCamelCase (made from the descriptor's snake_case names),
 * a field that is not present left out, 64-bit integers as decimal
 * strings, enums (declared int32 in otlp_pb.proto) as numbers, doubles as
 * numbers or "NaN", "Infinity", "-Infinity"; and OTLP's exception: the
 * bytes of trace_id, span_id and parent_span_id as lowercase hex, not
 * base64 (other bytes are base64).
 */
#include "ship/otlp_pb_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "render/json_text.h"

static void put_name(struct render_buf *out, const char *name)
{
	render_buf_putc(out, '"');
	for (int up = 0; *name; name++) {
		if (*name == '_') {
			up = 1;
			continue;
		}
		render_buf_putc(out, up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name);
		up = 0;
	}
	render_buf_puts(out, "\":");
}

static int is_id(const char *name)
{
	return strcmp(name, "trace_id") == 0 || strcmp(name, "span_id") == 0 ||
	       strcmp(name, "parent_span_id") == 0;
}

static void put_bytes(struct render_buf *out, const ProtobufCBinaryData *d, int hex)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	render_buf_putc(out, '"');
	if (hex) {
		for (size_t i = 0; i < d->len; i++)
			render_buf_printf(out, "%02x", d->data[i]);
	} else {
		for (size_t i = 0; i < d->len; i += 3) {
			uint32_t v = (uint32_t)d->data[i] << 16;
			if (i + 1 < d->len)
				v |= (uint32_t)d->data[i + 1] << 8;
			if (i + 2 < d->len)
				v |= d->data[i + 2];
			render_buf_putc(out, b64[v >> 18 & 63]);
			render_buf_putc(out, b64[v >> 12 & 63]);
			render_buf_putc(out, i + 1 < d->len ? b64[v >> 6 & 63] : '=');
			render_buf_putc(out, i + 2 < d->len ? b64[v & 63] : '=');
		}
	}
	render_buf_putc(out, '"');
}

static void put_double(struct render_buf *out, double d)
{
	if (isnan(d))
		render_buf_puts(out, "\"NaN\"");
	else if (isinf(d))
		render_buf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		render_json_double(out, d);
}

/* One value of field f at p. */
static void put_value(struct render_buf *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		render_buf_printf(out, "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		render_buf_printf(out, "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		render_buf_printf(out, "\"%" PRId64 "\"", *(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		render_buf_printf(out, "\"%" PRIu64 "\"", *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(out, *(const float *)p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(out, *(const double *)p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		render_buf_puts(out, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_STRING:
		render_json_cstring(out, *(char *const *)p ? *(char *const *)p : "");
		break;
	case PROTOBUF_C_TYPE_BYTES:
		put_bytes(out, p, is_id(f->name));
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		otlp_pb_json(*(ProtobufCMessage *const *)p, out);
		break;
	}
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return sizeof(void *);
	}
}

void otlp_pb_json(const ProtobufCMessage *msg, struct render_buf *out)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	int first = 1;
	render_buf_putc(out, '{');
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = base + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			if (!n)
				continue;
			render_buf_puts(out, first ? "" : ",");
			first = 0;
			put_name(out, f->name);
			render_buf_putc(out, '[');
			const char *arr = *(const char *const *)p;
			for (size_t k = 0; k < n; k++) {
				if (k)
					render_buf_putc(out, ',');
				put_value(out, f, arr + k * value_size(f));
			}
			render_buf_putc(out, ']');
			continue;
		}
		int present;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			present = *(const uint32_t *)(base + f->quantifier_offset) == f->id;
		else if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
			present = *(void *const *)p != NULL;
		else if (f->quantifier_offset)
			present = *(const protobuf_c_boolean *)(base + f->quantifier_offset);
		else
			present = 1;
		if (!present)
			continue;
		render_buf_puts(out, first ? "" : ",");
		first = 0;
		put_name(out, f->name);
		put_value(out, f, p);
	}
	render_buf_putc(out, '}');
}
