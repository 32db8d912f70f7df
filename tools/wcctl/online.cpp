// SPDX-License-Identifier: GPL-2.0
#include "online.h"

#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

#include "config.h"
#include "devices.h"
#include "dm.h"
#include "log.h"
#include "offline.h"
#include "ondisk.h"
#include "progress.h"
#include "table.h"
#include "wc_core.h"

namespace wcctl {

namespace {

using json = nlohmann::ordered_json;
constexpr const char *kTarget = "writecache";
constexpr uint64_t kSector = 512;
constexpr unsigned kPollMs = 200;

void info(const OnlineOptions &o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void info(const OnlineOptions &o, const char *fmt, ...)
{
	va_list ap;

	if (o.quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

// A writecache device: its one target's table and status.
struct WcDevice {
	std::string name;
	dm::Target target;
	WcTable table;
	WcStatus status;
};

bool load_device(const std::string &name, WcDevice *d, std::string *error)
{
	std::vector<dm::Target> t, s;

	d->name = name;
	if (!dm::table(name, &t, error) || !dm::status(name, &s, error))
		return false;
	if (t.size() != 1 || t[0].type != kTarget || s.size() != 1 || s[0].type != kTarget) {
		*error = name + " is not a writecache device";
		return false;
	}
	d->target = t[0];
	return WcTable::parse(t[0].params, &d->table, error) &&
	       WcStatus::parse(s[0].params, &d->status, error);
}

// Detach and set end with a resume: a device its owner suspended is not
// theirs to resume.
bool refuse_suspended(const std::string &name)
{
	dm::Info di;
	std::string error;

	if (dm::info(name, &di, &error) && di.suspended) {
		err("%s is suspended: resume it first ('dmsetup resume %s')", name.c_str(),
		    name.c_str());
		return true;
	}
	return false;
}

bool refresh_status(WcDevice *d, std::string *error)
{
	std::vector<dm::Target> s;

	if (!dm::status(d->name, &s, error))
		return false;
	if (s.size() != 1 || s[0].type != kTarget) {
		*error = d->name + " is no longer a writecache device";
		return false;
	}
	return WcStatus::parse(s[0].params, &d->status, error);
}

// The core's own table parser, as the kernel's constructor runs it: the
// same message as ti->error, before anything is changed.
bool validate_table(const WcTable &t, uint64_t cache_bytes, unsigned origin_lbs,
		    unsigned cache_lbs, std::string *error)
{
	wc::Config cfg;
	std::vector<std::string> w;
	std::vector<char *> argv;
	const char *e = "";

	if (cfg.parse_mode(t.mode.c_str())) {
		*error = "invalid mode '" + t.mode + "' (s or p)";
		return false;
	}
	w.push_back(std::to_string(t.block_size));
	unsigned n = 0;
	for (auto &o : t.options)
		n += o.value ? 2 : 1;
	w.push_back(std::to_string(n));
	for (auto &o : t.options) {
		w.push_back(o.key);
		if (o.value)
			w.push_back(*o.value);
	}
	for (auto &x : w)
		argv.push_back(x.data());
	wc_dev_info di = {cache_bytes, origin_lbs, cache_lbs, unsigned(sysconf(_SC_PAGESIZE)),
			  65536};
	if (cfg.parse_args(unsigned(argv.size()), argv.data(), di, &e)) {
		*error = std::string("the table is refused: ") + e;
		return false;
	}
	return true;
}

uint64_t start_sector_of(const WcTable &t)
{
	const Option *o = t.find("start_sector");

	return o && o->value ? std::stoull(*o->value) : 0;
}

unsigned pct(uint64_t a, uint64_t b) { return b ? unsigned(a * 100 / b) : 0; }

json options_json(const WcTable &t)
{
	json j = json::object();

	for (auto &o : t.options) {
		if (!o.value)
			j[o.key] = true;
		else if (o.value->find_first_not_of("0123456789") == std::string::npos)
			j[o.key] = std::stoull(*o.value);
		else
			j[o.key] = *o.value;
	}
	return j;
}

json status_json(const WcDevice &d)
{
	json j;

	j["name"] = d.name;
	j["mode"] = d.table.mode;
	j["block_size"] = d.table.block_size;
	j["origin"] = dm::device_path(d.table.origin);
	j["cache"] = dm::device_path(d.table.cache);
	for (size_t i = 0; i < kStatusFields.size(); i++) {
		j[kStatusFields[i]] = d.status.field[i];
		if (std::string(kStatusFields[i]) == "free")
			j["used"] = d.status.used();
	}
	j["options"] = options_json(d.table);
	return j;
}

void print_status(const WcDevice &d)
{
	const WcStatus &s = d.status;
	uint64_t blocks = s.get("blocks"), used = s.used(), writes = s.get("writes");
	uint64_t reads = s.get("reads");

	printf("%s: writecache, %s mode, %u-byte blocks, %s of cache on %s in front of %s\n",
	       d.name.c_str(), d.table.mode == "p" ? "p (persistent memory)" : "s (SSD)",
	       d.table.block_size, human_bytes(blocks * d.table.block_size).c_str(),
	       dm::device_path(d.table.cache).c_str(), dm::device_path(d.table.origin).c_str());
	if (s.get("error"))
		printf("  state: ERROR: an I/O error latched the error state; new writes fail, "
		       "committed data stays readable\n");
	else
		printf("  state: healthy\n");
	printf("  cache: %" PRIu64 " blocks, %" PRIu64 " used (%u%%), %" PRIu64
	       " free, %" PRIu64 " being written back\n",
	       blocks, used, pct(used, blocks), s.get("free"), s.get("writeback"));
	printf("  reads: %" PRIu64 " blocks, %" PRIu64 " from the cache (%u%% hit rate)\n", reads,
	       s.get("read_hits"), pct(s.get("read_hits"), reads));
	printf("  writes: %" PRIu64 " blocks: %" PRIu64 " newly cached, %" PRIu64
	       " rewrote uncommitted blocks (%u%%), %" PRIu64 " rewrote committed blocks (%u%%), %"
	       PRIu64 " went around the cache\n",
	       writes, s.get("writes_allocate"), s.get("write_hits_uncommitted"),
	       pct(s.get("write_hits_uncommitted"), writes), s.get("write_hits_committed"),
	       pct(s.get("write_hits_committed"), writes), s.get("writes_around"));
	printf("  waits for free blocks: %" PRIu64 "; flushes: %" PRIu64 "; discarded blocks: %"
	       PRIu64 "\n", s.get("writes_blocked_on_freelist"), s.get("flushes"),
	       s.get("discards"));
	std::string opts;
	for (auto &o : d.table.options)
		opts += " " + o.key + (o.value ? " " + *o.value : "");
	printf("  options:%s\n", opts.empty() ? " none (all defaults)" : opts.c_str());
}

bool writecache_names(std::vector<std::string> *names, std::string *error)
{
	std::vector<dm::Device> devs;

	if (!dm::list(&devs, error))
		return false;
	for (auto &d : devs) {
		std::vector<dm::Target> t;
		std::string e;

		if (dm::table(d.name, &t, &e) && t.size() == 1 && t[0].type == kTarget)
			names->push_back(d.name);
	}
	return true;
}

// A number from /sys/dev/block/MAJOR:MINOR/ATTR (a partition's queue/ is
// its disk's), or `fallback`.
uint64_t sysfs_number(const std::string &mm, const std::string &attr, uint64_t fallback)
{
	for (const char *up : {"/", "/../"}) {
		FILE *f = fopen(("/sys/dev/block/" + mm + up + attr).c_str(), "r");
		unsigned long long v;

		if (!f)
			continue;
		bool ok = fscanf(f, "%llu", &v) == 1;
		fclose(f);
		if (ok)
			return v;
	}
	return fallback;
}

void sleep_ms(unsigned ms) { usleep(ms * 1000); }

// Swaps in TABLE: load, suspend, resume.  If `check` is given, it runs
// while the device is suspended, with the old table still live; when it
// fails, the new table is dropped and the old one resumed.
bool swap_table(const std::string &name, const dm::Target &t,
		const std::function<bool(std::string *)> &check, std::string *error)
{
	std::string e;

	if (!dm::reload(name, t, error)) {
		std::string k = dm::last_kernel_error();
		if (!k.empty())
			*error += " (kernel: " + k + ")";
		return false;
	}
	if (!dm::suspend(name, true, error)) {
		dm::clear(name, &e);
		return false;
	}
	if (check && !check(error)) {
		dm::clear(name, &e);
		dm::resume(name, &e);
		return false;
	}
	if (!dm::resume(name, error)) {
		// Try once more; a device left suspended blocks its users.
		if (!dm::resume(name, &e))
			*error += "; " + name + " is left suspended: 'dmsetup resume " + name + "'";
		return false;
	}
	return true;
}

} // namespace

// --- create --------------------------------------------------------------

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
		uint64_t dirty = 0;
		for (uint64_t i = 0; i < lc.n_blocks(); i++) {
			unsigned long long sector, seq;

			dirty += wc_core_block_state(lc.core(), i, &sector, &seq) != 0;
		}
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

// --- detach --------------------------------------------------------------

int cmd_detach(const std::string &name, bool remove, const OnlineOptions &o)
{
	WcDevice d;
	std::string error;

	if (!load_device(name, &d, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	if (refuse_suspended(name))
		return 1;
	if (d.status.get("error")) {
		err("%s is in the error state: its dirty blocks cannot be written back; nothing "
		    "was changed (see 'wcctl status %s' and dmesg)", name.c_str(), name.c_str());
		return 1;
	}
	if (!dm::message(name, "cleaner", &error)) {
		err("%s", error.c_str());
		return 1;
	}
	info(o, "%s: cleaner mode: writing back %" PRIu64 " dirty blocks", name.c_str(),
	     d.status.used());

	Progress progress("detach " + name, d.status.used(), o.quiet);
	for (;;) {
		if (!refresh_status(&d, &error)) {
			err("%s", error.c_str());
			return 1;
		}
		if (d.status.get("error")) {
			progress.finish(d.status.used());
			err("%s: the error state was set during the detach: the %" PRIu64
			    " blocks not written back stay on the cache; the table is unchanged "
			    "(see dmesg)", name.c_str(), d.status.used());
			return 1;
		}
		if (!d.status.used() && !d.status.get("writeback"))
			break;
		if (g_interrupted) {
			progress.finish(d.status.used());
			err("interrupted: %s is consistent and stays a writecache in cleaner mode "
			    "with %" PRIu64 " dirty blocks; run 'wcctl detach %s' again to continue",
			    name.c_str(), d.status.used(), name.c_str());
			return 2;
		}
		progress.update(d.status.used());
		sleep_ms(kPollMs);
	}
	progress.finish(0);

	// The origin, mapped linearly in place of the cache.  Signals wait
	// until the swap is over: it must not stop half way.
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);

	dm::Target linear{0, d.target.length, "linear", d.table.origin + " 0"};
	auto clean_while_suspended = [&](std::string *e) {
		// Suspended: nothing can be written any more, and the suspend
		// has committed and (cleaner) drained.  Only a cache that is
		// empty and not in the error state may be dropped.
		if (!refresh_status(&d, e))
			return false;
		if (d.status.get("error")) {
			*e = name + ": the error state was set: the cache keeps its data";
			return false;
		}
		if (d.status.used()) {
			*e = name + ": " + std::to_string(d.status.used()) +
			     " blocks were written while detaching";
			return false;
		}
		return true;
	};
	bool ok = false;
	for (int attempt = 0; attempt < 5 && !ok; attempt++) {
		ok = swap_table(name, linear, clean_while_suspended, &error);
		if (!ok && error.find("written while detaching") == std::string::npos)
			break;
		if (!ok)
			sleep_ms(kPollMs);
	}
	sigprocmask(SIG_SETMASK, &old, nullptr);
	if (!ok) {
		err("%s; %s is unchanged, still a writecache", error.c_str(), name.c_str());
		return 1;
	}
	info(o, "%s: the cache %s is detached; %s now maps %s directly", name.c_str(),
	     dm::device_path(d.table.cache).c_str(), name.c_str(),
	     dm::device_path(d.table.origin).c_str());
	if (remove) {
		if (!dm::remove(name, &error)) {
			err("%s (the device is detached from its cache and maps the origin)",
			    error.c_str());
			return 1;
		}
		info(o, "%s: removed", name.c_str());
	}
	return 0;
}

// --- status, list, messages ----------------------------------------------

int cmd_status(const std::vector<std::string> &names_in, const OnlineOptions &o)
{
	std::vector<std::string> names = names_in;
	std::string error;
	int rc = 0;

	if (names.empty() && !writecache_names(&names, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	json all = json::array();
	for (auto &n : names) {
		WcDevice d;

		if (!load_device(n, &d, &error)) {
			err("%s", error.c_str());
			rc = 1;
			continue;
		}
		if (o.json)
			all.push_back(status_json(d));
		else
			print_status(d);
	}
	if (o.json)
		printf("%s\n", all.dump(2).c_str());
	else if (names.empty() && !o.quiet)
		fprintf(stderr, "wcctl: no writecache devices\n");
	return rc;
}

int cmd_list(const OnlineOptions &o)
{
	std::vector<std::string> names;
	std::string error;

	if (!writecache_names(&names, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	json all = json::array();
	for (auto &n : names) {
		WcDevice d;

		if (!load_device(n, &d, &error))
			continue;
		std::string origin = dm::device_path(d.table.origin);
		std::string cache = dm::device_path(d.table.cache);

		if (o.json)
			all.push_back({{"name", n}, {"mode", d.table.mode}, {"origin", origin},
				       {"cache", cache}});
		else
			printf("%-20s %s %-20s %s\n", n.c_str(), d.table.mode.c_str(),
			       origin.c_str(), cache.c_str());
	}
	if (o.json)
		printf("%s\n", all.dump(2).c_str());
	return 0;
}

int cmd_flush(const std::string &name, const OnlineOptions &o)
{
	WcDevice d;
	std::string error, msg_error;

	if (!load_device(name, &d, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	// The message returns when everything is written back; the status
	// shows how far it is meanwhile.
	std::atomic<int> state{0};	// 0 running, 1 done, 2 failed
	std::thread sender([&] {
		state = dm::message(name, "flush", &msg_error) ? 1 : 2;
	});
	Progress progress("flush " + name, d.status.used(), o.quiet);
	while (!state) {
		if (refresh_status(&d, &error))
			progress.update(d.status.used());
		sleep_ms(kPollMs);
	}
	sender.join();
	if (refresh_status(&d, &error))
		progress.finish(d.status.used());
	if (state == 2) {
		err("%s%s", msg_error.c_str(),
		    d.status.get("error") ? " (the device is in the error state)" : "");
		return 1;
	}
	return 0;
}

int cmd_clear_stats(const std::string &name, const OnlineOptions &)
{
	WcDevice d;
	std::string error;

	if (!load_device(name, &d, &error) || !dm::message(name, "clear_stats", &error)) {
		err("%s", error.c_str());
		return 1;
	}
	return 0;
}

int cmd_set(const std::string &name, const std::vector<std::string> &settings,
	    const OnlineOptions &o)
{
	WcDevice d;
	std::string error;

	if (!load_device(name, &d, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	if (refuse_suspended(name))
		return 1;
	WcTable t = d.table;
	for (auto &w : settings) {
		if (!apply_option(&t.options, w, &error)) {
			err("%s", error.c_str());
			return 1;
		}
	}
	if (start_sector_of(t) != start_sector_of(d.table)) {
		err("start_sector cannot change: it says where the cache's metadata is");
		return 1;
	}
	// The devices are held by the table: their sizes come from sysfs.
	uint64_t cache_bytes = sysfs_number(t.cache, "size", ~0ULL >> 9) * kSector;
	unsigned origin_lbs = unsigned(sysfs_number(t.origin, "queue/logical_block_size", 512));
	unsigned cache_lbs = unsigned(sysfs_number(t.cache, "queue/logical_block_size", 512));
	if (!validate_table(t, cache_bytes, origin_lbs, cache_lbs, &error)) {
		err("%s", error.c_str());
		return 1;
	}
	dm::Target nt = d.target;
	nt.params = t.params();
	if (nt.params == d.target.params) {
		info(o, "%s: nothing to change", name.c_str());
		return 0;
	}
	if (!swap_table(name, nt, nullptr, &error)) {
		err("%s; the table is unchanged", error.c_str());
		return 1;
	}
	info(o, "%s: table now: %s", name.c_str(), nt.params.c_str());
	return 0;
}

} // namespace wcctl
