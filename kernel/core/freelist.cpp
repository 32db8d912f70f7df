// SPDX-License-Identifier: GPL-2.0
// The free blocks: a sorted tree with a cursor (SSD) or a FIFO (PMEM).
#include "freelist.h"

namespace wc {

template class RbTree<ByPosition>;

void Freelist::init(Entry *base, Order order)
{
	base_ = base;
	order_ = order;
	tree_.init(base);
	fifo_.init(base);
	cursor_ = BlockId::nil();
	size_ = 0;
}

bool Freelist::validate() const
{
	if (tree_.validate() < 0)
		return false;
	return size_ == (order_ == Order::kFifo ? fifo_.size() : tree_.size());
}

void Freelist::set_watermarks(u64 n_blocks, i32 high_wm, i32 low_wm)
{
	high_ = (n_blocks * u64(100 - high_wm) + 50) / 100;
	low_ = (n_blocks * u64(100 - low_wm) + 50) / 100;
}

} // namespace wc
