// SPDX-License-Identifier: GPL-2.0
// PMEM mode's metadata: it lives in the mapping, stored with cache-line
// write-back and made durable by fences; only the origin has I/O.
//
// Persistence invariant, kept here and by map_pmem_write and insert_entry:
//  I5. A committed block is never rewritten in place.  Its new copy takes
//      its place in the index and the LRU at once; the old block leaves
//      both for the superseded list but stays allocated, and its entry
//      stays valid on the media, until the commit that makes the new copy
//      durable has been fenced.  Only then is it freed (commit_pmem).
//      A power loss before that finds the old copy, committed, and drops
//      the new uncommitted one.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

// PMEM commit: the entries and data were stored with cache-line write-back;
// one fence makes them durable, then the superblock's seq_count commits
// them and a second fence makes that durable (invariant I1 for PMEM).
void Cache::commit_pmem()
{
	uncommitted_blocks_ = 0;
	if (error_ || lru_.empty() || committed(lru_.front()))
		return;
	if (seq_count_ + 1 >= Entry::kFreeSeq) {
		set_error(-WC_EOVERFLOW, "sequence count exhausted");
		return;
	}
	wc_env_pmem_fence();
	seq_count_++;
	sb_.seq_count = seq_count_;
	wc_env_pmem_copy(pmem_ + __builtin_offsetof(disk::Superblock, seq_count),
			 &seq_count_, sizeof(u64));
	wc_env_pmem_fence();
	bool freed = free_superseded(0, ~0ULL);

	if (free_older_duplicates() || freed)
		wc_env_pmem_fence();
}

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
		if (prog_.retire == RetireStep::kStart) {
			if (retire_head_ == kNil)
				return finish(op, 0);
			prog_.retire = RetireStep::kOriginFlushed;
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
