// SPDX-License-Identifier: GPL-2.0
// The fault sweep: one device fails its N-th read, write or flush (once, or
// that one and every later one), for every N a workload reaches, on the
// cache and on the origin, in both modes.  The workload writes, flushes,
// writes back, retires, suspends and resumes (a load), so every phase meets
// every fault.  While the fault lasts:
//   - every call returns 0 or -EIO, and nothing hangs (the model gives up
//     where nothing can change);
//   - a read returns the block's latest acknowledged version, or, for a
//     block whose write failed, a version that was written to it; never
//     bytes never written there (the read rule); or it fails with EIO;
//   - once the error state is latched (status), new writes and flushes
//     fail with EIO;
//   - a failed cache write or flush latches the error state.
// Then the device heals and the table is reloaded: the load succeeds,
// the error is gone, and every block holds what the last completed flush
// covered or something written since (CrashOracle), so no committed
// write is lost.
#include <gtest/gtest.h>

#include <random>

#include "model_helpers.h"
#include "sim_pmem.h"

using namespace wc;
using namespace wc::test;
using Io = model::SimDevice::Io;

namespace {

constexpr uint64_t kBlocks = 48;
constexpr uint32_t kBlockSectors = 8;
constexpr uint64_t kCacheBytes = 128 << 10;	// ~28 blocks: writeback runs
constexpr int kSteps = 120;

std::vector<uint8_t> content(uint64_t b, uint64_t v)
{
	if (!v)
		return std::vector<uint8_t>(kBlockSectors * kSector, 0);
	return pattern(b * kBlockSectors, kBlockSectors, v);
}

struct Fault {
	bool on_cache = true;
	Io kind = Io::kWrite;
	uint64_t n = 0;		// 0: no fault
	bool sticky = true;	// the N-th and every later one, or the N-th only
};

std::string describe(const Fault &f)
{
	static const char *const kinds[] = {"read", "write", "flush"};

	return std::string(f.on_cache ? "cache " : "origin ") + kinds[int(f.kind)] + " " +
	       std::to_string(f.n) + (f.sticky ? " and later" : " only");
}

struct Run {
	bool pmem;
	Fault fault;
	model::SimDevice origin{kBlocks * kBlockSectors};
	model::SimDevice cache{pmem ? 8 : kCacheBytes / kSector};
	std::unique_ptr<model::SimPmem> pm;
	std::unique_ptr<model::Model> target;
	std::vector<std::string> table;
	CrashOracle ref;
	std::map<uint64_t, std::set<uint64_t>> now;	// what a read may return
	std::set<uint64_t> failed;	// blocks with a failed write
	uint64_t version = 0;
	uint64_t seen[2][3] = {};	// [cache?][kind]: operations reached
	uint64_t fired = 0;
	bool refused = false;	// the constructor failed

	explicit Run(bool p, Fault f = {}) : pmem(p), fault(f)
	{
		if (pmem)
			pm = std::make_unique<model::SimPmem>(kCacheBytes);
		table = {pmem ? "p" : "s", "o", "c", "4096", "4", "high_watermark", "50",
			 "low_watermark", "30"};
		for (bool on_cache : {false, true}) {
			model::SimDevice &dev = on_cache ? cache : origin;

			dev.fail_io = [this, on_cache](Io kind) {
				uint64_t n = ++seen[on_cache][int(kind)];
				bool fail = fault.n && fault.on_cache == on_cache &&
					    fault.kind == kind &&
					    (fault.sticky ? n >= fault.n : n == fault.n);

				fired += fail;
				return fail;
			};
		}
	}

	int open(std::string *error)
	{
		target = std::make_unique<model::Model>(origin, cache, pm.get());
		return target->create(table, error);
	}

	bool latched() { return status_fields(target->status())[WC_STATUS_ERROR] != 0; }

	// One step of the workload; false once the target stays suspended.
	bool step(std::mt19937_64 &rng, int i)
	{
		unsigned what = rng() % 100;
		bool was_latched = latched();

		if (what < 50) {
			uint64_t first = rng() % kBlocks;
			uint64_t n = std::min<uint64_t>(1 + rng() % 2, kBlocks - first);
			bool fua = what < 8;
			std::vector<uint8_t> data;

			version++;
			for (uint64_t b = first; b < first + n; b++) {
				auto c = content(b, version);
				data.insert(data.end(), c.begin(), c.end());
				ref.written(b, version);
			}
			int r = target->write(first * kBlockSectors, data, fua ? WC_BIO_FUA : 0);
			EXPECT_TRUE(r == 0 || r == -5) << "write returned " << r << " at step " << i;
			EXPECT_TRUE(!was_latched || r == -5)
				<< "a write after the error latch succeeded, step " << i;
			for (uint64_t b = first; b < first + n; b++) {
				if (r == 0) {
					now[b] = {version};
					if (fua)
						ref.written_fua(b, version);
				} else {
					now[b].insert(version);
					failed.insert(b);
				}
			}
		} else if (what < 62) {
			int r = target->flush();
			EXPECT_TRUE(r == 0 || r == -5) << "flush returned " << r << " at step " << i;
			EXPECT_TRUE(!was_latched || r == -5)
				<< "a flush after the error latch succeeded, step " << i;
			if (r == 0)
				ref.flushed();
		} else if (what < 72) {
			target->writeback(what == 71);
		} else if (what < 76) {
			target->autocommit();
		} else if (what < 97) {
			uint64_t b = rng() % kBlocks;
			std::vector<uint8_t> out;
			int r = target->read(b * kBlockSectors, kBlockSectors, &out);

			EXPECT_TRUE(r == 0 || r == -5) << "read returned " << r << " at step " << i;
			if (r == 0)
				check_read(b, out, i);
		} else {
			// A suspend and a resume: the resume loads the metadata.
			// With the error latched (before, or by the suspend's
			// own commit) the suspend cannot commit, so the load
			// finds the last committed state, as in-tree's does:
			// writes acknowledged since the last completed flush
			// may be gone, as at a power cut.
			target->suspend();
			if (target->resume())
				return false;
			if (latched())
				for (uint64_t b = 0; b < kBlocks; b++) {
					auto a = ref.allowed(b);
					now[b].insert(a.begin(), a.end());
				}
		}
		if (fired && fault.on_cache && fault.kind != Io::kRead && !pmem) {
			EXPECT_TRUE(latched()) << "a failed cache "
					       << (fault.kind == Io::kWrite ? "write" : "flush")
					       << " did not latch the error, step " << i;
		}
		return true;
	}

	void check_read(uint64_t b, const std::vector<uint8_t> &out, int i)
	{
		std::set<uint64_t> ok = now.count(b) ? now[b] : std::set<uint64_t>{0};

		if (failed.count(b)) {
			auto more = ref.ever(b);
			ok.insert(more.begin(), more.end());
		}
		for (uint64_t v : ok)
			if (out == content(b, v))
				return;
		int64_t got = -1;
		for (uint64_t v : ref.ever(b))
			if (out == content(b, v))
				got = int64_t(v);
		ADD_FAILURE() << "block " << b << " reads version " << got << " (-1: none written"
			      << " to it), allowed " << describe_versions(ok) << ", at step " << i
			      << (failed.count(b) ? " (a write to it failed)" : "") << "; "
			      << target->status();
	}

	// The device heals; the table is reloaded.
	void heal_and_verify()
	{
		std::string error;

		fault.n = 0;
		if (!refused)
			target->suspend();
		ASSERT_EQ(open(&error), 0) << "the reload after healing failed: " << error;
		ASSERT_FALSE(latched()) << target->status();
		for (uint64_t b = 0; b < kBlocks; b++) {
			std::vector<uint8_t> out;
			bool ok = false;

			ASSERT_EQ(target->read(b * kBlockSectors, kBlockSectors, &out), 0);
			for (uint64_t v : ref.allowed(b))
				ok = ok || out == content(b, v);
			ASSERT_TRUE(ok) << "block " << b << " lost a committed write";
		}
	}

	void go(uint64_t seed)
	{
		std::mt19937_64 rng(seed);
		std::string error;

		// A fault in the constructor's own reads and writes (the
		// superblock, the format) refuses the table, with a message.
		if (open(&error)) {
			EXPECT_FALSE(error.empty());
			EXPECT_TRUE(fired) << "create failed without a fault: " << error;
			refused = true;
			return;
		}
		for (int i = 0; i < kSteps; i++) {
			if (!step(rng, i) || ::testing::Test::HasFailure())
				break;
		}
	}
};

struct Outcomes {
	unsigned cases = 0, fired = 0, latched = 0, refused_resume = 0;
};

void sweep(bool pmem, uint64_t seed, Outcomes *out)
{
	Run dry(pmem);

	dry.go(seed);
	ASSERT_FALSE(::testing::Test::HasFailure());
	for (bool on_cache : {true, false}) {
		if (pmem && on_cache)
			continue;	// a pmem cache does not fail its I/O (see Pmem.* poison)
		for (Io kind : {Io::kRead, Io::kWrite, Io::kFlush}) {
			uint64_t total = dry.seen[on_cache][int(kind)];

			for (uint64_t n = 1; n <= total; n++)
				for (bool sticky : {true, false}) {
					Fault f{on_cache, kind, n, sticky};
					Run run(pmem, f);

					SCOPED_TRACE(describe(f));
					run.go(seed);
					bool latched = run.latched();
					out->cases++;
					out->fired += run.fired != 0;
					out->latched += latched;
					run.heal_and_verify();
					if (::testing::Test::HasFailure())
						return;
				}
		}
	}
}

} // namespace

// Three workloads per mode; the counts are printed and held to floors, so
// that a change cannot shrink the sweep silently.
static Outcomes sweep_workloads(bool pmem, std::initializer_list<uint64_t> seeds)
{
	Outcomes o;

	for (uint64_t seed : seeds) {
		sweep(pmem, seed, &o);
		if (::testing::Test::HasFailure())
			break;
	}
	printf("fault sweep %s: %u cases, %u with a fault reached, %u latched\n",
	       pmem ? "pmem" : "ssd", o.cases, o.fired, o.latched);
	return o;
}

TEST(FaultSweep, SsdEveryFaultAtEveryPhase)
{
	Outcomes o = sweep_workloads(false, {3, 5, 7});

	if (HasFailure())
		return;
	EXPECT_GE(o.cases, 1650u);
	EXPECT_GE(o.latched, 1450u);
}

TEST(FaultSweep, PmemOriginFaultsAtEveryPhase)
{
	Outcomes o = sweep_workloads(true, {4, 6, 8});

	if (HasFailure())
		return;
	EXPECT_GE(o.cases, 330u);
	EXPECT_GE(o.latched, 230u);
}
