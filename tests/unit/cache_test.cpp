// SPDX-License-Identifier: GPL-2.0
// The cache's rules, one at a time, through the userspace model.
#include <gtest/gtest.h>

#include "model_helpers.h"
#include "ondisk.h"

using namespace wc;
using namespace wc::test;

namespace {

constexpr uint64_t kOrigin = 64 * 1024 * 2;	// 64 MiB
constexpr uint64_t kCache = 4 * 1024 * 2;	// 4 MiB

disk::Superblock durable_sb(const model::SimDevice &dev, uint64_t start = 0)
{
	disk::Superblock sb;
	memcpy(&sb, &dev.durable()[start * kSector], sizeof(sb));
	return sb;
}

} // namespace

TEST(Format, BlankCacheIsFormattedWithMagicLast)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	disk::Superblock sb = durable_sb(rig.cache);
	EXPECT_EQ(sb.magic, disk::kMagic);
	EXPECT_EQ(sb.version, 1u);
	EXPECT_EQ(sb.block_size, 4096u);
	EXPECT_EQ(sb.seq_count, 0u);
	// 4 MiB: n = 4194304 / (4096 + 16) = 1020; the entries end at
	// 64 + 16 * 1020 = 16384, and 16384 + 1020 * 4096 is exactly 4 MiB.
	EXPECT_EQ(sb.n_blocks, 1020u);
	auto st = rig.status();
	EXPECT_EQ(st.size(), 14u);
	EXPECT_EQ(st[WC_STATUS_BLOCKS], 1020u);
	EXPECT_EQ(st[WC_STATUS_FREE], 1020u);
	// every entry is free on disk
	disk::Entry e;
	memcpy(&e, &rig.cache.durable()[64 + 16 * 1019], sizeof(e));
	EXPECT_EQ(e.seq_count, ~0ULL);
	EXPECT_EQ(e.original_sector, ~0ULL);
}

// A power loss at any write of the format, keeping every write issued
// before it, leaves a superblock with neither magic nor version, so the
// next constructor formats again (in-tree writes the version first, and
// refuses the device with "Invalid magic in the superblock").
TEST(Format, ACrashedFormatIsFormattedAgain)
{
	unsigned blank = 0;

	for (uint64_t k = 1;; k++) {
		Rig rig(kOrigin, kCache);
		uint64_t ops = 0;
		std::vector<uint8_t> image;

		rig.cache.before_op = [&] {
			if (++ops == k)
				image = rig.cache.image_keeping([](size_t) { return true; });
		};
		ASSERT_EQ(rig.open(), 0);
		rig.cache.before_op = nullptr;
		if (image.empty())
			break;	// k is past the format's last write
		disk::Superblock sb;
		memcpy(&sb, image.data(), sizeof(sb));
		// Both or neither: no crash leaves a version without its magic.
		EXPECT_EQ(sb.magic == disk::kMagic, sb.version == disk::kVersion) << "op " << k;
		EXPECT_EQ(sb.magic == 0, sb.version == 0) << "op " << k;
		blank += sb.magic == 0;
		rig.cache.load_image(image);
		std::string error;
		ASSERT_EQ(rig.open(&error), 0) << "crash before op " << k << ": " << error;
		EXPECT_EQ(durable_sb(rig.cache).magic, disk::kMagic);
		EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1020u);
	}
	// The blank chunks' writes and their flush, at least.
	EXPECT_GE(blank, 2u);
}

TEST(Format, StartSectorShiftsEverything)
{
	Rig rig(kOrigin, kCache, {"s", "o", "c", "4096", "2", "start_sector", "16"});
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(durable_sb(rig.cache, 16).magic, disk::kMagic);
	EXPECT_EQ(durable_sb(rig.cache, 0).magic, 0u);
}

TEST(Format, BadSuperblockIsRefused)
{
	Rig rig(kOrigin, kCache);
	std::vector<uint8_t> junk(4096, 0xab);
	rig.cache.write(0, junk.data(), 8, true);
	std::string error;
	EXPECT_EQ(rig.open(&error), -WC_EINVAL);
	EXPECT_EQ(error, "Invalid magic in the superblock");
}

TEST(Format, BlockSizeMismatchIsRefused)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	rig.table = {"s", "o", "c", "512", "0"};
	std::string error;
	EXPECT_EQ(rig.open(&error), -WC_EINVAL);
	EXPECT_EQ(error, "Block size does not match superblock");
}

TEST(Io, WriteIsAbsorbedAndReadBack)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	auto data = pattern(800, 16, 1);
	ASSERT_EQ(rig.target->write(800, data), 0);
	// The origin has not seen it.
	EXPECT_NE(memcmp(&rig.origin.current()[800 * kSector], data.data(), data.size()), 0);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(800, 16, &out), 0);
	EXPECT_EQ(out, data);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_FREE], 1020u - 2);
	EXPECT_EQ(st[WC_STATUS_WRITES], 2u);
	EXPECT_EQ(st[WC_STATUS_WRITES_ALLOCATE], 2u);
	EXPECT_EQ(st[WC_STATUS_READS], 2u);
	EXPECT_EQ(st[WC_STATUS_READ_HITS], 2u);
}

TEST(Io, ReadsSplitBetweenCacheAndOrigin)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	auto origin_data = pattern(0, 64, 7);
	rig.origin.write(0, origin_data.data(), 64, true);
	auto cached = pattern(16, 8, 2);
	ASSERT_EQ(rig.target->write(16, cached), 0);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 64, &out), 0);
	auto expect = origin_data;
	memcpy(&expect[16 * kSector], cached.data(), cached.size());
	EXPECT_EQ(out, expect);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_READS], 8u);	// per block
	EXPECT_EQ(st[WC_STATUS_READ_HITS], 1u);
}

TEST(Io, UnalignedIsAnError)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	model::clear_log();
	EXPECT_EQ(rig.target->write(3, pattern(3, 8, 1)), -WC_EIO);
	ASSERT_FALSE(model::log_lines().empty());
	EXPECT_EQ(model::log_lines().back(), "I/O is not aligned, sector 3, size 4096, block size 4096");
}

TEST(Io, OverwriteOfUncommittedBlockIsInPlace)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(80, pattern(80, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(80, pattern(80, 8, 2)), 0);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_FREE], 1019u);
	EXPECT_EQ(st[WC_STATUS_WRITE_HITS_UNCOMMITTED], 1u);
	std::vector<uint8_t> out;
	rig.target->read(80, 8, &out);
	EXPECT_EQ(out, pattern(80, 8, 2));
}

TEST(Io, OverwriteOfCommittedBlockIsInPlaceInSsdMode)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(80, pattern(80, 8, 1)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	uint64_t flushes = rig.cache.flushes;
	ASSERT_EQ(rig.target->write(80, pattern(80, 8, 2)), 0);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_FREE], 1019u);
	EXPECT_EQ(st[WC_STATUS_WRITE_HITS_COMMITTED], 1u);
	// The next flush has no new entry but must flush the cache device.
	ASSERT_EQ(rig.target->flush(), 0);
	EXPECT_GT(rig.cache.flushes, flushes);
}

TEST(Commit, FlushMakesWritesSurviveReload)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(1600, pattern(1600, 24, 3)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	EXPECT_EQ(durable_sb(rig.cache).seq_count, 1u);
	std::mt19937_64 rng(1);
	rig.cache.crash(rng);
	rig.origin.crash(rng);
	ASSERT_EQ(rig.open(), 0);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(1600, 24, &out), 0);
	EXPECT_EQ(out, pattern(1600, 24, 3));
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1020u - 3);
}

TEST(Commit, UncommittedWritesAreDroppedByRecovery)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(1600, pattern(1600, 8, 3)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	ASSERT_EQ(rig.target->write(1600, pattern(1600, 8, 4)), 0);	// in place
	ASSERT_EQ(rig.target->write(2400, pattern(2400, 8, 4)), 0);	// new block
	// Power fails: all volatile writes persist (the worst case for
	// recovery: the entry of 2400 is on disk but uncommitted).
	auto data = rig.cache.current();
	rig.cache.write(0, data.data(), uint32_t(data.size() / kSector), true);
	ASSERT_EQ(rig.open(), 0);
	std::vector<uint8_t> out;
	rig.target->read(2400, 8, &out);
	EXPECT_EQ(out, std::vector<uint8_t>(4096, 0));
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1019u);
}

TEST(Commit, AutocommitBlocks)
{
	Rig rig(kOrigin, kCache, {"s", "o", "c", "4096", "2", "autocommit_blocks", "4"});
	ASSERT_EQ(rig.open(), 0);
	for (uint64_t b = 0; b < 3; b++)
		ASSERT_EQ(rig.target->write(b * 8, pattern(b * 8, 8, 1)), 0);
	EXPECT_EQ(durable_sb(rig.cache).seq_count, 0u);
	EXPECT_TRUE(rig.target->autocommit_armed);
	ASSERT_EQ(rig.target->write(24, pattern(24, 8, 1)), 0);
	EXPECT_EQ(durable_sb(rig.cache).seq_count, 1u);
}

TEST(Writeback, FlushMessageDrainsToTheOrigin)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	for (uint64_t b = 0; b < 100; b++)
		ASSERT_EQ(rig.target->write(b * 8 + 4000, pattern(b * 8 + 4000, 8, 5)), 0);
	ASSERT_EQ(rig.target->message({"flush"}), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1020u);
	EXPECT_EQ(memcmp(&rig.origin.durable()[4000 * kSector],
			 pattern(4000, 800, 5).data(), 800 * kSector), 0);
	// The freed entries are durable too: a reload finds nothing cached.
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1020u);
}

TEST(Writeback, WatermarksStartAndStopWriteback)
{
	Rig rig(kOrigin, kCache, {"s", "o", "c", "4096", "4", "high_watermark", "10",
				  "low_watermark", "5"});
	ASSERT_EQ(rig.open(), 0);
	// high 10%: writeback starts when free <= 918; low 5%: stops above 969
	// Every other block, so that no two blocks merge into one run.
	for (uint64_t b = 0; b < 101; b++)
		ASSERT_EQ(rig.target->write(b * 16, pattern(b * 16, 8, 1)), 0);
	EXPECT_FALSE(rig.target->writeback_kicked);
	ASSERT_EQ(rig.target->write(101 * 16, pattern(101 * 16, 8, 1)), 0);
	EXPECT_TRUE(rig.target->writeback_kicked);
	while (rig.target->writeback())
		;
	auto st = rig.status();
	EXPECT_GT(st[WC_STATUS_FREE], 969u);
	EXPECT_LT(st[WC_STATUS_FREE], 1020u);
}

TEST(Writeback, FullCacheWritesAround)
{
	Rig rig(kOrigin, 64 * 2);	// 64 KiB: 15 blocks
	ASSERT_EQ(rig.open(), 0);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	for (uint64_t b = 0; b < n; b++)
		ASSERT_EQ(rig.target->write(b * 8, pattern(b * 8, 8, 1)), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 0u);
	ASSERT_EQ(rig.target->write(1000, pattern(1000, 8, 2)), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_WRITES_AROUND], 1u);
	EXPECT_EQ(memcmp(&rig.origin.current()[1000 * kSector], pattern(1000, 8, 2).data(), 4096), 0);
}

TEST(Discard, DropsCachedBlocks)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 32, 1)), 0);
	ASSERT_EQ(rig.target->discard(64, 16), 0);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_FREE], 1020u - 2);
	EXPECT_EQ(st[WC_STATUS_DISCARDS], 2u);
}

TEST(Cleaner, NoNewPromotions)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 1)), 0);
	ASSERT_EQ(rig.target->message({"cleaner"}), 0);
	ASSERT_EQ(rig.target->write(128, pattern(128, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 2)), 0);	// cached: promoted
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_WRITES_AROUND], 1u);
	EXPECT_EQ(st[WC_STATUS_FREE], 1019u);
}

TEST(Messages, UnknownAndWrongArity)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	model::clear_log();
	EXPECT_EQ(rig.target->message({"bogus"}), -WC_EINVAL);
	EXPECT_EQ(model::log_lines().back(), "unrecognised message received: bogus");
	EXPECT_EQ(rig.target->message({"flush", "now"}), -WC_EINVAL);
	EXPECT_EQ(rig.target->message({"CLEAR_STATS"}), 0);
}

TEST(Recovery, HigherSeqWinsAndEqualSeqIsReported)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(72, pattern(72, 8, 1)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	// Hand-edit: entry 1 now claims sector 64 too, with a higher seq.
	auto image = rig.cache.durable();
	disk::Superblock sb;
	memcpy(&sb, image.data(), sizeof(sb));
	ASSERT_GE(sb.seq_count, 1u);
	disk::Entry e1 = {64, 0};
	memcpy(&image[64 + 16], &e1, sizeof(e1));
	disk::Entry e0 = {64, 0};
	memcpy(&image[64], &e0, sizeof(e0));
	rig.cache.write(0, image.data(), 8, true);
	model::clear_log();
	ASSERT_EQ(rig.open(), 0);
	ASSERT_FALSE(model::log_lines().empty());
	EXPECT_EQ(model::log_lines().front(), "two identical entries, position 1, sector 64, sequence 0");
	EXPECT_EQ(rig.status()[WC_STATUS_ERROR], 1u);
}

TEST(Io, WriteOverAPartlyCachedRangeKeepsOneBlockPerSector)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(8, pattern(8, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 32, 2)), 0);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_FREE], 1020u - 4);
	EXPECT_EQ(st[WC_STATUS_WRITES], 5u);
	ASSERT_EQ(rig.target->flush(), 0);
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_ERROR], 0u);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 32, &out), 0);
	EXPECT_EQ(out, pattern(0, 32, 2));
}

TEST(Writeback, MaxAgeWritesBackOldBlocks)
{
	Rig rig(kOrigin, kCache, {"s", "o", "c", "4096", "2", "max_age", "1000"});
	ASSERT_EQ(rig.open(), 0);
	rig.target->now_ms = 70000;	// past a 16-bit stamp wrap at 1 ms units
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 1)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	rig.target->now_ms = 70500;
	EXPECT_EQ(rig.target->writeback(), 0u);
	// in-tree's threshold: max_age - max_age / 16
	rig.target->now_ms = 70000 + 1000 - 1000 / 16;
	EXPECT_EQ(rig.target->writeback(), 1u);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], 1020u);
}

// SSD mode: a read over blocks that follow each other on both devices is
// one remap, not one per block (in-tree splits it per block); the counters
// are those of the per-block split.  A block elsewhere on the cache device
// ends the run.
TEST(Io, ReadOfContiguousCachedBlocksIsOneRemap)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 64, 1)), 0);	// blocks 0-7, contiguous
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 1)), 0);	// block 8: next position too
	ASSERT_EQ(rig.target->write(200, pattern(200, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(72, pattern(72, 8, 1)), 0);	// block 9: after block 25's
	ASSERT_EQ(rig.target->message({"clear_stats"}), 0);

	wc_bio b = {0, 96, 0};
	wc_map_result r;
	wc_core_map(rig.target->core(), &b, 0, &r);
	EXPECT_EQ(r.action, WC_MAP_REMAP_CACHE);
	EXPECT_EQ(r.accept_sectors, 72u);	// blocks 0-8
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_READS], 9u);
	EXPECT_EQ(st[WC_STATUS_READ_HITS], 9u);

	// and through the model, the data
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 80, &out), 0);
	auto want = pattern(0, 64, 1), tail = pattern(64, 16, 1);
	want.insert(want.end(), tail.begin(), tail.end());
	EXPECT_EQ(out, want);
}

// wcctl prints the RAM a cache needs before creating it: the core's own
// figure must be what the core then allocates.
TEST(Cache, RamBytesIsWhatTheLoadAllocates)
{
	for (const char *mode : {"s", "p"}) {
		for (uint64_t sectors : {uint64_t(2048), uint64_t(16384), uint64_t(65536)}) {
			model::SimDevice origin(8), cache(sectors);
			std::unique_ptr<model::SimPmem> pmem;
			unsigned long long n, meta;

			if (mode[0] == 'p') {
				pmem = std::make_unique<model::SimPmem>(sectors * 512);
				model::SimPmem::active = pmem.get();
			}
			ASSERT_EQ(wc_core_layout(sectors * 512, 4096, &n, &meta), 0);
			unsigned long long before = model::core_bytes_allocated();
			{
				model::Model m(origin, cache, pmem.get());
				std::string e;

				ASSERT_EQ(m.create({mode, "o", "c", "4096", "0"}, &e), 0) << e;
				EXPECT_EQ(wc_core_n_blocks(m.core()), n);
				EXPECT_EQ(model::core_bytes_allocated() - before,
					  wc_core_ram_bytes(n, meta)) << mode << " " << sectors;
			}
			model::SimPmem::active = nullptr;
		}
	}
}

// The status line is wc_core.h's field list, in its order.
TEST(Status, LineIsTheFieldsInTheHeadersOrder)
{
	Rig rig(kOrigin, kCache);
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 16, 1)), 0);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 8, &out), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	unsigned long long f[WC_STATUS_NR_FIELDS];

	wc_core_status_fields(rig.target->core(), f);
	auto line = rig.status();
	ASSERT_EQ(line.size(), size_t(WC_STATUS_NR_FIELDS));
	for (unsigned i = 0; i < WC_STATUS_NR_FIELDS; i++)
		EXPECT_EQ(line[i], f[i]) << "field " << i;
	EXPECT_EQ(f[WC_STATUS_WRITES], 2u);
	EXPECT_EQ(f[WC_STATUS_READ_HITS], 1u);
	EXPECT_EQ(f[WC_STATUS_FLUSHES], 1u);
	EXPECT_EQ(f[WC_STATUS_FREE], f[WC_STATUS_BLOCKS] - 2);
}
