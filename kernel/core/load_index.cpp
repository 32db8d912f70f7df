// SPDX-License-Identifier: GPL-2.0
// Loading: the entries as the metadata says, then the containers built
// in bulk.
//
// In-tree looks up and inserts every committed entry into the index, two
// searches from the root each, and adds every free block to the free
// tree one by one: O(n log n) with a cache miss per level.  Here the load
// first only decodes each entry (load_entry), and then builds everything
// at once (load_build):
//  1. the committed entries, as (origin block, position) words, are
//     radix-sorted, stably, so entries of one sector keep position order
//     (not at all when they are in that order already, as a sequential
//     fill leaves them; all digits counted in one sweep otherwise);
//  2. each sector's entries are resolved in that order exactly as an
//     insert in position order would: the highest seq wins, a tie is an
//     error and the later one wins, the losers are freed;
//  3. the index is built balanced from the sorted winners, in O(n);
//  4. the LRU takes the winners in position order, the newest in front,
//     as inserts in position order leave it;
//  5. the free blocks are loaded in position order (the SSD free tree in
//     O(n) too), in the same walk as 4.
// load_entry counts the committed entries and their range as it decodes
// them, so that the build reads the entries three times: for the sort's
// words, for the index (through the words), and for the lists.
// The sort needs two arrays of one word per committed entry.  They live
// in the entries' own link words, which nothing uses before the
// containers are built: the load allocates nothing.
#include "cache.h"
#include "debug.h"
#include "radix_sort.h"
#include "../include/wc_env.h"

namespace wc {

namespace {

// Element k of a scratch array is in entry k's list links (kListLinks) or
// tree links (kTreeLinks), two block-id words each.
class LinkWords {
public:
	enum Which { kListLinks, kTreeLinks };

	LinkWords(Entry *base, Which which) : base_(base), which_(which) {}

	u64 get(u64 k) const
	{
		const BlockId *w = words(k);

		return w[0].index() | (u64(w[1].index()) << 32);
	}
	void set(u64 k, u64 v)
	{
		set_pair(words(k), BlockId(u32(v)), BlockId(u32(v >> 32)));
	}

private:
	BlockId (&words(u64 k) const)[2]
	{
		Entry &e = base_[k];

		return which_ == kListLinks ? e.lru : e.child;
	}

	Entry *base_;
	Which which_;
};

// The bits needed to write v (0 for 0).
u32 bits_for(u64 v)
{
	u32 n = 0;

	while (n < 64 && (v >> n))
		n++;
	return n;
}

} // namespace

// Entry i as the metadata says; the containers are built by load_build.
// A free entry, or one written after the last commit, is free (the
// latter's free is written: it must not come back after a commit).  A
// committed one is kCached until load_build resolves it.
void Cache::load_entry(BlockId i, u64 sector, u64 seq)
{
	Entry &e = entry(i);

	e = Entry();
	e.set_sector(sector >= Entry::kMaxSector ? Entry::kNoSector : sector);
	e.set_seq(seq);
	if (!(seq < seq_count_)) {
		if (seq != disk::kFreeSeq)
			load_drop(i);
		else
			e.set_state(Entry::State::kFree);
		return;
	}
	// A committed entry names a block-aligned origin sector (every bio
	// is aligned); one that does not is damaged, and would make the
	// aligned bios around it fail.
	if (sector >= Entry::kMaxSector || (sector & (block_sectors() - 1))) {
		text::Message<128> m;

		m().str("entry ").dec(i.index()).str(" has an invalid sector ").dec(sector);
		set_error(-WC_EINVAL, m.c_str());
		e.set_seq(disk::kFreeSeq);
		e.set_state(Entry::State::kFree);
		return;
	}
	e.set_state(Entry::State::kCached);
	load_stats_.cached++;
	load_stats_.lo = min(load_stats_.lo, sector);
	load_stats_.hi = max(load_stats_.hi, sector);
}

// An entry the load does not keep: one written after the last commit, or
// a committed one that an entry of the same sector supersedes.  Its free
// is written (it must not come back after a commit).
void Cache::load_drop(BlockId i)
{
	entry(i).set_seq(disk::kFreeSeq);
	entry(i).set_state(Entry::State::kFree);
	entry_freed(i);
}

void Cache::load_build()
{
	const u32 block_to_sector = cfg.block_shift - kSectorShift;
	const u64 n = load_stats_.cached, lo = load_stats_.lo, hi = load_stats_.hi;

	// 1. (origin block - lowest, position) packed in one word when both
	// fit in 64 bits, as they do unless the origin is huge and the
	// blocks small; the word is then the position alone, the key read
	// from the entry (slower: a cache miss per word and pass).
	const u32 id_bits = bits_for(n_blocks_ ? n_blocks_ - 1 : 0);
	const u32 key_bits = n ? bits_for((hi - lo) >> block_to_sector) : 0;
	const bool packed = key_bits + id_bits <= 64;
	const u64 id_mask = (1ULL << id_bits) - 1;
	LinkWords a(entries_, LinkWords::kListLinks);
	LinkWords b(entries_, LinkWords::kTreeLinks);
	auto id_of = [&](u64 w) { return BlockId(u32(packed ? w & id_mask : w)); };
	auto key = [&](u64 w) {
		return packed ? w >> id_bits
			      : (entry(BlockId(u32(w))).sector() - lo) >> block_to_sector;
	};
	u64 k = 0, last_key = 0;
	bool sorted = true;

	for (u64 p = 0; p < n_blocks_; p++) {
		const Entry &e = entry(BlockId(u32(p)));

		if (e.state() != Entry::State::kCached)
			continue;
		const u64 w = packed ? (((e.sector() - lo) >> block_to_sector) << id_bits) | p : p;
		const u64 this_key = key(w);

		a.set(k++, w);
		sorted = sorted && this_key >= last_key;
		last_key = this_key;
	}
	WC_DEBUG_CHECK(k == n, "load_build: load_entry's count of committed entries is wrong");
	// Entries already in key order by position (a sequential fill, say)
	// are what the stable sort would return: it is skipped.
	if (!sorted)
		radix_sort(a, b, n, key_bits, key, radix_counts_);

	// 2. Each sector's entries in position order, as inserts would meet
	// them; the winners go to the front of a.
	u64 winners = 0;

	for (k = 0; k < n;) {
		u64 first = a.get(k);
		BlockId best = id_of(first);

		for (k++; k < n && key(a.get(k)) == key(first); k++) {
			BlockId m = id_of(a.get(k));

			if (entry(best).seq() == entry(m).seq()) {
				text::Message<160> msg;

				msg().str("two identical entries, position ").dec(m.index());
				msg().str(", sector ").dec(entry(m).sector());
				msg().str(", sequence ").dec(entry(m).seq());
				set_error(-WC_EINVAL, msg.c_str());
			}
			if (entry(best).seq() > entry(m).seq()) {
				load_drop(m);
			} else {
				load_drop(best);
				best = m;
			}
		}
		a.set(winners++, best.index());
		if (!(winners & 0xffff))
			wc_env_yield();
	}

	// 3. The index, from the tree links (b is no longer needed); a is
	// read from the list links.
	k = 0;
	index_.build(winners, [&] { return BlockId(u32(a.get(k++))); });

	// 4 and 5 in one walk over the positions: the LRU over the list
	// links (a is no longer needed) takes the cached blocks, the free
	// list the free ones, both in position order (the free tree's build
	// asks for its blocks in that order).
	const u16 age = age_stamp(prog_.arg1);
	u64 p = 0;
	auto take_cached = [&](BlockId i) {
		lru_.push_front(i);
		entry(i).set_age(age);
	};

	free_.load_sorted(n_blocks_ - winners, [&] {
		for (;; p++) {
			BlockId i = BlockId(u32(p));
			Entry::State st = entry(i).state();

			if (st == Entry::State::kFree)
				break;
			if (st == Entry::State::kCached)
				take_cached(i);
		}
		return BlockId(u32(p++));
	});
	for (; p < n_blocks_; p++)
		if (entry(BlockId(u32(p))).state() == Entry::State::kCached)
			take_cached(BlockId(u32(p)));
}

} // namespace wc
