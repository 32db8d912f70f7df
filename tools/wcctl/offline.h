// SPDX-License-Identifier: GPL-2.0
// The offline commands, on a cache device or image file (loaded_cache.h).
#pragma once

#include <cstdint>
#include <string>

#include "loaded_cache.h"

namespace wcctl {

// fsck's exit codes, for check and repair.
constexpr int kFsckClean = 0;
constexpr int kFsckCorrected = 1;
constexpr int kFsckUncorrected = 4;
constexpr int kFsckOperational = 8;
constexpr int kFsckUsage = 16;

int cmd_check(const std::string &cache, const std::string &origin, const OfflineOptions &o);
int cmd_dump(const std::string &cache, const OfflineOptions &o);
int cmd_repair(const std::string &cache, const std::string &backup, bool force,
	       const OfflineOptions &o);
int cmd_repair_undo(const std::string &cache, const std::string &backup,
		    const OfflineOptions &o);
int cmd_writeback(const std::string &cache, const std::string &origin, bool dry_run,
		  bool no_metadata_update, const OfflineOptions &o);
int cmd_size(const std::string &bytes, unsigned block_size, const std::string &mode,
	     const OfflineOptions &o);

} // namespace wcctl
