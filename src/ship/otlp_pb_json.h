/* SPDX-License-Identifier: MIT */
/*
 * otlp_pb_json.h - any protobuf-c message in the JSON encoding of OTLP/HTTP
 * (`ttlog ship otlp --json`).
 */
#ifndef TTLOG__SHIP_OTLP_PB_JSON_H
#define TTLOG__SHIP_OTLP_PB_JSON_H

#include <protobuf-c/protobuf-c.h>

#include "render/text_buf.h"

/** Appends msg to out as OTLP/JSON. */
void otlp_pb_json(const ProtobufCMessage *msg, struct render_buf *out);

#endif /* TTLOG__SHIP_OTLP_PB_JSON_H */
