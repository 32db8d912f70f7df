// SPDX-License-Identifier: GPL-2.0
// The free blocks, and the watermarks that say when writeback must make
// more of them.
//
// SSD mode keeps free blocks sorted by position and hands them out in
// order from a cursor, so that consecutive writes land contiguously; PMEM
// mode has no use for that and keeps a FIFO, as in-tree does (O(1)).  The
// order is chosen once, when the containers are set up for the mode.
#pragma once

#include "entry.h"
#include "list.h"
#include "rbtree.h"

namespace wc {

struct ByPosition {
	static bool less(const Entry *, BlockId a, BlockId b) { return a.index() < b.index(); }
};

// The free tree's out-of-line functions are instantiated once, in
// freelist.cpp: a copy in two objects breaks the module's link (the
// copy the linker drops is still named in __mcount_loc).
extern template class RbTree<ByPosition>;

// pop(): any free block (nil: no particular block is expected).
constexpr BlockId any_block() { return BlockId::nil(); }

class Freelist {
public:
	enum class Order : u8 { kByPosition, kFifo };

	// Empties the free blocks (the watermarks stay).
	void init(Entry *base, Order order);

	u64 size() const { return size_; }
	// Marks block i free and adds it.  (add and pop are on the map path:
	// inline.)
	void add(BlockId i);
	// Takes the next free block, or returns nil.  In SSD mode `expected`
	// (unless any_block()) is the only block accepted: a run being extended
	// must stay contiguous.
	BlockId pop(BlockId expected = any_block());
	// Loading: replaces the free blocks with the n that next() returns,
	// in position order (O(n); the cursor starts at the lowest).
	template <typename Next>
	void load_sorted(u64 n, Next next);
	// The containers agree with the count.
	bool validate() const;

	// Writeback starts when free blocks fall to `high` and, once started,
	// goes on while they stay at or below `low` (counting the blocks
	// under writeback, which become free).
	void set_watermarks(u64 n_blocks, i32 high_wm, i32 low_wm);
	// The cleaner writes everything back.
	void set_cleaner(u64 n_blocks) { high_ = low_ = n_blocks; }
	u64 high() const { return high_; }
	u64 low() const { return low_; }

private:
	Entry *base_ = nullptr;
	Order order_ = Order::kByPosition;
	RbTree<ByPosition> tree_;	// SSD
	BlockId cursor_ = BlockId::nil();	// SSD: the next block handed out
	List<struct FreeFifoTag> fifo_;	// PMEM
	u64 size_ = 0;
	u64 high_ = 0;
	u64 low_ = 0;
};

inline void Freelist::add(BlockId i)
{
	entry_at(base_, i).set_state(Entry::State::kFree);
	if (order_ == Order::kFifo) {
		fifo_.push_back(i);
	} else {
		if (tree_.empty())
			cursor_ = i;
		tree_.insert(i);
	}
	size_++;
}

inline BlockId Freelist::pop(BlockId expected)
{
	BlockId e, next;

	if (order_ == Order::kFifo) {
		e = fifo_.front();
		if (e.is_nil())
			return BlockId::nil();
		fifo_.remove(e);
	} else {
		e = cursor_;
		if (e.is_nil())
			return BlockId::nil();
		if (expected != any_block() && e != expected)
			return BlockId::nil();
		next = tree_.next(e);
		tree_.erase(e);
		if (next.is_nil())
			next = tree_.first();
		cursor_ = next;
	}
	size_--;
	return e;
}

template <typename Next>
void Freelist::load_sorted(u64 n, Next next)
{
	auto next_free = [&] {
		BlockId i = next();

		entry_at(base_, i).set_state(Entry::State::kFree);
		return i;
	};

	init(base_, order_);
	if (order_ == Order::kFifo) {
		for (u64 k = 0; k < n; k++)
			fifo_.push_back(next_free());
	} else {
		tree_.build(n, next_free);
		cursor_ = tree_.first();
	}
	size_ = n;
}

} // namespace wc
