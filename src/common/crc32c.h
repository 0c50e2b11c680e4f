/* SPDX-License-Identifier: MIT */
/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of snapshot chunks.
 *
 * Table-driven and free of state after ttlog__crc32c_init(), so it may be
 * called from signal context once the table exists (the library builds it
 * from a constructor, before main).
 */
#ifndef TTLOG__COMMON_CRC32C_H
#define TTLOG__COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Builds the lookup table; idempotent. Called by a library constructor. */
void ttlog__crc32c_init(void);

/* Continues a CRC: start with crc = 0. Runs in signal context. */
uint32_t ttlog__crc32c(uint32_t crc, const void *data, size_t len);

#endif
