// SPDX-License-Identifier: GPL-2.0
// The intrusive red-black tree against std::set, with the invariants
// checked after every operation.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "rbtree.h"

using namespace wc;

namespace {

struct BySeq {
	static bool less(const Entry *b, BlockId x, BlockId y)
	{
		return entry_at(b, x).seq() < entry_at(b, y).seq();
	}
};

class RbTreeTest : public ::testing::TestWithParam<int> {};

} // namespace

TEST_P(RbTreeTest, MatchesStdSet)
{
	constexpr u32 n = 600;
	std::vector<Entry> entries(n);
	std::mt19937_64 rng(GetParam());
	std::set<u64> keys;
	RbTree<BySeq> tree;
	std::vector<bool> in(n);

	for (u32 i = 0; i < n; i++)
		entries[i].set_seq(i * 7919ULL % 100003);	// unique, scrambled
	tree.init(entries.data());
	for (int step = 0; step < 6000; step++) {
		u32 i = rng() % n;

		if (in[i]) {
			tree.erase(BlockId(i));
			keys.erase(entries[i].seq());
		} else {
			tree.insert(BlockId(i));
			keys.insert(entries[i].seq());
		}
		in[i] = !in[i];
		ASSERT_GT(tree.validate(), 0) << "step " << step;
		ASSERT_EQ(tree.size(), keys.size());
		if (step % 97 == 0) {
			std::vector<u64> walk;
			for (BlockId e = tree.first(); !e.is_nil(); e = tree.next(e))
				walk.push_back(entries[e.index()].seq());
			ASSERT_EQ(walk, std::vector<u64>(keys.begin(), keys.end()));
			std::vector<u64> back;
			for (BlockId e = tree.last(); !e.is_nil(); e = tree.prev(e))
				back.push_back(entries[e.index()].seq());
			ASSERT_EQ(back, std::vector<u64>(keys.rbegin(), keys.rend()));
		}
	}
	// lower_bound agrees with the set
	for (int q = 0; q < 500; q++) {
		u64 key = rng() % 100003;
		BlockId e = tree.lower_bound(
			[&](BlockId x) { return entries[x.index()].seq() < key; });
		auto it = keys.lower_bound(key);
		if (it == keys.end())
			EXPECT_TRUE(e.is_nil());
		else
			EXPECT_EQ(entries[e.index()].seq(), *it);
	}
}

INSTANTIATE_TEST_SUITE_P(Seeds, RbTreeTest, ::testing::Values(1, 2, 3, 4, 5));

TEST(RbTree, EraseEverythingLeavesAnEmptyTree)
{
	std::vector<Entry> entries(64);
	RbTree<BySeq> tree;

	for (u32 i = 0; i < 64; i++)
		entries[i].set_seq(i);
	tree.init(entries.data());
	for (u32 i = 0; i < 64; i++)
		tree.insert(BlockId(i));
	for (u32 i = 0; i < 64; i += 2)
		tree.erase(BlockId(i));
	for (u32 i = 1; i < 64; i += 2)
		tree.erase(BlockId(i));
	EXPECT_TRUE(tree.empty());
	EXPECT_TRUE(tree.first().is_nil());
}

// replace() swaps a node for one with an equivalent key: the shape, the
// colors and the order stay, and the old node is out of the tree.
TEST(RbTree, ReplaceKeepsShapeAndOrder)
{
	constexpr u32 n = 400;
	std::vector<Entry> entries(2 * n);
	std::mt19937_64 rng(5);
	RbTree<BySeq> tree;
	std::vector<u32> slot(n);	// which of i, i + n holds key i

	for (u32 i = 0; i < n; i++) {
		entries[i].set_seq(10 * i);
		entries[i + n].set_seq(10 * i + 1);	// same place in the order
		slot[i] = i;
	}
	tree.init(entries.data());
	for (u32 i = 0; i < n; i++)
		tree.insert(BlockId(i));
	for (int step = 0; step < 3000; step++) {
		u32 k = rng() % n, old = slot[k], neu = old < n ? old + n : old - n;

		tree.replace(BlockId(old), BlockId(neu));
		slot[k] = neu;
		ASSERT_GT(tree.validate(), 0) << "step " << step;
		ASSERT_EQ(tree.size(), n);
		ASSERT_TRUE(entries[old].child[0].is_nil());
		ASSERT_TRUE(entries[old].child[1].is_nil());
	}
	std::vector<u32> walk, want;
	for (BlockId e = tree.first(); !e.is_nil(); e = tree.next(e))
		walk.push_back(e.index());
	for (u32 i = 0; i < n; i++)
		want.push_back(slot[i]);
	EXPECT_EQ(walk, want);
}
