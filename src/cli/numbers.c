/* SPDX-License-Identifier: MIT */
/*
 * numbers.c - option values that are whole numbers, read one way for
 * every command (see numbers.h).
 */
#include "numbers.h"

#include <errno.h>
#include <stdlib.h>

int cli_parse_count(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	unsigned long x = strtoul(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}
