// SPDX-License-Identifier: GPL-2.0
// The free blocks: a sorted tree with a cursor (SSD) or a FIFO (PMEM).
#include "freelist.h"

namespace wc {

void Freelist::init(Entry *base, Order order)
{
	base_ = base;
	order_ = order;
	tree_.init(base);
	fifo_.init(base);
	cursor_ = kNil;
	size_ = 0;
}

void Freelist::add(u32 i)
{
	base_[i].set_state(Entry::State::kFree);
	if (order_ == Order::kFifo) {
		fifo_.push_back(i);
	} else {
		if (tree_.empty())
			cursor_ = i;
		tree_.insert(i);
	}
	size_++;
}

u32 Freelist::pop(u64 expected)
{
	u32 e, next;

	if (order_ == Order::kFifo) {
		e = fifo_.front();
		if (e == kNil)
			return kNil;
		fifo_.remove(e);
	} else {
		e = cursor_;
		if (e == kNil)
			return kNil;
		if (expected != kAnyBlock && e != expected)
			return kNil;
		next = tree_.next(e);
		tree_.erase(e);
		if (next == kNil)
			next = tree_.first();
		cursor_ = next;
	}
	size_--;
	return e;
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
