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

#include "wc_core.h"

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

// The name wcctl status --json gives a field of `dmsetup status` (whose
// layout is wc_core.h's enum wc_status_field).
constexpr const char *status_field_name(wc_status_field f)
{
	switch (f) {
	case WC_STATUS_ERROR: return "error";
	case WC_STATUS_BLOCKS: return "blocks";
	case WC_STATUS_FREE: return "free";
	case WC_STATUS_WRITEBACK: return "writeback";
	case WC_STATUS_READS: return "reads";
	case WC_STATUS_READ_HITS: return "read_hits";
	case WC_STATUS_WRITES: return "writes";
	case WC_STATUS_WRITE_HITS_UNCOMMITTED: return "write_hits_uncommitted";
	case WC_STATUS_WRITE_HITS_COMMITTED: return "write_hits_committed";
	case WC_STATUS_WRITES_AROUND: return "writes_around";
	case WC_STATUS_WRITES_ALLOCATE: return "writes_allocate";
	case WC_STATUS_WRITES_BLOCKED_ON_FREELIST: return "writes_blocked_on_freelist";
	case WC_STATUS_FLUSHES: return "flushes";
	case WC_STATUS_DISCARDS: return "discards";
	case WC_STATUS_NR_FIELDS: break;
	}
	return "";
}

using StatusFieldNames = std::array<const char *, WC_STATUS_NR_FIELDS>;
constexpr StatusFieldNames kStatusFields = [] {
	StatusFieldNames names{};

	for (unsigned i = 0; i < WC_STATUS_NR_FIELDS; i++)
		names[i] = status_field_name(wc_status_field(i));
	return names;
}();

struct WcStatus {
	std::array<uint64_t, WC_STATUS_NR_FIELDS> field{};
	uint64_t get(wc_status_field f) const { return field[f]; }
	uint64_t used() const { return get(WC_STATUS_BLOCKS) - get(WC_STATUS_FREE); }
	static bool parse(const std::string &params, WcStatus *out, std::string *error);
};

} // namespace wcctl
