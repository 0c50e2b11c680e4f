/* SPDX-License-Identifier: MIT */
/*
 * double_text.h - a double as the shortest of printf's "%.15g", "%.16g"
 * and "%.17g" that reads back as the same double, without printf and
 * strtod: the numbers of JSON output and of the text fields.
 *
 * That rule (not the shortest digits overall) is what the command has
 * always printed, so the bytes must stay exactly those of the printf loop
 * in json_text.c, which remains the fallback for the few doubles the fast
 * method cannot decide (see double_text.c).
 */
#ifndef TTLOG__RENDER_DOUBLE_TEXT_H
#define TTLOG__RENDER_DOUBLE_TEXT_H

#include <stddef.h>

/**
 * Writes d into text (at least 32 bytes) as snprintf "%.*g" would with the
 * smallest precision P of 15, 16 and 17 whose text strtod() reads back as
 * d (17 if neither 15 nor 16 does), NUL-terminated, and returns its length.
 * Returns 0, leaving text undefined, for NaN, infinities and zeros, and
 * when the result is too close to call without exact arithmetic (an exact
 * tie in rounding to P digits, for one): the caller then uses printf.
 */
size_t render_double_text_fast(double d, char *text);

#endif /* TTLOG__RENDER_DOUBLE_TEXT_H */
