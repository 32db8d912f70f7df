// SPDX-License-Identifier: GPL-2.0
// wcctl status, list, flush, clear-stats and set.
#include "online_util.h"

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "log.h"
#include "progress.h"
#include "units.h"

namespace wcctl {

namespace {

using json = nlohmann::ordered_json;

unsigned pct(uint64_t a, uint64_t b) { return b ? unsigned(a * 100 / b) : 0; }

json options_json(const WcTable &t)
{
	json j = json::object();

	for (auto &o : t.options) {
		if (!o.value)
			j[o.key] = true;
		else if (o.value->find_first_not_of("0123456789") == std::string::npos)
			j[o.key] = std::stoull(*o.value);
		else
			j[o.key] = *o.value;
	}
	return j;
}

json status_json(const WcDevice &d)
{
	json j;

	j["name"] = d.name;
	j["mode"] = d.table.mode;
	j["block_size"] = d.table.block_size;
	j["origin"] = dm::device_path(d.table.origin);
	j["cache"] = dm::device_path(d.table.cache);
	for (size_t i = 0; i < kStatusFields.size(); i++) {
		j[kStatusFields[i]] = d.status.field[i];
		if (i == WC_STATUS_FREE)
			j["used"] = d.status.used();
	}
	j["options"] = options_json(d.table);
	return j;
}

void print_status(const WcDevice &d)
{
	const WcStatus &s = d.status;
	uint64_t blocks = s.get(WC_STATUS_BLOCKS), used = s.used(), writes = s.get(WC_STATUS_WRITES);
	uint64_t reads = s.get(WC_STATUS_READS);

	printf("%s: writecache, %s mode, %u-byte blocks, %s of cache on %s in front of %s\n",
	       d.name.c_str(), d.table.mode == "p" ? "p (persistent memory)" : "s (SSD)",
	       d.table.block_size, human_bytes(blocks * d.table.block_size).c_str(),
	       dm::device_path(d.table.cache).c_str(), dm::device_path(d.table.origin).c_str());
	if (s.get(WC_STATUS_ERROR))
		printf("  state: ERROR: an I/O error latched the error state; new writes fail, "
		       "committed data stays readable\n");
	else
		printf("  state: healthy\n");
	printf("  cache: %" PRIu64 " blocks, %" PRIu64 " used (%u%%), %" PRIu64
	       " free, %" PRIu64 " being written back\n",
	       blocks, used, pct(used, blocks), s.get(WC_STATUS_FREE), s.get(WC_STATUS_WRITEBACK));
	printf("  reads: %" PRIu64 " blocks, %" PRIu64 " from the cache (%u%% hit rate)\n", reads,
	       s.get(WC_STATUS_READ_HITS), pct(s.get(WC_STATUS_READ_HITS), reads));
	printf("  writes: %" PRIu64 " blocks: %" PRIu64 " newly cached, %" PRIu64
	       " rewrote uncommitted blocks (%u%%), %" PRIu64 " rewrote committed blocks (%u%%), %"
	       PRIu64 " went around the cache\n",
	       writes, s.get(WC_STATUS_WRITES_ALLOCATE), s.get(WC_STATUS_WRITE_HITS_UNCOMMITTED),
	       pct(s.get(WC_STATUS_WRITE_HITS_UNCOMMITTED), writes), s.get(WC_STATUS_WRITE_HITS_COMMITTED),
	       pct(s.get(WC_STATUS_WRITE_HITS_COMMITTED), writes), s.get(WC_STATUS_WRITES_AROUND));
	printf("  waits for free blocks: %" PRIu64 "; flushes: %" PRIu64 "; discarded blocks: %"
	       PRIu64 "\n", s.get(WC_STATUS_WRITES_BLOCKED_ON_FREELIST), s.get(WC_STATUS_FLUSHES),
	       s.get(WC_STATUS_DISCARDS));
	std::string opts;
	for (auto &o : d.table.options)
		opts += " " + o.key + (o.value ? " " + *o.value : "");
	printf("  options:%s\n", opts.empty() ? " none (all defaults)" : opts.c_str());
}

} // namespace

int cmd_status(const std::vector<std::string> &names_in, const OnlineOptions &o)
{
	std::vector<std::string> names = names_in;
	std::string error;
	int rc = 0;

	if (names.empty() && !writecache_names(&names, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	json all = json::array();
	for (auto &n : names) {
		WcDevice d;

		if (!load_device(n, &d, &error)) {
			err("%s", error.c_str());
			rc = 1;
			continue;
		}
		if (o.json)
			all.push_back(status_json(d));
		else
			print_status(d);
	}
	if (o.json)
		printf("%s\n", all.dump(2).c_str());
	else if (names.empty() && !o.quiet)
		fprintf(stderr, "wcctl: no writecache devices\n");
	return rc;
}

int cmd_list(const OnlineOptions &o)
{
	std::vector<std::string> names;
	std::string error;

	if (!writecache_names(&names, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	json all = json::array();
	for (auto &n : names) {
		WcDevice d;

		if (!load_device(n, &d, &error))
			continue;
		std::string origin = dm::device_path(d.table.origin);
		std::string cache = dm::device_path(d.table.cache);

		if (o.json)
			all.push_back({{"name", n}, {"mode", d.table.mode}, {"origin", origin},
				       {"cache", cache}});
		else
			printf("%-20s %s %-20s %s\n", n.c_str(), d.table.mode.c_str(),
			       origin.c_str(), cache.c_str());
	}
	if (o.json)
		printf("%s\n", all.dump(2).c_str());
	return 0;
}

int cmd_flush(const std::string &name, const OnlineOptions &o)
{
	WcDevice d;
	std::string error, msg_error;

	if (!load_device(name, &d, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	// The message returns when everything is written back; the status
	// shows how far it is meanwhile.
	std::atomic<int> state{0};	// 0 running, 1 done, 2 failed
	std::thread sender([&] {
		state = dm::message(name, "flush", &msg_error) ? 1 : 2;
	});
	Progress progress("flush " + name, d.status.used(), o.quiet);
	while (!state) {
		if (refresh_status(&d, &error))
			progress.update(d.status.used());
		sleep_ms(kPollMs);
	}
	sender.join();
	if (refresh_status(&d, &error))
		progress.finish(d.status.used());
	if (state == 2) {
		err("%s%s", msg_error.c_str(),
		    d.status.get(WC_STATUS_ERROR) ? " (the device is in the error state)" : "");
		return 1;
	}
	return 0;
}

int cmd_clear_stats(const std::string &name, const OnlineOptions &)
{
	WcDevice d;
	std::string error;

	if (!load_device(name, &d, &error) || !dm::message(name, "clear_stats", &error)) {
		err("%s", error.c_str());
		return 1;
	}
	return 0;
}

int cmd_set(const std::string &name, const std::vector<std::string> &settings,
	    const OnlineOptions &o)
{
	WcDevice d;
	std::string error;

	if (!load_device_to_change(name, &d))
		return 1;
	WcTable t = d.table;
	for (auto &w : settings) {
		if (!apply_option(&t.options, w, &error)) {
			err("%s", error.c_str());
			return 1;
		}
	}
	if (start_sector_of(t) != start_sector_of(d.table)) {
		err("start_sector cannot change: it says where the cache's metadata is");
		return 1;
	}
	// The devices are held by the table: their sizes come from sysfs.
	uint64_t cache_bytes = sysfs_number(t.cache, "size", ~0ULL >> 9) * kSector;
	unsigned origin_lbs = unsigned(sysfs_number(t.origin, "queue/logical_block_size", 512));
	unsigned cache_lbs = unsigned(sysfs_number(t.cache, "queue/logical_block_size", 512));
	if (!validate_table(t, cache_bytes, origin_lbs, cache_lbs, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	dm::Target nt = d.target;
	nt.params = t.params();
	if (nt.params == d.target.params) {
		info(o, "%s: nothing to change", name.c_str());
		return 0;
	}
	if (!swap_table(name, nt, nullptr, &error)) {
		err("%s; the table is unchanged", error.c_str());
		return 1;
	}
	info(o, "%s: table now: %s", name.c_str(), nt.params.c_str());
	return 0;
}

} // namespace wcctl
