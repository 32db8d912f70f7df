// SPDX-License-Identifier: GPL-2.0
// wcctl's table, status, option and size handling, as library calls.
#include <gtest/gtest.h>

#include "progress.h"
#include "table.h"
#include "units.h"

using namespace wcctl;

TEST(WcctlTable, ParsesAndEchoesTheKernelsTableLine)
{
	WcTable t;
	std::string e;

	ASSERT_TRUE(WcTable::parse("s 254:16 254:0 4096 5 high_watermark 60 cleaner max_age 9", &t, &e)) << e;
	EXPECT_EQ(t.mode, "s");
	EXPECT_EQ(t.origin, "254:16");
	EXPECT_EQ(t.cache, "254:0");
	EXPECT_EQ(t.block_size, 4096u);
	ASSERT_EQ(t.options.size(), 3u);
	EXPECT_EQ(t.options[1].key, "cleaner");
	EXPECT_FALSE(t.options[1].value);
	EXPECT_EQ(t.params(), "s 254:16 254:0 4096 5 high_watermark 60 cleaner max_age 9");

	EXPECT_FALSE(WcTable::parse("s 1:1 1:2 4096 2 high_watermark", &t, &e));
	EXPECT_FALSE(WcTable::parse("s 1:1 1:2 4096 1 bogus", &t, &e));
	EXPECT_FALSE(WcTable::parse("s 1:1 1:2 4096 1 high_watermark", &t, &e));
	EXPECT_FALSE(WcTable::parse("s 1:1 1:2", &t, &e));
}

TEST(WcctlTable, AppliesSettings)
{
	std::vector<Option> o;
	std::string e;

	ASSERT_TRUE(apply_option(&o, "high_watermark=60", &e));
	ASSERT_TRUE(apply_option(&o, "cleaner", &e));
	ASSERT_TRUE(apply_option(&o, "fua", &e));
	ASSERT_TRUE(apply_option(&o, "nofua", &e));	// replaces fua
	ASSERT_EQ(o.size(), 3u);
	EXPECT_EQ(o[2].key, "nofua");
	ASSERT_TRUE(apply_option(&o, "high_watermark=70", &e));	// replaced, not added
	ASSERT_EQ(o.size(), 3u);
	EXPECT_EQ(*o.back().value, "70");
	ASSERT_TRUE(apply_option(&o, "cleaner=off", &e));
	ASSERT_TRUE(apply_option(&o, "high_watermark=", &e));	// back to the default
	ASSERT_EQ(o.size(), 1u);
	EXPECT_EQ(o[0].key, "nofua");

	EXPECT_FALSE(apply_option(&o, "bogus=1", &e));
	EXPECT_NE(e.find("pause_writeback"), std::string::npos) << e;	// lists the keys
	EXPECT_FALSE(apply_option(&o, "low_watermark", &e));	// needs a value
	EXPECT_FALSE(apply_option(&o, "cleaner=maybe", &e));
	EXPECT_EQ(option_names().size(), 12u);
}

TEST(WcctlTable, ParsesTheStatusLine)
{
	WcStatus s;
	std::string e;

	ASSERT_TRUE(WcStatus::parse("0 8160 6112 0 10 4 2048 1 2 3 2044 5 6 7", &s, &e)) << e;
	EXPECT_EQ(s.get(WC_STATUS_BLOCKS), 8160u);
	EXPECT_EQ(s.used(), 2048u);
	EXPECT_EQ(s.get(WC_STATUS_WRITES_BLOCKED_ON_FREELIST), 5u);
	EXPECT_EQ(s.get(WC_STATUS_DISCARDS), 7u);
	EXPECT_FALSE(WcStatus::parse("0 8160 6112", &s, &e));
	EXPECT_FALSE(WcStatus::parse("0 8160 6112 0 10 4 2048 1 2 3 2044 5 6 x", &s, &e));
}

TEST(WcctlUnits, Sizes)
{
	uint64_t b;

	ASSERT_TRUE(parse_size("4096", &b));
	EXPECT_EQ(b, 4096u);
	ASSERT_TRUE(parse_size("64M", &b));
	EXPECT_EQ(b, 64ULL << 20);
	ASSERT_TRUE(parse_size("1GiB", &b));
	EXPECT_EQ(b, 1ULL << 30);
	ASSERT_TRUE(parse_size("2t", &b));
	EXPECT_EQ(b, 2ULL << 40);
	ASSERT_TRUE(parse_size("10GB", &b));
	EXPECT_EQ(b, 10000000000ULL);
	ASSERT_TRUE(parse_size("8s", &b));
	EXPECT_EQ(b, 4096u);
	EXPECT_FALSE(parse_size("", &b));
	EXPECT_FALSE(parse_size("M", &b));
	EXPECT_FALSE(parse_size("12parsecs", &b));
	EXPECT_FALSE(parse_size("99999999999999999999", &b));
	EXPECT_FALSE(parse_size("16777216T", &b));	// 2^64 bytes
	EXPECT_EQ(human_bytes(512), "512 B");
	EXPECT_EQ(human_bytes(3ULL << 29), "1.5 GiB");
}

TEST(WcctlProgress, Describes)
{
	EXPECT_EQ(Progress::describe(1000, 250, 50), " 75% 250 blocks left, 50 blocks/s, ETA 0:05");
	EXPECT_EQ(Progress::describe(1000, 1000, 0), "  0% 1000 blocks left");
	EXPECT_EQ(Progress::describe(0, 0, 0), "100% 0 blocks left");
	EXPECT_EQ(Progress::describe(100000, 90000, 10), " 10% 90000 blocks left, 10 blocks/s, ETA 2:30:00");
}
