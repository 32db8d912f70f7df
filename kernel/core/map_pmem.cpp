// SPDX-License-Identifier: GPL-2.0
// PMEM mode's map paths: the caller copies one block at a time between the
// bio and the mapping (WC_MAP_COPY_PMEM), advances the bio and maps the
// rest; a final call with nothing left completes it.  The first call says
// how much of the bio the copies will cover: dm can split a bio only
// before it is advanced (in-tree splits an advanced bio, and with dm's
// accounting since 5.19 the remainder of such a split restarts at the
// wrong sector).  Flushes and discards are done right here.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

void Cache::map_pmem_bio(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	if (bio.flags & WC_BIO_DISCARD)
		map_pmem_discard(bio, res);
	else if (!(bio.flags & WC_BIO_WRITE))
		map_pmem_read(bio, res);
	else
		map_pmem_write(bio, now_ms, res);
}

void Cache::map_pmem_flush(const wc_bio &, wc_map_result &res)
{
	if (error_)
		return;
	// The commit is stores and fences: done right here.
	stats_.flushes++;
	commit_pmem();
	if (error_)
		return;
	res.action = (cleaner_ || cfg.metadata_only) ? WC_MAP_REMAP_ORIGIN
						     : WC_MAP_COMPLETE;
}

void Cache::map_pmem_discard(const wc_bio &bio, wc_map_result &res)
{
	stats_.discards += block_count(bio.nr_sectors);
	if (error_)
		return;
	if (discard_range(bio.sector, bio.sector + bio.nr_sectors))
		pmem_fence();
	res.action = WC_MAP_REMAP_ORIGIN;
}

void Cache::map_pmem_read(const wc_bio &bio, wc_map_result &res)
{
	if (!bio.nr_sectors) {
		res.action = WC_MAP_COMPLETE;
		return;
	}
	BlockId e = find_following(bio.sector);

	stats_.reads++;
	if (!e.is_nil() && entry(e).sector() == bio.sector) {
		// The blocks that follow this one in the mapping too are
		// copied at once; they count as if mapped one by one.  The
		// first call also says how far the cached run goes, from
		// where the adjacent blocks end.
		u32 blocks = adjacent_run(e, block_count(bio.nr_sectors), nullptr);
		u32 copy = blocks * block_sectors();

		res.action = WC_MAP_COPY_PMEM;
		res.accept_sectors = (bio.flags & WC_BIO_CONTINUED)
					     ? bio.nr_sectors
					     : copy + cached_run(bio.sector + copy, bio.nr_sectors - copy);
		res.pmem = pmem_data(e);
		stats_.reads += blocks - 1;
		stats_.read_hits += blocks;
		res.copy_sectors = copy;
		return;
	}
	read_miss(bio, e, res);
}

void Cache::map_pmem_write(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	BlockId e, replaces = BlockId::nil();

	if (!bio.nr_sectors) {
		// Every block is in the cache: FUA or a full batch commits.
		if ((bio.flags & WC_BIO_FUA) || uncommitted_blocks_ >= cfg.autocommit_blocks)
			commit_pmem();
		else
			events_ |= WC_EV_ARM_AUTOCOMMIT;
		res.action = error_ ? WC_MAP_ERROR : WC_MAP_COMPLETE;
		return;
	}
	if (error_) {
		stats_.writes += block_count(bio.nr_sectors);
		return;
	}
	bool only_cached = cleaner_ || (cfg.metadata_only && !(bio.flags & WC_BIO_META));

	e = find_exact(bio.sector);
	// cleaner and metadata_only promote only cached blocks: the copies
	// then cover the run of cached blocks, otherwise all of the bio.
	res.accept_sectors = (bio.flags & WC_BIO_CONTINUED) || !only_cached
				     ? bio.nr_sectors
				     : cached_run(bio.sector, bio.nr_sectors);
	if (!e.is_nil()) {
		if (!committed(e)) {
			stats_.write_hits_uncommitted++;
			goto copy;
		}
		// A committed block is never rewritten in place here: its
		// old data must stay valid until the new copy commits (I5).
		// One being written back stays in the index beside the new
		// copy until its writeback ends.
		stats_.write_hits_committed++;
		if (entry(e).write_in_progress())
			duplicates_ = true;
		else
			replaces = e;
	} else if (only_cached && !(bio.flags & WC_BIO_CONTINUED)) {
		// (An advanced bio cannot be remapped: a block that left the
		// cache while the caller waited for a free block is cached
		// again below instead.)
		res.accept_sectors = bio.nr_sectors;
		remap_origin(bio, find_following(bio.sector), res);
		stats_.writes_around += block_count(res.accept_sectors);
		stats_.writes += block_count(res.accept_sectors);
		return;
	}
	e = pop_from_freelist(any_block());
	if (e.is_nil()) {
		stats_.writes_blocked_on_freelist++;
		res.action = WC_MAP_WAIT_FREELIST;
		return;
	}
	cache_new_block(e, bio.sector, now_ms, replaces);
	stats_.writes_allocate++;
copy:
	stats_.writes++;
	res.action = WC_MAP_COPY_PMEM;
	res.pmem = pmem_data(e);
}

} // namespace wc
