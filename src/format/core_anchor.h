/* SPDX-License-Identifier: MIT */
/*
 * core_anchor.h - the core anchor (docs/CORE-FORMAT.md): a self-describing
 * record in libttlog's data with which `ttlog recover --core` finds the
 * rings, the call-site descriptions and the clock calibration in a core
 * dump of a process in private mode.
 *
 * The anchor is a static struct in .data (src/core/anchor.c): its magic is
 * there from the start, the rest is filled once by ttlog_init() (version
 * 0 until then), so the log call is untouched. A core holds it with the
 * process's writable memory; the recovery (src/coredump/) scans the core's
 * PT_LOAD contents for the magic, checks that the anchor's `self` is the
 * address it was found at, then follows the addresses through the core's
 * program headers. Every address and size is checked against the core:
 * the core is hostile input.
 *
 * The rings and the site descriptions are read as the library's own C
 * structures (native byte order), so the anchor also records their sizes
 * and the offsets of the fields read: a core of a build whose layout
 * differs from the reader's is refused with a clear error, never misread.
 */
#ifndef TTLOG__FORMAT_CORE_ANCHOR_H
#define TTLOG__FORMAT_CORE_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

/* 16 bytes: a non-ASCII first byte, a name, and line-ending bytes that a
 * text conversion would change (as PNG's signature has). */
#define TTLOG__ANCHOR_MAGIC "\x89TTLOG-ANCHOR\r\n\x1a"
#define TTLOG__ANCHOR_MAGIC_LEN 16
#define TTLOG__ANCHOR_VERSION 1

struct ttlog__core_anchor {
	unsigned char magic[TTLOG__ANCHOR_MAGIC_LEN]; /*   0 */
	uint32_t version;          /*  16 TTLOG__ANCHOR_VERSION once filled; 0 before ttlog_init */
	uint32_t size;             /*  20 sizeof(struct ttlog__core_anchor) */
	uint64_t self;             /*  24 the anchor's own address */
	uint32_t writer_version;   /*  32 TTLOG_VERSION_NUMBER */
	uint32_t pointer_size;     /*  36 8 */
	uint64_t pid;              /*  40 address of the process id (int) */
	uint64_t executable;       /*  48 address of the executable's path (executable_max bytes) */
	uint64_t hostname;         /*  56 address of the host name (hostname_max bytes) */
	uint32_t executable_max;   /*  64 */
	uint32_t hostname_max;     /*  68 */
	/* The rings: a list from the pointer at ring_list, through `next`. */
	uint64_t ring_list;        /*  72 address of the pointer to the first ring */
	uint32_t ring_struct_size; /*  80 sizeof(struct ttlog__ring) */
	uint32_t ring_off_data;    /*  84 offsets of its fields: data (pointer) */
	uint32_t ring_off_size;    /*  88 size, seg_size, nseg (three u32) */
	uint32_t ring_off_next;    /*  92 next (pointer) */
	uint32_t ring_off_state;   /*  96 state, gen, tid (three u32) */
	uint32_t ring_off_name;    /* 100 name (16 bytes) */
	uint32_t ring_off_head;    /* 104 w.head (u64) */
	uint32_t ring_off_tail;    /* 108 pub_tail (u64) */
	/* The call sites: descriptions by id, the strings they point at in a
	 * text area of .bss (or, once that is full, in the program's .rodata,
	 * which a core holds only with --exe). */
	uint64_t site_descs;       /* 112 address of the description of id 0 */
	uint32_t site_desc_size;   /* 120 sizeof(struct ttlog__site_desc) */
	uint32_t site_capacity;    /* 124 descriptions in the table (ids 0 .. capacity - 1) */
	uint64_t site_next_id;     /* 128 address of the next id to hand out (u32) */
	/* The clock: calibration point 0 (struct ttlog__calibration). */
	uint64_t calibration;      /* 136 */
	uint32_t calibration_size; /* 144 */
	uint32_t reserved;         /* 148 zero */
	char boot_id[40];          /* 152 /proc/sys/kernel/random/boot_id at init ("" if unknown) */
	uint64_t dropped[3];       /* 192 addresses of the dropped-call counters (u64 each; 0: none) */
};                                 /* 216 */

_Static_assert(sizeof(struct ttlog__core_anchor) == 216, "anchor layout (docs/CORE-FORMAT.md)");
_Static_assert(offsetof(struct ttlog__core_anchor, site_descs) == 112, "anchor layout");
_Static_assert(offsetof(struct ttlog__core_anchor, boot_id) == 152, "anchor layout");

#endif
