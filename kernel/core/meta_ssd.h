// SPDX-License-Identifier: GPL-2.0
// SSD mode's metadata: the area is written in chunks, and a bitmap says
// which chunks changed since they were last written.
//
// Persistence invariants, kept by meta_ssd.cpp (with the lock the caller
// holds across each program, see program.cpp):
//  I1. A block's data is durable on the cache device before any on-disk
//      entry that maps it becomes committed: commit writes the entries,
//      waits for the remapped data writes, flushes the cache device, and
//      only then writes the superblock's new seq_count with FUA.  (PMEM
//      mode: commit_pmem fences before it stores seq_count.)
//  I2. A cache block is reused only after the on-disk entry that mapped it
//      says "free" durably: freeing marks the entry's metadata dirty and the
//      same locked section writes and flushes it before any allocation can
//      run.  (PMEM mode: the freeing code fences before it returns.)
//      Debug builds check that no block is allocated while a free is not
//      durable yet (pop_from_freelist).
//  I4. Once the error state is latched, no metadata is written again: a
//      failing device must not turn a transient error into lost entries.
//      Every metadata write goes through meta_write (SSD) or pmem_store
//      (PMEM); debug builds check the latch there.
#pragma once

#include "block_id.h"
#include "memory.h"
#include "ondisk.h"

namespace wc {

// The metadata area is written in chunks of this size; a dirty bit per chunk.
constexpr u32 kMetaChunkBytes = 4096;

class DirtyChunks {
public:
	DirtyChunks() = default;
	~DirtyChunks() { env_free_array(bits_); }
	DirtyChunks(const DirtyChunks &) = delete;
	DirtyChunks &operator=(const DirtyChunks &) = delete;

	static u64 chunk_count(u64 metadata_bytes)
	{
		return (metadata_bytes + kMetaChunkBytes - 1) / kMetaChunkBytes;
	}
	// What alloc() takes: a bit per chunk, and a guard word.
	static u64 ram_bytes(u64 metadata_bytes)
	{
		return env_array_bytes<u64>(words(metadata_bytes));
	}
	bool alloc(u64 metadata_bytes)
	{
		bits_ = env_alloc_array<u64>(words(metadata_bytes));
		return bits_;
	}
	void clear_all(u64 chunks) { mem_set(bits_, 0, (chunks + 63) / 64 * sizeof(u64)); }

	// Block i's entry changed: its chunk must be written.
	void mark_entry(BlockId i)
	{
		u64 chunk = disk::entry_offset(i.index()) / kMetaChunkBytes;

		bits_[chunk / 64] |= 1ULL << (chunk % 64);
	}
	bool test(u64 chunk) const { return bits_[chunk / 64] & (1ULL << (chunk % 64)); }
	void clear(u64 chunk) { bits_[chunk / 64] &= ~(1ULL << (chunk % 64)); }

private:
	static u64 words(u64 metadata_bytes) { return (chunk_count(metadata_bytes) + 63) / 64 + 1; }

	u64 *bits_ = nullptr;
};

} // namespace wc
