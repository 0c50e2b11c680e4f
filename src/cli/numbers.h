/* SPDX-License-Identifier: MIT */
/*
 * numbers.h - option values that are whole numbers (numbers.c).
 */
#ifndef TTLOG__CLI_NUMBERS_H
#define TTLOG__CLI_NUMBERS_H

/**
 * Reads s as a decimal count from min to max: digits only (no sign, no
 * space, nothing after). Returns 0 with *v set, or -1.
 */
int cli_parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *v);

#endif /* TTLOG__CLI_NUMBERS_H */
