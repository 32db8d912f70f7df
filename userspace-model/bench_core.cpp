// SPDX-License-Identifier: GPL-2.0
// Google Benchmark micro-benchmarks of the core, as the kernel target
// drives it (through the shared driver, over devices that cost nothing),
// at 1M, 16M and 100M blocks of 4 KiB, in both modes:
//   load/sorted, load/random  the constructor's check and the resume's
//                             load of a full cache whose entries name
//                             origin blocks in position order / shuffled
//   read_hit                  a 4k read of a cached block (the lookup)
//   overwrite                 a 4k write of a committed cached block
//   alloc_write               a 4k write of an uncached block (allocates)
//   commit                    a flush after 64 allocating writes
//   writeback                 a writeback pass of the whole cache (plan
//                             and retire; the copies cost nothing)
// Block counts above WC_BENCH_MAX_BLOCKS (default: all) are skipped.
// Devices: the cache keeps only its metadata in memory (SSD), or is
// anonymous memory touched only where used (PMEM); the origin drops
// writes and reads zeros.  The p-mode data copies are not made: the
// figures are the core's and the driver's own.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "model.h"
#include "ondisk.h"
#include "sim_pmem.h"
#include "wc_core.h"

namespace {

using wc::model::BlockDevice;
using wc::model::Model;
using wc::model::SimPmem;

constexpr unsigned kBlock = 4096;
constexpr unsigned kBlockSectors = kBlock / 512;

// Sectors below `kept` are stored; writes above are dropped, reads zero.
class MetadataDevice : public BlockDevice {
public:
	MetadataDevice(uint64_t sectors, uint64_t kept)
		: sectors_(sectors), kept_(std::min(kept, sectors) * 512, 0) {}
	uint64_t sectors() const override { return sectors_; }
	int write(uint64_t sector, const uint8_t *data, uint32_t nr, bool) override
	{
		uint64_t off = sector * 512, len = uint64_t(nr) * 512;

		if (off < kept_.size())
			memcpy(&kept_[off], data, std::min(len, kept_.size() - off));
		return 0;
	}
	int read(uint64_t sector, uint8_t *data, uint32_t nr) const override
	{
		uint64_t off = sector * 512, len = uint64_t(nr) * 512;

		memset(data, 0, len);
		if (off < kept_.size())
			memcpy(data, &kept_[off], std::min(len, kept_.size() - off));
		return 0;
	}
	int flush() override { return 0; }
	uint8_t *data() { return kept_.data(); }

private:
	uint64_t sectors_;
	std::vector<uint8_t> kept_;
};

enum class Order { kSorted, kRandom };

// One cache of n blocks, formatted, its metadata rewritten so that every
// block is committed, then loaded.  One rig lives at a time (a 100M-block
// one holds about 5 GiB).
class Rig {
public:
	Rig(bool pmem, uint64_t n_blocks) : pmem_(pmem)
	{
		// The smallest device with at least n blocks.
		uint64_t bytes = n_blocks * (kBlock + 16) + 2 * kBlock;
		unsigned long long n = 0, meta = 0;

		while (wc_core_layout(bytes, kBlock, &n, &meta) || n < n_blocks)
			bytes += kBlock;
		n_ = n;
		meta_bytes_ = meta;
		origin_ = std::make_unique<MetadataDevice>(4 * n * kBlockSectors, 0);
		cache_ = std::make_unique<MetadataDevice>(pmem ? 1 : bytes / 512,
							  pmem ? 0 : meta / 512);
		if (pmem)
			pm_ = std::make_unique<SimPmem>(bytes, SimPmem::Untracked{});
		open();
	}

	uint64_t blocks() const { return n_; }
	Model &model() { return *model_; }

	// Every block committed, naming origin block position (sorted) or a
	// shuffled one (random); the superblock's seq_count then 1.
	void write_metadata(Order order)
	{
		model_.reset();
		uint8_t *meta = pmem_ ? pm_->data() : cache_->data();
		std::vector<uint32_t> perm(n_);

		for (uint64_t i = 0; i < n_; i++)
			perm[i] = uint32_t(i);
		if (order == Order::kRandom)
			std::shuffle(perm.begin(), perm.end(), std::mt19937_64(1));
		for (uint64_t i = 0; i < n_; i++) {
			wc::disk::Entry e = {uint64_t(perm[i]) * kBlockSectors, 0};

			memcpy(meta + wc::disk::entry_offset(i), &e, sizeof(e));
		}
		uint64_t seq_count = 1;
		memcpy(meta + 24, &seq_count, 8);
	}

	void open()
	{
		std::string err;

		model_.reset();
		model_ = std::make_unique<Model>(*origin_, *cache_, pm_.get());
		if (model_->create({pmem_ ? "p" : "s", "o", "c", std::to_string(kBlock), "0"},
				   &err)) {
			fprintf(stderr, "create: %s\n", err.c_str());
			exit(1);
		}
		model_->copy_job = [](const wc_wb_job &) { return 0; };
	}

	// One 4k bio through wc_core_map, as the target's map does; a p-mode
	// copy is not made.  Returns the core's action.
	int map(uint64_t block, bool write)
	{
		wc_bio b = {block * kBlockSectors, kBlockSectors,
			    write ? unsigned(WC_BIO_WRITE) : 0u};
		wc_map_result r;

		for (;;) {
			wc_core_map(model_->core(), &b, 0, &r);
			if (wc_core_take_events(model_->core()) & WC_EV_COMMIT_SOON)
				model_->autocommit();
			if (r.action != WC_MAP_COPY_PMEM)
				return r.action;
			b.sector += r.copy_sectors;
			b.nr_sectors -= r.copy_sectors;
			b.flags |= WC_BIO_CONTINUED;
		}
	}

private:
	bool pmem_;
	uint64_t n_ = 0, meta_bytes_ = 0;
	std::unique_ptr<MetadataDevice> origin_, cache_;
	std::unique_ptr<SimPmem> pm_;
	std::unique_ptr<Model> model_;
};

std::unique_ptr<Rig> g_rig;
bool g_rig_pmem;
uint64_t g_rig_blocks;

Rig &rig(bool pmem, uint64_t n)
{
	if (!g_rig || g_rig_pmem != pmem || g_rig_blocks != n) {
		g_rig.reset();
		g_rig = std::make_unique<Rig>(pmem, n);
		g_rig_pmem = pmem;
		g_rig_blocks = n;
	}
	return *g_rig;
}

// A full cache of random order, loaded.
Rig &full(bool pmem, uint64_t n)
{
	Rig &r = rig(pmem, n);

	r.write_metadata(Order::kRandom);
	r.open();
	return r;
}

void bm_load(benchmark::State &st, bool pmem, uint64_t n, Order order)
{
	Rig &r = rig(pmem, n);

	r.write_metadata(order);
	for (auto _ : st)
		r.open();
	st.SetItemsProcessed(int64_t(st.iterations() * r.blocks()));
}

// A 4k read (read_hit) or write (overwrite) of a random cached block.
void bm_cached(benchmark::State &st, bool pmem, uint64_t n, bool write)
{
	Rig &r = full(pmem, n);
	std::mt19937_64 rng(write ? 3 : 2);

	for (auto _ : st)
		benchmark::DoNotOptimize(r.map(rng() % r.blocks(), write));
	st.SetItemsProcessed(int64_t(st.iterations()));
}

// Origin blocks that are not cached, for allocating writes: those beyond
// the cached ones, on a cache that a writeback drain empties whenever
// fewer than `need` blocks are left free (the caller pauses the timing).
class UncachedBlocks {
public:
	explicit UncachedBlocks(Rig &r) : r_(r), next_(r.blocks()) {}

	bool need_drain(uint64_t need) const { return free_ < need; }
	void drain()
	{
		r_.model().drain();
		free_ = r_.blocks() - 64;
	}
	uint64_t take()
	{
		uint64_t b = next_++;

		if (next_ == 4 * r_.blocks())
			next_ = r_.blocks();	// written back and freed by now
		free_--;
		return b;
	}

private:
	Rig &r_;
	uint64_t next_, free_ = 0;
};

void bm_alloc_write(benchmark::State &st, bool pmem, uint64_t n)
{
	Rig &r = full(pmem, n);
	UncachedBlocks blocks(r);

	for (auto _ : st) {
		if (blocks.need_drain(1)) {
			st.PauseTiming();
			blocks.drain();
			st.ResumeTiming();
		}
		benchmark::DoNotOptimize(r.map(blocks.take(), true));
	}
	st.SetItemsProcessed(int64_t(st.iterations()));
}

void bm_commit(benchmark::State &st, bool pmem, uint64_t n)
{
	Rig &r = full(pmem, n);
	UncachedBlocks blocks(r);

	for (auto _ : st) {
		st.PauseTiming();
		if (blocks.need_drain(64))
			blocks.drain();
		for (int i = 0; i < 64; i++)
			r.map(blocks.take(), true);
		st.ResumeTiming();
		r.model().flush();
	}
	st.SetItemsProcessed(int64_t(st.iterations()));
}

void bm_writeback(benchmark::State &st, bool pmem, uint64_t n)
{
	uint64_t blocks = 0;

	for (auto _ : st) {
		st.PauseTiming();
		Rig &r = full(pmem, n);
		st.ResumeTiming();
		while (uint64_t b = r.model().writeback(true))
			blocks += b;
	}
	st.SetItemsProcessed(int64_t(blocks));
}

} // namespace

int main(int argc, char **argv)
{
	const char *max_env = getenv("WC_BENCH_MAX_BLOCKS");
	const uint64_t max_blocks = max_env ? strtoull(max_env, nullptr, 0) : ~0ULL;
	const uint64_t sizes[] = {1ULL << 20, 1ULL << 24, 100000000ULL};
	const char *size_names[] = {"1M", "16M", "100M"};

	// Grouped by rig, so that each rig is built once.
	for (bool pmem : {false, true}) {
		for (unsigned s = 0; s < 3; s++) {
			uint64_t n = sizes[s];

			if (n > max_blocks)
				continue;
			std::string at = std::string(pmem ? "p/" : "s/") + size_names[s];
			// Big caches take seconds per iteration: a few are enough.
			int load_iters = n > (1ULL << 20) ? 2 : 5;

			benchmark::RegisterBenchmark(("load/sorted/" + at).c_str(), bm_load, pmem,
						     n, Order::kSorted)
				->Iterations(load_iters)->Unit(benchmark::kMillisecond);
			benchmark::RegisterBenchmark(("load/random/" + at).c_str(), bm_load, pmem,
						     n, Order::kRandom)
				->Iterations(load_iters)->Unit(benchmark::kMillisecond);
			benchmark::RegisterBenchmark(("read_hit/" + at).c_str(), bm_cached, pmem, n,
						     false);
			benchmark::RegisterBenchmark(("overwrite/" + at).c_str(), bm_cached, pmem, n,
						     true);
			benchmark::RegisterBenchmark(("alloc_write/" + at).c_str(), bm_alloc_write,
						     pmem, n);
			benchmark::RegisterBenchmark(("commit/" + at).c_str(), bm_commit, pmem, n)
				->Unit(benchmark::kMicrosecond);
			benchmark::RegisterBenchmark(("writeback/" + at).c_str(), bm_writeback, pmem,
						     n)
				->Iterations(1)->Unit(benchmark::kMillisecond);
		}
	}
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
