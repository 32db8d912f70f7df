// SPDX-License-Identifier: GPL-2.0
// The I/O programs: every persistence sequence of SSD mode, as a series of
// operations the caller executes.  The caller holds its lock from
// program_start() to WC_IO_DONE, so no bio is mapped in between; that is
// what makes invariants I1-I4 (cache.h) hold.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

namespace {

constexpr u32 kChunksPerOp = WC_META_BUF_BYTES / kMetaChunkBytes;
static_assert(WC_META_BUF_BYTES % kMetaChunkBytes == 0);

bool test_bit(const u64 *bits, u64 n) { return bits[n / 64] & (1ULL << (n % 64)); }
void clear_bit(u64 *bits, u64 n) { bits[n / 64] &= ~(1ULL << (n % 64)); }

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
			de.original_sector = entries_[i].disk_sector();
			de.seq_count = entries_[i].disk_seq();
		}
		mem_copy(dst, &de, sizeof(de));
	}
}

// Emits one write of consecutive dirty chunks; false when none is left.
bool Cache::emit_dirty_write(wc_io_op *op)
{
	u64 n = chunk_count(), first;
	u32 count = 0;

	for (first = prog_.sync_cursor; first < n; first++)
		if (test_bit(dirty_, first))
			break;
	if (first >= n)
		return false;
	while (first + count < n && count < kChunksPerOp &&
	       test_bit(dirty_, first + count)) {
		encode_chunk(first + count,
			     static_cast<u8 *>(op->buf) + u64(count) * kMetaChunkBytes,
			     false);
		clear_bit(dirty_, first + count);
		count++;
	}
	prog_.sync_cursor = first + count;
	u64 bytes = min<u64>(u64(count) * kMetaChunkBytes,
			     metadata_bytes_ - first * kMetaChunkBytes);

	op->kind = WC_IO_META_WRITE;
	op->sector = cfg.start_sector + first * (kMetaChunkBytes >> kSectorShift);
	op->nr_sectors = u32(bytes >> kSectorShift);
	return true;
}

// Writes the dirty metadata and flushes the cache device (in-tree's
// "commit_flushed"): a sub-program shared by the programs below.
Cache::Sync Cache::sync_step(wc_io_op *op, int result)
{
	switch (prog_.sync_pc) {
	case 0:
		if (error_)
			return Sync::kFailed;	// I4
		if (emit_dirty_write(op)) {
			prog_.writes_pending = true;
			return Sync::kRunning;
		}
		prog_.sync_cursor = 0;
		if (!prog_.writes_pending)
			return Sync::kDone;
		op->kind = WC_IO_WAIT;
		prog_.sync_pc = 1;
		return Sync::kRunning;
	case 1:
		prog_.writes_pending = false;
		if (result) {
			set_error(-WC_EIO, "error writing metadata");
			return Sync::kFailed;
		}
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.sync_pc = 2;
		return Sync::kRunning;
	default:
		prog_.sync_pc = 0;
		if (result) {
			flush_failed(result);
			return Sync::kFailed;
		}
		return Sync::kDone;
	}
}

void Cache::finish(wc_io_op *op, int error)
{
	op->kind = WC_IO_DONE;
	op->error = error;
	prog_.kind = 0;
}

// The last phase of a program: the metadata sync, then the end.
void Cache::sync_then_finish(wc_io_op *op, int result)
{
	switch (sync_step(op, result)) {
	case Sync::kRunning:
		return;
	case Sync::kDone:
		return finish(op, 0);
	case Sync::kFailed:
		return finish(op, error_ ? error_ : -WC_EIO);
	}
}

// A cache or origin flush failed (in-tree's message for both).
void Cache::flush_failed(int result)
{
	text::Message<64> m;

	m().str("error flushing metadata: ").sdec(result);
	set_error(result, m.c_str());
}

void Cache::program_start(int program, u64 arg0, u64 arg1)
{
	prog_ = Program();
	prog_.kind = program;
	prog_.arg0 = arg0;
	prog_.arg1 = arg1;
}

void Cache::program_step(wc_io_op *op, int result)
{
	op->error = 0;
	if (cfg.pmem) {
		step_pmem(op, result);
		return;
	}
	switch (prog_.kind) {
	case WC_PROG_FORMAT:
		step_format(op, result);
		break;
	case WC_PROG_LOAD:
		step_load(op, result);
		break;
	case WC_PROG_COMMIT:
		step_commit(op, result);
		break;
	case WC_PROG_RETIRE:
		step_retire(op, result);
		break;
	case WC_PROG_DISCARD:
		step_discard(op, result);
		break;
	default:
		finish(op, -WC_EINVAL);
		break;
	}
}

// --- format: a blank cache, the magic written last -------------------------

void Cache::step_format(wc_io_op *op, int result)
{
	switch (prog_.pc) {
	case 0:
		sb_ = {};
		sb_.version = disk::kVersion;
		sb_.block_size = cfg.block_size;
		sb_.n_blocks = n_blocks_;
		seq_count_ = 0;
		prog_.pc = 1;
		[[fallthrough]];
	case 1:
		if (prog_.cursor < chunk_count()) {
			u64 first = prog_.cursor;
			u64 count = min<u64>(kChunksPerOp, chunk_count() - first);

			for (u64 c = 0; c < count; c++)
				encode_chunk(first + c,
					     static_cast<u8 *>(op->buf) + c * kMetaChunkBytes,
					     true);
			prog_.cursor += count;
			op->kind = WC_IO_META_WRITE;
			op->sector = cfg.start_sector + first * (kMetaChunkBytes >> kSectorShift);
			op->nr_sectors = u32(min<u64>(count * kMetaChunkBytes,
						      metadata_bytes_ - first * kMetaChunkBytes) >>
					     kSectorShift);
			return;
		}
		op->kind = WC_IO_WAIT;
		prog_.pc = 2;
		return;
	case 2:
	case 5:
		if (result)
			return finish(op, -WC_EIO);
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.pc++;
		return;
	case 3:
		if (result)
			return finish(op, result);
		// Only now is the superblock valid: a crash before this point
		// leaves a device that is formatted again.
		sb_.magic = disk::kMagic;
		encode_chunk(0, static_cast<u8 *>(op->buf), true);
		op->kind = WC_IO_META_WRITE;
		op->sector = cfg.start_sector;
		op->nr_sectors = u32(min<u64>(kMetaChunkBytes, metadata_bytes_) >> kSectorShift);
		prog_.pc = 4;
		return;
	case 4:
		op->kind = WC_IO_WAIT;
		prog_.pc = 5;
		return;
	default:
		return finish(op, result);
	}
}

// --- load: rebuild the state from the metadata (resume) --------------------

void Cache::load_one(u32 i, u64 sector, u64 seq)
{
	Entry &e = entries_[i];

	e = Entry();
	e.set_sector(sector >= Entry::kMaxSector ? Entry::kNoSector : sector);
	e.set_seq(seq);
	if (!(seq < seq_count_)) {
		// Free, or written after the last commit: gone.
		if (seq != disk::kFreeSeq) {
			e.set_seq(disk::kFreeSeq);
			entry_changed(i, true);
		}
		add_to_freelist(i);
		return;
	}
	if (sector >= Entry::kMaxSector) {
		text::Message<128> m;

		m().str("entry ").dec(i).str(" has an invalid sector ").dec(sector);
		set_error(-WC_EINVAL, m.c_str());
		e.set_seq(disk::kFreeSeq);
		add_to_freelist(i);
		return;
	}

	u32 old = find_exact(sector);

	if (old == kNil) {
		insert_entry(i, prog_.arg1);
		return;
	}
	if (entries_[old].seq() == seq) {
		text::Message<160> m;

		m().str("two identical entries, position ").dec(i);
		m().str(", sector ").dec(sector).str(", sequence ").dec(seq);
		set_error(-WC_EINVAL, m.c_str());
	}
	if (entries_[old].seq() > seq) {
		e.set_seq(disk::kFreeSeq);
		entry_changed(i, true);
		add_to_freelist(i);
	} else {
		free_entry(old);
		insert_entry(i, prog_.arg1);
	}
}

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
		load_one(u32(i), de.original_sector, de.seq_count);
		if (!(i & 4095))
			wc_env_yield();
	}
}

void Cache::step_load(wc_io_op *op, int result)
{
	switch (prog_.pc) {
	case 0:
		reset_containers();
		mem_set(dirty_, 0, (chunk_count() + 63) / 64 * sizeof(u64));
		origin_sectors_ = prog_.arg0;
		seq_count_ = sb_.seq_count;
		prog_.pc = 1;
		[[fallthrough]];
	case 1:
		if (prog_.cursor < metadata_bytes_) {
			op->kind = WC_IO_META_READ;
			op->sector = cfg.start_sector + (prog_.cursor >> kSectorShift);
			op->nr_sectors = u32(min<u64>(WC_META_BUF_BYTES,
						      metadata_bytes_ - prog_.cursor) >>
					     kSectorShift);
			prog_.pc = 2;
			return;
		}
		break;
	case 2:
		if (result) {
			text::Message<64> m;

			m().str("unable to read metadata: ").sdec(result);
			set_error(result, m.c_str());
			// What could not be read is treated as free, and, the
			// error being latched, never written (I4).
			for (u64 i = prog_.cursor > disk::kEntriesOffset
					     ? (prog_.cursor - disk::kEntriesOffset) / sizeof(disk::Entry)
					     : 0;
			     i < n_blocks_; i++) {
				entries_[i] = Entry();
				entries_[i].set_sector(Entry::kNoSector);
				entries_[i].set_seq(disk::kFreeSeq);
				add_to_freelist(u32(i));
			}
			prog_.cursor = metadata_bytes_;
			break;
		}
		u64 bytes = u64(op->nr_sectors) << kSectorShift;

		load_entries(static_cast<const u8 *>(op->buf), prog_.cursor, bytes);
		prog_.cursor += bytes;
		prog_.pc = 1;
		return step_load(op, 0);
	}

	if (prog_.pc != 3) {
		verify_watermark();
		prog_.pc = 3;
	}
	return sync_then_finish(op, result);
}

// --- commit ----------------------------------------------------------------

// After a commit, an older committed copy of a sector just committed is
// garbage; free it unless it is being written back (then retire frees it).
// Such copies exist only when duplicates_ says so: the search is skipped
// otherwise.  Returns whether entries were freed (they need a sync).
bool Cache::free_older_duplicates()
{
	u64 just_committed = seq_count_ - 1;
	bool freed = false;

	if (!duplicates_)
		return false;
	duplicates_ = false;
	for (u32 e = lru_.front(); e != kNil && entries_[e].seq() == just_committed;
	     e = lru_.next(e)) {
		u32 p = index_.prev(e);

		if (p != kNil && entries_[p].sector() == entries_[e].sector() &&
		    !entries_[p].write_in_progress()) {
			free_entry(p);
			freed = true;
		}
	}
	return freed;
}

void Cache::step_commit(wc_io_op *op, int result)
{
	switch (prog_.pc) {
	case 0:
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
			prog_.pc = 20;
			return;
		}
		prog_.pc = 1;
		[[fallthrough]];
	case 1:
		if (emit_dirty_write(op)) {
			prog_.writes_pending = true;
			return;
		}
		prog_.sync_cursor = 0;
		op->kind = WC_IO_WAIT;
		prog_.pc = 2;
		return;
	case 2:
		prog_.writes_pending = false;
		if (result) {
			set_error(-WC_EIO, "error writing metadata");
			return finish(op, -WC_EIO);
		}
		// I1: the data of every entry about to commit must be on
		// the cache before the flush that precedes the superblock.
		op->kind = WC_IO_WAIT_CACHE_WRITES;
		prog_.pc = 3;
		return;
	case 3:
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.pc = 4;
		return;
	case 4:
		if (result) {
			flush_failed(result);
			return finish(op, result);
		}
		if (seq_count_ + 1 >= Entry::kFreeSeq) {
			set_error(-WC_EOVERFLOW, "sequence count exhausted");
			return finish(op, -WC_EOVERFLOW);
		}
		// The commit point: the new seq_count reaches the disk with
		// FUA, after everything it covers was flushed.
		seq_count_++;
		sb_.seq_count = seq_count_;
		encode_chunk(0, static_cast<u8 *>(op->buf), false);
		clear_bit(dirty_, 0);
		op->kind = WC_IO_META_WRITE_FUA;
		op->sector = cfg.start_sector;
		op->nr_sectors = u32(min<u64>(kMetaChunkBytes, metadata_bytes_) >> kSectorShift);
		prog_.pc = 5;
		return;
	case 5:
		if (result) {
			set_error(result, "error writing superblock");
			return finish(op, result);
		}
		overwrote_committed_ = false;
		if (!free_older_duplicates())
			return finish(op, 0);
		prog_.pc = 6;
		[[fallthrough]];
	case 6:
		return sync_then_finish(op, result);
	case 20:
		op->kind = WC_IO_FLUSH_CACHE;
		prog_.pc = 21;
		return;
	default:
		if (result) {
			flush_failed(result);
			return finish(op, result);
		}
		overwrote_committed_ = false;
		return finish(op, 0);
	}
}

// --- retire: free the blocks whose writeback completed ------------------------

// `flush_result` is the outcome of the origin flush that precedes this.
void Cache::retire_jobs(int flush_result)
{
	if (flush_result) {
		flush_failed(flush_result);
	}
	for (u32 head = retire_head_; head != kNil;) {
		u32 next_job = entries_[head].lru[0];

		for (u32 e = head; e != kNil;) {
			u32 next = entries_[e].lru[1];

			entries_[e].set_write_in_progress(false);
			entries_[e].lru[0] = entries_[e].lru[1] = kNil;
			writeback_size_--;
			// In the error state the blocks stay cached: the
			// origin may not hold their data.
			if (!error_)
				free_entry(e, false);
			e = next;
		}
		head = next_job;
	}
	retire_head_ = kNil;
	events_ |= WC_EV_WAKE_FREELIST;
}

void Cache::step_retire(wc_io_op *op, int result)
{
	switch (prog_.pc) {
	case 0:
		if (retire_head_ == kNil)
			return finish(op, 0);
		// I3: the copies must be durable on the origin first.
		op->kind = WC_IO_FLUSH_ORIGIN;
		prog_.pc = 1;
		return;
	case 1:
		retire_jobs(result);
		// Reads mapped to the freed blocks must finish before the
		// lock is dropped and the blocks can be reused.
		op->kind = WC_IO_WAIT_CACHE_READS;
		prog_.pc = 2;
		return;
	default:
		return sync_then_finish(op, result);
	}
}

// --- discard ---------------------------------------------------------------------

void Cache::step_discard(wc_io_op *op, int result)
{
	u64 start = prog_.arg0, end = prog_.arg1;

	switch (prog_.pc) {
	case 0: {
		bool any = false;

		for (u32 e = find_lowest_at_or_after(start);
		     e != kNil && entries_[e].sector() < end; e = index_.next(e)) {
			if (!entries_[e].write_in_progress()) {
				any = true;
				break;
			}
		}
		if (!any || error_)
			return finish(op, 0);
		op->kind = WC_IO_WAIT_CACHE_READS;
		prog_.pc = 1;
		return;
	}
	case 1:
		op->kind = WC_IO_WAIT_CACHE_WRITES;
		prog_.pc = 2;
		return;
	case 2:
		discard_range(start, end);
		prog_.pc = 3;
		[[fallthrough]];
	default:
		return sync_then_finish(op, result);
	}
}

} // namespace wc

namespace wc {

// --- PMEM mode: metadata lives in the mapping; only the origin has I/O ----

int Cache::format_pmem()
{
	u64 n, meta;
	int r = calculate_layout(area_bytes_, cfg.block_size, &n, &meta);

	if (r)
		return r;
	if (n > kMaxBlocks)
		return -WC_EFBIG;
	n_blocks_ = n;
	metadata_bytes_ = meta;

	disk::Superblock s = {};
	const disk::Entry blank = {disk::kFreeSector, disk::kFreeSeq};
	const u32 magic = disk::kMagic;

	s.version = disk::kVersion;
	s.block_size = cfg.block_size;
	s.n_blocks = n;
	wc_env_pmem_copy(pmem_, &s, sizeof(s));
	for (u64 i = 0; i < n; i++) {
		wc_env_pmem_copy(pmem_entry(u32(i)), &blank, sizeof(blank));
		if (!(i & 4095))
			wc_env_yield();
	}
	wc_env_pmem_fence();
	// The magic last: a crash before it leaves a blank device.
	wc_env_pmem_copy(pmem_, &magic, sizeof(magic));
	wc_env_pmem_fence();
	sb_ = s;
	sb_.magic = magic;
	return 0;
}

void Cache::load_pmem()
{
	disk::Superblock s;
	int r;

	reset_containers();
	origin_sectors_ = prog_.arg0;
	r = wc_env_pmem_read(&s, pmem_, sizeof(s));
	// An unreadable seq_count commits nothing (as in-tree): every entry
	// is then taken as uncommitted, so none is read.
	bool sb_readable = !r;
	if (r) {
		text::Message<80> m;

		m().str("hardware memory error when reading superblock: ").sdec(r);
		set_error(r, m.c_str());
		s.seq_count = 0;
	}
	seq_count_ = s.seq_count;
	sb_.seq_count = seq_count_;
	for (u64 i = 0; i < n_blocks_; i++) {
		disk::Entry de = {disk::kFreeSector, disk::kFreeSeq};

		// An unreadable entry latches the error and is taken as free.
		// Unlike in-tree, which then drops every entry after it, the
		// others are still loaded: their committed data stays
		// readable (the error state stops writes and writeback, so
		// nothing is written over them).
		if (sb_readable) {
			r = wc_env_pmem_read(&de, pmem_entry(u32(i)), sizeof(de));
			if (r) {
				text::Message<96> m;

				m().str("hardware memory error when reading metadata entry ");
				m().dec(i).str(": ").sdec(r);
				set_error(r, m.c_str());
				de = {disk::kFreeSector, disk::kFreeSeq};
			}
		}
		load_one(u32(i), de.original_sector, de.seq_count);
		if (!(i & 4095))
			wc_env_yield();
	}
	wc_env_pmem_fence();
	verify_watermark();
}

void Cache::step_pmem(wc_io_op *op, int result)
{
	switch (prog_.kind) {
	case WC_PROG_FORMAT:
		return finish(op, format_pmem());
	case WC_PROG_LOAD:
		load_pmem();
		return finish(op, error_);
	case WC_PROG_COMMIT:
		commit_pmem();
		return finish(op, error_ ? -WC_EIO : 0);
	case WC_PROG_DISCARD:
		discard_range(prog_.arg0, prog_.arg1);
		return finish(op, 0);
	case WC_PROG_RETIRE:
		if (prog_.pc == 0) {
			if (retire_head_ == kNil)
				return finish(op, 0);
			prog_.pc = 1;
			// With nofua the copies were written without FUA:
			// flush the origin before the blocks are freed (I3).
			if (!cfg.writeback_fua) {
				op->kind = WC_IO_FLUSH_ORIGIN;
				return;
			}
			result = 0;
		}
		retire_jobs(result);
		if (!error_)
			wc_env_pmem_fence();
		return finish(op, 0);
	default:
		return finish(op, -WC_EINVAL);
	}
}

} // namespace wc
