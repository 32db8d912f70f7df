// SPDX-License-Identifier: GPL-2.0
// The cached blocks: lookups, caching and freeing, validate().
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

template class RbTree<ByOrigin>;

void Cache::reset_containers()
{
	index_.init(entries_);
	free_.init(entries_, mode_->free_order);
	lru_.init(entries_);
	superseded_.init(entries_);
	duplicates_ = false;
	note_free_unsynced(false);
	writeback_size_ = 0;
	uncommitted_blocks_ = 0;
	wb_.init(entries_);
	load_stats_ = {};
}

BlockId Cache::find_following(u64 sector) const
{
	BlockId e = find_exact(sector);

	if (!e.is_nil())
		return e;
	return index_.lower_bound([&](BlockId n) { return entry(n).sector() <= sector; });
}

BlockId Cache::find_lowest_at_or_after(u64 sector) const
{
	return index_.lower_bound([&](BlockId n) { return entry(n).sector() < sector; });
}

// `replaces`: a committed block of the same sector that `i` supersedes
// (I5); `i` takes its place in the index and the LRU.
void Cache::insert_entry(BlockId i, u64 now_ms, BlockId replaces)
{
	entry(i).set_state(Entry::State::kCached);
	if (!replaces.is_nil()) {
		index_.replace(replaces, i);
		lru_.remove(replaces);
		superseded_.push_back(replaces);
		entry(replaces).set_state(Entry::State::kSuperseded);
	} else {
		index_.insert(i);
	}
	lru_.push_front(i);
	entry(i).set_age(age_stamp(now_ms));
}

// A block just taken from the free list now caches `sector`, uncommitted.
void Cache::cache_new_block(BlockId i, u64 sector, u64 now_ms, BlockId replaces)
{
	entry(i).set_sector(sector);
	entry(i).set_seq(seq_count_);
	entry_cached(i);
	insert_entry(i, now_ms, replaces);
	uncommitted_blocks_++;
}

BlockId Cache::pop_from_freelist(BlockId expected_block)
{
	BlockId e = free_.pop(expected_block);

	WC_DEBUG_CHECK(e.is_nil() || !frees_unsynced(),
		       "I2: a block is allocated while a free is not durable");
	if (!e.is_nil())
		verify_watermark();
	return e;
}

void Cache::free_entry(BlockId i, bool in_lru)
{
	index_.erase(i);
	if (in_lru)
		lru_.remove(i);
	free_.add(i);
	entry(i).set_seq(disk::kFreeSeq);
	entry_freed(i);
	events_ |= WC_EV_WAKE_FREELIST;
}

// Frees the superseded blocks (I5) whose sector is in [start, end): all of
// them after a commit, those of a discarded range otherwise.  Returns
// whether it freed any: the caller fences the freed entries.
bool Cache::free_superseded(u64 start, u64 end)
{
	bool freed = false;

	for (BlockId i = superseded_.front(); !i.is_nil();) {
		BlockId next = superseded_.next(i);

		if (entry(i).sector() >= start && entry(i).sector() < end) {
			superseded_.remove(i);
			free_.add(i);
			entry(i).set_seq(disk::kFreeSeq);
			entry_freed(i);
			events_ |= WC_EV_WAKE_FREELIST;
			freed = true;
		}
		i = next;
	}
	return freed;
}

// Drops the cached blocks of [start, end) that are not being written back;
// returns whether it freed any (PMEM mode then fences).
bool Cache::discard_range(u64 start, u64 end)
{
	bool freed = false;

	for (BlockId e = find_lowest_at_or_after(start);
	     !e.is_nil() && entry(e).sector() < end;) {
		BlockId next = index_.next(e);

		if (!entry(e).write_in_progress()) {
			if (!committed(e) && uncommitted_blocks_)
				uncommitted_blocks_--;
			free_entry(e);
			freed = true;
		}
		e = next;
	}
	// In-tree frees both copies of a discarded block; so does this.
	if (free_superseded(start, end))
		freed = true;
	return freed;
}

// After a commit, an older committed copy of a sector just committed is
// garbage; free it unless it is being written back (then retire frees it).
// Such copies exist only when duplicates_ says so: the search is skipped
// otherwise.  Returns whether entries were freed (they need a sync).
bool Cache::free_older_duplicates()
{
	u64 just_committed = seq_count_ - 1;
	bool freed = false;

	if (!duplicates_)
		return false;
	duplicates_ = false;
	for (BlockId e = lru_.front(); !e.is_nil() && entry(e).seq() == just_committed;
	     e = lru_.next(e)) {
		BlockId p = index_.prev(e);

		if (!p.is_nil() && entry(p).sector() == entry(e).sector() &&
		    !entry(p).write_in_progress()) {
			free_entry(p);
			freed = true;
		}
	}
	return freed;
}

// Both modes' loads end here when metadata could not be read: the load is
// refused (see load_unreadable in meta_ssd.cpp for why), and map() fails
// every bio until a load succeeds.  Returns the load program's result.
int Cache::refuse_load(int error)
{
	wc_env_log(WC_LOG_ERR, "refusing to load the cache: its metadata could not be read");
	load_refused_ = true;
	return error < 0 ? error : -WC_EIO;
}

bool Cache::validate() const
{
	u64 count[4] = {};

	if (!entries_)
		return true;
	if (index_.validate() < 0 || !free_.validate())
		return false;
	for (u64 i = 0; i < n_blocks_; i++)
		count[u32(entry(BlockId(u32(i))).state())]++;
	for (BlockId i = superseded_.front(); !i.is_nil(); i = superseded_.next(i))
		if (entry(i).state() != Entry::State::kSuperseded || !committed(i) ||
		    find_exact(entry(i).sector()).is_nil())
			return false;

	u64 cached = count[u32(Entry::State::kCached)];
	u64 wip = count[u32(Entry::State::kWriteback)];

	return count[u32(Entry::State::kFree)] == free_.size() &&
	       count[u32(Entry::State::kSuperseded)] == superseded_.size() &&
	       cached + wip == index_.size() && wip == writeback_size_ &&
	       lru_.size() + wip <= index_.size();
}

} // namespace wc
