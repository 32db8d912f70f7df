// SPDX-License-Identifier: GPL-2.0
// Device-mapper through libdevmapper: no dmsetup, no udev needed.
//
// Without udev (DM_DISABLE_UDEV, or --noudevsync) libdevmapper creates
// and removes the /dev/mapper nodes itself; after every change the nodes
// are made to match the kernel (dm_mknodes), as `dmsetup mknodes` does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wcctl::dm {

// Set once from the command line, before the first call.
void configure(bool udev_sync, bool verbose);

struct Target {
	uint64_t start = 0, length = 0;
	std::string type, params;
};

struct Info {
	bool exists = false;
	bool suspended = false;
	bool live_table = false;
	bool inactive_table = false;
	int open_count = 0;
	uint32_t major = 0, minor = 0;
};

struct Device {
	std::string name;
	uint32_t major, minor;
};

// Each returns false and fills *error on failure (libdevmapper also logs
// the kernel's answer on stderr).
bool list(std::vector<Device> *out, std::string *error);
bool info(const std::string &name, Info *out, std::string *error);
bool table(const std::string &name, std::vector<Target> *out, std::string *error);
bool status(const std::string &name, std::vector<Target> *out, std::string *error);
bool message(const std::string &name, const std::string &msg, std::string *error);
// Creates NAME with one target and resumes it.
bool create(const std::string &name, const Target &t, std::string *error);
// Loads an inactive table; clear() drops it again.
bool reload(const std::string &name, const Target &t, std::string *error);
bool clear(const std::string &name, std::string *error);
bool suspend(const std::string &name, bool flush, std::string *error);
bool resume(const std::string &name, std::string *error);
bool remove(const std::string &name, std::string *error);

// "major:minor" of a block device path, or the path itself.
std::string device_number(const std::string &path);
// The /dev path of "major:minor" (a dm device: /dev/mapper/NAME).
std::string device_path(const std::string &major_minor);

// The last line the kernel logged about writecache (ti->error of a failed
// table load), or "".
std::string last_kernel_error();

} // namespace wcctl::dm
