/* SPDX-License-Identifier: MIT */
/*
 * state.c - the process-wide state every layer shares (common/state.h) and
 * the hooks of shared-memory mode (common/publish.h) and of the stream
 * (common/stream_ops.h). Defined here, at
 * the bottom, so that no layer has to reach up to core/ for them.
 */
#include "common/publish.h"
#include "common/state.h"
#include "common/stream_ops.h"

struct ttlog__global ttlog__g;

const struct ttlog__publisher *_Atomic ttlog__publisher;
_Atomic uint64_t ttlog__publish_next_refresh = UINT64_MAX;

const struct ttlog__stream_ops *_Atomic ttlog__stream_ops;
