// SPDX-License-Identifier: GPL-2.0
// wcctl size: blocks, metadata and RAM of a cache, from the core's layout.
#include "offline.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "log.h"
#include "units.h"

using json = nlohmann::ordered_json;

namespace wcctl {

// The in-tree target's RAM, from its structures (dm-writecache.c, 6.1):
// a 72-byte struct wc_entry per block; in SSD mode also a RAM copy of the
// whole metadata area and a dirty bit per 64 KiB of it.
static uint64_t intree_ram_bytes(bool pmem, uint64_t n_blocks, uint64_t metadata_bytes)
{
	uint64_t r = 72 * n_blocks;

	if (!pmem)
		r += metadata_bytes + (metadata_bytes / 65536 + 64) / 64 * 8;
	return r;
}

int cmd_size(const std::string &text, unsigned block_size, const std::string &mode,
	     const OfflineOptions &o)
{
	uint64_t bytes;
	unsigned long long n, meta;

	if (!parse_size(text, &bytes)) {
		err("'%s' is not a size (bytes, or with a unit: 512s, 64M, 1GiB, 2T)", text.c_str());
		return 1;
	}
	int r = wc_core_layout(bytes, block_size, &n, &meta);
	if (r == -WC_ENOSPC) {
		err("%s holds not one %u-byte block with its metadata", human_bytes(bytes).c_str(),
		    block_size);
		return 1;
	}
	if (r == -WC_EFBIG) {
		err("%s has more %u-byte blocks than a cache can address (4294967294)",
		    human_bytes(bytes).c_str(), block_size);
		return 1;
	}
	if (r) {
		err("invalid block size %u", block_size);
		return 1;
	}
	bool pmem = mode == "p";
	uint64_t ours = wc_core_ram_bytes(n, meta);
	uint64_t theirs = intree_ram_bytes(pmem, n, meta);

	if (o.json) {
		json j = {{"bytes", bytes}, {"block_size", block_size}, {"mode", mode},
			  {"blocks", n}, {"metadata_bytes", meta},
			  {"ram_bytes", ours}, {"intree_ram_bytes", theirs}};
		printf("%s\n", j.dump(2).c_str());
		return 0;
	}
	printf("cache of %" PRIu64 " bytes (%s), %u-byte blocks, %s mode\n", bytes,
	       human_bytes(bytes).c_str(), block_size, pmem ? "p (persistent memory)" : "s (SSD)");
	printf("  blocks:              %llu\n", n);
	printf("  metadata:            %llu bytes (%s)\n", meta, human_bytes(meta).c_str());
	printf("  RAM, this module:    %" PRIu64 " bytes (%s, %.1f B/block)\n", ours,
	       human_bytes(ours).c_str(), n ? double(ours) / double(n) : 0.0);
	printf("  RAM, in-tree target: %" PRIu64 " bytes (%s, %.1f B/block)\n", theirs,
	       human_bytes(theirs).c_str(), n ? double(theirs) / double(n) : 0.0);
	return 0;
}

} // namespace wcctl
