// SPDX-License-Identifier: GPL-2.0
// The offline commands.  Everything about the format comes from the core:
// the superblock checks, the layout, and which entries a load keeps (the
// core's own load program runs over the device).  The raw entries are
// read only to say why the core dropped one.
#include "offline.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "entry.h"
#include "env_user.h"
#include "log.h"
#include "ondisk.h"
#include "progress.h"
#include "wc_core.h"

namespace wcctl {

volatile int g_interrupted = 0;

namespace {

constexpr uint64_t kSector = 512;
constexpr unsigned kReadRetries = 3;
constexpr size_t kListLimit = 100;

using json = nlohmann::ordered_json;

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

		if (wc_core_block_state(lc.core(), i, &sector, &seq) == 2)
			fn(Kept{i, sector, seq});
	}
}

// Why the core dropped committed on-disk entries: an older copy (fine),
// an invalid sector or two identical entries (errors).
struct Audit {
	uint64_t committed = 0, uncommitted = 0, free = 0, kept = 0;
	uint64_t superseded = 0;
	std::vector<std::string> errors;
	std::vector<uint64_t> drop;	// committed on disk, not kept: to free
	bool read_ok = true;
};

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

void print_list(const std::vector<std::string> &lines, const char *prefix)
{
	for (size_t i = 0; i < lines.size() && i < kListLimit; i++)
		printf("%s%s\n", prefix, lines[i].c_str());
	if (lines.size() > kListLimit)
		printf("%s... and %zu more\n", prefix, lines.size() - kListLimit);
}

bool metadata_read_failed(const LoadedCache &lc)
{
	for (auto &l : lc.load_errors())
		if (l.rfind("unable to read metadata", 0) == 0)
			return true;
	return false;
}

const char *describe(LoadedCache::Outcome o)
{
	switch (o) {
	case LoadedCache::Outcome::kBlank:
		return "no writecache superblock: the device is blank (a load would format it)";
	default:
		return "";
	}
}

// check's and repair's answer when the core did not load the cache; -1
// when it did.
int fsck_not_loaded(const LoadedCache &lc, LoadedCache::Outcome out, const std::string &cache,
		    const char *refused, const char *blank_suffix)
{
	switch (out) {
	case LoadedCache::Outcome::kUnreadable:
		err("%s", lc.refusal().c_str());
		return kFsckOperational;
	case LoadedCache::Outcome::kBlank:
		printf("%s: %s%s\n", cache.c_str(), describe(out), blank_suffix);
		return kFsckUncorrected;
	case LoadedCache::Outcome::kRefused:
		printf("%s: %s%s\n", cache.c_str(), refused, lc.refusal().c_str());
		return kFsckUncorrected;
	case LoadedCache::Outcome::kLoaded:
		break;
	}
	return -1;
}

} // namespace

// --- loading -------------------------------------------------------------

LoadedCache::Outcome LoadedCache::open(const std::string &cache_path,
				       FileDevice::Access cache_access,
				       const std::string &origin_path,
				       FileDevice::Access origin_access,
				       const OfflineOptions &opts)
{
	std::string error;
	wc::disk::Superblock sb;
	uint8_t first[kSector];

	start_sector_ = opts.start_sector;
	if (!cache_.open(cache_path, cache_access, &error)) {
		refusal_ = error;
		return Outcome::kUnreadable;
	}
	if (!origin_path.empty()) {
		if (!origin_file_.open(origin_path, origin_access, &error)) {
			refusal_ = error;
			return Outcome::kUnreadable;
		}
		origin_ = &origin_file_;
		has_origin_ = true;
	}
	if (start_sector_ >= cache_.sectors()) {
		refusal_ = cache_path + ": start sector " + std::to_string(start_sector_) +
			   " is beyond the device's end";
		return Outcome::kRefused;
	}
	int r = cache_.read(start_sector_, first, 1);
	if (r) {
		refusal_ = cache_path + ": cannot read the superblock: " + strerror(-r);
		return Outcome::kUnreadable;
	}
	memcpy(&sb, first, sizeof(sb));
	if (!sb.magic && !sb.version)
		return Outcome::kBlank;

	// The block size comes from the superblock; the core checks it and
	// everything else.  An impossible one is passed as 4096, so that the
	// core reports the field it finds wrong first.
	unsigned bs = sb.block_size;
	if (bs < 512 || bs > 4096 || (bs & (bs - 1)))
		bs = 4096;
	std::vector<std::string> table = {"s", "origin", "cache", std::to_string(bs)};
	if (start_sector_) {
		table.push_back("2");
		table.push_back("start_sector");
		table.push_back(std::to_string(start_sector_));
	} else {
		table.push_back("0");
	}
	model_ = std::make_unique<wc::model::Model>(*origin_, cache_);
	model_->format_blank = false;
	wc::model::clear_log();
	r = model_->create(table, &error);
	load_errors_ = wc::model::log_lines();
	if (r) {
		refusal_ = error;
		if (error == "Unable to read first block of metadata")
			return Outcome::kUnreadable;
		return Outcome::kRefused;
	}
	if (opts.verbose)
		for (auto &l : load_errors_)
			fprintf(stderr, "wcctl: core: %s\n", l.c_str());
	return Outcome::kLoaded;
}

bool LoadedCache::has_error() const { return wc_core_error(model_->core()) != 0; }
uint64_t LoadedCache::n_blocks() { return wc_core_n_blocks(core()); }
unsigned LoadedCache::block_size() { return wc_core_block_size(core()); }
uint64_t LoadedCache::metadata_bytes() { return wc_core_metadata_sectors(core()) * kSector; }

// --- sizes ---------------------------------------------------------------

bool parse_size(const std::string &text, uint64_t *bytes)
{
	size_t pos = 0;
	unsigned long long v;

	if (text.empty() || !isdigit((unsigned char)text[0]))
		return false;
	try {
		v = std::stoull(text, &pos, 10);
	} catch (...) {
		return false;
	}
	std::string unit = text.substr(pos);
	std::string u;
	for (char c : unit)
		u += char(tolower((unsigned char)c));
	static const std::pair<const char *, uint64_t> units[] = {
		{"", 1}, {"b", 1}, {"s", 512},
		{"k", 1ULL << 10}, {"kib", 1ULL << 10}, {"kb", 1000},
		{"m", 1ULL << 20}, {"mib", 1ULL << 20}, {"mb", 1000000},
		{"g", 1ULL << 30}, {"gib", 1ULL << 30}, {"gb", 1000000000},
		{"t", 1ULL << 40}, {"tib", 1ULL << 40}, {"tb", 1000000000000ULL},
		{"p", 1ULL << 50}, {"pib", 1ULL << 50}, {"pb", 1000000000000000ULL},
	};
	for (auto &[name, mult] : units)
		if (u == name) {
			if (v > ~0ULL / mult)
				return false;
			*bytes = v * mult;
			return true;
		}
	return false;
}

std::string human_bytes(uint64_t bytes)
{
	static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = double(bytes);
	int u = 0;
	char buf[32];

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, sizeof(buf), "%" PRIu64 " B", bytes);
	else
		snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
	return buf;
}

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

// --- dump ----------------------------------------------------------------

int cmd_dump(const std::string &cache, const OfflineOptions &o)
{
	LoadedCache lc;
	auto out = lc.open(cache, FileDevice::Access::kReadOnly, "", FileDevice::Access::kReadOnly, o);

	if (out == LoadedCache::Outcome::kBlank) {
		err("%s: %s", cache.c_str(), describe(out));
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

// --- check ---------------------------------------------------------------

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
	print_list(errors, "    ");
	return operational ? kFsckOperational : kFsckUncorrected;
}

// --- repair --------------------------------------------------------------

static int write_backup(FileDevice &dev, uint64_t offset, uint64_t bytes,
			const std::string &path, bool force)
{
	std::vector<uint8_t> buf(bytes);
	int r = dev.pread_all(buf.data(), bytes, offset);

	if (r) {
		err("%s: cannot read the metadata: %s", dev.path().c_str(), strerror(-r));
		return -1;
	}
	int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
			0600);
	if (fd < 0) {
		err("%s: %s%s", path.c_str(), strerror(errno),
		    errno == EEXIST ? " (an older backup? give another file, or --force)" : "");
		return -1;
	}
	size_t done = 0;
	while (done < buf.size()) {
		ssize_t n = ::write(fd, buf.data() + done, buf.size() - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err("%s: write: %s", path.c_str(), strerror(n < 0 ? errno : EIO));
			close(fd);
			return -1;
		}
		done += size_t(n);
	}
	if (fsync(fd) || close(fd)) {
		err("%s: %s", path.c_str(), strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_repair(const std::string &cache, const std::string &backup, bool force,
	       const OfflineOptions &o)
{
	std::vector<uint64_t> drop;
	uint64_t meta_offset, meta_bytes;
	size_t n_errors;

	{
		LoadedCache lc;
		auto out = lc.open(cache, FileDevice::Access::kReadOnly, "",
				   FileDevice::Access::kReadOnly, o);

		if (int rc = fsck_not_loaded(lc, out, cache,
					     "cannot be made loadable: the superblock is refused: ",
					     "; nothing to repair");
		    rc >= 0)
			return rc;
		if (metadata_read_failed(lc)) {
			err("%s: %s", cache.c_str(), lc.load_errors().front().c_str());
			return kFsckOperational;
		}
		Audit a = audit(lc);
		if (!a.read_ok) {
			err("%s: cannot read the metadata entries", cache.c_str());
			return kFsckOperational;
		}
		meta_offset = lc.start_sector() * kSector;
		meta_bytes = lc.metadata_bytes();
		n_errors = a.errors.size();
		// First the backup, whatever comes next.
		if (write_backup(lc.cache(), meta_offset, meta_bytes, backup, force))
			return kFsckOperational;
		if (!o.quiet)
			printf("%s: backup of the metadata (%" PRIu64 " bytes) written to %s\n",
			       cache.c_str(), meta_bytes, backup.c_str());
		if (!lc.has_error()) {
			// Superseded copies are left for the next load to free.
			if (!o.quiet)
				printf("%s: loadable, nothing to repair\n", cache.c_str());
			return kFsckClean;
		}
		// The entries to free are those the core's load dropped
		// although they are committed on disk: an entry the load kept
		// is never touched.
		drop = a.drop;
		if (!o.quiet)
			print_list(a.errors, "  found: ");
		if (drop.empty()) {
			printf("%s: the load latches the error state, and no entry can be "
			       "dropped to prevent it\n", cache.c_str());
			return kFsckUncorrected;
		}
	}

	{
		// The load above ran on a read-only descriptor; the device is
		// reopened for writing (O_EXCL forbids two descriptors at once).
		FileDevice dev;
		std::string error;

		if (!dev.open(cache, FileDevice::Access::kReadWrite, &error)) {
			err("%s", error.c_str());
			return kFsckOperational;
		}

		const wc::disk::Entry blank = {wc::disk::kFreeSector, wc::disk::kFreeSeq};
		for (uint64_t i : drop) {
			int r = dev.pwrite_all(&blank, sizeof(blank), meta_offset + wc::disk::entry_offset(i));

			if (r) {
				err("%s: write: %s (undo with: wcctl repair %s --undo %s)", cache.c_str(),
				    strerror(-r), cache.c_str(), backup.c_str());
				return kFsckOperational;
			}
		}
		if (int r = dev.flush()) {
			err("%s: flush: %s", cache.c_str(), strerror(-r));
			return kFsckOperational;
		}
		if (!o.quiet)
			printf("  %zu entr%s marked free\n", drop.size(), drop.size() == 1 ? "y" : "ies");

	}

	// What the core says now.
	LoadedCache after;
	if (after.open(cache, FileDevice::Access::kReadOnly, "", FileDevice::Access::kReadOnly, o) !=
		    LoadedCache::Outcome::kLoaded ||
	    after.has_error()) {
		printf("%s: still not loadable after the repair (%zu problems were found)\n",
		       cache.c_str(), n_errors);
		return kFsckUncorrected;
	}
	printf("%s: repaired; it loads with %" PRIu64 " committed dirty blocks\n", cache.c_str(),
	       [&] {
		       uint64_t n = 0;
		       for_each_kept(after, [&](const Kept &) { n++; });
		       return n;
	       }());
	return kFsckCorrected;
}

int cmd_repair_undo(const std::string &cache, const std::string &backup,
		    const OfflineOptions &o)
{
	FileDevice dev, file;
	std::string error;

	if (!file.open(backup, FileDevice::Access::kReadOnly, &error) ||
	    !dev.open(cache, FileDevice::Access::kReadWrite, &error)) {
		err("%s", error.c_str());
		return kFsckOperational;
	}
	uint64_t bytes = file.bytes(), offset = o.start_sector * kSector;
	wc::disk::Superblock sb;

	if (bytes < sizeof(sb) || bytes % kSector || offset + bytes > dev.bytes()) {
		err("%s: not a metadata backup for %s (%" PRIu64 " bytes)", backup.c_str(),
		    cache.c_str(), bytes);
		return kFsckUsage;
	}
	std::vector<uint8_t> buf(bytes);
	if (file.pread_all(buf.data(), bytes, 0)) {
		err("%s: cannot read it", backup.c_str());
		return kFsckOperational;
	}
	memcpy(&sb, buf.data(), sizeof(sb));
	if (sb.magic != wc::disk::kMagic) {
		err("%s: not a writecache metadata backup (bad magic)", backup.c_str());
		return kFsckUsage;
	}
	if (int r = dev.pwrite_all(buf.data(), bytes, offset); r || (r = dev.flush())) {
		err("%s: %s", cache.c_str(), strerror(-r));
		return kFsckOperational;
	}
	if (!o.quiet)
		printf("%s: metadata restored from %s (%" PRIu64 " bytes)\n", cache.c_str(),
		       backup.c_str(), bytes);
	return kFsckClean;
}

// --- writeback -----------------------------------------------------------

namespace {

struct Rescue {
	LoadedCache &lc;
	bool dry_run;
	Progress &progress;
	uint64_t total;
	uint64_t copied = 0, done = 0, beyond_end = 0, kept_blocks = 0;
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
		if (!job.nr_sectors) {
			kept_blocks += job.nr_blocks;
			return wc::model::Model::kKeepJob;
		}
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
						 uint64_t(job.head) + b, os);
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
		if (keep) {
			kept_blocks += job.nr_blocks;
			return wc::model::Model::kKeepJob;
		}
		return 0;
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
		err("%s: %s; nothing to write back", cache.c_str(), describe(out));
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
	uint64_t total = 0;
	for_each_kept(lc, [&](const Kept &) { total++; });
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
		for (size_t i = 0; i < rescue.failed.size() && i < kListLimit; i++)
			fprintf(stderr, "  %s\n", rescue.failed[i].c_str());
		if (rescue.failed.size() > kListLimit)
			fprintf(stderr, "  ... and %zu more\n", rescue.failed.size() - kListLimit);
		rc = 1;
	}
	if (rescue.beyond_end) {
		err("%" PRIu64 " blocks lie beyond the end of %s (%" PRIu64 " sectors): not written; "
		    "is it the right origin?", rescue.beyond_end, origin.c_str(), lc.origin().sectors());
		rc = 1;
	}
	uint64_t left = 0;
	for_each_kept(lc, [&](const Kept &) { left++; });
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
