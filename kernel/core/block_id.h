// SPDX-License-Identifier: GPL-2.0
// A cache block's index, as a type of its own.
//
// The core juggles integers that look alike: cache block indices, origin
// sectors (u64) and counts of blocks or sectors.  Mixing them compiles
// silently as long as they are all plain integers; a block index kept as
// BlockId cannot be: it is made from a u32 only explicitly, so a sector or
// a count never becomes one by accident, and it gives its number back only
// through index().  It stays one 32-bit word, because the entry links are
// block ids and the Entry must stay 32 bytes (entry.h); passed by value it
// is the bare u32 to the compiler.  The ABI's struct wc_block is the same
// number, converted in api.cpp.
//
// The special values are functions, not constant objects: a constexpr
// object of class type passed by value is loaded from memory by GCC, where
// nil() is an immediate, as kNil was when the ids were plain u32s.
#pragma once

#include "types.h"

namespace wc {

class BlockId {
public:
	// The default is nil, the "no block" of links and lookups.
	constexpr BlockId() = default;
	constexpr explicit BlockId(u32 index) : index_(index) {}

	static constexpr BlockId nil() { return BlockId(); }
	// The value below nil, never a block's either: the tree's head
	// sentinel (rbtree.h) and the writeback sweep's "not positioned yet"
	// (cache.h).
	static constexpr BlockId reserved() { return BlockId(kNilIndex - 1); }
	constexpr bool is_nil() const { return index_ == kNilIndex; }
	constexpr u32 index() const { return index_; }
	// The block after this one in the cache area, for the checks that
	// runs are contiguous on the cache device.
	constexpr BlockId successor() const { return BlockId(index_ + 1); }

	friend constexpr bool operator==(BlockId a, BlockId b) { return a.index_ == b.index_; }
	friend constexpr bool operator!=(BlockId a, BlockId b) { return a.index_ != b.index_; }

private:
	static constexpr u32 kNilIndex = 0xffffffffU;
	u32 index_ = kNilIndex;
};

static_assert(sizeof(BlockId) == 4, "an entry link is one 32-bit word");
static_assert(__is_trivially_copyable(BlockId), "block ids are passed as plain words");

// The largest cache the 32-bit ids can address: two values are reserved,
// nil() and reserved().
constexpr u64 kMaxBlocks = 0xfffffffeULL;
static_assert(BlockId::reserved().index() == kMaxBlocks);

} // namespace wc
