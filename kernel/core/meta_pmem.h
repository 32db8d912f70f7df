// SPDX-License-Identifier: GPL-2.0
// PMEM mode's metadata lives in the mapping, in the on-disk format: the
// superblock and the entries, then the blocks.  Stores to it are durable
// at the next fence.
//
// Persistence invariant, kept by meta_pmem.cpp with map_pmem_write and
// insert_entry:
//  I5. A committed block is never rewritten in place.  Its new copy takes
//      its place in the index and the LRU at once; the old block leaves
//      both for the superseded list but stays allocated, and its entry
//      stays valid on the media, until the commit that makes the new copy
//      durable has been fenced.  Only then is it freed (commit_pmem).
//      A power loss before that finds the old copy, committed, and drops
//      the new uncommitted one.
#pragma once

#include "block_id.h"
#include "ondisk.h"

namespace wc {

class PmemMap {
public:
	void set(void *base) { base_ = static_cast<u8 *>(base); }
	u8 *base() const { return base_; }
	disk::Superblock *superblock() const
	{
		return reinterpret_cast<disk::Superblock *>(base_);
	}
	disk::Entry *entry(BlockId i) const
	{
		return reinterpret_cast<disk::Entry *>(base_ + disk::entry_offset(i.index()));
	}
	u8 *block(BlockId i, u64 metadata_bytes, u32 block_shift) const
	{
		return base_ + metadata_bytes + (u64(i.index()) << block_shift);
	}

private:
	u8 *base_ = nullptr;
};

} // namespace wc
