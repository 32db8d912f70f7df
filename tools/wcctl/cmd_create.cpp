// SPDX-License-Identifier: GPL-2.0
// wcctl create: both devices checked, the table checked by the core, then
// a blank superblock and the table.
#include "online_util.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "devices.h"
#include "loaded_cache.h"
#include "log.h"
#include "ondisk.h"
#include "units.h"
#include "wc_core.h"

namespace wcctl {

int cmd_create(const CreateArgs &a, const OnlineOptions &o)
{
	BlockInfo origin, cache;
	std::string error;
	dm::Info di;

	if (dm::info(a.name, &di, &error) && di.exists) {
		err("a device-mapper device named %s exists already", a.name.c_str());
		return 1;
	}
	if (!probe_block_device(a.origin, &origin, &error) ||
	    !probe_block_device(a.cache, &cache, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	if (dm::device_number(a.origin) == dm::device_number(a.cache)) {
		err("the origin and the cache are the same device");
		return 1;
	}

	WcTable t;
	t.mode = a.mode.empty() ? (cache.dax && !cache.async_dax ? "p" : "s") : a.mode;
	if (t.mode != "s" && t.mode != "p") {
		err("invalid mode '%s': s (SSD) or p (persistent memory)", t.mode.c_str());
		return 1;
	}
	if (t.mode == "p" && !cache.dax) {
		err("%s does not support DAX: p mode needs persistent memory (use --mode s)",
		    a.cache.c_str());
		return 1;
	}
	if (t.mode == "p" && cache.async_dax) {
		err("%s is asynchronous DAX (virtio-pmem): p mode needs synchronous DAX "
		    "(use --mode s)", a.cache.c_str());
		return 1;
	}
	for (auto &w : a.options)
		if (!apply_option(&t.options, w, &error)) {
			err("%s", error.c_str());
			return 1;
		}
	t.origin = a.origin;
	t.cache = a.cache;
	const Option *ss = t.find("start_sector");
	uint64_t start = 0;
	if (ss && (!ss->value || ss->value->find_first_not_of("0123456789") != std::string::npos)) {
		err("start_sector takes a number of sectors");
		return 1;
	}
	start = start_sector_of(t);
	if (start * kSector >= cache.bytes) {
		err("start_sector %" PRIu64 " is beyond the end of %s", start, a.cache.c_str());
		return 1;
	}

	// What is on the cache device now.
	{
		FileDevice dev;
		uint8_t first[kSector];
		wc::disk::Superblock sb;

		if (!dev.open(a.cache, FileDevice::Access::kReadOnly, &error) ||
		    dev.read(start, first, 1)) {
			err("%s", error.empty() ? ("cannot read " + a.cache).c_str() : error.c_str());
			return 1;
		}
		memcpy(&sb, first, sizeof(sb));
		if (sb.magic == wc::disk::kMagic) {
			if (!a.load && !o.force) {
				err("%s holds a writecache superblock (block size %u, %llu blocks): give "
				    "--load to use the cache as it is, or --force to erase it",
				    a.cache.c_str(), sb.block_size, (unsigned long long)sb.n_blocks);
				return 1;
			}
			if (a.load && !a.block_size)
				t.block_size = sb.block_size;
		} else if (a.load) {
			err("%s holds no writecache superblock: nothing to --load", a.cache.c_str());
			return 1;
		}
	}
	if (!t.block_size)
		t.block_size = a.block_size ? a.block_size : 4096;
	if (!a.load || o.force) {
		std::string sig = foreign_signature(a.cache, start * kSector, &error);

		if (!error.empty()) {
			err("%s", error.c_str());
			return 1;
		}
		if (!sig.empty() && !o.force) {
			err("%s holds a %s signature: it is not free for a cache (--force erases it)",
			    a.cache.c_str(), sig.c_str());
			return 1;
		}
	}
	if (!validate_table(t, cache.bytes, origin.logical_block_size, cache.logical_block_size,
			    &error)) {
		err("%s", error.c_str());
		return 1;
	}

	unsigned long long n = 0, meta = 0;
	if (a.load) {
		// What the module will find: the core's own load, read-only.
		LoadedCache lc;
		OfflineOptions oo;

		oo.start_sector = start;
		if (lc.open(a.cache, FileDevice::Access::kReadOnly, "", FileDevice::Access::kReadOnly,
			    oo) != LoadedCache::Outcome::kLoaded) {
			err("%s: %s", a.cache.c_str(), lc.refusal().c_str());
			return 1;
		}
		if (lc.has_error()) {
			err("%s: its load would latch the error state (%s): see 'wcctl check %s'",
			    a.cache.c_str(), lc.load_errors().empty() ? "" :
			    lc.load_errors().front().c_str(), a.cache.c_str());
			return 1;
		}
		const uint64_t dirty = count_kept(lc);

		info(o, "%s: reusing its %" PRIu64 " cache blocks of %u bytes, %" PRIu64 " of them "
		     "dirty; the module needs %s of RAM for it", a.cache.c_str(), lc.n_blocks(),
		     lc.block_size(), dirty,
		     human_bytes(wc_core_ram_bytes(lc.n_blocks(), lc.metadata_bytes())).c_str());
	} else {
		int r = wc_core_layout(cache.bytes - start * kSector, t.block_size, &n, &meta);

		if (r) {
			err("%s is too %s for a cache of %u-byte blocks", a.cache.c_str(),
			    r == -WC_EFBIG ? "large" : "small", t.block_size);
			return 1;
		}
		info(o, "%s: %llu cache blocks of %u bytes (%s), metadata %s; the module needs "
		     "%s of RAM for it", a.cache.c_str(), n, t.block_size,
		     human_bytes(n * t.block_size).c_str(), human_bytes(meta).c_str(),
		     human_bytes(wc_core_ram_bytes(n, meta)).c_str());
		if (o.force && !wipe_signatures(a.cache, start * kSector, &error)) {
			err("%s", error.c_str());
			return 1;
		}
		// A zero superblock: the constructor formats the device.
		if (!zero_range(a.cache, start * kSector, t.block_size, &error)) {
			err("%s", error.c_str());
			return 1;
		}
	}

	dm::Target target{0, origin.bytes / kSector, kTarget, t.params()};
	if (!dm::create(a.name, target, &error)) {
		std::string k = dm::last_kernel_error();

		err("%s%s%s", error.c_str(), k.empty() ? "" : "; the kernel says: ", k.c_str());
		return 1;
	}
	printf("/dev/mapper/%s\n", a.name.c_str());
	return 0;
}

} // namespace wcctl
