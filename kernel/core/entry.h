// SPDX-License-Identifier: GPL-2.0
// The in-memory state of one cache block, 32 bytes for everything.
//
// Entries live in one array indexed by cache block.  An entry is free (in
// the free tree, SSD, or the free list, PMEM), cached (in the index and the
// LRU list), under writeback (in the index and on writeback's lists) or,
// in PMEM mode, superseded (on the superseded list only).  The links are
// block ids (block_id.h, 32 bits each), so the containers cost no memory
// of their own: the tree links are rbtree.h's, the list links list.h's.
#pragma once

#include "block_id.h"
#include "types.h"

namespace wc {

class Entry {
public:
	// Origin sectors are kept in 56 bits; the on-disk "no sector" value of
	// all ones round-trips through kNoSector.
	static constexpr u64 kSectorBits = 56;
	static constexpr u64 kSectorMask = (1ULL << kSectorBits) - 1;
	static constexpr u64 kNoSector = kSectorMask;

	u64 sector() const { return bits_ & kSectorMask; }
	void set_sector(u64 s) { bits_ = (bits_ & ~kSectorMask) | (s & kSectorMask); }
	// Sectors at or beyond this cannot be cached (refused when loading).
	static constexpr u64 kMaxSector = kNoSector;

	u64 disk_sector() const { return sector() == kNoSector ? ~0ULL : sector(); }

	bool red() const { return bits_ & kRed; }
	void set_red(bool r) { bits_ = r ? (bits_ | kRed) : (bits_ & ~kRed); }

	// Which containers the block is in; a new Entry is kCached until it
	// is put somewhere.  Two bits beside the sector.
	enum class State : u8 { kCached, kFree, kWriteback, kSuperseded };
	State state() const { return State((bits_ >> kStateShift) & 3); }
	void set_state(State s)
	{
		bits_ = (bits_ & ~(3ULL << kStateShift)) | (u64(s) << kStateShift);
	}
	bool is_free() const { return state() == State::kFree; }
	bool write_in_progress() const { return state() == State::kWriteback; }

	// The commit sequence number in 48 bits (2^48 commits outlast any
	// device; larger on-disk values are refused), with all ones meaning
	// free, and beside it a 16-bit age stamp for max_age.
	static constexpr u64 kSeqBits = 48;
	static constexpr u64 kSeqMask = (1ULL << kSeqBits) - 1;
	static constexpr u64 kFreeSeq = kSeqMask;
	// Any on-disk value at or above kFreeSeq becomes "free".
	void set_seq(u64 s) { seq_age_ = (seq_age_ & ~kSeqMask) | (s >= kSeqMask ? kSeqMask : s); }
	u64 seq() const { return seq_age_ & kSeqMask; }
	u64 disk_seq() const { return seq() == kFreeSeq ? ~0ULL : seq(); }
	u16 age() const { return u16(seq_age_ >> kSeqBits); }
	void set_age(u16 a) { seq_age_ = (seq_age_ & kSeqMask) | (u64(a) << kSeqBits); }

	// Nil while unlinked, as a new BlockId is.
	BlockId lru[2];		// list links (list.h)
	BlockId child[2];	// tree links (index or free tree)

private:
	static constexpr u64 kRed = 1ULL << 63;
	static constexpr u32 kStateShift = 61;
	static_assert(kStateShift >= kSectorBits && kStateShift + 2 <= 63);
	u64 bits_ = 0;
	u64 seq_age_ = 0;
};

static_assert(sizeof(Entry) == 32, "the per-block memory budget is 32 bytes");

// Block i's entry in the array at base: the one place where a block id
// becomes an array index (the containers and Cache::entry go through it).
inline Entry &entry_at(Entry *base, BlockId i) { return base[i.index()]; }
inline const Entry &entry_at(const Entry *base, BlockId i) { return base[i.index()]; }

// Sets both words of a link pair (Entry::lru or Entry::child).  The values
// are taken before either word is written, so the compiler stores the pair
// as one 64-bit word, as it did when the links were plain u32s: it merges
// no class-typed copies written one by one or chained (a = b = nil).
inline void set_pair(BlockId (&pair)[2], BlockId first, BlockId second)
{
	pair[0] = first;
	pair[1] = second;
}

} // namespace wc
