// SPDX-License-Identifier: GPL-2.0
// The writecache table line and status line, as the kernel prints them,
// and the table's optional arguments as KEY=VALUE.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wcctl {

struct Option {
	std::string key;
	std::optional<std::string> value;	// none for flags (cleaner, fua...)
};

struct WcTable {
	std::string mode;		// "s" or "p"
	std::string origin, cache;	// as in the table: "major:minor" or a path
	unsigned block_size = 0;
	std::vector<Option> options;

	// The words after the target name.
	std::string params() const;
	static bool parse(const std::string &params, WcTable *out, std::string *error);
	const Option *find(const std::string &key) const;
};

// The 12 optional arguments of the table: 1 if KEY takes a value, 0 for a
// flag, -1 for an unknown key.
int option_arity(const std::string &key);
const std::vector<std::string> &option_names();

// Applies KEY=VALUE, FLAG, FLAG=off, or KEY= (back to the default) to the
// options; false and *error for an unknown key or a malformed word.
bool apply_option(std::vector<Option> *options, const std::string &word, std::string *error);

// The 14 numbers of `dmsetup status`, by the names wcctl status --json
// gives them.
constexpr std::array<const char *, 14> kStatusFields = {
	"error", "blocks", "free", "writeback", "reads", "read_hits", "writes",
	"write_hits_uncommitted", "write_hits_committed", "writes_around",
	"writes_allocate", "writes_blocked_on_freelist", "flushes", "discards",
};

struct WcStatus {
	std::array<uint64_t, 14> field{};
	uint64_t get(const char *name) const;
	uint64_t used() const { return get("blocks") - get("free"); }
	static bool parse(const std::string &params, WcStatus *out, std::string *error);
};

} // namespace wcctl
