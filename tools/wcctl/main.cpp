// SPDX-License-Identifier: GPL-2.0
// wcctl: attach, detach and inspect writecache devices, and check, dump,
// repair and rescue their caches offline.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "dm.h"
#include "log.h"
#include "offline.h"
#include "online.h"


namespace {

void on_signal(int) { wcctl::g_interrupted = 1; }

void install_signal_handlers()
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	// no SA_RESTART: sleeps end at once
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
}

// Asks on a terminal; elsewhere (scripts) the command line is the answer.
bool confirm(const std::string &question, bool yes)
{
	char line[16];

	if (yes || !isatty(0))
		return true;
	fprintf(stderr, "%s [y/N] ", question.c_str());
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

bool is_fsck_command(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		return !strcmp(argv[i], "check") || !strcmp(argv[i], "repair");
	}
	return false;
}

} // namespace

int main(int argc, char **argv)
{
	using namespace wcctl;

	CLI::App app{"wcctl: writecache devices (dm-writecache) and their caches", "wcctl"};
	OnlineOptions on;
	OfflineOptions off;
	bool version = false, noudevsync = false;

	app.add_flag("-V,--version", version, "print the version and exit");
	app.add_flag("-q,--quiet", on.quiet, "no progress, no information on stderr");
	app.add_flag("-v,--verbose", on.verbose, "say each device-mapper operation");
	app.add_flag("-y,--yes", on.yes, "answer yes to every question");
	app.add_flag("-f,--force", on.force, "erase what is in the way (create, repair)");
	app.add_flag("--noudevsync", noudevsync,
		     "do not wait for udev; create the device nodes directly");
	app.require_subcommand(0, 1);

	// create
	CreateArgs ca;
	auto *create = app.add_subcommand("create", "create a writecache device over ORIGIN");
	create->add_option("NAME", ca.name, "device-mapper name")->required();
	create->add_option("--origin", ca.origin, "the slow device")->required();
	create->add_option("--cache", ca.cache, "the fast device")->required();
	create->add_option("--mode", ca.mode, "s (SSD) or p (persistent memory); default: p "
			   "when the cache is DAX-capable")->check(CLI::IsMember({"s", "p"}));
	create->add_option("--block-size", ca.block_size, "cache block size (default 4096)")
		->check(CLI::IsMember({512u, 1024u, 2048u, 4096u}));
	create->add_option("-o,--option", ca.options,
			   "table option KEY=VALUE or FLAG (high_watermark=50, cleaner...)");
	create->add_flag("--load", ca.load, "use the cache's existing contents");

	std::string name;
	bool remove = false;
	auto *detach = app.add_subcommand("detach", "write the cache back and map the origin "
					  "directly, keeping the device");
	detach->add_option("NAME", name, "writecache device")->required();
	detach->add_flag("--remove", remove, "remove the device afterwards");

	std::vector<std::string> names;
	auto *status = app.add_subcommand("status", "writecache devices' state in words");
	status->add_option("NAME", names, "devices (default: all)");
	status->add_flag("--json", on.json, "JSON: one object per device");

	auto *list = app.add_subcommand("list", "the writecache devices");
	list->add_flag("--json", on.json, "JSON");

	auto *flush = app.add_subcommand("flush", "commit and write back everything");
	flush->add_option("NAME", name, "writecache device")->required();
	auto *clear = app.add_subcommand("clear-stats", "reset the statistics");
	clear->add_option("NAME", name, "writecache device")->required();

	std::vector<std::string> settings;
	auto *set = app.add_subcommand("set", "change table options (reload, suspend, resume)");
	set->add_option("NAME", name, "writecache device")->required();
	set->add_option("SETTING", settings, "KEY=VALUE, FLAG, FLAG=off, or KEY= for the default")
		->required();

	// offline
	std::string cache, origin, backup, undo;
	bool dry_run = false, no_meta = false;
	auto add_start = [&](CLI::App *c) {
		c->add_option("--start-sector", off.start_sector,
			      "where the cache area starts (the table's start_sector)");
	};
	auto *check = app.add_subcommand("check", "check a cache's metadata (offline)");
	check->add_option("CACHE", cache, "cache device or image file")->required();
	check->add_option("--origin", origin, "the origin, to check entries against its size");
	add_start(check);

	auto *dump = app.add_subcommand("dump", "the superblock and the committed entries (offline)");
	dump->add_option("CACHE", cache, "cache device or image file")->required();
	dump->add_flag("--json", off.json, "JSON");
	add_start(dump);

	auto *repair = app.add_subcommand("repair", "make a cache's metadata loadable (offline)");
	repair->add_option("CACHE", cache, "cache device or image file")->required();
	auto *bk = repair->add_option("--backup", backup, "write the metadata to FILE first");
	auto *un = repair->add_option("--undo", undo, "put a backup made by repair back");
	bk->excludes(un);
	add_start(repair);

	auto *wb = app.add_subcommand("writeback", "copy the dirty data to the origin without "
				      "the kernel module (offline)");
	wb->add_option("CACHE", cache, "cache device or image file")->required();
	wb->add_option("ORIGIN", origin, "origin device or image file")->required();
	wb->add_flag("--dry-run", dry_run, "read everything, write nothing");
	wb->add_flag("--no-metadata-update", no_meta, "leave the cache's metadata as it is");
	add_start(wb);

	std::string bytes, size_mode = "s";
	unsigned size_bs = 4096;
	auto *size = app.add_subcommand("size", "blocks, metadata and RAM of a cache of BYTES");
	size->add_option("BYTES", bytes, "cache size: bytes, or 512s, 64M, 1GiB, 2T")->required();
	size->add_option("--block-size", size_bs, "block size (default 4096)")
		->check(CLI::IsMember({512u, 1024u, 2048u, 4096u}));
	size->add_option("--mode", size_mode, "s or p (default s)")->check(CLI::IsMember({"s", "p"}));
	size->add_flag("--json", off.json, "JSON");

	for (auto *sub : app.get_subcommands({}))
		sub->fallthrough();

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int r = app.exit(e);

		if (r == 0)
			return 0;
		return is_fsck_command(argc, argv) ? kFsckUsage : 1;
	}
	if (version) {
		printf("%s\n", WCCTL_VERSION);
		printf("wcctl (writecache tools); on-disk format version 1 of dm-writecache\n");
		return 0;
	}
	if (app.get_subcommands().empty()) {
		fprintf(stderr, "%s", app.help().c_str());
		return 1;
	}
	off.quiet = on.quiet;
	off.verbose = on.verbose;
	if (getenv("DM_DISABLE_UDEV"))
		noudevsync = true;
	dm::configure(!noudevsync, on.verbose);
	install_signal_handlers();

	if (*create) {
		if (on.force && !confirm("Erase what is on " + ca.cache + "?", on.yes))
			return 1;
		return cmd_create(ca, on);
	}
	if (*detach)
		return cmd_detach(name, remove, on);
	if (*status)
		return cmd_status(names, on);
	if (*list)
		return cmd_list(on);
	if (*flush)
		return cmd_flush(name, on);
	if (*clear)
		return cmd_clear_stats(name, on);
	if (*set)
		return cmd_set(name, settings, on);
	if (*check)
		return cmd_check(cache, origin, off);
	if (*dump)
		return cmd_dump(cache, off);
	if (*repair) {
		if (!undo.empty())
			return cmd_repair_undo(cache, undo, off);
		if (backup.empty()) {
			fprintf(stderr, "wcctl: repair needs --backup FILE (or --undo FILE)\n");
			return kFsckUsage;
		}
		return cmd_repair(cache, backup, on.force, off);
	}
	if (*wb) {
		if (!dry_run && !confirm("Write the cache's dirty data over " + origin + "?", on.yes))
			return 1;
		return cmd_writeback(cache, origin, dry_run, no_meta, off);
	}
	if (*size)
		return cmd_size(bytes, size_bs, size_mode, off);
	return 1;
}
