// SPDX-License-Identifier: GPL-2.0
// libFuzzer: arbitrary target messages (words from the messages'
// vocabulary, numbers and raw bytes), between writes and reads, against a
// live target in both modes.  A message either works or fails with
// EINVAL (EBUSY while suspended); it never crashes, never changes data,
// and never leaves a status or table that does not parse back.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "sim_device.h"
#include "sim_pmem.h"
#include "wc_core.h"

#define FAIL(what)                                                      \
	do {                                                            \
		fprintf(stderr, "fuzz_messages: %s\n", what);           \
		__builtin_trap();                                       \
	} while (0)

namespace {

const char *const kWords[] = {
	"flush", "flush_on_suspend", "cleaner", "clear_stats", "FLUSH", "Cleaner",
	"0", "1", "-1", "4096", "x", "", "writeback_jobs", "high_watermark",
};

std::vector<uint8_t> content(uint64_t block, uint8_t version)
{
	return std::vector<uint8_t>(4096, uint8_t(block * 16 + version));
}

// The table the target reports, parsed again, reports itself.
void check_table(wc_core *core, bool pmem)
{
	char buf[512];

	wc_core_table(core, "1:2", "3:4", buf, sizeof(buf));
	std::vector<std::string> words;
	for (char *t = strtok(buf, " "); t; t = strtok(nullptr, " "))
		words.push_back(t);
	if (words.size() < 5)
		FAIL("short table line");
	std::vector<char *> argv;
	for (size_t i = 3; i < words.size(); i++)
		argv.push_back(words[i].data());
	wc_dev_info info = {96 * 1024, 512, 512, 4096, 100};
	const char *err = nullptr;
	wc_core *again = wc_core_create();
	if (wc_core_parse_mode(again, pmem ? "p" : "s") ||
	    wc_core_parse_args(again, unsigned(argv.size()), argv.data(), &info, &err))
		FAIL("the table line does not parse again");
	char buf2[512];
	wc_core_table(again, "1:2", "3:4", buf2, sizeof(buf2));
	wc_core_table(core, "1:2", "3:4", buf, sizeof(buf));
	wc_core_destroy(again);
	if (strcmp(buf, buf2))
		FAIL("the table line does not parse to itself");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	bool pmem = data[0] & 1;
	wc::model::SimDevice origin(2048 * 2), cache(96 * 2);
	wc::model::SimPmem pm(96 * 1024);
	std::vector<std::string> table = {pmem ? "p" : "s", "o", "c", "4096", "0"};
	auto target = std::make_unique<wc::model::Model>(origin, cache, pmem ? &pm : nullptr);
	std::string error;
	std::map<uint64_t, uint8_t> latest;
	bool suspended = false;	// dm queues bios then: none is sent

	if (target->create(table, &error))
		FAIL(error.c_str());
	for (size_t i = 1; i < size;) {
		uint8_t op = data[i++];

		if (op < 32) {
			if (suspended)
				continue;
			// a write, then a read of another block
			uint64_t b = op % 16;
			uint8_t v = uint8_t(1 + (i & 7));
			if (target->write(b * 8, content(b, v)))
				FAIL("a write failed");
			latest[b] = v;
			uint64_t r = (b * 7 + 3) % 16;
			std::vector<uint8_t> out;
			if (target->read(r * 8, 8, &out))
				FAIL("a read failed");
			if (out != (latest.count(r) ? content(r, latest[r])
						    : std::vector<uint8_t>(4096, 0)))
				FAIL("a read returned the wrong data");
			continue;
		}
		if (op < 40) {
			if ((op & 1) && !suspended) {
				target->suspend();
				suspended = true;
			} else if (!(op & 1) && suspended) {
				if (target->resume())
					FAIL("resume failed");
				suspended = false;
			}
			continue;
		}
		// a message of 1-4 words
		std::vector<std::string> words;
		unsigned n = 1 + op % 4;
		while (words.size() < n && i < size) {
			uint8_t w = data[i++];
			if (w < 200)
				words.emplace_back(kWords[w % (sizeof(kWords) / sizeof(kWords[0]))]);
			else if (i < size)
				words.emplace_back(1, char(data[i++] | 1));
		}
		if (words.empty())
			break;
		int r = target->message(words);
		if (r && r != -22 && r != -16)
			FAIL("a message failed with neither EINVAL nor EBUSY");
		unsigned long long st[WC_STATUS_NR_FIELDS];
		wc_core_status_fields(target->core(), st);
		if (st[WC_STATUS_ERROR])
			FAIL("a message latched the error state");
		if (st[WC_STATUS_FREE] > st[WC_STATUS_BLOCKS])
			FAIL("more free blocks than blocks");
		check_table(target->core(), pmem);
		if (!wc_core_validate(target->core()))
			FAIL("the containers disagree");
	}
	return 0;
}
