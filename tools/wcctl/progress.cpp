// SPDX-License-Identifier: GPL-2.0
#include "progress.h"

#include <cstdio>
#include <unistd.h>

namespace wcctl {

constexpr auto kPlainInterval = std::chrono::seconds(5);
constexpr auto kBarInterval = std::chrono::milliseconds(200);
constexpr int kBarWidth = 30;

Progress::Progress(std::string what, uint64_t total, bool quiet)
	: what_(std::move(what)), total_(total), quiet_(quiet), tty_(isatty(2)),
	  start_(Clock::now()), last_print_(start_)
{
}

Progress::~Progress()
{
	if (drawn_ && tty_)
		fputc('\n', stderr);
}

static std::string eta_text(double seconds)
{
	char buf[32];
	unsigned long s = (unsigned long)(seconds + 0.5);

	if (s >= 3600)
		snprintf(buf, sizeof(buf), "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, sizeof(buf), "%lu:%02lu", s / 60, s % 60);
	return buf;
}

std::string Progress::describe(uint64_t total, uint64_t left, double rate)
{
	char buf[160];
	uint64_t done = total > left ? total - left : 0;
	unsigned pct = total ? unsigned(done * 100 / total) : 100;

	if (rate > 0)
		snprintf(buf, sizeof(buf), "%3u%% %llu blocks left, %.0f blocks/s, ETA %s", pct,
			 (unsigned long long)left, rate, eta_text(double(left) / rate).c_str());
	else
		snprintf(buf, sizeof(buf), "%3u%% %llu blocks left", pct, (unsigned long long)left);
	return buf;
}

void Progress::print(uint64_t left, bool last)
{
	double secs = std::chrono::duration<double>(Clock::now() - start_).count();
	double rate = 0;

	if (have_first_ && secs > 0.5 && first_left_ > left)
		rate = double(first_left_ - left) / secs;
	if (left > total_)
		total_ = left;
	std::string text = describe(total_, left, rate);

	if (tty_) {
		uint64_t done = total_ - left;
		int fill = total_ ? int(done * kBarWidth / total_) : kBarWidth;
		std::string bar(size_t(fill), '#');

		bar.resize(kBarWidth, '.');
		fprintf(stderr, "\r%s [%s] %s\033[K", what_.c_str(), bar.c_str(), text.c_str());
		drawn_ = true;
		if (last) {
			fputc('\n', stderr);
			drawn_ = false;
		}
	} else {
		fprintf(stderr, "%s: %s\n", what_.c_str(), text.c_str());
	}
	fflush(stderr);
}

void Progress::update(uint64_t left)
{
	if (!have_first_) {
		first_left_ = left;
		have_first_ = true;
	}
	if (quiet_)
		return;
	auto now = Clock::now();

	if (now - last_print_ < (tty_ ? kBarInterval : kPlainInterval) && drawn_)
		return;
	if (!tty_ && now - last_print_ < kPlainInterval)
		return;
	last_print_ = now;
	print(left, false);
}

void Progress::finish(uint64_t left)
{
	if (quiet_)
		return;
	print(left, true);
}

} // namespace wcctl
