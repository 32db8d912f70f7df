// SPDX-License-Identifier: GPL-2.0
// Writeback: the planner's limits, the jobs it plans, and their queues.
//
// Persistence invariant, kept by writeback.cpp:
//  I3. A block is freed after writeback only once its data is durable on
//      the origin: RETIRE flushes the origin first (in PMEM mode the copies
//      are written with FUA, or, with nofua, RETIRE flushes the origin).
#pragma once

#include "list.h"

namespace wc {

// Writeback runs are at most this many blocks (BIO_MAX_VECS).
constexpr u32 kMaxWritebackRun = 256;
// Blocks walked per writeback pass before the work is requeued.
constexpr u32 kWritebackLatency = 64;
constexpr u32 kMaxAgeDiv = 16;

// A job's blocks, in origin order, chained from the job's first block (its
// head) through the next word; the kernel walks them (wc_core_job_next).
struct JobBlocksTag {
	static constexpr u32 kLink = kNextLink;
};
using JobBlocks = ForwardList<JobBlocksTag>;
// Job heads through the prev word: planned jobs not yet handed out, in
// order, and finished ones waiting for RETIRE, the latest first.
struct JobQueueTag {
	static constexpr u32 kLink = kPrevLink;
};
struct RetireTag {
	static constexpr u32 kLink = kPrevLink;
};
// Blocks the planner passed over in this pass, back to the LRU after it.
struct SkippedTag {
	static constexpr u32 kLink = kNextLink;
};
using SkippedList = ForwardList<SkippedTag>;

class WritebackQueue {
public:
	void init(Entry *base)
	{
		base_ = base;
		planned_.init(base);
		retire_.init(base);
		planned_blocks_ = 0;
	}

	// The blocks on planned jobs not handed out yet.
	u64 planned_blocks() const { return planned_blocks_; }
	void plan(const JobBlocks &job, u32 blocks)
	{
		planned_.push_back(job.front());
		planned_blocks_ += blocks;
	}
	// The next planned job's head and block count; nil when none.
	BlockId take(u32 *blocks)
	{
		BlockId head;
		u32 n = 0;

		if (planned_.empty())
			return BlockId::nil();
		head = planned_.pop_front();
		for (BlockId e = head; !e.is_nil(); e = job_next(e))
			n++;
		planned_blocks_ -= n;
		*blocks = n;
		return head;
	}
	BlockId job_next(BlockId e) const { return JobBlocks::next(base_, e); }

	// A job handed out is done (copied or failed).
	void done(BlockId head) { retire_.push_front(head); }
	bool retire_empty() const { return retire_.empty(); }
	// Calls fn(e) for every block of every done job and forgets them;
	// fn may relink e.
	template <typename Fn>
	void retire_each(Fn fn)
	{
		for (BlockId head = retire_.front(); !head.is_nil();) {
			BlockId next_job = retire_.next(head);

			for (BlockId e = head; !e.is_nil();) {
				BlockId next = job_next(e);

				fn(e);
				e = next;
			}
			head = next_job;
		}
		retire_.clear();
	}

private:
	Entry *base_ = nullptr;
	ForwardList<JobQueueTag> planned_;
	ForwardList<RetireTag> retire_;
	u64 planned_blocks_ = 0;
};

} // namespace wc
