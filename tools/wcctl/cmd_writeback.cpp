// SPDX-License-Identifier: GPL-2.0
// wcctl writeback: the core's writeback pass over the devices, with a
// copy step that retries and rescues block by block.
#include "offline.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "audit.h"
#include "log.h"
#include "progress.h"
#include "units.h"

namespace wcctl {

namespace {

constexpr unsigned kReadRetries = 3;

struct Rescue {
	LoadedCache &lc;
	bool dry_run;
	Progress &progress;
	uint64_t total;
	uint64_t copied = 0, done = 0, beyond_end = 0;
	std::vector<std::string> failed;
	std::vector<uint8_t> buf;
	int origin_error = 0;

	int read_with_retries(uint64_t sector, uint8_t *data, uint32_t nr)
	{
		int r = 0;

		for (unsigned t = 0; t < kReadRetries; t++)
			if (!(r = lc.cache().read(sector, data, nr)))
				return 0;
		return r;
	}

	int copy(const wc_wb_job &job)
	{
		const uint32_t bs = lc.block_size() / kSector;
		const uint64_t job_sectors = uint64_t(job.nr_blocks) * bs;
		bool keep = false;

		done += job.nr_blocks;
		progress.update(total - done);
		if (g_interrupted || origin_error)
			return wc::model::Model::kKeepJob;
		if (job.nr_sectors < job_sectors) {
			// Past the origin's end: nowhere to put it; kept.
			beyond_end += (job_sectors - job.nr_sectors + bs - 1) / bs;
			keep = true;
		}
		if (!job.nr_sectors)
			return wc::model::Model::kKeepJob;
		buf.resize(size_t(job.nr_sectors) * kSector);
		if (!read_with_retries(job.cache_sector, buf.data(), job.nr_sectors)) {
			int r = write_origin(job.origin_sector, buf.data(), job.nr_sectors);

			if (r)
				return r;
			copied += (job.nr_sectors + bs - 1) / bs;
		} else {
			// Block by block: rescue what can be read.
			for (uint32_t b = 0; b * bs < job.nr_sectors; b++) {
				uint32_t nr = std::min(bs, job.nr_sectors - b * bs);
				uint64_t cs = job.cache_sector + uint64_t(b) * bs;
				uint64_t os = job.origin_sector + uint64_t(b) * bs;

				if (read_with_retries(cs, buf.data(), nr)) {
					char m[160];

					snprintf(m, sizeof(m), "cache block %" PRIu64 " (origin sector %"
						 PRIu64 "): cannot be read",
						 uint64_t(job.head.index) + b, os);
					failed.push_back(m);
					keep = true;
					continue;
				}
				int r = write_origin(os, buf.data(), nr);
				if (r)
					return r;
				copied++;
			}
		}
		return keep ? wc::model::Model::kKeepJob : 0;
	}

	int write_origin(uint64_t sector, const uint8_t *data, uint32_t nr)
	{
		int r = dry_run ? 0 : lc.origin().write(sector, data, nr, false);

		if (r)
			origin_error = r;
		return r;
	}
};

} // namespace

int cmd_writeback(const std::string &cache, const std::string &origin, bool dry_run,
		  bool no_metadata_update, const OfflineOptions &o)
{
	using Access = FileDevice::Access;
	LoadedCache lc;
	Access ca = dry_run || no_metadata_update ? Access::kReadOnly : Access::kReadWrite;
	Access oa = dry_run ? Access::kReadOnly : Access::kReadWrite;
	auto out = lc.open(cache, ca, origin, oa, o);

	if (out == LoadedCache::Outcome::kBlank) {
		err("%s: %s; nothing to write back", cache.c_str(), kBlankCache);
		return 1;
	}
	if (out != LoadedCache::Outcome::kLoaded) {
		err("%s", lc.refusal().c_str());
		return 1;
	}
	if (lc.has_error()) {
		err("%s: the cache's metadata has errors, nothing was written: %s", cache.c_str(),
		    lc.load_errors().empty() ? "error state" : lc.load_errors().front().c_str());
		err("run 'wcctl check %s', then 'wcctl repair %s --backup FILE'", cache.c_str(),
		    cache.c_str());
		return 1;
	}
	const uint64_t total = count_kept(lc);
	if (!total) {
		if (!o.quiet)
			printf("%s: no dirty blocks; nothing to write back\n", cache.c_str());
		return 0;
	}

	Progress progress("writeback", total, o.quiet);
	Rescue rescue{lc, dry_run, progress, total};

	lc.model().copy_job = [&](const wc_wb_job &job) { return rescue.copy(job); };
	// One pass over the whole index (writeback_all): the core plans the
	// jobs in origin order; the retire at its end flushes the origin and
	// only then frees the entries of the jobs copied (I3).
	lc.model().writeback(true);
	progress.finish(total - rescue.done);

	const uint64_t bs = lc.block_size();
	int rc = 0;

	if (rescue.origin_error || wc_core_error(lc.core())) {
		err("%s: writing the origin failed: %s; the cache keeps every block not yet "
		    "written back", origin.c_str(),
		    strerror(rescue.origin_error ? -rescue.origin_error : EIO));
		rc = 1;
	}
	if (dry_run)
		printf("dry run: %" PRIu64 " of %" PRIu64 " dirty blocks (%s) can be written back to %s\n",
		       rescue.copied, total, human_bytes(rescue.copied * bs).c_str(), origin.c_str());
	else
		printf("wrote back %" PRIu64 " of %" PRIu64 " dirty blocks (%s) to %s\n",
		       rescue.copied, total, human_bytes(rescue.copied * bs).c_str(), origin.c_str());
	if (!rescue.failed.empty()) {
		fprintf(stderr, "wcctl: %zu block%s could not be read from the cache:\n",
			rescue.failed.size(), rescue.failed.size() == 1 ? "" : "s");
		print_list(stderr, rescue.failed, "  ");
		rc = 1;
	}
	if (rescue.beyond_end) {
		err("%" PRIu64 " blocks lie beyond the end of %s (%" PRIu64 " sectors): not written; "
		    "is it the right origin?", rescue.beyond_end, origin.c_str(), lc.origin().sectors());
		rc = 1;
	}
	const uint64_t left = count_kept(lc);
	if (dry_run || no_metadata_update)
		printf("metadata not changed%s: the cache still holds %" PRIu64 " dirty blocks\n",
		       dry_run ? " (dry run)" : " (--no-metadata-update)", total);
	else if (!wc_core_error(lc.core()))
		printf("metadata updated: %" PRIu64 " entries marked free; %" PRIu64
		       " dirty blocks left in the cache\n", total - left, left);
	if (g_interrupted) {
		err("interrupted: the blocks written back so far are freed, the others are still "
		    "in the cache; run the same command again to continue");
		return 2;
	}
	return rc;
}

} // namespace wcctl
