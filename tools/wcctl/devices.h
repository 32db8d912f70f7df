// SPDX-License-Identifier: GPL-2.0
// What create checks on the two devices before it touches either.
#pragma once

#include <cstdint>
#include <string>

namespace wcctl {

struct BlockInfo {
	std::string path;
	uint64_t bytes = 0;
	unsigned logical_block_size = 512;
	bool dax = false;		// DAX-capable (queue/dax)
	bool async_dax = false;		// virtio-pmem: DAX without synchronous flushes
};

// Opens PATH O_EXCL (refused when mounted, mapped or held) and reads its
// geometry.  False and *error on failure.
bool probe_block_device(const std::string &path, BlockInfo *out, std::string *error);

// A foreign signature at `offset` (filesystem, LVM PV, RAID, partition
// table...) found by libblkid: its type ("ext4", "LVM2_member"), or "".
// *error is set when probing failed.
std::string foreign_signature(const std::string &path, uint64_t offset, std::string *error);

// Erases every signature libblkid finds at `offset`, as wipefs does.
bool wipe_signatures(const std::string &path, uint64_t offset, std::string *error);

// Zeroes `bytes` at `offset` and flushes: a blank writecache superblock.
bool zero_range(const std::string &path, uint64_t offset, uint64_t bytes, std::string *error);

} // namespace wcctl
