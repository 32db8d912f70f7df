// SPDX-License-Identifier: GPL-2.0
// The simulated devices' power-loss rules, on which every crash test
// rests: pending units, torn writes, FUA, and every value a pmem word
// held since the last fence.
#include <gtest/gtest.h>

#include "model_helpers.h"
#include "sim_pmem.h"

using namespace wc;
using namespace wc::test;

TEST(SimDevice, A4KWriteTearsIntoSectorsUnlessItsUnitIs4K)
{
	model::SimDevice torn(64), whole(64);
	auto data = pattern(8, 8, 1);

	whole.atomic_sectors = 8;
	ASSERT_EQ(torn.write(8, data.data(), 8, false), 0);
	ASSERT_EQ(whole.write(8, data.data(), 8, false), 0);
	EXPECT_EQ(torn.pending_units(), 8u);
	EXPECT_EQ(whole.pending_units(), 1u);
	// Sector 3 of the write alone survives.
	auto image = torn.image_keeping([](size_t i) { return i == 3; });
	for (uint32_t s = 0; s < 8; s++) {
		bool kept = !memcmp(&image[(8 + s) * kSector], &data[s * kSector], kSector);
		EXPECT_EQ(kept, s == 3) << "sector " << s;
	}
	EXPECT_EQ(whole.image_keeping([](size_t) { return false; }),
		  std::vector<uint8_t>(64 * kSector, 0));
	EXPECT_EQ(whole.image_keeping([](size_t) { return true; }), whole.current());
}

TEST(SimDevice, UnitsFollowTheAtomicBoundaries)
{
	model::SimDevice dev(64);
	auto data = pattern(6, 12, 1);

	dev.atomic_sectors = 8;
	// Sectors 6..17: units 6-7, 8-15, 16-17.
	ASSERT_EQ(dev.write(6, data.data(), 12, false), 0);
	EXPECT_EQ(dev.pending_units(), 3u);
	auto image = dev.image_keeping([](size_t i) { return i == 1; });
	for (uint32_t s = 6; s < 18; s++) {
		bool kept = !memcmp(&image[s * kSector], &data[(s - 6) * kSector], kSector);
		EXPECT_EQ(kept, s >= 8 && s < 16) << "sector " << s;
	}
}

TEST(SimDevice, FuaOverPartOfAPendingUnitKeepsOnlyTheRest)
{
	model::SimDevice dev(64);
	auto old_data = pattern(0, 8, 1), fua = pattern(2, 2, 2);

	dev.atomic_sectors = 8;
	ASSERT_EQ(dev.write(0, old_data.data(), 8, false), 0);
	ASSERT_EQ(dev.write(2, fua.data(), 2, true), 0);
	// Sectors 0-1 and 4-7 of the old write may still be lost or kept;
	// 2-3 are the FUA write's, whatever is kept.
	EXPECT_EQ(dev.pending_units(), 2u);
	for (bool keep : {false, true}) {
		auto image = dev.image_keeping([&](size_t) { return keep; });
		EXPECT_FALSE(memcmp(&image[2 * kSector], fua.data(), 2 * kSector));
		EXPECT_EQ(!memcmp(&image[0], old_data.data(), 2 * kSector), keep);
		EXPECT_EQ(!memcmp(&image[4 * kSector], &old_data[4 * kSector], 4 * kSector), keep);
	}
}

TEST(SimDevice, AFlushMakesEverythingDurable)
{
	model::SimDevice dev(16);
	auto data = pattern(0, 4, 1);

	ASSERT_EQ(dev.write(0, data.data(), 4, false), 0);
	ASSERT_EQ(dev.flush(), 0);
	EXPECT_EQ(dev.pending_units(), 0u);
	EXPECT_EQ(dev.image_keeping([](size_t) { return false; }), dev.current());
}

TEST(SimPmem, AWordStoredTwiceMaySurviveWithEitherValue)
{
	model::SimPmem pmem(4096);
	uint64_t a = 0x1111, b = 0x2222, word;

	pmem.store(pmem.data() + 64, &a, 8);
	pmem.store(pmem.data() + 64, &b, 8);
	ASSERT_EQ(pmem.pending_units(), 2u);
	for (auto [mask, expect] : {std::pair<unsigned, uint64_t>{0, 0}, {1, a}, {2, b}, {3, b}}) {
		auto image = pmem.image_keeping([&](size_t i) { return (mask >> i) & 1; });
		memcpy(&word, &image[64], 8);
		EXPECT_EQ(word, expect) << "mask " << mask;
	}
	pmem.fence();
	EXPECT_EQ(pmem.pending_units(), 0u);
	auto image = pmem.image_keeping([](size_t) { return false; });
	memcpy(&word, &image[64], 8);
	EXPECT_EQ(word, b);
}

TEST(SimPmem, StoresAreWordsAndBeforeOpSeesEachOne)
{
	model::SimPmem pmem(4096);
	uint8_t bytes[20] = {1};
	unsigned ops = 0;

	pmem.before_op = [&] { ops++; };
	// Bytes 4..23 touch words 0, 1 and 2.
	pmem.store(pmem.data() + 4, bytes, sizeof(bytes));
	pmem.fence();
	EXPECT_EQ(ops, 2u);
	EXPECT_EQ(pmem.ops, 2u);
}
