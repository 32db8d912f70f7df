// SPDX-License-Identifier: GPL-2.0
#include "loaded_cache.h"

#include <cstring>

#include "env_user.h"
#include "ondisk.h"

namespace wcctl {

const char *const kBlankCache =
	"no writecache superblock: the device is blank (a load would format it)";

LoadedCache::Outcome LoadedCache::open(const std::string &cache_path,
				       FileDevice::Access cache_access,
				       const std::string &origin_path,
				       FileDevice::Access origin_access,
				       const OfflineOptions &opts)
{
	std::string error;
	wc::disk::Superblock sb;
	uint8_t first[kSector];

	start_sector_ = opts.start_sector;
	if (!cache_.open(cache_path, cache_access, &error)) {
		refusal_ = error;
		return Outcome::kUnreadable;
	}
	if (!origin_path.empty()) {
		if (!origin_file_.open(origin_path, origin_access, &error)) {
			refusal_ = error;
			return Outcome::kUnreadable;
		}
		origin_ = &origin_file_;
		has_origin_ = true;
	}
	if (start_sector_ >= cache_.sectors()) {
		refusal_ = cache_path + ": start sector " + std::to_string(start_sector_) +
			   " is beyond the device's end";
		return Outcome::kRefused;
	}
	int r = cache_.read(start_sector_, first, 1);
	if (r) {
		refusal_ = cache_path + ": cannot read the superblock: " + strerror(-r);
		return Outcome::kUnreadable;
	}
	memcpy(&sb, first, sizeof(sb));

	// The block size comes from the superblock; the core checks it and
	// everything else, blank devices included.  An impossible one is
	// passed as 4096, so that the core reports the field it finds wrong
	// first.
	unsigned bs = sb.block_size;
	if (bs < 512 || bs > 4096 || (bs & (bs - 1)))
		bs = 4096;
	std::vector<std::string> table = {"s", "origin", "cache", std::to_string(bs)};
	if (start_sector_) {
		table.push_back("2");
		table.push_back("start_sector");
		table.push_back(std::to_string(start_sector_));
	} else {
		table.push_back("0");
	}
	model_ = std::make_unique<wc::model::Model>(*origin_, cache_);
	model_->format_blank = false;
	wc::model::clear_log();
	r = model_->create(table, &error);
	load_errors_ = wc::model::log_lines();
	if (r) {
		refusal_ = error;
		if (model_->blank)
			return Outcome::kBlank;
		if (error == "Unable to read first block of metadata")
			return Outcome::kUnreadable;
		return Outcome::kRefused;
	}
	if (opts.verbose)
		for (auto &l : load_errors_)
			fprintf(stderr, "wcctl: core: %s\n", l.c_str());
	return Outcome::kLoaded;
}

bool LoadedCache::has_error() const { return wc_core_error(model_->core()) != 0; }
uint64_t LoadedCache::n_blocks() { return wc_core_n_blocks(core()); }
unsigned LoadedCache::block_size() { return wc_core_block_size(core()); }
uint64_t LoadedCache::metadata_bytes() { return wc_core_metadata_sectors(core()) * kSector; }

bool metadata_read_failed(const LoadedCache &lc)
{
	for (auto &l : lc.load_errors())
		if (l.rfind("unable to read metadata", 0) == 0)
			return true;
	return false;
}

} // namespace wcctl
