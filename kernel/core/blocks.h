// SPDX-License-Identifier: GPL-2.0
// The cached blocks: the entry table, the index by origin sector, the LRU
// and the superseded list, all threaded through the entries themselves.
#pragma once

#include "entry.h"
#include "list.h"
#include "memory.h"
#include "rbtree.h"

namespace wc {

// The index orders by origin sector, then by seq: a sector has two copies
// while an old one is being written back beside a newer one.
struct ByOrigin {
	static bool less(const Entry *base, BlockId a, BlockId b)
	{
		const Entry &ea = entry_at(base, a), &eb = entry_at(base, b);
		u64 sa = ea.sector(), sb = eb.sector();

		return sa < sb || (sa == sb && ea.seq() < eb.seq());
	}
};

// Cached blocks, the most recently written first; a block under writeback
// is off it.
using LruList = List<struct LruTag>;
// PMEM: old copies of blocks rewritten since the last commit (I5).
using SupersededList = List<struct SupersededTag>;

// Instantiated once, in blocks.cpp (see freelist.h).
extern template class RbTree<ByOrigin>;

// The entry table has at least one slot, so that it is never empty.
constexpr u64 entry_slots(u64 n_blocks) { return n_blocks ? n_blocks : 1; }

inline u64 entry_table_bytes(u64 n_blocks)
{
	return env_array_bytes<Entry>(entry_slots(n_blocks));
}

} // namespace wc
