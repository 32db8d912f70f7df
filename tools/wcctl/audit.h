// SPDX-License-Identifier: GPL-2.0
// What check and repair find: why the core's load dropped committed
// on-disk entries, and fsck-style reporting.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "loaded_cache.h"

namespace wcctl {

// Why the core dropped committed on-disk entries: an older copy (fine),
// an invalid sector or two identical entries (errors).
struct Audit {
	uint64_t committed = 0, uncommitted = 0, free = 0, kept = 0;
	uint64_t superseded = 0;
	std::vector<std::string> errors;
	std::vector<uint64_t> drop;	// committed on disk, not kept: to free
	bool read_ok = true;
};

Audit audit(LoadedCache &lc);

// Prints at most 100 lines, then how many more there were.
void print_list(FILE *out, const std::vector<std::string> &lines, const char *prefix);

// check's and repair's answer when the core did not load the cache; -1
// when it did.
int fsck_not_loaded(const LoadedCache &lc, LoadedCache::Outcome out, const std::string &cache,
		    const char *refused, const char *blank_suffix);

} // namespace wcctl
