// SPDX-License-Identifier: GPL-2.0
// Writeback: the planner, the jobs handed out, and retire.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

// Whether block i is older than max_age (the stamps: cache.h).
bool Cache::aged(BlockId i, u64 now_ms) const
{
	if (!cfg.max_age_set)
		return false;
	u16 age = u16(age_stamp(now_ms) - entry(i).age());
	u32 threshold = (cfg.max_age_ms - cfg.max_age_ms / kMaxAgeDiv) / age_unit_ms();

	return age >= threshold;
}

void Cache::writeback_begin()
{
	wb_walked_ = 0;
	wb_waited_writes_ = false;
	wb_sweep_started_ = false;
	wb_sweep_cursor_ = BlockId::nil();
}

int Cache::writeback_plan(u64 now_ms, bool writeback_all, int *requeue)
{
	SkippedList skipped;
	bool planned = false;

	skipped.init(entries_);

	*requeue = 0;
	if (error_)
		return WC_WB_IDLE;
	if (writeback_all && !wb_sweep_started_) {
		// Drain what is in flight, commit, then sweep the whole index
		// in origin order.
		if (writeback_size_)
			return WC_WB_WAIT;
		wb_sweep_started_ = true;
		wb_sweep_cursor_ = kSweepUnpositioned;
		return WC_WB_NEED_COMMIT;
	}
	// A committed block rewritten in place may still have that write in
	// flight; copying it now could retire the block under the new data.
	if (overwrote_committed_ && !wb_waited_writes_) {
		wb_waited_writes_ = true;
		return WC_WB_WAIT_CACHE_WRITES;
	}
	if (writeback_all && wb_sweep_cursor_ == kSweepUnpositioned)
		wb_sweep_cursor_ = index_.first();

	for (;;) {
		BlockId e, f;

		if (writeback_all) {
			e = wb_sweep_cursor_;
			while (!e.is_nil() && entry(e).write_in_progress())
				e = index_.next(e);
			if (e.is_nil())
				break;
		} else {
			if (lru_.empty())
				break;
			e = lru_.back();
			if (!(free_.size() + writeback_size_ <= free_.low() ||
			      aged(e, now_ms)))
				break;
		}
		wb_walked_++;
		if (wb_walked_ > kWritebackLatency && !writeback_all) {
			*requeue = 1;
			break;
		}
		if (!committed(e)) {
			wb_sweep_cursor_ = e;
			return WC_WB_NEED_COMMIT;
		}

		// An older copy of the same sector is still being written
		// back: writing this one concurrently could reorder them.
		f = index_.prev(e);
		if (!f.is_nil() && entry(f).sector() == entry(e).sector()) {
			wb_sweep_cursor_ = index_.next(e);
			lru_.remove(e);
			skipped.push_back(e);
			continue;
		}

		// Start a job at e and extend it over blocks that follow it on
		// the origin and, in SSD mode, on the cache too.
		JobBlocks job;
		u32 count = 1;

		job.init(entries_);
		lru_.remove(e);
		entry(e).set_state(Entry::State::kWriteback);
		job.push_back(e);
		writeback_size_++;
		f = e;
		for (;;) {
			BlockId g = index_.next(f);

			if (g.is_nil())
				break;
			if (entry(g).sector() == entry(f).sector()) {
				f = g;
				continue;
			}
			if (entry(g).sector() != entry(f).sector() + block_sectors())
				break;
			if (entry(g).write_in_progress() || !committed(g))
				break;
			if (mode_->contiguous_runs && g != e.successor())
				break;
			wb_walked_++;
			lru_.remove(g);
			entry(g).set_state(Entry::State::kWriteback);
			job.push_back(g);
			writeback_size_++;
			e = g;
			f = g;
			if (++count == kMaxWritebackRun)
				break;
		}
		wb_sweep_cursor_ = index_.next(f);

		wb_.plan(job, count);
		planned = true;
	}

	// Skipped blocks go back as the oldest.
	for (BlockId s = skipped.front(); !s.is_nil();) {
		BlockId next = skipped.next(s);

		lru_.push_back(s);
		s = next;
	}
	if (!skipped.empty() && !planned)
		return WC_WB_WAIT;
	return planned ? WC_WB_JOBS : WC_WB_IDLE;
}

bool Cache::writeback_next_job(wc_wb_job *job)
{
	u32 n;
	BlockId head = wb_.take(&n);

	if (head.is_nil())
		return false;

	job->head.index = head.index();
	job->nr_blocks = n;
	job->cache_sector = cache_sector(head);
	job->origin_sector = entry(head).sector();
	u64 sectors = u64(n) << (cfg.block_shift - kSectorShift);

	// The origin may have shrunk since the block was cached.
	if (job->origin_sector >= origin_sectors_)
		sectors = 0;
	else if (job->origin_sector + sectors > origin_sectors_)
		sectors = origin_sectors_ - job->origin_sector;
	job->nr_sectors = u32(sectors);
	return true;
}

void Cache::writeback_done(BlockId head, int error)
{
	if (error)
		set_error(error, "copy error");
	wb_.done(head);
}

// --- retire: free the blocks whose writeback completed ------------------------

// `flush_result` is the outcome of the origin flush that precedes this.
void Cache::retire_jobs(int flush_result)
{
	if (flush_result) {
		flush_failed(flush_result);
	}
	wb_.retire_each([&](BlockId e) {
		entry(e).set_state(Entry::State::kCached);
		unlink(entry(e));
		writeback_size_--;
		// In the error state the blocks stay cached: the origin may
		// not hold their data.
		if (!error_)
			free_entry(e, false);
	});
	events_ |= WC_EV_WAKE_FREELIST;
}

void Cache::step_retire(wc_io_op *op, int result)
{
	switch (prog_.retire) {
	case RetireStep::kStart:
		if (wb_.retire_empty())
			return finish(op, 0);
		// I3: the copies must be durable on the origin first.
		op->kind = WC_IO_FLUSH_ORIGIN;
		prog_.retire = RetireStep::kOriginFlushed;
		return;
	case RetireStep::kOriginFlushed:
		retire_jobs(result);
		// Reads mapped to the freed blocks must finish before the
		// lock is dropped and the blocks can be reused.
		op->kind = WC_IO_WAIT_CACHE_READS;
		prog_.retire = RetireStep::kSync;
		return;
	case RetireStep::kSync:
		break;
	}
	return sync_then_finish(op, result);
}

void Cache::step_retire_pmem(wc_io_op *op, int result)
{
	if (prog_.retire == RetireStep::kStart) {
		if (wb_.retire_empty())
			return finish(op, 0);
		prog_.retire = RetireStep::kOriginFlushed;
		// With nofua the copies were written without FUA: flush the
		// origin before the blocks are freed (I3).
		if (!cfg.writeback_fua) {
			op->kind = WC_IO_FLUSH_ORIGIN;
			return;
		}
		result = 0;
	}
	retire_jobs(result);
	if (!error_)
		pmem_fence();
	return finish(op, 0);
}

} // namespace wc
