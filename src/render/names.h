/* SPDX-License-Identifier: MIT */
/*
 * names.h - the short names that output shows for what the reader gives as
 * a path or a number: a path's base name, a file's clock source.
 */
#ifndef TTLOG__RENDER_NAMES_H
#define TTLOG__RENDER_NAMES_H

/** The part of path after its last '/'; "?" for NULL. */
const char *render_base_name(const char *path);

/** "tsc", "cntvct", "monotonic" or "fake" for an enum ttlog_file_clock;
 *  NULL for a clock this program does not know (a later writer's). */
const char *render_clock_name(int clock);

#endif /* TTLOG__RENDER_NAMES_H */
