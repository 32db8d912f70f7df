// SPDX-License-Identifier: GPL-2.0
// libFuzzer: arbitrary sequences of bios, flushes, discards, writeback,
// messages, reloads, device faults and power cuts against the model, in
// both modes.  After every step the core's containers must agree with
// each other, and every read must follow the rules:
//   - with no fault and no power cut since the block's last write, a read
//     returns what was last written;
//   - otherwise each sector returns a version written to it no older than
//     the last one a successful flush made durable (a discarded block:
//     any version, or zeros), or the read fails with EIO in the error
//     state; never bytes that were never written there.
// Run with -len_control=0 and a -max_len of a few thousand bytes, so that
// inputs grow to hundreds of operations.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "env_user.h"
#include "model.h"
#include "sim_device.h"
#include "sim_pmem.h"

// A broken rule: say which, at which step, then crash for libFuzzer.
#define FAIL(what)                                                              \
	do {                                                                    \
		fprintf(stderr, "fuzz_ops: step %zu (op %u, block %llu): %s\n", step, \
			unsigned(op % 12), (unsigned long long)b, what);         \
		__builtin_trap();                                               \
	} while (0)

namespace {

constexpr uint64_t kBlocks = 48;	// working set, in 4 KiB blocks
constexpr uint64_t kSector = 512;

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

// What each block may read, as the rules above say.
struct Oracle {
	std::map<uint64_t, uint64_t> latest;	// last acknowledged version
	std::map<uint64_t, uint64_t> floor;	// made durable by a flush
	std::map<uint64_t, std::set<uint64_t>> history;	// every version written
	std::set<uint64_t> uncertain;		// a fault or a cut since its write
	std::set<uint64_t> discarded;		// any version, or zeros

	void wrote(uint64_t b, uint64_t v, bool ok)
	{
		history[b].insert(v);
		discarded.erase(b);
		if (ok) {
			latest[b] = v;
			uncertain.erase(b);
		} else {
			uncertain.insert(b);
		}
	}
	// A flush makes durable what the block is known to hold: its last
	// acknowledged write, unless a cut or a fault since then leaves that
	// open.
	void flushed()
	{
		for (auto &[b, v] : latest)
			if (!uncertain.count(b))
				floor[b] = v;
	}
	void cut()
	{
		for (auto &[b, h] : history)
			uncertain.insert(b);
	}
	void discard(uint64_t b)
	{
		discarded.insert(b);
		latest.erase(b);
		floor.erase(b);
	}
	bool sector_ok(uint64_t b, uint32_t s, const uint8_t *got) const
	{
		auto matches = [&](uint64_t v) {
			return !memcmp(got, content(b, v).data() + s * kSector, kSector);
		};
		bool any = discarded.count(b);
		if (!any && !uncertain.count(b)) {
			auto it = latest.find(b);
			return matches(it == latest.end() ? 0 : it->second);
		}
		uint64_t min = 0;
		if (!any && floor.count(b))
			min = floor.at(b);
		if (min == 0 && matches(0))
			return true;
		auto h = history.find(b);
		if (h != history.end())
			for (uint64_t v : h->second)
				if (v >= min && matches(v))
					return true;
		return false;
	}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in{data, size};
	uint8_t mode = in.byte();
	bool pmem = mode & 1;
	std::mt19937_64 rng(mode);
	wc::model::SimDevice origin(2048 * 2), cache(96 * 2);
	wc::model::SimPmem pm(96 * 1024);
	std::vector<std::string> table = {pmem ? "p" : "s", "o", "c", "4096", "4",
					  "high_watermark", "50", "low_watermark", "40"};
	if (mode & 2)
		table.push_back(pmem ? "nofua" : "metadata_only");
	table[4] = std::to_string(table.size() - 5);
	auto target = std::make_unique<wc::model::Model>(origin, cache, pmem ? &pm : nullptr);
	std::string error;

	if (target->create(table, &error)) {
		fprintf(stderr, "fuzz_ops: %s\n", error.c_str());
		__builtin_trap();
	}
	Oracle o;
	uint64_t version = 0;
	// FUZZ_OPS_TRACE=1: print every step (to read a crash's input).
	static const bool trace = getenv("FUZZ_OPS_TRACE");
	bool faulty = false;	// a fault was injected since the last (re)load

	for (size_t step = 0; !in.empty();) {
		uint8_t op = in.byte();
		uint64_t b = in.byte() % kBlocks;
		uint64_t n = 1 + in.byte() % 4;

		n = std::min(n, kBlocks - b);
		switch (op % 12) {
		case 0:
		case 1:
		case 2: {
			std::vector<uint8_t> d;
			version++;
			for (uint64_t i = b; i < b + n; i++) {
				auto c = content(i, version);
				d.insert(d.end(), c.begin(), c.end());
			}
			int r = target->write(b * 8, d, op % 12 == 2 ? WC_BIO_FUA : 0);
			if (r && !faulty)
				FAIL("a write failed with no fault");
			for (uint64_t i = b; i < b + n; i++)
				o.wrote(i, version, !r);
			break;
		}
		case 3: {
			std::vector<uint8_t> out;
			int r = target->read(b * 8, uint32_t(n * 8), &out);
			if (r) {
				if (!faulty)
					FAIL("a read failed with no fault");
				break;
			}
			for (uint64_t i = 0; i < n; i++)
				for (uint32_t s = 0; s < 8; s++)
					if (!o.sector_ok(b + i, s, &out[(i * 8 + s) * kSector])) {
						b += i;
						FAIL("a sector reads a version the rules do not allow");
					}
			break;
		}
		case 4: {
			int r = target->flush();
			if (r && !faulty)
				FAIL("a flush failed with no fault");
			if (!r)
				o.flushed();
			break;
		}
		case 5: {
			int r = target->discard(b * 8, uint32_t(n * 8));
			if (r && !faulty)
				FAIL("a discard failed with no fault");
			for (uint64_t i = b; i < b + n; i++)
				o.discard(i);
			break;
		}
		case 6:
			target->writeback(op & 16);
			break;
		case 7: {
			static const char *const kMessages[] = {
				"cleaner", "clear_stats", "flush", "flush_on_suspend"};
			if (op & 32) {
				unsigned which = (op >> 6) & 3;
				int r = target->message({kMessages[which]});
				if (r && !faulty)
					FAIL("a message failed with no fault");
				if (!r && which == 2)
					o.flushed();
			} else {
				target->autocommit();
			}
			break;
		}
		case 8: {
			// a table reload: suspend commits, a new target resumes
			target->suspend();
			// A failing device may lose what no flush made durable.
			if (faulty)
				o.cut();
			target = std::make_unique<wc::model::Model>(origin, cache,
								    pmem ? &pm : nullptr);
			if (target->create(table, &error)) {
				if (!faulty)
					FAIL(error.c_str());
				return 0;	// the fault refused the load
			}
			faulty = origin.fail_reads || origin.fail_writes || origin.fail_flushes ||
				 cache.fail_reads || cache.fail_writes || cache.fail_flushes;
			break;
		}
		case 9:
		case 10: {
			// a device starts or stops failing
			wc::model::SimDevice &dev = (op & 16) ? origin : cache;
			bool on = op % 12 == 9;
			if (pmem && !(op & 16))
				break;	// the PMEM model has no failing stores
			if (op & 32)
				dev.fail_writes = on;
			else if (op & 64)
				dev.fail_flushes = on;
			else
				dev.fail_reads = on;
			if (on)
				faulty = true;
			break;
		}
		case 11: {
			// power cut: what each device would keep, then a reboot
			origin.load_image(origin.power_loss_image(rng));
			if (pmem)
				pm.load_image(pm.power_loss_image(rng));
			else
				cache.load_image(cache.power_loss_image(rng));
			origin.fail_reads = origin.fail_writes = origin.fail_flushes = false;
			cache.fail_reads = cache.fail_writes = cache.fail_flushes = false;
			o.cut();
			faulty = false;
			target = std::make_unique<wc::model::Model>(origin, cache,
								    pmem ? &pm : nullptr);
			if (target->create(table, &error))
				FAIL(("no load after a power cut: " + error).c_str());
			break;
		}
		}
		if (trace)
			fprintf(stderr, "step %zu: op %u (%u) block %llu n %llu error %d\n", step,
				unsigned(op % 12), unsigned(op), (unsigned long long)b,
				(unsigned long long)n, wc_core_error(target->core()));
		if (!wc_core_validate(target->core()))
			FAIL("the containers disagree");
		step++;
	}
	return 0;
}
