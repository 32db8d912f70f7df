// SPDX-License-Identifier: GPL-2.0
// The online commands: writecache devices driven through libdevmapper.
// They work with the in-tree target and this module alike: the table,
// the status line and the messages are the same.
#pragma once

#include <string>
#include <vector>

namespace wcctl {

struct OnlineOptions {
	bool quiet = false;
	bool verbose = false;
	bool json = false;
	bool yes = false;
	bool force = false;
};

struct CreateArgs {
	std::string name, origin, cache, mode;
	unsigned block_size = 0;	// 0: 4096, or the superblock's with --load
	std::vector<std::string> options;
	bool load = false;
};

int cmd_create(const CreateArgs &a, const OnlineOptions &o);
int cmd_detach(const std::string &name, bool remove, const OnlineOptions &o);
int cmd_status(const std::vector<std::string> &names, const OnlineOptions &o);
int cmd_list(const OnlineOptions &o);
int cmd_flush(const std::string &name, const OnlineOptions &o);
int cmd_clear_stats(const std::string &name, const OnlineOptions &o);
int cmd_set(const std::string &name, const std::vector<std::string> &settings,
	    const OnlineOptions &o);

} // namespace wcctl
