// SPDX-License-Identifier: GPL-2.0
// Intrusive lists threaded through the entry array by block id, in the
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
		head_ = BlockId::nil();
		tail_ = BlockId::nil();
		size_ = 0;
	}
	bool empty() const { return head_.is_nil(); }
	u64 size() const { return size_; }
	BlockId front() const { return head_; }
	BlockId back() const { return tail_; }
	BlockId next(BlockId i) const { return node(i).lru[kNextLink]; }
	BlockId prev(BlockId i) const { return node(i).lru[kPrevLink]; }

	void push_front(BlockId i)
	{
		node(i).lru[kPrevLink] = BlockId::nil();
		node(i).lru[kNextLink] = head_;
		if (!head_.is_nil())
			node(head_).lru[kPrevLink] = i;
		else
			tail_ = i;
		head_ = i;
		size_++;
	}

	void push_back(BlockId i)
	{
		node(i).lru[kNextLink] = BlockId::nil();
		node(i).lru[kPrevLink] = tail_;
		if (!tail_.is_nil())
			node(tail_).lru[kNextLink] = i;
		else
			head_ = i;
		tail_ = i;
		size_++;
	}

	// Unlinks i; both its words are left nil.
	void remove(BlockId i)
	{
		BlockId p = node(i).lru[kPrevLink], n = node(i).lru[kNextLink];

		if (!p.is_nil())
			node(p).lru[kNextLink] = n;
		else
			head_ = n;
		if (!n.is_nil())
			node(n).lru[kPrevLink] = p;
		else
			tail_ = p;
		set_pair(node(i).lru, BlockId::nil(), BlockId::nil());
		size_--;
	}

private:
	Entry &node(BlockId i) const { return entry_at(base_, i); }

	Entry *base_ = nullptr;
	BlockId head_ = BlockId::nil();
	BlockId tail_ = BlockId::nil();
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
		head_ = BlockId::nil();
		tail_ = BlockId::nil();
	}
	bool empty() const { return head_.is_nil(); }
	BlockId front() const { return head_; }
	BlockId next(BlockId i) const { return next(base_, i); }
	// i's successor, for a list known by its first entry only.
	static BlockId next(const Entry *base, BlockId i) { return entry_at(base, i).lru[kLink]; }

	void push_back(BlockId i)
	{
		node(i).lru[kLink] = BlockId::nil();
		if (!tail_.is_nil())
			node(tail_).lru[kLink] = i;
		else
			head_ = i;
		tail_ = i;
	}

	void push_front(BlockId i)
	{
		node(i).lru[kLink] = head_;
		if (head_.is_nil())
			tail_ = i;
		head_ = i;
	}

	// Takes the first entry off (its link word is left as it was).
	BlockId pop_front()
	{
		BlockId i = head_;

		head_ = node(i).lru[kLink];
		if (head_.is_nil())
			tail_ = BlockId::nil();
		return i;
	}

	// Forgets the entries; their links are left as they were.
	void clear()
	{
		head_ = BlockId::nil();
		tail_ = BlockId::nil();
	}

private:
	Entry &node(BlockId i) const { return entry_at(base_, i); }

	Entry *base_ = nullptr;
	BlockId head_ = BlockId::nil();
	BlockId tail_ = BlockId::nil();
};

// An entry that leaves every list: both its words nil.
inline void unlink(Entry &e)
{
	set_pair(e.lru, BlockId::nil(), BlockId::nil());
}

} // namespace wc
