// SPDX-License-Identifier: GPL-2.0
// The counters that `dmsetup status` reports.
#pragma once

#include "types.h"

namespace wc {

struct Stats {
	u64 reads;
	u64 read_hits;
	u64 writes;
	u64 write_hits_uncommitted;
	u64 write_hits_committed;
	u64 writes_around;
	u64 writes_allocate;
	u64 writes_blocked_on_freelist;
	u64 flushes;
	u64 discards;
};

} // namespace wc
