// SPDX-License-Identifier: GPL-2.0
// wcctl check and wcctl dump.
#include "offline.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "audit.h"
#include "log.h"
#include "units.h"

using json = nlohmann::ordered_json;

namespace wcctl {

int cmd_dump(const std::string &cache, const OfflineOptions &o)
{
	LoadedCache lc;
	auto out = lc.open(cache, FileDevice::Access::kReadOnly, "", FileDevice::Access::kReadOnly, o);

	if (out == LoadedCache::Outcome::kBlank) {
		err("%s: %s", cache.c_str(), kBlankCache);
		return 1;
	}
	if (out != LoadedCache::Outcome::kLoaded) {
		err("%s: %s", cache.c_str(), lc.refusal().c_str());
		return 1;
	}
	for (auto &l : lc.load_errors())
		err("%s: warning: the load latches the error state: %s", cache.c_str(), l.c_str());

	wc_superblock_info sb;
	uint64_t dirty = 0;

	wc_core_superblock(lc.core(), &sb);
	if (o.json) {
		json s = {{"magic", sb.magic}, {"version", sb.version},
			  {"block_size", sb.block_size}, {"n_blocks", sb.n_blocks},
			  {"seq_count", sb.seq_count}};
		bool first = true;

		// Streamed: a large cache has millions of entries.
		printf("{\"superblock\": %s, \"entries\": [", s.dump().c_str());
		for_each_kept(lc, [&](const Kept &k) {
			json e = {{"index", k.index}, {"origin_sector", k.sector}, {"seq", k.seq}};

			printf("%s\n  %s", first ? "" : ",", e.dump().c_str());
			first = false;
			dirty++;
		});
		printf("%s], \"dirty_blocks\": %" PRIu64 "}\n", first ? "" : "\n", dirty);
		return 0;
	}
	printf("superblock: magic 0x%08x, version %u, block size %u, %llu blocks, seq_count %llu\n",
	       sb.magic, sb.version, sb.block_size, sb.n_blocks, sb.seq_count);
	printf("%-10s %-20s %s\n", "index", "origin_sector", "seq");
	for_each_kept(lc, [&](const Kept &k) {
		printf("%-10" PRIu64 " %-20" PRIu64 " %" PRIu64 "\n", k.index, k.sector, k.seq);
		dirty++;
	});
	printf("dirty blocks: %" PRIu64 "\n", dirty);
	return 0;
}

int cmd_check(const std::string &cache, const std::string &origin, const OfflineOptions &o)
{
	LoadedCache lc;
	auto out = lc.open(cache, FileDevice::Access::kReadOnly, origin,
			   FileDevice::Access::kReadOnly, o);

	if (int rc = fsck_not_loaded(lc, out, cache, "superblock refused: ", ""); rc >= 0)
		return rc;

	wc_superblock_info sb;
	unsigned long long fit_blocks = 0, fit_meta = 0;
	const uint64_t area = lc.cache().bytes() - lc.start_sector() * kSector;

	wc_core_superblock(lc.core(), &sb);
	if (!o.quiet) {
		printf("%s: superblock: version %u, block size %u, %llu blocks, seq_count %llu\n",
		       cache.c_str(), sb.version, sb.block_size, sb.n_blocks, sb.seq_count);
		printf("  geometry: metadata %" PRIu64 " bytes, data %s, cache area %s\n",
		       lc.metadata_bytes(), human_bytes(sb.n_blocks * sb.block_size).c_str(),
		       human_bytes(area).c_str());
		if (!wc_core_layout(area, sb.block_size, &fit_blocks, &fit_meta) &&
		    fit_blocks > sb.n_blocks)
			printf("  note: the cache area has room for %llu blocks; the superblock "
			       "uses %llu (made on a smaller device)\n", fit_blocks, sb.n_blocks);
	}

	Audit a = audit(lc);
	std::vector<std::string> errors;
	bool operational = metadata_read_failed(lc) || !a.read_ok;

	if (!a.read_ok)
		errors.push_back("cannot read the metadata entries");
	for (auto &l : lc.load_errors())
		errors.push_back("load: " + l);
	errors.insert(errors.end(), a.errors.begin(), a.errors.end());
	if (lc.has_origin()) {
		const uint64_t end = lc.origin().sectors();
		const uint64_t bs = lc.block_size() / kSector;

		for_each_kept(lc, [&](const Kept &k) {
			if (k.sector + bs > end) {
				char m[200];

				snprintf(m, sizeof(m), "entry %" PRIu64 ": origin sector %" PRIu64
					 " is beyond the origin's end (%" PRIu64 " sectors)",
					 k.index, k.sector, end);
				errors.push_back(m);
			}
		});
	}
	if (!o.quiet) {
		printf("  entries: %" PRIu64 " committed (%" PRIu64 " older copies superseded), %"
		       PRIu64 " uncommitted (dropped by a load), %" PRIu64 " free\n",
		       a.committed, a.superseded, a.uncommitted, a.free);
		printf("  committed dirty blocks: %" PRIu64 "\n", a.kept);
	}
	if (errors.empty()) {
		if (!o.quiet)
			printf("  clean\n");
		return kFsckClean;
	}
	printf("  %zu error%s:\n", errors.size(), errors.size() == 1 ? "" : "s");
	print_list(stdout, errors, "    ");
	return operational ? kFsckOperational : kFsckUncorrected;
}

} // namespace wcctl
