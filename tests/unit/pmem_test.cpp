// SPDX-License-Identifier: GPL-2.0
// Persistent-memory mode through the model, with simulated pmem: its rules.
// Power loss at every store and fence is crash_test.cpp's (the pmem_*
// configurations).
#include <gtest/gtest.h>

#include <unistd.h>

#include "model_helpers.h"
#include "ondisk.h"

using namespace wc;
using namespace wc::test;

namespace {

constexpr uint64_t kOrigin = 16 * 1024 * 2;	// 16 MiB
constexpr uint64_t kPmemBytes = 1 << 20;	// 1 MiB: 252 blocks

// The pmem is a file mapped through libpmem2, as a real pmem file would be.
std::string pmem_path()
{
	static int n;
	return "/tmp/wc-pmem-test-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

struct PmemRig {
	// `file` false: anonymous memory, for tests that build many rigs, as
	// libpmem2 flushes a non-DAX file with msync at every fence.
	explicit PmemRig(bool file = true, uint64_t origin_sectors = kOrigin)
		: path(file ? pmem_path() : ""), origin(origin_sectors), pmem(kPmemBytes, path)
	{
	}
	~PmemRig()
	{
		if (!path.empty())
			unlink(path.c_str());
	}

	std::string path;
	model::SimDevice origin;
	model::SimDevice unused{8};
	model::SimPmem pmem;
	std::unique_ptr<model::Model> target;
	std::vector<std::string> table = {"p", "o", "c", "4096", "0"};

	int open(std::string *error = nullptr)
	{
		std::string e;
		target = std::make_unique<model::Model>(origin, unused, &pmem);
		int r = target->create(table, &e);
		if (error)
			*error = e;
		return r;
	}
	std::vector<uint64_t> status() { return status_fields(target->status()); }
	disk::Superblock sb()
	{
		disk::Superblock s;
		memcpy(&s, pmem.data(), sizeof(s));
		return s;
	}
};

} // namespace

// A power loss at any store or fence of the format leaves neither magic
// nor version (they are one word, stored last) or both, and a blank
// superblock is formatted again.
TEST(Pmem, ACrashedFormatIsFormattedAgain)
{
	constexpr uint64_t kSmallOrigin = 2048;
	PmemRig rig(false, kSmallOrigin);
	unsigned blank = 0, images = 0;
	uint64_t ops = 0;

	// Each image is recovered at once, inside the hook, on a rig of its
	// own; the format's pmem is the active one again afterwards.
	rig.pmem.before_op = [&] {
		ops++;
		for (bool keep : {true, false}) {
			auto image = rig.pmem.image_keeping([&](size_t) { return keep; });
			disk::Superblock sb;
			memcpy(&sb, image.data(), sizeof(sb));
			EXPECT_EQ(sb.magic == 0, sb.version == 0) << "op " << ops;
			blank += sb.magic == 0;
			images++;
			PmemRig after(false, kSmallOrigin);
			after.pmem.load_image(image);
			std::string error;
			EXPECT_EQ(after.open(&error), 0) << "crash at op " << ops << ": " << error;
			EXPECT_EQ(after.sb().magic, disk::kMagic);
			EXPECT_EQ(after.status()[WC_STATUS_FREE], after.status()[WC_STATUS_BLOCKS]);
		}
		model::SimPmem::active = &rig.pmem;
	};
	ASSERT_EQ(rig.open(), 0);
	rig.pmem.before_op = nullptr;
	EXPECT_GT(images, 200u);
	EXPECT_GE(blank, 2u);
}

TEST(Pmem, FormatsAndCommitsWithFences)
{
	PmemRig rig;
	ASSERT_TRUE(rig.pmem.file_backed());
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.sb().magic, disk::kMagic);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	EXPECT_EQ(n, rig.sb().n_blocks);
	ASSERT_EQ(rig.target->write(64, pattern(64, 16, 1)), 0);
	EXPECT_EQ(rig.sb().seq_count, 0u);
	ASSERT_EQ(rig.target->flush(), 0);
	EXPECT_EQ(rig.sb().seq_count, 1u);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(64, 16, &out), 0);
	EXPECT_EQ(out, pattern(64, 16, 1));
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 2);
}

TEST(Pmem, CommittedBlocksAreNeverRewrittenInPlace)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 1)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 2)), 0);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_WRITE_HITS_COMMITTED], 1u);
	EXPECT_EQ(st[WC_STATUS_FREE], n - 2);	// the old copy stays until the commit
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(64, 8, &out), 0);
	EXPECT_EQ(out, pattern(64, 8, 2));
	ASSERT_EQ(rig.target->flush(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 1);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
}

TEST(Pmem, FuaCommitsAndAutocommitBlocks)
{
	PmemRig rig;
	rig.table = {"p", "o", "c", "4096", "2", "autocommit_blocks", "3"};
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 8, 1), WC_BIO_FUA), 0);
	EXPECT_EQ(rig.sb().seq_count, 1u);
	ASSERT_EQ(rig.target->write(8, pattern(8, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(16, pattern(16, 8, 1)), 0);
	EXPECT_EQ(rig.sb().seq_count, 1u);
	ASSERT_EQ(rig.target->write(24, pattern(24, 8, 1)), 0);
	EXPECT_EQ(rig.sb().seq_count, 2u);
}

TEST(Pmem, DrainsToTheOriginAndReloads)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	for (uint64_t b = 0; b < 40; b++)
		ASSERT_EQ(rig.target->write(b * 24, pattern(b * 24, 8, 3)), 0);
	ASSERT_EQ(rig.target->message({"flush"}), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n);
	for (uint64_t b = 0; b < 40; b++)
		EXPECT_EQ(memcmp(&rig.origin.durable()[b * 24 * kSector],
				 pattern(b * 24, 8, 3).data(), 4096), 0);
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n);
}

TEST(Pmem, FullCacheWaitsInsteadOfWritingAround)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	for (uint64_t b = 0; b < n + 10; b++)
		ASSERT_EQ(rig.target->write(b * 8, pattern(b * 8, 8, 1)), 0);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_WRITES_AROUND], 0u);
	EXPECT_GT(st[WC_STATUS_WRITES_BLOCKED_ON_FREELIST], 0u);
	std::vector<uint8_t> out;
	for (uint64_t b = 0; b < n + 10; b++) {
		ASSERT_EQ(rig.target->read(b * 8, 8, &out), 0);
		ASSERT_EQ(out, pattern(b * 8, 8, 1)) << "block " << b;
	}
}

// One read over hit, miss, hit, miss blocks: every part comes from where
// its block is (a read that copies a hit and then meets a miss must stop
// the origin part at the next cached block).
TEST(Pmem, ReadAlternatingHitsAndMisses)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(8, pattern(8, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(24, pattern(24, 8, 1)), 0);
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 40, &out), 0);
	std::vector<uint8_t> expect(40 * kSector, 0);
	memcpy(&expect[8 * kSector], pattern(8, 8, 1).data(), 4096);
	memcpy(&expect[24 * kSector], pattern(24, 8, 1).data(), 4096);
	EXPECT_EQ(out, expect);
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_READS], 5u);
	EXPECT_EQ(st[WC_STATUS_READ_HITS], 2u);
}

// --- hardware memory errors (copy_mc_to_kernel failures) -------------------

namespace {

// The cache block holding origin `sector` (committed or not), from the
// entries on the pmem; -1 if none.
int64_t block_of(PmemRig &rig, uint64_t sector)
{
	uint64_t n = rig.sb().n_blocks;

	for (uint64_t i = 0; i < n; i++) {
		disk::Entry e;
		memcpy(&e, rig.pmem.data() + disk::entry_offset(i), sizeof(e));
		if (e.original_sector == sector && e.seq_count != disk::kFreeSeq)
			return int64_t(i);
	}
	return -1;
}

uint64_t data_offset(PmemRig &rig, uint64_t block)
{
	uint64_t bs = rig.sb().block_size;
	uint64_t meta = (disk::entry_offset(rig.sb().n_blocks) + bs - 1) / bs * bs;

	return meta + block * bs;
}

bool logged(const std::string &what)
{
	for (auto &l : model::log_lines())
		if (l.find(what) != std::string::npos)
			return true;
	return false;
}

} // namespace

TEST(PmemMemoryError, UnreadableSuperblockIsRefused)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	rig.target->suspend();
	rig.pmem.poison(8, 8);
	std::string err;
	EXPECT_NE(rig.open(&err), 0);
	EXPECT_EQ(err, "Hardware memory error when reading superblock");
}

// A poisoned entry refuses the load (in-tree loads in the error state with
// that entry and every one after it free, and serves those blocks from the
// stale origin).  Each unreadable entry is named; once the memory is
// healed the cache loads with every committed block.
TEST(PmemMemoryError, UnreadableEntryRefusesTheLoad)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	for (uint64_t b = 0; b < 3; b++)
		ASSERT_EQ(rig.target->write(b * 64, pattern(b * 64, 8, 5)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	int64_t middle = block_of(rig, 64), last = block_of(rig, 128);
	ASSERT_GE(middle, 0);
	ASSERT_GE(last, 0);
	rig.target->suspend();
	rig.pmem.poison(disk::entry_offset(uint64_t(middle)), 16);
	rig.pmem.poison(disk::entry_offset(uint64_t(last)), 16);

	model::clear_log();
	std::string err;
	EXPECT_EQ(rig.open(&err), -WC_EIO);
	EXPECT_NE(err.find("resume failed"), std::string::npos) << err;
	for (int64_t b : {middle, last})
		EXPECT_TRUE(logged("hardware memory error when reading metadata entry " +
				   std::to_string(b)));
	EXPECT_TRUE(logged("refusing to load the cache"));
	// Should a bio reach the refused target, it fails.
	std::vector<uint8_t> out;
	EXPECT_EQ(rig.target->read(64, 8, &out), -WC_EIO);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));

	rig.pmem.clear_poison();
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_ERROR], 0u);
	for (uint64_t b = 0; b < 3; b++) {
		ASSERT_EQ(rig.target->read(b * 64, 8, &out), 0);
		EXPECT_EQ(out, pattern(b * 64, 8, 5)) << "block " << b;
	}
}

// The same target: its resume fails and it stays suspended; a resume
// after the memory healed loads every block, in the error state that the
// failure latched (writes fail until the table is reloaded).
TEST(PmemMemoryError, ResumeRefusedThenRetriedAfterHealing)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(64, pattern(64, 8, 5)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	int64_t b = block_of(rig, 64);
	ASSERT_GE(b, 0);
	rig.target->suspend();
	rig.pmem.poison(disk::entry_offset(uint64_t(b)), 16);
	EXPECT_EQ(rig.target->resume(), -WC_EIO);
	std::vector<uint8_t> out;
	EXPECT_EQ(rig.target->read(64, 8, &out), -WC_EIO);
	rig.pmem.clear_poison();
	ASSERT_EQ(rig.target->resume(), 0);
	ASSERT_EQ(rig.target->read(64, 8, &out), 0);
	EXPECT_EQ(out, pattern(64, 8, 5));
	EXPECT_EQ(rig.status()[WC_STATUS_ERROR], 1u);
	EXPECT_EQ(rig.target->write(512, pattern(512, 8, 6)), -WC_EIO);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
}

// A poisoned data block: its read fails and latches the error state; the
// other blocks stay readable, writes fail, nothing is written back.
TEST(PmemMemoryError, UnreadableDataFailsTheReadAndLatchesError)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 24, 7)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	int64_t second = block_of(rig, 8);
	ASSERT_GE(second, 0);
	rig.pmem.poison(data_offset(rig, uint64_t(second)) + 512, 64);

	std::vector<uint8_t> out;
	EXPECT_EQ(rig.target->read(0, 24, &out), -WC_EIO);
	EXPECT_EQ(rig.status()[WC_STATUS_ERROR], 1u);
	ASSERT_EQ(rig.target->read(16, 8, &out), 0);
	EXPECT_EQ(out, pattern(16, 8, 7));
	EXPECT_EQ(rig.target->write(16, pattern(16, 8, 8)), -WC_EIO);
	EXPECT_EQ(rig.target->writeback(true), 0u);
	ASSERT_EQ(rig.target->read(0, 8, &out), 0);
	EXPECT_EQ(out, pattern(0, 8, 7));
}

// I5: the old copy of an overwritten committed block leaves the index at
// once but stays allocated until the commit; a discard before the commit
// frees both copies, as in-tree does.
TEST(Pmem, SupersededCopyIsFreedByCommitOrDiscard)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	uint64_t n = rig.status()[WC_STATUS_BLOCKS];
	ASSERT_EQ(rig.target->write(0, pattern(0, 32, 1)), 0);
	ASSERT_EQ(rig.target->flush(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 32, 2)), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 8);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
	ASSERT_EQ(rig.target->discard(8, 16), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 4);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
	ASSERT_EQ(rig.target->flush(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 2);
	EXPECT_TRUE(wc_core_validate(rig.target->core()));
	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 8, &out), 0);
	EXPECT_EQ(out, pattern(0, 8, 2));
	ASSERT_EQ(rig.target->read(24, 8, &out), 0);
	EXPECT_EQ(out, pattern(24, 8, 2));
	// a reload finds only the new copies
	rig.target->suspend();
	ASSERT_EQ(rig.open(), 0);
	EXPECT_EQ(rig.status()[WC_STATUS_FREE], n - 2);
	ASSERT_EQ(rig.target->read(0, 8, &out), 0);
	EXPECT_EQ(out, pattern(0, 8, 2));
}

// A read over blocks that are adjacent in the mapping is one copy; the
// counters are those of a copy per block.
TEST(Pmem, ReadOfAdjacentBlocksIsOneCopy)
{
	PmemRig rig;
	ASSERT_EQ(rig.open(), 0);
	ASSERT_EQ(rig.target->write(0, pattern(0, 128, 1)), 0);	// 16 blocks, in FIFO order
	ASSERT_EQ(rig.target->write(256, pattern(256, 8, 1)), 0);
	ASSERT_EQ(rig.target->write(128, pattern(128, 8, 1)), 0);	// not after block 15
	ASSERT_EQ(rig.target->message({"clear_stats"}), 0);

	wc_bio b = {0, 160, 0};
	wc_map_result r;
	wc_core_map(rig.target->core(), &b, 0, &r);
	EXPECT_EQ(r.action, WC_MAP_COPY_PMEM);
	EXPECT_EQ(r.accept_sectors, 136u);	// the cached run: blocks 0-16
	EXPECT_EQ(r.copy_sectors, 128u);	// adjacent in the mapping: 0-15
	auto st = rig.status();
	EXPECT_EQ(st[WC_STATUS_READS], 16u);
	EXPECT_EQ(st[WC_STATUS_READ_HITS], 16u);

	std::vector<uint8_t> out;
	ASSERT_EQ(rig.target->read(0, 136, &out), 0);
	auto want = pattern(0, 136, 1);
	EXPECT_EQ(out, want);
}
