// SPDX-License-Identifier: GPL-2.0
// A cache device or image file loaded by the core itself: the module's own
// load program runs over it through the model's executor, so the tools
// accept exactly what the module's load accepts, never by a second reader
// of the format.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "file_device.h"
#include "model.h"
#include "wc_core.h"

namespace wcctl {

struct OfflineOptions {
	uint64_t start_sector = 0;
	bool quiet = false;
	bool verbose = false;
	bool json = false;
};

// A cache loaded by the core.  Opened read-only, every write the load
// would make (freeing uncommitted entries) is dropped: the device is not
// changed.
class LoadedCache {
public:
	enum class Outcome {
		kLoaded,	// the core accepted the superblock and ran its load
		kBlank,		// magic and version are zero: a load formats it
		kRefused,	// the core refused the superblock: refusal()
		kUnreadable,	// the device could not be opened or read
	};

	Outcome open(const std::string &cache_path, FileDevice::Access cache_access,
		     const std::string &origin_path, FileDevice::Access origin_access,
		     const OfflineOptions &opts);

	// Why open() did not load (the core's message, as in ti->error).
	const std::string &refusal() const { return refusal_; }
	// Errors the core latched while loading (dmesg lines in the kernel).
	const std::vector<std::string> &load_errors() const { return load_errors_; }
	bool has_error() const;

	wc::model::Model &model() { return *model_; }
	wc_core *core() { return model_->core(); }
	FileDevice &cache() { return cache_; }
	wc::model::BlockDevice &origin() { return *origin_; }
	bool has_origin() const { return has_origin_; }
	uint64_t n_blocks();
	unsigned block_size();
	uint64_t start_sector() const { return start_sector_; }
	uint64_t metadata_bytes();

private:
	FileDevice cache_;
	FileDevice origin_file_;
	NoDevice no_origin_;
	wc::model::BlockDevice *origin_ = &no_origin_;
	bool has_origin_ = false;
	uint64_t start_sector_ = 0;
	std::unique_ptr<wc::model::Model> model_;
	std::string refusal_;
	std::vector<std::string> load_errors_;
};

// What the core kept, by cache block: committed blocks after a load.
struct Kept {
	uint64_t index, sector, seq;
};

template <typename Fn>
void for_each_kept(LoadedCache &lc, Fn fn)
{
	const uint64_t n = lc.n_blocks();

	for (uint64_t i = 0; i < n; i++) {
		unsigned long long sector, seq;

		if (wc_core_block_state(lc.core(), {unsigned(i)}, &sector, &seq) == 2)
			fn(Kept{i, sector, seq});
	}
}

inline uint64_t count_kept(LoadedCache &lc)
{
	uint64_t n = 0;

	for_each_kept(lc, [&](const Kept &) { n++; });
	return n;
}

// The load could not read the metadata (an I/O error, not damage).
bool metadata_read_failed(const LoadedCache &lc);

extern const char *const kBlankCache;

} // namespace wcctl
