// SPDX-License-Identifier: GPL-2.0
// Number parsing must accept and refuse exactly what the kernel's
// sscanf("%u%c") does, since the table line is parsed with it in-tree.
#include <gtest/gtest.h>

#include "text.h"

using namespace wc;

TEST(Scan, U32AcceptsPlainDecimal)
{
	u32 v = 0;
	EXPECT_TRUE(text::scan_u32("4096", &v));
	EXPECT_EQ(v, 4096u);
	EXPECT_TRUE(text::scan_u32("0", &v));
	EXPECT_EQ(v, 0u);
}

TEST(Scan, U32RefusesTrailingAndSigns)
{
	u32 v;
	EXPECT_FALSE(text::scan_u32("12x", &v));
	EXPECT_FALSE(text::scan_u32("", &v));
	EXPECT_FALSE(text::scan_u32("-1", &v));
	EXPECT_FALSE(text::scan_u32("+1", &v));
	EXPECT_FALSE(text::scan_u32("0x10", &v));
	EXPECT_FALSE(text::scan_u32(nullptr, &v));
}

TEST(Scan, U32SkipsLeadingSpaceAndWrapsLikeTheKernel)
{
	u32 v;
	EXPECT_TRUE(text::scan_u32("  7", &v));
	EXPECT_EQ(v, 7u);
	// simple_strntoull() wraps modulo 2^64, the store truncates to 32 bits
	EXPECT_TRUE(text::scan_u32("4294967297", &v));
	EXPECT_EQ(v, 1u);
}

TEST(Scan, I32TakesMinus)
{
	i32 v;
	EXPECT_TRUE(text::scan_i32("-5", &v));
	EXPECT_EQ(v, -5);
	EXPECT_FALSE(text::scan_i32("--5", &v));
	EXPECT_FALSE(text::scan_i32("-", &v));
}

TEST(Scan, U64)
{
	u64 v;
	EXPECT_TRUE(text::scan_u64("18446744073709551615", &v));
	EXPECT_EQ(v, ~0ULL);
	EXPECT_TRUE(text::scan_u64("18446744073709551617", &v));
	EXPECT_EQ(v, 1ULL);
}

TEST(Text, EqualNocase)
{
	EXPECT_TRUE(text::equal_nocase("Start_Sector", "start_sector"));
	EXPECT_FALSE(text::equal_nocase("start", "start_sector"));
	EXPECT_FALSE(text::equal_nocase("start_sectors", "start_sector"));
}

TEST(Text, EmitterTruncatesLikeDmemit)
{
	char buf[6];
	text::Emitter e(buf, sizeof(buf));
	e.str("abc").dec(12345);
	EXPECT_STREQ(buf, "abc12");
}
