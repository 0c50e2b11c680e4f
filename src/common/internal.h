/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what every library source file needs and nothing public.
 *
 * The library is compiled with -fvisibility=hidden: only TTLOG_API symbols
 * are exported; internal functions shared between files use the ttlog__
 * prefix and stay hidden.
 */
#ifndef TTLOG__COMMON_INTERNAL_H
#define TTLOG__COMMON_INTERNAL_H

#ifndef TTLOG_BUILDING_LIBRARY
#define TTLOG_BUILDING_LIBRARY 1
#endif
#include "ttlog.h"

#define TTLOG__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TTLOG__MIN(a, b) ((a) < (b) ? (a) : (b))
#define TTLOG__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Little-endian field access for the file format (the hosts are
 * little-endian). Run in signal context: memcpy only. */
#include <string.h>
static inline void ttlog__put_u16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void ttlog__put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void ttlog__put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t ttlog__get_u16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ttlog__get_u32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t ttlog__get_u64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Reads that race with a writer by design (a ring's bytes, its record
 * count) and are checked afterwards are hidden from ThreadSanitizer. */
#ifdef TTLOG__TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define TTLOG__TSAN_IGNORE_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define TTLOG__TSAN_IGNORE_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define TTLOG__TSAN_IGNORE_READS_BEGIN() ((void)0)
#define TTLOG__TSAN_IGNORE_READS_END() ((void)0)
#endif

#endif
