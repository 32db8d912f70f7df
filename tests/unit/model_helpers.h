// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the model tests.
#pragma once

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "env_user.h"
#include "model.h"
#include "sim_device.h"

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

// "{0, 3, 7}": a set of versions, for failure messages.
inline std::string describe_versions(const std::set<uint64_t> &versions)
{
	std::string s;

	for (uint64_t v : versions)
		s += (s.empty() ? "{" : ", ") + std::to_string(v);
	return s + "}";
}

// What each origin block may hold after a power loss, for the crash tests:
// the version the last completed flush covered, and the versions written
// since.  Version 0 is "never written" (zeros).  Writes and discards are
// recorded before they are issued (one cut short by the power loss may
// still have reached the media); FUA writes and flushes count only once
// they have completed.
//
// A discard lets its blocks show anything: the origin is not zeroed (the
// model passes no discard to it) and holds zeros or some version written
// back, and a cached copy may or may not have been dropped.  So a
// discarded block may read as zeros or as any version ever written to it
// until a write to it, issued after the discard, is made durable by a
// completed flush or is itself a completed FUA write; from then on it is
// held to the same rule as every other block.
struct CrashOracle {
	std::map<uint64_t, uint64_t> stable;
	std::map<uint64_t, std::set<uint64_t>> since_flush;
	std::map<uint64_t, uint64_t> latest;
	std::map<uint64_t, std::set<uint64_t>> history;	// every version written
	std::set<uint64_t> discarded;	// discarded, not written since
	std::set<uint64_t> unsettled;	// discarded, no durable write since
	std::set<uint64_t> rewritten;	// unsettled, written since the discard

	void written(uint64_t block, uint64_t version)
	{
		since_flush[block].insert(version);
		latest[block] = version;
		history[block].insert(version);
		discarded.erase(block);
		if (unsettled.count(block))
			rewritten.insert(block);
	}
	// A completed FUA write is durable by itself: older versions of its
	// blocks may no longer come back.
	void written_fua(uint64_t block, uint64_t version)
	{
		stable[block] = version;
		since_flush[block].clear();
		unsettled.erase(block);
		rewritten.erase(block);
	}
	void flushed()
	{
		for (auto &[b, v] : latest)
			stable[b] = v;
		since_flush.clear();
		for (uint64_t b : rewritten)
			unsettled.erase(b);
		rewritten.clear();
	}
	void discard(uint64_t block)
	{
		discarded.insert(block);
		unsettled.insert(block);
		rewritten.erase(block);
	}
	// What a read may return now, with no power lost.
	std::set<uint64_t> readable(uint64_t block) const
	{
		if (discarded.count(block))
			return ever(block);
		auto l = latest.find(block);
		return {l == latest.end() ? 0 : l->second};
	}
	// What a read may return after a power loss now.
	std::set<uint64_t> allowed(uint64_t block) const
	{
		if (unsettled.count(block))
			return ever(block);
		std::set<uint64_t> a;
		auto s = stable.find(block);
		a.insert(s == stable.end() ? 0 : s->second);
		auto r = since_flush.find(block);
		if (r != since_flush.end())
			a.insert(r->second.begin(), r->second.end());
		return a;
	}
	std::set<uint64_t> ever(uint64_t block) const
	{
		std::set<uint64_t> a = {0};
		auto h = history.find(block);
		if (h != history.end())
			a.insert(h->second.begin(), h->second.end());
		return a;
	}
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
