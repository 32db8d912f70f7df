// SPDX-License-Identifier: GPL-2.0
#include "units.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>

namespace wcctl {

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

} // namespace wcctl
