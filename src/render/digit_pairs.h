/* SPDX-License-Identifier: MIT */
/*
 * digit_pairs.h - "00" to "99", for writing a number's decimal digits two
 * per division by 100 rather than one per division by 10 (the divisions'
 * latency is most of the cost of a number's text). A header, so that each
 * file that writes digits (also those built into the SQLite extension and
 * the unit tests alone) has the table without a library to link.
 */
#ifndef TTLOG__RENDER_DIGIT_PAIRS_H
#define TTLOG__RENDER_DIGIT_PAIRS_H

static const char render_digit_pairs[201] = "0001020304050607080910111213141516171819"
					    "2021222324252627282930313233343536373839"
					    "4041424344454647484950515253545556575859"
					    "6061626364656667686970717273747576777879"
					    "8081828384858687888990919293949596979899";

#endif /* TTLOG__RENDER_DIGIT_PAIRS_H */
