// SPDX-License-Identifier: GPL-2.0
// What the online commands share: a writecache device's table and status
// read through libdevmapper, the core's table check, and the table swap.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dm.h"
#include "file_device.h"
#include "online.h"
#include "table.h"

namespace wcctl {

constexpr const char *kTarget = "writecache";
constexpr unsigned kPollMs = 200;

// On stderr unless quiet.
void info(const OnlineOptions &o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// A writecache device: its one target's table and status.
struct WcDevice {
	std::string name;
	dm::Target target;
	WcTable table;
	WcStatus status;
};

bool load_device(const std::string &name, WcDevice *d, std::string *error);
bool refresh_status(WcDevice *d, std::string *error);
// Detach and set end with a resume: a device its owner suspended is not
// theirs to resume.  True (and a message) when NAME is suspended.
bool refuse_suspended(const std::string &name);
// load_device for a command that will swap the table: says why not on
// stderr (no such device, not a writecache, suspended).
bool load_device_to_change(const std::string &name, WcDevice *d);
// The core's own table parser, as the kernel's constructor runs it: the
// same message as ti->error, before anything is changed.
bool validate_table(const WcTable &t, uint64_t cache_bytes, unsigned origin_lbs,
		    unsigned cache_lbs, std::string *error);
uint64_t start_sector_of(const WcTable &t);
bool writecache_names(std::vector<std::string> *names, std::string *error);
// A number from /sys/dev/block/MAJOR:MINOR/ATTR (a partition's queue/ is
// its disk's), or `fallback`.
uint64_t sysfs_number(const std::string &mm, const std::string &attr, uint64_t fallback);
void sleep_ms(unsigned ms);
// Swaps in TABLE: load, suspend, resume.  If `check` is given, it runs
// while the device is suspended, with the old table still live; when it
// fails, the new table is dropped and the old one resumed.
bool swap_table(const std::string &name, const dm::Target &t,
		const std::function<bool(std::string *)> &check, std::string *error);

} // namespace wcctl
