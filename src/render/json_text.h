/* SPDX-License-Identifier: MIT */
/*
 * json_text.h - JSON values, for every JSON output of events (`ttlog view
 * -o json`, the exports, the SQL module's JSON columns): strings from
 * arbitrary bytes, and numbers from doubles.
 *
 * Every byte sequence becomes a valid JSON string: '"' and '\' are escaped,
 * control characters (U+0000..U+001F and U+007F) become \u00XX, well-formed
 * UTF-8 is copied as it is, and each byte that is not part of a well-formed
 * UTF-8 sequence becomes \udcXX, XX its value (a lone low surrogate,
 * U+DC80..U+DCFF: Python's surrogateescape rule), so that two different
 * byte strings never give the same JSON and the bytes can be had back.
 */
#ifndef TTLOG__RENDER_JSON_TEXT_H
#define TTLOG__RENDER_JSON_TEXT_H

#include <stddef.h>

#include "render/text_buf.h"

/** Appends s[0..len-1] as a quoted JSON string. */
void render_json_string(struct render_buf *b, const char *s, size_t len);

/** render_json_string() for a NUL-terminated string; NULL becomes null. */
void render_json_cstring(struct render_buf *b, const char *s);

/**
 * render_json_string() and render_json_cstring() for outputs whose strings
 * must be valid Unicode (OTLP: protobuf strings are UTF-8): each byte that
 * is not part of well-formed UTF-8 becomes U+FFFD, which cannot give the
 * bytes back.
 */
void render_json_string_utf8(struct render_buf *b, const char *s, size_t len);
void render_json_cstring_utf8(struct render_buf *b, const char *s);

/**
 * Appends d as the shortest JSON number that reads back as the same double;
 * NaN and infinities, which JSON numbers cannot express, become the strings
 * "nan", "inf" and "-inf".
 */
void render_json_double(struct render_buf *b, double d);

#define RENDER_DOUBLE_BUF 40
/**
 * The shortest decimal text (%g, 15 to 17 digits) that reads back as d, in
 * text, or "nan", "inf", "-inf". Returns the text.
 */
const char *render_double_text(double d, char text[RENDER_DOUBLE_BUF]);

struct ttlog_metric_label;
/** Appends the labels as a JSON object of strings: {"key":"value",...}. */
void render_json_labels(struct render_buf *b, const struct ttlog_metric_label *labels, unsigned n);
/**
 * The length of the character at s (avail > 0 bytes): 1 for ASCII, 2 to 4
 * for a well-formed UTF-8 sequence, 0 for a byte that starts none (the
 * rules of render_json_string()).
 */
size_t render_utf8_length(const char *s, size_t avail);

#endif /* TTLOG__RENDER_JSON_TEXT_H */
