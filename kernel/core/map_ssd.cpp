// SPDX-License-Identifier: GPL-2.0
// SSD mode's map paths: bios are remapped to the cache or the origin, and
// flushes and discards are deferred to programs.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

void Cache::map_ssd_bio(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	if (bio.flags & WC_BIO_DISCARD)
		map_ssd_discard(bio, res);
	else if (!(bio.flags & WC_BIO_WRITE))
		map_ssd_read(bio, res);
	else
		map_ssd_write(bio, now_ms, res);
}

void Cache::map_ssd_flush(const wc_bio &bio, wc_map_result &res)
{
	if (error_)
		return;
	// dm sends two empty flushes in SSD mode: the second one flushes the
	// origin, for the writes that went around the cache.
	if (bio.flags & WC_BIO_SECOND_FLUSH) {
		res.action = WC_MAP_REMAP_ORIGIN;
		return;
	}
	stats_.flushes++;
	res.action = WC_MAP_DEFER;
}

void Cache::map_ssd_discard(const wc_bio &bio, wc_map_result &res)
{
	stats_.discards += block_count(bio.nr_sectors);
	if (error_)
		return;
	res.action = WC_MAP_DEFER;
}

void Cache::map_ssd_read(const wc_bio &bio, wc_map_result &res)
{
	BlockId e = find_following(bio.sector);

	stats_.reads++;
	if (!e.is_nil() && entry(e).sector() == bio.sector) {
		// In-tree sends every cached block as a bio of its own; the
		// blocks that follow this one on both devices go in the same
		// bio here, and count as if they had been sent one by one.
		bool uncommitted;
		u32 blocks = adjacent_run(e, block_count(bio.nr_sectors), &uncommitted);

		stats_.reads += blocks - 1;
		stats_.read_hits += blocks;
		res.action = WC_MAP_REMAP_CACHE;
		res.accept_sectors = blocks * block_sectors();
		res.sector = cache_sector(e);
		res.flags |= WC_MAPF_TRACK_CACHE_IO;
		// A block allocated by a write still in flight holds stale
		// data of another sector until that write lands.
		if (uncommitted)
			res.flags |= WC_MAPF_WAIT_CACHE_WRITES;
		return;
	}
	read_miss(bio, e, res);
}

void Cache::map_ssd_write(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	bool found_entry = false;
	BlockId e;

	if (error_) {
		stats_.writes += block_count(bio.nr_sectors);
		return;
	}
	e = find_exact(bio.sector);
	if (!e.is_nil()) {
		if (!committed(e)) {
			stats_.write_hits_uncommitted++;
			write_ssd_run(bio, e, true, now_ms, res);
			return;
		}
		stats_.write_hits_committed++;
		// SSD mode rewrites a committed block in place, unless it is
		// being written back; the next commit must then flush the
		// cache device even if it has no new entries.
		if (!entry(e).write_in_progress()) {
			overwrote_committed_ = true;
			write_ssd_run(bio, e, true, now_ms, res);
			return;
		}
		found_entry = true;
	} else if (cleaner_ || (cfg.metadata_only && !(bio.flags & WC_BIO_META))) {
		goto direct_write;
	}

	e = pop_from_freelist(any_block());
	if (e.is_nil()) {
		if (!found_entry)
			goto direct_write;
		stats_.writes_blocked_on_freelist++;
		res.action = WC_MAP_WAIT_FREELIST;
		return;
	}
	if (found_entry)
		duplicates_ = true;
	cache_new_block(e, bio.sector, now_ms);
	stats_.writes_allocate++;
	write_ssd_run(bio, e, false, now_ms, res);
	return;

direct_write:
	remap_origin(bio, find_following(bio.sector), res);
	stats_.writes_around += block_count(res.accept_sectors);
	stats_.writes += block_count(res.accept_sectors);
}

// Extends a write that starts at cache block `e` over the following blocks
// while they stay contiguous on both devices, allocating (a new write) or
// reusing (an overwrite) them, and remaps that run to the cache.
void Cache::write_ssd_run(const wc_bio &bio, BlockId e, bool overwrite, u64 now_ms,
			  wc_map_result &res)
{
	u32 size = block_sectors();
	u64 start = cache_sector(e);
	BlockId next_block = e.successor();

	while (size < bio.nr_sectors) {
		if (!overwrite) {
			// A sector already cached ends the run: its block is
			// rewritten by the next map call.  (In-tree allocates
			// a second block with the same sector and seq there,
			// which a crash right after the commit turns into "two
			// identical entries".)
			if (!find_exact(bio.sector + size).is_nil())
				break;
			BlockId f = pop_from_freelist(next_block);

			if (f.is_nil())
				break;
			cache_new_block(f, bio.sector + size, now_ms);
		} else {
			BlockId f = index_.next(e);

			if (f.is_nil() || f != e.successor())
				break;
			if (entry(f).sector() != entry(e).sector() + block_sectors())
				break;
			if (entry(f).write_in_progress())
				break;
			if (committed(f))
				overwrote_committed_ = true;
			e = f;
		}
		size += block_sectors();
		next_block = next_block.successor();
	}

	res.action = WC_MAP_REMAP_CACHE;
	res.sector = start;
	res.accept_sectors = size;
	res.flags |= WC_MAPF_TRACK_CACHE_IO;
	if (bio.flags & WC_BIO_FUA)
		res.flags |= WC_MAPF_COMMIT_AFTER;
	stats_.writes += block_count(size);
	// As in-tree: every block after the first counts as allocated.
	stats_.writes_allocate += block_count(size) - 1;

	if (uncommitted_blocks_ >= cfg.autocommit_blocks) {
		uncommitted_blocks_ = 0;
		events_ |= WC_EV_COMMIT_SOON;
	} else {
		events_ |= WC_EV_ARM_AUTOCOMMIT;
	}
}

// A deferred discard: once the bios in flight to the blocks are done, they
// are freed, and the metadata synced before the lock is dropped (I2).
void Cache::step_discard(wc_io_op *op, int result)
{
	u64 start = prog_.arg0, end = prog_.arg1;

	switch (prog_.discard) {
	case DiscardStep::kStart: {
		bool any = false;

		for (BlockId e = find_lowest_at_or_after(start);
		     !e.is_nil() && entry(e).sector() < end; e = index_.next(e)) {
			if (!entry(e).write_in_progress()) {
				any = true;
				break;
			}
		}
		if (!any || error_)
			return finish(op, 0);
		op->kind = WC_IO_WAIT_CACHE_READS;
		prog_.discard = DiscardStep::kReadsDone;
		return;
	}
	case DiscardStep::kReadsDone:
		op->kind = WC_IO_WAIT_CACHE_WRITES;
		prog_.discard = DiscardStep::kWritesDone;
		return;
	case DiscardStep::kWritesDone:
		discard_range(start, end);
		prog_.discard = DiscardStep::kSync;
		[[fallthrough]];
	case DiscardStep::kSync:
		break;
	}
	return sync_then_finish(op, result);
}

} // namespace wc
