// SPDX-License-Identifier: GPL-2.0
// Intrusive lists threaded through the entry array by block index, in the
// spirit of fbl's intrusive lists and LLVM's ilist tags: each list is a
// type of its own, named by a tag, and only list.h touches the links.
//
// Every entry has two link words, Entry::lru.  A doubly linked List uses
// both (prev, next).  A ForwardList uses the one its tag names, so that a
// block can be on two forward lists at once: a writeback job's blocks
// chain through the next word while the job's head block queues through
// the prev word.  A block is on at most one list per word.
#pragma once

#include "entry.h"

namespace wc {

enum : u32 { kPrevLink = 0, kNextLink = 1 };

// Doubly linked, with a count.  front() is the newest.
template <typename Tag>
class List {
public:
	void init(Entry *base)
	{
		base_ = base;
		head_ = tail_ = kNil;
		size_ = 0;
	}
	bool empty() const { return head_ == kNil; }
	u64 size() const { return size_; }
	u32 front() const { return head_; }
	u32 back() const { return tail_; }
	u32 next(u32 i) const { return base_[i].lru[kNextLink]; }
	u32 prev(u32 i) const { return base_[i].lru[kPrevLink]; }

	void push_front(u32 i)
	{
		base_[i].lru[kPrevLink] = kNil;
		base_[i].lru[kNextLink] = head_;
		if (head_ != kNil)
			base_[head_].lru[kPrevLink] = i;
		else
			tail_ = i;
		head_ = i;
		size_++;
	}

	void push_back(u32 i)
	{
		base_[i].lru[kNextLink] = kNil;
		base_[i].lru[kPrevLink] = tail_;
		if (tail_ != kNil)
			base_[tail_].lru[kNextLink] = i;
		else
			head_ = i;
		tail_ = i;
		size_++;
	}

	// Unlinks i; both its words are left kNil.
	void remove(u32 i)
	{
		u32 p = base_[i].lru[kPrevLink], n = base_[i].lru[kNextLink];

		if (p != kNil)
			base_[p].lru[kNextLink] = n;
		else
			head_ = n;
		if (n != kNil)
			base_[n].lru[kPrevLink] = p;
		else
			tail_ = p;
		base_[i].lru[kPrevLink] = base_[i].lru[kNextLink] = kNil;
		size_--;
	}

private:
	Entry *base_ = nullptr;
	u32 head_ = kNil;
	u32 tail_ = kNil;
	u64 size_ = 0;
};

// Singly linked through the word Tag::kLink, with a tail for FIFO use.
template <typename Tag>
class ForwardList {
public:
	static constexpr u32 kLink = Tag::kLink;

	void init(Entry *base)
	{
		base_ = base;
		head_ = tail_ = kNil;
	}
	bool empty() const { return head_ == kNil; }
	u32 front() const { return head_; }
	u32 next(u32 i) const { return base_[i].lru[kLink]; }
	// i's successor, for a list known by its first entry only.
	static u32 next(const Entry *base, u32 i) { return base[i].lru[kLink]; }

	void push_back(u32 i)
	{
		base_[i].lru[kLink] = kNil;
		if (tail_ != kNil)
			base_[tail_].lru[kLink] = i;
		else
			head_ = i;
		tail_ = i;
	}

	void push_front(u32 i)
	{
		base_[i].lru[kLink] = head_;
		if (head_ == kNil)
			tail_ = i;
		head_ = i;
	}

	// Takes the first entry off (its link word is left as it was).
	u32 pop_front()
	{
		u32 i = head_;

		head_ = base_[i].lru[kLink];
		if (head_ == kNil)
			tail_ = kNil;
		return i;
	}

	// Forgets the entries; their links are left as they were.
	void clear() { head_ = tail_ = kNil; }

private:
	Entry *base_ = nullptr;
	u32 head_ = kNil;
	u32 tail_ = kNil;
};

// An entry that leaves every list: both its words kNil.
inline void unlink(Entry &e)
{
	e.lru[kPrevLink] = e.lru[kNextLink] = kNil;
}

} // namespace wc
