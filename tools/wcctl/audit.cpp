// SPDX-License-Identifier: GPL-2.0
// The raw entries are read only to say why the core dropped one; which
// entries count is the core's decision.
#include "audit.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>

#include "entry.h"
#include "log.h"
#include "offline.h"
#include "ondisk.h"

namespace wcctl {

namespace {

constexpr size_t kListLimit = 100;

// The raw entries of the metadata area, read in large pieces.
class RawEntries {
public:
	explicit RawEntries(LoadedCache &lc) : lc_(lc) {}

	// Calls fn(index, entry) for every entry; false on a read error.
	template <typename Fn>
	bool for_each(Fn fn)
	{
		const uint64_t n = lc_.n_blocks();
		const uint64_t base = lc_.start_sector() * kSector;
		constexpr uint64_t kPiece = 1 << 20;
		std::vector<uint8_t> buf(kPiece);

		for (uint64_t first = 0; first < n; first += kPiece / sizeof(wc::disk::Entry)) {
			uint64_t count = std::min<uint64_t>(kPiece / sizeof(wc::disk::Entry), n - first);

			if (lc_.cache().pread_all(buf.data(), count * sizeof(wc::disk::Entry),
						  base + wc::disk::entry_offset(first)))
				return false;
			for (uint64_t i = 0; i < count; i++) {
				wc::disk::Entry e;

				memcpy(&e, &buf[i * sizeof(e)], sizeof(e));
				fn(first + i, e);
			}
		}
		return true;
	}

private:
	LoadedCache &lc_;
};

} // namespace

Audit audit(LoadedCache &lc)
{
	Audit a;
	wc_superblock_info sb;
	std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> dropped; // sector -> (i, seq)
	std::vector<uint8_t> kept_bits(size_t((lc.n_blocks() + 7) / 8));

	wc_core_superblock(lc.core(), &sb);
	for_each_kept(lc, [&](const Kept &k) {
		kept_bits[k.index / 8] |= uint8_t(1U << (k.index % 8));
		a.kept++;
	});
	a.read_ok = RawEntries(lc).for_each([&](uint64_t i, const wc::disk::Entry &e) {
		if (e.seq_count == wc::disk::kFreeSeq) {
			a.free++;
			return;
		}
		if (e.seq_count >= sb.seq_count) {
			a.uncommitted++;
			return;
		}
		a.committed++;
		if (kept_bits[i / 8] & (1U << (i % 8)))
			return;
		a.drop.push_back(i);
		if (e.original_sector >= wc::Entry::kMaxSector) {
			char m[160];

			snprintf(m, sizeof(m), "entry %" PRIu64 ": invalid origin sector %" PRIu64
				 " (a load refuses it)", i, uint64_t(e.original_sector));
			a.errors.push_back(m);
			return;
		}
		dropped[e.original_sector].push_back({i, e.seq_count});
	});
	if (dropped.empty())
		return a;
	// Each dropped entry against the copy the core kept for its sector.
	for_each_kept(lc, [&](const Kept &k) {
		auto it = dropped.find(k.sector);

		if (it == dropped.end())
			return;
		for (auto &[i, seq] : it->second) {
			if (seq == k.seq) {
				char m[200];

				snprintf(m, sizeof(m), "entries %" PRIu64 " and %" PRIu64
					 ": two identical entries, origin sector %" PRIu64
					 ", sequence %" PRIu64 " (a load latches the error state)",
					 i, k.index, k.sector, seq);
				a.errors.push_back(m);
			} else {
				a.superseded++;
			}
		}
		dropped.erase(it);
	});
	// Dropped, and no copy kept: both of an identical pair were dropped.
	for (auto &[sector, list] : dropped)
		for (auto &[i, seq] : list) {
			char m[200];

			snprintf(m, sizeof(m), "entry %" PRIu64 ": origin sector %" PRIu64
				 ", sequence %" PRIu64 " dropped by the load", i, sector, seq);
			a.errors.push_back(m);
		}
	return a;
}

void print_list(FILE *out, const std::vector<std::string> &lines, const char *prefix)
{
	for (size_t i = 0; i < lines.size() && i < kListLimit; i++)
		fprintf(out, "%s%s\n", prefix, lines[i].c_str());
	if (lines.size() > kListLimit)
		fprintf(out, "%s... and %zu more\n", prefix, lines.size() - kListLimit);
}

int fsck_not_loaded(const LoadedCache &lc, LoadedCache::Outcome out, const std::string &cache,
		    const char *refused, const char *blank_suffix)
{
	switch (out) {
	case LoadedCache::Outcome::kUnreadable:
		err("%s", lc.refusal().c_str());
		return kFsckOperational;
	case LoadedCache::Outcome::kBlank:
		printf("%s: %s%s\n", cache.c_str(), kBlankCache, blank_suffix);
		return kFsckUncorrected;
	case LoadedCache::Outcome::kRefused:
		printf("%s: %s%s\n", cache.c_str(), refused, lc.refusal().c_str());
		return kFsckUncorrected;
	case LoadedCache::Outcome::kLoaded:
		break;
	}
	return -1;
}

} // namespace wcctl
