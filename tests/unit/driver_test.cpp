// SPDX-License-Identifier: GPL-2.0
// The driver's exact op sequences (kernel/driver, shared with the module).
//
// The crash tests check end states; these check the order of the I/O the
// driver issues for the core's programs, map answers and writeback, op by
// op, as the module would issue it: each sequence below is what the
// persistence invariants (kernel/core/cache.h) require.
#include <gtest/gtest.h>

#include "model_helpers.h"

using namespace wc;
using namespace wc::test;

namespace {

using Ops = std::vector<std::string>;

constexpr uint64_t kOrigin = 8 * 1024 * 2;	// 8 MiB
constexpr uint64_t kCache = 4 * 1024 * 2;	// 4 MiB: metadata in 32 sectors

struct Traced {
	model::SimDevice origin{kOrigin};
	model::SimDevice cache;
	std::unique_ptr<model::Model> m;
	Ops log;

	explicit Traced(std::vector<std::string> table = {"s", "o", "c", "4096", "0"},
			uint64_t cache_sectors = kCache)
		: cache(cache_sectors)
	{
		std::string e;

		m = std::make_unique<model::Model>(origin, cache);
		m->op_log = &log;
		EXPECT_EQ(m->create(table, &e), 0) << e;
	}
	// The ops since the last call.
	Ops take()
	{
		Ops l = log;

		log.clear();
		return l;
	}
};

TEST(DriverSequence, FormatWritesTheSuperblockLastBetweenFlushes)
{
	Traced t;

	EXPECT_EQ(t.take(), (Ops{
		"meta_read 0+8",	// the first block: blank, so format
		"meta_write 0+32",	// all metadata, magic still zero
		"meta_wait",
		"flush cache",		// durable before the magic says "formatted"
		"meta_write 0+8",	// the superblock with the magic
		"meta_wait",
		"flush cache",
		"meta_read 0+32",	// resume: the load
	}));
}

TEST(DriverSequence, CommitFlushesTheCacheBetweenDataAndSuperblock)
{
	Traced t;

	t.take();
	ASSERT_EQ(t.m->write(8, pattern(8, 8, 1)), 0);
	EXPECT_EQ(t.take(), (Ops{"remap cache 32+8"}));
	ASSERT_EQ(t.m->flush(), 0);
	// I1: entries, then the data writes are waited for and flushed, and
	// only then does the superblock's seq_count commit them, with FUA.
	EXPECT_EQ(t.take(), (Ops{
		"meta_write 0+8",
		"meta_wait",
		"wait cache writes",
		"flush cache",
		"meta_write_fua 0+8",
		"remap origin 0+0",	// dm's second flush bio: the origin
	}));
	// Nothing left to commit: a flush is only the origin's.
	ASSERT_EQ(t.m->flush(), 0);
	EXPECT_EQ(t.take(), (Ops{"remap origin 0+0"}));
}

TEST(DriverSequence, RetireFlushesTheOriginBeforeFreeing)
{
	Traced t;

	ASSERT_EQ(t.m->write(8, pattern(8, 8, 1)), 0);
	ASSERT_EQ(t.m->flush(), 0);
	t.take();
	t.m->writeback(true);
	// I3: the origin holds the copy durably before the block is freed;
	// reads of the block finish before it can be reused; the freed entry
	// is written and flushed before anything can allocate it (I2).
	EXPECT_EQ(t.take(), (Ops{
		"submit_job 8+8",
		"sleep",		// draining: wait for the job
		"pop_done",
		"flush origin",
		"wait cache reads",
		"meta_write 0+8",
		"meta_wait",
		"flush cache",
	}));
	EXPECT_EQ(status_fields(t.m->status())[WC_STATUS_FREE], status_fields(t.m->status())[WC_STATUS_BLOCKS]);
}

TEST(DriverSequence, MetadataWritesWaitEveryFourBuffers)
{
	// 64 MiB of 512-byte blocks: 2 MiB of metadata, 32 buffers of 64 KiB.
	Traced t({"s", "o", "c", "512", "0"}, 64 * 1024 * 2);
	Ops format = t.take();
	unsigned in_flight = 0, writes = 0, max_in_flight = 0;

	for (auto &op : format) {
		if (op.rfind("meta_write ", 0) == 0) {
			writes++;
			max_in_flight = std::max(max_in_flight, ++in_flight);
		} else if (op == "meta_wait") {
			in_flight = 0;
		} else {
			EXPECT_EQ(in_flight, 0u) << op << " with metadata writes in flight";
		}
	}
	EXPECT_GT(writes, 8u);
	EXPECT_EQ(max_in_flight, unsigned(WC_DRV_META_BUFS));
}

TEST(DriverSequence, WritebackJobsThrottleWaitsBetweenJobs)
{
	Traced t({"s", "o", "c", "4096", "2", "writeback_jobs", "1"});

	// Three blocks far apart: three jobs.
	for (uint64_t b : {1, 10, 20})
		ASSERT_EQ(t.m->write(b * 8, pattern(b * 8, 8, 1)), 0);
	ASSERT_EQ(t.m->flush(), 0);
	t.take();
	t.m->writeback(true);
	Ops ops = t.take();
	std::vector<size_t> submits;

	for (size_t i = 0; i < ops.size(); i++)
		if (ops[i].rfind("submit_job", 0) == 0)
			submits.push_back(i);
	ASSERT_EQ(submits.size(), 3u);
	// With one job allowed in flight, the next is submitted only after
	// the last one retired.
	for (size_t k = 0; k + 1 < submits.size(); k++) {
		EXPECT_EQ(ops[submits[k] + 1], "sleep");
		EXPECT_EQ(ops[submits[k] + 2], "pop_done");
		EXPECT_EQ(ops[submits[k] + 3], "flush origin");
	}
}

TEST(DriverSequence, PmemWriteIsACopyAndFlushCommitsWithoutIO)
{
	model::SimDevice origin(kOrigin), unused(8);
	model::SimPmem pmem(4 << 20);
	model::Model m(origin, unused, &pmem);
	Ops log;
	std::string e;

	ASSERT_EQ(m.create({"p", "o", "c", "4096", "0"}, &e), 0) << e;
	m.op_log = &log;
	ASSERT_EQ(m.write(8, pattern(8, 16, 1)), 0);
	// One block at a time, both through the same bio.
	EXPECT_EQ(log, (Ops{"copy_pmem 0+4096", "copy_pmem 0+4096"}));
	log.clear();
	ASSERT_EQ(m.flush(), 0);
	// Stores and fences in the core: one flush bio, no I/O.
	EXPECT_EQ(log, Ops{});
}

TEST(DriverErrors, FailedCacheWriteLatchesAtTheNextLock)
{
	Traced t;

	t.cache.fail_writes = true;
	EXPECT_EQ(t.m->write(8, pattern(8, 8, 1)), -WC_EIO);
	t.cache.fail_writes = false;
	// end_io noted it; the next call into the driver latched it.
	EXPECT_EQ(status_fields(t.m->status())[WC_STATUS_ERROR], 1u);
	t.take();
	// A flush after the latch fails, and writes nothing.
	EXPECT_EQ(t.m->flush(), -WC_EIO);
	for (auto &op : t.take())
		EXPECT_EQ(op.rfind("meta_write", 0), std::string::npos) << op;
	EXPECT_EQ(t.m->write(16, pattern(16, 8, 1)), -WC_EIO);
}

TEST(DriverErrors, FailedMetadataWriteFailsTheFlush)
{
	Traced t;

	ASSERT_EQ(t.m->write(8, pattern(8, 8, 1)), 0);
	t.cache.fail_writes = true;
	EXPECT_EQ(t.m->flush(), -WC_EIO);
	t.cache.fail_writes = false;
	EXPECT_NE(status_fields(t.m->status())[WC_STATUS_ERROR], 0u);
}

} // namespace

namespace {

// A cache data write fails while the commit waits for the writes in
// flight: end_io notes it then, and the commit must stop before the
// superblock, or a committed entry would map data that is not there.
TEST(DriverErrors, DataWriteFailingDuringTheCommitsWaitStopsTheCommit)
{
	Traced t;

	ASSERT_EQ(t.m->write(8, pattern(8, 8, 1)), 0);
	t.m->on_wait_cache_writes = [&t] {
		t.m->note_error(WC_DRV_ERR_CACHE_WRITE);
		t.m->on_wait_cache_writes = nullptr;
	};
	t.take();
	EXPECT_EQ(t.m->flush(), -WC_EIO);
	for (auto &op : t.take())
		EXPECT_NE(op, "meta_write_fua 0+8") << "the superblock was written";
	EXPECT_EQ(status_fields(t.m->status())[WC_STATUS_ERROR], 1u);
	// The block was never committed: a reload does not find it.
	std::string e;
	model::Model again(t.origin, t.cache);
	ASSERT_EQ(again.create({"s", "o", "c", "4096", "0"}, &e), 0) << e;
	EXPECT_EQ(status_fields(again.status())[WC_STATUS_FREE],
		  status_fields(again.status())[WC_STATUS_BLOCKS]);
}

} // namespace

namespace {

// SSD mode: the superblock reads, the entries do not.  The load is
// refused (in-tree takes every entry as free and loads in the error
// state, so committed blocks read the origin's stale data), writes
// nothing, and once the device heals every committed block is found.
TEST(DriverErrors, UnreadableEntriesRefuseTheLoad)
{
	Traced t;

	ASSERT_EQ(t.m->write(8, pattern(8, 8, 1)), 0);
	ASSERT_EQ(t.m->write(800, pattern(800, 16, 1)), 0);
	ASSERT_EQ(t.m->flush(), 0);
	t.m->suspend();
	t.m.reset();

	// The constructor's read of the first block works; the load's fails.
	t.cache.fail_reads_from = 8;
	model::clear_log();
	Ops log;
	std::string e;
	model::Model m(t.origin, t.cache);
	m.op_log = &log;
	EXPECT_EQ(m.create({"s", "o", "c", "4096", "0"}, &e), -WC_EIO);
	EXPECT_NE(e.find("resume failed"), std::string::npos) << e;
	bool refused = false;
	for (auto &l : model::log_lines())
		refused |= l.find("refusing to load the cache") != std::string::npos;
	EXPECT_TRUE(refused);
	for (auto &op : log)
		EXPECT_EQ(op.rfind("meta_write", 0), std::string::npos) << op;
	std::vector<uint8_t> out;
	EXPECT_EQ(m.read(8, 8, &out), -WC_EIO);
	EXPECT_TRUE(wc_core_validate(m.core()));

	// Healed: a retried resume of the same target finds both blocks, in
	// the error state its failure latched.
	t.cache.fail_reads_from = ~0ULL;
	ASSERT_EQ(m.resume(), 0);
	ASSERT_EQ(m.read(8, 8, &out), 0);
	EXPECT_EQ(out, pattern(8, 8, 1));
	ASSERT_EQ(m.read(800, 16, &out), 0);
	EXPECT_EQ(out, pattern(800, 16, 1));
	EXPECT_EQ(status_fields(m.status())[WC_STATUS_ERROR], 1u);
	EXPECT_EQ(m.write(16, pattern(16, 8, 2)), -WC_EIO);

	// A new table starts clean.
	model::Model again(t.origin, t.cache);
	ASSERT_EQ(again.create({"s", "o", "c", "4096", "0"}, &e), 0) << e;
	EXPECT_EQ(status_fields(again.status())[WC_STATUS_ERROR], 0u);
	ASSERT_EQ(again.read(800, 16, &out), 0);
	EXPECT_EQ(out, pattern(800, 16, 1));
}

} // namespace

namespace {

// The read rule: a read of a block whose write failed returns a version
// written to it, or fails; never what the failed write left in the cache
// block.  Here the block was written back and freed: the failed write's
// new block is forgotten, and the read finds the origin's version.
TEST(ReadRule, FailedWriteOfANewBlockReadsTheOriginsVersion)
{
	Traced t;

	ASSERT_EQ(t.m->write(16, pattern(16, 8, 1)), 0);
	// Another sector's data in the blocks that the next write may take.
	for (uint64_t b = 3; b < 40; b++)
		ASSERT_EQ(t.m->write(b * 8, pattern(b * 8, 8, 9)), 0);
	ASSERT_EQ(t.m->flush(), 0);
	t.m->drain();
	ASSERT_EQ(t.m->discard(24, 37 * 8), 0);
	ASSERT_EQ(status_fields(t.m->status())[WC_STATUS_FREE],
		  status_fields(t.m->status())[WC_STATUS_BLOCKS]);

	t.cache.fail_writes = true;
	EXPECT_EQ(t.m->write(16, pattern(16, 8, 2)), -WC_EIO);
	t.cache.fail_writes = false;
	std::vector<uint8_t> out;
	ASSERT_EQ(t.m->read(16, 8, &out), 0);
	EXPECT_EQ(out, pattern(16, 8, 1));
	EXPECT_EQ(status_fields(t.m->status())[WC_STATUS_ERROR], 1u);
	EXPECT_TRUE(wc_core_validate(t.m->core()));
}

// A new copy beside a committed one under writeback: the failed write's
// copy leaves the index, which uncovers the committed one.  A block
// written successfully before the failure still reads its new data.
TEST(ReadRule, FailedWriteBesideACopyUnderWritebackReadsThatCopy)
{
	Traced t;
	std::vector<wc_wb_job> held;

	ASSERT_EQ(t.m->write(16, pattern(16, 8, 1)), 0);
	ASSERT_EQ(t.m->flush(), 0);
	t.m->copy_job = [&](const wc_wb_job &job) {
		held.push_back(job);
		return model::Model::kKeepJob;
	};
	t.m->writeback(true);
	ASSERT_EQ(held.size(), 1u);

	ASSERT_EQ(t.m->write(64, pattern(64, 8, 3)), 0);
	t.cache.fail_writes = true;
	EXPECT_EQ(t.m->write(16, pattern(16, 8, 2)), -WC_EIO);
	t.cache.fail_writes = false;
	std::vector<uint8_t> out;
	ASSERT_EQ(t.m->read(16, 8, &out), 0);
	EXPECT_EQ(out, pattern(16, 8, 1));
	ASSERT_EQ(t.m->read(64, 8, &out), 0);
	EXPECT_EQ(out, pattern(64, 8, 3));
	EXPECT_TRUE(wc_core_validate(t.m->core()));
}

} // namespace
