// SPDX-License-Identifier: GPL-2.0
// Progress of long work on stderr: a bar on a terminal, a plain line every
// five seconds otherwise, nothing when quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace wcctl {

class Progress {
public:
	// `what` names the work ("detach wc"); `total` is in blocks.
	Progress(std::string what, uint64_t total, bool quiet);
	~Progress();

	// `left` blocks remain (they may grow: new writes).
	void update(uint64_t left);
	// Ends the bar's line; prints a last plain line when not on a TTY.
	void finish(uint64_t left);

	// The text of one report, for tests: "45% 1234 blocks left, ..."
	static std::string describe(uint64_t total, uint64_t left, double rate);

private:
	using Clock = std::chrono::steady_clock;

	void print(uint64_t left, bool last);

	std::string what_;
	uint64_t total_;
	bool quiet_;
	bool tty_;
	bool drawn_ = false;
	Clock::time_point start_;
	Clock::time_point last_print_;
	uint64_t first_left_ = 0;
	bool have_first_ = false;
};

} // namespace wcctl
