// SPDX-License-Identifier: GPL-2.0
#include "online_util.h"

#include <cstdarg>
#include <cstdio>
#include <unistd.h>

#include "config.h"
#include "log.h"

namespace wcctl {

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

bool load_device_to_change(const std::string &name, WcDevice *d)
{
	std::string error;

	if (!load_device(name, d, &error)) {
		err("%s", error.c_str());
		return false;
	}
	return !refuse_suspended(name);
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

} // namespace wcctl
