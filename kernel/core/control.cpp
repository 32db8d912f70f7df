// SPDX-License-Identifier: GPL-2.0
// Messages, status, and the error latch.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

// The first error is kept: once it is latched, nothing is written again.
void Cache::set_error(int error, const char *what)
{
	if (!error_) {
		error_ = error;
		text::Message<160> m;

		m().str(what);
		wc_env_log(WC_LOG_ERR, m.c_str());
	}
	events_ |= WC_EV_WAKE_FREELIST;
}

// A cache or origin flush failed (in-tree's message for both).
void Cache::flush_failed(int result)
{
	text::Message<64> m;

	m().str("error flushing metadata: ").sdec(result);
	set_error(result, m.c_str());
}

int Cache::message(u32 argc, char **argv, int *action)
{
	*action = WC_MSG_HANDLED;
	if (text::equal_nocase(argv[0], "flush")) {
		if (argc != 1)
			return -WC_EINVAL;
		*action = WC_MSG_FLUSH;
	} else if (text::equal_nocase(argv[0], "flush_on_suspend")) {
		if (argc != 1)
			return -WC_EINVAL;
		flush_on_suspend_ = true;
	} else if (text::equal_nocase(argv[0], "cleaner")) {
		if (argc != 1)
			return -WC_EINVAL;
		flush_on_suspend_ = true;
		cleaner_ = true;
		free_.set_cleaner(n_blocks_);
		*action = WC_MSG_CLEANER;
	} else if (text::equal_nocase(argv[0], "clear_stats")) {
		if (argc != 1)
			return -WC_EINVAL;
		stats_ = {};
	} else {
		text::Message<160> m;

		m().str("unrecognised message received: ").str(argv[0]);
		wc_env_log(WC_LOG_ERR, m.c_str());
		return -WC_EINVAL;
	}
	return 0;
}

void Cache::status(text::Emitter &out) const
{
	out.dec(error_ ? 1 : 0).chr(' ').dec(n_blocks_).chr(' ');
	out.dec(free_.size()).chr(' ').dec(writeback_size_).chr(' ');
	out.dec(stats_.reads).chr(' ').dec(stats_.read_hits).chr(' ');
	out.dec(stats_.writes).chr(' ').dec(stats_.write_hits_uncommitted).chr(' ');
	out.dec(stats_.write_hits_committed).chr(' ').dec(stats_.writes_around).chr(' ');
	out.dec(stats_.writes_allocate).chr(' ');
	out.dec(stats_.writes_blocked_on_freelist).chr(' ');
	out.dec(stats_.flushes).chr(' ').dec(stats_.discards);
}

} // namespace wc
