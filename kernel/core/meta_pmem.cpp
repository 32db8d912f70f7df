// SPDX-License-Identifier: GPL-2.0
// PMEM mode's metadata: stores to the mapping, fences, and the programs,
// which need no I/O but an origin flush.  I5 is stated in meta_pmem.h.
#include "cache.h"
#include "../include/wc_env.h"

namespace wc {

// The one path of every store to the metadata (I4).
void Cache::pmem_store(void *dst, const void *src, u64 bytes)
{
	WC_DEBUG_CHECK(!error_, "I4: metadata stored after the error latch");
	wc_env_pmem_copy(dst, src, bytes);
}

// Makes the stores before it durable.
void Cache::pmem_fence()
{
	wc_env_pmem_fence();
	note_free_unsynced(false);
}

int Cache::read_superblock_pmem(disk::Superblock *s, const char **error)
{
	if (wc_env_pmem_read(s, pmem_.superblock(), sizeof(*s))) {
		*error = "Hardware memory error when reading superblock";
		return -WC_EIO;
	}
	return 0;
}

// Nothing is stored once the error state is latched (I4).
void Cache::store_entry_pmem(BlockId i)
{
	if (error_)
		return;
	disk::Entry de = {entry(i).disk_sector(), entry(i).disk_seq()};

	pmem_store(pmem_.entry(i), &de, sizeof(de));
}

// As in-tree: freeing stores only the seq, the sector stays.
void Cache::store_seq_pmem(BlockId i)
{
	if (error_)
		return;
	u64 seq = entry(i).disk_seq();

	pmem_store(&pmem_.entry(i)->seq_count, &seq, sizeof(u64));
}

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
	// Mutants (tests/mutants.list): either fence left out.
#ifndef WC_CORE_MUTANT_SKIP_ENTRY_FENCE
	pmem_fence();
#endif
	seq_count_++;
	sb_.seq_count = seq_count_;
	pmem_store(&pmem_.superblock()->seq_count, &seq_count_, sizeof(u64));
#ifndef WC_CORE_MUTANT_SKIP_COMMIT_FENCE
	pmem_fence();
#endif
	bool freed = free_superseded(0, ~0ULL);

	if (free_older_duplicates() || freed)
		pmem_fence();
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

	// Magic and version stay 0 until the last store, as in meta_ssd.cpp's
	// format: a crash before it leaves a blank device, formatted again.
	s.block_size = cfg.block_size;
	s.n_blocks = n;
	pmem_store(pmem_.superblock(), &s, sizeof(s));
	for (u64 i = 0; i < n; i++) {
		pmem_store(pmem_.entry(BlockId(u32(i))), &blank, sizeof(blank));
		if (!(i & 4095))
			wc_env_yield();
	}
	pmem_fence();
	// Magic and version last, in one aligned 8-byte store: the word
	// persists whole or not at all (ondisk.h asserts the offsets).
	s.magic = disk::kMagic;
	s.version = disk::kVersion;
	pmem_store(pmem_.superblock(), &s, 8);
	pmem_fence();
	sb_ = s;
	return 0;
}

// Returns 0, or the error of a hardware memory error that refuses the
// load (see load_unreadable in meta_ssd.cpp: a block whose entry cannot be
// read would read the origin's stale data).
int Cache::load_pmem()
{
	disk::Superblock s;
	int r, refused = 0;

	reset_containers();
	load_refused_ = false;
	origin_sectors_ = prog_.arg0;
	r = wc_env_pmem_read(&s, pmem_.superblock(), sizeof(s));
	// With no seq_count, every entry is taken as free: none is read.
	bool sb_readable = !r;
	if (r) {
		text::Message<80> m;

		m().str("hardware memory error when reading superblock: ").sdec(r);
		set_error(r, m.c_str());
		refused = r;
		s.seq_count = 0;
	}
	seq_count_ = s.seq_count;
	sb_.seq_count = seq_count_;
	// A page of entries per read (one copy_mc call, not 256); a page
	// that cannot be read is read again entry by entry, so that every
	// unreadable entry is named in the log and the others are loaded,
	// leaving a consistent state.
	constexpr u64 kPerPage = sizeof(load_page_) / sizeof(load_page_[0]);
	bool page_read = false;

	for (u64 i = 0; i < n_blocks_; i++) {
		disk::Entry de = {disk::kFreeSector, disk::kFreeSeq};

		if (sb_readable && i % kPerPage == 0) {
			u64 count = min(kPerPage, n_blocks_ - i);

			page_read = !wc_env_pmem_read(load_page_, pmem_.entry(BlockId(u32(i))),
						      count * sizeof(disk::Entry));
		}
		if (sb_readable && page_read) {
			de = load_page_[i % kPerPage];
		} else if (sb_readable) {
			r = wc_env_pmem_read(&de, pmem_.entry(BlockId(u32(i))), sizeof(de));
			if (r) {
				text::Message<96> m;

				m().str("hardware memory error when reading metadata entry ");
				m().dec(i).str(": ").sdec(r);
				if (error_)	// set_error logs only the first
					wc_env_log(WC_LOG_ERR, m.c_str());
				set_error(r, m.c_str());
				if (!refused)
					refused = r;
				de = {disk::kFreeSector, disk::kFreeSeq};
			}
		}
		load_entry(BlockId(u32(i)), de.original_sector, de.seq_count);
		if (!(i & 4095))
			wc_env_yield();
	}
	load_build();
	pmem_fence();
	verify_watermark();
	return refused ? refuse_load(refused) : 0;
}

void Cache::step_pmem(wc_io_op *op, int result)
{
	switch (prog_.kind) {
	case WC_PROG_FORMAT:
		return finish(op, format_pmem());
	case WC_PROG_LOAD:
		return finish(op, load_pmem());
	case WC_PROG_COMMIT:
		commit_pmem();
		return finish(op, error_ ? -WC_EIO : 0);
	case WC_PROG_DISCARD:
		if (discard_range(prog_.arg0, prog_.arg1))
			pmem_fence();
		return finish(op, 0);
	case WC_PROG_RETIRE:
		return step_retire_pmem(op, result);
	default:
		return finish(op, -WC_EINVAL);
	}
}

} // namespace wc
