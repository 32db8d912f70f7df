// SPDX-License-Identifier: GPL-2.0
// Writes the seed corpus of fuzz_recovery: the metadata of real caches,
// made by the model in both modes and both block sizes, after workloads
// that leave committed, uncommitted, rewritten, discarded and written-back
// blocks.  Usage: fuzz_seeds DIR (the committed corpus is
// tests/fuzz/corpus/recovery; rerun this when the geometry changes).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "sim_device.h"
#include "sim_pmem.h"

namespace {

// Must match fuzz_recovery.cpp.
constexpr uint64_t kOriginSectors = 2048;
constexpr uint64_t kCacheBytes = 288 * 1024;

void save(const std::string &path, uint8_t mode, const uint8_t *image)
{
	uint64_t n;

	memcpy(&n, image + 16, 8);
	std::vector<uint8_t> out(1, mode);
	out.insert(out.end(), image, image + 64 + 16 * n);
	FILE *f = fopen(path.c_str(), "wb");
	if (!f || fwrite(out.data(), 1, out.size(), f) != out.size() || fclose(f)) {
		perror(path.c_str());
		exit(1);
	}
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	std::string dir = argv[1];
	int count = 0;

	for (int mode = 0; mode < 4; mode++) {
		bool pmem = mode & 1;
		uint32_t bs = (mode & 2) ? 512 : 4096;
		uint32_t bsec = bs / 512;

		for (int workload = 0; workload < 4; workload++) {
			wc::model::SimDevice origin(kOriginSectors), cache(kCacheBytes / 512);
			wc::model::SimPmem pm(kCacheBytes);
			std::vector<std::string> table = {pmem ? "p" : "s", "o", "c",
							  std::to_string(bs), "0"};
			auto m = std::make_unique<wc::model::Model>(origin, cache,
								    pmem ? &pm : nullptr);
			std::string e;
			if (m->create(table, &e)) {
				fprintf(stderr, "create: %s\n", e.c_str());
				return 1;
			}
			std::vector<uint8_t> block(bs, 0x11);
			// 0: blank; 1: committed; 2: + rewritten, discarded,
			// uncommitted; 3: + written back, then more.
			for (int k = 0; k < (workload ? 12 : 0); k++)
				m->write(uint64_t(k * 7 % 40) * bsec, block);
			if (workload)
				m->flush();
			if (workload >= 2) {
				for (int k = 0; k < 6; k++)
					m->write(uint64_t(k * 7 % 40) * bsec, block);
				m->discard(14 * bsec, 3 * bsec);
				m->flush();
				m->write(45 * bsec, block);
			}
			if (workload >= 3) {
				m->writeback(true);
				for (int k = 0; k < 5; k++)
					m->write(uint64_t(50 + k) * bsec, block);
				m->flush();
			}
			m->suspend();
			const uint8_t *image = pmem ? pm.data() : cache.current().data();
			save(dir + "/seed-" + std::to_string(mode) + "-" + std::to_string(workload),
			     uint8_t(mode), image);
			count++;
		}
	}
	printf("%d seeds in %s\n", count, dir.c_str());
	return 0;
}
