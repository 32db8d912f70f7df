// SPDX-License-Identifier: GPL-2.0
// Layout and superblock checks, as the in-tree target computes them.
#include "layout.h"
#include "entry.h"
#include "../include/wc_core.h"

namespace wc {

int calculate_layout(u64 bytes, u32 block_size, u64 *n_blocks, u64 *meta_bytes)
{
	u64 n = bytes / (block_size + sizeof(disk::Entry));
	u64 offset;

	for (;;) {
		if (!n)
			return -WC_ENOSPC;
		if (n >= (~0ULL - sizeof(disk::Superblock)) / sizeof(disk::Entry))
			return -WC_EFBIG;
		offset = disk::entry_offset(n);
		offset = (offset + block_size - 1) & ~u64(block_size - 1);
		if (offset + n * block_size <= bytes)
			break;
		n--;
	}
	if (n >= 1ULL << 47)
		return -WC_EFBIG;
	*n_blocks = n;
	*meta_bytes = offset;
	return 0;
}

int check_superblock_geometry(const disk::Superblock &s, u32 block_size,
			      u64 area_bytes, u64 *n_blocks, u64 *meta_bytes,
			      const char **error)
{
	u64 n, offset, data;

	if (s.magic != disk::kMagic) {
		*error = "Invalid magic in the superblock";
		return -WC_EINVAL;
	}
	if (s.version != disk::kVersion) {
		*error = "Invalid version in the superblock";
		return -WC_EINVAL;
	}
	if (s.block_size != block_size) {
		*error = "Block size does not match superblock";
		return -WC_EINVAL;
	}
	n = s.n_blocks;
	offset = n * sizeof(disk::Entry);
	if (offset / sizeof(disk::Entry) != n)
		goto overflow;
	offset += sizeof(disk::Superblock);
	if (offset < sizeof(disk::Superblock))
		goto overflow;
	offset = (offset + block_size - 1) & ~u64(block_size - 1);
	data = n * block_size;
	if (!offset || data / block_size != n || offset + data < offset)
		goto overflow;
	if (offset + data > area_bytes) {
		*error = "Memory area is too small";
		return -WC_EINVAL;
	}
	if (n > kMaxBlocks) {
		*error = "Cache has more blocks than this target supports (4294967294)";
		return -WC_EFBIG;
	}
	if (s.seq_count >= Entry::kFreeSeq - 1) {
		*error = "Sequence count in the superblock is too large";
		return -WC_EOVERFLOW;
	}
	*n_blocks = n;
	*meta_bytes = offset;
	return 0;

overflow:
	*error = "Overflow in size calculation";
	return -WC_EINVAL;
}

} // namespace wc
