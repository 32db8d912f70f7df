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

// The read rule: a read of a block whose write failed returns a version
// that was written to it, or fails; never what the failed write left in
// the cache block.  An uncommitted block of a failed write leaves the
// index and the LRU, which uncovers the version before it: an older copy
// under writeback, or the origin's.  A committed block (SSD mode rewrites
// it in place) stays: each sector of a failed write holds the old data or
// the new.  The error is latched (the caller's precondition), so the free
// is never written (I4) and the block never allocated again.
void Cache::forget_if_uncommitted(BlockId e)
{
	if (committed(e) || entry(e).state() != Entry::State::kCached)
		return;
	if (uncommitted_blocks_)
		uncommitted_blocks_--;
	free_entry(e);
}

void Cache::forget_failed_write(u64 sector, u32 nr_sectors)
{
	u64 first = sector & ~u64(block_sectors() - 1);

	for (u64 s = first; s < sector + nr_sectors; s += block_sectors()) {
		BlockId e = find_exact(s);

		if (!e.is_nil())
			forget_if_uncommitted(e);
	}
}

void Cache::forget_uncommitted()
{
	for (BlockId e = lru_.front(); !e.is_nil();) {
		BlockId next = lru_.next(e);

		forget_if_uncommitted(e);
		e = next;
	}
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

void Cache::status_fields(u64 (&f)[WC_STATUS_NR_FIELDS]) const
{
	f[WC_STATUS_ERROR] = error_ ? 1 : 0;
	f[WC_STATUS_BLOCKS] = n_blocks_;
	f[WC_STATUS_FREE] = free_.size();
	f[WC_STATUS_WRITEBACK] = writeback_size_;
	f[WC_STATUS_READS] = stats_.reads;
	f[WC_STATUS_READ_HITS] = stats_.read_hits;
	f[WC_STATUS_WRITES] = stats_.writes;
	f[WC_STATUS_WRITE_HITS_UNCOMMITTED] = stats_.write_hits_uncommitted;
	f[WC_STATUS_WRITE_HITS_COMMITTED] = stats_.write_hits_committed;
	f[WC_STATUS_WRITES_AROUND] = stats_.writes_around;
	f[WC_STATUS_WRITES_ALLOCATE] = stats_.writes_allocate;
	f[WC_STATUS_WRITES_BLOCKED_ON_FREELIST] = stats_.writes_blocked_on_freelist;
	f[WC_STATUS_FLUSHES] = stats_.flushes;
	f[WC_STATUS_DISCARDS] = stats_.discards;
}

// The fields in wc_core.h's order, separated by single spaces.
void Cache::status(text::Emitter &out) const
{
	u64 f[WC_STATUS_NR_FIELDS];

	status_fields(f);
	for (u32 i = 0; i < WC_STATUS_NR_FIELDS; i++) {
		if (i)
			out.chr(' ');
		out.dec(f[i]);
	}
}

} // namespace wc
