// SPDX-License-Identifier: GPL-2.0
// The offline commands: a cache device or image file loaded by the core
// itself (the module's own load program, through the model's executor),
// never by a second reader of the format.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "file_device.h"
#include "model.h"

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

// "64M", "1GiB", "4096": bytes, or false.
bool parse_size(const std::string &text, uint64_t *bytes);
std::string human_bytes(uint64_t bytes);

// Set by SIGINT/SIGTERM; long loops stop at a safe point.
extern volatile int g_interrupted;

} // namespace wcctl
