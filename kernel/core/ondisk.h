// SPDX-License-Identifier: GPL-2.0
// The on-disk format, identical to the in-tree dm-writecache (version 1).
//
// All fields are little-endian.  A superblock of 64 bytes is followed by one
// 16-byte entry per cache block; the data blocks start at the next multiple
// of the block size.  An entry whose seq_count is all ones is free; an entry
// is committed when its seq_count is lower than the superblock's.
#pragma once

#include "types.h"

namespace wc::disk {

constexpr u32 kMagic = 0x23489321;
constexpr u32 kVersion = 1;
constexpr u64 kFreeSeq = ~0ULL;
constexpr u64 kFreeSector = ~0ULL;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "the core stores the little-endian format natively");

struct Superblock {
	u32 magic;
	u32 version;
	u32 block_size;
	u32 pad;
	u64 n_blocks;
	u64 seq_count;
	u64 padding[4];
};

struct Entry {
	u64 original_sector;
	u64 seq_count;
};

static_assert(sizeof(Superblock) == 64);
static_assert(__builtin_offsetof(Superblock, magic) == 0);
static_assert(__builtin_offsetof(Superblock, version) == 4);
static_assert(__builtin_offsetof(Superblock, block_size) == 8);
static_assert(__builtin_offsetof(Superblock, pad) == 12);
static_assert(__builtin_offsetof(Superblock, n_blocks) == 16);
static_assert(__builtin_offsetof(Superblock, seq_count) == 24);
static_assert(sizeof(Entry) == 16);
static_assert(__builtin_offsetof(Entry, original_sector) == 0);
static_assert(__builtin_offsetof(Entry, seq_count) == 8);

constexpr u64 kEntriesOffset = sizeof(Superblock);

// Byte offset of entry `i` from the start of the cache area.
constexpr u64 entry_offset(u64 i) { return kEntriesOffset + i * sizeof(Entry); }

} // namespace wc::disk
