// SPDX-License-Identifier: GPL-2.0
// Mapping a bio: what both modes share.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

void Cache::map(const wc_bio &bio, u64 now_ms, wc_map_result &res)
{
	res.action = WC_MAP_ERROR;
	res.flags = 0;
	res.accept_sectors = bio.nr_sectors;
	res.sector = bio.sector;
	res.pmem = nullptr;
	res.copy_sectors = block_sectors();

	// A refused load leaves the target suspended; should a bio come
	// anyway, it fails rather than read what the cache may hold from
	// the origin.
	if (load_refused_)
		return;
	if (bio.flags & WC_BIO_PREFLUSH) {
		(this->*mode_->map_flush)(bio, res);
		return;
	}
	if ((u32(bio.sector) | bio.nr_sectors) & (block_sectors() - 1)) {
		text::Message<128> m;

		m().str("I/O is not aligned, sector ").dec(bio.sector);
		m().str(", size ").dec(u64(bio.nr_sectors) << kSectorShift);
		m().str(", block size ").dec(cfg.block_size);
		wc_env_log(WC_LOG_ERR, m.c_str());
		return;
	}
	(this->*mode_->map_bio)(bio, now_ms, res);

	if (res.action == WC_MAP_REMAP_ORIGIN && cfg.pause_ms &&
	    (bio.flags & WC_BIO_WRITE) && !(bio.flags & WC_BIO_DISCARD))
		res.flags |= WC_MAPF_ORIGIN_WRITE;
}

void Cache::remap_origin(const wc_bio &bio, BlockId following, wc_map_result &res)
{
	res.action = WC_MAP_REMAP_ORIGIN;
	res.sector = bio.sector;
	if (!following.is_nil()) {
		u64 boundary = entry(following).sector() - bio.sector;

		if (boundary < bio.nr_sectors)
			res.accept_sectors = u32(boundary);
	}
}

// A read that starts at an uncached block goes to the origin, up to the
// next cached block; in-tree counts the blocks after the first here.
void Cache::read_miss(const wc_bio &bio, BlockId following, wc_map_result &res)
{
	remap_origin(bio, following, res);
	stats_.reads += block_count(res.accept_sectors) - 1;
}

// Blocks from cached block `e` on, at most max_blocks, that follow each
// other both on the origin and in the cache area (read with one bio or one
// copy).  *uncommitted (if given) is set when one of them is uncommitted.
u32 Cache::adjacent_run(BlockId e, u32 max_blocks, bool *uncommitted) const
{
	u64 sector = entry(e).sector();
	u32 blocks = 1;

	if (uncommitted)
		*uncommitted = !committed(e);
	for (BlockId prev = e; blocks < max_blocks; blocks++) {
		BlockId f = find_exact(sector + u64(blocks) * block_sectors());

		if (f != prev.successor())
			break;
		if (uncommitted && !committed(f))
			*uncommitted = true;
		prev = f;
	}
	return blocks;
}

// Sectors from `sector` on, at most nr_sectors, whose blocks are all cached.
u32 Cache::cached_run(u64 sector, u32 nr_sectors) const
{
	u32 run = 0;

	while (run < nr_sectors && !find_exact(sector + run).is_nil())
		run += block_sectors();
	return run;
}

} // namespace wc
