// SPDX-License-Identifier: GPL-2.0
// Power loss at every persistence point.
//
// A workload of writes, flushes, writeback and overwrites (and, in the
// random workloads, discards) runs against a reference model.  The devices
// "lose power" just before their k-th write or flush, keeping any subset of
// their volatile writes; a new target is then built on them.  Every block
// must read back as what the last completed flush covered, or as something
// written to that block after it: never older data, never another block's
// data.  A discarded block may read as anything ever written to it, until a
// write after the discard is durable (see CrashOracle).
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "model_helpers.h"

using namespace wc;
using namespace wc::test;

namespace {

constexpr uint64_t kOrigin = 8 * 1024 * 2;	// 8 MiB
constexpr uint64_t kCache = 256 * 2;		// 256 KiB: ~60 blocks, fills up
constexpr uint64_t kWorkingBlocks = 96;
constexpr uint32_t kBlockSectors = 8;

struct PowerLoss {};

std::vector<uint8_t> block_content(uint64_t block, uint64_t version)
{
	if (!version)
		return std::vector<uint8_t>(kBlockSectors * kSector, 0);
	return pattern(block * kBlockSectors, kBlockSectors, version);
}

// Which version a sector of a block holds, or -1 if none ever written to it.
// Unflushed writes may be torn, so sectors are judged one by one.
int64_t identify(uint64_t block, uint32_t sector, const std::vector<uint8_t> &data,
		 uint64_t max_version)
{
	const uint8_t *got = &data[size_t(sector) * kSector];

	for (uint64_t v = 0; v <= max_version; v++)
		if (!memcmp(got, &block_content(block, v)[size_t(sector) * kSector], kSector))
			return int64_t(v);
	return -1;
}

std::string describe(const std::set<uint64_t> &versions)
{
	std::string s;

	for (uint64_t v : versions)
		s += (s.empty() ? "{" : ", ") + std::to_string(v);
	return s + "}";
}

struct Workload {
	Rig rig{kOrigin, kCache, {"s", "o", "c", "4096", "4", "high_watermark", "60",
				  "low_watermark", "40"}};
	CrashOracle ref;
	bool discards = false;	// whether the workload issues discards
	uint64_t version = 0;
	uint64_t ops = 0;	// device writes and flushes seen
	uint64_t crash_at = 0;	// 0: never

	void arm()
	{
		auto hook = [this] {
			if (++ops == crash_at)
				throw PowerLoss();
		};
		rig.origin.before_op = hook;
		rig.cache.before_op = hook;
	}

	// Runs `steps` random operations; returns false if power was lost.
	bool run(uint64_t seed, int steps)
	{
		std::mt19937_64 rng(seed);

		try {
			for (int i = 0; i < steps; i++) {
				step(rng);
				if (::testing::Test::HasFatalFailure())
					return true;
				EXPECT_TRUE(wc_core_validate(rig.target->core()))
					<< "after step " << i;
				if (::testing::Test::HasFailure())
					return true;
			}
		} catch (const PowerLoss &) {
			return false;
		}
		return true;
	}

	void step(std::mt19937_64 &rng)
	{
		// With discards, 100..107 are discards; the other operations
		// keep their proportions.
		unsigned what = rng() % (discards ? 108 : 100);

		if (what < 60) {
			uint64_t first = rng() % kWorkingBlocks;
			uint64_t n = 1 + rng() % 4;
			std::vector<uint8_t> data;

			n = std::min(n, kWorkingBlocks - first);
			version++;
			for (uint64_t b = first; b < first + n; b++) {
				auto c = block_content(b, version);
				data.insert(data.end(), c.begin(), c.end());
			}
			// Recorded before it is issued: a write cut short by
			// the power loss may still have reached the media.
			bool fua = what < 12;

			for (uint64_t b = first; b < first + n; b++)
				ref.written(b, version);
			ASSERT_EQ(rig.target->write(first * kBlockSectors, data,
						    fua ? WC_BIO_FUA : 0), 0);
			if (fua)
				for (uint64_t b = first; b < first + n; b++)
					ref.written_fua(b, version);
		} else if (what < 75) {
			ASSERT_EQ(rig.target->flush(), 0);
			// Only a completed flush covers anything.
			ref.flushed();
		} else if (what < 85) {
			rig.target->writeback(false);
		} else if (what < 90) {
			rig.target->autocommit();
		} else if (what < 100) {
			uint64_t b = rng() % kWorkingBlocks;
			std::vector<uint8_t> out;
			ASSERT_EQ(rig.target->read(b * kBlockSectors, kBlockSectors, &out), 0);
			auto readable = ref.readable(b);
			if (readable.size() == 1) {
				ASSERT_EQ(out, block_content(b, *readable.begin())) << "block " << b;
				return;
			}
			bool ok = false;
			for (uint64_t v : readable)
				ok = ok || out == block_content(b, v);
			ASSERT_TRUE(ok) << "discarded block " << b
					<< " reads data never written to it";
		} else {
			// Up to 8 blocks: a range may hold several cached blocks,
			// committed or not, and blocks that are not cached.
			uint64_t first = rng() % kWorkingBlocks;
			uint64_t n = std::min<uint64_t>(1 + rng() % 8, kWorkingBlocks - first);

			for (uint64_t b = first; b < first + n; b++)
				ref.discard(b);
			ASSERT_EQ(rig.target->discard(first * kBlockSectors,
						      uint32_t(n * kBlockSectors)), 0);
		}
	}

	// After power loss: rebuild the target and check every block.
	void recover_and_verify(uint64_t seed)
	{
		std::mt19937_64 rng(seed * 7 + 1);

		rig.origin.before_op = nullptr;
		rig.cache.before_op = nullptr;
		rig.cache.crash(rng);
		rig.origin.crash(rng);
		std::string error;
		ASSERT_EQ(rig.open(&error), 0) << error;
		ASSERT_EQ(rig.status()[WC_STATUS_ERROR], 0u) << rig.target->status();
		for (uint64_t b = 0; b < kWorkingBlocks; b++) {
			std::vector<uint8_t> out;
			ASSERT_EQ(rig.target->read(b * kBlockSectors, kBlockSectors, &out), 0);
			auto allowed = ref.allowed(b);
			for (uint32_t s = 0; s < kBlockSectors; s++) {
				int64_t v = identify(b, s, out, version);
				ASSERT_GE(v, 0) << "block " << b << " sector " << s
						<< " holds data never written to it (crash at op "
						<< crash_at << ")";
				ASSERT_TRUE(allowed.count(uint64_t(v)))
					<< "block " << b << " sector " << s << " reads version " << v
					<< ", allowed " << describe(allowed)
					<< (ref.unsettled.count(b) ? " (discarded)" : "")
					<< " (crash at op " << crash_at << ")";
			}
		}
	}
};

} // namespace

// Every persistence point of one workload, one crash each.
TEST(Crash, EveryPointOfAFixedWorkload)
{
	constexpr uint64_t seed = 42;
	constexpr int steps = 120;
	uint64_t total;
	{
		Workload dry;
		ASSERT_EQ(dry.rig.open(), 0);
		dry.arm();
		ASSERT_TRUE(dry.run(seed, steps));
		total = dry.ops;
	}
	ASSERT_GT(total, 50u);
	for (uint64_t k = 1; k <= total; k++) {
		Workload w;
		ASSERT_EQ(w.rig.open(), 0);
		w.crash_at = k;
		w.arm();
		ASSERT_FALSE(w.run(seed, steps)) << "no crash at op " << k;
		w.recover_and_verify(k);
		if (HasFatalFailure())
			return;
	}
}

// Random workloads with discards, random crash points, and a second crash
// during the recovery's own writes.
TEST(Crash, RandomWorkloads)
{
	for (uint64_t seed = 1; seed <= 40; seed++) {
		Workload w;
		std::mt19937_64 rng(seed);

		SCOPED_TRACE("seed " + std::to_string(seed));
		w.discards = true;
		ASSERT_EQ(w.rig.open(), 0);
		w.crash_at = 20 + rng() % 400;
		w.arm();
		if (w.run(seed, 300))
			continue;
		w.recover_and_verify(seed);
		if (HasFatalFailure())
			return;
	}
}
