/* SPDX-License-Identifier: MIT */
/*
 * fuzz_check.h - what every fuzz target checks with: a broken promise
 * aborts, which libFuzzer (and fuzz/replay.c) reports like a crash.
 */
#ifndef TTLOG__FUZZ_CHECK_H
#define TTLOG__FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

#endif /* TTLOG__FUZZ_CHECK_H */
