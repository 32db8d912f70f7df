// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the model tests.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "env_user.h"
#include "model.h"

namespace wc::test {

constexpr uint32_t kSector = 512;

// Distinct, recognisable content for (sector, version).
inline std::vector<uint8_t> pattern(uint64_t sector, uint32_t nr_sectors, uint64_t version)
{
	std::vector<uint8_t> d(size_t(nr_sectors) * kSector);

	for (uint32_t s = 0; s < nr_sectors; s++)
		for (uint32_t i = 0; i < kSector; i += 8) {
			uint64_t v = ((sector + s) << 20) ^ (version << 1) ^ i;
			memcpy(&d[size_t(s) * kSector + i], &v, 8);
		}
	return d;
}

inline std::vector<uint64_t> status_fields(const std::string &s)
{
	std::vector<uint64_t> f;
	size_t pos = 0;

	while (pos < s.size()) {
		size_t end = s.find(' ', pos);
		if (end == std::string::npos)
			end = s.size();
		f.push_back(std::stoull(s.substr(pos, end - pos)));
		pos = end + 1;
	}
	return f;
}

enum StatusField {
	kError, kBlocks, kFree, kWriteback, kReads, kReadHits, kWrites,
	kWriteHitsUncommitted, kWriteHitsCommitted, kWritesAround,
	kWritesAllocate, kWritesBlocked, kFlushes, kDiscards,
};

// Devices plus a target on them; reopen() builds a new target on the same
// devices, as a table reload or a reboot does.
struct Rig {
	model::SimDevice origin;
	model::SimDevice cache;
	std::unique_ptr<model::Model> target;
	std::vector<std::string> table;

	Rig(uint64_t origin_sectors, uint64_t cache_sectors,
	    std::vector<std::string> tbl = {"s", "o", "c", "4096", "0"})
		: origin(origin_sectors), cache(cache_sectors), table(tbl)
	{
	}

	int open(std::string *error = nullptr)
	{
		std::string e;
		target = std::make_unique<model::Model>(origin, cache);
		int r = target->create(table, &e);
		if (error)
			*error = e;
		return r;
	}

	int reopen()
	{
		if (target)
			target->suspend();
		return open();
	}

	std::vector<uint64_t> status() { return status_fields(target->status()); }
};

} // namespace wc::test
