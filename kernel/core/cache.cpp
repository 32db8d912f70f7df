// SPDX-License-Identifier: GPL-2.0
// Construction: the geometry, the superblock check, the allocations.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

Cache::~Cache()
{
	env_free_array(entries_);
}

int Cache::ssd_geometry(const char **error)
{
	u64 n, meta;
	int r;

	area_bytes_ -= cfg.start_sector << kSectorShift;
	r = calculate_layout(area_bytes_, cfg.block_size, &n, &meta);
	if (r) {
		*error = "Invalid device size";
		return r;
	}
	n_blocks_ = n;
	metadata_bytes_ = meta;
	return 0;
}

const Cache::Mode Cache::kSsdMode = {
	&Cache::map_ssd_flush,
	&Cache::map_ssd_bio,
	&Cache::step_ssd,
	&Cache::read_superblock_ssd,
	&Cache::mark_entry_dirty,
	&Cache::mark_entry_dirty,
	Freelist::Order::kByPosition,
	true,
};

const Cache::Mode Cache::kPmemMode = {
	&Cache::map_pmem_flush,
	&Cache::map_pmem_bio,
	&Cache::step_pmem,
	&Cache::read_superblock_pmem,
	&Cache::store_entry_pmem,
	&Cache::store_seq_pmem,
	Freelist::Order::kFifo,
	false,
};

// Called once the table is parsed, in both modes (with no mapping yet in
// SSD mode): the mode is known from here on.
void Cache::set_pmem(void *base, u64 bytes)
{
	mode_ = cfg.pmem ? &kPmemMode : &kSsdMode;
	pmem_.set(base);
	area_bytes_ = bytes;
}

int Cache::check_superblock(const void *first_block, int *need_format,
			    const char **error)
{
	disk::Superblock s;
	u64 n, offset;
	int r;

	*need_format = 0;
	if (first_block) {
		mem_copy(&s, first_block, sizeof(s));
	} else {
		r = (this->*mode_->read_superblock)(&s, error);
		if (r)
			return r;
	}
	if (superblock_blank(s)) {
		*need_format = 1;
		return 0;
	}
	r = check_superblock_geometry(s, cfg.block_size, area_bytes_, &n, &offset, error);
	if (r)
		return r;

	sb_ = s;
	n_blocks_ = n;
	metadata_bytes_ = offset;

	free_.set_watermarks(n, cfg.high_wm, cfg.low_wm);
	if (cfg.cleaner) {
		flush_on_suspend_ = true;
		cleaner_ = true;
		free_.set_cleaner(n_blocks_);
	}

	entries_ = env_alloc_array<Entry>(entry_slots(n_blocks_));
	bool dirty_ok = dirty_.alloc(metadata_bytes_);

	if (!entries_ || !dirty_ok) {
		*error = "Cannot allocate memory";
		return -WC_ENOMEM;
	}
	reset_containers();
	return 0;
}

u64 Cache::ram_bytes(u64 n_blocks, u64 metadata_bytes)
{
	return entry_table_bytes(n_blocks) + DirtyChunks::ram_bytes(metadata_bytes);
}

} // namespace wc
