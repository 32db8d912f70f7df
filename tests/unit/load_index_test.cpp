// SPDX-License-Identifier: GPL-2.0
// The load's bulk build (kernel/core/load_index.cpp) against what inserts
// in position order give, worked out here independently: random metadata
// images with free, uncommitted and committed entries, several committed
// entries per sector and ties, in both modes and both block sizes, and
// with sectors far apart (the sort's unpacked path).  Also the pieces:
// the radix sort against std::stable_sort, and the tree built from a
// sorted sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "model_helpers.h"
#include "ondisk.h"
#include "radix_sort.h"
#include "rbtree.h"
#include "sim_pmem.h"

using namespace wc;
using namespace wc::test;

namespace {

struct VectorArray {
	std::vector<u64> v;
	u64 get(u64 k) const { return v[k]; }
	void set(u64 k, u64 w) { v[k] = w; }
};

struct ByIndex {
	static bool less(const Entry *, BlockId a, BlockId b) { return a.index() < b.index(); }
};

} // namespace

TEST(RadixSort, IsAStableSortByTheKey)
{
	std::mt19937_64 rng(7);
	u32 counts[kRadixPasses][kRadixBuckets];

	for (u32 key_bits : {0u, 1u, 7u, 8u, 9u, 20u, 33u, 56u}) {
		for (u64 n : {0ULL, 1ULL, 2ULL, 255ULL, 4097ULL}) {
			SCOPED_TRACE(testing::Message() << key_bits << " bits, " << n << " words");
			VectorArray a, b;
			const u64 mask = key_bits ? ~0ULL >> (64 - key_bits) : 0;

			// key in the high bits, the original position below: the
			// sort must keep positions ascending within a key
			for (u64 k = 0; k < n; k++) {
				u64 key = rng() & mask;

				if (rng() % 4 == 0 && k)
					key = a.v[rng() % k] >> 16;	// repeat a key
				a.v.push_back(key << 16 | k);
			}
			b.v.resize(n);
			std::vector<u64> want = a.v;
			auto key = [](u64 w) { return w >> 16; };
			std::stable_sort(want.begin(), want.end(),
					 [&](u64 x, u64 y) { return key(x) < key(y); });
			radix_sort(a, b, n, key_bits, key, counts);
			EXPECT_EQ(a.v, want);
		}
	}
}

TEST(RbTree, BuildFromASortedSequenceIsBalancedAndWorksOn)
{
	std::mt19937_64 rng(3);

	for (u32 n = 0; n < 1100; n += (n < 70 ? 1 : 37)) {
		SCOPED_TRACE(n);
		std::vector<Entry> entries(n + 1);
		RbTree<ByIndex> tree;
		u32 next = 0;

		tree.init(entries.data());
		tree.build(n, [&] { return BlockId(next++); });
		ASSERT_EQ(next, n);
		ASSERT_GT(tree.validate(), 0);
		ASSERT_EQ(tree.size(), n);
		u32 want = 0;
		for (BlockId e = tree.first(); !e.is_nil(); e = tree.next(e))
			ASSERT_EQ(e.index(), want++);
		ASSERT_EQ(want, n);
		// The height is the least possible: at most 2 log2(n+1) for a
		// red-black tree, here the black height is log2(n+1) rounded.
		u32 levels = 0;
		while ((u64(n) + 1) > (1ULL << levels))
			levels++;
		EXPECT_LE(u32(tree.validate()), levels + 1);
		// Inserts and erases go on as on any tree.
		for (int step = 0; step < 50 && n; step++) {
			u32 i = rng() % n;

			tree.erase(BlockId(i));
			ASSERT_GT(tree.validate(), 0);
			tree.insert(BlockId(i));
			ASSERT_GT(tree.validate(), 0);
		}
		tree.insert(BlockId(n));
		ASSERT_GT(tree.validate(), 0);
		ASSERT_EQ(tree.last(), BlockId(n));
	}
}

namespace {

struct LoadCase {
	bool pmem;
	unsigned block_size;
	bool far_sectors;	// some sectors near 2^55: unpacked sort words
};

class BulkLoad : public ::testing::TestWithParam<LoadCase> {};

constexpr uint64_t kOriginSectors = 64 * 1024;	// 32 MiB
constexpr uint64_t kCacheBytes = 4 * 1024 * 1024;

template <typename T>
void put(uint8_t *p, uint64_t off, T v)
{
	memcpy(p + off, &v, sizeof(v));
}

} // namespace

TEST_P(BulkLoad, MatchesInsertsInPositionOrder)
{
	const LoadCase c = GetParam();
	const uint32_t bsec = c.block_size / 512;
	model::SimDevice origin(kOriginSectors), cache(kCacheBytes / 512);
	model::SimPmem pm(kCacheBytes);
	const std::vector<std::string> table = {c.pmem ? "p" : "s", "o", "c",
						std::to_string(c.block_size), "0"};
	std::string err;
	uint64_t n, data_start;
	{
		model::Model f(origin, cache, c.pmem ? &pm : nullptr);
		ASSERT_EQ(f.create(table, &err), 0) << err;
		n = wc_core_n_blocks(f.core());
		data_start = wc_core_metadata_sectors(f.core()) * 512;
		f.suspend();
	}
	ASSERT_GE(n, 512u);

	// Seeds 5 and 6: sectors in position order (the load's sort is
	// skipped), with runs of equal ones.
	for (int seed = 1; seed <= 6; seed++) {
		SCOPED_TRACE(testing::Message() << "seed " << seed);
		std::mt19937_64 rng(seed);
		const bool in_order = seed > 4;
		std::vector<uint8_t> img = c.pmem ? std::vector<uint8_t>(pm.data(), pm.data() + kCacheBytes)
						  : cache.current();
		// Odd seeds: seqs from a small range, so that ties occur (the
		// load is then in the error state); even seeds: all distinct.
		const uint64_t seq_count = 1 << 20;
		std::vector<uint64_t> perm(n);
		for (uint64_t i = 0; i < n; i++)
			perm[i] = i;
		std::shuffle(perm.begin(), perm.end(), rng);
		put<uint64_t>(img.data(), 24, seq_count);
		// Few distinct sectors, so that many entries share one.
		const uint64_t sectors = n / 3;
		struct Winner {
			uint64_t block, seq;
			bool tie;
		};
		std::map<uint64_t, Winner> winner;
		bool tie = false;

		for (uint64_t i = 0; i < n; i++) {
			uint64_t sector = (in_order ? i / 3 : rng() % sectors) * bsec, seq;
			int kind = rng() % 10;

			if (c.far_sectors && !in_order && rng() % 8 == 0)
				sector = (1ULL << 55) - (rng() % 1000 + 1) * bsec;
			if (kind < 3)
				seq = ~0ULL;				// free
			else if (kind < 4)
				seq = seq_count + rng() % 5;		// uncommitted
			else
				seq = seed % 2 ? rng() % 40 : perm[i];	// committed
			put<uint64_t>(img.data(), disk::entry_offset(i), sector);
			put<uint64_t>(img.data(), disk::entry_offset(i) + 8, seq);
			// each block's data names its block
			put<uint64_t>(img.data(), data_start + i * c.block_size, i + 1);
			if (seq >= seq_count)
				continue;
			auto it = winner.find(sector);
			if (it == winner.end() || it->second.seq < seq) {
				winner[sector] = {i, seq, false};
			} else if (it->second.seq == seq) {
				it->second.block = i;	// the later one wins a tie
				tie = true;
			}
		}
		if (c.pmem)
			pm.load_image(img);
		else
			cache.load_image(img);

		model::clear_log();
		model::Model m(origin, cache, c.pmem ? &pm : nullptr);
		m.format_blank = false;
		ASSERT_EQ(m.create(table, &err), 0) << err;
		ASSERT_TRUE(wc_core_validate(m.core()));
		auto st = status_fields(m.status());
		EXPECT_EQ(st[WC_STATUS_ERROR], tie ? 1u : 0u);
		EXPECT_EQ(st[WC_STATUS_FREE], n - winner.size());

		std::vector<bool> wins(n);
		for (auto &[sector, w] : winner)
			wins[w.block] = true;
		for (uint64_t i = 0; i < n; i++) {
			unsigned long long sector, seq;
			int s = wc_core_block_state(m.core(), wc_block{uint32_t(i)}, &sector, &seq);

			ASSERT_EQ(s, wins[i] ? 2 : 0) << "block " << i;
			if (wins[i]) {
				ASSERT_EQ(winner.at(sector).block, i);
			}
		}
		// Every winner in the origin reads its block; then the
		// cleaner writes them all back (they are all on the LRU).
		std::vector<uint8_t> out;
		for (auto &[sector, w] : winner) {
			if (sector >= kOriginSectors)
				continue;
			ASSERT_EQ(m.read(sector, bsec, &out), 0);
			uint64_t v;
			memcpy(&v, out.data(), 8);
			ASSERT_EQ(v, w.block + 1) << "sector " << sector;
		}
		if (tie || c.far_sectors) {
			m.suspend();
			continue;	// in the error state nothing is written back;
					// far sectors are beyond the origin
		}
		ASSERT_EQ(m.message({"cleaner"}), 0);
		m.drain();
		st = status_fields(m.status());
		EXPECT_EQ(st[WC_STATUS_FREE], n);
		for (auto &[sector, w] : winner) {
			uint64_t v;
			std::vector<uint8_t> sec(512);
			origin.read(sector, sec.data(), 1);
			memcpy(&v, sec.data(), 8);
			ASSERT_EQ(v, w.block + 1) << "sector " << sector;
		}
		m.suspend();
	}
}

INSTANTIATE_TEST_SUITE_P(
	Modes, BulkLoad,
	::testing::Values(LoadCase{false, 4096, false}, LoadCase{false, 512, false},
			  LoadCase{true, 4096, false}, LoadCase{true, 512, false},
			  LoadCase{false, 512, true}, LoadCase{true, 512, true}),
	[](const auto &info) {
		return std::string(info.param.pmem ? "p" : "s") +
		       std::to_string(info.param.block_size) +
		       (info.param.far_sectors ? "_far" : "");
	});
