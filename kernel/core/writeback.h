// SPDX-License-Identifier: GPL-2.0
// Writeback: the planner's limits.
//
// Invariant I3 (kept by writeback.cpp): a block is freed after writeback
// only once its data is durable on the origin.  RETIRE flushes the origin
// first; in PMEM mode the copies are written with FUA, or, with nofua,
// RETIRE flushes the origin too.
#pragma once

#include "types.h"

namespace wc {

// Writeback runs are at most this many blocks (BIO_MAX_VECS).
constexpr u32 kMaxWritebackRun = 256;
// Blocks walked per writeback pass before the work is requeued.
constexpr u32 kWritebackLatency = 64;
constexpr u32 kMaxAgeDiv = 16;

} // namespace wc
