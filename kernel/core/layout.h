// SPDX-License-Identifier: GPL-2.0
// The geometry of a cache area and the checks of its superblock: pure
// functions of their arguments, which allocate and keep nothing.
#pragma once

#include "ondisk.h"

namespace wc {

// The in-tree layout rule: as many blocks as fit together with their
// entries, the data starting at the first block boundary after them.
int calculate_layout(u64 bytes, u32 block_size, u64 *n_blocks, u64 *meta_bytes);

// A superblock of all zeros (magic and version) marks a blank device.
inline bool superblock_blank(const disk::Superblock &s)
{
	return !s.magic && !s.version;
}

// Checks a superblock that is not blank against the table's block size and
// the area it was found in; on success sets the geometry it describes, on
// failure returns the error and sets *error to the in-tree message.
int check_superblock_geometry(const disk::Superblock &s, u32 block_size,
			      u64 area_bytes, u64 *n_blocks, u64 *meta_bytes,
			      const char **error);

} // namespace wc
