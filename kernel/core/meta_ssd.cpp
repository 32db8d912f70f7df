// SPDX-License-Identifier: GPL-2.0
// SSD mode's metadata: the entries encoded in chunks, the dirty chunks
// written and flushed, and the programs that format, load and commit.
// The invariants this file keeps, I1, I2 and I4, are stated in meta_ssd.h.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

namespace {

constexpr u32 kChunksPerOp = WC_META_BUF_BYTES / kMetaChunkBytes;
static_assert(WC_META_BUF_BYTES % kMetaChunkBytes == 0);

} // namespace

// Metadata chunk `chunk` as it must be on disk: the superblock, the entries
// (all free while formatting) and zeros after the last entry.
void Cache::encode_chunk(u64 chunk, u8 *buf, bool blank_entries) const
{
	u64 begin = chunk * kMetaChunkBytes;
	u64 end = min<u64>(begin + kMetaChunkBytes, metadata_bytes_);

	mem_set(buf, 0, end - begin);
	for (u64 off = begin; off < end; off += sizeof(disk::Entry)) {
		u8 *dst = buf + (off - begin);

		if (off < disk::kEntriesOffset) {
			mem_copy(dst, reinterpret_cast<const u8 *>(&sb_) + off,
				 sizeof(disk::Entry));
			continue;
		}
		u64 i = (off - disk::kEntriesOffset) / sizeof(disk::Entry);

		if (i >= n_blocks_)
			break;
		disk::Entry de;

		if (blank_entries) {
			de.original_sector = disk::kFreeSector;
			de.seq_count = disk::kFreeSeq;
		} else {
			const Entry &e = entry(BlockId(u32(i)));

			de.original_sector = e.disk_sector();
			de.seq_count = e.disk_seq();
		}
		mem_copy(dst, &de, sizeof(de));
	}
}

// The one path of every metadata write (I4): chunks [first, first +
// count) from op->buf, clipped to the metadata area.
void Cache::meta_write(wc_io_op *op, int kind, u64 first, u64 count)
{
	WC_DEBUG_CHECK(!error_, "I4: metadata written after the error latch");
	op->kind = kind;
	op->sector = cfg.start_sector + first * (kMetaChunkBytes >> kSectorShift);
	op->nr_sectors = u32(min<u64>(count * kMetaChunkBytes,
				      metadata_bytes_ - first * kMetaChunkBytes) >>
			     kSectorShift);
}

// Emits one write of consecutive dirty chunks; false when none is left.
bool Cache::emit_dirty_write(wc_io_op *op)
{
	u64 n = chunk_count(), first;
	u32 count = 0;

	for (first = prog_.sync_cursor; first < n; first++)
		if (dirty_.test(first))
			break;
	if (first >= n)
		return false;
	while (first + count < n && count < kChunksPerOp &&
	       dirty_.test(first + count)) {
		encode_chunk(first + count,
			     static_cast<u8 *>(op->buf) + u64(count) * kMetaChunkBytes,
			     false);
		dirty_.clear(first + count);
		count++;
	}
	prog_.sync_cursor = first + count;
	meta_write(op, WC_IO_META_WRITE, first, count);
	return true;
}

// Writes the dirty metadata and flushes the cache device (in-tree's
// "commit_flushed"): a sub-program shared by the programs below.  Before
// the commit point (sync_before_commit) it always runs, and waits for the
// data writes before the flush (I1).
Cache::Sync Cache::sync_step(wc_io_op *op, int result)
{
	switch (prog_.sync) {
	case SyncStep::kWriteDirty:
		if (error_)
			return Sync::kFailed;	// I4
		if (emit_dirty_write(op)) {
			prog_.writes_pending = true;
			return Sync::kRunning;
		}
		prog_.sync_cursor = 0;
		if (!prog_.writes_pending && !prog_.sync_before_commit) {
			// Nothing was dirty: every free is durable already.
			note_free_unsynced(false);
			return Sync::kDone;
		}
		op->kind = WC_IO_WAIT;
		prog_.sync = SyncStep::kDirtyWritten;
		return Sync::kRunning;
	case SyncStep::kDirtyWritten:
		prog_.writes_pending = false;
		if (result) {
			set_error(-WC_EIO, "error writing metadata");
			return Sync::kFailed;
		}
		if (prog_.sync_before_commit) {
			// I1: the data of every entry about to commit must be
			// on the cache before the flush that precedes the
			// superblock.
			op->kind = WC_IO_WAIT_CACHE_WRITES;
			prog_.sync = SyncStep::kDataWritten;
			return Sync::kRunning;
		}
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.sync = SyncStep::kFlushed;
		return Sync::kRunning;
	case SyncStep::kDataWritten:
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.sync = SyncStep::kFlushed;
		return Sync::kRunning;
	case SyncStep::kFlushed:
		break;
	}
	prog_.sync = SyncStep::kWriteDirty;
	prog_.sync_before_commit = false;
	if (result) {
		flush_failed(result);
		return Sync::kFailed;
	}
	note_free_unsynced(false);
	return Sync::kDone;
}

// SSD mode has read the first block before the check, and after a format
// it checks the superblock it wrote.
int Cache::read_superblock_ssd(disk::Superblock *s, const char **)
{
	*s = sb_;
	return 0;
}

// --- format: a blank cache, the magic written last -------------------------

void Cache::step_format(wc_io_op *op, int result)
{
	switch (prog_.format) {
	case FormatStep::kStart:
		// Magic and version stay 0 until the last write: a crash
		// before it leaves a blank superblock (superblock_blank), which
		// the next constructor formats again.  In-tree writes the
		// version first, so that its crashed format is refused
		// ("Invalid magic in the superblock"); the finished format is
		// the same.
		sb_ = {};
		sb_.block_size = cfg.block_size;
#ifdef WC_CORE_MUTANT_VERSION_BEFORE_MAGIC
		sb_.version = disk::kVersion;	// mutant: in-tree's order
#endif
		sb_.n_blocks = n_blocks_;
		seq_count_ = 0;
		prog_.format = FormatStep::kWriteBlank;
		[[fallthrough]];
	case FormatStep::kWriteBlank:
		if (prog_.cursor < chunk_count()) {
			u64 first = prog_.cursor;
			u64 count = min<u64>(kChunksPerOp, chunk_count() - first);

			for (u64 c = 0; c < count; c++)
				encode_chunk(first + c,
					     static_cast<u8 *>(op->buf) + c * kMetaChunkBytes,
					     true);
			prog_.cursor += count;
			meta_write(op, WC_IO_META_WRITE, first, count);
			return;
		}
		op->kind = WC_IO_WAIT;
		prog_.format = FormatStep::kBlankWritten;
		return;
	case FormatStep::kBlankWritten:
		if (result)
			return finish(op, -WC_EIO);
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.format = FormatStep::kBlankFlushed;
		return;
	case FormatStep::kBlankFlushed:
		if (result)
			return finish(op, result);
		// Only now is the superblock valid: one sector, written whole.
		sb_.magic = disk::kMagic;
		sb_.version = disk::kVersion;
		encode_chunk(0, static_cast<u8 *>(op->buf), true);
		meta_write(op, WC_IO_META_WRITE, 0, 1);
		prog_.format = FormatStep::kMagicIssued;
		return;
	case FormatStep::kMagicIssued:
		op->kind = WC_IO_WAIT;
		prog_.format = FormatStep::kMagicWritten;
		return;
	case FormatStep::kMagicWritten:
		if (result)
			return finish(op, -WC_EIO);
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.format = FormatStep::kMagicFlushed;
		return;
	case FormatStep::kMagicFlushed:
		break;
	}
	return finish(op, result);
}

// --- load: rebuild the state from the metadata (resume) --------------------

void Cache::load_entries(const u8 *buf, u64 first_byte, u64 bytes)
{
	if (first_byte == 0) {
		mem_copy(&sb_, buf, sizeof(sb_));
		seq_count_ = sb_.seq_count;
	}
	u64 begin = max<u64>(first_byte, disk::kEntriesOffset);

	for (u64 off = begin; off + sizeof(disk::Entry) <= first_byte + bytes;
	     off += sizeof(disk::Entry)) {
		u64 i = (off - disk::kEntriesOffset) / sizeof(disk::Entry);
		disk::Entry de;

		if (i >= n_blocks_)
			break;
		mem_copy(&de, buf + (off - first_byte), sizeof(de));
		load_entry(BlockId(u32(i)), de.original_sector, de.seq_count);
		if (!(i & 4095))
			wc_env_yield();
	}
}

// Emits the read of the next piece of metadata; false when all is read.
bool Cache::emit_meta_read(wc_io_op *op)
{
	if (prog_.cursor >= metadata_bytes_)
		return false;
	op->kind = WC_IO_META_READ;
	op->sector = cfg.start_sector + (prog_.cursor >> kSectorShift);
	op->nr_sectors = u32(min<u64>(WC_META_BUF_BYTES, metadata_bytes_ - prog_.cursor) >>
			     kSectorShift);
	return true;
}

// Metadata that cannot be read refuses the load.  In-tree takes what it
// could not read as free and loads in the error state; but then a block
// the cache holds reads the origin's stale data, which a cache must never
// serve.  Refused, the target stays suspended (dm fails the resume) until
// the device heals and the resume is retried or the table is reloaded.
// The state left behind is consistent (the rest is free) and the error is
// latched, so nothing is written (I4) and map() fails every bio.
void Cache::load_unreadable(wc_io_op *op, int result)
{
	text::Message<64> m;

	m().str("unable to read metadata: ").sdec(result);
	set_error(result, m.c_str());
	for (u64 i = prog_.cursor > disk::kEntriesOffset
			     ? (prog_.cursor - disk::kEntriesOffset) / sizeof(disk::Entry)
			     : 0;
	     i < n_blocks_; i++)
		load_entry(BlockId(u32(i)), disk::kFreeSector, disk::kFreeSeq);
	load_build();
	finish(op, refuse_load(result));
}

// The program's result is 0, or the error that refused the load: a failed
// write of the entries it drops latches the error state, but the load,
// read in full, stands.
void Cache::step_load(wc_io_op *op, int result)
{
	switch (prog_.load) {
	case LoadStep::kStart:
		reset_containers();
		dirty_.clear_all(chunk_count());
		origin_sectors_ = prog_.arg0;
		seq_count_ = sb_.seq_count;
		load_refused_ = false;
		prog_.load = LoadStep::kRead;
		if (emit_meta_read(op))
			return;
		break;
	case LoadStep::kRead:
		if (result)
			return load_unreadable(op, result);
		load_entries(static_cast<const u8 *>(op->buf), prog_.cursor,
			     u64(op->nr_sectors) << kSectorShift);
		prog_.cursor += u64(op->nr_sectors) << kSectorShift;
		if (emit_meta_read(op))
			return;
		break;
	case LoadStep::kSync:
		if (sync_step(op, result) == Sync::kRunning)
			return;
		return finish(op, 0);
	}
	load_build();
	verify_watermark();
	prog_.load = LoadStep::kSync;
	if (sync_step(op, 0) == Sync::kRunning)
		return;
	finish(op, 0);
}

// --- commit ----------------------------------------------------------------

void Cache::step_commit(wc_io_op *op, int result)
{
	switch (prog_.commit) {
	case CommitStep::kStart:
		uncommitted_blocks_ = 0;
		if (error_)
			return finish(op, -WC_EIO);
		if (lru_.empty())
			return finish(op, 0);
		if (committed(lru_.front())) {
			if (!overwrote_committed_)
				return finish(op, 0);
			// Blocks were rewritten in place: make them durable.
			op->kind = WC_IO_WAIT_CACHE_WRITES;
			prog_.commit = CommitStep::kOverwritesWritten;
			return;
		}
		prog_.commit = CommitStep::kSyncEntries;
		prog_.sync_before_commit = true;
		[[fallthrough]];
	case CommitStep::kSyncEntries:
		switch (sync_step(op, result)) {
		case Sync::kRunning:
			return;
		case Sync::kFailed:
			return finish(op, error_ ? error_ : -WC_EIO);
		case Sync::kDone:
			break;
		}
		// A data write covered by this commit failed while the sync
		// waited for it (the driver latches it then): no commit (I4).
		if (error_)
			return finish(op, error_);
		if (seq_count_ + 1 >= Entry::kFreeSeq) {
			set_error(-WC_EOVERFLOW, "sequence count exhausted");
			return finish(op, -WC_EOVERFLOW);
		}
		// The commit point: the new seq_count reaches the disk with
		// FUA, after everything it covers was flushed.
		seq_count_++;
		sb_.seq_count = seq_count_;
		encode_chunk(0, static_cast<u8 *>(op->buf), false);
		dirty_.clear(0);
		meta_write(op, WC_IO_META_WRITE_FUA, 0, 1);
		prog_.commit = CommitStep::kSuperblockWritten;
		return;
	case CommitStep::kSuperblockWritten:
		if (result) {
			set_error(result, "error writing superblock");
			return finish(op, result);
		}
		overwrote_committed_ = false;
		if (!free_older_duplicates())
			return finish(op, 0);
		prog_.commit = CommitStep::kSyncFreed;
		[[fallthrough]];
	case CommitStep::kSyncFreed:
		return sync_then_finish(op, result);
	case CommitStep::kOverwritesWritten:
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.commit = CommitStep::kOverwritesFlushed;
		return;
	case CommitStep::kOverwritesFlushed:
		break;
	}
	if (result) {
		flush_failed(result);
		return finish(op, result);
	}
	overwrote_committed_ = false;
	finish(op, 0);
}

} // namespace wc
