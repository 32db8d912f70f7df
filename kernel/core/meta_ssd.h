// SPDX-License-Identifier: GPL-2.0
// SSD mode's metadata: the area is written in chunks, and a bitmap says
// which chunks changed since they were last written.
#pragma once

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

	// Entry i changed: its chunk must be written.
	void mark_entry(u32 i)
	{
		u64 chunk = disk::entry_offset(i) / kMetaChunkBytes;

		bits_[chunk / 64] |= 1ULL << (chunk % 64);
	}
	bool test(u64 chunk) const { return bits_[chunk / 64] & (1ULL << (chunk % 64)); }
	void clear(u64 chunk) { bits_[chunk / 64] &= ~(1ULL << (chunk % 64)); }

private:
	static u64 words(u64 metadata_bytes) { return (chunk_count(metadata_bytes) + 63) / 64 + 1; }

	u64 *bits_ = nullptr;
};

} // namespace wc
