// SPDX-License-Identifier: GPL-2.0
// CPU cost of the core's map path: nanoseconds per 4 KiB block for random
// and sequential writes, and for reads of cached blocks, in both modes.
// The bios go straight to wc_core_map, as the kernel target sends them;
// the devices are in memory and do nothing (setup and the commits the
// core asks for go through the model), so the figure is the core's own,
// plus in p mode the 4 KiB copy to or from the mapping that the kernel
// target makes too.
// Run it under `perf record` to see where the time goes.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model.h"
#include "sim_device.h"
#include "wc_core.h"

namespace {

using wc::model::Model;
using wc::model::SimDevice;
using wc::model::SimPmem;

constexpr unsigned kBlock = 4096;
constexpr unsigned kBlockSectors = kBlock / 512;

struct Setup {
	bool pmem;
	uint64_t cache_mib;
	uint64_t span_blocks;	// the origin area written
};

class Bench {
public:
	explicit Bench(const Setup &s)
		: origin_(s.span_blocks * kBlockSectors * 2),
		  cache_(s.cache_mib << 11),
		  pmem_(s.pmem ? new SimPmem(s.cache_mib << 20) : nullptr),
		  model_(origin_, cache_, pmem_.get()), pmem_mode_(s.pmem),
		  buf_(kBlock)
	{
		std::string err;
		if (model_.create({s.pmem ? "p" : "s", "o", "c", "4096", "0"}, &err)) {
			fprintf(stderr, "create: %s\n", err.c_str());
			exit(1);
		}
		// From here on stores are plain memcpy: the cost measured is
		// the core's, not the simulator's bookkeeping.
		SimPmem::active = nullptr;
		// The kernel's mapping is resident; fault the buffer in now.
		if (pmem_) {
			volatile uint8_t *p = pmem_->data();
			for (uint64_t i = 0; i < pmem_->size(); i += 4096)
				p[i] = p[i];
		}
	}

	// One bio of `blocks` blocks at `block`; returns false when the
	// cache is full.
	bool map(uint64_t block, unsigned blocks, bool write)
	{
		wc_bio b = {block * kBlockSectors, blocks * kBlockSectors,
			    write ? unsigned(WC_BIO_WRITE) : 0u};
		wc_map_result r;

		for (;;) {
			wc_core_map(model_.core(), &b, 0, &r);
			unsigned ev = wc_core_take_events(model_.core());
			if (ev & WC_EV_COMMIT_SOON)
				model_.autocommit();
			if (r.action != WC_MAP_COPY_PMEM)
				break;
			if (write)
				memcpy(r.pmem, buf_.data(), kBlock);
			else
				for (unsigned s = 0; s < r.copy_sectors; s += kBlockSectors)
					memcpy(buf_.data(), (uint8_t *)r.pmem + s * 512, kBlock);
			b.sector += r.copy_sectors;
			b.nr_sectors -= r.copy_sectors;
			b.flags |= WC_BIO_CONTINUED;
		}
		if (r.action == WC_MAP_WAIT_FREELIST)
			return false;
		if (!pmem_mode_ && r.action == WC_MAP_REMAP_CACHE && write)
			return true;
		return r.action != WC_MAP_ERROR;
	}

	Model &model() { return model_; }

private:
	SimDevice origin_;
	SimDevice cache_;
	std::unique_ptr<SimPmem> pmem_;
	Model model_;
	bool pmem_mode_;
	std::vector<uint8_t> buf_;
};

double now_ns()
{
	return std::chrono::duration<double, std::nano>(
		       std::chrono::steady_clock::now().time_since_epoch())
		.count();
}

void run(const char *mode)
{
	const bool pmem = mode[0] == 'p';
	// 256 MiB of cache, 48 MiB of origin written (as bench-guest does).
	const Setup s = {pmem, 256, 12288};
	std::mt19937_64 rng(1);
	const unsigned n = 400000;

	{
		Bench b(s);
		double t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			b.map(rng() % s.span_blocks, 1, true);
		double t1 = now_ns();
		printf("%-4s %-22s %8.0f ns/block\n", mode, "randwrite 4k", (t1 - t0) / n);

		t0 = now_ns();
		for (unsigned i = 0; i < n; i++)
			b.map(rng() % s.span_blocks, 1, false);
		t1 = now_ns();
		printf("%-4s %-22s %8.0f ns/block\n", mode, "randread 4k (hits)", (t1 - t0) / n);
	}
	{
		Bench b(s);
		double t0 = now_ns();
		unsigned bios = n / 16;
		for (unsigned i = 0; i < bios; i++)
			b.map(uint64_t(i) * 16 % s.span_blocks, 16, true);
		double t1 = now_ns();
		printf("%-4s %-22s %8.0f ns/block\n", mode, "seqwrite 64k", (t1 - t0) / n);
	}
}

} // namespace

int main()
{
	run("s");
	run("p");
	return 0;
}
