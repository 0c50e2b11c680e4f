/* SPDX-License-Identifier: MIT */
/*
 * record.h - writing one record of a runtime site (src/rtfmt/intern.h).
 *
 * The macros of <ttlog.h> know each argument's type at compile time; a
 * runtime site knows them from its arg_types. ttlog__rt_record() reads the
 * values in that order, sizes the record, and writes it through the same
 * inline reserve and commit as a macro's record, so the bytes are those a
 * TTLOG_INFO() with arguments of those types would write.
 */
#ifndef TTLOG__RTFMT_RECORD_H
#define TTLOG__RTFMT_RECORD_H

#include <stdint.h>

#include "ttlog.h"

/* One argument's value, as read from a va_list or given by a wrapper. */
union ttlog__rt_value {
	uint64_t u;
	double d;
	long double ld;
	const char *s;
};

/*
 * The word to record site s with (registering it on its first call and
 * asking the sampler, like a macro), or 0 if the call records nothing.
 */
uint64_t ttlog__rt_word(struct ttlog_site *s);

/*
 * Writes a record of the site whose word is given (from ttlog__rt_word),
 * with its nargs values v (types from its arg_types). Returns the record,
 * with *len its size, or NULL if it was dropped (counted by the slow path);
 * the record may be read only until the thread's next record.
 */
const unsigned char *ttlog__rt_record(uint64_t word, const uint8_t *types, unsigned nargs,
				      const union ttlog__rt_value *v, uint32_t *len);

#endif
