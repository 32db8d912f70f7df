// SPDX-License-Identifier: GPL-2.0
// The table line: parsing with the in-tree target's rules and messages, and
// the `dmsetup table` line that echoes what was given.
#pragma once

#include "types.h"
#include "text.h"
#include "../include/wc_core.h"

namespace wc {

constexpr u32 kDefaultHighWatermark = 50;
constexpr u32 kDefaultLowWatermark = 45;
constexpr u32 kAutocommitBlocksSsd = 65536;
constexpr u32 kAutocommitBlocksPmem = 64;
constexpr u32 kAutocommitMsDefault = 1000;
constexpr u32 kPauseMsDefault = 3000;
constexpr u32 kMaxAutocommitMs = 3600000;
constexpr u32 kMaxAgeMsLimit = 86400000;
constexpr u32 kMaxPauseMs = 60000;
constexpr u32 kMaxFeatureArgs = 18;

struct Config {
	bool pmem = false;
	u32 block_size = 0;
	u32 block_shift = 0;
	u64 start_sector = 0;
	i32 high_wm = kDefaultHighWatermark;
	i32 low_wm = kDefaultLowWatermark;
	u32 writeback_jobs = 0;	// 0: unlimited
	u32 autocommit_blocks = 0;
	u32 autocommit_ms = kAutocommitMsDefault;
	u32 max_age_ms = 0;	// meaningful when max_age_set
	bool writeback_fua = false;
	bool cleaner = false;
	bool metadata_only = false;
	u32 pause_ms = 0;	// SSD only; 0 disables the pause

	// What the table line gave, echoed by `dmsetup table`.
	bool start_sector_set = false;
	bool high_wm_set = false;
	bool low_wm_set = false;
	bool writeback_jobs_set = false;
	bool autocommit_blocks_set = false;
	bool autocommit_time_set = false;
	bool max_age_set = false;
	bool cleaner_set = false;
	bool writeback_fua_set = false;
	bool pause_set = false;

	int parse_mode(const char *arg);
	int parse_args(u32 argc, char **argv, const wc_dev_info &info,
		       const char **error);
	void format_table(text::Emitter &out, const char *origin,
			  const char *cache) const;
};

} // namespace wc
