// SPDX-License-Identifier: GPL-2.0
// BlockId: what converts to it and what does not (the point of the type),
// and that it stays one word in the Entry.
#include <gtest/gtest.h>

#include <type_traits>

#include "entry.h"

using namespace wc;

// Only an explicit construction makes a block id: a sector (u64) or a
// count (u32) passed where a block is meant does not compile.
static_assert(std::is_constructible_v<BlockId, u32>);
static_assert(!std::is_convertible_v<u32, BlockId>);
static_assert(!std::is_convertible_v<u64, BlockId>);
static_assert(!std::is_convertible_v<BlockId, u32>);
static_assert(!std::is_convertible_v<BlockId, u64>);
static_assert(std::is_trivially_copyable_v<BlockId>);
static_assert(sizeof(BlockId) == sizeof(u32));
static_assert(sizeof(Entry) == 32);

TEST(BlockId, NilAndIndex)
{
	constexpr BlockId b(7);

	static_assert(b.index() == 7 && !b.is_nil());
	static_assert(BlockId().is_nil() && BlockId::nil() == BlockId::nil());
	EXPECT_EQ(b, BlockId(7));
	EXPECT_NE(b, BlockId::nil());
	EXPECT_EQ(b.successor(), BlockId(8));
	EXPECT_NE(BlockId::reserved(), BlockId::nil());
	EXPECT_EQ(u64(BlockId::reserved().index()), kMaxBlocks);
}

TEST(BlockId, NewEntryIsUnlinked)
{
	Entry e;

	EXPECT_TRUE(e.lru[0].is_nil() && e.lru[1].is_nil());
	EXPECT_TRUE(e.child[0].is_nil() && e.child[1].is_nil());
}
