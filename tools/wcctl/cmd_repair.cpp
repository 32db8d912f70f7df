// SPDX-License-Identifier: GPL-2.0
// wcctl repair: a backup first, then only the entries the load drops.
#include "offline.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"
#include "ondisk.h"

namespace wcctl {

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
			print_list(stdout, a.errors, "  found: ");
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
	       count_kept(after));
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

} // namespace wcctl
