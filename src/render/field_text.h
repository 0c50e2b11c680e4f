/* SPDX-License-Identifier: MIT */
/*
 * field_text.h - the value of an event's field or argument as text: after
 * "key=" in a text line, and as a typed JSON value. Every output of events
 * shows a value the same way.
 */
#ifndef TTLOG__RENDER_FIELD_TEXT_H
#define TTLOG__RENDER_FIELD_TEXT_H

#include "render/text_buf.h"
#include "ttlog_reader.h"

/**
 * Appends a value as it appears after "key=" in a text line: numbers and
 * booleans as they are, pointers as 0x..., a NULL string as null, and a
 * string as its bytes when they are plain (letters, digits and
 * "-_.:/@+,"), else in double quotes with '"', '\' and control characters
 * escaped. A string cut at the writer's limit ends in "...".
 */
void render_field_text(struct render_buf *b, const struct ttlog_arg *a);

/** Appends a value as a typed JSON value (see `ttlog view --help`). */
void render_field_json(struct render_buf *b, const struct ttlog_arg *a);

/** Appends the fields as a JSON object of typed values, {"key":value,...},
 *  in the order given (keys as they are: a reader's are unique per event). */
void render_fields_json(struct render_buf *b, const struct ttlog_field *fields, unsigned n);

#endif /* TTLOG__RENDER_FIELD_TEXT_H */
