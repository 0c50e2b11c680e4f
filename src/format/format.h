/* SPDX-License-Identifier: MIT */
/*
 * format.h - constants and layouts of the snapshot file format, version 1
 * (revision 16 of docs/FORMAT.md).
 *
 * This header is the code side of docs/FORMAT.md, which is normative: a
 * change here is a change there, in the same commit. Shared by the writer
 * (src/snapshot/writer.c) and the reader (src/reader/chunks.c and
 * records.c); nothing here depends on either.
 *
 * Every multi-byte field is little-endian. No struct below is ever written
 * or read as a whole: writers and readers go field by field through the
 * TTLOG__FMT_*_OFF offsets, so compiler padding never reaches the disk.
 */
#ifndef TTLOG__FORMAT_FORMAT_H
#define TTLOG__FORMAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/crc32c.h"

/* ---- File header: 24 bytes at offset 0 ---------------------------------- */
#define TTLOG__FMT_MAGIC "\x89TTLOG\r\n"   /* 8 bytes; the high byte and CR LF catch text-mode damage */
#define TTLOG__FMT_MAGIC_LEN 8
#define TTLOG__FMT_VERSION 1
#define TTLOG__FMT_FILE_HEADER_SIZE 24
#define TTLOG__FMT_FH_VERSION_OFF 8        /* u16 format version */
#define TTLOG__FMT_FH_HEADER_SIZE_OFF 10   /* u16 size of this header (24) */
#define TTLOG__FMT_FH_INCOMPAT_OFF 12      /* u32 incompatible feature flags: unknown bit -> refuse */
#define TTLOG__FMT_FH_COMPAT_OFF 16        /* u32 compatible feature flags: unknown bit -> ignore */
#define TTLOG__FMT_FH_CRC_OFF 20           /* u32 CRC-32C of bytes 0..19 */
/* Revision 6: the file may hold EVTS blocks of codec 2 (PACKED). A reader
 * older than revision 6 refuses such a file, saying it needs a newer ttlog. */
#define TTLOG__FMT_INCOMPAT_PACKED 0x1u
/* Revision 11: the file may hold EVTS blocks of codec 3 (ZSTD). */
#define TTLOG__FMT_INCOMPAT_ZSTD 0x2u
/* Revision 15: the file is a bundle of snapshots (FORMAT.md 22): more
 * complete snapshots, each with its own file header, may follow END. A
 * reader older than revision 15 refuses it instead of showing only the
 * first process's events. */
#define TTLOG__FMT_INCOMPAT_BUNDLE 0x4u
#define TTLOG__FMT_INCOMPAT_KNOWN 0x7u
/* No compatible flags are defined. */

/* ---- Chunks: a 16-byte header, then `length` payload bytes -------------- */
#define TTLOG__FMT_CHUNK_HEADER_SIZE 16
#define TTLOG__FMT_CH_TYPE_OFF 0           /* u32 type, four ASCII bytes */
#define TTLOG__FMT_CH_FLAGS_OFF 4          /* u32 flags */
#define TTLOG__FMT_CH_LENGTH_OFF 8         /* u32 payload length in bytes */
#define TTLOG__FMT_CH_CRC_OFF 12           /* u32 CRC-32C of header bytes 0..11, then the payload */
#define TTLOG__FMT_CH_CRC_COVERED 12       /* header bytes the CRC covers: type, flags, length */
/* A reader that does not know a chunk's type skips it, unless this flag is set. */
#define TTLOG__FMT_CHUNK_REQUIRED 0x1u
#define TTLOG__FMT_CHUNK_FLAGS_KNOWN 0x1u
/* Largest payload a version-1 writer produces; readers reject larger ones. */
#define TTLOG__FMT_MAX_CHUNK (64u << 20)

#define TTLOG__FMT_FOURCC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TTLOG__FMT_CHUNK_HEAD TTLOG__FMT_FOURCC('H', 'E', 'A', 'D')
#define TTLOG__FMT_CHUNK_SITE TTLOG__FMT_FOURCC('S', 'I', 'T', 'E')
#define TTLOG__FMT_CHUNK_EVTS TTLOG__FMT_FOURCC('E', 'V', 'T', 'S')
#define TTLOG__FMT_CHUNK_THRD TTLOG__FMT_FOURCC('T', 'H', 'R', 'D')
#define TTLOG__FMT_CHUNK_CRSH TTLOG__FMT_FOURCC('C', 'R', 'S', 'H')
#define TTLOG__FMT_CHUNK_END TTLOG__FMT_FOURCC('E', 'N', 'D', ' ')
#define TTLOG__FMT_CHUNK_SITX TTLOG__FMT_FOURCC('S', 'I', 'T', 'X')
#define TTLOG__FMT_CHUNK_SMPL TTLOG__FMT_FOURCC('S', 'M', 'P', 'L')
#define TTLOG__FMT_CHUNK_MTRC TTLOG__FMT_FOURCC('M', 'T', 'R', 'C')
#define TTLOG__FMT_CHUNK_STCK TTLOG__FMT_FOURCC('S', 'T', 'C', 'K')
#define TTLOG__FMT_CHUNK_MODS TTLOG__FMT_FOURCC('M', 'O', 'D', 'S')
#define TTLOG__FMT_CHUNK_PRMT TTLOG__FMT_FOURCC('P', 'R', 'M', 'T') /* revision 5, REQUIRED */
#define TTLOG__FMT_CHUNK_INDX TTLOG__FMT_FOURCC('I', 'N', 'D', 'X') /* revision 5 */
#define TTLOG__FMT_CHUNK_TNAM TTLOG__FMT_FOURCC('T', 'N', 'A', 'M') /* revision 6 */
#define TTLOG__FMT_CHUNK_TRCE TTLOG__FMT_FOURCC('T', 'R', 'C', 'E') /* revision 15 */

/* The chunk CRC: a damaged type, flag or length is caught like damaged
 * payload. Runs in signal context. */
static inline uint32_t ttlog__chunk_crc(const unsigned char *header, const void *payload, size_t len)
{
	return ttlog__crc32c(ttlog__crc32c(0, header, TTLOG__FMT_CH_CRC_COVERED), payload, len);
}

/* ---- HEAD: process and clock, always the first chunk -------------------- */
#define TTLOG__FMT_HEAD_PID_OFF 0          /* u32 process id */
#define TTLOG__FMT_HEAD_FLAGS_OFF 4        /* u32: bit 0 = written by the crash handler */
#define TTLOG__FMT_HEAD_CREATED_OFF 8      /* i64 creation time, ns since the Unix epoch (UTC) */
#define TTLOG__FMT_HEAD_TICK0_OFF 16       /* u64 clock ticks at calibration point 0 */
#define TTLOG__FMT_HEAD_NS0_OFF 24         /* i64 CLOCK_REALTIME ns at point 0 */
#define TTLOG__FMT_HEAD_TICK1_OFF 32       /* u64 ticks at calibration point 1 (> tick0) */
#define TTLOG__FMT_HEAD_NS1_OFF 40         /* i64 CLOCK_REALTIME ns at point 1 */
#define TTLOG__FMT_HEAD_CLOCK_OFF 48       /* u32 clock source, TTLOG__FMT_CLOCK_* */
#define TTLOG__FMT_HEAD_TTLOG_VER_OFF 52   /* u32 writer's TTLOG_VERSION_NUMBER */
#define TTLOG__FMT_HEAD_WINDOW_OFF 56      /* u64 snapshot window in ns, 0 = whole rings */
#define TTLOG__FMT_HEAD_FIXED_SIZE 64      /* then three strings: executable, hostname, reason */
#define TTLOG__FMT_HEAD_FLAG_CRASH 0x1u
#define TTLOG__FMT_HEAD_FLAG_SEGMENT 0x2u  /* revision 5: a segment file (FORMAT.md section 17) */
#define TTLOG__FMT_HEAD_FLAG_TRIGGER 0x4u  /* revision 14: trigger_ns and trigger_rule follow */
/* Revision 5 appends, after the reason string: the service string, then
 * u64 segment (sequence number from 1; 0 in a snapshot), then i64
 * stream_start_ns (0 in a snapshot). */
#define TTLOG__FMT_HEAD_SEGMENT_SIZE 8
#define TTLOG__FMT_HEAD_STREAM_START_SIZE 8
/* Revision 14, a trigger's snapshot: trigger_ns (i64), then the rule (str). */
#define TTLOG__FMT_HEAD_TRIGGER_NS_SIZE 8
#define TTLOG__FMT_HEAD_TRIGGER_MAX 256u

#define TTLOG__FMT_CLOCK_TSC 0             /* x86-64 time-stamp counter */
#define TTLOG__FMT_CLOCK_CNTVCT 1          /* aarch64 virtual counter */
#define TTLOG__FMT_CLOCK_MONOTONIC 2       /* CLOCK_MONOTONIC, ticks are ns */
#define TTLOG__FMT_CLOCK_FAKE 3            /* deterministic test clock, ticks are ns */

/* Strings in chunks: u32 length, then that many bytes, no terminator. */

/* ---- SITE: call-site dictionary entries, before the events using them -- */
/* u32 count, then per site: */
#define TTLOG__FMT_SITE_ID_OFF 0           /* u32 site id, >= 1, unique in the file */
#define TTLOG__FMT_SITE_LEVEL_OFF 4        /* u8 level, 0..5 */
#define TTLOG__FMT_SITE_NARGS_OFF 5        /* u8 argument count, <= 16 */
#define TTLOG__FMT_SITE_RESERVED_OFF 6     /* u16 zero */
#define TTLOG__FMT_SITE_LINE_OFF 8         /* u32 source line */
#define TTLOG__FMT_SITE_FIXED_SIZE 12      /* then nargs type bytes, then strings
                                             format, file, function, target */
#define TTLOG__FMT_MAX_ARGS 16

/* ---- SITX: what a SITE entry does not say (fields, kinds), ttlog >= 0.3 - */
/* u32 count, then per site: */
#define TTLOG__FMT_SITX_ID_OFF 0           /* u32 site id, defined by an earlier SITE entry */
#define TTLOG__FMT_SITX_KIND_OFF 4         /* u8 TTLOG__FMT_KIND_* */
#define TTLOG__FMT_SITX_RESERVED_OFF 5     /* u8 zero */
#define TTLOG__FMT_SITX_FIELDS_OFF 6       /* u16 bit i: argument i is an explicit field */
#define TTLOG__FMT_SITX_FIXED_SIZE 8       /* then one name string per bit set, in order */
#define TTLOG__FMT_SITX_NAME_MAX 64        /* bytes of a field name the 0.3 writer keeps */
#define TTLOG__FMT_KIND_LOG 0              /* a log call; the only kind that needs no REQUIRED */
#define TTLOG__FMT_KIND_CONTEXT_PUSH 1     /* one argument: a context value; format = its key */
#define TTLOG__FMT_KIND_CONTEXT_POP 2      /* no argument: ends the innermost context */
#define TTLOG__FMT_KIND_RESTATE 3          /* one U32 n: the next n records re-state open scopes */
#define TTLOG__FMT_KIND_SPAN_BEGIN 4       /* U64 span, parent, trace high, trace low; then fields */
#define TTLOG__FMT_KIND_SPAN_END 5         /* one U64: the span id */
#define TTLOG__FMT_KIND_SPAN_FIELD 6       /* U64 span id, then a value; format = its key */
#define TTLOG__FMT_KIND_MAX 6              /* highest kind this version defines */

/* ---- SMPL: sampling rules and counts per site, revision 3 --------------- */
/* u32 count, then per site (ids strictly increasing over the whole file): */
#define TTLOG__FMT_SMPL_ID_OFF 0           /* u32 site id, defined by an earlier SITE entry */
#define TTLOG__FMT_SMPL_ONE_IN_OFF 4       /* u32 keep 1 call in N; 1 = no 1-in-N rule; never 0 */
#define TTLOG__FMT_SMPL_PER_SECOND_OFF 8   /* u32 at most K calls a second; 0 = no rate limit */
#define TTLOG__FMT_SMPL_RESERVED_OFF 12    /* u32 zero */
#define TTLOG__FMT_SMPL_KEPT_OFF 16        /* u64 calls the sampler kept */
#define TTLOG__FMT_SMPL_SAMPLED_OFF 24     /* u64 calls dropped by 1-in-N */
#define TTLOG__FMT_SMPL_RATE_OFF 32        /* u64 calls dropped by the rate limit */
#define TTLOG__FMT_SMPL_ENTRY_SIZE 40

/* ---- MTRC: metric values, ttlog >= 0.3 (docs/FORMAT.md, MTRC) ------------- */
#define TTLOG__FMT_MTRC_COUNT_OFF 0        /* u32 metrics in this chunk */
#define TTLOG__FMT_MTRC_SUB_BITS_OFF 4     /* u8 log2 of buckets per power of two (6) */
#define TTLOG__FMT_MTRC_RESERVED_OFF 5     /* u8 zero */
#define TTLOG__FMT_MTRC_MIN_EXP_OFF 6      /* i16 lowest power of two of the buckets (-24) */
#define TTLOG__FMT_MTRC_MAX_EXP_OFF 8      /* i16 highest power of two (40) */
#define TTLOG__FMT_MTRC_RESERVED2_OFF 10   /* u16 zero */
#define TTLOG__FMT_MTRC_HEADER_SIZE 12     /* then count entries: */
#define TTLOG__FMT_METRIC_TYPE_OFF 0       /* u8 TTLOG__FMT_METRIC_* */
#define TTLOG__FMT_METRIC_FLAGS_OFF 1      /* u8 TTLOG__FMT_METRIC_FLAG_* */
#define TTLOG__FMT_METRIC_RESERVED_OFF 2   /* u16 zero */
#define TTLOG__FMT_METRIC_LINE_OFF 4       /* u32 source line, 0 for ttlog's own */
#define TTLOG__FMT_METRIC_FIXED_SIZE 8     /* then strings name, labels, file; then the value */
#define TTLOG__FMT_METRIC_COUNTER 1        /* u64 total */
#define TTLOG__FMT_METRIC_GAUGE 2          /* f64 value, u64 ticks of the set (0: never set) */
#define TTLOG__FMT_METRIC_HISTOGRAM 3      /* u64 count, f64 sum, f64 min, f64 max, u32 n,
                                             then n x (u32 bucket index, u64 count) */
#define TTLOG__FMT_METRIC_FLAG_SELF 0x1u   /* one of ttlog's own metrics (ttlog_*) */
#define TTLOG__FMT_METRIC_FLAGS_KNOWN 0x1u
#define TTLOG__FMT_HIST_PAIR_SIZE 12
#define TTLOG__FMT_HIST_FIXED_SIZE 36      /* count, sum, min, max, n */

/* ---- EVTS: one block of one thread's records ---------------------------- */
#define TTLOG__FMT_EVTS_THREAD_OFF 0       /* u32 thread index (THRD) */
#define TTLOG__FMT_EVTS_TID_OFF 4          /* u32 OS thread id */
#define TTLOG__FMT_EVTS_COUNT_OFF 8        /* u32 number of records */
#define TTLOG__FMT_EVTS_RAW_SIZE_OFF 12    /* u32 size of the records once decompressed */
#define TTLOG__FMT_EVTS_FIRST_OFF 16       /* u64 ticks of the first record */
#define TTLOG__FMT_EVTS_LAST_OFF 24        /* u64 ticks of the last record */
#define TTLOG__FMT_EVTS_CODEC_OFF 32       /* u8 TTLOG__FMT_CODEC_* */
#define TTLOG__FMT_EVTS_FIXED_SIZE 40      /* bytes 33..39 zero; then the data */
#define TTLOG__FMT_CODEC_NONE 0
#define TTLOG__FMT_CODEC_LZ4 1             /* one LZ4 block (not frame) */
#define TTLOG__FMT_CODEC_PACKED 2          /* revision 6: records by type, section 9.5 */
#define TTLOG__FMT_CODEC_ZSTD 3            /* revision 11: one zstd frame of codec 2 data */
#define TTLOG__FMT_CODECS 4                /* codecs 0 to 3 are defined */
#define TTLOG__FMT_MAX_BLOCK_RAW (64u << 10)

/* ---- Codec 2 (PACKED), revision 6: docs/FORMAT.md section 9.5 ----------- */
/* Each record starts with a header byte: */
#define TTLOG__FMT_PK_SAME_SITE 0x01u      /* the site of the block's previous typed record */
#define TTLOG__FMT_PK_SAME_STRS 0x02u      /* every STR argument as in the slot's record */
#define TTLOG__FMT_PK_ESCAPE 0x80u         /* alone: varint size, then the raw record */
#define TTLOG__FMT_PK_HEADER_KNOWN 0x83u
#define TTLOG__FMT_PK_SLOTS 256u           /* state slots: slot = site id mod 256 */
/* F64 and LDBL control byte: predictor, trailing zero bytes, stored bytes. */
#define TTLOG__FMT_PK_F_STRIDE 0x80u       /* predicted 2*prev - prev2 (u64 arithmetic) */
#define TTLOG__FMT_PK_F_TZ_SHIFT 4         /* bits 4..6: low zero bytes not stored */
#define TTLOG__FMT_PK_F_N_MASK 0x0fu       /* bits 0..3: bytes stored, 0..8 */
#define TTLOG__FMT_PK_VARINT_MAX 10        /* bytes of the longest varint (a u64) */
/* The most data a writer's block of raw_size bytes packs to: a typed
 * record is written only when it is no longer than its escape, at most
 * 4 bytes over its raw size, and a record has at least 16 bytes. */
#define TTLOG__FMT_PK_BOUND(raw) ((raw) + (raw) / 4 + 16)

/* Records inside a block (and inside a ring): u32 size, u32 site id, u64
 * ticks, then the arguments in site order. size is a multiple of 8. */
#define TTLOG__FMT_RECORD_HEADER_SIZE 16

/* ---- THRD: one thread, after its blocks ---------------------------------- */
#define TTLOG__FMT_THRD_INDEX_OFF 0        /* u32 thread index */
#define TTLOG__FMT_THRD_TID_OFF 4          /* u32 OS thread id */
#define TTLOG__FMT_THRD_FLAGS_OFF 8        /* u32 TTLOG__FMT_THREAD_* */
#define TTLOG__FMT_THRD_RESERVED_OFF 12    /* u32 zero */
#define TTLOG__FMT_THRD_EVENTS_OFF 16      /* u64 records in this file */
#define TTLOG__FMT_THRD_OVERWRITTEN_OFF 24 /* u64 records the ring dropped to make room */
#define TTLOG__FMT_THRD_TORN_OFF 32        /* u64 records lost while being copied */
#define TTLOG__FMT_THRD_TORN_BYTES_OFF 40  /* u64 bytes lost while being copied */
#define TTLOG__FMT_THRD_FIXED_SIZE 48      /* then the name string; in a segment (revision 5)
                                             then u64 stream_lost and u64 filtered */
#define TTLOG__FMT_THREAD_EXITED 0x1u
#define TTLOG__FMT_THREAD_CRASHED 0x2u

/* ---- CRSH: why the crash handler wrote this file ------------------------ */
#define TTLOG__FMT_CRSH_SIGNO_OFF 0        /* i32 signal number (Linux numbering) */
#define TTLOG__FMT_CRSH_CODE_OFF 4         /* i32 si_code */
#define TTLOG__FMT_CRSH_ADDR_OFF 8         /* u64 si_addr */
#define TTLOG__FMT_CRSH_TID_OFF 16         /* u32 OS thread id of the crashing thread */
#define TTLOG__FMT_CRSH_THREAD_OFF 20      /* u32 its thread index, 0xffffffff if it had no ring */
#define TTLOG__FMT_CRSH_FIXED_SIZE 24      /* then the signal name string ("SIGSEGV") */

/* ---- STCK: one thread's stack, revision 4 (docs/FORMAT.md, STCK) -------- */
#define TTLOG__FMT_STCK_TID_OFF 0          /* u32 OS thread id */
#define TTLOG__FMT_STCK_THREAD_OFF 4       /* u32 thread index, 0xffffffff if it had no ring */
#define TTLOG__FMT_STCK_FLAGS_OFF 8        /* u32 TTLOG__FMT_STACK_* */
#define TTLOG__FMT_STCK_ARCH_OFF 12        /* u32 TTLOG__FMT_ARCH_* */
#define TTLOG__FMT_STCK_NFRAMES_OFF 16     /* u32 frames, <= TTLOG__FMT_STCK_MAX_FRAMES */
#define TTLOG__FMT_STCK_NREGS_OFF 20       /* u32 registers, <= TTLOG__FMT_STCK_MAX_REGS */
#define TTLOG__FMT_STCK_FIXED_SIZE 24      /* then nframes u64 addresses, innermost first,
                                             then nregs registers: */
#define TTLOG__FMT_STCK_FRAME_SIZE 8
#define TTLOG__FMT_STCK_REG_ID_OFF 0       /* u32 TTLOG__FMT_REG_<arch>_* */
#define TTLOG__FMT_STCK_REG_RESERVED_OFF 4 /* u32 zero */
#define TTLOG__FMT_STCK_REG_VALUE_OFF 8    /* u64 */
#define TTLOG__FMT_STCK_REG_SIZE 16
#define TTLOG__FMT_STCK_MAX_FRAMES 1024u
#define TTLOG__FMT_STCK_MAX_REGS 64u
#define TTLOG__FMT_STACK_PC_FIRST 0x1u     /* frame 0 is an exact pc; the others return addresses */
#define TTLOG__FMT_STACK_TRUNCATED 0x2u    /* the stack had more frames than were kept */
#define TTLOG__FMT_STACK_FAULTED 0x4u      /* the unwinder stopped at memory it could not read */
#define TTLOG__FMT_STACK_CRASH 0x8u        /* the crashing thread's stack (CRSH) */
#define TTLOG__FMT_STACK_FLAGS_KNOWN 0xfu
/* Revision 12: after the registers, optionally, u32 origin and a str name
 * (the thread's name, at most TTLOG__FMT_STCK_NAME_MAX bytes). A writer
 * appends them only to stacks whose origin is not SELF. */
#define TTLOG__FMT_STACK_ORIGIN_SELF 0u     /* the thread itself: a crash or on request */
#define TTLOG__FMT_STACK_ORIGIN_PTRACE 1u   /* stopped and unwound by another process */
#define TTLOG__FMT_STACK_ORIGIN_WATCHDOG 2u /* unwound by its own signal handler, stalled */
#define TTLOG__FMT_STCK_NAME_MAX 64u
#define TTLOG__FMT_ARCH_UNKNOWN 0          /* no registers */
#define TTLOG__FMT_ARCH_X86_64 1
#define TTLOG__FMT_ARCH_AARCH64 2
/* x86-64 register ids */
#define TTLOG__FMT_REG_X86_64_RIP 0
#define TTLOG__FMT_REG_X86_64_RSP 1
#define TTLOG__FMT_REG_X86_64_RBP 2
#define TTLOG__FMT_REG_X86_64_RAX 3        /* then rbx rcx rdx rsi rdi r8 .. r15: 4 .. 16 */
#define TTLOG__FMT_REG_X86_64_EFLAGS 17
#define TTLOG__FMT_REG_X86_64_COUNT 18
/* aarch64 register ids */
#define TTLOG__FMT_REG_AARCH64_PC 0
#define TTLOG__FMT_REG_AARCH64_SP 1
#define TTLOG__FMT_REG_AARCH64_X0 2        /* x0 .. x30 (x29 = fp, x30 = lr): 2 .. 32 */
#define TTLOG__FMT_REG_AARCH64_PSTATE 33
#define TTLOG__FMT_REG_AARCH64_COUNT 34

/* ---- MODS: loaded modules, revision 4 (docs/FORMAT.md, MODS) ------------- */
#define TTLOG__FMT_MODS_COUNT_OFF 0        /* u32 entries in this chunk */
#define TTLOG__FMT_MODS_MISSING_OFF 4      /* u32 modules left out of the capture */
#define TTLOG__FMT_MODS_FIXED_SIZE 8       /* then count entries: */
#define TTLOG__FMT_MOD_BIAS_OFF 0          /* u64 load bias */
#define TTLOG__FMT_MOD_START_OFF 8         /* u64 lowest runtime address of its PT_LOAD segments */
#define TTLOG__FMT_MOD_END_OFF 16          /* u64 end of the highest (exclusive), >= start */
#define TTLOG__FMT_MOD_BUILD_ID_LEN_OFF 24 /* u32 build-id bytes, <= TTLOG__FMT_MOD_MAX_BUILD_ID */
#define TTLOG__FMT_MOD_FIXED_SIZE 28       /* then the build-id bytes, then the path string */
#define TTLOG__FMT_MOD_MAX_BUILD_ID 64u

/* ---- END: totals; its presence marks a complete file -------------------- */
#define TTLOG__FMT_END_EVENTS_OFF 0        /* u64 records in the file */
#define TTLOG__FMT_END_OVERWRITTEN_OFF 8   /* u64 sum over threads */
#define TTLOG__FMT_END_TORN_OFF 16         /* u64 sum over threads */
#define TTLOG__FMT_END_TORN_BYTES_OFF 24   /* u64 sum over threads */
#define TTLOG__FMT_END_DROPPED_OFF 32      /* u64 log calls the process dropped (no ring, ...) */
#define TTLOG__FMT_END_THREADS_OFF 40      /* u32 THRD entries */
#define TTLOG__FMT_END_SITES_OFF 44        /* u32 SITE entries */
#define TTLOG__FMT_END_BLOCKS_OFF 48       /* u32 EVTS chunks */
#define TTLOG__FMT_END_RESERVED_OFF 52     /* u32 zero */
#define TTLOG__FMT_END_SIZE 56             /* a snapshot's END */
/* Revision 5, a segment's END only: */
#define TTLOG__FMT_END_INDEX_OFF 56        /* u64 offset of the INDX chunk, 0 if none */
#define TTLOG__FMT_END_STREAM_LOST_OFF 64  /* u64 sum of THRD.stream_lost */
#define TTLOG__FMT_END_FILTERED_OFF 72     /* u64 sum of THRD.filtered */
#define TTLOG__FMT_END_PROMOTED_OFF 80     /* u64 records in blocks after a PRMT */
#define TTLOG__FMT_END_SEGMENT_SIZE 88     /* a segment's END before revision 9 */
/* Revision 9, every file's END (a snapshot's has zero segment fields): */
#define TTLOG__FMT_END_LOG_EVENTS_OFF 88   /* u64 the events among the records */
#define TTLOG__FMT_END_FULL_SIZE 96
/* Revision 16, a snapshot's END only (a segment's stays 96 bytes): */
#define TTLOG__FMT_END_DROPPED_SITES_OFF 96 /* u64 call sites that got no id */
#define TTLOG__FMT_END_SNAPSHOT_SIZE 104

/* ---- PRMT: the next EVTS holds promoted records, revision 5 ------------- */
#define TTLOG__FMT_PRMT_THREAD_OFF 0       /* u32 thread index of the EVTS that follows */
#define TTLOG__FMT_PRMT_SCOPE_OFF 4        /* u32 TTLOG__FMT_PROMOTE_* */
#define TTLOG__FMT_PRMT_TRIGGER_TICKS_OFF 8 /* u64 ticks of the record that promoted them */
#define TTLOG__FMT_PRMT_TRIGGER_THREAD_OFF 16 /* u32 its thread index */
#define TTLOG__FMT_PRMT_RESERVED_OFF 20    /* u32 zero */
#define TTLOG__FMT_PRMT_SIZE 24
#define TTLOG__FMT_PROMOTE_THREAD 0
#define TTLOG__FMT_PROMOTE_PROCESS 1
#define TTLOG__FMT_PROMOTE_TRACE 2

/* ---- TRCE: the trace filter a snapshot was written with, revision 15 ---- */
#define TTLOG__FMT_TRCE_TRACE_HI_OFF 0     /* u64 the trace id's high 64 bits */
#define TTLOG__FMT_TRCE_TRACE_LO_OFF 8     /* u64 its low 64 bits */
#define TTLOG__FMT_TRCE_LEFT_EVENTS_OFF 16 /* u64 events of other traces, or of none, left out */
#define TTLOG__FMT_TRCE_LEFT_RECORDS_OFF 24 /* u64 records left out, events and scope records */
#define TTLOG__FMT_TRCE_SIZE 32

/* ---- TNAM: a thread's name in a segment, before its THRD, revision 6 ---- */
#define TTLOG__FMT_TNAM_INDEX_OFF 0        /* u32 thread index */
#define TTLOG__FMT_TNAM_TID_OFF 4          /* u32 OS thread id */
#define TTLOG__FMT_TNAM_FIXED_SIZE 8       /* then the name string */

/* ---- INDX: a closed segment's chunks, revision 5 ------------------------ */
#define TTLOG__FMT_INDX_COUNT_OFF 0        /* u32 entries */
#define TTLOG__FMT_INDX_RESERVED_OFF 4     /* u32 zero */
#define TTLOG__FMT_INDX_FIXED_SIZE 8       /* then count entries: */
#define TTLOG__FMT_INDX_E_OFFSET_OFF 0     /* u64 offset of the chunk header */
#define TTLOG__FMT_INDX_E_TYPE_OFF 8       /* u32 chunk type */
#define TTLOG__FMT_INDX_E_THREAD_OFF 12    /* u32 EVTS, PRMT, THRD, TNAM: thread index; else 0 */
#define TTLOG__FMT_INDX_E_FIRST_OFF 16     /* u64 EVTS: first_ticks; else 0 */
#define TTLOG__FMT_INDX_E_LAST_OFF 24      /* u64 EVTS: last_ticks; else 0 */
#define TTLOG__FMT_INDX_ENTRY_SIZE 32
/* A closed segment ends with END's 16-byte chunk header and 96-byte payload
 * (88 bytes before revision 9). */
#define TTLOG__FMT_SEGMENT_TRAILER_SIZE (TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_END_FULL_SIZE)
#define TTLOG__FMT_SEGMENT_TRAILER_SIZE_R5 (TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_END_SEGMENT_SIZE)

#endif /* TTLOG__FORMAT_FORMAT_H */
