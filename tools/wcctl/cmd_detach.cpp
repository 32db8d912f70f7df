// SPDX-License-Identifier: GPL-2.0
// wcctl detach: cleaner, progress, then a linear table swapped in while the
// device is suspended and empty.
#include "online_util.h"

#include <cinttypes>
#include <csignal>
#include <cstdio>

#include "log.h"
#include "progress.h"

namespace wcctl {

int cmd_detach(const std::string &name, bool remove, const OnlineOptions &o)
{
	WcDevice d;
	std::string error;

	if (!load_device_to_change(name, &d))
		return 1;
	if (d.status.get(WC_STATUS_ERROR)) {
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
		if (d.status.get(WC_STATUS_ERROR)) {
			progress.finish(d.status.used());
			err("%s: the error state was set during the detach: the %" PRIu64
			    " blocks not written back stay on the cache; the table is unchanged "
			    "(see dmesg)", name.c_str(), d.status.used());
			return 1;
		}
		if (!d.status.used() && !d.status.get(WC_STATUS_WRITEBACK))
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
	bool written_meanwhile = false;
	auto clean_while_suspended = [&](std::string *e) {
		// Suspended: nothing can be written any more, and the suspend
		// has committed and (cleaner) drained.  Only a cache that is
		// empty and not in the error state may be dropped.
		if (!refresh_status(&d, e))
			return false;
		if (d.status.get(WC_STATUS_ERROR)) {
			*e = name + ": the error state was set: the cache keeps its data";
			return false;
		}
		if (d.status.used()) {
			written_meanwhile = true;
			*e = name + ": " + std::to_string(d.status.used()) +
			     " blocks were written while detaching";
			return false;
		}
		return true;
	};
	bool ok = false;
	for (int attempt = 0; attempt < 5 && !ok; attempt++) {
		written_meanwhile = false;
		ok = swap_table(name, linear, clean_while_suspended, &error);
		if (!ok && !written_meanwhile)
			break;	// only new writes are worth another try
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

} // namespace wcctl
