// SPDX-License-Identifier: GPL-2.0
// libFuzzer: arbitrary table lines (words from a small vocabulary and raw
// bytes) through the parser and the table formatter.  A line that parses
// must echo as a line that parses again to the same table.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "wc_core.h"

namespace {

const char *const kWords[] = {
	"s", "p", "S", "4096", "512", "0", "1", "2", "3", "4", "18", "19",
	"start_sector", "high_watermark", "low_watermark", "writeback_jobs",
	"autocommit_blocks", "autocommit_time", "max_age", "cleaner", "fua",
	"nofua", "metadata_only", "pause_writeback", "-1", "100", "101",
	"4294967297", "3600000", "86400001", "60000", "x", "",
};

std::string table_of(const std::vector<std::string> &words, int *r)
{
	std::vector<std::string> copy(words.begin() + 1, words.end());
	std::vector<char *> argv;
	wc_dev_info info = {1 << 24, 512, 512, 4096, 100};
	const char *err = nullptr;
	wc_core *core = wc_core_create();
	char buf[1024];

	for (auto &w : copy)
		argv.push_back(w.data());
	*r = wc_core_parse_mode(core, words[0].c_str());
	if (!*r)
		*r = wc_core_parse_args(core, unsigned(argv.size()), argv.data(), &info, &err);
	buf[0] = 0;
	if (!*r)
		wc_core_table(core, "1:2", "3:4", buf, sizeof(buf));
	wc_core_destroy(core);
	return buf;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::vector<std::string> words;

	for (size_t i = 0; i < size && words.size() < 40; i++) {
		uint8_t b = data[i];
		if (b < 200) {
			words.emplace_back(kWords[b % (sizeof(kWords) / sizeof(kWords[0]))]);
		} else if (i + 1 < size) {
			words.emplace_back(1, char(data[++i] | 1));
		}
	}
	if (words.empty())
		return 0;
	int r;
	std::string t = table_of(words, &r);
	if (r)
		return 0;
	// "p 1:2 3:4 4096 N args..." -> parse the echo again
	std::vector<std::string> again;
	size_t pos = 0;
	while (pos < t.size()) {
		size_t end = t.find(' ', pos);
		if (end == std::string::npos)
			end = t.size();
		again.push_back(t.substr(pos, end - pos));
		pos = end + 1;
	}
	// drop the device names
	again.erase(again.begin() + 1, again.begin() + 3);
	int r2;
	std::string t2 = table_of(again, &r2);
	if (r2 || t2 != t)
		__builtin_trap();
	return 0;
}
