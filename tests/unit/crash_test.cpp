// SPDX-License-Identifier: GPL-2.0
// Power loss at every persistence point, in every configuration.
//
// A workload of writes (some FUA), flushes, writeback, autocommits, reads,
// discards and messages runs against a reference model (CrashOracle),
// starting on blank devices so that the format is crashed too.  Before
// every write and flush of either device, and before every pmem store and
// fence, the run takes power-loss images of the devices as they are at
// that instant, without stopping: every subset of the pending units (disk
// sectors, pmem words) when few are pending, otherwise a sample that
// includes "none", "all" and in-order prefixes.  A target built on each
// image must honour what the workload had been promised: every block reads
// as what the last completed flush covered, or as something written to
// that block since; never older data, never another block's data, and no
// error state.  A reload after that recovery must read the same again.
//
// Recovery is crashed as well: for a share of the images, the recovery's
// own writes and flushes are cut the same way, and a third target built on
// those images is held to the same promises.
//
// Each configuration counts its distinct crash states (by the content of
// both devices) and fails below a floor, so a refactor cannot shrink the
// sweep silently.  make check runs a bounded sweep; make stress sets
// WC_CRASH_STRESS=1 for the large one (at least 100,000 states).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string_view>
#include <unordered_set>

#include "model_helpers.h"
#include "sim_pmem.h"

using namespace wc;
using namespace wc::test;

namespace {

// The bounded sweep of make check; under ASan (make check's second unit
// build, there for memory errors) a smaller one, as every image costs
// several times more; make stress's large one.
enum class Scale { kCheck, kSanitizer, kStress };

Scale scale()
{
	if (getenv("WC_CRASH_STRESS"))
		return Scale::kStress;
#if defined(__SANITIZE_ADDRESS__)
	return Scale::kSanitizer;
#else
	return Scale::kCheck;
#endif
}

struct Config {
	std::string name;
	bool pmem = false;
	uint32_t block = 4096;		// bytes
	uint64_t cache_bytes = 160 << 10;	// ~36 blocks of 4 KiB
	std::vector<std::string> args;	// optional table arguments
	uint64_t start_sector = 0;	// the cache's data begins this far in
	uint64_t blocks = 64;		// working set, in blocks
	bool meta_writes = false;	// half the writes carry REQ_META
	int cleaner_at = -1;		// step that sends the "cleaner" message
	int steps = 100;
	uint64_t seed = 42;
	// Distinct states the sweep reaches at each scale.
	uint64_t floor = 0;
	uint64_t asan_floor = 0;
	uint64_t stress_floor = 0;

	uint64_t floor_at(Scale s) const
	{
		return s == Scale::kStress ? stress_floor
		       : s == Scale::kSanitizer ? asan_floor : floor;
	}

	uint32_t block_sectors() const { return block / kSector; }
	uint64_t origin_sectors() const { return blocks * block_sectors(); }
	std::vector<std::string> table() const
	{
		std::vector<std::string> t = {pmem ? "p" : "s", "o", "c", std::to_string(block)};
		std::vector<std::string> a = args;

		if (start_sector) {
			a.push_back("start_sector");
			a.push_back(std::to_string(start_sector));
		}
		t.push_back(std::to_string(a.size()));
		t.insert(t.end(), a.begin(), a.end());
		return t;
	}
};

struct Budget {
	size_t enumerate_up_to;		// pending units: every subset
	unsigned samples;		// random subsets beyond that
	unsigned recovery_crash_every;	// one image in this many
};

Budget budget()
{
	switch (scale()) {
	case Scale::kStress:
		return {10, 256, 8};
	case Scale::kSanitizer:
		return {3, 2, 64};
	case Scale::kCheck:
		break;
	}
	return {5, 10, 32};
}

struct Image {
	std::vector<uint8_t> origin, cache;
};

// The sweep hashes every image it takes: libstdc++'s hash of bytes is
// compiled optimised even in the ASan build.
uint64_t hash_bytes(const std::vector<uint8_t> &v, uint64_t h)
{
	std::string_view bytes(reinterpret_cast<const char *>(v.data()), v.size());

	return (h * 0x100000001b3ULL) ^ std::hash<std::string_view>{}(bytes);
}

// The environment's pmem functions act on the SimPmem made last; a
// recovery built inside the running workload's hook must hand them back.
struct KeepActivePmem {
	model::SimPmem *saved = model::SimPmem::active;
	~KeepActivePmem() { model::SimPmem::active = saved; }
};

// Devices and a target on them, for one configuration.
struct Target {
	const Config &cfg;
	model::SimDevice origin;
	model::SimDevice cache;
	std::unique_ptr<model::SimPmem> pmem;
	std::unique_ptr<model::Model> model;

	explicit Target(const Config &c)
		: cfg(c), origin(c.origin_sectors()),
		  cache(c.pmem ? 8 : c.start_sector + c.cache_bytes / kSector)
	{
		if (c.pmem)
			pmem = std::make_unique<model::SimPmem>(c.cache_bytes +
								c.start_sector * kSector);
	}
	// A reboot onto the image: the devices are reused (the sweep
	// recovers thousands of images; fresh devices cost more than the
	// recovery, under ASan most of all).
	void reboot(const Image &img)
	{
		model.reset();
		origin.load_image(img.origin);
		if (pmem) {
			pmem->load_image(img.cache);
			model::SimPmem::active = pmem.get();
		} else {
			cache.load_image(img.cache);
		}
	}

	int open(std::string *error)
	{
		if (model)
			model->suspend();
		model = std::make_unique<model::Model>(origin, cache, pmem.get());
		return model->create(cfg.table(), error);
	}
	// Calls `hook` before every write and flush of either device and
	// every store and fence of the pmem.
	void arm(const std::function<void()> &hook)
	{
		origin.before_op = hook;
		if (pmem)
			pmem->before_op = hook;
		else
			cache.before_op = hook;
	}
	size_t cache_units() const
	{
		return pmem ? pmem->pending_units() : cache.pending_units();
	}
	// A power-loss image that keeps the pending units keep() picks: the
	// origin's first, then the cache's.
	Image image(const std::function<bool(size_t)> &keep) const
	{
		size_t n = origin.pending_units();
		auto cache_keep = [&](size_t i) { return keep(n + i); };

		return {origin.image_keeping(keep),
			pmem ? pmem->image_keeping(cache_keep) : cache.image_keeping(cache_keep)};
	}
};

// Which version a sector of `block` holds (pattern() encodes it in every
// word), or -1.
int64_t identify(const Config &cfg, uint64_t block, uint32_t s, const uint8_t *data)
{
	static const uint8_t zeros[kSector] = {};
	uint64_t sector = block * cfg.block_sectors() + s;
	uint64_t w0, diff = 0;

	memcpy(&w0, data, 8);
	if (!w0)
		return memcmp(data, zeros, kSector) ? -1 : 0;
	uint64_t version = (w0 ^ (sector << 20)) >> 1;
	uint64_t base = (sector << 20) ^ (version << 1);

	for (uint32_t i = 0; i < kSector; i += 8) {
		uint64_t w;

		memcpy(&w, data + i, 8);
		diff |= w ^ base ^ i;
	}
	return diff ? -1 : int64_t(version);
}

class Sweep {
public:
	explicit Sweep(const Config &c) : cfg(c), bud(budget()), run(c) {}

	const Config &cfg;
	Budget bud;
	Target run;
	CrashOracle ref;
	uint64_t version = 0;
	std::unordered_set<uint64_t> distinct;
	uint64_t points = 0, images = 0, recovery_images = 0;
	std::string failure;
	// The targets recoveries reboot, one per depth (a recovery's own
	// crash images are recovered on the second).
	std::unique_ptr<Target> spare[2];

	void go()
	{
		std::mt19937_64 rng(cfg.seed);
		std::string error;

		run.arm([this] { at_point(); });
		ASSERT_EQ(run.open(&error), 0) << error;
		for (int i = 0; i < cfg.steps && failure.empty(); i++) {
			if (i == cfg.cleaner_at) {
				ASSERT_EQ(run.model->message({"cleaner"}), 0);
			}
			step(rng);
			if (::testing::Test::HasFatalFailure())
				return;
			ASSERT_TRUE(wc_core_validate(run.model->core())) << "after step " << i;
		}
		run.arm(nullptr);
		ASSERT_TRUE(failure.empty()) << failure;
	}

private:
	std::vector<uint8_t> content(uint64_t b, uint64_t v) const
	{
		if (!v)
			return std::vector<uint8_t>(cfg.block, 0);
		return pattern(b * cfg.block_sectors(), cfg.block_sectors(), v);
	}

	void step(std::mt19937_64 &rng)
	{
		unsigned what = rng() % 108;
		uint32_t bs = cfg.block_sectors();

		if (what < 60) {
			uint64_t first = rng() % cfg.blocks;
			uint64_t n = std::min<uint64_t>(1 + rng() % 4, cfg.blocks - first);
			bool fua = what < 12;
			unsigned flags = (fua ? WC_BIO_FUA : 0) |
					 (cfg.meta_writes && (what & 1) ? WC_BIO_META : 0);
			std::vector<uint8_t> data;

			version++;
			for (uint64_t b = first; b < first + n; b++) {
				auto c = content(b, version);
				data.insert(data.end(), c.begin(), c.end());
			}
			// Recorded before it is issued: a write cut short by
			// the power loss may still have reached the media.
			for (uint64_t b = first; b < first + n; b++)
				ref.written(b, version);
			ASSERT_EQ(run.model->write(first * bs, data, flags), 0);
			if (fua)
				for (uint64_t b = first; b < first + n; b++)
					ref.written_fua(b, version);
		} else if (what < 75) {
			ASSERT_EQ(run.model->flush(), 0);
			// Only a completed flush covers anything.
			ref.flushed();
		} else if (what < 85) {
			run.model->writeback(what == 84);
		} else if (what < 90) {
			run.model->autocommit();
		} else if (what < 100) {
			uint64_t b = rng() % cfg.blocks;
			std::vector<uint8_t> out;
			bool ok = false;

			ASSERT_EQ(run.model->read(b * bs, bs, &out), 0);
			for (uint64_t v : ref.readable(b))
				ok = ok || out == content(b, v);
			ASSERT_TRUE(ok) << "block " << b << " reads data never written to it";
		} else {
			// Up to 8 blocks: a range may hold several cached blocks,
			// committed or not, and blocks that are not cached.
			uint64_t first = rng() % cfg.blocks;
			uint64_t n = std::min<uint64_t>(1 + rng() % 8, cfg.blocks - first);

			for (uint64_t b = first; b < first + n; b++)
				ref.discard(b);
			ASSERT_EQ(run.model->discard(first * bs, uint32_t(n * bs)), 0);
		}
	}

	// The power is lost now: take the images and recover from each.
	void at_point()
	{
		if (!failure.empty())
			return;
		points++;
		size_t n = run.origin.pending_units() + run.cache_units();
		std::mt19937_64 rng(points);

		if (n <= bud.enumerate_up_to) {
			for (uint64_t mask = 0; mask < (1ULL << n) && failure.empty(); mask++)
				try_image(run.image([&](size_t i) { return (mask >> i) & 1; }));
			return;
		}
		try_image(run.image([](size_t) { return false; }));
		try_image(run.image([](size_t) { return true; }));
		// A device that persists its writes in order.
		for (size_t k : {n / 4, n / 2, n - 1})
			try_image(run.image([&](size_t i) { return i < k; }));
		for (unsigned s = 0; s < bud.samples && failure.empty(); s++)
			try_image(run.image([&](size_t) { return rng() & 1; }));
	}

	void try_image(const Image &img)
	{
		if (!failure.empty())
			return;
		images++;
		distinct.insert(hash_bytes(img.cache, hash_bytes(img.origin, 14695981039346656037ULL)));
		std::string why = recover(img, images % bud.recovery_crash_every == 0);
		if (!why.empty())
			failure = why + " (power lost at point " + std::to_string(points) +
				  ", image " + std::to_string(images) + ")";
	}

	// Builds a target on the image and holds it to the oracle; with
	// `cut`, also crashes the recovery at each of its own writes.
	std::string recover(const Image &img, bool cut, int depth = 0)
	{
		KeepActivePmem keep;

		if (!spare[depth])
			spare[depth] = std::make_unique<Target>(cfg);
		Target &t = *spare[depth];
		std::vector<Image> cuts;

		t.reboot(img);
		std::mt19937_64 rng(images);
		std::string error;

		// One image per op of the recovery: everything pending kept,
		// or a random part, in turn.
		if (cut)
			t.arm([&] {
				bool all = cuts.size() & 1;

				cuts.push_back(t.image([&](size_t) { return all || (rng() & 1); }));
			});
		int r = t.open(&error);
		t.arm(nullptr);
		if (r)
			return "recovery refused the cache: " + error;
		std::vector<std::vector<uint8_t>> first;
		std::string why = check(t, &first);
		if (!why.empty())
			return why;
		if (t.open(&error))
			return "the second reload failed: " + error;
		if (status_fields(t.model->status())[WC_STATUS_ERROR])
			return "error state after a second reload: " + t.model->status();
		for (uint64_t b = 0; b < cfg.blocks; b++) {
			std::vector<uint8_t> out;
			uint32_t bs = cfg.block_sectors();

			if (t.model->read(b * bs, bs, &out) || out != first[b])
				return "block " + std::to_string(b) +
				       " reads differently after a second reload";
		}
		for (const Image &c : cuts) {
			recovery_images++;
			distinct.insert(hash_bytes(c.cache, hash_bytes(c.origin, 1)));
			why = recover(c, false, 1);
			if (!why.empty())
				return "after a crash during recovery: " + why;
		}
		return "";
	}

	std::string check(Target &t, std::vector<std::vector<uint8_t>> *blocks)
	{
		uint32_t bs = cfg.block_sectors();

		if (status_fields(t.model->status())[WC_STATUS_ERROR])
			return "error state after recovery: " + t.model->status();
		for (uint64_t b = 0; b < cfg.blocks; b++) {
			std::vector<uint8_t> out;

			if (t.model->read(b * bs, bs, &out))
				return "block " + std::to_string(b) + " fails to read";
			auto allowed = ref.allowed(b);
			for (uint32_t s = 0; s < bs; s++) {
				int64_t v = identify(cfg, b, s, &out[size_t(s) * kSector]);

				if (v < 0 || uint64_t(v) > version)
					return "block " + std::to_string(b) + " sector " +
					       std::to_string(s) + " holds data never written to it";
				if (!allowed.count(uint64_t(v)))
					return "block " + std::to_string(b) + " sector " +
					       std::to_string(s) + " reads version " +
					       std::to_string(v) + ", allowed " + describe_versions(allowed) +
					       (ref.unsettled.count(b) ? " (discarded)" : "");
			}
			blocks->push_back(std::move(out));
		}
		return "";
	}
};

std::vector<Config> configs()
{
	std::vector<Config> c;
	auto add = [&](Config x) { c.push_back(std::move(x)); };

	// SSD mode: 4 KiB and 512-byte blocks, an offset, the cleaner,
	// metadata_only, writeback racing the writes, a cache smaller than
	// the working set many times over.
	add({.name = "ssd_4k", .args = {"high_watermark", "60", "low_watermark", "40"},
	     .floor = 1750, .asan_floor = 740, .stress_floor = 33000});
	add({.name = "ssd_512", .block = 512, .cache_bytes = 32 << 10, .blocks = 128,
	     .floor = 1250, .asan_floor = 530, .stress_floor = 17500});
	add({.name = "ssd_start_sector", .start_sector = 24, .seed = 5,
	     .floor = 1450, .asan_floor = 610, .stress_floor = 27000});
	add({.name = "ssd_cleaner", .cleaner_at = 50, .seed = 7, .floor = 1150, .asan_floor = 510,
	     .stress_floor = 22000});
	add({.name = "ssd_metadata_only", .args = {"metadata_only"}, .meta_writes = true,
	     .seed = 8, .floor = 1600, .asan_floor = 680, .stress_floor = 30500});
	add({.name = "ssd_low_watermark", .args = {"high_watermark", "10", "low_watermark", "5"},
	     .seed = 9, .floor = 1450, .asan_floor = 620, .stress_floor = 27500});
	add({.name = "ssd_small", .cache_bytes = 40 << 10, .seed = 10, .floor = 1750, .asan_floor = 730,
	     .stress_floor = 33500});
	// PMEM mode, the same and nofua (a PMEM-only option).
	add({.name = "pmem_4k", .pmem = true, .args = {"autocommit_blocks", "5"},
	     .floor = 5700, .asan_floor = 2150, .stress_floor = 150000});
	add({.name = "pmem_512", .pmem = true, .block = 512, .cache_bytes = 32 << 10,
	     .blocks = 128, .seed = 11, .floor = 6100, .asan_floor = 2050, .stress_floor = 200000});
	add({.name = "pmem_nofua", .pmem = true, .args = {"nofua"}, .seed = 6,
	     .floor = 5400, .asan_floor = 1980, .stress_floor = 158000});
	add({.name = "pmem_start_sector", .pmem = true, .start_sector = 8, .seed = 12,
	     .floor = 5450, .asan_floor = 2000, .stress_floor = 155000});
	add({.name = "pmem_cleaner", .pmem = true, .cleaner_at = 50, .seed = 13,
	     .floor = 4850, .asan_floor = 1740, .stress_floor = 138000});
	add({.name = "pmem_low_watermark", .pmem = true,
	     .args = {"high_watermark", "10", "low_watermark", "5"}, .seed = 14,
	     .floor = 5300, .asan_floor = 1950, .stress_floor = 140000});
	add({.name = "pmem_small", .pmem = true, .cache_bytes = 40 << 10, .seed = 15,
	     .floor = 5400, .asan_floor = 2140, .stress_floor = 116000});
	return c;
}

class CrashSweep : public ::testing::TestWithParam<Config> {};

} // namespace

namespace {

// gtest prints a failing case's parameter: its name, not its bytes.
void PrintTo(const Config &c, std::ostream *os) { *os << c.name; }

} // namespace

TEST_P(CrashSweep, EveryPointManyImages)
{
	Sweep s(GetParam());

	s.go();
	if (HasFatalFailure())
		return;
	uint64_t floor = GetParam().floor_at(scale());
	printf("crash sweep %-20s %7zu distinct states (%lu images at %lu points, "
	       "%lu cut during recovery)\n",
	       GetParam().name.c_str(), s.distinct.size(), (unsigned long)s.images,
	       (unsigned long)s.points, (unsigned long)s.recovery_images);
	RecordProperty("distinct_states", std::to_string(s.distinct.size()));
	EXPECT_GE(s.distinct.size(), floor)
		<< "the sweep shrank below its floor: a workload or a budget changed";
}

INSTANTIATE_TEST_SUITE_P(Crash, CrashSweep, ::testing::ValuesIn(configs()),
			 [](const auto &info) { return info.param.name; });

// The stress sweep's floors add up to the campaign's target.
TEST(Crash, StressFloorsReachTheTarget)
{
	uint64_t sum = 0;

	for (const Config &c : configs())
		sum += c.stress_floor;
	EXPECT_GE(sum, 100000u);
}
