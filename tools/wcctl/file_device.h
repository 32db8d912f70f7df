// SPDX-License-Identifier: GPL-2.0
// A block device or image file as the model's BlockDevice, for the
// offline commands: the same core and the same program executor as the
// tests, over pread/pwrite.
#pragma once

#include <cstdint>
#include <string>

#include "block_device.h"

namespace wcctl {

// The unit of every BlockDevice offset.
constexpr uint64_t kSector = 512;

class FileDevice : public wc::model::BlockDevice {
public:
	enum class Access {
		kReadOnly,	// opened read-only; writes are dropped, not done
		kReadWrite,
	};

	FileDevice() = default;
	~FileDevice() override;
	FileDevice(const FileDevice &) = delete;
	FileDevice &operator=(const FileDevice &) = delete;

	// Opens PATH.  A block device is opened O_EXCL, so one that is
	// mounted, mapped or held by another device is refused.  On failure
	// returns false with *error set.
	bool open(const std::string &path, Access access, std::string *error);

	uint64_t sectors() const override { return sectors_; }
	int write(uint64_t sector, const uint8_t *data, uint32_t nr_sectors,
		  bool fua) override;
	int read(uint64_t sector, uint8_t *data, uint32_t nr_sectors) const override;
	int flush() override;

	const std::string &path() const { return path_; }
	bool is_block_device() const { return block_device_; }
	uint64_t bytes() const { return bytes_; }
	// Writes that were dropped because the device is read-only.
	uint64_t dropped_writes() const { return dropped_writes_; }
	// Raw access at byte offsets (backups, repairs); -errno on failure.
	int pread_all(void *buf, uint64_t len, uint64_t offset) const;
	int pwrite_all(const void *buf, uint64_t len, uint64_t offset);

private:
	int fd_ = -1;
	std::string path_;
	Access access_ = Access::kReadOnly;
	bool block_device_ = false;
	uint64_t bytes_ = 0;
	uint64_t sectors_ = 0;
	uint64_t dropped_writes_ = 0;
};

// The origin when none is given: every sector exists, none can be read
// or written.  Writeback never runs against it.
class NoDevice : public wc::model::BlockDevice {
public:
	uint64_t sectors() const override { return ~0ULL >> 9; }
	int write(uint64_t, const uint8_t *, uint32_t, bool) override { return -5; }
	int read(uint64_t, uint8_t *, uint32_t) const override { return -5; }
	int flush() override { return 0; }
};

} // namespace wcctl
