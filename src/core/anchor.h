/* SPDX-License-Identifier: MIT */
/*
 * anchor.h - the core anchor (docs/CORE-FORMAT.md, format/core_anchor.h):
 * filled by ttlog_init() so that a core dump of the process tells where its
 * rings, call sites and clock calibration are.
 */
#ifndef TTLOG__CORE_ANCHOR_H
#define TTLOG__CORE_ANCHOR_H

/* Fills the anchor from the library's globals; idempotent. Not for signal
 * context. */
void ttlog__anchor_fill(void);

#endif
