// SPDX-License-Identifier: GPL-2.0
// The state of the running I/O program: its kind, its arguments, and the
// step it is at, named after what it waits for.
#pragma once

#include "types.h"

namespace wc {

// The metadata sync (meta_ssd.cpp): the dirty chunks written, waited for,
// and the cache device flushed.  Before the commit point it also waits for
// the data writes, and runs even with no chunk to write (I1).
enum class SyncStep : u8 {
	kWriteDirty,		// writing dirty chunks
	kDirtyWritten,		// waited for them
	kDataWritten,		// before a commit: waited for the data writes
	kFlushed,		// flushed the cache device
};

enum class FormatStep : u8 {
	kStart,
	kWriteBlank,		// writing the blank chunks
	kBlankWritten,		// waited for them
	kBlankFlushed,		// flushed: the superblock's magic next
	kMagicIssued,
	kMagicWritten,
	kMagicFlushed,
};

enum class LoadStep : u8 {
	kStart,
	kRead,			// reading the metadata
	kSync,			// entries dropped while loading are written
};

enum class CommitStep : u8 {
	kStart,
	kSyncEntries,		// the new entries written and flushed (I1)
	kSuperblockWritten,	// the commit point, with FUA
	kSyncFreed,		// older copies freed by the commit are written
	kOverwritesWritten,	// no new entry: waited for in-place rewrites
	kOverwritesFlushed,
};

enum class RetireStep : u8 {
	kStart,
	kOriginFlushed,		// the copies are durable on the origin (I3)
	kSync,			// the freed blocks' entries are written
};

enum class DiscardStep : u8 {
	kStart,
	kReadsDone,
	kWritesDone,
	kSync,
};

struct Program {
	int kind = 0;
	u64 arg0 = 0, arg1 = 0;
	u64 cursor = 0;		// format: chunk; load: byte
	FormatStep format = FormatStep::kStart;
	LoadStep load = LoadStep::kStart;
	CommitStep commit = CommitStep::kStart;
	RetireStep retire = RetireStep::kStart;
	DiscardStep discard = DiscardStep::kStart;

	SyncStep sync = SyncStep::kWriteDirty;
	bool sync_before_commit = false;
	bool writes_pending = false;
	u64 sync_cursor = 0;	// the next chunk to look at
};

} // namespace wc
