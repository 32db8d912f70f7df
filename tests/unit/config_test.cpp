// SPDX-License-Identifier: GPL-2.0
// The table line: every option, its limits and its error messages, and the
// table echo, as in-tree v1.6.0.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.h"

using namespace wc;

namespace {

struct Parsed {
	int r;
	std::string error;
	Config cfg;
	std::string table;
};

Parsed parse(const char *mode, std::vector<std::string> args, u64 cache_bytes = 64 << 20)
{
	Parsed p;
	std::vector<char *> argv;
	wc_dev_info info = {cache_bytes, 512, 512, 4096, 1000};
	const char *err = "";

	for (auto &a : args)
		argv.push_back(a.data());
	p.r = p.cfg.parse_mode(mode);
	if (!p.r)
		p.r = p.cfg.parse_args(u32(argv.size()), argv.data(), info, &err);
	p.error = err;
	char buf[256];
	text::Emitter out(buf, sizeof(buf));
	p.cfg.format_table(out, "8:16", "8:32");
	p.table = buf;
	return p;
}

} // namespace

TEST(Config, Mode)
{
	Config c;
	EXPECT_EQ(c.parse_mode("s"), 0);
	EXPECT_FALSE(c.pmem);
	EXPECT_EQ(c.parse_mode("P"), 0);
	EXPECT_TRUE(c.pmem);
	EXPECT_EQ(c.parse_mode("x"), -WC_EINVAL);
	EXPECT_EQ(c.parse_mode("ss"), -WC_EINVAL);
}

TEST(Config, MinimalSsd)
{
	Parsed p = parse("s", {"4096", "0"});
	ASSERT_EQ(p.r, 0) << p.error;
	EXPECT_EQ(p.cfg.block_size, 4096u);
	EXPECT_EQ(p.cfg.autocommit_blocks, 65536u);
	EXPECT_EQ(p.cfg.pause_ms, 3000u);
	EXPECT_EQ(p.cfg.writeback_jobs, 1000u);
	EXPECT_EQ(p.table, "s 8:16 8:32 4096 0");
}

TEST(Config, PmemDefaults)
{
	Parsed p = parse("p", {"512", "0"});
	ASSERT_EQ(p.r, 0);
	EXPECT_EQ(p.cfg.autocommit_blocks, 64u);
	EXPECT_TRUE(p.cfg.writeback_fua);
	EXPECT_EQ(p.cfg.pause_ms, 0u);
	EXPECT_EQ(p.table, "p 8:16 8:32 512 0");
}

TEST(Config, EveryOptionIsEchoedInOrder)
{
	Parsed p = parse("s", {"4096", "18", "pause_writeback", "100", "metadata_only",
			       "cleaner", "max_age", "5000", "autocommit_time", "20",
			       "autocommit_blocks", "9", "writeback_jobs", "7",
			       "low_watermark", "10", "high_watermark", "60",
			       "start_sector", "8"});
	ASSERT_EQ(p.r, 0) << p.error;
	EXPECT_EQ(p.table, "s 8:16 8:32 4096 18 start_sector 8 high_watermark 60 "
			   "low_watermark 10 writeback_jobs 7 autocommit_blocks 9 "
			   "autocommit_time 20 max_age 5000 cleaner metadata_only "
			   "pause_writeback 100");
}

TEST(Config, FuaIsPmemOnly)
{
	EXPECT_EQ(parse("p", {"4096", "1", "nofua"}).table, "p 8:16 8:32 4096 1 nofua");
	EXPECT_EQ(parse("p", {"4096", "1", "FUA"}).table, "p 8:16 8:32 4096 1 fua");
	Parsed s = parse("s", {"4096", "1", "fua"});
	EXPECT_EQ(s.r, -WC_EINVAL);
	EXPECT_EQ(s.error, "Invalid optional argument");
	EXPECT_EQ(parse("p", {"4096", "2", "pause_writeback", "1"}).error,
		  "Invalid optional argument");
}

TEST(Config, BlockSize)
{
	EXPECT_EQ(parse("s", {}).error, "Bad arguments");
	EXPECT_EQ(parse("s", {"1000", "0"}).error, "Invalid block size");
	EXPECT_EQ(parse("s", {"256", "0"}).error, "Invalid block size");
	EXPECT_EQ(parse("s", {"8192", "0"}).error, "Invalid block size");
	EXPECT_EQ(parse("s", {"4096x", "0"}).error, "Invalid block size");
	EXPECT_EQ(parse("s", {"512", "0"}).r, 0);
}

TEST(Config, FeatureArgCount)
{
	const char *msg = "Invalid number of feature args";
	EXPECT_EQ(parse("s", {"4096"}).error, msg);
	EXPECT_EQ(parse("s", {"4096", "19"}).error, msg);
	EXPECT_EQ(parse("s", {"4096", "2", "cleaner"}).error, msg);
	EXPECT_EQ(parse("s", {"4096", "x"}).error, msg);
	// a value word counted as an option is refused
	EXPECT_EQ(parse("s", {"4096", "1", "high_watermark", "50"}).error,
		  "Invalid optional argument");
	// extra words after the group are ignored, as dm_read_arg_group does
	EXPECT_EQ(parse("s", {"4096", "0", "junk"}).r, 0);
}

TEST(Config, Limits)
{
	const char *bad = "Invalid optional argument";
	EXPECT_EQ(parse("s", {"4096", "2", "high_watermark", "101"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "high_watermark", "-1"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "autocommit_time", "3600001"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "autocommit_time", "3600000"}).r, 0);
	EXPECT_EQ(parse("s", {"4096", "2", "max_age", "86400001"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "pause_writeback", "60001"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "start_sector", "131072"}, 64 << 20).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "start_sector", "131071"}, 64 << 20).r, 0);
	EXPECT_EQ(parse("s", {"4096", "1", "bogus"}).error, bad);
	EXPECT_EQ(parse("s", {"4096", "2", "low_watermark", "60"}).error,
		  "High watermark must be greater than or equal to low watermark");
	EXPECT_EQ(parse("s", {"4096", "4", "low_watermark", "60", "high_watermark", "60"}).r, 0);
}

TEST(Config, LogicalBlockSize)
{
	Config c;
	std::vector<std::string> args = {"512", "0"};
	std::vector<char *> argv = {args[0].data(), args[1].data()};
	wc_dev_info info = {1 << 20, 4096, 512, 4096, 1};
	const char *err = "";

	ASSERT_EQ(c.parse_mode("s"), 0);
	EXPECT_EQ(c.parse_args(2, argv.data(), info, &err), -WC_EINVAL);
	EXPECT_STREQ(err, "Block size is smaller than device logical block size");
}
