// SPDX-License-Identifier: GPL-2.0
// libFuzzer: arbitrary sequences of bios, flushes, discards, writeback,
// messages and reloads against the model, in both modes.  After every
// step the core's containers must agree with each other, and every read
// must return what was last written (discarded blocks: anything written
// to them, or zeros).
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "env_user.h"
#include "model.h"
#include "sim_device.h"

namespace {

constexpr uint64_t kBlocks = 48;	// working set, in 4 KiB blocks

std::vector<uint8_t> content(uint64_t block, uint64_t version)
{
	std::vector<uint8_t> d(4096, 0);

	if (version)
		for (size_t i = 0; i < d.size(); i += 8) {
			uint64_t v = (block << 32) ^ (version << 8) ^ i;
			memcpy(&d[i], &v, 8);
		}
	return d;
}

struct Input {
	const uint8_t *p;
	size_t n;
	uint8_t byte() { return n ? (n--, *p++) : 0; }
	bool empty() const { return n == 0; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in{data, size};
	bool pmem = in.byte() & 1;
	wc::model::SimDevice origin(2048 * 2), cache(96 * 2);
	wc::model::SimPmem pm(96 * 1024);
	std::vector<std::string> table = {pmem ? "p" : "s", "o", "c", "4096", "4",
					  "high_watermark", "50", "low_watermark", "40"};
	auto target = std::make_unique<wc::model::Model>(origin, cache, pmem ? &pm : nullptr);
	std::string error;

	if (target->create(table, &error))
		__builtin_trap();
	// block -> version last written; versions a discarded block may show
	std::map<uint64_t, uint64_t> latest;
	std::map<uint64_t, std::set<uint64_t>> discarded;
	std::map<uint64_t, std::set<uint64_t>> history;
	uint64_t version = 0;

	while (!in.empty()) {
		uint8_t op = in.byte();
		uint64_t b = in.byte() % kBlocks;
		uint64_t n = 1 + in.byte() % 4;

		n = std::min(n, kBlocks - b);
		switch (op % 9) {
		case 0:
		case 1:
		case 2: {
			std::vector<uint8_t> d;
			version++;
			for (uint64_t i = b; i < b + n; i++) {
				auto c = content(i, version);
				d.insert(d.end(), c.begin(), c.end());
				latest[i] = version;
				history[i].insert(version);
				discarded.erase(i);
			}
			if (target->write(b * 8, d, op % 9 == 2 ? WC_BIO_FUA : 0))
				__builtin_trap();
			break;
		}
		case 3: {
			std::vector<uint8_t> out;
			if (target->read(b * 8, uint32_t(n * 8), &out))
				__builtin_trap();
			for (uint64_t i = 0; i < n; i++) {
				std::vector<uint8_t> got(out.begin() + i * 4096,
							 out.begin() + (i + 1) * 4096);
				uint64_t blk = b + i;
				if (discarded.count(blk)) {
					bool ok = got == content(blk, 0);
					for (uint64_t v : history[blk])
						ok = ok || got == content(blk, v);
					if (!ok)
						__builtin_trap();
				} else if (got != content(blk, latest.count(blk) ? latest[blk] : 0)) {
					__builtin_trap();
				}
			}
			break;
		}
		case 4:
			if (target->flush())
				__builtin_trap();
			break;
		case 5:
			if (target->discard(b * 8, uint32_t(n * 8)))
				__builtin_trap();
			for (uint64_t i = b; i < b + n; i++) {
				discarded[i] = history[i];
				latest.erase(i);
			}
			break;
		case 6:
			target->writeback(op & 16);
			break;
		case 7:
			if (op & 32)
				target->message({op & 64 ? "cleaner" : "clear_stats"});
			else
				target->autocommit();
			break;
		case 8:
			// a table reload: suspend commits, a new target resumes
			target->suspend();
			target = std::make_unique<wc::model::Model>(origin, cache,
								    pmem ? &pm : nullptr);
			if (target->create(table, &error))
				__builtin_trap();
			break;
		}
		if (!wc_core_validate(target->core()))
			__builtin_trap();
	}
	return 0;
}
